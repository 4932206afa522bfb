/* Send-side bandwidth estimation: feedback bookkeeping, acknowledged
 * bitrate, AIMD rate control and probes (see bwe.h). */
#include "sfu/core/bwe.h"
#include "sfu/core/bwe_proof.h"
#include "sfu/core/probe_cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BETA 0.85                       /* overuse: down to this share of the acked rate */
#define INCREASE_PER_S 1.08             /* multiplicative increase, far from capacity */
#define APP_LIMIT_FACTOR 1.5
#define APP_LIMIT_EXTRA_BPS 10000
#define PACKET_BITS (1200 * 8)          /* additive increase: a packet per response time */
#define RESPONSE_MIN SFU_MS(100)
#define RESPONSE_MAX SFU_SEC(1)
#define UPDATE_MAX_DT SFU_SEC(1)
#define CAP_ALPHA 0.05
#define CAP_VAR_MIN 0.4
#define CAP_VAR_MAX 2.5
#define ACKED_MIN_SPAN SFU_MS(100)      /* no acked rate before this much was seen */
#define REF_WRAP ((int64_t)SFU_TWCC_REF_US << 24)
/* Probes */
#define PROBE_SCALE 2.0                 /* at most this times the estimate */
#define PROBE_SCALE_AGAIN 3.0           /* after a probe that found the path clear */
#define PROBE_OVER_TARGET 1.5           /* no need to go far past the target */
#define PROBE_DURATION SFU_MS(60)
#define PROBE_MIN_BYTES 6000
#define PROBE_SUCCESS 1.05              /* a result this far above the estimate counts */
#define PROBE_KEEP 0.95                 /* share of a probe's result taken as estimate */
#define PROBE_BACKOFF_MIN SFU_SEC(1)
/* After congestion loss without a queue (a policer), for POLICED_FOR or
 * until a probe gets through: the estimate grows no further than the rate
 * the policer passed, and probes are bursts (see probe_burst_bytes). */
#define POLICED_FOR SFU_SEC(30)
#define POLICED_ACKED_HEADROOM 1.1
#define BURST_MARGIN_BYTES 4000         /* beyond the bucket's supposed level */
#define BURST_MARGIN_SHARE 0.25         /* ... or this share of it */
/* A failing burst costs the media no more than a small one (the bucket is
 * emptied either way, by probe bytes sent in a millisecond), and one
 * smaller than the bucket gets through a policer still there. */
#define BURST_MIN_BYTES 16000
#define BURST_OVER_TARGET 1.15          /* x PROBE_KEEP: just past the target, */
#define BURST_MAX_SCALE 4.0             /* but no more than this times the estimate */
#define BURST_MAX_BYTES 64000
#define BURST_MIN_RECEIVED 4
#define POLICER_NO_QUEUE_FOR SFU_SEC(3)
#define PROBE_AFTER_DECREASE SFU_SEC(1)    /* let the queue drain first */
#define PROBE_BACKOFF_MAX SFU_SEC(3)
/* A probe that failed by losing packets behind a policer (past its burst)
 * cost media along with its own excess: the next waits at least 2 s, then
 * 4 s while they keep failing so. (libwebrtc probes far less
 * often after a failure; much longer here and a viewer whose policer lifts
 * would wait too long for its top layer.) */
#define PROBE_BACKOFF_LOSSY_MIN SFU_SEC(2)
#define PROBE_BACKOFF_LOSSY_MAX SFU_SEC(4)
#define PROBE_LOSSY_MARGIN 0.05         /* a probe's loss beyond the path's own */
/* The first climb (sfu_bwe_climb_bps): a layer is climbed to once the
 * path has proved (bwe_proof.h) PROOF_SHARE of what it needs. Short
 * probes pass whole through a policer whose bucket is full (43 kB at
 * 250 kbit/s) and took a new viewer past it (netlab police250_join: the
 * step down, 0.5-1.1 s frozen, then fell in the measured 15 s). A proof
 * probe goes at PROOF_SCALE x the target, long enough (at most
 * PROOF_PROBE_MAX) that what it delivers proves PROOF_MARGIN x the share,
 * and stops at the first sign of a bucket run dry
 * (sfu_probe_cluster_overflowing), which makes the path policed. 0.65
 * keeps a 250k policer (the proof never passes a policer's rate, and
 * counts no IP/UDP headers, which the policer does) below 0.65 x
 * netlab's middle layer with audio (about 400k). */
#define PROOF_SHARE 0.65
#define PROOF_SCALE 2.0
#define PROOF_MARGIN 1.1
#define PROOF_PROBE_MAX SFU_MS(1500)    /* within SFU_PROBE_LONG_SEND_TIMEOUT */

