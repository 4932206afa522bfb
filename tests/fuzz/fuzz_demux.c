/* Fuzzes the demultiplexer: every input gets exactly one kind, consistent
 * with its first two bytes and length. */
#include "sfu/core/demux.h"

#include <stdlib.h>

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sfu_demux_kind k = sfu_demux_classify(data, size);
    switch (k) {
    case SFU_DEMUX_STUN:
        check(size >= SFU_DEMUX_MIN_STUN && data[0] <= 3);
        break;
    case SFU_DEMUX_DTLS:
        check(size >= SFU_DEMUX_MIN_DTLS && data[0] >= 20 && data[0] <= 63);
        break;
    case SFU_DEMUX_RTP:
        check(size >= SFU_DEMUX_MIN_RTP && data[0] >= 128 && data[0] <= 191);
        check(!sfu_demux_is_rtcp(data[1]));
        break;
    case SFU_DEMUX_RTCP:
        check(size >= SFU_DEMUX_MIN_RTCP && data[0] >= 128 && data[0] <= 191);
        check((data[1] & 0x7f) >= 64 && (data[1] & 0x7f) <= 95);
        break;
    case SFU_DEMUX_DROP:
        break;
    default:
        abort();
    }
    check(sfu_demux_kind_name(k) != NULL);
    return 0;
}
