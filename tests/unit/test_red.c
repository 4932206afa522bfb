/* RFC 2198 RED: parsing with bounds checks, the per-viewer egress step
 * (RED with rewritten block payload types, or the primary alone) and
 * building. Table-driven: each case is a payload and what must come out. */
#include "sfu/core/red.h"
#include "tests/test.h"

/* A Chromium packet: one redundant Opus block (offset 960, 3 bytes), primary 4 bytes. */
static const uint8_t chrome_one[] = { 0xef, 0x0f, 0x00, 0x03, 0x6f, 0xa1, 0xa2, 0xa3, 0xb1, 0xb2, 0xb3, 0xb4 };

static const struct parse_case {
    const char *name;
    uint8_t bytes[24];
    size_t len;
    int rc;
    uint8_t nblocks, hdr_len;
    uint16_t primary_off, primary_len;
    uint8_t pt0;
    uint16_t ts0, len0;
} parse_cases[] = {
    { "primary only", { 0x6f, 1, 2, 3 }, 4, 0, 1, 1, 1, 3, 111, 0, 3 },
    { "one redundant", { 0xef, 0x0f, 0x00, 0x03, 0x6f, 0xa1, 0xa2, 0xa3, 0xb1, 0xb2, 0xb3, 0xb4 }, 12, 0, 2, 5, 8, 4,
      111, 960, 3 },
    { "two redundant", { 0xef, 0x1e, 0x00, 0x01, 0xef, 0x0f, 0x00, 0x01, 0x6f, 0xa1, 0xb1, 0xc1 }, 12, 0, 3, 9, 11, 1,
      111, 1920, 1 },
    { "empty primary", { 0xef, 0x0f, 0x00, 0x01, 0x6f, 0xa1 }, 6, 0, 2, 5, 6, 0, 111, 960, 1 },
    { "max ts offset and length bits", { 0xff, 0xff, 0xfc, 0x00, 0x0b }, 5, 0, 2, 5, 5, 0, 127, 16383, 0 },
    { "empty payload", { 0 }, 0, -SFU_EMALFORMED, 0, 0, 0, 0, 0, 0, 0 },
    { "header truncated", { 0xef, 0x0f, 0x00 }, 3, -SFU_EMALFORMED, 0, 0, 0, 0, 0, 0, 0 },
    { "no primary header", { 0xef, 0x0f, 0x00, 0x00 }, 4, -SFU_EMALFORMED, 0, 0, 0, 0, 0, 0, 0 },
    { "redundant past end", { 0xef, 0x0f, 0x00, 0x04, 0x6f, 1, 2, 3 }, 8, -SFU_EMALFORMED, 0, 0, 0, 0, 0, 0, 0 },
    { "10-bit length past end", { 0xef, 0x0f, 0x03, 0xff, 0x6f, 1 }, 6, -SFU_EMALFORMED, 0, 0, 0, 0, 0, 0, 0 },
};

TEST(parse_table)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        sfu_red r;
        int rc = sfu_red_parse(c->bytes, c->len, &r);
        if (rc != c->rc)
            fprintf(stderr, "  case %s\n", c->name);
        ASSERT_EQ(rc, c->rc);
        if (rc)
            continue;
        ASSERT_EQ(r.nblocks, c->nblocks);
        ASSERT_EQ(r.hdr_len, c->hdr_len);
        ASSERT_EQ(sfu_red_primary(&r)->off, c->primary_off);
        ASSERT_EQ(sfu_red_primary(&r)->len, c->primary_len);
        ASSERT_EQ(sfu_red_primary(&r)->ts_offset, 0);
        ASSERT_EQ(r.blocks[0].pt, c->pt0);
        ASSERT_EQ(r.blocks[0].ts_offset, c->ts0);
        ASSERT_EQ(r.blocks[0].len, c->len0);
    }
    return 0;
}

TEST(too_many_blocks)
{
    uint8_t p[4 * SFU_RED_MAX_BLOCKS + 8] = { 0 };
    for (unsigned i = 0; i < SFU_RED_MAX_BLOCKS; i++)
        p[4 * i] = 0xef;    /* redundant, empty, offset 0 */
    p[4 * SFU_RED_MAX_BLOCKS] = 0x6f;
    sfu_red r;
    ASSERT_EQ(sfu_red_parse(p, 4 * SFU_RED_MAX_BLOCKS + 2, &r), -SFU_EUNSUPPORTED);
    /* one fewer redundant block is the most accepted */
    p[4 * (SFU_RED_MAX_BLOCKS - 1)] = 0x6f;
    ASSERT_EQ(sfu_red_parse(p, 4 * (SFU_RED_MAX_BLOCKS - 1) + 2, &r), 0);
    ASSERT_EQ(r.nblocks, SFU_RED_MAX_BLOCKS);
    ASSERT_EQ(r.hdr_len, SFU_RED_MAX_HDR);
    return 0;
}

