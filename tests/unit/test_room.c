#include "sfu/core/rtcp_sr_rr.h"
#include "tests/test.h"
#include "tests/unit/room_fixture.h"

enum { PUB = 1, VIEW = 2, PUB2 = 3, ALICE = 100, BOB = 200, PUB_SSRC = 0x1111, PUB_RTX = 0x2222,
       VIEW_SSRC = 0x5000 };

typedef struct rig {
    sfu_buf_pool *pool;
    sfu_room *room;
    sfu_out out;
    uint16_t first_out;         /* the viewer's first output seq */
    uint32_t first_ts;
} rig;

static const sfu_room_config cfg = {
    .max_legs = 8, .liveness_timeout = SFU_SEC(5), .rtx_cache_packets = 64,
    .keyframe_min_interval = SFU_SEC(1),
};

static int rig_open_with(rig *r, const sfu_room_config *c)
{
    memset(r, 0, sizeof *r);
    r->pool = sfu_buf_pool_new(256);
    r->room = sfu_room_new(c);
    if (!r->pool || !r->room || sfu_out_init(&r->out, 64) < 0)
        return -1;
    sfu_track_desc pv = fx_pub_video("0"), vv = fx_view_video("v", VIEW_SSRC);
    sfu_leg_desc pub = fx_leg(0xA1, &pv, 1), view = fx_leg(0xA2, &vv, 1);
    if (sfu_room_add_leg(r->room, PUB, ALICE, &pub, 0) < 0 || sfu_room_add_leg(r->room, VIEW, BOB, &view, 0) < 0)
        return -1;
    return sfu_room_bind(r->room, VIEW, "v", ALICE, 0, &r->out);
}

static int rig_open(rig *r)
{
    return rig_open_with(r, &cfg);
}

static void rig_close(rig *r)
{
    sfu_out_deinit(&r->out);
    sfu_room_free(r->room);
    if (r->pool && sfu_buf_pool_in_use(r->pool) != 0)
        fprintf(stderr, "  leaked %u buffers\n", sfu_buf_pool_in_use(r->pool));
    sfu_buf_pool_free(r->pool);
}

/* Sends one VP8 packet from `leg`; the room's outputs land in r->out. */
static int send_vp8(rig *r, sfu_leg_id leg, uint32_t ssrc, uint16_t seq, bool key, sfu_time now)
{
    uint8_t pl[16];
    size_t n = fx_vp8(pl, key, key, (uint16_t)(seq + 7), 3, seq);
    fx_rtp s = { ssrc, PUB_PT, seq, (uint32_t)seq * 3000u, false, "0", seq, -1, pl, n };
    sfu_buf *b = fx_build(r->pool, &s);
    if (!b)
        return -SFU_ENOMEM;
    int rc = sfu_room_handle_rtp(r->room, leg, b, now, &r->out);
    sfu_buf_unref(b);
    return rc;
}

static int count(const sfu_out *o, sfu_out_type type, sfu_leg_id leg)
{
    int n = 0;
    for (uint32_t i = 0; i < o->count; i++)
        n += o->items[i].type == type && o->items[i].leg == leg;
    return n;
}

static const sfu_out_item *first(const sfu_out *o, sfu_out_type type, sfu_leg_id leg)
{
    for (uint32_t i = 0; i < o->count; i++)
        if (o->items[i].type == type && o->items[i].leg == leg)
            return &o->items[i];
    return NULL;
}

/* Counts the RTCP packets of one type/fmt in the items for `leg`. */
static int count_rtcp(const sfu_out *o, sfu_leg_id leg, uint8_t pt, int fmt)
{
    int n = 0;
    for (uint32_t i = 0; i < o->count; i++) {
        const sfu_out_item *it = &o->items[i];
        if (it->type != SFU_OUT_RTCP || it->leg != leg)
            continue;
        size_t off = 0;
        sfu_rtcp_common c;
        while (sfu_rtcp_next(it->head, it->head_len, &off, &c) == 1)
            n += c.pt == pt && (fmt < 0 || c.count == fmt);
    }
    return n;
}

/* Keyframe gating, learning the SSRC from the mid, and the viewer's header. */
TEST(gates_until_keyframe_and_rewrites)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    ASSERT_EQ(r.out.count, 0); /* no PLI yet: the publisher's SSRC is unknown */
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 1000, false, SFU_MS(10)), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_RTP, VIEW), 0);
    ASSERT_EQ(sfu_room_poll_timeout(r.room), 0);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_MS(10), &r.out), 0);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI), 1);
    const sfu_out_item *pli = first(&r.out, SFU_OUT_RTCP, PUB);
    sfu_rtcp_common c;
    size_t off = 0;
    uint32_t snd, media;
    ASSERT_EQ(sfu_rtcp_next(pli->head, pli->head_len, &off, &c), 1);
    ASSERT_EQ(sfu_rtcp_pli_parse(&c, &snd, &media), 0);
    ASSERT_EQ(media, PUB_SSRC);
    ASSERT_EQ(snd, 0xA1);
    sfu_out_reset(&r.out);

    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 1001, true, SFU_MS(20)), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 1002, false, SFU_MS(21)), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_RTP, VIEW), 2);
    fx_seen a, b;
    ASSERT_EQ(fx_read_rtp(&r.out.items[0], &a), 0);
    ASSERT_EQ(fx_read_rtp(&r.out.items[1], &b), 0);
    ASSERT_EQ(a.h.ssrc, VIEW_SSRC);
    ASSERT_EQ(a.h.pt, VIEW_PT);
    ASSERT_LT(a.h.seq16, 0x8000);
    ASSERT_EQ((uint16_t)(b.h.seq16 - a.h.seq16), 1);
    ASSERT_EQ(b.h.ts - a.h.ts, 3000);
    uint8_t len;
    const uint8_t *mid = sfu_rtp_ext_find(&a.h, a.bytes, VIEW_EXT_MID, &len);
    ASSERT(mid && len == 1 && mid[0] == 'v');
    ASSERT(!sfu_rtp_ext_find(&a.h, a.bytes, EXT_TWCC, &len));  /* never forwarded */
    ASSERT(!sfu_rtp_ext_find(&a.h, a.bytes, EXT_MID, &len));
    ASSERT_EQ(a.h.ext_count, 1);
    uint32_t tag;
    sfu_vp8_desc d;
    ASSERT_EQ(fx_vp8_tag(&a, &tag, &d), 0);
    ASSERT_EQ(tag, 1001);
    ASSERT(d.keyframe && d.picture_id_15);
    ASSERT_EQ(fx_vp8_tag(&b, &tag, &d), 0);
    ASSERT_EQ(tag, 1002);
    ASSERT_EQ(sfu_room_stats_get(r.room)->forwarded, 2);
    rig_close(&r);
    return 0;
}

