#include "bench/media.h"

#include <math.h>
#include <opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

#define SAMPLE_RATE 48000
#define FRAME_SAMPLES (SAMPLE_RATE * BENCH_AUDIO_FRAME_MS / 1000)

const char *const bench_layer_rid[BENCH_LAYERS] = { "q", "h", "f" };

static int keep_frame(bench_frame *f, const void *data, size_t len, bool key)
{
    f->data = malloc(len ? len : 1);
    if (!f->data)
        return -1;
    memcpy(f->data, data, len);
    f->len = len;
    f->key = key;
    return 0;
}

/* Voiced speech, roughly: harmonics of a pitch gliding around 140 Hz,
 * syllables at about 4 per second, and a little noise between them. */
static void voice_frame(opus_int16 *pcm, unsigned frame, double *phase, uint32_t *rng)
{
    for (int i = 0; i < FRAME_SAMPLES; i++) {
        double t = (frame * FRAME_SAMPLES + i) / (double)SAMPLE_RATE;
        double pitch = 140 + 40 * sin(2 * M_PI * 0.7 * t);
        double env = fmax(0, sin(2 * M_PI * 4 * t)) * (0.6 + 0.4 * sin(2 * M_PI * 0.3 * t));
        *phase += 2 * M_PI * pitch / SAMPLE_RATE;
        double v = 0;
        for (int h = 1; h <= 8; h++)
            v += sin(h * *phase) / h;
        *rng = *rng * 1664525u + 1013904223u;
        double noise = ((*rng >> 8) / (double)(1u << 24) - 0.5) * 0.05;
        pcm[i] = (opus_int16)(8000 * (env * v * 0.5 + noise));
    }
}

/* RFC 6464 3: the frame's RMS in -dBov (0 loudest, 127 silence), and
 * whether it is voiced (the syllables, not the noise between them). */
static void frame_level(const opus_int16 *pcm, bench_frame *f)
{
    double sum = 0;
    for (int i = 0; i < FRAME_SAMPLES; i++)
        sum += (double)pcm[i] * pcm[i];
    double rms = sqrt(sum / FRAME_SAMPLES) / 32768.0;
    double db = rms > 0 ? -20 * log10(rms) : 127;
    f->level = (uint8_t)(db < 0 ? 0 : db > 127 ? 127 : lround(db));
    f->voice = f->level < 45;
}

static int encode_audio(bench_media *m, const bench_scenario *s, char *err, size_t errlen)
{
    int oe;
    OpusEncoder *enc = opus_encoder_create(SAMPLE_RATE, 1, OPUS_APPLICATION_VOIP, &oe);
    if (!enc) {
        snprintf(err, errlen, "opus_encoder_create: %s", opus_strerror(oe));
        return -1;
    }
    opus_encoder_ctl(enc, OPUS_SET_BITRATE((opus_int32)s->audio_kbps * 1000));
    m->audio = calloc(BENCH_AUDIO_LOOP_FRAMES, sizeof *m->audio);
    double phase = 0;
    uint32_t rng = 1;
    int rc = m->audio ? 0 : -1;
    for (unsigned f = 0; f < BENCH_AUDIO_LOOP_FRAMES && rc == 0; f++) {
        opus_int16 pcm[FRAME_SAMPLES];
        unsigned char out[1500];
        voice_frame(pcm, f, &phase, &rng);
        opus_int32 n = opus_encode(enc, pcm, FRAME_SAMPLES, out, sizeof out);
        rc = n > 0 ? keep_frame(&m->audio[f], out, (size_t)n, false) : -1;
        if (rc == 0)
            frame_level(pcm, &m->audio[f]);
        m->naudio += rc == 0;
    }
    if (rc != 0)
        snprintf(err, errlen, "opus_encode failed");
    opus_encoder_destroy(enc);
    return rc;
}

/* Moving diagonal gradient, a bouncing box and some texture, so the encoder
 * has real work and real residuals at every frame. */
static void draw_frame(vpx_image_t *img, unsigned n)
{
    unsigned w = img->d_w, h = img->d_h;
    unsigned bx = (n * 7) % (w > 64 ? w - 64 : 1), by = (n * 5) % (h > 64 ? h - 64 : 1);
    for (unsigned y = 0; y < h; y++) {
        uint8_t *row = img->planes[0] + y * img->stride[0];
        for (unsigned x = 0; x < w; x++) {
            bool box = x >= bx && x < bx + 64 && y >= by && y < by + 64;
            unsigned tex = ((x * 13 + y * 7 + n * 3) ^ (x * y)) & 15;
            row[x] = box ? 235 : (uint8_t)((x + y + n * 4) / 2 % 200 + 16 + tex);
        }
    }
    for (int p = 1; p < 3; p++)
        for (unsigned y = 0; y < (h + 1) / 2; y++)
            memset(img->planes[p] + y * img->stride[p], (int)(128 + (p == 1 ? 1 : -1) *
                   (int)((n + y) % 64)), (w + 1) / 2);
}

