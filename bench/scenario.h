/* A benchmark scenario, read from a GLib key file in configs/bench/:
 *
 *   [scenario]  name, kind, publishers, viewers (one-to-many: of the one
 *               publisher), participants (meeting, large-meeting), tiles
 *               (large-meeting), calls (voice-calls),
 *               join (voice-calls: room or whip-whep),
 *               duration_s, warmup_s, join_interval_ms, decode_sample
 *               (viewers that decode video), max_loss_ratio
 *   [media]     audio, video (booleans), width, height, fps, video_kbps,
 *               gop_frames, audio_kbps, simulcast (boolean: the publisher
 *               sends three VP8 layers by rid, q/h/f at 1/4, 1/2 and the
 *               full size, 1/10, 1/3 and all of video_kbps; a third of the
 *               viewers pin q, a third h, the rest stay automatic),
 *               viewer_transport_cc (boolean), pacing_factor, audio_level
 *               (boolean: publishers send RFC 6464 levels, as browsers do)
 *   [ramp]      step, step_s, max_viewers, max_loss_ratio, max_latency_ms
 *   [soak]      cycles, parallel, viewers, hold_ms, liveness_timeout_ms,
 *               settle_s, rss_tolerance
 *
 * Kinds: one-to-many (1 publisher, N viewers), meeting (N participants in
 * one room, each a room session that publishes and receives the others;
 * against Janus a publisher plus a subscriber per other feed), large-meeting
 * (the same through room sessions only, each member subscribed to `tiles`
 * others' video: tiles.c), voice-calls (C
 * rooms of 2 participants, each watching the other: by default each a room
 * session, one PeerConnection, as the call page does; with join = whip-whep
 * a WHIP publisher plus a WHEP viewer of the other), ramp (one-to-many,
 * adding viewers step by step until a limit passes), soak (join/leave
 * cycles, then a leak check: bench/soak.h).
 *
 * Missing keys take the defaults below; an unknown key or group is an error
 * so a typo never runs the wrong benchmark. */
#ifndef BENCH_SCENARIO_H
#define BENCH_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bench_scenario {
    char name[64];
    char kind[32];
    char join[16];              /* voice-calls: "room" (default) or "whip-whep" */
    unsigned publishers;        /* default 1 */
    unsigned viewers;           /* per publisher, default 10 */
    double duration_s;          /* measuring window, default 20 */
    double warmup_s;            /* after everyone joined, default 1 */
    unsigned join_interval_ms;  /* between two joins, default 20 */
    unsigned decode_sample;     /* viewers that decode VP8, default 2 */
    double max_loss_ratio;      /* exit status 3 above it; default 1 (never) */
    bool audio, video;          /* default both */
    unsigned width, height, fps; /* default 640x360 at 30 */
    unsigned video_kbps;        /* default 800 */
    unsigned gop_frames;        /* frames in the replayed loop, default 2 s */
    unsigned audio_kbps;        /* Opus target, default 32 */
    bool simulcast;             /* default false */
    double pacing_factor;       /* publishers pace video at this times video_kbps
                                 * (all layers'); default 0: each frame at once */
    bool viewer_transport_cc;   /* WHEP viewers offer transport-cc, default true
                                 * (they send no feedback: with it the SFU's
                                 * estimate for them never grows; without it a
                                 * simulcast viewer gets the top layer) */
    bool audio_level;           /* publishers offer and send the ssrc-audio-level
                                 * extension (RFC 6464); default false */
    unsigned participants;      /* meeting, large-meeting: default 4 */
    unsigned tiles;             /* large-meeting: videos each member subscribes
                                 * to, default 9 */
    unsigned calls;             /* voice-calls, default 10 */
    struct {
        unsigned step;          /* viewers added per step, default 10 */
        double step_s;          /* measuring window per step, default 5 */
        unsigned max_viewers;   /* default 500 */
        double max_loss_ratio;  /* a step above it ends the ramp, default 0.01 */
        double max_latency_ms;  /* p99; a step above it ends the ramp, default 50 */
    } ramp;
    struct {
        unsigned cycles;        /* default 500 */
        unsigned parallel;      /* cycles at once, default 4 */
        unsigned viewers;       /* WHEP sessions per cycle, default 2 */
        unsigned hold_ms;       /* media after everyone joined, default 100 */
        unsigned liveness_timeout_ms; /* of an SFU the bench starts, default 2000 */
        double settle_s;        /* wait for the gauges to reach 0, default 30 */
        double rss_tolerance;   /* end vs middle, default 0.05; 0: not checked */
    } soak;
} bench_scenario;

/* The defaults, as for an empty file. */
void bench_scenario_defaults(bench_scenario *s);

/* 0, or -1 with "FILE: group.key: problem" in err. */
int bench_scenario_load(const char *path, bench_scenario *s, char *err, size_t errlen);

#endif
