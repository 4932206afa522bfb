/* Server-driven renegotiation of room sessions: batching, revisions, m-line
 * recycling, answers that do not match, client re-offers, ICE restart,
 * limits. Every offer the state machine builds is parsed back and checked;
 * the client side is tests/unit/reneg_client.h. */
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
static uint32_t pick(void *ctx)
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

static char *load(const char *name, size_t *len)
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
static char *replace(const char *text, const char *from, const char *to)
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

static void set_last(fixture *f, const char *sdp, size_t len)
{
    free(f->last);
    f->last = malloc(len + 1);
    memcpy(f->last, sdp, len + 1);
    f->last_len = len;
}

static sig_reneg_config config(unsigned max_mlines)
{
    return (sig_reneg_config){ .max_mlines = max_mlines, .pick_ssrc = pick };
}

/* Joins with the offer `text` (a room answer from sig_sdp_answer). */
static int join_text(fixture *f, const char *text, const sig_reneg_config *cfg)
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
static int join_file(fixture *f, const char *file, const char *from, const char *to,
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

static int join(fixture *f, const sig_reneg_config *cfg)
{
    return join_file(f, "chromium156-whip-publish-offer.sdp", "a=sendonly", "a=sendrecv", cfg);
}

static void leave(fixture *f)
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
static int check_offer(const fixture *f, const sig_reneg_offer *o)
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

static int offer_now(fixture *f, sfu_time now, const sig_reneg_offer **o)
{
    ASSERT(sig_reneg_poll_offer(f->r, now));
    ASSERT_EQ(sig_reneg_make_offer(f->r, now, o), 0);
    ASSERT_EQ(check_offer(f, *o), 0);
    set_last(f, (*o)->sdp, (*o)->sdp_len);
    return 0;
}

static int answer_with(fixture *f, const sig_reneg_offer *o, rc_edit edit, sig_reneg_result *res)
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

static int answer(fixture *f, const sig_reneg_offer *o, sig_reneg_result *res)
{
    ASSERT_EQ(answer_with(f, o, NULL, res), 0);
    ASSERT(sig_reneg_outstanding(f->r) == NULL);
    return 0;
}

static int count_mlines(const char *sdp, size_t len)
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

static int add_av(fixture *f, uint32_t p, sfu_time now)
{
    ASSERT_EQ(sig_reneg_add_track(f->r, p, SFU_KIND_AUDIO, now), 0);
    ASSERT_EQ(sig_reneg_add_track(f->r, p, SFU_KIND_VIDEO, now), 0);
    return 0;
}

TEST(join_sendrecv_av)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    sfu_leg_desc leg;
    sig_reneg_leg(f.r, &leg);
    ASSERT_EQ(leg.ntracks, 2);
    ASSERT(leg.tracks[0].recv && leg.tracks[1].recv);
    ASSERT(!leg.tracks[0].send && !leg.tracks[1].send);
    ASSERT_EQ(leg.tracks[1].remote_ssrc, 1891586647u);
    ASSERT_EQ(leg.rtcp_ssrc, f.first.leg.rtcp_ssrc);
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(1)));
    ASSERT_EQ(sig_reneg_timeout(f.r), SFU_TIME_NEVER);
    ASSERT(sig_reneg_outstanding(f.r) == NULL);
    leave(&f);
    return 0;
}

