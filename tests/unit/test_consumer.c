/* The consumer on its own: the keyframe gate, layer switches at a keyframe
 * with a continuous sequence / timestamp / PictureID stream, NACK usefulness
 * across a switch, the retransmission budget, layer choice. No room. */
#include "sfu/core/consumer.h"
#include "tests/test.h"

enum { E0 = 10, E1 = 11, E2 = 12 };     /* the epochs of layers 0, 1, 2 */

static const uint32_t epoch_of[] = { E0, E1, E2 };

/* 'g': a packet of `layer` (keyframe or not) expects gate `want`;
 * 't': set_target(layer) expects `want` (a switch now pending);
 * 'd': sfu_consumer_drain, `want` whether it now drains. */
struct gate_step {
    char op;
    int layer;
    bool key;
    int want;
    int cur_after;              /* the layer forwarded afterwards */
};

static int run_gate(const struct gate_step *t, size_t n, int start)
{
    sfu_consumer c;
    sfu_consumer_init(&c, 0x1000, 0x1001, 90000);
    sfu_consumer_start(&c, start, epoch_of[start], true);
    for (size_t i = 0; i < n; i++) {
        int got;
        if (t[i].op == 'd') {
            sfu_consumer_drain(&c);
            got = c.draining;
        } else {
            got = t[i].op == 'g' ? (int)sfu_consumer_gate_packet(&c, t[i].layer, epoch_of[t[i].layer], t[i].key)
                                 : (int)sfu_consumer_set_target(&c, t[i].layer, epoch_of[t[i].layer]);
        }
        if (got != t[i].want || c.layer != t[i].cur_after)
            TEST_FAIL_("step %zu: got %d layer %d, want %d layer %d", i, got, c.layer, t[i].want,
                       t[i].cur_after);
    }
    return 0;
}

TEST(gate_opens_at_keyframe_and_switches_at_target_keyframe)
{
    static const struct gate_step t[] = {
        { 'g', 0, false, SFU_CONSUMER_SKIP, 0 },
        { 'g', 1, true, SFU_CONSUMER_SKIP, 0 },      /* another layer's keyframe */
        { 'g', 0, true, SFU_CONSUMER_STARTED, 0 },
        { 'g', 0, false, SFU_CONSUMER_FORWARD, 0 },
        { 't', 2, false, true, 0 },                  /* switch up: pending */
        { 'g', 2, false, SFU_CONSUMER_SKIP, 0 },     /* not at a delta frame */
        { 'g', 0, false, SFU_CONSUMER_FORWARD, 0 },  /* the old layer flows meanwhile */
        { 'g', 1, true, SFU_CONSUMER_SKIP, 0 },      /* not the target */
        { 'g', 2, true, SFU_CONSUMER_STARTED, 2 },   /* switched */
        { 'g', 0, false, SFU_CONSUMER_SKIP, 2 },
        { 'g', 2, false, SFU_CONSUMER_FORWARD, 2 },
        { 't', 1, false, true, 2 },
        { 't', 2, false, false, 2 },                 /* back before it happened: no switch */
        { 'g', 1, true, SFU_CONSUMER_SKIP, 2 },
        { 'g', 2, false, SFU_CONSUMER_FORWARD, 2 },
    };
    if (run_gate(t, SFU_ARRAY_LEN(t), 0))
        return 1;
    /* A new target while still waiting for the first keyframe: wait for
     * the new layer's instead. */
    static const struct gate_step u[] = {
        { 'g', 2, false, SFU_CONSUMER_SKIP, 2 },
        { 't', 0, false, true, 0 },
        { 'g', 2, true, SFU_CONSUMER_SKIP, 0 },
        { 'g', 0, true, SFU_CONSUMER_STARTED, 0 },
    };
    return run_gate(u, SFU_ARRAY_LEN(u), 2);
}

/* A steep switch down holds the current layer back until the target's
 * keyframe; back to the held layer before it, that layer waits for its own. */
