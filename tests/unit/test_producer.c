/* The producer on its own: layer demultiplexing (SSRC, rid, repaired-rid),
 * per-layer receive state, NACKs and keyframe requests to the right SSRC,
 * replay ranges, ranking. No room. */
#include "sfu/core/producer.h"
#include "sfu/core/rtcp.h"
#include "sfu/core/rtcp_fb.h"
#include "tests/test.h"

enum { EXT_MID = 1, EXT_RID = 2, EXT_RRID = 3, PT = 96, RTX_PT = 97 };

static sfu_track_desc video_desc(void)
{
    sfu_track_desc d = { .kind = SFU_KIND_VIDEO, .recv = true, .codec = SFU_CODEC_VP8, .pt = PT, .rtx_pt = RTX_PT,
                         .clock_rate = 90000, .fb_nack = true, .fb_pli = true };
    strcpy(d.mid, "0");
    d.ext.mid = EXT_MID;
    return d;
}

/* Three encodings told apart by rid, in Firefox's order (full first). */
static sfu_track_desc simulcast_desc(void)
{
    sfu_track_desc d = video_desc();
    d.ext.rid = EXT_RID;
    d.ext.repaired_rid = EXT_RRID;
    d.nlayers = 3;
    strcpy(d.layers[0].rid, "f");
    strcpy(d.layers[1].rid, "h");
    strcpy(d.layers[2].rid, "q");
    return d;
}

static const sfu_producer_config pcfg = { .rtx_cache_packets = 64, .keyframe_min_interval = SFU_MS(500),
                                          .keyframe_cache_max_age = SFU_SEC(1) };

typedef struct pkt_spec {
    uint32_t ssrc;
    uint8_t pt;
    uint16_t seq16;
    uint32_t ts;
    const char *rid, *rrid;     /* NULL: no extension */
    bool key;
    uint16_t width, height;     /* of a keyframe */
    size_t filler;              /* extra payload bytes */
} pkt_spec;

/* A VP8 packet (RTX: the OSN first) with the rid extensions asked for. */
static sfu_buf *build(sfu_buf_pool *pool, const pkt_spec *s, sfu_rtp_hdr *h)
{
    sfu_buf *b = sfu_buf_alloc(pool);
    sfu_rtp_ext_out ext[3];
    uint8_t n = 0;
    ext[n++] = (sfu_rtp_ext_out){ EXT_MID, 1, (const uint8_t *)"0" };
    if (s->rid)
        ext[n++] = (sfu_rtp_ext_out){ EXT_RID, (uint8_t)strlen(s->rid), (const uint8_t *)s->rid };
    if (s->rrid)
        ext[n++] = (sfu_rtp_ext_out){ EXT_RRID, (uint8_t)strlen(s->rrid), (const uint8_t *)s->rrid };
    sfu_rtp_header_out ho = { false, s->pt, s->seq16, s->ts, s->ssrc, n, ext };
    int hl = sfu_rtp_write_header(b->data, SFU_BUF_CAP, &ho);
    uint8_t *p = b->data + hl;
    size_t len = 0;
    if (s->pt == RTX_PT) {
        sfu_wr16(p, s->seq16);
        len += 2;
    }
    p[len++] = 0x10; /* S=1, PID 0, no extension */
    /* VP8 payload header: P = 0 on a keyframe, then (RFC 6386 9.1) the start
     * code and the frame size */
    static const uint8_t key[] = { 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a };
    memcpy(p + len, key, sizeof key);
    p[len] = s->key ? 0x10 : 0x11;
    len += sizeof key;
    sfu_wr16(p + len, (uint16_t)(s->width >> 8 | s->width << 8));
    sfu_wr16(p + len + 2, (uint16_t)(s->height >> 8 | s->height << 8));
    len += 4;
    memset(p + len, 0xab, s->filler);
    len += s->filler;
    b->len = (uint16_t)(hl + len);
    if (sfu_rtp_parse(b->data, b->len, h) < 0) {
        sfu_buf_unref(b);
        return NULL;
    }
    return b;
}

