/* Renegotiation state machine: the tracks to receive, planning an offer from
 * the committed slots, and applying the client's answer. The model is in
 * reneg.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signaling/reneg_internal.h"
#include "signaling/sdp_simulcast.h"

#define DEFAULT_BATCH SFU_MS(100)
#define DEFAULT_MAX_TRACKS 256
/* "Changed long ago": set when an answer leaves something to offer, so the
 * next poll offers at once (the change already waited for the answer). */
#define LONG_AGO (INT64_MIN / 4)

int reneg_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -SFU_EMALFORMED;
}

static void fp_hex(const sig_sdp_fingerprint *fp, char *out, size_t size)
{
    size_t off = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < fp->len && off + 4 <= size; i++)
        off += (size_t)snprintf(out + off, size - off, "%02X%s", fp->bytes[i], i + 1 < fp->len ? ":" : "");
}

static const sfu_track_desc *leg_track(const sfu_leg_desc *leg, const char *mid)
{
    for (unsigned i = 0; i < leg->ntracks && mid[0]; i++)
        if (strcmp(leg->tracks[i].mid, mid) == 0)
            return &leg->tracks[i];
    return NULL;
}

/* Slot i of the join from the client's m-line, the answered one and its track. */
static void join_slot(sig_reneg *r, reneg_slot *s, const sig_sdp_media *om, const sig_sdp_media *am,
                      const sfu_track_desc *td)
{
    reneg_slot_ident(s, om);
    if (!td || (am->port == 0 && !am->bundle_only)) {
        s->rejected = true;
        return;
    }
    reneg_slot_codec(s, am, td);
    s->pub = td->recv;
    s->recv_ok = td->send;
    if (!r->local_ice.ufrag[0]) {       /* the server's transport, as answered */
        r->local_ice = am->ice;
        r->local_fp = am->fingerprint;
        r->ncands = am->ncands;
        memcpy(r->cands, am->cands, am->ncands * sizeof am->cands[0]);
    }
}

static int init_slots(sig_reneg *r, const sig_sdp *co, const sig_sdp_result *fa)
{
    sig_sdp *ans = NULL;
    const sig_sdp_limits big = { .max_bytes = 1 << 20, .max_line = 1 << 16, .max_media = SIG_SDP_MAX_MEDIA };
    if (sig_sdp_parse(fa->sdp, fa->sdp_len, &big, &ans, NULL, 0) != 0)
        return -SFU_EINVAL;
    int rc = -SFU_EINVAL;
    if (ans->nmedia != co->nmedia || ans->nmedia > RENEG_MAX_SLOTS)
        goto out;
    r->slots = calloc(ans->nmedia ? ans->nmedia : 1, sizeof r->slots[0]);
    if (!r->slots)
        goto out;
    for (unsigned i = 0; i < ans->nmedia; i++) {
        if (strcmp(ans->media[i].mid, co->media[i].mid) != 0)
            goto out;
        join_slot(r, &r->slots[i], &co->media[i], &ans->media[i], leg_track(&fa->leg, co->media[i].mid));
    }
    r->nslots = ans->nmedia;
    r->sess_id = ans->sess_id;
    r->sess_version = ans->sess_version;
    if (reneg_live(r->slots, r->nslots) && r->local_fp.len)
        rc = 0;
out:
    sig_sdp_free(ans);
    return rc;
}

