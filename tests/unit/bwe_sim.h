/* The virtual-clock bottleneck simulation test_bwe_sim.c runs: a paced
 * (or frame-bursty) sender that reports each packet to the estimator, a
 * link with a capacity schedule, a drop-tail queue or a token-bucket
 * policer, random loss and a propagation delay, and a receiver that sends
 * transport-cc feedback every 100 ms built with sfu_twcc_build_all, parsed
 * back with sfu_twcc_parse. Samples every 100 ms for the assertions. */
#ifndef TESTS_BWE_SIM_H
#define TESTS_BWE_SIM_H

#include "sfu/core/bwe.h"
#include "sfu/core/layer_choice.h"
#include "sfu/core/rtcp.h"
#include "sfu/core/rtcp_twcc.h"
#include "tests/test.h"

#define PKT 1200
#define TICK SFU_MS(1)
#define FB_INTERVAL SFU_MS(100)
#define MAX_STEPS 8
#define MAX_SECS 120
#define SAMPLES (MAX_SECS * 10)     /* one per 100 ms */
#define RING 65536
#define FIRST_TSEQ 65000            /* the 16-bit numbers wrap early in each run */
/* The receiver's clock: 20 s before the 24-bit reference time wraps. */
#define RX_CLOCK_BASE (((sfu_time)SFU_TWCC_REF_US << 24) - SFU_SEC(20))

typedef struct step {
    sfu_time at;
    uint64_t capacity_bps;
} step;

typedef struct scenario {
    const char *name;
    step steps[MAX_STEPS];          /* capacity from each `at` on; ends at at == 0 after the first */
    sfu_time queue;                 /* drop-tail: a packet that would wait longer is dropped */
    uint32_t policer_burst;         /* bytes; > 0: a token-bucket policer instead of a queue
                                       (nftables `limit rate over ... burst ... drop`) */
    int loss_permille;
    sfu_time prop;                  /* one way, both directions */
    uint64_t demand_bps;            /* what the sender would send (no layers) */
    sfu_time frame;                 /* > 0: media leaves in one burst per frame, unpaced,
                                       as an SFU forwards it */
    const uint64_t *layers;         /* simulcast layers instead of demand; NULL none */
    size_t nlayers;
    sfu_time end;
    uint64_t seed;                  /* 0: the default (or BWE_SIM_SEED) */
} scenario;

typedef struct arrival_ev {
    sfu_time at;
    uint16_t seq16;
} arrival_ev;

typedef struct fb_ev {
    sfu_time at;
    uint16_t len;
    uint8_t data[1500];
} fb_ev;

typedef struct sim {
    const scenario *sc;
    uint64_t rng;
    sfu_time now;
    sfu_bwe *bwe;
    sfu_layer_choice lc;
    int layer;
    /* Link */
    uint64_t capacity;
    sfu_time free_at;
    double tokens;                  /* policer: bytes */
    sfu_time tokens_at;
    arrival_ev *arr;                /* FIFO: the link does not reorder */
    size_t arr_head, arr_tail;
    /* Receiver */
    sfu_twcc_arrival *rx;
    size_t nrx;
    sfu_twcc_build_args fb_args;
    bool fb_started;
    sfu_time next_fb;
    fb_ev *fbq;
    size_t fb_head, fb_tail;
    /* Sender */
    uint16_t tseq;
    sfu_time frame_all;             /* BWE_SIM_FRAME_MS: every case bursty, to explore */
    double media_credit, pad_credit;    /* bits */
    uint64_t sent_bytes, pad_bytes, probes;
    /* Samples every 100 ms */
    uint64_t est[SAMPLES];
    int layer_at[SAMPLES];
    sfu_time qdelay_max[SAMPLES];
    uint64_t delivered_bytes[SAMPLES];
    sfu_time qdelay_cur_max;
    uint64_t delivered_cur;
    uint64_t drops_queue, drops_random;
} sim;

static uint32_t rnd(sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (uint32_t)(s->rng >> 11);
}

