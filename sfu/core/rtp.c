/* RTP header parsing and writing: RFC 3550 5.1, header extensions per
 * RFC 8285 4.2 (one-byte) and 4.3 (two-byte), RTX per RFC 4588 4. */
#include "sfu/core/rtp.h"

#include <string.h>

#define PROFILE_ONE_BYTE 0xBEDE
#define PROFILE_TWO_BYTE 0x1000 /* the low 4 bits are "appbits" (RFC 8285 4.3) */
#define ONE_BYTE_STOP_ID 15

static void add_ext(sfu_rtp_hdr *hdr, uint8_t id, uint8_t len, size_t off)
{
    /* Elements past SFU_RTP_MAX_EXT are still checked but not recorded. */
    if (hdr->ext_count >= SFU_RTP_MAX_EXT)
        return;
    sfu_rtp_ext *e = &hdr->ext[hdr->ext_count++];
    e->id = id;
    e->len = len;
    e->off = (uint16_t)off;
}

/* RFC 8285 4.2: ID(4) L(4) with L+1 data bytes; ID 0 is a single padding
 * byte; ID 15 ends processing of the whole block. */
static int parse_one_byte(const uint8_t *pkt, size_t off, size_t end, sfu_rtp_hdr *hdr)
{
    while (off < end) {
        uint8_t id = pkt[off] >> 4;
        uint8_t len = (uint8_t)((pkt[off] & 0x0f) + 1);
        if (id == 0) {
            off++;
            continue;
        }
        if (id == ONE_BYTE_STOP_ID)
            return 0;
        if (end - off - 1 < len)
            return -SFU_EMALFORMED;
        add_ext(hdr, id, len, off + 1);
        off += 1 + (size_t)len;
    }
    return 0;
}

/* RFC 8285 4.3: ID(8) L(8) with L data bytes (L may be 0); ID 0 is a single
 * padding byte. */
static int parse_two_byte(const uint8_t *pkt, size_t off, size_t end, sfu_rtp_hdr *hdr)
{
    while (off < end) {
        uint8_t id = pkt[off];
        if (id == 0) {
            off++;
            continue;
        }
        if (end - off < 2)
            return -SFU_EMALFORMED;
        uint8_t len = pkt[off + 1];
        if (end - off - 2 < len)
            return -SFU_EMALFORMED;
        add_ext(hdr, id, len, off + 2);
        off += 2 + (size_t)len;
    }
    return 0;
}

/* RFC 3550 5.3.1: a 16-bit profile, a 16-bit length in 32-bit words, data.
 * Returns the offset just past the block or a negative error. */
static long parse_ext_block(const uint8_t *pkt, size_t len, size_t off, sfu_rtp_hdr *hdr)
{
    if (len - off < 4)
        return -SFU_EMALFORMED;
    uint16_t profile = sfu_rd16(pkt + off);
    size_t data_len = (size_t)sfu_rd16(pkt + off + 2) * 4;
    size_t data_off = off + 4;
    if (len - data_off < data_len)
        return -SFU_EMALFORMED;
    size_t end = data_off + data_len;

    int rc = 0;
    if (profile == PROFILE_ONE_BYTE) {
        hdr->ext_profile = PROFILE_ONE_BYTE;
        rc = parse_one_byte(pkt, data_off, end, hdr);
    } else if ((profile & 0xfff0) == PROFILE_TWO_BYTE) {
        hdr->ext_profile = PROFILE_TWO_BYTE;
        rc = parse_two_byte(pkt, data_off, end, hdr);
    } else {
        /* Another profile: the block is skipped, its elements unknown. */
        hdr->ext_profile = profile;
    }
    return rc < 0 ? rc : (long)end;
}