sig_reneg *sig_reneg_new(const sig_sdp *client_offer, const sig_sdp_result *first_answer,
                         const sig_reneg_config *cfg)
{
    if (!client_offer || !first_answer || !first_answer->sdp || !cfg || !cfg->pick_ssrc)
        return NULL;
    sig_reneg *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->cfg = *cfg;
    if (r->cfg.batch_delay <= 0)
        r->cfg.batch_delay = DEFAULT_BATCH;
    if (!r->cfg.max_mlines || r->cfg.max_mlines > SFU_MAX_TRACKS)
        r->cfg.max_mlines = SFU_MAX_TRACKS;
    if (!r->cfg.max_tracks)
        r->cfg.max_tracks = DEFAULT_MAX_TRACKS;
    if (r->cfg.audio_slots > SFU_AUDIO_SLOTS_MAX)
        goto err;
    if (init_slots(r, client_offer, first_answer) != 0)
        goto err;
    fp_hex(&r->local_fp, r->local_fp_hex, sizeof r->local_fp_hex);
    r->role = first_answer->role;
    r->remote_ice = first_answer->remote_ice;
    r->remote_fp = first_answer->remote_fingerprint;
    r->allow_mixed = client_offer->extmap_allow_mixed;
    r->rtcp_ssrc = first_answer->leg.rtcp_ssrc;
    r->rtcp_rsize = first_answer->leg.rtcp_rsize;
    snprintf(r->cname, sizeof r->cname, "%s", first_answer->leg.cname[0] ? first_answer->leg.cname : "sfu");
    r->change_since = SFU_TIME_NEVER;
    return r;
err:
    sig_reneg_free(r);
    return NULL;
}

void sig_reneg_free(sig_reneg *r)
{
    if (!r)
        return;
    free(r->want);
    free(r->offer_text);
    free(r->slots);
    free(r->next);
    free(r);
}

int reneg_next_room(sig_reneg *r, unsigned n)
{
    if (n > RENEG_MAX_SLOTS)
        return -SFU_EINVAL;
    if (n <= r->capnext)
        return 0;
    reneg_slot *p = realloc(r->next, n * sizeof *p);
    if (!p)
        return -SFU_ENOMEM;
    r->next = p;
    r->capnext = n;
    return 0;
}

void reneg_drop_scratch(sig_reneg *r)
{
    if (r->outstanding)
        return;
    free(r->next);
    r->next = NULL;
    r->nnext = r->capnext = 0;
}

/* --- the tracks to receive --- */

static int want_find(const sig_reneg *r, uint32_t participant, sfu_kind kind)
{
    for (unsigned i = 0; i < r->nwant; i++)
        if (r->want[i].participant == participant && r->want[i].kind == kind)
            return (int)i;
    return -1;
}

static int find_assigned(const reneg_slot *slots, unsigned n, uint32_t participant, sfu_kind kind)
{
    for (unsigned i = 0; i < n; i++)
        if (slots[i].assigned && slots[i].participant == participant && slots[i].td.kind == kind)
            return (int)i;
    return -1;
}

static bool recv_slot(const reneg_slot *s, sfu_kind kind)
{
    return !s->rejected && s->rtp && s->td.codec != SFU_CODEC_NONE && s->td.kind == kind && !s->pub &&
           s->recv_ok;
}

static const reneg_slot *template_of(const reneg_slot *slots, unsigned n, sfu_kind kind)
{
    for (unsigned i = 0; i < n; i++)
        if (!slots[i].rejected && slots[i].rtp && slots[i].td.codec != SFU_CODEC_NONE && slots[i].td.kind == kind)
            return &slots[i];
    return NULL;
}

/* Whether the wanted tracks fit into receive slots plus the m-lines still
 * allowed (slots being drained count: they free up after the answer). */
static bool placeable(const sig_reneg *r, uint32_t participant, sfu_kind kind)
{
    const reneg_slot *sl = r->outstanding ? r->next : r->slots;
    unsigned n = r->outstanding ? r->nnext : r->nslots;
    if (find_assigned(sl, n, participant, kind) >= 0)
        return true;
    if (!template_of(sl, n, kind))
        return false;
    unsigned need = 0, live = reneg_live(sl, n);
    for (int k = SFU_KIND_AUDIO; k <= SFU_KIND_VIDEO; k++) {
        unsigned w = 0, s = 0;
        for (unsigned i = 0; i < r->nwant; i++)
            w += r->want[i].kind == (sfu_kind)k;
        for (unsigned i = 0; i < n; i++)
            s += recv_slot(&sl[i], (sfu_kind)k);
        need += w > s ? w - s : 0;
    }
    return need <= (r->cfg.max_mlines > live ? r->cfg.max_mlines - live : 0);
}