static int setup_vp8(vpx_codec_ctx_t *codec, const bench_scenario *s, const bench_layer *l)
{
    vpx_codec_enc_cfg_t cfg;
    if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK)
        return -1;
    cfg.g_w = l->width;
    cfg.g_h = l->height;
    cfg.g_timebase = (vpx_rational_t){ 1, (int)s->fps };
    cfg.rc_target_bitrate = l->kbps;
    cfg.rc_end_usage = VPX_CBR;
    cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
    cfg.g_lag_in_frames = 0;
    cfg.kf_mode = VPX_KF_DISABLED;  /* one keyframe, at the start of the loop */
    cfg.g_threads = 1;
    if (vpx_codec_enc_init(codec, vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK)
        return -1;
    vpx_codec_control(codec, VP8E_SET_CPUUSED, 8);
    return 0;
}

static int keep_packets(bench_layer *l, vpx_codec_ctx_t *codec)
{
    vpx_codec_iter_t it = NULL;
    const vpx_codec_cx_pkt_t *pkt;
    while ((pkt = vpx_codec_get_cx_data(codec, &it))) {
        if (pkt->kind != VPX_CODEC_CX_FRAME_PKT)
            continue;
        bool key = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
        if (keep_frame(&l->frames[l->n], pkt->data.frame.buf, pkt->data.frame.sz, key))
            return -1;
        l->bytes += pkt->data.frame.sz;
        l->n++;
    }
    return 0;
}

/* One loop of gop_frames at l's size and bitrate into l->frames. */
static int encode_layer(bench_layer *l, const bench_scenario *s, char *err, size_t errlen)
{
    vpx_codec_ctx_t codec;
    vpx_image_t img;
    if (!vpx_img_alloc(&img, VPX_IMG_FMT_I420, l->width, l->height, 16)) {
        snprintf(err, errlen, "vpx_img_alloc failed");
        return -1;
    }
    int rc = setup_vp8(&codec, s, l);
    if (rc != 0) {
        snprintf(err, errlen, "VP8 encoder setup failed for %ux%u", l->width, l->height);
        vpx_img_free(&img);
        return -1;
    }
    l->frames = calloc(s->gop_frames, sizeof *l->frames);
    rc = l->frames ? 0 : -1;
    for (unsigned n = 0; n < s->gop_frames && rc == 0; n++) {
        draw_frame(&img, n);
        vpx_enc_frame_flags_t flags = n == 0 ? VPX_EFLAG_FORCE_KF : 0;
        unsigned before = l->n;
        rc = vpx_codec_encode(&codec, &img, n, 1, flags, VPX_DL_REALTIME) == VPX_CODEC_OK
                 ? keep_packets(l, &codec) : -1;
        if (rc == 0 && l->n == before)  /* a dropped frame: the loop must not skip */
            rc = -1;
    }
    if (rc != 0)
        snprintf(err, errlen, "VP8 encoding failed at frame %u (%ux%u)", l->n, l->width,
                 l->height);
    else if (!l->frames[0].key)
        snprintf(err, errlen, "VP8: the loop does not start with a keyframe"), rc = -1;
    vpx_codec_destroy(&codec);
    vpx_img_free(&img);
    return rc;
}

static int encode_video(bench_media *m, const bench_scenario *s, char *err, size_t errlen)
{
    bench_layer top = { .width = s->width, .height = s->height, .kbps = s->video_kbps };
    int rc = encode_layer(&top, s, err, errlen);
    m->video = top.frames;
    m->nvideo = top.n;
    m->video_bytes = top.bytes;
    if (rc != 0 || !s->simulcast)
        return rc;
    /* Even sizes: 640x360 gives 160x90 and 320x180. */
    static const unsigned div[] = { 4, 2 }, kdiv[] = { 10, 3 };
    for (unsigned i = 0; i < BENCH_LAYERS - 1 && rc == 0; i++) {
        bench_layer *l = &m->low[i];
        l->width = s->width / div[i] & ~1u;
        l->height = s->height / div[i] & ~1u;
        l->kbps = s->video_kbps / kdiv[i] > 30 ? s->video_kbps / kdiv[i] : 30;
        rc = encode_layer(l, s, err, errlen);
    }
    return rc;
}

int bench_media_encode(bench_media *m, const bench_scenario *s, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->fps = s->fps;
    if ((s->audio && encode_audio(m, s, err, errlen) != 0) ||
        (s->video && encode_video(m, s, err, errlen) != 0)) {
        bench_media_deinit(m);
        return -1;
    }
    return 0;
}

void bench_media_deinit(bench_media *m)
{
    for (unsigned i = 0; i < m->naudio; i++)
        free(m->audio[i].data);
    for (unsigned i = 0; i < m->nvideo; i++)
        free(m->video[i].data);
    for (unsigned l = 0; l < BENCH_LAYERS - 1; l++) {
        for (unsigned i = 0; i < m->low[l].n; i++)
            free(m->low[l].frames[i].data);
        free(m->low[l].frames);
    }
    free(m->audio);
    free(m->video);
    memset(m, 0, sizeof *m);
}
