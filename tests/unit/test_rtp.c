/* RTP header parse/write (RFC 3550 5.1, RFC 8285 4.2/4.3, RFC 4588 4). */
#include "sfu/core/audio_level.h"
#include "sfu/core/rtp.h"
#include "tests/test.h"

#include <stdlib.h>

struct parse_case {
    const char *name;
    const char *hex;
    int rc;
    /* expected fields when rc == 0 */
    uint8_t pt, csrc_count, pad_len, ext_count;
    bool marker, padding;
    uint16_t seq16, header_len, payload_len, ext_profile;
};

#define BAD(n, h) { .name = n, .hex = h, .rc = -SFU_EMALFORMED }

static const struct parse_case parse_cases[] = {
    { "minimal", "80 60 1234 00000001 cafebabe", 0,
      .pt = 96, .seq16 = 0x1234, .header_len = 12 },
    { "marker+payload", "80 e0 ffff 00000001 cafebabe 0102 03", 0,
      .pt = 96, .marker = true, .seq16 = 0xffff, .header_len = 12, .payload_len = 3 },
    { "two csrcs", "82 6f 0001 00000000 00000001 00000002 00000003 aa", 0,
      .pt = 111, .csrc_count = 2, .seq16 = 1, .header_len = 20, .payload_len = 1 },
    { "one-byte ext", "90 60 0001 00000000 00000001 bede0001 10ab0000 ff", 0,
      .pt = 96, .seq16 = 1, .header_len = 20, .payload_len = 1, .ext_profile = 0xBEDE, .ext_count = 1 },
    { "empty ext block", "90 60 0001 00000000 00000001 bede0000 ff", 0,
      .pt = 96, .seq16 = 1, .header_len = 16, .payload_len = 1, .ext_profile = 0xBEDE },
    { "two-byte ext", "90 60 0001 00000000 00000001 10000002 0f0300010200 0000 ff", 0,
      .pt = 96, .seq16 = 1, .header_len = 24, .payload_len = 1, .ext_profile = 0x1000, .ext_count = 1 },
    { "two-byte appbits", "90 60 0001 00000000 00000001 100f0001 01000000", 0,
      .pt = 96, .seq16 = 1, .header_len = 20, .ext_profile = 0x1000, .ext_count = 1 },
    { "other profile", "90 60 0001 00000000 00000001 abcd0001 deadbeef 01", 0,
      .pt = 96, .seq16 = 1, .header_len = 20, .payload_len = 1, .ext_profile = 0xabcd },
    { "padding", "a0 60 0001 00000000 00000001 0102 0002", 0,
      .pt = 96, .padding = true, .seq16 = 1, .header_len = 12, .payload_len = 2, .pad_len = 2 },
    { "padding-only", "a0 60 0001 00000000 00000001 00000004", 0,
      .pt = 96, .padding = true, .seq16 = 1, .header_len = 12, .pad_len = 4 },
    { "padding one byte", "a0 60 0001 00000000 00000001 01", 0,
      .pt = 96, .padding = true, .seq16 = 1, .header_len = 12, .pad_len = 1 },
    { "padding after ext", "b0 60 0001 00000000 00000001 bede0001 10ab0000 0002", 0,
      .pt = 96, .padding = true, .seq16 = 1, .header_len = 20, .pad_len = 2,
      .ext_profile = 0xBEDE, .ext_count = 1 },

    BAD("empty", ""),
    BAD("11 bytes", "80 60 0001 00000000 000000"),
    BAD("version 0", "00 60 0001 00000000 00000001"),
    BAD("version 1", "40 60 0001 00000000 00000001"),
    BAD("version 3", "c0 60 0001 00000000 00000001"),
    BAD("csrc overrun", "82 60 0001 00000000 00000001 00000002 000000"),
    BAD("15 csrcs, none present", "8f 60 0001 00000000 00000001"),
    BAD("ext header missing", "90 60 0001 00000000 00000001"),
    BAD("ext header truncated", "90 60 0001 00000000 00000001 bede00"),
    BAD("ext length overrun", "90 60 0001 00000000 00000001 bede0002 10ab0000"),
    BAD("ext length max overrun", "90 60 0001 00000000 00000001 bedeffff 10ab0000"),
    BAD("one-byte elem overrun", "90 60 0001 00000000 00000001 bede0001 00 00 33 aa"),
    BAD("one-byte elem 16 in 4", "90 60 0001 00000000 00000001 bede0001 1f000000"),
    BAD("two-byte len missing", "90 60 0001 00000000 00000001 10000001 000000 05"),
    BAD("two-byte data overrun", "90 60 0001 00000000 00000001 10000001 0103aabb"),
    BAD("padding zero", "a0 60 0001 00000000 00000001 0102 0300"),
    BAD("padding too long", "a0 60 0001 00000000 00000001 0102 0005"),
    BAD("padding no bytes", "a0 60 0001 00000000 00000001"),
    BAD("padding into ext", "b0 60 0001 00000000 00000001 bede0001 10ab0005"),
};

