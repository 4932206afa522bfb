/* A publisher replays the encoded loop in real time: an Opus frame every
 * 20 ms, a VP8 frame every 1/fps s cut into RTP packets per RFC 7741, each
 * payload stamped for the latency table. PLI/FIR jump to the loop's
 * keyframe; NACKs are answered from a ring of recently sent packets.
 * Simulcast (env->simulcast): three VP8 layers, each on its own SSRC with the
 * rid extension (RFC 8852) on every packet, sent at the same instants with
 * the same RTP timestamps (one capture); a PLI jumps that layer only.
 * Pacing (env->pace_bytes_per_us, `[media] pacing_factor`): video packets
 * leave through a leaky bucket at that rate, as a browser's pacer sends
 * them (WebRTC paces at 2.5x the target rate), instead of a frame's packets
 * all at once; audio is not paced. */
#include "bench/peer_internal.h"

#include "sfu/core/rtcp.h"
#include "sfu/core/rtcp_fb.h"
#include "sfu/core/rtp.h"

#include <string.h>

#define VP8_DESC_LEN 4          /* X=1, I=1, 15-bit PictureID (RFC 7741 4.2) */
#define MAX_BEHIND SFU_MS(200)  /* after a stall, skip ahead instead of bursting */

#define TOP (BENCH_LAYERS - 1)

static unsigned nlayers(const bench_peer *p)
{
    return p->env->simulcast && p->answer.simulcast && p->answer.rid_ext ? BENCH_LAYERS : 1;
}

/* Layer l's track and loop (TOP: the plain video). */
static bench_tx_track *layer_track(bench_peer *p, unsigned l)
{
    return l == TOP ? &p->pub.video : &p->pub.low[l];
}

static const bench_frame *layer_frames(const bench_peer *p, unsigned l, unsigned *n)
{
    const bench_media *m = p->env->media;
    *n = l == TOP ? m->nvideo : m->low[l].n;
    return l == TOP ? m->video : m->low[l].frames;
}

int bench_publisher_init(bench_peer *p)
{
    bench_publisher *pub = &p->pub;
    pub->audio.ssrc = g_random_int() | 1;
    pub->video.ssrc = g_random_int() | 2;
    pub->audio.seq16 = (uint16_t)g_random_int_range(0, 30000);
    pub->video.seq16 = (uint16_t)g_random_int_range(0, 30000);
    pub->audio.ts = g_random_int();
    pub->video.ts = g_random_int();
    for (unsigned l = 0; l < TOP; l++) {
        pub->low[l].ssrc = (g_random_int() & ~3u) | 3;
        pub->low[l].seq16 = (uint16_t)g_random_int_range(0, 30000);
        pub->low[l].ts = pub->video.ts;
    }
    for (unsigned l = 0; l < BENCH_LAYERS; l++) {
        pub->picture_id[l] = (uint16_t)g_random_int_range(0, 0x7fff);
        pub->ring[l] = g_new0(bench_sent, BENCH_RTX_RING);
    }
    return 0;
}

void bench_publisher_deinit(bench_peer *p)
{
    for (unsigned l = 0; l < BENCH_LAYERS; l++)
        g_free(p->pub.ring[l]);
}

/* RTP header with the mid and transport-wide sequence extensions the
 * answer negotiated, the rid when rid is not NULL, and an audio frame's
 * level when audio is not NULL and the level was negotiated. Returns the header
 * length. */
static size_t write_header(bench_peer *p, uint8_t *buf, bench_tx_track *t, uint8_t pt,
                           bool marker, bool video, const char *rid, const bench_frame *audio)
{
    uint8_t twcc[2], mid[1] = { video ? '1' : '0' };
    uint8_t level[1];
    sfu_rtp_ext_out ext[4];
    uint8_t n = 0;
    if (p->answer.mid_ext)
        ext[n++] = (sfu_rtp_ext_out){ p->answer.mid_ext, 1, mid };
    if (audio && p->answer.level_ext) {
        level[0] = (uint8_t)((audio->voice ? 0x80 : 0) | audio->level);    /* RFC 6464 3 */
        ext[n++] = (sfu_rtp_ext_out){ p->answer.level_ext, 1, level };
    }
    if (rid)
        ext[n++] = (sfu_rtp_ext_out){ p->answer.rid_ext, (uint8_t)strlen(rid),
                                      (const uint8_t *)rid };
    if (p->answer.twcc_ext) {
        sfu_wr16(twcc, p->pub.twcc_seq++);
        ext[n++] = (sfu_rtp_ext_out){ p->answer.twcc_ext, 2, twcc };
    }
    sfu_rtp_header_out h = { .marker = marker, .pt = pt, .seq16 = t->seq16++, .ts = t->ts,
                             .ssrc = t->ssrc, .ext_count = n, .ext = ext };
    int len = sfu_rtp_write_header(buf, BENCH_PKT_CAP, &h);
    return len > 0 ? (size_t)len : 0;
}

