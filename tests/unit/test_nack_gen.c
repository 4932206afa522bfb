#include "sfu/core/nack_gen.h"
#include "tests/test.h"

/* 'p': packet seq at now expects result; 't': timeout at now expects the
 * listed seqs; 'w': poll_timeout expects `now`. */
struct step {
    char op;
    sfu_time now;
    uint64_t seq;
    int result;
    size_t n;
    uint64_t seqs[4];
};

static const sfu_nack_config cfg = {
    .first_delay = SFU_MS(10), .retry_interval = SFU_MS(100), .max_retries = 3, .max_age = SFU_MS(250),
};
static const sfu_nack_config silence_cfg = {
    .first_delay = SFU_MS(10), .retry_interval = SFU_MS(100), .max_retries = 3, .max_age = SFU_MS(250),
    .max_silence = SFU_MS(250),
};

static int run_with(const sfu_nack_config *c, const struct step *t, size_t count)
{
    sfu_nack_gen g;
    sfu_nack_gen_init(&g, c);
    for (size_t i = 0; i < count; i++) {
        if (t[i].op == 'p') {
            int r = (int)sfu_nack_gen_handle_packet(&g, t[i].seq, t[i].now);
            if (r != t[i].result)
                TEST_FAIL_("step %zu: result %d vs %d", i, r, t[i].result);
        } else if (t[i].op == 't') {
            uint64_t seqs[8];
            size_t n = sfu_nack_gen_handle_timeout(&g, t[i].now, seqs, 8);
            if (n != t[i].n)
                TEST_FAIL_("step %zu: %zu seqs vs %zu", i, n, t[i].n);
            for (size_t k = 0; k < n; k++)
                if (seqs[k] != t[i].seqs[k])
                    TEST_FAIL_("step %zu: seq[%zu] %llu vs %llu", i, k,
                               (unsigned long long)seqs[k], (unsigned long long)t[i].seqs[k]);
        } else {
            sfu_time w = sfu_nack_gen_poll_timeout(&g);
            if (w != t[i].now)
                TEST_FAIL_("step %zu: poll %lld vs %lld", i, (long long)w, (long long)t[i].now);
        }
    }
    return 0;
}

static int run(const struct step *t, size_t count) { return run_with(&cfg, t, count); }

TEST(gap_nacked_then_recovered)
{
    static const struct step t[] = {
        { 'p', 0, 100, SFU_NACK_NEW, 0, { 0 } },
        { 'w', SFU_TIME_NEVER, 0, 0, 0, { 0 } },
        { 'p', SFU_MS(1), 103, SFU_NACK_NEW, 0, { 0 } },       /* 101, 102 missing */
        { 'w', SFU_MS(11), 0, 0, 0, { 0 } },
        { 't', SFU_MS(5), 0, 0, 0, { 0 } },                   /* not yet: reordering grace */
        { 'p', SFU_MS(6), 102, SFU_NACK_RECOVERED, 0, { 0 } }, /* plain reordering */
        { 't', SFU_MS(11), 0, 0, 1, { 101 } },
        { 'w', SFU_MS(111), 0, 0, 0, { 0 } },
        { 'p', SFU_MS(50), 101, SFU_NACK_RECOVERED, 0, { 0 } },
        { 'p', SFU_MS(51), 101, SFU_NACK_DUPLICATE, 0, { 0 } },
        { 'p', SFU_MS(52), 103, SFU_NACK_DUPLICATE, 0, { 0 } },
        { 'w', SFU_TIME_NEVER, 0, 0, 0, { 0 } },
        { 't', SFU_MS(500), 0, 0, 0, { 0 } },
    };
    return run(t, SFU_ARRAY_LEN(t));
}

TEST(reordered_start_opens_gaps_below)
{
    static const struct step t[] = {
        { 'p', 0, 12, SFU_NACK_NEW, 0, { 0 } },
        { 'p', SFU_MS(1), 10, SFU_NACK_RECOVERED, 0, { 0 } }, /* older than the first */
        { 'p', SFU_MS(2), 14, SFU_NACK_NEW, 0, { 0 } },
        { 't', SFU_MS(12), 0, 0, 2, { 11, 13 } },
        { 'p', SFU_MS(3), 10, SFU_NACK_DUPLICATE, 0, { 0 } },
        { 'p', SFU_MS(20), 11, SFU_NACK_RECOVERED, 0, { 0 } },
        { 't', SFU_MS(112), 0, 0, 1, { 13 } },
        { 'p', SFU_MS(120), 5, SFU_NACK_RECOVERED, 0, { 0 } }, /* 6..9 open too */
        { 't', SFU_MS(130), 0, 0, 4, { 6, 7, 8, 9 } },
    };
    return run(t, SFU_ARRAY_LEN(t));
}

