/* Shared by test_room_bwe.c and test_room_bwe_repair.c: a simulcast
 * publisher (about 150k/500k/1.2M) and one viewer that negotiated
 * transport-cc, behind a drop-tail bottleneck or a policer whose capacity
 * changes, on a virtual clock. The viewer's feedback is built from what
 * actually crossed the bottleneck (sfu_twcc_build_all) and handed back to
 * the room; run() checks after every input that the room's kept deadline
 * is the one a full scan finds. */
#ifndef TESTS_ROOM_BWE_RIG_H
#define TESTS_ROOM_BWE_RIG_H

#include "sfu/core/rtcp_fb.h"
#include "sfu/core/rtcp_twcc.h"
#include "tests/unit/room_fixture.h"

#include <stdio.h>
#include <stdlib.h>

enum { PUB = 1, VIEW = 2, ALICE = 100, BOB = 200, VIEW_SSRC = 0x5000, EXT_RID = 6, VIEW_EXT_TWCC = 5, NL = 3 };

static const char *const rids[NL] = { "q", "h", "f" };
/* Bytes of payload per 10 ms tick and layer: 2 packets each. */
static const uint16_t tick_bytes[NL] = { 90, 300, 720 };

#define ONE_WAY SFU_MS(25)
#define QUEUE_MAX SFU_MS(300)
#define MAX_ARR 4096

typedef struct link {
    uint64_t bps;
    bool police;                /* a token bucket (a second at its rate + 12 kB, as nftables) instead of the queue */
    double tokens;
    sfu_time tokens_at;
    sfu_time free_at;           /* the bottleneck is busy until then */
    sfu_twcc_arrival arr[MAX_ARR];
    size_t narr;
    bool have_base;
    sfu_twcc_build_args args;
    uint64_t dropped, passed, padding;
    uint64_t media_dropped;     /* of them, the viewer's media SSRC (no RTX, no probe) */
    /* The viewer as Chromium: its SRTP replay check drops a second copy of
     * a packet (same SSRC and sequence number) before it records the
     * transport-wide number; with `nack` it NACKs what is missing (each
     * number up to NACK_TRIES times, every feedback interval). */
    bool nack;
    uint8_t got[2][65536];      /* media, RTX: by sequence number */
    uint16_t tseq_of[65536];    /* media: the transport-wide number it came with */
    uint8_t nacks[65536];
    bool have_highest;
    uint16_t highest;
    uint64_t replayed, renumbered_copies, nack_packets;
} link;

#define NACK_TRIES 5
#define NACK_SPAN 300               /* how far back the viewer looks for gaps */

typedef struct rig {
    sfu_buf_pool *pool;
    sfu_room *room;
    sfu_out out;
    uint16_t seq[NL];
    uint16_t picid[NL];
    link l;
    uint64_t steps, steps_at_want;  /* of run(): 5 ms steps, and those on `want` */
    bool deaf;                  /* the viewer sends no feedback */
    bool tl;                    /* VP8 temporal layers: pictures 0, 2, 1, 2, ... */
    uint64_t steps_all_tids;    /* of run(): steps with every temporal layer forwarded */
    int nl;                     /* layers the publisher sends: NL, or 1 for a plain stream */
    int max_q;                  /* of run(): the highest layer the viewer was on */
    int max_target;             /* of run(): the highest layer it was switching to */
} rig;

/* The viewer's leg, bound to the publisher's video at `now`. */
static inline int rig_join(rig *r, sfu_time now)
{
    sfu_track_desc vv = fx_view_video("v", VIEW_SSRC);
    vv.ext.twcc = VIEW_EXT_TWCC;
    vv.fb_twcc = true;
    sfu_leg_desc view = fx_leg(0xA2, &vv, 1);
    if (sfu_room_add_leg(r->room, VIEW, BOB, &view, now) < 0)
        return -1;
    r->l.args = (sfu_twcc_build_args){ .sender_ssrc = 0xB0B, .media_ssrc = VIEW_SSRC };
    return sfu_room_bind(r->room, VIEW, "v", ALICE, now, &r->out);
}

