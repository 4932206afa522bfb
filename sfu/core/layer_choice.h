/* Which simulcast layer one viewer receives, from its bandwidth estimate
 * and the layers' measured bitrates.
 *
 * Down at once: when the current layer's bitrate exceeds the estimate, the
 * highest layer that fits is chosen on the same call. Up only after a
 * while: a higher layer is chosen once it has fitted continuously for
 * `up_hold` (default 3 s), so a momentary estimate peak does not flap
 * between layers (and each switch costs a keyframe). The highest layer
 * that has fitted that long is taken, so several steps may go at once.
 * When not even the lowest layer fits, the answer is -1: pause the video
 * (audio continues); it resumes by itself when the lowest layer has fitted
 * for `up_hold` again. A layer with bitrate 0 (not received, or not
 * measured yet) is never chosen; the viewer's cap (its max layer) is
 * obeyed at once.
 *
 * Layers are indexed from 0 (lowest) to n-1 (highest), bitrates in bit/s.
 * Sans-IO: each call carries `now`. */
#ifndef SFU_CORE_LAYER_CHOICE_H
#define SFU_CORE_LAYER_CHOICE_H

#include "sfu/core/common.h"

#define SFU_LAYER_CHOICE_MAX 4

typedef struct sfu_layer_choice_config {
    sfu_time up_hold;
} sfu_layer_choice_config;

extern const sfu_layer_choice_config sfu_layer_choice_config_default;

typedef struct sfu_layer_choice {
    sfu_layer_choice_config cfg;
    int current;                /* -1: paused (or nothing chosen yet) */
    bool started;
    bool capped_off;            /* the last call's cap allowed no layer */
    sfu_time fit_since[SFU_LAYER_CHOICE_MAX];   /* SFU_TIME_NEVER: does not fit now */
    uint64_t switches;
    /* No moving up above this (bwe.h sfu_bwe_climb_bps), set by the
     * caller; the up-hold runs on by the estimate meanwhile. 0: none. */
    uint64_t climb_bps;
} sfu_layer_choice;

void sfu_layer_choice_init(sfu_layer_choice *lc, const sfu_layer_choice_config *cfg);

/* The layer to send now: 0..n-1, or -1 to pause video. `max_layer` is the
 * viewer's cap (values >= n: none; < 0: the viewer wants no video).
 * The first call, and the first after a cap that allowed no layer, picks
 * the highest fitting layer at once (no hold). n above
 * SFU_LAYER_CHOICE_MAX is treated as SFU_LAYER_CHOICE_MAX. */
int sfu_layer_choice_update(sfu_layer_choice *lc, uint64_t estimate_bps, const uint64_t *layer_bps,
                            size_t n, int max_layer, sfu_time now);

/* The bitrate worth probing for: that of the lowest usable layer above the
 * current one within the cap (the lowest layer when paused), 0 when
 * there is none. */
uint64_t sfu_layer_choice_probe_target(const sfu_layer_choice *lc, const uint64_t *layer_bps,
                                       size_t n, int max_layer);

#endif
