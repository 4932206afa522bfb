/* Renegotiation: client re-offers (camera turned on, restartIce()). The
 * offer is negotiated afresh with sig_sdp_answer in ROOM mode, which gives
 * each m-line's codec, extensions and directions as at the join; the
 * session's own state then wins where it must stay: an existing m-line keeps
 * its codec while the client still offers it, and what the SFU sends keeps
 * its SSRCs. New client m-lines become published tracks (sendonly/sendrecv)
 * or receive slots (recvonly). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signaling/reneg_internal.h"

/* sig_sdp_answer wants SSRCs for what it would send; the answer it writes
 * is not used, so these never reach the wire. */
static uint32_t unused_ssrc(void *ctx)
{
    (void)ctx;
    return 1;
}

typedef struct reoffer {
    sig_reneg *r;
    const sig_sdp *offer;
    sig_sdp_result fresh;       /* ROOM negotiation of the whole offer */
    sig_sdp *fans;              /* its answer, parsed */
    char *err;
    size_t errlen;
} reoffer;

static const sfu_track_desc *fresh_track(const reoffer *ro, const char *mid)
{
    for (unsigned i = 0; i < ro->fresh.leg.ntracks && mid[0]; i++)
        if (strcmp(ro->fresh.leg.tracks[i].mid, mid) == 0)
            return &ro->fresh.leg.tracks[i];
    return NULL;
}

static int negotiate_fresh(reoffer *ro)
{
    const sig_reneg *r = ro->r;
    sfu_codec vc = SFU_CODEC_NONE;
    uint32_t plid = 0;
    for (unsigned i = 0; i < r->nslots && vc == SFU_CODEC_NONE; i++) {
        const reneg_slot *s = &r->slots[i];
        if (!s->rejected && s->td.kind == SFU_KIND_VIDEO && s->td.codec != SFU_CODEC_NONE) {
            vc = s->td.codec;   /* new video m-lines get the session's codec if offered */
            plid = s->fmt.profile_level_id;
        }
    }
    const sig_sdp_local local = {
        .ice_ufrag = r->local_ice.ufrag, .ice_pwd = r->local_ice.pwd, .fingerprint = r->local_fp_hex,
        .cands = r->cands, .ncands = r->ncands, .cname = r->cname, .sess_id = r->sess_id,
        .sess_version = r->sess_version, .pick_ssrc = unused_ssrc, .video_codec = vc,
        .h264_profile_level_id = plid, .simulcast = r->cfg.simulcast,
    };
    int rc = sig_sdp_answer(ro->offer, SIG_SDP_ROOM, &local, &ro->fresh, ro->err, ro->errlen);
    if (rc)
        return rc == -SFU_EINVAL ? -SFU_ENOMEM : rc;
    const sig_sdp_limits big = { .max_bytes = 1 << 20, .max_line = 1 << 16, .max_media = SIG_SDP_MAX_MEDIA };
    if (sig_sdp_parse(ro->fresh.sdp, ro->fresh.sdp_len, &big, &ro->fans, NULL, 0) != 0 ||
        ro->fans->nmedia != ro->offer->nmedia)
        return -SFU_ENOMEM;     /* our own answer must parse */
    return 0;
}

/* RFC 8842 5.5: the re-offer may say actpass or the role the client has. */
static int check_dtls(const reoffer *ro)
{
    const sig_reneg *r = ro->r;
    for (unsigned i = 0; i < ro->offer->nmedia; i++) {
        const sig_sdp_media *om = &ro->offer->media[i];
        if (!fresh_track(ro, om->mid))
            continue;
        sig_sdp_setup other = r->role == SIG_DTLS_SERVER ? SIG_SDP_SETUP_PASSIVE : SIG_SDP_SETUP_ACTIVE;
        if (om->setup == other || om->setup == SIG_SDP_SETUP_HOLDCONN)
            return reneg_fail(ro->err, ro->errlen, "mid %s: the DTLS role cannot change", om->mid);
    }
    if (!reneg_same_fp(&ro->fresh.remote_fingerprint, &r->remote_fp))
        return reneg_fail(ro->err, ro->errlen, "the DTLS fingerprint changed");
    return 0;
}

static bool codec_offered(const sig_sdp_media *om, const reneg_slot *s)
{
    const sig_sdp_fmt *f = sig_sdp_media_fmt(om, s->td.pt);
    return f && f->has_rtpmap && strcasecmp(f->name, s->fmt.name) == 0 && f->clock_rate == s->fmt.clock_rate &&
           (s->td.codec != SFU_CODEC_H264 || f->packetization_mode == 1);
}

