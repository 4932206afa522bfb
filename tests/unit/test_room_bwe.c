/* Send-side estimation per viewer through the room (room_bwe.c), on a
 * virtual clock (room_bwe_rig.h): the viewer's limit and layer follow the
 * bottleneck's capacity down and back up, probes included; new viewers
 * start within the start estimate; a deaf viewer or one without
 * transport-cc is not limited. */
#include "tests/test.h"
#include "tests/unit/room_bwe_rig.h"

TEST(limit_follows_the_estimate_down_and_up)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    sfu_time now = 0;
    int err = 0;
    uint32_t limit = 0;
    sfu_time top = run(&r, &now, SFU_SEC(20), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    int q = quality(&r, &limit);
    sfu_bwe_stats st;
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, VIEW, now, &st), 0);
    sfu_room_sink_layer sl;
    ASSERT_EQ(sfu_room_sink_layer_get(r.room, VIEW, "v", &sl), 0);
    printf("  2M: top layer at %.1f s; at 20 s layer %d (%llu switches), limit %u, estimate %llu\n",
           (double)top / SFU_SEC(1), q, (unsigned long long)sl.switches, limit,
           (unsigned long long)st.estimate_bps);
    ASSERT(top >= 0 && top < SFU_SEC(15));
    ASSERT_EQ(q, 2);
    ASSERT(limit > 1200000);
    const sfu_room_stats *rs = sfu_room_stats_get(r.room);
    ASSERT(rs->bwe_feedbacks > 150);
    ASSERT(rs->probes > 0 && rs->probe_packets > 0 && r.l.padding <= rs->probe_packets);

    sfu_time down = run(&r, &now, SFU_SEC(40), 300000, 0, &err);
    ASSERT_EQ(err, 0);
    q = quality(&r, &limit);
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, VIEW, now, &st), 0);
    printf("  300k from 20 s: layer 0 after %.2f s; at 40 s layer %d, limit %u, estimate %llu\n",
           (double)(down - SFU_SEC(20)) / SFU_SEC(1), q, limit, (unsigned long long)st.estimate_bps);
    ASSERT(down >= 0 && down - SFU_SEC(20) < SFU_SEC(2));
    ASSERT_EQ(q, 0);
    ASSERT(limit < 400000);

    sfu_time up = run(&r, &now, SFU_SEC(60), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    q = quality(&r, &limit);
    printf("  2M from 40 s: top layer after %.1f s; at 60 s layer %d, limit %u; probes %llu (%llu packets), "
           "feedbacks %llu, dropped at the bottleneck %llu of %llu\n",
           (double)(up - SFU_SEC(40)) / SFU_SEC(1), q, limit, (unsigned long long)rs->probes,
           (unsigned long long)rs->probe_packets, (unsigned long long)rs->bwe_feedbacks,
           (unsigned long long)r.l.dropped, (unsigned long long)(r.l.dropped + r.l.passed));
    ASSERT(up >= 0 && up - SFU_SEC(40) < SFU_SEC(12));
    ASSERT_EQ(q, 2);
    /* Probes resend recent video on the RTX SSRC (room_send_probe_rtx);
     * padding only while nothing has been forwarded yet. */
    printf("  probe packets %llu, %llu of them padding\n", (unsigned long long)rs->probe_packets,
           (unsigned long long)r.l.padding);
    ASSERT(r.l.padding * 4 < rs->probe_packets);
    rig_close(&r);
    return 0;
}

/* The same through a policer (nftables' limit rate over .. drop: a second
 * at its rate plus a 12 kB burst) 2M / 250k / 2M: no queue, only loss tells. */
