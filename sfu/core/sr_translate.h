/* Sender reports toward viewers (RFC 3550 6.4.1).
 *
 * A viewer needs an NTP-to-RTP mapping for each stream it receives to sync
 * audio with video. The SFU has no clock of the publisher's, so it keeps the
 * publisher's last SR (NTP time, RTP time, local arrival time) per source,
 * extrapolates both to `now`, and the viewer's RTP time is the publisher's
 * plus that viewer's timestamp offset (seq.h). Audio and video of one
 * publisher then share the publisher's NTP timeline, which is what lip sync
 * needs. Before the first publisher SR there is nothing to say. */
#ifndef SFU_CORE_SR_TRANSLATE_H
#define SFU_CORE_SR_TRANSLATE_H

#include "sfu/core/common.h"

typedef struct sfu_sr_translate {
    bool have_sr;
    uint32_t clock_rate;
    uint64_t ntp;               /* 32.32 from the publisher's last SR */
    uint32_t rtp_ts;
    sfu_time at;                /* when it arrived */
} sfu_sr_translate;

void sfu_sr_translate_init(sfu_sr_translate *t, uint32_t clock_rate);
void sfu_sr_translate_handle_sr(sfu_sr_translate *t, uint64_t ntp, uint32_t rtp_ts, sfu_time now);
/* The NTP and RTP time of `now` for a viewer whose timestamps are the
 * source's plus `ts_off`. -SFU_ESTATE before a publisher SR. */
int sfu_sr_translate_get(const sfu_sr_translate *t, sfu_time now, uint32_t ts_off, uint64_t *ntp,
                         uint32_t *rtp_ts);

#endif