TEST(drain_holds_the_current_layer_until_the_switch)
{
    static const struct gate_step t[] = {
        { 'g', 2, true, SFU_CONSUMER_STARTED, 2 },
        { 'd', 2, false, false, 2 },                 /* no switch pending: nothing to drain */
        { 'g', 2, false, SFU_CONSUMER_FORWARD, 2 },
        { 't', 0, false, true, 2 },
        { 'd', 0, false, true, 2 },
        { 'g', 2, false, SFU_CONSUMER_DRAIN, 2 },    /* held back */
        { 'g', 2, true, SFU_CONSUMER_DRAIN, 2 },
        { 'g', 0, false, SFU_CONSUMER_SKIP, 2 },
        { 'g', 0, true, SFU_CONSUMER_STARTED, 0 },   /* switched: draining ends */
        { 'g', 0, false, SFU_CONSUMER_FORWARD, 0 },
        { 't', 2, false, true, 0 },
        { 'g', 0, false, SFU_CONSUMER_FORWARD, 0 },  /* a switch up does not drain */
        { 'd', 2, false, true, 0 },
        { 't', 0, false, true, 0 },                  /* back to the held layer: ask for its keyframe */
        { 'g', 0, false, SFU_CONSUMER_DRAIN, 0 },
        { 'g', 2, true, SFU_CONSUMER_SKIP, 0 },
        { 'g', 0, true, SFU_CONSUMER_STARTED, 0 },
        { 'g', 0, false, SFU_CONSUMER_FORWARD, 0 },
    };
    if (run_gate(t, SFU_ARRAY_LEN(t), 2))
        return 1;
    /* The viewer's numbering closes over what was held back. */
    sfu_consumer c;
    sfu_consumer_init(&c, 0x4000, 0x4001, 90000);
    sfu_consumer_start(&c, 2, E2, true);
    uint16_t o[2];
    uint32_t ts;
    ASSERT_EQ(sfu_consumer_gate_packet(&c, 2, E2, true), SFU_CONSUMER_STARTED);
    ASSERT_EQ(sfu_consumer_map(&c, E2, 10, 1000, 0, &o[0], &ts), 0);
    ASSERT(sfu_consumer_set_target(&c, 0, E0));
    sfu_consumer_drain(&c);
    sfu_vp8_desc d = { .has_picture_id = true, .picture_id_15 = true, .picture_id = 5 };
    for (uint64_t q = 11; q < 20; q++) {
        ASSERT_EQ(sfu_consumer_gate_packet(&c, 2, E2, false), SFU_CONSUMER_DRAIN);
        sfu_consumer_drop(&c, E2, q, &d);
    }
    ASSERT_EQ(sfu_consumer_gate_packet(&c, 0, E0, true), SFU_CONSUMER_STARTED);
    ASSERT_EQ(sfu_consumer_map(&c, E0, 500, 4000, SFU_MS(300), &o[1], &ts), 0);
    ASSERT_EQ(o[1], (uint16_t)(o[0] + 1));
    return 0;
}

/* Forwards frames of `layer` (3 packets each) through the consumer as the
 * room would; checks that output numbering runs on by one and timestamps
 * and PictureIDs grow. */
typedef struct stream {
    uint64_t seq;
    uint32_t ts;
    uint16_t picid;
    uint8_t tl0;
} stream;

typedef struct seen {
    bool any;
    uint16_t seq16;
    uint32_t ts;
    uint16_t picid;
    uint8_t tl0;
    int gaps, ts_back, pid_jumps, tl0_jumps;
} seen;