static int check_parse(const struct parse_case *c)
{
    uint8_t pkt[256];
    size_t n = test_unhex(c->hex, pkt);
    sfu_rtp_hdr h;
    int rc = sfu_rtp_parse(pkt, n, &h);
    if (rc != c->rc)
        TEST_FAIL_("%s: rc %d vs %d", c->name, rc, c->rc);
    if (rc != 0)
        return 0;
    ASSERT_EQ(h.pt, c->pt);
    ASSERT_EQ(h.marker, c->marker);
    ASSERT_EQ(h.padding, c->padding);
    ASSERT_EQ(h.csrc_count, c->csrc_count);
    ASSERT_EQ(h.seq16, c->seq16);
    ASSERT_EQ(h.header_len, c->header_len);
    ASSERT_EQ(h.payload_off, c->header_len);
    ASSERT_EQ(h.payload_len, c->payload_len);
    ASSERT_EQ(h.pad_len, c->pad_len);
    ASSERT_EQ(h.ext_profile, c->ext_profile);
    ASSERT_EQ(h.ext_count, c->ext_count);
    ASSERT_EQ((size_t)h.header_len + h.payload_len + h.pad_len, n);
    return 0;
}

TEST(parse_table)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(parse_cases); i++) {
        if (check_parse(&parse_cases[i]) != 0) {
            fprintf(stderr, "  case: %s\n", parse_cases[i].name);
            return 1;
        }
    }
    return 0;
}

TEST(parse_fields)
{
    uint8_t pkt[64];
    size_t n = test_unhex("80 ff 8000 89abcdef 01234567", pkt);
    sfu_rtp_hdr h;
    ASSERT_EQ(sfu_rtp_parse(pkt, n, &h), 0);
    ASSERT_EQ(h.marker, true);
    ASSERT_EQ(h.pt, 127);
    ASSERT_EQ(h.seq16, 0x8000);
    ASSERT_EQ(h.ts, 0x89abcdefu);
    ASSERT_EQ(h.ssrc, 0x01234567u);
    ASSERT_EQ(sfu_rtp_parse(NULL, 12, &h), -SFU_EMALFORMED);
    return 0;
}

TEST(parse_rejects_oversize)
{
    static uint8_t big[70000];
    big[0] = 0x80;
    sfu_rtp_hdr h;
    ASSERT_EQ(sfu_rtp_parse(big, 65535, &h), 0);
    ASSERT_EQ(h.payload_len, 65535 - 12);
    ASSERT_EQ(sfu_rtp_parse(big, 65536, &h), -SFU_EMALFORMED);
    return 0;
}

