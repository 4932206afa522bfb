/* GSO trains: which datagrams of a socket's run go out as one message. */
#include "sfu/core/gso_plan.h"
#include "tests/test.h"

#define MAXD 16

/* Each row: lengths and destinations of a run, the limits, and the
 * messages expected as "first:count" pairs. */
TEST(plans_trains)
{
    static const struct {
        const char *what;
        uint16_t len[MAXD];
        uint32_t dest[MAXD];
        size_t n;
        uint32_t min_segs, max_segs, max_bytes;
        uint32_t want[MAXD][2];
        size_t nwant;
    } rows[] = {
        { "empty", { 0 }, { 0 }, 0, 2, 64, 65000, { { 0 } }, 0 },
        { "one datagram", { 1200 }, { 0 }, 1, 2, 64, 65000, { { 0, 1 } }, 1 },
        { "a keyframe burst: equal sizes, a shorter last", { 1232, 1232, 1232, 700 }, { 0, 0, 0, 0 }, 4,
          2, 64, 65000, { { 0, 4 } }, 1 },
        { "a shorter one ends the train", { 1232, 1232, 700, 1232, 1232 }, { 0, 0, 0, 0, 0 }, 5,
          2, 64, 65000, { { 0, 3 }, { 3, 2 } }, 2 },
        { "a longer one starts anew", { 200, 1232, 1232 }, { 0, 0, 0 }, 3, 2, 64, 65000,
          { { 0, 1 }, { 1, 2 } }, 2 },
        { "audio between video", { 1232, 120, 1232, 1232 }, { 0, 0, 0, 0 }, 4, 2, 64, 65000,
          { { 0, 2 }, { 2, 2 } }, 2 },
        { "another destination splits", { 1232, 1232, 1232, 1232 }, { 0, 0, 7, 7 }, 4, 2, 64, 65000,
          { { 0, 2 }, { 2, 2 } }, 2 },
        { "max_segs", { 1000, 1000, 1000, 1000, 1000 }, { 0 }, 5, 2, 2, 65000,
          { { 0, 2 }, { 2, 2 }, { 4, 1 } }, 3 },
        { "max_bytes", { 1000, 1000, 1000, 1000 }, { 0 }, 4, 2, 64, 2500, { { 0, 2 }, { 2, 2 } }, 2 },
        { "min_segs: short stretches go plain", { 1232, 90, 1232, 1232, 1232 }, { 0 }, 5,
          3, 64, 65000, { { 0, 1 }, { 1, 1 }, { 2, 3 } }, 3 },
        { "min_segs counts the shorter last one", { 1232, 1232, 90, 1232 }, { 0 }, 4,
          3, 64, 65000, { { 0, 3 }, { 3, 1 } }, 2 },
        { "a zero length is never in a train", { 0, 0, 1232 }, { 0 }, 3, 2, 64, 65000,
          { { 0, 1 }, { 1, 1 }, { 2, 1 } }, 3 },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        sfu_gso_msg out[MAXD];
        size_t m = sfu_gso_plan(rows[r].len, rows[r].dest, rows[r].n, rows[r].min_segs,
                                rows[r].max_segs, rows[r].max_bytes, out);
        if (m != rows[r].nwant)
            fprintf(stderr, "  row: %s\n", rows[r].what);
        ASSERT_EQ(m, rows[r].nwant);
        for (size_t i = 0; i < m; i++) {
            if (out[i].first != rows[r].want[i][0] || out[i].count != rows[r].want[i][1])
                fprintf(stderr, "  row: %s, message %zu\n", rows[r].what, i);
            ASSERT_EQ(out[i].first, rows[r].want[i][0]);
            ASSERT_EQ(out[i].count, rows[r].want[i][1]);
            ASSERT_EQ(out[i].seg, rows[r].len[out[i].first]);
        }
    }
    return 0;
}

/* Every datagram is in exactly one message, in order, whatever the run. */
TEST(covers_every_datagram_once)
{
    uint16_t len[200];
    uint32_t dest[200];
    uint32_t x = 12345;
    for (int round = 0; round < 500; round++) {
        size_t n = (size_t)(round % 200);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            static const uint16_t sizes[] = { 0, 90, 700, 1232, 1232, 1232 };
            len[i] = sizes[(x >> 16) % 6];
            dest[i] = (x >> 8) % 3 == 0 ? (uint32_t)i : (i ? dest[i - 1] : 0);
        }
        sfu_gso_msg out[200];
        size_t m = sfu_gso_plan(len, dest, n, 2, 8, 6000, out);
        size_t next = 0;
        for (size_t k = 0; k < m; k++) {
            ASSERT_EQ(out[k].first, next);
            ASSERT(out[k].count >= 1 && out[k].count <= 8);
            uint32_t bytes = 0;
            for (uint32_t j = 0; j < out[k].count; j++) {
                size_t d = out[k].first + j;
                bytes += len[d];
                ASSERT_EQ(dest[d], dest[out[k].first]);
                if (out[k].count > 1) {
                    ASSERT(len[d] > 0 && len[d] <= out[k].seg);
                    if (j + 1 < out[k].count)
                        ASSERT_EQ(len[d], out[k].seg);
                }
            }
            if (out[k].count > 1)
                ASSERT(bytes <= 6000);
            next += out[k].count;
        }
        ASSERT_EQ(next, n);
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(plans_trains), TEST_ENTRY(covers_every_datagram_once))
