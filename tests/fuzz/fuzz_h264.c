/* Fuzzes the H.264 RTP payload parser and checks what it reports agrees
 * with the packet type. */
#include "sfu/core/h264.h"

#include <stdlib.h>

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
