/* The frame size an H.264 SPS declares (sfu/core/h264_sps.h): real SPSs
 * from libx264 (FFmpeg, several profiles and croppings), SPSs written here
 * bit by bit for the branches encoders rarely take, and broken ones. */
#include "sfu/core/h264_sps.h"
#include "tests/test.h"

#include <string.h>

/* libx264 through PyAV, yuv420p unless said: SPS NAL units as sent. */
static const struct {
    const char *name, *hex;
    uint16_t w, h;
} real[] = {
    { "high 1280x720", "6764001facd9405005ba10000003001000000303c0f183196000", 1280, 720 },
    { "high 640x360 (cropped from 368)", "6764001eacd940a02ff9610000030001000003003c0f162d9600", 640, 360 },
    { "high 320x180", "6764000dacd941419f9e10000003001000000303c0f142996000", 320, 180 },
    { "high 318x178 (cropped both ways)", "6764000dacd941419ea2210000030001000003003c0f14299600", 318, 178 },
    { "high 4:4:4 352x288", "67f4000d919b282c12d080000003008000001e078a14cb00", 352, 288 },
    { "baseline 640x480", "6742c01ed900a03da10000030001000003003c0f162e4800", 640, 480 },
    { "baseline 1280x720", "6742c01fd9005005ba10000003001000000303c0f183248000", 1280, 720 },
    { "baseline 320x240", "6742c00dd90141fa10000003001000000303c0f142a48000", 320, 240 },
};

TEST(real_encoders)
{
    for (size_t k = 0; k < SFU_ARRAY_LEN(real); k++) {
        uint8_t p[64];
        size_t n = test_unhex(real[k].hex, p);
        uint16_t w = 0, h = 0;
        int rc = sfu_h264_sps_size(p, n, &w, &h);
        if (rc != 0 || w != real[k].w || h != real[k].h) {
            fprintf(stderr, "  %s: rc %d, %ux%u\n", real[k].name, rc, w, h);
            return 1;
        }
    }
    return 0;
}

/* Every cut of a real SPS either fails as malformed or, once the size
 * fields are whole (the VUI after them is not read), gives the same size. */
TEST(truncated)
{
    for (size_t k = 0; k < SFU_ARRAY_LEN(real); k++) {
        uint8_t p[64];
        size_t n = test_unhex(real[k].hex, p);
        bool whole = false;
        for (size_t cut = 0; cut <= n; cut++) {
            uint16_t w = 0, h = 0;
            int rc = sfu_h264_sps_size(p, cut, &w, &h);
            if (rc == 0) {
                ASSERT_EQ(w, real[k].w);
                ASSERT_EQ(h, real[k].h);
                whole = true;
            } else {
                ASSERT_EQ(rc, -SFU_EMALFORMED);
                ASSERT(!whole); /* once whole, longer stays whole */
            }
        }
        ASSERT(whole);
    }
    return 0;
}

/* An SPS writer: fields in, emulation prevention applied as an encoder
 * does (a 0x03 after two zero bytes when the next is 0..3). */
typedef struct writer {
    uint8_t rbsp[128];
    size_t bits;
} writer;

static void put(writer *w, uint32_t v, unsigned n)
{
    while (n--) {
        if ((v >> n) & 1)
            w->rbsp[w->bits / 8] |= (uint8_t)(0x80 >> (w->bits % 8));
        w->bits++;
    }
}

static void put_ue(writer *w, uint32_t v)
{
    uint64_t x = (uint64_t)v + 1;
    unsigned len = 0;
    while ((x >> len) > 1)
        len++;
    put(w, 0, len);
    put(w, (uint32_t)x, len + 1);
}

static void put_se(writer *w, int32_t v)
{
    put_ue(w, v > 0 ? (uint32_t)(2 * v - 1) : (uint32_t)(-2 * v));
}

