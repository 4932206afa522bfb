/* Loss windows, inherent loss and the check of each loss-based cut (see
 * bwe_loss.h for the rule). */
#include "sfu/core/bwe_loss.h"

#include <math.h>
#include <string.h>

#define CUT_FACTOR 0.9
#define SUSPECT_MARGIN 0.05         /* above 2 L */
#define SUSPECT_MARGIN_APP_LIMITED 0.15
#define NOISE_FLOOR 0.05            /* the noise term assumes at least this loss */
#define APP_LIMITED 0.8             /* sent below this share of the estimate */
#define INHERENT_WEIGHT 0.2         /* per window judged not congested */
#define PERSIST_MIN 0.02            /* less loss than this after a cut: it went away */
#define PERSIST_SHARE 0.2           /* it "stayed" when this share of it remains */
#define PROPORTIONAL 1.2            /* delivered fell at least about as much as sent */
#define INHERENT_MAX 0.5
#define RESTORE_MAX 0.3             /* no restore that would learn more loss than this */
#define FOLLOWED 0.9                /* the send rate fell below this share: the cut was obeyed */

void sfu_bwe_loss_init(sfu_bwe_loss *l)
{
    memset(l, 0, sizeof *l);
}

void sfu_bwe_loss_handle_packet(sfu_bwe_loss *l, sfu_time sent_at, size_t size_bytes,
                                bool received, sfu_time arrival)
{
    if (l->checking && sent_at < l->cut_at + SFU_BWE_LOSS_CHECK_SETTLE)
        return;
    sfu_bwe_loss_window *w = &l->win;
    if (w->packets == 0) {
        w->first_send = w->last_send = sent_at;
    } else {
        if (sent_at < w->first_send)
            w->first_send = sent_at;
        if (sent_at > w->last_send)
            w->last_send = sent_at;
    }
    w->packets++;
    w->bytes_sent += size_bytes;
    if (!received) {
        w->lost++;
        if (!w->have_loss) {
            w->have_loss = true;
            w->loss_send = sent_at;
        }
        return;
    }
    if (w->have_loss && sent_at > w->loss_send) {
        if (w->after_packets++ == 0) {
            w->after_first_arrival = w->after_last_arrival = arrival;
        } else {
            w->after_bytes += size_bytes;   /* the first one's bytes came before its arrival */
            if (arrival < w->after_first_arrival)
                w->after_first_arrival = arrival;
            if (arrival > w->after_last_arrival)
                w->after_last_arrival = arrival;
        }
    }
    if (w->bytes_received == 0) {
        w->first_arrival = w->last_arrival = arrival;
    } else {
        if (arrival < w->first_arrival)
            w->first_arrival = arrival;
        if (arrival > w->last_arrival)
            w->last_arrival = arrival;
    }
    w->bytes_received += size_bytes;
}

/* Bytes received over their arrival span: of the packets sent after the
 * window's first loss when enough of them arrived (bwe_loss.h), else of the
 * whole window; the send span when the packets arrived too close together
 * to measure (or none arrived: 0). */
static bool after_known(const sfu_bwe_loss_window *w)
{
    return w->after_packets >= SFU_BWE_LOSS_AFTER_MIN_PACKETS &&
           w->after_last_arrival - w->after_first_arrival >= SFU_BWE_LOSS_AFTER_MIN_SPAN;
}

static uint64_t delivered_bps(const sfu_bwe_loss_window *w)
{
    if (after_known(w))
        return w->after_bytes * 8 * 1000000 / (uint64_t)(w->after_last_arrival - w->after_first_arrival);
    sfu_time span = w->last_arrival - w->first_arrival;
    if (span < SFU_MS(50))
        span = w->last_send - w->first_send;
    if (span < SFU_MS(50))
        span = SFU_MS(50);
    return w->bytes_received * 8 * 1000000 / (uint64_t)span;
}

void sfu_bwe_loss_handle_timeout(sfu_bwe_loss *l, sfu_time now)
{
    if (!l->checking || now - l->cut_at <= SFU_BWE_LOSS_CHECK_TIMEOUT)
        return;
    /* Too little was sent after the cut to check it (the cut paused the
     * video): the cut stands, and probes, which allow for the path's
     * random loss, find out whether more fits. Restoring instead would
     * resume video into a link too slow for it, again and again. */
    l->checking = false;
    memset(&l->win, 0, sizeof l->win);
}

static void arm_check(sfu_bwe_loss *l, double p, uint64_t sent, uint64_t delivered, sfu_time now)
{
    l->checking = true;
    l->cut_at = now;
    l->cut_fraction = p;
    l->cut_sent_bps = sent;
    l->cut_delivered_bps = delivered;
}

/* The window after a cut decides: random loss stays at about the same
 * fraction and the delivered rate falls with the send rate; congestion
 * loss shrinks as the send rate falls, and what is delivered stays near
 * the bottleneck's rate. */
