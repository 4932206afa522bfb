/* One viewer's view of one producer. See consumer.h. */
#include "sfu/core/consumer.h"

#include "sfu/core/keyframe_cache.h"

#include <string.h>

/* A cheap mix so that first sequence numbers, timestamps and RTX counters
 * differ between viewers without a random source in the core. */
static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

void sfu_consumer_init(sfu_consumer *c, uint32_t local_ssrc, uint32_t local_rtx_ssrc, uint32_t clock_rate)
{
    memset(c, 0, sizeof *c);
    c->layer = c->target = -1;
    c->max_quality = -1;
    c->pinned = -1;
    c->up_quality = -1;
    c->max_tid = c->want_tid = SFU_CONSUMER_ALL_TIDS;
    uint32_t h = mix32(local_ssrc);
    sfu_seq_init(&c->seq, (uint16_t)h, mix32(h), clock_rate);
    c->rtx_seq16 = (uint16_t)(mix32(local_rtx_ssrc) & 0x7fff);
    sfu_vp8_rewriter_init(&c->vp8);
}

/* What belongs to the stream forwarded so far. */
static void forget_stream(sfu_consumer *c)
{
    c->vp8_restart = true;
    c->draining = false;
    c->have_key = c->squeezed = c->replayed = false;
}

void sfu_consumer_start(sfu_consumer *c, int layer, uint32_t epoch, bool gated)
{
    c->layer = c->target = (int8_t)layer;
    c->epoch = epoch;
    c->have_fir_seq = false;
    c->waiting_keyframe = gated;
    c->resume_at_key = false;
    forget_stream(c);
}

bool sfu_consumer_set_target(sfu_consumer *c, int layer, uint32_t epoch)
{
    if (layer == c->target || layer < 0)
        return false;
    c->target = (int8_t)layer;
    if (layer == c->layer)
        return c->draining; /* back to the layer still forwarded: no switch; held back, it waits for a keyframe */
    if (c->waiting_keyframe) {
        /* Nothing forwarded yet: wait for the new layer's keyframe instead. */
        c->layer = (int8_t)layer;
        c->epoch = epoch;
        forget_stream(c);
    }
    return true;
}

void sfu_consumer_drain(sfu_consumer *c)
{
    if (sfu_consumer_switch_pending(c))
        c->draining = true;
}

bool sfu_consumer_set_paused(sfu_consumer *c, bool paused)
{
    if (paused == c->paused)
        return false;
    c->paused = paused;
    c->resume_at_key = !paused && !c->waiting_keyframe;
    return c->resume_at_key;
}

bool sfu_consumer_switch_pending(const sfu_consumer *c)
{
    return !c->waiting_keyframe && c->target >= 0 && c->target != c->layer;
}

bool sfu_consumer_waits_for(const sfu_consumer *c, int layer)
{
    if (c->paused)
        return false;
    return (c->resume_at_key && c->layer == layer) || (c->waiting_keyframe && c->layer == layer) || (sfu_consumer_switch_pending(c) && c->target == layer) ||
           (c->draining && c->target == c->layer && c->layer == layer);
}

sfu_consumer_gate sfu_consumer_gate_packet(sfu_consumer *c, int layer, uint32_t epoch, bool keyframe)
{
    if (layer != c->layer) {
        if (!keyframe || !sfu_consumer_switch_pending(c) || layer != c->target)
            return SFU_CONSUMER_SKIP;
        /* The target's keyframe: switch here. The mapping continues the
         * viewer's numbering and timestamps (a new epoch), the VP8 counters
         * continue one past the highest sent. */
        c->layer = (int8_t)layer;
        c->epoch = epoch;
        forget_stream(c);
        c->switches++;
        return SFU_CONSUMER_STARTED;
    }
    if (c->paused) /* out of the numbering, once it has one */
        return c->waiting_keyframe ? SFU_CONSUMER_SKIP : SFU_CONSUMER_DRAIN;
    if (c->waiting_keyframe) {
        if (!keyframe)
            return SFU_CONSUMER_SKIP;
        c->waiting_keyframe = false;
        return SFU_CONSUMER_STARTED;
    }
    if (c->resume_at_key) {
        /* Unpaused: out of the numbering until a keyframe. */
        if (!keyframe)
            return SFU_CONSUMER_DRAIN;
        c->resume_at_key = false;
        return SFU_CONSUMER_STARTED;
    }
    if (c->draining) {
        /* Held back: until the switch, or, with the target back on this
         * layer, until its keyframe (the viewer lacks what was held). */
        if (!keyframe || c->target != c->layer)
            return SFU_CONSUMER_DRAIN;
        c->draining = false;
        return SFU_CONSUMER_STARTED;
    }
    return SFU_CONSUMER_FORWARD;
}

