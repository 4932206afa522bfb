/* RFC 7983 3: the first byte decides. ZRTP (16..19) and TURN channels
 * (64..79) never arrive here: we offer neither, so they are dropped. */
#include "sfu/core/demux.h"

sfu_demux_kind sfu_demux_classify(const uint8_t *pkt, size_t len)
{
    if (!pkt || len < 1)
        return SFU_DEMUX_DROP;
    uint8_t b = pkt[0];
    if (b <= 3)
        return len >= SFU_DEMUX_MIN_STUN ? SFU_DEMUX_STUN : SFU_DEMUX_DROP;
    if (b >= 20 && b <= 63)
        return len >= SFU_DEMUX_MIN_DTLS ? SFU_DEMUX_DTLS : SFU_DEMUX_DROP;
    if (b < 128 || b > 191 || len < 2)
        return SFU_DEMUX_DROP;
    if (sfu_demux_is_rtcp(pkt[1]))
        return len >= SFU_DEMUX_MIN_RTCP ? SFU_DEMUX_RTCP : SFU_DEMUX_DROP;
    return len >= SFU_DEMUX_MIN_RTP ? SFU_DEMUX_RTP : SFU_DEMUX_DROP;
}

const char *sfu_demux_kind_name(sfu_demux_kind kind)
{
    switch (kind) {
    case SFU_DEMUX_STUN: return "stun";
    case SFU_DEMUX_DTLS: return "dtls";
    case SFU_DEMUX_RTP: return "rtp";
    case SFU_DEMUX_RTCP: return "rtcp";
    case SFU_DEMUX_DROP: break;
    }
    return "drop";
}
