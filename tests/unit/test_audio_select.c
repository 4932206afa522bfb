#include "sfu/core/audio_select.h"
#include "tests/test.h"

/* Each row is a room: participants 1..nparts each send one RFC 6464 level
 * per 20 ms packet (127, silence, unless a `talk` says otherwise), the
 * selector is evaluated as the room would (handle_timeout at its deadline),
 * and at each checkpoint the selected set must be exactly `in` (order
 * free; 0 ends the list). */
typedef struct talk {
    uint32_t who;
    int from_ms, to_ms;
    int level;
} talk;

typedef struct checkpoint {
    int at_ms;
    uint32_t in[6];
} checkpoint;

typedef struct row {
    const char *name;
    unsigned positions, nparts;
    talk talks[6];
    uint32_t speaker;           /* set at speaker_ms; 0 none */
    int speaker_ms;
    uint32_t leaves;            /* removed at leave_ms; 0 none */
    int leave_ms;
    checkpoint want[4];
} row;

static const row rows[] = {
    { "small room: everyone, silent or not", 4, 3, { { 0 } }, 0, 0, 0, 0,
      { { 200, { 1, 2, 3 } } } },
    { "large silent room: the first heard fill the positions", 3, 8, { { 0 } }, 0, 0, 0, 0,
      { { 200, { 1, 2, 3 } }, { 5000, { 1, 2, 3 } } } },
    { "a talker replaces a silent one within a second", 3, 8, { { 6, 1000, 5000, 30 } }, 0, 0, 0, 0,
      { { 900, { 1, 2, 3 } }, { 2000, { 6, 2, 3 } } } },
    { "a cough (160 ms) does not get in", 3, 8, { { 7, 1000, 1160, 5 } }, 0, 0, 0, 0,
      { { 1500, { 1, 2, 3 } }, { 3000, { 1, 2, 3 } } } },
    { "background noise under the bar does not get in", 3, 8, { { 7, 1000, 5000, 55 } }, 0, 0, 0, 0,
      { { 4000, { 1, 2, 3 } } } },
    { "the active speaker is always in, at once", 3, 8, { { 0 } }, 8, 1000, 0, 0,
      { { 1150, { 8, 2, 3 } } } },
    { "a new talker waits for the dwell of the one it replaces", 2, 6,
      { { 3, 1000, 6000, 30 }, { 4, 1200, 6000, 25 } }, 0, 0, 0, 0,
      /* 3 replaces a silent one; 4 then takes the other silent position */
      { { 1800, { 3, 2 } }, { 2600, { 3, 4 } } } },
    { "a louder newcomer waits for the dwell of the one it replaces", 1, 3,
      { { 2, 1500, 8000, 30 }, { 3, 2000, 8000, 0 } }, 0, 0, 0, 0,
      /* 2 gets in at about 2.15 s; 3 is clearly louder from about 2.5 s and
       * has held it by 2.85 s, but the position changes hands at most once
       * a second */
      { { 3000, { 2 } }, { 3400, { 3 } } } },
    { "talkers keep their place against a quieter newcomer", 2, 6,
      { { 3, 500, 8000, 25 }, { 4, 500, 8000, 25 }, { 5, 3000, 8000, 28 } }, 0, 0, 0, 0,
      { { 2500, { 3, 4 } }, { 7000, { 3, 4 } } } },
    { "one leaves: the position goes to the loudest of the rest at once", 3, 8,
      { { 5, 0, 8000, 40 } }, 0, 0, 2, 3000,
      { { 2500, { 5, 1, 2 } }, { 3150, { 5, 1, 3 } } } },
};

static bool set_equal(const uint32_t *got, unsigned n, const uint32_t *want)
{
    unsigned nw = 0, hits = 0;
    while (nw < 6 && want[nw])
        nw++;
    unsigned ng = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!got[i])
            continue;
        ng++;
        for (unsigned k = 0; k < nw; k++)
            hits += got[i] == want[k];
    }
    return ng == nw && hits == nw;
}

static int level_of(const row *r, uint32_t who, int t)
{
    for (unsigned i = 0; i < 6 && r->talks[i].who; i++)
        if (r->talks[i].who == who && t >= r->talks[i].from_ms && t < r->talks[i].to_ms)
            return r->talks[i].level;
    return 127;
}

static void print_set(const char *what, const uint32_t *p, unsigned n)
{
    fprintf(stderr, "  %s:", what);
    for (unsigned i = 0; i < n; i++)
        fprintf(stderr, " %u", p[i]);
    fprintf(stderr, "\n");
}

