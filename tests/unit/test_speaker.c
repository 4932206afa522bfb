#include "sfu/core/speaker.h"
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

/* Level sequences in the shape browsers send them: one RFC 6464 level per
 * 20 ms packet. Speech is syllables (~170 ms voiced, V = 1, then an 80 ms dip)
 * with a breath pause every 1.5 s; a cough is a short loud burst; noise
 * hovers near the floor with V = 0; between segments a participant sends
 * silence (127), unless gone. */
enum { A = 11, B = 22, C = 33, NPART = 3, ANY = -1 };
static const uint32_t part_ids[NPART] = { A, B, C };

typedef enum kind { SPEECH, COUGH, NOISE, TYPING, GONE, LEAVE } kind;

typedef struct seg {
    uint32_t who;
    kind what;
    int from_ms, to_ms;
    int base;                   /* speech and noise: the typical level */
} seg;

typedef struct change {
    int who;                    /* ANY: either participant will do */
    int turn_ms;                /* the real switch starts here; latency counts from it */
} change;

typedef struct scenario {
    const char *name;
    int end_ms;
    seg segs[8];
    change want[6];
    int nwant;
} scenario;

static uint32_t rng = 1;
static int jitter(int amp)
{
    rng = rng * 1103515245u + 12345u;
    return (int)((rng >> 16) % (uint32_t)(2 * amp + 1)) - amp;
}

static int clamp_level(int l) { return l < 0 ? 0 : l > 127 ? 127 : l; }

/* The level of one packet at `t` ms into a segment; false: no packet. */
static bool sample(const seg *s, int t, uint8_t *level, bool *voice)
{
    int l = 127;
    *voice = false;
    switch (s->what) {
    case SPEECH: {
        bool breath = t % 1500 >= 1200;
        bool voiced = !breath && t % 250 < 170;
        *voice = voiced;
        l = breath ? 75 + jitter(3) : voiced ? s->base + jitter(5) : s->base + 15 + jitter(4);
        break;
    }
    case COUGH:
        *voice = true;
        l = 5 + jitter(3);
        break;
    case NOISE:
        l = s->base + jitter(4);
        break;
    case TYPING: /* clicks from a sender whose VAD says "no speech" */
        l = t % 120 < 40 ? s->base + jitter(5) : s->base + 25;
        break;
    case GONE:
    case LEAVE:
        return false;
    }
    *level = (uint8_t)clamp_level(l);
    return true;
}

typedef struct run {
    int n;
    int who[32];
    int at_ms[32];
} run;

static const seg *seg_at(const scenario *sc, uint32_t who, int ms)
{
    for (unsigned i = 0; i < SFU_ARRAY_LEN(sc->segs); i++) {
        const seg *s = &sc->segs[i];
        if (s->to_ms > s->from_ms && s->who == who && ms >= s->from_ms && ms < s->to_ms)
            return s;
    }
    return NULL;
}

static bool left(const scenario *sc, uint32_t who, int ms)
{
    for (unsigned i = 0; i < SFU_ARRAY_LEN(sc->segs); i++)
        if (sc->segs[i].who == who && sc->segs[i].what == LEAVE && ms >= sc->segs[i].from_ms)
            return true;
    return false;
}

static void record(sfu_speaker *sp, run *r, sfu_time now)
{
    uint32_t p;
    if (sfu_speaker_take_change(sp, &p) && r->n < 32) {
        r->who[r->n] = (int)p;
        r->at_ms[r->n++] = (int)(now / 1000);
    }
}

/* Plays a scenario: packets every 20 ms per participant (staggered by a few
 * ms, as they would arrive), timeouts when the detector asks. */
static int play(const scenario *sc, run *r)
{
    sfu_speaker *sp = sfu_speaker_new(4);
    if (!sp)
        return -1;
    rng = 1;
    *r = (run){ 0 };
    bool removed[NPART] = { false };
    for (int ms = 0; ms < sc->end_ms; ms++) {
        sfu_time now = SFU_MS(ms);
        if (sfu_speaker_poll_timeout(sp) <= now) {
            sfu_speaker_handle_timeout(sp, now);
            record(sp, r, now);
        }
        for (int i = 0; i < NPART; i++) {
            uint32_t who = part_ids[i];
            if (left(sc, who, ms)) {
                if (!removed[i])
                    sfu_speaker_remove(sp, who);
                removed[i] = true;
                continue;
            }
            if (ms % 20 != i * 3)
                continue;
            const seg *s = seg_at(sc, who, ms);
            uint8_t level = 127;
            bool voice = false;
            if (s && !sample(s, ms - s->from_ms, &level, &voice))
                continue;
            if (sfu_speaker_handle_level(sp, who, level, voice, now) < 0) {
                sfu_speaker_free(sp);
                return -1;
            }
            record(sp, r, now);
        }
    }
    sfu_speaker_free(sp);
    return 0;
}