TEST(retries_until_limit)
{
    static const struct step t[] = {
        { 'p', 0, 10, SFU_NACK_NEW, 0, { 0 } },
        { 'p', 0, 13, SFU_NACK_NEW, 0, { 0 } },
        { 't', SFU_MS(10), 0, 0, 2, { 11, 12 } },
        { 't', SFU_MS(50), 0, 0, 0, { 0 } },
        { 't', SFU_MS(110), 0, 0, 2, { 11, 12 } },
        { 'p', SFU_MS(150), 12, SFU_NACK_RECOVERED, 0, { 0 } },
        { 't', SFU_MS(210), 0, 0, 1, { 11 } },               /* third and last try */
        { 't', SFU_MS(310), 0, 0, 0, { 0 } },                /* given up */
        { 'w', SFU_TIME_NEVER, 0, 0, 0, { 0 } },
        { 'p', SFU_MS(320), 11, SFU_NACK_RECOVERED, 0, { 0 } }, /* too late, still new */
    };
    return run(t, SFU_ARRAY_LEN(t));
}

TEST(max_age_gives_up)
{
    static const struct step t[] = {
        { 'p', 0, 1, SFU_NACK_NEW, 0, { 0 } },
        { 'p', 0, 3, SFU_NACK_NEW, 0, { 0 } },
        { 't', SFU_MS(10), 0, 0, 1, { 2 } },
        { 't', SFU_MS(260), 0, 0, 0, { 0 } },                 /* 260 ms old > 250 */
        { 'w', SFU_TIME_NEVER, 0, 0, 0, { 0 } },
    };
    return run(t, SFU_ARRAY_LEN(t));
}

/* With max_silence: a gap that opens after more than that of silence (a
 * publisher's dead path coming back): nothing is NACKed, a keyframe is asked for once, and
 * a late arrival from inside the gap still counts as recovered. Gaps after
 * that are NACKed as usual; so is one after a silence within max_age. */
TEST(gap_after_silence_asks_for_keyframe)
{
    static const struct step t[] = {
        { 'p', 0, 10, SFU_NACK_NEW, 0, { 0 } },
        { 'p', SFU_MS(200), 13, SFU_NACK_NEW, 0, { 0 } },      /* 200 ms quiet: 11, 12 */
        { 't', SFU_MS(210), 0, 0, 2, { 11, 12 } },
        { 'p', SFU_MS(220), 11, SFU_NACK_RECOVERED, 0, { 0 } },
        { 'p', SFU_MS(230), 12, SFU_NACK_RECOVERED, 0, { 0 } },
        { 'p', SFU_MS(3230), 60, SFU_NACK_NEW, 0, { 0 } },     /* 3 s quiet: 14..59 lost */
        { 'w', SFU_TIME_NEVER, 0, 0, 0, { 0 } },
        { 't', SFU_MS(3240), 0, 0, 0, { 0 } },
        { 'p', SFU_MS(3250), 59, SFU_NACK_RECOVERED, 0, { 0 } },
        { 'p', SFU_MS(3260), 59, SFU_NACK_DUPLICATE, 0, { 0 } },
        { 'p', SFU_MS(3270), 62, SFU_NACK_NEW, 0, { 0 } },
        { 't', SFU_MS(3280), 0, 0, 1, { 61 } },
    };
    int rc = run_with(&silence_cfg, t, SFU_ARRAY_LEN(t));
    if (rc)
        return rc;
    sfu_nack_gen g;
    sfu_nack_gen_init(&g, &silence_cfg);
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 10, 0), SFU_NACK_NEW);
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 60, SFU_SEC(3)), SFU_NACK_NEW);
    ASSERT(sfu_nack_gen_take_keyframe_request(&g));
    ASSERT(!sfu_nack_gen_take_keyframe_request(&g));
    ASSERT_EQ(g.given_up, 49);
    ASSERT_EQ(g.nmissing, 0);
    /* A silence without a gap (a paused sender) asks for nothing. */
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 61, SFU_SEC(6)), SFU_NACK_NEW);
    ASSERT(!sfu_nack_gen_take_keyframe_request(&g));
    /* Without max_silence (a viewer's view, as the simulation's): NACKed. */
    sfu_nack_gen_init(&g, &cfg);
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 10, 0), SFU_NACK_NEW);
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 13, SFU_SEC(3)), SFU_NACK_NEW);
    ASSERT_EQ(g.nmissing, 2);
    ASSERT(!sfu_nack_gen_take_keyframe_request(&g));
    return 0;
}

TEST(window_edges)
{
    static const struct step t[] = {
        { 'p', 0, 5000, SFU_NACK_NEW, 0, { 0 } },
        { 'p', 0, 5000 + SFU_NACK_WINDOW, SFU_NACK_NEW, 0, { 0 } },
        { 'p', 0, 5000, SFU_NACK_TOO_OLD, 0, { 0 } },
        { 'p', 0, 5001, SFU_NACK_RECOVERED, 0, { 0 } },
        { 'p', 0, 4000, SFU_NACK_TOO_OLD, 0, { 0 } },
    };
    return run(t, SFU_ARRAY_LEN(t));
}

