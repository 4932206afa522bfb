/* A published track: its layers and what the SFU does with what it
 * receives on them. See producer.h. */
#include "sfu/core/producer.h"

#include "sfu/core/h264.h"
#include "sfu/core/h264_sps.h"
#include "sfu/core/rtcp_fb.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_RTX_PACKETS 1024
#define NACKS_PER_PACKET 64     /* 64 FCIs at worst: fits an output head */

static bool rerank(sfu_producer *p, sfu_time now);

bool sfu_producer_sees_keyframes(const sfu_producer *p)
{
    const sfu_track_desc *d = &p->desc;
    return d->kind == SFU_KIND_VIDEO && (d->codec == SFU_CODEC_VP8 || d->codec == SFU_CODEC_H264);
}

static void layer_deinit(sfu_producer_layer *l)
{
    sfu_rtx_cache_free(l->cache);
    l->cache = NULL;
}

static int layer_init(sfu_producer *p, sfu_producer_layer *l, const sfu_producer_config *cfg, uint32_t *epochs)
{
    const sfu_track_desc *d = &p->desc;
    memset(l, 0, sizeof *l);
    l->epoch = ++*epochs;
    sfu_nack_config nc = sfu_nack_config_default;
    /* What a publisher sent into a dead path is not asked for again: its
     * retransmissions would go ahead of the keyframe that repairs it. */
    nc.max_silence = nc.max_age;
    if (!d->fb_nack)
        nc.max_retries = 0; /* gaps only give up, nothing is asked for */
    sfu_nack_gen_init(&l->nack, &nc);
    sfu_keyframe_req_init(&l->kf, cfg->keyframe_min_interval);
    uint32_t packets = cfg->rtx_cache_packets ? cfg->rtx_cache_packets : DEFAULT_RTX_PACKETS;
    uint32_t replay_max = packets < SFU_PRODUCER_REPLAY_MAX_PACKETS ? packets : SFU_PRODUCER_REPLAY_MAX_PACKETS;
    sfu_keyframe_cache_init(&l->kcache, sfu_producer_sees_keyframes(p) ? cfg->keyframe_cache_max_age : 0,
                            replay_max);
    sfu_sr_translate_init(&l->sr, d->clock_rate);
    l->cache_packets = d->kind == SFU_KIND_VIDEO ? packets : 0;
    return 0;
}

/* Caches only for the layers in use. */
static int alloc_caches(sfu_producer *p)
{
    for (unsigned i = 0; i < p->nlayers; i++) {
        sfu_producer_layer *l = &p->layers[i];
        if (l->cache_packets && !l->cache) {
            l->cache = sfu_rtx_cache_new(l->cache_packets, SFU_PRODUCER_RTX_MAX_AGE);
            if (!l->cache)
                return -SFU_ENOMEM;
        }
    }
    return 0;
}

/* Layers from the description: simulcast encodings, or the one stream. */
static void layers_from_desc(sfu_producer *p, const sfu_track_desc *d)
{
    if (d->kind == SFU_KIND_VIDEO && d->nlayers > 1 && d->nlayers <= SFU_MAX_LAYERS) {
        p->nlayers = d->nlayers;
        p->simulcast = true;
        for (unsigned i = 0; i < d->nlayers; i++) {
            sfu_producer_layer *l = &p->layers[i];
            memcpy(l->rid, d->layers[i].rid, SFU_RID_MAX);
            l->rid[SFU_RID_MAX - 1] = '\0';
            l->ssrc = d->layers[i].ssrc;
            l->rtx_ssrc = d->layers[i].rtx_ssrc;
        }
    } else {
        p->nlayers = 1;
        p->simulcast = false;
        p->layers[0].rid[0] = '\0';
        p->layers[0].ssrc = d->remote_ssrc;
        p->layers[0].rtx_ssrc = d->remote_rtx_ssrc;
    }
    for (unsigned q = 0; q < SFU_MAX_LAYERS; q++)
        p->rank[q] = (uint8_t)(q < p->nlayers ? q : 0);
}