static int send_raw(rig *r, const fx_rtp *s, bool pad_only, sfu_time now)
{
    sfu_buf *b = fx_build(r->pool, s);
    if (!b)
        return -SFU_ENOMEM;
    if (pad_only) { /* RFC 3550 5.1: P bit, last byte counts the padding */
        b->data[0] |= 0x20;
        memset(b->data + b->len, 0, 4);
        b->data[b->len + 3] = 4;
        b->len += 4;
    }
    int rc = sfu_room_handle_rtp(r->room, PUB, b, now, &r->out);
    sfu_buf_unref(b);
    return rc;
}

/* RTX unwrapping, padding, late packets: the viewer's numbering has no
 * hole except where a packet is really missing. */
TEST(rtx_padding_and_reorder)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 10, true, SFU_MS(1)), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 12, false, SFU_MS(2)), 0); /* 11 missing */
    uint8_t pl[16];
    pl[0] = 0;
    pl[1] = 11; /* OSN */
    size_t n = 2 + fx_vp8(pl + 2, false, false, 18, 3, 11);
    fx_rtp rtx = { PUB_RTX, PUB_RTX_PT, 500, 33000, false, "0", -1, -1, pl, n };
    ASSERT_EQ(send_raw(&r, &rtx, false, SFU_MS(3)), 0);
    fx_rtp pad = { PUB_SSRC, PUB_PT, 13, 39000, false, "0", -1, -1, pl, 0 };
    ASSERT_EQ(send_raw(&r, &pad, true, SFU_MS(4)), 0);
    fx_rtp rtx_probe = { PUB_RTX, PUB_RTX_PT, 501, 0, false, NULL, -1, -1, pl, 2 };
    ASSERT_EQ(send_raw(&r, &rtx_probe, false, SFU_MS(5)), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 14, false, SFU_MS(6)), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 12, false, SFU_MS(7)), 0); /* duplicate */
    static const struct { uint32_t tag; int rel; } want[] = { { 10, 0 }, { 12, 2 }, { 11, 1 }, { 14, 3 } };
    ASSERT_EQ(count(&r.out, SFU_OUT_RTP, VIEW), 4);
    fx_seen s0;
    ASSERT_EQ(fx_read_rtp(&r.out.items[0], &s0), 0);
    for (size_t i = 0; i < SFU_ARRAY_LEN(want); i++) {
        fx_seen s;
        uint32_t tag;
        sfu_vp8_desc d;
        ASSERT_EQ(fx_read_rtp(&r.out.items[i], &s), 0);
        ASSERT_EQ(fx_vp8_tag(&s, &tag, &d), 0);
        ASSERT_EQ(tag, want[i].tag);
        ASSERT_EQ((uint16_t)(s.h.seq16 - s0.h.seq16), want[i].rel);
        ASSERT_EQ(s.h.ts - s0.h.ts, (tag - 10) * 3000);
        ASSERT_EQ(s.h.ssrc, VIEW_SSRC);
    }
    const sfu_room_stats *st = sfu_room_stats_get(r.room);
    ASSERT_EQ(st->drops[SFU_DROP_PADDING], 2);
    ASSERT_EQ(st->drops[SFU_DROP_DUPLICATE], 1);
    rig_close(&r);
    return 0;
}

/* A viewer's NACK is answered from the cache over the viewer's RTX. */
TEST(nack_answered_over_rtx)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    for (uint16_t s = 1; s <= 5; s++)
        ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, s, s == 1, SFU_MS(s)), 0);
    fx_seen third;
    ASSERT_EQ(fx_read_rtp(&r.out.items[2], &third), 0);
    sfu_out_reset(&r.out);
    uint16_t seqs[] = { third.h.seq16, (uint16_t)(third.h.seq16 + 100) };
    uint8_t nack[64];
    int n = sfu_rtcp_nack_build(nack, sizeof nack, 0x77, VIEW_SSRC, seqs, 2);
    ASSERT_GT(n, 0);
    ASSERT_EQ(sfu_room_handle_rtcp(r.room, VIEW, nack, (size_t)n, SFU_MS(50), &r.out), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_RTP, VIEW), 1);
    fx_seen s;
    ASSERT_EQ(fx_read_rtp(&r.out.items[0], &s), 0);
    ASSERT_EQ(s.h.ssrc, VIEW_SSRC + 1);
    ASSERT_EQ(s.h.pt, VIEW_RTX_PT);
    ASSERT_EQ(sfu_rd16(s.bytes + s.h.payload_off), third.h.seq16);
    ASSERT_EQ(s.h.ts, third.h.ts);
    /* The rest is the same payload as the original. */
    ASSERT_EQ(s.h.payload_len, third.h.payload_len + 2);
    ASSERT_MEM_EQ(s.bytes + s.h.payload_off + 2, third.bytes + third.h.payload_off, third.h.payload_len);
    const sfu_room_stats *st = sfu_room_stats_get(r.room);
    ASSERT_EQ(st->retransmitted, 1);
    ASSERT_EQ(st->rtx_missed, 1);
    ASSERT_EQ(st->nacks_received, 1);
    rig_close(&r);
    return 0;
}