/* Demultiplexing: which layer, RTX or not, learnt SSRCs and restarts. */
TEST(layers_are_told_apart_by_ssrc_then_rid)
{
    static const struct {
        pkt_spec pkt;
        int layer;
        bool rtx, restarted;
    } t[] = {
        { { 0x100, PT, 1, 0, "q", NULL, 0, 0, 0, 0 }, 2, false, false },
        { { 0x200, PT, 1, 0, "f", NULL, 0, 0, 0, 0 }, 0, false, false },
        { { 0x300, PT, 1, 0, "h", NULL, 0, 0, 0, 0 }, 1, false, false },
        { { 0x101, RTX_PT, 1, 0, NULL, "q", 0, 0, 0, 0 }, 2, true, false },
        { { 0x100, PT, 2, 0, NULL, NULL, 0, 0, 0, 0 }, 2, false, false },      /* by SSRC now */
        { { 0x101, RTX_PT, 2, 0, NULL, NULL, 0, 0, 0, 0 }, 2, true, false },   /* by RTX SSRC */
        { { 0x999, PT, 1, 0, NULL, NULL, 0, 0, 0, 0 }, -1, false, false },     /* no rid: unknown */
        { { 0x999, PT, 1, 0, "x", NULL, 0, 0, 0, 0 }, -1, false, false },      /* no such rid */
        { { 0x201, PT, 1, 0, NULL, "f", 0, 0, 0, 0 }, 0, true, false },        /* repaired-rid: RTX */
        { { 0x400, PT, 1, 0, "h", NULL, 0, 0, 0, 0 }, 1, false, true },        /* a new SSRC for h */
    };
    sfu_buf_pool *pool = sfu_buf_pool_new(8);
    uint32_t epochs = 0;
    sfu_track_desc d = simulcast_desc();
    sfu_producer *p = sfu_producer_new(&d, &pcfg, &epochs);
    ASSERT(p);
    ASSERT_EQ(p->nlayers, 3);
    ASSERT_EQ(epochs, 3);
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        sfu_rtp_hdr h;
        sfu_buf *b = build(pool, &t[i].pkt, &h);
        ASSERT(b);
        bool rtx = false, restarted = false;
        int layer = sfu_producer_find_ssrc(p, h.ssrc, &rtx);
        if (layer < 0)
            layer = sfu_producer_learn(p, &h, b->data, &epochs, &rtx, &restarted);
        sfu_buf_unref(b);
        if (layer != t[i].layer || (layer >= 0 && (rtx != t[i].rtx || restarted != t[i].restarted)))
            TEST_FAIL_("case %zu: layer %d rtx %d restarted %d, want %d %d %d", i, layer, rtx, restarted,
                       t[i].layer, t[i].rtx, t[i].restarted);
    }
    ASSERT_EQ(p->layers[1].ssrc, 0x400);
    ASSERT_EQ(p->layers[1].epoch, 4);   /* restarted: a new epoch */
    ASSERT_EQ(sfu_producer_layer_of_epoch(p, 4), 1);
    ASSERT_EQ(sfu_producer_layer_of_epoch(p, 2), -1);
    sfu_producer_free(p);
    sfu_buf_pool_free(pool);
    return 0;
}

/* Signaled SSRCs (a=ssrc-group:SIM) need no extension; a plain track has
 * one layer and learns its SSRC from any packet of its m-line. */
