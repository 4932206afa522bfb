/* The simulation harness of test_sim.c and test_sim_repair.c: one publisher
 * and its viewers through the room on a virtual clock, with a seeded loss /
 * delay / reordering model on every link in both directions. */
#ifndef TESTS_UNIT_SIM_HARNESS_H
#define TESTS_UNIT_SIM_HARNESS_H

#include "sfu/core/keyframe_cache.h"
#include "sfu/core/nack_gen.h"
#include "sfu/core/rtcp_sr_rr.h"
#include "sfu/core/seq.h"
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

#include <stdlib.h>

#define NVIEW_MAX 24
#define PKTS_PER_FRAME 3
#define FRAME_US 33333
#define RING 4096
#define MAX_FRAMES 1024
#define FIRST_SEQ 65500             /* the 16-bit numbers wrap a few seconds in */
/* A viewer whose newest frame stays undecodable this long gives up on it
 * and sends a PLI, repeated while it stays stuck (a browser's jitter
 * buffer does about that). */
#define GIVE_UP SFU_MS(100)
#define PLI_REPEAT SFU_MS(200)
/* A freeze as browsers count one (WebRTC stats, freezeCount): a gap between
 * decoded frames longer than max(3 frames, 1 frame + 150 ms). */
#define FREEZE (FRAME_US + SFU_MS(150))
/* Freezes are counted on playout times: a frame plays PLAYOUT after it was
 * sent, or when it is decoded if that is later (a browser's jitter buffer
 * on a link with NACK holds about a round trip, 100 ms in Chromium while it
 * has no estimate). */
#define PLAYOUT SFU_MS(100)

/* One run's settings. Times are virtual microseconds. */
typedef struct scenario {
    int nview;
    int loss_pct;                   /* every link, both directions ... */
    sfu_time loss_from;             /* ... from then on (0: from the start) */
    sfu_time delay_base, jitter;    /* one way: base + uniform [0, jitter) */
    sfu_time kf_cache, kf_interval; /* the room's keyframe cache age and request interval */
    sfu_time bind_at[NVIEW_MAX];
    sfu_time pli_at[NVIEW_MAX];     /* a PLI repeated every 500 ms until a keyframe; 0 none */
    bool give_up_pli;               /* viewers PLI when stuck (GIVE_UP) */
    sfu_time storm_from, storm_to;  /* every viewer PLIs every 50 ms in between */
    sfu_time give_up;               /* GIVE_UP unless set */
    bool pub_clean;                 /* no loss on the publisher's link (the lab's set-up) */
    uint32_t max_rtx;               /* the room's max_rtx_per_second; 0 default */
    bool no_copies;                 /* the room's no_video_copies */
    int blackout;                   /* this viewer's link drops everything; -1 none */
    sfu_time blackout_from, blackout_to;
    sfu_time media_end, check_end, sim_end;
} scenario;

enum { PUB_LEG = 1, ALICE = 7, PUB_SSRC = 0x1234, PUB_RTX_SSRC = 0x1235 };
enum { TO_SFU = -1, TO_PUB = 0 };   /* viewers are 1..nview */

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
    uint64_t last_checked_seq;      /* the last packet sent before check_end */
    int npli;
    sfu_time pli_at[512];           /* PLIs that reached the publisher */
    int nkey;
    sfu_time key_sent_at[512];      /* keyframes it sent */
    uint64_t nacks, rtx_sent, twcc_fb, rr;
    sfu_time frame_at[MAX_FRAMES];  /* when each frame was sent */
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
    sfu_time key_after_pli;         /* first keyframe packet after pli_first */
    sfu_time storm_next;            /* the next PLI of a storm */
    uint64_t rtx_got, nacks_sent, plis_sent;
    /* Decoding, by frame index */
    uint8_t parts[MAX_FRAMES];      /* bit k: packet k of the frame arrived */
    bool key[MAX_FRAMES];
    bool decoded[MAX_FRAMES];
    uint32_t ts_out[MAX_FRAMES];
    int last_decoded;               /* -1 none */
    sfu_time first_decode_at, last_decode_at, decode_after_blackout;
    sfu_time max_decode_gap;        /* between two decodes, after the first */
    int freezes;                    /* playout gaps longer than FREEZE ... */
    sfu_time frozen;                /* ... and their total length */
    sfu_time last_play;
    sfu_time stuck_since;           /* NEVER unless a newer frame waits undecodable */
    /* RTCP reports: the SFU's last SR */
    uint32_t lsr;
    sfu_time lsr_at, next_rr;
} viewer;

