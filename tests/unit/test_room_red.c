/* RFC 2198 RED through the room, on a virtual clock with seeded loss on the
 * publisher's link: a Chromium-like publisher sends every 20 ms frame as
 * RED (the previous frame redundant, the new one primary). A viewer that
 * negotiated RED gets RED with its own payload types; one that did not gets
 * each packet's primary Opus block only, with sequence numbers and
 * timestamps continuous (no gap but the publisher's losses), and the audio
 * level kept. A RED packet that cannot be reduced is skipped in the
 * viewers' numbering. */
#include "sfu/core/red.h"
#include "sfu/core/rtcp_sr_rr.h"
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

enum { PUB = 1, RED_VIEW = 2, PLAIN_VIEW = 3, ALICE = 100, PUB_SSRC = 0x5151 };
enum { PUB_RED_PT = 63, V_RED_PT = 98, V_RED_OPUS_PT = 100, V_PLAIN_OPUS_PT = 109 };
#define FRAMES 500
#define LOSS_PCT 20
#define BAD_EVERY 97                /* every 97th packet is RED of a codec the SFU cannot reduce */

static const sfu_room_config cfg = {
    .max_legs = 8, .liveness_timeout = SFU_SEC(5), .rtx_cache_packets = 64,
    .keyframe_min_interval = SFU_SEC(1),
};

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* Frame i's Opus bytes: a TOC byte and the frame number, length 3..10. */
static size_t opus_frame(unsigned i, uint8_t *p)
{
    size_t n = 3 + i % 8;
    p[0] = 0xfc;
    for (size_t k = 1; k < n; k++)
        p[k] = (uint8_t)(i + k);
    return n;
}

static sfu_track_desc audio_desc(bool recv, uint8_t pt, uint8_t red_pt, uint32_t ssrc, const char *mid)
{
    sfu_track_desc d = { .kind = SFU_KIND_AUDIO, .recv = recv, .send = !recv, .codec = SFU_CODEC_OPUS,
                         .pt = pt, .red_pt = red_pt, .clock_rate = 48000, .local_ssrc = ssrc };
    strncpy(d.mid, mid, SFU_MID_MAX - 1);
    d.ext.mid = recv ? EXT_MID : VIEW_EXT_MID;
    d.ext.audio_level = recv ? EXT_LEVEL : VIEW_EXT_LEVEL;
    return d;
}

typedef struct last {
    bool any;
    uint16_t seq16;
    uint32_t ts;
    unsigned frame;
} last;

/* One viewer's packet: frame `i` went out; checks it against the last one. */
static int check_viewer(const fx_seen *s, bool red, unsigned i, unsigned skipped, last *l)
{
    uint8_t want[16], prev[16], len;
    size_t n = opus_frame(i, want), pn = opus_frame(i - 1, prev);
    const uint8_t *payload = s->bytes + s->h.payload_off;
    ASSERT_EQ(s->h.ssrc, red ? 0xAA : 0xBB);
    const uint8_t *lv = sfu_rtp_ext_find(&s->h, s->bytes, VIEW_EXT_LEVEL, &len);
    ASSERT(lv && len == 1);
    ASSERT_EQ(lv[0], i % 127);
    if (red) {
        sfu_red r;
        ASSERT_EQ(s->h.pt, V_RED_PT);
        ASSERT_EQ(sfu_red_parse(payload, s->h.payload_len, &r), 0);
        ASSERT_EQ(r.nblocks, i ? 2 : 1);
        ASSERT(sfu_red_is_single_codec(&r, V_RED_OPUS_PT));
        ASSERT_EQ(sfu_red_primary(&r)->len, n);
        ASSERT_MEM_EQ(payload + sfu_red_primary(&r)->off, want, n);
        if (i) {
            ASSERT_EQ(r.blocks[0].ts_offset, 960);
            ASSERT_EQ(r.blocks[0].len, pn);
            ASSERT_MEM_EQ(payload + r.blocks[0].off, prev, pn);
        }
    } else {
        ASSERT_EQ(s->h.pt, V_PLAIN_OPUS_PT);
        ASSERT_EQ(s->h.payload_len, n);     /* the primary block only: valid Opus */
        ASSERT_MEM_EQ(payload, want, n);
    }
    if (l->any) {
        /* numbering closes over the skipped packets only; time runs on */
        ASSERT_EQ((uint16_t)(s->h.seq16 - l->seq16), (uint16_t)(i - l->frame - skipped));
        ASSERT_EQ(s->h.ts - l->ts, (i - l->frame) * 960u);
    }
    *l = (last){ true, s->h.seq16, s->h.ts, i };
    return 0;
}