/* NAL header 0x67, the RBSP with its stop bit, emulation prevention. */
static size_t finish(writer *w, uint8_t *out, unsigned *inserted)
{
    put(w, 1, 1);
    size_t rbsp = (w->bits + 7) / 8, n = 0;
    unsigned zeros = 0;
    *inserted = 0;
    out[n++] = 0x67;
    for (size_t i = 0; i < rbsp; i++) {
        if (zeros >= 2 && w->rbsp[i] <= 3) {
            out[n++] = 0x03;
            zeros = 0;
            (*inserted)++;
        }
        out[n++] = w->rbsp[i];
        zeros = w->rbsp[i] == 0 ? zeros + 1 : 0;
    }
    return n;
}

struct sps_fields {
    uint8_t profile;
    uint32_t chroma;            /* High profiles only */
    bool separate_planes;
    bool scaling;               /* High: lists 0 and 6 present */
    uint32_t log2_frame_num;    /* minus 4: shifts the later fields' alignment */
    uint32_t poc_type;
    uint32_t mbs_w, map_units_h;
    bool frame_mbs_only;
    bool crop;
    uint32_t crop_l, crop_r, crop_t, crop_b;
};

static size_t write_sps(const struct sps_fields *f, uint8_t *out, unsigned *inserted)
{
    writer w;
    memset(&w, 0, sizeof w);
    put(&w, f->profile, 8);
    put(&w, 0, 8);              /* constraint flags */
    put(&w, 31, 8);             /* level */
    put_ue(&w, 0);              /* sps id */
    if (f->profile == 100 || f->profile == 244) {
        put_ue(&w, f->chroma);
        if (f->chroma == 3)
            put(&w, f->separate_planes, 1);
        put_ue(&w, 0);
        put_ue(&w, 0);
        put(&w, 0, 1);
        put(&w, f->scaling, 1);
        if (f->scaling) {
            for (unsigned i = 0; i < (f->chroma != 3 ? 8u : 12u); i++) {
                bool present = i == 0 || i == 6;
                put(&w, present, 1);
                if (!present)
                    continue;
                /* deltas that end the list early (next scale 0) for the
                 * 4x4, a full 64-entry walk for the 8x8 */
                if (i == 0) {
                    put_se(&w, 8);
                    put_se(&w, -16);
                } else {
                    for (int j = 0; j < 64; j++)
                        put_se(&w, j % 2 ? -3 : 3);
                }
            }
        }
    }
    put_ue(&w, f->log2_frame_num);
    put_ue(&w, f->poc_type);
    if (f->poc_type == 0) {
        put_ue(&w, 2);
    } else if (f->poc_type == 1) {
        put(&w, 0, 1);
        put_se(&w, -2);
        put_se(&w, 1);
        put_ue(&w, 3);
        put_se(&w, 4);
        put_se(&w, -4);
        put_se(&w, 0);
    }
    put_ue(&w, 1);              /* max_num_ref_frames */
    put(&w, 0, 1);
    put_ue(&w, f->mbs_w - 1);
    put_ue(&w, f->map_units_h - 1);
    put(&w, f->frame_mbs_only, 1);
    if (!f->frame_mbs_only)
        put(&w, 1, 1);
    put(&w, 1, 1);              /* direct_8x8_inference */
    put(&w, f->crop, 1);
    if (f->crop) {
        put_ue(&w, f->crop_l);
        put_ue(&w, f->crop_r);
        put_ue(&w, f->crop_t);
        put_ue(&w, f->crop_b);
    }
    put(&w, 0, 1);              /* no VUI */
    return finish(&w, out, inserted);
}

