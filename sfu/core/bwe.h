/* Send-side bandwidth estimation toward one viewer: how many bits per
 * second the path from the SFU to that viewer carries now.
 *
 * Fed by what the SFU sends (each packet's transport-wide sequence number,
 * size and send time) and by the viewer's transport-cc feedback (arrival
 * times, parsed by sfu_twcc_parse), or by its REMB when that is all the
 * viewer sends. Sans-IO: every input carries `now`.
 *
 * The estimate combines:
 *  - delay: the queueing-delay trend of bwe_delay.h drives an AIMD rate
 *    controller. Overuse cuts to 85 % of the acknowledged bitrate (at most
 *    once per response time, about an RTT); underuse holds; otherwise the
 *    rate grows by 8 %/s, or by about one packet per response time when it
 *    is near the link capacity learnt at earlier overuses. It never grows
 *    beyond 1.5 x the acknowledged bitrate + 10 kbit/s: an app-limited
 *    sender learns nothing about rates it does not send (probes do);
 *  - loss: bwe_loss.h, which cuts only on loss that responds to our rate
 *    and learns the path's random loss;
 *  - probes (probe_cluster.h): when the caller wants more than the
 *    estimate (the next layer's bitrate), sfu_bwe_poll_probe asks for a
 *    60 ms burst at twice the estimate (three times after a clean
 *    success; at most 1.5 x the target); what the feedback says arrived of
 *    it, at what rate, raises the estimate at once. A probe losing more
 *    than the path's random loss + 5 % fails, and stops being sent as soon
 *    as the feedback shows that much lost; failures back off 1, 2, 3 s,
 *    and 2, 4, 4 s when they lost packets on a path where the media met a
 *    policer (their excess took media too).
 *    After congestion loss with no queue growth around it (a policer,
 *    sfu_bwe_policed), for 30 s or until a probe gets through, probes are
 *    bursts sent at once right after a video frame, sized to what the
 *    policer's bucket may hold plus a margin (a paced probe emptied the
 *    bucket within its first packets and took the media sent along with
 *    the rest), and the estimate grows no further than the rate the
 *    policer passed. No probe within 1 s of a delay-based decrease;
 *  - the first climb (sfu_bwe_climb_bps): short probes pass whole through
 *    a policer whose bucket is full, so a layer is climbed to only once
 *    what arrived (bwe_proof.h) rules out a policer below 65 % of it;
 *    long proof probes find that out;
 *  - REMB: a viewer's REMB caps the estimate while fresh (5 s), and is the
 *    estimate for a viewer that never sent transport-cc feedback.
 * The acknowledged bitrate is bytes received per arrival time over the
 * last 500 ms of the receiver's clock. */
#ifndef SFU_CORE_BWE_H
#define SFU_CORE_BWE_H

#include "sfu/core/bwe_delay.h"
#include "sfu/core/bwe_loss.h"
#include "sfu/core/common.h"
#include "sfu/core/rtcp_twcc.h"
#include "sfu/core/send_history.h"

#define SFU_BWE_ACKED_BUCKET SFU_MS(20)
#define SFU_BWE_ACKED_BUCKETS 25    /* a 500 ms window */
#define SFU_BWE_REMB_FRESH SFU_SEC(5)
#define SFU_BWE_REDUNDANCY_QUIET SFU_SEC(10)

typedef struct sfu_bwe_config {
    uint64_t start_bps;         /* before any feedback */
    uint64_t min_bps;
    uint64_t max_bps;
    /* Sent packets remembered for feedback (send_history.h): a power of two
     * from SFU_SEND_HISTORY_MIN; 0 is SFU_SEND_HISTORY_LEN, what video needs. */
    uint32_t history_len;
} sfu_bwe_config;

/* 300 kbit/s to start, between 30 kbit/s and 50 Mbit/s. */
extern const sfu_bwe_config sfu_bwe_config_default;

/* A probe the caller should send: `bytes` in total (media, RTX or padding,
 * whatever it sends next) at `rate_bps`, starting now. The estimator counts
 * every packet reported by sfu_bwe_on_packet_sent toward the probe until
 * `bytes` have been sent. */
typedef struct sfu_bwe_probe {
    uint32_t id;                /* never 0 */
    uint64_t rate_bps;
    size_t bytes;
    /* Toward a policed path (sfu_bwe_policed): send all `bytes` at once,
     * right after a video frame, not paced at rate_bps. */
    bool burst;
} sfu_bwe_probe;

typedef struct sfu_bwe_stats {
    uint64_t estimate_bps;      /* what sfu_bwe_estimate returns */
    uint64_t delay_loss_bps;    /* from transport-cc alone; 0 before any */
    uint64_t remb_bps;          /* the last REMB (0 also before any) */
    uint64_t acked_bps;         /* 0 until measured */
    uint64_t sent_bps;          /* sent over the last 500 ms, copies and probes included */
    sfu_bwe_usage usage;
    double loss_fraction;       /* of the last loss window */
    double inherent_loss;       /* learnt non-congestive loss */
    uint64_t feedbacks, unknown_reports;
    uint64_t overuses, loss_cuts, loss_restores, loss_confirmed;
    uint64_t probes_sent, probes_succeeded, probes_stopped;
    uint64_t proven_bps;        /* a policer below this is ruled out (bwe_proof.h) */
    uint64_t climb_bps;         /* sfu_bwe_climb_bps */
    uint64_t proof_overflows;   /* proof probes that found a policer */
} sfu_bwe_stats;

typedef struct sfu_bwe sfu_bwe;

