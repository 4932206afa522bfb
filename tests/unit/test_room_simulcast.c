/* Simulcast through the room, case by case: two viewers on different
 * layers, a layer's stream restarting, a join served from the layer's
 * keyframe cache, renegotiation keeping the layers, receiver reports per
 * layer, the layer API's errors. (test_sim_simulcast.c runs the switches
 * on a virtual clock.) */
#include "sfu/core/rtcp_sr_rr.h"
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

enum { PUB = 1, VA = 2, VB = 3, ALICE = 100, BOB = 200, CAROL = 300, VA_SSRC = 0x5000, VB_SSRC = 0x6000 };
enum { EXT_RID = 5, NL = 3 };

static const char *const rids[NL] = { "q", "h", "f" };  /* Chromium's order: lowest first */
static const uint16_t widths[NL] = { 320, 640, 1280 };

typedef struct rig {
    sfu_buf_pool *pool;
    sfu_room *room;
    sfu_out out;
    sfu_leg_desc pub;
    uint16_t seq[NL];
} rig;

static sfu_leg_desc pub_desc(void)
{
    sfu_track_desc pv = fx_pub_video("0");
    pv.ext.rid = EXT_RID;
    pv.nlayers = NL;
    for (int l = 0; l < NL; l++)
        strcpy(pv.layers[l].rid, rids[l]);
    return fx_leg(0xA1, &pv, 1);
}

static int rig_open(rig *r, sfu_time kf_cache)
{
    memset(r, 0, sizeof *r);
    sfu_room_config cfg = { .max_legs = 8, .liveness_timeout = SFU_SEC(30), .rtx_cache_packets = 64,
                            .keyframe_min_interval = SFU_MS(100), .keyframe_cache_max_age = kf_cache };
    r->pool = sfu_buf_pool_new(512);
    r->room = sfu_room_new(&cfg);
    if (!r->pool || !r->room || sfu_out_init(&r->out, 256) < 0)
        return -1;
    r->pub = pub_desc();
    sfu_track_desc va = fx_view_video("v", VA_SSRC), vb = fx_view_video("v", VB_SSRC);
    sfu_leg_desc la = fx_leg(0xA2, &va, 1), lb = fx_leg(0xA3, &vb, 1);
    if (sfu_room_add_leg(r->room, PUB, ALICE, &r->pub, 0) < 0 || sfu_room_add_leg(r->room, VA, BOB, &la, 0) < 0 ||
        sfu_room_add_leg(r->room, VB, CAROL, &lb, 0) < 0)
        return -1;
    return 0;
}

static void rig_close(rig *r)
{
    sfu_out_deinit(&r->out);
    sfu_room_free(r->room);
    if (sfu_buf_pool_in_use(r->pool))
        fprintf(stderr, "  leaked %u buffers\n", sfu_buf_pool_in_use(r->pool));
    sfu_buf_pool_free(r->pool);
}

/* One packet of layer l (SSRC ssrc): VP8 descriptor, payload header (a
 * keyframe's with the frame size), a tag naming the layer; the rid
 * extension when `rid`. */
static int send_layer(rig *r, int l, uint32_t ssrc, bool key, bool rid, sfu_time now)
{
    uint16_t seq = r->seq[l]++;
    uint8_t pl[32] = { 0x90, 0xC0, (uint8_t)(0x80 | (seq >> 8 & 0x7f)), (uint8_t)seq, 0,
                       key ? 0x10 : 0x11, 0x02, 0x00, 0x9d, 0x01, 0x2a,
                       (uint8_t)widths[l], (uint8_t)(widths[l] >> 8), 0x10, 0x00 };
    sfu_wr32(pl + 15, (uint32_t)l << 24 | seq);
    sfu_buf *b = sfu_buf_alloc(r->pool);
    sfu_rtp_ext_out ext[2] = { { EXT_MID, 1, (const uint8_t *)"0" },
                               { EXT_RID, (uint8_t)strlen(rids[l]), (const uint8_t *)rids[l] } };
    sfu_rtp_header_out h = { true, PUB_PT, seq, (uint32_t)seq * 3000u, ssrc, rid ? 2 : 1, ext };
    int hl = sfu_rtp_write_header(b->data, SFU_BUF_CAP, &h);
    memcpy(b->data + hl, pl, 19);
    b->len = (uint16_t)(hl + 19);
    int rc = sfu_room_handle_rtp(r->room, PUB, b, now, &r->out);
    sfu_buf_unref(b);
    return rc;
}

static uint32_t layer_ssrc(int l) { return 0x100 + (uint32_t)l; }

