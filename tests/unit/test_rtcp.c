/* RTCP common header, compounds, SR/RR, SDES/BYE, and real-world shaped
 * compounds. Feedback messages: test_rtcp_fb.c; TWCC: test_rtcp_twcc.c. */
#include "tests/test.h"

#include "sfu/core/rtcp.h"
#include "sfu/core/rtcp_fb.h"
#include "sfu/core/rtcp_sdes_bye.h"
#include "sfu/core/rtcp_sr_rr.h"

/* Parses the single packet in buf into *c; 0 or the error. */
static int one(const uint8_t *buf, size_t n, sfu_rtcp_common *c)
{
    size_t off = 0;
    int r = sfu_rtcp_next(buf, n, &off, c);
    if (r != 1)
        return r < 0 ? r : -100;
    return off == n ? 0 : -101;
}

/* ---- common header and iteration ---- */

static const struct {
    const char *name;
    uint8_t bytes[16];
    size_t n;
    int want;                   /* packets, or a negative error */
} iter_cases[] = {
    { "empty", { 0 }, 0, 0 },
    { "rr_empty", { 0x80, 201, 0, 1, 1, 2, 3, 4 }, 8, 1 },
    { "two_pli", { 0x81, 206, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 0x81, 206, 0, 0 }, 16, 2 },
    { "short_header", { 0x80, 201, 0 }, 3, -SFU_EMALFORMED },
    { "version_1", { 0x40, 201, 0, 1, 1, 2, 3, 4 }, 8, -SFU_EMALFORMED },
    { "version_0", { 0x00, 201, 0, 1, 1, 2, 3, 4 }, 8, -SFU_EMALFORMED },
    { "length_overrun", { 0x80, 201, 0, 2, 1, 2, 3, 4 }, 8, -SFU_EMALFORMED },
    { "length_huge", { 0x80, 201, 0xff, 0xff, 1, 2, 3, 4 }, 8, -SFU_EMALFORMED },
    { "trailing_bytes", { 0x80, 201, 0, 1, 1, 2, 3, 4, 0x80, 201 }, 10, -SFU_EMALFORMED },
    { "padding_zero", { 0xa0, 201, 0, 1, 1, 2, 3, 0 }, 8, -SFU_EMALFORMED },
    { "padding_too_big", { 0xa0, 201, 0, 1, 1, 2, 3, 5 }, 8, -SFU_EMALFORMED },
    { "padding_all_body", { 0xa0, 201, 0, 1, 0, 0, 0, 4 }, 8, 1 },
    { "second_bad", { 0x80, 201, 0, 1, 1, 2, 3, 4, 0x40, 201, 0, 0 }, 12, -SFU_EMALFORMED },
};

TEST(iterate_table)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(iter_cases); i++) {
        size_t off = 0;
        sfu_rtcp_common c;
        int r, count = 0;
        while ((r = sfu_rtcp_next(iter_cases[i].bytes, iter_cases[i].n, &off, &c)) == 1) {
            ASSERT_LE(off, iter_cases[i].n);
            ASSERT(c.body + c.body_len <= iter_cases[i].bytes + iter_cases[i].n);
            count++;
        }
        int got = r < 0 ? r : count;
        if (got != iter_cases[i].want)
            fprintf(stderr, "  case %s\n", iter_cases[i].name);
        ASSERT_EQ(got, iter_cases[i].want);
    }
    return 0;
}

TEST(header_fields_and_padding)
{
    /* RR, RC=0, padded with 4 bytes: body is the SSRC only. */
    const uint8_t p[] = { 0xa0, 201, 0, 2, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 4 };
    sfu_rtcp_common c;
    ASSERT_EQ(one(p, sizeof p, &c), 0);
    ASSERT_EQ(c.version, 2);
    ASSERT(c.padding);
    ASSERT_EQ(c.pt, SFU_RTCP_RR);
    ASSERT_EQ(c.count, 0);
    ASSERT_EQ(c.len, 12);
    ASSERT_EQ(c.pad_len, 4);
    ASSERT_EQ(c.body_len, 4);
    sfu_rtcp_rr rr;
    ASSERT_EQ(sfu_rtcp_rr_parse(&c, &rr), 0);
    ASSERT_EQ(rr.ssrc, 0xdeadbeef);
    return 0;
}