struct sfu_bwe {
    sfu_bwe_config cfg;
    sfu_send_history hist;
    sfu_bwe_delay delay;
    sfu_bwe_loss loss;
    sfu_bwe_proof proof;
    /* Acknowledged bitrate over arrival time */
    uint64_t acked[SFU_BWE_ACKED_BUCKETS];
    bool acked_any;
    int64_t acked_newest, acked_oldest;   /* bucket numbers */
    /* Sent bitrate over send time, the same window */
    uint64_t sent[SFU_BWE_ACKED_BUCKETS];
    uint64_t probe_sent[SFU_BWE_ACKED_BUCKETS];   /* of them, under a probe */
    bool sent_any;
    /* The probe cluster may be SENDING: set when one starts, cleared by the
     * first packet that finds it no longer is, so a packet sent with no
     * probe under way does not touch the cluster (another cache line per
     * copy of a fan-out). */
    bool probe_maybe_sending;
    int64_t sent_newest;        /* bucket number */
    sfu_time first_sent_at;
    /* The last sign of congestion: SFU_TIME_NEVER none (redundancy_ok) */
    sfu_time congested_at;
    sfu_time cut_congested_before;  /* congested_at before a loss cut being checked */
    /* Receiver clock: the 24-bit reference time unwrapped */
    bool have_ref;
    uint32_t last_ref;
    int64_t ref_offset;
    /* Rate control */
    bool have_twcc;
    uint64_t est_bps;
    sfu_time last_update, last_decrease;
    sfu_time response_time;
    bool cap_known;
    double cap_kbps, cap_var;
    bool decreased_since_cut;
    sfu_time loss_limited_at;       /* the last confirmed congestion loss; NEVER none */
    uint64_t policer_bps;           /* what a policer passed at it; 0 unknown */
    sfu_time last_loss_at;          /* the last feedback reporting a packet lost */
    bool probe_burst;               /* the probe being sent or judged is a burst */
    bool probe_proof;               /* ... is a proof probe (see PROOF_SHARE) */
    bool probe_overflowed;          /* ... it stopped at a bucket run dry */
    uint64_t probe_target_bps;      /* ... the target it was sent toward */
    bool queue_seen;                /* a proof probe queued: no ceiling on the climb */
    /* REMB */
    bool have_remb;
    uint64_t remb_bps;
    sfu_time remb_at;
    /* Probes */
    sfu_probe_cluster probe;
    uint32_t next_probe_id;
    sfu_time next_probe_at, probe_backoff;
    bool probe_clear;               /* the last probe succeeded unsaturated */
    sfu_bwe_stats st;
};

const sfu_bwe_config sfu_bwe_config_default = {
    .start_bps = 300000,
    .min_bps = 30000,
    .max_bps = 50000000,
};

static uint64_t clamp_bps(const sfu_bwe *b, double bps)
{
    if (bps < (double)b->cfg.min_bps)
        return b->cfg.min_bps;
    if (bps > (double)b->cfg.max_bps)
        return b->cfg.max_bps;
    return (uint64_t)bps;
}

sfu_bwe *sfu_bwe_new(const sfu_bwe_config *cfg)
{
    sfu_bwe *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->cfg = cfg ? *cfg : sfu_bwe_config_default;
    if (b->cfg.min_bps == 0)
        b->cfg.min_bps = 1;
    if (b->cfg.max_bps < b->cfg.min_bps)
        b->cfg.max_bps = b->cfg.min_bps;
    if (sfu_send_history_init(&b->hist, b->cfg.history_len ? b->cfg.history_len : SFU_SEND_HISTORY_LEN) < 0) {
        free(b);
        return NULL;
    }
    sfu_bwe_delay_init(&b->delay);
    sfu_bwe_loss_init(&b->loss);
    sfu_bwe_proof_init(&b->proof);
    b->est_bps = clamp_bps(b, (double)b->cfg.start_bps);
    b->last_update = SFU_TIME_NEVER;
    b->last_decrease = SFU_TIME_NEVER;
    b->response_time = SFU_MS(200);
    b->cap_var = CAP_VAR_MIN;
    b->next_probe_id = 1;
    b->next_probe_at = 0;
    b->probe_backoff = PROBE_BACKOFF_MIN;
    b->loss_limited_at = SFU_TIME_NEVER;
    b->last_loss_at = SFU_TIME_NEVER;
    b->congested_at = SFU_TIME_NEVER;
    return b;
}

void sfu_bwe_free(sfu_bwe *b)
{
    if (!b)
        return;
    sfu_send_history_deinit(&b->hist);
    free(b);
}


uint32_t sfu_bwe_history_len(const sfu_bwe *b) { return sfu_send_history_len(&b->hist); }

/* ---- acknowledged bitrate ---- */

static size_t bucket(int64_t k)
{
    return (size_t)(((k % SFU_BWE_ACKED_BUCKETS) + SFU_BWE_ACKED_BUCKETS) % SFU_BWE_ACKED_BUCKETS);
}

