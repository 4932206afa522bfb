#include "sfu/core/rtcp.h"

int sfu_rtcp_next(const uint8_t *p, size_t n, size_t *off, sfu_rtcp_common *c)
{
    if (*off >= n)
        return 0;
    const uint8_t *h = p + *off;
    size_t avail = n - *off;
    if (avail < SFU_RTCP_HEADER_LEN)
        return -SFU_EMALFORMED;
    if (h[0] >> 6 != 2)
        return -SFU_EMALFORMED;
    /* RFC 3550 6.4.1: length in 32-bit words minus one. */
    size_t len = ((size_t)sfu_rd16(h + 2) + 1) * 4;
    if (len > avail)
        return -SFU_EMALFORMED;
    c->version = 2;
    c->padding = (h[0] & 0x20) != 0;
    c->count = h[0] & 0x1f;
    c->pt = h[1];
    c->len = len;
    c->pkt = h;
    c->body = h + SFU_RTCP_HEADER_LEN;
    c->pad_len = 0;
    c->body_len = len - SFU_RTCP_HEADER_LEN;
    if (c->padding) {
        /* RFC 3550 6.4.1: the last octet counts the padding, itself included. */
        uint8_t pad = h[len - 1];
        if (pad == 0 || pad > c->body_len)
            return -SFU_EMALFORMED;
        c->pad_len = pad;
        c->body_len -= pad;
    }
    *off += len;
    return 1;
}

int sfu_rtcp_validate_compound(const uint8_t *p, size_t n, bool reduced_size)
{
    size_t off = 0;
    sfu_rtcp_common c;
    int count = 0, r;
    if (n == 0)
        return -SFU_EMALFORMED;
    while ((r = sfu_rtcp_next(p, n, &off, &c)) == 1) {
        /* RFC 3550 A.2: a compound starts with SR or RR and only its last
         * packet may be padded; RFC 5506 3.4.2 lifts both for reduced size. */
        if (!reduced_size && count == 0 && c.pt != SFU_RTCP_SR && c.pt != SFU_RTCP_RR)
            return -SFU_EMALFORMED;
        if (!reduced_size && c.padding && off != n)
            return -SFU_EMALFORMED;
        if (count == INT32_MAX)
            return -SFU_EMALFORMED;
        count++;
    }
    return r < 0 ? r : count;
}

void sfu_rtcp_write_header(uint8_t *dst, uint8_t count, uint8_t pt, size_t len_bytes)
{
    dst[0] = (uint8_t)(0x80 | (count & 0x1f));
    dst[1] = pt;
    sfu_wr16(dst + 2, (uint16_t)(len_bytes / 4 - 1));
}

bool sfu_rtcp_is_rtcp(const uint8_t *p, size_t n)
{
    if (n < SFU_RTCP_HEADER_LEN)
        return false;
    /* RFC 5761 4: RTCP packet types 192..223 sit where RTP's M+PT is. */
    return p[1] >= 192 && p[1] <= 223;
}
