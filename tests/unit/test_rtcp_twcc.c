/* Transport-wide congestion control feedback: parse, build, split. */
#include "tests/test.h"

#include "sfu/core/rtcp.h"
#include "sfu/core/rtcp_twcc.h"

static int one(const uint8_t *buf, size_t n, sfu_rtcp_common *c)
{
    size_t off = 0;
    int r = sfu_rtcp_next(buf, n, &off, c);
    if (r != 1)
        return r < 0 ? r : -100;
    return off == n ? 0 : -101;
}

/* A browser's feedback with RTCP padding: a two-bit vector with a loss and a
 * large delta, then a run of 48 losses of which only 2 are counted. */
static const uint8_t browser_fb[] = {
    0xaf, 0xcd, 0x00, 0x07, 0x9b, 0x74, 0xf6, 0x1f, 0x93, 0x71, 0xdc, 0xbc, 0x85, 0x3c, 0x00, 0x09,
    0x63, 0xf9, 0x16, 0xb3, 0xd5, 0x52, 0x00, 0x30, 0x9b, 0xaa, 0x6a, 0xaa, 0x7b, 0x01, 0x09, 0x01,
};

TEST(parse_browser_feedback)
{
    sfu_rtcp_common c;
    ASSERT_EQ(one(browser_fb, sizeof browser_fb, &c), 0);
    ASSERT_EQ(c.pad_len, 1);
    sfu_twcc_feedback fb;
    sfu_twcc_packet p[16];
    ASSERT_EQ(sfu_twcc_parse(&c, &fb, p, SFU_ARRAY_LEN(p)), 0);
    ASSERT_EQ(fb.sender_ssrc, 0x9b74f61f);
    ASSERT_EQ(fb.media_ssrc, 0x9371dcbc);
    ASSERT_EQ(fb.base_seq16, 34108);
    ASSERT_EQ(fb.status_count, 9);
    ASSERT_EQ(fb.reference_time, 6551830);
    ASSERT_EQ(fb.fb_count, 179);
    ASSERT_EQ(fb.packet_count, 9);
    ASSERT_EQ(fb.received_count, 6);
    static const struct { bool rx; int32_t delta; } want[9] = {
        { true, 155 }, { true, 170 }, { true, 106 }, { true, 170 }, { true, 123 },
        { false, 0 }, { true, 265 }, { false, 0 }, { false, 0 },
    };
    int64_t at = 6551830LL * 64000;
    for (int i = 0; i < 9; i++) {
        ASSERT_EQ(p[i].seq16, 34108 + i);
        ASSERT_EQ(p[i].received, want[i].rx);
        ASSERT_EQ(p[i].delta_ticks, want[i].delta);
        at += want[i].delta * 250;
        ASSERT_EQ(p[i].arrival_us, at);
    }
    /* A smaller caller array still validates everything and fills what fits. */
    ASSERT_EQ(sfu_twcc_parse(&c, &fb, p, 3), 0);
    ASSERT_EQ(fb.packet_count, 3);
    ASSERT_EQ(fb.received_count, 6);
    ASSERT_EQ(sfu_twcc_parse(&c, &fb, NULL, 0), 0);
    ASSERT_EQ(fb.packet_count, 0);
    return 0;
}

/* Header for hand-built bodies: base 10, count given, ref 1, fb count 0. */
static size_t hand(uint8_t *buf, uint16_t count, const uint8_t *rest, size_t rest_len)
{
    size_t len = 20 + rest_len;
    sfu_rtcp_write_header(buf, SFU_RTCP_FMT_TWCC, SFU_RTCP_RTPFB, len);
    memset(buf + 4, 0, 16);
    sfu_wr16(buf + 12, 10);
    sfu_wr16(buf + 14, count);
    buf[18] = 1;
    memcpy(buf + 20, rest, rest_len);
    return len;
}