typedef struct sim {
    const scenario *sc;
    uint64_t rng;
    sfu_time now;
    uint64_t order;
    ev *evs;
    size_t nevs, cap;
    sfu_buf_pool *pool;
    sfu_room *room;
    sfu_out out;
    pub p;
    viewer v[NVIEW_MAX];
    bool sfu_has[1 << 16];          /* by publisher seq16: reached the SFU once */
    uint64_t first_fwd_tag[NVIEW_MAX];
    bool fwd_started[NVIEW_MAX];
    uint64_t held_back;             /* new packets not forwarded in the same call */
    int nreq;
    sfu_time req_at[512];           /* keyframe requests the SFU sent */
    uint64_t delivered, lost;
    sfu_time copies_at;             /* a new video packet first went out twice */
} sim;

static inline uint64_t rnd(sim *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 0x2545F4914F6CDD1DULL;
}

static inline bool blacked_out(const sim *s, int to)
{
    return s->sc->blackout >= 0 && to == s->sc->blackout + 1 && s->now >= s->sc->blackout_from &&
           s->now < s->sc->blackout_to;
}

/* The link model: loss, then a random delay that reorders. */
static inline void send_on_link(sim *s, int to, sfu_leg_id from, bool rtcp, const uint8_t *d, size_t n)
{
    bool lossy = !s->sc->pub_clean || (to != TO_PUB && !(to == TO_SFU && from == PUB_LEG));
    lossy = lossy && s->now >= s->sc->loss_from;
    if ((lossy && (uint64_t)(rnd(s) % 100) < (uint64_t)s->sc->loss_pct) || blacked_out(s, to)) {
        s->lost++;
        return;
    }
    if (s->nevs == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->evs = realloc(s->evs, s->cap * sizeof *s->evs);
    }
    ev *e = &s->evs[s->nevs++];
    e->at = s->now + s->sc->delay_base + (s->sc->jitter ? (sfu_time)(rnd(s) % (uint64_t)s->sc->jitter) : 0);
    e->order = s->order++;
    e->to = to;
    e->from = from;
    e->rtcp = rtcp;
    e->len = (uint16_t)n;
    memcpy(e->data, d, n);
}

static inline sfu_leg_id view_leg(int i) { return (sfu_leg_id)(10 + i); }

/* Publisher: one packet of a frame, VP8 with a tag = its extended seq. */
static inline void pub_send_packet(sim *s, bool start, bool key, bool marker)
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
    if (s->now < s->sc->check_end)
        p->last_checked_seq = p->seq;
    p->seq++;
}

static inline void pub_frame(sim *s)
{
    pub *p = &s->p;
    bool key = p->want_key;
    p->want_key = false;
    if (key && p->nkey < 512)
        p->key_sent_at[p->nkey++] = s->now;
    uint64_t f = (p->seq - FIRST_SEQ) / PKTS_PER_FRAME;
    if (f < MAX_FRAMES)
        p->frame_at[f] = s->now;
    for (int k = 0; k < PKTS_PER_FRAME; k++)
        pub_send_packet(s, k == 0, key, k == PKTS_PER_FRAME - 1);
    p->picid = (p->picid + 1) & 0x7fff;
    p->ts += 3000;
    p->next_frame += FRAME_US;
}

