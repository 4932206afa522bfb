/* Shared by test_room.c and test_sim.c: leg descriptions, RTP packets built
 * with the real writer, and outputs read back with the real parsers. */
#ifndef TESTS_ROOM_FIXTURE_H
#define TESTS_ROOM_FIXTURE_H

#include "sfu/core/room.h"
#include "sfu/core/rtcp.h"
#include "sfu/core/rtcp_fb.h"
#include "sfu/core/rtp.h"
#include "sfu/core/vp8.h"

#include <string.h>

enum { EXT_MID = 1, EXT_TWCC = 3, EXT_LEVEL = 4, VIEW_EXT_MID = 9, VIEW_EXT_LEVEL = 10 };
enum { PUB_PT = 96, PUB_RTX_PT = 97, VIEW_PT = 120, VIEW_RTX_PT = 121, OPUS_PT = 111 };

static inline sfu_track_desc fx_pub_video(const char *mid)
{
    sfu_track_desc d = { .kind = SFU_KIND_VIDEO, .recv = true, .codec = SFU_CODEC_VP8, .pt = PUB_PT,
                         .rtx_pt = PUB_RTX_PT, .clock_rate = 90000, .fb_nack = true, .fb_pli = true,
                         .fb_twcc = true };
    strncpy(d.mid, mid, SFU_MID_MAX - 1);
    d.ext.mid = EXT_MID;
    d.ext.twcc = EXT_TWCC;
    return d;
}

static inline sfu_track_desc fx_view_video(const char *mid, uint32_t ssrc)
{
    sfu_track_desc d = { .kind = SFU_KIND_VIDEO, .send = true, .codec = SFU_CODEC_VP8, .pt = VIEW_PT,
                         .rtx_pt = VIEW_RTX_PT, .clock_rate = 90000, .local_ssrc = ssrc,
                         .local_rtx_ssrc = ssrc + 1, .fb_nack = true, .fb_pli = true };
    strncpy(d.mid, mid, SFU_MID_MAX - 1);
    d.ext.mid = VIEW_EXT_MID;
    d.ext.twcc = 5; /* negotiated, but the SFU does not write it */
    return d;
}

static inline sfu_leg_desc fx_leg(uint32_t rtcp_ssrc, const sfu_track_desc *t, unsigned n)
{
    sfu_leg_desc l = { .ntracks = n, .rtcp_rsize = true, .rtcp_ssrc = rtcp_ssrc };
    memcpy(l.tracks, t, n * sizeof *t);
    strcpy(l.cname, "sfu-cname");
    return l;
}

typedef struct fx_rtp {
    uint32_t ssrc;
    uint8_t pt;
    uint16_t seq16;
    uint32_t ts;
    bool marker;
    const char *mid;            /* NULL: no mid extension */
    int twcc;                   /* < 0: none */
    int level;                  /* < 0: none */
    const uint8_t *payload;
    size_t payload_len;
} fx_rtp;

static inline sfu_buf *fx_build(sfu_buf_pool *pool, const fx_rtp *s)
{
    sfu_buf *b = sfu_buf_alloc(pool);
    if (!b)
        return NULL;
    sfu_rtp_ext_out ext[3];
    uint8_t n = 0, tw[2], lv;
    if (s->mid)
        ext[n++] = (sfu_rtp_ext_out){ EXT_MID, (uint8_t)strlen(s->mid), (const uint8_t *)s->mid };
    if (s->twcc >= 0) {
        sfu_wr16(tw, (uint16_t)s->twcc);
        ext[n++] = (sfu_rtp_ext_out){ EXT_TWCC, 2, tw };
    }
    if (s->level >= 0) {
        lv = (uint8_t)s->level;
        ext[n++] = (sfu_rtp_ext_out){ EXT_LEVEL, 1, &lv };
    }
    sfu_rtp_header_out h = { s->marker, s->pt, s->seq16, s->ts, s->ssrc, n, ext };
    int hl = sfu_rtp_write_header(b->data, SFU_BUF_CAP, &h);
    if (hl < 0) {
        sfu_buf_unref(b);
        return NULL;
    }
    memcpy(b->data + hl, s->payload, s->payload_len);
    b->len = (uint16_t)(hl + s->payload_len);
    return b;
}

/* A VP8 payload: descriptor with a 15-bit PictureID and TL0PICIDX, then
 * the payload header (P = 0 on a keyframe) and a 4-byte tag. */
static inline size_t fx_vp8(uint8_t *p, bool frame_start, bool key, uint16_t picid, uint8_t tl0, uint32_t tag)
{
    p[0] = frame_start ? 0x90 : 0x80;
    p[1] = 0xC0;
    p[2] = (uint8_t)(0x80 | (picid >> 8 & 0x7f));
    p[3] = (uint8_t)picid;
    p[4] = tl0;
    p[5] = key ? 0x10 : 0x11;
    sfu_wr32(p + 6, tag);
    return 10;
}

/* An output item read back: flattened and parsed. */
typedef struct fx_seen {
    uint8_t bytes[1600];
    int len;
    sfu_rtp_hdr h;
} fx_seen;

static inline int fx_read_rtp(const sfu_out_item *it, fx_seen *s)
{
    s->len = sfu_out_item_flatten(it, s->bytes, sizeof s->bytes);
    if (s->len < 0)
        return s->len;
    return sfu_rtp_parse(s->bytes, (size_t)s->len, &s->h);
}

/* The tag of a VP8 packet as fx_vp8 wrote it (after the descriptor). */
static inline int fx_vp8_tag(const fx_seen *s, uint32_t *tag, sfu_vp8_desc *d)
{
    if (sfu_vp8_parse(s->bytes + s->h.payload_off, s->h.payload_len, d) < 0)
        return -1;
    if (s->h.payload_len < d->desc_len + 5u)
        return -1;
    *tag = sfu_rd32(s->bytes + s->h.payload_off + d->desc_len + 1);
    return 0;
}

#endif
