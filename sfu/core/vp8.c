/* VP8 RTP payload descriptor, RFC 7741 4.2:
 *
 *        0 1 2 3 4 5 6 7
 *       |X|R|N|S|R| PID |  required
 *    X: |I|L|T|K| RSV   |
 *    I: |M| PictureID   |  and a second PictureID byte when M
 *    L: |   TL0PICIDX   |
 *  T/K: |TID|Y| KEYIDX  |
 *
 * followed by the VP8 payload header (RFC 7741 4.3), whose lowest bit of the
 * first byte, P, is 0 on a keyframe. */
#include "sfu/core/vp8.h"

#include <string.h>

int sfu_vp8_parse(const uint8_t *p, size_t len, sfu_vp8_desc *d)
{
    memset(d, 0, sizeof *d);
    if (!p || len < 1)
        return -SFU_EMALFORMED;
    d->non_ref = p[0] & 0x20;
    d->start = p[0] & 0x10;
    d->pid = p[0] & 0x07;
    size_t off = 1;

    if (p[0] & 0x80) {
        if (len <= off)
            return -SFU_EMALFORMED;
        uint8_t x = p[off++];
        d->has_picture_id = x & 0x80;
        d->has_tl0picidx = x & 0x40;
        d->has_tid = x & 0x20;
        d->has_keyidx = x & 0x10;
    }
    if (d->has_picture_id) {
        if (len <= off)
            return -SFU_EMALFORMED;
        if (p[off] & 0x80) {
            if (len - off < 2)
                return -SFU_EMALFORMED;
            d->picture_id_15 = true;
            d->picture_id = sfu_rd16(p + off) & 0x7fff;
            off += 2;
        } else {
            d->picture_id = p[off++] & 0x7f;
        }
    }
    if (d->has_tl0picidx) {
        if (len <= off)
            return -SFU_EMALFORMED;
        d->tl0picidx = p[off++];
    }
    if (d->has_tid || d->has_keyidx) {
        if (len <= off)
            return -SFU_EMALFORMED;
        uint8_t tk = p[off++];
        if (d->has_tid) {
            d->tid = tk >> 6;
            d->layer_sync = tk & 0x20;
        }
        if (d->has_keyidx)
            d->keyidx = tk & 0x1f;
    }
    /* A descriptor with no VP8 data after it carries nothing to decode. */
    if (len <= off)
        return -SFU_EMALFORMED;
    d->desc_len = (uint8_t)off;
    d->keyframe = d->start && d->pid == 0 && (p[off] & 0x01) == 0;
    return 0;
}

int sfu_vp8_keyframe_size(const uint8_t *p, size_t len, uint16_t *width, uint16_t *height)
{
    /* 3-byte frame tag (P = 0 on a keyframe), start code 9d 01 2a, then
     * 14-bit width and height, little endian, each with 2 scaling bits. */
    if (!p || len < 10 || (p[0] & 0x01) != 0 || p[3] != 0x9d || p[4] != 0x01 || p[5] != 0x2a)
        return -SFU_EMALFORMED;
    *width = (uint16_t)((p[6] | p[7] << 8) & 0x3fff);
    *height = (uint16_t)((p[8] | p[9] << 8) & 0x3fff);
    return 0;
}

int sfu_vp8_write_desc(uint8_t *dst, size_t cap, const sfu_vp8_desc *d,
                       uint16_t picture_id, uint8_t tl0picidx)
{
    bool tk = d->has_tid || d->has_keyidx;
    bool ext = d->has_picture_id || d->has_tl0picidx || tk;
    size_t need = 1 + (ext ? 1 : 0) + (d->has_picture_id ? 2 : 0) +
                  (d->has_tl0picidx ? 1 : 0) + (tk ? 1 : 0);
    if (cap < need)
        return -SFU_ENOSPC;

    size_t off = 0;
    dst[off++] = (uint8_t)((ext ? 0x80 : 0) | (d->non_ref ? 0x20 : 0) |
                           (d->start ? 0x10 : 0) | (d->pid & 0x07));
    if (ext)
        dst[off++] = (uint8_t)((d->has_picture_id ? 0x80 : 0) | (d->has_tl0picidx ? 0x40 : 0) |
                               (d->has_tid ? 0x20 : 0) | (d->has_keyidx ? 0x10 : 0));
    if (d->has_picture_id) {
        sfu_wr16(dst + off, (uint16_t)(0x8000 | (picture_id & 0x7fff)));
        off += 2;
    }
    if (d->has_tl0picidx)
        dst[off++] = tl0picidx;
    if (tk)
        dst[off++] = (uint8_t)((d->has_tid ? (d->tid & 0x03) << 6 : 0) |
                               (d->has_tid && d->layer_sync ? 0x20 : 0) |
                               (d->has_keyidx ? d->keyidx & 0x1f : 0));
    return (int)off;
}