TEST(table)
{
    for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
        const row *r = &rows[ri];
        sfu_audio_select *sel = sfu_audio_select_new(16, r->positions);
        ASSERT(sel != NULL);
        unsigned next_check = 0;
        bool left = false;
        for (int t = 0; t <= 8000 && next_check < 4 && r->want[next_check].at_ms; t += 10) {
            sfu_time now = SFU_MS(t);
            if (r->speaker && t == r->speaker_ms)
                sfu_audio_select_set_speaker(sel, r->speaker);
            if (r->leaves && t >= r->leave_ms && !left) {
                sfu_audio_select_remove(sel, r->leaves);
                left = true;
            }
            for (uint32_t p = 1; p <= r->nparts && t % 20 == 0; p++)
                if (!(left && p == r->leaves))
                    ASSERT_EQ(sfu_audio_select_handle_level(sel, p, (uint8_t)level_of(r, p, t), true, now), 0);
            if (sfu_audio_select_poll_timeout(sel) <= now)
                sfu_audio_select_handle_timeout(sel, now);
            if (t == r->want[next_check].at_ms) {
                uint32_t got[SFU_AUDIO_SELECT_MAX];
                unsigned n = sfu_audio_select_positions(sel, got, SFU_AUDIO_SELECT_MAX);
                if (!set_equal(got, n, r->want[next_check].in)) {
                    fprintf(stderr, "  row \"%s\" at %d ms\n", r->name, t);
                    print_set("selected", got, n);
                    print_set("wanted", r->want[next_check].in, 6);
                    sfu_audio_select_free(sel);
                    return 1;
                }
                next_check++;
            }
        }
        sfu_audio_select_free(sel);
    }
    return 0;
}

/* A participant that stays selected keeps its position (its viewers' m-line). */
TEST(positions_are_stable)
{
    sfu_audio_select *sel = sfu_audio_select_new(16, 3);
    ASSERT(sel != NULL);
    uint32_t before[3] = { 0 }, after[3];
    for (int t = 0; t <= 6000; t += 20) {
        sfu_time now = SFU_MS(t);
        for (uint32_t p = 1; p <= 6; p++)
            sfu_audio_select_handle_level(sel, p, p == 5 && t >= 2000 ? 30 : 127, true, now);
        sfu_audio_select_handle_timeout(sel, now);
        if (t == 1000)
            sfu_audio_select_positions(sel, before, 3);
    }
    sfu_audio_select_positions(sel, after, 3);
    unsigned kept = 0, five = 0;
    for (unsigned i = 0; i < 3; i++) {
        kept += after[i] == before[i];
        five += after[i] == 5;
    }
    ASSERT_EQ(five, 1u);
    ASSERT_EQ(kept, 2u);       /* only the replaced position changed */
    ASSERT(sfu_audio_select_take_change(sel));
    ASSERT(!sfu_audio_select_take_change(sel));
    sfu_audio_select_free(sel);
    return 0;
}

/* The table grows as participants are heard, up to the maximum it was made
 * for: six fit in a table for six (it starts smaller), a seventh does not. */
TEST(table_grows_to_its_maximum)
{
    sfu_audio_select *sel = sfu_audio_select_new(6, 2);
    ASSERT(sel != NULL);
    for (uint32_t p = 1; p <= 6; p++)
        if (sfu_audio_select_handle_level(sel, p, 127, false, SFU_MS(p)) != 0)
            TEST_FAIL_("participant %u refused", p);
    ASSERT_EQ(sfu_audio_select_handle_level(sel, 7, 127, false, SFU_MS(7)), -SFU_ENOSPC);
    for (uint32_t p = 1; p <= 6; p++)
        ASSERT_EQ(sfu_audio_select_handle_level(sel, p, 127, false, SFU_MS(10)), 0);
    sfu_audio_select_free(sel);
    return 0;
}

/* Several newcomers equally loud, whose scores cross each other packet by
 * packet (as real talkers' do): the loudest one out changes from one
 * evaluation to the next, but someone stays clearly louder than the
 * weakest, so replacements go on; all three are in within 3 s. */
TEST(equal_newcomers_all_get_in)
{
    sfu_audio_select *sel = sfu_audio_select_new(16, 3);
    ASSERT(sel != NULL);
    int all_in_at = -1;
    for (int t = 0; t <= 6000; t += 20) {
        sfu_time now = SFU_MS(t);
        for (uint32_t p = 1; p <= 6; p++) {
            int level = 127;
            if (p >= 4 && t >= 1000)     /* 4, 5, 6 talk, each alternately a little louder */
                level = ((t / 20 + (int)p) % 3 == 0) ? 24 : 32;
            sfu_audio_select_handle_level(sel, p, (uint8_t)level, true, now);
        }
        sfu_audio_select_handle_timeout(sel, now);
        if (all_in_at < 0 && sfu_audio_select_has(sel, 4) && sfu_audio_select_has(sel, 5) &&
            sfu_audio_select_has(sel, 6))
            all_in_at = t;
    }
    ASSERT(all_in_at >= 1000);
    ASSERT(all_in_at <= 4000);
    sfu_audio_select_free(sel);
    return 0;
}