static void link_send(sim *s, uint16_t seq16)
{
    if (s->sc->loss_permille && (int)(rnd(s) % 1000) < s->sc->loss_permille) {
        s->drops_random++;
        return;
    }
    if (s->sc->policer_burst) {
        s->tokens += (double)s->capacity / 8 * (double)(s->now - s->tokens_at) / 1e6;
        s->tokens_at = s->now;
        /* nftables' byte limit holds a second at its rate on top of the
         * burst (nft_limit.c: tokens_max = unit * (rate + burst) / rate). */
        double max = (double)s->capacity / 8 + s->sc->policer_burst;
        if (s->tokens > max)
            s->tokens = max;
        if (s->tokens < PKT) {
            s->drops_queue++;
            return;
        }
        s->tokens -= PKT;
        s->arr[s->arr_tail++ % RING] = (arrival_ev){ s->now + s->sc->prop, seq16 };
        return;
    }
    sfu_time wait = s->free_at > s->now ? s->free_at - s->now : 0;
    if (wait > s->sc->queue) {
        s->drops_queue++;
        return;
    }
    if (wait > s->qdelay_cur_max)
        s->qdelay_cur_max = wait;
    sfu_time start = s->free_at > s->now ? s->free_at : s->now;
    s->free_at = start + (sfu_time)((uint64_t)PKT * 8 * 1000000 / s->capacity);
    s->arr[s->arr_tail++ % RING] = (arrival_ev){ s->free_at + s->sc->prop, seq16 };
}

static void send_packet(sim *s, bool padding)
{
    uint16_t seq16 = s->tseq++;
    sfu_bwe_on_packet_sent(s->bwe, seq16, PKT, s->now);
    s->sent_bytes += PKT;
    if (padding)
        s->pad_bytes += PKT;
    link_send(s, seq16);
}

static void receiver_feedback(sim *s)
{
    if (s->nrx == 0)
        return;
    if (!s->fb_started) {
        s->fb_args = (sfu_twcc_build_args){ .sender_ssrc = 7, .media_ssrc = 9,
                                            .base_seq16 = s->rx[0].seq16 };
        s->fb_started = true;
    }
    static uint8_t out[16384];
    int n = sfu_twcc_build_all(out, sizeof out, 1200, &s->fb_args, s->rx, s->nrx);
    if (n <= 0)
        abort();                    /* the builder accepts what the link delivers */
    size_t off = 0;
    sfu_rtcp_common c;
    size_t start = 0;
    while (sfu_rtcp_next(out, (size_t)n, &off, &c) == 1) {
        fb_ev *f = &s->fbq[s->fb_tail++ % 1024];
        f->at = s->now + s->sc->prop;
        f->len = (uint16_t)(off - start);
        memcpy(f->data, out + start, f->len);
        start = off;
    }
    s->nrx = 0;
}

static void sender_feedback(sim *s, const fb_ev *f)
{
    static sfu_twcc_packet pk[8192];
    size_t off = 0;
    sfu_rtcp_common c;
    if (sfu_rtcp_next(f->data, f->len, &off, &c) != 1)
        abort();
    sfu_twcc_feedback fb;
    if (sfu_twcc_parse(&c, &fb, pk, SFU_ARRAY_LEN(pk)) != 0)
        abort();
    if (sfu_bwe_on_feedback(s->bwe, &fb, pk, fb.packet_count, s->now) != 0)
        abort();
}

static void apply_steps(sim *s)
{
    for (int i = 0; i < MAX_STEPS; i++) {
        const step *st = &s->sc->steps[i];
        if (i > 0 && st->at == 0)
            break;
        if (st->at == s->now)
            s->capacity = st->capacity_bps;
    }
}