static const scenario scenarios[] = {
    { "alternating_with_pauses", 14000,
      { { A, SPEECH, 0, 4000, 30 }, { B, SPEECH, 5000, 9000, 35 }, { A, SPEECH, 10000, 13000, 30 } },
      { { A, 0 }, { B, 5000 }, { A, 10000 } }, 3 },
    { "quick_turns", 9000, /* short turns, no pauses between: still one change a turn */
      { { A, SPEECH, 0, 2200, 30 }, { B, SPEECH, 2200, 4400, 30 }, { A, SPEECH, 4400, 6600, 30 },
        { B, SPEECH, 6600, 9000, 30 } },
      { { A, 0 }, { B, 2200 }, { A, 4400 }, { B, 6600 } }, 4 },
    { "steady_talker_and_coughs", 12000, /* one cough mid-word, one in a breath pause */
      { { A, SPEECH, 0, 12000, 35 }, { B, COUGH, 3000, 3300, 0 }, { B, COUGH, 5720, 5980, 0 },
        { C, COUGH, 8700, 9000, 0 } },
      { { A, 0 } }, 1 },
    { "background_noise", 14000, /* B's room is noisy; C types after talking */
      { { C, SPEECH, 0, 2500, 30 }, { A, SPEECH, 3500, 7000, 32 }, { B, NOISE, 0, 14000, 54 },
        { C, TYPING, 7500, 14000, 30 } },
      { { C, 0 }, { A, 3500 } }, 2 },
    { "crosstalk_louder_interrupter", 10000, /* an "mm-hm", then B talks over A and keeps going */
      { { A, SPEECH, 0, 6000, 38 }, { B, SPEECH, 2000, 2400, 30 }, { B, SPEECH, 4000, 9000, 20 } },
      { { A, 0 }, { B, 4000 } }, 2 },
    { "three_way_rate_limited", 9000, /* B takes over and at once gives way to C */
      { { A, SPEECH, 0, 3000, 30 }, { B, SPEECH, 3000, 4300, 30 }, { C, SPEECH, 3600, 8000, 10 } },
      { { A, 0 }, { B, 3000 }, { C, 3600 } }, 3 },
    { "crosstalk_equal", 10000, /* both at once, equally loud: someone, once */
      { { A, SPEECH, 0, 10000, 30 }, { B, SPEECH, 100, 10000, 30 } },
      { { ANY, 0 } }, 1 },
    { "talker_leaves", 12000, /* B is the speaker and leaves; A takes over when talking */
      { { A, SPEECH, 0, 3000, 30 }, { B, SPEECH, 3500, 6000, 30 }, { B, LEAVE, 6000, 6001, 0 },
        { A, SPEECH, 8000, 11000, 30 } },
      { { A, 0 }, { B, 3500 }, { A, 8000 } }, 3 },
    { "talker_stops_sending", 9000, /* A's packets stop (DTX, crash); B talks */
      { { A, SPEECH, 0, 3000, 30 }, { A, GONE, 3000, 9000, 0 }, { B, SPEECH, 4000, 8000, 30 } },
      { { A, 0 }, { B, 4000 } }, 2 },
    { "silence_keeps_speaker", 20000, /* silence, then no packets at all: A stays */
      { { A, SPEECH, 0, 2000, 30 }, { A, GONE, 12000, 20000, 0 }, { B, GONE, 12000, 20000, 0 },
        { C, GONE, 12000, 20000, 0 } },
      { { A, 0 } }, 1 },
};

