/* Loss-based congestion control for send-side bandwidth estimation, made
 * so that random loss that is not congestion does not collapse the
 * estimate.
 *
 * Classic GCC (draft-ietf-rmcat-gcc-02 6) cuts the rate whenever more than
 * 10 % of packets are lost; a viewer on a fast radio link with 10 % random
 * loss would starve. The rule here: loss is congestion when it responds to
 * our rate. Feedback is summed in windows (at least SFU_BWE_LOSS_MIN_PACKETS
 * packets and SFU_BWE_LOSS_MIN_SPAN of send time; a window that has lost at
 * least SFU_BWE_LOSS_EARLY_LOST packets and half of them is judged as soon
 * as the delivered rate after its first loss can be told). For each window:
 *  - its loss fraction p is compared with the path's inherent loss L (a
 *    running average of the windows judged not congested): p above
 *    2 L + 5 % + twice the binomial noise of the window at L (at least
 *    at 5 %) is suspected congestion. (Loss together with a growing
 *    queue needs no rule here: the delay detector acts on the queue
 *    first; and at a random-loss path's capacity the two coincide by
 *    chance at every sawtooth peak.) When the window was sent at less than 80 % of the
 *    estimate (app-limited: the delay detector saw the path carry more
 *    without a queue), it takes 2 L + 15 %: only a policer's heavy loss;
 *    (windows of fewer than SFU_BWE_LOSS_MIN_PACKETS over 3 s, such as
 *    lone probes while video is paused, are dropped unjudged);
 *  - on suspicion the estimate is cut to 90 % of the window's delivered
 *    rate (bytes received over their arrival span: what the bottleneck let
 *    through; counting only the packets sent after the window's first loss
 *    when at least SFU_BWE_LOSS_AFTER_MIN_SPAN of them arrived, since a
 *    policer's bucket lets the earlier ones through beyond its rate and a
 *    first cut from them left a viewer one layer too high), and the next
 *    window, of packets sent after the cut only,
 *    checks the suspicion. Random loss keeps its fraction whatever we
 *    send, so the delivered rate falls in proportion to the send rate;
 *    congestion loss shrinks or vanishes as we send less, and a policer
 *    or full queue keeps delivering about its own rate. So: if the loss
 *    stayed (at least 2 % and a fifth of what it was, as small windows
 *    are noisy, but not more than 2 p + 5 %) and the delivered rate fell about as much as the send
 *    rate (its ratio at most 1.2 x the send rate's ratio), the loss is
 *    a property of the path: L becomes that loss and the estimate goes
 *    back to where it was before the cut. Otherwise the cut stands (and
 *    if the loss is still well above L, the delivered rate of this window
 *    gives a second cut, checked the same way). Loss that stayed while
 *    the send rate has not yet fallen below 90 % of its rate at the cut
 *    decides nothing (an SFU follows a cut only at the next keyframe of a
 *    lower layer, and a policer keeps the loss too): the next window
 *    checks. When the cut left too little traffic to check (it paused the
 *    video), or the sender did not follow it, for 5 s, the cut stands:
 *    probes find out whether more fits.
 * A viewer with 10 % random loss thus costs one checking window at a lower
 * rate, after which 10 % is its normal and only loss well beyond it counts. */
#ifndef SFU_CORE_BWE_LOSS_H
#define SFU_CORE_BWE_LOSS_H

#include "sfu/core/common.h"

#define SFU_BWE_LOSS_MIN_PACKETS 30
#define SFU_BWE_LOSS_MIN_SPAN SFU_MS(300)
#define SFU_BWE_LOSS_CHECK_PACKETS 60
#define SFU_BWE_LOSS_MAX_SPAN SFU_SEC(4)   /* fewer packets in this long: start over */
#define SFU_BWE_LOSS_CHECK_TIMEOUT SFU_SEC(5)
/* The check counts packets sent this long after the cut: a policer's bucket
 * or a queue emptied by what was sent before it refills or drains first,
 * and its loss would read as the path's own. */
