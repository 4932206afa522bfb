/* Virtual-clock simulation of a simulcast publisher (three VP8 layers on
 * their own SSRCs, told apart by the rid extension until their SSRCs are
 * known, listed full-resolution first as Firefox does) and one viewer whose
 * layer changes: capped down, uncapped, an estimate that does not fit the
 * top layer, an estimate that does. The viewer checks what a decoder and
 * jitter buffer would: its sequence numbers, timestamps, PictureIDs and
 * TL0PICIDX run on without a gap or jump across every switch, each switch
 * starts on a keyframe of the new layer, one keyframe request per switch
 * reaches the publisher on the new layer's SSRC, and its own PLI and NACK
 * reach the layer it receives. */
#include "sfu/core/consumer.h"
#include "sfu/core/rtcp_layers.h"
#include "sfu/core/rtcp_sr_rr.h"
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

#include <stdlib.h>

#define NL 3
#define FRAME_US 33333
#define HOP SFU_MS(10)              /* one way, every link */
#define MAX_SEEN 4096
#define RID_PACKETS 30              /* packets per layer that carry the rid extension */

enum { PUB_LEG = 1, VIEW_LEG = 2, ALICE = 7, BOB = 8, VIEW_SSRC = 0x50000, EXT_RID = 5, EXT_RRID = 6 };
enum { TO_SFU = 0, TO_PUB = 1, TO_VIEW = 2 };

/* In the order of the offer (Firefox: full resolution first). */
static const char *const rid_of[NL] = { "f", "h", "q" };
static const uint16_t width_of[NL] = { 1280, 640, 320 }, height_of[NL] = { 720, 360, 180 };
static const int pkts_of[NL] = { 3, 2, 1 };
static const size_t size_of[NL] = { 1000, 600, 200 };

typedef struct ev {
    sfu_time at;
    uint64_t order;
    int to;
    bool rtcp;
    uint16_t len;
    uint8_t data[1500];
} ev;

typedef struct pub_layer {
    uint32_t ssrc, rtx_ssrc;
    uint16_t seq16, rtx_seq16;
    uint32_t ts;
    uint16_t picid;
    uint8_t tl0;
    bool want_key;
    int sent;
    uint32_t frame;
    int npli;
    sfu_time pli_at[64];
} pub_layer;

typedef struct seen {
    sfu_time at;
    uint16_t seq16;
    uint32_t ts;
    uint16_t picid;
    uint8_t tl0;
    bool key, start;
    uint8_t layer;
    uint32_t frame;
} seen;

typedef struct sim {
    sfu_time now;
    uint64_t order;
    ev *evs;
    size_t nevs, cap;
    sfu_buf_pool *pool;
    sfu_room *room;
    sfu_out out;
    sfu_time next_frame;
    pub_layer L[NL];
    int nseen;
    seen s[MAX_SEEN];
    int nrtx;
    uint8_t rtx_layer[64];          /* the layer of each retransmission the viewer got */
    int rr;
    int napps;                      /* layer reports (rtcp_layers.h) to the publisher */
    sfu_rtcp_layers last_app;
} sim;

static void post(sim *s, int to, bool rtcp, const uint8_t *d, size_t n)
{
    if (s->nevs == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->evs = realloc(s->evs, s->cap * sizeof *s->evs);
    }
    ev *e = &s->evs[s->nevs++];
    *e = (ev){ .at = s->now + HOP, .order = s->order++, .to = to, .rtcp = rtcp, .len = (uint16_t)n };
    memcpy(e->data, d, n);
}

/* One RTP packet of layer l: VP8 descriptor, payload header (a keyframe's
 * with its size), tag (layer, frame, index), filler. RTX when `osn` >= 0. */