TEST(parse_malformed_table)
{
    static const struct {
        const char *name;
        uint16_t count;
        uint8_t rest[12];
        size_t rest_len;
        int want;
    } cases[] = {
        { "ok_rle_small", 2, { 0x20, 0x02, 5, 6 }, 4, 0 },
        { "ok_vec1", 3, { 0xa0, 0x00, 5, 0 }, 4, 0 },           /* 1,0,0 then ignored */
        { "ok_rle_losses_only", 100, { 0x00, 0x64, 0, 0 }, 4, 0 },
        { "status_count_zero", 0, { 0x20, 0x01, 5, 0 }, 4, -SFU_EMALFORMED },
        { "chunks_run_out", 20, { 0x20, 0x02, 5, 6 }, 4, -SFU_EMALFORMED },
        { "deltas_run_out", 4, { 0x20, 0x04, 5, 6 }, 4, -SFU_EMALFORMED },
        { "large_delta_cut", 1, { 0x40, 0x01, 5, 0 }, 3, -SFU_EMALFORMED },
        { "reserved_rle", 2, { 0x60, 0x02, 0, 0 }, 4, -SFU_EMALFORMED },
        { "reserved_vec2", 1, { 0xf0, 0x00, 0, 0 }, 4, -SFU_EMALFORMED },
        { "reserved_past_count_ok", 1, { 0xd3, 0x00, 7, 0 }, 4, 0 },  /* 01 then 00 11 ... */
        { "no_chunks", 1, { 0 }, 0, -SFU_EMALFORMED },
        { "zero_runs_then_cut", 5, { 0x00, 0x00, 0x00, 0x00 }, 4, -SFU_EMALFORMED },
    };
    for (size_t k = 0; k < SFU_ARRAY_LEN(cases); k++) {
        uint8_t buf[64];
        size_t n = hand(buf, cases[k].count, cases[k].rest, (cases[k].rest_len + 3) & ~(size_t)3);
        sfu_rtcp_common c;
        ASSERT_EQ(one(buf, n, &c), 0);
        c.body_len -= ((cases[k].rest_len + 3) & ~(size_t)3) - cases[k].rest_len;
        sfu_twcc_feedback fb;
        sfu_twcc_packet p[128];
        int r = sfu_twcc_parse(&c, &fb, p, SFU_ARRAY_LEN(p));
        if (r != cases[k].want)
            fprintf(stderr, "  case %s\n", cases[k].name);
        ASSERT_EQ(r, cases[k].want);
    }
    /* Too short for the fixed fields, and the wrong type. */
    const uint8_t short_fb[] = { 0x8f, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 1 };
    sfu_rtcp_common c;
    sfu_twcc_feedback fb;
    ASSERT_EQ(one(short_fb, sizeof short_fb, &c), 0);
    ASSERT_EQ(sfu_twcc_parse(&c, &fb, NULL, 0), -SFU_EMALFORMED);
    c.count = 1;
    ASSERT_EQ(sfu_twcc_parse(&c, &fb, NULL, 0), -SFU_EINVAL);
    return 0;
}

TEST(build_exact_bytes)
{
    /* Four packets 1 ms apart from 6.401 s: reference 100 (x 64 ms), deltas
     * 4 ticks each, one run-length chunk, padded from 26 to 28 bytes. */
    sfu_twcc_arrival a[4];
    for (int i = 0; i < 4; i++)
        a[i] = (sfu_twcc_arrival){ .seq16 = (uint16_t)(10 + i), .arrival = 6401000 + 1000 * i };
    sfu_twcc_build_args args = { .sender_ssrc = 1, .media_ssrc = 2, .fb_count = 7, .base_seq16 = 10 };
    uint8_t buf[64];
    size_t used = 0;
    int n = sfu_twcc_build(buf, sizeof buf, &args, a, 4, &used);
    static const uint8_t want[] = {
        0x8f, 205, 0, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0, 10, 0, 4, 0, 0, 100, 7,
        0x20, 0x04, 4, 4, 4, 4, 0, 0,
    };
    ASSERT_EQ(n, (int)sizeof want);
    ASSERT_EQ(used, 4);
    ASSERT_MEM_EQ(buf, want, sizeof want);
    return 0;
}

/* Builds everything with build_all, parses every packet back, and checks
 * each sequence number from base to the last arrival: received ones at
 * their time (within half a tick), the others lost. want_packets 0: any
 * number of packets. */
