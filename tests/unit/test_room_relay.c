/* Two rooms wired as a relay leg (docs/ARCHITECTURE.md, "Relay legs"): on
 * the owner A the leg is a viewer of the publisher, on the pulling node B a
 * publisher whose viewers B serves. A starts its end first: what it sends
 * before B has its keys (the join replay of A's cached keyframe) is lost,
 * as B's relay socket drops it (no_keys). B's viewers must still start on
 * a whole keyframe, in order, as soon as they are bound. */
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

#include <stdlib.h>

enum { A_PUB = 1, A_LEG = 2, B_LEG = 1, B_VIEW = 2, ALICE = 100, BOB = 200, CAROL = 300 };
enum { PUB_SSRC = 0x1111, LEG_SSRC = 0x7000, VIEW_SSRC = 0x9000 };
enum { KEY_PACKETS = 8, INTER_PACKETS = 2, FRAME_US = 33333 };

static const sfu_room_config cfg = {
    .max_legs = 8, .liveness_timeout = SFU_SEC(5), .rtx_cache_packets = 512,
    .keyframe_min_interval = SFU_MS(250), .keyframe_cache_max_age = SFU_SEC(1),
};

typedef struct view_pkt {
    uint16_t seq16;
    uint32_t ts;
    bool marker, start, key;
    sfu_time at;
} view_pkt;

typedef struct wire {
    sfu_buf_pool *pool;
    sfu_room *a, *b;
    sfu_out out_a, out_b;       /* what each room sent */
    bool b_started;             /* B has its keys: A's datagrams reach it */
    uint64_t lost_before_start; /* A's leg packets sent into the void */
    int plis_to_pub;            /* keyframe requests that reached the publisher */
    bool pub_key_wanted;
    uint16_t seq16;             /* the publisher's */
    uint32_t frame;
    view_pkt got[256];          /* what B's viewer got on its media SSRC (not RTX) */
    int ngot;
} wire;

static int count_plis(const sfu_out_item *it)
{
    int n = 0;
    size_t off = 0;
    sfu_rtcp_common c;
    while (sfu_rtcp_next(it->head, it->head_len, &off, &c) == 1)
        n += c.pt == SFU_RTCP_PSFB && c.count == SFU_RTCP_FMT_PLI;
    return n;
}

/* One datagram a room sent, to where it goes. */
static int deliver(wire *w, bool from_a, const sfu_out_item *it, sfu_time now)
{
    sfu_buf *b = sfu_buf_alloc(w->pool);
    if (!b)
        return -SFU_ENOMEM;
    int len = sfu_out_item_flatten(it, b->data, SFU_BUF_CAP);
    if (len < 0) {
        sfu_buf_unref(b);
        return len;
    }
    b->len = (uint16_t)len;
    int rc = 0;
    if (from_a && it->leg == A_PUB) {
        if (it->type == SFU_OUT_RTCP && count_plis(it) > 0) {
            w->plis_to_pub++;
            w->pub_key_wanted = true;
        }
    } else if (from_a && it->leg == A_LEG) {
        if (!w->b_started)
            w->lost_before_start++;
        else if (it->type == SFU_OUT_RTP)
            rc = sfu_room_handle_rtp(w->b, B_LEG, b, now, &w->out_b);
        else if (it->type == SFU_OUT_RTCP)
            sfu_room_handle_rtcp(w->b, B_LEG, b->data, b->len, now, &w->out_b);
    } else if (!from_a && it->leg == B_LEG && it->type == SFU_OUT_RTCP) {
        sfu_room_handle_rtcp(w->a, A_LEG, b->data, b->len, now, &w->out_a);
    } else if (!from_a && it->leg == B_VIEW && it->type == SFU_OUT_RTP) {
        sfu_rtp_hdr h;
        sfu_vp8_desc d;
        if (sfu_rtp_parse(b->data, b->len, &h) == 0 && h.ssrc == VIEW_SSRC && w->ngot < 256 &&
            sfu_vp8_parse(b->data + h.payload_off, h.payload_len, &d) == 0)
            w->got[w->ngot++] = (view_pkt){ h.seq16, h.ts, h.marker, d.start && d.pid == 0, d.keyframe, now };
    }
    sfu_buf_unref(b);
    return rc < 0 ? rc : 0;
}