TEST(batched_offer_and_answer)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, SFU_MS(1000)), 0);
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_MS(1050)));
    ASSERT_EQ(add_av(&f, P3, SFU_MS(1060)), 0);
    ASSERT_EQ(sig_reneg_timeout(f.r), SFU_MS(1100));
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_MS(1099)));
    const sig_reneg_offer *o;
    ASSERT_EQ(offer_now(&f, SFU_MS(1100), &o), 0);
    ASSERT_EQ(o->revision, 1);
    ASSERT_EQ(o->ntracks, 4);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 6);
    static const struct { const char *mid; uint32_t p; sfu_kind kind; } want[] = {
        { "2", P2, SFU_KIND_AUDIO }, { "3", P2, SFU_KIND_VIDEO },
        { "4", P3, SFU_KIND_AUDIO }, { "5", P3, SFU_KIND_VIDEO },
    };
    for (unsigned i = 0; i < SFU_ARRAY_LEN(want); i++) {
        ASSERT_STR_EQ(o->tracks[i].mid, want[i].mid);
        ASSERT_EQ(o->tracks[i].participant, want[i].p);
        ASSERT_EQ(o->tracks[i].kind, want[i].kind);
    }
    /* The client's own m-lines: the SFU only receives on them. */
    ASSERT(strstr(o->sdp, "a=mid:0\r\n") && strstr(o->sdp, "a=recvonly"));
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(5)));    /* outstanding */
    ASSERT(sig_reneg_outstanding(f.r) == o);
    sig_reneg_result res;
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.leg.ntracks, 6);
    ASSERT_EQ(res.nbindings, 4);
    for (unsigned i = 0; i < 4; i++) {
        ASSERT_STR_EQ(res.bindings[i].mid, want[i].mid);
        ASSERT_EQ(res.bindings[i].participant, want[i].p);
        const sfu_track_desc *t = leg_mid(&res.leg, want[i].mid);
        ASSERT(t && t->send && !t->recv && t->local_ssrc);
        ASSERT_EQ(t->kind, want[i].kind);
        ASSERT_EQ(t->pt, want[i].kind == SFU_KIND_VIDEO ? 96 : 111);  /* the client's PTs */
        ASSERT_EQ(t->rtx_pt, want[i].kind == SFU_KIND_VIDEO ? 97 : 0);
        ASSERT(want[i].kind == SFU_KIND_AUDIO || t->local_rtx_ssrc);
        ASSERT_EQ(t->ext.mid, 4);
    }
    ASSERT(leg_mid(&res.leg, "0")->recv && !leg_mid(&res.leg, "0")->send);
    ASSERT_EQ(leg_mid(&res.leg, "0")->remote_ssrc, 7000);  /* as the answer signals it */
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(10)));
    sig_reneg_result_deinit(&res);
    leave(&f);
    return 0;
}

TEST(revisions_409)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    sig_reneg_result res;
    char err[200];
    ASSERT_EQ(sig_reneg_handle_answer(f.r, 1, "v=0\r\n", 5, &res, err, sizeof err), -SFU_ESTATE);
    ASSERT_EQ(sig_reneg_http_status(-SFU_ESTATE), 409);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(sig_reneg_remove_participant(f.r, P2, SFU_SEC(2)), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);
    ASSERT_EQ(o->revision, 2);
    ASSERT_EQ(sig_reneg_make_offer(f.r, SFU_SEC(3), &o), -SFU_ESTATE);
    size_t len;
    char *a = rc_answer(&f.client, o->sdp, o->sdp_len, NULL, &len);
    ASSERT(a != NULL);
    for (uint32_t rev = 0; rev < 5; rev++) {
        if (rev == 2)
            continue;
        ASSERT_EQ(sig_reneg_handle_answer(f.r, rev, a, len, &res, err, sizeof err), -SFU_ESTATE);
        ASSERT(sig_reneg_outstanding(f.r) != NULL);
    }
    ASSERT_EQ(sig_reneg_handle_answer(f.r, 2, a, len, &res, err, sizeof err), 0);
    /* The same answer again: nothing outstanding. */
    ASSERT_EQ(sig_reneg_handle_answer(f.r, 2, a, len, &res, err, sizeof err), -SFU_ESTATE);
    free(a);
    leave(&f);
    return 0;
}

TEST(leave_goes_inactive_then_recycled)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    ASSERT_EQ(add_av(&f, P3, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(sig_reneg_remove_participant(f.r, P2, SFU_SEC(2)), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);
    ASSERT_EQ(o->ntracks, 2);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 6);
    sig_sdp *s = rc_parse(o->sdp, o->sdp_len);
    ASSERT(s != NULL);
    ASSERT_EQ(s->media[2].dir, SIG_SDP_INACTIVE);
    ASSERT_EQ(s->media[3].dir, SIG_SDP_INACTIVE);
    ASSERT_EQ(s->media[4].dir, SIG_SDP_SENDONLY);
    ASSERT_EQ(s->media[3].nssrcs, 0);
    ASSERT(s->media[3].port != 0 && sig_sdp_in_bundle(s, "3"));
    sig_sdp_free(s);
    /* A join while the inactive offer is unanswered: queued, and the
     * draining m-lines are not reused before the answer. */
    ASSERT_EQ(add_av(&f, P4, SFU_MS(3010)), 0);
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(4)));
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 0);
    ASSERT(!leg_mid(&res.leg, "2")->send && !leg_mid(&res.leg, "3")->send);
    uint32_t old_ssrc = f.first.leg.tracks[0].local_ssrc;
    (void)old_ssrc;
    ASSERT_EQ(sig_reneg_timeout(f.r), SFU_MS(3110));
    ASSERT_EQ(offer_now(&f, SFU_SEC(4), &o), 0);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 6);
    ASSERT_EQ(o->ntracks, 4);
    ASSERT_EQ(track_of(o, "2")->participant, P4);
    ASSERT_EQ(track_of(o, "3")->participant, P4);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 2);
    ASSERT_STR_EQ(res.bindings[0].mid, "2");
    ASSERT_EQ(res.bindings[1].participant, P4);
    leave(&f);
    return 0;
}