/* Viewers' PLIs coalesce into one request per interval (1 s here) to the
 * publisher. The keyframe cache is off in this rig. */
TEST(pli_throttled)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 1, true, SFU_MS(1)), 0);
    /* The bind's request waited for the SSRC; the keyframe came first and
     * opened the viewer, so none is sent. */
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_MS(1), &r.out), 0);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI), 0);
    sfu_out_reset(&r.out);
    uint8_t pli[16];
    int n = sfu_rtcp_pli_build(pli, sizeof pli, 0x77, VIEW_SSRC);
    static const struct { sfu_time at; int plis; } t[] = {
        { SFU_MS(100), 1 }, { SFU_MS(500), 0 }, { SFU_MS(900), 0 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        ASSERT_EQ(sfu_room_handle_rtcp(r.room, VIEW, pli, (size_t)n, t[i].at, &r.out), 0);
        ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI), t[i].plis);
        sfu_out_reset(&r.out);
    }
    ASSERT_LE(sfu_room_poll_timeout(r.room), SFU_MS(1100));
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_MS(1099), &r.out), 0);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI), 0);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_MS(1100), &r.out), 0);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI), 1);
    ASSERT_EQ(sfu_room_stats_get(r.room)->plis_received, 3);
    ASSERT_EQ(sfu_room_stats_get(r.room)->plis_sent, 2);
    rig_close(&r);
    return 0;
}

TEST(liveness_expires_once)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    sfu_room_handle_alive(r.room, PUB, SFU_SEC(3));
    ASSERT_LE(sfu_room_poll_timeout(r.room), SFU_SEC(5));
    static const struct { sfu_time at; int pub, view; } t[] = {
        { SFU_SEC(4), 0, 0 }, { SFU_SEC(5), 0, 1 }, { SFU_SEC(6), 0, 0 }, { SFU_SEC(8), 1, 0 },
        { SFU_SEC(9), 0, 0 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        sfu_out_reset(&r.out);
        ASSERT_EQ(sfu_room_handle_timeout(r.room, t[i].at, &r.out), 0);
        ASSERT_EQ(count(&r.out, SFU_OUT_LEG_EXPIRED, PUB), t[i].pub);
        ASSERT_EQ(count(&r.out, SFU_OUT_LEG_EXPIRED, VIEW), t[i].view);
    }
    rig_close(&r);
    return 0;
}

/* Held consent keeps a leg with no media alive past the liveness timeout;
 * when it lapses, the timer runs from the last answered check, not from the
 * moment the ICE layer noticed (liveness 5 s in this rig). */
TEST(liveness_consent)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    sfu_room_handle_consent(r.room, PUB, true, SFU_SEC(1));
    sfu_room_handle_consent(r.room, VIEW, true, SFU_SEC(1));
    /* VIEW: consent lapses at 60 s, its last check answered at 50 s: expired
     * at once (50 + 5 <= 60). PUB: lapses at 60 s with its last check at 58 s,
     * then SRTP at 59 s counts too: expires at 64 s, not before. */
    sfu_room_handle_consent(r.room, VIEW, false, SFU_SEC(50));
    sfu_room_handle_alive(r.room, PUB, SFU_SEC(59));
    sfu_room_handle_consent(r.room, PUB, false, SFU_SEC(58));
    static const struct { sfu_time at; int pub, view; } t[] = {
        { SFU_SEC(30), 0, 0 }, { SFU_SEC(60), 0, 1 }, { SFU_SEC(63), 0, 0 },
        { SFU_SEC(64), 1, 0 }, { SFU_SEC(70), 0, 0 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        sfu_out_reset(&r.out);
        ASSERT_EQ(sfu_room_handle_timeout(r.room, t[i].at, &r.out), 0);
        ASSERT_EQ(count(&r.out, SFU_OUT_LEG_EXPIRED, PUB), t[i].pub);
        ASSERT_EQ(count(&r.out, SFU_OUT_LEG_EXPIRED, VIEW), t[i].view);
    }
    rig_close(&r);
    return 0;
}

/* Consent regained (an ICE restart) stops the timer again; an unknown leg
 * changes nothing. */
TEST(liveness_consent_regained)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    sfu_room_handle_alive(r.room, VIEW, SFU_SEC(100));  /* VIEW stays out of the way */
    sfu_room_handle_consent(r.room, PUB, true, SFU_SEC(1));
    sfu_room_handle_consent(r.room, PUB, false, SFU_SEC(10));
    sfu_room_handle_consent(r.room, 999, false, 0);
    sfu_room_handle_consent(r.room, PUB, true, SFU_SEC(13));
    sfu_out_reset(&r.out);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_SEC(40), &r.out), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_LEG_EXPIRED, PUB), 0);
    sfu_room_handle_consent(r.room, PUB, false, SFU_SEC(41));
    sfu_out_reset(&r.out);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_SEC(45), &r.out), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_LEG_EXPIRED, PUB), 0);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_SEC(46), &r.out), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_LEG_EXPIRED, PUB), 1);
    rig_close(&r);
    return 0;
}