/* RFC 8285 4.2: padding bytes (id 0) between elements, and id 15 stops. */
TEST(one_byte_padding_and_stop)
{
    uint8_t pkt[64];
    size_t n = test_unhex("90 60 0001 00000000 00000001 bede0004"
                     " 00 00 11 aabb 00 22 ccddee f0 31 ab 00 00 00", pkt);
    sfu_rtp_hdr h;
    ASSERT_EQ(sfu_rtp_parse(pkt, n, &h), 0);
    ASSERT_EQ(h.ext_count, 2);
    ASSERT_EQ(h.header_len, 32);
    uint8_t len = 0;
    const uint8_t *d = sfu_rtp_ext_find(&h, pkt, 1, &len);
    ASSERT(d != NULL);
    ASSERT_EQ(len, 2);
    ASSERT_EQ(d[0], 0xaa);
    ASSERT_EQ(d[1], 0xbb);
    d = sfu_rtp_ext_find(&h, pkt, 2, &len);
    ASSERT(d != NULL);
    ASSERT_EQ(len, 3);
    ASSERT_EQ(d[2], 0xee);
    /* An element after id 15 is not seen, even though it looks valid. */
    ASSERT(sfu_rtp_ext_find(&h, pkt, 3, &len) == NULL);
    ASSERT_EQ(len, 0);
    ASSERT(sfu_rtp_ext_find(&h, pkt, 15, NULL) == NULL);
    return 0;
}

TEST(two_byte_zero_length_and_padding)
{
    uint8_t pkt[64];
    size_t n = test_unhex("90 60 0001 00000000 00000001 10000003"
                     " 05 00 00 00 c8 03 010203 ff 00 00", pkt);
    sfu_rtp_hdr h;
    ASSERT_EQ(sfu_rtp_parse(pkt, n, &h), 0);
    ASSERT_EQ(h.ext_count, 3);
    uint8_t len = 99;
    ASSERT(sfu_rtp_ext_find(&h, pkt, 5, &len) != NULL);
    ASSERT_EQ(len, 0);
    const uint8_t *d = sfu_rtp_ext_find(&h, pkt, 200, &len);
    ASSERT(d != NULL);
    ASSERT_EQ(len, 3);
    ASSERT_EQ(d[0], 1);
    ASSERT(sfu_rtp_ext_find(&h, pkt, 255, &len) != NULL);
    ASSERT_EQ(len, 0);
    return 0;
}

TEST(more_than_max_ext_ignored)
{
    /* 20 one-byte elements of 1 data byte each: 40 bytes, 10 words. */
    uint8_t pkt[128] = { 0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 10 };
    size_t n = 16;
    for (int i = 0; i < 20; i++) {
        pkt[n++] = (uint8_t)((1 + i % 14) << 4);
        pkt[n++] = (uint8_t)i;
    }
    sfu_rtp_hdr h;
    ASSERT_EQ(sfu_rtp_parse(pkt, n, &h), 0);
    ASSERT_EQ(h.ext_count, SFU_RTP_MAX_EXT);
    ASSERT_EQ(h.header_len, n);
    /* An overrun past the 16th element is still caught. */
    pkt[15] = 11;
    pkt[n++] = 0x00;
    pkt[n++] = 0x00;
    pkt[n++] = 0x00;
    pkt[n++] = 0x13;
    ASSERT_EQ(sfu_rtp_parse(pkt, n, &h), -SFU_EMALFORMED);
    return 0;
}

struct rt_case {
    const char *name;
    uint8_t count;
    sfu_rtp_ext_out ext[4];
    uint16_t profile;
    int len;                    /* bytes written */
};

static const uint8_t D[256] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 };

static const struct rt_case rt_cases[] = {
    { "no ext", 0, { { 0 } }, 0, 12 },
    { "one-byte single", 1, { { 1, 1, D } }, 0xBEDE, 12 + 4 + 4 },
    { "one-byte exact words", 2, { { 3, 2, D }, { 14, 4, D } }, 0xBEDE, 12 + 4 + 8 },
    { "one-byte 16 bytes", 1, { { 7, 16, D } }, 0xBEDE, 12 + 4 + 20 },
    { "id 15 forces two-byte", 2, { { 1, 1, D }, { 15, 2, D } }, 0x1000, 12 + 4 + 8 },
    { "len 0 forces two-byte", 1, { { 2, 0, NULL } }, 0x1000, 12 + 4 + 4 },
    { "len 17 forces two-byte", 1, { { 2, 17, D } }, 0x1000, 12 + 4 + 20 },
    { "two-byte 255 bytes", 1, { { 200, 255, D } }, 0x1000, 12 + 4 + 260 },
};

