/* Private to run.c (threads, joins, teardown) and measure.c (the timeline
 * and the figures). */
#ifndef BENCH_RUN_INTERNAL_H
#define BENCH_RUN_INTERNAL_H

#include "bench/http.h"
#include "bench/loop.h"
#include "bench/peer.h"
#include "bench/run.h"
#include "bench/sfu_proc.h"

/* One publisher of the run: its room, the id the SFU gave it (for WHEP
 * paths) and its own send-time table. */
typedef struct bench_pub_slot {
    char room[64];
    char participant[64];
    bench_stamps *stamps;
} bench_pub_slot;

/* Seconds of a window kept for the stall estimate; a longer window keeps its
 * first ones. */
#define BENCH_SECONDS_MAX 1024

typedef struct bench_run_state {
    const bench_options *o;
    const bench_scenario *s;
    bench_url url;
    bench_url *viewer_urls;     /* --viewer-urls, parsed; NULL: url */
    unsigned nviewer_urls;
    char room[64];              /* the run's room, or the prefix of its rooms */
    bool janus;                 /* --target janus: janus.h signaling, not WHIP/WHEP */
    char janus_base[64];        /* Janus API path, "/janus" */
    bench_pub_slot *pubs;       /* written by the control thread before use */
    unsigned npubs, pubs_cap;
    GMutex pubs_lock;           /* pubs' participant ids, read by the events thread */
    struct bench_rooms *rooms;  /* room sessions' events (room.h), NULL until used */
    bench_media media;
    sfu_cert *cert;
    sfu_dtls_ctx *dtls;
    bench_env env;
    bench_loop *loop;
    /* Owned by the media thread: */
    bench_peer **peers;
    unsigned npeers, cap;
    char srtp_profile[32];
    /* Owned by the control thread (same index as peers): */
    unsigned npeers_ctl, nviewers_ctl;
    bench_role *roles;          /* written before the peer is visible to snapshots */
    unsigned *groups;           /* simulcast viewers: 0 pin q, 1 pin h, 2 automatic */
    unsigned *pub_of;           /* the publisher slot a peer publishes as or watches */
    char (*sessions)[256];      /* Location of each session, for DELETE */
    unsigned *viewer_node;      /* a viewer's index in viewer_urls */
    sfu_time *join_us;          /* copied by bench_run_join_times */
    sfu_time (*phase_us)[3];    /* the same, bench_peer_join_phases */
    bench_answer pub_answer, view_answer;
    unsigned have_view_answer;
    /* large-meeting (tiles.c), by member: its subscriptions URL, whether its
     * subscription names every tile, what it had received when the window
     * began. */
    char (*tiles_link)[256];
    bool *tiles_done;
    struct member_streams *tiles_mark;
    /* The measuring window second by second (bench_run_window): the
     * target's CPU, the packets forwarded, the step; for bench_run_stalls. */
    double sec_cpu[BENCH_SECONDS_MAX], sec_dt[BENCH_SECONDS_MAX];
    uint64_t sec_fwd[BENCH_SECONDS_MAX];
    unsigned nsec;
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
    double app_p50, app_p95, app_p99; /* to the hand-over, microseconds */
} bench_snapshot;

void bench_run_snapshot(bench_run_state *r, bench_snapshot *s, bool with_latency);
/* A publisher into pubs[pub] (its room set), a viewer of pubs[pub], or a
 * room member publishing as pubs[pub] (POST /rooms/{room}/join). */
int bench_run_join(bench_run_state *r, bench_role role, unsigned pub, bool decode, char *err,
                   size_t errlen);
/* A new publisher slot in room; its index, or -1 when full. */
int bench_run_add_pub(bench_run_state *r, const char *room);
/* Until `want` peers joined or failed, or timeout_s passed. */
void bench_run_wait_joined(bench_run_state *r, unsigned want, double timeout_s);
void bench_run_join_times(bench_run_state *r);
void bench_run_reset_latency(bench_run_state *r);

/* measure.c */
void bench_counters_add(bench_counters *sum, const bench_counters *c);
int bench_run_measure(bench_run_state *r, bench_result *res, char *err, size_t errlen);
void bench_run_window(bench_run_state *r, double duration_s, bench_snapshot *a,
                      bench_snapshot *b);
void bench_run_figures(const bench_snapshot *a, const bench_snapshot *b, bench_result *res);
/* The target's CPU in stalls of the window just measured: seconds whose CPU
 * is more than twice the window's median second and 30 ms above it while
 * no more packets than usual were forwarded (bench/README.md: run time the
 * hypervisor took from a vCPU, charged to the task that was current). */
void bench_run_stalls(const bench_run_state *r, bench_result *res);
void bench_run_join_figures(bench_run_state *r, bench_result *res);

/* layout.c: who joins for each kind of scenario */
/* Peers (publishers + viewer sessions) the scenario needs at most. */
unsigned bench_layout_peers(const bench_scenario *s);
unsigned bench_layout_publishers(const bench_scenario *s);
/* Joins everyone; -1 with a reason when a publisher could not connect. */
int bench_layout_join(bench_run_state *r, bench_result *res, char *err, size_t errlen);
/* Adds n viewers of publisher pub and waits for them. */
void bench_layout_add_viewers(bench_run_state *r, unsigned pub, unsigned n);

/* tiles.c: large-meeting's subscriptions (member k shows the `tiles`
 * members before it in join order) */
/* POSTs member k's subscription (link: from its 201) with the tiles joined so far. */
int bench_tiles_subscribe(bench_run_state *r, unsigned k, const char *link, char *err,
                          size_t errlen);
/* Once everyone joined: again for each member whose list was not whole. */
int bench_tiles_complete(bench_run_state *r, char *err, size_t errlen);
/* Around the window: what each member received then; the check into res. */
void bench_tiles_mark(bench_run_state *r);
void bench_tiles_check(bench_run_state *r, bench_result *res);
void bench_tiles_free(bench_run_state *r);

/* ramp.c */
int bench_ramp_measure(bench_run_state *r, bench_result *res, char *err, size_t errlen);

#endif