/* A publisher whose path changed is asked for a keyframe at once, even right
 * after another request (it, or its keyframe, went down the dead path); a
 * viewer whose path changed asks its publisher, throttled like a PLI. */
TEST(path_changed_requests_keyframe)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 1, true, SFU_MS(1)), 0);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_MS(1), &r.out), 0); /* the bind's request */
    sfu_out_reset(&r.out);
    sfu_room_handle_path_changed(r.room, VIEW, SFU_SEC(5), &r.out);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI), 1);
    sfu_room_handle_path_changed(r.room, VIEW, SFU_SEC(5) + SFU_MS(10), &r.out);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI), 1);  /* throttled */
    sfu_room_handle_path_changed(r.room, PUB, SFU_SEC(5) + SFU_MS(20), &r.out);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI), 2);  /* not throttled */
    sfu_room_handle_path_changed(r.room, 999, SFU_SEC(6), &r.out);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI), 2);
    rig_close(&r);
    return 0;
}

/* A path change right after a keyframe is served from the keyframe cache:
 * the viewer gets it again at once and the publisher is not asked. */
TEST(path_changed_served_from_cache)
{
    sfu_room_config c = cfg;
    c.keyframe_cache_max_age = SFU_SEC(1);
    rig r;
    ASSERT_EQ(rig_open_with(&r, &c), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 1, true, SFU_MS(1)), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 2, false, SFU_MS(30)), 0);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_MS(40), &r.out), 0);
    sfu_out_reset(&r.out);
    uint64_t replays = sfu_room_stats_get(r.room)->keyframe_replays;
    uint64_t plis = sfu_room_stats_get(r.room)->plis_sent;
    sfu_room_handle_path_changed(r.room, VIEW, SFU_MS(200), &r.out);
    ASSERT_EQ(sfu_room_stats_get(r.room)->keyframe_replays, replays + 1);
    ASSERT_EQ(sfu_room_stats_get(r.room)->plis_sent, plis);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI), 0);
    ASSERT(first(&r.out, SFU_OUT_RTP, VIEW) != NULL);
    rig_close(&r);
    return 0;
}

/* RR toward the publisher every second; SR toward the viewer only after
 * the publisher's SR, with its RTP time translated. */
TEST(reports)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    for (uint16_t s = 1; s <= 10; s++)
        if (s != 4)
            ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, s, s == 1, SFU_MS(s * 10)), 0);
    fx_seen v0;
    ASSERT_EQ(fx_read_rtp(first(&r.out, SFU_OUT_RTP, VIEW), &v0), 0);
    sfu_out_reset(&r.out);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_SEC(1), &r.out), 0);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_RR, -1), 1);
    ASSERT_EQ(count_rtcp(&r.out, PUB, SFU_RTCP_SDES, -1), 1);
    ASSERT_EQ(count_rtcp(&r.out, VIEW, SFU_RTCP_SR, -1), 0);
    const sfu_out_item *it = NULL;
    for (uint32_t i = 0; i < r.out.count; i++)
        if (r.out.items[i].leg == PUB && r.out.items[i].head[1] == SFU_RTCP_RR)
            it = &r.out.items[i];
    ASSERT(it);
    sfu_rtcp_common c;
    size_t off = 0;
    sfu_rtcp_rr rr;
    ASSERT_EQ(sfu_rtcp_next(it->head, it->head_len, &off, &c), 1);
    ASSERT_EQ(sfu_rtcp_rr_parse(&c, &rr), 0);
    ASSERT_EQ(rr.report_count, 1);
    ASSERT_EQ(rr.reports[0].ssrc, PUB_SSRC);
    ASSERT_EQ(rr.reports[0].cumulative_lost, 1);
    ASSERT_EQ(rr.reports[0].ext_highest_seq, 10);
    ASSERT_EQ(rr.reports[0].fraction_lost, 256 / 10);

    /* Publisher SR: NTP x, RTP 30000 (seq 10's timestamp) at 1.5 s. */
    sfu_rtcp_sr sr = { .ssrc = PUB_SSRC, .ntp = (uint64_t)1000 << 32, .rtp_ts = 30000 };
    uint8_t buf[64];
    int n = sfu_rtcp_sr_build(buf, sizeof buf, &sr);
    ASSERT_GT(n, 0);
    ASSERT_EQ(sfu_room_handle_rtcp(r.room, PUB, buf, (size_t)n, SFU_MS(1500), &r.out), 0);
    sfu_out_reset(&r.out);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_SEC(2), &r.out), 0);
    ASSERT_EQ(count_rtcp(&r.out, VIEW, SFU_RTCP_SR, -1), 1);
    it = first(&r.out, SFU_OUT_RTCP, VIEW);
    off = 0;
    sfu_rtcp_sr vsr;
    ASSERT_EQ(sfu_rtcp_next(it->head, it->head_len, &off, &c), 1);
    ASSERT_EQ(sfu_rtcp_sr_parse(&c, &vsr), 0);
    ASSERT_EQ(vsr.ssrc, VIEW_SSRC);
    ASSERT_EQ(vsr.packet_count, 9);
    ASSERT_EQ(vsr.ntp, ((uint64_t)1000 << 32) + ((uint64_t)1 << 31));
    /* seq 1 had ts 3000 and went out as v0.ts: the offset is v0.ts - 3000. */
    ASSERT_EQ(vsr.rtp_ts, 30000u + 45000u + (v0.h.ts - 3000u));
    /* The RR now carries LSR. */
    for (uint32_t i = 0; i < r.out.count; i++)
        if (r.out.items[i].leg == PUB && r.out.items[i].head[1] == SFU_RTCP_RR)
            it = &r.out.items[i];
    off = 0;
    ASSERT_EQ(sfu_rtcp_next(it->head, it->head_len, &off, &c), 1);
    ASSERT_EQ(sfu_rtcp_rr_parse(&c, &rr), 0);
    ASSERT_EQ(rr.reports[0].lsr, sfu_ntp_mid32((uint64_t)1000 << 32));
    ASSERT_EQ(rr.reports[0].dlsr, 65536 / 2);
    rig_close(&r);
    return 0;
}