sfu_producer *sfu_producer_new(const sfu_track_desc *d, const sfu_producer_config *cfg, uint32_t *epochs)
{
    if (!d || !cfg || !epochs || !d->recv)
        return NULL;
    /* layers_from_desc and update_layers give audio one layer only; a
     * single video stream gets its layers when simulcast comes (grow). */
    unsigned nalloc = d->kind == SFU_KIND_VIDEO && d->nlayers > 1 ? SFU_MAX_LAYERS : 1;
    sfu_producer *p = calloc(1, sizeof *p + nalloc * sizeof p->layers[0]);
    if (!p)
        return NULL;
    p->nalloc = (uint8_t)nalloc;
    p->cfg = *cfg;
    p->desc = *d;
    for (unsigned i = 0; i < p->nalloc; i++)
        if (layer_init(p, &p->layers[i], cfg, epochs) < 0)
            goto err;
    layers_from_desc(p, d);
    if (alloc_caches(p) < 0)
        goto err;
    return p;
err:
    sfu_producer_free(p);
    return NULL;
}

void sfu_producer_free(sfu_producer *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->nalloc; i++)
        layer_deinit(&p->layers[i]);
    free(p);
}

/* A new stream on a layer (publisher restart, new SSRC): everything about
 * the old stream goes. */
static void layer_restart(sfu_producer_layer *l, uint32_t ssrc, uint32_t *epochs)
{
    l->ssrc = ssrc;
    l->epoch = ++*epochs;
    l->unwrap = (sfu_seq_unwrapper){ 0 };
    sfu_nack_gen_reset(&l->nack);
    if (l->cache)
        sfu_rtx_cache_clear(l->cache);
    sfu_keyframe_cache_reset(&l->kcache);
    l->sr.have_sr = false;
    memset(&l->rx, 0, sizeof l->rx);
    l->width = l->height = 0;
    l->stream_seen = false;
}

static void update_layers(sfu_producer *p, const sfu_track_desc *d, uint32_t *epochs);

/* Room for SFU_MAX_LAYERS: the producer moves (realloc); the new layers
 * are fresh, with epochs of their own. */
static int grow(sfu_producer **pp, uint32_t *epochs)
{
    sfu_producer *p = realloc(*pp, sizeof *p + SFU_MAX_LAYERS * sizeof p->layers[0]);
    if (!p)
        return -SFU_ENOMEM;
    *pp = p;
    for (unsigned i = p->nalloc; i < SFU_MAX_LAYERS; i++)
        layer_init(p, &p->layers[i], &p->cfg, epochs);
    p->nalloc = SFU_MAX_LAYERS;
    return 0;
}

int sfu_producer_update(sfu_producer **pp, const sfu_track_desc *d, uint32_t *epochs)
{
    if (d->kind != (*pp)->desc.kind)
        return -SFU_EINVAL;     /* its layers are sized by kind; the room makes a new one */
    if (d->kind == SFU_KIND_VIDEO && d->nlayers > 1 && (*pp)->nalloc < SFU_MAX_LAYERS &&
        grow(pp, epochs) < 0)
        return -SFU_ENOMEM;
    update_layers(*pp, d, epochs);
    return alloc_caches(*pp);
}