static void sender_tick(sim *s)
{
    uint64_t est = sfu_bwe_estimate(s->bwe, s->now);
    uint64_t rate, target;
    if (s->sc->layers) {
        /* As the room's consumer: no higher than the path has proved. */
        s->lc.climb_bps = sfu_bwe_climb_bps(s->bwe);
        s->layer = sfu_layer_choice_update(&s->lc, est, s->sc->layers, s->sc->nlayers, 99, s->now);
        rate = s->layer >= 0 ? s->sc->layers[s->layer] : 0;
        target = sfu_layer_choice_probe_target(&s->lc, s->sc->layers, s->sc->nlayers, 99);
    } else {
        rate = est < s->sc->demand_bps ? est : s->sc->demand_bps;
        target = s->sc->demand_bps;
    }
    sfu_bwe_probe probe;
    bool burst = false;
    if (target && sfu_bwe_poll_probe(s->bwe, target, s->now, &probe)) {
        s->probes++;
        burst = probe.burst;
    }
    s->media_credit += (double)rate * TICK / 1e6;
    /* Unpaced: a frame's packets leave together at its boundary. */
    sfu_time frame = s->sc->frame ? s->sc->frame : s->frame_all;
    bool frame_due = !frame || s->now % frame == 0;
    while (frame_due && s->media_credit >= PKT * 8) {
        s->media_credit -= PKT * 8;
        send_packet(s, false);
    }
    if (burst) {
        /* A policed path's probe: all at once, after the media (bwe.h). */
        for (size_t b = 0; b < probe.bytes; b += PKT)
            send_packet(s, true);
        sfu_bwe_probe_end(s->bwe, s->now);
    }
    uint64_t prate = sfu_bwe_probe_rate(s->bwe);
    if (prate > rate) {
        s->pad_credit += (double)(prate - rate) * TICK / 1e6;
        while (s->pad_credit >= PKT * 8 && sfu_bwe_probe_rate(s->bwe)) {
            s->pad_credit -= PKT * 8;
            send_packet(s, true);
        }
    } else {
        s->pad_credit = 0;
    }
}

static void run(sim *s, const scenario *sc)
{
    memset(s, 0, sizeof *s);
    s->sc = sc;
    s->rng = 0x9e3779b97f4a7c15ull;
    const char *frame = getenv("BWE_SIM_FRAME_MS");
    if (frame)
        s->frame_all = SFU_MS(atoi(frame));
    const char *seed = getenv("BWE_SIM_SEED");     /* to explore: the assertions hold for the default */
    uint64_t seed_n = sc->seed ? sc->seed : seed ? strtoull(seed, NULL, 0) : 0;
    if (seed_n)
        s->rng ^= seed_n * 0x2545f4914f6cdd1dull;
    s->bwe = sfu_bwe_new(NULL);
    s->arr = calloc(RING, sizeof *s->arr);
    s->rx = calloc(RING, sizeof *s->rx);
    s->fbq = calloc(1024, sizeof *s->fbq);
    if (!s->bwe || !s->arr || !s->rx || !s->fbq)
        abort();
    sfu_layer_choice_init(&s->lc, NULL);
    s->layer = -1;
    s->tseq = FIRST_TSEQ;
    s->tokens = sc->policer_burst;
    s->next_fb = FB_INTERVAL;
    for (s->now = 0; s->now < sc->end; s->now += TICK) {
        apply_steps(s);
        while (s->arr_head != s->arr_tail && s->arr[s->arr_head % RING].at <= s->now) {
            arrival_ev *a = &s->arr[s->arr_head++ % RING];
            s->rx[s->nrx++] = (sfu_twcc_arrival){ a->seq16, RX_CLOCK_BASE + a->at };
            s->delivered_cur += PKT;
        }
        while (s->fb_head != s->fb_tail && s->fbq[s->fb_head % 1024].at <= s->now)
            sender_feedback(s, &s->fbq[s->fb_head++ % 1024]);
        if (s->now >= s->next_fb) {
            receiver_feedback(s);
            s->next_fb += FB_INTERVAL;
        }
        sender_tick(s);
        if (s->now % SFU_MS(100) == 0) {
            size_t k = (size_t)(s->now / SFU_MS(100));
            s->est[k] = sfu_bwe_estimate(s->bwe, s->now);
            s->layer_at[k] = s->layer;
            s->qdelay_max[k] = s->qdelay_cur_max;
            s->delivered_bytes[k] = s->delivered_cur;
            s->qdelay_cur_max = 0;
            s->delivered_cur = 0;
        }
    }
}