static const struct {
    const char *name;
    uint8_t bytes[24];
    size_t n;
    bool rsize;
    int want;
} compound_cases[] = {
    { "rr_then_pli", { 0x80, 201, 0, 1, 1, 2, 3, 4, 0x81, 206, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8 },
      20, false, 2 },
    { "pli_first", { 0x81, 206, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8 }, 12, false, -SFU_EMALFORMED },
    { "pli_first_rsize", { 0x81, 206, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8 }, 12, true, 1 },
    { "pad_in_middle", { 0xa0, 201, 0, 2, 1, 2, 3, 4, 0, 0, 0, 4, 0x81, 206, 0, 2, 1, 2, 3, 4,
                         5, 6, 7, 8 }, 24, false, -SFU_EMALFORMED },
    { "pad_in_middle_rsize", { 0xa0, 201, 0, 2, 1, 2, 3, 4, 0, 0, 0, 4, 0x81, 206, 0, 2, 1, 2,
                               3, 4, 5, 6, 7, 8 }, 24, true, 2 },
    { "pad_last", { 0x80, 201, 0, 1, 1, 2, 3, 4, 0xa0, 201, 0, 2, 1, 2, 3, 4, 0, 0, 0, 4 }, 20,
      false, 2 },
    { "empty", { 0 }, 0, true, -SFU_EMALFORMED },
};

TEST(validate_compound_table)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(compound_cases); i++) {
        int r = sfu_rtcp_validate_compound(compound_cases[i].bytes, compound_cases[i].n,
                                           compound_cases[i].rsize);
        if (r != compound_cases[i].want)
            fprintf(stderr, "  case %s\n", compound_cases[i].name);
        ASSERT_EQ(r, compound_cases[i].want);
    }
    return 0;
}

TEST(is_rtcp)
{
    const uint8_t rtcp[] = { 0x80, 200, 0, 6 }, rtp[] = { 0x80, 96, 0, 1 }, rtp_m[] = { 0x80, 0xe0, 0, 1 };
    ASSERT(sfu_rtcp_is_rtcp(rtcp, 4));
    ASSERT(!sfu_rtcp_is_rtcp(rtp, 4));
    ASSERT(!sfu_rtcp_is_rtcp(rtp_m, 4));   /* marker + PT 96 = 224 */
    ASSERT(!sfu_rtcp_is_rtcp(rtcp, 3));
    return 0;
}

/* ---- SR / RR ---- */

static sfu_rtcp_report_block block(uint32_t ssrc, int32_t lost)
{
    sfu_rtcp_report_block b = { .ssrc = ssrc, .fraction_lost = 25, .cumulative_lost = lost,
                                .ext_highest_seq = 0x00012345, .jitter = 77, .lsr = 0xb7052000,
                                .dlsr = 0x00054000 };
    return b;
}

TEST(sr_round_trip_table)
{
    static const struct { uint8_t reports; int32_t lost; size_t len; } cases[] = {
        { 0, 0, 28 }, { 1, 5, 52 }, { 2, -3, 76 }, { 31, 0x7fffff, 28 + 31 * 24 },
        { 1, -0x800000, 52 },
    };
    for (size_t k = 0; k < SFU_ARRAY_LEN(cases); k++) {
        sfu_rtcp_sr sr = { .ssrc = 0x11223344, .ntp = 0xe6b5a0c1800000ffULL, .rtp_ts = 90000,
                           .packet_count = 1000, .octet_count = 123456,
                           .report_count = cases[k].reports };
        for (unsigned i = 0; i < cases[k].reports; i++)
            sr.reports[i] = block(0x1000 + i, cases[k].lost);
        uint8_t buf[1024];
        int n = sfu_rtcp_sr_build(buf, sizeof buf, &sr);
        ASSERT_EQ(n, (int)cases[k].len);
        ASSERT_EQ(sfu_rtcp_sr_build(buf, (size_t)n - 1, &sr), -SFU_ENOSPC);
        sfu_rtcp_common c;
        ASSERT_EQ(one(buf, (size_t)n, &c), 0);
        sfu_rtcp_sr out;
        ASSERT_EQ(sfu_rtcp_sr_parse(&c, &out), 0);
        ASSERT_EQ(out.ssrc, sr.ssrc);
        ASSERT(out.ntp == sr.ntp);
        ASSERT_EQ(out.rtp_ts, 90000);
        ASSERT_EQ(out.packet_count, 1000);
        ASSERT_EQ(out.octet_count, 123456);
        ASSERT_EQ(out.report_count, cases[k].reports);
        for (unsigned i = 0; i < cases[k].reports; i++) {
            ASSERT_EQ(out.reports[i].ssrc, 0x1000 + i);
            ASSERT_EQ(out.reports[i].fraction_lost, 25);
            ASSERT_EQ(out.reports[i].cumulative_lost, cases[k].lost);
            ASSERT_EQ(out.reports[i].ext_highest_seq, 0x00012345);
            ASSERT_EQ(out.reports[i].jitter, 77);
            ASSERT_EQ(out.reports[i].lsr, 0xb7052000);
            ASSERT_EQ(out.reports[i].dlsr, 0x00054000);
        }
        sfu_rtcp_rr wrong;
        ASSERT_EQ(sfu_rtcp_rr_parse(&c, &wrong), -SFU_EINVAL);
    }
    return 0;
}