TEST(policer_down_and_up)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    r.l.police = true;
    sfu_time now = 0;
    int err = 0;
    uint32_t limit = 0;
    (void)run(&r, &now, SFU_SEC(20), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    ASSERT_EQ(quality(&r, &limit), 2);
    uint64_t d0 = r.l.dropped, p0 = r.l.passed;
    r.steps = r.steps_at_want = 0;
    r.max_target = -1;
    sfu_time down = run(&r, &now, SFU_SEC(40), 250000, 0, &err);
    ASSERT_EQ(err, 0);
    int q = quality(&r, &limit);
    uint64_t d1 = r.l.dropped - d0, p1 = r.l.passed - p0;
    sfu_bwe_stats st;
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, VIEW, now, &st), 0);
    printf("  policer 250k from 20 s: layer 0 after %.2f s, on it %.0f %% of 20-40 s; at 40 s layer %d, limit %u, "
           "estimate %llu, learnt loss %.3f; dropped %llu of %llu in 20-40 s\n",
           (double)(down - SFU_SEC(20)) / SFU_SEC(1), 100.0 * (double)r.steps_at_want / (double)r.steps, q, limit,
           (unsigned long long)st.estimate_bps, st.inherent_loss, (unsigned long long)d1,
           (unsigned long long)(d1 + p1));
    const sfu_room_stats *rs = sfu_room_stats_get(r.room);
    printf("  loss cuts %llu, restores %llu, confirmed %llu; probes %llu, succeeded %llu; "
           "drains %llu (%llu packets held back)\n",
           (unsigned long long)st.loss_cuts, (unsigned long long)st.loss_restores,
           (unsigned long long)st.loss_confirmed, (unsigned long long)st.probes_sent,
           (unsigned long long)st.probes_succeeded, (unsigned long long)rs->drains,
           (unsigned long long)rs->drained);
    /* Down within 2 s and kept there: a loss check that judged the window
     * before the layer switch took the policer's loss for random, restored
     * the estimate each time and spent 30 % of this on the top layer. */
    ASSERT(down >= 0 && down - SFU_SEC(20) < SFU_SEC(2));
    ASSERT(r.steps_at_want * 100 >= r.steps * 85);
    ASSERT_EQ(st.loss_restores, 0);
    /* Straight down to the layer the policer carries: a first cut by the
     * rate of a window whose early packets the bucket let through went to
     * the middle layer first (0.5 s more into the policer). */
    printf("  highest layer switched to in 20-40 s: %d\n", r.max_target);
    ASSERT_EQ(r.max_target, 0);
    ASSERT_EQ(q, 0);
    /* The top layer, far above the cut estimate, was held back until the
     * switch (sfu_consumer_drain). */
    ASSERT(rs->drains >= 1 && rs->drained > 0);
    sfu_time up = run(&r, &now, SFU_SEC(60), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    printf("  policer lifted at 40 s: top layer after %.1f s\n", (double)(up - SFU_SEC(40)) / SFU_SEC(1));
    ASSERT(up >= 0 && up - SFU_SEC(40) < SFU_SEC(15));
    rig_close(&r);
    return 0;
}

/* A viewer that joins behind a 250 kbit/s policer whose bucket is full
 * (43 kB: a second at its rate plus 12 kB, as nftables), the layers
 * already flowing: short probes pass whole through the full bucket and
 * took it to the top layer, whose step down (once the bucket ran dry) is
 * what netlab police250_join froze for. It must stay on the lowest layer
 * (about 150k; the middle one, about 500k, the policer does not carry),
 * and the proof probe that finds the policer must cost the media little. */
TEST(new_viewer_behind_a_full_bucket_does_not_climb)
{
    static rig r;
    ASSERT_EQ(rig_open_late(&r), 0);
    sfu_time now = 0;
    int err = 0;
    (void)run(&r, &now, SFU_SEC(5), 2000000, 0, &err); /* the layers' bitrates measured */
    ASSERT_EQ(err, 0);
    r.l.police = true;
    r.l.bps = 250000;
    r.l.tokens = 250000.0 / 8 + 12000;
    r.l.tokens_at = now;
    r.l.nack = true;
    ASSERT_EQ(rig_join(&r, now), 0);
    r.max_q = -1;
    r.steps = r.steps_at_want = 0;
    (void)run(&r, &now, SFU_SEC(25), 250000, 0, &err);
    ASSERT_EQ(err, 0);
    uint32_t limit = 0;
    int q = quality(&r, &limit);
    sfu_bwe_stats st;
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, VIEW, now, &st), 0);
    const sfu_room_stats *rs = sfu_room_stats_get(r.room);
    printf("  joined at 5 s behind a full 250k bucket: highest layer %d, on layer 0 %.0f %% of 5-25 s, at 25 s "
           "layer %d, limit %u, estimate %llu, proven %llu (climb to %llu); %llu media packets among the %llu "
           "dropped; probes %llu (%llu proofs found the policer)\n",
           r.max_q, 100.0 * (double)r.steps_at_want / (double)r.steps, q, limit,
           (unsigned long long)st.estimate_bps, (unsigned long long)st.proven_bps, (unsigned long long)st.climb_bps,
           (unsigned long long)r.l.media_dropped, (unsigned long long)r.l.dropped, (unsigned long long)rs->probes,
           (unsigned long long)st.proof_overflows);
    /* Before: the top layer 2.4 s after joining, 20 media packets lost
     * in the step down. */
    ASSERT_EQ(r.max_q, 0);
    ASSERT_EQ(q, 0);
    ASSERT(st.proven_bps <= 250000);
    ASSERT(r.l.media_dropped <= 10);
    rig_close(&r);
    return 0;
}

