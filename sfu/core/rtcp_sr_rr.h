/* Sender and receiver reports with their report blocks (RFC 3550 6.4), and
 * the NTP timestamp arithmetic they use (RFC 3550 4, 6.4.1). */
#ifndef SFU_CORE_RTCP_SR_RR_H
#define SFU_CORE_RTCP_SR_RR_H

#include "sfu/core/rtcp.h"

#define SFU_RTCP_MAX_REPORTS 31 /* the 5-bit RC field */

/* RFC 3550 6.4.1 report block. */
typedef struct sfu_rtcp_report_block {
    uint32_t ssrc;              /* the source this block reports on */
    uint8_t fraction_lost;      /* fixed point, /256 */
    int32_t cumulative_lost;    /* 24-bit signed: duplicates can make it negative */
    uint32_t ext_highest_seq;   /* cycles << 16 | highest seq16 */
    uint32_t jitter;            /* RTP timestamp units */
    uint32_t lsr;               /* middle 32 bits of the last SR's NTP time, 0 if none */
    uint32_t dlsr;              /* delay since that SR, 1/65536 s */
} sfu_rtcp_report_block;

typedef struct sfu_rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp;               /* 32.32 fixed point seconds since 1900 */
    uint32_t rtp_ts;            /* the same instant on the RTP clock */
    uint32_t packet_count;
    uint32_t octet_count;
    uint8_t report_count;
    sfu_rtcp_report_block reports[SFU_RTCP_MAX_REPORTS];
} sfu_rtcp_sr;

typedef struct sfu_rtcp_rr {
    uint32_t ssrc;
    uint8_t report_count;
    sfu_rtcp_report_block reports[SFU_RTCP_MAX_REPORTS];
} sfu_rtcp_rr;

/* Parse an SR / RR whose common header sfu_rtcp_next returned. A body
 * shorter than the report count says is -SFU_EMALFORMED; bytes after the
 * report blocks (profile-specific extensions) are ignored. A packet of the
 * wrong type is -SFU_EINVAL. */
int sfu_rtcp_sr_parse(const sfu_rtcp_common *c, sfu_rtcp_sr *sr);
int sfu_rtcp_rr_parse(const sfu_rtcp_common *c, sfu_rtcp_rr *rr);

/* Build; return the bytes written, -SFU_ENOSPC, or -SFU_EINVAL for a
 * report_count above 31. */
int sfu_rtcp_sr_build(uint8_t *dst, size_t cap, const sfu_rtcp_sr *sr);
int sfu_rtcp_rr_build(uint8_t *dst, size_t cap, const sfu_rtcp_rr *rr);

/* NTP helpers. The core never reads the clock: the shell passes wall-clock
 * time as microseconds since the Unix epoch. */
uint64_t sfu_ntp_from_unix_us(int64_t unix_us);
int64_t sfu_ntp_to_unix_us(uint64_t ntp);
/* The middle 32 bits of an NTP timestamp: the LSR field (RFC 3550 6.4.1). */
static inline uint32_t sfu_ntp_mid32(uint64_t ntp) { return (uint32_t)(ntp >> 16); }
/* A delay in microseconds as DLSR, 1/65536 s units (negative gives 0). */
uint32_t sfu_rtcp_dlsr_from_us(sfu_time delay);
sfu_time sfu_rtcp_dlsr_to_us(uint32_t dlsr);
/* Round-trip time from a report block (RFC 3550 6.4.1, figure 2):
 * arrival (as NTP middle 32 bits) - LSR - DLSR, in microseconds. Returns -1
 * when lsr is 0 (no SR received yet) or the result would be negative. */
sfu_time sfu_rtcp_rtt_us(uint32_t arrival_mid32, uint32_t lsr, uint32_t dlsr);

#endif