static size_t idx(sfu_time t) { return (size_t)(t / SFU_MS(100)); }

static void done(sim *s)
{
    if (getenv("BWE_SIM_TRACE"))
        for (size_t k = 0; k < idx(s->sc->end); k += 5)
            printf("    %5.1f s  est %5" PRIu64 "  layer %2d  qdelay %3" PRId64 " ms  delivered %5" PRIu64 "\n",
                   (double)k / 10, s->est[k] / 1000, s->layer_at[k], (int64_t)(s->qdelay_max[k] / 1000),
                   s->delivered_bytes[k] * 80 / 1000);
    sfu_bwe_free(s->bwe);
    free(s->arr);
    free(s->rx);
    free(s->fbq);
}


/* Over [from, to): the lowest, mean and highest estimate, the mean
 * delivered rate and the highest queueing delay. */
typedef struct span_stats {
    uint64_t est_min, est_mean, est_max, delivered_bps;
    sfu_time qdelay_max;
} span_stats;

static span_stats span(const sim *s, sfu_time from, sfu_time to)
{
    span_stats r = { .est_min = UINT64_MAX };
    uint64_t sum = 0, del = 0;
    size_t n = 0;
    for (size_t k = idx(from); k < idx(to); k++, n++) {
        if (s->est[k] < r.est_min)
            r.est_min = s->est[k];
        if (s->est[k] > r.est_max)
            r.est_max = s->est[k];
        if (s->qdelay_max[k] > r.qdelay_max)
            r.qdelay_max = s->qdelay_max[k];
        sum += s->est[k];
        del += s->delivered_bytes[k];
    }
    r.est_mean = n ? sum / n : 0;
    r.delivered_bps = n ? del * 8 * 10 / n : 0;
    return r;
}

/* The first sample time at or after `from` where the estimate is below
 * (above when `above`) `bps`; SFU_TIME_NEVER if none before `to`. */
static sfu_time first_cross(const sim *s, sfu_time from, sfu_time to, uint64_t bps, bool above)
{
    for (size_t k = idx(from); k < idx(to); k++)
        if (above ? s->est[k] > bps : s->est[k] < bps)
            return (sfu_time)k * SFU_MS(100);
    return SFU_TIME_NEVER;
}

static sfu_time first_layer(const sim *s, sfu_time from, sfu_time to, int layer)
{
    for (size_t k = idx(from); k < idx(to); k++)
        if (s->layer_at[k] == layer)
            return (sfu_time)k * SFU_MS(100);
    return SFU_TIME_NEVER;
}

static void print_span(const char *name, const char *what, span_stats r)
{
    printf("  %s %s: estimate min %" PRIu64 " mean %" PRIu64 " max %" PRIu64
           " kbit/s, delivered %" PRIu64 " kbit/s, queue delay max %" PRId64 " ms\n",
           name, what, r.est_min / 1000, r.est_mean / 1000, r.est_max / 1000,
           r.delivered_bps / 1000, (int64_t)(r.qdelay_max / 1000));
}

static void print_stats(const sim *s)
{
    sfu_bwe_stats st;
    sfu_bwe_stats_get(s->bwe, s->now, &st);
    printf("  %s: overuses %" PRIu64 ", loss cuts %" PRIu64 " (restored %" PRIu64
           "), inherent loss %.3f, probes %" PRIu64 " (raised %" PRIu64 "), drops queue %" PRIu64
           " random %" PRIu64 ", padding %" PRIu64 " of %" PRIu64 " kB\n",
           s->sc->name, st.overuses, st.loss_cuts, st.loss_restores, st.inherent_loss,
           st.probes_sent, st.probes_succeeded, s->drops_queue, s->drops_random,
           s->pad_bytes / 1000, s->sent_bytes / 1000);
}

#define LINK(cap) { { 0, (cap) } }

#endif