/* The publisher of nl layers alone (rig_join adds the viewer). */
static inline int rig_open_publisher(rig *r, int nl)
{
    memset(r, 0, sizeof *r);
    r->max_q = -1;
    r->nl = nl;
    sfu_room_config cfg = { .max_legs = 4, .liveness_timeout = SFU_SEC(600), .rtx_cache_packets = 128,
                            .keyframe_min_interval = SFU_MS(100) };
    r->pool = sfu_buf_pool_new(4096);
    r->room = sfu_room_new(&cfg);
    if (!r->pool || !r->room || sfu_out_init(&r->out, 1024) < 0)
        return -1;
    sfu_track_desc pv = fx_pub_video("0");
    pv.ext.rid = EXT_RID;
    pv.nlayers = (uint8_t)nl;
    for (int l = 0; l < nl; l++)
        strcpy(pv.layers[l].rid, rids[l]);
    sfu_leg_desc pub = fx_leg(0xA1, &pv, 1);
    return sfu_room_add_leg(r->room, PUB, ALICE, &pub, 0);
}

static inline int rig_open_late(rig *r) { return rig_open_publisher(r, NL); }

/* The publisher and a bound viewer with transport-cc. */
static inline int rig_open_layers(rig *r, int nl)
{
    if (rig_open_publisher(r, nl) < 0)
        return -1;
    sfu_track_desc vv = fx_view_video("v", VIEW_SSRC);
    vv.ext.twcc = VIEW_EXT_TWCC;
    vv.fb_twcc = true;
    sfu_leg_desc view = fx_leg(0xA2, &vv, 1);
    if (sfu_room_add_leg(r->room, VIEW, BOB, &view, 0) < 0)
        return -1;
    r->l.args = (sfu_twcc_build_args){ .sender_ssrc = 0xB0B, .media_ssrc = VIEW_SSRC };
    return sfu_room_bind(r->room, VIEW, "v", ALICE, 0, &r->out);
}

static inline int rig_open(rig *r) { return rig_open_layers(r, NL); }

static inline void rig_close(rig *r)
{
    sfu_out_deinit(&r->out);
    sfu_room_free(r->room);
    if (sfu_buf_pool_in_use(r->pool))
        fprintf(stderr, "  leaked %u buffers\n", sfu_buf_pool_in_use(r->pool));
    sfu_buf_pool_free(r->pool);
}

/* One picture of layer l in two packets; a keyframe every 500 ms. */
static inline int send_picture(rig *r, int l, bool key, sfu_time now)
{
    uint16_t pic = r->picid[l]++;
    static const uint8_t tid_of[4] = { 0, 2, 1, 2 };
    for (int k = 0; k < 2; k++) {
        uint16_t seq = r->seq[l]++;
        uint8_t pl[800] = { (uint8_t)(k == 0 ? 0x90 : 0x80), r->tl ? 0xa0 : 0x80, (uint8_t)(0x80 | (pic >> 8 & 0x7f)),
                            (uint8_t)pic };
        size_t dl = 4;
        if (r->tl) {
            uint8_t tid = key ? 0 : tid_of[pic % 4];
            pl[dl++] = (uint8_t)(tid << 6 | (tid == 1 ? 0x20 : 0)); /* TID, Y on TL1 */
        }
        if (k == 0) {
            uint8_t hdr[10] = { key ? 0x10 : 0x11, 0x02, 0x00, 0x9d, 0x01, 0x2a, (uint8_t)(160 << l),
                                (uint8_t)((160 << l) >> 8), 0x10, 0x00 };
            memcpy(pl + dl, hdr, sizeof hdr);
        }
        size_t len = dl + tick_bytes[l];
        sfu_buf *b = sfu_buf_alloc(r->pool);
        if (!b)
            return -1;
        sfu_rtp_ext_out ext[2] = { { EXT_MID, 1, (const uint8_t *)"0" },
                                   { EXT_RID, (uint8_t)strlen(rids[l]), (const uint8_t *)rids[l] } };
        sfu_rtp_header_out h = { k == 1, PUB_PT, seq, (uint32_t)pic * 900u, 0x100 + (uint32_t)l, 2, ext };
        int hl = sfu_rtp_write_header(b->data, SFU_BUF_CAP, &h);
        memcpy(b->data + hl, pl, len);
        b->len = (uint16_t)(hl + len);
        int rc = sfu_room_handle_rtp(r->room, PUB, b, now, &r->out);
        sfu_buf_unref(b);
        if (rc < 0) {
            fprintf(stderr, "  rtp rc %d\n", rc);
            return rc;
        }
    }
    return 0;
}