static inline void pub_sr(sim *s)
{
    sfu_rtcp_sr sr = { .ssrc = PUB_SSRC, .ntp = (uint64_t)(3900000000u + s->now / 1000000) << 32,
                       .rtp_ts = s->p.ts };
    uint8_t b[64];
    int n = sfu_rtcp_sr_build(b, sizeof b, &sr);
    send_on_link(s, TO_SFU, PUB_LEG, true, b, (size_t)n);
    s->p.next_sr += SFU_SEC(1);
}

/* RFC 4588: the publisher resends a NACKed packet on its RTX stream. */
static inline void pub_resend(sim *s, uint16_t seq16)
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

static inline void pub_rtcp(sim *s, const uint8_t *d, size_t n)
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
            if (s->p.npli < 512)
                s->p.pli_at[s->p.npli++] = s->now;
        } else if (c.pt == SFU_RTCP_RTPFB && c.count == SFU_RTCP_FMT_TWCC) {
            s->p.twcc_fb++;
        } else if (c.pt == SFU_RTCP_RR) {
            s->p.rr++;
        }
    }
}

static inline bool frame_whole(const viewer *v, int f) { return v->parts[f] == (1u << PKTS_PER_FRAME) - 1; }

static inline void decode(sim *s, int i, int f)
{
    viewer *v = &s->v[i];
    v->decoded[f] = true;
    v->last_decoded = f;
    if (v->first_decode_at == SFU_TIME_NEVER)
        v->first_decode_at = s->now;
    else if (s->now - v->last_decode_at > v->max_decode_gap)
        v->max_decode_gap = s->now - v->last_decode_at;
    sfu_time play = s->p.frame_at[f] + PLAYOUT > s->now ? s->p.frame_at[f] + PLAYOUT : s->now;
    if (v->last_play && play - v->last_play > FREEZE) {
        if (getenv("SIM_DEBUG"))
            fprintf(stderr, "FREEZE viewer %d frame %d sent %lld decoded %lld gap %lld\n", i, f,
                    (long long)s->p.frame_at[f] / 1000, (long long)s->now / 1000,
                    (long long)(play - v->last_play) / 1000);
        v->freezes++;
        v->frozen += play - v->last_play;
    }
    if (play > v->last_play)
        v->last_play = play;
    v->last_decode_at = s->now;
    if (i == s->sc->blackout && s->now >= s->sc->blackout_to && v->decode_after_blackout == SFU_TIME_NEVER)
        v->decode_after_blackout = s->now;
    v->stuck_since = SFU_TIME_NEVER;
    if (s->sc->give_up_pli)
        v->pli_next = SFU_TIME_NEVER;
}

/* A whole keyframe decodes at once; then every whole frame that follows. */
static inline void try_decode(sim *s, int i, int f)
{
    viewer *v = &s->v[i];
    if (f > v->last_decoded && frame_whole(v, f) && v->key[f])
        decode(s, i, f);
    while (v->last_decoded >= 0 && v->last_decoded + 1 < MAX_FRAMES && frame_whole(v, v->last_decoded + 1))
        decode(s, i, v->last_decoded + 1);
    if (f > v->last_decoded && v->stuck_since == SFU_TIME_NEVER)
        v->stuck_since = s->now;
}

static inline void view_rtp(sim *s, int i, const uint8_t *d, size_t n)
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
    if (vd.keyframe && v->pli_next != SFU_TIME_NEVER && s->now > v->pli_first && !s->sc->give_up_pli) {
        v->pli_next = SFU_TIME_NEVER; /* the keyframe it asked for */
        if (v->key_after_pli == SFU_TIME_NEVER)
            v->key_after_pli = s->now;
    }
    int f = (int)((tag - FIRST_SEQ) / PKTS_PER_FRAME);
    if (f < 0 || f >= MAX_FRAMES)
        return;
    v->parts[f] |= (uint8_t)(1u << ((tag - FIRST_SEQ) % PKTS_PER_FRAME));
    v->key[f] |= vd.keyframe;
    v->ts_out[f] = h.ts;
    try_decode(s, i, f);
}

