/* Virtual-clock simulation of send-side bandwidth estimation through a
 * bottleneck link.
 *
 * A sender paces 1200-byte packets, each with a transport-wide sequence
 * number, at min(estimate, demand) (or at the chosen simulcast layer's
 * bitrate), plus padding while the estimator asks for a probe. The link
 * has a capacity (changing at set times), a drop-tail queue holding at
 * most `queue` of delay, random loss and a propagation delay. The receiver
 * records arrivals on its own clock (which wraps the 24-bit TWCC reference
 * time during the run) and every 100 ms builds transport-cc feedback with
 * sfu_twcc_build_all; the sender parses it with sfu_twcc_parse and feeds
 * the estimator, as the SFU will. The clock advances in 1 ms ticks; link
 * arrivals keep their exact microsecond times. Each case prints its
 * figures and asserts the bounds the issue sets. */
#include "tests/unit/bwe_sim.h"

TEST(converges_300k)
{
    static const scenario sc = {
        .name = "300k", .steps = LINK(300000), .queue = SFU_MS(300), .prop = SFU_MS(25),
        .demand_bps = 5000000, .end = SFU_SEC(40),
    };
    static sim s;
    run(&s, &sc);
    print_stats(&s);
    span_stats r = span(&s, SFU_SEC(10), SFU_SEC(40));
    print_span(sc.name, "10-40 s", r);
    done(&s);
    ASSERT_GE(r.est_mean, 240000);      /* 80 % of capacity */
    ASSERT_LE(r.est_max, 345000);
    ASSERT_GE(r.delivered_bps, 240000);
    ASSERT_LE(r.qdelay_max, SFU_MS(200));
    return 0;
}

TEST(converges_2m)
{
    static const scenario sc = {
        .name = "2M", .steps = LINK(2000000), .queue = SFU_MS(300), .prop = SFU_MS(25),
        .demand_bps = 5000000, .end = SFU_SEC(40),
    };
    static sim s;
    run(&s, &sc);
    print_stats(&s);
    sfu_time t = first_cross(&s, 0, SFU_SEC(40), 1600000, true);
    printf("  2M: estimate above 1.6 Mbit/s after %" PRId64 " ms\n", (int64_t)(t / 1000));
    span_stats r = span(&s, SFU_SEC(10), SFU_SEC(40));
    print_span(sc.name, "10-40 s", r);
    done(&s);
    ASSERT_LE(t, SFU_SEC(5));
    ASSERT_GE(r.est_mean, 1600000);
    ASSERT_LE(r.est_max, 2200000);
    ASSERT_GE(r.delivered_bps, 1600000);
    ASSERT_LE(r.qdelay_max, SFU_MS(200));
    return 0;
}

TEST(steps_down_and_up)
{
    static const scenario sc = {
        .name = "2M-300k-2M",
        .steps = { { 0, 2000000 }, { SFU_SEC(20), 300000 }, { SFU_SEC(40), 2000000 } },
        .queue = SFU_MS(300), .prop = SFU_MS(25), .demand_bps = 5000000, .end = SFU_SEC(60),
    };
    static sim s;
    run(&s, &sc);
    print_stats(&s);
    sfu_time down = first_cross(&s, SFU_SEC(20), SFU_SEC(40), 300000, false);
    sfu_time up = first_cross(&s, SFU_SEC(40), SFU_SEC(60), 1500000, true);
    printf("  down below 300k %" PRId64 " ms after the drop; up above 1.5M %" PRId64
           " ms after the lift\n", (int64_t)((down - SFU_SEC(20)) / 1000),
           (int64_t)((up - SFU_SEC(40)) / 1000));
    span_stats low = span(&s, SFU_SEC(25), SFU_SEC(40));
    span_stats high = span(&s, SFU_SEC(50), SFU_SEC(60));
    print_span(sc.name, "25-40 s (300k)", low);
    print_span(sc.name, "50-60 s (2M)", high);
    done(&s);
    ASSERT_LE(down - SFU_SEC(20), SFU_SEC(2));
    ASSERT_LE(up - SFU_SEC(40), SFU_SEC(10));
    ASSERT_GE(low.est_mean, 200000);
    ASSERT_LE(low.est_max, 360000);
    ASSERT_LE(low.qdelay_max, SFU_MS(300));
    ASSERT_GE(high.est_mean, 1500000);
    return 0;
}