static void acked_add(sfu_bwe *b, sfu_time arrival, size_t size)
{
    int64_t k = arrival / SFU_BWE_ACKED_BUCKET;
    if (!b->acked_any || k - b->acked_newest >= SFU_BWE_ACKED_BUCKETS) {
        memset(b->acked, 0, sizeof b->acked);
        b->acked_any = true;
        b->acked_newest = b->acked_oldest = k;
    } else if (k <= b->acked_newest - SFU_BWE_ACKED_BUCKETS) {
        return;                         /* older than the window */
    }
    while (b->acked_newest < k)
        b->acked[bucket(++b->acked_newest)] = 0;
    if (k < b->acked_oldest)
        b->acked_oldest = k;
    b->acked[bucket(k)] += size;
}

static uint64_t acked_bps(const sfu_bwe *b)
{
    if (!b->acked_any)
        return 0;
    int64_t nb = b->acked_newest - b->acked_oldest + 1;
    if (nb > SFU_BWE_ACKED_BUCKETS)
        nb = SFU_BWE_ACKED_BUCKETS;
    sfu_time span = nb * SFU_BWE_ACKED_BUCKET;
    if (span < ACKED_MIN_SPAN)
        return 0;
    uint64_t bytes = 0;
    for (int i = 0; i < SFU_BWE_ACKED_BUCKETS; i++)
        bytes += b->acked[i];
    return bytes * 8 * 1000000 / (uint64_t)span;
}

/* ---- sent bitrate ---- */

/* `probe`: the bytes were sent under a probe (counted apart too). */
static void sent_add(sfu_bwe *b, sfu_time now, size_t size, bool probe)
{
    int64_t k = now / SFU_BWE_ACKED_BUCKET;
    if (!b->sent_any || k - b->sent_newest >= SFU_BWE_ACKED_BUCKETS) {
        memset(b->sent, 0, sizeof b->sent);
        memset(b->probe_sent, 0, sizeof b->probe_sent);
        if (!b->sent_any)
            b->first_sent_at = now;
        b->sent_any = true;
        b->sent_newest = k;
    }
    while (b->sent_newest < k) {
        b->sent[bucket(++b->sent_newest)] = 0;
        b->probe_sent[bucket(b->sent_newest)] = 0;
    }
    if (k > b->sent_newest - SFU_BWE_ACKED_BUCKETS) {
        b->sent[bucket(k)] += size;
        if (probe)
            b->probe_sent[bucket(k)] += size;
    }
}

/* What went out over the window ending now, per second of it (of the time
 * since the first packet while that is shorter); without what probes sent
 * when `media_only`. */
static uint64_t sent_rate(const sfu_bwe *b, sfu_time now, bool media_only)
{
    if (!b->sent_any)
        return 0;
    int64_t k = now / SFU_BWE_ACKED_BUCKET;
    uint64_t bytes = 0;
    for (int64_t j = b->sent_newest; j > b->sent_newest - SFU_BWE_ACKED_BUCKETS; j--)
        if (j > k - SFU_BWE_ACKED_BUCKETS && j <= k)
            bytes += b->sent[bucket(j)] - (media_only ? b->probe_sent[bucket(j)] : 0);
    sfu_time span = SFU_BWE_ACKED_BUCKETS * SFU_BWE_ACKED_BUCKET;
    if (now - b->first_sent_at < span)
        span = now - b->first_sent_at;
    if (span < ACKED_MIN_SPAN)
        span = ACKED_MIN_SPAN;
    return bytes * 8 * 1000000 / (uint64_t)span;
}

static uint64_t sent_bps(const sfu_bwe *b, sfu_time now) { return sent_rate(b, now, false); }

static void probe_judge(sfu_bwe *b, sfu_time now);

/* ---- sending and probes ---- */

void sfu_bwe_on_packet_sent(sfu_bwe *b, uint16_t seq16, size_t size_bytes, sfu_time now)
{
    uint32_t probe_id = 0;
    if (b->probe_maybe_sending) {
        probe_id = sfu_probe_cluster_on_sent(&b->probe, size_bytes, now);
        b->probe_maybe_sending = b->probe.state == SFU_PROBE_SENDING;
    }
    sfu_send_history_add(&b->hist, seq16, size_bytes, now, probe_id);
    sent_add(b, now, size_bytes, probe_id != 0);
}

void sfu_bwe_on_copy_sent(sfu_bwe *b, uint16_t seq16, size_t size_bytes, sfu_time now)
{
    sfu_sent_packet *e = sfu_send_history_get(&b->hist, seq16);
    sent_add(b, now, size_bytes, e && e->probe_id);
    if (!e || e->state != SFU_SENT_UNREPORTED)
        return;
    e->copied = true;
    size_t total = (size_t)e->size_bytes + size_bytes;
    e->size_bytes = total > UINT16_MAX ? UINT16_MAX : (uint16_t)total;
    sfu_probe_cluster_on_copy(&b->probe, e->probe_id, size_bytes);
}

void sfu_bwe_prefetch(const sfu_bwe *b, uint16_t seq16, sfu_time now)
{
    __builtin_prefetch(&b->sent_newest, 1);
    __builtin_prefetch(&b->sent[bucket(now / SFU_BWE_ACKED_BUCKET)], 1);
    if (b->hist.ring)
        __builtin_prefetch(&b->hist.ring[seq16 & b->hist.mask], 1);
}