TEST(red_to_red_and_plain_viewers)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(64);
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out out;
    ASSERT(pool && room && sfu_out_init(&out, 64) == 0);
    sfu_track_desc p = audio_desc(true, OPUS_PT, PUB_RED_PT, 0, "0");
    sfu_track_desc rv = audio_desc(false, V_RED_OPUS_PT, V_RED_PT, 0xAA, "a");
    sfu_track_desc pv = audio_desc(false, V_PLAIN_OPUS_PT, 0, 0xBB, "a");
    sfu_leg_desc pub = fx_leg(1, &p, 1), redl = fx_leg(2, &rv, 1), plainl = fx_leg(3, &pv, 1);
    ASSERT_EQ(sfu_room_add_leg(room, PUB, ALICE, &pub, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, RED_VIEW, 200, &redl, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, PLAIN_VIEW, 300, &plainl, 0), 0);
    ASSERT_EQ(sfu_room_bind(room, RED_VIEW, "a", ALICE, 0, &out), 0);
    ASSERT_EQ(sfu_room_bind(room, PLAIN_VIEW, "a", ALICE, 0, &out), 0);
    out.count = 0;

    uint64_t seed = 12345;
    last lr = { 0 }, lp = { 0 };
    unsigned lost = 0, bad = 0, skipped = 0, got_red = 0, got_plain = 0;
    for (unsigned i = 0; i < FRAMES; i++) {
        sfu_time now = (sfu_time)i * SFU_MS(20);
        uint8_t cur[16], prev[16], payload[64];
        sfu_red_block blk[2];
        unsigned nb = 0;
        size_t cn = opus_frame(i, cur), pn = i ? opus_frame(i - 1, prev) : 0;
        uint8_t data[32];
        if (i) {
            memcpy(data, prev, pn);
            blk[nb++] = (sfu_red_block){ .pt = OPUS_PT, .ts_offset = 960, .off = 0, .len = (uint16_t)pn };
        }
        memcpy(data + pn, cur, cn);
        blk[nb++] = (sfu_red_block){ .pt = OPUS_PT, .off = (uint16_t)pn, .len = (uint16_t)cn };
        bool is_bad = i % BAD_EVERY == BAD_EVERY - 1;
        if (is_bad)
            blk[nb - 1].pt = 13;    /* comfort noise inside: neither passed nor reduced */
        int plen = sfu_red_build(payload, sizeof payload, blk, nb, data);
        ASSERT_GT(plen, 0);
        if (rnd(&seed) % 100 < LOSS_PCT) {
            lost++;
            continue;
        }
        fx_rtp s = { PUB_SSRC, PUB_RED_PT, (uint16_t)(65000 + i), 1000u + i * 960u, false, "0", -1,
                     (int)(i % 127), payload, (size_t)plen };
        sfu_buf *b = fx_build(pool, &s);
        ASSERT(b);
        ASSERT_EQ(sfu_room_handle_rtp(room, PUB, b, now, &out), 0);
        sfu_buf_unref(b);
        if (is_bad) {
            bad++;
            skipped++;
            for (unsigned k = 0; k < out.count; k++) {
                ASSERT_NE(out.items[k].type, SFU_OUT_RTP);
                sfu_buf_unref(out.items[k].buf);
            }
            out.count = 0;
            continue;
        }
        unsigned rtp = 0;
        for (unsigned k = 0; k < out.count; k++) {
            fx_seen seen;
            if (out.items[k].type != SFU_OUT_RTP) {   /* active-speaker events */
                sfu_buf_unref(out.items[k].buf);
                continue;
            }
            rtp++;
            ASSERT_EQ(fx_read_rtp(&out.items[k], &seen), 0);
            bool red = out.items[k].leg == RED_VIEW;
            /* the plain viewer's body is the primary block inside the shared buffer */
            if (!red)
                ASSERT_EQ(out.items[k].body_len, cn);
            if (check_viewer(&seen, red, i, skipped, red ? &lr : &lp)) {
                fprintf(stderr, "  frame %u, %s viewer\n", i, red ? "RED" : "plain");
                return 1;
            }
            red ? got_red++ : got_plain++;
            sfu_buf_unref(out.items[k].buf);
        }
        ASSERT_EQ(rtp, 2);
        skipped = 0;
        out.count = 0;
    }
    printf("  %u frames, %u lost before the SFU, %u not reducible; RED viewer %u, plain viewer %u\n", FRAMES,
           lost, bad, got_red, got_plain);
    ASSERT_GT(lost, FRAMES / 10);
    ASSERT_GT(bad, 2);
    ASSERT_EQ(got_red, FRAMES - lost - bad);
    ASSERT_EQ(got_plain, got_red);
    ASSERT_EQ(sfu_room_stats_get(room)->drops[SFU_DROP_MALFORMED], bad);
    sfu_out_deinit(&out);
    sfu_room_free(room);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* Without a mid extension RED's payload type finds the track too. A
 * publisher with RED negotiated may still send plain Opus: it reaches a RED
 * viewer as plain Opus with the viewer's Opus payload type. */
