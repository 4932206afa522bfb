/* Renegotiation: the session's slots as SDP text (the server's offers and its
 * answers to client re-offers) and as the core's leg description. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "signaling/reneg_internal.h"
#include "signaling/sdp_simulcast.h"

void reneg_participant_id(uint32_t participant, char out[9])
{
    /* Audio slots carry whoever the room selects: one stream id for all. */
    if (sfu_is_audio_slot(participant))
        snprintf(out, 9, "slots");
    else
        snprintf(out, 9, "%08x", (unsigned)participant);
}

unsigned reneg_live(const reneg_slot *slots, unsigned n)
{
    unsigned live = 0;
    for (unsigned i = 0; i < n; i++)
        live += !slots[i].rejected;
    return live;
}

bool reneg_same_fp(const sig_sdp_fingerprint *a, const sig_sdp_fingerprint *b)
{
    return a->len == b->len && strcmp(a->alg, b->alg) == 0 && memcmp(a->bytes, b->bytes, a->len) == 0;
}

void reneg_slot_ident(reneg_slot *s, const sig_sdp_media *m)
{
    snprintf(s->mid, sizeof s->mid, "%s", m->mid);
    snprintf(s->media, sizeof s->media, "%s", m->media);
    snprintf(s->proto, sizeof s->proto, "%s", m->proto);
    snprintf(s->app_fmt, sizeof s->app_fmt, "%s", m->app_fmt);
    s->rtp = m->rtp;
    s->td.kind = m->kind == SIG_SDP_VIDEO ? SFU_KIND_VIDEO : SFU_KIND_AUDIO;
    if (m->nfmts)
        s->fmt = m->fmts[0];    /* a rejected m-line still needs one format */
}

void reneg_slot_codec(reneg_slot *s, const sig_sdp_media *am, const sfu_track_desc *td)
{
    s->td = *td;
    reneg_mid_copy(s->td.mid, s->mid);
    s->td.recv = s->td.send = false;
    s->td.local_ssrc = s->td.local_rtx_ssrc = 0;
    memset(&s->rtx, 0, sizeof s->rtx);
    if (am->nfmts)
        s->fmt = am->fmts[0];
    /* sig_sdp_answer puts the codec first and its RTX second. */
    if (td->rtx_pt && am->nfmts > 1 && am->fmts[1].pt == td->rtx_pt)
        s->rtx = am->fmts[1];
    else
        s->td.rtx_pt = 0;
    s->rtcp_rsize = am->rtcp_rsize;
}

static sig_sdp_dir dir_of(bool send, bool recv)
{
    return send && recv ? SIG_SDP_SENDRECV : send ? SIG_SDP_SENDONLY : recv ? SIG_SDP_RECVONLY : SIG_SDP_INACTIVE;
}

static void put_exts(const reneg_slot *s, sig_sdp_media *m)
{
    const struct {
        uint8_t id;
        sig_sdp_ext_kind kind;
    } exts[] = {
        { s->td.ext.mid, SIG_EXT_MID },
        { s->td.ext.audio_level, SIG_EXT_AUDIO_LEVEL },
        { s->td.ext.abs_send_time, SIG_EXT_ABS_SEND_TIME },
        { s->td.ext.twcc, SIG_EXT_TWCC },
        { s->td.ext.rid, SIG_EXT_RID },
        { s->td.ext.repaired_rid, SIG_EXT_REPAIRED_RID },
        { s->td.ext.dd, SIG_EXT_DD },
    };
    for (unsigned i = 0; i < SFU_ARRAY_LEN(exts); i++) {
        const char *uri = sig_sdp_ext_uri(exts[i].kind);
        if (!exts[i].id || !uri || m->nexts == SIG_SDP_MAX_EXTS)
            continue;
        sig_sdp_ext *e = &m->exts[m->nexts++];
        e->id = exts[i].id;
        e->kind = exts[i].kind;
        snprintf(e->uri, sizeof e->uri, "%s", uri);
    }
}

/* a=msid, a=ssrc cname/msid and FID of a track the SFU sends (RFC 8830,
 * RFC 5576, RFC 4588 8.6); the stream id is the participant id. */
static void put_sending(const sig_reneg *r, const reneg_slot *s, sig_sdp_media *m)
{
    reneg_participant_id(s->participant, m->msid_stream);
    snprintf(m->msid_track, sizeof m->msid_track, "%s-%s",
             s->td.kind == SFU_KIND_VIDEO ? "video" : "audio", s->mid);
    uint32_t ssrcs[2] = { s->ssrc, s->td.rtx_pt ? s->rtx_ssrc : 0 };
    for (unsigned i = 0; i < 2 && ssrcs[i]; i++) {
        sig_sdp_ssrc *x = &m->ssrcs[m->nssrcs++];
        x->ssrc = ssrcs[i];
        snprintf(x->cname, sizeof x->cname, "%s", r->cname);
        memcpy(x->msid_stream, m->msid_stream, sizeof x->msid_stream);
        memcpy(x->msid_track, m->msid_track, sizeof x->msid_track);
    }
    if (ssrcs[1])
        m->fids[m->nfids++] = (sig_sdp_fid){ ssrcs[0], ssrcs[1] };
}

/* RFC 8853: the layers the SFU receives on a published m-line stay
 * negotiated in every later offer and answer ("a=rid:<id> recv",
 * "a=simulcast:recv <ids>"); legacy SIM layers need nothing. */
static void put_simulcast(const reneg_slot *s, sig_sdp_media *m)
{
    if (!s->pub || !s->td.nlayers || !s->td.layers[0].rid[0])
        return;
    for (unsigned i = 0; i < s->td.nlayers && m->nrids < SIG_SDP_MAX_RIDS; i++) {
        sig_sdp_rid *r = &m->rids[m->nrids++];
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", s->td.layers[i].rid);
    }
    m->simulcast = sig_sdp_simulcast_format(s->td.layers, s->td.nlayers, m->simulcast_value,
                                            sizeof m->simulcast_value) == 0;
}

