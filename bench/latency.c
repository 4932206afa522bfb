#include "bench/latency.h"

#include <glib.h>
#include <stdlib.h>

/* FNV-1a over the length and the first 128 bytes (compressed media is
 * random enough there), then a finalizer so the low bits index well. */
uint64_t bench_hash(const uint8_t *p, size_t n)
{
    uint64_t h = (0xcbf29ce484222325ull ^ n) * 0x100000001b3ull;
    for (size_t i = 0; i < n && i < 128; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h | 1;   /* 0 marks an empty slot */
}

bench_stamps *bench_stamps_new(unsigned bits)
{
    bench_stamps *t = g_malloc0(sizeof *t + sizeof t->slot[0] * ((size_t)1 << bits));
    t->mask = ((uint64_t)1 << bits) - 1;
    return t;
}

void bench_stamps_free(bench_stamps *t) { g_free(t); }

void bench_stamps_put(bench_stamps *t, const uint8_t *payload, size_t n, sfu_time sent_at)
{
    uint64_t h = bench_hash(payload, n);
    bench_stamp *s = &t->slot[h & t->mask];
    s->hash = h;
    s->sent_at = sent_at;
}

sfu_time bench_stamps_get(const bench_stamps *t, const uint8_t *payload, size_t n)
{
    uint64_t h = bench_hash(payload, n);
    const bench_stamp *s = &t->slot[h & t->mask];
    return s->hash == h ? s->sent_at : -1;
}

void bench_hist_add(bench_hist *h, sfu_time us)
{
    if (us < 0)
        us = 0;
    uint64_t b = (uint64_t)us / BENCH_HIST_BUCKET_US;
    if (b >= BENCH_HIST_BUCKETS)
        h->overflow++;
    else
        h->bucket[b]++;
    h->count++;
}

double bench_hist_quantile(const bench_hist *h, double q)
{
    if (h->count == 0)
        return -1;
    uint64_t rank = (uint64_t)(q * (double)(h->count - 1)) + 1, seen = 0;
    for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++) {
        seen += h->bucket[b];
        if (seen >= rank)
            return (double)(b + 1) * BENCH_HIST_BUCKET_US;
    }
    return (double)BENCH_HIST_BUCKETS * BENCH_HIST_BUCKET_US;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_quantile_sorted(double *v, size_t n, double q)
{
    if (n == 0)
        return -1;
    qsort(v, n, sizeof *v, cmp_double);
    return v[(size_t)(q * (double)(n - 1) + 0.5)];
}