static void pub_packet(sim *s, int l, int k, bool key, int osn_layer_seq)
{
    pub_layer *p = &s->L[l];
    uint8_t pl[1100];
    size_t n = 0;
    bool rtx = osn_layer_seq >= 0;
    if (rtx) {
        sfu_wr16(pl, (uint16_t)osn_layer_seq);
        n = 2;
    }
    pl[n++] = k == 0 ? 0x90 : 0x80;
    pl[n++] = 0xC0;
    sfu_wr16(pl + n, (uint16_t)(0x8000 | p->picid));
    n += 2;
    pl[n++] = p->tl0;
    pl[n++] = key && k == 0 ? 0x10 : 0x11;
    pl[n++] = 0x02;
    pl[n++] = 0x00;
    pl[n++] = 0x9d;
    pl[n++] = 0x01;
    pl[n++] = 0x2a;
    pl[n++] = (uint8_t)width_of[l];
    pl[n++] = (uint8_t)(width_of[l] >> 8);
    pl[n++] = (uint8_t)height_of[l];
    pl[n++] = (uint8_t)(height_of[l] >> 8);
    pl[n++] = (uint8_t)l;
    sfu_wr32(pl + n, p->frame);
    n += 4;
    pl[n++] = (uint8_t)k;
    memset(pl + n, 0x5a, size_of[l] - n);
    n = size_of[l];
    sfu_rtp_ext_out ext[2] = { { EXT_MID, 1, (const uint8_t *)"0" } };
    uint8_t ne = 1;
    if (p->sent < RID_PACKETS || rtx)
        ext[ne++] = (sfu_rtp_ext_out){ (uint8_t)(rtx ? EXT_RRID : EXT_RID), 1, (const uint8_t *)rid_of[l] };
    sfu_rtp_header_out h = { k == pkts_of[l] - 1, rtx ? PUB_RTX_PT : PUB_PT, rtx ? p->rtx_seq16++ : p->seq16++,
                             p->ts, rtx ? p->rtx_ssrc : p->ssrc, ne, ext };
    uint8_t b[1500];
    int hl = sfu_rtp_write_header(b, sizeof b, &h);
    memcpy(b + hl, pl, n);
    post(s, TO_SFU, false, b, (size_t)hl + n);
    if (!rtx)
        p->sent++;
}

static void pub_frame(sim *s)
{
    for (int l = 0; l < NL; l++) {
        pub_layer *p = &s->L[l];
        bool key = p->want_key;
        p->want_key = false;
        for (int k = 0; k < pkts_of[l]; k++)
            pub_packet(s, l, k, key, -1);
        p->frame++;
        p->picid = (uint16_t)((p->picid + 1) & 0x7fff);
        p->tl0++;
        p->ts += 3000;
    }
    s->next_frame += FRAME_US;
}

static void pub_rtcp(sim *s, const uint8_t *d, size_t n)
{
    size_t off = 0;
    sfu_rtcp_common c;
    while (sfu_rtcp_next(d, n, &off, &c) == 1) {
        uint32_t snd, media;
        if (c.pt == SFU_RTCP_PSFB && c.count == SFU_RTCP_FMT_PLI && sfu_rtcp_pli_parse(&c, &snd, &media) == 0) {
            for (int l = 0; l < NL; l++)
                if (s->L[l].ssrc == media && s->L[l].npli < 64) {
                    s->L[l].want_key = true;
                    s->L[l].pli_at[s->L[l].npli++] = s->now;
                }
        } else if (c.pt == SFU_RTCP_RR) {
            s->rr++;
        } else if (sfu_rtcp_is_layers(&c) && sfu_rtcp_layers_parse(&c, &s->last_app) == 0) {
            s->napps++;
        }
    }
}

static void view_rtp(sim *s, const uint8_t *d, size_t n)
{
    sfu_rtp_hdr h;
    if (sfu_rtp_parse(d, n, &h) < 0)
        return;
    uint16_t off = h.payload_off, len = h.payload_len;
    bool rtx = h.ssrc == VIEW_SSRC + 1;
    if (rtx) {
        off += 2;
        len -= 2;
    } else if (h.ssrc != VIEW_SSRC) {
        return;
    }
    sfu_vp8_desc vd;
    if (sfu_vp8_parse(d + off, len, &vd) < 0 || len < vd.desc_len + 15u)
        return;
    const uint8_t *tag = d + off + vd.desc_len + 10;
    if (rtx) {
        if (s->nrtx < 64)
            s->rtx_layer[s->nrtx++] = tag[0];
        return;
    }
    if (s->nseen < MAX_SEEN)
        s->s[s->nseen++] = (seen){ s->now, h.seq16, h.ts, vd.picture_id, vd.tl0picidx, vd.keyframe, vd.start,
                                   tag[0], sfu_rd32(tag + 1) };
}

