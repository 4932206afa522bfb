/* A simulated room client for the renegotiation tests and fuzz target: it
 * answers the server's offers and makes re-offers the way a browser's
 * RTCPeerConnection would (same m-lines, mirrored directions, its own ICE
 * credentials, fingerprint and DTLS role), built as a sig_sdp and written
 * with sig_sdp_write. */
#ifndef TESTS_RENEG_CLIENT_H
#define TESTS_RENEG_CLIENT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/reneg.h"

typedef struct rc_client {
    sig_sdp_ice ice;
    sig_sdp_fingerprint fp;
    sig_sdp_setup setup;        /* its DTLS role: active (SFU server) or passive */
    uint32_t ssrc_base;         /* a=ssrc of what it sends on m-line i: base + i */
} rc_client;

/* Edits the description before it is written (malformed-answer tables). */
typedef void (*rc_edit)(sig_sdp *sdp);

static sig_sdp_dir rc_mirror(sig_sdp_dir d)
{
    return d == SIG_SDP_SENDONLY ? SIG_SDP_RECVONLY : d == SIG_SDP_RECVONLY ? SIG_SDP_SENDONLY : d;
}

static sig_sdp *rc_parse(const char *text, size_t len)
{
    const sig_sdp_limits big = { .max_bytes = 1 << 20, .max_line = 1 << 16, .max_media = SIG_SDP_MAX_MEDIA };
    sig_sdp *s = NULL;
    return sig_sdp_parse(text, len, &big, &s, NULL, 0) == 0 ? s : NULL;
}

/* The client's m-line for the server's m-line `sm`, with direction `dir`. */
static void rc_mline(const rc_client *c, const sig_sdp_media *sm, sig_sdp_media *m, sig_sdp_dir dir,
                     unsigned index)
{
    snprintf(m->media, sizeof m->media, "%s", sm->media);
    snprintf(m->proto, sizeof m->proto, "%s", sm->proto);
    snprintf(m->mid, sizeof m->mid, "%s", sm->mid);
    snprintf(m->app_fmt, sizeof m->app_fmt, "%s", sm->app_fmt);
    m->kind = sm->kind;
    m->rtp = sm->rtp;
    m->nfmts = sm->nfmts;
    memcpy(m->fmts, sm->fmts, sm->nfmts * sizeof sm->fmts[0]);
    if (sm->port == 0 && !sm->bundle_only)
        return;                 /* stays rejected */
    m->port = 9;
    m->nexts = sm->nexts;
    memcpy(m->exts, sm->exts, sm->nexts * sizeof sm->exts[0]);
    m->rtcp_mux = true;
    m->rtcp_rsize = sm->rtcp_rsize;
    m->ice = c->ice;
    m->fingerprint = c->fp;
    m->dir = dir;
    if (dir == SIG_SDP_SENDONLY || dir == SIG_SDP_SENDRECV) {
        m->nssrcs = 1;
        m->ssrcs[0].ssrc = c->ssrc_base + index;
        snprintf(m->ssrcs[0].cname, sizeof m->ssrcs[0].cname, "client");
    }
}

static char *rc_write(sig_sdp *sdp, size_t *len)
{
    char *text = NULL;
    if (sig_sdp_write(sdp, &text, len) != 0)
        text = NULL;
    sig_sdp_free(sdp);
    return text;
}

/* The answer to the server's offer text; NULL if it does not parse. */
static char *rc_answer(const rc_client *c, const char *offer, size_t olen, rc_edit edit, size_t *len)
{
    sig_sdp *o = rc_parse(offer, olen), *a = sig_sdp_new();
    if (!o || !a) {
        sig_sdp_free(o);
        sig_sdp_free(a);
        return NULL;
    }
    a->sess_id = 7;
    a->sess_version = 2;
    a->msid_semantic = true;
    a->extmap_allow_mixed = o->extmap_allow_mixed;
    a->has_bundle = o->has_bundle;
    a->nbundle = o->nbundle;
    memcpy(a->bundle, o->bundle, sizeof a->bundle);
    for (unsigned i = 0; i < o->nmedia; i++) {
        sig_sdp_media *m = sig_sdp_add_media(a);
        if (!m)
            break;
        rc_mline(c, &o->media[i], m, rc_mirror(o->media[i].dir), i);
        m->setup = c->setup;
    }
    sig_sdp_free(o);
    if (edit)
        edit(a);
    return rc_write(a, len);
}

/* A re-offer from the client's view of `last` (the server's latest offer or
 * answer): m-lines the server leaves inactive are offered recvonly, as a
 * browser's transceiver still wants to receive on them. `extra`, if given,
 * is appended (a new transceiver). */
static char *rc_reoffer(const rc_client *c, const char *last, size_t llen, const sig_sdp_media *extra,
                        rc_edit edit, size_t *len)
{
    sig_sdp *o = rc_parse(last, llen), *a = sig_sdp_new();
    if (!o || !a) {
        sig_sdp_free(o);
        sig_sdp_free(a);
        return NULL;
    }
    a->sess_id = 7;
    a->sess_version = 3;
    a->msid_semantic = true;
    a->extmap_allow_mixed = o->extmap_allow_mixed;
    a->has_bundle = true;
    for (unsigned i = 0; i < o->nmedia; i++) {
        sig_sdp_media *m = sig_sdp_add_media(a);
        if (!m)
            break;
        const sig_sdp_media *sm = &o->media[i];
        sig_sdp_dir d = sm->dir == SIG_SDP_INACTIVE ? SIG_SDP_RECVONLY : rc_mirror(sm->dir);
        rc_mline(c, sm, m, d, i);
        m->setup = SIG_SDP_SETUP_ACTPASS;
        if (m->port && a->nbundle < SIG_SDP_MAX_MEDIA)
            strcpy(a->bundle[a->nbundle++], m->mid);
    }
    sig_sdp_free(o);
    sig_sdp_media *m = extra ? sig_sdp_add_media(a) : NULL;
    if (m) {
        *m = *extra;
        m->ice = c->ice;
        m->fingerprint = c->fp;
        m->setup = SIG_SDP_SETUP_ACTPASS;
        m->ncands = 0;
        if (a->nbundle < SIG_SDP_MAX_MEDIA)
            strcpy(a->bundle[a->nbundle++], m->mid);
    }
    if (edit)
        edit(a);
    return rc_write(a, len);
}

#endif
