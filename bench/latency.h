/* One-way latency through the SFU, measured inside the bench process.
 *
 * Senders stamp each payload they send: a direct-mapped table keyed by a
 * 64-bit hash of the payload bytes keeps the latest send time. Receivers
 * hash what they decrypted and look it up (the SFU may rewrite headers and
 * strip extensions, so only payload bytes are matched; for VP8 the payload
 * descriptor is skipped because the SFU rewrites the PictureID). A slot
 * taken by a newer packet just loses the older sample.
 *
 * A histogram of 10 us buckets up to 2 s gives the percentiles. Single
 * thread: everything runs on the media loop. */
#ifndef BENCH_LATENCY_H
#define BENCH_LATENCY_H

#include "sfu/core/common.h"

#define BENCH_HIST_BUCKET_US 10
#define BENCH_HIST_BUCKETS 200000

typedef struct bench_stamp {
    uint64_t hash;
    sfu_time sent_at;
} bench_stamp;

/* One table per publisher (several publishers replay the same loop, so
 * identical payloads from two of them must never meet in one table). */
typedef struct bench_stamps {
    uint64_t mask;              /* slots - 1 */
    bench_stamp slot[];
} bench_stamps;

typedef struct bench_hist {
    uint64_t count;
    uint64_t overflow;          /* samples past the last bucket */
    uint32_t bucket[BENCH_HIST_BUCKETS];
} bench_hist;

/* Hash of the length and the first 128 bytes. */
uint64_t bench_hash(const uint8_t *p, size_t n);

/* A table of 2^bits slots (zeroed); never NULL (GLib aborts without memory). */
bench_stamps *bench_stamps_new(unsigned bits);
void bench_stamps_free(bench_stamps *t);   /* NULL is a no-op */

void bench_stamps_put(bench_stamps *t, const uint8_t *payload, size_t n, sfu_time sent_at);
/* The send time of an identical payload, or -1 if none is known. */
sfu_time bench_stamps_get(const bench_stamps *t, const uint8_t *payload, size_t n);

void bench_hist_add(bench_hist *h, sfu_time us);
/* The q-quantile (0..1) in microseconds (bucket upper bound); -1 if empty. */
double bench_hist_quantile(const bench_hist *h, double q);

/* Percentiles of a small array of samples (sorted in place); -1 if empty. */
double bench_quantile_sorted(double *v, size_t n, double q);

#endif
