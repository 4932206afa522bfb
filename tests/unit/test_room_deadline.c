/* The room's earliest deadline is kept up to date as inputs change it
 * (sfu_room_poll_timeout recomputes only the legs an input touched): after
 * every input it must equal a scan of every leg and track
 * (sfu_room_poll_timeout_rescan), or a deadline an input set would be missed
 * (the room's timer armed too late) or a withdrawn one would wake it early.
 * A 1:1 call with video and audio both ways, on a virtual clock. */
#include "sfu/core/rtcp_fb.h"
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

#include <stdio.h>

enum { LEG_A = 1, LEG_B = 2, A = 100, B = 200 };

typedef struct rig {
    sfu_buf_pool *pool;
    sfu_room *room;
    sfu_out out;
} rig;

static uint32_t pub_ssrc(int who, bool video) { return (who ? 0xB000u : 0xA000u) + (video ? 0 : 1); }
static uint32_t view_ssrc(int who, bool video) { return (who ? 0xB100u : 0xA100u) + (video ? 0 : 2); }
static sfu_leg_id leg_of(int who) { return who ? LEG_B : LEG_A; }

static sfu_track_desc pub_audio(const char *mid)
{
    sfu_track_desc d = { .kind = SFU_KIND_AUDIO, .recv = true, .codec = SFU_CODEC_OPUS, .pt = OPUS_PT,
                         .clock_rate = 48000, .fb_twcc = true };
    strncpy(d.mid, mid, SFU_MID_MAX - 1);
    d.ext.audio_level = EXT_LEVEL;
    d.ext.mid = EXT_MID;
    d.ext.twcc = EXT_TWCC;
    return d;
}

static sfu_track_desc view_audio(const char *mid, uint32_t ssrc)
{
    sfu_track_desc d = { .kind = SFU_KIND_AUDIO, .send = true, .codec = SFU_CODEC_OPUS, .pt = 109,
                         .clock_rate = 48000, .local_ssrc = ssrc };
    strncpy(d.mid, mid, SFU_MID_MAX - 1);
    return d;
}

static int rig_open_slots(rig *r, sfu_time liveness, uint8_t audio_slots)
{
    memset(r, 0, sizeof *r);
    sfu_room_config c = { .max_legs = 8, .liveness_timeout = liveness, .rtx_cache_packets = 64,
                          .keyframe_min_interval = SFU_MS(300), .audio_slots = audio_slots };
    r->pool = sfu_buf_pool_new(512);
    r->room = sfu_room_new(&c);
    if (!r->pool || !r->room || sfu_out_init(&r->out, 256) < 0)
        return -1;
    for (int who = 0; who < 2; who++) {
        sfu_track_desc t[4] = { fx_pub_video("0"), pub_audio("1"), fx_view_video("2", view_ssrc(who, true)),
                                view_audio("3", view_ssrc(who, false)) };
        sfu_leg_desc d = fx_leg(who ? 0xB0Bu : 0xA1Au, t, 4);
        if (sfu_room_add_leg(r->room, leg_of(who), who ? B : A, &d, 0) < 0)
            return -2;
    }
    for (int who = 0; who < 2; who++)
        if (sfu_room_bind(r->room, leg_of(who), "2", who ? A : B, 0, &r->out) < 0 ||
            sfu_room_bind(r->room, leg_of(who), "3", who ? A : B, 0, &r->out) < 0)
            return -3;
    return 0;
}

static int rig_open(rig *r, sfu_time liveness) { return rig_open_slots(r, liveness, 0); }

static void rig_close(rig *r)
{
    sfu_out_deinit(&r->out);
    sfu_room_free(r->room);
    sfu_buf_pool_free(r->pool);
}

/* The incremental deadline against the full scan; prints both when apart. */
static bool exact(rig *r, const char *after, sfu_time now)
{
    sfu_time inc = sfu_room_poll_timeout(r->room), full = sfu_room_poll_timeout_rescan(r->room);
    if (inc == full)
        return true;
    fprintf(stderr, "  at %lld ms after %s: poll %lld, rescan %lld\n", (long long)(now / SFU_MS(1)), after,
            (long long)inc, (long long)full);
    return false;
}

static int send_video(rig *r, int who, uint16_t seq, bool key, sfu_time now)
{
    uint8_t pl[16];
    size_t n = fx_vp8(pl, true, key, (uint16_t)(seq + 7), 3, seq);
    fx_rtp s = { pub_ssrc(who, true), PUB_PT, seq, (uint32_t)seq * 3000u, true, "0", seq, -1, pl, n };
    sfu_buf *b = fx_build(r->pool, &s);
    if (!b)
        return -SFU_ENOMEM;
    int rc = sfu_room_handle_rtp(r->room, leg_of(who), b, now, &r->out);
    sfu_buf_unref(b);
    return rc;
}

