/* Audio slots in the room (room_audio.c): sinks bound to
 * SFU_AUDIO_SLOT_BASE + k follow the room's selection of talkers, skip the
 * viewer's own participant, and stay one continuous stream across a switch. */
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

enum { LEG_A = 1, LEG_B = 2, LEG_C = 3, LEG_V = 4, A = 100, B = 200, C = 300, V = 400,
       SLOT_SSRC = 0x4242, A_SLOT_SSRC = 0x5252 };

static sfu_track_desc pub_audio(const char *mid)
{
    sfu_track_desc d = { .kind = SFU_KIND_AUDIO, .recv = true, .codec = SFU_CODEC_OPUS, .pt = OPUS_PT,
                         .clock_rate = 48000 };
    strncpy(d.mid, mid, SFU_MID_MAX - 1);
    d.ext.audio_level = EXT_LEVEL;
    d.ext.mid = EXT_MID;
    return d;
}

static sfu_track_desc slot_audio(const char *mid, uint32_t ssrc)
{
    sfu_track_desc d = { .kind = SFU_KIND_AUDIO, .send = true, .codec = SFU_CODEC_OPUS, .pt = 109,
                         .clock_rate = 48000, .local_ssrc = ssrc };
    strncpy(d.mid, mid, SFU_MID_MAX - 1);
    return d;
}

typedef struct last {
    bool any;
    uint16_t seq16;
    uint32_t ts;
    uint8_t tag;
} last;

/* Sends one 20 ms packet from each publisher (its payload's 3rd byte names
 * it) and reads what leg V's slot (SSRC SLOT_SSRC) and A's slot got. */
static int step(sfu_room *room, sfu_buf_pool *pool, sfu_out *out, int t_ms, int c_level, last *v,
                last *a_view, unsigned *gaps, int *src_of_v)
{
    static const struct { sfu_leg_id leg; uint32_t ssrc; uint8_t tag; } pubs[] = {
        { LEG_A, 0xA0, 'a' }, { LEG_B, 0xB0, 'b' }, { LEG_C, 0xC0, 'c' } };
    sfu_time now = SFU_MS(t_ms);
    for (unsigned i = 0; i < 3; i++) {
        uint8_t payload[3] = { 0xfc, 0, pubs[i].tag };
        int level = pubs[i].tag == 'c' ? c_level : 127;
        fx_rtp s = { pubs[i].ssrc, OPUS_PT, (uint16_t)(1000 * (i + 1) + t_ms / 20),
                     (uint32_t)(77777 * (i + 1) + 960 * (t_ms / 20)), false, "0", -1, level, payload, 3 };
        sfu_buf *b = fx_build(pool, &s);
        if (!b || sfu_room_handle_rtp(room, pubs[i].leg, b, now, out) != 0)
            return -1;
        sfu_buf_unref(b);
    }
    if (sfu_room_poll_timeout(room) <= now)
        sfu_room_handle_timeout(room, now, out);
    for (unsigned i = 0; i < out->count; i++) {
        fx_seen seen;
        if (out->items[i].type != SFU_OUT_RTP || fx_read_rtp(&out->items[i], &seen) != 0)
            continue;
        last *l = seen.h.ssrc == SLOT_SSRC ? v : seen.h.ssrc == A_SLOT_SSRC ? a_view : NULL;
        if (!l)
            continue;
        uint8_t tag = seen.bytes[seen.h.payload_off + 2];
        if (l->any && (uint16_t)(l->seq16 + 1) != seen.h.seq16)
            (*gaps)++;
        if (l->any && (int32_t)(seen.h.ts - l->ts) <= 0)
            (*gaps)++;
        *l = (last){ true, seen.h.seq16, seen.h.ts, tag };
        if (l == v)
            *src_of_v = tag;
    }
    sfu_out_reset(out);
    return 0;
}

