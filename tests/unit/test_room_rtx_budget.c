/* A viewer's NACK storm is answered within its retransmission budget
 * (RTX_BURST at once, one per RTX_INTERVAL after that); the rest
 * is counted as SFU_DROP_RTX_RATE. Found by tests/e2e/hostile.py: 10,000
 * NACKs per second made the SFU resend ~40,000 packets per second. */
#include "sfu/core/consumer.h"
#include "sfu/core/room.h"
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

enum { PUB = 1, VIEW = 2, ALICE = 100, BOB = 200, PUB_SSRC = 0x1111, VIEW_SSRC = 0x5000 };
enum { NPKT = 64 };

typedef struct rig {
    sfu_buf_pool *pool;
    sfu_room *room;
    sfu_out out;
    uint16_t first_out;         /* the viewer's first output seq */
} rig;

static const sfu_room_config cfg = {
    .max_legs = 4, .liveness_timeout = SFU_SEC(5), .rtx_cache_packets = NPKT,
    .keyframe_min_interval = SFU_SEC(1),
};

static int send_vp8(rig *r, uint16_t seq, bool key, sfu_time now)
{
    uint8_t pl[16];
    size_t n = fx_vp8(pl, key, key, (uint16_t)(seq + 7), 3, seq);
    fx_rtp s = { PUB_SSRC, PUB_PT, seq, (uint32_t)seq * 3000u, false, "0", seq, -1, pl, n };
    sfu_buf *b = fx_build(r->pool, &s);
    if (!b)
        return -SFU_ENOMEM;
    int rc = sfu_room_handle_rtp(r->room, PUB, b, now, &r->out);
    sfu_buf_unref(b);
    return rc;
}

/* A publisher and a viewer that has been sent NPKT packets. */
static int rig_open(rig *r)
{
    memset(r, 0, sizeof *r);
    r->pool = sfu_buf_pool_new(256);
    r->room = sfu_room_new(&cfg);
    if (!r->pool || !r->room || sfu_out_init(&r->out, 1024) < 0)
        return -1;
    sfu_track_desc pv = fx_pub_video("0"), vv = fx_view_video("v", VIEW_SSRC);
    sfu_leg_desc pub = fx_leg(0xA1, &pv, 1), view = fx_leg(0xA2, &vv, 1);
    if (sfu_room_add_leg(r->room, PUB, ALICE, &pub, 0) < 0 ||
        sfu_room_add_leg(r->room, VIEW, BOB, &view, 0) < 0 ||
        sfu_room_bind(r->room, VIEW, "v", ALICE, 0, &r->out) < 0)
        return -1;
    for (uint16_t s = 1; s <= NPKT; s++) {
        if (send_vp8(r, s, s == 1, SFU_MS(s)) < 0)
            return -1;
        for (uint32_t i = 0; i < r->out.count; i++) {
            fx_seen seen;
            if (s == 1 && r->out.items[i].type == SFU_OUT_RTP && r->out.items[i].leg == VIEW &&
                fx_read_rtp(&r->out.items[i], &seen) == 0)
                r->first_out = seen.h.seq16;
        }
        sfu_out_reset(&r->out);
    }
    return 0;
}

static void rig_close(rig *r)
{
    sfu_out_deinit(&r->out);
    sfu_room_free(r->room);
    sfu_buf_pool_free(r->pool);
}

/* `nacks` NACKs from the viewer at `now`, each naming 17 of its packets.
 * Returns the retransmissions they caused. */
static int storm(rig *r, int nacks, sfu_time now)
{
    int sent = 0;
    for (int k = 0; k < nacks; k++) {
        uint16_t seqs[17];
        for (int i = 0; i < 17; i++)
            seqs[i] = (uint16_t)(r->first_out + (k * 17 + i) % (NPKT - 1));
        uint8_t nack[128];
        int n = sfu_rtcp_nack_build(nack, sizeof nack, 0x77, VIEW_SSRC, seqs, 17);
        if (n <= 0 || sfu_room_handle_rtcp(r->room, VIEW, nack, (size_t)n, now, &r->out) < 0)
            return -1;
        for (uint32_t i = 0; i < r->out.count; i++)
            sent += r->out.items[i].type == SFU_OUT_RTP && r->out.items[i].leg == VIEW;
        sfu_out_reset(&r->out);
    }
    return sent;
}

TEST(one_nack_is_answered_in_full)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    ASSERT_EQ(storm(&r, 1, SFU_MS(100)), 17);
    const sfu_room_stats *st = sfu_room_stats_get(r.room);
    ASSERT_EQ(st->retransmitted, 17);
    ASSERT_EQ(st->drops[SFU_DROP_RTX_RATE], 0);
    rig_close(&r);
    return 0;
}

/* The default budget: SFU_CONSUMER_RTX_DEFAULT_RATE per second, half a second's
 * worth at once. */
#define RTX_INTERVAL (SFU_SEC(1) / SFU_CONSUMER_RTX_DEFAULT_RATE)
#define RTX_BURST (SFU_MS(500) / RTX_INTERVAL)