uint32_t *sfu_bwe_packet_tag(sfu_bwe *b, uint16_t seq16)
{
    sfu_sent_packet *e = sfu_send_history_get(&b->hist, seq16);
    return e ? &e->tag : NULL;
}

bool sfu_bwe_policed(const sfu_bwe *b, sfu_time now)
{
    return b->loss_limited_at != SFU_TIME_NEVER && now - b->loss_limited_at < POLICED_FOR;
}

bool sfu_bwe_redundancy_ok(const sfu_bwe *b, sfu_time now)
{
    if (!b->have_twcc)
        return true;
    if (sfu_bwe_loss_checking(&b->loss) || sfu_bwe_policed(b, now) ||
        (b->congested_at != SFU_TIME_NEVER && now - b->congested_at < SFU_BWE_REDUNDANCY_QUIET))
        return false;
    return sent_bps(b, now) < b->est_bps;
}

/* A burst probe toward a policed path: what the policer's bucket may hold
 * now (its rate less what was sent, since it last ran dry: the last loss)
 * and a margin beyond. A policer still there drops the margin, and the
 * bucket it empties held no more than the probe's own bytes; a path whose
 * policer is gone carries it all. A probe paced at twice the estimate
 * instead emptied the bucket within its first tens of milliseconds and the
 * media sent along with the rest of it was lost (netlab police250: a
 * freeze of 0.2-0.5 s per probe). */
static size_t probe_burst_bytes(const sfu_bwe *b, sfu_time now)
{
    double level = 0;
    uint64_t sent = sent_rate(b, now, true);
    if (b->policer_bps > sent && b->last_loss_at != SFU_TIME_NEVER)
        level = (double)(b->policer_bps - sent) / 8 * (double)(now - b->last_loss_at) / SFU_SEC(1);
    double margin = BURST_MARGIN_SHARE * level;
    if (margin < BURST_MARGIN_BYTES)
        margin = BURST_MARGIN_BYTES;
    double bytes = level + margin;
    if (bytes < BURST_MIN_BYTES)
        bytes = BURST_MIN_BYTES;
    return bytes > BURST_MAX_BYTES ? BURST_MAX_BYTES : (size_t)bytes;
}

uint64_t sfu_bwe_climb_bps(const sfu_bwe *b)
{
    if (!b->have_twcc)
        return 0;                       /* nothing tells (REMB only): no ceiling */
    double c = (double)sfu_bwe_proof_bps(&b->proof) / PROOF_SHARE;
    if (b->queue_seen)
        return b->cfg.max_bps;
    if (c < (double)b->cfg.start_bps)
        c = (double)b->cfg.start_bps;
    return clamp_bps(b, c);
}

/* A proof probe toward target_bps: at PROOF_SCALE x the target, as long as
 * it takes (at most PROOF_PROBE_MAX) for its bytes to prove PROOF_MARGIN x
 * PROOF_SHARE of the target past a bucket of a second at that rate. */
static size_t proof_bytes(uint64_t rate_bps, uint64_t target_bps)
{
    double want = PROOF_MARGIN * PROOF_SHARE * (double)target_bps;
    double dur = (double)PROOF_PROBE_MAX / SFU_SEC(1);
    if ((double)rate_bps > want) {
        double d = (want * (double)SFU_BWE_PROOF_DEPTH / SFU_SEC(1) + SFU_BWE_PROOF_BURST_BYTES * 8.0) /
                   ((double)rate_bps - want);
        if (d < dur)
            dur = d;
    }
    return (size_t)((double)rate_bps * dur / 8);
}

