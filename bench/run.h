/* One benchmark run: start the media loop, join the scenario's publishers
 * and viewers through WHIP/WHEP, measure over the window, tear down. */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include "bench/scenario.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct bench_options {
    const char *target;         /* "sfu" */
    const char *url;            /* base URL of the SFU's HTTP API */
    /* Comma-separated base URLs the viewers' WHEP POSTs go to, round robin
     * (a cluster's other nodes); NULL: `url`. */
    const char *viewer_urls;
    pid_t sfu_pid;              /* 0: no CPU or memory figures */
    double duration_s;          /* > 0 overrides the scenario */
    bool progress;              /* live progress line on stderr */
} bench_options;

#define BENCH_RAMP_MAX_STEPS 256

/* --rx-poll-us's default (bench_ice_set_rx_poll_us). */
#define BENCH_RX_POLL_US_DEFAULT 1000

/* One step of a ramp: the figures of its window. */
typedef struct bench_ramp_step {
    unsigned participants, failed;
    double sfu_cpu_ratio;       /* SFU CPU seconds per second; -1 unknown */
    double bench_cpu_ratio;
    double cpu_us_per_packet, forwarded_pps, loss_ratio;
    double latency_ms_p50, latency_ms_p95, latency_ms_p99;
    double latency_app_ms_p99;
    int64_t sfu_rss_bytes;
    bool passed;
} bench_ramp_step;

typedef struct bench_result {
    char target[16];
    char scenario[64];
    char join[16];              /* how peers joined: room, whip-whep or janus */
    double duration_s;          /* measured window */
    unsigned participants, publishers, viewers, joined, failed;
    char first_failure[160];
    uint64_t sent_packets;      /* by publishers in the window */
    uint64_t forwarded_packets, forwarded_bytes;
    uint64_t expected_packets, lost_packets;
    double forwarded_pps, forwarded_bps;
    double loss_ratio;
    double sfu_cpu_seconds;     /* -1 when unknown */
    double sfu_cpu_us_per_forwarded_packet;
    double sfu_cpu_stall_seconds;   /* of sfu_cpu_seconds, in stalls (bench_run_stalls); -1 unknown */
    unsigned stall_seconds;         /* how many seconds of the window had one */
    double sfu_cpu_us_per_forwarded_packet_steady; /* without the stalls' excess */
    double bench_cpu_seconds;   /* the bench itself: near duration_s means saturated */
    double latency_ms_p50, latency_ms_p95, latency_ms_p99;
    double latency_app_ms_p50, latency_app_ms_p95, latency_app_ms_p99; /* to the hand-over */
    uint64_t latency_samples, latency_unmatched, latency_stamped;
    double join_ms_p50, join_ms_p95;
    double join_phase_ms_p50[3];  /* POST to answer, to ICE connected, to SRTP keys */
    int64_t sfu_rss_bytes, sfu_rss_before_bytes, rss_bytes_per_participant;
    int64_t rss_anon_bytes_per_participant;    /* the same of RssAnon (-1 unknown) */
    uint64_t frames_decoded, decode_errors, plis_sent, plis_received, nacks_received;
    unsigned decoders;
    /* What the target ran with, from its answers and the handshakes. */
    char srtp_profile[32];
    bool nack, pli, twcc;
    unsigned sfu_cpu, bench_cpu;    /* pinned cores, or UINT_MAX */
    unsigned rx_poll_us;        /* how the peers read (--rx-poll-us); 0: GLib's poll */
    /* ramp only: every step, the capacity (participants of the last step
     * within the limits, 0 if none) and why the ramp stopped. */
    unsigned nsteps, capacity;
    char ramp_stop[128];
    /* simulcast (media.simulcast): the viewers by what they asked for,
     * [0] pinned to q, [1] pinned to h, [2] automatic; the video each
     * received in the window (SRTP bytes, per viewer) against what the
     * publisher sends on the layer they should get (VP8 payload only). */
    bool simulcast;
    bool layers_ok;             /* every viewer's rate lies between the midpoints
                                 * to the neighbouring layers' rates */
    struct bench_layer_group {
        unsigned viewers;
        double kbps_min, kbps_mean, kbps_max, pps_mean;
        double source_kbps;     /* the layer's encoded VP8 rate */
    } groups[3];
    /* large-meeting (tiles.c): members that received exactly their tiles'
     * videos in the window; members whose GET /rooms entry has a
     * subscription of `tiles` and that many video m-lines bound; audio
     * streams a member received (min, max) against the SFU's audio slots
     * (-1 unknown); the first mismatch. */
    bool tiles;
    unsigned tiles_per_member, tiles_members_ok, tiles_sfu_ok;
    unsigned tiles_audio_min, tiles_audio_max;
    int tiles_sfu_audio_slots;
    bool tiles_audio_ok;
    char tiles_problem[160];
    bench_ramp_step steps[BENCH_RAMP_MAX_STEPS];
} bench_result;

/* 0 when the run completed (see the result for how well), -1 with a reason
 * in err when it could not run at all. */
int bench_run(const bench_options *o, const bench_scenario *s, bench_result *r, char *err,
              size_t errlen);

#endif