TEST(random_loss_10pct_at_2m)
{
    static const scenario sc = {
        .name = "2M 10% loss", .steps = LINK(2000000), .queue = SFU_MS(300), .loss_permille = 100,
        .prop = SFU_MS(25), .demand_bps = 5000000, .end = SFU_SEC(40),
    };
    static sim s;
    run(&s, &sc);
    print_stats(&s);
    span_stats r = span(&s, SFU_SEC(10), SFU_SEC(40));
    print_span(sc.name, "10-40 s", r);
    done(&s);
    ASSERT_GE(r.est_min, 1300000);
    ASSERT_GE(r.est_mean, 1500000);
    ASSERT_LE(r.qdelay_max, SFU_MS(200));
    return 0;
}

TEST(random_loss_5pct_at_300k)
{
    static const scenario sc = {
        .name = "300k 5% loss", .steps = LINK(300000), .queue = SFU_MS(300), .loss_permille = 50,
        .prop = SFU_MS(25), .demand_bps = 5000000, .end = SFU_SEC(40),
    };
    static sim s;
    run(&s, &sc);
    print_stats(&s);
    span_stats r = span(&s, SFU_SEC(10), SFU_SEC(40));
    print_span(sc.name, "10-40 s", r);
    done(&s);
    ASSERT_GE(r.est_min, 200000);
    ASSERT_LE(r.est_mean, 315000);
    ASSERT_LE(r.est_max, 390000);
    return 0;
}

/* Layers 150k / 500k / 1.5M through 2M, 300k, 2M, 100k, 2M. */
TEST(layers_follow_the_link)
{
    static const uint64_t layers[] = { 150000, 500000, 1500000 };
    static const scenario sc = {
        .name = "layers",
        .steps = { { 0, 2000000 }, { SFU_SEC(20), 300000 }, { SFU_SEC(40), 2000000 },
                   { SFU_SEC(60), 100000 }, { SFU_SEC(80), 2000000 } },
        .queue = SFU_MS(300), .prop = SFU_MS(25), .layers = layers, .nlayers = 3,
        .end = SFU_SEC(100),
    };
    static sim s;
    run(&s, &sc);
    print_stats(&s);
    sfu_time top0 = first_layer(&s, 0, SFU_SEC(20), 2);
    sfu_time low = first_layer(&s, SFU_SEC(20), SFU_SEC(40), 0);
    sfu_time top1 = first_layer(&s, SFU_SEC(40), SFU_SEC(60), 2);
    sfu_time pause = first_layer(&s, SFU_SEC(60), SFU_SEC(80), -1);
    sfu_time resume = first_layer(&s, SFU_SEC(80), SFU_SEC(100), 0);
    sfu_time top2 = first_layer(&s, SFU_SEC(80), SFU_SEC(100), 2);
    printf("  layers: top layer at %" PRId64 " ms; after the drop to 300k layer 0 at +%" PRId64
           " ms; after the lift top at +%" PRId64 " ms; at 100k paused at +%" PRId64
           " ms; after the lift layer 0 at +%" PRId64 " ms, top at +%" PRId64 " ms\n",
           (int64_t)(top0 / 1000), (int64_t)((low - SFU_SEC(20)) / 1000),
           (int64_t)((top1 - SFU_SEC(40)) / 1000), (int64_t)((pause - SFU_SEC(60)) / 1000),
           (int64_t)((resume - SFU_SEC(80)) / 1000), (int64_t)((top2 - SFU_SEC(80)) / 1000));
    /* Steady phases: the right layer throughout their second half. */
    static const struct { sfu_time from, to; int layer; } hold[] = {
        { SFU_SEC(12), SFU_SEC(20), 2 }, { SFU_SEC(25), SFU_SEC(40), 0 },
        { SFU_SEC(52), SFU_SEC(60), 2 }, { SFU_SEC(65), SFU_SEC(80), -1 },
        { SFU_SEC(92), SFU_SEC(100), 2 },
    };
    int bad = -1;
    for (size_t i = 0; i < SFU_ARRAY_LEN(hold) && bad < 0; i++)
        for (size_t k = idx(hold[i].from); k < idx(hold[i].to); k++)
            if (s.layer_at[k] != hold[i].layer) {
                printf("  layer %d at %zu00 ms, want %d\n", s.layer_at[k], k, hold[i].layer);
                bad = (int)i;
                break;
            }
    uint64_t switches = s.lc.switches;
    done(&s);
    ASSERT_LE(top0, SFU_SEC(10));
    ASSERT_LE(low - SFU_SEC(20), SFU_SEC(2));
    ASSERT_LE(top1 - SFU_SEC(40), SFU_SEC(10));
    ASSERT_LE(pause - SFU_SEC(60), SFU_SEC(2));
    ASSERT_LE(top2 - SFU_SEC(80), SFU_SEC(12));
    ASSERT_EQ(bad, -1);
    ASSERT_LE(switches, 12);
    return 0;
}

