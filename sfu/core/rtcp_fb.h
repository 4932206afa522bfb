/* Feedback messages: generic NACK (RFC 4585 6.2.1), PLI (RFC 4585 6.3.1),
 * FIR (RFC 5104 4.3.1) and REMB (draft-alvestrand-rmcat-remb-03 2.2).
 * Every feedback packet starts with the sender's and the media source's
 * SSRC (RFC 4585 6.1). */
#ifndef SFU_CORE_RTCP_FB_H
#define SFU_CORE_RTCP_FB_H

#include "sfu/core/rtcp.h"

#define SFU_RTCP_MAX_NACK_SEQS 512
#define SFU_RTCP_MAX_FIR 16
#define SFU_RTCP_MAX_REMB_SSRCS 16

/* The two SSRCs of any RTPFB / PSFB packet; -SFU_EMALFORMED when shorter. */
int sfu_rtcp_fb_parse_ssrcs(const sfu_rtcp_common *c, uint32_t *sender_ssrc,
                            uint32_t *media_ssrc);

/* Generic NACK, PID/BLP pairs expanded into sequence numbers in packet
 * order. Sequence numbers past SFU_RTCP_MAX_NACK_SEQS are dropped and
 * `truncated` is set. */
typedef struct sfu_rtcp_nack {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    bool truncated;
    uint16_t count;
    uint16_t seq16[SFU_RTCP_MAX_NACK_SEQS];
} sfu_rtcp_nack;

/* RTPFB FMT 1 with at least one FCI; -SFU_EINVAL for another type. */
int sfu_rtcp_nack_parse(const sfu_rtcp_common *c, sfu_rtcp_nack *nack);
/* Packs `count` (>= 1) sequence numbers, in any order, into PID/BLP pairs:
 * each number joins the first pair whose PID is at most 16 below it, else
 * starts a new pair. Passing them in ascending order gives the fewest pairs. */
int sfu_rtcp_nack_build(uint8_t *dst, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                        const uint16_t *seq16, size_t count);

/* PLI: PSFB FMT 1, no FCI. Parse checks the type and length. */
int sfu_rtcp_pli_parse(const sfu_rtcp_common *c, uint32_t *sender_ssrc, uint32_t *media_ssrc);
int sfu_rtcp_pli_build(uint8_t *dst, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);

/* FIR: one entry per media sender asked for a keyframe, each with the
 * requester's own 8-bit command sequence number (RFC 5104 4.3.1.1: the
 * same number for a repeat, +1 for a new request). The common media SSRC
 * is 0. */
typedef struct sfu_rtcp_fir_entry {
    uint32_t ssrc;
    uint8_t seq_nr;
} sfu_rtcp_fir_entry;

typedef struct sfu_rtcp_fir {
    uint32_t sender_ssrc;
    bool truncated;             /* more entries than SFU_RTCP_MAX_FIR */
    uint8_t count;
    sfu_rtcp_fir_entry entries[SFU_RTCP_MAX_FIR];
} sfu_rtcp_fir;

int sfu_rtcp_fir_parse(const sfu_rtcp_common *c, sfu_rtcp_fir *fir);
/* count 1..SFU_RTCP_MAX_FIR. */
int sfu_rtcp_fir_build(uint8_t *dst, size_t cap, uint32_t sender_ssrc,
                       const sfu_rtcp_fir_entry *entries, size_t count);

/* REMB: PSFB FMT 15 whose FCI starts with "REMB". */
typedef struct sfu_rtcp_remb {
    uint32_t sender_ssrc;
    uint64_t bitrate_bps;       /* mantissa << exp, saturated at UINT64_MAX */
    bool truncated;             /* more SSRCs than SFU_RTCP_MAX_REMB_SSRCS */
    uint8_t ssrc_count;         /* SSRCs stored */
    uint32_t ssrcs[SFU_RTCP_MAX_REMB_SSRCS];
} sfu_rtcp_remb;

/* -SFU_EUNSUPPORTED for an AFB message that is not REMB, -SFU_EINVAL for
 * another type, -SFU_EMALFORMED when the SSRC list overruns. */
int sfu_rtcp_remb_parse(const sfu_rtcp_common *c, sfu_rtcp_remb *remb);
/* The bitrate is rounded down to 18 bits of mantissa. count 0..255. */
int sfu_rtcp_remb_build(uint8_t *dst, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps,
                        const uint32_t *ssrcs, size_t count);

#endif
