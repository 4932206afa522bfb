/* Private to run.c (threads, joins, teardown) and measure.c (the timeline
 * and the figures). */
#ifndef BENCH_RUN_INTERNAL_H
#define BENCH_RUN_INTERNAL_H

#include "bench/http.h"
#include "bench/loop.h"
#include "bench/peer.h"
#include "bench/run.h"
#include "bench/sfu_proc.h"

typedef struct bench_run_state {
    const bench_options *o;
    const bench_scenario *s;
    bench_url url;
    char room[64];
    char participant[64];       /* the publisher's id, for WHEP paths */
    bench_media media;
    sfu_cert *cert;
    sfu_dtls_ctx *dtls;
    bench_env env;
    bench_loop *loop;
    /* Owned by the media thread: */
    bench_peer **peers;
    unsigned npeers, cap;
    unsigned first_viewer;
    char srtp_profile[32];
    /* Owned by the control thread (same index as peers): */
    unsigned npeers_ctl;
    bench_role *roles;          /* written before the peer is visible to snapshots */
    char (*sessions)[256];      /* Location of each session, for DELETE */
    sfu_time *join_us;          /* copied by bench_run_join_times */
    bench_answer pub_answer, view_answer;
    unsigned have_view_answer;
} bench_run_state;

typedef struct bench_snapshot {
    bench_run_state *r;
    bool with_latency;
    sfu_time at;
    double sfu_cpu_s;
    double bench_cpu_s;         /* this process, both threads */
    bench_counters pub, view;   /* sums over publishers and viewers */
    unsigned joined, failed;
    char first_failure[128];
    uint64_t lat_count;
    double lat_p50, lat_p95, lat_p99; /* microseconds */
} bench_snapshot;

void bench_run_snapshot(bench_run_state *r, bench_snapshot *s, bool with_latency);
int bench_run_join(bench_run_state *r, bench_role role, const char *path, bool decode,
                   char *err, size_t errlen);
/* Until `want` peers joined or failed, or timeout_s passed. */
void bench_run_wait_joined(bench_run_state *r, unsigned want, double timeout_s);
void bench_run_join_times(bench_run_state *r);
void bench_run_reset_latency(bench_run_state *r);

/* measure.c */
void bench_counters_add(bench_counters *sum, const bench_counters *c);
int bench_run_measure(bench_run_state *r, bench_result *res, char *err, size_t errlen);

#endif