/* Everything either room sent arrives at once (no delay, no loss). */
static int pump(wire *w, sfu_time now)
{
    for (int round = 0; round < 64; round++) {
        if (w->out_a.count == 0 && w->out_b.count == 0)
            return 0;
        for (uint32_t i = 0; i < w->out_a.count; i++)
            if (deliver(w, true, &w->out_a.items[i], now) < 0)
                return -1;
        sfu_out_reset(&w->out_a);
        for (uint32_t i = 0; i < w->out_b.count; i++)
            if (deliver(w, false, &w->out_b.items[i], now) < 0)
                return -1;
        sfu_out_reset(&w->out_b);
    }
    return -1;
}

/* The publisher's next frame: a keyframe of KEY_PACKETS packets first and
 * when asked, else INTER_PACKETS packets. */
static int send_frame(wire *w, sfu_time now)
{
    bool key = w->frame == 0 || w->pub_key_wanted;
    w->pub_key_wanted = false;
    int n = key ? KEY_PACKETS : INTER_PACKETS;
    for (int k = 0; k < n; k++) {
        uint8_t pl[16];
        size_t len = fx_vp8(pl, k == 0, key, (uint16_t)w->frame, 0, w->seq16);
        fx_rtp s = { PUB_SSRC, PUB_PT, w->seq16++, 1000u + w->frame * 3000u, k == n - 1, "0", -1, -1, pl, len };
        sfu_buf *b = fx_build(w->pool, &s);
        if (!b)
            return -SFU_ENOMEM;
        int rc = sfu_room_handle_rtp(w->a, A_PUB, b, now, &w->out_a);
        sfu_buf_unref(b);
        if (rc < 0 || pump(w, now) < 0)
            return -1;
    }
    w->frame++;
    return 0;
}

static int timeouts(wire *w, sfu_time now)
{
    if (sfu_room_poll_timeout(w->a) <= now && sfu_room_handle_timeout(w->a, now, &w->out_a) < 0)
        return -1;
    if (w->b_started && sfu_room_poll_timeout(w->b) <= now &&
        sfu_room_handle_timeout(w->b, now, &w->out_b) < 0)
        return -1;
    return pump(w, now);
}

/* B's end of the leg: a publisher leg with the SSRCs A announced. */
static sfu_leg_desc b_leg_desc(void)
{
    sfu_track_desc t = { .kind = SFU_KIND_VIDEO, .recv = true, .codec = SFU_CODEC_VP8, .pt = VIEW_PT,
                         .rtx_pt = VIEW_RTX_PT, .clock_rate = 90000, .remote_ssrc = LEG_SSRC,
                         .remote_rtx_ssrc = LEG_SSRC + 1, .fb_nack = true, .fb_pli = true };
    strcpy(t.mid, "v");
    t.ext.mid = VIEW_EXT_MID;
    return fx_leg(0xB1, &t, 1);
}

static int wire_open(wire *w)
{
    memset(w, 0, sizeof *w);
    w->seq16 = 40000;
    w->pool = sfu_buf_pool_new(1024);
    w->a = sfu_room_new(&cfg);
    w->b = sfu_room_new(&cfg);
    if (!w->pool || !w->a || !w->b || sfu_out_init(&w->out_a, 1024) < 0 || sfu_out_init(&w->out_b, 1024) < 0)
        return -1;
    sfu_track_desc pv = fx_pub_video("0"), lv = fx_view_video("v", LEG_SSRC);
    sfu_leg_desc pub = fx_leg(0xA1, &pv, 1), leg = fx_leg(0xA2, &lv, 1);
    return sfu_room_add_leg(w->a, A_PUB, ALICE, &pub, 0) < 0 || sfu_room_add_leg(w->a, A_LEG, BOB, &leg, 0) < 0
               ? -1 : 0;
}

static void wire_close(wire *w)
{
    sfu_out_deinit(&w->out_a);
    sfu_out_deinit(&w->out_b);
    sfu_room_free(w->a);
    sfu_room_free(w->b);
    if (w->pool && sfu_buf_pool_in_use(w->pool) != 0)
        fprintf(stderr, "  leaked %u buffers\n", sfu_buf_pool_in_use(w->pool));
    sfu_buf_pool_free(w->pool);
}

