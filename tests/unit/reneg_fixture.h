/* The fixture of test_reneg.c and test_reneg_reoffer.c: a room session's
 * renegotiation state machine, joined from real or built offers, with every
 * offer it builds parsed back and checked. */
#ifndef TESTS_UNIT_RENEG_FIXTURE_H
#define TESTS_UNIT_RENEG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/reneg.h"
#include "tests/test.h"
#include "tests/unit/reneg_client.h"

#define FP "7F:C0:A7:8D:C3:44:C2:68:17:EA:6C:52:4A:78:BF:82:15:0B:3F:51:85:15:E7:96:22:0D:38:93:65:F9:D0:34"
#define P2 0x0a0b0c02u
#define P3 0x0a0b0c03u
#define P4 0x0a0b0c04u

static uint32_t next_ssrc;
static inline uint32_t pick(void *ctx)
{
    (void)ctx;
    return next_ssrc++;
}

static const sig_ice_candidate server_cands[] = {
    { .foundation = "1", .component = 1, .transport = SIG_ICE_UDP, .priority = 2130706431,
      .address = "127.0.0.1", .port = 40000, .type = SIG_ICE_HOST },
};

typedef struct fixture {
    sig_reneg *r;
    rc_client client;
    sig_sdp_result first;
    char *last;                 /* the server's latest SDP, as the client has it */
    size_t last_len;
    char ufrag[32];             /* the server's current ICE ufrag */
} fixture;

static inline char *load(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "tests/data/sdp/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 17);
    *len = buf ? fread(buf, 1, (1 << 17) - 1, f) : 0;
    fclose(f);
    return buf;
}

/* `text` with every `from` replaced by `to` (new string). */
static inline char *replace(const char *text, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *p = text; (p = strstr(p, from)); p += fl)
        n++;
    char *out = malloc(strlen(text) + n * tl + 1), *o = out;
    for (const char *p = text, *q; out; p = q + fl) {
        if (!(q = strstr(p, from))) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
    }
    return out;
}

static inline void set_last(fixture *f, const char *sdp, size_t len)
{
    free(f->last);
    f->last = malloc(len + 1);
    memcpy(f->last, sdp, len + 1);
    f->last_len = len;
}

static inline sig_reneg_config config(unsigned max_mlines)
{
    return (sig_reneg_config){ .max_mlines = max_mlines, .pick_ssrc = pick };
}

/* Joins with the offer `text` (a room answer from sig_sdp_answer). */
static inline int join_text(fixture *f, const char *text, const sig_reneg_config *cfg)
{
    memset(f, 0, sizeof *f);
    next_ssrc = 1000000000;
    sig_sdp *offer = rc_parse(text, strlen(text));
    ASSERT(offer != NULL);
    const sig_sdp_local l = {
        .ice_ufrag = "srvU", .ice_pwd = "serverpasswordserverpw", .fingerprint = FP,
        .cands = server_cands, .ncands = 1, .cname = "sfu-cname", .stream_id = "-",
        .sess_id = 99, .sess_version = 1, .pick_ssrc = pick, .simulcast = cfg->simulcast,
    };
    char err[256];
    int rc = sig_sdp_answer(offer, SIG_SDP_ROOM, &l, &f->first, err, sizeof err);
    if (rc)
        fprintf(stderr, "  answer: %s\n", err);
    ASSERT_EQ(rc, 0);
    f->r = sig_reneg_new(offer, &f->first, cfg);
    ASSERT(f->r != NULL);
    f->client.ice = offer->media[0].ice;
    f->client.fp = offer->media[0].fingerprint;
    f->client.setup = f->first.role == SIG_DTLS_SERVER ? SIG_SDP_SETUP_ACTIVE : SIG_SDP_SETUP_PASSIVE;
    f->client.ssrc_base = 7000;
    strcpy(f->ufrag, "srvU");
    set_last(f, f->first.sdp, f->first.sdp_len);
    sig_sdp_free(offer);
    return 0;
}

