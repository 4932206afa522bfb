/* Layer choice with hysteresis: a table of (time, estimate, cap) steps and
 * the layer expected after each. */
#include "sfu/core/layer_choice.h"
#include "tests/test.h"

typedef struct step {
    int64_t at_ms;
    uint64_t est;
    int cap;
    int want;
} step;

typedef struct scenario {
    const char *name;
    uint64_t layers[3];
    size_t n;
    step steps[16];
} scenario;

#define NOCAP 9

static const scenario scenarios[] = {
    { "first call takes the highest fitting layer", { 150000, 500000, 1500000 }, 3,
      { { 0, 2000000, NOCAP, 2 } } },
    { "first call with nothing fitting pauses", { 150000, 500000, 1500000 }, 3,
      { { 0, 100000, NOCAP, -1 } } },
    { "down at once, up after 3 s", { 150000, 500000, 1500000 }, 3,
      { { 0, 2000000, NOCAP, 2 }, { 100, 1400000, NOCAP, 1 }, { 200, 400000, NOCAP, 0 },
        { 300, 2000000, NOCAP, 0 }, { 3299, 2000000, NOCAP, 0 },
        /* both higher layers fitted from 300 ms: straight to the top */
        { 3300, 2000000, NOCAP, 2 } } },
    { "a dip restarts the wait", { 150000, 500000, 1500000 }, 3,
      { { 0, 600000, NOCAP, 1 }, { 1000, 1600000, NOCAP, 1 }, { 2000, 1000000, NOCAP, 1 },
        { 2500, 1600000, NOCAP, 1 }, { 5000, 1600000, NOCAP, 1 }, { 5500, 1600000, NOCAP, 2 } } },
    { "a middle layer that fitted longer is taken first", { 150000, 500000, 1500000 }, 3,
      { { 0, 200000, NOCAP, 0 }, { 1000, 600000, NOCAP, 0 }, { 3000, 1600000, NOCAP, 0 },
        { 4000, 1600000, NOCAP, 1 }, { 5999, 1600000, NOCAP, 1 }, { 6000, 1600000, NOCAP, 2 } } },
    { "pause and resume by itself", { 150000, 500000, 1500000 }, 3,
      { { 0, 600000, NOCAP, 1 }, { 100, 100000, NOCAP, -1 }, { 1000, 200000, NOCAP, -1 },
        { 3999, 200000, NOCAP, -1 }, { 4000, 200000, NOCAP, 0 } } },
    /* Fitting is timed whatever the cap: once lifted, a layer that has
     * fitted for the hold returns at once. */
    { "the cap applies at once; lifted, up after the hold", { 150000, 500000, 1500000 }, 3,
      { { 0, 2000000, NOCAP, 2 }, { 100, 2000000, 1, 1 }, { 200, 2000000, 0, 0 },
        { 300, 2000000, NOCAP, 0 }, { 2999, 2000000, NOCAP, 0 }, { 3000, 2000000, NOCAP, 2 } } },
    { "a cap of no layer, then video again at once", { 150000, 500000, 1500000 }, 3,
      { { 0, 2000000, NOCAP, 2 }, { 100, 2000000, -1, -1 }, { 200, 2000000, 1, 1 },
        { 300, 2000000, NOCAP, 1 }, { 3000, 2000000, NOCAP, 2 } } },
    { "a layer without bitrate is skipped", { 150000, 0, 1500000 }, 3,
      { { 0, 1000000, NOCAP, 0 }, { 100, 2000000, NOCAP, 0 }, { 3100, 2000000, NOCAP, 2 } } },
    { "two layers", { 300000, 1200000, 0 }, 2,
      { { 0, 1000000, NOCAP, 0 }, { 100, 1300000, NOCAP, 0 }, { 3100, 1300000, NOCAP, 1 },
        { 3200, 1199999, NOCAP, 0 } } },
};

TEST(scenarios_table)
{
    for (size_t s = 0; s < SFU_ARRAY_LEN(scenarios); s++) {
        const scenario *sc = &scenarios[s];
        sfu_layer_choice lc;
        sfu_layer_choice_init(&lc, NULL);
        for (size_t i = 0; i < SFU_ARRAY_LEN(sc->steps); i++) {
            const step *st = &sc->steps[i];
            if (i > 0 && st->at_ms == 0)
                break;
            int got = sfu_layer_choice_update(&lc, st->est, sc->layers, sc->n, st->cap,
                                              SFU_MS(st->at_ms));
            if (got != st->want)
                fprintf(stderr, "  %s, step %zu (%" PRId64 " ms):\n", sc->name, i, st->at_ms);
            ASSERT_EQ(got, st->want);
        }
    }
    return 0;
}

TEST(probe_target)
{
    static const uint64_t layers[] = { 150000, 500000, 1500000 };
    static const uint64_t gap[] = { 150000, 0, 1500000 };
    static const struct {
        const uint64_t *layers;
        uint64_t est;
        int cap;
        uint64_t want;
    } rows[] = {
        { layers, 100000, NOCAP, 150000 },  /* paused: the lowest */
        { layers, 200000, NOCAP, 500000 },
        { layers, 600000, NOCAP, 1500000 },
        { layers, 2000000, NOCAP, 0 },      /* at the top */
        { layers, 600000, 1, 0 },           /* at the cap */
        { gap, 200000, NOCAP, 1500000 },    /* an idle layer is skipped */
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++) {
        sfu_layer_choice lc;
        sfu_layer_choice_init(&lc, NULL);
        sfu_layer_choice_update(&lc, rows[i].est, rows[i].layers, 3, rows[i].cap, 0);
        ASSERT_EQ(sfu_layer_choice_probe_target(&lc, rows[i].layers, 3, rows[i].cap), rows[i].want);
    }
    return 0;
}

TEST(switch_count_and_config)
{
    static const uint64_t layers[] = { 150000, 500000 };
    sfu_layer_choice lc;
    sfu_layer_choice_init(&lc, &(sfu_layer_choice_config){ .up_hold = SFU_SEC(1) });
    ASSERT_EQ(sfu_layer_choice_update(&lc, 600000, layers, 2, NOCAP, 0), 1);
    ASSERT_EQ(sfu_layer_choice_update(&lc, 200000, layers, 2, NOCAP, SFU_MS(10)), 0);
    ASSERT_EQ(sfu_layer_choice_update(&lc, 600000, layers, 2, NOCAP, SFU_MS(20)), 0);
    ASSERT_EQ(sfu_layer_choice_update(&lc, 600000, layers, 2, NOCAP, SFU_MS(1020)), 1);
    ASSERT_EQ(lc.switches, 2);
    /* More layers than the module tracks: the extra ones are ignored. */
    static const uint64_t many[6] = { 1, 2, 3, 4, 5, 6 };
    sfu_layer_choice_init(&lc, NULL);
    ASSERT_EQ(sfu_layer_choice_update(&lc, 100, many, 6, NOCAP, 0), SFU_LAYER_CHOICE_MAX - 1);
    return 0;
}

TEST_LIST(TEST_ENTRY(scenarios_table), TEST_ENTRY(probe_target), TEST_ENTRY(switch_count_and_config))
