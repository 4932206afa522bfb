/* Repair toward a viewer with an estimator (room_bwe.c, sink_repair.h), on
 * the rig of room_bwe_rig.h: loss copies withheld behind a policer where the
 * video can step down and kept for a plain stream, and packets the
 * viewer's transport-cc feedback reports lost resent unasked. */
#include "tests/test.h"
#include "tests/unit/room_bwe_rig.h"

/* A viewer that NACKs what it misses behind a policer (2M, then 250k, then
 * lifted), as in tests/e2e/netlab.sh's police rows. Its NACKs make the SFU
 * want copies of every packet (sink_repair.h), but loss at a policer is
 * congestion: copies only add to it, so none go out while the estimator
 * sees it; and a copy carries its original's transport-wide number, since
 * the viewer's replay check drops it before reading the number (with a
 * number of its own every copy read as lost, the estimate stayed down after
 * the lift and the top layer never came back). */
TEST(policed_viewer_gets_no_copies)
{
    static rig r;
    ASSERT_EQ(rig_open(&r), 0);
    r.l.police = true;
    r.l.nack = true;
    sfu_time now = 0;
    int err = 0;
    uint32_t limit = 0;
    (void)run(&r, &now, SFU_SEC(20), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    ASSERT_EQ(quality(&r, &limit), 2);
    const sfu_room_stats *rs = sfu_room_stats_get(r.room);
    (void)run(&r, &now, SFU_SEC(25), 250000, 0, &err);
    ASSERT_EQ(err, 0);
    uint64_t c0 = rs->video_copies, d0 = r.l.dropped, p0 = r.l.passed, n0 = r.l.nack_packets,
             m0 = r.l.media_dropped;
    (void)run(&r, &now, SFU_SEC(40), 250000, 0, &err);
    ASSERT_EQ(err, 0);
    int q = quality(&r, &limit);
    uint64_t copies = rs->video_copies - c0, d1 = r.l.dropped - d0, p1 = r.l.passed - p0;
    printf("  policer 250k, 25-40 s: layer %d, %llu copies (%llu withheld in all), dropped %llu of %llu, "
           "%llu NACKs; copies with a number of their own %llu\n",
           q, (unsigned long long)copies, (unsigned long long)rs->copies_withheld, (unsigned long long)d1,
           (unsigned long long)(d1 + p1), (unsigned long long)(r.l.nack_packets - n0),
           (unsigned long long)r.l.renumbered_copies);
    ASSERT_EQ(q, 0);
    ASSERT(rs->copies_withheld > 0);    /* the viewer's NACKs asked for copies */
    ASSERT_EQ(copies, 0);
    /* the lowest layer fits: little media lost once on it (probes lose
     * their own excess) */
    ASSERT((r.l.media_dropped - m0) * 100 <= (d1 + p1) * 8);
    sfu_time up = run(&r, &now, SFU_SEC(60), 2000000, 2, &err);
    ASSERT_EQ(err, 0);
    printf("  policer lifted at 40 s: top layer after %.1f s; copies %llu in all, replayed at the viewer %llu\n",
           (double)(up - SFU_SEC(40)) / SFU_SEC(1), (unsigned long long)rs->video_copies,
           (unsigned long long)r.l.replayed);
    ASSERT(up >= 0 && up - SFU_SEC(40) < SFU_SEC(10));
    ASSERT_EQ(r.l.renumbered_copies, 0);
    rig_close(&r);
    return 0;
}

/* The same NACKing viewer behind a policer, of a plain stream: nothing to
 * step down to, so the estimator's loss check cannot tell congestion from
 * random loss, and copies follow the loss as they do without an estimator
 * (held back there, they stayed held on random loss too: netlab loss30 went
 * from under 1 s frozen to 4.7 s). */
TEST(plain_stream_viewer_keeps_its_copies)
{
    static rig r;
    ASSERT_EQ(rig_open_layers(&r, 1), 0);
    r.l.police = true;
    r.l.nack = true;
    sfu_time now = 0;
    int err = 0;
    (void)run(&r, &now, SFU_SEC(10), 2000000, 0, &err);
    ASSERT_EQ(err, 0);
    const sfu_room_stats *rs = sfu_room_stats_get(r.room);
    uint64_t c0 = rs->video_copies;
    (void)run(&r, &now, SFU_SEC(25), 100000, 0, &err);
    ASSERT_EQ(err, 0);
    printf("  policer 100k, plain stream: %llu copies, %llu withheld, dropped %llu of %llu\n",
           (unsigned long long)(rs->video_copies - c0), (unsigned long long)rs->copies_withheld,
           (unsigned long long)r.l.dropped, (unsigned long long)(r.l.dropped + r.l.passed));
    ASSERT(r.l.dropped > 0);
    ASSERT(rs->video_copies > c0);
    ASSERT_EQ(rs->copies_withheld, 0);
    rig_close(&r);
    return 0;
}

/* What the room sent the viewer, every media packet whose number is a
 * multiple of 5 lost (its copies too); the viewer NACKs each loss at once
 * when `nacks_arrive`, else those NACKs are lost. Counts the losses and
 * the retransmissions (by their original number) into lost[] and resent[]. */
static bool drain_outage;       /* lossy_drain: every packet lost, no NACK */

static int lossy_drain(rig *r, sfu_time now, bool nacks_arrive, uint8_t *lost, uint8_t *resent)
{
    link *l = &r->l;
    uint16_t miss[32];
    size_t nmiss = 0;
    for (uint32_t i = 0; i < r->out.count; i++) {
        const sfu_out_item *it = &r->out.items[i];
        fx_seen s;
        uint8_t len;
        if (it->type != SFU_OUT_RTP || it->leg != VIEW || fx_read_rtp(it, &s) < 0)
            continue;
        const uint8_t *tw = sfu_rtp_ext_find(&s.h, s.bytes, VIEW_EXT_TWCC, &len);
        if (!tw || len != 2)
            return -1;
        uint16_t tseq = sfu_rd16(tw);
        if (!l->have_base) {
            l->args.base_seq16 = tseq;
            l->have_base = true;
        }
        if (drain_outage)
            continue;
        if (s.h.ssrc == VIEW_SSRC + 1 && s.h.payload_len >= 2) {
            resent[sfu_rd16(s.bytes + s.h.payload_off)]++;
        } else if (s.h.ssrc == VIEW_SSRC && s.h.seq16 % 5 == 0) {
            if (!lost[s.h.seq16]++ && nmiss < SFU_ARRAY_LEN(miss))
                miss[nmiss++] = s.h.seq16;
            continue; /* lost, and its copies */
        }
        if (l->narr == MAX_ARR)
            return -3;
        if (l->narr == 0 || l->arr[l->narr - 1].seq16 != tseq) /* a copy: one arrival */
            l->arr[l->narr++] = (sfu_twcc_arrival){ tseq, now + ONE_WAY };
    }
    sfu_out_reset(&r->out);
    if (nacks_arrive && nmiss && !drain_outage) {
        uint8_t buf[256];
        int n = sfu_rtcp_nack_build(buf, sizeof buf, 0xB0B, VIEW_SSRC, miss, nmiss);
        if (n < 0 || sfu_room_handle_rtcp(r->room, VIEW, buf, (size_t)n, now, &r->out) < 0)
            return -4;
    }
    return 0;
}

/* A viewer losing 20 % of its video (a plain stream, transport-cc): a
 * lost packet whose NACK reached the SFU is resent for that NACK only; one
 * whose NACK was lost is resent when the viewer's feedback reports it
 * lost (room_repair_reported_lost), instead of costing the viewer a 100 ms
 * NACK retry. */
TEST(feedback_reported_loss_is_resent)
{
    static rig r;
    static uint8_t lost[65536], resent[65536];
    ASSERT_EQ(rig_open_layers(&r, 1), 0);
    sfu_time now = 0;
    int err = 0;
    (void)run(&r, &now, SFU_SEC(1), 5000000, 0, &err); /* clean: the estimate settles */
    ASSERT_EQ(err, 0);
    const sfu_room_stats *rs = sfu_room_stats_get(r.room);
    ASSERT_EQ(rs->rtx_unasked, 0);
    for (int phase = 0; phase < 2; phase++) {
        bool nacks_arrive = phase == 0;
        memset(lost, 0, sizeof lost);
        memset(resent, 0, sizeof resent);
        uint64_t unasked0 = rs->rtx_unasked;
        sfu_time end = now + SFU_SEC(2), next_fb = now + SFU_MS(100);
        for (; now < end; now += SFU_MS(5)) {
            if (now % SFU_MS(10) == 0)
                ASSERT_EQ(send_picture(&r, 0, false, now), 0); /* no keyframe: each loss is to repair */
            if (now >= sfu_room_poll_timeout(r.room))
                sfu_room_handle_timeout(r.room, now, &r.out);
            ASSERT_EQ(lossy_drain(&r, now, nacks_arrive, lost, resent), 0);
            if (now >= next_fb) {
                ASSERT_EQ(feedback(&r, now), 0);
                ASSERT_EQ(lossy_drain(&r, now, nacks_arrive, lost, resent), 0);
                next_fb = now + SFU_MS(100);
            }
        }
        int nlost = 0, answered = 0, twice = 0;
        for (int q = 0; q < 65536; q++) {
            nlost += lost[q] > 0;
            answered += lost[q] && resent[q];
            twice += lost[q] && resent[q] > 3; /* more than one answer's copies */
        }
        uint64_t unasked = rs->rtx_unasked - unasked0;
        printf("  NACKs %s: %d lost, %d resent (%d more than once), %llu for feedback alone\n",
               nacks_arrive ? "arrive" : "lost", nlost, answered, twice, (unsigned long long)unasked);
        ASSERT_GT(nlost, 50);
        /* all but those in the first windows, before the loss showed */
        ASSERT_GE(answered, nlost - 10);
        if (nacks_arrive) {
            ASSERT_EQ(unasked, 0);
            ASSERT_EQ(twice, 0);
        } else {
            ASSERT_GE(unasked, (uint64_t)answered);
        }
    }
    /* An outage (500 ms of nothing, feedback lost too): the first feedback
     * after it reports the whole run lost, and none of it is resent; the
     * viewer needs a keyframe then, and old packets would go out ahead of
     * it. */
    uint64_t before = rs->rtx_unasked;
    drain_outage = true;
    for (sfu_time end = now + SFU_MS(500); now < end; now += SFU_MS(5)) {
        if (now % SFU_MS(10) == 0)
            ASSERT_EQ(send_picture(&r, 0, false, now), 0);
        if (now >= sfu_room_poll_timeout(r.room))
            sfu_room_handle_timeout(r.room, now, &r.out);
        ASSERT_EQ(lossy_drain(&r, now, false, lost, resent), 0);
    }
    drain_outage = false;
    for (sfu_time end = now + SFU_MS(30); now < end; now += SFU_MS(5)) {
        if (now % SFU_MS(10) == 0)
            ASSERT_EQ(send_picture(&r, 0, false, now), 0);
        ASSERT_EQ(lossy_drain(&r, now, false, lost, resent), 0);
    }
    ASSERT_EQ(feedback(&r, now), 0);
    ASSERT_EQ(lossy_drain(&r, now, false, lost, resent), 0);
    printf("  after a 500 ms outage: %llu resent for feedback alone\n",
           (unsigned long long)(rs->rtx_unasked - before));
    ASSERT_EQ(rs->rtx_unasked, before);
    rig_close(&r);
    return 0;
}

TEST_LIST(TEST_ENTRY(policed_viewer_gets_no_copies), TEST_ENTRY(plain_stream_viewer_keeps_its_copies), TEST_ENTRY(feedback_reported_loss_is_resent))