TEST(signaled_and_plain_tracks)
{
    uint32_t epochs = 0;
    sfu_track_desc d = video_desc();
    d.nlayers = 2;
    d.layers[0].ssrc = 0x10;
    d.layers[0].rtx_ssrc = 0x11;
    d.layers[1].ssrc = 0x20;
    sfu_producer *p = sfu_producer_new(&d, &pcfg, &epochs);
    ASSERT(p);
    bool rtx = true;
    ASSERT_EQ(sfu_producer_find_ssrc(p, 0x20, &rtx), 1);
    ASSERT(!rtx);
    ASSERT_EQ(sfu_producer_find_ssrc(p, 0x11, &rtx), 0);
    ASSERT(rtx);
    ASSERT(p->layers[0].cache && p->layers[1].cache && !p->layers[2].cache);
    sfu_producer_free(p);

    d = video_desc();
    d.remote_ssrc = 0x55;
    p = sfu_producer_new(&d, &pcfg, &epochs);
    ASSERT(p);
    ASSERT_EQ(p->nlayers, 1);
    ASSERT(!p->simulcast);
    ASSERT_EQ(sfu_producer_find_ssrc(p, 0x55, &rtx), 0);
    /* a renegotiation that changes the signaled SSRC restarts the stream */
    uint32_t before = p->layers[0].epoch;
    d.remote_ssrc = 0x66;
    ASSERT_EQ(sfu_producer_update(&p, &d, &epochs), 0);
    ASSERT_NE(p->layers[0].epoch, before);
    ASSERT_EQ(sfu_producer_find_ssrc(p, 0x66, &rtx), 0);
    sfu_producer_free(p);
    return 0;
}

/* An audio producer holds one layer (its only one); a renegotiation cannot
 * turn it into video, which has room for SFU_MAX_LAYERS. */
TEST(audio_holds_one_layer)
{
    uint32_t epochs = 0;
    sfu_track_desc d = { .kind = SFU_KIND_AUDIO, .recv = true, .codec = SFU_CODEC_OPUS, .pt = 111,
                         .clock_rate = 48000, .remote_ssrc = 0x77 };
    strcpy(d.mid, "0");
    d.nlayers = 3;      /* ignored for audio */
    sfu_producer *p = sfu_producer_new(&d, &pcfg, &epochs);
    ASSERT(p);
    ASSERT_EQ(p->nalloc, 1);
    ASSERT_EQ(p->nlayers, 1);
    ASSERT(!p->layers[0].cache);
    bool rtx = true;
    ASSERT_EQ(sfu_producer_find_ssrc(p, 0x77, &rtx), 0);
    d.remote_ssrc = 0x78;
    ASSERT_EQ(sfu_producer_update(&p, &d, &epochs), 0);
    ASSERT_EQ(p->nlayers, 1);
    ASSERT_EQ(sfu_producer_find_ssrc(p, 0x78, &rtx), 0);
    sfu_track_desc v = simulcast_desc();
    ASSERT_EQ(sfu_producer_update(&p, &v, &epochs), -SFU_EINVAL);
    ASSERT_EQ(p->nlayers, 1);
    ASSERT_EQ(p->desc.kind, SFU_KIND_AUDIO);
    sfu_producer_free(p);
    sfu_producer *vp = sfu_producer_new(&v, &pcfg, &epochs);
    ASSERT(vp);
    ASSERT_EQ(vp->nalloc, SFU_MAX_LAYERS);
    sfu_producer_free(vp);
    return 0;
}

/* A single video stream holds one layer (8.8 KB, not three); a
 * renegotiation to simulcast grows it, and every layer then works. */
TEST(single_video_grows_to_simulcast)
{
    uint32_t epochs = 0;
    sfu_track_desc d = video_desc();
    d.remote_ssrc = 0x55;
    sfu_producer *p = sfu_producer_new(&d, &pcfg, &epochs);
    ASSERT(p);
    ASSERT_EQ(p->nalloc, 1);
    ASSERT_EQ(p->nlayers, 1);
    ASSERT(p->layers[0].cache);
    sfu_track_desc v = simulcast_desc();
    ASSERT_EQ(sfu_producer_update(&p, &v, &epochs), 0);
    ASSERT_EQ(p->nalloc, SFU_MAX_LAYERS);
    ASSERT_EQ(p->nlayers, 3);
    ASSERT(p->simulcast);
    uint32_t e[3];
    for (unsigned i = 0; i < 3; i++) {
        ASSERT(p->layers[i].cache);
        ASSERT_EQ(p->layers[i].cache_packets, pcfg.rtx_cache_packets);
        e[i] = p->layers[i].epoch;
    }
    ASSERT(e[0] != e[1] && e[1] != e[2] && e[0] != e[2]);
    ASSERT(strcmp(p->layers[1].rid, "h") == 0);
    /* back to one stream: the layers stay allocated */
    ASSERT_EQ(sfu_producer_update(&p, &d, &epochs), 0);
    ASSERT_EQ(p->nlayers, 1);
    ASSERT_EQ(p->nalloc, SFU_MAX_LAYERS);
    bool rtx = true;
    ASSERT_EQ(sfu_producer_find_ssrc(p, 0x55, &rtx), 0);
    sfu_producer_free(p);
    return 0;
}