static void changed(sig_reneg *r, sfu_time now)
{
    if (r->change_since == SFU_TIME_NEVER)
        r->change_since = now;
}

/* Slots from more than audio_slots others with audio, back below
 * audio_slots: a room hovering around the size does not flip. */
static void update_slotted(sig_reneg *r)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->nwant; i++)
        n += r->want[i].kind == SFU_KIND_AUDIO;
    if (!r->cfg.audio_slots)
        r->slotted = false;
    else if (n > r->cfg.audio_slots)
        r->slotted = true;
    else if (n < r->cfg.audio_slots)
        r->slotted = false;
}

bool sig_reneg_audio_slotted(const sig_reneg *r) { return r->slotted; }

const char *sig_reneg_mid_of(const sig_reneg *r, uint32_t participant, sfu_kind kind)
{
    for (unsigned i = 0; i < r->nslots; i++)
        if (r->slots[i].assigned && r->slots[i].participant == participant && r->slots[i].td.kind == kind)
            return r->slots[i].mid;
    return NULL;
}

unsigned sig_reneg_audio_slot_count(const sig_reneg *r)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->nslots; i++)
        n += r->slots[i].assigned && sfu_is_audio_slot(r->slots[i].participant);
    return n;
}

static int sub_find(const sig_reneg *r, uint32_t participant)
{
    for (unsigned i = 0; i < r->nsubs; i++)
        if (r->subs[i] == participant)
            return (int)i;
    return -1;
}

int sig_reneg_set_subscriptions(sig_reneg *r, bool on, const uint32_t *participants, unsigned n,
                                sfu_time now)
{
    if (n > SIG_RENEG_MAX_SUBS || (n && !participants))
        return -SFU_EINVAL;
    r->subs_on = on;
    r->nsubs = 0;
    for (unsigned i = 0; on && i < n; i++)
        if (participants[i] && sub_find(r, participants[i]) < 0)
            r->subs[r->nsubs++] = participants[i];
    changed(r, now);
    return 0;
}

/* Whether a slot assigned to (participant, kind) should keep it. */
static bool wanted(const sig_reneg *r, uint32_t participant, sfu_kind kind)
{
    if (sfu_is_audio_slot(participant))
        return kind == SFU_KIND_AUDIO && r->slotted && participant - SFU_AUDIO_SLOT_BASE < r->cfg.audio_slots;
    if (want_find(r, participant, kind) < 0)
        return false;
    if (kind == SFU_KIND_AUDIO)
        return !r->slotted;
    return !r->subs_on || sub_find(r, participant) >= 0;
}

/* The tracks to place, in order of priority: the audio slots, then the
 * tracks in the order they came (audio unless slotted, video unless
 * subscribed), then the subscribed video in the client's order. Returns
 * how many were written into out. */
static unsigned wanted_list(const sig_reneg *r, reneg_want *out, unsigned cap)
{
    unsigned n = 0;
    if (r->slotted) {
        for (unsigned k = 0; k < r->cfg.audio_slots && n < cap; k++)
            out[n++] = (reneg_want){ SFU_AUDIO_SLOT_BASE + k, SFU_KIND_AUDIO };
    }
    for (unsigned i = 0; i < r->nwant && n < cap; i++)   /* in the order they came */
        if (r->want[i].kind == SFU_KIND_AUDIO ? !r->slotted : !r->subs_on)
            out[n++] = r->want[i];
    for (unsigned i = 0; r->subs_on && i < r->nsubs && n < cap; i++)
        if (want_find(r, r->subs[i], SFU_KIND_VIDEO) >= 0)
            out[n++] = (reneg_want){ r->subs[i], SFU_KIND_VIDEO };
    return n;
}

