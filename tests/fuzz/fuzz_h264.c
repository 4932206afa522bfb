/* Fuzzes the H.264 RTP payload parser and checks what it reports agrees
 * with the packet type; then the SPS finder and size reader on the same
 * bytes, as the producer runs them on a keyframe. */
#include "sfu/core/h264.h"
#include "sfu/core/h264_sps.h"

#include <stdlib.h>

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void sps(const uint8_t *data, size_t size)
{
    const uint8_t *nal;
    size_t len;
    uint16_t w, h;
    int rc = sfu_h264_find_sps(data, size, &nal, &len);
    check(rc == 0 || rc == -SFU_ENOTFOUND);
    if (rc == 0) {
        check(nal >= data && len >= 1 && len <= size && (size_t)(nal - data) <= size - len);
        check((nal[0] & 0x1f) == SFU_H264_NAL_SPS);
        rc = sfu_h264_sps_size(nal, len, &w, &h);
        check(rc == 0 || rc == -SFU_EMALFORMED);
        check(rc != 0 || (w > 0 && h > 0));
    }
    rc = sfu_h264_sps_size(data, size, &w, &h);
    check(rc == 0 || rc == -SFU_EMALFORMED || rc == -SFU_EUNSUPPORTED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sps(data, size);
    sfu_h264_info i;
    int rc = sfu_h264_parse(data, size, &i);
    check(rc == 0 || rc == -SFU_EMALFORMED || rc == -SFU_EUNSUPPORTED);
    if (rc != 0)
        return 0;
    check(size >= 1 && i.packet_type == (data[0] & 0x1f));
    if (i.packet_type == SFU_H264_FU_A) {
        check(size >= 2 && i.nal_count == 0);
        check(!i.idr_start || i.fu_start);
    } else if (i.packet_type == SFU_H264_STAP_A) {
        check(i.nal_count >= 1 && size >= 4);
    } else {
        check(i.packet_type >= 1 && i.packet_type <= 23 && i.nal_count == 1);
    }
    (void)sfu_h264_is_keyframe(&i);
    return 0;
}