static inline void view_rtcp(sim *s, int i, const uint8_t *d, size_t n)
{
    size_t off = 0;
    sfu_rtcp_common c;
    sfu_rtcp_sr sr;
    while (sfu_rtcp_next(d, n, &off, &c) == 1) {
        if (c.pt == SFU_RTCP_SR && sfu_rtcp_sr_parse(&c, &sr) == 0 && sr.ssrc == s->v[i].ssrc) {
            s->v[i].lsr = sfu_ntp_mid32(sr.ntp);
            s->v[i].lsr_at = s->now;
        }
    }
}

static inline void view_pli(sim *s, int i)
{
    viewer *v = &s->v[i];
    uint8_t b[64];
    int len = sfu_rtcp_pli_build(b, sizeof b, 0x900 + (uint32_t)i, v->ssrc);
    send_on_link(s, TO_SFU, v->leg, true, b, (size_t)len);
    v->plis_sent++;
}

static inline sfu_time give_up(const sim *s) { return s->sc->give_up ? s->sc->give_up : GIVE_UP; }

static inline bool storming(const sim *s)
{
    return s->now >= s->sc->storm_from && s->now < s->sc->storm_to;
}

static inline void view_timeout(sim *s, int i)
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
        if (getenv("SIM_DEBUG"))
            for (size_t k = 0; k < n; k++)
                fprintf(stderr, "NACK viewer %d at %lld seq %llu\n", i, (long long)s->now / 1000,
                        (unsigned long long)seqs[k]);
        send_on_link(s, TO_SFU, v->leg, true, b, (size_t)len);
        v->nacks_sent++;
    }
    if (s->sc->give_up_pli && v->stuck_since != SFU_TIME_NEVER && s->now - v->stuck_since >= give_up(s) &&
        (v->pli_next == SFU_TIME_NEVER || v->pli_next <= s->now)) {
        view_pli(s, i); /* the jitter buffer gave up on its newest frame */
        v->pli_next = s->now + PLI_REPEAT;
    } else if (!s->sc->give_up_pli && v->pli_next <= s->now) {
        view_pli(s, i); /* browsers repeat a PLI until the keyframe */
        v->pli_next = s->now + SFU_MS(500);
    }
    if (storming(s) && v->bound && v->storm_next <= s->now) {
        view_pli(s, i);
        v->storm_next = s->now + SFU_MS(50);
    }
    if (v->bound && v->next_rr <= s->now) { /* RFC 3550 6.4.2, with LSR/DLSR for the RTT */
        sfu_rtcp_rr rr = { .ssrc = 0x900 + (uint32_t)i, .report_count = 1 };
        rr.reports[0] = (sfu_rtcp_report_block){ .ssrc = v->ssrc, .lsr = v->lsr,
            .dlsr = v->lsr ? sfu_rtcp_dlsr_from_us(s->now - v->lsr_at) : 0 };
        int len = sfu_rtcp_rr_build(b, sizeof b, &rr);
        send_on_link(s, TO_SFU, v->leg, true, b, (size_t)len);
        v->next_rr = s->now + SFU_SEC(1);
    }
}

static inline sfu_time view_deadline(const sim *s, const viewer *v)
{
    sfu_time t = sfu_nack_gen_poll_timeout(&v->ng);
    if (v->pli_next < t)
        t = v->pli_next;
    if (s->sc->give_up_pli && v->stuck_since != SFU_TIME_NEVER) {
        sfu_time g = v->stuck_since + give_up(s);
        if (v->pli_next != SFU_TIME_NEVER && v->pli_next > g)
            g = v->pli_next;
        if (g < t)
            t = g;
    }
    if (v->bound && v->next_rr < t)
        t = v->next_rr;
    if (v->bound && v->storm_next < s->sc->storm_to && v->storm_next < t)
        t = v->storm_next < s->now ? s->now : v->storm_next;
    if (!v->bound && v->bind_at < t)
        t = v->bind_at;
    return t;
}

