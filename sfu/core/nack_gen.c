#include "sfu/core/nack_gen.h"

#include <string.h>

const sfu_nack_config sfu_nack_config_default = {
    .first_delay = SFU_MS(10),
    .retry_interval = SFU_MS(100),
    .max_retries = 10,
    .max_age = SFU_SEC(1),
};

void sfu_nack_gen_init(sfu_nack_gen *g, const sfu_nack_config *cfg)
{
    memset(g, 0, sizeof *g);
    g->cfg = cfg ? *cfg : sfu_nack_config_default;
}

void sfu_nack_gen_reset(sfu_nack_gen *g)
{
    sfu_nack_config cfg = g->cfg;
    sfu_time rtt = g->rtt;
    uint64_t n = g->nacked, r = g->recovered, u = g->given_up + g->nmissing;
    sfu_nack_gen_init(g, &cfg);
    g->rtt = rtt;
    g->nacked = n;
    g->recovered = r;
    g->given_up = u;
}

static bool log_get(const sfu_nack_gen *g, uint64_t seq)
{
    return g->log[(seq / 64) % SFU_ARRAY_LEN(g->log)] >> (seq % 64) & 1;
}

static void log_put(sfu_nack_gen *g, uint64_t seq, bool received)
{
    uint64_t *w = &g->log[(seq / 64) % SFU_ARRAY_LEN(g->log)];
    uint64_t bit = (uint64_t)1 << (seq % 64);
    *w = received ? *w | bit : *w & ~bit;
}

static void remove_at(sfu_nack_gen *g, uint32_t i)
{
    memmove(&g->missing[i], &g->missing[i + 1], (g->nmissing - i - 1) * sizeof g->missing[0]);
    g->nmissing--;
}

/* Gaps are appended in ascending order, so the list stays sorted. */
static void add_missing(sfu_nack_gen *g, uint64_t seq, sfu_time now)
{
    if (g->nmissing == SFU_NACK_MAX_MISSING) {
        remove_at(g, 0);
        g->given_up++;
        g->keyframe_needed = true;
    }
    g->missing[g->nmissing++] = (sfu_nack_missing){ seq, now, now + g->cfg.first_delay, 0 };
}

static bool remove_missing(sfu_nack_gen *g, uint64_t seq)
{
    uint32_t lo = 0, hi = g->nmissing;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (g->missing[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < g->nmissing && g->missing[lo].seq == seq) {
        remove_at(g, lo);
        return true;
    }
    return false;
}

static void advance(sfu_nack_gen *g, uint64_t seq, sfu_time now)
{
    if (seq - g->highest > SFU_NACK_WINDOW) {
        /* Too many lost to ask for one by one: start over from here. */
        sfu_nack_gen_reset(g);
        g->keyframe_needed = true;
        g->started = true;
        g->lowest = seq;
    } else {
        /* Only the newest gaps fit in the list; the older ones of a long
         * burst are given up at once (and a keyframe asked for). A gap
         * across a silence longer than max_silence (a dead path, a
         * restart) is given up whole: its first packets are older than
         * any NACK may ask for, nothing after them decodes without them,
         * and asking for the rest would only queue stale retransmissions
         * in the sender's pacer ahead of the keyframe that repairs it. */
        uint64_t first = g->highest + 1;
        bool stale = g->cfg.max_silence && seq > first && now - g->highest_at > g->cfg.max_silence;
        uint64_t keep = stale ? 0 : SFU_NACK_MAX_MISSING;
        if (seq - first > keep) {
            g->given_up += seq - first - keep;
            g->keyframe_needed = true;
        }
        for (uint64_t q = first; q < seq; q++) {
            log_put(g, q, false);
            if (seq - q <= keep)
                add_missing(g, q, now);
        }
        /* Entries that fell out of the receive log cannot be told apart
         * from duplicates any more. */
        while (g->nmissing && g->missing[0].seq + SFU_NACK_WINDOW <= seq) {
            remove_at(g, 0);
            g->given_up++;
        }
    }
    g->highest = seq;
    g->highest_at = now;
    log_put(g, seq, true);
}

/* A packet older than the first one seen: the stream started with
 * reordering, and the numbers between it and the first are gaps too
 * (otherwise nothing would ever ask for them). They go in front. */
static void extend_below(sfu_nack_gen *g, uint64_t seq, sfu_time now)
{
    uint64_t gap = g->lowest - seq - 1;
    if (gap == 0 || gap > SFU_NACK_MAX_BELOW || g->nmissing + gap > SFU_NACK_MAX_MISSING)
        return;
    memmove(&g->missing[gap], &g->missing[0], g->nmissing * sizeof g->missing[0]);
    for (uint64_t k = 0; k < gap; k++)
        g->missing[k] = (sfu_nack_missing){ seq + 1 + k, now, now + g->cfg.first_delay, 0 };
    g->nmissing += (uint32_t)gap;
}

sfu_nack_result sfu_nack_gen_handle_packet(sfu_nack_gen *g, uint64_t seq, sfu_time now)
{
    if (!g->started) {
        g->started = true;
        g->highest = g->lowest = seq;
        g->highest_at = now;
        log_put(g, seq, true);
        return SFU_NACK_NEW;
    }
    if (seq < g->lowest && g->highest - seq < SFU_NACK_WINDOW) {
        extend_below(g, seq, now);
        g->lowest = seq;
    }
    if (seq > g->highest) {
        advance(g, seq, now);
        return SFU_NACK_NEW;
    }
    if (g->highest - seq >= SFU_NACK_WINDOW)
        return SFU_NACK_TOO_OLD;
    if (log_get(g, seq))
        return SFU_NACK_DUPLICATE;
    log_put(g, seq, true);
    if (remove_missing(g, seq))
        g->recovered++;
    return SFU_NACK_RECOVERED;
}

size_t sfu_nack_gen_handle_timeout(sfu_nack_gen *g, sfu_time now, uint64_t *seqs, size_t cap)
{
    size_t n = 0;
    sfu_time retry = g->cfg.retry_interval > g->rtt ? g->cfg.retry_interval : g->rtt;
    uint32_t w = 0;
    for (uint32_t i = 0; i < g->nmissing; i++) {
        sfu_nack_missing m = g->missing[i];
        bool due = m.next_at <= now;
        if (due && (m.retries >= g->cfg.max_retries || now - m.lost_at > g->cfg.max_age)) {
            g->given_up++;
            continue;
        }
        if (due && n < cap) {
            seqs[n++] = m.seq;
            m.retries++;
            m.next_at = now + retry;
            g->nacked++;
        }
        g->missing[w++] = m;
    }
    g->nmissing = w;
    return n;
}

sfu_time sfu_nack_gen_poll_timeout(const sfu_nack_gen *g)
{
    sfu_time t = SFU_TIME_NEVER;
    for (uint32_t i = 0; i < g->nmissing; i++)
        if (g->missing[i].next_at < t)
            t = g->missing[i].next_at;
    return t;
}

void sfu_nack_gen_set_rtt(sfu_nack_gen *g, sfu_time rtt) { g->rtt = rtt > 0 ? rtt : 0; }

bool sfu_nack_gen_take_keyframe_request(sfu_nack_gen *g)
{
    bool k = g->keyframe_needed;
    g->keyframe_needed = false;
    return k;
}

bool sfu_nack_gen_is_missing(const sfu_nack_gen *g, uint64_t seq)
{
    uint32_t lo = 0, hi = g->nmissing;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->missing[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->nmissing && g->missing[lo].seq == seq;
}