TEST(recorded_sequences)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(scenarios); i++) {
        const scenario *sc = &scenarios[i];
        run r;
        ASSERT_EQ(play(sc, &r), 0);
        fprintf(stderr, "  %-30s", sc->name);
        for (int k = 0; k < r.n; k++)
            fprintf(stderr, " %d@%d", r.who[k], r.at_ms[k]);
        fprintf(stderr, "\n");
        ASSERT_EQ(r.n, sc->nwant);
        for (int k = 0; k < r.n; k++) {
            if (sc->want[k].who != ANY)
                ASSERT_EQ(r.who[k], sc->want[k].who);
            ASSERT_GE(r.at_ms[k], sc->want[k].turn_ms);
            ASSERT_LT(r.at_ms[k] - sc->want[k].turn_ms, 1500); /* a real switch is quick */
            if (k > 0) {
                ASSERT_NE(r.who[k], r.who[k - 1]);
                ASSERT_GE(r.at_ms[k] - r.at_ms[k - 1], 1000); /* never more often than 1/s */
            }
        }
    }
    return 0;
}

/* A switch whose wait ends after the candidate's packets stopped is made by
 * handle_timeout, at the deadline poll_timeout gave. */
TEST(switch_from_timeout)
{
    sfu_speaker *sp = sfu_speaker_new(2);
    ASSERT(sp);
    ASSERT_EQ(sfu_speaker_poll_timeout(sp), SFU_TIME_NEVER);
    uint32_t p = 0;
    ASSERT(!sfu_speaker_current(sp, &p));
    sfu_time now = 0;
    for (; now < SFU_MS(1500); now += SFU_MS(20))
        ASSERT_EQ(sfu_speaker_handle_level(sp, A, 25, true, now), 0);
    ASSERT(sfu_speaker_take_change(sp, &p));
    ASSERT_EQ(p, A);
    ASSERT(!sfu_speaker_take_change(sp, &p)); /* once per change */
    sfu_time b_from = SFU_SEC(3);
    for (now = SFU_MS(1500); now < b_from; now += SFU_MS(20))
        ASSERT_EQ(sfu_speaker_handle_level(sp, A, 127, false, now), 0);
    /* B talks loudly for 600 ms (under the hold), then its packets stop. */
    for (now = b_from; now < b_from + SFU_MS(600); now += SFU_MS(20)) {
        ASSERT_EQ(sfu_speaker_handle_level(sp, B, 10, true, now), 0);
        ASSERT(!sfu_speaker_take_change(sp, &p));
    }
    sfu_time t = sfu_speaker_poll_timeout(sp);
    ASSERT_LT(t, b_from + SFU_SEC(1));
    ASSERT_GT(t, now - SFU_MS(20));
    sfu_speaker_handle_timeout(sp, t - 1);
    ASSERT(!sfu_speaker_take_change(sp, &p));
    for (int i = 0; i < 5 && !sfu_speaker_take_change(sp, &p); i++) {
        t = sfu_speaker_poll_timeout(sp);
        ASSERT_NE(t, SFU_TIME_NEVER);
        sfu_speaker_handle_timeout(sp, t);
    }
    ASSERT_EQ(p, B);
    ASSERT(sfu_speaker_current(sp, &p));
    ASSERT_EQ(p, B);
    ASSERT_EQ(sfu_speaker_poll_timeout(sp), SFU_TIME_NEVER);
    sfu_speaker_free(sp);
    return 0;
}

/* The table grows as participants are heard, up to the maximum it was made
 * for: six fit in a table for six (it starts smaller), a seventh does not. */
TEST(table_grows_to_its_maximum)
{
    sfu_speaker *sp = sfu_speaker_new(6);
    ASSERT(sp);
    for (uint32_t p = 1; p <= 6; p++)
        if (sfu_speaker_handle_level(sp, p, 127, false, SFU_MS(p)) != 0)
            TEST_FAIL_("participant %u refused", p);
    ASSERT_EQ(sfu_speaker_handle_level(sp, 7, 127, false, SFU_MS(7)), -SFU_ENOSPC);
    for (uint32_t p = 1; p <= 6; p++)   /* all still known: no -SFU_ENOSPC */
        ASSERT_EQ(sfu_speaker_handle_level(sp, p, 127, false, SFU_MS(10)), 0);
    sfu_speaker_free(sp);
    return 0;
}