/* Only the viewer sends the SFU RTCP here; only the publisher RTP. */
static void deliver(sim *s, const ev *e)
{
    if (e->to == TO_SFU && e->rtcp) {
        sfu_room_handle_rtcp(s->room, VIEW_LEG, e->data, e->len, s->now, &s->out);
    } else if (e->to == TO_SFU) {
        sfu_buf *b = sfu_buf_alloc(s->pool);
        memcpy(b->data, e->data, e->len);
        b->len = e->len;
        sfu_room_handle_rtp(s->room, PUB_LEG, b, s->now, &s->out);
        sfu_buf_unref(b);
    } else if (e->to == TO_PUB && e->rtcp) {
        pub_rtcp(s, e->data, e->len);
    } else if (e->to == TO_VIEW && !e->rtcp) {
        view_rtp(s, e->data, e->len);
    }
}

static void drain(sim *s)
{
    uint8_t b[1600];
    for (uint32_t k = 0; k < s->out.count; k++) {
        const sfu_out_item *it = &s->out.items[k];
        int n = sfu_out_item_flatten(it, b, sizeof b);
        if (n < 0 || (it->type != SFU_OUT_RTP && it->type != SFU_OUT_RTCP))
            continue;
        post(s, it->leg == PUB_LEG ? TO_PUB : TO_VIEW, it->type == SFU_OUT_RTCP, b, (size_t)n);
    }
    sfu_out_reset(&s->out);
}

/* Runs the clock to `until`: events, frames and the room's deadlines. */
static void run_until(sim *s, sfu_time until)
{
    for (;;) {
        sfu_time te = SFU_TIME_NEVER;
        size_t evi = SIZE_MAX;
        for (size_t k = 0; k < s->nevs; k++)
            if (s->evs[k].at < te || (s->evs[k].at == te && s->evs[k].order < s->evs[evi].order)) {
                te = s->evs[k].at;
                evi = k;
            }
        sfu_time rt = sfu_room_poll_timeout(s->room);
        sfu_time t = te < s->next_frame ? te : s->next_frame;
        t = rt < t ? rt : t;
        if (t >= until) {
            s->now = until;
            return;
        }
        if (t > s->now)
            s->now = t;
        if (te <= s->now) {
            ev e = s->evs[evi];
            s->evs[evi] = s->evs[--s->nevs];
            deliver(s, &e);
            drain(s);
        } else if (s->next_frame <= s->now) {
            pub_frame(s);
        } else {
            sfu_room_handle_timeout(s->room, s->now, &s->out);
            drain(s);
        }
    }
}

static int sim_setup(sim *s, sfu_time kf_cache, uint8_t pin_layer, bool layer_feedback)
{
    memset(s, 0, sizeof *s);
    s->pool = sfu_buf_pool_new(4096);
    sfu_room_config cfg = { .max_legs = 4, .liveness_timeout = SFU_SEC(30), .rtx_cache_packets = 1024,
                            .keyframe_min_interval = SFU_MS(300), .keyframe_cache_max_age = kf_cache };
    s->room = sfu_room_new(&cfg);
    if (!s->pool || !s->room || sfu_out_init(&s->out, 4096) < 0)
        return -1;
    sfu_track_desc pv = fx_pub_video("0");
    pv.ext.rid = EXT_RID;
    pv.ext.repaired_rid = EXT_RRID;
    pv.nlayers = NL;
    for (int l = 0; l < NL; l++) {
        strcpy(pv.layers[l].rid, rid_of[l]);
        s->L[l] = (pub_layer){ .ssrc = 0xA000 + 0x10 * (uint32_t)l, .rtx_ssrc = 0xA001 + 0x10 * (uint32_t)l,
                               .seq16 = (uint16_t)(65500 - 20000 * l), .ts = 77777u * (uint32_t)(l + 1) * 1000u,
                               .picid = (uint16_t)(32700 - 9000 * l), .tl0 = (uint8_t)(250 - 90 * l),
                               .want_key = true };
    }
    sfu_leg_desc pl = fx_leg(0xAAAA, &pv, 1);
    sfu_track_desc vv = fx_view_video("v", VIEW_SSRC);
    vv.pin_layer = pin_layer;
    sfu_leg_desc vl = fx_leg(0xBBBB, &vv, 1);
    pl.layer_feedback = vl.layer_feedback = layer_feedback;
    if (sfu_room_add_leg(s->room, PUB_LEG, ALICE, &pl, 0) < 0 || sfu_room_add_leg(s->room, VIEW_LEG, BOB, &vl, 0) < 0 ||
        sfu_room_bind(s->room, VIEW_LEG, "v", ALICE, 0, &s->out) < 0)
        return -1;
    drain(s);
    return 0;
}

