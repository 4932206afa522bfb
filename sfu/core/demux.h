/* Which protocol a datagram on the one ICE-selected 5-tuple belongs to:
 * RFC 7983 3 (first byte), then RTP vs RTCP per RFC 5761 4. */
#ifndef SFU_CORE_DEMUX_H
#define SFU_CORE_DEMUX_H

#include "sfu/core/common.h"

typedef enum sfu_demux_kind {
    SFU_DEMUX_DROP = 0,         /* unknown first byte, or too short for its kind */
    SFU_DEMUX_STUN,             /* 0..3 */
    SFU_DEMUX_DTLS,             /* 20..63 */
    SFU_DEMUX_RTP,              /* 128..191, second byte's PT not 64..95 */
    SFU_DEMUX_RTCP,             /* 128..191, packet type 192..223 */
} sfu_demux_kind;

/* Shorter than these cannot be the kind: drop rather than hand on. */
#define SFU_DEMUX_MIN_STUN 20   /* RFC 8489 5: the STUN header */
#define SFU_DEMUX_MIN_DTLS 13   /* RFC 6347 4.1: the DTLS record header */
#define SFU_DEMUX_MIN_RTP 12    /* RFC 3550 5.1 */
#define SFU_DEMUX_MIN_RTCP 8    /* RFC 3550 6.4: header and sender SSRC */

sfu_demux_kind sfu_demux_classify(const uint8_t *pkt, size_t len);

/* RFC 5761 4: with the marker bit masked, payload types 64..95 collide with
 * RTCP packet types 192..223, so such a second byte means RTCP. */
static inline bool sfu_demux_is_rtcp(uint8_t second_byte)
{
    uint8_t pt = second_byte & 0x7f;
    return pt >= 64 && pt <= 95;
}

const char *sfu_demux_kind_name(sfu_demux_kind kind);

#endif