/* A packet that got through the policer reaches the viewer: false for a
 * copy its SRTP replay check drops. */
static inline bool receive(link *l, const fx_seen *s, uint16_t tseq)
{
    int rtx = s->h.ssrc == VIEW_SSRC + 1;
    if (s->h.ssrc != VIEW_SSRC && !rtx)
        return true;
    uint16_t seq = s->h.seq16;
    if (l->got[rtx][seq]) {
        l->replayed++;
        if (!rtx && l->tseq_of[seq] != tseq)
            l->renumbered_copies++; /* a number the viewer can never report */
        return false;
    }
    l->got[rtx][seq] = 1;
    if (!rtx) {
        l->tseq_of[seq] = tseq;
        l->nacks[seq] = 0;
        if (!l->have_highest || (int16_t)(seq - l->highest) > 0) {
            for (uint16_t q = (uint16_t)(seq + 1); l->have_highest && q != (uint16_t)(seq + NACK_SPAN); q++)
                l->got[0][q] = 0; /* numbers ahead: not yet received */
            l->highest = seq;
            l->have_highest = true;
        }
    } else if (s->h.payload_len >= 2) {
        uint16_t osn = sfu_rd16(s->bytes + s->h.payload_off); /* RFC 4588: the original's number */
        l->got[0][osn] = 1;
    }
    return true;
}

/* The viewer's NACK of what is missing behind its highest number. */
static inline int nack(rig *r, sfu_time now)
{
    link *l = &r->l;
    if (!l->nack || !l->have_highest)
        return 0;
    uint16_t miss[64];
    size_t n = 0;
    for (uint16_t k = NACK_SPAN; k > 0 && n < SFU_ARRAY_LEN(miss); k--) {
        uint16_t q = (uint16_t)(l->highest - k);
        if (l->got[0][q] || l->nacks[q] >= NACK_TRIES)
            continue;
        l->nacks[q]++;
        miss[n++] = q;
    }
    if (!n)
        return 0;
    uint8_t buf[512];
    int len = sfu_rtcp_nack_build(buf, sizeof buf, 0xB0B, VIEW_SSRC, miss, n);
    if (len < 0)
        return len;
    l->nack_packets++;
    return sfu_room_handle_rtcp(r->room, VIEW, buf, (size_t)len, now, &r->out);
}

/* What the room sent the viewer goes through the bottleneck. */
static inline int drain(rig *r, sfu_time now)
{
    for (uint32_t i = 0; i < r->out.count; i++) {
        const sfu_out_item *it = &r->out.items[i];
        fx_seen s;
        if (it->type != SFU_OUT_RTP || it->leg != VIEW)
            continue;
        if (fx_read_rtp(it, &s) < 0)
            return -1;
        uint8_t len;
        const uint8_t *tw = sfu_rtp_ext_find(&s.h, s.bytes, VIEW_EXT_TWCC, &len);
        if (!tw || len != 2)
            return -2; /* every packet to this viewer carries a number */
        if (s.h.payload_len == 0)
            r->l.padding++;
        uint16_t tseq = sfu_rd16(tw);
        link *l = &r->l;
        if (!l->have_base) {
            l->args.base_seq16 = tseq;
            l->have_base = true;
        }
        if (l->police) {
            l->tokens += (double)(now - l->tokens_at) * (double)l->bps / 8 / SFU_SEC(1);
            l->tokens_at = now;
            /* nftables' byte limit holds a second at its rate on top of
             * the burst (nft_limit.c: tokens_max = unit * (rate + burst) / rate). */
            if (l->tokens > (double)l->bps / 8 + 12000)
                l->tokens = (double)l->bps / 8 + 12000;
            if (l->tokens < s.len + 10) {
                l->dropped++;
                l->media_dropped += s.h.ssrc == VIEW_SSRC;
                continue;
            }
            l->tokens -= s.len + 10;
            l->passed++;
            if (!receive(l, &s, tseq))
                continue; /* a replayed copy: no number recorded */
            if (l->narr == MAX_ARR)
                return -3;
            l->arr[l->narr++] = (sfu_twcc_arrival){ tseq, now + ONE_WAY };
            continue;
        }
        sfu_time start = l->free_at > now ? l->free_at : now;
        if (start - now > QUEUE_MAX) {
            l->dropped++;
            continue;
        }
        l->free_at = start + (sfu_time)((uint64_t)(s.len + 10) * 8 * SFU_SEC(1) / l->bps);
        if (l->narr == MAX_ARR)
            return -3;
        l->arr[l->narr++] = (sfu_twcc_arrival){ tseq, l->free_at + ONE_WAY };
        l->passed++;
    }
    sfu_out_reset(&r->out);
    return 0;
}