/* Every layer, keyframes first, then `frames` more rounds. */
static int publish(rig *r, int frames, sfu_time *now)
{
    for (int f = 0; f <= frames; f++) {
        for (int l = 0; l < NL; l++)
            if (send_layer(r, l, layer_ssrc(l), f == 0, f < 2, *now) < 0)
                return -1;
        *now += SFU_MS(33);
    }
    return 0;
}

/* RTP items to `leg`, and the layer (from the tag) of the last one. */
static int rtp_to(const rig *r, sfu_leg_id leg, int *layer)
{
    int n = 0;
    for (uint32_t i = 0; i < r->out.count; i++) {
        fx_seen s;
        sfu_vp8_desc d;
        if (r->out.items[i].type != SFU_OUT_RTP || r->out.items[i].leg != leg || fx_read_rtp(&r->out.items[i], &s) < 0)
            continue;
        n++;
        if (layer && sfu_vp8_parse(s.bytes + s.h.payload_off, s.h.payload_len, &d) == 0 &&
            s.h.payload_len >= d.desc_len + 14u)
            *layer = s.bytes[s.h.payload_off + d.desc_len + 10];
    }
    return n;
}

/* Two viewers, one capped at the lowest layer: each gets only its layer;
 * a restart of one layer's stream (a new SSRC) restarts only its viewer. */
TEST(viewers_on_different_layers)
{
    rig r;
    ASSERT_EQ(rig_open(&r, 0), 0);
    sfu_time now = SFU_MS(10);
    ASSERT_EQ(sfu_room_set_max_layer(r.room, VB, "v", 0, now, &r.out), 0);
    ASSERT_EQ(sfu_room_bind(r.room, VA, "v", ALICE, now, &r.out), 0);
    ASSERT_EQ(sfu_room_bind(r.room, VB, "v", ALICE, now, &r.out), 0);
    ASSERT_EQ(publish(&r, 3, &now), 0);
    sfu_room_sink_layer a, b;
    ASSERT_EQ(sfu_room_sink_layer_get(r.room, VA, "v", &a), 0);
    ASSERT_EQ(sfu_room_sink_layer_get(r.room, VB, "v", &b), 0);
    ASSERT_EQ(a.current, 2);
    ASSERT_EQ(b.current, 0);
    ASSERT_EQ(b.max, 0);
    sfu_out_reset(&r.out);
    int la = -1, lb = -1;
    ASSERT_EQ(send_layer(&r, 2, layer_ssrc(2), false, false, now), 0);
    ASSERT_EQ(rtp_to(&r, VA, &la), 1);
    ASSERT_EQ(rtp_to(&r, VB, &lb), 0);
    ASSERT_EQ(send_layer(&r, 0, layer_ssrc(0), false, false, now), 0);
    ASSERT_EQ(rtp_to(&r, VB, &lb), 1);
    ASSERT_EQ(rtp_to(&r, VA, NULL), 1);
    ASSERT_EQ(la, 2);
    ASSERT_EQ(lb, 0);
    sfu_out_reset(&r.out);
    /* layer q restarts on a new SSRC (with its rid): B waits for its
     * keyframe and asks for it on the new SSRC at once; A goes on */
    ASSERT_EQ(send_layer(&r, 0, 0x999, false, true, now), 0);
    ASSERT_EQ(rtp_to(&r, VB, NULL), 0);
    ASSERT_EQ(sfu_room_sink_layer_get(r.room, VB, "v", &b), 0);
    ASSERT_EQ(b.current, -1);
    bool asked = false;
    for (uint32_t i = 0; i < r.out.count; i++) {
        const sfu_out_item *it = &r.out.items[i];
        size_t off = 0;
        sfu_rtcp_common c;
        uint32_t snd, media;
        while (it->leg == PUB && it->type == SFU_OUT_RTCP && sfu_rtcp_next(it->head, it->head_len, &off, &c) == 1)
            if (c.pt == SFU_RTCP_PSFB && c.count == SFU_RTCP_FMT_PLI && sfu_rtcp_pli_parse(&c, &snd, &media) == 0) {
                ASSERT_EQ(media, 0x999);
                asked = true;
            }
    }
    ASSERT(asked);
    sfu_out_reset(&r.out);
    ASSERT_EQ(send_layer(&r, 2, layer_ssrc(2), false, false, now), 0);
    ASSERT_EQ(rtp_to(&r, VA, NULL), 1);
    ASSERT_EQ(send_layer(&r, 0, 0x999, true, false, now), 0);
    ASSERT_EQ(rtp_to(&r, VB, NULL), 1);
    sfu_out_reset(&r.out);
    rig_close(&r);
    return 0;
}

