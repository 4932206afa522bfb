/* Deterministic simulation of one publisher and three viewers through the
 * room: a virtual clock, and a seeded loss / delay / reordering model on
 * every link in both directions (media, NACKs, retransmissions, PLIs).
 * The clock only moves to the next event: a packet arriving, a frame to
 * send, or a deadline the room or a peer asked for. */
#include "sfu/core/nack_gen.h"
#include "sfu/core/rtcp_sr_rr.h"
#include "sfu/core/seq.h"
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

#include <stdlib.h>

#define NVIEW 3
#define LOSS_PCT 5
#define DELAY_BASE SFU_MS(20)
#define DELAY_JITTER_US 30000       /* uniform: packets overtake each other */
#define MEDIA_END SFU_SEC(12)
#define CHECK_END SFU_SEC(10)       /* every packet sent before this must arrive */
#define SIM_END SFU_SEC(14)
#define PKTS_PER_FRAME 3
#define FRAME_US 33333
#define RING 4096

enum { PUB_LEG = 1, ALICE = 7, PUB_SSRC = 0x1234, PUB_RTX_SSRC = 0x1235 };
enum { TO_SFU = -1, TO_PUB = 0 };   /* viewers are 1..NVIEW */

typedef struct ev {
    sfu_time at;
    uint64_t order;
    int to;
    sfu_leg_id from;                /* TO_SFU: which leg sent it */
    bool rtcp;
    uint16_t len;
    uint8_t data[1500];
} ev;

typedef struct pub {
    uint64_t seq;                   /* extended; the 16-bit value wraps during the run */
    uint32_t ts;
    uint16_t picid, rtx_seq16, twcc;
    bool want_key;
    sfu_time next_frame, next_sr;
    uint16_t len[RING];
    uint8_t pkt[RING][64];
    uint64_t last_checked_seq;      /* the last packet sent before CHECK_END */
    int npli;
    sfu_time pli_at[64];
    uint64_t nacks, rtx_sent, twcc_fb, rr;
} pub;

typedef struct viewer {
    sfu_leg_id leg;
    uint32_t ssrc;
    sfu_time bind_at;
    bool bound;
    sfu_seq_unwrapper uw;
    sfu_nack_gen ng;
    bool any;
    uint64_t min_ext, max_ext;
    uint64_t min_tag;
    bool got[65536];
    uint32_t tag[65536];
    sfu_time pli_first, pli_next;   /* NEVER when no PLI is outstanding */
    uint64_t rtx_got, nacks_sent;
} viewer;

typedef struct sim {
    uint64_t rng;
    sfu_time now;
    uint64_t order;
    ev *evs;
    size_t nevs, cap;
    sfu_buf_pool *pool;
    sfu_room *room;
    sfu_out out;
    pub p;
    viewer v[NVIEW];
    bool sfu_has[1 << 16];          /* by publisher seq16: reached the SFU once */
    uint64_t first_fwd_tag[NVIEW];
    bool fwd_started[NVIEW];
    uint64_t held_back;             /* new packets not forwarded in the same call */
    int nreq;
    sfu_time req_at[64];            /* keyframe requests the SFU sent */
    int nvpli;
    sfu_time vpli_at[64];           /* viewers' PLIs the SFU received */
    int nkey;
    sfu_time key_at[256];           /* keyframes that reached the SFU */
    uint64_t delivered, lost;
} sim;

static uint64_t rnd(sim *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 0x2545F4914F6CDD1DULL;
}

/* The link model: loss, then a random delay that reorders. */
static void send_on_link(sim *s, int to, sfu_leg_id from, bool rtcp, const uint8_t *d, size_t n)
{
    if (rnd(s) % 100 < LOSS_PCT) {
        s->lost++;
        return;
    }
    if (s->nevs == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->evs = realloc(s->evs, s->cap * sizeof *s->evs);
    }
    ev *e = &s->evs[s->nevs++];
    e->at = s->now + DELAY_BASE + (sfu_time)(rnd(s) % DELAY_JITTER_US);
    e->order = s->order++;
    e->to = to;
    e->from = from;
    e->rtcp = rtcp;
    e->len = (uint16_t)n;
    memcpy(e->data, d, n);
}