/* Stamped with the clock read just before this packet's send, not the
 * tick's: a keyframe's burst takes a while to protect and send. */
static void send_stamped(bench_peer *p, uint8_t *buf, size_t hdr, size_t skip, size_t len)
{
    if (p->stamps)
        bench_stamps_put(p->stamps, buf + hdr + skip, len - hdr - skip, bench_now());
    bench_peer_send_rtp(p, buf, len);
}

static void send_audio(bench_peer *p)
{
    bench_tx_track *t = &p->pub.audio;
    const bench_frame *f = &p->env->media->audio[t->frame];
    uint8_t buf[BENCH_PKT_CAP];
    size_t hdr = write_header(p, buf, t, p->answer.audio_pt, false, false, NULL, f);
    memcpy(buf + hdr, f->data, f->len);
    send_stamped(p, buf, hdr, 0, hdr + f->len);
    t->frame = (t->frame + 1) % p->env->media->naudio;
    t->ts += 48000 * BENCH_AUDIO_FRAME_MS / 1000;
}

static void keep_for_nack(bench_sent *ring, const uint8_t *buf, size_t len, uint16_t seq16)
{
    bench_sent *s = &ring[seq16 % BENCH_RTX_RING];
    s->seq16 = seq16;
    s->len = (uint16_t)len;
    memcpy(s->data, buf, len);
}

/* RFC 7741 4.1/4.2: each packet carries X=1, S on a frame's first packet,
 * PID 0, I=1 with a 15-bit PictureID; the marker ends the frame. Sends the
 * next packet of layer l's current frame; returns its length, and moves on
 * to the next frame after the last packet (*done). */
static size_t send_video_packet(bench_peer *p, unsigned l, bool sim, bool *done)
{
    bench_publisher *pub = &p->pub;
    bench_tx_track *t = layer_track(p, l);
    unsigned nframes;
    const bench_frame *f = &layer_frames(p, l, &nframes)[t->frame];
    size_t off = t->off, len = 0;
    *done = false;
    if (off < f->len) {
        uint8_t buf[BENCH_PKT_CAP];
        uint16_t seq16 = t->seq16;
        size_t hdr = write_header(p, buf, t, p->answer.video_pt, false, true,
                                  sim ? bench_layer_rid[l] : NULL, NULL);
        size_t room = BENCH_MTU - hdr - VP8_DESC_LEN;
        size_t n = f->len - off < room ? f->len - off : room;
        if (off + n == f->len)
            buf[1] |= 0x80;     /* marker */
        uint8_t *d = buf + hdr;
        d[0] = 0x80 | (off == 0 ? 0x10 : 0);
        d[1] = 0x80;
        sfu_wr16(d + 2, 0x8000 | pub->picture_id[l]);
        memcpy(d + VP8_DESC_LEN, f->data + off, n);
        len = hdr + VP8_DESC_LEN + n;
        keep_for_nack(pub->ring[l], buf, len, seq16);
        send_stamped(p, buf, hdr, VP8_DESC_LEN, len);
        t->off = off + n;
    }
    if (t->off < f->len)
        return len;
    *done = true;
    t->off = 0;
    pub->picture_id[l] = (pub->picture_id[l] + 1) & 0x7fff;
    t->frame = t->want_key ? 0 : (t->frame + 1) % nframes;
    t->want_key = false;
    t->ts += 90000 / p->env->media->fps;
    return len;
}

static void send_video(bench_peer *p, unsigned l, bool sim)
{
    bool done = false;
    while (!done)
        send_video_packet(p, l, sim, &done);
}

/* Paced: the due frames' packets while the bucket holds bytes, the layers
 * in turn packet by packet; the bucket fills at the pacing rate and holds at
 * most 40 ms of it (a packet at least): a late tick of the bench's loop
 * does not lower the rate, and an idle spell is a short burst at most. */