/* The viewer's feedback on what has arrived by now (it reaches the SFU
 * ONE_WAY later: handed over at once, with `now` as its time). */
static inline int feedback(rig *r, sfu_time now)
{
    link *l = &r->l;
    size_t n = 0;
    while (n < l->narr && l->arr[n].arrival <= now)
        n++;
    if (!n)
        return 0;
    uint8_t buf[8192];
    int len = sfu_twcc_build_all(buf, sizeof buf, 1200, &l->args, l->arr, n);
    if (len < 0)
        return len;
    memmove(l->arr, l->arr + n, (l->narr - n) * sizeof l->arr[0]);
    l->narr -= n;
    return sfu_room_handle_rtcp(r->room, VIEW, buf, (size_t)len, now, &r->out);
}

static inline int quality(const rig *r, uint32_t *limit)
{
    sfu_room_sink_layer s;
    if (sfu_room_sink_layer_get(r->room, VIEW, "v", &s) < 0)
        return -9;
    *limit = s.limit_bps;
    return s.current;
}

/* Runs [from, to) at `bps`; returns when `until` says so (first time the
 * layer is `want`), -1 when never. */
static inline sfu_time run(rig *r, sfu_time *now, sfu_time to, uint64_t bps, int want, int *err)
{
    r->l.bps = bps;
    sfu_time reached = -1;
    sfu_time next_fb = *now + SFU_MS(100);
    for (; *now < to; *now += SFU_MS(5)) {
        if (*now % SFU_MS(10) == 0)
            for (int l = 0; l < r->nl; l++)
                if (send_picture(r, l, *now % SFU_MS(500) == 0, *now) < 0 && !*err) {
                    fprintf(stderr, "  send_picture failed at %lld\n", (long long)*now);
                    *err = 1;
                }
        /* The deadline kept up to date by the inputs is the one a scan finds
         * (test_room_deadline.c): probes and feedback move it here. */
        if (sfu_room_poll_timeout(r->room) != sfu_room_poll_timeout_rescan(r->room) && !*err)
            *err = 20;
        if (*now >= sfu_room_poll_timeout(r->room))
            sfu_room_handle_timeout(r->room, *now, &r->out);
        if (*now >= next_fb && !r->deaf) {
            if (feedback(r, *now) < 0)
                *err = 2;
            if (nack(r, *now) < 0)
                *err = 3;
            next_fb = *now + SFU_MS(100);
        }
        if (sfu_room_poll_timeout(r->room) != sfu_room_poll_timeout_rescan(r->room) && !*err)
            *err = 21;
        int rc = drain(r, *now);
        if (rc < 0)
            *err = 10 - rc;
        uint32_t limit = 0;
        int q = quality(r, &limit);
        if (reached < 0 && q == want)
            reached = *now;
        r->steps++;
        r->steps_at_want += q == want;
        if (q > r->max_q)
            r->max_q = q;
        sfu_room_sink_layer sl;
        if (sfu_room_sink_layer_get(r->room, VIEW, "v", &sl) == 0) {
            r->steps_all_tids += sl.max_tid >= 3;
            if (sl.target != q && sl.target > r->max_target)
                r->max_target = sl.target;
        }
    }
    return reached;
}

#endif