static void update_layers(sfu_producer *p, const sfu_track_desc *d, uint32_t *epochs)
{
    sfu_track_desc old = p->desc;
    p->desc = *d;
    if (d->kind == SFU_KIND_VIDEO && d->nlayers > 1 && d->nlayers <= SFU_MAX_LAYERS) {
        /* Simulcast: a layer keeps its state when its rid (or, without
         * rids, its position) stays; a changed signaled SSRC restarts it. */
        sfu_producer_layer keep[SFU_MAX_LAYERS];
        memcpy(keep, p->layers, sizeof keep);
        bool used[SFU_MAX_LAYERS] = { false };
        int from[SFU_MAX_LAYERS];
        for (unsigned i = 0; i < d->nlayers; i++) {
            from[i] = -1;
            for (unsigned j = 0; j < SFU_MAX_LAYERS && from[i] < 0; j++)
                if (!used[j] && d->layers[i].rid[0] && strncmp(keep[j].rid, d->layers[i].rid, SFU_RID_MAX) == 0)
                    from[i] = (int)j;
            if (from[i] < 0 && !d->layers[i].rid[0] && !used[i])
                from[i] = (int)i;
            if (from[i] >= 0)
                used[from[i]] = true;
        }
        /* Layers not carried over take the unused slots' storage. */
        for (unsigned i = 0; i < d->nlayers; i++) {
            if (from[i] >= 0)
                continue;
            for (unsigned j = 0; j < SFU_MAX_LAYERS; j++)
                if (!used[j]) {
                    used[j] = true;
                    from[i] = (int)j;
                    layer_restart(&keep[j], d->layers[i].ssrc, epochs);
                    keep[j].rtx_ssrc = d->layers[i].rtx_ssrc;
                    break;
                }
        }
        unsigned n = 0;
        for (unsigned i = 0; i < d->nlayers; i++)
            p->layers[n++] = keep[from[i]];
        for (unsigned j = 0; j < SFU_MAX_LAYERS; j++)
            if (!used[j])
                p->layers[n++] = keep[j];
        p->nlayers = d->nlayers;
        p->simulcast = true;
        for (unsigned i = 0; i < d->nlayers; i++) {
            sfu_producer_layer *l = &p->layers[i];
            memcpy(l->rid, d->layers[i].rid, SFU_RID_MAX);
            l->rid[SFU_RID_MAX - 1] = '\0';
            if (d->layers[i].ssrc && d->layers[i].ssrc != l->ssrc)
                layer_restart(l, d->layers[i].ssrc, epochs);
            if (d->layers[i].rtx_ssrc)
                l->rtx_ssrc = d->layers[i].rtx_ssrc;
        }
        for (unsigned q = 0; q < SFU_MAX_LAYERS; q++)
            p->rank[q] = (uint8_t)(q < p->nlayers ? q : 0);
        return;
    }
    p->nlayers = 1;
    p->simulcast = false;
    p->layers[0].rid[0] = '\0';
    if (d->remote_ssrc && d->remote_ssrc != old.remote_ssrc)
        layer_restart(&p->layers[0], d->remote_ssrc, epochs);
    if (d->remote_rtx_ssrc)
        p->layers[0].rtx_ssrc = d->remote_rtx_ssrc;
    for (unsigned q = 0; q < SFU_MAX_LAYERS; q++)
        p->rank[q] = 0;
}

int sfu_producer_find_ssrc(const sfu_producer *p, uint32_t ssrc, bool *is_rtx)
{
    for (unsigned i = 0; i < p->nlayers; i++) {
        const sfu_producer_layer *l = &p->layers[i];
        if (l->ssrc && l->ssrc == ssrc) {
            *is_rtx = false;
            return (int)i;
        }
        if (l->rtx_ssrc && l->rtx_ssrc == ssrc) {
            *is_rtx = true;
            return (int)i;
        }
    }
    return -1;
}

/* The layer whose rid is the extension's value (RFC 8852 3.3). */
static int layer_by_rid(const sfu_producer *p, const uint8_t *rid, uint8_t len)
{
    for (unsigned i = 0; i < p->nlayers; i++)
        if (len > 0 && strnlen(p->layers[i].rid, SFU_RID_MAX) == len && memcmp(p->layers[i].rid, rid, len) == 0)
            return (int)i;
    return -1;
}

int sfu_producer_learn(sfu_producer *p, const sfu_rtp_hdr *h, const uint8_t *pkt, uint32_t *epochs,
                       bool *is_rtx, bool *restarted)
{
    const sfu_track_desc *d = &p->desc;
    uint8_t len = 0;
    const uint8_t *rrid = d->ext.repaired_rid ? sfu_rtp_ext_find(h, pkt, d->ext.repaired_rid, &len) : NULL;
    uint8_t rrid_len = len;
    const uint8_t *rid = d->ext.rid ? sfu_rtp_ext_find(h, pkt, d->ext.rid, &len) : NULL;
    *restarted = false;
    *is_rtx = (d->rtx_pt && h->pt == d->rtx_pt && d->rtx_pt != d->pt) || rrid;
    int layer = 0;
    if (p->simulcast) {
        layer = *is_rtx ? (rrid ? layer_by_rid(p, rrid, rrid_len) : -1) : (rid ? layer_by_rid(p, rid, len) : -1);
        if (layer < 0)
            return -1; /* cannot tell which encoding this is */
    }
    sfu_producer_layer *l = &p->layers[layer];
    if (*is_rtx) {
        l->rtx_ssrc = h->ssrc;
    } else if (!l->ssrc) {
        l->ssrc = h->ssrc;
    } else if (l->ssrc != h->ssrc) {
        layer_restart(l, h->ssrc, epochs);
        *restarted = true;
    }
    return layer;
}

