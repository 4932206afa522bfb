/* Feedback messages: generic NACK, PLI, FIR, REMB. */
#include "tests/test.h"

#include "sfu/core/rtcp.h"
#include "sfu/core/rtcp_fb.h"

static int one(const uint8_t *buf, size_t n, sfu_rtcp_common *c)
{
    size_t off = 0;
    int r = sfu_rtcp_next(buf, n, &off, c);
    if (r != 1)
        return r < 0 ? r : -100;
    return off == n ? 0 : -101;
}

TEST(nack_round_trip_table)
{
    static const struct {
        const char *name;
        uint16_t in[20];
        size_t n;
        size_t pairs;
        uint16_t out[20];       /* expansion order: per pair, PID then BLP bits */
        size_t nout;
    } cases[] = {
        { "one", { 100 }, 1, 1, { 100 }, 1 },
        { "pid_and_blp", { 100, 101, 116 }, 3, 1, { 100, 101, 116 }, 3 },
        { "seventeen_apart", { 100, 117 }, 2, 2, { 100, 117 }, 2 },
        { "unsorted", { 105, 100, 103 }, 3, 2, { 105, 100, 103 }, 3 },
        { "duplicates", { 7, 7, 8, 8 }, 4, 1, { 7, 8 }, 2 },
        { "wrap", { 65534, 65535, 0, 1 }, 4, 1, { 65534, 65535, 0, 1 }, 4 },
        { "full_blp", { 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26 }, 17, 1,
          { 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26 }, 17 },
    };
    for (size_t k = 0; k < SFU_ARRAY_LEN(cases); k++) {
        uint8_t buf[128];
        int n = sfu_rtcp_nack_build(buf, sizeof buf, 0x51, 0x52, cases[k].in, cases[k].n);
        if (n != (int)(12 + 4 * cases[k].pairs))
            fprintf(stderr, "  case %s\n", cases[k].name);
        ASSERT_EQ(n, (int)(12 + 4 * cases[k].pairs));
        sfu_rtcp_common c;
        ASSERT_EQ(one(buf, (size_t)n, &c), 0);
        sfu_rtcp_nack nack;
        ASSERT_EQ(sfu_rtcp_nack_parse(&c, &nack), 0);
        ASSERT_EQ(nack.sender_ssrc, 0x51);
        ASSERT_EQ(nack.media_ssrc, 0x52);
        ASSERT(!nack.truncated);
        ASSERT_EQ(nack.count, cases[k].nout);
        /* Same set; "unsorted" expands as 105, 100, 103 -> pairs (105) and (100 +3). */
        for (size_t i = 0; i < cases[k].nout; i++) {
            bool found = false;
            for (size_t j = 0; j < nack.count; j++)
                found |= nack.seq16[j] == cases[k].out[i];
            ASSERT(found);
        }
    }
    uint16_t s = 1;
    uint8_t buf[16];
    ASSERT_EQ(sfu_rtcp_nack_build(buf, 15, 1, 2, &s, 1), -SFU_ENOSPC);
    ASSERT_EQ(sfu_rtcp_nack_build(buf, 16, 1, 2, &s, 0), -SFU_EINVAL);
    return 0;
}

TEST(nack_parse_expands_and_truncates)
{
    /* 40 FCIs with every BLP bit set: 680 sequence numbers, 512 kept. */
    uint8_t buf[12 + 40 * 4];
    sfu_rtcp_write_header(buf, SFU_RTCP_FMT_NACK, SFU_RTCP_RTPFB, sizeof buf);
    memset(buf + 4, 0, 8);
    for (int i = 0; i < 40; i++) {
        sfu_wr16(buf + 12 + 4 * i, (uint16_t)(i * 17));
        sfu_wr16(buf + 14 + 4 * i, 0xffff);
    }
    sfu_rtcp_common c;
    ASSERT_EQ(one(buf, sizeof buf, &c), 0);
    sfu_rtcp_nack nack;
    ASSERT_EQ(sfu_rtcp_nack_parse(&c, &nack), 0);
    ASSERT(nack.truncated);
    ASSERT_EQ(nack.count, SFU_RTCP_MAX_NACK_SEQS);
    for (int i = 0; i < SFU_RTCP_MAX_NACK_SEQS; i++)
        ASSERT_EQ(nack.seq16[i], i);
    /* No FCI at all is malformed. */
    const uint8_t empty[] = { 0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2 };
    ASSERT_EQ(one(empty, sizeof empty, &c), 0);
    ASSERT_EQ(sfu_rtcp_nack_parse(&c, &nack), -SFU_EMALFORMED);
    return 0;
}

