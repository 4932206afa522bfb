/* Send-side bandwidth estimation: the delay detector, the loss rule and the
 * estimator's API, each from a table of synthetic feedback. The
 * closed-loop behaviour through a bottleneck is test_bwe_sim.c. */
#include "sfu/core/bwe.h"
#include "tests/test.h"

/* ---- delay detector ---- */

TEST(delay_usage_table)
{
    static const struct {
        const char *name;
        sfu_time send_gap, arrival_gap;     /* between consecutive packets */
        sfu_time jitter;                    /* added to every other arrival */
        int packets;
        sfu_bwe_usage want;
    } rows[] = {
        { "steady", SFU_MS(10), SFU_MS(10), 0, 200, SFU_BWE_NORMAL },
        { "steady with jitter", SFU_MS(10), SFU_MS(10), SFU_MS(2), 200, SFU_BWE_NORMAL },
        { "queue growing 20 %", SFU_MS(10), SFU_MS(12), 0, 60, SFU_BWE_OVERUSE },
        { "queue growing 5 %", SFU_MS(10), SFU_MS(10) + 500, 0, 200, SFU_BWE_OVERUSE },
        { "queue draining", SFU_MS(10), SFU_MS(8), 0, 60, SFU_BWE_UNDERUSE },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++) {
        sfu_bwe_delay d;
        sfu_bwe_delay_init(&d);
        sfu_bwe_usage u = SFU_BWE_NORMAL;
        bool seen_overuse = false;
        for (int k = 0; k < rows[i].packets; k++) {
            sfu_time arrival = SFU_SEC(100) + k * rows[i].arrival_gap + (k % 2) * rows[i].jitter;
            u = sfu_bwe_delay_handle_packet(&d, k * rows[i].send_gap, arrival, 1200);
            seen_overuse |= u == SFU_BWE_OVERUSE;
        }
        if (u != rows[i].want)
            fprintf(stderr, "  %s: usage %d, trend %f threshold %f\n", rows[i].name, u,
                    d.modified_trend, d.threshold);
        ASSERT_EQ(u, rows[i].want);
        if (rows[i].want == SFU_BWE_NORMAL)
            ASSERT(!seen_overuse);
    }
    return 0;
}

/* Packets sent within 5 ms form one group; a group the network bunched up
 * (arriving within 5 ms, closer than sent) joins the previous one. */
TEST(delay_groups)
{
    sfu_bwe_delay d;
    sfu_bwe_delay_init(&d);
    /* 3 groups of 4 packets 1 ms apart, groups 20 ms apart. */
    for (int g = 0; g < 3; g++)
        for (int k = 0; k < 4; k++) {
            sfu_time t = g * SFU_MS(20) + k * SFU_MS(1);
            sfu_bwe_delay_handle_packet(&d, t, t + SFU_MS(50), 1000);
        }
    ASSERT_EQ(d.num_deltas, 1);         /* the third group is still open */
    ASSERT_EQ(d.prev.bytes, 4000);
    ASSERT_EQ(d.cur.bytes, 4000);
    /* Sent 10 ms later but arriving 1 ms after the last: one burst. */
    sfu_bwe_delay_handle_packet(&d, SFU_MS(53), SFU_MS(45) + SFU_MS(50), 1000);
    ASSERT_EQ(d.cur.bytes, 5000);
    /* A packet sent before the open group (reordered feedback) is ignored. */
    sfu_bwe_delay_handle_packet(&d, SFU_MS(10), SFU_MS(200), 1000);
    ASSERT_EQ(d.cur.bytes, 5000);
    ASSERT_EQ(d.num_deltas, 1);
    return 0;
}

/* ---- loss rule ---- */

/* One window of `n` packets sent evenly at `sent_bps` from `start`, every
 * packet whose index % loss_every == 0 lost (0: none), arrivals spread at
 * `delivered_bps` (the bottleneck's pace). */