int sig_reneg_add_track(sig_reneg *r, uint32_t participant, sfu_kind kind, sfu_time now)
{
    if (!r || (kind != SFU_KIND_AUDIO && kind != SFU_KIND_VIDEO))
        return -SFU_EINVAL;
    if (want_find(r, participant, kind) < 0) {
        if (r->nwant == r->cfg.max_tracks)
            return -SFU_ELIMIT;
        if (r->nwant == r->capwant) {
            unsigned cap = r->capwant ? r->capwant * 2 : 16;
            reneg_want *w = realloc(r->want, cap * sizeof *w);
            if (!w)
                return -SFU_ENOMEM;
            r->want = w;
            r->capwant = cap;
        }
        r->want[r->nwant++] = (reneg_want){ participant, kind };
        update_slotted(r);
        changed(r, now);
    }
    return placeable(r, participant, kind) ? 0 : SIG_RENEG_WAITING;
}

int sig_reneg_remove_track(sig_reneg *r, uint32_t participant, sfu_kind kind, sfu_time now)
{
    int i = r ? want_find(r, participant, kind) : -1;
    if (i < 0)
        return -SFU_ENOTFOUND;
    memmove(&r->want[i], &r->want[i + 1], (r->nwant - (unsigned)i - 1) * sizeof r->want[0]);
    r->nwant--;
    update_slotted(r);
    changed(r, now);
    return 0;
}

int sig_reneg_remove_participant(sig_reneg *r, uint32_t participant, sfu_time now)
{
    int a = sig_reneg_remove_track(r, participant, SFU_KIND_AUDIO, now);
    int v = sig_reneg_remove_track(r, participant, SFU_KIND_VIDEO, now);
    return a == 0 || v == 0 ? 0 : -SFU_ENOTFOUND;
}

/* --- planning an offer --- */

static bool mid_used(const reneg_slot *slots, unsigned n, const char *mid)
{
    for (unsigned i = 0; i < n; i++)
        if (strcmp(slots[i].mid, mid) == 0)
            return true;
    return false;
}

static void unassign(reneg_slot *s)
{
    s->assigned = false;
    s->participant = 0;
    s->ssrc = s->rtx_ssrc = 0;
}

/* A new m-line like the first of its kind, with a fresh mid. */
static reneg_slot *append_slot(sig_reneg *r, sfu_kind kind, unsigned *mid_ctr)
{
    if (r->nnext == RENEG_MAX_SLOTS || reneg_live(r->next, r->nnext) >= r->cfg.max_mlines)
        return NULL;
    if (reneg_next_room(r, r->nnext + 1) != 0)
        return NULL;            /* waits, as for a slot */
    const reneg_slot *t = template_of(r->next, r->nnext, kind);
    if (!t)
        return NULL;
    reneg_slot *s = &r->next[r->nnext];
    *s = *t;
    do
        snprintf(s->mid, sizeof s->mid, "%u", (*mid_ctr)++);
    while (mid_used(r->next, r->nnext, s->mid));
    reneg_mid_copy(s->td.mid, s->mid);
    s->pub = false;
    s->recv_ok = true;
    s->td.remote_ssrc = s->td.remote_rtx_ssrc = 0;
    s->td.nlayers = 0;
    unassign(s);
    r->nnext++;
    return s;
}

/* A receive slot of `kind` that the committed state has inactive. */
static reneg_slot *find_free(sig_reneg *r, sfu_kind kind)
{
    for (unsigned i = 0; i < r->nslots; i++)
        if (recv_slot(&r->next[i], kind) && !r->next[i].assigned && !r->slots[i].assigned)
            return &r->next[i];
    return NULL;
}

/* r->next = the committed slots reconciled with the wanted tracks. SSRCs of
 * new assignments stay 0. Returns whether anything differs (1 or 0), or
 * -SFU_ENOMEM. */