static int check_round_trip(const sfu_twcc_arrival *a, size_t n, uint16_t base, size_t budget,
                            size_t want_packets)
{
    static uint8_t buf[1 << 20];
    static sfu_twcc_packet p[65536];
    size_t cap = sizeof buf;
    sfu_twcc_build_args args = { .sender_ssrc = 0xaa, .media_ssrc = 0xbb, .fb_count = 250,
                                 .base_seq16 = base };
    int total = sfu_twcc_build_all(buf, cap, budget, &args, a, n);
    ASSERT_GT(total, 0);
    ASSERT_EQ(args.base_seq16, (uint16_t)(a[n - 1].seq16 + 1));
    size_t off = 0, j = 0, packets = 0;
    uint16_t expect_seq = base;
    sfu_rtcp_common c;
    int r;
    while ((r = sfu_rtcp_next(buf, (size_t)total, &off, &c)) == 1) {
        ASSERT_LE(c.len, budget);
        ASSERT_EQ(c.len % 4, 0);
        sfu_twcc_feedback fb;
        ASSERT_EQ(sfu_twcc_parse(&c, &fb, p, 65536), 0);
        ASSERT_EQ(fb.fb_count, (uint8_t)(250 + packets));
        ASSERT_EQ(fb.base_seq16, expect_seq);
        ASSERT_EQ(fb.packet_count, fb.status_count);
        for (size_t i = 0; i < fb.packet_count; i++) {
            ASSERT_EQ(p[i].seq16, expect_seq);
            bool rx = j < n && a[j].seq16 == expect_seq;
            ASSERT_EQ(p[i].received, rx);
            if (rx) {
                /* The 24-bit reference wraps every 2^24 * 64 ms. */
                int64_t wrap = (int64_t)SFU_TWCC_REF_US << 24;
                int64_t d = (a[j].arrival - p[i].arrival_us) % wrap;
                if (d > wrap / 2)
                    d -= wrap;
                if (d < -wrap / 2)
                    d += wrap;
                ASSERT_LE(d < 0 ? -d : d, 125);
                j++;
            }
            expect_seq++;
        }
        packets++;
    }
    ASSERT_EQ(r, 0);
    ASSERT_EQ(j, n);
    if (want_packets)
        ASSERT_EQ(packets, want_packets);
    ASSERT_EQ(args.fb_count, (uint8_t)(250 + packets));
    return 0;
}

/* Scenario generators: arrival i of n. */
enum scenario { STEADY, LOSS_EVERY_3, BURST_LOSS, REORDERED, LARGE_GAPS, HUGE_LOSS_RUN,
                STALL_9S, WRAP, NEGATIVE_TIME, MIXED };

static size_t gen(enum scenario s, sfu_twcc_arrival *a, size_t max)
{
    size_t n = 0;
    uint16_t seq = 100;
    sfu_time t = SFU_SEC(1000) + 333;
    for (size_t i = 0; n < max && i < 3000; i++) {
        sfu_time dt = 1000;
        uint16_t dseq = 1;
        switch (s) {
        case STEADY: break;
        case LOSS_EVERY_3: dseq = i % 3 == 0 ? 2 : 1; break;
        case BURST_LOSS: dseq = i % 50 == 0 ? 30 : 1; break;
        case REORDERED: dt = i % 4 == 0 ? -3000 : 2500; break;
        case LARGE_GAPS: dt = i % 5 == 0 ? 120000 : 700; break;
        case HUGE_LOSS_RUN: dseq = i == 10 ? 20000 : 1; break;
        case STALL_9S: dt = i == 7 ? SFU_SEC(9) : 1000; break;
        case WRAP: seq = (uint16_t)(65500 + i - 1); dseq = i == 0 ? 0 : 1; break;
        case NEGATIVE_TIME: t = i == 0 ? -SFU_MS(500) : t; dt = 1250; break;
        case MIXED: dseq = (uint16_t)(1 + (i * 7919) % 5 / 3); dt = (sfu_time)((i * 104729) % 90000) - 20000; break;
        }
        if (s == WRAP && n >= 200)
            break;
        if (s == HUGE_LOSS_RUN && n >= 40)
            break;
        if (s == STALL_9S && n >= 20)
            break;
        seq = (uint16_t)(seq + (i == 0 ? 0 : dseq));
        t += i == 0 ? 0 : dt;
        a[n++] = (sfu_twcc_arrival){ .seq16 = seq, .arrival = t };
    }
    return n;
}

