/* One bandwidth probe toward a viewer: a burst sent at a set rate whose
 * packets transport-cc feedback reports on, measured as the lower of the
 * rate it was sent at and the rate it arrived at (libwebrtc's probe
 * clusters have the same idea). When to probe and what to make of the
 * result is bwe.c's. */
#ifndef SFU_CORE_PROBE_CLUSTER_H
#define SFU_CORE_PROBE_CLUSTER_H

#include "sfu/core/common.h"
#include "sfu/core/send_history.h"

#define SFU_PROBE_SEND_TIMEOUT SFU_SEC(1)     /* the caller stopped short: judge what went */
#define SFU_PROBE_LONG_SEND_TIMEOUT SFU_SEC(2) /* ... of a long_probe */
#define SFU_PROBE_RESULT_TIMEOUT SFU_SEC(2)   /* feedback on it that never came */

typedef enum sfu_probe_state {
    SFU_PROBE_IDLE = 0,
    SFU_PROBE_SENDING,
    SFU_PROBE_WAITING,          /* sent; waiting for feedback on it */
} sfu_probe_state;

typedef struct sfu_probe_cluster {
    sfu_probe_state state;
    uint32_t id;
    uint64_t rate_bps;
    size_t bytes_target;
    uint64_t bytes_sent;
    uint32_t packets_sent;
    sfu_time started_at, ended_at;
    sfu_time first_send, last_send;
    uint32_t last_size;         /* of the last packet sent: not part of the send rate */
    /* From feedback */
    uint32_t reported, received;
    uint32_t tail_reported, tail_lost;      /* since its first packet reported lost */
    /* Set by the caller after the start: its loss is counted over the
     * packets reported, not all those sent. A long probe is judged when
     * 90 % of it was reported and the rest is still on its way (a short
     * one's unreported rest is mostly what a policer dropped at its end;
     * a long one stops at that, sfu_probe_cluster_overflowing). */
    bool long_probe;
    /* Set by the caller after the start: judged only once all of it was
     * reported (or the timeout). A burst's tail is where a policer drops
     * it, and judged at 90 % a burst whose last packets were lost read as
     * one that got through (test_bwe_sim: the policer "gone" at 27 s). */
    bool whole;
    uint64_t bytes_received;
    sfu_time first_arrival, last_arrival;
    uint32_t first_arrival_size;            /* not part of the receive rate */
    sfu_time rx_first_send, rx_last_send;   /* of the packets that arrived */
} sfu_probe_cluster;

/* Starts probe `id` (not 0): `bytes` at `rate_bps` from `now`. */
void sfu_probe_cluster_start(sfu_probe_cluster *c, uint32_t id, uint64_t rate_bps, size_t bytes,
                             sfu_time now);

/* A packet sent at `now`: the probe id to record it under (0 when no probe
 * is being sent). The probe ends with the packet that completes its bytes,
 * or at the first packet after SFU_PROBE_SEND_TIMEOUT. */
uint32_t sfu_probe_cluster_on_sent(sfu_probe_cluster *c, size_t size_bytes, sfu_time now);

/* While the probe is being sent: what it still needs by `at` to keep to
 * its rate, everything sent toward it so far (media and copies too)
 * counted; 0 otherwise. Padding only this much makes the probe's rate the
 * total rate, not padding at that rate on top of the media. */
uint64_t sfu_probe_cluster_due(const sfu_probe_cluster *c, sfu_time at);

/* A copy of a packet sent under probe `probe_id` (0: none) went out too,
 * under the same transport-wide number: its bytes count as sent. */
void sfu_probe_cluster_on_copy(sfu_probe_cluster *c, uint32_t probe_id, size_t size_bytes);

/* Ends the sending of a probe the caller stopped short of its bytes,
 * SFU_PROBE_SEND_TIMEOUT after its start (or never began). */
void sfu_probe_cluster_handle_timeout(sfu_probe_cluster *c, sfu_time now);

/* Feedback on a sent packet (the first report of it only). Packets of
 * other probes are ignored. */
void sfu_probe_cluster_on_report(sfu_probe_cluster *c, const sfu_sent_packet *e, bool received,
                                 sfu_time arrival);

static inline bool sfu_probe_cluster_idle(const sfu_probe_cluster *c)
{
    return c->state == SFU_PROBE_IDLE;
}

static inline uint64_t sfu_probe_cluster_sending_rate(const sfu_probe_cluster *c)
{
    return c->state == SFU_PROBE_SENDING ? c->rate_bps : 0;
}

/* True while the probe is being sent and the feedback so far already
 * dooms it: at least 2 of its packets and more than inherent_loss + 5 % of
 * those reported were lost (sfu_probe_cluster_finish would give 0). Behind
 * a policer the rest of a probe would only take media down with it. */
bool sfu_probe_cluster_failing(const sfu_probe_cluster *c, double inherent_loss);

/* True while the probe is being sent and a bucket looks to have run dry
 * under it: at least 8 of its packets lost, and more than half of those
 * reported since its first loss (random loss of a few tens of percent
 * seldom gives that; a policer far below the probe's rate always does).
 * A long probe (bwe.c's proof probes) on a path with random loss runs on
 * past the loss that sfu_probe_cluster_failing counts. */
bool sfu_probe_cluster_overflowing(const sfu_probe_cluster *c);

/* Ends the sending of a probe now (it goes on to wait for its feedback). */
void sfu_probe_cluster_stop(sfu_probe_cluster *c, sfu_time now);

/* True when the probe can be judged: sent, and 90 % of its packets
 * reported on (all of them when `whole`), or SFU_PROBE_RESULT_TIMEOUT
 * after its end. */
bool sfu_probe_cluster_ready(const sfu_probe_cluster *c, sfu_time now);

/* Ends the probe (idle again) and returns its result in bit/s: the lower
 * of its send rate and its receive rate (the latter divided by 1 - the
 * path's inherent loss), or 0 when it cannot tell (fewer than 4 packets
 * arrived) or it lost more than inherent_loss + 5 % (at least 2 packets):
 * it overflowed the path. *saturated: the packets that arrived came spread
 * over more than 1/0.9 of the time they took to send, so a queue held
 * them and the path is full at about the receive rate (a policer drops
 * without spreading what it passes). */
uint64_t sfu_probe_cluster_finish(sfu_probe_cluster *c, double inherent_loss, bool *saturated);

#endif