/* Hands the producer one packet the way the room does; takes `b`. */
static int feed_buf(sfu_producer *p, sfu_buf *b, const sfu_rtp_hdr h, sfu_time now, sfu_producer_verdict want)
{
    bool rtx = false, restarted = false;
    uint32_t epochs = 100;
    int layer = sfu_producer_find_ssrc(p, h.ssrc, &rtx);
    if (layer < 0)
        layer = sfu_producer_learn(p, &h, b->data, &epochs, &rtx, &restarted);
    sfu_media_pkt m;
    bool want_key;
    int rc = layer < 0 || sfu_producer_read(p, layer, b, &h, rtx, &m) < 0
                 ? -1 : (int)sfu_producer_handle_media(p, &m, rtx, now, &want_key) == (int)want ? 0 : -1;
    sfu_buf_unref(b);
    return rc;
}

static int feed(sfu_producer *p, sfu_buf_pool *pool, const pkt_spec *s, sfu_time now, sfu_producer_verdict want)
{
    sfu_rtp_hdr h;
    sfu_buf *b = build(pool, s, &h);
    return b ? feed_buf(p, b, h, now, want) : -1;
}

/* An H.264 packet of one rid layer: `hex`, then `filler` bytes (which
 * only a single NAL unit packet can take). */
static int feed_h264(sfu_producer *p, sfu_buf_pool *pool, uint32_t ssrc, uint16_t seq16, const char *rid,
                     const char *hex, size_t filler, sfu_time now)
{
    sfu_buf *b = sfu_buf_alloc(pool);
    sfu_rtp_ext_out ext[2] = { { EXT_MID, 1, (const uint8_t *)"0" },
                               { EXT_RID, (uint8_t)strlen(rid), (const uint8_t *)rid } };
    sfu_rtp_header_out ho = { false, PT, seq16, 0, ssrc, 2, ext };
    int hl = sfu_rtp_write_header(b->data, SFU_BUF_CAP, &ho);
    size_t len = test_unhex(hex, b->data + hl);
    memset(b->data + hl + len, 0xab, filler);
    b->len = (uint16_t)(hl + len + filler);
    sfu_rtp_hdr h;
    if (sfu_rtp_parse(b->data, b->len, &h) < 0) {
        sfu_buf_unref(b);
        return -1;
    }
    return feed_buf(p, b, h, now, SFU_PRODUCER_FORWARD);
}

/* Each layer has its own numbering, NACKs and keyframe requests, and they
 * name that layer's SSRC. */