static sfu_leg_id view_leg(int i) { return (sfu_leg_id)(10 + i); }

/* Publisher: one packet of a frame, VP8 with a tag = its extended seq. */
static void pub_send_packet(sim *s, bool start, bool key, bool marker)
{
    pub *p = &s->p;
    uint8_t pl[16];
    size_t n = fx_vp8(pl, start, key, p->picid, 0, (uint32_t)p->seq);
    fx_rtp r = { PUB_SSRC, PUB_PT, (uint16_t)p->seq, p->ts, marker, "0", p->twcc++, -1, pl, n };
    sfu_buf *b = fx_build(s->pool, &r);
    p->len[p->seq % RING] = b->len;
    memcpy(p->pkt[p->seq % RING], b->data, b->len);
    send_on_link(s, TO_SFU, PUB_LEG, false, b->data, b->len);
    sfu_buf_unref(b);
    if (s->now < CHECK_END)
        p->last_checked_seq = p->seq;
    p->seq++;
}

static void pub_frame(sim *s)
{
    pub *p = &s->p;
    bool key = p->want_key;
    p->want_key = false;
    for (int k = 0; k < PKTS_PER_FRAME; k++)
        pub_send_packet(s, k == 0, key, k == PKTS_PER_FRAME - 1);
    p->picid = (p->picid + 1) & 0x7fff;
    p->ts += 3000;
    p->next_frame += FRAME_US;
}

static void pub_sr(sim *s)
{
    sfu_rtcp_sr sr = { .ssrc = PUB_SSRC, .ntp = (uint64_t)(3900000000u + s->now / 1000000) << 32,
                       .rtp_ts = s->p.ts };
    uint8_t b[64];
    int n = sfu_rtcp_sr_build(b, sizeof b, &sr);
    send_on_link(s, TO_SFU, PUB_LEG, true, b, (size_t)n);
    s->p.next_sr += SFU_SEC(1);
}

/* RFC 4588: the publisher resends a NACKed packet on its RTX stream. */
static void pub_resend(sim *s, uint16_t seq16)
{
    pub *p = &s->p;
    for (uint64_t q = p->seq; q-- > 0 && p->seq - q < RING;) {
        if ((uint16_t)q != seq16)
            continue;
        sfu_rtp_hdr h;
        const uint8_t *orig = p->pkt[q % RING];
        if (sfu_rtp_parse(orig, p->len[q % RING], &h) < 0)
            return;
        uint8_t pl[80];
        sfu_wr16(pl, seq16);
        memcpy(pl + 2, orig + h.payload_off, h.payload_len);
        fx_rtp r = { PUB_RTX_SSRC, PUB_RTX_PT, p->rtx_seq16++, h.ts, h.marker, "0", p->twcc++, -1, pl,
                     (size_t)h.payload_len + 2 };
        sfu_buf *b = fx_build(s->pool, &r);
        send_on_link(s, TO_SFU, PUB_LEG, false, b->data, b->len);
        sfu_buf_unref(b);
        p->rtx_sent++;
        return;
    }
}

static void pub_rtcp(sim *s, const uint8_t *d, size_t n)
{
    size_t off = 0;
    sfu_rtcp_common c;
    while (sfu_rtcp_next(d, n, &off, &c) == 1) {
        if (c.pt == SFU_RTCP_RTPFB && c.count == SFU_RTCP_FMT_NACK) {
            static sfu_rtcp_nack nack;
            if (sfu_rtcp_nack_parse(&c, &nack) == 0 && nack.media_ssrc == PUB_SSRC) {
                s->p.nacks++;
                for (uint16_t i = 0; i < nack.count; i++)
                    pub_resend(s, nack.seq16[i]);
            }
        } else if (c.pt == SFU_RTCP_PSFB && (c.count == SFU_RTCP_FMT_PLI || c.count == SFU_RTCP_FMT_FIR)) {
            s->p.want_key = true;
            if (s->p.npli < 64)
                s->p.pli_at[s->p.npli++] = s->now;
        } else if (c.pt == SFU_RTCP_RTPFB && c.count == SFU_RTCP_FMT_TWCC) {
            s->p.twcc_fb++;
        } else if (c.pt == SFU_RTCP_RR) {
            s->p.rr++;
        }
    }
}

