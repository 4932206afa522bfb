/* RFC 2198 3: block headers. A redundant block's header is 4 bytes
 *   F=1 | block PT (7) | timestamp offset (14) | block length (10)
 * and the primary's, always last, is 1 byte: F=0 | block PT (7). */
#include "sfu/core/red.h"

#include <string.h>

int sfu_red_parse(const uint8_t *payload, size_t len, sfu_red *r)
{
    size_t pos = 0, data = 0;   /* header bytes read; redundant bytes announced */
    unsigned n = 0;
    memset(r, 0, sizeof *r);
    if (len == 0)
        return -SFU_EMALFORMED;
    for (;;) {
        if (pos >= len)
            return -SFU_EMALFORMED;
        if (n == SFU_RED_MAX_BLOCKS)
            return -SFU_EUNSUPPORTED;
        uint8_t b = payload[pos];
        sfu_red_block *blk = &r->blocks[n++];
        blk->pt = b & 0x7f;
        if (!(b & 0x80)) {
            pos += 1;
            break;
        }
        if (len - pos < 4)
            return -SFU_EMALFORMED;
        blk->ts_offset = (uint16_t)(sfu_rd16(payload + pos + 1) >> 2);
        blk->len = (uint16_t)((payload[pos + 2] & 0x03) << 8 | payload[pos + 3]);
        data += blk->len;
        pos += 4;
    }
    if (data > len - pos)
        return -SFU_EMALFORMED;
    r->nblocks = (uint8_t)n;
    r->hdr_len = (uint8_t)pos;
    size_t off = pos;
    for (unsigned i = 0; i + 1 < n; i++) {
        r->blocks[i].off = (uint16_t)off;
        off += r->blocks[i].len;
    }
    r->blocks[n - 1].off = (uint16_t)off;
    r->blocks[n - 1].len = (uint16_t)(len - off);
    return 0;
}

bool sfu_red_is_single_codec(const sfu_red *r, uint8_t pt)
{
    if (r->nblocks == 0 || sfu_red_primary(r)->len == 0)
        return false;
    for (unsigned i = 0; i < r->nblocks; i++)
        if (r->blocks[i].pt != pt)
            return false;
    return true;
}

int sfu_red_egress(const sfu_red *r, const uint8_t *payload, bool to_red, uint8_t pt, uint8_t *dst,
                   size_t cap, uint16_t *body_off, uint16_t *body_len)
{
    if (!to_red) {
        const sfu_red_block *p = sfu_red_primary(r);
        *body_off = (uint16_t)(*body_off + p->off);
        *body_len = p->len;
        return 0;
    }
    if (cap < r->hdr_len)
        return -SFU_ENOSPC;
    memcpy(dst, payload, r->hdr_len);
    for (unsigned i = 0; i < r->nblocks; i++) {
        uint8_t *h = dst + 4 * i;  /* redundant headers are 4 bytes, the primary's follows them */
        *h = (uint8_t)((*h & 0x80) | (pt & 0x7f));
    }
    *body_off = (uint16_t)(*body_off + r->hdr_len);
    *body_len = (uint16_t)(*body_len - r->hdr_len);
    return r->hdr_len;
}

int sfu_red_build(uint8_t *dst, size_t cap, const sfu_red_block *blocks, unsigned n, const uint8_t *data)
{
    if (n == 0 || n > SFU_RED_MAX_BLOCKS)
        return -SFU_EINVAL;
    size_t need = 4 * (n - 1) + 1;
    for (unsigned i = 0; i < n; i++) {
        if (i + 1 < n && (blocks[i].len > SFU_RED_MAX_BLOCK_LEN || blocks[i].ts_offset > SFU_RED_MAX_TS_OFFSET))
            return -SFU_EINVAL;
        need += blocks[i].len;
    }
    if (need > cap)
        return -SFU_ENOSPC;
    size_t pos = 0;
    for (unsigned i = 0; i + 1 < n; i++) {
        const sfu_red_block *b = &blocks[i];
        dst[pos] = (uint8_t)(0x80 | (b->pt & 0x7f));
        sfu_wr16(dst + pos + 1, (uint16_t)(b->ts_offset << 2 | b->len >> 8));
        dst[pos + 3] = (uint8_t)b->len;
        pos += 4;
    }
    dst[pos++] = blocks[n - 1].pt & 0x7f;
    for (unsigned i = 0; i < n; i++) {
        memcpy(dst + pos, data + blocks[i].off, blocks[i].len);
        pos += blocks[i].len;
    }
    return (int)pos;
}