TEST(per_layer_nacks_and_keyframe_requests)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(64);
    uint32_t epochs = 0;
    sfu_track_desc d = simulcast_desc();
    sfu_producer *p = sfu_producer_new(&d, &pcfg, &epochs);
    ASSERT(p);
    /* q: 1, 2, 4 (3 lost); f: 1, 2, 3 */
    static const struct { pkt_spec s; sfu_producer_verdict v; } in[] = {
        { { 0x100, PT, 1, 0, "q", NULL, true, 320, 180, 0 }, SFU_PRODUCER_FORWARD },
        { { 0x200, PT, 1, 0, "f", NULL, true, 1280, 720, 0 }, SFU_PRODUCER_FORWARD },
        { { 0x100, PT, 2, 0, NULL, NULL, false, 0, 0, 0 }, SFU_PRODUCER_FORWARD },
        { { 0x200, PT, 2, 0, NULL, NULL, false, 0, 0, 0 }, SFU_PRODUCER_FORWARD },
        { { 0x200, PT, 3, 0, NULL, NULL, false, 0, 0, 0 }, SFU_PRODUCER_FORWARD },
        { { 0x100, PT, 4, 0, NULL, NULL, false, 0, 0, 0 }, SFU_PRODUCER_FORWARD },
        { { 0x100, PT, 4, 0, NULL, NULL, false, 0, 0, 0 }, SFU_PRODUCER_DUPLICATE },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(in); i++)
        if (feed(p, pool, &in[i].s, SFU_MS(i), in[i].v) < 0)
            TEST_FAIL_("packet %zu", i);
    ASSERT_EQ(p->layers[2].width, 320);
    ASSERT_EQ(p->layers[0].height, 720);
    uint8_t buf[256];
    ASSERT_EQ(sfu_producer_build_nack(p, 0, 0xAA, SFU_MS(50), buf, sizeof buf), 0); /* f: nothing lost */
    int n = sfu_producer_build_nack(p, 2, 0xAA, SFU_MS(50), buf, sizeof buf);
    ASSERT_GT(n, 0);
    size_t off = 0;
    sfu_rtcp_common c;
    ASSERT_EQ(sfu_rtcp_next(buf, (size_t)n, &off, &c), 1);
    sfu_rtcp_nack nack;
    ASSERT_EQ(sfu_rtcp_nack_parse(&c, &nack), 0);
    ASSERT_EQ(nack.media_ssrc, 0x100);
    ASSERT_EQ(nack.count, 1);
    ASSERT_EQ(nack.seq16[0], 3);
    /* keyframe requests: to the layer's SSRC, throttled per layer */
    ASSERT(sfu_producer_want_keyframe(p, 0, SFU_MS(100)));
    ASSERT(!sfu_producer_want_keyframe(p, 0, SFU_MS(200)));     /* coalesced */
    ASSERT(sfu_producer_want_keyframe(p, 2, SFU_MS(200)));      /* another layer: its own throttle */
    ASSERT(!sfu_producer_want_keyframe(p, 1, SFU_MS(200)));     /* h: SSRC unknown, deferred */
    ASSERT(p->layers[1].kf_deferred);
    bool fir;
    n = sfu_producer_build_keyframe_request(p, 2, 0xAA, buf, sizeof buf, &fir);
    ASSERT_GT(n, 0);
    ASSERT(!fir);
    off = 0;
    ASSERT_EQ(sfu_rtcp_next(buf, (size_t)n, &off, &c), 1);
    uint32_t sender, media;
    ASSERT_EQ(sfu_rtcp_pli_parse(&c, &sender, &media), 0);
    ASSERT_EQ(media, 0x100);
    /* the coalesced request on f goes out when its interval ends */
    ASSERT_EQ(sfu_keyframe_req_poll_timeout(&p->layers[0].kf), SFU_MS(600));
    ASSERT(sfu_producer_keyframe_timeout(p, 0, SFU_MS(600), false));
    /* report blocks per known layer */
    sfu_rtcp_report_block rb;
    ASSERT(sfu_producer_report_block(p, 2, SFU_MS(700), &rb));
    ASSERT_EQ(rb.ssrc, 0x100);
    ASSERT_EQ(rb.cumulative_lost, 1);
    ASSERT(!sfu_producer_report_block(p, 1, SFU_MS(700), &rb));
    sfu_producer_free(p);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* A publisher whose path was dead for 3 s: what it sent into it is not
 * NACKed (its retransmissions would queue ahead of the keyframe in its
 * pacer), a keyframe is asked for instead; a short gap is NACKed. */