TEST(sdp_size_stable_over_50_cycles)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    sfu_time now = SFU_SEC(1);
    size_t first_len = 0, max_len = 0;
    uint32_t prev_ssrc = 0;
    for (uint32_t k = 0; k < 50; k++) {
        uint32_t p = 0x10000000u + k;
        ASSERT_EQ(add_av(&f, p, now), 0);
        now += SFU_SEC(1);
        ASSERT_EQ(offer_now(&f, now, &o), 0);
        ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 6);
        ASSERT_EQ(track_of(o, "4")->participant, p);
        ASSERT_EQ(track_of(o, "5")->participant, p);
        ASSERT_EQ(track_of(o, "2")->participant, P2);
        first_len = first_len ? first_len : o->sdp_len;
        max_len = o->sdp_len > max_len ? o->sdp_len : max_len;
        ASSERT_EQ(answer(&f, o, &res), 0);
        const sfu_track_desc *t = leg_mid(&res.leg, "5");
        ASSERT(t && t->send && t->local_ssrc != prev_ssrc);   /* new SSRCs on reuse */
        prev_ssrc = t->local_ssrc;
        ASSERT_EQ(sig_reneg_remove_participant(f.r, p, now), 0);
        now += SFU_SEC(1);
        ASSERT_EQ(offer_now(&f, now, &o), 0);
        ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 6);
        ASSERT_EQ(o->ntracks, 2);
        ASSERT_EQ(answer(&f, o, &res), 0);
    }
    ASSERT_EQ(o->revision, 100);     /* P2 came with the first */
    ASSERT_LE(max_len, first_len + 8);  /* only the o= version grows a digit or two */
    leave(&f);
    return 0;
}

TEST(changes_that_cancel_make_no_offer)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);    /* idempotent */
    ASSERT_EQ(sig_reneg_remove_participant(f.r, P2, SFU_MS(10)), 0);
    ASSERT_EQ(sig_reneg_remove_participant(f.r, P2, SFU_MS(10)), -SFU_ENOTFOUND);
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(1)));
    ASSERT_EQ(sig_reneg_add_track(f.r, P2, (sfu_kind)7, 0), -SFU_EINVAL);
    leave(&f);
    return 0;
}

static void e_drop_last(sig_sdp *s) { s->nmedia--, s->nbundle--; }
static void e_mid(sig_sdp *s) { strcpy(s->media[2].mid, "zz"); }
static void e_swap(sig_sdp *s)
{
    sig_sdp_media *t = malloc(sizeof *t);
    *t = s->media[2];
    s->media[2] = s->media[3];
    s->media[3] = *t;
    free(t);
}
static void e_reject(sig_sdp *s) { s->media[3].port = 0; }
static void e_reject_pub(sig_sdp *s) { s->media[0].port = 0; }
static void e_passive(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].setup = SIG_SDP_SETUP_PASSIVE; }
static void e_actpass(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].setup = SIG_SDP_SETUP_ACTPASS; }
static void e_dir_send(sig_sdp *s) { s->media[2].dir = SIG_SDP_SENDONLY; }
static void e_dir_recv(sig_sdp *s) { s->media[0].dir = SIG_SDP_RECVONLY; }
static void e_pt(sig_sdp *s)
{
    sig_sdp_media *m = &s->media[3];
    m->fmts[m->nfmts] = m->fmts[0];
    m->fmts[m->nfmts++].pt = 100;
}
static void e_no_codec(sig_sdp *s)
{
    sig_sdp_media *m = &s->media[3];
    memmove(&m->fmts[0], &m->fmts[1], (m->nfmts - 1) * sizeof m->fmts[0]);
    m->nfmts--;
}
static void e_ice(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) strcpy(s->media[i].ice.ufrag, "othr"); }
static void e_fp(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].fingerprint.bytes[0] ^= 1; }
static void e_ext(sig_sdp *s) { s->media[2].exts[0].id = 9; }
static void e_bundle(sig_sdp *s) { s->nbundle--; }
static void e_no_bundle(sig_sdp *s) { s->has_bundle = false; }
static void e_kind(sig_sdp *s) { strcpy(s->media[2].media, "video"); }