/* Drains the room's outputs onto the links, checking what was forwarded. */
static inline void drain(sim *s)
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
                    if (c.pt == SFU_RTCP_PSFB && s->nreq < 512)
                        s->req_at[s->nreq++] = s->now;
            }
            send_on_link(s, TO_PUB, 0, it->type == SFU_OUT_RTCP, b, (size_t)n);
            continue;
        }
        for (int i = 0; i < s->sc->nview; i++)
            if (it->leg == s->v[i].leg)
                send_on_link(s, i + 1, 0, it->type == SFU_OUT_RTCP, b, (size_t)n);
        /* a new packet (not a retransmission) sent twice: the copies of
         * sink_repair.h are on */
        if (s->copies_at == SFU_TIME_NEVER && k > 0 && it->type == SFU_OUT_RTP &&
            s->out.items[k - 1].type == SFU_OUT_RTP && s->out.items[k - 1].leg == it->leg) {
            uint8_t prev[1600];
            sfu_rtp_hdr h;
            int pn = sfu_out_item_flatten(&s->out.items[k - 1], prev, sizeof prev);
            if (pn == n && memcmp(prev, b, (size_t)n) == 0 && sfu_rtp_parse(b, (size_t)n, &h) == 0 &&
                h.pt != VIEW_RTX_PT)
                s->copies_at = s->now;
        }
    }
    sfu_out_reset(&s->out);
}

/* The original seq16 and tag of a publisher packet (RTX unwrapped). */
static inline bool pub_packet_id(const uint8_t *d, size_t n, uint16_t *seq16, uint32_t *tag)
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

/* Forwarding is immediate: a packet new to the SFU goes out to every viewer
 * that has started, in the same call. */