/* The layers case again with media in unpaced 33 ms frame bursts, as the
 * SFU forwards it (probes stay paced, as padding can be). */
TEST(layers_follow_the_link_bursty)
{
    static const uint64_t layers[] = { 150000, 500000, 1500000 };
    static const scenario sc = {
        .name = "layers bursty",
        .steps = { { 0, 2000000 }, { SFU_SEC(20), 300000 }, { SFU_SEC(40), 2000000 } },
        .queue = SFU_MS(300), .prop = SFU_MS(25), .layers = layers, .nlayers = 3,
        .frame = SFU_MS(33), .end = SFU_SEC(60),
    };
    static sim s;
    run(&s, &sc);
    print_stats(&s);
    sfu_time top0 = first_layer(&s, 0, SFU_SEC(20), 2);
    sfu_time low = first_layer(&s, SFU_SEC(20), SFU_SEC(40), 0);
    sfu_time top1 = first_layer(&s, SFU_SEC(40), SFU_SEC(60), 2);
    span_stats r = span(&s, SFU_SEC(12), SFU_SEC(20));
    print_span(sc.name, "12-20 s (2M)", r);
    printf("  layers bursty: top layer at %" PRId64 " ms; after the drop to 300k layer 0 at +%" PRId64
           " ms; after the lift top at +%" PRId64 " ms\n", (int64_t)(top0 / 1000),
           (int64_t)((low - SFU_SEC(20)) / 1000), (int64_t)((top1 - SFU_SEC(40)) / 1000));
    static const struct { sfu_time from, to; int layer; } hold[] = {
        { SFU_SEC(12), SFU_SEC(20), 2 }, { SFU_SEC(25), SFU_SEC(40), 0 }, { SFU_SEC(52), SFU_SEC(60), 2 },
    };
    int bad = -1;
    for (size_t i = 0; i < SFU_ARRAY_LEN(hold) && bad < 0; i++)
        for (size_t k = idx(hold[i].from); k < idx(hold[i].to); k++)
            if (s.layer_at[k] != hold[i].layer) {
                printf("  layer %d at %zu00 ms, want %d\n", s.layer_at[k], k, hold[i].layer);
                bad = (int)i;
                break;
            }
    done(&s);
    ASSERT_LE(top0, SFU_SEC(10));
    ASSERT_LE(low - SFU_SEC(20), SFU_SEC(2));
    ASSERT_LE(top1 - SFU_SEC(40), SFU_SEC(10));
    ASSERT_EQ(bad, -1);
    return 0;
}

/* Layers at 2 Mbit/s with 10 % random loss: the top layer throughout. */
TEST(layers_keep_top_under_random_loss)
{
    static const uint64_t layers[] = { 150000, 500000, 1500000 };
    static const scenario sc = {
        .name = "layers 2M 10% loss", .steps = LINK(2000000), .queue = SFU_MS(300),
        .loss_permille = 100, .prop = SFU_MS(25), .layers = layers, .nlayers = 3,
        .end = SFU_SEC(60),
    };
    static sim s;
    run(&s, &sc);
    print_stats(&s);
    sfu_time top = first_layer(&s, 0, SFU_SEC(60), 2);
    span_stats r = span(&s, SFU_SEC(15), SFU_SEC(60));
    print_span(sc.name, "15-60 s", r);
    int worst = 2;
    for (size_t k = idx(top); k < idx(SFU_SEC(60)); k++)
        if (s.layer_at[k] < worst)
            worst = s.layer_at[k];
    printf("  %s: top layer from %" PRId64 " ms, lowest layer after %d\n", sc.name,
           (int64_t)(top / 1000), worst);
    done(&s);
    ASSERT_LE(top, SFU_SEC(20));
    ASSERT_EQ(worst, 2);
    return 0;
}

/* An nftables-like policer (token bucket: a second at its rate plus a 12 kB
 * burst, no queue): 2 Mbit/s, 250 kbit/s from 20 s, 2 Mbit/s again from
 * 40 s, with layers. */