int sfu_rtp_parse(const uint8_t *pkt, size_t len, sfu_rtp_hdr *hdr)
{
    memset(hdr, 0, sizeof *hdr);
    /* Offsets are 16-bit: nothing longer than a UDP datagram is RTP. */
    if (!pkt || len < SFU_RTP_MIN_HEADER || len > UINT16_MAX)
        return -SFU_EMALFORMED;
    if ((pkt[0] >> 6) != 2)
        return -SFU_EMALFORMED;

    bool has_ext = pkt[0] & 0x10;
    hdr->padding = pkt[0] & 0x20;
    hdr->csrc_count = pkt[0] & 0x0f;
    hdr->marker = pkt[1] & 0x80;
    hdr->pt = pkt[1] & 0x7f;
    hdr->seq16 = sfu_rd16(pkt + 2);
    hdr->ts = sfu_rd32(pkt + 4);
    hdr->ssrc = sfu_rd32(pkt + 8);

    size_t off = SFU_RTP_MIN_HEADER + 4 * (size_t)hdr->csrc_count;
    if (len < off)
        return -SFU_EMALFORMED;
    if (has_ext) {
        long end = parse_ext_block(pkt, len, off, hdr);
        if (end < 0)
            return (int)end;
        off = (size_t)end;
    }

    /* RFC 3550 5.1: the last octet counts the padding, itself included. */
    size_t pad = 0;
    if (hdr->padding) {
        if (len == off)
            return -SFU_EMALFORMED;
        pad = pkt[len - 1];
        if (pad == 0 || pad > len - off)
            return -SFU_EMALFORMED;
    }
    hdr->header_len = (uint16_t)off;
    hdr->payload_off = (uint16_t)off;
    hdr->payload_len = (uint16_t)(len - off - pad);
    hdr->pad_len = (uint8_t)pad;
    return 0;
}

const uint8_t *sfu_rtp_ext_find(const sfu_rtp_hdr *hdr, const uint8_t *pkt, uint8_t id, uint8_t *len)
{
    for (uint8_t i = 0; i < hdr->ext_count && i < SFU_RTP_MAX_EXT; i++) {
        if (hdr->ext[i].id != id)
            continue;
        if (len)
            *len = hdr->ext[i].len;
        return pkt + hdr->ext[i].off;
    }
    if (len)
        *len = 0;
    return NULL;
}

static bool fits_one_byte(const sfu_rtp_header_out *h)
{
    for (uint8_t i = 0; i < h->ext_count; i++) {
        const sfu_rtp_ext_out *e = &h->ext[i];
        if (e->id < 1 || e->id > 14 || e->len < 1 || e->len > 16)
            return false;
    }
    return true;
}

/* Writes the extension block at dst (cap bytes) and returns its size,
 * padded with zero bytes to a 32-bit boundary (RFC 3550 5.3.1). */
static int write_ext_block(uint8_t *dst, size_t cap, const sfu_rtp_header_out *h)
{
    bool one_byte = fits_one_byte(h);
    size_t per_elem = one_byte ? 1 : 2;
    size_t data = 0;
    for (uint8_t i = 0; i < h->ext_count; i++) {
        if (h->ext[i].id == 0 || (h->ext[i].len > 0 && !h->ext[i].data))
            return -SFU_EINVAL;
        data += per_elem + h->ext[i].len;
    }
    size_t padded = (data + 3) & ~(size_t)3;
    if (cap < 4 + padded)
        return -SFU_ENOSPC;

    sfu_wr16(dst, one_byte ? PROFILE_ONE_BYTE : PROFILE_TWO_BYTE);
    sfu_wr16(dst + 2, (uint16_t)(padded / 4));
    uint8_t *p = dst + 4;
    for (uint8_t i = 0; i < h->ext_count; i++) {
        const sfu_rtp_ext_out *e = &h->ext[i];
        if (one_byte) {
            *p++ = (uint8_t)(e->id << 4 | (e->len - 1));
        } else {
            *p++ = e->id;
            *p++ = e->len;
        }
        if (e->len)
            memcpy(p, e->data, e->len);
        p += e->len;
    }
    memset(p, 0, padded - data);
    return (int)(4 + padded);
}

int sfu_rtp_write_header(uint8_t *dst, size_t cap, const sfu_rtp_header_out *h)
{
    if (h->ext_count > 0 && !h->ext)
        return -SFU_EINVAL;
    if (cap < SFU_RTP_MIN_HEADER)
        return -SFU_ENOSPC;

    int ext_len = 0;
    if (h->ext_count > 0) {
        ext_len = write_ext_block(dst + SFU_RTP_MIN_HEADER, cap - SFU_RTP_MIN_HEADER, h);
        if (ext_len < 0)
            return ext_len;
    }
    dst[0] = (uint8_t)(0x80 | (h->ext_count > 0 ? 0x10 : 0));
    dst[1] = (uint8_t)((h->marker ? 0x80 : 0) | (h->pt & 0x7f));
    sfu_wr16(dst + 2, h->seq16);
    sfu_wr32(dst + 4, h->ts);
    sfu_wr32(dst + 8, h->ssrc);
    return SFU_RTP_MIN_HEADER + ext_len;
}

int sfu_rtx_unwrap_osn(const sfu_rtp_hdr *hdr, const uint8_t *pkt, uint16_t *osn)
{
    if (hdr->payload_len < 2)
        return -SFU_EMALFORMED;
    *osn = sfu_rd16(pkt + hdr->payload_off);
    return 0;
}
