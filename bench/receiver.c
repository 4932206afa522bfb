/* A viewer counts what it decrypted per stream, finds loss from sequence
 * number ranges, times each payload against its send stamp and, for the
 * decoding sample, reassembles VP8 frames (RFC 7741) and decodes them with
 * libvpx, asking for a keyframe (PLI) after a broken frame. */
#include "bench/peer_internal.h"

#include "sfu/core/rtcp_fb.h"
#include "sfu/core/rtcp_sr_rr.h"
#include "sfu/core/rtp.h"
#include "sfu/core/vp8.h"

#include <string.h>
#include <vpx/vp8dx.h>

#define FRAME_CAP (1 << 20)
#define PLI_INTERVAL SFU_MS(300)
#define RR_INTERVAL SFU_SEC(1)

int bench_receiver_init(bench_peer *p, bool decode)
{
    bench_receiver *rx = &p->rx;
    rx->rtcp_ssrc = g_random_int() | 1;
    rx->decode = decode;
    rx->need_key = true;
    if (!decode)
        return 0;
    vpx_codec_dec_cfg_t cfg = { .threads = 1 };
    if (vpx_codec_dec_init(&rx->codec, vpx_codec_vp8_dx(), &cfg, 0) != VPX_CODEC_OK)
        return -1;
    rx->codec_ready = true;
    rx->frame = g_malloc(FRAME_CAP);
    return 0;
}

void bench_receiver_deinit(bench_peer *p)
{
    if (p->rx.codec_ready)
        vpx_codec_destroy(&p->rx.codec);
    g_free(p->rx.frame);
}

/* RFC 3550 A.1, simplified: extend the sequence number around the highest
 * seen; expected = highest - first + 1. Streams are kept by SSRC (a new
 * source starts its own count); past BENCH_RX_STREAMS a packet only counts. */
static void count_seq(bench_peer *p, uint32_t ssrc, uint16_t seq16, bool video)
{
    bench_receiver *rx = &p->rx;
    bench_rx_stream *s = NULL;
    for (unsigned i = 0; i < rx->nstreams && !s; i++)
        if (rx->streams[i].ssrc == ssrc)
            s = &rx->streams[i];
    if (!s && rx->nstreams == BENCH_RX_STREAMS) {
        p->n.rx_expected++;
        return;
    }
    if (!s) {
        s = &rx->streams[rx->nstreams++];
        s->started = true;
        s->video = video;
        s->ssrc = ssrc;
        s->base_seq = s->max_seq = (1u << 16) + seq16;
        s->received = 1;
        p->n.rx_expected++;
        return;
    }
    s->received++;
    uint64_t ext = (s->max_seq & ~(uint64_t)0xffff) | seq16;
    int16_t delta = (int16_t)(seq16 - (uint16_t)s->max_seq);
    if (delta > 0 && ext < s->max_seq)
        ext += 1u << 16;
    else if (delta < 0 && ext > s->max_seq)
        ext -= 1u << 16;
    if (ext > s->max_seq) {
        p->n.rx_expected += ext - s->max_seq;
        s->max_seq = ext;
    }
}

static void report_block(const bench_rx_stream *s, sfu_rtcp_rr *rr)
{
    if (!s->started || rr->report_count == SFU_RTCP_MAX_REPORTS)
        return;
    uint64_t expected = s->max_seq - s->base_seq + 1;
    int64_t lost = (int64_t)expected - (int64_t)s->received;
    rr->reports[rr->report_count++] = (sfu_rtcp_report_block){
        .ssrc = s->ssrc, .cumulative_lost = (int32_t)(lost > 0x7fffff ? 0x7fffff : lost),
        .ext_highest_seq = (uint32_t)(s->max_seq - (1u << 16)),
    };
}

/* RFC 3550 6.4.2. A browser sends these about once a second; the SFU's
 * liveness timer counts them as signs of life. */
void bench_receiver_tick(bench_peer *p, sfu_time now)
{
    bench_receiver *rx = &p->rx;
    if (now < rx->next_rr_at)
        return;
    rx->next_rr_at = now + RR_INTERVAL;
    sfu_rtcp_rr rr = { .ssrc = rx->rtcp_ssrc };
    for (unsigned i = 0; i < rx->nstreams; i++)
        report_block(&rx->streams[i], &rr);
    uint8_t buf[BENCH_PKT_CAP];
    int len = sfu_rtcp_rr_build(buf, sizeof buf, &rr);
    if (len > 0)
        bench_peer_send_rtcp(p, buf, (size_t)len);
}

static void send_pli(bench_peer *p, uint32_t media_ssrc, sfu_time now)
{
    bench_receiver *rx = &p->rx;
    if (now - rx->last_pli_at < PLI_INTERVAL)
        return;
    uint8_t buf[BENCH_PKT_CAP];
    int len = sfu_rtcp_pli_build(buf, sizeof buf, rx->rtcp_ssrc, media_ssrc);
    if (len > 0 && bench_peer_send_rtcp(p, buf, (size_t)len) == 0) {
        rx->last_pli_at = now;
        p->n.plis_sent++;
    }
}

static void decode_frame(bench_peer *p, sfu_time now)
{
    bench_receiver *rx = &p->rx;
    if (vpx_codec_decode(&rx->codec, rx->frame, (unsigned)rx->frame_len, NULL, 0) != VPX_CODEC_OK) {
        p->n.decode_errors++;
        rx->need_key = true;
        return;
    }
    vpx_codec_iter_t it = NULL;
    while (vpx_codec_get_frame(&rx->codec, &it)) {
        p->n.frames_decoded++;
        if (p->joined_at < 0)
            p->joined_at = now;
    }
}

