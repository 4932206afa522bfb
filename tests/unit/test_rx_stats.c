/* Receive statistics (RFC 3550 A.3, A.8): loss in total and per interval,
 * jitter, LSR/DLSR. */
#include "sfu/core/rx_stats.h"
#include "tests/test.h"

TEST(loss_per_interval)
{
    /* Each row: packets arriving (0 ends), then the block's expected figures. */
    static const struct {
        uint64_t seqs[8];
        uint64_t highest;
        uint8_t fraction;       /* of 256 */
        int32_t cumulative;
    } t[] = {
        { { 0x10000, 0x10001, 0x10002, 0x10003 }, 0x10003, 0, 0 },
        { { 0x10005, 0x10007 }, 0x10007, 128, 2 },              /* 4 expected, 2 came */
        { { 0x10004, 0x10006, 0x10008 }, 0x10008, 0, 0 },       /* late ones close the gaps */
        { { 0x10008, 0x10009 }, 0x10009, 0, -1 },               /* a duplicate counts as received */
    };
    sfu_rx_stats rx = { 0 };
    sfu_rtcp_report_block b;
    ASSERT(!sfu_rx_stats_block(&rx, 1, 0x10000, 0, &b));
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        for (int k = 0; k < 8 && t[i].seqs[k]; k++)
            sfu_rx_stats_update(&rx, t[i].seqs[k], 0, 90000, false, SFU_MS(10 * k));
        ASSERT(sfu_rx_stats_block(&rx, 0x77, t[i].highest, SFU_SEC(1), &b));
        if (b.fraction_lost != t[i].fraction || b.cumulative_lost != t[i].cumulative)
            TEST_FAIL_("row %zu: fraction %u cumulative %d, want %u %d", i, b.fraction_lost, b.cumulative_lost,
                       t[i].fraction, t[i].cumulative);
        ASSERT_EQ(b.ssrc, 0x77);
        ASSERT_EQ(b.ext_highest_seq, (uint32_t)(t[i].highest - 0x10000));
    }
    return 0;
}

TEST(jitter_and_lsr)
{
    sfu_rx_stats rx = { 0 };
    /* 90 kHz, a packet every 20 ms whose arrival alternates 0 / +4 ms late:
     * transit differs by 360 ticks each time; jitter moves toward 360. */
    for (int i = 0; i < 200; i++)
        sfu_rx_stats_update(&rx, 0x10000 + (uint64_t)i, (uint32_t)i * 1800, 90000, false,
                            SFU_MS(20 * i) + (i & 1 ? SFU_MS(4) : 0));
    sfu_rtcp_report_block b;
    ASSERT(sfu_rx_stats_block(&rx, 1, 0x10000 + 199, SFU_SEC(5), &b));
    ASSERT_GT(b.jitter, 340);
    ASSERT_LE(b.jitter, 360);
    ASSERT_EQ(b.lsr, 0);
    ASSERT_EQ(b.dlsr, 0);
    /* retransmissions do not move it */
    uint32_t j = rx.jitter_q4;
    sfu_rx_stats_update(&rx, 0x10000 + 200, 0, 90000, true, SFU_SEC(9));
    ASSERT_EQ(rx.jitter_q4, j);
    sfu_rx_stats_handle_sr(&rx, (uint64_t)0xAABBCCDD11223344ull, SFU_SEC(6));
    ASSERT(sfu_rx_stats_block(&rx, 1, 0x10000 + 200, SFU_SEC(6) + SFU_MS(500), &b));
    ASSERT_EQ(b.lsr, 0xCCDD1122);
    ASSERT_EQ(b.dlsr, 32768);       /* 0.5 s in 1/65536 s */
    return 0;
}

TEST_LIST(TEST_ENTRY(loss_per_interval), TEST_ENTRY(jitter_and_lsr))