bool sfu_bwe_poll_probe(sfu_bwe *b, uint64_t target_bps, sfu_time now, sfu_bwe_probe *probe)
{
    sfu_bwe_loss_handle_timeout(&b->loss, now);
    sfu_probe_cluster_handle_timeout(&b->probe, now);
    probe_judge(b, now);                /* a probe whose feedback never came */
    /* (Not the delay detector's state: it only changes with feedback, and
     * a paused viewer sends none, so an overuse would last for ever.) */
    /* Below the target: a short probe raises the estimate. At or above
     * it, but the path has not proved the target (sfu_bwe_climb_bps): a
     * proof probe. */
    bool proof = b->have_twcc && target_bps > sfu_bwe_climb_bps(b);
    if (!b->have_twcc || (target_bps <= b->est_bps && !proof) || !sfu_probe_cluster_idle(&b->probe) ||
        now < b->next_probe_at || sfu_bwe_loss_checking(&b->loss) ||
        (b->last_decrease != SFU_TIME_NEVER && now - b->last_decrease < PROBE_AFTER_DECREASE))
        return false;
    bool burst = sfu_bwe_policed(b, now);
    double rate = (b->probe_clear && !burst ? PROBE_SCALE_AGAIN : PROBE_SCALE) * (double)b->est_bps;
    /* A burst that gets through says the policer is gone: the estimate goes
     * past the target at once (a burst has no rate of its own; paced probes
     * find out more from there). */
    if (burst) {
        double past = BURST_OVER_TARGET * (double)target_bps;
        if (past > BURST_MAX_SCALE * (double)b->est_bps)
            past = BURST_MAX_SCALE * (double)b->est_bps;
        if (rate < past)
            rate = past;
    }
    if (rate > PROBE_OVER_TARGET * (double)target_bps)
        rate = PROBE_OVER_TARGET * (double)target_bps;
    proof = proof && !burst && target_bps <= b->est_bps;
    if (proof)
        rate = PROOF_SCALE * (double)target_bps;
    uint64_t rate_bps = clamp_bps(b, rate);
    size_t bytes = burst ? probe_burst_bytes(b, now)
                   : proof ? proof_bytes(rate_bps, target_bps)
                           : (size_t)(rate_bps * (uint64_t)PROBE_DURATION / 8 / 1000000);
    if (bytes < PROBE_MIN_BYTES)
        bytes = PROBE_MIN_BYTES;
    sfu_probe_cluster_start(&b->probe, b->next_probe_id, rate_bps, bytes, now);
    b->probe_maybe_sending = true;
    b->probe.long_probe = proof;
    b->probe.whole = burst;
    b->probe_burst = burst;
    b->probe_proof = proof;
    b->probe_target_bps = target_bps;
    b->probe_overflowed = false;
    *probe = (sfu_bwe_probe){ .id = b->next_probe_id, .rate_bps = rate_bps, .bytes = bytes, .burst = burst };
    b->next_probe_id = b->next_probe_id == UINT32_MAX ? 1 : b->next_probe_id + 1;
    b->st.probes_sent++;
    return true;
}

void sfu_bwe_probe_end(sfu_bwe *b, sfu_time now) { sfu_probe_cluster_stop(&b->probe, now); }

uint64_t sfu_bwe_probe_due(const sfu_bwe *b, sfu_time at) { return sfu_probe_cluster_due(&b->probe, at); }

uint64_t sfu_bwe_probe_rate(const sfu_bwe *b)
{
    return sfu_probe_cluster_sending_rate(&b->probe);
}

/* A policer found (media loss without a queue, or a proof probe that
 * ran its bucket dry): what the path proved before was of the path as it
 * was. Climbing above the policer wants a new proof, so that a burst
 * that slips through a bucket fuller than supposed does not take the
 * viewer up into it. */
static void policer_found(sfu_bwe *b, sfu_time now)
{
    b->loss_limited_at = now;
    sfu_bwe_proof_init(&b->proof);
    b->queue_seen = false;
}

/* A probe that lost more than the path's own loss (at least 2 packets). */
static bool lost_beyond(const sfu_bwe *b, uint32_t lost, uint32_t reported)
{
    return lost >= 2 && (double)lost > (b->loss.inherent + PROBE_LOSSY_MARGIN) * reported;
}

