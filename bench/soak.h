/* The soak (issue 5): many join/leave cycles, a few at a time, then a check
 * that the SFU gave back everything they took.
 *
 * A cycle: a WHIP publisher (real peer: ICE, DTLS, SRTP, Opus) in a room of
 * its own, `soak.viewers` WHEP viewers of it, media until every viewer
 * decrypted a packet plus `soak.hold_ms`, then an ending chosen by the cycle
 * number (bench_soak_ending). Afterwards: /metrics sfu_sessions, sfu_peers,
 * sfu_media_rooms and sfu_buffers_in_use are 0 (waiting up to
 * `soak.settle_s` for the liveness timeout to reap the vanished), the SFU's
 * open fds and UDP sockets are back to their count before the first cycle,
 * and its RSS at the end is within `soak.rss_tolerance` of the middle. */
#ifndef BENCH_SOAK_H
#define BENCH_SOAK_H

#include "bench/run.h"
#include "bench/scenario.h"
#include "bench/sfu_proc.h"

#include <stdio.h>

typedef enum bench_soak_ending {
    BENCH_END_DELETE = 0,   /* everyone DELETEs its session */
    BENCH_END_VANISH,       /* everyone goes silent: no DELETE, no close_notify */
    BENCH_END_CLOSE,        /* DTLS close_notify, no DELETE */
    BENCH_END_PUB_DELETE,   /* the publisher DELETEs, the viewers vanish */
    BENCH_END_VIEW_DELETE,  /* the viewers DELETE, the publisher vanishes */
    BENCH_END_COUNT
} bench_soak_ending;

const char *bench_soak_ending_name(bench_soak_ending e);

#define BENCH_SOAK_GAUGES 4     /* sfu_sessions, sfu_peers, sfu_media_rooms, sfu_buffers_in_use */

typedef struct bench_soak_result {
    unsigned cycles, done, failed;
    unsigned by_ending[BENCH_END_COUNT];
    unsigned delete_errors;         /* DELETE answered other than 200/204 */
    int first_delete_status;        /* the first such answer (0: no answer) */
    char first_failure[200];
    double wall_s;
    double join_ms_p50, join_ms_p95; /* WHIP POST to the last viewer's first packet */
    double gauge[BENCH_SOAK_GAUGES]; /* at the end; -1 unknown */
    double settle_s;                /* after the last cycle, until the gauges were 0 */
    bool have_proc;
    bench_proc_fds start, end;
    int64_t rss_start, rss_mid, rss_end;
    double rss_tolerance;
    bool gauges_ok, fds_ok, rss_ok;
} bench_soak_result;

extern const char *const bench_soak_gauge_names[BENCH_SOAK_GAUGES];

/* 0 when the soak ran (see the result's *_ok and failed for the verdict),
 * -1 with a reason in err when it could not start. */
int bench_soak_run(const bench_options *o, const bench_scenario *s, bench_soak_result *r,
                   char *err, size_t errlen);
/* soak_check.c, for soak.c: the figures before the first cycle, and the
 * checks after the last. */
struct bench_url;
void bench_soak_baseline(const bench_options *o, const struct bench_url *url,
                         bench_soak_result *r);
void bench_soak_check(const bench_options *o, const bench_scenario *s,
                      const struct bench_url *url, bench_soak_result *r);

/* True when every check passed and no cycle failed. */
bool bench_soak_passed(const bench_soak_result *r);
void bench_soak_report(FILE *f, const bench_soak_result *r);
int bench_soak_json(const char *path, const bench_soak_result *r);

#endif