/* Reassembles a frame from consecutive packets of one timestamp. */
static void depacketize(bench_peer *p, const sfu_rtp_hdr *h, const uint8_t *pl, size_t n,
                        sfu_time now)
{
    bench_receiver *rx = &p->rx;
    sfu_vp8_desc d;
    if (sfu_vp8_parse(pl, n, &d) != 0)
        return;
    if (d.start && d.pid == 0) {
        rx->frame_len = 0;
        rx->frame_ts = h->ts;
        rx->frame_ok = !rx->need_key || d.keyframe;
    } else if (h->ts != rx->frame_ts || h->seq16 != rx->next_seq16) {
        rx->frame_ok = false;   /* a packet of this frame was lost */
    }
    rx->next_seq16 = (uint16_t)(h->seq16 + 1);
    size_t data = n - d.desc_len;
    if (!rx->frame_ok || rx->frame_len + data > FRAME_CAP) {
        rx->frame_ok = false;
        if (h->marker) {
            rx->need_key = true;
            send_pli(p, h->ssrc, now);
        }
        return;
    }
    memcpy(rx->frame + rx->frame_len, pl + d.desc_len, data);
    rx->frame_len += data;
    if (h->marker) {
        rx->need_key = false;
        decode_frame(p, now);
    }
}

/* A viewer that does not decode has joined when a whole keyframe arrived
 * (its first packet through the marker, consecutive, one timestamp): the
 * first picture a decoder could show. The first packet alone would count a
 * server that forwards inter frames to a new viewer at once (it cannot
 * decode them) as faster than one that waits for a keyframe. */
static void track_keyframe(bench_peer *p, const sfu_rtp_hdr *h, const uint8_t *pl, size_t n, sfu_time now)
{
    bench_receiver *rx = &p->rx;
    sfu_vp8_desc d;
    if (sfu_vp8_parse(pl, n, &d) != 0)
        return;
    if (d.start && d.pid == 0) {
        rx->frame_ts = h->ts;
        rx->frame_ok = d.keyframe;
    } else if (h->ts != rx->frame_ts || h->seq16 != rx->next_seq16) {
        rx->frame_ok = false;
    }
    rx->next_seq16 = (uint16_t)(h->seq16 + 1);
    if (h->marker && rx->frame_ok)
        p->joined_at = now;
}

/* The send-time table of the source: the peer's own (a viewer of one
 * publisher), or the one announced for this SSRC (a room member). */
static const bench_stamps *stamps_of(const bench_peer *p, uint32_t ssrc)
{
    for (unsigned i = 0; i < p->rx.nsources; i++)
        if (p->rx.sources[i].ssrc == ssrc)
            return p->rx.sources[i].stamps;
    return p->stamps;
}

/* Latency to the datagram's arrival in the viewer's socket (the kernel's
 * stamp; when there is none, when it was handed over), and to the hand-over
 * (latency_app: with the bench's own queueing). */
static void time_payload(bench_peer *p, uint32_t ssrc, const uint8_t *pl, size_t n, sfu_time now,
                         sfu_time arrived_at)
{
    const bench_stamps *stamps = stamps_of(p, ssrc);
    if (!stamps || !p->env->latency)
        return;
    sfu_time sent = bench_stamps_get(stamps, pl, n);
    if (sent < 0) {
        p->n.latency_unmatched++;
        return;
    }
    p->n.latency_matched++;
    p->n.latency_stamped += arrived_at >= 0;
    bench_hist_add(p->env->latency, (arrived_at >= 0 && arrived_at <= now ? arrived_at : now) - sent);
    if (p->env->latency_app)
        bench_hist_add(p->env->latency_app, now - sent);
}

void bench_receiver_handle_rtp(bench_peer *p, const uint8_t *pkt, size_t len, sfu_time now,
                               sfu_time arrived_at)
{
    sfu_rtp_hdr h;
    if (sfu_rtp_parse(pkt, len, &h) != 0 || h.payload_len == 0)
        return;
    bool video = p->answer.video && h.pt == p->answer.video_pt;
    if (!video && !(p->answer.audio && h.pt == p->answer.audio_pt))
        return;
    p->n.rx_packets++;
    p->n.rx_bytes += len;
    p->n.rx_video_packets += video;
    p->n.rx_video_bytes += video ? len : 0;
    count_seq(p, h.ssrc, h.seq16, video);
    const uint8_t *pl = pkt + h.payload_off;
    size_t skip = 0;
    sfu_vp8_desc d;
    if (video && sfu_vp8_parse(pl, h.payload_len, &d) == 0)
        skip = d.desc_len;
    time_payload(p, h.ssrc, pl + skip, h.payload_len - skip, now, arrived_at);
    if (video && !p->rx.decode_ssrc)
        p->rx.decode_ssrc = h.ssrc;     /* one source is decoded or watched */
    bool mine = video && h.ssrc == p->rx.decode_ssrc;
    if (mine && p->rx.decode)
        depacketize(p, &h, pl, h.payload_len, now);
    else if (mine && p->joined_at < 0)
        track_keyframe(p, &h, pl, h.payload_len, now);
    if (p->joined_at < 0 && !p->answer.video)
        p->joined_at = now; /* audio only: its first packet */
}

unsigned bench_peer_streams(const bench_peer *p, bench_stream_count *out, unsigned cap)
{
    const bench_receiver *rx = &p->rx;
    unsigned n = 0;
    for (unsigned i = 0; i < rx->nstreams && n < cap; i++, n++) {
        const bench_rx_stream *s = &rx->streams[i];
        out[n] = (bench_stream_count){ .ssrc = s->ssrc, .video = s->video, .received = s->received };
        for (unsigned k = 0; k < rx->nsources; k++)
            if (rx->sources[k].ssrc == s->ssrc)
                out[n].source = rx->sources[k].stamps;
    }
    return n;
}