/* The publisher leaves and comes back: the viewer's stream continues. */
TEST(restart_continues_numbering)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 100, true, SFU_MS(1)), 0);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 101, false, SFU_MS(2)), 0);
    fx_seen last;
    ASSERT_EQ(fx_read_rtp(&r.out.items[r.out.count - 1], &last), 0);
    sfu_vp8_desc d0;
    uint32_t tag;
    ASSERT_EQ(fx_vp8_tag(&last, &tag, &d0), 0);
    sfu_out_reset(&r.out);
    sfu_room_remove_leg(r.room, PUB, SFU_MS(3), &r.out);
    ASSERT_EQ(sfu_room_leg_count(r.room), 1);
    sfu_track_desc pv = fx_pub_video("0");
    sfu_leg_desc pub = fx_leg(0xA3, &pv, 1);
    ASSERT_EQ(sfu_room_add_leg(r.room, PUB2, ALICE, &pub, SFU_MS(100)), 0);
    ASSERT_EQ(send_vp8(&r, PUB2, 0x9999, 7, false, SFU_MS(110)), 0);  /* gated */
    ASSERT_EQ(send_vp8(&r, PUB2, 0x9999, 8, true, SFU_MS(111)), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_RTP, VIEW), 1);
    fx_seen s;
    sfu_vp8_desc d;
    ASSERT_EQ(fx_read_rtp(first(&r.out, SFU_OUT_RTP, VIEW), &s), 0);
    ASSERT_EQ((uint16_t)(s.h.seq16 - last.h.seq16), 1);
    ASSERT_EQ(s.h.ssrc, VIEW_SSRC);
    ASSERT_GT(s.h.ts - last.h.ts, 0);
    ASSERT_LT(s.h.ts - last.h.ts, 90000);
    ASSERT_EQ(fx_vp8_tag(&s, &tag, &d), 0);
    ASSERT_EQ(d.picture_id, (d0.picture_id + 1) & 0x7fff);
    rig_close(&r);
    return 0;
}

/* Demultiplexing table: which packets reach the viewer. */
TEST(demux_table)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);
    uint8_t pl[16];
    size_t n = fx_vp8(pl, true, true, 1, 1, 1);
    static const struct { uint32_t ssrc; uint8_t pt; const char *mid; int rc; int drop; } t[] = {
        { 0x1, PUB_PT, "x", 0, SFU_DROP_UNKNOWN_SSRC },  /* unknown mid */
        { 0x1, PUB_PT, NULL, 0, SFU_DROP_UNKNOWN_SSRC }, /* no mid, mid negotiated */
        { 0x1, PUB_PT, "0", 0, -1 },                     /* learned */
        { 0x1, PUB_PT, NULL, 0, -1 },                    /* known now */
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        fx_rtp s = { t[i].ssrc, t[i].pt, (uint16_t)(i + 1), 0, false, t[i].mid, -1, -1, pl, n };
        uint64_t before = t[i].drop >= 0 ? sfu_room_stats_get(r.room)->drops[t[i].drop] : 0;
        ASSERT_EQ(send_raw(&r, &s, false, SFU_MS(i)), t[i].rc);
        if (t[i].drop >= 0)
            ASSERT_EQ(sfu_room_stats_get(r.room)->drops[t[i].drop], before + 1);
    }
    ASSERT_EQ(count(&r.out, SFU_OUT_RTP, VIEW), 2);
    uint8_t junk[5] = { 0x80, 96, 0, 1, 0 };
    sfu_buf *b = sfu_buf_alloc(r.pool);
    memcpy(b->data, junk, sizeof junk);
    b->len = sizeof junk;
    ASSERT_EQ(sfu_room_handle_rtp(r.room, PUB, b, 0, &r.out), -SFU_EMALFORMED);
    ASSERT_EQ(sfu_room_handle_rtp(r.room, 99, b, 0, &r.out), -SFU_ENOTFOUND);
    sfu_buf_unref(b);
    ASSERT_EQ(sfu_room_handle_rtcp(r.room, PUB, junk, sizeof junk, 0, &r.out), -SFU_EMALFORMED);
    ASSERT_EQ(sfu_room_stats_get(r.room)->drops[SFU_DROP_MALFORMED], 2);
    rig_close(&r);
    return 0;
}

/* Audio without a mid extension: matched by payload type; the audio level
 * extension is renumbered into the viewer's id. */