static int plan(sig_reneg *r, unsigned *mid_ctr)
{
    if (reneg_next_room(r, r->nslots) != 0)
        return -SFU_ENOMEM;
    memcpy(r->next, r->slots, r->nslots * sizeof r->slots[0]);
    r->nnext = r->nslots;
    *mid_ctr = r->next_mid;
    bool diff = false;
    for (unsigned i = 0; i < r->nnext; i++) {
        reneg_slot *s = &r->next[i];
        if (s->assigned && (s->rejected || !s->recv_ok || !wanted(r, s->participant, s->td.kind))) {
            unassign(s);
            diff = true;
        }
    }
    reneg_want list[SFU_AUDIO_SLOTS_MAX + DEFAULT_MAX_TRACKS];
    unsigned nlist = wanted_list(r, list, SFU_ARRAY_LEN(list));
    /* With subscriptions, video m-lines (free or draining ones included)
     * never outnumber the subscribed tracks. */
    unsigned video_cap = 0;
    for (unsigned i = 0; i < nlist; i++)
        video_cap += list[i].kind == SFU_KIND_VIDEO;
    for (unsigned i = 0; i < nlist; i++) {
        const reneg_want *w = &list[i];
        if (find_assigned(r->next, r->nnext, w->participant, w->kind) >= 0)
            continue;
        reneg_slot *s = find_free(r, w->kind);
        if (!s && w->kind == SFU_KIND_VIDEO && r->subs_on) {
            unsigned have = 0;
            for (unsigned k = 0; k < r->nnext; k++)
                have += recv_slot(&r->next[k], SFU_KIND_VIDEO);
            if (have >= video_cap)
                continue;       /* waits for a draining m-line */
        }
        if (!s)
            s = append_slot(r, w->kind, mid_ctr);
        if (!s)
            continue;           /* waits for a slot */
        s->assigned = true;
        s->participant = w->participant;
        diff = true;
    }
    return diff;
}

bool sig_reneg_poll_offer(sig_reneg *r, sfu_time now)
{
    unsigned ctr;
    if (r->outstanding)
        return false;
    int diff = plan(r, &ctr);
    reneg_drop_scratch(r);      /* make_offer plans again */
    if (diff < 0)
        return false;           /* out of memory: tried again at the next change */
    if (!diff) {
        r->change_since = SFU_TIME_NEVER;
        return false;
    }
    changed(r, now);
    return now - r->change_since >= r->cfg.batch_delay;
}

sfu_time sig_reneg_timeout(const sig_reneg *r)
{
    if (r->outstanding || r->change_since == SFU_TIME_NEVER)
        return SFU_TIME_NEVER;
    sfu_time t = r->change_since + r->cfg.batch_delay;
    return t < 0 ? 0 : t;
}

int sig_reneg_make_offer(sig_reneg *r, sfu_time now, const sig_reneg_offer **out)
{
    unsigned ctr;
    (void)now;
    if (r->outstanding)
        return -SFU_ESTATE;
    if (plan(r, &ctr) < 0) {
        reneg_drop_scratch(r);
        return -SFU_ENOMEM;
    }
    for (unsigned i = 0; i < r->nnext; i++) {
        reneg_slot *s = &r->next[i];
        if (s->assigned && !s->ssrc) {
            s->ssrc = r->cfg.pick_ssrc(r->cfg.ssrc_ctx);
            s->rtx_ssrc = s->td.rtx_pt ? r->cfg.pick_ssrc(r->cfg.ssrc_ctx) : 0;
        }
    }
    char *text;
    size_t len;
    int rc = reneg_write_sdp(r, r->next, r->nnext, NULL, &text, &len);
    if (rc) {
        reneg_drop_scratch(r);
        return rc;
    }
    free(r->offer_text);
    r->offer_text = text;
    r->next_mid = ctr;
    sig_reneg_offer *o = &r->offer;
    memset(o, 0, sizeof *o);
    o->revision = ++r->revision;
    o->sdp = text;
    o->sdp_len = len;
    for (unsigned i = 0; i < r->nnext && o->ntracks < SFU_MAX_TRACKS; i++) {
        const reneg_slot *s = &r->next[i];
        if (!s->assigned)
            continue;
        sig_reneg_track *t = &o->tracks[o->ntracks++];
        reneg_mid_copy(t->mid, s->mid);
        t->participant = s->participant;
        t->kind = s->td.kind;
    }
    r->outstanding = true;
    r->change_since = SFU_TIME_NEVER;
    *out = o;
    return 0;
}

