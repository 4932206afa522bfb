/* A benchmark scenario, read from a GLib key file in configs/bench/:
 *
 *   [scenario]  name, kind (one-to-many), publishers, viewers (per
 *               publisher), duration_s, warmup_s, join_interval_ms,
 *               decode_sample (viewers that decode video), max_loss_ratio
 *   [media]     audio, video (booleans), width, height, fps, video_kbps,
 *               gop_frames, audio_kbps
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
} bench_scenario;

/* 0, or -1 with "FILE: group.key: problem" in err. */
int bench_scenario_load(const char *path, bench_scenario *s, char *err, size_t errlen);

#endif