TEST(gap_after_dead_path_asks_for_keyframe)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(8);
    uint32_t epochs = 0;
    sfu_track_desc d = video_desc();
    d.remote_ssrc = 0x300;
    sfu_producer *p = sfu_producer_new(&d, &pcfg, &epochs);
    ASSERT(p);
    static const struct { uint16_t seq16; sfu_time at; bool key; size_t nacked; } in[] = {
        { 1, 0, false, 0 },                     /* a keyframe first (below) */
        { 2, SFU_MS(30), false, 0 },
        { 4, SFU_MS(60), false, 1 },            /* 3 lost: NACKed */
        { 90, SFU_MS(3060), true, 0 },          /* 5..89 sent into the dead path */
        { 92, SFU_MS(3090), false, 1 },         /* 91 lost on the new path: NACKed */
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(in); i++) {
        pkt_spec spec = { 0x300, PT, in[i].seq16, 0, NULL, NULL, i == 0, 0, 0, 0 };
        sfu_rtp_hdr h;
        sfu_buf *b = build(pool, &spec, &h);
        ASSERT(b);
        sfu_media_pkt m;
        bool want_key;
        ASSERT_EQ(sfu_producer_read(p, 0, b, &h, false, &m), 0);
        ASSERT_EQ(sfu_producer_handle_media(p, &m, false, in[i].at, &want_key), SFU_PRODUCER_FORWARD);
        sfu_buf_unref(b);
        if (want_key != in[i].key)
            TEST_FAIL_("packet %zu: want_keyframe %d vs %d", i, want_key, in[i].key);
        uint8_t buf[256];
        int n = sfu_producer_build_nack(p, 0, 0xAA, in[i].at + SFU_MS(20), buf, sizeof buf);
        ASSERT_GE(n, 0);
        size_t nacked = 0;
        if (n > 0) {
            size_t off = 0;
            sfu_rtcp_common c;
            sfu_rtcp_nack nack;
            ASSERT_EQ(sfu_rtcp_next(buf, (size_t)n, &off, &c), 1);
            ASSERT_EQ(sfu_rtcp_nack_parse(&c, &nack), 0);
            nacked = nack.count;
        }
        if (nacked != in[i].nacked)
            TEST_FAIL_("packet %zu: %zu NACKed vs %zu", i, nacked, in[i].nacked);
    }
    sfu_producer_free(p);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* Ranking: by VP8 keyframe size when every active layer has one, else by
 * bitrate; the signaled order does not matter. */
TEST(layers_are_ranked_by_size_then_bitrate)
{
    static const struct {
        uint16_t w[3], h[3];
        size_t filler[3];       /* bytes per packet, for the bitrate */
        uint8_t rank[3];
    } t[] = {
        { { 1280, 640, 320 }, { 720, 360, 180 }, { 10, 10, 10 }, { 2, 1, 0 } },
        { { 320, 1280, 640 }, { 180, 720, 360 }, { 10, 10, 10 }, { 0, 2, 1 } },
        { { 0, 0, 0 }, { 0, 0, 0 }, { 100, 900, 400 }, { 0, 2, 1 } },
        { { 0, 0, 0 }, { 0, 0, 0 }, { 900, 100, 400 }, { 1, 2, 0 } },
    };
    sfu_buf_pool *pool = sfu_buf_pool_new(64);
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        uint32_t epochs = 0;
        sfu_track_desc d = simulcast_desc();
        sfu_producer *p = sfu_producer_new(&d, &pcfg, &epochs);
        ASSERT(p);
        static const char *rids[] = { "f", "h", "q" };
        sfu_producer_update_bitrate(p, SFU_MS(1));
        for (uint16_t s = 1; s <= 10; s++)
            for (int l = 0; l < 3; l++) {
                pkt_spec ps = { 0x100 * (uint32_t)(l + 1), PT, s, 0, rids[l], NULL, s == 1 && t[i].w[l], t[i].w[l],
                                t[i].h[l], t[i].filler[l] };
                if (feed(p, pool, &ps, SFU_MS(10 * s), SFU_PRODUCER_FORWARD) < 0)
                    TEST_FAIL_("case %zu: packet %u of layer %d", i, s, l);
            }
        sfu_producer_update_bitrate(p, SFU_MS(200));
        for (int q = 0; q < 3; q++)
            if (sfu_producer_layer_at(p, q) != t[i].rank[q])
                TEST_FAIL_("case %zu: quality %d is layer %d, want %d", i, q, sfu_producer_layer_at(p, q),
                           t[i].rank[q]);
        ASSERT_EQ(sfu_producer_quality_of(p, t[i].rank[2]), 2);
        ASSERT(sfu_producer_layer_active(p, 0, SFU_MS(200)));
        ASSERT(!sfu_producer_layer_active(p, 0, SFU_MS(200) + SFU_PRODUCER_LAYER_IDLE));
        ASSERT_GT(sfu_producer_bitrate(p), 0);
        sfu_producer_free(p);
    }
    sfu_buf_pool_free(pool);
    return 0;
}