const sig_reneg_offer *sig_reneg_outstanding(const sig_reneg *r)
{
    return r->outstanding ? &r->offer : NULL;
}

/* --- the client's answer --- */

static bool answer_dir_ok(sig_sdp_dir offered, sig_sdp_dir answered)
{
    /* RFC 3264 6.1, offered from the SFU's side, answered from the client's. */
    switch (offered) {
    case SIG_SDP_SENDRECV: return true;
    case SIG_SDP_SENDONLY: return answered == SIG_SDP_RECVONLY || answered == SIG_SDP_INACTIVE;
    case SIG_SDP_RECVONLY: return answered == SIG_SDP_SENDONLY || answered == SIG_SDP_INACTIVE;
    default: return answered == SIG_SDP_INACTIVE;
    }
}

static uint8_t *ext_slot(sfu_ext_ids *ids, sig_sdp_ext_kind kind)
{
    switch (kind) {
    case SIG_EXT_MID: return &ids->mid;
    case SIG_EXT_RID: return &ids->rid;
    case SIG_EXT_REPAIRED_RID: return &ids->repaired_rid;
    case SIG_EXT_AUDIO_LEVEL: return &ids->audio_level;
    case SIG_EXT_ABS_SEND_TIME: return &ids->abs_send_time;
    case SIG_EXT_TWCC: return &ids->twcc;
    case SIG_EXT_DD: return &ids->dd;
    default: return NULL;
    }
}

static int check_formats(const reneg_slot *s, const sig_sdp_media *am, unsigned i, char *err, size_t errlen)
{
    bool codec = false;
    for (unsigned k = 0; k < am->nfmts; k++) {
        uint8_t pt = am->fmts[k].pt;
        if (pt != s->fmt.pt && (!s->td.rtx_pt || pt != s->td.rtx_pt))
            return reneg_fail(err, errlen, "m-line %u: payload type %u was not offered", i, pt);
        codec |= pt == s->fmt.pt;
    }
    if (!codec)
        return reneg_fail(err, errlen, "m-line %u: payload type %u missing", i, s->fmt.pt);
    sfu_ext_ids ids = s->td.ext;
    for (unsigned k = 0; k < am->nexts; k++) {
        const uint8_t *id = ext_slot(&ids, am->exts[k].kind);
        if (!id || *id != am->exts[k].id)
            return reneg_fail(err, errlen, "m-line %u: extension %u was not offered", i, am->exts[k].id);
    }
    return 0;
}

static int check_mline(const sig_reneg *r, const reneg_slot *s, const sig_sdp *ans, unsigned i,
                       char *err, size_t errlen)
{
    const sig_sdp_media *am = &ans->media[i];
    bool rej = am->port == 0 && !am->bundle_only;
    if (strcmp(am->mid, s->mid) != 0 || strcmp(am->media, s->media) != 0)
        return reneg_fail(err, errlen, "m-line %u: %s mid %s where the offer has %s mid %s", i, am->media,
                    am->mid, s->media, s->mid);
    if (s->rejected || rej) {
        if (s->rejected && !rej)
            return reneg_fail(err, errlen, "m-line %u: accepts a rejected m-line", i);
        if (!s->rejected && (s->assigned || s->pub))
            return reneg_fail(err, errlen, "m-line %u (mid %s): rejected but it carries media", i, s->mid);
        return 0;
    }
    if (!sig_sdp_in_bundle(ans, s->mid))
        return reneg_fail(err, errlen, "mid %s: not in the answer's BUNDLE group", s->mid);
    sig_sdp_setup want = r->role == SIG_DTLS_SERVER ? SIG_SDP_SETUP_ACTIVE : SIG_SDP_SETUP_PASSIVE;
    if (am->setup != want)
        return reneg_fail(err, errlen, "mid %s: a=setup must stay %s", s->mid,
                    want == SIG_SDP_SETUP_ACTIVE ? "active" : "passive");
    if (strcmp(am->ice.ufrag, r->remote_ice.ufrag) != 0 || strcmp(am->ice.pwd, r->remote_ice.pwd) != 0)
        return reneg_fail(err, errlen, "mid %s: ICE credentials differ (an answer cannot restart ICE)", s->mid);
    if (!reneg_same_fp(&am->fingerprint, &r->remote_fp))
        return reneg_fail(err, errlen, "mid %s: the DTLS fingerprint changed", s->mid);
    sig_sdp_dir offered = s->assigned && s->pub ? SIG_SDP_SENDRECV : s->assigned ? SIG_SDP_SENDONLY
                        : s->pub ? SIG_SDP_RECVONLY : SIG_SDP_INACTIVE;
    if (!answer_dir_ok(offered, am->dir))
        return reneg_fail(err, errlen, "mid %s: direction not allowed by the offer", s->mid);
    if (s->pub && s->td.nlayers && am->simulcast) {   /* we offered it */
        sig_sdp_simulcast sc;
        char why[128];
        if (am->simulcast_too_long || sig_sdp_simulcast_parse(am->simulcast_value, &sc, why, sizeof why) != 0)
            return reneg_fail(err, errlen, "mid %s: a=simulcast: %s", s->mid,
                              am->simulcast_too_long ? "too long" : why);
    }
    return check_formats(s, am, i, err, errlen);
}