TEST(plain_opus_from_red_publisher)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(8);
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out out;
    ASSERT(pool && room && sfu_out_init(&out, 8) == 0);
    sfu_track_desc p = audio_desc(true, OPUS_PT, PUB_RED_PT, 0, "0");
    p.ext.mid = 0;
    sfu_track_desc rv = audio_desc(false, V_RED_OPUS_PT, V_RED_PT, 0xAA, "a");
    sfu_leg_desc pub = fx_leg(1, &p, 1), redl = fx_leg(2, &rv, 1);
    ASSERT_EQ(sfu_room_add_leg(room, PUB, ALICE, &pub, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, RED_VIEW, 200, &redl, 0), 0);
    ASSERT_EQ(sfu_room_bind(room, RED_VIEW, "a", ALICE, 0, &out), 0);
    uint8_t red[5] = { OPUS_PT, 0xfc, 1, 2, 3 }, *opus = red + 1;
    fx_rtp s = { PUB_SSRC, PUB_RED_PT, 1, 960, false, NULL, -1, -1, red, 5 };
    sfu_buf *b = fx_build(pool, &s);
    ASSERT_EQ(sfu_room_handle_rtp(room, PUB, b, 0, &out), 0);
    sfu_buf_unref(b);
    s = (fx_rtp){ PUB_SSRC, OPUS_PT, 2, 1920, false, NULL, -1, -1, opus, 4 };
    b = fx_build(pool, &s);
    ASSERT_EQ(sfu_room_handle_rtp(room, PUB, b, SFU_MS(20), &out), 0);
    sfu_buf_unref(b);
    ASSERT_EQ(out.count, 2);
    fx_seen seen;
    ASSERT_EQ(fx_read_rtp(&out.items[0], &seen), 0);
    ASSERT_EQ(seen.h.pt, V_RED_PT);
    ASSERT_EQ(seen.h.payload_len, 5);
    ASSERT_EQ(seen.bytes[seen.h.payload_off], V_RED_OPUS_PT);
    ASSERT_EQ(fx_read_rtp(&out.items[1], &seen), 0);
    ASSERT_EQ(seen.h.pt, V_RED_OPUS_PT);
    ASSERT_EQ(seen.h.payload_len, 4);
    ASSERT_MEM_EQ(seen.bytes + seen.h.payload_off, opus, 4);
    sfu_out_deinit(&out);
    sfu_room_free(room);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