static const struct bad_answer {
    const char *name;
    rc_edit edit;
    const char *why;            /* expected in the error text */
} bad_answers[] = {
    { "m-line missing", e_drop_last, "m-lines" },
    { "mid changed", e_mid, "mid" },
    { "order changed", e_swap, "mid" },
    { "kind changed", e_kind, "mid" },
    { "needed m-line rejected", e_reject, "rejected" },
    { "published m-line rejected", e_reject_pub, "rejected" },
    { "setup flips the DTLS role", e_passive, "setup" },
    { "setup actpass in an answer", e_actpass, "setup" },
    { "sends on a sendonly offer", e_dir_send, "direction" },
    { "receives on a recvonly offer", e_dir_recv, "direction" },
    { "payload type not offered", e_pt, "payload type" },
    { "codec missing", e_no_codec, "payload type" },
    { "ICE credentials changed", e_ice, "ICE" },
    { "fingerprint changed", e_fp, "fingerprint" },
    { "extension id changed", e_ext, "extension" },
    { "mid outside BUNDLE", e_bundle, "BUNDLE" },
    { "no BUNDLE group", e_no_bundle, "BUNDLE" },
};

TEST(mismatched_answers_400)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    sig_reneg_result res;
    char err[256];
    for (unsigned i = 0; i < SFU_ARRAY_LEN(bad_answers); i++) {
        const struct bad_answer *b = &bad_answers[i];
        size_t len;
        char *a = rc_answer(&f.client, o->sdp, o->sdp_len, b->edit, &len);
        ASSERT(a != NULL);
        err[0] = '\0';
        int rc = sig_reneg_handle_answer(f.r, o->revision, a, len, &res, err, sizeof err);
        free(a);
        if (rc != -SFU_EMALFORMED || !strstr(err, b->why))
            fprintf(stderr, "  case \"%s\": rc %d, \"%s\"\n", b->name, rc, err);
        ASSERT_EQ(rc, -SFU_EMALFORMED);
        ASSERT(strstr(err, b->why) != NULL);
        ASSERT(sig_reneg_outstanding(f.r) == o);
    }
    static const char *const garbage[] = { "", "hello", "v=0\r\nm=audio\r\n", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" };
    for (unsigned i = 0; i < SFU_ARRAY_LEN(garbage); i++) {
        int rc = sig_reneg_handle_answer(f.r, o->revision, garbage[i], strlen(garbage[i]), &res, err, sizeof err);
        ASSERT_EQ(rc, -SFU_EMALFORMED);
        ASSERT_EQ(sig_reneg_http_status(rc), 400);
    }
    /* Still answerable after all that. */
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 2);
    leave(&f);
    return 0;
}

static void e_inactive_video(sig_sdp *s) { s->media[3].dir = SIG_SDP_INACTIVE; }

TEST(client_refuses_an_mline)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(answer_with(&f, o, e_inactive_video, &res), 0);
    ASSERT_EQ(res.nbindings, 1);
    ASSERT(!leg_mid(&res.leg, "3")->send);
    /* The video goes to a new m-line, not back to the refused one. */
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 5);
    ASSERT_EQ(track_of(o, "4")->participant, P2);
    ASSERT(track_of(o, "3") == NULL);
    ASSERT_EQ(answer(&f, o, &res), 0);
    leave(&f);
    return 0;
}

TEST(reoffer_while_offer_pending_409)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    size_t len;
    char *re = rc_reoffer(&f.client, f.first.sdp, f.first.sdp_len, NULL, NULL, &len);
    ASSERT(re != NULL);
    sig_reneg_result res;
    char err[200];
    int rc = sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err);
    ASSERT_EQ(rc, -SFU_ESTATE);
    ASSERT_EQ(sig_reneg_http_status(rc), 409);
    free(re);
    /* Glare the other way: a server change during the client's re-offer
     * stays queued and goes out after. */
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(add_av(&f, P3, SFU_MS(1500)), 0);
    re = rc_reoffer(&f.client, f.last, f.last_len, NULL, NULL, &len);
    ASSERT_EQ(sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err), 0);
    free(re);
    ASSERT(!res.ice_restart);
    ASSERT_EQ(res.leg.ntracks, 4);
    sig_sdp *a = rc_parse(res.sdp, res.sdp_len);
    ASSERT(a != NULL);
    ASSERT_EQ(a->nmedia, 4);
    ASSERT_EQ(a->media[0].setup, SIG_SDP_SETUP_PASSIVE);   /* the SFU stays DTLS server */
    ASSERT_EQ(a->media[0].dir, SIG_SDP_RECVONLY);
    ASSERT_EQ(a->media[2].dir, SIG_SDP_SENDONLY);
    ASSERT_EQ(a->media[3].nfids, 1);                        /* same SSRCs as offered */
    ASSERT_EQ(a->media[3].fids[0].primary, leg_mid(&res.leg, "3")->local_ssrc);
    sig_sdp_free(a);
    sig_reneg_result_deinit(&res);
    ASSERT_EQ(offer_now(&f, SFU_MS(1600), &o), 0);
    ASSERT_EQ(o->ntracks, 4);
    ASSERT_EQ(answer(&f, o, &res), 0);
    leave(&f);
    return 0;
}

