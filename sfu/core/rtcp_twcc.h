/* Transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 3.1): RTPFB FMT 15.
 *
 * Layout after the two SSRCs: base sequence number (16), packet status
 * count (16), reference time (24, 64 ms units), feedback packet
 * count (8), packet status chunks (16 bits each: run-length or status
 * vector), then one receive delta per received packet (8 bits unsigned
 * "small" or 16 bits signed "large", in 250 us units), zero-padded to
 * 32 bits. */
#ifndef SFU_CORE_RTCP_TWCC_H
#define SFU_CORE_RTCP_TWCC_H

#include "sfu/core/rtcp.h"

#define SFU_TWCC_TICK_US 250
#define SFU_TWCC_REF_US 64000
#define SFU_TWCC_HEADER_LEN 20  /* common header, SSRCs, base .. fb count */

/* Parsed: one entry per reported sequence number, received or not. */
typedef struct sfu_twcc_packet {
    uint16_t seq16;
    bool received;
    int32_t delta_ticks;        /* 250 us units, from the previous received one */
    int64_t arrival_us;         /* reference_time * 64000 + all deltas so far */
} sfu_twcc_packet;

typedef struct sfu_twcc_feedback {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    uint16_t base_seq16;
    uint16_t status_count;      /* sequence numbers the packet reports */
    uint32_t reference_time;    /* 24 bits, 64 ms units, wraps every 2^24 */
    uint8_t fb_count;
    uint16_t packet_count;      /* entries stored: min(status_count, cap) */
    uint16_t received_count;    /* received among all status_count */
} sfu_twcc_feedback;

/* Parses and validates the whole packet (every chunk and delta within the
 * body, status count > 0, no reserved symbol) and stores the first `cap`
 * entries into pkts. -SFU_EINVAL for another type. */
int sfu_twcc_parse(const sfu_rtcp_common *c, sfu_twcc_feedback *fb, sfu_twcc_packet *pkts,
                   size_t cap);

/* One received packet, as the receiver recorded it. */
typedef struct sfu_twcc_arrival {
    uint16_t seq16;             /* transport-wide sequence number */
    sfu_time arrival;           /* microseconds, any monotonic base */
} sfu_twcc_arrival;

typedef struct sfu_twcc_build_args {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    uint8_t fb_count;           /* feedback packet count, +1 per packet sent */
    uint16_t base_seq16;        /* first sequence number to report: those
                                   before arr[0] are reported lost */
} sfu_twcc_build_args;

/* Builds one feedback packet of at most `cap` bytes from base_seq16 up to
 * the last arrival of the longest prefix of arr[0..n) that fits (and whose
 * receive deltas fit in 16 bits); sequence numbers without an arrival are
 * reported as not received. The reference time is the first arrival's
 * time in 64 ms units; deltas are rounded to 250 us without accumulating
 * error. *used tells how many arrivals the packet covers. arr must be
 * sorted by seq16 in serial order without duplicates, starting at or after
 * base_seq16 and spanning less than 65536 numbers (-SFU_EINVAL otherwise,
 * or for n == 0); -SFU_ENOSPC when not even one arrival fits in `cap`.
 * Returns the bytes written. */
int sfu_twcc_build(uint8_t *dst, size_t cap, const sfu_twcc_build_args *args,
                   const sfu_twcc_arrival *arr, size_t n, size_t *used);

/* Builds as many packets as needed for all of arr, each at most `budget`
 * bytes, one after another into dst (a compound: sfu_rtcp_next finds the
 * boundaries). A budget of 48 bytes always fits one arrival after fewer
 * than 8192 unreported losses (each further 8191 take 2 bytes more); an
 * MTU-sized budget never fails. On success args->fb_count has advanced by the number of
 * packets and args->base_seq16 is one past the last arrival, ready for the
 * next call; on failure args is unchanged. Returns the total bytes, or
 * -SFU_ENOSPC when dst is too small for all of them. */
int sfu_twcc_build_all(uint8_t *dst, size_t cap, size_t budget, sfu_twcc_build_args *args,
                       const sfu_twcc_arrival *arr, size_t n);

#endif