/* Chrome's publish offer made sendrecv: sends and receives audio + video. */
static inline int join_file(fixture *f, const char *file, const char *from, const char *to,
                     const sig_reneg_config *cfg)
{
    size_t len;
    char *raw = load(file, &len);
    ASSERT(raw != NULL);
    char *text = from ? replace(raw, from, to) : raw;
    int rc = join_text(f, text, cfg);
    if (text != raw)
        free(text);
    free(raw);
    return rc;
}

static inline int join(fixture *f, const sig_reneg_config *cfg)
{
    return join_file(f, "chromium156-whip-publish-offer.sdp", "a=sendonly", "a=sendrecv", cfg);
}

static inline void leave(fixture *f)
{
    sig_reneg_free(f->r);
    sig_sdp_result_deinit(&f->first);
    free(f->last);
    memset(f, 0, sizeof *f);
}

static const sig_reneg_track *track_of(const sig_reneg_offer *o, const char *mid)
{
    for (unsigned i = 0; i < o->ntracks; i++)
        if (strcmp(o->tracks[i].mid, mid) == 0)
            return &o->tracks[i];
    return NULL;
}

/* Parses an offer the state machine built and checks it against its map. */
static inline int check_offer(const fixture *f, const sig_reneg_offer *o)
{
    sig_sdp *s = rc_parse(o->sdp, o->sdp_len);
    ASSERT(s != NULL);
    ASSERT(s->ice_lite);
    unsigned live = 0, sending = 0;
    for (unsigned i = 0; i < s->nmedia; i++) {
        const sig_sdp_media *m = &s->media[i];
        if (m->port == 0)
            continue;
        live++;
        ASSERT(sig_sdp_in_bundle(s, m->mid));
        ASSERT_EQ(m->setup, SIG_SDP_SETUP_ACTPASS);
        ASSERT_STR_EQ(m->ice.ufrag, f->ufrag);
        ASSERT_EQ(m->fingerprint.len, 32);
        ASSERT_EQ(m->ncands, 1);
        ASSERT(m->rtcp_mux);
        const sig_reneg_track *t = track_of(o, m->mid);
        bool sends = m->dir == SIG_SDP_SENDONLY || m->dir == SIG_SDP_SENDRECV;
        ASSERT_EQ(sends, t != NULL);
        if (!t) {
            ASSERT_EQ(m->nssrcs, 0);
            continue;
        }
        sending++;
        char id[16], track[40];
        if (sfu_is_audio_slot(t->participant))
            snprintf(id, sizeof id, "slots");
        else
            snprintf(id, sizeof id, "%08x", (unsigned)t->participant);
        snprintf(track, sizeof track, "%s-%s", t->kind == SFU_KIND_VIDEO ? "video" : "audio", m->mid);
        ASSERT_EQ(m->kind, t->kind == SFU_KIND_VIDEO ? SIG_SDP_VIDEO : SIG_SDP_AUDIO);
        ASSERT_STR_EQ(m->msid_stream, id);
        ASSERT_STR_EQ(m->msid_track, track);
        ASSERT_GE(m->nssrcs, 1);
        ASSERT_STR_EQ(m->ssrcs[0].cname, "sfu-cname");
        ASSERT_STR_EQ(m->ssrcs[0].msid_stream, id);
        bool rtx = m->nfmts == 2 && strcmp(m->fmts[1].name, "rtx") == 0;
        ASSERT_EQ(m->nfids, rtx ? 1 : 0);
        ASSERT_EQ(m->nssrcs, rtx ? 2 : 1);
        ASSERT(t->kind == SFU_KIND_VIDEO || !rtx);
    }
    ASSERT_EQ(s->nbundle, live);
    ASSERT_EQ(sending, o->ntracks);
    sig_sdp_free(s);
    return 0;
}