static bool in_send_list(const sig_sdp_simulcast *sc, const char *rid)
{
    for (unsigned k = 0; k < sc->send.nstreams; k++)
        for (unsigned a = 0; a < sc->send.streams[k].nalts; a++)
            if (!sc->send.streams[k].alts[a].paused && strcmp(sc->send.streams[k].alts[a].id, rid) == 0)
                return true;
    return false;
}

/* RFC 8853 5.3.2 from the offerer's side: the answer may drop streams, and
 * without a=simulcast (or a SIM group) the client sends one stream. */
static void apply_layers(reneg_slot *s, const sig_sdp_media *am)
{
    if (!s->td.nlayers)
        return;
    unsigned n = 0;
    sig_sdp_simulcast sc;
    if (!s->td.layers[0].rid[0]) {     /* legacy SIM: the answer's group, if any */
        sfu_layer_desc fresh[SFU_MAX_LAYERS];
        uint8_t k = 0;
        if (sig_sdp_simulcast_layers(am, s->td.pt, fresh, &k, NULL, 0) == 0 && k && !fresh[0].rid[0]) {
            memcpy(s->td.layers, fresh, k * sizeof fresh[0]);
            n = k;
        }
    } else if (am->simulcast && !am->simulcast_too_long &&
               sig_sdp_simulcast_parse(am->simulcast_value, &sc, NULL, 0) == 0) {
        for (unsigned i = 0; i < s->td.nlayers; i++)
            if (in_send_list(&sc, s->td.layers[i].rid))
                s->td.layers[n++] = s->td.layers[i];
    }
    s->td.nlayers = n >= 2 ? (uint8_t)n : 0;
}

static void apply_mline(reneg_slot *s, const sig_sdp_media *am)
{
    if (s->rejected)
        return;
    if (am->port == 0 && !am->bundle_only) {
        s->rejected = true;
        s->pub = false;
        unassign(s);
        return;
    }
    bool client_sends = am->dir == SIG_SDP_SENDRECV || am->dir == SIG_SDP_SENDONLY;
    bool client_recvs = am->dir == SIG_SDP_SENDRECV || am->dir == SIG_SDP_RECVONLY;
    if (s->assigned && !client_recvs) {
        unassign(s);
        s->recv_ok = false;     /* refused: do not offer it media again */
    }
    s->pub = s->pub && client_sends;
    if (s->pub)
        apply_layers(s, am);
    else
        s->td.nlayers = 0;
    if (s->td.nlayers) {
        s->td.remote_ssrc = s->td.remote_rtx_ssrc = 0;
    } else if (s->pub && am->nfids) {
        s->td.remote_ssrc = am->fids[0].primary;
        s->td.remote_rtx_ssrc = am->fids[0].rtx;
    } else if (s->pub && am->nssrcs) {
        s->td.remote_ssrc = am->ssrcs[0].ssrc;
    }
    if (s->td.rtx_pt && !sig_sdp_media_fmt(am, s->td.rtx_pt))
        s->td.rtx_pt = 0;
    sfu_ext_ids kept = { 0 };
    for (unsigned k = 0; k < am->nexts; k++) {
        uint8_t *id = ext_slot(&kept, am->exts[k].kind);
        if (id)
            *id = (uint8_t)am->exts[k].id;
    }
    s->td.ext = kept;
}