/* A viewer that joins on a clean path climbs to the top layer as fast as
 * the up-hold allows: the proof probe runs within it. */
TEST(new_viewer_on_a_clean_path_climbs)
{
    static const uint64_t caps[] = { 2000000, 5000000 };
    for (size_t i = 0; i < SFU_ARRAY_LEN(caps); i++) {
        static rig r;
        ASSERT_EQ(rig_open_late(&r), 0);
        sfu_time now = 0;
        int err = 0;
        (void)run(&r, &now, SFU_SEC(5), caps[i], 0, &err);
        ASSERT_EQ(err, 0);
        ASSERT_EQ(rig_join(&r, now), 0);
        sfu_time top = run(&r, &now, SFU_SEC(20), caps[i], 2, &err);
        ASSERT_EQ(err, 0);
        sfu_bwe_stats st;
        ASSERT_EQ(sfu_room_leg_bwe_get(r.room, VIEW, now, &st), 0);
        printf("  joined at 5 s, %llu kbit/s: top layer after %.1f s; proven %llu, probes %llu, dropped %llu of %llu\n",
               (unsigned long long)(caps[i] / 1000), top >= 0 ? (double)(top - SFU_SEC(5)) / SFU_SEC(1) : -1.0,
               (unsigned long long)st.proven_bps, (unsigned long long)st.probes_sent,
               (unsigned long long)r.l.dropped, (unsigned long long)(r.l.dropped + r.l.passed));
        /* Before the proof: 3.5 s at both (the up-hold is 2 s). */
        ASSERT(top >= 0 && top - SFU_SEC(5) <= SFU_SEC(5));
        ASSERT_EQ(quality(&r, &(uint32_t){ 0 }), 2);
        rig_close(&r);
    }
    return 0;
}

/* With VP8 temporal layers, behind a 250k policer that carries the lowest
 * layer whole (about 220k on the wire) but not the next: the viewer gets the
 * lowest layer with every temporal layer, not its base layer alone (a
 * quarter of the frames), at least 80 % of the time. */
TEST(policer_keeps_temporal_layers)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    r.tl = true;
    r.l.police = true;
    sfu_time now = 0;
    int err = 0;
    uint32_t limit = 0;
    (void)run(&r, &now, SFU_SEC(10), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    (void)run(&r, &now, SFU_SEC(20), 250000, 0, &err);
    uint64_t d0 = r.l.dropped, p0 = r.l.passed;
    r.steps = r.steps_at_want = r.steps_all_tids = 0;
    (void)run(&r, &now, SFU_SEC(50), 250000, 0, &err);
    ASSERT_EQ(err, 0);
    uint64_t d1 = r.l.dropped - d0, p1 = r.l.passed - p0;
    sfu_bwe_stats st;
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, VIEW, now, &st), 0);
    int q = quality(&r, &limit);
    printf("  policer 250k, 20-50 s: layer 0 %.0f %%, every temporal layer %.0f %% of the time; at 50 s layer %d, "
           "limit %u; dropped %llu of %llu; probes %llu, succeeded %llu; loss cuts %llu\n",
           100.0 * (double)r.steps_at_want / (double)r.steps, 100.0 * (double)r.steps_all_tids / (double)r.steps, q,
           limit, (unsigned long long)d1, (unsigned long long)(d1 + p1), (unsigned long long)st.probes_sent,
           (unsigned long long)st.probes_succeeded, (unsigned long long)st.loss_cuts);
    ASSERT_EQ(q, 0);
    ASSERT(r.steps_all_tids * 100 >= r.steps * 80);
    rig_close(&r);
    return 0;
}