/* A viewer joining later is served at once from its layer's keyframe
 * cache; receiver reports carry a block per layer; a renegotiation with
 * the same layers keeps the viewer forwarding. */
TEST(join_replay_reports_and_renegotiation)
{
    rig r;
    ASSERT_EQ(rig_open(&r, SFU_SEC(1)), 0);
    sfu_time now = SFU_MS(10);
    ASSERT_EQ(publish(&r, 3, &now), 0);
    sfu_out_reset(&r.out);
    ASSERT_EQ(sfu_room_bind(r.room, VA, "v", ALICE, now, &r.out), 0);
    int la = -1;
    ASSERT_EQ(rtp_to(&r, VA, &la), 4);     /* the top layer's keyframe and 3 frames */
    ASSERT_EQ(la, 2);
    ASSERT_EQ(sfu_room_stats_get(r.room)->keyframe_replays, 1);
    sfu_out_reset(&r.out);
    /* receiver reports: one block per layer, on each layer's SSRC */
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_SEC(1), &r.out), 0);
    int blocks = 0;
    for (uint32_t i = 0; i < r.out.count; i++) {
        const sfu_out_item *it = &r.out.items[i];
        size_t off = 0;
        sfu_rtcp_common c;
        sfu_rtcp_rr rr;
        while (it->leg == PUB && it->type == SFU_OUT_RTCP && sfu_rtcp_next(it->head, it->head_len, &off, &c) == 1)
            if (c.pt == SFU_RTCP_RR && sfu_rtcp_rr_parse(&c, &rr) == 0)
                for (int k = 0; k < rr.report_count; k++, blocks++)
                    ASSERT_EQ(rr.reports[k].ssrc & ~3u, 0x100);
    }
    ASSERT_EQ(blocks, NL);
    sfu_out_reset(&r.out);
    /* the same offer again: nothing restarts */
    ASSERT_EQ(sfu_room_update_leg(r.room, PUB, &r.pub, now), 0);
    ASSERT_EQ(send_layer(&r, 2, layer_ssrc(2), false, false, now), 0);
    ASSERT_EQ(rtp_to(&r, VA, NULL), 1);
    sfu_room_layer_info li[NL];
    ASSERT_EQ(sfu_room_track_layers(r.room, PUB, "0", now, li, NL), NL);
    for (int l = 0; l < NL; l++) {
        ASSERT_STR_EQ(li[l].rid, rids[l]);
        ASSERT_EQ(li[l].ssrc, layer_ssrc(l));
        ASSERT_EQ(li[l].width, widths[l]);
    }
    sfu_out_reset(&r.out);
    rig_close(&r);
    return 0;
}

TEST(layer_api_errors)
{
    rig r;
    ASSERT_EQ(rig_open(&r, 0), 0);
    sfu_room_sink_layer info;
    sfu_room_layer_info li[NL];
    ASSERT_EQ(sfu_room_set_max_layer(r.room, VA, "v", -2, 0, &r.out), -SFU_EINVAL);
    ASSERT_EQ(sfu_room_set_max_layer(r.room, VA, "v", SFU_MAX_LAYERS, 0, &r.out), -SFU_EINVAL);
    ASSERT_EQ(sfu_room_set_max_layer(r.room, VA, "x", 1, 0, &r.out), -SFU_ENOTFOUND);
    ASSERT_EQ(sfu_room_set_max_layer(r.room, 99, "v", 1, 0, &r.out), -SFU_ENOTFOUND);
    ASSERT_EQ(sfu_room_set_max_layer(r.room, PUB, "0", 1, 0, &r.out), -SFU_ENOTFOUND); /* not a sink */
    ASSERT_EQ(sfu_room_set_sink_bitrate_limit(r.room, VA, NULL, 1, 0, &r.out), -SFU_ENOTFOUND);
    ASSERT_EQ(sfu_room_sink_layer_get(r.room, VA, "x", &info), -SFU_ENOTFOUND);
    ASSERT_EQ(sfu_room_track_layers(r.room, VA, "v", 0, li, NL), -SFU_ENOTFOUND);   /* not a source */
    /* unbound: nothing yet */
    ASSERT_EQ(sfu_room_sink_layer_get(r.room, VA, "v", &info), 0);
    ASSERT_EQ(info.nlayers, 0);
    ASSERT_EQ(info.current, -1);
    ASSERT_EQ(info.max, -1);
    ASSERT_EQ(r.out.count, 0);
    rig_close(&r);
    return 0;
}

/* A plain VP8 publisher with three temporal layers (pattern 0 2 1 2, one
 * packet per picture) and a viewer whose estimate is below the stream's
 * bitrate: it gets temporal layers 0 and 1 only, with sequence numbers and
 * PictureIDs that run on without a gap. */