static void frame(sfu_consumer *c, int layer, stream *s, bool key, sfu_time now, seen *v)
{
    for (int k = 0; k < 3; k++) {
        uint64_t seq = s->seq++;
        sfu_consumer_gate g = sfu_consumer_gate_packet(c, layer, epoch_of[layer], key && k == 0);
        if (g == SFU_CONSUMER_SKIP)
            continue;
        uint16_t o;
        uint32_t ts;
        if (sfu_consumer_map(c, epoch_of[layer], seq, s->ts, now, &o, &ts) < 0)
            continue;
        sfu_vp8_desc d = { .has_picture_id = true, .picture_id_15 = true, .picture_id = s->picid,
                           .has_tl0picidx = true, .tl0picidx = s->tl0, .start = k == 0, .keyframe = key && k == 0 };
        uint16_t pid = d.picture_id;
        uint8_t tl0 = d.tl0picidx;
        sfu_consumer_map_vp8(c, &d, &pid, &tl0);
        sfu_consumer_sent(c, false, d.keyframe, seq, 100);
        if (v->any) {
            v->gaps += o != (uint16_t)(v->seq16 + 1);
            v->ts_back += (int32_t)(ts - v->ts) < 0 || (k == 0 && ts == v->ts);
            uint16_t dp = (uint16_t)((pid - v->picid) & 0x7fff);
            v->pid_jumps += k == 0 ? dp != 1 : dp != 0;
            uint8_t dt = (uint8_t)(tl0 - v->tl0);
            v->tl0_jumps += k == 0 ? dt != 1 : dt != 0;
        }
        *v = (seen){ true, o, ts, pid, tl0, v->gaps, v->ts_back, v->pid_jumps, v->tl0_jumps };
    }
    s->ts += 3000;
    s->picid = (s->picid + 1) & 0x7fff;
    s->tl0++;
}

TEST(switches_keep_the_viewer_stream_continuous)
{
    sfu_consumer c;
    sfu_consumer_init(&c, 0x2000, 0x2001, 90000);
    sfu_consumer_start(&c, 0, E0, true);
    /* Three layers with unrelated numbering, timestamps and PictureIDs. */
    stream s[3] = { { 100, 5000, 7, 3 }, { 40000, 900000, 30000, 200 }, { 65530, 4294960000u, 32760, 254 } };
    seen v = { 0 };
    sfu_time now = 0;
    int order[] = { 0, 0, 2, 2, 1, 0, 2 };     /* the target, per phase of 10 frames */
    for (size_t ph = 0; ph < SFU_ARRAY_LEN(order); ph++) {
        uint64_t before = c.switches;
        int pending_from = c.layer;
        if (ph > 0)
            sfu_consumer_set_target(&c, order[ph], epoch_of[order[ph]]);
        for (int f = 0; f < 10; f++) {
            now += 33333;
            for (int l = 0; l < 3; l++)
                frame(&c, l, &s[l], (ph == 0 && f == 0) || (f == 4 && l == order[ph]), now, &v);
            if (ph > 0 && order[ph] != pending_from && f < 4 && c.layer != pending_from)
                TEST_FAIL_("phase %zu: switched at frame %d, before the target's keyframe", ph, f);
        }
        ASSERT_EQ(c.layer, order[ph]);
        ASSERT_EQ(c.switches - before, ph > 0 && order[ph] != order[ph - 1] ? 1 : 0);
    }
    ASSERT(v.any);
    ASSERT_EQ(v.gaps, 0);
    ASSERT_EQ(v.ts_back, 0);
    ASSERT_EQ(v.pid_jumps, 0);
    ASSERT_EQ(v.tl0_jumps, 0);
    ASSERT_EQ(c.switches, 4);
    return 0;
}

/* A NACK for a packet sent before the keyframe the viewer decodes from
 * (on this layer, or on the layer it left) is not worth answering. */