static inline int offer_now(fixture *f, sfu_time now, const sig_reneg_offer **o)
{
    ASSERT(sig_reneg_poll_offer(f->r, now));
    ASSERT_EQ(sig_reneg_make_offer(f->r, now, o), 0);
    ASSERT_EQ(check_offer(f, *o), 0);
    set_last(f, (*o)->sdp, (*o)->sdp_len);
    return 0;
}

static inline int answer_with(fixture *f, const sig_reneg_offer *o, rc_edit edit, sig_reneg_result *res)
{
    size_t len;
    char *a = rc_answer(&f->client, o->sdp, o->sdp_len, edit, &len);
    if (!a)
        return -1000;
    char err[256];
    int rc = sig_reneg_handle_answer(f->r, o->revision, a, len, res, err, sizeof err);
    free(a);
    return rc;
}

static inline int answer(fixture *f, const sig_reneg_offer *o, sig_reneg_result *res)
{
    ASSERT_EQ(answer_with(f, o, NULL, res), 0);
    ASSERT(sig_reneg_outstanding(f->r) == NULL);
    return 0;
}

static inline int count_mlines(const char *sdp, size_t len)
{
    sig_sdp *s = rc_parse(sdp, len);
    int n = s ? (int)s->nmedia : -1;
    sig_sdp_free(s);
    return n;
}

static const sfu_track_desc *leg_mid(const sfu_leg_desc *leg, const char *mid)
{
    for (unsigned i = 0; i < leg->ntracks; i++)
        if (strcmp(leg->tracks[i].mid, mid) == 0)
            return &leg->tracks[i];
    return NULL;
}

static inline int add_av(fixture *f, uint32_t p, sfu_time now)
{
    ASSERT_EQ(sig_reneg_add_track(f->r, p, SFU_KIND_AUDIO, now), 0);
    ASSERT_EQ(sig_reneg_add_track(f->r, p, SFU_KIND_VIDEO, now), 0);
    return 0;
}

/* Edits of a parsed answer or offer, for the bad-answer and re-offer tables. */
static inline void e_drop_last(sig_sdp *s) { s->nmedia--, s->nbundle--; }
static inline void e_mid(sig_sdp *s) { strcpy(s->media[2].mid, "zz"); }
static inline void e_swap(sig_sdp *s)
{
    sig_sdp_media *t = malloc(sizeof *t);
    *t = s->media[2];
    s->media[2] = s->media[3];
    s->media[3] = *t;
    free(t);
}
static inline void e_reject(sig_sdp *s) { s->media[3].port = 0; }
static inline void e_reject_pub(sig_sdp *s) { s->media[0].port = 0; }
static inline void e_passive(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].setup = SIG_SDP_SETUP_PASSIVE; }
static inline void e_actpass(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].setup = SIG_SDP_SETUP_ACTPASS; }
static inline void e_dir_send(sig_sdp *s) { s->media[2].dir = SIG_SDP_SENDONLY; }
static inline void e_dir_recv(sig_sdp *s) { s->media[0].dir = SIG_SDP_RECVONLY; }
static inline void e_pt(sig_sdp *s)
{
    sig_sdp_media *m = &s->media[3];
    m->fmts[m->nfmts] = m->fmts[0];
    m->fmts[m->nfmts++].pt = 100;
}
static inline void e_no_codec(sig_sdp *s)
{
    sig_sdp_media *m = &s->media[3];
    memmove(&m->fmts[0], &m->fmts[1], (m->nfmts - 1) * sizeof m->fmts[0]);
    m->nfmts--;
}
static inline void e_ice(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) strcpy(s->media[i].ice.ufrag, "othr"); }
static inline void e_fp(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].fingerprint.bytes[0] ^= 1; }
static inline void e_ext(sig_sdp *s) { s->media[2].exts[0].id = 9; }
static inline void e_bundle(sig_sdp *s) { s->nbundle--; }
static inline void e_no_bundle(sig_sdp *s) { s->has_bundle = false; }
static inline void e_kind(sig_sdp *s) { strcpy(s->media[2].media, "video"); }

#endif