int sfu_producer_layer_of_epoch(const sfu_producer *p, uint32_t epoch)
{
    for (unsigned i = 0; i < p->nlayers; i++)
        if (p->layers[i].epoch == epoch)
            return (int)i;
    return -1;
}

static void inspect_payload(const sfu_track_desc *d, sfu_media_pkt *m)
{
    const uint8_t *payload = m->buf->data + m->payload_off;
    m->keyframe = true; /* audio, and codecs we cannot look into: no gating */
    m->is_red = d->red_pt && m->hdr->pt == d->red_pt;
    if (m->is_red)
        m->red_ok = sfu_red_parse(payload, m->payload_len, &m->red) == 0 &&
                    sfu_red_is_single_codec(&m->red, d->pt);
    if (d->codec == SFU_CODEC_VP8) {
        m->has_vp8 = sfu_vp8_parse(payload, m->payload_len, &m->vp8) == 0;
        m->keyframe = m->has_vp8 && m->vp8.keyframe;
    } else if (d->codec == SFU_CODEC_H264) {
        sfu_h264_info info;
        m->keyframe = sfu_h264_parse(payload, m->payload_len, &info) == 0 && sfu_h264_is_keyframe(&info);
    }
}

int sfu_producer_read(const sfu_producer *p, int layer, sfu_buf *buf, const sfu_rtp_hdr *h, bool is_rtx,
                      sfu_media_pkt *m)
{
    *m = (sfu_media_pkt){ .buf = buf, .hdr = h, .layer = (uint8_t)layer, .seq16 = h->seq16, .ts = h->ts,
                          .marker = h->marker, .payload_off = h->payload_off, .payload_len = h->payload_len };
    if (is_rtx) {
        if (sfu_rtx_unwrap_osn(h, buf->data, &m->seq16) < 0)
            return -SFU_EMALFORMED;
        m->payload_off += 2;
        m->payload_len -= 2;
    }
    inspect_payload(&p->desc, m);
    return 0;
}

/* The frame size a keyframe declares: the VP8 keyframe header, or an
 * H.264 SPS carried whole in this packet (Chromium sends SPS and PPS in an
 * STAP-A before the IDR slice). */
static bool keyframe_size(const sfu_producer *p, const sfu_media_pkt *m, uint16_t *w, uint16_t *h)
{
    const uint8_t *payload = m->buf->data + m->payload_off;
    if (m->has_vp8)
        return sfu_vp8_keyframe_size(payload + m->vp8.desc_len, (size_t)m->payload_len - m->vp8.desc_len, w,
                                     h) == 0;
    const uint8_t *nal;
    size_t len;
    return p->desc.codec == SFU_CODEC_H264 && !m->is_red &&
           sfu_h264_find_sps(payload, m->payload_len, &nal, &len) == 0 && sfu_h264_sps_size(nal, len, w, h) == 0;
}

/* Whether a packet tells if the stream's first picture is a keyframe: a
 * keyframe's start, or the start of another picture (VP8: S and partition
 * 0; a keyframe's other packets may come first, reordered). H.264 packets
 * count as they come (a reordered start costs one spare request). */
static bool starts_picture(const sfu_producer *p, const sfu_media_pkt *m)
{
    if (m->keyframe)
        return true;
    if (m->has_vp8)
        return m->vp8.start && m->vp8.pid == 0;
    return p->desc.codec == SFU_CODEC_H264 && !m->is_red;
}