static void view_rtp(sim *s, int i, const uint8_t *d, size_t n)
{
    viewer *v = &s->v[i];
    sfu_rtp_hdr h;
    if (sfu_rtp_parse(d, n, &h) < 0)
        return;
    uint16_t seq16 = h.seq16;
    uint16_t off = h.payload_off, len = h.payload_len;
    if (h.ssrc == v->ssrc + 1) { /* RTX: the original seq first */
        seq16 = sfu_rd16(d + off);
        off += 2;
        len -= 2;
        v->rtx_got++;
    } else if (h.ssrc != v->ssrc) {
        return;
    }
    sfu_vp8_desc vd;
    if (sfu_vp8_parse(d + off, len, &vd) < 0 || len < vd.desc_len + 5u)
        return;
    uint32_t tag = sfu_rd32(d + off + vd.desc_len + 1);
    uint64_t ext = sfu_seq_unwrap(&v->uw, seq16);
    sfu_nack_gen_handle_packet(&v->ng, ext, s->now);
    if (!v->any || ext < v->min_ext) {
        v->min_ext = ext;
        v->min_tag = tag;
    }
    if (!v->any || ext > v->max_ext)
        v->max_ext = ext;
    v->any = true;
    v->got[ext & 0xffff] = true;
    v->tag[ext & 0xffff] = tag;
    if (vd.keyframe && v->pli_next != SFU_TIME_NEVER && s->now > v->pli_first)
        v->pli_next = SFU_TIME_NEVER; /* the keyframe it asked for */
}

static void view_timeout(sim *s, int i)
{
    viewer *v = &s->v[i];
    uint64_t seqs[64];
    size_t n = sfu_nack_gen_handle_timeout(&v->ng, s->now, seqs, 64);
    uint8_t b[400];
    if (n) {
        uint16_t s16[64];
        for (size_t k = 0; k < n; k++)
            s16[k] = (uint16_t)seqs[k];
        int len = sfu_rtcp_nack_build(b, sizeof b, 0x900 + (uint32_t)i, v->ssrc, s16, n);
        send_on_link(s, TO_SFU, v->leg, true, b, (size_t)len);
        v->nacks_sent++;
    }
    if (v->pli_next <= s->now) { /* browsers repeat a PLI until the keyframe */
        int len = sfu_rtcp_pli_build(b, sizeof b, 0x900 + (uint32_t)i, v->ssrc);
        send_on_link(s, TO_SFU, v->leg, true, b, (size_t)len);
        v->pli_next = s->now + SFU_MS(500);
    }
}

/* Drains the room's outputs onto the links, checking what was forwarded. */
static void drain(sim *s)
{
    uint8_t b[1600];
    for (uint32_t k = 0; k < s->out.count; k++) {
        const sfu_out_item *it = &s->out.items[k];
        int n = sfu_out_item_flatten(it, b, sizeof b);
        if (n < 0)
            continue;
        if (it->leg == PUB_LEG) {
            if (it->type == SFU_OUT_RTCP) {
                size_t off = 0;
                sfu_rtcp_common c;
                while (sfu_rtcp_next(b, (size_t)n, &off, &c) == 1)
                    if (c.pt == SFU_RTCP_PSFB && s->nreq < 64)
                        s->req_at[s->nreq++] = s->now;
            }
            send_on_link(s, TO_PUB, 0, it->type == SFU_OUT_RTCP, b, (size_t)n);
            continue;
        }
        for (int i = 0; i < NVIEW; i++)
            if (it->leg == s->v[i].leg)
                send_on_link(s, i + 1, 0, it->type == SFU_OUT_RTCP, b, (size_t)n);
    }
    sfu_out_reset(&s->out);
}