TEST(pli_fir_round_trip)
{
    uint8_t buf[256];
    int n = sfu_rtcp_pli_build(buf, sizeof buf, 0x11, 0x22);
    ASSERT_EQ(n, 12);
    ASSERT_EQ(sfu_rtcp_pli_build(buf, 11, 0x11, 0x22), -SFU_ENOSPC);
    sfu_rtcp_common c;
    uint32_t a = 0, b = 0;
    ASSERT_EQ(one(buf, (size_t)n, &c), 0);
    ASSERT_EQ(sfu_rtcp_pli_parse(&c, &a, &b), 0);
    ASSERT_EQ(a, 0x11);
    ASSERT_EQ(b, 0x22);
    sfu_rtcp_fir fir;
    ASSERT_EQ(sfu_rtcp_fir_parse(&c, &fir), -SFU_EINVAL);

    static const size_t counts[] = { 1, 2, SFU_RTCP_MAX_FIR };
    for (size_t k = 0; k < SFU_ARRAY_LEN(counts); k++) {
        sfu_rtcp_fir_entry e[SFU_RTCP_MAX_FIR];
        for (size_t i = 0; i < counts[k]; i++)
            e[i] = (sfu_rtcp_fir_entry){ .ssrc = 0x900 + (uint32_t)i, .seq_nr = (uint8_t)(250 + i) };
        n = sfu_rtcp_fir_build(buf, sizeof buf, 0x33, e, counts[k]);
        ASSERT_EQ(n, (int)(12 + 8 * counts[k]));
        ASSERT_EQ(sfu_rtcp_fir_build(buf, (size_t)n - 1, 0x33, e, counts[k]), -SFU_ENOSPC);
        ASSERT_EQ(one(buf, (size_t)n, &c), 0);
        ASSERT_EQ(sfu_rtcp_fb_parse_ssrcs(&c, &a, &b), 0);
        ASSERT_EQ(b, 0);        /* RFC 5104 4.3.1.2 */
        ASSERT_EQ(sfu_rtcp_fir_parse(&c, &fir), 0);
        ASSERT_EQ(fir.sender_ssrc, 0x33);
        ASSERT_EQ(fir.count, counts[k]);
        ASSERT(!fir.truncated);
        for (size_t i = 0; i < counts[k]; i++) {
            ASSERT_EQ(fir.entries[i].ssrc, 0x900 + i);
            ASSERT_EQ(fir.entries[i].seq_nr, (uint8_t)(250 + i));
        }
    }
    sfu_rtcp_fir_entry e = { 1, 1 };
    ASSERT_EQ(sfu_rtcp_fir_build(buf, sizeof buf, 1, &e, 0), -SFU_EINVAL);
    const uint8_t no_fci[] = { 0x84, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0 };
    ASSERT_EQ(one(no_fci, sizeof no_fci, &c), 0);
    ASSERT_EQ(sfu_rtcp_fir_parse(&c, &fir), -SFU_EMALFORMED);
    return 0;
}