sfu_producer_verdict sfu_producer_handle_media(sfu_producer *p, sfu_media_pkt *m, bool resent, sfu_time now,
                                               bool *want_keyframe)
{
    sfu_producer_layer *l = &p->layers[m->layer];
    *want_keyframe = false;
    m->seq = sfu_seq_unwrap(&l->unwrap, m->seq16);
    sfu_nack_result r = sfu_nack_gen_handle_packet(&l->nack, m->seq, now);
    if (r == SFU_NACK_DUPLICATE)
        return SFU_PRODUCER_DUPLICATE;
    if (r == SFU_NACK_TOO_OLD)
        return SFU_PRODUCER_TOO_OLD;
    *want_keyframe = sfu_nack_gen_take_keyframe_request(&l->nack);
    if (!l->stream_seen && sfu_producer_sees_keyframes(p) && starts_picture(p, m)) {
        l->stream_seen = true;
        *want_keyframe |= !m->keyframe;
    }
    sfu_rx_stats_update(&l->rx, m->seq, m->ts, p->desc.clock_rate, resent || r == SFU_NACK_RECOVERED, now);
    l->bytes += m->buf->len;
    if (m->has_vp8 && m->vp8.has_tid) {
        l->has_tid = true;
        l->tid_bytes[m->vp8.tid & 3] += m->buf->len;
    }
    l->have_media = true;
    l->last_media_at = now;
    if (l->cache)
        (void)sfu_rtx_cache_put(l->cache, m->seq, m->buf, now);
    if (m->is_red && !m->red_ok)
        return SFU_PRODUCER_BAD_RED;
    if (m->keyframe && sfu_producer_sees_keyframes(p)) {
        sfu_keyframe_req_keyframe_received(&l->kf);
        sfu_keyframe_cache_handle_keyframe(&l->kcache, m->seq, m->ts, now);
        uint16_t w, hgt;
        if (keyframe_size(p, m, &w, &hgt) && (w != l->width || hgt != l->height)) {
            l->width = w;
            l->height = hgt;
            if (p->nlayers > 1)
                (void)rerank(p, now);
        }
    }
    return SFU_PRODUCER_FORWARD;
}

int sfu_producer_handle_padding(sfu_producer *p, int layer, const sfu_rtp_hdr *h, sfu_time now, uint64_t *seq)
{
    sfu_producer_layer *l = &p->layers[layer];
    *seq = sfu_seq_unwrap(&l->unwrap, h->seq16);
    if (sfu_nack_gen_handle_packet(&l->nack, *seq, now) >= SFU_NACK_DUPLICATE)
        return -SFU_ESTATE;
    sfu_rx_stats_update(&l->rx, *seq, h->ts, p->desc.clock_rate, true, now);
    return 0;
}

int sfu_producer_cached(const sfu_producer *p, int layer, uint64_t seq, sfu_time now, sfu_rtp_hdr *h,
                        sfu_media_pkt *m)
{
    const sfu_producer_layer *l = &p->layers[layer];
    sfu_buf *buf = l->cache ? sfu_rtx_cache_get(l->cache, seq, now) : NULL;
    if (!buf)
        return -SFU_ENOTFOUND;
    if (sfu_rtp_parse(buf->data, buf->len, h) < 0)
        return -SFU_EMALFORMED;
    const sfu_track_desc *d = &p->desc;
    bool rtx = (l->rtx_ssrc && h->ssrc == l->rtx_ssrc) || (d->rtx_pt && h->pt == d->rtx_pt && d->rtx_pt != d->pt);
    if (sfu_producer_read(p, layer, buf, h, rtx, m) < 0)
        return -SFU_EMALFORMED;
    m->seq = seq;
    return 0;
}

sfu_time sfu_producer_cached_age(const sfu_producer *p, int layer, uint64_t seq, sfu_time now)
{
    const sfu_producer_layer *l = &p->layers[layer];
    return l->cache ? sfu_rtx_cache_age(l->cache, seq, now) : -1;
}

/* The RTP timestamp of the newest cached packet in [from, to]. */
static bool newest_cached_ts(const sfu_producer_layer *l, uint64_t from, uint64_t to, sfu_time now, uint32_t *ts)
{
    for (uint64_t q = to + 1; q-- > from;) {
        sfu_buf *buf = sfu_rtx_cache_get(l->cache, q, now);
        sfu_rtp_hdr h;
        if (buf && sfu_rtp_parse(buf->data, buf->len, &h) == 0) {
            *ts = h.ts;
            return true;
        }
    }
    return false;
}