static inline void sfu_rtp_in(sim *s, const ev *e)
{
    uint16_t seq16 = 0;
    uint32_t tag = 0;
    bool is_pub = e->from == PUB_LEG && pub_packet_id(e->data, e->len, &seq16, &tag);
    bool fresh = is_pub && !s->sfu_has[seq16];
    if (is_pub)
        s->sfu_has[seq16] = true;
    sfu_buf *b = sfu_buf_alloc(s->pool);
    memcpy(b->data, e->data, e->len);
    b->len = e->len;
    sfu_room_handle_rtp(s->room, e->from, b, s->now, &s->out);
    sfu_buf_unref(b);
    for (int i = 0; fresh && i < s->sc->nview; i++) {
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

static inline void deliver(sim *s, const ev *e)
{
    s->delivered++;
    if (e->to == TO_SFU) {
        if (e->rtcp)
            sfu_room_handle_rtcp(s->room, e->from, e->data, e->len, s->now, &s->out);
        else
            sfu_rtp_in(s, e);
        drain(s);
    } else if (e->to == TO_PUB) {
        if (e->rtcp)
            pub_rtcp(s, e->data, e->len);
    } else if (e->rtcp) {
        view_rtcp(s, e->to - 1, e->data, e->len);
    } else {
        view_rtp(s, e->to - 1, e->data, e->len);
    }
}

static inline sfu_time min_t(sfu_time a, sfu_time b) { return a < b ? a : b; }

static inline sfu_time next_time(const sim *s, size_t *evi)
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
    if (s->p.next_frame < s->sc->media_end)
        t = min_t(t, s->p.next_frame);
    t = min_t(t, s->p.next_sr);
    for (int i = 0; i < s->sc->nview; i++)
        t = min_t(t, view_deadline(s, &s->v[i]));
    return t;
}

static inline int sim_setup(sim *s, const scenario *sc)
{
    memset(s, 0, sizeof *s);
    s->sc = sc;
    s->rng = 0x5eed5eed12345ULL;
    const char *seed = getenv("SIM_SEED"); /* to explore other seeds by hand */
    if (seed)
        s->rng = strtoull(seed, NULL, 0) | 1;
    s->pool = sfu_buf_pool_new(8192);
    sfu_room_config cfg = { .max_legs = NVIEW_MAX + 2, .liveness_timeout = SFU_SEC(30),
                            .rtx_cache_packets = 1024, .keyframe_min_interval = sc->kf_interval,
                            .keyframe_cache_max_age = sc->kf_cache, .max_rtx_per_second = sc->max_rtx,
                            .no_video_copies = sc->no_copies };
    s->room = sfu_room_new(&cfg);
    if (!s->pool || !s->room || sfu_out_init(&s->out, 4096) < 0)
        return -1;
    sfu_track_desc pv = fx_pub_video("0");
    sfu_leg_desc pl = fx_leg(0xAAAA, &pv, 1);
    if (sfu_room_add_leg(s->room, PUB_LEG, ALICE, &pl, 0) < 0)
        return -1;
    for (int i = 0; i < sc->nview; i++) {
        viewer *v = &s->v[i];
        v->leg = view_leg(i);
        v->ssrc = 0x50000 + 0x100 * (uint32_t)i;
        v->bind_at = sc->bind_at[i];
        v->pli_first = v->pli_next = sc->pli_at[i] ? sc->pli_at[i] : SFU_TIME_NEVER;
        v->key_after_pli = SFU_TIME_NEVER;
        v->storm_next = sc->storm_to > 0 ? sc->storm_from : SFU_TIME_NEVER;
        v->last_decoded = -1;
        v->first_decode_at = v->decode_after_blackout = v->stuck_since = SFU_TIME_NEVER;
        sfu_nack_gen_init(&v->ng, NULL);
        sfu_track_desc vv = fx_view_video("v", v->ssrc);
        sfu_leg_desc vl = fx_leg(0xB000 + (uint32_t)i, &vv, 1);
        if (sfu_room_add_leg(s->room, v->leg, 100 + (uint32_t)i, &vl, 0) < 0)
            return -1;
    }
    s->copies_at = SFU_TIME_NEVER;
    s->p.seq = FIRST_SEQ;
    s->p.want_key = true;
    s->p.next_sr = SFU_MS(500);
    return 0;
}

static inline void sim_step(sim *s)
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
    for (int i = 0; i < s->sc->nview; i++) {
        viewer *v = &s->v[i];
        if (!v->bound && v->bind_at <= s->now) {
            v->bound = true;
            sfu_room_bind(s->room, v->leg, "v", ALICE, s->now, &s->out);
            drain(s);
        }
        view_timeout(s, i);
    }
    if (s->p.next_frame <= s->now && s->p.next_frame < s->sc->media_end)
        pub_frame(s);
    if (s->p.next_sr <= s->now)
        pub_sr(s);
    if (sfu_room_poll_timeout(s->room) <= s->now) {
        sfu_room_handle_timeout(s->room, s->now, &s->out);
        drain(s);
    }
}

static inline void sim_run(sim *s)
{
    while (s->now < s->sc->sim_end)
        sim_step(s);
}

/* Returns the buffers still in use once the room is gone (0: no leak). */
static inline uint32_t sim_free(sim *s)
{
    free(s->evs);
    sfu_out_deinit(&s->out);
    sfu_room_free(s->room);
    uint32_t in_use = s->pool ? sfu_buf_pool_in_use(s->pool) : 0;
    sfu_buf_pool_free(s->pool);
    return in_use;
}

/* The most of `n` sorted times in any 1 s window. */
static inline int max_per_second(const sfu_time *at, int count)
{
    int most = 0;
    for (int a = 0; a < count; a++) {
        int n = 0;
        for (int b = a; b < count && at[b] < at[a] + SFU_SEC(1); b++)
            n++;
        if (n > most)
            most = n;
    }
    return most;
}

/* Every packet the viewer got carries the payload its sequence number says;
 * every frame from its first decoded one to the last checked one was decoded,
 * unless a later keyframe was (NACKs for packets before a keyframe the
 * viewer was sent are not answered: it decodes from the keyframe). Output
 * timestamps grow with the frames. */