static void probe_judge(sfu_bwe *b, sfu_time now)
{
    if (!sfu_probe_cluster_ready(&b->probe, now))
        return;
    bool saturated;
    /* failed by loss beyond the path's own (before finish clears the counts) */
    uint32_t lost = b->probe.reported - b->probe.received;
    bool lossy = lost_beyond(b, lost, b->probe.reported);
    /* ... on a path where the media met a policer (congestion loss without a
     * queue, confirmed): elsewhere (a fast link whose probe overshot once,
     * random loss not yet learnt) the short backoff stands, or a viewer
     * climbing to its top layer waits too long. */
    lossy = lossy && b->loss_limited_at != SFU_TIME_NEVER;
    uint64_t nominal = b->probe.rate_bps;
    bool burst_through = b->probe.received >= BURST_MIN_RECEIVED && !lost_beyond(b, lost, b->probe.reported);
    uint64_t result = sfu_probe_cluster_finish(&b->probe, b->loss.inherent, &saturated);
    if (b->probe_proof) {
        b->probe_proof = false;
        /* It goes at twice the target to prove the target, not to raise
         * the estimate further than a short probe would (through a big
         * bucket, a 2 Mbit/s policer's 262 kB, it passes whole). */
        if ((double)result > PROBE_OVER_TARGET * (double)b->probe_target_bps)
            result = (uint64_t)(PROBE_OVER_TARGET * (double)b->probe_target_bps);
        /* A bucket ran dry under it with no queue in sight: a policer
         * below the target. The estimate, which short probes through its
         * full bucket had raised, falls back to what the path has shown;
         * the path is policed (bursts from now on, each costing the media
         * nothing; another paced probe would empty the bucket again and
         * take media with it). */
        if (b->probe_overflowed && sfu_bwe_delay_usage(&b->delay) != SFU_BWE_OVERUSE) {
            uint64_t climb = sfu_bwe_climb_bps(b);
            if (b->est_bps > climb)
                b->est_bps = climb;
            uint64_t passed = sfu_bwe_proof_bps(&b->proof);
            if (!sfu_bwe_policed(b, now) || passed > b->policer_bps)
                b->policer_bps = passed;
            policer_found(b, now);
            b->st.proof_overflows++;
            lossy = true;
            result = 0;
        }
        /* Its arrivals spread: a queue paced them out, which a policer
         * does not. The bottleneck is a queue, and the delay-based
         * estimate rules the climb (a top layer at 3/4 of a 2 Mbit/s
         * link with 10 % random loss is more than any proof probe can
         * prove in a second and a half). */
        else if (saturated)
            b->queue_seen = true;
        b->probe_overflowed = false;
    }
    if (b->probe_burst) {
        /* A burst is judged by what it lost alone: one that got through
         * (as good as) whole says the path carries its nominal rate, no
         * more; it went out faster than any rate, and arrived as close
         * together as the receiver's clock tells. */
        result = burst_through ? nominal : 0;
        saturated = false;
        b->probe_burst = false;
    }
    /* A saturated probe found the path's capacity: sit below it as after
     * an overuse, or its queue never drains. */
    double keep = (saturated ? BETA : PROBE_KEEP) * (double)result;
    if (saturated)
        b->loss_limited_at = SFU_TIME_NEVER;  /* it queued: no policer, no bursts */

    if (result && keep > PROBE_SUCCESS * (double)b->est_bps) {
        b->est_bps = clamp_bps(b, keep);
        b->probe_clear = !saturated;
        if (!saturated)
            b->loss_limited_at = SFU_TIME_NEVER;   /* a burst got through whole: the policer is gone */
        b->cap_known = false;           /* the capacity learnt before is out of date */
        b->st.probes_succeeded++;
        b->probe_backoff = PROBE_BACKOFF_MIN;
        b->next_probe_at = now;
        return;
    }
    b->probe_clear = false;
    if (lossy && b->probe_backoff < PROBE_BACKOFF_LOSSY_MIN)
        b->probe_backoff = PROBE_BACKOFF_LOSSY_MIN;
    b->next_probe_at = now + b->probe_backoff;
    b->probe_backoff *= 2;
    sfu_time max = lossy ? PROBE_BACKOFF_LOSSY_MAX : PROBE_BACKOFF_MAX;
    if (b->probe_backoff > max)
        b->probe_backoff = max;
}

/* ---- rate control ---- */

static void capacity_sample(sfu_bwe *b, double kbps)
{
    if (!b->cap_known) {
        b->cap_known = true;
        b->cap_kbps = kbps;
    } else {
        b->cap_kbps = (1 - CAP_ALPHA) * b->cap_kbps + CAP_ALPHA * kbps;
    }
    double norm = b->cap_kbps > 1 ? b->cap_kbps : 1;
    double err = b->cap_kbps - kbps;
    b->cap_var = (1 - CAP_ALPHA) * b->cap_var + CAP_ALPHA * err * err / norm;
    if (b->cap_var < CAP_VAR_MIN)
        b->cap_var = CAP_VAR_MIN;
    if (b->cap_var > CAP_VAR_MAX)
        b->cap_var = CAP_VAR_MAX;
}

static double cap_sigma_kbps(const sfu_bwe *b)
{
    return sqrt(b->cap_var * b->cap_kbps);
}

static void rate_decrease(sfu_bwe *b, uint64_t acked, sfu_time now)
{
    if (b->last_decrease != SFU_TIME_NEVER && now - b->last_decrease < b->response_time)
        return;
    /* What the path carried: the acknowledged rate, plus what its random
     * (inherent) loss took, which is not a sign of its capacity. */
    double base = acked ? (double)acked / (1 - b->loss.inherent) : (double)b->est_bps;
    double to = BETA * base;
    if (to < (double)b->est_bps)
        b->est_bps = clamp_bps(b, to);
    if (acked) {
        double kbps = base / 1000;
        if (b->cap_known && kbps < b->cap_kbps - 3 * cap_sigma_kbps(b))
            b->cap_known = false;       /* the path got slower: learn it anew */
        capacity_sample(b, kbps);
    }
    b->last_decrease = now;
    b->decreased_since_cut = true;
    b->congested_at = now;
    b->st.overuses++;
}

static void rate_increase(sfu_bwe *b, uint64_t acked, sfu_time dt, sfu_time now)
{
    if (!acked || sfu_bwe_loss_checking(&b->loss))
        return;
    double limit = APP_LIMIT_FACTOR * (double)acked + APP_LIMIT_EXTRA_BPS;
    /* Behind a policer, what it passed is the ceiling until a probe gets
     * through: above it the estimate allowed probes at twice a rate the
     * path cannot carry, and copies into a bucket the media keeps empty. */
    if (sfu_bwe_policed(b, now) && b->policer_bps) {
        /* (or a little past what arrives now: the rate measured while it
         * dropped may fall short of it) */
        double ceiling = (double)b->policer_bps;
        if (ceiling < POLICED_ACKED_HEADROOM * (double)acked)
            ceiling = POLICED_ACKED_HEADROOM * (double)acked;
        if (ceiling < limit)
            limit = ceiling;
    }
    double est = (double)b->est_bps;
    if (est >= limit)
        return;
    double kbps = est / 1000;
    if (b->cap_known && kbps > b->cap_kbps + 3 * cap_sigma_kbps(b))
        b->cap_known = false;           /* well past the old capacity: it grew */
    double secs = (double)dt / 1e6;
    double inc;
    if (b->cap_known) {
        inc = PACKET_BITS * (double)dt / (double)(b->response_time + SFU_MS(100));
        if (inc < 1000 * secs)
            inc = 1000 * secs;
    } else {
        inc = est * (pow(INCREASE_PER_S, secs) - 1);
        if (inc < 1000 * secs)
            inc = 1000 * secs;
    }
    est += inc;
    if (est > limit)
        est = limit;
    if (est > (double)b->est_bps)
        b->est_bps = clamp_bps(b, est);
}