TEST(huge_gap_asks_for_keyframe)
{
    sfu_nack_gen g;
    sfu_nack_gen_init(&g, &cfg);
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 1, 0), SFU_NACK_NEW);
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 2, 0), SFU_NACK_NEW);
    ASSERT(!sfu_nack_gen_take_keyframe_request(&g));
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 2 + SFU_NACK_WINDOW + 1, 0), SFU_NACK_NEW);
    ASSERT(sfu_nack_gen_take_keyframe_request(&g));
    ASSERT(!sfu_nack_gen_take_keyframe_request(&g));
    ASSERT_EQ(g.nmissing, 0);
    ASSERT_EQ(sfu_nack_gen_poll_timeout(&g), SFU_TIME_NEVER);
    /* More gaps than the list holds: the oldest go, and a keyframe is due. */
    uint64_t s = 10000;
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, s, 0), SFU_NACK_NEW);
    (void)sfu_nack_gen_take_keyframe_request(&g);
    for (int i = 0; i < SFU_NACK_MAX_MISSING + 10; i++) {
        s += 2;
        ASSERT_EQ(sfu_nack_gen_handle_packet(&g, s, 0), SFU_NACK_NEW);
    }
    ASSERT_EQ(g.nmissing, SFU_NACK_MAX_MISSING);
    ASSERT(sfu_nack_gen_take_keyframe_request(&g));
    ASSERT_EQ(g.missing[0].seq, 10001 + 2 * 10);
    return 0;
}

TEST(rtt_stretches_retries)
{
    sfu_nack_gen g;
    sfu_nack_gen_init(&g, &cfg);
    sfu_nack_gen_set_rtt(&g, SFU_MS(300));
    uint64_t seqs[4];
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 1, 0), SFU_NACK_NEW);
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 3, 0), SFU_NACK_NEW);
    ASSERT_EQ(sfu_nack_gen_handle_timeout(&g, SFU_MS(10), seqs, 4), 1);
    ASSERT_EQ(sfu_nack_gen_poll_timeout(&g), SFU_MS(310));
    /* Output capacity: what does not fit stays due. */
    sfu_nack_gen_init(&g, &cfg);
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 1, 0), SFU_NACK_NEW);
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 8, 0), SFU_NACK_NEW);
    ASSERT_EQ(sfu_nack_gen_handle_timeout(&g, SFU_MS(10), seqs, 4), 4);
    ASSERT_EQ(sfu_nack_gen_poll_timeout(&g), SFU_MS(10));
    ASSERT_EQ(sfu_nack_gen_handle_timeout(&g, SFU_MS(10), seqs, 4), 2);
    ASSERT_EQ(seqs[0], 6);
    return 0;
}

/* is_missing: the gaps being NACKed, not what arrived or was given up. */
TEST(is_missing)
{
    sfu_nack_gen g;
    sfu_nack_gen_init(&g, &cfg);
    ASSERT(!sfu_nack_gen_is_missing(&g, 5));
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 10, 0), SFU_NACK_NEW);
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 15, SFU_MS(1)), SFU_NACK_NEW);
    for (uint64_t q = 11; q < 15; q++)
        ASSERT(sfu_nack_gen_is_missing(&g, q));
    ASSERT(!sfu_nack_gen_is_missing(&g, 10));
    ASSERT(!sfu_nack_gen_is_missing(&g, 15));
    ASSERT(!sfu_nack_gen_is_missing(&g, 16));
    ASSERT_EQ(sfu_nack_gen_handle_packet(&g, 12, SFU_MS(2)), SFU_NACK_RECOVERED);
    ASSERT(!sfu_nack_gen_is_missing(&g, 12));
    ASSERT(sfu_nack_gen_is_missing(&g, 11));
    ASSERT(sfu_nack_gen_is_missing(&g, 14));
    uint64_t seqs[8];
    (void)sfu_nack_gen_handle_timeout(&g, SFU_SEC(1), seqs, 8); /* past max_age: given up */
    ASSERT(!sfu_nack_gen_is_missing(&g, 11));
    return 0;
}

TEST_LIST(TEST_ENTRY(is_missing), TEST_ENTRY(gap_nacked_then_recovered), TEST_ENTRY(reordered_start_opens_gaps_below), TEST_ENTRY(retries_until_limit),
          TEST_ENTRY(max_age_gives_up), TEST_ENTRY(gap_after_silence_asks_for_keyframe), TEST_ENTRY(window_edges),
          TEST_ENTRY(huge_gap_asks_for_keyframe), TEST_ENTRY(rtt_stretches_retries))