static uint32_t sim_free(sim *s)
{
    free(s->evs);
    sfu_out_deinit(&s->out);
    sfu_room_free(s->room);
    uint32_t in_use = sfu_buf_pool_in_use(s->pool);
    sfu_buf_pool_free(s->pool);
    return in_use;
}

static int layer_now(const sim *s) { return s->nseen ? s->s[s->nseen - 1].layer : -1; }

/* The first packet of layer `l` the viewer got after `from`; -1 none. */
static int switch_to(const sim *s, int l, sfu_time from)
{
    for (int i = 1; i < s->nseen; i++)
        if (s->s[i].at >= from && s->s[i].layer == l && s->s[i - 1].layer != l)
            return i;
    return -1;
}

/* Keyframe requests that reached the publisher on layer l in [from, to). */
static int plis(const sim *s, int l, sfu_time from, sfu_time to)
{
    int n = 0;
    for (int k = 0; k < s->L[l].npli; k++)
        n += s->L[l].pli_at[k] >= from && s->L[l].pli_at[k] < to;
    return n;
}

/* The stream as the viewer's decoder sees it: no gap in sequence numbers,
 * timestamps that grow by about a frame per frame, PictureID and
 * TL0PICIDX that step by exactly one per frame; every layer change starts
 * on a keyframe. */
static int check_stream(const sim *s)
{
    int switches = 0;
    for (int i = 1; i < s->nseen; i++) {
        const seen *a = &s->s[i - 1], *b = &s->s[i];
        bool new_frame = b->start;
        if (b->seq16 != (uint16_t)(a->seq16 + 1))
            TEST_FAIL_("packet %d at %lld ms: seq %u after %u", i, (long long)b->at / 1000, b->seq16, a->seq16);
        int32_t dts = (int32_t)(b->ts - a->ts);
        if (new_frame ? (dts <= 0 || dts > 2 * 3000) : dts != 0)
            TEST_FAIL_("packet %d at %lld ms: timestamp step %d (new frame %d)", i, (long long)b->at / 1000, dts,
                       new_frame);
        uint16_t dp = (uint16_t)((b->picid - a->picid) & 0x7fff);
        if (dp != (new_frame ? 1 : 0))
            TEST_FAIL_("packet %d at %lld ms: PictureID %u after %u", i, (long long)b->at / 1000, b->picid, a->picid);
        uint8_t dt = (uint8_t)(b->tl0 - a->tl0);
        if (dt != (new_frame ? 1 : 0))
            TEST_FAIL_("packet %d at %lld ms: TL0PICIDX %u after %u", i, (long long)b->at / 1000, b->tl0, a->tl0);
        if (b->layer != a->layer) {
            switches++;
            if (!b->key)
                TEST_FAIL_("packet %d at %lld ms: switch to layer %u not on a keyframe", i, (long long)b->at / 1000,
                           b->layer);
        }
    }
    return switches;
}

/* The viewer's PLI, and NACK of its last packet. */
static void view_pli(sim *s)
{
    uint8_t b[64];
    int n = sfu_rtcp_pli_build(b, sizeof b, 0x999, VIEW_SSRC);
    post(s, TO_SFU, true, b, (size_t)n);
}

static void view_nack_last(sim *s)
{
    uint8_t b[64];
    uint16_t seq = s->s[s->nseen - 1].seq16;
    int n = sfu_rtcp_nack_build(b, sizeof b, 0x999, VIEW_SSRC, &seq, 1);
    post(s, TO_SFU, true, b, (size_t)n);
}

static int sink_quality(const sim *s)
{
    sfu_room_sink_layer info;
    if (sfu_room_sink_layer_get(s->room, VIEW_LEG, "v", &info) < 0)
        return -9;
    return info.current;
}

enum { F = 0, H = 1, Q = 2 };   /* layers, by their place in the offer */

