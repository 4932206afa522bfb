#include "sfu/core/sink_repair.h"

#include "sfu/core/rtp.h"

#include <string.h>

void sfu_sink_repair_init(sfu_sink_repair *r) { memset(r, 0, sizeof *r); }

bool sfu_sink_repair_unrecoverable(sfu_sink_repair *r, uint32_t epoch, uint64_t seq, sfu_time now)
{
    if (r->broken && r->epoch == epoch) {
        if (seq > r->broken_seq)
            r->broken_seq = seq;
        if (now - r->asked_at < SFU_SINK_REPAIR_REASK)
            return false; /* asked already; the keyframe may be on its way */
    } else {
        r->broken = true;
        r->epoch = epoch;
        r->broken_seq = seq;
    }
    r->asked_at = now;
    r->keyframes_asked++;
    return true;
}

void sfu_sink_repair_keyframe_sent(sfu_sink_repair *r, uint32_t epoch, uint64_t seq)
{
    if (r->broken && (r->epoch != epoch || seq > r->broken_seq))
        r->broken = false;
}

uint8_t sfu_sink_repair_on_forward(sfu_sink_repair *r, uint16_t seq16)
{
    r->newest_sent16 = seq16;
    if (++r->window_sent >= SFU_SINK_REPAIR_WINDOW) {
        uint32_t sample = r->window_nacked * 1000 / r->window_sent;
        if (sample > 1000)
            sample = 1000;
        /* smoothed over about four windows: one window's noise at 10 %
         * loss (a standard deviation of 5 %) does not turn the copies on */
        r->loss_pm = (uint16_t)((3u * r->loss_pm + sample) / 4);
        r->window_sent = r->window_nacked = 0;
        r->quiet = r->loss_pm >= SFU_SINK_REPAIR_DUP_OFF ? 0 : r->quiet < 255 ? r->quiet + 1 : 255;
        if (r->copies < 2 && r->loss_pm >= SFU_SINK_REPAIR_DUP_ON)
            r->copies = 2;
        else if (r->copies >= 2 && r->quiet >= SFU_SINK_REPAIR_QUIET)
            r->copies = 1;
    }
    return r->copies > 1 ? r->copies : 1;
}

void sfu_sink_repair_on_nack(sfu_sink_repair *r, const uint16_t *seq16, size_t n)
{
    uint32_t counted = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->have_nacked && !sfu_seq16_newer(seq16[i], r->newest_nacked16))
            continue; /* asked again, or an older one: counted once */
        r->have_nacked = true;
        r->newest_nacked16 = seq16[i];
        /* Random loss is found at once (the next packet shows the gap);
         * packets far behind were lost in an outage. */
        if ((uint16_t)(r->newest_sent16 - seq16[i]) < SFU_SINK_REPAIR_WINDOW &&
            counted < SFU_SINK_REPAIR_NACK_BURST)
            counted++;
    }
    r->window_nacked += counted;
}

uint8_t sfu_sink_repair_rtx_copies(const sfu_sink_repair *r)
{
    if (r->copies > 1 || r->loss_pm >= SFU_SINK_REPAIR_RTX3)
        return 3;
    return r->loss_pm >= SFU_SINK_REPAIR_RTX2 ? 2 : 1;
}
