/* A bandwidth probe's result from its packets' send and arrival times. */
#include "sfu/core/probe_cluster.h"
#include "tests/test.h"

#include <string.h>

TEST(result_table)
{
    static const struct {
        const char *name;
        int packets;
        sfu_time send_gap, arrival_gap;     /* 1200-byte packets */
        int lose_every;                     /* 0: none */
        double inherent;
        uint64_t want_min, want_max;        /* 0, 0: no result */
        bool want_saturated;
    } rows[] = {
        /* 1200 B every 4.8 ms = 2 Mbit/s */
        { "arrives as sent", 10, 4800, 4800, 0, 0, 1990000, 2010000, false },
        { "a queue spreads it to 1 Mbit/s", 10, 4800, 9600, 0, 0, 990000, 1010000, true },
        { "arrives faster than sent: the send rate", 10, 4800, 2400, 0, 0, 1990000, 2010000, false },
        { "a third lost: overflowed", 12, 4800, 4800, 3, 0, 0, 0, false },
        { "10 % loss on a 10 % loss path", 20, 4800, 4800, 10, 0.1, 1700000, 2010000, false },
        { "too few arrived", 3, 4800, 4800, 0, 0, 0, 0, false },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++) {
        sfu_probe_cluster c;
        sfu_probe_cluster_start(&c, 7, 2000000, (size_t)rows[i].packets * 1200, 0);
        sfu_sent_packet e[32];
        for (int k = 0; k < rows[i].packets; k++) {
            uint32_t id = sfu_probe_cluster_on_sent(&c, 1200, k * rows[i].send_gap);
            ASSERT_EQ(id, 7);
            e[k] = (sfu_sent_packet){ .sent_at = k * rows[i].send_gap, .probe_id = id,
                                      .seq16 = (uint16_t)k, .size_bytes = 1200 };
        }
        ASSERT_EQ(sfu_probe_cluster_sending_rate(&c), 0);   /* all bytes sent */
        ASSERT_EQ(sfu_probe_cluster_on_sent(&c, 1200, SFU_SEC(1)), 0);
        ASSERT(!sfu_probe_cluster_ready(&c, SFU_MS(100)));
        for (int k = 0; k < rows[i].packets; k++) {
            bool lost = rows[i].lose_every && k % rows[i].lose_every == rows[i].lose_every - 1;
            sfu_probe_cluster_on_report(&c, &e[k], !lost, SFU_SEC(5) + k * rows[i].arrival_gap);
        }
        ASSERT(sfu_probe_cluster_ready(&c, SFU_MS(100)));
        bool sat;
        uint64_t r = sfu_probe_cluster_finish(&c, rows[i].inherent, &sat);
        if (r < rows[i].want_min || r > rows[i].want_max || sat != rows[i].want_saturated)
            fprintf(stderr, "  %s: %" PRIu64 " saturated %d\n", rows[i].name, r, sat);
        ASSERT_GE(r, rows[i].want_min);
        ASSERT_LE(r, rows[i].want_max);
        ASSERT_EQ(sat, rows[i].want_saturated);
        ASSERT(sfu_probe_cluster_idle(&c));
    }
    return 0;
}

TEST(timeouts_and_other_probes)
{
    sfu_probe_cluster c;
    sfu_probe_cluster_start(&c, 3, 1000000, 100000, 0);
    ASSERT_EQ(sfu_probe_cluster_sending_rate(&c), 1000000);
    ASSERT_EQ(sfu_probe_cluster_on_sent(&c, 1200, 0), 3);
    /* The caller stopped short: the next packet after 1 s is not the probe's. */
    ASSERT_EQ(sfu_probe_cluster_on_sent(&c, 1200, SFU_SEC(1) + 1), 0);
    ASSERT(!sfu_probe_cluster_idle(&c));
    /* Another probe's report does not count. */
    sfu_sent_packet other = { .probe_id = 4, .size_bytes = 1200 };
    sfu_probe_cluster_on_report(&c, &other, true, 0);
    ASSERT_EQ(c.reported, 0);
    ASSERT(!sfu_probe_cluster_ready(&c, SFU_SEC(2)));
    ASSERT(sfu_probe_cluster_ready(&c, SFU_SEC(3) + 1));   /* no feedback in 2 s */
    bool sat;
    ASSERT_EQ(sfu_probe_cluster_finish(&c, 0, &sat), 0);
    /* A probe the caller never sent a byte of ends as well. */
    sfu_probe_cluster_start(&c, 5, 1000000, 100000, SFU_SEC(10));
    sfu_probe_cluster_handle_timeout(&c, SFU_SEC(11));
    ASSERT_EQ(sfu_probe_cluster_sending_rate(&c), 1000000);
    sfu_probe_cluster_handle_timeout(&c, SFU_SEC(11) + 1);
    ASSERT_EQ(sfu_probe_cluster_sending_rate(&c), 0);
    ASSERT(sfu_probe_cluster_ready(&c, SFU_SEC(14)));
    return 0;
}