/* Probes behind a policer the lowest layer nearly fills (about 210k of
 * 250k, as in netlab police250 with audio): each must find out that the
 * policer is still there without the media paying for it. A probe paced at
 * twice the estimate emptied the bucket in its first tens of milliseconds
 * and the media sent along with the rest of it was dropped; a burst right
 * after a frame loses only its own excess. Then, lifted, the top layer. */
TEST(policed_probes_spare_the_media)
{
    static rig r;
    ASSERT_EQ(rig_open(&r), 0);
    r.l.police = true;
    sfu_time now = 0;
    int err = 0;
    uint32_t limit = 0;
    (void)run(&r, &now, SFU_SEC(20), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    uint64_t m0 = r.l.media_dropped;
    sfu_time down = run(&r, &now, SFU_SEC(25), 250000, 0, &err);
    uint64_t m1 = r.l.media_dropped;
    sfu_bwe_stats st0, st1;
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, VIEW, now, &st0), 0);
    r.steps = r.steps_at_want = 0;
    (void)run(&r, &now, SFU_SEC(55), 250000, 0, &err);
    ASSERT_EQ(err, 0);
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, VIEW, now, &st1), 0);
    uint64_t media = r.l.media_dropped - m1, probes = st1.probes_sent - st0.probes_sent;
    printf("  policer 250k from 20 s: layer 0 after %.2f s (media dropped meanwhile %llu); 25-55 s: on it %.0f %%, "
           "%llu probes, %llu media packets dropped (%.1f per probe), estimate %llu at 55 s\n",
           (double)(down - SFU_SEC(20)) / SFU_SEC(1), (unsigned long long)(m1 - m0),
           100.0 * (double)r.steps_at_want / (double)r.steps, (unsigned long long)probes,
           (unsigned long long)media, probes ? (double)media / (double)probes : 0.0,
           (unsigned long long)st1.estimate_bps);
    /* Down at the first burst of loss, to the layer the delivered rate
     * fits, the top layer held back (the publisher here sends a keyframe
     * every 500 ms whatever it is asked). Before: 72 media packets lost. */
    ASSERT(down >= 0 && down - SFU_SEC(20) <= SFU_SEC(1) + SFU_MS(500));
    ASSERT(m1 - m0 <= 120);
    ASSERT(r.steps_at_want * 100 >= r.steps * 98);
    ASSERT(probes >= 4);                /* it keeps asking: the policer might lift */
    /* Before: 6 media packets per probe, paced at twice the estimate. */
    ASSERT(media <= probes);
    /* Not above what the policer passed (before: 1.85M, the app-limited
     * ceiling of 1.5 x the acknowledged rate climbing unchecked). */
    ASSERT(st1.estimate_bps <= 300000);
    sfu_time up = run(&r, &now, SFU_SEC(75), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    printf("  policer lifted at 55 s: top layer after %.1f s\n", (double)(up - SFU_SEC(55)) / SFU_SEC(1));
    ASSERT(up >= 0 && up - SFU_SEC(55) < SFU_SEC(10));
    (void)quality(&r, &limit);
    rig_close(&r);
    return 0;
}

/* A viewer that negotiated transport-cc but never sends feedback (the
 * bench's viewers) is held to the start estimate only until ROOM_BWE_DEAF:
 * then it is not limited, gets the top layer, and is not probed. */
TEST(deaf_viewer_is_not_limited)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    r.deaf = true;
    sfu_time now = 0;
    int err = 0;
    uint32_t limit = 0;
    sfu_time top = run(&r, &now, SFU_SEC(6), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    int q = quality(&r, &limit);
    const sfu_room_stats *rs = sfu_room_stats_get(r.room);
    printf("  no feedback: on the top layer %.0f %% of 0-6 s, limit %u at 6 s, probes %llu\n",
           100.0 * (double)r.steps_at_want / (double)r.steps, limit, (unsigned long long)rs->probes);
    /* limited by the start estimate (300 kbit/s) until ROOM_BWE_DEAF, then
     * not: without that the limit stays 300000 and the viewer falls to the
     * lowest layer once layer bitrates are measured */
    ASSERT(top >= 0);
    ASSERT_EQ(rs->probes, 0);
    ASSERT_EQ(q, 2);
    ASSERT_EQ(limit, 0);
    uint64_t probes = rs->probes;
    r.deaf = false; /* feedback starts: the estimate rules again */
    (void)run(&r, &now, SFU_SEC(8), 300000, 0, &err);
    ASSERT_EQ(err, 0);
    ASSERT(quality(&r, &limit) < 2 && limit > 0);
    ASSERT(rs->probes >= probes);
    rig_close(&r);
    return 0;
}

