/* H.264 RTP payload structure, RFC 6184 5.2-5.8. */
#include "sfu/core/h264.h"

#include <string.h>

#define NAL_TYPE(b) ((uint8_t)((b) & 0x1f))

static void note_nal(sfu_h264_info *info, uint8_t type)
{
    if (type == SFU_H264_NAL_SPS)
        info->has_sps = true;
    else if (type == SFU_H264_NAL_PPS)
        info->has_pps = true;
    else if (type == SFU_H264_NAL_IDR)
        info->idr_start = true;
}

/* RFC 6184 5.7.1: after the STAP-A header, (16-bit size, NAL unit)*. */
static int parse_stap_a(const uint8_t *p, size_t len, sfu_h264_info *info)
{
    size_t off = 1;
    if (off == len)
        return -SFU_EMALFORMED;
    while (off < len) {
        if (len - off < 2)
            return -SFU_EMALFORMED;
        size_t size = sfu_rd16(p + off);
        off += 2;
        if (size == 0 || len - off < size)
            return -SFU_EMALFORMED;
        note_nal(info, NAL_TYPE(p[off]));
        if (info->nal_count < UINT8_MAX)
            info->nal_count++;
        off += size;
    }
    return 0;
}

/* RFC 6184 5.8: FU indicator, then S|E|R|Type. Only the first fragment
 * says what the NAL unit is the start of. */
static int parse_fu_a(const uint8_t *p, size_t len, sfu_h264_info *info)
{
    if (len < 2)
        return -SFU_EMALFORMED;
    info->fu_start = p[1] & 0x80;
    info->fu_end = p[1] & 0x40;
    info->fu_nal_type = NAL_TYPE(p[1]);
    if (info->fu_start)
        note_nal(info, info->fu_nal_type);
    return 0;
}

int sfu_h264_parse(const uint8_t *p, size_t len, sfu_h264_info *info)
{
    memset(info, 0, sizeof *info);
    if (!p || len < 1)
        return -SFU_EMALFORMED;
    uint8_t type = NAL_TYPE(p[0]);
    info->packet_type = type;
    if (type >= 1 && type <= 23) {
        info->nal_count = 1;
        note_nal(info, type);
        return 0;
    }
    if (type == SFU_H264_STAP_A)
        return parse_stap_a(p, len, info);
    if (type == SFU_H264_FU_A)
        return parse_fu_a(p, len, info);
    return -SFU_EUNSUPPORTED;
}