static int send_audio(rig *r, int who, uint16_t seq, int level, int twcc, sfu_time now)
{
    uint8_t pl[40] = { 0xfc };
    fx_rtp s = { pub_ssrc(who, false), OPUS_PT, seq, (uint32_t)seq * 960u, false, "1", twcc, level, pl, sizeof pl };
    sfu_buf *b = fx_build(r->pool, &s);
    if (!b)
        return -SFU_ENOMEM;
    int rc = sfu_room_handle_rtp(r->room, leg_of(who), b, now, &r->out);
    sfu_buf_unref(b);
    return rc;
}

/* `who`'s PLI about the video it views. */
static int send_pli(rig *r, int who, sfu_time now)
{
    uint8_t buf[64];
    int n = sfu_rtcp_pli_build(buf, sizeof buf, who ? 0xB0Bu : 0xA1Au, view_ssrc(who, true));
    return n < 0 ? n : sfu_room_handle_rtcp(r->room, leg_of(who), buf, (size_t)n, now, &r->out);
}

static int send_nack(rig *r, int who, uint16_t seq, sfu_time now)
{
    uint8_t buf[64];
    int n = sfu_rtcp_nack_build(buf, sizeof buf, who ? 0xB0Bu : 0xA1Au, view_ssrc(who, true), &seq, 1);
    return n < 0 ? n : sfu_room_handle_rtcp(r->room, leg_of(who), buf, (size_t)n, now, &r->out);
}

/* A gap in A's video sets a NACK deadline on A's producer, earlier than
 * anything else due; the packets that fill it withdraw it. */
TEST(gap_sets_and_fill_withdraws_nack_deadline)
{
    rig r;
    ASSERT_EQ(rig_open(&r, SFU_SEC(5)), 0);
    sfu_time now = SFU_MS(10);
    ASSERT_EQ(send_video(&r, 0, 100, true, now), 0);
    ASSERT_EQ(send_video(&r, 1, 500, true, now), 0);
    ASSERT(exact(&r, "keyframes", now));
    sfu_room_handle_timeout(r.room, now, &r.out);
    sfu_out_reset(&r.out);
    ASSERT(exact(&r, "timeout", now));
    sfu_time before = sfu_room_poll_timeout(r.room);
    ASSERT_GE(before, SFU_MS(100)); /* reports and feedback only */
    now += SFU_MS(20);
    ASSERT_EQ(send_video(&r, 0, 103, false, now), 0); /* 101, 102 missing */
    ASSERT(exact(&r, "gap", now));
    sfu_time nack_at = sfu_room_poll_timeout(r.room);
    ASSERT_LT(nack_at, before);
    now += SFU_MS(1);
    ASSERT_EQ(send_video(&r, 0, 101, false, now), 0);
    ASSERT_EQ(send_video(&r, 0, 102, false, now), 0);
    ASSERT(exact(&r, "filled", now));
    ASSERT_GT(sfu_room_poll_timeout(r.room), nack_at);
    sfu_out_reset(&r.out);
    rig_close(&r);
    return 0;
}

/* B's PLI is an input on B's leg that sets a deadline on A's producer (a
 * keyframe request to repeat, or one deferred to the timeout). */
TEST(viewer_pli_sets_publisher_deadline)
{
    rig r;
    ASSERT_EQ(rig_open(&r, SFU_SEC(5)), 0);
    sfu_time now = SFU_MS(10);
    ASSERT_EQ(send_video(&r, 0, 100, true, now), 0);
    sfu_room_handle_timeout(r.room, now, &r.out);
    sfu_out_reset(&r.out);
    ASSERT(exact(&r, "timeout", now));
    for (int i = 1; i <= 40; i++) {
        now += SFU_MS(33);
        ASSERT_EQ(send_video(&r, 0, (uint16_t)(100 + i), false, now), 0);
        if (i % 7 == 0)
            ASSERT_EQ(send_pli(&r, 1, now), 0);
        ASSERT(exact(&r, i % 7 == 0 ? "pli" : "video", now));
        if (now >= sfu_room_poll_timeout(r.room)) {
            sfu_room_handle_timeout(r.room, now, &r.out);
            ASSERT(exact(&r, "timeout", now));
        }
        sfu_out_reset(&r.out);
    }
    rig_close(&r);
    return 0;
}

/* Consent held, then lapsing: the liveness deadline (shorter than the
 * reports' second here) comes back with the input that lapses it. */
TEST(consent_lapse_sets_liveness_deadline)
{
    rig r;
    ASSERT_EQ(rig_open(&r, SFU_MS(300)), 0);
    sfu_time now = SFU_MS(10);
    sfu_room_handle_consent(r.room, LEG_A, true, now);
    sfu_room_handle_consent(r.room, LEG_B, true, now);
    sfu_room_handle_timeout(r.room, now, &r.out);
    sfu_out_reset(&r.out);
    ASSERT(exact(&r, "consent held", now));
    sfu_time held = sfu_room_poll_timeout(r.room);
    now += SFU_MS(50);
    sfu_room_handle_consent(r.room, LEG_B, false, now);
    ASSERT(exact(&r, "consent lapsed", now));
    ASSERT_EQ(sfu_room_poll_timeout(r.room), now + SFU_MS(300));
    ASSERT_LT(now + SFU_MS(300), held);
    now += SFU_MS(100);
    sfu_room_handle_alive(r.room, LEG_B, now); /* moves it later */
    ASSERT(exact(&r, "alive", now));
    ASSERT_EQ(sfu_room_poll_timeout(r.room), now + SFU_MS(300));
    now += SFU_MS(100);
    ASSERT_EQ(send_nack(&r, 1, 7, now), 0); /* any RTCP is a sign of life too */
    ASSERT(exact(&r, "rtcp", now));
    ASSERT_EQ(sfu_room_poll_timeout(r.room), now + SFU_MS(300));
    rig_close(&r);
    return 0;
}