TEST(storm_is_cut_to_the_burst_then_the_rate)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    /* 40 NACKs at once ask for 680 packets: the burst goes out, no more. */
    ASSERT_EQ(storm(&r, 40, SFU_MS(100)), RTX_BURST);
    const sfu_room_stats *st = sfu_room_stats_get(r.room);
    ASSERT_EQ(st->drops[SFU_DROP_RTX_RATE], 40 * 17 - RTX_BURST);
    /* 100 ms later the budget has grown by 100 ms worth. */
    int64_t refill = SFU_MS(100) / RTX_INTERVAL;
    ASSERT_EQ(storm(&r, 10, SFU_MS(200)), refill);
    ASSERT_EQ(st->drops[SFU_DROP_RTX_RATE], 40 * 17 - RTX_BURST + 170 - refill);
    ASSERT_EQ(st->retransmitted, RTX_BURST + refill);
    ASSERT_EQ(st->nacks_received, 50);
    /* 600 quiet ms later (the budget refilled, the packets still young
     * enough to be played) a NACK is answered in full again. */
    ASSERT_EQ(storm(&r, 1, SFU_MS(800)), 17);
    rig_close(&r);
    return 0;
}

/* PLIs (and FIRs) the room sent the publisher in its outputs; clears them. */
static int plis_to_pub(rig *r)
{
    int n = 0;
    for (uint32_t i = 0; i < r->out.count; i++) {
        const sfu_out_item *it = &r->out.items[i];
        size_t off = 0;
        sfu_rtcp_common c;
        while (it->type == SFU_OUT_RTCP && it->leg == PUB && sfu_rtcp_next(it->head, it->head_len, &off, &c) == 1)
            n += c.pt == SFU_RTCP_PSFB;
    }
    sfu_out_reset(&r->out);
    return n;
}

static int nack_one(rig *r, uint16_t seq16, sfu_time now)
{
    uint8_t nack[64];
    int n = sfu_rtcp_nack_build(nack, sizeof nack, 0x77, VIEW_SSRC, &seq16, 1);
    return n > 0 ? sfu_room_handle_rtcp(r->room, VIEW, nack, (size_t)n, now, &r->out) : -1;
}

/* sink_repair.h: a NACK for a packet after the viewer's last keyframe that
 * is gone from the cache asks the publisher for a keyframe, once per break
 * (again after SFU_SINK_REPAIR_REASK, through the throttle), and no more
 * once a newer keyframe went to the viewer. */
TEST(unanswerable_nack_asks_for_a_keyframe)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    const sfu_room_stats *st = sfu_room_stats_get(r.room);
    uint16_t lost = (uint16_t)(r.first_out + 5);
    /* 3 s later the packet is past the cache's 2 s. */
    ASSERT_EQ(nack_one(&r, lost, SFU_SEC(3)), 0);
    ASSERT_EQ(plis_to_pub(&r), 1);
    ASSERT_EQ(st->repair_keyframe_requests, 1);
    ASSERT_EQ(st->rtx_missed, 1);
    /* The browser asks again 100 ms later: nothing new. */
    ASSERT_EQ(nack_one(&r, lost, SFU_SEC(3) + SFU_MS(100)), 0);
    ASSERT_EQ(plis_to_pub(&r), 0);
    /* 300 ms on, asked again: the publisher's throttle (1 s here) holds it
     * until the interval ends ... */
    ASSERT_EQ(nack_one(&r, lost, SFU_SEC(3) + SFU_MS(300)), 0);
    ASSERT_EQ(st->repair_keyframe_requests, 2);
    ASSERT_EQ(plis_to_pub(&r), 0);
    ASSERT_EQ(sfu_room_poll_timeout(r.room) <= SFU_SEC(4), true);
    /* ... and the keyframe arriving first makes it unnecessary. */
    ASSERT_EQ(send_vp8(&r, NPKT + 1, true, SFU_SEC(3) + SFU_MS(400)), 0);
    sfu_out_reset(&r.out);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_SEC(4), &r.out), 0);
    ASSERT_EQ(plis_to_pub(&r), 0);
    /* Now the lost packet is before the viewer's keyframe: refused, no request. */
    ASSERT_EQ(nack_one(&r, lost, SFU_SEC(5)), 0);
    ASSERT_EQ(plis_to_pub(&r), 0);
    ASSERT_EQ(st->repair_keyframe_requests, 2);
    rig_close(&r);
    return 0;
}

/* A NACK for a packet the SFU never had and still NACKs upstream is not a
 * break: the packet may yet come. */
TEST(nack_for_packet_on_its_way_is_no_break)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    /* The publisher skips NPKT + 1: the viewer's next packet is one more. */
    ASSERT_EQ(send_vp8(&r, NPKT + 2, false, SFU_MS(100)), 0);
    sfu_out_reset(&r.out);
    uint16_t missing = (uint16_t)(r.first_out + NPKT); /* the viewer's number for NPKT + 1 */
    ASSERT_EQ(nack_one(&r, missing, SFU_MS(110)), 0);
    ASSERT_EQ(plis_to_pub(&r), 0);
    ASSERT_EQ(sfu_room_stats_get(r.room)->repair_keyframe_requests, 0);
    rig_close(&r);
    return 0;
}

TEST_LIST(TEST_ENTRY(one_nack_is_answered_in_full), TEST_ENTRY(unanswerable_nack_asks_for_a_keyframe),
          TEST_ENTRY(nack_for_packet_on_its_way_is_no_break),
          TEST_ENTRY(storm_is_cut_to_the_burst_then_the_rate));