static sfu_bwe_loss_verdict check_cut(sfu_bwe_loss *l, double p, uint64_t sent,
                                      uint64_t delivered, uint64_t estimate_bps, sfu_time now,
                                      uint64_t *bps)
{
    /* Random loss does not grow when we send less either. */
    bool stayed = p >= PERSIST_MIN && p >= PERSIST_SHARE * l->cut_fraction &&
                  p <= 2 * l->cut_fraction + SUSPECT_MARGIN;
    double sent_ratio = l->cut_sent_bps ? (double)sent / (double)l->cut_sent_bps : 1;
    /* A sender that has not yet followed the cut (an SFU switches layers
     * only at a keyframe) tells nothing: loss that stayed at an unchanged
     * send rate is what a policer does too. Check the next window; without
     * one before the check timeout the cut stands. */
    if (stayed && sent_ratio > FOLLOWED && now - l->cut_at <= SFU_BWE_LOSS_CHECK_TIMEOUT)
        return SFU_BWE_LOSS_NONE;
    l->checking = false;
    double delivered_ratio = l->cut_delivered_bps ? (double)delivered / (double)l->cut_delivered_bps : 1;
    bool proportional = delivered_ratio <= PROPORTIONAL * sent_ratio;
    double learned = (p + l->cut_fraction) / 2;
    /* So much loss is not taken for the path's own on one check: a window
     * that straddled the start of a policer overstates what was delivered
     * at the cut, and the policer's loss at the lower rate then looks as if
     * it fell in proportion. Further cuts find out. */
    if (stayed && proportional && learned <= RESTORE_MAX) {
        l->inherent = learned > INHERENT_MAX ? INHERENT_MAX : learned;
        l->restores++;
        *bps = l->cut_from_bps;
        return SFU_BWE_LOSS_RESTORE;
    }
    if (p > 2 * l->inherent + SUSPECT_MARGIN) {
        /* Still losing, not in proportion: the first cut measured a window
         * that straddled a drop in capacity. Cut again by this window's
         * delivered rate, and check again; a later restore still goes back
         * to the rate before the first cut. */
        uint64_t to = (uint64_t)(CUT_FACTOR * (double)delivered);
        if (to < estimate_bps) {
            arm_check(l, p, sent, delivered, now);
            l->cuts++;
            *bps = to;
            return SFU_BWE_LOSS_CUT;
        }
    }
    l->confirmed++;
    return SFU_BWE_LOSS_CONFIRMED;
}

sfu_bwe_loss_verdict sfu_bwe_loss_update(sfu_bwe_loss *l, uint64_t estimate_bps, sfu_time now,
                                         uint64_t *bps)
{
    sfu_bwe_loss_window *w = &l->win;
    sfu_bwe_loss_handle_timeout(l, now);
    sfu_time send_span = w->last_send - w->first_send;
    /* A check needs more packets: a cut's check misjudged costs more. */
    uint32_t min_packets = l->checking ? SFU_BWE_LOSS_CHECK_PACKETS : SFU_BWE_LOSS_MIN_PACKETS;
    if (w->packets < min_packets && send_span > SFU_BWE_LOSS_MAX_SPAN) {
        memset(w, 0, sizeof *w);    /* too sparse to judge (paused video, lone probes) */
        return SFU_BWE_LOSS_NONE;
    }
    /* A burst of heavy loss is judged at once, once the delivered rate after
     * its first loss can be told: a policer that has just run dry (random
     * loss gives windows of half their packets lost almost never). */
    bool early = !l->checking && w->lost >= SFU_BWE_LOSS_EARLY_LOST &&
                 (double)w->lost >= SFU_BWE_LOSS_EARLY_FRACTION * w->packets &&
                 w->after_packets >= SFU_BWE_LOSS_AFTER_MIN_PACKETS &&
                 w->after_last_arrival - w->after_first_arrival >= SFU_BWE_LOSS_AFTER_MIN_SPAN;
    if (!early && (w->packets < min_packets || send_span < SFU_BWE_LOSS_MIN_SPAN))
        return SFU_BWE_LOSS_NONE;
    if (send_span < SFU_MS(50))
        send_span = SFU_MS(50);
    /* Sending well below the estimate: the delay detector has seen the path
     * carry more than this without a queue, so only heavy loss here says
     * the path is full (a policer, which keeps no queue). */
    uint64_t sent_bps = w->bytes_sent * 8 * 1000000 / (uint64_t)send_span;
    bool app_limited = (double)sent_bps < APP_LIMITED * (double)estimate_bps;
    double p = (double)w->lost / w->packets;
    uint32_t n = w->packets;
    /* Twice the binomial noise of a window this size at the inherent loss
     * on top: a window is a small sample. */
    double base = l->inherent > NOISE_FLOOR ? l->inherent : NOISE_FLOOR;
    double noise = 2 * sqrt(base * (1 - base) / n);
    double suspect = 2 * l->inherent + noise +
                     (app_limited ? SUSPECT_MARGIN_APP_LIMITED : SUSPECT_MARGIN);
    /* A window that would cut but whose first loss came too late to tell
     * the delivered rate after it waits for more feedback: its whole-window
     * rate counts what a policer's bucket let through before it ran dry
     * (a first cut to 860k behind a 250k policer, one layer too high). */
    if (!l->checking && !l->queue_seen && p > suspect && !after_known(w) && send_span < SFU_BWE_LOSS_AFTER_WAIT)
        return SFU_BWE_LOSS_NONE;
    uint64_t delivered = delivered_bps(w);
    l->last_fraction = p;
    l->last_delivered_bps = delivered;
    memset(w, 0, sizeof *w);
    if (l->checking)
        return check_cut(l, p, sent_bps, delivered, estimate_bps, now, bps);
    if (p > suspect) {
        uint64_t to = (uint64_t)(CUT_FACTOR * (double)delivered);
        if (to < estimate_bps) {
            arm_check(l, p, sent_bps, delivered, now);
            l->cut_from_bps = estimate_bps;
            l->cuts++;
            *bps = to;
            return SFU_BWE_LOSS_CUT;
        }
        return SFU_BWE_LOSS_NONE;
    }
    l->inherent = (1 - INHERENT_WEIGHT) * l->inherent + INHERENT_WEIGHT * p;
    if (l->inherent > INHERENT_MAX)
        l->inherent = INHERENT_MAX;     /* beyond this a path is no use anyway */
    return SFU_BWE_LOSS_NONE;
}