static int check_round_trip(const struct rt_case *c)
{
    sfu_rtp_header_out out = {
        .marker = true, .pt = 100, .seq16 = 65535, .ts = 0xfffffff0u, .ssrc = 0x11223344u,
        .ext_count = c->count, .ext = c->ext,
    };
    uint8_t buf[512];
    int n = sfu_rtp_write_header(buf, sizeof buf, &out);
    ASSERT_EQ(n, c->len);
    ASSERT_EQ(n % 4, 0);
    sfu_rtp_hdr h;
    ASSERT_EQ(sfu_rtp_parse(buf, (size_t)n, &h), 0);
    ASSERT_EQ(h.marker, true);
    ASSERT_EQ(h.pt, 100);
    ASSERT_EQ(h.seq16, 65535);
    ASSERT_EQ(h.ts, 0xfffffff0u);
    ASSERT_EQ(h.ssrc, 0x11223344u);
    ASSERT_EQ(h.csrc_count, 0);
    ASSERT_EQ(h.header_len, n);
    ASSERT_EQ(h.payload_len, 0);
    ASSERT_EQ(h.ext_profile, c->profile);
    ASSERT_EQ(h.ext_count, c->count);
    for (uint8_t i = 0; i < c->count; i++) {
        uint8_t len = 0;
        const uint8_t *d = sfu_rtp_ext_find(&h, buf, c->ext[i].id, &len);
        ASSERT(d != NULL);
        ASSERT_EQ(len, c->ext[i].len);
        if (len)
            ASSERT_MEM_EQ(d, c->ext[i].data, len);
    }
    /* Every smaller buffer is refused, never overrun. */
    for (int cap = 0; cap < n; cap++)
        ASSERT_EQ(sfu_rtp_write_header(buf, (size_t)cap, &out), -SFU_ENOSPC);
    return 0;
}

TEST(write_parse_round_trip)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(rt_cases); i++) {
        if (check_round_trip(&rt_cases[i]) != 0) {
            fprintf(stderr, "  case: %s\n", rt_cases[i].name);
            return 1;
        }
    }
    return 0;
}

TEST(write_exact_bytes)
{
    sfu_rtp_ext_out ext[] = { { 1, 3, (const uint8_t *)"\xaa\xbb\xcc" } };
    sfu_rtp_header_out out = { .pt = 96, .seq16 = 0x0102, .ts = 0x03040506, .ssrc = 0x0708090a,
                               .ext_count = 1, .ext = ext };
    uint8_t buf[64], want[64];
    size_t wn = test_unhex("90 60 0102 03040506 0708090a bede0001 12aabbcc", want);
    ASSERT_EQ(sfu_rtp_write_header(buf, sizeof buf, &out), (int)wn);
    ASSERT_MEM_EQ(buf, want, wn);

    ext[0].id = 16;
    wn = test_unhex("90 60 0102 03040506 0708090a 10000002 1003aabb cc000000", want);
    ASSERT_EQ(sfu_rtp_write_header(buf, sizeof buf, &out), (int)wn);
    ASSERT_MEM_EQ(buf, want, wn);
    return 0;
}

TEST(write_rejects_bad_input)
{
    uint8_t buf[64];
    sfu_rtp_ext_out ext[] = { { 0, 1, D } };
    sfu_rtp_header_out out = { .pt = 96, .ext_count = 1, .ext = ext };
    ASSERT_EQ(sfu_rtp_write_header(buf, sizeof buf, &out), -SFU_EINVAL);
    out.ext = NULL;
    ASSERT_EQ(sfu_rtp_write_header(buf, sizeof buf, &out), -SFU_EINVAL);
    ext[0] = (sfu_rtp_ext_out){ 1, 4, NULL };
    out.ext = ext;
    ASSERT_EQ(sfu_rtp_write_header(buf, sizeof buf, &out), -SFU_EINVAL);
    return 0;
}