TEST(temporal_layers_below_the_estimate)
{
    rig r;
    memset(&r, 0, sizeof r);
    sfu_room_config cfg = { .max_legs = 4, .liveness_timeout = SFU_SEC(30), .rtx_cache_packets = 64,
                            .keyframe_min_interval = SFU_MS(100) };
    r.pool = sfu_buf_pool_new(256);
    r.room = sfu_room_new(&cfg);
    ASSERT(r.pool && r.room && sfu_out_init(&r.out, 256) == 0);
    sfu_track_desc pv = fx_pub_video("0"), vv = fx_view_video("v", VA_SSRC);
    sfu_leg_desc pl = fx_leg(0xA1, &pv, 1), vl = fx_leg(0xA2, &vv, 1);
    ASSERT_EQ(sfu_room_add_leg(r.room, PUB, ALICE, &pl, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(r.room, VA, BOB, &vl, 0), 0);
    ASSERT_EQ(sfu_room_bind(r.room, VA, "v", ALICE, 0, &r.out), 0);
    static const uint8_t tids[4] = { 0, 2, 1, 2 };
    static const size_t sizes[3] = { 1000, 400, 600 };  /* by TID */
    uint8_t tl0 = 0;
    int got = 0, bad_tid = 0, gaps = 0, pid_jumps = 0;
    bool have = false;
    uint16_t last_seq = 0, last_pid = 0;
    sfu_time now = SFU_MS(1);
    for (uint16_t f = 0; f < 120; f++, now += SFU_MS(33)) {
        if (f == 66) /* 2.2 s: the estimate, once two bitrate intervals have passed */
            ASSERT_EQ(sfu_room_set_sink_bitrate_limit(r.room, VA, "v", 110000, now, &r.out), 0);
        uint8_t tid = tids[f % 4];
        tl0 = (uint8_t)(tl0 + (tid == 0));
        uint8_t pl_[1100] = { 0x90, 0xE0, (uint8_t)(0x80 | f >> 8), (uint8_t)f, tl0,
                              (uint8_t)(tid << 6 | (f % 4 == 1 || f % 4 == 2 ? 0x20 : 0)), f == 0 ? 0x10 : 0x11 };
        fx_rtp rp = { 0x1111, PUB_PT, f, f * 3000u, true, "0", -1, -1, pl_, sizes[tid] };
        sfu_buf *b = fx_build(r.pool, &rp);
        ASSERT(b);
        ASSERT_EQ(sfu_room_handle_rtp(r.room, PUB, b, now, &r.out), 0);
        sfu_buf_unref(b);
        if (sfu_room_poll_timeout(r.room) <= now)
            sfu_room_handle_timeout(r.room, now, &r.out);
        for (uint32_t i = 0; i < r.out.count; i++) {
            fx_seen seen;
            sfu_vp8_desc d;
            if (r.out.items[i].type != SFU_OUT_RTP || r.out.items[i].leg != VA || fx_read_rtp(&r.out.items[i], &seen) < 0 ||
                sfu_vp8_parse(seen.bytes + seen.h.payload_off, seen.h.payload_len, &d) < 0)
                continue;
            if (have) {
                gaps += seen.h.seq16 != (uint16_t)(last_seq + 1);
                pid_jumps += d.picture_id != ((last_pid + 1) & 0x7fff);
            }
            have = true;
            last_seq = seen.h.seq16;
            last_pid = d.picture_id;
            if (f >= 67) {
                got++;
                bad_tid += !d.has_tid || d.tid > 1;
            }
        }
        sfu_out_reset(&r.out);
    }
    sfu_room_sink_layer info;
    ASSERT_EQ(sfu_room_sink_layer_get(r.room, VA, "v", &info), 0);
    ASSERT_EQ(info.max_tid, 1);
    ASSERT_EQ(info.nlayers, 1);
    ASSERT_EQ(info.current, 0);
    ASSERT_EQ(gaps, 0);
    ASSERT_EQ(pid_jumps, 0);
    ASSERT_EQ(bad_tid, 0);
    ASSERT_EQ(got, 26);         /* frames 67..119 with TID 0 or 1: 68, 70, 72, .. 118 */
    ASSERT_EQ(sfu_room_stats_get(r.room)->drops[SFU_DROP_MALFORMED], 0);
    rig_close(&r);
    return 0;
}

TEST_LIST(TEST_ENTRY(temporal_layers_below_the_estimate), TEST_ENTRY(viewers_on_different_layers), TEST_ENTRY(join_replay_reports_and_renegotiation),
          TEST_ENTRY(layer_api_errors))
