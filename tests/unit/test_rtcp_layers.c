/* RTCP APP "SFUL" (rtcp_layers.h): the layers a relay leg's pulling end
 * needs. Round trip, and every malformed shape refused. */
#include "sfu/core/rtcp_layers.h"
#include "tests/test.h"

#include <string.h>

static int first(const uint8_t *p, size_t n, sfu_rtcp_common *c)
{
    size_t off = 0;
    return sfu_rtcp_next(p, n, &off, c);
}

TEST(round_trip)
{
    sfu_rtcp_layer_want w[3] = { { 1000, true }, { 1002, false }, { 0xfffffffe, true } };
    uint8_t buf[64];
    int n = sfu_rtcp_layers_build(buf, sizeof buf, 0x11223344, w, 3);
    ASSERT_EQ(n, 12 + 3 * 8);
    sfu_rtcp_common c;
    ASSERT_EQ(first(buf, (size_t)n, &c), 1);
    ASSERT_EQ(c.pt, SFU_RTCP_APP);
    ASSERT(sfu_rtcp_is_layers(&c));
    sfu_rtcp_layers l;
    ASSERT_EQ(sfu_rtcp_layers_parse(&c, &l), 0);
    ASSERT_EQ(l.sender_ssrc, 0x11223344u);
    ASSERT_EQ(l.count, 3);
    for (unsigned i = 0; i < 3; i++) {
        ASSERT_EQ(l.entries[i].ssrc, w[i].ssrc);
        ASSERT_EQ(l.entries[i].wanted, w[i].wanted);
    }
    /* Builder limits. */
    ASSERT_EQ(sfu_rtcp_layers_build(buf, 12 + 3 * 8 - 1, 1, w, 3), -SFU_ENOSPC);
    ASSERT_EQ(sfu_rtcp_layers_build(buf, sizeof buf, 1, w, 0), -SFU_EINVAL);
    ASSERT_EQ(sfu_rtcp_layers_build(buf, sizeof buf, 1, w, SFU_RTCP_LAYERS_MAX + 1), -SFU_EINVAL);
    return 0;
}

TEST(malformed)
{
    uint8_t buf[256];
    sfu_rtcp_layer_want w[SFU_RTCP_LAYERS_MAX] = { { 7, true } };
    int n = sfu_rtcp_layers_build(buf, sizeof buf, 1, w, 1);
    sfu_rtcp_common c;
    sfu_rtcp_layers l = { .count = 99 };
    /* Another name: not ours, and not parsed. */
    memcpy(buf + 8, "ABCD", 4);
    ASSERT_EQ(first(buf, (size_t)n, &c), 1);
    ASSERT(!sfu_rtcp_is_layers(&c));
    ASSERT_EQ(sfu_rtcp_layers_parse(&c, &l), -SFU_EMALFORMED);
    memcpy(buf + 8, "SFUL", 4);
    /* Another subtype. */
    buf[0] |= 1;
    ASSERT_EQ(first(buf, (size_t)n, &c), 1);
    ASSERT_EQ(sfu_rtcp_layers_parse(&c, &l), -SFU_EMALFORMED);
    buf[0] &= (uint8_t)~1;
    /* No entry; half an entry (length 4 words: header, ssrc, name, 4 bytes). */
    uint8_t empty[12] = { 0x80, 204, 0, 2, 0, 0, 0, 1, 'S', 'F', 'U', 'L' };
    ASSERT_EQ(first(empty, sizeof empty, &c), 1);
    ASSERT_EQ(sfu_rtcp_layers_parse(&c, &l), -SFU_EMALFORMED);
    uint8_t half[16] = { 0x80, 204, 0, 3, 0, 0, 0, 1, 'S', 'F', 'U', 'L', 0, 0, 0, 7 };
    ASSERT_EQ(first(half, sizeof half, &c), 1);
    ASSERT_EQ(sfu_rtcp_layers_parse(&c, &l), -SFU_EMALFORMED);
    /* More entries than a packet may carry. */
    uint8_t big[12 + 8 * (SFU_RTCP_LAYERS_MAX + 1)];
    memset(big, 0, sizeof big);
    memcpy(big, empty, sizeof empty);
    sfu_rtcp_write_header(big, 0, SFU_RTCP_APP, sizeof big);
    ASSERT_EQ(first(big, sizeof big, &c), 1);
    ASSERT_EQ(sfu_rtcp_layers_parse(&c, &l), -SFU_EMALFORMED);
    /* Too short to have a name at all. */
    uint8_t tiny[8] = { 0x80, 204, 0, 1, 0, 0, 0, 1 };
    ASSERT_EQ(first(tiny, sizeof tiny, &c), 1);
    ASSERT(!sfu_rtcp_is_layers(&c));
    ASSERT_EQ(sfu_rtcp_layers_parse(&c, &l), -SFU_EMALFORMED);
    ASSERT_EQ(l.count, 99);     /* untouched by every refusal */
    return 0;
}

TEST_LIST(TEST_ENTRY(round_trip), TEST_ENTRY(malformed))
