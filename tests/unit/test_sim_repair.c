/* The simulation (sim_harness.h) of how a viewer's stream is repaired:
 * recovery after a blackout, and freezes under heavy loss with the copies of
 * sink_repair.h on and off. */
#include "tests/unit/sim_harness.h"


/* 2 s of 100 % loss toward one viewer, then a clean path: its video is back
 * within 300 ms, with and without the keyframe cache, and also when the
 * viewer itself asks for a keyframe only after 1 s (Chromium NACKs the lost
 * packets for about that long first): the SFU asks the publisher as soon as
 * the viewer NACKs packets it can no longer resend (sink_repair.h). The
 * other viewer never notices. The publisher sends keyframes only when asked. */
TEST(blackout_recovers_within_300ms)
{
    scenario sc = base_scenario();
    sc.nview = 2;
    sc.loss_pct = 0;
    sc.delay_base = SFU_MS(10);
    sc.jitter = SFU_MS(10);
    sc.bind_at[1] = SFU_MS(100);
    sc.give_up_pli = true;
    sc.blackout = 0;
    sc.blackout_from = SFU_SEC(3);
    sc.blackout_to = SFU_SEC(5);
    sc.media_end = SFU_SEC(8);
    sc.check_end = SFU_SEC(7);
    sc.sim_end = SFU_SEC(9);
    static const struct { sfu_time kf_cache; sfu_time give_up; const char *name; } runs[] = {
        { SFU_SEC(1), 0, "blackout, keyframe cache" },
        { 0, 0, "blackout, no keyframe cache" },
        { SFU_SEC(1), SFU_SEC(1), "blackout, viewer PLIs after 1 s" },
    };
    for (size_t r = 0; r < SFU_ARRAY_LEN(runs); r++) {
        sc.kf_cache = runs[r].kf_cache;
        sc.give_up = runs[r].give_up;
        sim *s = calloc(1, sizeof *s);
        ASSERT(s);
        ASSERT_EQ(sim_setup(s, &sc), 0);
        sim_run(s);
        print_run(runs[r].name, s);
        const viewer *v = &s->v[0];
        sfu_time back = v->decode_after_blackout - sc.blackout_to;
        printf("  video back %lld ms after the path returned; viewer 1's longest gap %lld ms\n",
               (long long)back / 1000, (long long)s->v[1].max_decode_gap / 1000);
        ASSERT_NE(v->decode_after_blackout, SFU_TIME_NEVER);
        ASSERT_LE(back, SFU_MS(300));
        for (int i = 0; i < sc.nview; i++)
            if (check_viewer(s, i))
                return 1;
        /* The other viewer decoded every frame as it came. */
        ASSERT_LE(s->v[1].max_decode_gap, 2 * FRAME_US);
        /* The blacked-out viewer's NACKs for seconds-old packets were not
         * answered. */
        ASSERT_GT(sfu_room_stats_get(s->room)->drops[SFU_DROP_RTX_USELESS], 0);
        if (runs[r].give_up) {
            /* The SFU asked on the viewer's behalf, before the viewer did. */
            ASSERT_GE(sfu_room_stats_get(s->room)->repair_keyframe_requests, 1);
            ASSERT_LE(sfu_room_stats_get(s->room)->repair_keyframe_requests, 3);
        }
        /* An outage is not random loss: no copies of every packet after it
         * (274 when its NACK counted in full), a few of retransmissions (6-30). */
        ASSERT_LE(sfu_room_stats_get(s->room)->video_copies, 60);
        if (check_request_spacing(s))
            return 1;
        ASSERT_EQ(sim_free(s), 0);
        free(s);
    }
    return 0;
}

/* 10 % and 30 % random loss both ways on the viewers' links (the
 * publisher's is clean, as in tests/e2e/netlab.sh), 10 s, freezes counted
 * as a browser counts them (FREEZE, on PLAYOUT times). Toward these viewers
 * the SFU sends video twice and retransmissions up to three times
 * (sink_repair.h): at 30 % that cuts the frozen time 2.5-10 fold (with
 * this seed 0.9 s per viewer against 5-6.5 s without; over ten other seeds
 * 0.5-3.4 s against 5.8-9.1 s). This viewer has a fixed 100 ms jitter
 * buffer, harsher than Chromium's, where the same change took 3-5 s frozen
 * to 0-1.1 s (tests/e2e/netlab.sh). What is left: the 1-2.5 s before
 * the estimate reaches SFU_SINK_REPAIR_DUP_ON, and lost NACKs (each costs
 * a 100 ms retry),
 * and never exceeds the retransmission
 * budget: with 40 a second it stays within it and most frames still play.
 * At 10 % this viewer still freezes up to 3 times (Chromium did not in
 * tests/e2e/netlab.sh). */
