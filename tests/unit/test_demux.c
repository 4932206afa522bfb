/* RFC 7983 first-byte demultiplexing and RFC 5761 RTP/RTCP split. */
#include "sfu/core/demux.h"
#include "tests/test.h"

/* The expected kind for a first byte, from RFC 7983 3's ranges. */
static sfu_demux_kind by_first_byte(uint8_t b)
{
    static const struct { uint8_t lo, hi; sfu_demux_kind kind; } ranges[] = {
        { 0, 3, SFU_DEMUX_STUN }, { 20, 63, SFU_DEMUX_DTLS }, { 128, 191, SFU_DEMUX_RTP },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(ranges); i++)
        if (b >= ranges[i].lo && b <= ranges[i].hi)
            return ranges[i].kind;
    return SFU_DEMUX_DROP;
}

TEST(every_first_byte)
{
    uint8_t pkt[64] = { 0 };
    pkt[1] = 96;
    int seen[5] = { 0 };
    for (int b = 0; b < 256; b++) {
        pkt[0] = (uint8_t)b;
        sfu_demux_kind k = sfu_demux_classify(pkt, sizeof pkt);
        if (k != by_first_byte((uint8_t)b))
            TEST_FAIL_("first byte %d: %s, want %s", b, sfu_demux_kind_name(k),
                       sfu_demux_kind_name(by_first_byte((uint8_t)b)));
        seen[k]++;
    }
    ASSERT_EQ(seen[SFU_DEMUX_STUN], 4);
    ASSERT_EQ(seen[SFU_DEMUX_DTLS], 44);
    ASSERT_EQ(seen[SFU_DEMUX_RTP], 64);
    ASSERT_EQ(seen[SFU_DEMUX_DROP], 256 - 4 - 44 - 64);
    return 0;
}

TEST(rtp_or_rtcp_by_second_byte)
{
    static const struct { uint8_t b1; sfu_demux_kind kind; } cases[] = {
        { 0, SFU_DEMUX_RTP },       { 63, SFU_DEMUX_RTP },      { 64, SFU_DEMUX_RTCP },
        { 95, SFU_DEMUX_RTCP },     { 96, SFU_DEMUX_RTP },      { 127, SFU_DEMUX_RTP },
        { 128, SFU_DEMUX_RTP },     { 191, SFU_DEMUX_RTP },     /* marker + PT 63 */
        { 192, SFU_DEMUX_RTCP },    { 200, SFU_DEMUX_RTCP },    /* SR */
        { 201, SFU_DEMUX_RTCP },    { 205, SFU_DEMUX_RTCP },    /* RTPFB */
        { 206, SFU_DEMUX_RTCP },    { 223, SFU_DEMUX_RTCP },
        { 224, SFU_DEMUX_RTP },     /* marker + PT 96 */
        { 255, SFU_DEMUX_RTP },
    };
    uint8_t pkt[32] = { 0x80 };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        pkt[1] = cases[i].b1;
        sfu_demux_kind k = sfu_demux_classify(pkt, sizeof pkt);
        if (k != cases[i].kind)
            TEST_FAIL_("second byte %u: %s, want %s", cases[i].b1, sfu_demux_kind_name(k),
                       sfu_demux_kind_name(cases[i].kind));
    }
    return 0;
}

TEST(too_short_is_dropped)
{
    static const struct { uint8_t b0, b1; size_t min; sfu_demux_kind kind; } cases[] = {
        { 0x00, 0x01, SFU_DEMUX_MIN_STUN, SFU_DEMUX_STUN },
        { 0x16, 0xfe, SFU_DEMUX_MIN_DTLS, SFU_DEMUX_DTLS },
        { 0x80, 0x60, SFU_DEMUX_MIN_RTP, SFU_DEMUX_RTP },
        { 0x81, 0xc9, SFU_DEMUX_MIN_RTCP, SFU_DEMUX_RTCP },
    };
    uint8_t pkt[32] = { 0 };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        pkt[0] = cases[i].b0;
        pkt[1] = cases[i].b1;
        ASSERT_EQ(sfu_demux_classify(pkt, cases[i].min), cases[i].kind);
        for (size_t len = 0; len < cases[i].min; len++)
            ASSERT_EQ(sfu_demux_classify(pkt, len), SFU_DEMUX_DROP);
    }
    ASSERT_EQ(sfu_demux_classify(NULL, 100), SFU_DEMUX_DROP);
    return 0;
}

TEST(kind_names)
{
    ASSERT_STR_EQ(sfu_demux_kind_name(SFU_DEMUX_STUN), "stun");
    ASSERT_STR_EQ(sfu_demux_kind_name(SFU_DEMUX_DTLS), "dtls");
    ASSERT_STR_EQ(sfu_demux_kind_name(SFU_DEMUX_RTP), "rtp");
    ASSERT_STR_EQ(sfu_demux_kind_name(SFU_DEMUX_RTCP), "rtcp");
    ASSERT_STR_EQ(sfu_demux_kind_name(SFU_DEMUX_DROP), "drop");
    return 0;
}

TEST_LIST(
    TEST_ENTRY(every_first_byte),
    TEST_ENTRY(rtp_or_rtcp_by_second_byte),
    TEST_ENTRY(too_short_is_dropped),
    TEST_ENTRY(kind_names),
)