TEST(audio_by_pt_with_level)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(16);
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out out;
    ASSERT(pool && room && sfu_out_init(&out, 16) == 0);
    sfu_track_desc a = { .kind = SFU_KIND_AUDIO, .recv = true, .codec = SFU_CODEC_OPUS, .pt = OPUS_PT,
                         .clock_rate = 48000, .mid = "a" };
    a.ext.audio_level = EXT_LEVEL;
    sfu_track_desc v = { .kind = SFU_KIND_AUDIO, .send = true, .codec = SFU_CODEC_OPUS, .pt = 109,
                         .clock_rate = 48000, .local_ssrc = 0x4242, .mid = "m" };
    v.ext.audio_level = VIEW_EXT_LEVEL;
    sfu_leg_desc pub = fx_leg(1, &a, 1), view = fx_leg(2, &v, 1);
    ASSERT_EQ(sfu_room_add_leg(room, PUB, ALICE, &pub, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, VIEW, BOB, &view, 0), 0);
    ASSERT_EQ(sfu_room_bind(room, VIEW, "m", ALICE, 0, &out), 0);
    ASSERT_EQ(sfu_room_bind(room, VIEW, "nope", ALICE, 0, &out), -SFU_ENOTFOUND);
    ASSERT_EQ(out.count, 0); /* audio: no keyframe request */
    uint8_t opus[3] = { 0xfc, 1, 2 };
    fx_rtp s = { 0x3333, OPUS_PT, 7, 960, true, NULL, -1, 0x85, opus, 3 };
    sfu_buf *b = fx_build(pool, &s);
    ASSERT_EQ(sfu_room_handle_rtp(room, PUB, b, 0, &out), 0);
    sfu_buf_unref(b);
    ASSERT_EQ(out.count, 1);
    fx_seen seen;
    ASSERT_EQ(fx_read_rtp(&out.items[0], &seen), 0);
    uint8_t len;
    const uint8_t *lv = sfu_rtp_ext_find(&seen.h, seen.bytes, VIEW_EXT_LEVEL, &len);
    ASSERT(lv && len == 1);
    ASSERT_EQ(lv[0], 0x85);
    ASSERT(seen.h.marker);
    ASSERT_EQ(seen.h.pt, 109);
    ASSERT_EQ(seen.h.payload_len, 3);
    ASSERT_MEM_EQ(seen.bytes + seen.h.payload_off, opus, 3);
    sfu_out_deinit(&out);
    sfu_room_free(room);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* The dependency descriptor is copied byte for byte into the viewer's id
 * (two-byte form: it is longer than 16 bytes); a viewer that did not
 * negotiate it gets none. */