/* The session is committed to r->next: bindings for new sinks, the leg. */
static void commit(sig_reneg *r, sig_reneg_result *res)
{
    for (unsigned i = 0; i < r->nnext; i++) {
        const reneg_slot *s = &r->next[i];
        bool kept = i < r->nslots && r->slots[i].assigned && r->slots[i].ssrc == s->ssrc &&
                    r->slots[i].participant == s->participant;
        if (s->assigned && !kept && res->nbindings < SFU_MAX_TRACKS) {
            sig_reneg_binding *b = &res->bindings[res->nbindings++];
            reneg_mid_copy(b->mid, s->mid);
            b->participant = s->participant;
        }
    }
    /* The offer's slots become the committed ones; no copy. */
    free(r->slots);
    r->slots = r->next;
    r->nslots = r->nnext;
    r->next = NULL;
    r->nnext = r->capnext = 0;
    r->outstanding = false;
    /* Answered: nobody reads the offer's text again (sig_reneg_outstanding
     * is NULL now, the events stream dropped its copy), and a session of a
     * large room would keep ~18 KB of SDP for its lifetime. */
    free(r->offer_text);
    r->offer_text = NULL;
    r->offer.sdp = NULL;
    r->offer.sdp_len = 0;
    reneg_leg_of(r, r->slots, r->nslots, &res->leg);
    unsigned ctr;
    if (plan(r, &ctr) != 0 && r->change_since == SFU_TIME_NEVER)
        r->change_since = LONG_AGO;     /* out of memory too: poll_offer retries */
    reneg_drop_scratch(r);
}

void reneg_commit(sig_reneg *r, sig_reneg_result *res)
{
    commit(r, res);
}

int sig_reneg_handle_answer(sig_reneg *r, uint32_t revision, const char *sdp, size_t len,
                            sig_reneg_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (err && errlen)
        err[0] = '\0';
    if (!r->outstanding || revision != r->revision) {
        if (err && errlen)
            snprintf(err, errlen, r->outstanding ? "revision %u is not the outstanding offer %u"
                                                 : "no offer outstanding (revision %u)",
                     (unsigned)revision, (unsigned)r->revision);
        return -SFU_ESTATE;
    }
    sig_sdp *ans = NULL;
    int rc = sig_sdp_parse(sdp, len, &r->cfg.limits, &ans, err, errlen);
    if (rc)
        return rc;
    if (ans->nmedia != r->nnext)
        rc = reneg_fail(err, errlen, "the answer has %u m-lines, the offer %u", ans->nmedia, r->nnext);
    for (unsigned i = 0; i < r->nnext && rc == 0; i++)
        rc = check_mline(r, &r->next[i], ans, i, err, errlen);
    if (rc == 0) {
        for (unsigned i = 0; i < r->nnext; i++)
            apply_mline(&r->next[i], &ans->media[i]);
        commit(r, res);
    }
    sig_sdp_free(ans);
    return rc;
}

void sig_reneg_leg(const sig_reneg *r, sfu_leg_desc *out)
{
    reneg_leg_of(r, r->slots, r->nslots, out);
}

void sig_reneg_result_deinit(sig_reneg_result *res)
{
    free(res->sdp);
    memset(res, 0, sizeof *res);
}

unsigned sig_reneg_http_status(int rc)
{
    switch (rc) {
    case 0: return 200;
    case -SFU_ESTATE: return 409;
    case -SFU_EMALFORMED: return 400;
    case -SFU_EUNSUPPORTED: return 422;
    default: return 500;
    }
}