/* Bad levels, a full table, forgetting idle participants, removal. */
TEST(limits_and_removal)
{
    ASSERT(sfu_speaker_new(0) == NULL);
    sfu_speaker *sp = sfu_speaker_new(2);
    ASSERT(sp);
    ASSERT_EQ(sfu_speaker_handle_level(sp, A, 128, false, 0), -SFU_EINVAL);
    ASSERT_EQ(sfu_speaker_handle_level(sp, A, 127, false, 0), 0);
    ASSERT_EQ(sfu_speaker_handle_level(sp, B, 127, false, 0), 0);
    ASSERT_EQ(sfu_speaker_handle_level(sp, C, 127, false, SFU_SEC(1)), -SFU_ENOSPC);
    /* A keeps sending; B has been quiet long enough to be forgotten. */
    ASSERT_EQ(sfu_speaker_handle_level(sp, A, 127, false, SFU_SEC(11)), 0);
    ASSERT_EQ(sfu_speaker_handle_level(sp, C, 127, false, SFU_SEC(11)), 0);
    ASSERT_EQ(sfu_speaker_handle_level(sp, B, 127, false, SFU_SEC(11)), -SFU_ENOSPC);
    uint32_t p = 0;
    sfu_time now = SFU_SEC(11);
    for (; now < SFU_SEC(13); now += SFU_MS(20))
        ASSERT_EQ(sfu_speaker_handle_level(sp, C, 30, true, now), 0);
    ASSERT(sfu_speaker_current(sp, &p));
    ASSERT_EQ(p, C);
    /* Time going backwards is taken as no time passing. */
    ASSERT_EQ(sfu_speaker_handle_level(sp, C, 30, true, SFU_SEC(5)), 0);
    sfu_speaker_remove(sp, C);
    ASSERT(!sfu_speaker_current(sp, &p));
    ASSERT(!sfu_speaker_take_change(sp, &p)); /* removal is not reported */
    sfu_speaker_remove(sp, 999);              /* unknown: nothing */
    ASSERT_EQ(sfu_speaker_handle_level(sp, B, 127, false, now), 0); /* C's slot is free */
    sfu_speaker_free(sp);
    sfu_speaker_free(NULL);
    return 0;
}

/* The room: Alice and Bob publish audio with the level extension, Carol
 * sends levels on an m-line that did not negotiate it (so they are not
 * hers to count), a viewer listens to Alice. The room reports exactly the
 * changes, as leg-0 items, also when the output list was too full for them
 * at first (then from handle_timeout). */
enum { R_ALICE = 100, R_BOB = 200, R_CAROL = 300, L_ALICE = 1, L_BOB = 2, L_CAROL = 3, L_VIEW = 4 };

static sfu_track_desc pub_audio(bool level_ext)
{
    sfu_track_desc d = { .kind = SFU_KIND_AUDIO, .recv = true, .codec = SFU_CODEC_OPUS, .pt = OPUS_PT,
                         .clock_rate = 48000, .mid = "a" };
    d.ext.mid = EXT_MID;
    d.ext.audio_level = level_ext ? EXT_LEVEL : 0;
    return d;
}

typedef struct room_run {
    int n;
    uint32_t who[8];
    int at_ms[8];
    uint32_t other_leg0;        /* items for leg 0 that are not ACTIVE_SPEAKER */
} room_run;

static void collect(sfu_out *out, room_run *r, sfu_time now)
{
    for (uint32_t i = 0; i < out->count; i++) {
        const sfu_out_item *it = &out->items[i];
        if (it->type == SFU_OUT_ACTIVE_SPEAKER && it->leg == 0 && r->n < 8) {
            r->who[r->n] = it->participant;
            r->at_ms[r->n++] = (int)(now / 1000);
        } else if (it->leg == 0) {
            r->other_leg0++;
        }
    }
    sfu_out_reset(out);
}