/* Half of the transport-cc arrivals a leg holds: its feedback is due at once. */
TEST(twcc_arrivals_make_feedback_due)
{
    rig r;
    ASSERT_EQ(rig_open(&r, SFU_SEC(5)), 0);
    sfu_time now = SFU_MS(10);
    sfu_room_handle_timeout(r.room, now, &r.out);
    sfu_out_reset(&r.out);
    ASSERT(exact(&r, "timeout", now));
    for (int i = 0; i < 128; i++) {
        ASSERT_EQ(send_audio(&r, 0, (uint16_t)(1 + i), -1, i, now), 0);
        sfu_out_reset(&r.out);
    }
    ASSERT(exact(&r, "arrivals", now));
    ASSERT_EQ(sfu_room_poll_timeout(r.room), now);
    rig_close(&r);
    return 0;
}

/* Every input the room takes, in random order, loss and reordering
 * included; the timeout runs when the poll says so, as the driver does. */
static int random_inputs(uint8_t audio_slots, uint32_t x)
{
    rig r;
    ASSERT_EQ(rig_open_slots(&r, SFU_MS(700), audio_slots), 0);
    sfu_time now = 0;
    uint16_t vseq[2] = { 100, 900 }, aseq[2] = { 1, 4000 };
    int tw[2] = { 0, 0 };
    bool held[2] = { false, false };
    for (int i = 0; i < 20000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t k = (x >> 8) % 100, who = (x >> 20) & 1;
        const char *what;
        now += (sfu_time)((x >> 24) % 4) * SFU_MS(1);
        if (k < 35) {
            what = "audio";
            int level = (x >> 4) % 3 == 0 ? -1 : (int)((x >> 12) % 128);
            ASSERT_EQ(send_audio(&r, (int)who, aseq[who]++, level, tw[who]++ & 0xffff, now), 0);
        } else if (k < 70) {
            what = "video";
            uint16_t s = vseq[who]++;
            if ((x >> 12) % 16 == 0)
                s = vseq[who]++;                        /* one lost */
            else if ((x >> 12) % 16 == 1)
                s = (uint16_t)(vseq[who] - 3);           /* late, or a repair */
            ASSERT_GE(send_video(&r, (int)who, s, (x >> 16) % 30 == 0, now), 0);
        } else if (k < 75) {
            what = "pli";
            ASSERT_EQ(send_pli(&r, (int)who, now), 0);
        } else if (k < 80) {
            what = "nack";
            ASSERT_EQ(send_nack(&r, (int)who, (uint16_t)(x >> 10), now), 0);
        } else if (k < 84) {
            what = "consent";
            held[who] = !held[who];
            sfu_room_handle_consent(r.room, leg_of((int)who), held[who], now - SFU_MS(50));
        } else if (k < 88) {
            what = "alive";
            sfu_room_handle_alive(r.room, leg_of((int)who), now);
        } else if (k < 89) {
            what = "path changed";
            sfu_room_handle_path_changed(r.room, leg_of((int)who), now, &r.out);
        } else if (k < 90) {
            what = "max layer";
            ASSERT_EQ(sfu_room_set_max_layer(r.room, leg_of((int)who), "2", (int)(x >> 12) % 2 - 1, now, &r.out),
                      0);
        } else {
            what = "nothing";
        }
        ASSERT(exact(&r, what, now));
        if (now >= sfu_room_poll_timeout(r.room)) {
            sfu_room_handle_timeout(r.room, now, &r.out);
            ASSERT(exact(&r, "timeout", now));
        }
        sfu_out_reset(&r.out);
    }
    rig_close(&r);
    return 0;
}

TEST(random_inputs_keep_deadline_exact)
{
    return random_inputs(0, 12345);
}

/* The same with the room's audio-slot selection, whose deadline levels move. */
TEST(random_inputs_with_audio_slots_keep_deadline_exact)
{
    return random_inputs(2, 777);
}

TEST_LIST(TEST_ENTRY(gap_sets_and_fill_withdraws_nack_deadline), TEST_ENTRY(viewer_pli_sets_publisher_deadline),
          TEST_ENTRY(consent_lapse_sets_liveness_deadline), TEST_ENTRY(twcc_arrivals_make_feedback_due),
          TEST_ENTRY(random_inputs_keep_deadline_exact),
          TEST_ENTRY(random_inputs_with_audio_slots_keep_deadline_exact))