void sfu_vp8_rewriter_init(sfu_vp8_rewriter *rw)
{
    memset(rw, 0, sizeof *rw);
}

/* Serial-number order (RFC 1982) in a space of `bits` bits. */
static bool newer(uint16_t a, uint16_t b, uint8_t bits)
{
    uint32_t mod = 1u << bits;
    uint32_t diff = ((uint32_t)a - b) & (mod - 1);
    return diff != 0 && diff < mod / 2;
}

static void remember(sfu_vp8_counter *c, uint16_t in, uint16_t out)
{
    c->hist_in[c->hist_next] = in;
    c->hist_out[c->hist_next] = out;
    c->hist_next = (uint8_t)((c->hist_next + 1) % SFU_VP8_HISTORY);
    if (c->nhist < SFU_VP8_HISTORY)
        c->nhist++;
}

/* A late value maps as it did; one never seen keeps its distance. */
static void recall(const sfu_vp8_counter *c, uint16_t in, uint16_t *out)
{
    for (uint8_t i = 0; i < c->nhist; i++)
        if (c->hist_in[i] == in) {
            *out = c->hist_out[i];
            return;
        }
}

/* The signed distance from the newest input to `in`. */
static int32_t step(const sfu_vp8_counter *c, uint16_t in, uint32_t in_mod)
{
    int32_t delta = (int32_t)(((uint32_t)in - c->last_in) & (in_mod - 1));
    if (delta >= (int32_t)(in_mod / 2))
        delta -= (int32_t)in_mod;
    return delta;
}

/* Maps `in` (in_bits wide) to an output out_bits wide. The step from the
 * last newest input is read as a signed distance, so a 7-bit source that
 * wraps at 127 still steps by one in the 15-bit output. */
static uint16_t counter_map(sfu_vp8_counter *c, uint16_t in, uint8_t in_bits, uint8_t out_bits)
{
    uint32_t in_mod = 1u << in_bits;
    uint16_t out_mask = (uint16_t)((1u << out_bits) - 1);
    in &= (uint16_t)(in_mod - 1);

    if (!c->valid || c->restart_pending || in_bits != c->in_bits) {
        /* First value: keep the source's; later: one past the highest. */
        uint16_t out = c->valid ? (uint16_t)((c->max_out + 1) & out_mask) : (uint16_t)(in & out_mask);
        c->valid = true;
        c->restart_pending = false;
        c->in_bits = in_bits;
        c->last_in = in;
        c->last_out = out;
        c->max_out = out;
        c->nhist = 0;
        remember(c, in, out);
        return out;
    }
    int32_t delta = step(c, in, in_mod);
    uint16_t out = (uint16_t)((c->last_out + delta) & out_mask);
    if (delta > 0) {
        c->last_in = in;
        c->last_out = out;
        remember(c, in, out);
    } else if (delta < 0) {
        recall(c, in, &out);
    }
    if (newer(out, c->max_out, out_bits))
        c->max_out = out;
    return out;
}

void sfu_vp8_rewriter_map(sfu_vp8_rewriter *rw, const sfu_vp8_desc *d, bool restarted,
                          uint16_t *picture_id, uint8_t *tl0picidx)
{
    /* Latched per field, in case the first packet lacks one of them. */
    if (restarted) {
        rw->picture_id.restart_pending = true;
        rw->tl0picidx.restart_pending = true;
    }
    if (d->has_picture_id)
        *picture_id = counter_map(&rw->picture_id, d->picture_id, d->picture_id_15 ? 15 : 7, 15);
    if (d->has_tl0picidx)
        *tl0picidx = (uint8_t)counter_map(&rw->tl0picidx, d->tl0picidx, 8, 8);
}

void sfu_vp8_rewriter_drop(sfu_vp8_rewriter *rw, const sfu_vp8_desc *d)
{
    sfu_vp8_counter *c = &rw->picture_id;
    uint8_t bits = d->picture_id_15 ? 15 : 7;
    if (!d->has_picture_id || !c->valid || c->restart_pending || bits != c->in_bits)
        return;
    uint16_t in = (uint16_t)(d->picture_id & ((1u << bits) - 1));
    if (step(c, in, 1u << bits) > 0)
        c->last_in = in; /* the output does not move */
}
