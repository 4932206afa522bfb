/* The loudness scoring shared by speaker.c and audio_select.c. */
#include "sfu/core/loudness.h"
#include "tests/test.h"

#include <math.h>

/* The decay without libm stays within 0.02 of exp(-dt/tau) (what is left
 * of a score, so an error in dB of at most 2 % of the score), falls
 * steadily, and is 1 for no time or negative time. */
TEST(decay_follows_exp)
{
    const sfu_time tau = SFU_MS(300);
    ASSERT(sfu_loudness_decay(0, tau) == 1.0f);
    ASSERT(sfu_loudness_decay(-SFU_MS(5), tau) == 1.0f);
    double prev = 1.0;
    for (int k = 1; k <= 100; k++) {
        sfu_time dt = tau * k / 10;
        double want = exp(-(double)k / 10.0);
        double got = sfu_loudness_decay(dt, tau);
        ASSERT(fabs(got - want) <= 0.02);
        ASSERT(got < prev);
        prev = got;
    }
    ASSERT(sfu_loudness_decay(tau * 31, tau) == 0.0f);
    return 0;
}

/* dB above the floor (-70 dBov); once a sender has set V, its V = 0 packets
 * count a quarter; one that never sets V is taken at its level. */
TEST(loudness_of_levels)
{
    static const struct { uint8_t level; bool voice; bool vad_before; float want; bool vad_after; } rows[] = {
        { 127, false, false, 0.0f, false },   /* digital silence */
        { 70, false, false, 0.0f, false },    /* the floor */
        { 30, false, false, 40.0f, false },   /* no detector: its level */
        { 30, true, false, 40.0f, true },     /* speech: full weight, detector seen */
        { 30, false, true, 10.0f, true },     /* detector says no speech: a quarter */
        { 0, true, true, 70.0f, true },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bool vad = rows[i].vad_before;
        float got = sfu_loudness_of(&vad, rows[i].level, rows[i].voice);
        ASSERT(fabsf(got - rows[i].want) < 1e-5f);
        ASSERT_EQ(vad, rows[i].vad_after);
    }
    return 0;
}

/* Steady 20 ms packets converge on their loudness; a long gap before a
 * packet decays as silence, and the packet itself weighs one span only. */
TEST(update_spans_and_gaps)
{
    const sfu_time tau = SFU_MS(500);
    float avg = 0.0f;
    for (int i = 0; i < 200; i++)   /* 4 s */
        avg = sfu_loudness_update(avg, 30.0f, SFU_MS(20), tau);
    ASSERT(fabsf(avg - 30.0f) < 0.1f);
    /* 2 s of silence, then one loud packet: mostly the decayed value. */
    float after_gap = sfu_loudness_update(avg, 60.0f, SFU_SEC(2), tau);
    float decayed = 30.0f * sfu_loudness_decay(SFU_SEC(2) - SFU_MS(40), tau);
    float w = 1.0f - sfu_loudness_decay(SFU_MS(40), tau);
    ASSERT(fabsf(after_gap - (decayed + w * (60.0f - decayed))) < 1e-3f);
    ASSERT(after_gap < 10.0f);
    /* A packet at the same time as the last one moves nothing. */
    ASSERT(sfu_loudness_update(12.5f, 60.0f, 0, tau) == 12.5f);
    ASSERT(sfu_loudness_update(12.5f, 60.0f, -SFU_MS(10), tau) == 12.5f);
    return 0;
}

TEST_LIST(TEST_ENTRY(decay_follows_exp), TEST_ENTRY(loudness_of_levels), TEST_ENTRY(update_spans_and_gaps))