/* The video m-line of Chrome's offer, as a new transceiver with mid "v9". */
static int camera_mline(sig_sdp_media *out)
{
    size_t len;
    char *raw = load("chromium156-whip-publish-offer.sdp", &len);
    ASSERT(raw != NULL);
    sig_sdp *s = rc_parse(raw, len);
    free(raw);
    ASSERT(s != NULL);
    *out = s->media[1];
    strcpy(out->mid, "v9");
    sig_sdp_free(s);
    return 0;
}

TEST(reoffer_adds_camera)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    /* Audio only at the join: no video m-line at all. */
    size_t len;
    char *raw = load("chromium156-whip-publish-offer.sdp", &len);
    ASSERT(raw != NULL);
    *strstr(raw, "m=video") = '\0';
    char *t1 = replace(raw, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0");
    char *t2 = replace(t1, "a=sendonly", "a=sendrecv");
    ASSERT_EQ(join_text(&f, t2, &cfg), 0);
    free(raw), free(t1), free(t2);
    ASSERT_EQ(sig_reneg_add_track(f.r, P2, SFU_KIND_AUDIO, 0), 0);
    ASSERT_EQ(sig_reneg_add_track(f.r, P2, SFU_KIND_VIDEO, 0), SIG_RENEG_WAITING);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(o->ntracks, 1);
    ASSERT_EQ(answer(&f, o, &res), 0);
    sig_sdp_media *cam = malloc(sizeof *cam);
    ASSERT_EQ(camera_mline(cam), 0);
    char *re = rc_reoffer(&f.client, f.last, f.last_len, cam, NULL, &len);
    free(cam);
    ASSERT(re != NULL);
    char err[200];
    int rc = sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err);
    if (rc)
        fprintf(stderr, "  %s\n", err);
    ASSERT_EQ(rc, 0);
    free(re);
    const sfu_track_desc *t = leg_mid(&res.leg, "v9");
    ASSERT(t && t->recv && !t->send);
    ASSERT_EQ(t->kind, SFU_KIND_VIDEO);
    ASSERT_EQ(t->remote_ssrc, 1891586647u);
    ASSERT_EQ(t->codec, SFU_CODEC_VP8);
    sig_sdp *a = rc_parse(res.sdp, res.sdp_len);
    ASSERT(a && a->nmedia == 3);
    ASSERT_EQ(a->media[2].dir, SIG_SDP_RECVONLY);
    ASSERT(sig_sdp_in_bundle(a, "v9"));
    sig_sdp_free(a);
    sig_reneg_result_deinit(&res);
    /* Now there is a video m-line to copy: the waiting video goes out. */
    ASSERT_EQ(offer_now(&f, SFU_SEC(2), &o), 0);
    ASSERT_EQ(o->ntracks, 2);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 4);
    ASSERT_EQ(o->tracks[1].kind, SFU_KIND_VIDEO);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 1);
    leave(&f);
    return 0;
}

static void e_drop_mline(sig_sdp *s) { s->nmedia--, s->nbundle--; }
static void e_passive_offer(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].setup = SIG_SDP_SETUP_PASSIVE; }
static void e_new_ice(sig_sdp *s)
{
    for (unsigned i = 0; i < s->nmedia; i++) {
        strcpy(s->media[i].ice.ufrag, "NEWu");
        strcpy(s->media[i].ice.pwd, "newclientpasswordnewcl");
    }
}

TEST(reoffer_errors)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    static const struct { rc_edit edit; int rc; } cases[] = {
        { e_drop_mline, -SFU_EMALFORMED }, { e_passive_offer, -SFU_EMALFORMED },
        { e_fp, -SFU_EMALFORMED }, { e_mid, -SFU_EMALFORMED },
    };
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(answer(&f, o, &res), 0);
    char err[200];
    for (unsigned i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        size_t len;
        char *re = rc_reoffer(&f.client, f.last, f.last_len, NULL, cases[i].edit, &len);
        ASSERT(re != NULL);
        ASSERT_EQ(sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err), cases[i].rc);
        free(re);
    }
    ASSERT_EQ(sig_reneg_handle_client_offer(f.r, "x", 1, NULL, &res, err, sizeof err), -SFU_EMALFORMED);
    leave(&f);
    return 0;
}