static void window(sfu_bwe_loss *l, sfu_time start, int n, uint64_t sent_bps, int loss_every,
                   uint64_t delivered_bps)
{
    sfu_time gap = (sfu_time)(1200ull * 8 * 1000000 / sent_bps);
    int received = 0;
    for (int k = 0; k < n; k++) {
        bool lost = loss_every && k % loss_every == 0;
        sfu_time arrival = start + SFU_MS(40) + (sfu_time)((uint64_t)received * 1200 * 8 * 1000000 / delivered_bps);
        sfu_bwe_loss_handle_packet(l, start + k * gap, 1200, !lost, arrival);
        received += !lost;
    }
}

TEST(loss_rule_table)
{
    typedef struct w {
        int n;
        uint64_t sent_bps;
        int loss_every;
        uint64_t delivered_bps;
        uint64_t estimate_bps;
        sfu_bwe_loss_verdict want;
        uint64_t want_bps;          /* for CUT / RESTORE, within 3 % */
    } w;
    static const struct {
        const char *name;
        w ws[4];
        double want_inherent_min, want_inherent_max;
    } rows[] = {
        { "random 10 % loss: cut, checked, restored, then normal",
          { { 100, 1000000, 10, 900000, 1000000, SFU_BWE_LOSS_CUT, 810000 },
            { 100, 810000, 10, 729000, 810000, SFU_BWE_LOSS_RESTORE, 1000000 },
            { 100, 1000000, 10, 900000, 1000000, SFU_BWE_LOSS_NONE, 0 } },
          0.09, 0.11 },
        { "a policer at 500k: cut, and the loss goes away",
          { { 100, 1000000, 2, 500000, 1000000, SFU_BWE_LOSS_CUT, 450000 },
            { 100, 450000, 0, 450000, 450000, SFU_BWE_LOSS_CONFIRMED, 0 } },
          0, 0.001 },
        { "a policer: still losing, not in proportion: cut again",
          { { 100, 1500000, 5, 800000, 1500000, SFU_BWE_LOSS_CUT, 720000 },
            { 100, 720000, 2, 360000, 720000, SFU_BWE_LOSS_CUT, 324000 },
            { 100, 324000, 0, 324000, 324000, SFU_BWE_LOSS_CONFIRMED, 0 } },
          0, 0.001 },
        { "a policer the cut's window half saw: heavy loss at the lower rate is no restore",
          { { 100, 1188000, 3, 836000, 1829000, SFU_BWE_LOSS_CUT, 752000 },
            { 100, 530000, 2, 250000, 752000, SFU_BWE_LOSS_CUT, 225000 },
            { 100, 225000, 0, 225000, 225000, SFU_BWE_LOSS_CONFIRMED, 0 } },
          0, 0.001 },
        { "2 % loss is learnt, not cut",
          { { 100, 1000000, 50, 980000, 1000000, SFU_BWE_LOSS_NONE, 0 },
            { 100, 1000000, 50, 980000, 1000000, SFU_BWE_LOSS_NONE, 0 } },
          0.007, 0.009 },
        { "app-limited: 12 % is no suspicion, 34 % is",
          { { 100, 300000, 8, 262000, 1000000, SFU_BWE_LOSS_NONE, 0 },
            { 100, 300000, 3, 200000, 1000000, SFU_BWE_LOSS_CUT, 180000 } },
          0.02, 0.03 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++) {
        sfu_bwe_loss l;
        sfu_bwe_loss_init(&l);
        sfu_time t = SFU_SEC(1);
        for (size_t k = 0; k < 4 && rows[i].ws[k].n; k++) {
            const w *x = &rows[i].ws[k];
            window(&l, t, x->n, x->sent_bps, x->loss_every, x->delivered_bps);
            t += (sfu_time)((uint64_t)x->n * 1200 * 8 * 1000000 / x->sent_bps) + SFU_MS(100);
            uint64_t bps = 0;
            sfu_bwe_loss_verdict v = sfu_bwe_loss_update(&l, x->estimate_bps, t, &bps);
            if (v != x->want)
                fprintf(stderr, "  %s: window %zu verdict %d (p %.3f L %.3f)\n", rows[i].name, k, v,
                        l.last_fraction, l.inherent);
            ASSERT_EQ(v, x->want);
            if (x->want_bps) {
                ASSERT_GE(bps, x->want_bps * 97 / 100);
                ASSERT_LE(bps, x->want_bps * 103 / 100);
            }
        }
        if (l.inherent < rows[i].want_inherent_min || l.inherent > rows[i].want_inherent_max)
            fprintf(stderr, "  %s: inherent %.4f\n", rows[i].name, l.inherent);
        ASSERT(l.inherent >= rows[i].want_inherent_min && l.inherent <= rows[i].want_inherent_max);
    }
    return 0;
}

TEST(loss_windows_need_enough_packets)
{
    sfu_bwe_loss l;
    sfu_bwe_loss_init(&l);
    uint64_t bps = 0;
    /* 20 packets, a quarter lost, over 200 ms: too few to judge yet (and
     * fewer lost than a burst judged early, SFU_BWE_LOSS_EARLY_LOST). */
    window(&l, 0, 20, 960000, 4, 720000);
    ASSERT_EQ(sfu_bwe_loss_update(&l, 1000000, SFU_MS(300), &bps), SFU_BWE_LOSS_NONE);
    ASSERT_EQ(l.win.packets, 20);
    /* Spread over more than 4 s and still too few: dropped unjudged. */
    window(&l, SFU_SEC(5), 5, 960000, 2, 480000);
    ASSERT_EQ(sfu_bwe_loss_update(&l, 1000000, SFU_SEC(6), &bps), SFU_BWE_LOSS_NONE);
    ASSERT_EQ(l.win.packets, 0);
    ASSERT_EQ(l.cuts, 0);
    /* A cut whose check never gets traffic gives up after 5 s; it stands. */
    window(&l, SFU_SEC(10), 100, 1000000, 2, 500000);
    ASSERT_EQ(sfu_bwe_loss_update(&l, 1000000, SFU_SEC(11), &bps), SFU_BWE_LOSS_CUT);
    ASSERT(sfu_bwe_loss_checking(&l));
    sfu_bwe_loss_handle_timeout(&l, SFU_SEC(15));
    ASSERT(sfu_bwe_loss_checking(&l));
    sfu_bwe_loss_handle_timeout(&l, SFU_SEC(17));
    ASSERT(!sfu_bwe_loss_checking(&l));
    ASSERT_EQ(l.restores, 0);
    return 0;
}

/* A policer running dry: 40 packets at 960k get through its bucket, then
 * every second one is dropped and what passes arrives at its 250k. The
 * burst is judged before the window is complete, and the cut follows the
 * rate delivered after the first loss, not the whole window's (about 500k,
 * which left a viewer a layer too high for another half second). */
TEST(loss_burst_judged_early_at_the_rate_after_the_first_loss)
{
    sfu_bwe_loss l;
    sfu_bwe_loss_init(&l);
    uint64_t bps = 0;
    sfu_time gap = SFU_MS(10), t = 0, arrival = SFU_MS(40);
    for (int k = 0; k < 40; k++, t += gap, arrival += gap)
        sfu_bwe_loss_handle_packet(&l, t, 1200, true, arrival);
    ASSERT_EQ(sfu_bwe_loss_update(&l, 1000000, t, &bps), SFU_BWE_LOSS_NONE); /* no loss: a window */
    int k = 0;
    for (; k < 8; k++, t += gap) /* 4 lost: not yet a burst */
        sfu_bwe_loss_handle_packet(&l, t, 1200, k % 2, arrival += (k % 2 ? SFU_MS(38) : 0));
    ASSERT_EQ(sfu_bwe_loss_update(&l, 1000000, t, &bps), SFU_BWE_LOSS_NONE);
    for (; k < 18; k++, t += gap)
        sfu_bwe_loss_handle_packet(&l, t, 1200, k % 2, arrival += (k % 2 ? SFU_MS(38) : 0));
    /* 9 of 18 lost over 180 ms, 9 arrived 38 ms apart (about 250k). */
    ASSERT_EQ(sfu_bwe_loss_update(&l, 1000000, t, &bps), SFU_BWE_LOSS_CUT);
    ASSERT(bps >= 200000 && bps <= 240000);
    return 0;
}

/* A complete window (40 packets over 400 ms at 960k) whose bucket ran dry
 * only in its last 120 ms: too little arrived after the first loss to tell
 * the policer's rate, and the whole window's (about 700k) is what the
 * bucket let through before. It waits for the next feedback and cuts by
 * the rate after the first loss (250k). With a queue seen lately it does
 * not wait: a queue's loss is no policer's. */
TEST(loss_window_waits_for_the_rate_after_a_late_first_loss)
{
    for (int queue = 0; queue < 2; queue++) {
        sfu_bwe_loss l;
        sfu_bwe_loss_init(&l);
        l.queue_seen = queue;
        uint64_t bps = 0;
        sfu_time gap = SFU_MS(10), t = 0, arrival = SFU_MS(40);
        for (int k = 0; k < 28; k++, t += gap, arrival += gap)
            sfu_bwe_loss_handle_packet(&l, t, 1200, true, arrival);
        int k = 0;
        for (; k < 12; k++, t += gap) /* 8 lost, 4 arrived 38 ms apart */
            sfu_bwe_loss_handle_packet(&l, t, 1200, k % 3 == 2, arrival += (k % 3 == 2 ? SFU_MS(38) : 0));
        sfu_bwe_loss_verdict v = sfu_bwe_loss_update(&l, 1000000, t, &bps);
        if (queue) {
            ASSERT_EQ(v, SFU_BWE_LOSS_CUT);
            ASSERT(bps > 500000);
            continue;
        }
        ASSERT_EQ(v, SFU_BWE_LOSS_NONE);
        ASSERT_EQ(l.win.packets, 40);
        for (; k < 21; k++, t += gap)
            sfu_bwe_loss_handle_packet(&l, t, 1200, k % 3 == 2, arrival += (k % 3 == 2 ? SFU_MS(38) : 0));
        ASSERT_EQ(sfu_bwe_loss_update(&l, 1000000, t, &bps), SFU_BWE_LOSS_CUT);
        ASSERT(bps >= 200000 && bps <= 240000);
    }
    return 0;
}

/* ---- the estimator ---- */

/* Sends `n` packets of 1200 bytes from seq16 at `bps` starting at *t, and
 * feeds back their arrival `delay` later (every `lose_every`-th lost; 0
 * none) as one feedback, at the last arrival + 20 ms. Returns the feedback
 * time. */
static sfu_time exchange(sfu_bwe *b, uint16_t *seq16, int n, uint64_t bps, sfu_time *t,
                         sfu_time delay, int lose_every, uint32_t ref_base)
{
    static sfu_twcc_packet pk[1024];
    sfu_time gap = (sfu_time)(1200ull * 8 * 1000000 / bps);
    uint16_t first = *seq16;
    sfu_time first_sent = *t;
    for (int k = 0; k < n; k++) {
        sfu_bwe_on_packet_sent(b, (*seq16)++, 1200, *t);
        *t += gap;
    }
    sfu_twcc_feedback fb = { .base_seq16 = first, .status_count = (uint16_t)n,
                             .reference_time = ref_base, .packet_count = (uint16_t)n };
    for (int k = 0; k < n; k++) {
        bool lost = lose_every && k % lose_every == lose_every - 1;
        pk[k] = (sfu_twcc_packet){ .seq16 = (uint16_t)(first + k), .received = !lost,
                                   .arrival_us = (int64_t)ref_base * SFU_TWCC_REF_US +
                                                 (first_sent + k * gap + delay) % SFU_SEC(1000) };
        fb.received_count += !lost;
    }
    sfu_time now = *t + delay + SFU_MS(20);
    if (sfu_bwe_on_feedback(b, &fb, pk, (size_t)n, now) != 0)
        abort();
    return now;
}

TEST(feedback_errors_and_unknowns)
{
    sfu_bwe *b = sfu_bwe_new(NULL);
    ASSERT(b != NULL);
    sfu_twcc_packet pk[4] = { { .seq16 = 7, .received = true, .arrival_us = 1000 } };
    sfu_twcc_feedback fb = { .base_seq16 = 7, .status_count = 1, .packet_count = 1 };
    ASSERT_EQ(sfu_bwe_on_feedback(b, &fb, pk, 2, SFU_SEC(1)), -SFU_EINVAL);
    sfu_bwe_stats st;
    sfu_bwe_stats_get(b, SFU_SEC(1), &st);
    ASSERT_EQ(st.feedbacks, 0);
    /* A number never sent: counted, nothing else. */
    ASSERT_EQ(sfu_bwe_on_feedback(b, &fb, pk, 1, SFU_SEC(1)), 0);
    sfu_bwe_stats_get(b, SFU_SEC(1), &st);
    ASSERT_EQ(st.feedbacks, 1);
    ASSERT_EQ(st.unknown_reports, 1);
    ASSERT_EQ(st.estimate_bps, sfu_bwe_config_default.start_bps);
    ASSERT_EQ(st.delay_loss_bps, 0);
    /* Sent after the feedback's own time: not ours to resolve either. */
    sfu_bwe_on_packet_sent(b, 7, 1200, SFU_SEC(2));
    ASSERT_EQ(sfu_bwe_on_feedback(b, &fb, pk, 1, SFU_SEC(1)), 0);
    sfu_bwe_stats_get(b, SFU_SEC(1), &st);
    ASSERT_EQ(st.unknown_reports, 2);
    sfu_bwe_free(b);
    sfu_bwe_free(NULL);
    return 0;
}

TEST(grows_on_a_clean_path_and_reports_acked_rate)
{
    sfu_bwe *b = sfu_bwe_new(NULL);
    uint16_t seq = 65500;               /* wraps on the way */
    sfu_time t = SFU_SEC(1), now = 0;
    for (int i = 0; i < 30; i++)
        now = exchange(b, &seq, 10, 400000, &t, SFU_MS(30), 0, 0);
    sfu_bwe_stats st;
    sfu_bwe_stats_get(b, now, &st);
    ASSERT_EQ(st.usage, SFU_BWE_NORMAL);
    ASSERT_EQ(st.unknown_reports, 0);
    ASSERT_GE(st.acked_bps, 380000);
    ASSERT_LE(st.acked_bps, 420000);
    /* It grew, but not past 1.5 x what was delivered (app-limited). */
    ASSERT_GT(st.estimate_bps, sfu_bwe_config_default.start_bps);
    ASSERT_LE(st.estimate_bps, 400000 * 3 / 2 + 10000 + 1000);
    /* The same packets reported again change nothing. */
    uint64_t before = st.estimate_bps;
    sfu_twcc_packet pk = { .seq16 = (uint16_t)(seq - 1), .received = true, .arrival_us = 0 };
    sfu_twcc_feedback fb = { .base_seq16 = pk.seq16, .status_count = 1, .packet_count = 1 };
    ASSERT_EQ(sfu_bwe_on_feedback(b, &fb, &pk, 1, now + 1), 0);
    ASSERT_EQ(sfu_bwe_estimate(b, now + 1), before);
    sfu_bwe_free(b);
    return 0;
}

TEST(overuse_cuts_to_85_percent_of_acked)
{
    sfu_bwe *b = sfu_bwe_new(NULL);
    uint16_t seq = 1;
    sfu_time t = SFU_SEC(1), now = 0;
    for (int i = 0; i < 20; i++)
        now = exchange(b, &seq, 10, 400000, &t, SFU_MS(30), 0, 0);
    /* The queue then grows by 3 ms per packet. */
    sfu_bwe_stats st;
    sfu_time delay = SFU_MS(30);
    for (int i = 0; i < 10; i++) {
        for (int k = 0; k < 10; k++)
            now = exchange(b, &seq, 1, 400000, &t, delay += SFU_MS(3), 0, 0);
        sfu_bwe_stats_get(b, now, &st);
        if (st.overuses)
            break;
    }
    ASSERT_GE(st.overuses, 1);
    ASSERT_LE(st.estimate_bps, 400000 * 90 / 100);
    ASSERT_GE(st.estimate_bps, 400000 * 75 / 100);
    sfu_bwe_free(b);
    return 0;
}

/* Arrival times stay on one axis when the 24-bit reference time wraps. */
TEST(reference_time_wrap)
{
    sfu_bwe *b = sfu_bwe_new(NULL);
    uint16_t seq = 1;
    sfu_time t = SFU_SEC(1), now = 0;
    static sfu_twcc_packet pk[10];
    for (int i = 0; i < 40; i++) {
        sfu_time first_sent = t;
        uint16_t first = seq;
        for (int k = 0; k < 10; k++) {
            sfu_bwe_on_packet_sent(b, seq++, 1200, t);
            t += SFU_MS(24);
        }
        /* Receiver clock: 1 s before the wrap at the start. */
        int64_t rx0 = ((int64_t)SFU_TWCC_REF_US << 24) - SFU_SEC(1) + (first_sent - SFU_SEC(1));
        int64_t wrap = (int64_t)SFU_TWCC_REF_US << 24;
        uint32_t ref = (uint32_t)((rx0 % wrap) / SFU_TWCC_REF_US);
        int64_t base = (int64_t)ref * SFU_TWCC_REF_US;
        sfu_twcc_feedback fb = { .base_seq16 = first, .status_count = 10, .reference_time = ref,
                                 .packet_count = 10, .received_count = 10 };
        for (int k = 0; k < 10; k++)
            pk[k] = (sfu_twcc_packet){ .seq16 = (uint16_t)(first + k), .received = true,
                                       .arrival_us = base + (rx0 % wrap - base) + k * SFU_MS(24) };
        now = t + SFU_MS(50);
        ASSERT_EQ(sfu_bwe_on_feedback(b, &fb, pk, 10, now), 0);
        sfu_bwe_stats st;
        sfu_bwe_stats_get(b, now, &st);
        ASSERT_EQ(st.usage, SFU_BWE_NORMAL);    /* a 12-day jump back would read as a drained queue */
    }
    sfu_bwe_stats st;
    sfu_bwe_stats_get(b, now, &st);
    ASSERT_EQ(st.overuses, 0);
    ASSERT_EQ(st.usage, SFU_BWE_NORMAL);
    ASSERT_GT(st.estimate_bps, sfu_bwe_config_default.start_bps);
    sfu_bwe_free(b);
    return 0;
}

TEST(remb_table)
{
    static const struct {
        const char *name;
        bool twcc, remb_sent;
        uint64_t remb;
        sfu_time remb_age;
        uint64_t want_min, want_max;
    } rows[] = {
        { "no feedback at all: the start rate", false, false, 0, 0, 300000, 300000 },
        { "REMB only", false, true, 1234000, 0, 1234000, 1234000 },
        { "REMB only, old: still the last word", false, true, 1234000, SFU_SEC(60), 1234000, 1234000 },
        { "REMB of 0: the minimum", false, true, 0, 0, 30000, 30000 },
        { "REMB below transport-cc caps it", true, true, 100000, 0, 100000, 100000 },
        { "REMB above transport-cc: no effect", true, true, 9000000, 0, 300000, 700000 },
        { "stale REMB below: ignored", true, true, 100000, SFU_SEC(6), 300000, 700000 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++) {
        sfu_bwe *b = sfu_bwe_new(NULL);
        uint16_t seq = 1;
        sfu_time t = SFU_SEC(1), now = SFU_SEC(1);
        if (rows[i].twcc)
            for (int k = 0; k < 5; k++)
                now = exchange(b, &seq, 10, 300000, &t, SFU_MS(30), 0, 0);
        if (rows[i].remb_sent)
            sfu_bwe_on_remb(b, rows[i].remb, now);
        uint64_t e = sfu_bwe_estimate(b, now + rows[i].remb_age);
        if (e < rows[i].want_min || e > rows[i].want_max)
            fprintf(stderr, "  %s: %" PRIu64 "\n", rows[i].name, e);
        ASSERT_GE(e, rows[i].want_min);
        ASSERT_LE(e, rows[i].want_max);
        sfu_bwe_free(b);
    }
    return 0;
}

TEST(probe_raises_the_estimate)
{
    sfu_bwe *b = sfu_bwe_new(NULL);
    sfu_bwe_probe p;
    /* Not before any transport-cc feedback. */
    ASSERT(!sfu_bwe_poll_probe(b, 2000000, 0, &p));
    uint16_t seq = 1;
    sfu_time t = SFU_SEC(1), now = 0;
    for (int i = 0; i < 5; i++)
        now = exchange(b, &seq, 10, 300000, &t, SFU_MS(30), 0, 0);
    uint64_t est = sfu_bwe_estimate(b, now);
    /* the target already fits: the estimate, and what the path has proved
     * (sfu_bwe_climb_bps: the start rate until a proof probe) */
    uint64_t fits = sfu_bwe_climb_bps(b) < est ? sfu_bwe_climb_bps(b) : est;
    ASSERT(!sfu_bwe_poll_probe(b, fits, now, &p));
    ASSERT(!sfu_bwe_poll_probe(b, 0, now, &p));
    ASSERT(sfu_bwe_poll_probe(b, 2000000, now, &p));
    ASSERT_NE(p.id, 0);
    ASSERT_EQ(p.rate_bps, 2 * est);
    ASSERT_GE(p.bytes, 6000);
    ASSERT_EQ(sfu_bwe_probe_rate(b), p.rate_bps);
    ASSERT(!sfu_bwe_poll_probe(b, 2000000, now, &p));   /* one at a time */
    /* The caller sends it at its rate; it all arrives at that rate. */
    t = now;
    int n = (int)(p.bytes / 1200) + 1;
    now = exchange(b, &seq, n, p.rate_bps, &t, SFU_MS(30), 0, 0);
    ASSERT_EQ(sfu_bwe_probe_rate(b), 0);
    sfu_bwe_stats st;
    sfu_bwe_stats_get(b, now, &st);
    ASSERT_EQ(st.probes_sent, 1);
    ASSERT_EQ(st.probes_succeeded, 1);
    ASSERT_GE(st.estimate_bps, p.rate_bps * 90 / 100);
    ASSERT_LE(st.estimate_bps, p.rate_bps);
    /* A successful probe allows the next one at once, at 3 x. */
    uint64_t est2 = st.estimate_bps;
    ASSERT(sfu_bwe_poll_probe(b, 10000000, now, &p));
    ASSERT_EQ(p.rate_bps, 3 * est2);
    sfu_bwe_free(b);
    return 0;
}

TEST(lossy_probe_fails_and_backs_off)
{
    sfu_bwe *b = sfu_bwe_new(NULL);
    uint16_t seq = 1;
    sfu_time t = SFU_SEC(1), now = 0;
    for (int i = 0; i < 5; i++)
        now = exchange(b, &seq, 10, 300000, &t, SFU_MS(30), 0, 0);
    uint64_t est = sfu_bwe_estimate(b, now);
    sfu_bwe_probe p;
    ASSERT(sfu_bwe_poll_probe(b, 2000000, now, &p));
    t = now;
    /* Every other packet lost (a policer past its burst). */
    now = exchange(b, &seq, (int)(p.bytes / 1200), p.rate_bps, &t, SFU_MS(30), 2, 0);
    sfu_bwe_stats st;
    sfu_bwe_stats_get(b, now, &st);
    ASSERT_EQ(st.probes_succeeded, 0);
    ASSERT_EQ(sfu_bwe_estimate(b, now), est);
    ASSERT(!sfu_bwe_poll_probe(b, 2000000, now + SFU_MS(900), &p));
    ASSERT(sfu_bwe_poll_probe(b, 2000000, now + SFU_MS(1000), &p));
    sfu_bwe_free(b);

    /* Once the media met a policer (half lost at 300k, none at 150k, no
     * queue: a confirmed cut), a probe that loses packets makes the next
     * wait 2 s, and a second such failure 4 s. */
    b = sfu_bwe_new(NULL);
    seq = 1;
    t = SFU_SEC(1);
    for (int i = 0; i < 5; i++)
        now = exchange(b, &seq, 10, 300000, &t, SFU_MS(30), 0, 0);
    now = exchange(b, &seq, 100, 300000, &t, SFU_MS(30), 2, 0);
    t = now;
    now = exchange(b, &seq, 70, 150000, &t, SFU_MS(30), 0, 0);
    sfu_bwe_stats_get(b, now, &st);
    if (st.loss_confirmed != 1)
        fprintf(stderr, "  cuts %llu confirmed %llu restores %llu\n", (unsigned long long)st.loss_cuts, (unsigned long long)st.loss_confirmed, (unsigned long long)st.loss_restores);
    ASSERT_EQ(st.loss_confirmed, 1);
    ASSERT(sfu_bwe_poll_probe(b, 2000000, now, &p));
    t = now;
    now = exchange(b, &seq, (int)(p.bytes / 1200), p.rate_bps, &t, SFU_MS(30), 2, 0);
    ASSERT(!sfu_bwe_poll_probe(b, 2000000, now + SFU_MS(1900), &p));
    ASSERT(sfu_bwe_poll_probe(b, 2000000, now + SFU_MS(2000), &p));
    t = now + SFU_MS(2000);
    now = exchange(b, &seq, (int)(p.bytes / 1200), p.rate_bps, &t, SFU_MS(30), 2, 0);
    ASSERT(!sfu_bwe_poll_probe(b, 2000000, now + SFU_MS(3900), &p));
    ASSERT(sfu_bwe_poll_probe(b, 2000000, now + SFU_MS(4000), &p));
    sfu_bwe_free(b);
    return 0;
}

TEST_LIST(TEST_ENTRY(delay_usage_table), TEST_ENTRY(delay_groups), TEST_ENTRY(loss_rule_table),
          TEST_ENTRY(loss_windows_need_enough_packets), TEST_ENTRY(loss_burst_judged_early_at_the_rate_after_the_first_loss), TEST_ENTRY(feedback_errors_and_unknowns),
          TEST_ENTRY(grows_on_a_clean_path_and_reports_acked_rate),
          TEST_ENTRY(overuse_cuts_to_85_percent_of_acked), TEST_ENTRY(reference_time_wrap),
          TEST_ENTRY(remb_table), TEST_ENTRY(probe_raises_the_estimate),
          TEST_ENTRY(lossy_probe_fails_and_backs_off),
          TEST_ENTRY(loss_window_waits_for_the_rate_after_a_late_first_loss))