/* Scores rank the positions for a viewer with fewer slots: a talker above
 * a silent one by more than the margin, the speaker above all, an empty
 * position 0. */
TEST(scores)
{
    sfu_audio_select *sel = sfu_audio_select_new(8, 4);
    ASSERT(sel != NULL);
    for (int t = 0; t <= 2000; t += 20) {
        sfu_time now = SFU_MS(t);
        sfu_audio_select_handle_level(sel, 1, 127, true, now);
        sfu_audio_select_handle_level(sel, 2, 30, true, now);
        sfu_audio_select_handle_level(sel, 3, 30, true, now);
        if (t == 1000)
            sfu_audio_select_set_speaker(sel, 3);
        sfu_audio_select_handle_timeout(sel, now);
    }
    uint32_t pos[4];
    float score[4];
    ASSERT_EQ(sfu_audio_select_positions(sel, pos, 4), 4u);
    sfu_audio_select_scores(sel, SFU_MS(2000), score, 4);
    for (unsigned i = 0; i < 4; i++) {
        if (pos[i] == 1)
            ASSERT(score[i] >= 0.0f && score[i] < 1.0f);
        else if (pos[i] == 2)       /* 40 dB above the floor, nearly settled */
            ASSERT(score[i] > 35.0f && score[i] <= 40.0f);
        else if (pos[i] == 3)
            ASSERT(score[i] == SFU_AUDIO_SELECT_SPEAKER_SCORE);
        else
            ASSERT(pos[i] == 0 && score[i] == 0.0f);
    }
    /* Unheard, a talker's score decays: after 2 s, below the margin. */
    sfu_audio_select_scores(sel, SFU_MS(4000), score, 4);
    for (unsigned i = 0; i < 4; i++)
        if (pos[i] == 2)
            ASSERT(score[i] < SFU_AUDIO_SELECT_MARGIN);
    sfu_audio_select_free(sel);
    return 0;
}

TEST(bad_input_and_limits)
{
    ASSERT(sfu_audio_select_new(0, 3) == NULL);
    ASSERT(sfu_audio_select_new(8, 0) == NULL);
    ASSERT(sfu_audio_select_new(8, SFU_AUDIO_SELECT_MAX + 1) == NULL);
    sfu_audio_select *sel = sfu_audio_select_new(2, 1);
    ASSERT(sel != NULL);
    ASSERT_EQ(sfu_audio_select_poll_timeout(sel), SFU_TIME_NEVER);
    ASSERT_EQ(sfu_audio_select_handle_level(sel, 1, 128, true, 0), -SFU_EINVAL);
    ASSERT_EQ(sfu_audio_select_handle_level(sel, 0, 30, true, 0), -SFU_EINVAL);
    ASSERT_EQ(sfu_audio_select_handle_level(sel, 1, 30, true, 0), 0);
    ASSERT_EQ(sfu_audio_select_handle_level(sel, 2, 30, true, 0), 0);
    ASSERT_EQ(sfu_audio_select_handle_level(sel, 3, 30, true, 0), -SFU_ENOSPC);
    sfu_audio_select_handle_timeout(sel, 0);
    ASSERT(sfu_audio_select_has(sel, 1));
    /* Removing everyone stops the timer. */
    sfu_audio_select_remove(sel, 1);
    sfu_audio_select_remove(sel, 2);
    sfu_audio_select_remove(sel, 99);
    ASSERT(!sfu_audio_select_has(sel, 1));
    ASSERT_EQ(sfu_audio_select_poll_timeout(sel), SFU_TIME_NEVER);
    /* A forgotten slot is reused after FORGET_AFTER. */
    ASSERT_EQ(sfu_audio_select_handle_level(sel, 4, 30, true, SFU_SEC(20)), 0);
    sfu_audio_select_free(sel);
    sfu_audio_select_free(NULL);
    return 0;
}

TEST_LIST(TEST_ENTRY(table_grows_to_its_maximum), TEST_ENTRY(table), TEST_ENTRY(positions_are_stable), TEST_ENTRY(equal_newcomers_all_get_in), TEST_ENTRY(scores),
          TEST_ENTRY(bad_input_and_limits))