TEST(ice_restart)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(answer(&f, o, &res), 0);
    size_t len;
    char *re = rc_reoffer(&f.client, f.last, f.last_len, NULL, e_new_ice, &len);
    ASSERT(re != NULL);
    ASSERT_EQ(sig_reneg_is_ice_restart(f.r, re, len), 1);
    char err[200];
    ASSERT_EQ(sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err), -SFU_EINVAL);
    ASSERT(res.ice_restart);
    ASSERT_STR_EQ(res.remote_ice.ufrag, "NEWu");
    /* The new generation has a port of its own: the answer announces it. */
    const sig_ice_candidate gen2 = { .foundation = "2", .component = 1,
                                     .transport = SIG_ICE_UDP, .priority = 2130706431,
                                     .address = "127.0.0.1", .port = 40002,
                                     .type = SIG_ICE_HOST };
    const sig_reneg_ice_creds creds = { "newS", "newserverpasswordnewse", &gen2, 1 };
    ASSERT_EQ(sig_reneg_handle_client_offer(f.r, re, len, &creds, &res, err, sizeof err), 0);
    free(re);
    ASSERT(res.ice_restart);
    sig_sdp *a = rc_parse(res.sdp, res.sdp_len);
    ASSERT(a != NULL);
    ASSERT_STR_EQ(a->media[0].ice.ufrag, "newS");
    ASSERT_EQ(a->media[0].ncands, 1);
    ASSERT_EQ(a->media[0].cands[0].port, 40002);
    ASSERT_EQ(a->media[0].port, 40002);
    ASSERT_STR_EQ(a->media[3].ice.pwd, "newserverpasswordnewse");
    ASSERT_EQ(a->media[3].nssrcs, 2);
    sig_sdp_free(a);
    sig_reneg_result_deinit(&res);
    /* Later offers keep the new credentials; answers must carry the
     * client's new ones. */
    strcpy(f.ufrag, "newS");
    strcpy(f.client.ice.ufrag, "NEWu");
    strcpy(f.client.ice.pwd, "newclientpasswordnewcl");
    ASSERT_EQ(sig_reneg_add_track(f.r, P3, SFU_KIND_AUDIO, SFU_SEC(2)), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);
    sig_sdp *o2 = rc_parse(o->sdp, o->sdp_len);
    ASSERT(o2 != NULL);
    ASSERT_EQ(o2->media[0].cands[0].port, 40002);   /* later offers keep it */
    sig_sdp_free(o2);
    ASSERT_EQ(answer(&f, o, &res), 0);
    /* Same credentials again: no restart. */
    re = rc_reoffer(&f.client, f.last, f.last_len, NULL, NULL, &len);
    ASSERT_EQ(sig_reneg_is_ice_restart(f.r, re, len), 0);
    ASSERT_EQ(sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err), 0);
    ASSERT(!res.ice_restart);
    free(re);
    sig_reneg_result_deinit(&res);
    leave(&f);
    return 0;
}

TEST(mline_limit)
{
    fixture f;
    const sig_reneg_config cfg = config(4);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    ASSERT_EQ(sig_reneg_add_track(f.r, P3, SFU_KIND_AUDIO, 0), SIG_RENEG_WAITING);
    ASSERT_EQ(sig_reneg_add_track(f.r, P3, SFU_KIND_VIDEO, 0), SIG_RENEG_WAITING);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 4);
    ASSERT_EQ(o->ntracks, 2);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(2)));     /* nothing can change */
    ASSERT_EQ(sig_reneg_remove_participant(f.r, P2, SFU_SEC(3)), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(4), &o), 0);
    ASSERT_EQ(o->ntracks, 0);
    ASSERT_EQ(answer(&f, o, &res), 0);
    /* The freed m-lines take the waiting tracks, at once. */
    ASSERT_EQ(sig_reneg_timeout(f.r), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(4), &o), 0);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 4);
    ASSERT_EQ(track_of(o, "2")->participant, P3);
    ASSERT_EQ(track_of(o, "3")->participant, P3);
    ASSERT_EQ(answer(&f, o, &res), 0);
    leave(&f);
    return 0;
}

TEST(recvonly_join_reuses_its_mlines)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join_file(&f, "chromium156-whep-recvonly-offer.sdp", NULL, NULL, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 2);
    ASSERT_EQ(track_of(o, "0")->participant, P2);
    ASSERT_EQ(track_of(o, "1")->kind, SFU_KIND_VIDEO);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 2);
    ASSERT(leg_mid(&res.leg, "1")->send && !leg_mid(&res.leg, "1")->recv);
    leave(&f);
    return 0;
}

