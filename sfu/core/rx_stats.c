#include "sfu/core/rx_stats.h"

/* RFC 3550 A.8: interarrival jitter, kept scaled by 16. */
void sfu_rx_stats_update(sfu_rx_stats *rx, uint64_t seq, uint32_t ts, uint32_t clock_rate, bool retransmission,
                         sfu_time now)
{
    if (!rx->started || seq < rx->base_seq) {
        if (!rx->started)
            rx->expected_prior = rx->received_prior = 0;
        rx->base_seq = seq;
        rx->started = true;
    }
    rx->received++;
    if (retransmission)
        return; /* its arrival time says nothing about the path's jitter */
    uint32_t arrival = (uint32_t)((now / 1000000) * clock_rate + (now % 1000000) * clock_rate / 1000000);
    int64_t transit = (int32_t)(arrival - ts);
    if (rx->have_transit) {
        int64_t d = transit - rx->transit;
        if (d < 0)
            d = -d;
        rx->jitter_q4 += (uint32_t)d - ((rx->jitter_q4 + 8) >> 4);
    }
    rx->transit = transit;
    rx->have_transit = true;
}

void sfu_rx_stats_handle_sr(sfu_rx_stats *rx, uint64_t ntp, sfu_time now)
{
    rx->lsr = sfu_ntp_mid32(ntp);
    rx->lsr_at = now;
}

/* RFC 3550 6.4.1 and A.3. */
bool sfu_rx_stats_block(sfu_rx_stats *rx, uint32_t ssrc, uint64_t highest, sfu_time now, sfu_rtcp_report_block *b)
{
    if (!rx->started)
        return false;
    uint64_t expected = highest - rx->base_seq + 1;
    int64_t lost = (int64_t)expected - (int64_t)rx->received;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    int64_t exp_int = (int64_t)(expected - rx->expected_prior);
    int64_t lost_int = exp_int - (int64_t)(rx->received - rx->received_prior);
    rx->expected_prior = expected;
    rx->received_prior = rx->received;
    *b = (sfu_rtcp_report_block){
        .ssrc = ssrc,
        .fraction_lost = exp_int > 0 && lost_int > 0 ? (uint8_t)((lost_int << 8) / exp_int) : 0,
        .cumulative_lost = (int32_t)lost,
        .ext_highest_seq = (uint32_t)(highest - 0x10000), /* see sfu_seq_unwrap */
        .jitter = rx->jitter_q4 >> 4,
        .lsr = rx->lsr,
        .dlsr = rx->lsr ? sfu_rtcp_dlsr_from_us(now - rx->lsr_at) : 0,
    };
    return true;
}
