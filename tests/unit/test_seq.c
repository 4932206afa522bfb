#include "sfu/core/seq.h"
#include "tests/test.h"

TEST(unwrap_table)
{
    static const struct { uint16_t in; int64_t rel; } t[] = {
        { 65534, 0 }, { 65535, 1 }, { 0, 2 }, { 65533, -1 }, { 1, 3 },
        { 40000, 3 - 25537 },   /* more than half ahead: a late packet */
        { 20000, 20002 }, { 40000, 40002 },
        { 1, 65539 },           /* 40000 -> 1 is +27073: ahead, wrapped */
    };
    sfu_seq_unwrapper u = { 0 };
    uint64_t base = sfu_seq_unwrap(&u, t[0].in);
    for (size_t i = 1; i < SFU_ARRAY_LEN(t); i++) {
        uint64_t got = sfu_seq_unwrap(&u, t[i].in);
        ASSERT_EQ((int64_t)(got - base), t[i].rel);
    }
    return 0;
}

enum op { MAP, DROP };
struct step {
    enum op op;
    uint32_t epoch;
    uint64_t src;
    uint32_t ts;
    sfu_time now;
    int rc;
    int out_rel;        /* expected output seq relative to the first */
    int64_t ts_rel;     /* expected output ts relative to the first */
};

static int run_steps(const struct step *t, size_t n, uint16_t first, uint32_t first_ts)
{
    sfu_seq s;
    sfu_seq_init(&s, first, first_ts, 90000);
    for (size_t i = 0; i < n; i++) {
        if (t[i].op == DROP) {
            sfu_seq_drop(&s, t[i].epoch, t[i].src);
            continue;
        }
        uint16_t out = 0;
        uint32_t ts = 0;
        int rc = sfu_seq_map(&s, t[i].epoch, t[i].src, t[i].ts, t[i].now, &out, &ts);
        if (rc != t[i].rc)
            TEST_FAIL_("step %zu: rc %d vs %d", i, rc, t[i].rc);
        if (rc < 0)
            continue;
        if ((uint16_t)(out - (first & 0x7fff)) != (uint16_t)t[i].out_rel)
            TEST_FAIL_("step %zu: out %u vs first+%d", i, out, t[i].out_rel);
        if ((uint32_t)(ts - first_ts) != (uint32_t)t[i].ts_rel)
            TEST_FAIL_("step %zu: ts %u vs first+%lld", i, ts, (long long)t[i].ts_rel);
        /* The inverse must lead back to the same source packet. */
        uint32_t ep, ts_off;
        uint64_t src;
        ASSERT_EQ(sfu_seq_unmap(&s, out, &ep, &src, &ts_off), 0);
        ASSERT_EQ(ep, t[i].epoch);
        ASSERT_EQ(src, t[i].src);
        ASSERT_EQ(t[i].ts + ts_off, ts);
    }
    return 0;
}

TEST(in_order_and_wrap)
{
    static const struct step t[] = {
        { MAP, 1, 100, 1000, 0, 0, 0, 0 },
        { MAP, 1, 101, 1000, 0, 0, 1, 0 },
        { MAP, 1, 102, 4000, 0, 0, 2, 3000 },
        { MAP, 1, 103, 4000, 0, 0, 3, 3000 },
    };
    /* First output seq 0x7ffe: the 16-bit output wraps past 0x7fff fine,
     * and 0xfffe is masked below 32768. */
    if (run_steps(t, SFU_ARRAY_LEN(t), 0x7ffe, 0xfffffff0u)) return 1;
    return run_steps(t, SFU_ARRAY_LEN(t), 0xfffe, 5);
}

TEST(reorder_maps_in_place)
{
    static const struct step t[] = {
        { MAP, 1, 10, 0, 0, 0, 0, 0 },
        { MAP, 1, 13, 0, 0, 0, 3, 0 },
        { MAP, 1, 11, 0, 0, 0, 1, 0 },
        { MAP, 1, 12, 0, 0, 0, 2, 0 },
        { MAP, 1, 9, 0, 0, -SFU_ENOTFOUND, 0, 0 }, /* before the epoch's first packet */
    };
    return run_steps(t, SFU_ARRAY_LEN(t), 500, 0);
}