TEST(slots_follow_the_loudest_and_skip_self)
{
    sfu_room_config cfg = { .max_legs = 8, .liveness_timeout = SFU_SEC(60), .audio_slots = 1 };
    sfu_buf_pool *pool = sfu_buf_pool_new(64);
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out out;
    ASSERT(pool && room && sfu_out_init(&out, 64) == 0);
    sfu_track_desc a[2] = { pub_audio("0"), slot_audio("s", A_SLOT_SSRC) };
    sfu_track_desc b = pub_audio("0"), c = pub_audio("0"), vs = slot_audio("s", SLOT_SSRC);
    sfu_leg_desc la = fx_leg(1, a, 2), lb = fx_leg(2, &b, 1), lc = fx_leg(3, &c, 1), lv = fx_leg(4, &vs, 1);
    ASSERT_EQ(sfu_room_add_leg(room, LEG_A, A, &la, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, LEG_B, B, &lb, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, LEG_C, C, &lc, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, LEG_V, V, &lv, 0), 0);
    ASSERT_EQ(sfu_room_bind(room, LEG_V, "s", SFU_AUDIO_SLOT_BASE, 0, &out), 0);
    ASSERT_EQ(sfu_room_bind(room, LEG_A, "s", SFU_AUDIO_SLOT_BASE, 0, &out), 0);
    /* an audio slot on a video m-line is refused */
    sfu_track_desc vv = fx_view_video("x", 0x7070);
    sfu_leg_desc lx = fx_leg(5, &vv, 1);
    ASSERT_EQ(sfu_room_add_leg(room, 9, 900, &lx, 0), 0);
    ASSERT_EQ(sfu_room_bind(room, 9, "x", SFU_AUDIO_SLOT_BASE, 0, &out), -SFU_EINVAL);
    sfu_out_reset(&out);

    last v = { 0 }, av = { 0 };
    unsigned gaps = 0;
    int src = 0;
    /* Everyone silent: the two positions go to the first heard, A and B. V
     * hears A (position 0); A does not hear itself: it gets B. */
    for (int t = 0; t < 1000; t += 20)
        ASSERT_EQ(step(room, pool, &out, t, 127, &v, &av, &gaps, &src), 0);
    uint32_t pos[4];
    ASSERT_EQ(sfu_room_audio_selection(room, pos, 4), 2u);
    ASSERT_EQ(pos[0], A);
    ASSERT_EQ(pos[1], B);
    ASSERT_EQ(src, 'a');
    ASSERT_EQ(av.tag, 'b');
    sfu_room_audio_slot sl[2];
    ASSERT_EQ(sfu_room_audio_slots(room, LEG_V, sl, 2), 1u);
    ASSERT_EQ(sl[0].participant, A);
    ASSERT(sl[0].carrying);
    /* C talks: within about a second it replaces A (the weakest, position
     * 0), and V's slot carries C on the same SSRC, numbering running on. */
    int switched_at = -1;
    for (int t = 1000; t < 4000; t += 20) {
        ASSERT_EQ(step(room, pool, &out, t, 25, &v, &av, &gaps, &src), 0);
        if (src == 'c' && switched_at < 0)
            switched_at = t;
    }
    ASSERT(switched_at > 1000);
    ASSERT(switched_at <= 2000);
    ASSERT_EQ(src, 'c');
    ASSERT_EQ(av.tag, 'c');         /* A's own view: C, the speaker, in place of the silent B; never A */
    ASSERT_EQ(gaps, 0u);
    ASSERT_EQ(sfu_room_active_speaker(room), C);
    char slot_mid[SFU_MID_MAX];
    memcpy(slot_mid, sl[0].mid, sizeof slot_mid);
    ASSERT_EQ(sfu_room_audio_slots(room, LEG_V, sl, 2), 1u);
    ASSERT_EQ(sl[0].participant, C);        /* GET /rooms shows whom the slot carries */
    ASSERT(sl[0].carrying);
    ASSERT(strcmp(sl[0].mid, slot_mid) == 0 && sl[0].mid[0]);
    ASSERT_EQ(sfu_room_audio_slots(room, LEG_V, sl, 0), 1u);    /* counted past cap */
    /* C leaves: the position empties and is filled again from the rest. */
    sfu_room_remove_leg(room, LEG_C, SFU_MS(4000), &out);
    sfu_out_reset(&out);
    for (int t = 4020; t < 4400; t += 20) {
        sfu_time now = SFU_MS(t);
        if (sfu_room_poll_timeout(room) <= now)
            sfu_room_handle_timeout(room, now, &out);
        sfu_out_reset(&out);
    }
    ASSERT_EQ(sfu_room_audio_selection(room, pos, 4), 2u);
    ASSERT(pos[0] != C && pos[1] != C);
    ASSERT(pos[0] && pos[1]);
    sfu_out_deinit(&out);
    sfu_room_free(room);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* One 20 ms packet from each of `n` publishers (legs 1..n, participant
 * 100 * leg, payload tag 'a' + i) at its level; returns the tag V's slot
 * (SSRC SLOT_SSRC) carried last, or the previous one. */
static int step_n(sfu_room *room, sfu_buf_pool *pool, sfu_out *out, int t_ms, const int *level, unsigned n,
                  last *v, unsigned *gaps)
{
    sfu_time now = SFU_MS(t_ms);
    for (unsigned i = 0; i < n; i++) {
        uint8_t payload[3] = { 0xfc, 0, (uint8_t)('a' + i) };
        fx_rtp s = { 0xA0 + 0x10 * i, OPUS_PT, (uint16_t)(1000 * (i + 1) + t_ms / 20),
                     (uint32_t)(77777 * (i + 1) + 960 * (t_ms / 20)), false, "0", -1, level[i], payload, 3 };
        sfu_buf *b = fx_build(pool, &s);
        if (!b || sfu_room_handle_rtp(room, (sfu_leg_id)(i + 1), b, now, out) != 0)
            return -1;
        sfu_buf_unref(b);
    }
    if (sfu_room_poll_timeout(room) <= now)
        sfu_room_handle_timeout(room, now, out);
    for (unsigned i = 0; i < out->count; i++) {
        fx_seen seen;
        if (out->items[i].type != SFU_OUT_RTP || fx_read_rtp(&out->items[i], &seen) != 0 ||
            seen.h.ssrc != SLOT_SSRC)
            continue;
        if (v->any && ((uint16_t)(v->seq16 + 1) != seen.h.seq16 || (int32_t)(seen.h.ts - v->ts) <= 0))
            (*gaps)++;
        *v = (last){ true, seen.h.seq16, seen.h.ts, seen.bytes[seen.h.payload_off + 2] };
    }
    sfu_out_reset(out);
    return 0;
}

/* The selection has one position more than a viewer has slots. A viewer
 * that is not selected carries the louder ones: when a talker stops and
 * another starts, the newcomer takes the position of a silent one, and the
 * viewer's slot must leave the one who stopped (still selected: nobody is
 * louder than it by the margin) for the newcomer. */
TEST(a_viewer_with_fewer_slots_follows_a_new_talker)
{
    sfu_room_config cfg = { .max_legs = 8, .liveness_timeout = SFU_SEC(60), .audio_slots = 1 };
    sfu_buf_pool *pool = sfu_buf_pool_new(64);
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out out;
    ASSERT(pool && room && sfu_out_init(&out, 64) == 0);
    sfu_track_desc pubs[3] = { pub_audio("0"), pub_audio("0"), pub_audio("0") };
    for (unsigned i = 0; i < 3; i++) {
        sfu_leg_desc l = fx_leg(i + 1, &pubs[i], 1);
        ASSERT_EQ(sfu_room_add_leg(room, (sfu_leg_id)(i + 1), 100 * (i + 1), &l, 0), 0);
    }
    sfu_track_desc vs = slot_audio("s", SLOT_SSRC);
    sfu_leg_desc lv = fx_leg(9, &vs, 1);
    ASSERT_EQ(sfu_room_add_leg(room, LEG_V, V, &lv, 0), 0);
    ASSERT_EQ(sfu_room_bind(room, LEG_V, "s", SFU_AUDIO_SLOT_BASE, 0, &out), 0);
    sfu_out_reset(&out);
    last v = { 0 };
    unsigned gaps = 0;
    /* A (leg 1) talks, B and C are silent: A and B hold the two positions
     * (the first heard); V hears A. */
    int phase1[3] = { 25, 127, 127 };
    for (int t = 0; t < 3000; t += 20)
        ASSERT_EQ(step_n(room, pool, &out, t, phase1, 3, &v, &gaps), 0);
    uint32_t pos[4];
    ASSERT_EQ(sfu_room_audio_selection(room, pos, 4), 2u);
    ASSERT(pos[0] == A || pos[1] == A);
    ASSERT_EQ(v.tag, 'a');
    /* A stops, C starts: C must be heard within 1.5 s, on the same SSRC
     * with numbering running on. */
    int phase2[3] = { 127, 127, 25 };
    int heard_at = -1;
    for (int t = 3000; t < 6000; t += 20) {
        ASSERT_EQ(step_n(room, pool, &out, t, phase2, 3, &v, &gaps), 0);
        if (v.tag == 'c' && heard_at < 0)
            heard_at = t;
    }
    ASSERT(heard_at > 3000);
    ASSERT(heard_at <= 4500);
    ASSERT_EQ(v.tag, 'c');
    ASSERT_EQ(gaps, 0u);
    /* B starts too, as loud as C: V keeps C (no swap without the margin). */
    int phase3[3] = { 127, 25, 25 };
    for (int t = 6000; t < 9000; t += 20) {
        ASSERT_EQ(step_n(room, pool, &out, t, phase3, 3, &v, &gaps), 0);
        ASSERT_EQ(v.tag, 'c');
    }
    ASSERT_EQ(gaps, 0u);
    sfu_out_deinit(&out);
    sfu_room_free(room);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* Without audio slots configured, a slot binding carries nothing. */
TEST(no_slots_configured)
{
    sfu_room_config cfg = { .max_legs = 4, .liveness_timeout = SFU_SEC(60) };
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out out;
    ASSERT(room && sfu_out_init(&out, 16) == 0);
    sfu_track_desc vs = slot_audio("s", SLOT_SSRC);
    sfu_leg_desc lv = fx_leg(4, &vs, 1);
    ASSERT_EQ(sfu_room_add_leg(room, LEG_V, V, &lv, 0), 0);
    ASSERT_EQ(sfu_room_bind(room, LEG_V, "s", SFU_AUDIO_SLOT_BASE + 2, 0, &out), 0);
    uint32_t pos[2];
    ASSERT_EQ(sfu_room_audio_selection(room, pos, 2), 0u);
    sfu_out_deinit(&out);
    sfu_room_free(room);
    sfu_room_config bad = { .max_legs = 4, .audio_slots = SFU_AUDIO_SLOTS_MAX + 1 };
    ASSERT(sfu_room_new(&bad) == NULL);
    return 0;
}

TEST_LIST(TEST_ENTRY(slots_follow_the_loudest_and_skip_self),
          TEST_ENTRY(a_viewer_with_fewer_slots_follows_a_new_talker), TEST_ENTRY(no_slots_configured))