static const struct {
    const char *name;
    struct sps_fields f;
    int rc;
    uint16_t w, h;
} written[] = {
    { "interlaced 1920x1080 (fields, crop in 4-line units)",
      { .profile = 100, .chroma = 1, .mbs_w = 120, .map_units_h = 34, .crop = true, .crop_b = 2 }, 0, 1920, 1080 },
    { "poc type 1, baseline 176x144", { .profile = 66, .poc_type = 1, .mbs_w = 11, .map_units_h = 9,
      .frame_mbs_only = true }, 0, 176, 144 },
    { "poc type 2", { .profile = 66, .poc_type = 2, .mbs_w = 20, .map_units_h = 15, .frame_mbs_only = true },
      0, 320, 240 },
    { "scaling lists, 4:2:0, 1280x720", { .profile = 100, .chroma = 1, .scaling = true, .mbs_w = 80,
      .map_units_h = 45, .frame_mbs_only = true }, 0, 1280, 720 },
    { "scaling lists, 4:4:4 (12 lists), crop in luma units", { .profile = 244, .chroma = 3, .scaling = true,
      .mbs_w = 22, .map_units_h = 18, .frame_mbs_only = true, .crop = true, .crop_r = 3, .crop_b = 5 },
      0, 349, 283 },
    { "monochrome, crop in luma units", { .profile = 100, .chroma = 0, .mbs_w = 10, .map_units_h = 10,
      .frame_mbs_only = true, .crop = true, .crop_l = 1, .crop_t = 1 }, 0, 159, 159 },
    { "4:2:2: crop 2 wide, 1 high", { .profile = 100, .chroma = 2, .mbs_w = 10, .map_units_h = 10,
      .frame_mbs_only = true, .crop = true, .crop_r = 1, .crop_b = 1 }, 0, 158, 159 },
    { "separate colour planes: luma units", { .profile = 244, .chroma = 3, .separate_planes = true,
      .mbs_w = 10, .map_units_h = 10, .frame_mbs_only = true, .crop = true, .crop_r = 1 }, 0, 159, 160 },
    { "largest: 4096 x 2304 MBs is past 65535", { .profile = 66, .mbs_w = 4096, .map_units_h = 10,
      .frame_mbs_only = true }, -SFU_EMALFORMED, 0, 0 },
    { "4095 MBs wide fits", { .profile = 66, .mbs_w = 4095, .map_units_h = 1, .frame_mbs_only = true },
      0, 65520, 16 },
    { "crop takes the whole width", { .profile = 66, .mbs_w = 2, .map_units_h = 2, .frame_mbs_only = true,
      .crop = true, .crop_l = 8, .crop_r = 8 }, -SFU_EMALFORMED, 0, 0 },
    { "crop past the height", { .profile = 66, .mbs_w = 2, .map_units_h = 2, .frame_mbs_only = true,
      .crop = true, .crop_b = 1000000 }, -SFU_EMALFORMED, 0, 0 },
    { "poc type 3", { .profile = 66, .poc_type = 3, .mbs_w = 2, .map_units_h = 2, .frame_mbs_only = true },
      -SFU_EMALFORMED, 0, 0 },
    { "chroma format 4", { .profile = 100, .chroma = 4, .mbs_w = 2, .map_units_h = 2, .frame_mbs_only = true },
      -SFU_EMALFORMED, 0, 0 },
};

TEST(written_fields)
{
    for (size_t k = 0; k < SFU_ARRAY_LEN(written); k++) {
        uint8_t p[256];
        unsigned inserted;
        size_t n = write_sps(&written[k].f, p, &inserted);
        uint16_t w = 0, h = 0;
        int rc = sfu_h264_sps_size(p, n, &w, &h);
        if (rc != written[k].rc || (rc == 0 && (w != written[k].w || h != written[k].h))) {
            fprintf(stderr, "  %s: rc %d, %ux%u\n", written[k].name, rc, w, h);
            return 1;
        }
    }
    return 0;
}

/* Long runs of zero bits (exp-Golomb prefixes, zero fields) make an
 * encoder insert 0x03 after two zero bytes; the reader must drop each one,
 * or every later field shifts. Sizes of 2^k MBs make the longest runs; the
 * first field's length moves them across byte boundaries. */