#define SFU_BWE_LOSS_CHECK_SETTLE SFU_MS(250)
/* The delivered rate after a window's first loss counts from this many
 * packets over this much arrival time (fewer: the whole window's). */
#define SFU_BWE_LOSS_AFTER_MIN_PACKETS 5
#define SFU_BWE_LOSS_AFTER_MIN_SPAN SFU_MS(100)
/* A window that would cut without that rate grows for it while its send
 * span is below this (then the whole window's rate counts). */
#define SFU_BWE_LOSS_AFTER_WAIT SFU_SEC(1)
/* A window that has lost this many packets, at least this share of them,
 * is judged before it is complete (once its delivered rate after the first
 * loss can be told): a policer that ran dry is acted on in about 200 ms. */
#define SFU_BWE_LOSS_EARLY_LOST 8
#define SFU_BWE_LOSS_EARLY_FRACTION 0.5

typedef enum sfu_bwe_loss_verdict {
    SFU_BWE_LOSS_NONE = 0,      /* no change to the estimate */
    SFU_BWE_LOSS_CUT,           /* congestion suspected: lower the estimate to *bps */
    SFU_BWE_LOSS_RESTORE,       /* the suspicion was wrong: back up to *bps */
    SFU_BWE_LOSS_CONFIRMED,     /* the check confirmed congestion at about *bps */
} sfu_bwe_loss_verdict;

typedef struct sfu_bwe_loss_window {
    uint32_t packets, lost;
    uint64_t bytes_sent, bytes_received;
    sfu_time first_send, last_send;
    sfu_time first_arrival, last_arrival;
    /* What arrived of the packets sent after the window's first loss: a
     * policer whose bucket ran dry passes exactly its rate from then on,
     * and the packets before, let through by the bucket, overstate it. */
    bool have_loss;
    sfu_time loss_send;         /* the first lost packet's send time */
    uint32_t after_packets;
    uint64_t after_bytes;       /* all but the first of them */
    sfu_time after_first_arrival, after_last_arrival;
} sfu_bwe_loss_window;

typedef struct sfu_bwe_loss {
    sfu_bwe_loss_window win;
    double inherent;            /* L, a fraction */
    double last_fraction;       /* p of the last complete window */
    uint64_t last_delivered_bps;
    /* A cut waiting for its check */
    bool checking;
    sfu_time cut_at;            /* packets sent before it do not count */
    double cut_fraction;
    uint64_t cut_from_bps, cut_delivered_bps, cut_sent_bps;
    uint64_t cuts, restores, confirmed;
    /* Set by the caller: the delay detector saw a queue lately. A window
     * then does not wait for the delivered rate after its first loss
     * (SFU_BWE_LOSS_AFTER_WAIT): a queue's loss is no policer's. */
    bool queue_seen;
} sfu_bwe_loss;

void sfu_bwe_loss_init(sfu_bwe_loss *l);

/* One packet feedback reported on: its send time and size, and whether it
 * arrived (and when, receiver clock). */
void sfu_bwe_loss_handle_packet(sfu_bwe_loss *l, sfu_time sent_at, size_t size_bytes,
                                bool received, sfu_time arrival);

/* After a feedback packet: judges a complete window. `estimate_bps` is the
 * current estimate. On CUT or RESTORE *bps is the new estimate. */
sfu_bwe_loss_verdict sfu_bwe_loss_update(sfu_bwe_loss *l, uint64_t estimate_bps, sfu_time now,
                                         uint64_t *bps);

/* Gives up a check that found too little traffic within
 * SFU_BWE_LOSS_CHECK_TIMEOUT (the cut paused the video); the cut stands. */
void sfu_bwe_loss_handle_timeout(sfu_bwe_loss *l, sfu_time now);

/* True while a cut is being checked: the caller holds the rate still. */
static inline bool sfu_bwe_loss_checking(const sfu_bwe_loss *l) { return l->checking; }

#endif