static unsigned rtp_items(sfu_out *out, uint8_t *first, int *len)
{
    unsigned n = 0;
    for (unsigned k = 0; k < out->count; k++) {
        if (out->items[k].type != SFU_OUT_RTP)
            continue;
        fx_seen s;
        if (fx_read_rtp(&out->items[k], &s) != 0 || (n && (s.len != *len || memcmp(s.bytes, first, (size_t)s.len))))
            return 1000;    /* a copy must be the same bytes */
        if (!n)
            memcpy(first, s.bytes, (size_t)(*len = s.len));
        n++;
    }
    return n;
}

/* A viewer whose receiver reports show loss on its audio gets each audio
 * packet twice, then three times; loss-free reports bring it back to one. */
TEST(copies_follow_viewer_reports)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(16);
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out out;
    ASSERT(pool && room && sfu_out_init(&out, 16) == 0);
    sfu_track_desc p = audio_desc(true, OPUS_PT, PUB_RED_PT, 0, "0");
    sfu_track_desc pv = audio_desc(false, V_PLAIN_OPUS_PT, 0, 0xBB, "a");
    sfu_leg_desc pub = fx_leg(1, &p, 1), plainl = fx_leg(3, &pv, 1);
    ASSERT_EQ(sfu_room_add_leg(room, PUB, ALICE, &pub, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, PLAIN_VIEW, 300, &plainl, 0), 0);
    ASSERT_EQ(sfu_room_bind(room, PLAIN_VIEW, "a", ALICE, 0, &out), 0);
    static const struct { uint8_t fraction; unsigned reports, copies; } steps[] = {
        { 0, 0, 1 }, { 20, 1, 2 }, { 23, 1, 3 }, { 0, 9, 3 }, { 0, 1, 2 }, { 0, 10, 1 },
    };
    uint8_t first[1600];
    int len = 0;
    for (size_t i = 0; i < SFU_ARRAY_LEN(steps); i++) {
        for (unsigned k = 0; k < steps[i].reports; k++) {
            sfu_rtcp_rr rr = { .ssrc = 0x77, .report_count = 1 };
            rr.reports[0] = (sfu_rtcp_report_block){ .ssrc = 0xBB, .fraction_lost = steps[i].fraction };
            uint8_t b[64];
            int n = sfu_rtcp_rr_build(b, sizeof b, &rr);
            ASSERT_GT(n, 0);
            ASSERT_EQ(sfu_room_handle_rtcp(room, PLAIN_VIEW, b, (size_t)n, 0, &out), 0);
        }
        out.count = 0;
        uint8_t red[5] = { OPUS_PT, 0xfc, 1, 2, (uint8_t)i };
        fx_rtp s = { PUB_SSRC, PUB_RED_PT, (uint16_t)(10 + i), 960u * (uint32_t)i, false, "0", -1, 9, red, 5 };
        sfu_buf *b = fx_build(pool, &s);
        ASSERT_EQ(sfu_room_handle_rtp(room, PUB, b, SFU_MS(20) * (sfu_time)i, &out), 0);
        sfu_buf_unref(b);
        unsigned got = rtp_items(&out, first, &len);
        if (got != steps[i].copies)
            fprintf(stderr, "  step %zu\n", i);
        ASSERT_EQ(got, steps[i].copies);
        for (unsigned k = 0; k < out.count; k++)
            sfu_buf_unref(out.items[k].buf);
        out.count = 0;
    }
    ASSERT_EQ(sfu_room_stats_get(room)->audio_copies, 1 + 2 + 2 + 1);
    sfu_out_deinit(&out);
    sfu_room_free(room);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* Audio and video to a viewer share its path: once its video NACKs show
 * heavy loss (the video gets copies, sink_repair.h), each audio packet goes
 * out three times at once, before any receiver report on the audio. */