static bool rtx_offered(const sig_sdp_media *om, const reneg_slot *s)
{
    const sig_sdp_fmt *f = sig_sdp_media_fmt(om, s->td.rtx_pt);
    return f && f->has_rtpmap && strcasecmp(f->name, "rtx") == 0 && f->apt == s->td.pt;
}

static void drop(reneg_slot *s)
{
    s->assigned = false;
    s->participant = 0;
    s->ssrc = s->rtx_ssrc = 0;
}

/* An accepted m-line: keep what must stay, take the rest from `td`. */
static void update_slot(reneg_slot *s, const sig_sdp_media *om, const sig_sdp_media *am,
                        const sfu_track_desc *td, bool is_new)
{
    if (is_new || s->td.codec == SFU_CODEC_NONE || !codec_offered(om, s)) {
        if (s->assigned)
            drop(s);            /* the sink's codec would change: offer it anew */
        reneg_slot_codec(s, am, td);
    } else {
        if (s->td.rtx_pt && !rtx_offered(om, s))
            s->td.rtx_pt = 0;
        s->td.ext = td->ext;
        s->rtcp_rsize = om->rtcp_rsize;
    }
    s->rejected = false;
    s->pub = td->recv;
    s->recv_ok = td->send;
    if (s->assigned && !s->recv_ok)
        drop(s);
    s->td.remote_ssrc = td->remote_ssrc;
    s->td.remote_rtx_ssrc = td->remote_rtx_ssrc;
    s->td.nlayers = td->nlayers;
    memcpy(s->td.layers, td->layers, sizeof s->td.layers);
}

static bool dup_mid(const reneg_slot *slots, unsigned n, const char *mid)
{
    for (unsigned i = 0; i < n; i++)
        if (strcmp(slots[i].mid, mid) == 0)
            return true;
    return false;
}

/* r->next from the committed slots and the re-offer; existing m-lines must
 * keep their place, mid and kind (JSEP 5.2.2), except that a rejected one
 * may be recycled by the client with a new mid. */
static int build_slots(reoffer *ro)
{
    sig_reneg *r = ro->r;
    const sig_sdp *o = ro->offer;
    if (o->nmedia < r->nslots || o->nmedia > RENEG_MAX_SLOTS)
        return reneg_fail(ro->err, ro->errlen, "the offer has %u m-lines, the session %u (at most %d)",
                    o->nmedia, r->nslots, RENEG_MAX_SLOTS);
    if (reneg_next_room(r, o->nmedia) != 0)
        return -SFU_ENOMEM;
    for (unsigned i = 0; i < o->nmedia; i++) {
        const sig_sdp_media *om = &o->media[i];
        reneg_slot *s = &r->next[i];
        bool is_new = i >= r->nslots;
        if (!is_new) {
            *s = r->slots[i];
            if (strcmp(om->mid, s->mid) != 0 && !s->rejected)
                return reneg_fail(ro->err, ro->errlen, "m-line %u: mid %s became %s", i, s->mid, om->mid);
            if (strcmp(om->media, s->media) != 0 && !s->rejected)
                return reneg_fail(ro->err, ro->errlen, "m-line %u: %s became %s", i, s->media, om->media);
            if (s->rejected && strcmp(om->mid, s->mid) == 0)
                continue;       /* stays rejected */
            is_new = s->rejected;
        }
        if (is_new) {
            memset(s, 0, sizeof *s);
            reneg_slot_ident(s, om);
            s->rejected = true;
            if (dup_mid(r->next, i, om->mid))
                return reneg_fail(ro->err, ro->errlen, "m-line %u: mid %s used twice", i, om->mid);
        }
        const sfu_track_desc *td = fresh_track(ro, om->mid);
        if (!td || (is_new && reneg_live(r->next, i) >= r->cfg.max_mlines)) {
            s->rejected = true;
            s->pub = false;
            drop(s);
            continue;
        }
        update_slot(s, om, &ro->fans->media[i], td, is_new);
    }
    r->nnext = o->nmedia;
    return 0;
}

static bool restarts(const sig_reneg *r, const sig_sdp_ice *ice)
{
    return strcmp(ice->ufrag, r->remote_ice.ufrag) != 0 || strcmp(ice->pwd, r->remote_ice.pwd) != 0;
}

