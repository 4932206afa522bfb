#include "sfu/core/rx_coalesce.h"

void sfu_rx_coalesce_init(sfu_rx_coalesce *c, sfu_time window_us)
{
    *c = (sfu_rx_coalesce){ .window_us = window_us > 0 ? window_us : 0 };
}

void sfu_rx_coalesce_note(sfu_rx_coalesce *c, sfu_time now, uint32_t dgrams, bool backlog)
{
    c->backlog = backlog;
    if (!c->started) {
        c->started = true;
        c->period_start = now;
    }
    c->period_dgrams += dgrams;
    sfu_time elapsed = now - c->period_start;
    if (elapsed < SFU_RX_COALESCE_PERIOD_US)
        return;
    /* After a quiet stretch the period is long and the rate low: a burst
     * after silence is read at once. */
    uint64_t rate = (uint64_t)c->period_dgrams * 1000000u / (uint64_t)elapsed;
    c->rate = rate > UINT32_MAX ? UINT32_MAX : (uint32_t)rate;
    c->period_start = now;
    c->period_dgrams = 0;
}

sfu_time sfu_rx_coalesce_until(const sfu_rx_coalesce *c, sfu_time woke, sfu_time deadline)
{
    if (c->window_us <= 0 || c->backlog)
        return 0;
    /* Expected datagrams per window: rate x window >= MIN_BATCH. */
    if ((uint64_t)c->rate * (uint64_t)c->window_us < (uint64_t)SFU_RX_COALESCE_MIN_BATCH * 1000000u)
        return 0;
    sfu_time until = woke + c->window_us;
    return until < deadline ? until : deadline;
}