/* The original seq16 and tag of a publisher packet (RTX unwrapped). */
static bool pub_packet_id(const uint8_t *d, size_t n, uint16_t *seq16, uint32_t *tag)
{
    sfu_rtp_hdr h;
    if (sfu_rtp_parse(d, n, &h) < 0)
        return false;
    uint16_t off = h.payload_off;
    *seq16 = h.seq16;
    if (h.ssrc == PUB_RTX_SSRC) {
        *seq16 = sfu_rd16(d + off);
        off += 2;
    }
    *tag = sfu_rd32(d + off + 6);
    return true;
}

static bool is_keyframe_start(const uint8_t *d, size_t n)
{
    sfu_rtp_hdr h;
    sfu_vp8_desc vd;
    if (sfu_rtp_parse(d, n, &h) < 0)
        return false;
    size_t off = h.payload_off + (h.ssrc == PUB_RTX_SSRC ? 2 : 0);
    return off < n && sfu_vp8_parse(d + off, n - off, &vd) == 0 && vd.keyframe;
}

/* Forwarding is immediate: a packet new to the SFU goes out to every viewer
 * that has started, in the same call. */
static void sfu_rtp_in(sim *s, const ev *e)
{
    uint16_t seq16 = 0;
    uint32_t tag = 0;
    bool is_pub = e->from == PUB_LEG && pub_packet_id(e->data, e->len, &seq16, &tag);
    bool fresh = is_pub && !s->sfu_has[seq16];
    if (is_pub)
        s->sfu_has[seq16] = true;
    if (fresh && is_keyframe_start(e->data, e->len) && s->nkey < 256)
        s->key_at[s->nkey++] = s->now;
    sfu_buf *b = sfu_buf_alloc(s->pool);
    memcpy(b->data, e->data, e->len);
    b->len = e->len;
    sfu_room_handle_rtp(s->room, e->from, b, s->now, &s->out);
    sfu_buf_unref(b);
    for (int i = 0; fresh && i < NVIEW; i++) {
        int got = 0;
        for (uint32_t k = 0; k < s->out.count; k++)
            got += s->out.items[k].leg == s->v[i].leg && s->out.items[k].type == SFU_OUT_RTP;
        if (got && !s->fwd_started[i]) {
            s->fwd_started[i] = true;
            s->first_fwd_tag[i] = tag;
        } else if (!got && s->fwd_started[i] && tag > s->first_fwd_tag[i]) {
            s->held_back++;
        }
    }
}

static void deliver(sim *s, const ev *e)
{
    s->delivered++;
    if (e->to == TO_SFU) {
        if (e->rtcp && e->from != PUB_LEG && e->data[1] == SFU_RTCP_PSFB && s->nvpli < 64)
            s->vpli_at[s->nvpli++] = s->now;
        if (e->rtcp)
            sfu_room_handle_rtcp(s->room, e->from, e->data, e->len, s->now, &s->out);
        else
            sfu_rtp_in(s, e);
        drain(s);
    } else if (e->to == TO_PUB) {
        if (e->rtcp)
            pub_rtcp(s, e->data, e->len);
    } else if (!e->rtcp) {
        view_rtp(s, e->to - 1, e->data, e->len);
    }
}

static sfu_time min_t(sfu_time a, sfu_time b) { return a < b ? a : b; }

static sfu_time next_time(const sim *s, size_t *evi)
{
    sfu_time t = SFU_TIME_NEVER;
    *evi = SIZE_MAX;
    for (size_t k = 0; k < s->nevs; k++) {
        const ev *e = &s->evs[k];
        if (e->at < t || (e->at == t && e->order < s->evs[*evi].order)) {
            t = e->at;
            *evi = k;
        }
    }
    t = min_t(t, sfu_room_poll_timeout(s->room));
    if (s->p.next_frame < MEDIA_END)
        t = min_t(t, s->p.next_frame);
    t = min_t(t, s->p.next_sr);
    for (int i = 0; i < NVIEW; i++) {
        t = min_t(t, sfu_nack_gen_poll_timeout(&s->v[i].ng));
        t = min_t(t, s->v[i].pli_next);
        if (!s->v[i].bound)
            t = min_t(t, s->v[i].bind_at);
    }
    return t;
}