TEST(round_trip_table)
{
    static const struct {
        const char *name;
        enum scenario s;
        size_t n;
        uint16_t lead_losses;
        size_t budget;
        size_t packets;         /* 0: don't check the count */
    } cases[] = {
        { "steady_one_packet", STEADY, 100, 0, 1200, 1 },
        { "steady_split", STEADY, 1000, 0, 200, 0 },
        { "loss_every_3", LOSS_EVERY_3, 300, 0, 1200, 1 },
        { "burst_loss", BURST_LOSS, 500, 5, 1200, 1 },
        { "reordered_negative", REORDERED, 400, 0, 1200, 0 },
        { "large_gaps", LARGE_GAPS, 300, 0, 1200, 0 },
        { "huge_loss_run", HUGE_LOSS_RUN, 40, 0, 1200, 1 },
        { "stall_9s_splits", STALL_9S, 20, 0, 1200, 2 },
        { "seq_wrap", WRAP, 200, 3, 1200, 1 },
        { "negative_time", NEGATIVE_TIME, 100, 0, 1200, 1 },
        { "mixed_tiny_budget", MIXED, 2000, 2, 64, 0 },
        { "mixed_mtu", MIXED, 2000, 0, 1200, 0 },
    };
    static sfu_twcc_arrival a[4000];
    for (size_t k = 0; k < SFU_ARRAY_LEN(cases); k++) {
        size_t n = gen(cases[k].s, a, cases[k].n);
        uint16_t base = (uint16_t)(a[0].seq16 - cases[k].lead_losses);
        int r = check_round_trip(a, n, base, cases[k].budget, cases[k].packets);
        if (r != 0)
            fprintf(stderr, "  case %s\n", cases[k].name);
        ASSERT_EQ(r, 0);
    }
    return 0;
}

TEST(chunk_kinds)
{
    /* Losses every 3rd packet with small deltas: one-bit vectors; a large
     * delta in the mix: two-bit vectors; a long received run: run length. */
    static const struct { const char *name; enum scenario s; size_t n; uint16_t first_chunk_mask, want; } cases[] = {
        { "vec1", LOSS_EVERY_3, 30, 0xc000, 0x8000 },
        { "vec2", LARGE_GAPS, 30, 0xc000, 0xc000 },
        { "rle", STEADY, 30, 0xe000, 0x2000 },
    };
    for (size_t k = 0; k < SFU_ARRAY_LEN(cases); k++) {
        sfu_twcc_arrival a[64];
        size_t n = gen(cases[k].s, a, cases[k].n);
        sfu_twcc_build_args args = { .base_seq16 = a[0].seq16 };
        uint8_t buf[512];
        size_t used;
        int len = sfu_twcc_build(buf, sizeof buf, &args, a, n, &used);
        ASSERT_GT(len, 0);
        ASSERT_EQ(used, n);
        if ((sfu_rd16(buf + 20) & cases[k].first_chunk_mask) != cases[k].want)
            fprintf(stderr, "  case %s: chunk 0x%04x\n", cases[k].name, sfu_rd16(buf + 20));
        ASSERT_EQ(sfu_rd16(buf + 20) & cases[k].first_chunk_mask, cases[k].want);
    }
    return 0;
}