bool sfu_producer_replay_range(const sfu_producer *p, int layer, sfu_time now, uint64_t *from, uint64_t *to,
                               uint32_t *anchor_ts)
{
    const sfu_producer_layer *l = &p->layers[layer];
    *to = l->unwrap.highest;
    return l->cache && sfu_keyframe_cache_range(&l->kcache, *to, now, from) &&
           sfu_rtx_cache_get(l->cache, *from, now) && newest_cached_ts(l, *from, *to, now, anchor_ts);
}

bool sfu_producer_want_keyframe(sfu_producer *p, int layer, sfu_time now)
{
    sfu_producer_layer *l = &p->layers[layer];
    if (!l->ssrc) {
        l->kf_deferred = true;
        return false;
    }
    return sfu_keyframe_req_want(&l->kf, now);
}

void sfu_producer_defer_keyframe(sfu_producer *p, int layer) { p->layers[layer].kf_deferred = true; }

void sfu_producer_path_changed(sfu_producer *p)
{
    for (unsigned i = 0; i < p->nlayers; i++)
        sfu_keyframe_req_path_changed(&p->layers[i].kf);
}

int sfu_producer_build_keyframe_request(sfu_producer *p, int layer, uint32_t sender_ssrc, uint8_t *dst,
                                        size_t cap, bool *is_fir)
{
    const sfu_track_desc *d = &p->desc;
    sfu_producer_layer *l = &p->layers[layer];
    *is_fir = false;
    if (d->fb_pli)
        return sfu_rtcp_pli_build(dst, cap, sender_ssrc, l->ssrc);
    if (!d->fb_fir)
        return 0;
    *is_fir = true;
    sfu_rtcp_fir_entry e = { l->ssrc, sfu_keyframe_req_fir_seq(&l->kf) };
    return sfu_rtcp_fir_build(dst, cap, sender_ssrc, &e, 1);
}

int sfu_producer_build_nack(sfu_producer *p, int layer, uint32_t sender_ssrc, sfu_time now, uint8_t *dst,
                            size_t cap)
{
    sfu_producer_layer *l = &p->layers[layer];
    uint64_t seqs[NACKS_PER_PACKET];
    size_t n = sfu_nack_gen_handle_timeout(&l->nack, now, seqs, NACKS_PER_PACKET);
    if (n == 0)
        return 0;
    uint16_t seq16[NACKS_PER_PACKET];
    for (size_t i = 0; i < n; i++)
        seq16[i] = (uint16_t)seqs[i];
    return sfu_rtcp_nack_build(dst, cap, sender_ssrc, l->ssrc, seq16, n);
}

bool sfu_producer_keyframe_timeout(sfu_producer *p, int layer, sfu_time now, bool waiting)
{
    sfu_producer_layer *l = &p->layers[layer];
    /* A gap the SFU cannot repair: only a fresh keyframe helps. */
    bool lost = sfu_nack_gen_take_keyframe_request(&l->nack);
    if (!l->ssrc) {
        l->kf_deferred |= lost;
        return false;
    }
    /* A request that was lost, or asked for before the SSRC was known, is
     * repeated while a viewer still waits (throttled like any other). */
    bool deferred = l->kf_deferred;
    l->kf_deferred = false;
    if (lost || (deferred && waiting) || (!l->kf.pending && waiting))
        return sfu_keyframe_req_want(&l->kf, now);
    return sfu_keyframe_req_handle_timeout(&l->kf, now);
}

static sfu_time min_time(sfu_time a, sfu_time b) { return a < b ? a : b; }

sfu_time sfu_producer_poll_timeout(const sfu_producer *p)
{
    sfu_time t = SFU_TIME_NEVER;
    for (unsigned i = 0; i < p->nlayers; i++) {
        const sfu_producer_layer *l = &p->layers[i];
        if (l->kf_deferred && l->ssrc)
            return 0; /* due at once */
        t = min_time(t, sfu_nack_gen_poll_timeout(&l->nack));
        t = min_time(t, sfu_keyframe_req_poll_timeout(&l->kf));
    }
    return t;
}

bool sfu_producer_report_block(sfu_producer *p, int layer, sfu_time now, sfu_rtcp_report_block *b)
{
    sfu_producer_layer *l = &p->layers[layer];
    return l->ssrc && sfu_rx_stats_block(&l->rx, l->ssrc, l->unwrap.highest, now, b);
}