TEST(dependency_descriptor_copied)
{
    enum { PUB_DD = 12, VIEW_DD = 7, VIEW2 = 4, CAROL = 300 };
    sfu_buf_pool *pool = sfu_buf_pool_new(16);
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out out;
    ASSERT(pool && room && sfu_out_init(&out, 16) == 0);
    sfu_track_desc pv = fx_pub_video("v");
    pv.ext.dd = PUB_DD;
    sfu_track_desc vv = fx_view_video("m", 0x5050), vn = fx_view_video("m", 0x6060);
    vv.ext.dd = VIEW_DD;
    sfu_leg_desc pub = fx_leg(1, &pv, 1), view = fx_leg(2, &vv, 1), view2 = fx_leg(4, &vn, 1);
    ASSERT_EQ(sfu_room_add_leg(room, PUB, ALICE, &pub, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, VIEW, BOB, &view, 0), 0);
    ASSERT_EQ(sfu_room_add_leg(room, VIEW2, CAROL, &view2, 0), 0);
    ASSERT_EQ(sfu_room_bind(room, VIEW, "m", ALICE, 0, &out), 0);
    ASSERT_EQ(sfu_room_bind(room, VIEW2, "m", ALICE, 0, &out), 0);
    out.count = 0; /* keyframe requests */
    uint8_t dd[40];
    for (size_t i = 0; i < sizeof dd; i++)
        dd[i] = (uint8_t)(0xA0 + i * 7);
    uint8_t payload[16];
    fx_vp8(payload, true, true, 100, 5, 0xC0FFEE01);
    memset(payload + 10, 0x5A, 6);
    sfu_rtp_ext_out ext[2] = { { EXT_MID, 1, (const uint8_t *)"v" }, { PUB_DD, sizeof dd, dd } };
    sfu_rtp_header_out h = { true, PUB_PT, 500, 9000, 0x1111, 2, ext };
    sfu_buf *b = sfu_buf_alloc(pool);
    ASSERT(b);
    int hl = sfu_rtp_write_header(b->data, SFU_BUF_CAP, &h);
    ASSERT(hl > 0);
    memcpy(b->data + hl, payload, sizeof payload);
    b->len = (uint16_t)(hl + sizeof payload);
    ASSERT_EQ(sfu_room_handle_rtp(room, PUB, b, 0, &out), 0);
    sfu_buf_unref(b);
    unsigned got = 0, with_dd = 0;
    for (uint32_t i = 0; i < out.count; i++) {
        if (out.items[i].type != SFU_OUT_RTP)
            continue;
        fx_seen seen;
        ASSERT_EQ(fx_read_rtp(&out.items[i], &seen), 0);
        uint8_t len = 0;
        got++;
        if (out.items[i].leg == VIEW) {
            const uint8_t *x = sfu_rtp_ext_find(&seen.h, seen.bytes, VIEW_DD, &len);
            ASSERT(x);
            ASSERT_EQ(len, sizeof dd);
            ASSERT_MEM_EQ(x, dd, sizeof dd);
            ASSERT(!sfu_rtp_ext_find(&seen.h, seen.bytes, PUB_DD, &len));
            with_dd++;
        } else {
            ASSERT_EQ(out.items[i].leg, VIEW2);
            ASSERT(!sfu_rtp_ext_find(&seen.h, seen.bytes, VIEW_DD, &len));
            ASSERT(!sfu_rtp_ext_find(&seen.h, seen.bytes, PUB_DD, &len));
        }
        ASSERT_EQ(seen.h.payload_len, sizeof payload);
        ASSERT_MEM_EQ(seen.bytes + seen.h.payload_off + 10, payload + 10, 6);
    }
    ASSERT_EQ(got, 2);
    ASSERT_EQ(with_dd, 1);
    sfu_out_deinit(&out);
    sfu_room_free(room);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* The room scans its slots only up to the highest one in use: a leg left
 * alone in a high slot (the ones below it removed) still gets its timers
 * and forwarding; a new leg takes the lowest free slot again. */
TEST(scans_reach_the_highest_slot)
{
    rig r;
    ASSERT_EQ(rig_open(&r), 0);     /* PUB in slot 0, VIEW in slot 1 */
    sfu_track_desc vv = fx_view_video("v", VIEW_SSRC + 1);
    sfu_leg_desc d = fx_leg(0xA3, &vv, 1);
    enum { VIEW3 = 7 };
    ASSERT_EQ(sfu_room_add_leg(r.room, VIEW3, BOB + 1, &d, 0), 0);     /* slot 2 */
    ASSERT_EQ(sfu_room_bind(r.room, VIEW3, "v", ALICE, 0, &r.out), 0);
    sfu_room_remove_leg(r.room, VIEW, 0, &r.out);
    sfu_out_reset(&r.out);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 100, true, SFU_MS(10)), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_RTP, VIEW3), 1);
    /* The publisher keeps sending; the viewer in slot 2 never does. */
    sfu_room_handle_alive(r.room, PUB, SFU_SEC(5));
    ASSERT_LE(sfu_room_poll_timeout(r.room), SFU_SEC(5));
    sfu_out_reset(&r.out);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_SEC(5), &r.out), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_LEG_EXPIRED, VIEW3), 1);
    ASSERT_EQ(count(&r.out, SFU_OUT_LEG_EXPIRED, PUB), 0);
    /* Slot 2 gone: the room holds slot 0 only; a newcomer takes slot 1 and
     * is found by the scans (its liveness expires as well). */
    sfu_room_remove_leg(r.room, VIEW3, SFU_SEC(5), &r.out);
    ASSERT_EQ(sfu_room_leg_count(r.room), 1u);
    sfu_leg_desc d2 = fx_leg(0xA4, &vv, 1);
    ASSERT_EQ(sfu_room_add_leg(r.room, VIEW, BOB, &d2, SFU_SEC(5)), 0);
    sfu_room_handle_alive(r.room, PUB, SFU_SEC(10));
    sfu_out_reset(&r.out);
    ASSERT_EQ(sfu_room_handle_timeout(r.room, SFU_SEC(10), &r.out), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_LEG_EXPIRED, VIEW), 1);
    rig_close(&r);
    return 0;
}

/* A room starts with a few slots and grows as legs join, up to max_legs:
 * viewers in every slot get the publisher's packets, one more leg is refused,
 * and a freed slot is taken again. */
TEST(slots_grow_to_max_legs)
{
    enum { MAX = 19 };
    sfu_room_config c = cfg;
    c.max_legs = MAX;
    rig r;
    ASSERT_EQ(rig_open_with(&r, &c), 0);   /* the publisher and one viewer */
    sfu_track_desc vv[MAX];
    for (unsigned i = 2; i < MAX; i++) {
        char mid[8];
        snprintf(mid, sizeof mid, "v%u", i);
        vv[i] = fx_view_video(mid, VIEW_SSRC + i);
        sfu_leg_desc d = fx_leg(0xB0 + i, &vv[i], 1);
        ASSERT_EQ(sfu_room_add_leg(r.room, VIEW + 10 + i, BOB + i, &d, 0), 0);
        ASSERT_EQ(sfu_room_bind(r.room, VIEW + 10 + i, mid, ALICE, 0, &r.out), 0);
    }
    sfu_track_desc extra = fx_view_video("x", VIEW_SSRC + 99);
    sfu_leg_desc xd = fx_leg(0xF0, &extra, 1);
    ASSERT_EQ(sfu_room_add_leg(r.room, 999, BOB + 99, &xd, 0), -SFU_ELIMIT);
    sfu_out_reset(&r.out);
    ASSERT_EQ(send_vp8(&r, PUB, PUB_SSRC, 100, true, SFU_MS(10)), 0);
    ASSERT_EQ(count(&r.out, SFU_OUT_RTP, VIEW), 1);
    for (unsigned i = 2; i < MAX; i++)
        if (count(&r.out, SFU_OUT_RTP, VIEW + 10 + i) != 1)
            TEST_FAIL_("leg %u got %d packets, want 1", i, count(&r.out, SFU_OUT_RTP, VIEW + 10 + i));
    sfu_room_remove_leg(r.room, VIEW + 10 + 7, SFU_MS(20), &r.out);
    ASSERT_EQ(sfu_room_add_leg(r.room, 999, BOB + 99, &xd, SFU_MS(20)), 0);
    rig_close(&r);
    return 0;
}

