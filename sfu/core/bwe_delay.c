/* Inter-group delay variation, trendline slope and the adaptive-threshold
 * overuse detector (see bwe_delay.h). */
#include "sfu/core/bwe_delay.h"

#include <string.h>

#define SMOOTHING 0.9
#define TREND_GAIN 4.0
#define MAX_DELTAS 60
#define THRESHOLD_INIT 12.5
#define THRESHOLD_MIN 6.0
#define THRESHOLD_MAX 600.0
#define K_UP 0.0087                 /* per ms: the threshold rises slowly */
#define K_DOWN 0.039                /* and falls faster */
#define OVERUSE_TIME_MS 10.0
/* A delay variation this far beyond the threshold is a spike (a path
 * change, a stalled receiver), not something the threshold should chase. */
#define SPIKE_MARGIN 15.0
/* Groups arriving within this of each other with a send gap larger than
 * the arrival gap are one burst the network delivered together. */
#define BURST_ARRIVAL SFU_MS(5)
#define BURST_MAX_SPAN SFU_MS(100)

void sfu_bwe_delay_init(sfu_bwe_delay *d)
{
    memset(d, 0, sizeof *d);
    d->threshold = THRESHOLD_INIT;
    d->time_over_ms = -1;
    d->last_threshold_update = SFU_TIME_NEVER;
}

/* Least-squares slope of the window, or the previous trend when the
 * points have no spread in x. */
static double slope(const sfu_bwe_delay *d)
{
    double sx = 0, sy = 0;
    uint32_t n = d->nsamples;
    for (uint32_t i = 0; i < n; i++) {
        sx += d->xs[i];
        sy += d->ys[i];
    }
    double mx = sx / n, my = sy / n, num = 0, den = 0;
    for (uint32_t i = 0; i < n; i++) {
        num += (d->xs[i] - mx) * (d->ys[i] - my);
        den += (d->xs[i] - mx) * (d->xs[i] - mx);
    }
    return den == 0 ? d->trend : num / den;
}

static double absd(double v) { return v < 0 ? -v : v; }

static void adapt_threshold(sfu_bwe_delay *d, double modified, sfu_time arrival)
{
    if (d->last_threshold_update == SFU_TIME_NEVER)
        d->last_threshold_update = arrival;
    double a = absd(modified);
    if (a > d->threshold + SPIKE_MARGIN) {
        d->last_threshold_update = arrival;
        return;
    }
    double k = a < d->threshold ? K_DOWN : K_UP;
    double dt_ms = (double)(arrival - d->last_threshold_update) / 1000.0;
    if (dt_ms > 100)
        dt_ms = 100;
    if (dt_ms < 0)
        dt_ms = 0;
    d->threshold += k * (a - d->threshold) * dt_ms;
    if (d->threshold < THRESHOLD_MIN)
        d->threshold = THRESHOLD_MIN;
    if (d->threshold > THRESHOLD_MAX)
        d->threshold = THRESHOLD_MAX;
    d->last_threshold_update = arrival;
}

static void detect(sfu_bwe_delay *d, double send_delta_ms, sfu_time arrival)
{
    if (d->nsamples < 2)
        return;
    double modified = (d->num_deltas < MAX_DELTAS ? d->num_deltas : MAX_DELTAS) * d->trend *
                      TREND_GAIN;
    d->modified_trend = modified;
    if (modified > d->threshold) {
        if (d->time_over_ms < 0)
            d->time_over_ms = send_delta_ms / 2;
        else
            d->time_over_ms += send_delta_ms;
        d->over_count++;
        if (d->time_over_ms > OVERUSE_TIME_MS && d->over_count > 1 && d->trend >= d->prev_trend) {
            d->time_over_ms = 0;
            d->over_count = 0;
            d->usage = SFU_BWE_OVERUSE;
        }
    } else if (modified < -d->threshold) {
        d->time_over_ms = -1;
        d->over_count = 0;
        d->usage = SFU_BWE_UNDERUSE;
    } else {
        d->time_over_ms = -1;
        d->over_count = 0;
        d->usage = SFU_BWE_NORMAL;
    }
    adapt_threshold(d, modified, arrival);
}

/* The previous group and the one just completed give one delay variation. */
static void add_delta(sfu_bwe_delay *d, const sfu_bwe_group *a, const sfu_bwe_group *b)
{
    double send_delta_ms = (double)(b->last_send - a->last_send) / 1000.0;
    double arrival_delta_ms = (double)(b->last_arrival - a->last_arrival) / 1000.0;
    double delta_ms = arrival_delta_ms - send_delta_ms;
    if (d->num_deltas == 0)
        d->first_arrival = b->last_arrival;
    d->num_deltas++;
    d->accumulated_ms += delta_ms;
    d->smoothed_ms = SMOOTHING * d->smoothed_ms + (1 - SMOOTHING) * d->accumulated_ms;
    double x = (double)(b->last_arrival - d->first_arrival) / 1000.0;
    d->xs[d->head] = x;
    d->ys[d->head] = d->smoothed_ms;
    d->head = (d->head + 1) % SFU_BWE_TREND_WINDOW;
    if (d->nsamples < SFU_BWE_TREND_WINDOW)
        d->nsamples++;
    d->prev_trend = d->trend;
    if (d->nsamples >= 2)
        d->trend = slope(d);
    detect(d, send_delta_ms, b->last_arrival);
}

/* Does a packet sent at `sent_at` arriving at `arrival` belong to the
 * current group? By send time, or as a burst the network bunched up. */
static bool same_group(const sfu_bwe_delay *d, sfu_time sent_at, sfu_time arrival)
{
    const sfu_bwe_group *g = &d->cur;
    if (sent_at - g->first_send <= SFU_BWE_GROUP_SPAN)
        return true;
    sfu_time arrival_gap = arrival - g->last_arrival;
    sfu_time send_gap = sent_at - g->last_send;
    return arrival_gap >= 0 && arrival_gap < BURST_ARRIVAL && arrival_gap < send_gap &&
           arrival - g->first_arrival < BURST_MAX_SPAN;
}

sfu_bwe_usage sfu_bwe_delay_handle_packet(sfu_bwe_delay *d, sfu_time sent_at, sfu_time arrival,
                                          size_t size_bytes)
{
    if (!d->have_cur) {
        d->cur = (sfu_bwe_group){ sent_at, sent_at, arrival, arrival, (uint32_t)size_bytes };
        d->have_cur = true;
        return d->usage;
    }
    if (sent_at < d->cur.first_send)
        return d->usage;
    if (same_group(d, sent_at, arrival)) {
        if (sent_at > d->cur.last_send)
            d->cur.last_send = sent_at;
        if (arrival > d->cur.last_arrival)
            d->cur.last_arrival = arrival;
        d->cur.bytes += (uint32_t)size_bytes;
        return d->usage;
    }
    if (d->have_prev)
        add_delta(d, &d->prev, &d->cur);
    d->prev = d->cur;
    d->have_prev = true;
    d->cur = (sfu_bwe_group){ sent_at, sent_at, arrival, arrival, (uint32_t)size_bytes };
    return d->usage;
}