static void put_transport(const sig_reneg *r, sig_sdp_media *m, bool answer)
{
    m->ice = r->local_ice;
    m->ice.trickle = m->ice.ice2 = false;
    m->fingerprint = r->local_fp;
    /* JSEP 5.2.2: offers say actpass; answers keep the SFU's role. */
    m->setup = !answer ? SIG_SDP_SETUP_ACTPASS
             : r->role == SIG_DTLS_SERVER ? SIG_SDP_SETUP_PASSIVE : SIG_SDP_SETUP_ACTIVE;
    m->port = r->ncands ? r->cands[0].port : 9;
    snprintf(m->conn_addr, sizeof m->conn_addr, "%s", r->ncands ? r->cands[0].address : "0.0.0.0");
    m->conn_ip6 = strchr(m->conn_addr, ':') != NULL;
    memcpy(m->cands, r->cands, r->ncands * sizeof r->cands[0]);
    m->ncands = r->ncands;
    m->end_of_candidates = true;
    m->rtcp_mux = true;
}

static void put_slot(const sig_reneg *r, const reneg_slot *s, sig_sdp_media *m, bool answer)
{
    snprintf(m->media, sizeof m->media, "%s", s->media);
    snprintf(m->proto, sizeof m->proto, "%s", s->proto);
    snprintf(m->app_fmt, sizeof m->app_fmt, "%s", s->app_fmt);
    snprintf(m->mid, sizeof m->mid, "%s", s->mid);
    m->kind = !strcmp(s->media, "video") ? SIG_SDP_VIDEO : !strcmp(s->media, "audio") ? SIG_SDP_AUDIO
            : SIG_SDP_OTHER;
    m->rtp = s->rtp;
    m->fmts[0] = s->fmt;
    m->nfmts = 1;
    if (s->rejected) {
        m->port = 0;
        return;
    }
    if (s->td.rtx_pt)
        m->fmts[m->nfmts++] = s->rtx;
    m->dir = dir_of(s->assigned, s->pub);
    m->rtcp_rsize = s->rtcp_rsize;
    put_transport(r, m, answer);
    put_exts(s, m);
    put_simulcast(s, m);
    if (s->assigned)
        put_sending(r, s, m);
}

static bool live_mid(const reneg_slot *slots, unsigned n, const char *mid)
{
    for (unsigned i = 0; i < n; i++)
        if (!slots[i].rejected && strcmp(slots[i].mid, mid) == 0)
            return true;
    return false;
}

/* RFC 8843 7.3.1: an answer keeps the offer's group order, so the
 * offerer's BUNDLE tag stays the tag; an offer lists slots in order. */
static void put_bundle(sig_sdp *sdp, const reneg_slot *slots, unsigned n, const sig_sdp *offer)
{
    sdp->has_bundle = !offer || offer->has_bundle;
    if (offer) {
        for (unsigned i = 0; i < offer->nbundle; i++)
            if (live_mid(slots, n, offer->bundle[i]) && sdp->nbundle < SIG_SDP_MAX_MEDIA)
                strcpy(sdp->bundle[sdp->nbundle++], offer->bundle[i]);
        return;
    }
    for (unsigned i = 0; i < n; i++)
        if (!slots[i].rejected)
            strcpy(sdp->bundle[sdp->nbundle++], slots[i].mid);
}

int reneg_write_sdp(sig_reneg *r, const reneg_slot *slots, unsigned n, const sig_sdp *offer,
                    char **out, size_t *outlen)
{
    sig_sdp *sdp = sig_sdp_new();
    if (!sdp)
        return -SFU_ENOMEM;
    sdp->sess_id = r->sess_id;
    sdp->sess_version = ++r->sess_version;   /* RFC 3264 8: a new version per SDP */
    sdp->ice_lite = true;
    sdp->msid_semantic = true;
    sdp->extmap_allow_mixed = offer ? offer->extmap_allow_mixed : r->allow_mixed;
    int rc = 0;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        sig_sdp_media *m = sig_sdp_add_media(sdp);
        if (!m)
            rc = -SFU_ENOMEM;
        else
            put_slot(r, &slots[i], m, offer != NULL);
    }
    put_bundle(sdp, slots, n, offer);
    if (rc == 0)
        rc = sig_sdp_write(sdp, out, outlen);
    sig_sdp_free(sdp);
    return rc;
}

void reneg_leg_of(const sig_reneg *r, const reneg_slot *slots, unsigned n, sfu_leg_desc *leg)
{
    memset(leg, 0, sizeof *leg);
    leg->rtcp_ssrc = r->rtcp_ssrc;
    leg->rtcp_rsize = r->rtcp_rsize;
    snprintf(leg->cname, sizeof leg->cname, "%s", r->cname);
    for (unsigned i = 0; i < n && leg->ntracks < SFU_MAX_TRACKS; i++) {
        const reneg_slot *s = &slots[i];
        if (s->rejected || !s->rtp || s->td.codec == SFU_CODEC_NONE)
            continue;
        sfu_track_desc *t = &leg->tracks[leg->ntracks++];
        *t = s->td;
        reneg_mid_copy(t->mid, s->mid);
        t->recv = s->pub;
        t->send = s->assigned;
        t->local_ssrc = s->assigned ? s->ssrc : 0;
        t->local_rtx_ssrc = s->assigned && t->rtx_pt ? s->rtx_ssrc : 0;
        if (!t->recv) {
            t->remote_ssrc = t->remote_rtx_ssrc = 0;
            t->nlayers = 0;
        }
    }
}