static inline int check_viewer(const sim *s, int i)
{
    const viewer *v = &s->v[i];
    ASSERT(v->any);
    ASSERT_GE(v->last_decoded, 0);
    uint64_t wrong = 0;
    for (uint64_t tag = v->min_tag; tag <= s->p.last_checked_seq; tag++) {
        uint64_t e = v->min_ext + (tag - v->min_tag);
        if (v->got[e & 0xffff] && v->tag[e & 0xffff] != (uint32_t)tag)
            wrong++;
    }
    if (wrong)
        TEST_FAIL_("viewer %d: %llu packets with the wrong payload", i, (unsigned long long)wrong);
    int last = (int)((s->p.last_checked_seq - FIRST_SEQ) / PKTS_PER_FRAME);
    int first = -1, undecoded = 0;
    for (int f = last; f >= 0; f--)
        if (v->decoded[f])
            first = f;
    for (int f = first; f >= 0 && f <= last; f++) {
        bool excused = false;
        for (int k = f + 1; k <= last && !excused; k++)
            excused = v->decoded[k] && v->key[k];
        if (!v->decoded[f] && !excused) {
            undecoded++;
            if (getenv("SIM_DEBUG"))
                fprintf(stderr, "  viewer %d: frame %d never decoded (parts %x)\n", i, f, v->parts[f]);
        }
    }
    if (undecoded)
        TEST_FAIL_("viewer %d: %d frames between %d and %d not decoded", i, undecoded, first, last);
    int prev = -1;
    for (int f = first; f >= 0 && f <= last; f++) {
        if (!v->decoded[f])
            continue;
        if (prev >= 0 && (int32_t)(v->ts_out[f] - v->ts_out[prev]) <= 0)
            TEST_FAIL_("viewer %d: frame %d timestamp %u not after frame %d's %u", i, f, v->ts_out[f], prev,
                       v->ts_out[prev]);
        prev = f;
    }
    return 0;
}

static inline void print_run(const char *name, const sim *s)
{
    const sfu_room_stats *st = sfu_room_stats_get(s->room);
    printf("  %s: %llu delivered, %llu lost; sfu: %llu fwd, %llu rtx, %llu nacks sent, %llu plis sent,"
           " %llu replays (%llu packets), %llu useless NACKed packets refused; publisher resent %llu,"
           " got %d PLIs (the SFU sent at most %d in 1 s)\n",
           name, (unsigned long long)s->delivered, (unsigned long long)s->lost,
           (unsigned long long)st->forwarded, (unsigned long long)st->retransmitted,
           (unsigned long long)st->nacks_sent, (unsigned long long)st->plis_sent,
           (unsigned long long)st->keyframe_replays, (unsigned long long)st->keyframe_replay_packets,
           (unsigned long long)st->drops[SFU_DROP_RTX_USELESS], (unsigned long long)s->p.rtx_sent,
           s->p.npli, max_per_second(s->req_at, s->nreq));
}

/* The bound on keyframe requests toward a publisher: one per interval. */
static inline int check_request_spacing(const sim *s)
{
    for (int k = 1; k < s->nreq; k++)
        if (s->req_at[k] - s->req_at[k - 1] < s->sc->kf_interval)
            TEST_FAIL_("keyframe requests at %lld and %lld us: closer than %lld", (long long)s->req_at[k - 1],
                       (long long)s->req_at[k], (long long)s->sc->kf_interval);
    return 0;
}

static inline scenario base_scenario(void)
{
    return (scenario){ .nview = 3, .loss_pct = 5, .delay_base = SFU_MS(20), .jitter = SFU_MS(30),
                       .kf_cache = SFU_SEC(1), .kf_interval = SFU_MS(250), .blackout = -1,
                       .media_end = SFU_SEC(12), .check_end = SFU_SEC(10), .sim_end = SFU_SEC(14) };
}

#endif