/* With and without the keyframe cache: a switch always asks the publisher
 * for a fresh keyframe of the target (a cached one would put the viewer's
 * playout behind); the viewer's own PLI is served from the cache when it
 * holds the current layer's last keyframe. */
static int switches(sfu_time kf_cache)
{
    sim *s = calloc(1, sizeof *s);
    ASSERT(s);
    ASSERT_EQ(sim_setup(s, kf_cache, 0, false), 0);

    /* Join: the viewer ends up on the full layer (ranked by keyframe size,
     * though the offer lists it first). */
    run_until(s, SFU_SEC(1));
    ASSERT_EQ(layer_now(s), F);
    ASSERT_EQ(sink_quality(s), 2);
    sfu_room_layer_info li[NL];
    ASSERT_EQ(sfu_room_track_layers(s->room, PUB_LEG, "0", s->now, li, NL), NL);
    ASSERT_STR_EQ(li[0].rid, "q");
    ASSERT_STR_EQ(li[1].rid, "h");
    ASSERT_STR_EQ(li[2].rid, "f");
    ASSERT_EQ(li[2].width, 1280);
    ASSERT_EQ(li[0].ssrc, s->L[Q].ssrc);
    ASSERT(li[0].active && li[2].active);

    /* Capped to the lowest: one request on its SSRC, the switch at its
     * keyframe (request, next frame, keyframe back: two hops and a frame). */
    sfu_time t1 = SFU_SEC(2);
    run_until(s, t1);
    ASSERT_EQ(sfu_room_set_max_layer(s->room, VIEW_LEG, "v", 0, s->now, &s->out), 0);
    drain(s);
    run_until(s, SFU_SEC(3));
    ASSERT_EQ(sfu_room_track_layers(s->room, PUB_LEG, "0", s->now, li, NL), NL);
    printf("  layers: %s %u bit/s, %s %u bit/s, %s %u bit/s\n", li[0].rid, li[0].bitrate_bps, li[1].rid,
           li[1].bitrate_bps, li[2].rid, li[2].bitrate_bps);
    ASSERT_GT(li[0].bitrate_bps, 0);
    ASSERT_LT(li[0].bitrate_bps, li[1].bitrate_bps);
    ASSERT_LT(li[1].bitrate_bps, li[2].bitrate_bps);
    int i = switch_to(s, Q, t1);
    ASSERT_GE(i, 0);
    ASSERT_LE(s->s[i].at - t1, 2 * HOP + FRAME_US + SFU_MS(1));
    ASSERT_EQ(plis(s, Q, t1, SFU_SEC(3)), 1);
    ASSERT_EQ(plis(s, F, t1, SFU_SEC(3)) + plis(s, H, t1, SFU_SEC(3)), 0);
    ASSERT_EQ(layer_now(s), Q);
    ASSERT_EQ(sink_quality(s), 0);

    /* The viewer's PLI and NACK go to the layer it receives. */
    view_pli(s);
    run_until(s, SFU_MS(3200));
    ASSERT_EQ(plis(s, Q, SFU_SEC(3), SFU_MS(3200)), kf_cache ? 0 : 1);
    ASSERT_EQ(plis(s, F, SFU_SEC(3), SFU_MS(3200)) + plis(s, H, SFU_SEC(3), SFU_MS(3200)), 0);
    view_nack_last(s);
    run_until(s, SFU_MS(3500));
    /* with the cache, its PLI was answered by a replay of Q's keyframe
     * (sent as retransmissions), then the NACK */
    ASSERT_GE(s->nrtx, 1);
    ASSERT(kf_cache || s->nrtx == 1);
    for (int k = 0; k < s->nrtx; k++)
        ASSERT_EQ(s->rtx_layer[k], Q);

    /* Back to automatic: up to the full layer at once (no estimate). */
    sfu_time t2 = SFU_SEC(4);
    run_until(s, t2);
    ASSERT_EQ(sfu_room_set_max_layer(s->room, VIEW_LEG, "v", -1, s->now, &s->out), 0);
    drain(s);
    run_until(s, SFU_SEC(5));
    i = switch_to(s, F, t2);
    ASSERT_GE(i, 0);
    ASSERT_LE(s->s[i].at - t2, 2 * HOP + FRAME_US + SFU_MS(1));
    ASSERT_EQ(plis(s, F, t2, SFU_SEC(5)), 1);
    ASSERT_EQ(layer_now(s), F);

    /* An estimate the full layer does not fit: down to the middle at once. */
    sfu_time t3 = SFU_SEC(5);
    ASSERT_EQ(sfu_room_set_sink_bitrate_limit(s->room, VIEW_LEG, "v", 450000, s->now, &s->out), 0);
    drain(s);
    run_until(s, SFU_SEC(6));
    i = switch_to(s, H, t3);
    ASSERT_GE(i, 0);
    ASSERT_LE(s->s[i].at - t3, 2 * HOP + FRAME_US + SFU_MS(1));
    ASSERT_EQ(plis(s, H, t3, SFU_SEC(6)), 1);

    /* The estimate grows: up only once the full layer has fitted for
     * SFU_CONSUMER_UP_HOLD (checked every half second). */
    sfu_time t4 = SFU_SEC(6);
    ASSERT_EQ(sfu_room_set_sink_bitrate_limit(s->room, VIEW_LEG, "v", 5000000, s->now, &s->out), 0);
    drain(s);
    run_until(s, SFU_SEC(9));
    i = switch_to(s, F, t4);
    ASSERT_GE(i, 0);
    ASSERT_GE(s->s[i].at - t4, SFU_CONSUMER_UP_HOLD);
    ASSERT_LE(s->s[i].at - t4, SFU_CONSUMER_UP_HOLD + SFU_MS(600));
    ASSERT_EQ(plis(s, F, t4, SFU_SEC(9)), 1);

    sfu_room_sink_layer info;
    ASSERT_EQ(sfu_room_sink_layer_get(s->room, VIEW_LEG, "v", &info), 0);
    ASSERT_EQ(info.nlayers, NL);
    ASSERT_EQ(info.current, 2);
    ASSERT_EQ(info.target, 2);
    ASSERT_EQ(info.limit_bps, 5000000);
    ASSERT_EQ(info.switches, 4);

    ASSERT_EQ(check_stream(s), 4);
    printf("  %d packets to the viewer, 4 switches (F-Q-F-H-F), %d receiver reports to the publisher\n", s->nseen,
           s->rr);
    ASSERT_GT(s->rr, 0);
    ASSERT_EQ(sim_free(s), 0);
    free(s);
    return 0;
}