static int sim_setup(sim *s)
{
    memset(s, 0, sizeof *s);
    s->rng = 0x5eed5eed12345ULL;
    const char *seed = getenv("SIM_SEED"); /* to explore other seeds by hand */
    if (seed)
        s->rng = strtoull(seed, NULL, 0) | 1;
    s->pool = sfu_buf_pool_new(4096);
    sfu_room_config cfg = { .max_legs = 8, .liveness_timeout = SFU_SEC(30), .rtx_cache_packets = 1024,
                            .keyframe_min_interval = SFU_SEC(1) };
    s->room = sfu_room_new(&cfg);
    if (!s->pool || !s->room || sfu_out_init(&s->out, 1024) < 0)
        return -1;
    sfu_track_desc pv = fx_pub_video("0");
    sfu_leg_desc pl = fx_leg(0xAAAA, &pv, 1);
    if (sfu_room_add_leg(s->room, PUB_LEG, ALICE, &pl, 0) < 0)
        return -1;
    static const sfu_time bind_at[NVIEW] = { 0, SFU_MS(1500), SFU_SEC(5) };
    static const sfu_time pli_at[NVIEW] = { SFU_SEC(3), SFU_MS(3200), SFU_SEC(7) };
    for (int i = 0; i < NVIEW; i++) {
        viewer *v = &s->v[i];
        v->leg = view_leg(i);
        v->ssrc = 0x50000 + 0x100 * (uint32_t)i;
        v->bind_at = bind_at[i];
        v->pli_first = v->pli_next = pli_at[i];
        sfu_nack_gen_init(&v->ng, NULL);
        sfu_track_desc vv = fx_view_video("v", v->ssrc);
        sfu_leg_desc vl = fx_leg(0xB000 + (uint32_t)i, &vv, 1);
        if (sfu_room_add_leg(s->room, v->leg, 100 + (uint32_t)i, &vl, 0) < 0)
            return -1;
    }
    s->p.seq = 65500; /* the 16-bit numbers wrap a few seconds in */
    s->p.want_key = true;
    s->p.next_sr = SFU_MS(500);
    return 0;
}

static void sim_step(sim *s)
{
    size_t evi;
    sfu_time t = next_time(s, &evi);
    if (t > s->now)
        s->now = t;
    if (evi != SIZE_MAX && s->evs[evi].at <= s->now) {
        ev e = s->evs[evi];
        s->evs[evi] = s->evs[--s->nevs];
        deliver(s, &e);
        return;
    }
    for (int i = 0; i < NVIEW; i++) {
        viewer *v = &s->v[i];
        if (!v->bound && v->bind_at <= s->now) {
            v->bound = true;
            sfu_room_bind(s->room, v->leg, "v", ALICE, s->now, &s->out);
            drain(s);
        }
        view_timeout(s, i);
    }
    if (s->p.next_frame <= s->now && s->p.next_frame < MEDIA_END)
        pub_frame(s);
    if (s->p.next_sr <= s->now)
        pub_sr(s);
    if (sfu_room_poll_timeout(s->room) <= s->now) {
        sfu_room_handle_timeout(s->room, s->now, &s->out);
        drain(s);
    }
}

/* Returns the buffers still in use once the room is gone (0: no leak). */
static uint32_t sim_free(sim *s)
{
    free(s->evs);
    sfu_out_deinit(&s->out);
    sfu_room_free(s->room);
    uint32_t in_use = s->pool ? sfu_buf_pool_in_use(s->pool) : 0;
    sfu_buf_pool_free(s->pool);
    return in_use;
}