/* H.264 layers have no size in their slices: the SPS that Chromium sends
 * in an STAP-A with each IDR says it, and ranks them against the bitrate. */
TEST(h264_layers_are_ranked_by_sps_size)
{
    /* STAP-A: SPS (libx264, the size below), PPS, IDR slice start */
    static const char *key[3] = {
        "78 001a 6764001facd9405005ba10000003001000000303c0f183196000 0004 68ce3c80 0002 6588",
        "78 001a 6764001eacd940a02ff9610000030001000003003c0f162d9600 0004 68ce3c80 0002 6588",
        "78 001a 6764000dacd941419f9e10000003001000000303c0f142996000 0004 68ce3c80 0002 6588",
    };
    static const uint16_t w[3] = { 1280, 640, 320 }, h[3] = { 720, 360, 180 };
    static const size_t filler[3] = { 100, 900, 400 }; /* by bitrate: h, q, f */
    sfu_buf_pool *pool = sfu_buf_pool_new(64);
    uint32_t epochs = 0;
    sfu_track_desc d = simulcast_desc();
    d.codec = SFU_CODEC_H264;
    sfu_producer *p = sfu_producer_new(&d, &pcfg, &epochs);
    ASSERT(p);
    static const char *rids[] = { "f", "h", "q" };
    sfu_producer_update_bitrate(p, SFU_MS(1));
    for (uint16_t s = 1; s <= 10; s++)
        for (int l = 0; l < 3; l++) {
            if (feed_h264(p, pool, 0x100 * (uint32_t)(l + 1), s, rids[l], s == 1 ? key[l] : "41 9a", s == 1 ? 0 : filler[l],
                          SFU_MS(10 * s)) < 0)
                TEST_FAIL_("packet %u of layer %d", s, l);
        }
    sfu_producer_update_bitrate(p, SFU_MS(200));
    for (int l = 0; l < 3; l++) {
        ASSERT_EQ(p->layers[l].width, w[l]);
        ASSERT_EQ(p->layers[l].height, h[l]);
    }
    ASSERT_EQ(sfu_producer_layer_at(p, 0), 2);
    ASSERT_EQ(sfu_producer_layer_at(p, 1), 1);
    ASSERT_EQ(sfu_producer_layer_at(p, 2), 0);
    sfu_producer_free(p);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* The keyframe cache of a layer: a replay range from its last keyframe;
 * cached packets come back RTX-unwrapped; padding uses up a number. */
TEST(replay_range_and_cache)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(64);
    uint32_t epochs = 0;
    sfu_track_desc d = video_desc();
    sfu_producer *p = sfu_producer_new(&d, &pcfg, &epochs);
    ASSERT(p);
    static const pkt_spec in[] = {
        { 0x77, PT, 10, 1000, NULL, NULL, false, 0, 0, 0 },
        { 0x77, PT, 11, 2000, NULL, NULL, true, 640, 480, 0 },
        { 0x77, PT, 13, 3000, NULL, NULL, false, 0, 0, 0 },
        { 0x78, RTX_PT, 12, 2000, NULL, NULL, false, 0, 0, 0 },   /* 12 repaired */
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(in); i++)
        if (feed(p, pool, &in[i], SFU_MS(10 * i), SFU_PRODUCER_FORWARD) < 0)
            TEST_FAIL_("packet %zu", i);
    uint64_t from, to;
    uint32_t anchor;
    ASSERT(sfu_producer_replay_range(p, 0, SFU_MS(100), &from, &to, &anchor));
    ASSERT_EQ(to - from, 2);
    ASSERT_EQ(anchor, 3000);
    sfu_rtp_hdr h;
    sfu_media_pkt m;
    ASSERT_EQ(sfu_producer_cached(p, 0, from + 1, SFU_MS(100), &h, &m), 0);
    ASSERT_EQ(m.seq16, 12);     /* unwrapped from the RTX packet */
    ASSERT_EQ(sfu_producer_cached(p, 0, from + 5, SFU_MS(100), &h, &m), -SFU_ENOTFOUND);
    ASSERT(!sfu_producer_replay_range(p, 0, SFU_SEC(2), &from, &to, &anchor)); /* too old */
    sfu_rtp_hdr pad = { .ssrc = 0x77, .seq16 = 14, .ts = 4000 };
    uint64_t seq;
    ASSERT_EQ(sfu_producer_handle_padding(p, 0, &pad, SFU_MS(200), &seq), 0);
    ASSERT_EQ(seq, to + 1);
    ASSERT_EQ(sfu_producer_handle_padding(p, 0, &pad, SFU_MS(200), &seq), -SFU_ESTATE);
    sfu_producer_free(p);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* A stream whose first picture is no keyframe (the SFU came in mid-stream,
 * as on a relay leg whose owner's first keyframe went out before this node
 * had its keys) asks for one at once, before any viewer does; once per
 * stream, decided by the first packet that starts a picture (a keyframe's
 * other packets may come first, reordered), again after a restart. */
TEST(first_picture_not_keyframe_asks_for_one)
{
    static const struct {
        uint32_t ssrc;
        uint16_t seq16;
        bool start, key, want;
    } in[] = {
        { 0x500, 10, false, false, false },     /* inside a picture: undecided */
        { 0x500, 9, true, true, false },        /* the keyframe's start, reordered: decided */
        { 0x500, 11, true, false, false },
        { 0x600, 1, false, false, false },      /* a new stream (restart): undecided */
        { 0x600, 2, true, false, true },        /* its first picture is no keyframe: ask */
        { 0x600, 3, false, false, false },
        { 0x600, 4, true, false, false },       /* once */
        { 0x600, 5, true, true, false },
    };
    sfu_buf_pool *pool = sfu_buf_pool_new(8);
    uint32_t epochs = 0;
    sfu_track_desc d = video_desc();
    sfu_producer *p = sfu_producer_new(&d, &pcfg, &epochs);
    ASSERT(p);
    for (size_t i = 0; i < SFU_ARRAY_LEN(in); i++) {
        pkt_spec spec = { in[i].ssrc, PT, in[i].seq16, 3000u * in[i].seq16, NULL, NULL, in[i].key, 0, 0, 0 };
        sfu_rtp_hdr h;
        sfu_buf *b = build(pool, &spec, &h);
        ASSERT(b);
        if (!in[i].start)
            b->data[h.payload_off] = 0x00; /* S = 0: not a picture's first packet */
        bool rtx = false, restarted = false;
        int layer = sfu_producer_find_ssrc(p, h.ssrc, &rtx);
        if (layer < 0)
            layer = sfu_producer_learn(p, &h, b->data, &epochs, &rtx, &restarted);
        ASSERT_EQ(layer, 0);
        sfu_media_pkt m;
        bool want_key;
        ASSERT_EQ(sfu_producer_read(p, 0, b, &h, false, &m), 0);
        ASSERT_EQ(sfu_producer_handle_media(p, &m, false, SFU_MS(10) * (sfu_time)i, &want_key),
                  SFU_PRODUCER_FORWARD);
        sfu_buf_unref(b);
        if (want_key != in[i].want)
            TEST_FAIL_("packet %zu: want_keyframe %d vs %d", i, want_key, in[i].want);
    }
    sfu_producer_free(p);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

TEST_LIST(TEST_ENTRY(layers_are_told_apart_by_ssrc_then_rid), TEST_ENTRY(signaled_and_plain_tracks), TEST_ENTRY(audio_holds_one_layer), TEST_ENTRY(single_video_grows_to_simulcast),
          TEST_ENTRY(per_layer_nacks_and_keyframe_requests), TEST_ENTRY(gap_after_dead_path_asks_for_keyframe), TEST_ENTRY(layers_are_ranked_by_size_then_bitrate),
          TEST_ENTRY(h264_layers_are_ranked_by_sps_size),
          TEST_ENTRY(replay_range_and_cache), TEST_ENTRY(first_picture_not_keyframe_asks_for_one))
