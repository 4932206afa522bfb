/* What arrivals prove about a token-bucket policer (bwe_proof.h): a table
 * of formula cases, then runs through a modelled nftables policer (a second
 * at its rate plus 12 kB, full at the start) and through a free path. */
#include "sfu/core/bwe_proof.h"
#include "tests/test.h"

TEST(proof_of_a_run)
{
    static const struct {
        const char *name;
        uint64_t bytes;
        sfu_time span;
        uint64_t want;
    } rows[] = {
        { "nothing", 0, SFU_SEC(1), 0 },
        { "no more than the burst", SFU_BWE_PROOF_BURST_BYTES, 0, 0 },
        { "a burst of 43 kB: about 250k", 43250, 0, (43250 - SFU_BWE_PROOF_BURST_BYTES) * 8 },
        { "250k for 2 s: a third of what is past the burst", 62500, SFU_SEC(2), (62500 - SFU_BWE_PROOF_BURST_BYTES) * 8 / 3 },
        { "a negative span", 100000, -1, 0 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++) {
        uint64_t got = sfu_bwe_proof_of(rows[i].bytes, rows[i].span);
        if (got != rows[i].want)
            TEST_FAIL_("%s: %llu, want %llu", rows[i].name, (unsigned long long)got, (unsigned long long)rows[i].want);
    }
    return 0;
}

/* `send_bps` offered for `secs` through a policer of `police_bps` (0: none)
 * whose bucket starts full; 1200-byte packets; the proof of what passed. */
static uint64_t run(uint64_t send_bps, uint64_t police_bps, double secs)
{
    sfu_bwe_proof p;
    sfu_bwe_proof_init(&p);
    double max = (double)police_bps / 8 + 12288, tokens = max;
    sfu_time gap = (sfu_time)(1200.0 * 8 * 1e6 / (double)send_bps), last = 0;
    for (sfu_time t = 0; t < (sfu_time)(secs * 1e6); t += gap) {
        if (police_bps) {
            tokens += (double)(t - last) * (double)police_bps / 8 / 1e6;
            if (tokens > max)
                tokens = max;
            last = t;
            if (tokens < 1200 + 28)     /* the policer counts IP and UDP too */
                continue;
            tokens -= 1200 + 28;
        }
        sfu_bwe_proof_on_arrival(&p, SFU_SEC(7) + t, 1200);
        if (t % SFU_MS(100) < gap)
            sfu_bwe_proof_update(&p);
    }
    sfu_bwe_proof_update(&p);
    return sfu_bwe_proof_bps(&p);
}

TEST(never_past_a_policer)
{
    static const struct { uint64_t send, police; double secs; } rows[] = {
        { 2000000, 250000, 3 }, { 600000, 250000, 5 }, { 10000000, 250000, 1 },
        { 3000000, 1000000, 3 }, { 1000000, 300000, 2 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++) {
        uint64_t got = run(rows[i].send, rows[i].police, rows[i].secs);
        printf("  %llu kbit/s through a %llu kbit/s policer for %.0f s: proves %llu\n",
               (unsigned long long)(rows[i].send / 1000), (unsigned long long)(rows[i].police / 1000),
               rows[i].secs, (unsigned long long)got);
        ASSERT_LE(got, rows[i].police);
        ASSERT_GT(got, 0);
    }
    return 0;
}

TEST(a_free_path_proves_its_rate)
{
    /* 1.6 Mbit/s for 0.6 s (a proof probe toward 800k): at least 0.65 x
     * 800k; media alone at 800k for 2 s: at least half of it. */
    uint64_t probe = run(1600000, 0, 0.6), media = run(800000, 0, 2.0);
    printf("  free path: 1.6M for 0.6 s proves %llu, 800k for 2 s %llu\n", (unsigned long long)probe,
           (unsigned long long)media);
    ASSERT_GE(probe, 520000);
    ASSERT_GE(media, 400000);
    /* arrivals older than the window count no more */
    sfu_bwe_proof p;
    sfu_bwe_proof_init(&p);
    sfu_bwe_proof_on_arrival(&p, SFU_SEC(10), 1200);
    sfu_bwe_proof_on_arrival(&p, SFU_SEC(10) - SFU_BWE_PROOF_SPAN - SFU_MS(50), 60000);
    sfu_bwe_proof_update(&p);
    ASSERT_EQ(sfu_bwe_proof_bps(&p), 0);
    return 0;
}

TEST_LIST(TEST_ENTRY(proof_of_a_run), TEST_ENTRY(never_past_a_policer), TEST_ENTRY(a_free_path_proves_its_rate))
