#include "sfu/core/rtcp_sdes_bye.h"

#include <string.h>

/* One chunk at body[*pos]: an SSRC, items, a null octet and padding to
 * 32 bits (RFC 3550 6.5). */
static int parse_chunk(const uint8_t *b, size_t n, size_t *pos, sfu_rtcp_sdes_chunk *ch)
{
    size_t i = *pos;
    if (n - i < 4)
        return -SFU_EMALFORMED;
    ch->ssrc = sfu_rd32(b + i);
    ch->cname = NULL;
    ch->cname_len = 0;
    i += 4;
    for (;;) {
        if (i >= n)
            return -SFU_EMALFORMED; /* no terminating null octet */
        uint8_t type = b[i];
        if (type == SFU_RTCP_SDES_END)
            break;
        if (n - i < 2 || n - i - 2 < b[i + 1])
            return -SFU_EMALFORMED;
        uint8_t len = b[i + 1];
        if (type == SFU_RTCP_SDES_CNAME && !ch->cname) {
            ch->cname = b + i + 2;
            ch->cname_len = len;
        }
        i += 2 + (size_t)len;
    }
    i = (i + 4) & ~(size_t)3; /* the null octet, then up to the next word */
    if (i > n)
        return -SFU_EMALFORMED;
    *pos = i;
    return 0;
}

int sfu_rtcp_sdes_parse(const sfu_rtcp_common *c, sfu_rtcp_sdes *sdes)
{
    if (c->pt != SFU_RTCP_SDES)
        return -SFU_EINVAL;
    size_t pos = 0;
    sdes->chunk_count = 0;
    for (unsigned i = 0; i < c->count; i++) {
        int r = parse_chunk(c->body, c->body_len, &pos, &sdes->chunks[i]);
        if (r < 0)
            return r;
        sdes->chunk_count++;
    }
    return 0;
}

int sfu_rtcp_sdes_build_cname(uint8_t *dst, size_t cap, uint32_t ssrc, const char *cname,
                              size_t cname_len)
{
    if (!cname || cname_len == 0 || cname_len > 255)
        return -SFU_EINVAL;
    /* SSRC, type, length, text, at least one null octet, word aligned. */
    size_t chunk = (4 + 2 + cname_len + 1 + 3) & ~(size_t)3;
    size_t len = SFU_RTCP_HEADER_LEN + chunk;
    if (len > cap)
        return -SFU_ENOSPC;
    sfu_rtcp_write_header(dst, 1, SFU_RTCP_SDES, len);
    sfu_wr32(dst + 4, ssrc);
    dst[8] = SFU_RTCP_SDES_CNAME;
    dst[9] = (uint8_t)cname_len;
    memcpy(dst + 10, cname, cname_len);
    memset(dst + 10 + cname_len, 0, len - 10 - cname_len);
    return (int)len;
}

int sfu_rtcp_bye_parse(const sfu_rtcp_common *c, sfu_rtcp_bye *bye)
{
    if (c->pt != SFU_RTCP_BYE)
        return -SFU_EINVAL;
    size_t ssrcs = (size_t)c->count * 4;
    if (c->body_len < ssrcs)
        return -SFU_EMALFORMED;
    bye->ssrc_count = c->count;
    for (unsigned i = 0; i < c->count; i++)
        bye->ssrcs[i] = sfu_rd32(c->body + 4 * i);
    bye->reason = NULL;
    bye->reason_len = 0;
    /* RFC 3550 6.6: an optional length-prefixed reason follows. */
    size_t rest = c->body_len - ssrcs;
    if (rest > 0) {
        const uint8_t *r = c->body + ssrcs;
        if ((size_t)r[0] + 1 > rest)
            return -SFU_EMALFORMED;
        bye->reason_len = r[0];
        bye->reason = r[0] ? r + 1 : NULL;
    }
    return 0;
}

int sfu_rtcp_bye_build(uint8_t *dst, size_t cap, const uint32_t *ssrcs, size_t count,
                       const char *reason, size_t reason_len)
{
    if (count == 0 || count > SFU_RTCP_MAX_BYE_SSRCS || reason_len > 255 || (reason_len && !reason))
        return -SFU_EINVAL;
    size_t reason_words = reason_len ? (1 + reason_len + 3) & ~(size_t)3 : 0;
    size_t len = SFU_RTCP_HEADER_LEN + 4 * count + reason_words;
    if (len > cap)
        return -SFU_ENOSPC;
    sfu_rtcp_write_header(dst, (uint8_t)count, SFU_RTCP_BYE, len);
    for (size_t i = 0; i < count; i++)
        sfu_wr32(dst + 4 + 4 * i, ssrcs[i]);
    if (reason_len) {
        uint8_t *r = dst + 4 + 4 * count;
        r[0] = (uint8_t)reason_len;
        memcpy(r + 1, reason, reason_len);
        memset(r + 1 + reason_len, 0, reason_words - 1 - reason_len);
    }
    return (int)len;
}