TEST(simulcast_switches_are_seamless)
{
    return switches(0) || switches(SFU_SEC(1));
}

/* A sink pinned to one layer (a relay leg's, sfu_track_desc.pin_layer)
 * carries that layer only: from its first keyframe, whatever the ranking,
 * a cap or an estimate would choose; its keyframe requests go to that
 * layer's SSRC; sfu_room_source_layers lists the layers in the order of
 * the publisher's description (the positions pins name). */
TEST(pinned_sink_keeps_its_layer)
{
    sim *s = calloc(1, sizeof *s);
    ASSERT(s != NULL);
    ASSERT_EQ(sim_setup(s, SFU_MS(1500), 2 /* layer 1: "h", the middle one */, false), 0);
    sfu_layer_desc ld[SFU_MAX_LAYERS];
    ASSERT_EQ(sfu_room_source_layers(s->room, ALICE, SFU_KIND_VIDEO, ld, SFU_MAX_LAYERS), NL);
    for (int l = 0; l < NL; l++)
        ASSERT_STR_EQ(ld[l].rid, rid_of[l]);
    ASSERT_EQ(sfu_room_source_layers(s->room, BOB, SFU_KIND_VIDEO, ld, SFU_MAX_LAYERS), -SFU_ENOTFOUND);
    run_until(s, SFU_SEC(2));
    ASSERT_EQ(sfu_room_set_max_layer(s->room, VIEW_LEG, "v", 0, s->now, &s->out), 0);
    drain(s);
    run_until(s, SFU_SEC(4));
    ASSERT_EQ(sfu_room_set_sink_bitrate_limit(s->room, VIEW_LEG, "v", 50000, s->now, &s->out), 0);
    drain(s);
    run_until(s, SFU_SEC(6));
    ASSERT(s->nseen > 100);
    int other = 0;
    for (int i = 0; i < s->nseen; i++)
        other += s->s[i].layer != 1;
    if (other)
        TEST_FAIL_("%d of %d packets not of the pinned layer", other, s->nseen);
    ASSERT(s->s[0].key);
    sfu_room_sink_layer k;
    ASSERT_EQ(sfu_room_sink_layer_get(s->room, VIEW_LEG, "v", &k), 0);
    ASSERT_EQ(k.current, 1);    /* "h" ranks in the middle by its keyframes' size */
    ASSERT_EQ(k.switches, 0u);
    /* The viewer's PLI: a keyframe request on the pinned layer's SSRC only. */
    sfu_time t = s->now;
    uint8_t pli[12];
    ASSERT(sfu_rtcp_pli_build(pli, sizeof pli, 0xBBBB, VIEW_SSRC) > 0);
    sfu_room_handle_rtcp(s->room, VIEW_LEG, pli, sizeof pli, s->now, &s->out);
    drain(s);
    run_until(s, t + SFU_MS(600));
    ASSERT_EQ(plis(s, 0, t, s->now) + plis(s, 2, t, s->now), 0);
    ASSERT(plis(s, 1, t, s->now) + (int)sfu_room_stats_get(s->room)->keyframe_replays >= 1);
    ASSERT_EQ(sim_free(s), 0u);
    free(s);
    return 0;
}