/* A viewer without transport-cc has no estimator and no numbers; bad
 * feedback is counted as malformed and changes nothing. */
TEST(no_transport_cc_no_estimator)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    sfu_bwe_stats st;
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, PUB, 0, &st), -SFU_ESTATE);
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, 77, 0, &st), -SFU_ENOTFOUND);
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, VIEW, 0, &st), 0);
    /* a transport-cc packet whose status count overruns its body */
    uint8_t bad[20] = { 0x8f, 205, 0, 4, 0, 0, 0x0b, 0x0b, 0, 0, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    sfu_wr16(bad + 14, 100);
    uint64_t before = sfu_room_stats_get(r.room)->drops[SFU_DROP_MALFORMED];
    ASSERT_EQ(sfu_room_handle_rtcp(r.room, VIEW, bad, sizeof bad, 0, &r.out), 0);
    ASSERT_EQ(sfu_room_stats_get(r.room)->drops[SFU_DROP_MALFORMED], before + 1);
    ASSERT_EQ(sfu_room_stats_get(r.room)->bwe_feedbacks, 0);
    /* a renegotiation without transport-cc drops the estimator */
    sfu_track_desc vv = fx_view_video("v", VIEW_SSRC);
    sfu_leg_desc view = fx_leg(0xA2, &vv, 1);
    ASSERT_EQ(sfu_room_update_leg(r.room, VIEW, &view, 0), 0);
    ASSERT_EQ(sfu_room_leg_bwe_get(r.room, VIEW, 0, &st), -SFU_ESTATE);
    sfu_out_reset(&r.out);
    rig_close(&r);
    return 0;
}

/* A viewer that joins once the layers flow starts within its start
 * estimate (300k, less the audio allowance: the lowest layer), not on the
 * top layer; one without transport-cc still starts on the top layer. */
TEST(new_viewer_starts_within_the_start_estimate)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    sfu_time now = 0;
    int err = 0;
    (void)run(&r, &now, SFU_SEC(5), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    sfu_track_desc vv = fx_view_video("v", VIEW_SSRC + 0x10);
    vv.ext.twcc = VIEW_EXT_TWCC;
    vv.fb_twcc = true;
    sfu_leg_desc view = fx_leg(0xA3, &vv, 1);
    ASSERT_EQ(sfu_room_add_leg(r.room, 3, BOB + 1, &view, now), 0);
    ASSERT_EQ(sfu_room_bind(r.room, 3, "v", ALICE, now, &r.out), 0);
    sfu_room_sink_layer sl;
    ASSERT_EQ(sfu_room_sink_layer_get(r.room, 3, "v", &sl), 0);
    printf("  joined at 5 s with transport-cc: target layer %d, limit %u\n", sl.target, sl.limit_bps);
    ASSERT_EQ(sl.target, 0);
    ASSERT_EQ(sl.limit_bps, 250000);
    sfu_track_desc pv = fx_view_video("v", VIEW_SSRC + 0x20);
    sfu_leg_desc plain = fx_leg(0xA4, &pv, 1);
    ASSERT_EQ(sfu_room_add_leg(r.room, 4, BOB + 2, &plain, now), 0);
    ASSERT_EQ(sfu_room_bind(r.room, 4, "v", ALICE, now, &r.out), 0);
    ASSERT_EQ(sfu_room_sink_layer_get(r.room, 4, "v", &sl), 0);
    printf("  joined without transport-cc: target layer %d\n", sl.target);
    ASSERT_EQ(sl.target, 2);
    sfu_out_reset(&r.out);
    rig_close(&r);
    return 0;
}

TEST_LIST(TEST_ENTRY(limit_follows_the_estimate_down_and_up), TEST_ENTRY(policer_down_and_up), TEST_ENTRY(new_viewer_behind_a_full_bucket_does_not_climb), TEST_ENTRY(new_viewer_on_a_clean_path_climbs), TEST_ENTRY(policer_keeps_temporal_layers), TEST_ENTRY(policed_probes_spare_the_media), TEST_ENTRY(deaf_viewer_is_not_limited), TEST_ENTRY(no_transport_cc_no_estimator), TEST_ENTRY(new_viewer_starts_within_the_start_estimate))