static int check_viewer(const sim *s, int i)
{
    const viewer *v = &s->v[i];
    ASSERT(v->any);
    uint64_t missing = 0, wrong = 0;
    for (uint64_t tag = v->min_tag; tag <= s->p.last_checked_seq; tag++) {
        uint64_t e = v->min_ext + (tag - v->min_tag);
        if (!v->got[e & 0xffff]) {
            missing++;
            if (getenv("SIM_DEBUG"))
                fprintf(stderr, "  viewer %d misses tag %llu (ext %llu), min tag %llu\n", i,
                        (unsigned long long)tag, (unsigned long long)e, (unsigned long long)v->min_tag);
        }
        else if (v->tag[e & 0xffff] != (uint32_t)tag)
            wrong++;
    }
    if (missing || wrong)
        TEST_FAIL_("viewer %d: %llu missing, %llu with the wrong payload", i,
                   (unsigned long long)missing, (unsigned long long)wrong);
    ASSERT_GT(s->p.last_checked_seq - v->min_tag, 100);
    return 0;
}

TEST(lossy_room_recovers_everything)
{
    sim *s = calloc(1, sizeof *s);
    ASSERT(s);
    ASSERT_EQ(sim_setup(s), 0);
    while (s->now < SIM_END)
        sim_step(s);
    const sfu_room_stats *st = sfu_room_stats_get(s->room);
    printf("  sim: %llu delivered, %llu lost; sfu: %llu fwd, %llu rtx, %llu nacks sent, %llu plis sent;"
           " publisher resent %llu\n",
           (unsigned long long)s->delivered, (unsigned long long)s->lost,
           (unsigned long long)st->forwarded, (unsigned long long)st->retransmitted,
           (unsigned long long)st->nacks_sent, (unsigned long long)st->plis_sent,
           (unsigned long long)s->p.rtx_sent);
    ASSERT_GT(s->lost, 100);
    ASSERT_GT(st->retransmitted, 50);
    ASSERT_GT(s->p.rtx_sent, 10);
    for (int i = 0; i < NVIEW; i++)
        if (check_viewer(s, i))
            return 1;
    ASSERT_EQ(s->held_back, 0);
    for (int i = 0; i < NVIEW; i++)
        ASSERT_GT(s->v[i].rtx_got, 0);
    /* At most one keyframe request per second for the stream. */
    for (int k = 1; k < s->nreq; k++)
        ASSERT_GE(s->req_at[k] - s->req_at[k - 1], SFU_SEC(1));
    /* Every viewer PLI the SFU got became a request to the publisher within
     * a second, unless a keyframe arrived meanwhile and made it moot. */
    ASSERT_GT(s->nvpli, 2);
    for (int k = 0; k < s->nvpli; k++) {
        sfu_time t = s->vpli_at[k];
        bool done = false;
        for (int j = 0; j < s->nreq; j++)
            done |= s->req_at[j] >= t && s->req_at[j] <= t + SFU_SEC(1);
        for (int j = 0; j < s->nkey; j++)
            done |= s->key_at[j] > t && s->key_at[j] <= t + SFU_SEC(1);
        if (!done)
            TEST_FAIL_("PLI received at %lld ms: no request and no keyframe within 1 s", (long long)(t / 1000));
    }
    /* End to end, each viewer's PLI reached the publisher within a second.
     * With this seed no request is lost; when one is, the throttle delays
     * the next by up to a second (the price of one request per second). */
    for (int i = 0; i < NVIEW; i++) {
        sfu_time asked = s->v[i].pli_first;
        bool reached = false;
        for (int k = 0; k < s->p.npli; k++)
            reached |= s->p.pli_at[k] >= asked && s->p.pli_at[k] <= asked + SFU_SEC(1);
        if (!reached)
            TEST_FAIL_("viewer %d's PLI at %lld ms did not reach the publisher in 1 s", i,
                       (long long)(asked / 1000));
    }
    ASSERT_GT(s->p.twcc_fb, 50);
    ASSERT_GT(s->p.rr, 5);
    ASSERT_EQ(sim_free(s), 0);
    free(s);
    return 0;
}

TEST_LIST(TEST_ENTRY(lossy_room_recovers_everything))