void sfu_producer_handle_sr(sfu_producer *p, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts, sfu_time now)
{
    for (unsigned i = 0; i < p->nlayers; i++) {
        sfu_producer_layer *l = &p->layers[i];
        if (l->ssrc && l->ssrc == ssrc) {
            sfu_sr_translate_handle_sr(&l->sr, ntp, rtp_ts, now);
            sfu_rx_stats_handle_sr(&l->rx, ntp, now);
        }
    }
}

int sfu_producer_sr_get(const sfu_producer *p, int layer, sfu_time now, uint32_t ts_off, uint64_t *ntp,
                        uint32_t *rtp_ts)
{
    return sfu_sr_translate_get(&p->layers[layer].sr, now, ts_off, ntp, rtp_ts);
}

/* Quality order: frame size once every layer has sent a keyframe whose
 * size we read (VP8 header, H.264 SPS), else bitrate once one is measured, else unchanged;
 * ties keep the current order. */
static bool rerank(sfu_producer *p, sfu_time now)
{
    (void)now;
    bool by_size = true, any_rate = false;
    for (unsigned i = 0; i < p->nlayers; i++) {
        by_size &= p->layers[i].width != 0;
        any_rate |= p->layers[i].bitrate_bps != 0;
    }
    if (!by_size && !any_rate)
        return false;
    uint64_t key[SFU_MAX_LAYERS];
    for (unsigned i = 0; i < p->nlayers; i++) {
        const sfu_producer_layer *l = &p->layers[i];
        key[i] = by_size ? (uint64_t)l->width * l->height : l->bitrate_bps;
    }
    uint8_t order[SFU_MAX_LAYERS];
    for (unsigned i = 0; i < p->nlayers; i++)
        order[i] = p->rank[i];
    /* insertion sort of the current order: stable, so equal keys keep it */
    for (unsigned i = 1; i < p->nlayers; i++) {
        uint8_t v = order[i];
        unsigned j = i;
        while (j > 0 && key[order[j - 1]] > key[v]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    bool changed = memcmp(p->rank, order, p->nlayers) != 0;
    memcpy(p->rank, order, p->nlayers);
    p->rank_changed |= changed;
    return changed;
}

void sfu_producer_update_bitrate(sfu_producer *p, sfu_time now)
{
    for (unsigned i = 0; i < p->nlayers; i++) {
        sfu_producer_layer *l = &p->layers[i];
        if (l->rate_at > 0 && now > l->rate_at) {
            uint64_t dt = (uint64_t)(now - l->rate_at);
            l->bitrate_bps = (uint32_t)((l->bytes - l->bytes_at_rate) * 8 * SFU_SEC(1) / dt);
            uint64_t sum = 0;
            for (int t = 0; t < 4; t++) {
                sum += l->tid_bytes[t] - l->tid_bytes_at_rate[t];
                l->tid_bps[t] = (uint32_t)(sum * 8 * SFU_SEC(1) / dt);
            }
        }
        l->bytes_at_rate = l->bytes;
        memcpy(l->tid_bytes_at_rate, l->tid_bytes, sizeof l->tid_bytes);
        l->rate_at = now;
    }
    if (p->nlayers > 1)
        (void)rerank(p, now);
}

uint32_t sfu_producer_bitrate(const sfu_producer *p)
{
    uint32_t sum = 0;
    for (unsigned i = 0; i < p->nlayers; i++)
        sum += p->layers[i].bitrate_bps;
    return sum;
}

int sfu_producer_layer_at(const sfu_producer *p, int q)
{
    return q >= 0 && q < p->nlayers ? p->rank[q] : -1;
}

int sfu_producer_quality_of(const sfu_producer *p, int layer)
{
    for (int q = 0; q < p->nlayers; q++)
        if (p->rank[q] == layer)
            return q;
    return -1;
}

bool sfu_producer_layer_active(const sfu_producer *p, int layer, sfu_time now)
{
    if (layer < 0 || layer >= p->nlayers)
        return false;
    const sfu_producer_layer *l = &p->layers[layer];
    return l->have_media && now - l->last_media_at < SFU_PRODUCER_LAYER_IDLE;
}
