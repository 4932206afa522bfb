/* Loss windows, inherent loss and the check of each loss-based cut (see
 * bwe_loss.h for the rule). */
#include "sfu/core/bwe_loss.h"

#include <string.h>

#define CUT_FACTOR 0.9
#define SUSPECT_MARGIN 0.05         /* above 2 L */
#define OVERUSE_MARGIN 0.02         /* above L, with a growing queue */
#define INHERENT_WEIGHT 0.2         /* per window judged not congested */
#define PERSIST_SHARE 0.5           /* the loss "stayed" when at least this share of it remains */
#define PERSIST_MIN 0.02
#define DELIVERED_DROP 0.93         /* the delivered rate "dropped" below this share of before */
#define INHERENT_MAX 0.5

void sfu_bwe_loss_init(sfu_bwe_loss *l)
{
    memset(l, 0, sizeof *l);
}

void sfu_bwe_loss_handle_packet(sfu_bwe_loss *l, sfu_time sent_at, size_t size_bytes,
                                bool received, sfu_time arrival)
{
    if (l->checking && sent_at < l->cut_at)
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
        return;
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

/* Bytes received over their arrival span; the send span when the packets
 * arrived too close together to measure (or none arrived: 0). */
static uint64_t delivered_bps(const sfu_bwe_loss_window *w)
{
    sfu_time span = w->last_arrival - w->first_arrival;
    if (span < SFU_MS(50))
        span = w->last_send - w->first_send;
    if (span < SFU_MS(50))
        span = SFU_MS(50);
    return w->bytes_received * 8 * 1000000 / (uint64_t)span;
}

static sfu_bwe_loss_verdict check_cut(sfu_bwe_loss *l, double p, uint64_t delivered,
                                      uint64_t *bps)
{
    l->checking = false;
    bool stayed = p >= PERSIST_MIN && p >= PERSIST_SHARE * l->cut_fraction;
    bool delivered_dropped = (double)delivered < DELIVERED_DROP * (double)l->cut_delivered_bps;
    if (stayed && delivered_dropped) {
        double learned = (p + l->cut_fraction) / 2;
        l->inherent = learned > INHERENT_MAX ? INHERENT_MAX : learned;
        l->restores++;
        *bps = l->cut_from_bps;
        return SFU_BWE_LOSS_RESTORE;
    }
    return SFU_BWE_LOSS_NONE;
}

sfu_bwe_loss_verdict sfu_bwe_loss_update(sfu_bwe_loss *l, uint64_t estimate_bps, bool overuse,
                                         sfu_time now, uint64_t *bps)
{
    sfu_bwe_loss_window *w = &l->win;
    if (l->checking && now - l->cut_at > SFU_BWE_LOSS_CHECK_TIMEOUT) {
        l->checking = false;    /* nothing was sent to check with: the cut stands */
        memset(w, 0, sizeof *w);
    }
    if (w->packets < SFU_BWE_LOSS_MIN_PACKETS || w->last_send - w->first_send < SFU_BWE_LOSS_MIN_SPAN)
        return SFU_BWE_LOSS_NONE;
    double p = (double)w->lost / w->packets;
    uint64_t delivered = delivered_bps(w);
    l->last_fraction = p;
    l->last_delivered_bps = delivered;
    memset(w, 0, sizeof *w);
    if (l->checking)
        return check_cut(l, p, delivered, bps);
    double suspect = 2 * l->inherent + SUSPECT_MARGIN;
    if (overuse && l->inherent + OVERUSE_MARGIN < suspect)
        suspect = l->inherent + OVERUSE_MARGIN;
    if (p > suspect) {
        uint64_t to = (uint64_t)(CUT_FACTOR * (double)delivered);
        if (to < estimate_bps) {
            l->checking = true;
            l->cut_at = now;
            l->cut_fraction = p;
            l->cut_from_bps = estimate_bps;
            l->cut_delivered_bps = delivered;
            l->cuts++;
            *bps = to;
            return SFU_BWE_LOSS_CUT;
        }
        return SFU_BWE_LOSS_NONE;
    }
    l->inherent = (1 - INHERENT_WEIGHT) * l->inherent + INHERENT_WEIGHT * p;
    return SFU_BWE_LOSS_NONE;
}
