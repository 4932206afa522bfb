/* Deterministic simulation of one publisher and its viewers through the
 * room: a virtual clock, and a seeded loss / delay / reordering model on
 * every link in both directions (media, NACKs, retransmissions, PLIs, RTCP
 * reports). The clock only moves to the next event: a packet arriving, a
 * frame to send, or a deadline the room or a peer asked for.
 *
 * Viewers decode: a frame (PKTS_PER_FRAME packets) is decoded when it is
 * whole and is a keyframe or follows the last decoded frame. That gives the
 * figures a user sees: the time from join to the first decoded frame, and
 * from a blackout's end to the first decoded frame after it. */
#include "tests/unit/sim_harness.h"

TEST(lossy_room_recovers_everything)
{
    scenario sc = base_scenario();
    static const sfu_time bind_at[] = { 0, SFU_MS(1500), SFU_SEC(5) };
    static const sfu_time pli_at[] = { SFU_SEC(3), SFU_MS(3200), SFU_SEC(7) };
    memcpy(sc.bind_at, bind_at, sizeof bind_at);
    memcpy(sc.pli_at, pli_at, sizeof pli_at);
    sim *s = calloc(1, sizeof *s);
    ASSERT(s);
    ASSERT_EQ(sim_setup(s, &sc), 0);
    sim_run(s);
    print_run("lossy", s);
    if (getenv("SIM_DEBUG")) {
        for (int k = 0; k < s->nreq; k++)
            fprintf(stderr, "  SFU keyframe request at %lld ms\n", (long long)s->req_at[k] / 1000);
        for (int k = 0; k < s->p.npli; k++)
            fprintf(stderr, "  publisher got one at %lld ms\n", (long long)s->p.pli_at[k] / 1000);
        for (int i = 0; i < sc.nview; i++)
            fprintf(stderr, "  viewer %d: PLI at %lld, keyframe at %lld, %llu PLIs\n", i,
                    (long long)s->v[i].pli_first / 1000, (long long)s->v[i].key_after_pli / 1000,
                    (unsigned long long)s->v[i].plis_sent);
    }
    const sfu_room_stats *st = sfu_room_stats_get(s->room);
    ASSERT_GT(s->lost, 100);
    ASSERT_GT(st->retransmitted, 50);
    ASSERT_GT(s->p.rtx_sent, 10);
    for (int i = 0; i < sc.nview; i++)
        if (check_viewer(s, i))
            return 1;
    ASSERT_EQ(s->held_back, 0);
    for (int i = 0; i < sc.nview; i++)
        ASSERT_GT(s->v[i].rtx_got, 0);
    if (check_request_spacing(s))
        return 1;
    /* Each viewer's PLI brought it a keyframe (from the cache or from the
     * publisher) within 1.5 s: its PLI, repeated every 500 ms, or the SFU's
     * request may be lost on the way (5 %), twice in a row with some seeds. */
    for (int i = 0; i < sc.nview; i++) {
        if (s->v[i].key_after_pli - s->v[i].pli_first > SFU_MS(1500))
            TEST_FAIL_("viewer %d's PLI at %lld ms: no keyframe within 1.5 s", i,
                       (long long)(s->v[i].pli_first / 1000));
    }
    ASSERT_GT(s->p.twcc_fb, 50);
    ASSERT_GT(s->p.rr, 5);
    ASSERT_EQ(sim_free(s), 0);
    free(s);
    return 0;
}

#define NJOIN 22

/* Joins: one while the publisher's last keyframe is recent (served from the
 * keyframe cache), one while it is 3 s old (a request to the publisher),
 * then 20 more 20 ms apart, as the benchmark's one-to-many scenario joins
 * them. The figure is what the viewer sees: join to first decoded frame. */
