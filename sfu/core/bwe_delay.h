/* Delay-based congestion detection for send-side bandwidth estimation: is
 * the bottleneck queue toward a viewer growing, steady or draining?
 *
 * The idea of GCC (draft-ietf-rmcat-gcc-02 5) as libwebrtc's trendline
 * estimator refines it, written anew here:
 *  1. Packets are grouped by send time (a group is what was sent within
 *     SFU_BWE_GROUP_SPAN of its first packet, a paced burst).
 *  2. For each pair of consecutive groups the delay variation is
 *     d = (arrival gap) - (send gap), the growth of queueing delay between
 *     them. Its running sum, exponentially smoothed, is a queueing-delay
 *     curve over arrival time.
 *  3. The slope of that curve over the last SFU_BWE_TREND_WINDOW groups
 *     (least squares) is the trend; scaled by the number of samples (up to
 *     60) and a gain of 4 it is compared with a threshold.
 *  4. The threshold adapts: it follows |trend| slowly upward and faster
 *     downward (so competing TCP-like flows do not starve us, and noise of
 *     a wobbly path does not read as congestion), bounded to [6, 600].
 *  5. Overuse is declared when the scaled trend stays above the threshold
 *     for more than 10 ms and two samples while still rising; underuse when
 *     below -threshold (the queue drains); normal otherwise.
 * Times are microseconds of the sender's clock (send) and of the
 * receiver's clock (arrival): only differences within each are used. */
#ifndef SFU_CORE_BWE_DELAY_H
#define SFU_CORE_BWE_DELAY_H

#include "sfu/core/common.h"

#define SFU_BWE_GROUP_SPAN SFU_MS(5)
#define SFU_BWE_TREND_WINDOW 20

typedef enum sfu_bwe_usage {
    SFU_BWE_NORMAL = 0,
    SFU_BWE_UNDERUSE,
    SFU_BWE_OVERUSE,
} sfu_bwe_usage;

typedef struct sfu_bwe_group {
    sfu_time first_send, last_send;
    sfu_time first_arrival, last_arrival;
    uint32_t bytes;
} sfu_bwe_group;

typedef struct sfu_bwe_delay {
    bool have_cur, have_prev;
    sfu_bwe_group cur, prev;
    /* Trendline */
    sfu_time first_arrival;     /* origin of the x axis */
    double accumulated_ms, smoothed_ms;
    uint32_t num_deltas;
    uint32_t nsamples, head;
    double xs[SFU_BWE_TREND_WINDOW], ys[SFU_BWE_TREND_WINDOW];
    double trend, prev_trend, modified_trend;
    /* Overuse detector */
    double threshold;
    sfu_time last_threshold_update;
    double time_over_ms;        /* < 0: not over */
    uint32_t over_count;
    sfu_bwe_usage usage;
} sfu_bwe_delay;

void sfu_bwe_delay_init(sfu_bwe_delay *d);

/* One received packet, in send order. Packets sent before the current
 * group's start (reordered feedback) are ignored. Returns the usage after
 * it (unchanged unless a group completed). */
sfu_bwe_usage sfu_bwe_delay_handle_packet(sfu_bwe_delay *d, sfu_time sent_at, sfu_time arrival,
                                          size_t size_bytes);

static inline sfu_bwe_usage sfu_bwe_delay_usage(const sfu_bwe_delay *d) { return d->usage; }

#endif