TEST(emulation_prevention)
{
    unsigned with_03 = 0;
    static const uint32_t mbs[] = { 1, 2, 255, 256, 1024, 2048, 4095 };
    for (uint32_t shift = 0; shift <= 25; shift++) {
        for (size_t i = 0; i < SFU_ARRAY_LEN(mbs); i++) {
            for (size_t j = 0; j < SFU_ARRAY_LEN(mbs); j++) {
                struct sps_fields f = { .profile = 66, .log2_frame_num = shift % 13,
                                        .poc_type = shift > 12 ? 0 : 2,
                                        .mbs_w = mbs[i], .map_units_h = mbs[j], .frame_mbs_only = true };
                uint8_t p[256];
                unsigned inserted;
                size_t n = write_sps(&f, p, &inserted);
                uint16_t w = 0, h = 0;
                ASSERT_EQ(sfu_h264_sps_size(p, n, &w, &h), 0);
                ASSERT_EQ(w, mbs[i] * 16);
                ASSERT_EQ(h, mbs[j] * 16);
                with_03 += inserted > 0;
            }
        }
    }
    ASSERT(with_03 >= 4);      /* 2048 x 2048 MBs at two alignments, both ways */
    return 0;
}

TEST(not_an_sps)
{
    uint8_t p[64];
    size_t n = test_unhex(real[0].hex, p);
    uint16_t w, h;
    p[0] = 0x68;                /* a PPS header */
    ASSERT_EQ(sfu_h264_sps_size(p, n, &w, &h), -SFU_EMALFORMED);
    p[0] = 0x6f;                /* subset SPS */
    ASSERT_EQ(sfu_h264_sps_size(p, n, &w, &h), -SFU_EUNSUPPORTED);
    ASSERT_EQ(sfu_h264_sps_size(NULL, 0, &w, &h), -SFU_EMALFORMED);
    /* 32 zero bits where the sps id starts: no legal ue(v) */
    uint8_t z[] = { 0x67, 0x42, 0xc0, 0x1f, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x80, 0xff, 0xff };
    ASSERT_EQ(sfu_h264_sps_size(z, sizeof z, &w, &h), -SFU_EMALFORMED);
    return 0;
}

TEST(find_in_payloads)
{
    uint8_t p[128];
    const uint8_t *nal;
    size_t len;
    size_t n = test_unhex("6742c01f d9005005ba10", p);
    ASSERT_EQ(sfu_h264_find_sps(p, n, &nal, &len), 0);
    ASSERT(nal == p && len == n);
    n = test_unhex("78 0002 0605 000a 6742c01fd9005005ba10 0004 68ce3c80", p);
    ASSERT_EQ(sfu_h264_find_sps(p, n, &nal, &len), 0);
    ASSERT(nal == p + 7 && len == 10);
    n = test_unhex("78 0004 68ce3c80 0001 65", p);
    ASSERT_EQ(sfu_h264_find_sps(p, n, &nal, &len), -SFU_ENOTFOUND);
    n = test_unhex("78 000b 6742c01fd9005005ba10", p);       /* size overruns */
    ASSERT_EQ(sfu_h264_find_sps(p, n, &nal, &len), -SFU_ENOTFOUND);
    n = test_unhex("7c 87 42c01f", p);                       /* FU-A: not looked into */
    ASSERT_EQ(sfu_h264_find_sps(p, n, &nal, &len), -SFU_ENOTFOUND);
    ASSERT_EQ(sfu_h264_find_sps(p, 0, &nal, &len), -SFU_ENOTFOUND);
    return 0;
}

TEST_LIST(
    TEST_ENTRY(real_encoders),
    TEST_ENTRY(truncated),
    TEST_ENTRY(written_fields),
    TEST_ENTRY(emulation_prevention),
    TEST_ENTRY(not_an_sps),
    TEST_ENTRY(find_in_payloads),
)