static const struct real_case {
    const char *file, *from, *to;
} real_cases[] = {
    { "chromium156-whip-publish-offer.sdp", "a=sendonly", "a=sendrecv" },
    { "chromium156-whip-publish-offer.sdp", NULL, NULL },
    { "chromium156-whip-publish-offer.sdp", "a=setup:actpass", "a=setup:passive" },
    { "chromium156-simulcast-publish-offer.sdp", "a=sendonly", "a=sendrecv" },
    { "chromium156-simulcast-qhf-publish-offer.sdp", "a=sendonly", "a=sendrecv" },
    { "firefox153-simulcast-publish-offer.sdp", NULL, NULL },
    { "obs-handwritten-simulcast-publish-offer.sdp", NULL, NULL },
    { "chromium156-whep-recvonly-offer.sdp", NULL, NULL },
    { "firefox99-sendrecv-offer.sdp", NULL, NULL },
    { "aiortc1.4-publish-offer.sdp", "a=sendonly", "a=sendrecv" },
    { "gstreamer1.22-webrtcbin-publish-offer.sdp", NULL, NULL },
    { "gstreamer1.22-webrtcbin-recvonly-offer.sdp", NULL, NULL },
    { "obs-whip-publish-offer.sdp", NULL, NULL },
    { "safari-handwritten-publish-offer.sdp", "a=sendonly", "a=sendrecv" },
};

TEST(real_offers_renegotiate)
{
    for (unsigned i = 0; i < 2 * SFU_ARRAY_LEN(real_cases); i++) {
        const struct real_case *c = &real_cases[i / 2];
        fixture f;
        sig_reneg_config cfg = config(0);
        cfg.simulcast = i % 2;  /* the switch off and on */
        if (join_file(&f, c->file, c->from, c->to, &cfg) != 0) {
            fprintf(stderr, "  case %s %s\n", c->file, c->to ? c->to : "");
            return 1;
        }
        sfu_time now = 0;
        for (uint32_t p = 1; p <= 3; p++) {
            ASSERT_EQ(add_av(&f, p, now), 0);
            const sig_reneg_offer *o;
            sig_reneg_result res;
            now += SFU_SEC(1);
            ASSERT_EQ(offer_now(&f, now, &o), 0);
            int rc = answer_with(&f, o, NULL, &res);
            if (rc)
                fprintf(stderr, "  case %s %s: rc %d\n", c->file, c->to ? c->to : "", rc);
            ASSERT_EQ(rc, 0);
            ASSERT_EQ(o->ntracks, 2 * p);
        }
        ASSERT_EQ(sig_reneg_remove_participant(f.r, 2, now), 0);
        const sig_reneg_offer *o;
        sig_reneg_result res;
        ASSERT_EQ(offer_now(&f, now + SFU_SEC(1), &o), 0);
        ASSERT_EQ(answer(&f, o, &res), 0);
        size_t len;
        char *re = rc_reoffer(&f.client, f.last, f.last_len, NULL, NULL, &len);
        char err[200];
        int rc = sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err);
        if (rc)
            fprintf(stderr, "  case %s: re-offer: %s\n", c->file, err);
        ASSERT_EQ(rc, 0);
        free(re);
        sig_reneg_result_deinit(&res);
        leave(&f);
    }
    return 0;
}

/* rc_edit: the client answers the simulcast m-line (mid 1) with a=simulcast
 * "send q;h" (it dropped f), or with a malformed one. */
static void answer_send_qh(sig_sdp *a)
{
    sig_sdp_media *m = (sig_sdp_media *)sig_sdp_find_mid(a, "1");
    m->nrids = 2;
    strcpy(m->rids[0].id, "q");
    strcpy(m->rids[1].id, "h");
    m->rids[0].send = m->rids[1].send = true;
    m->simulcast = true;
    strcpy(m->simulcast_value, "send q;h");
}

static void answer_send_bad(sig_sdp *a)
{
    answer_send_qh(a);
    strcpy(((sig_sdp_media *)sig_sdp_find_mid(a, "1"))->simulcast_value, "send q;;h");
}

/* A re-offer that sends q/h/f on mid 1 again. */
static void reoffer_qhf(sig_sdp *a)
{
    answer_send_qh(a);
    sig_sdp_media *m = (sig_sdp_media *)sig_sdp_find_mid(a, "1");
    m->nrids = 3;
    strcpy(m->rids[2].id, "f");
    m->rids[2].send = true;
    strcpy(m->simulcast_value, "send q;h;f");
}

static bool has_line(const char *sdp, const char *line)
{
    char want[128];
    snprintf(want, sizeof want, "\r\n%s\r\n", line);
    return strstr(sdp, want) != NULL;
}

/* A simulcast publisher in a room: its layers stay negotiated in every
 * server offer and answer (a=rid recv + a=simulcast:recv), follow what the
 * client answers, and come back with a re-offer; with the switch off none
 * of it appears. */
