#include "sfu/core/sink_repair.h"

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
    uint16_t ahead = (uint16_t)(seq16 - r->newest_sent16);
    r->nacked_bits = ahead < 64 ? r->nacked_bits << ahead : 0;
    r->newest_sent16 = seq16;
    r->cusum = r->cusum > SFU_SINK_REPAIR_CUSUM_SENT ? r->cusum - SFU_SINK_REPAIR_CUSUM_SENT : 0;
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
    uint32_t fresh = 0;
    for (size_t i = 0; i < n; i++) {
        /* Random loss is found at once (the next packet shows the gap);
         * packets far behind were lost in an outage (or never sent). */
        uint16_t behind = (uint16_t)(r->newest_sent16 - seq16[i]);
        if (behind >= 64 || (r->nacked_bits >> behind & 1))
            continue; /* far behind, or asked again: counted once */
        r->nacked_bits |= (uint64_t)1 << behind;
        fresh += behind < SFU_SINK_REPAIR_WINDOW;
    }
    r->window_nacked += fresh < SFU_SINK_REPAIR_NACK_BURST ? fresh : SFU_SINK_REPAIR_NACK_BURST;
    /* More than a burst at once is an outage (its NACK may come in several
     * RTCP packets): not random loss, no evidence for the onset test. */
    if (fresh == 0 || fresh > SFU_SINK_REPAIR_NACK_BURST || r->copies >= 2)
        return;
    r->cusum += SFU_SINK_REPAIR_CUSUM_NACKED *
                (int32_t)(fresh < SFU_SINK_REPAIR_CUSUM_BURST ? fresh : SFU_SINK_REPAIR_CUSUM_BURST);
    if (r->cusum >= SFU_SINK_REPAIR_CUSUM_ALARM) {
        r->copies = 2;
        r->quiet = 0; /* the windows before the onset were clean */
        r->cusum = 0;
        r->onsets++;
    }
}

bool sfu_sink_repair_unasked_wanted(const sfu_sink_repair *r, uint16_t seq16)
{
    uint16_t behind = (uint16_t)(r->newest_sent16 - seq16);
    return behind < 64 && !(r->nacked_bits >> behind & 1);
}

uint8_t sfu_sink_repair_rtx_copies(const sfu_sink_repair *r)
{
    if (r->copies > 1 || r->loss_pm >= SFU_SINK_REPAIR_RTX3 ||
        (r->loss_pm < SFU_SINK_REPAIR_RTX2 && r->cusum >= 3 * SFU_SINK_REPAIR_CUSUM_NACKED))
        return 3;
    return r->loss_pm >= SFU_SINK_REPAIR_RTX2 ? 2 : 1;
}