/* Transport-cc feedback toward publishers: every 100 ms while a leg's rate is
 * unknown or high; every 250 ms on an audio-only leg (32 kbit/s) once its
 * rate is known. A second publisher's periodic work, due 10 ms after the
 * first's, goes out in the same timeout (ROOM_PERIODIC_SLACK), up to 20 ms
 * early. */
static int twcc_run(sfu_room *room, sfu_buf_pool *pool, sfu_out *out, size_t payload, int fb[2][64],
                    int nfb[2], bool *same_call)
{
    static uint8_t pl[1200];
    uint16_t seq[2] = { 0, 0 };
    *same_call = true;
    for (int ms = 0; ms <= 4000; ms++) {
        sfu_time now = SFU_MS(ms);
        for (int l = 0; l < 2; l++) {
            if (ms % 20 != l * 10)
                continue;
            fx_rtp s = { 0x3000u + (uint32_t)l, OPUS_PT, seq[l], (uint32_t)seq[l] * 960u, false, NULL,
                         seq[l], -1, pl, payload };
            seq[l]++;
            sfu_buf *b = fx_build(pool, &s);
            if (!b || sfu_room_handle_rtp(room, (sfu_leg_id)(PUB + 2 * l), b, now, out) != 0)
                return -1;
            sfu_buf_unref(b);
        }
        sfu_out_reset(out);
        if (sfu_room_poll_timeout(room) > now)
            continue;
        if (sfu_room_handle_timeout(room, now, out) != 0)
            return -1;
        int got[2] = { count_rtcp(out, PUB, SFU_RTCP_RTPFB, SFU_RTCP_FMT_TWCC),
                       count_rtcp(out, PUB2, SFU_RTCP_RTPFB, SFU_RTCP_FMT_TWCC) };
        for (int l = 0; l < 2; l++)
            if (got[l] && nfb[l] < 64)
                fb[l][nfb[l]++] = ms;
        if (ms >= 2000 && got[0] != got[1])
            *same_call = false;
        sfu_out_reset(out);
    }
    return 0;
}

static int gaps_in(const int *fb, int n, int from_ms, int *min, int *max)
{
    int k = 0;
    *min = 1 << 30;
    *max = 0;
    for (int i = 1; i < n; i++) {
        if (fb[i - 1] < from_ms)
            continue;
        int g = fb[i] - fb[i - 1];
        *min = g < *min ? g : *min;
        *max = g > *max ? g : *max;
        k++;
    }
    return k;
}

TEST(twcc_feedback_interval)
{
    for (int fast = 0; fast < 2; fast++) {
        sfu_buf_pool *pool = sfu_buf_pool_new(16);
        sfu_room *room = sfu_room_new(&cfg);
        sfu_out out;
        ASSERT(pool && room && sfu_out_init(&out, 64) == 0);
        sfu_track_desc a = { .kind = SFU_KIND_AUDIO, .recv = true, .codec = SFU_CODEC_OPUS, .pt = OPUS_PT,
                             .clock_rate = 48000, .mid = "a", .fb_twcc = true };
        a.ext.twcc = EXT_TWCC;
        sfu_leg_desc pub = fx_leg(1, &a, 1), pub2 = fx_leg(3, &a, 1);
        ASSERT_EQ(sfu_room_add_leg(room, PUB, ALICE, &pub, 0), 0);
        ASSERT_EQ(sfu_room_add_leg(room, PUB2, BOB, &pub2, SFU_MS(10)), 0);
        int fb[2][64], nfb[2] = { 0, 0 };
        bool same = false;
        /* 80 octets of Opus every 20 ms (about 40 kbit/s on the wire), or
         * 1200 (about 490 kbit/s) */
        ASSERT_EQ(twcc_run(room, pool, &out, fast ? 1200 : 80, fb, nfb, &same), 0);
        int lo, hi;
        /* the first second, rate unknown: 100 ms (80 at the least, with the slack) */
        ASSERT_GT(gaps_in(fb[0], nfb[0], 0, &lo, &hi), 5);
        ASSERT(fb[0][0] <= 120);
        ASSERT(fb[0][1] - fb[0][0] >= 80 && fb[0][1] - fb[0][0] <= 100);
        for (int l = 0; l < 2; l++) {
            ASSERT_GT(gaps_in(fb[l], nfb[l], 2000, &lo, &hi), 4);
            if (fast) {
                ASSERT(lo >= 80 && hi <= 100);
            } else {
                ASSERT(lo >= 230 && hi <= 250);
            }
        }
        ASSERT(same); /* the two legs fell into step */
        sfu_out_deinit(&out);
        sfu_room_free(room);
        ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
        sfu_buf_pool_free(pool);
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(slots_grow_to_max_legs), TEST_ENTRY(gates_until_keyframe_and_rewrites), TEST_ENTRY(rtx_padding_and_reorder),
          TEST_ENTRY(nack_answered_over_rtx), TEST_ENTRY(pli_throttled), TEST_ENTRY(liveness_expires_once),
          TEST_ENTRY(liveness_consent), TEST_ENTRY(liveness_consent_regained),
          TEST_ENTRY(scans_reach_the_highest_slot),
          TEST_ENTRY(path_changed_requests_keyframe), TEST_ENTRY(path_changed_served_from_cache),
          TEST_ENTRY(reports), TEST_ENTRY(restart_continues_numbering), TEST_ENTRY(demux_table),
          TEST_ENTRY(audio_by_pt_with_level), TEST_ENTRY(dependency_descriptor_copied),
          TEST_ENTRY(twcc_feedback_interval))