TEST(rtx_osn)
{
    uint8_t pkt[64];
    sfu_rtp_hdr h;
    uint16_t osn = 0;
    size_t n = test_unhex("90 61 0001 00000000 00000002 bede0001 10ab0000 fffe 0102", pkt);
    ASSERT_EQ(sfu_rtp_parse(pkt, n, &h), 0);
    ASSERT_EQ(sfu_rtx_unwrap_osn(&h, pkt, &osn), 0);
    ASSERT_EQ(osn, 0xfffe);

    n = test_unhex("80 61 0001 00000000 00000002 12", pkt);
    ASSERT_EQ(sfu_rtp_parse(pkt, n, &h), 0);
    ASSERT_EQ(sfu_rtx_unwrap_osn(&h, pkt, &osn), -SFU_EMALFORMED);

    /* Two bytes that are padding are not an OSN. */
    n = test_unhex("a0 61 0001 00000000 00000002 1202", pkt);
    ASSERT_EQ(sfu_rtp_parse(pkt, n, &h), 0);
    ASSERT_EQ(sfu_rtx_unwrap_osn(&h, pkt, &osn), -SFU_EMALFORMED);
    return 0;
}

TEST(seq16_newer_wraps)
{
    static const struct { uint16_t a, b; bool newer; } cases[] = {
        { 1, 0, true }, { 0, 1, false }, { 5, 5, false },
        { 0, 65535, true }, { 65535, 0, false },
        { 10, 65000, true }, { 0x8000, 0, false }, { 0x7fff, 0, true },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++)
        ASSERT_EQ(sfu_seq16_newer(cases[i].a, cases[i].b), cases[i].newer);
    return 0;
}

/* RFC 6464 3, found in a packet the way the forwarding engine finds it. */
TEST(audio_level_from_packet)
{
    static const struct { uint8_t byte; bool voice; uint8_t level; } cases[] = {
        { 0x00, false, 0 }, { 0x7f, false, 127 }, { 0x80, true, 0 },
        { 0xff, true, 127 }, { 0xaa, true, 42 }, { 0x2a, false, 42 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        uint8_t pkt[32];
        size_t n = test_unhex("90 6f 0001 00000000 00000001 bede0001 30000000 fc", pkt);
        pkt[17] = cases[i].byte;
        sfu_rtp_hdr h;
        ASSERT_EQ(sfu_rtp_parse(pkt, n, &h), 0);
        uint8_t len = 0;
        const uint8_t *d = sfu_rtp_ext_find(&h, pkt, 3, &len);
        sfu_audio_level al = { .voice = !cases[i].voice, .level = 200 };
        ASSERT_EQ(sfu_audio_level_parse(d, len, &al), 0);
        ASSERT_EQ(al.voice, cases[i].voice);
        ASSERT_EQ(al.level, cases[i].level);
        uint8_t out = 0;
        ASSERT_EQ(sfu_audio_level_write(&out, 1, &al), 1);
        ASSERT_EQ(out, cases[i].byte);
    }
    return 0;
}

TEST(audio_level_malformed)
{
    static const uint8_t two[2] = { 0x80, 0x01 };
    sfu_audio_level al;
    ASSERT_EQ(sfu_audio_level_parse(two, 0, &al), -SFU_EMALFORMED);
    ASSERT_EQ(sfu_audio_level_parse(two, 2, &al), -SFU_EMALFORMED);
    ASSERT_EQ(sfu_audio_level_parse(NULL, 1, &al), -SFU_EMALFORMED);
    uint8_t out;
    al = (sfu_audio_level){ .voice = true, .level = 128 };
    ASSERT_EQ(sfu_audio_level_write(&out, 1, &al), -SFU_EINVAL);
    al.level = 1;
    ASSERT_EQ(sfu_audio_level_write(&out, 0, &al), -SFU_ENOSPC);
    return 0;
}

TEST_LIST(
    TEST_ENTRY(parse_table),
    TEST_ENTRY(parse_fields),
    TEST_ENTRY(parse_rejects_oversize),
    TEST_ENTRY(one_byte_padding_and_stop),
    TEST_ENTRY(two_byte_zero_length_and_padding),
    TEST_ENTRY(more_than_max_ext_ignored),
    TEST_ENTRY(write_parse_round_trip),
    TEST_ENTRY(write_exact_bytes),
    TEST_ENTRY(write_rejects_bad_input),
    TEST_ENTRY(rtx_osn),
    TEST_ENTRY(seq16_newer_wraps),
    TEST_ENTRY(audio_level_from_packet),
    TEST_ENTRY(audio_level_malformed),
)