uint32_t sfu_consumer_squeeze(const sfu_consumer *c, uint32_t epoch, uint64_t seq, uint32_t ts)
{
    if (c->squeezed && epoch == c->sq_epoch && seq <= c->sq_to && seq >= c->sq_from)
        return sfu_keyframe_cache_squeeze(ts, c->sq_anchor_ts);
    return ts;
}

int sfu_consumer_map(sfu_consumer *c, uint32_t epoch, uint64_t seq, uint32_t ts, sfu_time now,
                     uint16_t *out_seq16, uint32_t *out_ts)
{
    int rc = sfu_seq_map(&c->seq, epoch, seq, ts, now, out_seq16, out_ts);
    if (rc == 0)
        *out_ts = sfu_consumer_squeeze(c, epoch, seq, *out_ts);
    return rc;
}

void sfu_consumer_skip(sfu_consumer *c, uint32_t epoch, uint64_t seq) { sfu_seq_drop(&c->seq, epoch, seq); }

void sfu_consumer_map_vp8(sfu_consumer *c, const sfu_vp8_desc *d, uint16_t *picture_id, uint8_t *tl0picidx)
{
    sfu_vp8_rewriter_map(&c->vp8, d, c->vp8_restart, picture_id, tl0picidx);
    c->vp8_restart = false;
}

void sfu_consumer_sent(sfu_consumer *c, bool retransmission, bool keyframe, uint64_t seq, uint32_t bytes)
{
    if (retransmission)
        return;
    if (keyframe) {
        c->have_key = true;
        c->key_seq = seq;
    }
    c->packets++;
    c->octets += bytes;
}

uint16_t sfu_consumer_next_rtx_seq(sfu_consumer *c) { return c->rtx_seq16++; }

void sfu_consumer_set_max_tid(sfu_consumer *c, uint8_t tid)
{
    c->want_tid = tid > SFU_CONSUMER_ALL_TIDS ? SFU_CONSUMER_ALL_TIDS : tid;
}

bool sfu_consumer_temporal_pass(sfu_consumer *c, const sfu_vp8_desc *d)
{
    if (!d->has_tid)
        return true;
    if (d->keyframe) {
        c->max_tid = c->want_tid; /* everything after it decodes from it */
    } else if (d->start && d->pid == 0 && c->want_tid != c->max_tid) {
        /* RFC 7741 4.2: Y says the picture depends only on base-layer
         * pictures, so the layers up to its TID can start here. */
        if (c->want_tid < c->max_tid)
            c->max_tid = c->want_tid;
        else if (d->layer_sync && d->tid > c->max_tid && d->tid <= c->want_tid)
            c->max_tid = d->tid;
    }
    return d->tid <= c->max_tid;
}

bool sfu_consumer_tid_wanted(const sfu_consumer *c, const sfu_vp8_desc *d)
{
    return !d->has_tid || d->tid <= c->max_tid;
}

void sfu_consumer_drop(sfu_consumer *c, uint32_t epoch, uint64_t seq, const sfu_vp8_desc *d)
{
    sfu_seq_drop(&c->seq, epoch, seq);
    sfu_vp8_rewriter_drop(&c->vp8, d);
}

int sfu_consumer_unmap(const sfu_consumer *c, uint16_t out_seq16, uint32_t *epoch, uint64_t *seq,
                       uint32_t *ts_off)
{
    return sfu_seq_unmap(&c->seq, out_seq16, epoch, seq, ts_off);
}

bool sfu_consumer_rtx_useful(const sfu_consumer *c, uint32_t epoch, uint64_t seq)
{
    if (!c->have_key)
        return true;
    /* Before the keyframe it decodes from: on this stream, or on the layer
     * it switched away from. */
    return epoch == c->epoch && seq >= c->key_seq;
}

sfu_time sfu_consumer_rtx_window(const sfu_consumer *c)
{
    if (c->rtt <= 0)
        return SFU_CONSUMER_RTX_USEFUL_UNKNOWN;
    sfu_time w = 2 * c->rtt + SFU_CONSUMER_RTX_USEFUL_BASE;
    return w < SFU_CONSUMER_RTX_USEFUL_MAX ? w : SFU_CONSUMER_RTX_USEFUL_MAX;
}

/* Each retransmission moves the theoretical time on by one interval
 * (1 s / rate); refused while that time runs more than half a second ahead
 * of now. */
bool sfu_consumer_rtx_take(sfu_consumer *c, uint32_t rate, sfu_time now)
{
    if (rate == 0)
        rate = SFU_CONSUMER_RTX_DEFAULT_RATE;
    sfu_time interval = SFU_SEC(1) / rate;
    sfu_time tat = c->rtx_tat > now ? c->rtx_tat : now;
    if (tat - now >= SFU_MS(500) && tat - now >= interval)
        return false;
    c->rtx_tat = tat + (interval > 0 ? interval : 1);
    return true;
}