TEST(simulcast_publisher)
{
    for (int on = 0; on < 2; on++) {
        fixture f;
        sig_reneg_config cfg = config(0);
        cfg.simulcast = on;
        ASSERT_EQ(join_file(&f, "chromium156-simulcast-qhf-publish-offer.sdp", "a=sendonly", "a=sendrecv", &cfg), 0);
        ASSERT_EQ(has_line(f.first.sdp, "a=simulcast:recv q;h;f"), on);
        ASSERT_EQ(leg_mid(&f.first.leg, "1")->nlayers, on ? 3 : 0);
        sfu_leg_desc leg;
        sig_reneg_leg(f.r, &leg);
        ASSERT_EQ(leg_mid(&leg, "1")->nlayers, on ? 3 : 0);
        ASSERT_EQ(leg_mid(&leg, "1")->ext.rid, 10);        /* a=rid in a room: always */
        /* a server offer keeps the layers, and the client drops f */
        ASSERT_EQ(add_av(&f, 2, 0), 0);
        const sig_reneg_offer *o;
        sig_reneg_result res;
        ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
        ASSERT_EQ(has_line(o->sdp, "a=rid:q recv") && has_line(o->sdp, "a=rid:f recv"), on);
        ASSERT_EQ(has_line(o->sdp, "a=simulcast:recv q;h;f"), on);
        ASSERT(has_line(o->sdp, "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"));
        ASSERT_EQ(answer_with(&f, o, answer_send_qh, &res), 0);
        const sfu_track_desc *t = leg_mid(&res.leg, "1");
        ASSERT_EQ(t->nlayers, on ? 2 : 0);
        if (on) {
            ASSERT_STR_EQ(t->layers[0].rid, "q");
            ASSERT_STR_EQ(t->layers[1].rid, "h");
            ASSERT_EQ(t->remote_ssrc, 0);
        }
        ASSERT_EQ(leg_mid(&res.leg, "3")->nlayers, 0);      /* receive slots have none */
        /* the next offer says q;h; a malformed answer is refused, one
         * without a=simulcast means one stream */
        ASSERT_EQ(add_av(&f, 3, SFU_SEC(2)), 0);
        ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);
        ASSERT_EQ(has_line(o->sdp, "a=simulcast:recv q;h"), on);
        ASSERT_EQ(has_line(o->sdp, "a=rid:f recv"), false);
        ASSERT_EQ(answer_with(&f, o, answer_send_bad, &res), on ? -SFU_EMALFORMED : 0);
        if (on) {
            ASSERT_EQ(answer(&f, o, &res), 0);
            ASSERT_EQ(leg_mid(&res.leg, "1")->nlayers, 0);
            ASSERT_EQ(leg_mid(&res.leg, "1")->remote_ssrc, 7001);   /* the answer's a=ssrc */
        }
        /* a client re-offer with q/h/f is answered with them again */
        size_t len;
        char *re = rc_reoffer(&f.client, f.last, f.last_len, NULL, reoffer_qhf, &len);
        char err[200];
        int rc = sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err);
        if (rc)
            fprintf(stderr, "  re-offer: %s\n", err);
        ASSERT_EQ(rc, 0);
        ASSERT_EQ(has_line(res.sdp, "a=simulcast:recv q;h;f"), on);
        ASSERT_EQ(leg_mid(&res.leg, "1")->nlayers, on ? 3 : 0);
        free(re);
        sig_reneg_result_deinit(&res);
        leave(&f);
    }
    return 0;
}

TEST(bad_construction)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    sig_sdp *offer = rc_parse(f.first.sdp, f.first.sdp_len);
    ASSERT(offer != NULL);
    const sig_reneg_config nopick = { 0 };
    ASSERT(sig_reneg_new(offer, &f.first, &nopick) == NULL);
    offer->nmedia = 1;          /* does not match the answer */
    ASSERT(sig_reneg_new(offer, &f.first, &cfg) == NULL);
    sig_sdp_free(offer);
    leave(&f);
    return 0;
}

TEST_LIST(TEST_ENTRY(join_sendrecv_av), TEST_ENTRY(batched_offer_and_answer), TEST_ENTRY(revisions_409),
          TEST_ENTRY(leave_goes_inactive_then_recycled), TEST_ENTRY(sdp_size_stable_over_50_cycles),
          TEST_ENTRY(changes_that_cancel_make_no_offer), TEST_ENTRY(mismatched_answers_400),
          TEST_ENTRY(client_refuses_an_mline), TEST_ENTRY(reoffer_while_offer_pending_409),
          TEST_ENTRY(reoffer_adds_camera), TEST_ENTRY(reoffer_errors), TEST_ENTRY(ice_restart),
          TEST_ENTRY(mline_limit), TEST_ENTRY(recvonly_join_reuses_its_mlines),
          TEST_ENTRY(real_offers_renegotiate), TEST_ENTRY(simulcast_publisher),
          TEST_ENTRY(bad_construction))