TEST(join_to_first_frame)
{
    scenario sc = base_scenario();
    sc.nview = NJOIN;
    sc.loss_pct = 0;
    sc.delay_base = SFU_MS(10);
    sc.jitter = SFU_MS(10);
    sc.bind_at[0] = SFU_MS(300);
    sc.bind_at[1] = SFU_SEC(3);
    for (int i = 2; i < NJOIN; i++)
        sc.bind_at[i] = SFU_MS(3100) + SFU_MS(20) * (i - 2);
    const sfu_time hop = sc.delay_base + sc.jitter;
    for (int cache = 1; cache >= 0; cache--) {
        sc.kf_cache = cache ? SFU_SEC(1) : 0;
        sim *s = calloc(1, sizeof *s);
        ASSERT(s);
        ASSERT_EQ(sim_setup(s, &sc), 0);
        sim_run(s);
        print_run(cache ? "join, keyframe cache" : "join, no keyframe cache", s);
        sfu_time join[NJOIN];
        for (int i = 0; i < NJOIN; i++) {
            ASSERT_NE(s->v[i].first_decode_at, SFU_TIME_NEVER);
            join[i] = s->v[i].first_decode_at - s->v[i].bind_at;
            if (check_viewer(s, i))
                return 1;
        }
        printf("  join ms: warm %lld, cold %lld, then", (long long)join[0] / 1000, (long long)join[1] / 1000);
        for (int i = 2; i < NJOIN; i++)
            printf(" %lld", (long long)join[i] / 1000);
        printf("\n");
        /* Cold: the request, the publisher's next frame, the keyframe back. */
        ASSERT_LE(join[1], 3 * hop + FRAME_US);
        if (cache) {
            /* Served at once: one hop from the SFU. */
            ASSERT_LE(join[0], hop);
            for (int i = 2; i < NJOIN; i++)
                ASSERT_LE(join[i], hop);
            /* Only the cold join asked the publisher. */
            ASSERT_EQ(s->p.npli, 1);
            /* The last viewer joined ~430 ms after the keyframe: its replayed
             * frames were squeezed together, not spread over 430 ms. */
            const viewer *v = &s->v[NJOIN - 1];
            int k = (int)((s->v[NJOIN - 1].min_tag - FIRST_SEQ) / PKTS_PER_FRAME);
            ASSERT(v->key[k]);
            ASSERT_LT(v->ts_out[k + 1] - v->ts_out[k], 3000);
        } else {
            /* Without the cache joins wait for requests, at most one per
             * interval: the bound holds, the joins are slower. */
            if (check_request_spacing(s))
                return 1;
            ASSERT_GT(join[NJOIN - 1], hop);
        }
        ASSERT_LE(max_per_second(s->req_at, s->nreq), SFU_SEC(1) / sc.kf_interval);
        ASSERT_EQ(s->held_back, 0);
        ASSERT_EQ(sim_free(s), 0);
        free(s);
    }
    return 0;
}

/* 20 viewers, each sending a PLI every 50 ms for 3 s (400 PLIs a second):
 * the publisher gets at most one per keyframe_min_interval. */
TEST(pli_storm_is_bounded)
{
    scenario sc = base_scenario();
    sc.nview = 20;
    sc.loss_pct = 2;
    sc.delay_base = SFU_MS(10);
    sc.jitter = SFU_MS(10);
    sc.storm_from = SFU_SEC(1);
    sc.storm_to = SFU_SEC(4);
    sc.media_end = SFU_SEC(6);
    sc.check_end = SFU_SEC(5);
    sc.sim_end = SFU_SEC(7);
    for (int cache = 1; cache >= 0; cache--) {
        sc.kf_cache = cache ? SFU_SEC(1) : 0;
        sim *s = calloc(1, sizeof *s);
        ASSERT(s);
        ASSERT_EQ(sim_setup(s, &sc), 0);
        sim_run(s);
        print_run(cache ? "PLI storm, keyframe cache" : "PLI storm, no keyframe cache", s);
        uint64_t asked = 0;
        for (int i = 0; i < sc.nview; i++)
            asked += s->v[i].plis_sent;
        ASSERT_GT(asked, 1000);
        if (check_request_spacing(s))
            return 1;
        /* The SFU sent at most one per interval: 4 in any second at 250 ms
         * (the link's jitter can bunch them by up to 10 ms on arrival). */
        ASSERT_LE(max_per_second(s->req_at, s->nreq), SFU_SEC(1) / sc.kf_interval);
        /* ... and it was asked: the viewers are not ignored. */
        ASSERT_GE(s->p.npli, 3 * SFU_SEC(1) / sc.kf_interval - 2);
        for (int i = 0; i < sc.nview; i++)
            if (check_viewer(s, i))
                return 1;
        ASSERT_EQ(sim_free(s), 0);
        free(s);
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(lossy_room_recovers_everything), TEST_ENTRY(join_to_first_frame),
          TEST_ENTRY(pli_storm_is_bounded))