static void loss_restore(sfu_bwe *b, uint64_t to)
{
    if (!b->decreased_since_cut && to > b->est_bps)
        b->est_bps = clamp_bps(b, (double)to);
}

/* `media`: the feedback covered packets outside probes. Without any, the
 * rate is held: a paused viewer's probes alone must not let the
 * app-limited ceiling (1.5 x acked) creep up. */
static void rate_update(sfu_bwe *b, sfu_time now, bool media)
{
    uint64_t acked = acked_bps(b);
    sfu_time dt = b->last_update == SFU_TIME_NEVER ? 0 : now - b->last_update;
    if (dt > UPDATE_MAX_DT)
        dt = UPDATE_MAX_DT;
    if (dt < 0)
        dt = 0;
    b->last_update = now;
    switch (sfu_bwe_delay_usage(&b->delay)) {
    case SFU_BWE_OVERUSE:
        rate_decrease(b, acked, now);
        break;
    case SFU_BWE_UNDERUSE:
        break;
    case SFU_BWE_NORMAL:
        if (media)
            rate_increase(b, acked, dt, now);
        break;
    }
    uint64_t to = 0;
    b->loss.queue_seen = b->last_decrease != SFU_TIME_NEVER && now - b->last_decrease <= POLICER_NO_QUEUE_FOR;
    switch (sfu_bwe_loss_update(&b->loss, b->est_bps, now, &to)) {
    case SFU_BWE_LOSS_CUT:
        b->est_bps = clamp_bps(b, (double)to);
        b->decreased_since_cut = false;
        b->cut_congested_before = b->congested_at;
        b->congested_at = now;
        break;
    case SFU_BWE_LOSS_RESTORE:
        loss_restore(b, to);
        /* The loss was the path's own: not a sign of congestion. */
        b->congested_at = b->cut_congested_before;
        break;
    case SFU_BWE_LOSS_CONFIRMED:
        b->congested_at = now;
        /* Congestion loss with no queue growth seen around it: a policer. */
        if (b->last_decrease == SFU_TIME_NEVER || now - b->last_decrease > POLICER_NO_QUEUE_FOR) {
            /* The most it passed while it dropped: a later cut, on the
             * sparse loss of media just below its rate, measures the
             * media's rate rather than the policer's. */
            if (!sfu_bwe_policed(b, now) || b->loss.cut_delivered_bps > b->policer_bps)
                b->policer_bps = b->loss.cut_delivered_bps;
            policer_found(b, now);
        }
        break;
    case SFU_BWE_LOSS_NONE:
        break;
    }
}

/* ---- feedback ---- */

/* Whether a packet's fate goes to the loss and rate control: not a short
 * probe's (its overflow is the probe's own verdict), but a proof probe's,
 * which carries the media for up to 1.5 s (kept from them, a loss window
 * around it held a few packets and cut the estimate to a fraction of the
 * path: test_bwe_sim, 2M with 10 % loss, 86k). */
static bool loss_counts(const sfu_bwe *b, const sfu_sent_packet *e)
{
    return !e->probe_id || (b->probe.long_probe && e->probe_id == b->probe.id);
}

/* Arrival times on one axis across the 24-bit reference time's wrap. */
static int64_t unwrap_offset(sfu_bwe *b, uint32_t ref)
{
    if (!b->have_ref) {
        b->have_ref = true;
        b->last_ref = ref;
        return b->ref_offset;
    }
    int32_t d = (int32_t)((ref - b->last_ref) << 8) >> 8;  /* signed 24-bit difference */
    int64_t off = b->ref_offset;
    if (d > 0 && ref < b->last_ref)
        off += REF_WRAP;                /* wrapped forward */
    else if (d < 0 && ref > b->last_ref)
        off -= REF_WRAP;                /* a late packet from before the wrap */
    if (d > 0) {
        b->last_ref = ref;
        b->ref_offset = off;
    }
    return off;
}