TEST(rr_round_trip_and_clamp)
{
    sfu_rtcp_rr rr = { .ssrc = 1, .report_count = 2 };
    rr.reports[0] = block(7, 0x1000000);    /* clamped to the 24-bit maximum */
    rr.reports[1] = block(8, -0x1000000);
    uint8_t buf[128];
    int n = sfu_rtcp_rr_build(buf, sizeof buf, &rr);
    ASSERT_EQ(n, 8 + 48);
    sfu_rtcp_common c;
    ASSERT_EQ(one(buf, (size_t)n, &c), 0);
    sfu_rtcp_rr out;
    ASSERT_EQ(sfu_rtcp_rr_parse(&c, &out), 0);
    ASSERT_EQ(out.report_count, 2);
    ASSERT_EQ(out.reports[0].cumulative_lost, 0x7fffff);
    ASSERT_EQ(out.reports[1].cumulative_lost, -0x800000);
    rr.report_count = 32;
    ASSERT_EQ(sfu_rtcp_rr_build(buf, sizeof buf, &rr), -SFU_EINVAL);
    return 0;
}

TEST(sr_rr_malformed_table)
{
    static const struct { uint8_t bytes[32]; size_t n; } cases[] = {
        /* SR claiming one report block with only the sender info */
        { { 0x81, 200, 0, 6, 1, 2, 3, 4 }, 28 },
        /* SR shorter than its sender info */
        { { 0x80, 200, 0, 3, 1, 2, 3, 4 }, 16 },
        /* RR claiming two blocks, carrying one */
        { { 0x82, 201, 0, 7, 1, 2, 3, 4 }, 32 },
        /* RR with no SSRC */
        { { 0x80, 201, 0, 0 }, 4 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        sfu_rtcp_common c;
        ASSERT_EQ(one(cases[i].bytes, cases[i].n, &c), 0);
        sfu_rtcp_sr sr;
        sfu_rtcp_rr rr;
        int r = c.pt == SFU_RTCP_SR ? sfu_rtcp_sr_parse(&c, &sr) : sfu_rtcp_rr_parse(&c, &rr);
        ASSERT_EQ(r, -SFU_EMALFORMED);
    }
    return 0;
}

TEST(ntp_helpers)
{
    ASSERT(sfu_ntp_from_unix_us(0) == 2208988800ULL << 32);
    ASSERT(sfu_ntp_from_unix_us(500000) == (2208988800ULL << 32 | 0x80000000ULL));
    static const int64_t samples[] = { 0, 1, 999999, 1700000000123456LL, -1, -1500000 };
    for (size_t i = 0; i < SFU_ARRAY_LEN(samples); i++)
        ASSERT_EQ(sfu_ntp_to_unix_us(sfu_ntp_from_unix_us(samples[i])), samples[i]);
    ASSERT_EQ(sfu_ntp_mid32(0x0000b7108000ffffULL), 0xb7108000);
    ASSERT_EQ(sfu_rtcp_dlsr_from_us(5250000), 0x00054000);   /* 5.25 s */
    ASSERT_EQ(sfu_rtcp_dlsr_from_us(-5), 0);
    ASSERT_EQ(sfu_rtcp_dlsr_from_us(INT64_MAX), UINT32_MAX);
    ASSERT_EQ(sfu_rtcp_dlsr_to_us(0x00054000), 5250000);
    /* RFC 3550 6.4.1 figure 2: A 46864.500, LSR 46853.125, DLSR 5.250 -> 6.125 s */
    ASSERT_EQ(sfu_rtcp_rtt_us(0xb7108000, 0xb7052000, 0x00054000), 6125000);
    ASSERT_EQ(sfu_rtcp_rtt_us(0xb7108000, 0, 0x00054000), -1);
    ASSERT_EQ(sfu_rtcp_rtt_us(0xb7052000, 0xb7052000, 0x00054000), -1);
    /* across the wrap of the middle 32 bits */
    ASSERT_EQ(sfu_rtcp_rtt_us(0x00008000, 0xffff8000, 0), 1000000);
    return 0;
}

/* ---- SDES / BYE ---- */

TEST(sdes_cname_round_trip_table)
{
    static const char *names[] = { "a", "ab", "abc", "abcd", "abcde", "0123456789abcdef",
                                   "{d2a3f0b1-8c0e-4f4e-9d1c-2b7a1f0e3c5d}" };
    for (size_t i = 0; i < SFU_ARRAY_LEN(names); i++) {
        size_t len = strlen(names[i]);
        uint8_t buf[128];
        int n = sfu_rtcp_sdes_build_cname(buf, sizeof buf, 0xcafe0000u + (uint32_t)i, names[i], len);
        ASSERT_EQ(n, (int)(4 + ((4 + 2 + len + 1 + 3) & ~(size_t)3)));
        ASSERT_EQ(n % 4, 0);
        ASSERT_EQ(buf[n - 1], 0);
        ASSERT_EQ(sfu_rtcp_sdes_build_cname(buf, (size_t)n - 1, 1, names[i], len), -SFU_ENOSPC);
        sfu_rtcp_common c;
        ASSERT_EQ(one(buf, (size_t)n, &c), 0);
        sfu_rtcp_sdes s;
        ASSERT_EQ(sfu_rtcp_sdes_parse(&c, &s), 0);
        ASSERT_EQ(s.chunk_count, 1);
        ASSERT_EQ(s.chunks[0].ssrc, 0xcafe0000u + (uint32_t)i);
        ASSERT_EQ(s.chunks[0].cname_len, len);
        ASSERT_MEM_EQ(s.chunks[0].cname, names[i], len);
    }
    uint8_t buf[8];
    ASSERT_EQ(sfu_rtcp_sdes_build_cname(buf, sizeof buf, 1, "", 0), -SFU_EINVAL);
    return 0;
}

TEST(sdes_multi_chunk_and_items)
{
    /* Two chunks: the first has NAME then CNAME "xy", the second only TOOL. */
    const uint8_t p[] = {
        0x82, 202, 0, 6,
        0, 0, 0, 1, 2, 1, 'n', 1, 2, 'x', 'y', 0,     /* NAME "n", CNAME "xy", end */
        0, 0, 0, 2, 6, 3, 't', 'o', 'o', 0, 0, 0,     /* TOOL "too", end + pad */
    };
    sfu_rtcp_common c;
    ASSERT_EQ(one(p, sizeof p, &c), 0);
    sfu_rtcp_sdes s;
    ASSERT_EQ(sfu_rtcp_sdes_parse(&c, &s), 0);
    ASSERT_EQ(s.chunk_count, 2);
    ASSERT_EQ(s.chunks[0].cname_len, 2);
    ASSERT_MEM_EQ(s.chunks[0].cname, "xy", 2);
    ASSERT(s.chunks[1].cname == NULL);
    ASSERT_EQ(s.chunks[1].ssrc, 2);
    return 0;
}

TEST(sdes_malformed_table)
{
    static const struct { uint8_t bytes[20]; size_t n; } cases[] = {
        /* item length runs past the body */
        { { 0x81, 202, 0, 3, 0, 0, 0, 1, 1, 9, 'a', 'b', 'c', 'd', 0, 0 }, 16 },
        /* no terminating null octet */
        { { 0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 'a', 'b' }, 12 },
        /* two chunks announced, one present */
        { { 0x82, 202, 0, 2, 0, 0, 0, 1, 1, 1, 'a', 0 }, 12 },
        /* chunk SSRC cut short */
        { { 0x81, 202, 0, 0 }, 4 },
        /* item header cut short at the end of the body */
        { { 0x81, 202, 0, 2, 0, 0, 0, 1, 2, 1, 'a', 1 }, 12 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        sfu_rtcp_common c;
        ASSERT_EQ(one(cases[i].bytes, cases[i].n, &c), 0);
        sfu_rtcp_sdes s;
        ASSERT_EQ(sfu_rtcp_sdes_parse(&c, &s), -SFU_EMALFORMED);
    }
    return 0;
}

TEST(bye_round_trip_table)
{
    static const struct { size_t count; const char *reason; int len; } cases[] = {
        { 1, NULL, 8 }, { 2, NULL, 12 }, { 1, "bye", 12 }, { 3, "shutting down", 16 + 16 },
        { 31, "x", 4 + 124 + 4 },
    };
    for (size_t k = 0; k < SFU_ARRAY_LEN(cases); k++) {
        uint32_t ssrcs[31];
        for (size_t i = 0; i < cases[k].count; i++)
            ssrcs[i] = 0xa0000000u + (uint32_t)i;
        size_t rlen = cases[k].reason ? strlen(cases[k].reason) : 0;
        uint8_t buf[256];
        int n = sfu_rtcp_bye_build(buf, sizeof buf, ssrcs, cases[k].count, cases[k].reason, rlen);
        ASSERT_EQ(n, cases[k].len);
        ASSERT_EQ(sfu_rtcp_bye_build(buf, (size_t)n - 1, ssrcs, cases[k].count, cases[k].reason,
                                     rlen), -SFU_ENOSPC);
        sfu_rtcp_common c;
        ASSERT_EQ(one(buf, (size_t)n, &c), 0);
        sfu_rtcp_bye b;
        ASSERT_EQ(sfu_rtcp_bye_parse(&c, &b), 0);
        ASSERT_EQ(b.ssrc_count, cases[k].count);
        for (size_t i = 0; i < cases[k].count; i++)
            ASSERT_EQ(b.ssrcs[i], ssrcs[i]);
        ASSERT_EQ(b.reason_len, rlen);
        if (rlen)
            ASSERT_MEM_EQ(b.reason, cases[k].reason, rlen);
    }
    const uint8_t lying[] = { 0x81, 203, 0, 2, 0, 0, 0, 1, 9, 'a', 'b', 'c' };
    sfu_rtcp_common c;
    sfu_rtcp_bye b;
    ASSERT_EQ(one(lying, sizeof lying, &c), 0);
    ASSERT_EQ(sfu_rtcp_bye_parse(&c, &b), -SFU_EMALFORMED);
    const uint8_t short_ssrcs[] = { 0x82, 203, 0, 1, 0, 0, 0, 1 };
    ASSERT_EQ(one(short_ssrcs, sizeof short_ssrcs, &c), 0);
    ASSERT_EQ(sfu_rtcp_bye_parse(&c, &b), -SFU_EMALFORMED);
    return 0;
}

/* ---- real-world shaped compounds ---- */

/* What Chrome sends as a video sender: SR with one report block, then SDES
 * with a 16-character CNAME. */
static const uint8_t chrome_sr_sdes[] = {
    0x81, 0xc8, 0x00, 0x0c, 0x6b, 0x8b, 0x45, 0x67, 0xe9, 0x0c, 0x1e, 0x4d, 0x3a, 0x5e, 0x35, 0x3f,
    0x9c, 0x8f, 0x2e, 0x10, 0x00, 0x00, 0x04, 0xd2, 0x00, 0x0f, 0x42, 0x40, 0x00, 0x00, 0x00, 0x01,
    0x05, 0x00, 0x00, 0x02, 0x00, 0x00, 0x1f, 0x40, 0x00, 0x00, 0x00, 0x0a, 0x3a, 0x5e, 0x12, 0x34,
    0x00, 0x01, 0x00, 0x00,
    0x81, 0xca, 0x00, 0x06, 0x6b, 0x8b, 0x45, 0x67, 0x01, 0x10, 'W', 'r', 'P', 'q', '7', '3', 'v',
    'Y', 'b', 'N', 'x', '9', 'k', 'Q', 'z', 'L', 0x00, 0x00,
};

/* A receiver's RR with one block, then REMB for two SSRCs. */
static const uint8_t chrome_rr_remb[] = {
    0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x6b, 0x8b, 0x45, 0x67, 0x00, 0xff, 0xff, 0xff,
    0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x8f, 0xce, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 'R', 'E', 'M', 'B',
    0x02, 0x0b, 0xd0, 0x90, 0x6b, 0x8b, 0x45, 0x67, 0x12, 0x34, 0x56, 0x78,
};

TEST(chrome_sr_sdes)
{
    ASSERT_EQ(sfu_rtcp_validate_compound(chrome_sr_sdes, sizeof chrome_sr_sdes, false), 2);
    size_t off = 0;
    sfu_rtcp_common c;
    ASSERT_EQ(sfu_rtcp_next(chrome_sr_sdes, sizeof chrome_sr_sdes, &off, &c), 1);
    sfu_rtcp_sr sr;
    ASSERT_EQ(sfu_rtcp_sr_parse(&c, &sr), 0);
    ASSERT_EQ(sr.ssrc, 0x6b8b4567);
    ASSERT(sr.ntp == 0xe90c1e4d3a5e353fULL);
    ASSERT_EQ(sr.rtp_ts, 0x9c8f2e10);
    ASSERT_EQ(sr.packet_count, 1234);
    ASSERT_EQ(sr.octet_count, 1000000);
    ASSERT_EQ(sr.report_count, 1);
    ASSERT_EQ(sr.reports[0].fraction_lost, 5);
    ASSERT_EQ(sr.reports[0].cumulative_lost, 2);
    ASSERT_EQ(sr.reports[0].ext_highest_seq, 8000);
    ASSERT_EQ(sr.reports[0].lsr, 0x3a5e1234);
    ASSERT_EQ(sr.reports[0].dlsr, 0x00010000);
    ASSERT_EQ(sfu_rtcp_next(chrome_sr_sdes, sizeof chrome_sr_sdes, &off, &c), 1);
    sfu_rtcp_sdes s;
    ASSERT_EQ(sfu_rtcp_sdes_parse(&c, &s), 0);
    ASSERT_EQ(s.chunk_count, 1);
    ASSERT_EQ(s.chunks[0].ssrc, 0x6b8b4567);
    ASSERT_EQ(s.chunks[0].cname_len, 16);
    ASSERT_MEM_EQ(s.chunks[0].cname, "WrPq73vYbNx9kQzL", 16);
    ASSERT_EQ(sfu_rtcp_next(chrome_sr_sdes, sizeof chrome_sr_sdes, &off, &c), 0);
    /* Our own builders produce the same bytes. */
    uint8_t buf[128];
    int n = sfu_rtcp_sr_build(buf, sizeof buf, &sr);
    ASSERT_EQ(n, 52);
    int m = sfu_rtcp_sdes_build_cname(buf + n, sizeof buf - (size_t)n, 0x6b8b4567, "WrPq73vYbNx9kQzL", 16);
    ASSERT_EQ(n + m, (int)sizeof chrome_sr_sdes);
    ASSERT_MEM_EQ(buf, chrome_sr_sdes, sizeof chrome_sr_sdes);
    return 0;
}

TEST(chrome_rr_remb)
{
    ASSERT_EQ(sfu_rtcp_validate_compound(chrome_rr_remb, sizeof chrome_rr_remb, false), 2);
    size_t off = 0;
    sfu_rtcp_common c;
    ASSERT_EQ(sfu_rtcp_next(chrome_rr_remb, sizeof chrome_rr_remb, &off, &c), 1);
    sfu_rtcp_rr rr;
    ASSERT_EQ(sfu_rtcp_rr_parse(&c, &rr), 0);
    ASSERT_EQ(rr.report_count, 1);
    ASSERT_EQ(rr.reports[0].ssrc, 0x6b8b4567);
    ASSERT_EQ(rr.reports[0].cumulative_lost, -1);
    ASSERT_EQ(rr.reports[0].jitter, 32);
    ASSERT_EQ(sfu_rtcp_next(chrome_rr_remb, sizeof chrome_rr_remb, &off, &c), 1);
    sfu_rtcp_remb r;
    ASSERT_EQ(sfu_rtcp_remb_parse(&c, &r), 0);
    /* exp 2, mantissa 0x3d090 = 250000: 1 Mbps */
    ASSERT(r.bitrate_bps == 1000000);
    ASSERT_EQ(r.ssrc_count, 2);
    ASSERT_EQ(r.ssrcs[1], 0x12345678);
    return 0;
}

TEST_LIST(TEST_ENTRY(iterate_table), TEST_ENTRY(header_fields_and_padding),
          TEST_ENTRY(validate_compound_table), TEST_ENTRY(is_rtcp),
          TEST_ENTRY(sr_round_trip_table), TEST_ENTRY(rr_round_trip_and_clamp),
          TEST_ENTRY(sr_rr_malformed_table), TEST_ENTRY(ntp_helpers),
          TEST_ENTRY(sdes_cname_round_trip_table), TEST_ENTRY(sdes_multi_chunk_and_items),
          TEST_ENTRY(sdes_malformed_table), TEST_ENTRY(bye_round_trip_table),
          TEST_ENTRY(chrome_sr_sdes), TEST_ENTRY(chrome_rr_remb))
