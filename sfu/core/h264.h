/* What an H.264 RTP payload (RFC 6184, packetization-mode 0 or 1) carries,
 * for keyframe gating: SPS, PPS, and the start of an IDR slice. */
#ifndef SFU_CORE_H264_H
#define SFU_CORE_H264_H

#include "sfu/core/common.h"

/* NAL unit types (H.264 7.4.1) and RTP packet types (RFC 6184 5.2). */
enum {
    SFU_H264_NAL_IDR = 5,
    SFU_H264_NAL_SPS = 7,
    SFU_H264_NAL_PPS = 8,
    SFU_H264_STAP_A = 24,
    SFU_H264_FU_A = 28,
};

typedef struct sfu_h264_info {
    uint8_t packet_type;        /* 1..23 single NAL, 24 STAP-A, 28 FU-A */
    uint8_t nal_count;          /* NAL units whole in the packet (STAP-A: its
                                   aggregates, saturating at 255; FU-A: 0) */
    bool has_sps;               /* an SPS, whole or starting in this FU-A */
    bool has_pps;
    bool idr_start;             /* a whole IDR slice or the first FU-A fragment of one */
    bool fu_start;              /* FU-A: S bit */
    bool fu_end;                /* FU-A: E bit */
    uint8_t fu_nal_type;        /* FU-A: the fragmented NAL unit's type */
} sfu_h264_info;

/* Parses the payload's structure. -SFU_EMALFORMED on an empty payload, an
 * STAP-A whose sizes do not add up or hold an empty NAL unit, or an FU-A
 * without its FU header; -SFU_EUNSUPPORTED for the interleaved-mode types
 * (STAP-B, MTAP16/24, FU-B) and the undefined types 0, 30, 31. */
int sfu_h264_parse(const uint8_t *payload, size_t len, sfu_h264_info *info);

/* A packet a new viewer can start on: it carries an SPS or begins an IDR.
 * Callers that want SPS and PPS before the IDR check the fields instead. */
static inline bool sfu_h264_is_keyframe(const sfu_h264_info *info)
{
    return info->has_sps || info->idr_start;
}

#endif