/* NULL on allocation failure; cfg NULL takes the defaults (copied). */
sfu_bwe *sfu_bwe_new(const sfu_bwe_config *cfg);
void sfu_bwe_free(sfu_bwe *b);
uint32_t sfu_bwe_history_len(const sfu_bwe *b);

/* The SFU sent a packet carrying transport-wide sequence number seq16 and
 * `size_bytes` on the wire (RTP header and payload; constant overheads
 * below RTP are left out on both sides, so they cancel). */
void sfu_bwe_on_packet_sent(sfu_bwe *b, uint16_t seq16, size_t size_bytes, sfu_time now);

/* A copy of the packet numbered seq16 went out as well (the same RTP
 * packet again, for a lossy viewer): the receiver's SRTP replay check keeps
 * only the first to arrive, so it can report the number once, and a copy
 * with a number of its own would always read as lost. The copy carries the
 * same number; its bytes count toward what was sent under it. */
void sfu_bwe_on_copy_sent(sfu_bwe *b, uint16_t seq16, size_t size_bytes, sfu_time now);

/* Asks the memory for what sfu_bwe_on_packet_sent will touch with the next
 * transport-wide number `seq16` at `now` (a hint: no effect on the estimate). */
void sfu_bwe_prefetch(const sfu_bwe *b, uint16_t seq16, sfu_time now);

/* The caller's tag of the packet numbered seq16 (0 when it was sent), to
 * read and change: what to do when feedback reports the packet lost
 * (room_send.c retransmits it). NULL when the packet is not (or no longer)
 * in the send history. */
uint32_t *sfu_bwe_packet_tag(sfu_bwe *b, uint16_t seq16);

/* Whether extra copies of packets (redundancy for random loss) may go out
 * now: not while the path shows congestion (a delay-based decrease, a
 * loss-based cut being checked or confirmed, within SFU_BWE_REDUNDANCY_QUIET)
 * and not while what was sent over the last 500 ms already reaches the
 * estimate. Loss from a full queue or a policer grows with every extra
 * packet; only random loss is repaired by copies. Without transport-cc
 * feedback: true (nothing tells). */
bool sfu_bwe_redundancy_ok(const sfu_bwe *b, sfu_time now);

/* Whether the path is known to be policed: congestion loss without a
 * growing queue was confirmed within the last 30 s and no probe has got
 * through since. Meanwhile the estimate grows no further than the rate the
 * policer passed, no copies go out (sfu_bwe_redundancy_ok) and probes are
 * bursts (sfu_bwe_probe.burst). */
bool sfu_bwe_policed(const sfu_bwe *b, sfu_time now);

/* How high a viewer may climb now (0: no ceiling, without transport-cc
 * feedback): the start estimate, or more once the path has proved (what
 * arrived, bwe_proof.h) that no token-bucket policer below 70 % of the
 * rate is in the way. The estimate goes down at once and up by probes;
 * this holds the climb above a layer until a long probe or media run has
 * shown the path carries it beyond what a policer's full bucket (a second
 * at its rate) lets through. sfu_bwe_poll_probe sends such a proof probe
 * (at twice the target, up to 1.5 s, stopped when a bucket looks to have
 * run dry, which makes the path policed) when the target is above it. A
 * proof probe whose arrivals a queue spread lifts the ceiling (the
 * bottleneck is a queue, not a policer); a policer found resets it. */
uint64_t sfu_bwe_climb_bps(const sfu_bwe *b);

/* The viewer's transport-cc feedback, parsed by sfu_twcc_parse into
 * pkts[0..n) (n <= fb->packet_count). Numbers the SFU did not send, or sent
 * too long ago, are counted and skipped. -SFU_EINVAL (nothing changes) when
 * n exceeds fb->packet_count. */
int sfu_bwe_on_feedback(sfu_bwe *b, const sfu_twcc_feedback *fb, const sfu_twcc_packet *pkts,
                        size_t n, sfu_time now);

/* A REMB from the viewer (sfu_rtcp_remb.bitrate_bps; 0 counts, as the
 * lowest estimate). */
void sfu_bwe_on_remb(sfu_bwe *b, uint64_t bps, sfu_time now);

/* The estimate, bits per second. */
uint64_t sfu_bwe_estimate(const sfu_bwe *b, sfu_time now);

/* True when a probe should start now toward `target_bps` (typically the
 * next layer's bitrate; 0: no probing wanted), filling *probe. Only with
 * transport-cc feedback, one probe at a time, and not while both the
 * estimate and sfu_bwe_climb_bps are at or above the target. Also runs the estimator's timeouts (a probe
 * or a loss check that got no traffic or no feedback): call it often, at
 * least at every feedback and every 100 ms or so while video is paused. */
bool sfu_bwe_poll_probe(sfu_bwe *b, uint64_t target_bps, sfu_time now, sfu_bwe_probe *probe);

/* The caller has sent what it could of the probe (a burst): it ends now,
 * and feedback judges what went out. */
void sfu_bwe_probe_end(sfu_bwe *b, sfu_time now);

/* While a probe is being sent: its rate, else 0 (for a pacer). */
uint64_t sfu_bwe_probe_rate(const sfu_bwe *b);
/* While a probe is being sent: the bytes it still needs by `at` to keep to
 * its rate, counting what was sent toward it (media included); else 0. A
 * caller pads only this much (sfu_probe_cluster_due). */
uint64_t sfu_bwe_probe_due(const sfu_bwe *b, sfu_time at);

void sfu_bwe_stats_get(const sfu_bwe *b, sfu_time now, sfu_bwe_stats *out);

#endif