TEST(remb_round_trip_table)
{
    static const struct { uint64_t in, out; size_t nssrc; } cases[] = {
        { 0, 0, 0 },
        { 262143, 262143, 1 },              /* largest exact mantissa */
        { 262144, 262144, 1 },              /* exp 1 */
        { 1500001, 1500000, 2 },            /* rounded down to 18 bits */
        { 2500000000ULL, 2499985408ULL, 3 }   /* 152587 << 14 */,
        { UINT64_MAX, 0x3ffffULL << 46, 16 },
    };
    for (size_t k = 0; k < SFU_ARRAY_LEN(cases); k++) {
        uint32_t ssrcs[16];
        for (size_t i = 0; i < cases[k].nssrc; i++)
            ssrcs[i] = 0x700 + (uint32_t)i;
        uint8_t buf[128];
        int n = sfu_rtcp_remb_build(buf, sizeof buf, 0x44, cases[k].in, ssrcs, cases[k].nssrc);
        ASSERT_EQ(n, (int)(20 + 4 * cases[k].nssrc));
        ASSERT_EQ(sfu_rtcp_remb_build(buf, (size_t)n - 1, 0x44, cases[k].in, ssrcs, cases[k].nssrc),
                  -SFU_ENOSPC);
        sfu_rtcp_common c;
        ASSERT_EQ(one(buf, (size_t)n, &c), 0);
        sfu_rtcp_remb r;
        ASSERT_EQ(sfu_rtcp_remb_parse(&c, &r), 0);
        ASSERT_EQ(r.sender_ssrc, 0x44);
        ASSERT(r.bitrate_bps == cases[k].out);
        ASSERT_LE(cases[k].in - r.bitrate_bps, cases[k].in >> 17);
        ASSERT_EQ(r.ssrc_count, cases[k].nssrc);
        for (size_t i = 0; i < cases[k].nssrc; i++)
            ASSERT_EQ(r.ssrcs[i], 0x700 + i);
    }
    return 0;
}

TEST(remb_malformed_and_saturating)
{
    /* exp 63, mantissa max: saturates. 17 SSRCs announced, 17 present: truncated to 16. */
    uint8_t buf[20 + 17 * 4];
    sfu_rtcp_write_header(buf, SFU_RTCP_FMT_AFB, SFU_RTCP_PSFB, sizeof buf);
    memset(buf + 4, 0, sizeof buf - 4);
    memcpy(buf + 12, "REMB", 4);
    buf[16] = 17;
    sfu_wr24(buf + 17, 63u << 18 | 0x3ffff);
    sfu_rtcp_common c;
    sfu_rtcp_remb r;
    ASSERT_EQ(one(buf, sizeof buf, &c), 0);
    ASSERT_EQ(sfu_rtcp_remb_parse(&c, &r), 0);
    ASSERT(r.bitrate_bps == UINT64_MAX);
    ASSERT(r.truncated);
    ASSERT_EQ(r.ssrc_count, 16);
    /* One more SSRC announced than present. */
    buf[16] = 18;
    ASSERT_EQ(one(buf, sizeof buf, &c), 0);
    ASSERT_EQ(sfu_rtcp_remb_parse(&c, &r), -SFU_EMALFORMED);
    /* Another AFB message. */
    memcpy(buf + 12, "ABCD", 4);
    ASSERT_EQ(sfu_rtcp_remb_parse(&c, &r), -SFU_EUNSUPPORTED);
    /* AFB too short for the REMB header. */
    const uint8_t short_remb[] = { 0x8f, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 'R', 'E', 'M', 'B' };
    ASSERT_EQ(one(short_remb, sizeof short_remb, &c), 0);
    ASSERT_EQ(sfu_rtcp_remb_parse(&c, &r), -SFU_EMALFORMED);
    return 0;
}

TEST_LIST(TEST_ENTRY(nack_round_trip_table), TEST_ENTRY(nack_parse_expands_and_truncates),
          TEST_ENTRY(pli_fir_round_trip), TEST_ENTRY(remb_round_trip_table),
          TEST_ENTRY(remb_malformed_and_saturating))