TEST(drops_leave_no_gap)
{
    static const struct step t[] = {
        { MAP, 1, 10, 0, 0, 0, 0, 0 },
        { DROP, 1, 11, 0, 0, 0, 0, 0 },
        { DROP, 1, 12, 0, 0, 0, 0, 0 },
        { MAP, 1, 13, 0, 0, 0, 1, 0 },
        { DROP, 1, 15, 0, 0, 0, 0, 0 },     /* 14 still in flight */
        { MAP, 1, 16, 0, 0, 0, 3, 0 },
        { MAP, 1, 14, 0, 0, 0, 2, 0 },      /* late, under the older offset */
        { DROP, 1, 14, 0, 0, 0, 0, 0 },     /* behind: ignored */
        { MAP, 1, 17, 0, 0, 0, 4, 0 },
    };
    return run_steps(t, SFU_ARRAY_LEN(t), 1, 0);
}

TEST(epoch_switch_continues)
{
    static const struct step t[] = {
        { MAP, 1, 70000, 90000, SFU_MS(0), 0, 0, 0 },
        { MAP, 1, 70001, 93000, SFU_MS(33), 0, 1, 3000 },
        /* Restart: new epoch, unrelated seq and ts; 100 ms later. */
        { MAP, 2, 5, 777, SFU_MS(133), 0, 2, 3000 + 9000 },
        { MAP, 2, 6, 3777, SFU_MS(166), 0, 3, 3000 + 9000 + 3000 },
        { MAP, 2, 4, 0, SFU_MS(170), -SFU_ENOTFOUND, 0, 0 },
        /* Same instant switch: timestamps still advance by one tick. */
        { MAP, 3, 1, 50, SFU_MS(166), 0, 4, 15001 },
    };
    return run_steps(t, SFU_ARRAY_LEN(t), 20000, 90000);
}

TEST(unmap_table)
{
    sfu_seq s;
    sfu_seq_init(&s, 100, 0, 90000);
    uint16_t o;
    uint32_t ts;
    ASSERT_EQ(sfu_seq_map(&s, 7, 1000, 0, 0, &o, &ts), 0);     /* out 100 */
    sfu_seq_drop(&s, 7, 1001);
    ASSERT_EQ(sfu_seq_map(&s, 7, 1002, 0, 0, &o, &ts), 0);     /* out 101 */
    ASSERT_EQ(sfu_seq_map(&s, 8, 50, 0, 0, &o, &ts), 0);       /* out 102 */
    static const struct { uint16_t out; int rc; uint32_t epoch; uint64_t src; } t[] = {
        { 100, 0, 7, 1000 }, { 101, 0, 7, 1002 }, { 102, 0, 8, 50 },
        { 103, -SFU_ENOTFOUND, 0, 0 },  /* not sent yet */
        { 99, -SFU_ENOTFOUND, 0, 0 },   /* before the first */
        { 40000, -SFU_ENOTFOUND, 0, 0 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        uint32_t ep = 0, off;
        uint64_t src = 0;
        ASSERT_EQ(sfu_seq_unmap(&s, t[i].out, &ep, &src, &off), t[i].rc);
        if (t[i].rc == 0) {
            ASSERT_EQ(ep, t[i].epoch);
            ASSERT_EQ(src, t[i].src);
        }
    }
    return 0;
}

TEST(history_overflow_forgets_oldest)
{
    sfu_seq s;
    sfu_seq_init(&s, 0, 0, 90000);
    uint16_t o;
    uint32_t ts;
    ASSERT_EQ(sfu_seq_map(&s, 1, 10, 0, 0, &o, &ts), 0);
    /* Alternate forwarded and dropped packets: one history entry each. */
    uint64_t src = 11;
    for (int i = 0; i < SFU_SEQ_HISTORY + 4; i++, src += 2) {
        sfu_seq_drop(&s, 1, src);
        ASSERT_EQ(sfu_seq_map(&s, 1, src + 1, 0, 0, &o, &ts), 0);
        ASSERT_EQ(o, i + 1);
    }
    ASSERT_EQ(sfu_seq_map(&s, 1, 10, 0, 0, &o, &ts), -SFU_ENOTFOUND);
    uint32_t ep, off;
    uint64_t back;
    ASSERT_EQ(sfu_seq_unmap(&s, 0, &ep, &back, &off), -SFU_ENOTFOUND);
    ASSERT_EQ(sfu_seq_unmap(&s, (uint16_t)(SFU_SEQ_HISTORY + 4), &ep, &back, &off), 0);
    ASSERT_EQ(back, src - 1);
    return 0;
}

TEST_LIST(TEST_ENTRY(unwrap_table), TEST_ENTRY(in_order_and_wrap), TEST_ENTRY(reorder_maps_in_place),
          TEST_ENTRY(drops_leave_no_gap), TEST_ENTRY(epoch_switch_continues), TEST_ENTRY(unmap_table),
          TEST_ENTRY(history_overflow_forgets_oldest))
