/* Layer choice with hysteresis (see layer_choice.h). */
#include "sfu/core/layer_choice.h"

const sfu_layer_choice_config sfu_layer_choice_config_default = {
    .up_hold = SFU_SEC(3),
};

void sfu_layer_choice_init(sfu_layer_choice *lc, const sfu_layer_choice_config *cfg)
{
    lc->cfg = cfg ? *cfg : sfu_layer_choice_config_default;
    lc->current = -1;
    lc->started = false;
    lc->capped_off = false;
    lc->switches = 0;
    lc->climb_bps = 0;
    for (int i = 0; i < SFU_LAYER_CHOICE_MAX; i++)
        lc->fit_since[i] = SFU_TIME_NEVER;
}

static int top_allowed(size_t n, int max_layer)
{
    int top = (int)n - 1;
    return max_layer < top ? max_layer : top;
}

static void set(sfu_layer_choice *lc, int layer)
{
    if (layer != lc->current && lc->started)
        lc->switches++;
    lc->current = layer;
    lc->started = true;
}

int sfu_layer_choice_update(sfu_layer_choice *lc, uint64_t estimate_bps, const uint64_t *layer_bps,
                            size_t n, int max_layer, sfu_time now)
{
    if (n > SFU_LAYER_CHOICE_MAX)
        n = SFU_LAYER_CHOICE_MAX;
    int top = top_allowed(n, max_layer);
    int fits = -1;                      /* the highest fitting layer within the cap */
    int held = -1;                      /* the highest that has fitted for up_hold */
    for (int i = 0; i < SFU_LAYER_CHOICE_MAX; i++) {
        bool fit = (size_t)i < n && layer_bps[i] > 0 && layer_bps[i] <= estimate_bps;
        if (!fit) {
            lc->fit_since[i] = SFU_TIME_NEVER;
            continue;
        }
        if (lc->fit_since[i] == SFU_TIME_NEVER)
            lc->fit_since[i] = now;
        if (i <= top) {
            fits = i;
            if (now - lc->fit_since[i] >= lc->cfg.up_hold && (!lc->climb_bps || layer_bps[i] <= lc->climb_bps))
                held = i;
        }
    }
    bool was_capped_off = lc->capped_off;
    lc->capped_off = top < 0;
    if (!lc->started || (was_capped_off && lc->current < 0)) {
        set(lc, fits);                  /* a first choice, or the viewer asked for video again */
        return lc->current;
    }
    int cur = lc->current;
    bool cur_ok = cur >= 0 && cur <= top && layer_bps[cur] > 0 && layer_bps[cur] <= estimate_bps;
    if (!cur_ok && cur >= 0) {
        set(lc, fits);                  /* down at once (or pause) */
        return lc->current;
    }
    if (held > cur)
        set(lc, held);
    return lc->current;
}

uint64_t sfu_layer_choice_probe_target(const sfu_layer_choice *lc, const uint64_t *layer_bps,
                                       size_t n, int max_layer)
{
    if (n > SFU_LAYER_CHOICE_MAX)
        n = SFU_LAYER_CHOICE_MAX;
    int top = top_allowed(n, max_layer);
    for (int i = lc->current + 1; i <= top; i++)
        if (layer_bps[i] > 0)
            return layer_bps[i];
    return 0;
}