/* What a probe still needs to keep to its rate counts the media sent
 * toward it: padding fills up to the rate, never on top of it. */
TEST(due_counts_media)
{
    sfu_probe_cluster c;
    memset(&c, 0, sizeof c);
    ASSERT_EQ(sfu_probe_cluster_due(&c, SFU_MS(10)), 0);                /* idle */
    sfu_probe_cluster_start(&c, 7, 800000, 5000, SFU_MS(100));          /* 100 bytes per ms */
    ASSERT_EQ(sfu_probe_cluster_due(&c, SFU_MS(100)), 0);
    ASSERT_EQ(sfu_probe_cluster_due(&c, SFU_MS(105)), 500);
    ASSERT_EQ(sfu_probe_cluster_on_sent(&c, 300, SFU_MS(101)), 7);        /* media */
    ASSERT_EQ(sfu_probe_cluster_due(&c, SFU_MS(105)), 200);
    ASSERT_EQ(sfu_probe_cluster_on_sent(&c, 900, SFU_MS(104)), 7);        /* more media than due */
    ASSERT_EQ(sfu_probe_cluster_due(&c, SFU_MS(105)), 0);
    ASSERT_EQ(sfu_probe_cluster_due(&c, SFU_MS(115)), 300);
    ASSERT_EQ(sfu_probe_cluster_due(&c, SFU_SEC(1)), 5000 - 1200);      /* never past its bytes */
    ASSERT_EQ(sfu_probe_cluster_on_sent(&c, 3800, SFU_MS(140)), 7);
    ASSERT_EQ(sfu_probe_cluster_due(&c, SFU_MS(150)), 0);                /* complete: waiting */
    return 0;
}

/* A long probe stops when a bucket looks to have run dry under it (at
 * least 8 lost, more than half of those reported since its first loss),
 * not on random loss of tens of percent. */
TEST(overflowing_table)
{
    static const struct {
        const char *name;
        const char *fates;      /* r received, l lost, in report order */
        bool want;
    } rows[] = {
        { "all through", "rrrrrrrrrrrrrrrrrrrr", false },
        { "the bucket runs dry", "rrrrrrrrrrrrrrrrrrrrllrllllrll", true },
        { "7 lost: not yet", "rrrrrrrrrrlllllll", false },
        { "every third lost (33 %)", "rrlrrlrrlrrlrrlrrlrrlrrlrrlrrl", false },
        { "alternating (50 %): not more than half", "lrlrlrlrlrlrlrlr", false },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++) {
        sfu_probe_cluster c;
        sfu_probe_cluster_start(&c, 9, 2000000, 1000000, 0);
        c.long_probe = true;
        size_t n = strlen(rows[i].fates);
        for (size_t k = 0; k < n; k++) {
            ASSERT_EQ(sfu_probe_cluster_on_sent(&c, 1200, (sfu_time)k * 1000), 9);
            sfu_sent_packet e = { .sent_at = (sfu_time)k * 1000, .probe_id = 9, .seq16 = (uint16_t)k,
                                  .size_bytes = 1200 };
            sfu_probe_cluster_on_report(&c, &e, rows[i].fates[k] == 'r', SFU_MS(30) + (sfu_time)k * 1000);
        }
        if (sfu_probe_cluster_overflowing(&c) != rows[i].want)
            TEST_FAIL_("%s: overflowing %d, want %d", rows[i].name, !rows[i].want, rows[i].want);
        /* A long probe's loss counts over what was reported: 90 % in,
         * the rest on its way, is not a loss. */
    }
    sfu_probe_cluster c;
    sfu_probe_cluster_start(&c, 3, 2000000, 20 * 1200, 0);
    c.long_probe = true;
    sfu_sent_packet e[20];
    for (int k = 0; k < 20; k++) {
        ASSERT_EQ(sfu_probe_cluster_on_sent(&c, 1200, k * 4800), 3);
        e[k] = (sfu_sent_packet){ .sent_at = k * 4800, .probe_id = 3, .seq16 = (uint16_t)k, .size_bytes = 1200 };
    }
    for (int k = 0; k < 18; k++)
        sfu_probe_cluster_on_report(&c, &e[k], true, SFU_MS(30) + k * 4800);
    ASSERT(sfu_probe_cluster_ready(&c, SFU_MS(200)));
    bool sat;
    uint64_t r = sfu_probe_cluster_finish(&c, 0, &sat);
    ASSERT(r > 1900000 && r < 2100000);
    return 0;
}

TEST_LIST(TEST_ENTRY(result_table), TEST_ENTRY(overflowing_table), TEST_ENTRY(timeouts_and_other_probes), TEST_ENTRY(due_counts_media))
