/* H.264 sequence parameter set: just far enough to read the frame size
 * (H.264 7.3.2.1.1). Bits are read straight from the NAL unit, dropping
 * emulation-prevention bytes (7.4.1.1) on the way, so nothing is copied. */
#include "sfu/core/h264_sps.h"

#include "sfu/core/h264.h"

typedef struct bits {
    const uint8_t *p;
    size_t len;
    size_t byte;        /* next byte to load */
    unsigned zeros;     /* 0x00 bytes just loaded, for 0x000003 */
    uint8_t cur;
    unsigned left;      /* bits of cur not yet read */
    bool overrun;
} bits;

static unsigned bit(bits *b)
{
    if (b->left == 0) {
        if (b->byte < b->len && b->zeros >= 2 && b->p[b->byte] == 0x03) {
            b->byte++;
            b->zeros = 0;
        }
        if (b->byte >= b->len) {
            b->overrun = true;
            return 0;
        }
        b->cur = b->p[b->byte++];
        b->zeros = b->cur == 0 ? b->zeros + 1 : 0;
        b->left = 8;
    }
    b->left--;
    return (b->cur >> b->left) & 1u;
}

static uint32_t u(bits *b, unsigned n)
{
    uint32_t v = 0;
    while (n--)
        v = v << 1 | bit(b);
    return v;
}

/* ue(v), 9.1: values past 2^31 - 2 are never legal in an SPS; they and
 * a run of zeros off the end both mark the reader overrun. */
static uint32_t ue(bits *b)
{
    unsigned zeros = 0;
    while (bit(b) == 0) {
        if (b->overrun || ++zeros > 31) {
            b->overrun = true;
            return 0;
        }
    }
    return (uint32_t)((1ull << zeros) - 1 + u(b, zeros));
}

static int32_t se(bits *b)
{
    uint32_t k = ue(b);
    return (k & 1) ? (int32_t)((k + 1) / 2) : -(int32_t)(k / 2);
}

/* 7.3.2.1.1.1: read and thrown away; only its length matters here. */
static bool skip_scaling_list(bits *b, unsigned size)
{
    int last = 8, next = 8;
    for (unsigned j = 0; j < size && !b->overrun; j++) {
        if (next != 0) {
            int32_t delta = se(b);
            if (delta < -128 || delta > 127)
                return false;
            next = (last + delta + 256) % 256;
        }
        last = next == 0 ? last : next;
    }
    return !b->overrun;
}

/* Profiles whose SPS carries chroma format, bit depths and scaling
 * matrices (the High family and the SVC/MVC ones). */
static bool high_profile(uint32_t profile_idc)
{
    switch (profile_idc) {
    case 100: case 110: case 122: case 244: case 44: case 83: case 86:
    case 118: case 128: case 138: case 139: case 134: case 135:
        return true;
    default:
        return false;
    }
}

