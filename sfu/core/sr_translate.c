#include "sfu/core/sr_translate.h"

#include <string.h>

void sfu_sr_translate_init(sfu_sr_translate *t, uint32_t clock_rate)
{
    memset(t, 0, sizeof *t);
    t->clock_rate = clock_rate ? clock_rate : 90000;
}

void sfu_sr_translate_handle_sr(sfu_sr_translate *t, uint64_t ntp, uint32_t rtp_ts, sfu_time now)
{
    t->have_sr = true;
    t->ntp = ntp;
    t->rtp_ts = rtp_ts;
    t->at = now;
}

int sfu_sr_translate_get(const sfu_sr_translate *t, sfu_time now, uint32_t ts_off, uint64_t *ntp,
                         uint32_t *rtp_ts)
{
    if (!t->have_sr)
        return -SFU_ESTATE;
    /* Elapsed time in both units; signed, in case `now` is the SR's own
     * arrival or (through a caller's mistake) before it. */
    int64_t us = now - t->at;
    int64_t mag = us < 0 ? -us : us;
    int64_t ntp_delta = (mag / 1000000) * ((int64_t)1 << 32) + ((mag % 1000000) << 32) / 1000000;
    if (us < 0)
        ntp_delta = -ntp_delta;
    int64_t ts_delta = us * (int64_t)t->clock_rate / 1000000;
    *ntp = t->ntp + (uint64_t)ntp_delta;
    *rtp_ts = t->rtp_ts + (uint32_t)ts_delta + ts_off;
    return 0;
}