TEST(retransmission_usefulness_and_budget)
{
    sfu_consumer c;
    sfu_consumer_init(&c, 0x3000, 0x3001, 90000);
    sfu_consumer_start(&c, 0, E0, true);
    uint16_t o[4];
    uint32_t ts;
    ASSERT_EQ(sfu_consumer_gate_packet(&c, 0, E0, true), SFU_CONSUMER_STARTED);
    ASSERT_EQ(sfu_consumer_map(&c, E0, 50, 1000, 0, &o[0], &ts), 0);
    sfu_consumer_sent(&c, false, true, 50, 10);
    ASSERT_EQ(sfu_consumer_map(&c, E0, 51, 1000, 0, &o[1], &ts), 0);
    sfu_consumer_sent(&c, false, false, 51, 10);
    sfu_consumer_set_target(&c, 1, E1);
    ASSERT_EQ(sfu_consumer_gate_packet(&c, 1, E1, true), SFU_CONSUMER_STARTED);
    ASSERT_EQ(sfu_consumer_map(&c, E1, 900, 7000, SFU_MS(30), &o[2], &ts), 0);
    ASSERT_EQ(o[2], (uint16_t)(o[1] + 1));
    uint32_t epoch, off;
    uint64_t seq;
    ASSERT_EQ(sfu_consumer_unmap(&c, o[1], &epoch, &seq, &off), 0);
    ASSERT_EQ(epoch, E0);
    ASSERT_EQ(seq, 51);
    ASSERT(sfu_consumer_rtx_useful(&c, epoch, seq));    /* no keyframe on layer 1 sent yet */
    sfu_consumer_sent(&c, false, true, 900, 10);
    ASSERT(!sfu_consumer_rtx_useful(&c, epoch, seq));   /* the layer it left */
    ASSERT_EQ(sfu_consumer_unmap(&c, o[2], &epoch, &seq, &off), 0);
    ASSERT_EQ(epoch, E1);
    ASSERT_EQ(seq, 900);
    ASSERT(sfu_consumer_rtx_useful(&c, epoch, seq));
    /* budget: 10 per second, half a second (5) at once */
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += sfu_consumer_rtx_take(&c, 10, SFU_SEC(1));
    ASSERT_EQ(ok, 5);
    ASSERT(sfu_consumer_rtx_take(&c, 10, SFU_SEC(1) + SFU_MS(100)));
    ASSERT(!sfu_consumer_rtx_take(&c, 10, SFU_SEC(1) + SFU_MS(100)));
    ASSERT_EQ(sfu_consumer_rtx_window(&c), SFU_CONSUMER_RTX_USEFUL_UNKNOWN);
    /* RTT from a report block that echoes our SR */
    sfu_consumer_sr_sent(&c, (uint64_t)0x12345678 << 16, SFU_SEC(2));
    sfu_rtcp_report_block b = { .ssrc = 0x3000, .lsr = 0x12345678, .dlsr = sfu_rtcp_dlsr_from_us(SFU_MS(50)) };
    sfu_consumer_handle_report(&c, &b, false, SFU_SEC(2) + SFU_MS(130));
    ASSERT_LT(c.rtt - SFU_MS(80) < 0 ? SFU_MS(80) - c.rtt : c.rtt - SFU_MS(80), SFU_MS(1));
    ASSERT(sfu_consumer_fir_is_new(&c, 4));
    ASSERT(!sfu_consumer_fir_is_new(&c, 4));
    ASSERT(sfu_consumer_fir_is_new(&c, 5));
    return 0;
}

/* Layer choice: cap, estimate, inactive layers, hysteresis upward. */
TEST(layer_choice)
{
    static const struct {
        sfu_time now;
        int max;                /* -1 automatic */
        uint32_t limit;         /* 0 none */
        bool active[3];
        int current;
        int want;
        uint32_t climb;         /* 0 none */
    } t[] = {
        { 0, -1, 0, { true, true, true }, -1, 2, 0 },              /* no estimate: the top */
        { 0, 1, 0, { true, true, true }, 2, 1, 0 },                /* capped */
        { 0, -1, 0, { true, true, false }, 2, 1, 0 },              /* top inactive */
        { 0, 0, 0, { false, true, true }, 2, 1, 0 },               /* capped at an inactive one: lowest active */
        { 0, -1, 0, { false, false, false }, 2, -1, 0 },
        { 0, -1, 600000, { true, true, true }, 2, 1, 0 },          /* down at once */
        { 0, -1, 100000, { true, true, true }, 1, 0, 0 },          /* nothing fits: the lowest */
        { SFU_SEC(1), -1, 2000000, { true, true, true }, 0, 0, 0 },     /* up: not yet */
        { SFU_SEC(2), -1, 2000000, { true, true, true }, 0, 0, 0 },
        { SFU_SEC(3), -1, 2000000, { true, true, true }, 0, 2, 0 },     /* fitted for 2 s */
        { SFU_SEC(4), -1, 2000000, { true, true, false }, 2, 1, 0 },    /* its layer stopped */
        /* The climb ceiling (sfu_consumer_set_climb): the hold runs by the
         * limit, the move up stops below the ceiling ... */
        { SFU_SEC(5), -1, 100000, { true, true, true }, 1, 0, 0 },
        { SFU_SEC(6), -1, 2000000, { true, true, true }, 0, 0, 300000 },
        { SFU_SEC(8), -1, 2000000, { true, true, true }, 0, 0, 300000 },    /* held 2 s, nothing fits it */
        { SFU_SEC(8), -1, 2000000, { true, true, true }, 0, 1, 600000 },    /* as far as it allows */
        { SFU_SEC(8), -1, 2000000, { true, true, true }, 1, 2, 2000000 },   /* and on at once when it rises */
        { SFU_SEC(9), -1, 400000, { true, true, true }, 2, 0, 2000000 },    /* down by the limit alone */
    };
    static const uint32_t bps[3] = { 150000, 500000, 1500000 };
    sfu_consumer c;
    sfu_consumer_init(&c, 1, 2, 90000);
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        sfu_consumer_quality q[3];
        for (int k = 0; k < 3; k++)
            q[k] = (sfu_consumer_quality){ bps[k], t[i].active[k] };
        sfu_consumer_set_max_quality(&c, t[i].max);
        sfu_consumer_set_limit(&c, t[i].limit);
        sfu_consumer_set_climb(&c, t[i].climb);
        int got = sfu_consumer_choose(&c, q, 3, t[i].current, t[i].now);
        if (got != t[i].want)
            TEST_FAIL_("case %zu: quality %d, want %d", i, got, t[i].want);
    }
    return 0;
}

