/* The per-viewer audio copy count follows receiver-report loss: up at once,
 * down after ten clean reports, never outside 1..3. */
#include "sfu/core/audio_copies.h"
#include "tests/test.h"

static const struct step {
    uint8_t fraction;           /* /256 */
    uint8_t copies;             /* after the report */
} steps[] = {
    { 0, 1 }, { 2, 1 }, { 4, 1 },           /* below 2 %: one copy */
    { 20, 2 },                              /* 8 %: two */
    { 23, 3 },                              /* 9 % left (0.3^2): three */
    { 7, 3 }, { 255, 3 },                   /* never more than three */
    { 0, 3 }, { 0, 3 }, { 0, 3 }, { 0, 3 }, { 0, 3 }, { 0, 3 }, { 0, 3 }, { 0, 3 }, { 0, 3 },
    { 0, 2 },                               /* the tenth clean report */
    { 0, 2 }, { 0, 2 }, { 1, 2 },           /* a small residue resets the count, no step up */
    { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 },
    { 0, 1 },
    { 0, 1 }, { 0, 1 },
    { 5, 2 },                               /* 2 % exactly */
    { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 },
    { 0, 1 },
    { 37, 2 },                              /* 14 %: two */
    { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 }, { 0, 2 },
    { 0, 1 },
    { 77, 3 },                              /* 30 % with one: three at once (two leave 9 %) */
};

TEST(follows_reports)
{
    sfu_audio_copies a = { 0 };
    for (size_t i = 0; i < SFU_ARRAY_LEN(steps); i++) {
        uint8_t c = sfu_audio_copies_on_report(&a, steps[i].fraction);
        if (c != steps[i].copies)
            fprintf(stderr, "  step %zu (fraction %u)\n", i, steps[i].fraction);
        ASSERT_EQ(c, steps[i].copies);
        ASSERT_EQ(a.copies, c);
    }
    return 0;
}

TEST(init)
{
    sfu_audio_copies a;
    sfu_audio_copies_init(&a);
    ASSERT_EQ(a.copies, 1);
    ASSERT_EQ(sfu_audio_copies_on_report(&a, 0), 1);
    return 0;
}

/* The path's heavy loss seen on video: the most copies at once, kept
 * through reports with a residue, down after ten clean ones. */
TEST(path_lossy)
{
    sfu_audio_copies a;
    sfu_audio_copies_init(&a);
    sfu_audio_copies_path_lossy(&a);
    ASSERT_EQ(a.copies, SFU_AUDIO_COPIES_MAX);
    ASSERT_EQ(sfu_audio_copies_on_report(&a, 7), SFU_AUDIO_COPIES_MAX);
    for (int i = 0; i < 9; i++)
        ASSERT_EQ(sfu_audio_copies_on_report(&a, 0), SFU_AUDIO_COPIES_MAX);
    sfu_audio_copies_path_lossy(&a); /* still lossy: the clean count starts over */
    for (int i = 0; i < 9; i++)
        ASSERT_EQ(sfu_audio_copies_on_report(&a, 0), SFU_AUDIO_COPIES_MAX);
    ASSERT_EQ(sfu_audio_copies_on_report(&a, 0), SFU_AUDIO_COPIES_MAX - 1);
    return 0;
}

TEST_LIST(TEST_ENTRY(follows_reports), TEST_ENTRY(init), TEST_ENTRY(path_lossy))