static int room_play(uint32_t out_cap, room_run *r)
{
    static const sfu_room_config rc = { .max_legs = 8, .liveness_timeout = SFU_SEC(5),
                                        .keyframe_min_interval = SFU_SEC(1) };
    static const seg talk[] = { { R_ALICE, SPEECH, 0, 3000, 30 }, { R_BOB, SPEECH, 4000, 7000, 30 },
                                { R_CAROL, SPEECH, 8000, 10000, 5 }, { R_ALICE, SPEECH, 10000, 12000, 30 } };
    static const uint32_t who[3] = { R_ALICE, R_BOB, R_CAROL };
    sfu_buf_pool *pool = sfu_buf_pool_new(16);
    sfu_room *room = sfu_room_new(&rc);
    sfu_out out;
    *r = (room_run){ 0 };
    rng = 1;
    if (!pool || !room || sfu_out_init(&out, out_cap) < 0)
        return -1;
    sfu_track_desc a = pub_audio(true), c = pub_audio(false);
    sfu_track_desc v = { .kind = SFU_KIND_AUDIO, .send = true, .codec = SFU_CODEC_OPUS, .pt = 109,
                         .clock_rate = 48000, .local_ssrc = 0x4242, .mid = "m" };
    sfu_leg_desc la = fx_leg(1, &a, 1), lc = fx_leg(3, &c, 1), lv = fx_leg(4, &v, 1);
    if (sfu_room_add_leg(room, L_ALICE, R_ALICE, &la, 0) < 0 || sfu_room_add_leg(room, L_BOB, R_BOB, &la, 0) < 0 ||
        sfu_room_add_leg(room, L_CAROL, R_CAROL, &lc, 0) < 0 || sfu_room_add_leg(room, L_VIEW, 1, &lv, 0) < 0 ||
        sfu_room_bind(room, L_VIEW, "m", R_ALICE, 0, &out) < 0)
        return -1;
    uint8_t opus[3] = { 0xfc, 1, 2 };
    for (int ms = 0; ms < 13000; ms += 20) {
        sfu_time now = SFU_MS(ms);
        for (int i = 0; i < 3; i++) {
            uint8_t level = 127;
            bool voice = false;
            for (unsigned k = 0; k < SFU_ARRAY_LEN(talk); k++)
                if (talk[k].who == who[i] && ms >= talk[k].from_ms && ms < talk[k].to_ms)
                    sample(&talk[k], ms - talk[k].from_ms, &level, &voice);
            fx_rtp s = { 0x100u + (uint32_t)i, OPUS_PT, (uint16_t)(ms / 20), (uint32_t)ms * 48, false, "a",
                         -1, (voice ? 0x80 : 0) | level, opus, sizeof opus };
            sfu_buf *b = fx_build(pool, &s);
            if (!b || sfu_room_handle_rtp(room, (sfu_leg_id)(L_ALICE + i), b, now, &out) < 0)
                return -1;
            sfu_buf_unref(b);
            collect(&out, r, now);
        }
        for (int k = 0; k < 4 && sfu_room_poll_timeout(room) <= now; k++) {
            sfu_room_handle_timeout(room, now, &out);
            collect(&out, r, now);
        }
        if (r->n && sfu_room_active_speaker(room) != r->who[r->n - 1])
            return -2;
    }
    /* The speaker leaves: nobody is speaker, and that is no item. */
    sfu_room_remove_leg(room, L_ALICE, SFU_SEC(13), &out);
    uint32_t after_leave = sfu_room_active_speaker(room);
    sfu_room_handle_timeout(room, SFU_SEC(13), &out);
    collect(&out, r, SFU_SEC(13));
    sfu_out_deinit(&out);
    sfu_room_free(room);
    int leaked = (int)sfu_buf_pool_in_use(pool);
    sfu_buf_pool_free(pool);
    return leaked ? -3 : after_leave ? -4 : 0;
}

TEST(room_reports_changes)
{
    static const struct { uint32_t out_cap; } t[] = { { 64 }, { 1 } };
    static const uint32_t want[] = { R_ALICE, R_BOB, R_ALICE };
    static const int turn_ms[] = { 0, 4000, 10000 };
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        room_run r;
        ASSERT_EQ(room_play(t[i].out_cap, &r), 0);
        fprintf(stderr, "  room, out capacity %-3u          ", t[i].out_cap);
        for (int k = 0; k < r.n; k++)
            fprintf(stderr, " %u@%d", r.who[k], r.at_ms[k]);
        fprintf(stderr, "\n");
        ASSERT_EQ(r.n, 3);
        ASSERT_EQ(r.other_leg0, 0);
        for (int k = 0; k < r.n; k++) {
            ASSERT_EQ(r.who[k], want[k]);
            ASSERT_GE(r.at_ms[k], turn_ms[k]);
            ASSERT_LT(r.at_ms[k] - turn_ms[k], 1500);
        }
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(table_grows_to_its_maximum), TEST_ENTRY(recorded_sequences), TEST_ENTRY(switch_from_timeout), TEST_ENTRY(limits_and_removal),
          TEST_ENTRY(room_reports_changes))