static int answer(reoffer *ro, const sig_reneg_ice_creds *restart, sig_reneg_result *res)
{
    sig_reneg *r = ro->r;
    int rc = negotiate_fresh(ro);
    if (rc == 0)
        rc = check_dtls(ro);
    if (rc)
        return rc;
    res->ice_restart = restarts(r, &ro->fresh.remote_ice);
    res->remote_ice = ro->fresh.remote_ice;
    if (res->ice_restart && (!restart || !restart->ufrag || !restart->pwd ||
                             !sig_sdp_ice_ufrag_ok(restart->ufrag) || !sig_sdp_ice_pwd_ok(restart->pwd))) {
        snprintf(ro->err, ro->errlen, "ICE restart: new local credentials needed");
        return -SFU_EINVAL;
    }
    if ((rc = build_slots(ro)) != 0)
        return rc;
    sig_sdp_ice saved = r->local_ice;
    unsigned saved_ncands = r->ncands;
    sig_ice_candidate saved_cands[SIG_SDP_MAX_CANDS];
    memcpy(saved_cands, r->cands, sizeof saved_cands);
    if (res->ice_restart) {
        snprintf(r->local_ice.ufrag, sizeof r->local_ice.ufrag, "%s", restart->ufrag);
        snprintf(r->local_ice.pwd, sizeof r->local_ice.pwd, "%s", restart->pwd);
        if (restart->cands && restart->ncands > 0 && restart->ncands <= SIG_SDP_MAX_CANDS) {
            memcpy(r->cands, restart->cands, restart->ncands * sizeof r->cands[0]);
            r->ncands = restart->ncands;
        }
    }
    rc = reneg_write_sdp(r, r->next, r->nnext, ro->offer, &res->sdp, &res->sdp_len);
    if (rc) {
        r->local_ice = saved;
        r->ncands = saved_ncands;
        memcpy(r->cands, saved_cands, sizeof saved_cands);
        return rc;
    }
    r->remote_ice = ro->fresh.remote_ice;
    res->nremote_cands = ro->fresh.nremote_cands;
    memcpy(res->remote_cands, ro->fresh.remote_cands, sizeof res->remote_cands);
    res->remote_end_of_candidates = ro->fresh.remote_end_of_candidates;
    reneg_commit(r, res);
    return 0;
}

int sig_reneg_handle_client_offer(sig_reneg *r, const char *sdp, size_t len,
                                  const sig_reneg_ice_creds *restart, sig_reneg_result *res,
                                  char *err, size_t errlen)
{
    char dummy[1];
    if (!err || !errlen)
        err = dummy, errlen = sizeof dummy;
    err[0] = '\0';
    memset(res, 0, sizeof *res);
    if (r->outstanding) {
        snprintf(err, errlen, "answer offer %u first", (unsigned)r->revision);
        return -SFU_ESTATE;
    }
    reoffer ro = { .r = r, .err = err, .errlen = errlen };
    sig_sdp *offer = NULL;
    int rc = sig_sdp_parse(sdp, len, &r->cfg.limits, &offer, err, errlen);
    if (rc)
        return rc;
    ro.offer = offer;
    rc = answer(&ro, restart, res);
    if (rc) {
        bool restart_flag = res->ice_restart;
        sig_sdp_ice ice = res->remote_ice;
        sig_reneg_result_deinit(res);
        res->ice_restart = restart_flag;
        res->remote_ice = ice;
    }
    reneg_drop_scratch(r);      /* a failed re-offer's slots; committed ones moved */
    sig_sdp_free(ro.fans);
    sig_sdp_result_deinit(&ro.fresh);
    sig_sdp_free(offer);
    return rc;
}

int sig_reneg_is_ice_restart(const sig_reneg *r, const char *sdp, size_t len)
{
    sig_sdp *offer = NULL;
    int rc = sig_sdp_parse(sdp, len, &r->cfg.limits, &offer, NULL, 0);
    if (rc)
        return rc;
    rc = -SFU_EMALFORMED;
    for (unsigned i = 0; i < offer->nmedia; i++) {
        const sig_sdp_media *m = &offer->media[i];
        if (m->ice.ufrag[0] && (m->port != 0 || m->bundle_only)) {
            rc = restarts(r, &m->ice) ? 1 : 0;
            break;
        }
    }
    sig_sdp_free(offer);
    return rc;
}