TEST(copies_follow_the_paths_video_loss)
{
    enum { VIEW = 4, VIEW_VIDEO_SSRC = 0x5000 };
    sfu_buf_pool *pool = sfu_buf_pool_new(512); /* the caches hold 2 x 64 */
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out out;
    ASSERT(pool && room && sfu_out_init(&out, 64) == 0);
    sfu_track_desc pt[2] = { audio_desc(true, OPUS_PT, PUB_RED_PT, 0, "0"), fx_pub_video("1") };
    sfu_track_desc vt[2] = { audio_desc(false, V_PLAIN_OPUS_PT, 0, 0xBB, "a"),
                             fx_view_video("v", VIEW_VIDEO_SSRC) };
    sfu_leg_desc pub = fx_leg(1, pt, 2), view = fx_leg(4, vt, 2);
    ASSERT_EQ(sfu_room_add_leg(room, PUB, ALICE, &pub, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, VIEW, 400, &view, 0), 0);
    ASSERT_EQ(sfu_room_bind(room, VIEW, "a", ALICE, 0, &out), 0);
    ASSERT_EQ(sfu_room_bind(room, VIEW, "v", ALICE, 0, &out), 0);
    out.count = 0;
    unsigned audio_seq = 1, audio_out[40] = { 0 };
    for (uint16_t q = 1; q <= 120; q++) {
        sfu_time now = SFU_MS(10) * q;
        /* a video packet; the viewer NACKs every third one it is sent */
        uint8_t pl[16];
        size_t n = fx_vp8(pl, true, q == 1, q, 0, q);
        fx_rtp v = { 0x7777, PUB_PT, q, 3000u * q, true, "1", -1, -1, pl, n };
        sfu_buf *b = fx_build(pool, &v);
        ASSERT(b);
        ASSERT_EQ(sfu_room_handle_rtp(room, PUB, b, now, &out), 0);
        sfu_buf_unref(b);
        for (unsigned k = 0; k < out.count; k++) {
            fx_seen seen;
            if (q % 3 == 0 && out.items[k].type == SFU_OUT_RTP && fx_read_rtp(&out.items[k], &seen) == 0 &&
                seen.h.ssrc == VIEW_VIDEO_SSRC) {
                uint8_t nack[64];
                int len = sfu_rtcp_nack_build(nack, sizeof nack, 0x44, VIEW_VIDEO_SSRC, &seen.h.seq16, 1);
                ASSERT_GT(len, 0);
                ASSERT_EQ(sfu_room_handle_rtcp(room, VIEW, nack, (size_t)len, now, &out), 0);
                break;
            }
        }
        for (unsigned k = 0; k < out.count; k++)
            sfu_buf_unref(out.items[k].buf);
        out.count = 0;
        if (q % 3)
            continue;
        /* an audio packet every third video one */
        uint8_t red[5] = { OPUS_PT, 0xfc, 1, 2, (uint8_t)q };
        fx_rtp a = { PUB_SSRC, PUB_RED_PT, (uint16_t)audio_seq, 960u * audio_seq, false, "0", -1, 9, red, 5 };
        b = fx_build(pool, &a);
        ASSERT(b);
        ASSERT_EQ(sfu_room_handle_rtp(room, PUB, b, now, &out), 0);
        sfu_buf_unref(b);
        uint8_t first[1600];
        int flen = 0;
        audio_out[audio_seq - 1] = rtp_items(&out, first, &flen);
        audio_seq++;
        for (unsigned k = 0; k < out.count; k++)
            sfu_buf_unref(out.items[k].buf);
        out.count = 0;
    }
    /* One copy while the link looked clean, three from the onset on (the
     * NACKs of one packet in three, about 40 packets). */
    ASSERT_EQ(audio_out[0], 1);
    ASSERT_EQ(audio_out[39], 3);
    unsigned first3 = 0;
    while (first3 < 40 && audio_out[first3] != 3)
        first3++;
    printf("  audio copies: three from audio packet %u (video packet %u) on\n", first3, 3 * (first3 + 1));
    ASSERT_LE(first3, 20);
    for (unsigned i = first3; i < 40; i++)
        ASSERT_EQ(audio_out[i], 3);
    ASSERT_GT(sfu_room_stats_get(room)->video_copies, 0);
    sfu_out_deinit(&out);
    sfu_room_free(room);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

TEST_LIST(TEST_ENTRY(red_to_red_and_plain_viewers), TEST_ENTRY(plain_opus_from_red_publisher),
          TEST_ENTRY(copies_follow_viewer_reports), TEST_ENTRY(copies_follow_the_paths_video_loss))