TEST(single_codec)
{
    sfu_red r;
    ASSERT_EQ(sfu_red_parse(chrome_one, sizeof chrome_one, &r), 0);
    ASSERT(sfu_red_is_single_codec(&r, 111));
    ASSERT(!sfu_red_is_single_codec(&r, 96));
    const uint8_t mixed[] = { 0x80 | 13, 0x0f, 0x00, 0x01, 0x6f, 0xa1, 0xb1 };   /* CN redundant */
    ASSERT_EQ(sfu_red_parse(mixed, sizeof mixed, &r), 0);
    ASSERT(!sfu_red_is_single_codec(&r, 111));
    const uint8_t empty_primary[] = { 0xef, 0x0f, 0x00, 0x01, 0x6f, 0xa1 };
    ASSERT_EQ(sfu_red_parse(empty_primary, sizeof empty_primary, &r), 0);
    ASSERT(!sfu_red_is_single_codec(&r, 111));
    return 0;
}

/* The payload sits at offset 20 of the shared buffer; egress narrows the body. */
TEST(egress_primary_and_red)
{
    sfu_red r;
    ASSERT_EQ(sfu_red_parse(chrome_one, sizeof chrome_one, &r), 0);
    uint8_t head[64];
    uint16_t off = 20, len = sizeof chrome_one;
    ASSERT_EQ(sfu_red_egress(&r, chrome_one, false, 100, head, sizeof head, &off, &len), 0);
    ASSERT_EQ(off, 20 + 8);
    ASSERT_EQ(len, 4);
    /* a RED viewer whose Opus is 100: every block header says 100, F bits kept */
    off = 20, len = sizeof chrome_one;
    ASSERT_EQ(sfu_red_egress(&r, chrome_one, true, 100, head, sizeof head, &off, &len), 5);
    ASSERT_EQ(off, 25);
    ASSERT_EQ(len, 7);
    const uint8_t want[] = { 0x80 | 100, 0x0f, 0x00, 0x03, 100 };
    ASSERT_EQ(memcmp(head, want, sizeof want), 0);
    uint8_t whole[32];
    memcpy(whole, head, 5);
    memcpy(whole + 5, chrome_one + 5, 7);
    sfu_red r2;
    ASSERT_EQ(sfu_red_parse(whole, 12, &r2), 0);
    ASSERT(sfu_red_is_single_codec(&r2, 100));
    ASSERT_EQ(r2.blocks[0].ts_offset, 960);
    ASSERT_EQ(sfu_red_egress(&r, chrome_one, true, 100, head, 4, &off, &len), -SFU_ENOSPC);
    return 0;
}

TEST(build_round_trip)
{
    const uint8_t data[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    const sfu_red_block blocks[] = {
        { .pt = 111, .ts_offset = 1920, .off = 0, .len = 2 },
        { .pt = 111, .ts_offset = 960, .off = 2, .len = 3 },
        { .pt = 111, .off = 5, .len = 4 },
    };
    uint8_t out[64];
    int n = sfu_red_build(out, sizeof out, blocks, 3, data);
    ASSERT_EQ(n, 9 + 9);
    sfu_red r;
    ASSERT_EQ(sfu_red_parse(out, (size_t)n, &r), 0);
    ASSERT_EQ(r.nblocks, 3);
    for (unsigned i = 0; i < 3; i++) {
        ASSERT_EQ(r.blocks[i].pt, 111);
        ASSERT_EQ(r.blocks[i].ts_offset, blocks[i].ts_offset);
        ASSERT_EQ(r.blocks[i].len, blocks[i].len);
        ASSERT_EQ(memcmp(out + r.blocks[i].off, data + blocks[i].off, blocks[i].len), 0);
    }
    ASSERT_EQ(sfu_red_build(out, 17, blocks, 3, data), -SFU_ENOSPC);
    ASSERT_EQ(sfu_red_build(out, sizeof out, blocks, 0, data), -SFU_EINVAL);
    sfu_red_block big[2] = { { .pt = 111, .len = 1024 }, { .pt = 111 } };
    static uint8_t bigdata[2048];
    ASSERT_EQ(sfu_red_build(bigdata, sizeof bigdata, big, 2, bigdata), -SFU_EINVAL);
    big[0].len = 0;
    big[0].ts_offset = 16384;
    ASSERT_EQ(sfu_red_build(bigdata, sizeof bigdata, big, 2, bigdata), -SFU_EINVAL);
    return 0;
}

TEST_LIST(TEST_ENTRY(parse_table), TEST_ENTRY(too_many_blocks), TEST_ENTRY(single_codec),
          TEST_ENTRY(egress_primary_and_red), TEST_ENTRY(build_round_trip))
