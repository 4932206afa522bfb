/* Receive statistics of one RTP stream, as a receiver report states them
 * (RFC 3550 6.4.1, A.3 and A.8): packets expected and received (in total and
 * since the last report), interarrival jitter, and the last SR's time for
 * LSR/DLSR. Sans-IO; embedded in a producer's layer. */
#ifndef SFU_CORE_RX_STATS_H
#define SFU_CORE_RX_STATS_H

#include "sfu/core/common.h"
#include "sfu/core/rtcp_sr_rr.h"

typedef struct sfu_rx_stats {
    bool started;
    uint64_t base_seq;
    uint64_t received;
    uint64_t expected_prior, received_prior;
    bool have_transit;
    int64_t transit;
    uint32_t jitter_q4;         /* jitter * 16 */
    uint32_t lsr;               /* middle 32 bits of the last SR's NTP time */
    sfu_time lsr_at;
} sfu_rx_stats;

/* Packet `seq` (extended) with RTP time `ts` arrived at `now`; a
 * retransmission counts as received but says nothing about jitter. */
void sfu_rx_stats_update(sfu_rx_stats *rx, uint64_t seq, uint32_t ts, uint32_t clock_rate, bool retransmission,
                         sfu_time now);
/* The sender's SR with NTP time `ntp` arrived at `now`. */
void sfu_rx_stats_handle_sr(sfu_rx_stats *rx, uint64_t ntp, sfu_time now);
/* The report block for `ssrc` whose highest extended sequence number is
 * `highest` (see sfu_seq_unwrap); starts the next reporting interval.
 * False before the first packet. */
bool sfu_rx_stats_block(sfu_rx_stats *rx, uint32_t ssrc, uint64_t highest, sfu_time now, sfu_rtcp_report_block *b);

#endif