int sfu_bwe_on_feedback(sfu_bwe *b, const sfu_twcc_feedback *fb, const sfu_twcc_packet *pkts,
                        size_t n, sfu_time now)
{
    if (n > fb->packet_count || (n && !pkts))
        return -SFU_EINVAL;
    int64_t off = unwrap_offset(b, fb->reference_time);
    b->st.feedbacks++;
    sfu_time newest_send = SFU_TIME_NEVER;
    uint32_t media_received = 0;
    for (size_t i = 0; i < n; i++) {
        sfu_sent_packet *e = sfu_send_history_get(&b->hist, pkts[i].seq16);
        if (!e || e->sent_at > now) {
            b->st.unknown_reports++;
            continue;
        }
        if (e->state == SFU_SENT_RECEIVED)
            continue;                   /* reported before */
        if (!pkts[i].received) {
            if (e->state == SFU_SENT_UNREPORTED) {
                e->state = SFU_SENT_LOST;
                b->last_loss_at = now;
                /* A probe's overflow is the probe's own verdict, not the
                 * loss of the rate the estimate allows. */
                if (loss_counts(b, e))
                    sfu_bwe_loss_handle_packet(&b->loss, e->sent_at, e->size_bytes, false, 0);
                sfu_probe_cluster_on_report(&b->probe, e, false, 0);
            }
            continue;
        }
        sfu_time arrival = pkts[i].arrival_us + off;
        bool first_report = e->state == SFU_SENT_UNREPORTED;
        e->state = SFU_SENT_RECEIVED;
        b->have_twcc = true;
        if (newest_send == SFU_TIME_NEVER || e->sent_at > newest_send)
            newest_send = e->sent_at;
        sfu_bwe_delay_handle_packet(&b->delay, e->sent_at, arrival, e->size_bytes);
        acked_add(b, arrival, e->size_bytes);
        if (first_report && !e->copied)     /* (which of the two arrived is not told) */
            sfu_bwe_proof_on_arrival(&b->proof, arrival, e->size_bytes);
        if (loss_counts(b, e))
            media_received++;
        if (first_report) {
            if (loss_counts(b, e))
                sfu_bwe_loss_handle_packet(&b->loss, e->sent_at, e->size_bytes, true, arrival);
            sfu_probe_cluster_on_report(&b->probe, e, true, arrival);
        }
    }
    if (newest_send != SFU_TIME_NEVER) {
        /* The time from sending to hearing about it: an RTT plus the
         * receiver's feedback interval, smoothed. */
        sfu_time sample = now - newest_send;
        b->response_time = (7 * b->response_time + sample) / 8;
        if (b->response_time < RESPONSE_MIN)
            b->response_time = RESPONSE_MIN;
        if (b->response_time > RESPONSE_MAX)
            b->response_time = RESPONSE_MAX;
    }
    /* A probe whose failure the feedback already shows stops here: what it
     * would still send could only be lost, and take media with it. A proof
     * probe runs on through loss that is not a bucket run dry: random loss
     * takes its share of what it proves, no more. */
    sfu_bwe_proof_update(&b->proof);
    if (b->probe_proof ? sfu_probe_cluster_overflowing(&b->probe)
                       : sfu_probe_cluster_failing(&b->probe, b->loss.inherent)) {
        sfu_probe_cluster_stop(&b->probe, now);
        b->probe_overflowed = b->probe_proof;
        b->st.probes_stopped++;
    }
    if (b->have_twcc) {
        rate_update(b, now, media_received > 0);
        probe_judge(b, now);
    }
    return 0;
}

void sfu_bwe_on_remb(sfu_bwe *b, uint64_t bps, sfu_time now)
{
    b->have_remb = true;
    b->remb_bps = bps;
    b->remb_at = now;
}

static bool remb_fresh(const sfu_bwe *b, sfu_time now)
{
    return b->have_remb && now - b->remb_at <= SFU_BWE_REMB_FRESH;
}

uint64_t sfu_bwe_estimate(const sfu_bwe *b, sfu_time now)
{
    if (!b->have_twcc) {
        /* A REMB-only viewer: its REMB while fresh, the last one after. */
        return b->have_remb ? clamp_bps(b, (double)b->remb_bps) : b->est_bps;
    }
    if (remb_fresh(b, now) && b->remb_bps < b->est_bps)
        return clamp_bps(b, (double)b->remb_bps);
    return b->est_bps;
}

void sfu_bwe_stats_get(const sfu_bwe *b, sfu_time now, sfu_bwe_stats *out)
{
    *out = b->st;
    out->estimate_bps = sfu_bwe_estimate(b, now);
    out->delay_loss_bps = b->have_twcc ? b->est_bps : 0;
    out->remb_bps = b->remb_bps;
    out->acked_bps = acked_bps(b);
    out->sent_bps = sent_bps(b, now);
    out->usage = sfu_bwe_delay_usage(&b->delay);
    out->loss_fraction = b->loss.last_fraction;
    out->inherent_loss = b->loss.inherent;
    out->loss_cuts = b->loss.cuts;
    out->loss_restores = b->loss.restores;
    out->loss_confirmed = b->loss.confirmed;
    out->proven_bps = sfu_bwe_proof_bps(&b->proof);
    out->climb_bps = sfu_bwe_climb_bps(b);
}