int sfu_h264_sps_size(const uint8_t *nal, size_t len, uint16_t *width, uint16_t *height)
{
    if (!nal || len < 4)
        return -SFU_EMALFORMED;
    if ((nal[0] & 0x1f) == 15)
        return -SFU_EUNSUPPORTED;
    if ((nal[0] & 0x1f) != SFU_H264_NAL_SPS)
        return -SFU_EMALFORMED;
    bits b = { .p = nal, .len = len, .byte = 1 };
    uint32_t profile_idc = u(&b, 8);
    (void)u(&b, 16);                            /* constraint flags, level_idc */
    if (ue(&b) > 31)                            /* seq_parameter_set_id */
        return -SFU_EMALFORMED;
    uint32_t chroma_format_idc = 1;             /* 4:2:0 unless said otherwise */
    bool separate_planes = false;
    if (high_profile(profile_idc)) {
        chroma_format_idc = ue(&b);
        if (chroma_format_idc > 3)
            return -SFU_EMALFORMED;
        if (chroma_format_idc == 3)
            separate_planes = u(&b, 1);
        if (ue(&b) > 6 || ue(&b) > 6)           /* bit depths, luma and chroma */
            return -SFU_EMALFORMED;
        (void)u(&b, 1);                         /* qpprime_y_zero_transform_bypass */
        if (u(&b, 1)) {                         /* seq_scaling_matrix_present */
            unsigned lists = chroma_format_idc != 3 ? 8 : 12;
            for (unsigned i = 0; i < lists; i++)
                if (u(&b, 1) && !skip_scaling_list(&b, i < 6 ? 16 : 64))
                    return -SFU_EMALFORMED;
        }
    }
    if (ue(&b) > 12)                            /* log2_max_frame_num_minus4 */
        return -SFU_EMALFORMED;
    uint32_t poc_type = ue(&b);
    if (poc_type == 0) {
        if (ue(&b) > 12)                        /* log2_max_pic_order_cnt_lsb_minus4 */
            return -SFU_EMALFORMED;
    } else if (poc_type == 1) {
        (void)u(&b, 1);                         /* delta_pic_order_always_zero */
        (void)se(&b);                           /* offset_for_non_ref_pic */
        (void)se(&b);                           /* offset_for_top_to_bottom_field */
        uint32_t cycle = ue(&b);
        if (cycle > 255)
            return -SFU_EMALFORMED;
        for (uint32_t i = 0; i < cycle && !b.overrun; i++)
            (void)se(&b);                       /* offset_for_ref_frame */
    } else if (poc_type != 2) {
        return -SFU_EMALFORMED;
    }
    (void)ue(&b);                               /* max_num_ref_frames */
    (void)u(&b, 1);                             /* gaps_in_frame_num_value_allowed */
    uint64_t mbs_w = (uint64_t)ue(&b) + 1;
    uint64_t map_units_h = (uint64_t)ue(&b) + 1;
    bool frame_mbs_only = u(&b, 1);
    if (!frame_mbs_only)
        (void)u(&b, 1);                         /* mb_adaptive_frame_field */
    (void)u(&b, 1);                             /* direct_8x8_inference */
    uint64_t crop_l = 0, crop_r = 0, crop_t = 0, crop_b = 0;
    if (u(&b, 1)) {
        crop_l = ue(&b);
        crop_r = ue(&b);
        crop_t = ue(&b);
        crop_b = ue(&b);
    }
    if (b.overrun)
        return -SFU_EMALFORMED;
    /* 7.4.2.1.1: cropping is in chroma sample units (luma ones for
     * monochrome or separately coded planes), doubled vertically for
     * field-coded streams. */
    uint64_t frame_factor = frame_mbs_only ? 1 : 2;
    uint64_t unit_x = 1, unit_y = frame_factor;
    if (chroma_format_idc != 0 && !separate_planes) {
        unit_x = chroma_format_idc == 3 ? 1 : 2;
        unit_y = (chroma_format_idc == 1 ? 2 : 1) * frame_factor;
    }
    uint64_t w = mbs_w * 16, h = map_units_h * 16 * frame_factor;
    uint64_t cut_w = unit_x * (crop_l + crop_r), cut_h = unit_y * (crop_t + crop_b);
    if (cut_w >= w || cut_h >= h || w - cut_w > UINT16_MAX || h - cut_h > UINT16_MAX)
        return -SFU_EMALFORMED;
    *width = (uint16_t)(w - cut_w);
    *height = (uint16_t)(h - cut_h);
    return 0;
}

int sfu_h264_find_sps(const uint8_t *payload, size_t len, const uint8_t **nal, size_t *nal_len)
{
    if (!payload || len < 1)
        return -SFU_ENOTFOUND;
    uint8_t type = payload[0] & 0x1f;
    if (type == SFU_H264_NAL_SPS) {
        *nal = payload;
        *nal_len = len;
        return 0;
    }
    if (type != SFU_H264_STAP_A)
        return -SFU_ENOTFOUND;
    for (size_t off = 1; len - off >= 2;) {
        size_t size = sfu_rd16(payload + off);
        off += 2;
        if (size == 0 || len - off < size)
            return -SFU_ENOTFOUND;
        if ((payload[off] & 0x1f) == SFU_H264_NAL_SPS) {
            *nal = payload + off;
            *nal_len = size;
            return 0;
        }
        off += size;
    }
    return -SFU_ENOTFOUND;
}