bool sfu_consumer_replay_wanted(const sfu_consumer *c, uint32_t epoch, uint64_t from, sfu_time now)
{
    if (epoch != c->epoch || c->paused || c->resume_at_key)
        return false; /* a resuming one waits for a fresh keyframe, asked for */
    if (c->waiting_keyframe)
        return true;
    if (c->replayed && c->replayed_key == from && now - c->replayed_at < SFU_CONSUMER_REPLAY_REPEAT)
        return false; /* the same replay did not help: the publisher is asked */
    return c->seq.epoch == epoch && c->seq.started;
}

void sfu_consumer_replay_join(sfu_consumer *c, uint64_t from, uint64_t to, uint32_t first_src_ts,
                              uint32_t first_out_ts, uint32_t anchor_src_ts)
{
    /* The newest replayed packet's out timestamp anchors the squeeze. */
    c->waiting_keyframe = false;
    c->squeezed = true;
    c->sq_epoch = c->epoch;
    c->sq_from = from;
    c->sq_to = to;
    c->sq_anchor_ts = anchor_src_ts + (first_out_ts - first_src_ts);
}

void sfu_consumer_replay_done(sfu_consumer *c, uint64_t from, sfu_time now)
{
    c->replayed = true;
    c->replayed_key = from;
    c->replayed_at = now;
    c->have_key = true;
    c->key_seq = from;
}

void sfu_consumer_sr_sent(sfu_consumer *c, uint64_t ntp, sfu_time now)
{
    c->sr_mid32 = sfu_ntp_mid32(ntp);
    c->sr_at = now;
}

void sfu_consumer_handle_report(sfu_consumer *c, const sfu_rtcp_report_block *b, bool audio, sfu_time now)
{
    /* a viewer's loss on audio sets how many copies it gets (audio_copies.h) */
    if (audio)
        (void)sfu_audio_copies_on_report(&c->copies, b->fraction_lost);
    if (!b->lsr || b->lsr != c->sr_mid32)
        return;
    sfu_time rtt = now - c->sr_at - sfu_rtcp_dlsr_to_us(b->dlsr);
    if (rtt >= 0 && rtt < SFU_SEC(10))
        c->rtt = rtt > 0 ? rtt : 1;
}

bool sfu_consumer_fir_is_new(sfu_consumer *c, uint8_t seq_nr)
{
    if (c->have_fir_seq && c->last_fir_seq == seq_nr)
        return false;
    c->have_fir_seq = true;
    c->last_fir_seq = seq_nr;
    return true;
}

void sfu_consumer_set_max_quality(sfu_consumer *c, int quality)
{
    c->max_quality = (int8_t)(quality < 0 ? -1 : quality > 127 ? 127 : quality);
}

void sfu_consumer_set_limit(sfu_consumer *c, uint32_t bps) { c->limit_bps = bps; }

void sfu_consumer_set_climb(sfu_consumer *c, uint32_t bps) { c->climb_bps = bps; }

int sfu_consumer_choose(sfu_consumer *c, const sfu_consumer_quality *q, int n, int current, sfu_time now)
{
    int top = n - 1;
    if (c->max_quality >= 0 && c->max_quality < top)
        top = c->max_quality;
    int lowest = -1, best = -1, fit = -1;
    for (int i = 0; i < n; i++) {
        if (!q[i].active)
            continue;
        if (lowest < 0)
            lowest = i;
        if (i <= top) {
            best = i;
            if (c->limit_bps == 0 || q[i].bitrate_bps <= c->limit_bps)
                fit = i;
        }
    }
    if (lowest < 0)
        return -1;
    int want = fit >= 0 ? fit : best >= 0 && c->limit_bps == 0 ? best : lowest;
    if (current < 0 || current >= n || !q[current].active || want <= current) {
        c->up_quality = -1; /* down (or staying) at once */
        return want;
    }
    /* Up: only once it has fitted for a while (an estimate that probes up
     * and falls back does not make the viewer switch twice). */
    if (c->limit_bps == 0)
        return want; /* no estimate: nothing to wait for */
    if (c->up_quality != want) {
        c->up_quality = (int8_t)want;
        c->up_since = now;
        return current;
    }
    if (now - c->up_since < SFU_CONSUMER_UP_HOLD)
        return current;
    if (c->climb_bps) {
        /* Not above what the path has shown it carries: as far up as
         * that allows, the hold kept for the rest. */
        int ok = current;
        for (int i = current + 1; i < want; i++)
            if (q[i].active && q[i].bitrate_bps <= c->climb_bps)
                ok = i;
        if (q[want].bitrate_bps > c->climb_bps)
            return ok;
    }
    c->up_quality = -1;
    return want;
}