TEST(heavy_loss_freezes_bounded)
{
    static const struct {
        int loss;
        bool no_copies;
        uint32_t max_rtx;
        int max_freezes;
        sfu_time max_frozen;
        const char *name;
    } runs[] = {
        { 10, false, 0, 3, SFU_SEC(1), "10 % loss" },
        { 30, true, 0, 100, SFU_SEC(10), "30 % loss, no copies" },
        { 30, false, 0, 14, SFU_SEC(4), "30 % loss" },
        { 30, false, 40, 100, SFU_SEC(10), "30 % loss, budget 40/s" },
    };
    sfu_time frozen_without = 0;
    for (size_t r = 0; r < SFU_ARRAY_LEN(runs); r++) {
        scenario sc = base_scenario();
        sc.nview = 2;
        sc.loss_pct = runs[r].loss;
        sc.pub_clean = true;
        sc.delay_base = SFU_MS(2);
        sc.jitter = SFU_MS(3);
        sc.give_up_pli = true;
        sc.give_up = SFU_SEC(1);
        sc.max_rtx = runs[r].max_rtx;
        sc.no_copies = runs[r].no_copies;
        sim *s = calloc(1, sizeof *s);
        ASSERT(s);
        ASSERT_EQ(sim_setup(s, &sc), 0);
        sim_run(s);
        print_run(runs[r].name, s);
        const sfu_room_stats *st = sfu_room_stats_get(s->room);
        printf("  %llu video copies, %llu keyframe requests for broken streams\n",
               (unsigned long long)st->video_copies, (unsigned long long)st->repair_keyframe_requests);
        for (int i = 0; i < sc.nview; i++) {
            const viewer *v = &s->v[i];
            printf("  viewer %d: %d freezes, %lld ms frozen, longest gap %lld ms\n", i, v->freezes,
                   (long long)v->frozen / 1000, (long long)v->max_decode_gap / 1000);
            ASSERT_LE(v->freezes, runs[r].max_freezes);
            ASSERT_LE(v->frozen, runs[r].max_frozen);
            if (runs[r].max_rtx) {
                /* starved of retransmissions, it still plays most frames */
                int decoded = 0;
                for (int f = 0; f < MAX_FRAMES; f++)
                    decoded += v->decoded[f];
                ASSERT_GT(decoded, (int)(sc.check_end / FRAME_US) / 2);
            } else if (check_viewer(s, i)) {
                return 1;
            }
        }
        if (runs[r].max_rtx) {
            /* GCRA: the rate over the run plus half a second's burst, per viewer. */
            uint64_t extra = st->retransmitted + st->video_copies;
            uint64_t bound = (uint64_t)sc.nview * (runs[r].max_rtx * (uint64_t)(sc.sim_end / SFU_SEC(1)) +
                                                   runs[r].max_rtx / 2 + 1);
            ASSERT_LE(extra, bound);
            ASSERT_GT(st->drops[SFU_DROP_RTX_RATE], 0);
        } else if (runs[r].loss >= 30 && !runs[r].no_copies) {
            ASSERT_GT(st->video_copies, 0);
        }
        sfu_time frozen = 0;
        for (int i = 0; i < sc.nview; i++)
            frozen += s->v[i].frozen;
        if (runs[r].loss >= 30 && !runs[r].max_rtx) {
            if (runs[r].no_copies)
                frozen_without = frozen;
            else /* the copies are what makes the difference */
                ASSERT_LE(5 * frozen, 2 * frozen_without);
        }
        ASSERT_EQ(sim_free(s), 0);
        free(s);
    }
    return 0;
}

/* A clean link that turns to 30 % loss both ways after 3 s, as in
 * tests/e2e/netlab.sh: the copies start about 40 packets into the loss
 * (sink_repair.h, onset), not after the three smoothed windows (about 100
 * packets, 1.1 s of this 90 packets/s stream; 1.75 s of the lab's 55) in
 * which most failed NACK rounds froze the lab's viewer. Over ten seeds. */
TEST(loss_onset_starts_copies_fast)
{
    sfu_time worst = 0, total = 0;
    int freezes = 0;
    sfu_time frozen = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        scenario sc = base_scenario();
        sc.nview = 1;
        sc.loss_pct = 30;
        sc.loss_from = SFU_SEC(3);
        sc.pub_clean = true;
        sc.delay_base = SFU_MS(2);
        sc.jitter = SFU_MS(3);
        sc.give_up_pli = true;
        sc.give_up = SFU_SEC(1);
        sc.media_end = SFU_SEC(6);
        sc.check_end = SFU_SEC(5);
        sc.sim_end = SFU_SEC(7);
        sim *s = calloc(1, sizeof *s);
        ASSERT(s);
        ASSERT_EQ(sim_setup(s, &sc), 0);
        s->rng ^= seed * 0x9E3779B97F4A7C15ULL;
        sim_run(s);
        ASSERT_GE(s->copies_at, sc.loss_from);
        sfu_time after = (s->copies_at == SFU_TIME_NEVER ? sc.sim_end : s->copies_at) - sc.loss_from;
        total += after;
        if (after > worst)
            worst = after;
        freezes += s->v[0].freezes;
        frozen += s->v[0].frozen;
        if (check_viewer(s, 0))
            return 1;
        ASSERT_EQ(sim_free(s), 0);
        free(s);
    }
    printf("  copies %lld ms after the onset on average, %lld ms at most; %d freezes, %lld ms frozen in"
           " ten runs\n", (long long)total / 10000, (long long)worst / 1000, freezes, (long long)frozen / 1000);
    ASSERT_LE(total / 10, SFU_MS(600));
    ASSERT_LE(worst, SFU_MS(900));
    return 0;
}

TEST_LIST(TEST_ENTRY(blackout_recovers_within_300ms), TEST_ENTRY(heavy_loss_freezes_bounded),
          TEST_ENTRY(loss_onset_starts_copies_fast))