static void send_paced(bench_peer *p, sfu_time now, unsigned nl)
{
    bench_publisher *pub = &p->pub;
    double rate = p->env->pace_bytes_per_us;
    double cap = rate * 40000 > BENCH_MTU ? rate * 40000 : BENCH_MTU;
    if (pub->budget_at)
        pub->budget += rate * (double)(now - pub->budget_at);
    pub->budget_at = now;
    if (pub->budget > cap)
        pub->budget = cap;
    bool any = true;
    while (pub->budget > 0 && any) {
        any = false;
        for (unsigned l = BENCH_LAYERS - nl; l < BENCH_LAYERS && pub->budget > 0; l++) {
            bench_tx_track *t = layer_track(p, l);
            if (!t->due)
                continue;
            bool done;
            pub->budget -= (double)send_video_packet(p, l, nl > 1, &done);
            t->due -= done;
            any = true;
        }
    }
}

void bench_publisher_tick(bench_peer *p, sfu_time now)
{
    bench_publisher *pub = &p->pub;
    const bench_media *m = p->env->media;
    if (p->answer.audio && m->naudio) {
        if (pub->audio.next_at == 0 || now - pub->audio.next_at > MAX_BEHIND)
            pub->audio.next_at = now;
        for (; pub->audio.next_at <= now; pub->audio.next_at += SFU_MS(BENCH_AUDIO_FRAME_MS))
            send_audio(p);
    }
    if (p->answer.video && m->nvideo) {
        if (pub->video.next_at == 0 || now - pub->video.next_at > MAX_BEHIND)
            pub->video.next_at = now;
        unsigned nl = nlayers(p);
        bool paced = p->env->pace_bytes_per_us > 0;
        for (; pub->video.next_at <= now; pub->video.next_at += SFU_SEC(1) / m->fps)
            for (unsigned l = BENCH_LAYERS - nl; l < BENCH_LAYERS; l++) {
                if (paced)
                    layer_track(p, l)->due++;
                else
                    send_video(p, l, nl > 1);
            }
        if (paced)
            send_paced(p, now, nl);
    }
}

/* The layer sending on ssrc, or -1. */
static int layer_of(bench_peer *p, uint32_t ssrc)
{
    for (unsigned l = BENCH_LAYERS - nlayers(p); l < BENCH_LAYERS; l++)
        if (layer_track(p, l)->ssrc == ssrc)
            return (int)l;
    return -1;
}

static void retransmit(bench_peer *p, const sfu_rtcp_nack *nack, unsigned l)
{
    for (unsigned i = 0; i < nack->count; i++) {
        bench_sent *s = &p->pub.ring[l][nack->seq16[i] % BENCH_RTX_RING];
        if (s->len == 0 || s->seq16 != nack->seq16[i])
            continue;
        uint8_t buf[BENCH_PKT_CAP];
        memcpy(buf, s->data, s->len);
        if (bench_peer_send_rtp(p, buf, s->len) == 0)
            p->n.retransmitted++;
    }
}

void bench_publisher_handle_rtcp(bench_peer *p, const uint8_t *pkt, size_t len)
{
    size_t off = 0;
    sfu_rtcp_common c;
    while (sfu_rtcp_next(pkt, len, &off, &c) == 1) {
        uint32_t sender, media;
        sfu_rtcp_nack nack;
        if (c.pt == SFU_RTCP_PSFB && (c.count == SFU_RTCP_FMT_PLI || c.count == SFU_RTCP_FMT_FIR) &&
            sfu_rtcp_fb_parse_ssrcs(&c, &sender, &media) == 0) {
            p->n.plis_received++;
            int l = layer_of(p, media);
            for (unsigned k = 0; k < BENCH_LAYERS; k++)     /* FIR names no media SSRC */
                if (l < 0 || (unsigned)l == k) {  /* the loop's keyframe goes next */
                    bench_tx_track *t = layer_track(p, k);
                    if (t->off)
                        t->want_key = true;     /* paced, mid-frame: after this one */
                    else
                        t->frame = 0;
                }
        } else if (c.pt == SFU_RTCP_RTPFB && c.count == SFU_RTCP_FMT_NACK &&
                   sfu_rtcp_nack_parse(&c, &nack) == 0 && layer_of(p, nack.media_ssrc) >= 0) {
            p->n.nacks_received++;
            retransmit(p, &nack, (unsigned)layer_of(p, nack.media_ssrc));
        }
    }
}