static void send_app(sim *s, uint32_t ssrc, bool wanted)
{
    uint8_t b[64];
    sfu_rtcp_layer_want w = { ssrc, wanted };
    int n = sfu_rtcp_layers_build(b, sizeof b, 0x5555, &w, 1);
    sfu_room_handle_rtcp(s->room, VIEW_LEG, b, (size_t)n, s->now, &s->out);
    drain(s);
}

/* Relay legs' layer feedback (rtcp_layers.h), both ends in one room: the
 * publisher's leg plays the pulling end (its viewer pinned to "h" needs
 * that layer only: no quality above for a pinned sink), the viewer's leg
 * the serving end (a layer report pauses its pinned sink: nothing more is
 * sent; resumed, it asks for a keyframe and continues on it with the next
 * sequence number, so nothing looks lost). */
TEST(relay_layer_feedback)
{
    sim *s = calloc(1, sizeof *s);
    ASSERT(s != NULL);
    ASSERT_EQ(sim_setup(s, SFU_MS(1500), 2, true), 0);
    run_until(s, SFU_SEC(3));
    ASSERT(s->napps >= 2);
    ASSERT_EQ(s->last_app.count, NL);
    for (int i = 0; i < NL; i++) {
        int l = -1;
        for (int k = 0; k < NL; k++)
            if (s->L[k].ssrc == s->last_app.entries[i].ssrc)
                l = k;
        ASSERT(l >= 0);
        if (s->last_app.entries[i].wanted != (l == 1))
            TEST_FAIL_("layer %s wanted %d", rid_of[l], s->last_app.entries[i].wanted);
    }
    int before = s->nseen;
    ASSERT(before > 50);
    send_app(s, VIEW_SSRC, false);
    ASSERT_EQ(sfu_room_stats_get(s->room)->layer_pauses, 1u);
    run_until(s, SFU_SEC(4));
    int paused = s->nseen - before;
    ASSERT(paused <= 2); /* what was in flight */
    int last = s->nseen - 1;
    sfu_time t = s->now;
    send_app(s, VIEW_SSRC, true);
    send_app(s, VIEW_SSRC, true); /* repeated every second: no second resume */
    ASSERT_EQ(sfu_room_stats_get(s->room)->layer_resumes, 1u);
    run_until(s, SFU_SEC(5));
    ASSERT(plis(s, 1, t, s->now) >= 1);
    ASSERT(s->nseen > last + 10);
    const seen *r = &s->s[last + 1];
    ASSERT(r->key && r->start);
    ASSERT_EQ(r->layer, 1);
    ASSERT_EQ(r->seq16, (uint16_t)(s->s[last].seq16 + 1));
    ASSERT_EQ(sim_free(s), 0u);
    free(s);
    return 0;
}

TEST_LIST(TEST_ENTRY(simulcast_switches_are_seamless), TEST_ENTRY(pinned_sink_keeps_its_layer),
          TEST_ENTRY(relay_layer_feedback))
