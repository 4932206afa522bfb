/* The media every publisher replays: Opus frames and one VP8 group of
 * pictures, encoded once at start from synthetic sources (a voice-like
 * signal, moving frames) so the benchmark spends its CPU on networking.
 * Read-only after bench_media_encode, shared by every publisher. */
#ifndef BENCH_MEDIA_H
#define BENCH_MEDIA_H

#include "bench/scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_AUDIO_FRAME_MS 20
#define BENCH_AUDIO_LOOP_FRAMES 500     /* 10 s of speech-like sound */

typedef struct bench_frame {
    uint8_t *data;
    size_t len;
    bool key;                   /* VP8: a keyframe */
    uint8_t level;              /* Opus: the frame's level, -dBov 0..127 (RFC 6464) */
    bool voice;                 /* Opus: voiced (the level's V bit) */
} bench_frame;

/* Simulcast (scenario media.simulcast): the rids, lowest first; layer 2 is
 * bench_media.video, the scenario's own size and bitrate. */
#define BENCH_LAYERS 3
extern const char *const bench_layer_rid[BENCH_LAYERS];

typedef struct bench_layer {
    bench_frame *frames;        /* frames[0] is the only keyframe */
    unsigned n;
    size_t bytes;
    unsigned width, height, kbps;
} bench_layer;

typedef struct bench_media {
    bench_frame *audio;         /* 20 ms Opus frames, 48 kHz */
    unsigned naudio;
    bench_frame *video;         /* video[0] is the only keyframe */
    unsigned nvideo;
    unsigned fps;
    size_t video_bytes;         /* sum over the loop, for the bitrate */
    bench_layer low[BENCH_LAYERS - 1]; /* simulcast: q (1/4 size, 1/10 of the
                                 * bitrate) and h (1/2, 1/3); n == 0 without */
} bench_media;

/* Encodes what the scenario asks for. 0, or -1 with a reason in err. */
int bench_media_encode(bench_media *m, const bench_scenario *s, char *err, size_t errlen);
void bench_media_deinit(bench_media *m);

#endif