/* Runs the publisher and both rooms' timers from `from` to `to`. */
static int run(wire *w, sfu_time from, sfu_time to)
{
    for (sfu_time t = from; t < to; t += SFU_MS(1)) {
        if (t >= (sfu_time)w->frame * FRAME_US && send_frame(w, t) < 0)
            return -1;
        if (timeouts(w, t) < 0)
            return -1;
    }
    return 0;
}

/* The viewer's first picture: its first packets are one whole keyframe
 * (the start, consecutive numbers, one timestamp, through the marker). */
static int first_keyframe_whole(const wire *w, int *packets)
{
    if (w->ngot == 0 || !w->got[0].start || !w->got[0].key)
        return -1;
    for (int i = 1; i < w->ngot; i++) {
        if (w->got[i].seq16 != (uint16_t)(w->got[0].seq16 + i) || w->got[i].ts != w->got[0].ts)
            return -(i + 1);
        if (w->got[i].marker) {
            *packets = i + 1;
            return 0;
        }
    }
    return -1000;
}

/* The owner binds its end of the leg (and replays its cached keyframe into
 * it) before the pulling node has its keys, as sig_relay does: that replay
 * is lost. B's viewer, bound 50 ms after B started, still gets a whole
 * keyframe at once from B's cache, with no request reaching the publisher:
 * B asked A for a keyframe when the leg's first packet was none, and A
 * answered from its cache. (Before, B's cache stayed empty until its first
 * viewer asked; A answered with the keyframe as retransmissions, which
 * reached B after the newer packets it already had, so the viewer's first
 * packets were the keyframe's start, then later frames, then the rest.) */
TEST(relay_viewer_joins_on_whole_keyframe)
{
    wire w;
    ASSERT_EQ(wire_open(&w), 0);
    ASSERT_EQ(run(&w, 0, SFU_MS(100)), 0);          /* keyframe at 0, then inter frames */
    ASSERT_EQ(w.plis_to_pub, 0);
    /* A starts its end: the bind replays A's cached keyframe, into the void */
    ASSERT_EQ(sfu_room_bind(w.a, A_LEG, "v", ALICE, SFU_MS(100), &w.out_a), 0);
    ASSERT_EQ(pump(&w, SFU_MS(100)), 0);
    ASSERT_GE(w.lost_before_start, (uint64_t)KEY_PACKETS);
    ASSERT_EQ(sfu_room_stats_get(w.a)->keyframe_replays, 1);
    /* 2 ms later B has its keys and starts its end */
    sfu_leg_desc bl = b_leg_desc();
    ASSERT_EQ(sfu_room_add_leg(w.b, B_LEG, ALICE, &bl, SFU_MS(102)), 0);
    sfu_track_desc vv = fx_view_video("w", VIEW_SSRC);
    sfu_leg_desc view = fx_leg(0xB2, &vv, 1);
    ASSERT_EQ(sfu_room_add_leg(w.b, B_VIEW, CAROL, &view, SFU_MS(102)), 0);
    w.b_started = true;
    ASSERT_EQ(run(&w, SFU_MS(102), SFU_MS(150)), 0);
    /* B's viewer is bound (its keys exist) */
    ASSERT_EQ(sfu_room_bind(w.b, B_VIEW, "w", ALICE, SFU_MS(150), &w.out_b), 0);
    ASSERT_EQ(pump(&w, SFU_MS(150)), 0);
    ASSERT_EQ(run(&w, SFU_MS(150), SFU_MS(400)), 0);
    int packets = 0, rc = first_keyframe_whole(&w, &packets);
    if (rc != 0) {
        for (int i = 0; i < w.ngot && i < 14; i++)
            fprintf(stderr, "  viewer packet %d: seq %u ts %u start %d key %d marker %d at %lld\n", i,
                    w.got[i].seq16, w.got[i].ts, w.got[i].start, w.got[i].key, w.got[i].marker,
                    (long long)w.got[i].at);
    }
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(packets, KEY_PACKETS);
    ASSERT_EQ(w.got[0].at, SFU_MS(150));            /* at the bind: from B's cache */
    ASSERT_EQ(sfu_room_stats_get(w.b)->keyframe_replays, 1);
    ASSERT_EQ(w.plis_to_pub, 0);                     /* A's cache served the leg */
    wire_close(&w);
    return 0;
}

TEST_LIST(TEST_ENTRY(relay_viewer_joins_on_whole_keyframe))