/* VP8 temporal layers: the pattern 0 2 1 2 (Y on the first TID 1 and 2
 * pictures after a base picture, as libvpx sets it). A lower cap applies at
 * the next picture, a higher one at a sync picture of a layer it admits. */
TEST(temporal_cap)
{
    static const struct {
        int set;                /* -1: no change */
        uint8_t tid;
        bool sync, key;
        bool pass;
        uint8_t max_after;
    } t[] = {
        { -1, 0, false, true, true, 3 },
        { -1, 2, true, false, true, 3 },
        { 1, 1, true, false, true, 1 },     /* lowered: takes effect at this picture */
        { -1, 2, false, false, false, 1 },
        { -1, 0, false, false, true, 1 },
        { 0, 2, true, false, false, 0 },
        { -1, 1, true, false, false, 0 },
        { 2, 2, false, false, false, 0 },   /* raised: waits for a sync picture */
        { -1, 0, false, false, true, 0 },
        { -1, 2, true, false, true, 2 },    /* TID 2 sync: up to 2 */
        { -1, 1, false, false, true, 2 },
        { 3, 2, false, false, true, 2 },
        { -1, 0, false, true, true, 3 },    /* a keyframe: everything */
    };
    sfu_consumer c;
    sfu_consumer_init(&c, 1, 2, 90000);
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        if (t[i].set >= 0)
            sfu_consumer_set_max_tid(&c, (uint8_t)t[i].set);
        sfu_vp8_desc d = { .has_tid = true, .tid = t[i].tid, .layer_sync = t[i].sync, .start = true,
                           .keyframe = t[i].key };
        bool pass = sfu_consumer_temporal_pass(&c, &d);
        if (pass != t[i].pass || c.max_tid != t[i].max_after)
            TEST_FAIL_("step %zu: pass %d max %u, want %d %u", i, pass, c.max_tid, t[i].pass, t[i].max_after);
        ASSERT_EQ(sfu_consumer_tid_wanted(&c, &d), pass);
        /* a later packet of the same picture: the same answer, nothing moves */
        d.start = false;
        ASSERT_EQ(sfu_consumer_temporal_pass(&c, &d), pass);
    }
    sfu_vp8_desc none = { .has_tid = false };
    sfu_consumer_set_max_tid(&c, 0);
    ASSERT(sfu_consumer_temporal_pass(&c, &none));
    return 0;
}

TEST_LIST(TEST_ENTRY(temporal_cap), TEST_ENTRY(gate_opens_at_keyframe_and_switches_at_target_keyframe),
          TEST_ENTRY(drain_holds_the_current_layer_until_the_switch),
          TEST_ENTRY(switches_keep_the_viewer_stream_continuous), TEST_ENTRY(retransmission_usefulness_and_budget),
          TEST_ENTRY(layer_choice))