TEST(chunks_are_compact)
{
    /* 20 received, 1 lost, 20 received, all small deltas: a run-length
     * chunk (20), a one-bit vector (the loss and 13), a run-length chunk
     * (the last 7): 20 + 3 * 2 + 40 deltas = 66, padded to 68. */
    sfu_twcc_arrival a[40];
    for (int i = 0; i < 40; i++)
        a[i] = (sfu_twcc_arrival){ .seq16 = (uint16_t)(i < 20 ? i : i + 1), .arrival = 5000 * i };
    sfu_twcc_build_args args = { .base_seq16 = 0 };
    uint8_t buf[256];
    size_t used;
    ASSERT_EQ(sfu_twcc_build(buf, sizeof buf, &args, a, 40, &used), 68);
    ASSERT_EQ(sfu_rd16(buf + 20), 0x2014);
    ASSERT_EQ(sfu_rd16(buf + 22), 0x9fff);   /* vector: lost, 13 received */
    ASSERT_EQ(sfu_rd16(buf + 24), 0x2007);
    return check_round_trip(a, 40, 0, 1200, 1);
}

TEST(build_errors)
{
    sfu_twcc_arrival a[3] = { { 5, 1000 }, { 7, 200000 }, { 6, 300000 } };
    sfu_twcc_build_args args = { .base_seq16 = 5 };
    uint8_t buf[256];
    size_t used;
    ASSERT_EQ(sfu_twcc_build(buf, sizeof buf, &args, a, 3, &used), -SFU_EINVAL);  /* unsorted */
    a[2].seq16 = 7;
    ASSERT_EQ(sfu_twcc_build(buf, sizeof buf, &args, a, 3, &used), -SFU_EINVAL);  /* duplicate */
    ASSERT_EQ(sfu_twcc_build(buf, sizeof buf, &args, a, 0, &used), -SFU_EINVAL);
    args.base_seq16 = 6;                                                          /* after arr[0] */
    ASSERT_EQ(sfu_twcc_build(buf, sizeof buf, &args, a, 2, &used), -SFU_EINVAL);
    args.base_seq16 = 5;
    /* One arrival: 20 + chunk + small delta = 23, padded to 24. Two: a large
     * delta makes it 25, padded to 28. */
    ASSERT_EQ(sfu_twcc_build(buf, 23, &args, a, 2, &used), -SFU_ENOSPC);
    ASSERT_EQ(sfu_twcc_build(buf, 27, &args, a, 2, &used), 24);
    ASSERT_EQ(used, 1);
    ASSERT_EQ(sfu_twcc_build(buf, 28, &args, a, 2, &used), 28);
    ASSERT_EQ(used, 2);
    /* build_all leaves args alone when dst is too small. */
    args.fb_count = 9;
    ASSERT_EQ(sfu_twcc_build_all(buf, 30, 27, &args, a, 2), -SFU_ENOSPC);
    ASSERT_EQ(args.fb_count, 9);
    ASSERT_EQ(args.base_seq16, 5);
    ASSERT_EQ(sfu_twcc_build_all(buf, 48, 27, &args, a, 2), 48);
    ASSERT_EQ(args.fb_count, 11);
    ASSERT_EQ(args.base_seq16, 8);
    return 0;
}

TEST(status_count_limit_splits)
{
    /* Arrivals 32000 apart: three span 64001 numbers and fit; the fourth
     * (past the 16-bit wrap) would make the status count exceed 65535 and
     * starts a new packet. */
    sfu_twcc_arrival a[4] = { { 0, 1000 }, { 32000, 2000 }, { 64000, 3000 }, { 1464, 4000 } };
    sfu_twcc_build_args args = { .base_seq16 = 0 };
    uint8_t buf[256];
    size_t used;
    ASSERT_GT(sfu_twcc_build(buf, sizeof buf, &args, a, 3, &used), 0);
    ASSERT_EQ(used, 3);
    ASSERT_GT(sfu_twcc_build(buf, sizeof buf, &args, a, 4, &used), 0);
    ASSERT_EQ(used, 3);
    return check_round_trip(a, 4, 0, 1200, 2);
}

TEST_LIST(TEST_ENTRY(parse_browser_feedback), TEST_ENTRY(parse_malformed_table),
          TEST_ENTRY(build_exact_bytes), TEST_ENTRY(round_trip_table), TEST_ENTRY(chunk_kinds), TEST_ENTRY(chunks_are_compact),
          TEST_ENTRY(build_errors), TEST_ENTRY(status_count_limit_splits))
