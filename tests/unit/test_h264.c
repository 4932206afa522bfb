/* H.264 RTP payload structure (RFC 6184) for keyframe gating. */
#include "sfu/core/h264.h"
#include "tests/test.h"

#include <stdlib.h>

struct h264_case {
    const char *name;
    const char *hex;
    int rc;
    sfu_h264_info want;
    bool keyframe;
};

#define ERR(n, h, e) { .name = n, .hex = h, .rc = e, .want = { 0 }, .keyframe = false }

static const struct h264_case cases[] = {
    { "single IDR", "65 888400", 0, { .packet_type = 5, .nal_count = 1, .idr_start = true }, true },
    { "single IDR header only", "65", 0, { .packet_type = 5, .nal_count = 1, .idr_start = true }, true },
    { "single SPS", "67 42c01f", 0, { .packet_type = 7, .nal_count = 1, .has_sps = true }, true },
    { "single PPS", "68 ce3c80", 0, { .packet_type = 8, .nal_count = 1, .has_pps = true }, false },
    { "single non-IDR slice", "41 9a", 0, { .packet_type = 1, .nal_count = 1 }, false },
    { "single SEI", "06 05ff", 0, { .packet_type = 6, .nal_count = 1 }, false },
    { "F bit set is still parsed", "e5 00", 0, { .packet_type = 5, .nal_count = 1, .idr_start = true }, true },
    { "STAP-A SPS+PPS+IDR", "78 0004 6742c01f 0004 68ce3c80 0003 658884", 0,
      { .packet_type = 24, .nal_count = 3, .has_sps = true, .has_pps = true, .idr_start = true }, true },
    { "STAP-A SPS+PPS", "78 0004 6742c01f 0004 68ce3c80", 0,
      { .packet_type = 24, .nal_count = 2, .has_sps = true, .has_pps = true }, true },
    { "STAP-A PPS+IDR", "78 0004 68ce3c80 0001 65", 0,
      { .packet_type = 24, .nal_count = 2, .has_pps = true, .idr_start = true }, true },
    { "STAP-A non-IDR", "78 0002 4101 0002 0601", 0, { .packet_type = 24, .nal_count = 2 }, false },
    { "FU-A IDR start", "7c 85 888400", 0,
      { .packet_type = 28, .fu_start = true, .fu_nal_type = 5, .idr_start = true }, true },
    { "FU-A IDR middle", "7c 05 aabb", 0, { .packet_type = 28, .fu_nal_type = 5 }, false },
    { "FU-A IDR end", "7c 45 aabb", 0, { .packet_type = 28, .fu_end = true, .fu_nal_type = 5 }, false },
    { "FU-A non-IDR start", "5c 81 9a", 0, { .packet_type = 28, .fu_start = true, .fu_nal_type = 1 }, false },
    { "FU-A SPS start", "7c 87 42c0", 0,
      { .packet_type = 28, .fu_start = true, .fu_nal_type = 7, .has_sps = true }, true },
    { "FU-A header, empty fragment", "7c 85", 0,
      { .packet_type = 28, .fu_start = true, .fu_nal_type = 5, .idr_start = true }, true },

    ERR("empty", "", -SFU_EMALFORMED),
    ERR("STAP-A header only", "78", -SFU_EMALFORMED),
    ERR("STAP-A size truncated", "78 00", -SFU_EMALFORMED),
    ERR("STAP-A size overrun", "78 0005 6742c01f", -SFU_EMALFORMED),
    ERR("STAP-A second size overrun", "78 0001 65 0003 6742", -SFU_EMALFORMED),
    ERR("STAP-A trailing byte", "78 0002 4101 00", -SFU_EMALFORMED),
    ERR("STAP-A zero size", "78 0000 0002 4101", -SFU_EMALFORMED),
    ERR("FU-A without header", "7c", -SFU_EMALFORMED),
    ERR("undefined 0", "00 00", -SFU_EUNSUPPORTED),
    ERR("STAP-B", "79 0000 0001 65", -SFU_EUNSUPPORTED),
    ERR("MTAP16", "7a 00", -SFU_EUNSUPPORTED),
    ERR("MTAP24", "7b 00", -SFU_EUNSUPPORTED),
    ERR("FU-B", "7d 85 0000 88", -SFU_EUNSUPPORTED),
    ERR("undefined 30", "7e 00", -SFU_EUNSUPPORTED),
    ERR("undefined 31", "7f 00", -SFU_EUNSUPPORTED),
};

static int check(const struct h264_case *c)
{
    uint8_t p[128];
    size_t n = test_unhex(c->hex, p);
    sfu_h264_info i;
    ASSERT_EQ(sfu_h264_parse(p, n, &i), c->rc);
    if (c->rc != 0)
        return 0;
    ASSERT_EQ(i.packet_type, c->want.packet_type);
    ASSERT_EQ(i.nal_count, c->want.nal_count);
    ASSERT_EQ(i.has_sps, c->want.has_sps);
    ASSERT_EQ(i.has_pps, c->want.has_pps);
    ASSERT_EQ(i.idr_start, c->want.idr_start);
    ASSERT_EQ(i.fu_start, c->want.fu_start);
    ASSERT_EQ(i.fu_end, c->want.fu_end);
    ASSERT_EQ(i.fu_nal_type, c->want.fu_nal_type);
    ASSERT_EQ(sfu_h264_is_keyframe(&i), c->keyframe);
    return 0;
}

TEST(parse_table)
{
    for (size_t k = 0; k < SFU_ARRAY_LEN(cases); k++) {
        if (check(&cases[k]) != 0) {
            fprintf(stderr, "  case: %s\n", cases[k].name);
            return 1;
        }
    }
    return 0;
}

/* A frame cut into FU-A start, middle, end: only the start gates. */
TEST(fu_a_sequence)
{
    static const char *frags[] = { "7c 85 8884", "7c 05 0102", "7c 05 0304", "7c 45 05" };
    static const bool start[] = { true, false, false, false };
    static const bool end[] = { false, false, false, true };
    for (size_t k = 0; k < SFU_ARRAY_LEN(frags); k++) {
        uint8_t p[16];
        size_t n = test_unhex(frags[k], p);
        sfu_h264_info i;
        ASSERT_EQ(sfu_h264_parse(p, n, &i), 0);
        ASSERT_EQ(i.fu_start, start[k]);
        ASSERT_EQ(i.fu_end, end[k]);
        ASSERT_EQ(i.idr_start, start[k]);
        ASSERT_EQ(i.fu_nal_type, 5);
    }
    return 0;
}

TEST(stap_a_count_saturates)
{
    static uint8_t p[1 + 300 * 3];
    size_t n = 0;
    p[n++] = 0x78;
    for (int k = 0; k < 300; k++) {
        p[n++] = 0;
        p[n++] = 1;
        p[n++] = k == 299 ? 0x65 : 0x41;
    }
    sfu_h264_info i;
    ASSERT_EQ(sfu_h264_parse(p, n, &i), 0);
    ASSERT_EQ(i.nal_count, 255);
    ASSERT_EQ(i.idr_start, true);
    /* One byte short: the last NAL unit overruns. */
    ASSERT_EQ(sfu_h264_parse(p, n - 1, &i), -SFU_EMALFORMED);
    ASSERT_EQ(sfu_h264_parse(NULL, 0, &i), -SFU_EMALFORMED);
    return 0;
}

TEST_LIST(
    TEST_ENTRY(parse_table),
    TEST_ENTRY(fu_a_sequence),
    TEST_ENTRY(stap_a_count_saturates),
)