TEST(layers_behind_a_policer)
{
    static const uint64_t layers[] = { 150000, 500000, 1500000 };
    static const scenario sc = {
        .name = "policer",
        .steps = { { 0, 2000000 }, { SFU_SEC(20), 250000 }, { SFU_SEC(40), 2000000 } },
        .policer_burst = 12000, .prop = SFU_MS(25), .layers = layers, .nlayers = 3,
        .end = SFU_SEC(60),
    };
    static sim s;
    run(&s, &sc);
    print_stats(&s);
    sfu_time top0 = first_layer(&s, 0, SFU_SEC(20), 2);
    sfu_time low = first_layer(&s, SFU_SEC(20), SFU_SEC(40), 0);
    sfu_time top1 = first_layer(&s, SFU_SEC(40), SFU_SEC(60), 2);
    span_stats r = span(&s, SFU_SEC(25), SFU_SEC(40));
    print_span(sc.name, "25-40 s (250k)", r);
    int lo = 9, hi = -9;
    for (size_t k = idx(SFU_SEC(25)); k < idx(SFU_SEC(40)); k++) {
        lo = s.layer_at[k] < lo ? s.layer_at[k] : lo;
        hi = s.layer_at[k] > hi ? s.layer_at[k] : hi;
    }
    printf("  policer: top layer at %" PRId64 " ms; after the drop to 250k layer 0 at +%" PRId64
           " ms (layers %d..%d over 25-40 s); after the lift top at +%" PRId64 " ms\n",
           (int64_t)(top0 / 1000), (int64_t)((low - SFU_SEC(20)) / 1000), lo, hi,
           (int64_t)((top1 - SFU_SEC(40)) / 1000));
    done(&s);
    ASSERT_LE(top0, SFU_SEC(10));
    ASSERT_LE(low - SFU_SEC(20), SFU_SEC(2));
    ASSERT_EQ(lo, 0);
    ASSERT_EQ(hi, 0);
    ASSERT_GE(r.est_min, 150000);
    ASSERT_LE(top1 - SFU_SEC(40), SFU_SEC(10));
    return 0;
}

/* The random-loss cases over further seeds: no seed collapses. */
TEST(random_loss_over_seeds)
{
    static const uint64_t layers[] = { 150000, 500000, 1500000 };
    static sim s;
    for (uint64_t seed = 101; seed <= 108; seed++) {
        scenario a = {
            .name = "2M 10% loss", .steps = LINK(2000000), .queue = SFU_MS(300),
            .loss_permille = 100, .prop = SFU_MS(25), .demand_bps = 5000000, .end = SFU_SEC(40),
            .seed = seed,
        };
        run(&s, &a);
        span_stats r = span(&s, SFU_SEC(10), SFU_SEC(40));
        done(&s);
        scenario b = {
            .name = "300k 5% loss", .steps = LINK(300000), .queue = SFU_MS(300),
            .loss_permille = 50, .prop = SFU_MS(25), .demand_bps = 5000000, .end = SFU_SEC(40),
            .seed = seed,
        };
        run(&s, &b);
        span_stats q = span(&s, SFU_SEC(10), SFU_SEC(40));
        done(&s);
        scenario c = {
            .name = "layers 2M 10% loss", .steps = LINK(2000000), .queue = SFU_MS(300),
            .loss_permille = 100, .prop = SFU_MS(25), .layers = layers, .nlayers = 3,
            .end = SFU_SEC(40), .seed = seed,
        };
        run(&s, &c);
        sfu_time top = first_layer(&s, 0, SFU_SEC(40), 2);
        int worst = 2;
        for (size_t k = idx(top); k < idx(SFU_SEC(40)); k++)
            worst = s.layer_at[k] < worst ? s.layer_at[k] : worst;
        done(&s);
        printf("  seed %" PRIu64 ": 2M 10%%: min %" PRIu64 "k mean %" PRIu64 "k; 300k 5%%: min %" PRIu64
               "k; layers: top from %" PRId64 " ms, lowest after %d\n", seed, r.est_min / 1000,
               r.est_mean / 1000, q.est_min / 1000, (int64_t)(top / 1000), worst);
        ASSERT_GE(r.est_min, 1300000);
        ASSERT_GE(r.est_mean, 1500000);
        ASSERT_GE(q.est_min, 200000);
        ASSERT_LE(top, SFU_SEC(20));
        ASSERT_EQ(worst, 2);
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(converges_300k), TEST_ENTRY(converges_2m), TEST_ENTRY(steps_down_and_up),
          TEST_ENTRY(random_loss_10pct_at_2m), TEST_ENTRY(random_loss_5pct_at_300k),
          TEST_ENTRY(layers_follow_the_link), TEST_ENTRY(layers_follow_the_link_bursty),
          TEST_ENTRY(layers_keep_top_under_random_loss),
          TEST_ENTRY(layers_behind_a_policer), TEST_ENTRY(random_loss_over_seeds))
