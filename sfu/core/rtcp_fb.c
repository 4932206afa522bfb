#include "sfu/core/rtcp_fb.h"

#define FB_HEADER_LEN 12        /* common header and the two SSRCs */
#define REMB_MAX_MANTISSA 0x3ffffu

int sfu_rtcp_fb_parse_ssrcs(const sfu_rtcp_common *c, uint32_t *sender_ssrc,
                            uint32_t *media_ssrc)
{
    if (c->body_len < 8)
        return -SFU_EMALFORMED;
    *sender_ssrc = sfu_rd32(c->body);
    *media_ssrc = sfu_rd32(c->body + 4);
    return 0;
}

static bool is_fb(const sfu_rtcp_common *c, uint8_t pt, uint8_t fmt)
{
    return c->pt == pt && c->count == fmt;
}

static void write_fb_header(uint8_t *dst, uint8_t fmt, uint8_t pt, size_t len, uint32_t sender,
                            uint32_t media)
{
    sfu_rtcp_write_header(dst, fmt, pt, len);
    sfu_wr32(dst + 4, sender);
    sfu_wr32(dst + 8, media);
}

int sfu_rtcp_nack_parse(const sfu_rtcp_common *c, sfu_rtcp_nack *nack)
{
    if (!is_fb(c, SFU_RTCP_RTPFB, SFU_RTCP_FMT_NACK))
        return -SFU_EINVAL;
    /* RFC 4585 6.2.1: one or more FCI entries of PID (16) and BLP (16). */
    if (c->body_len < 12)
        return -SFU_EMALFORMED;
    nack->sender_ssrc = sfu_rd32(c->body);
    nack->media_ssrc = sfu_rd32(c->body + 4);
    nack->count = 0;
    nack->truncated = false;
    size_t nfci = (c->body_len - 8) / 4;
    for (size_t i = 0; i < nfci; i++) {
        const uint8_t *f = c->body + 8 + 4 * i;
        uint16_t pid = sfu_rd16(f), blp = sfu_rd16(f + 2);
        for (int bit = -1; bit < 16; bit++) {
            if (bit >= 0 && !(blp & (1u << bit)))
                continue;
            if (nack->count == SFU_RTCP_MAX_NACK_SEQS) {
                nack->truncated = true;
                return 0;
            }
            nack->seq16[nack->count++] = (uint16_t)(pid + bit + 1);
        }
    }
    return 0;
}

int sfu_rtcp_nack_build(uint8_t *dst, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                        const uint16_t *seq16, size_t count)
{
    if (count == 0)
        return -SFU_EINVAL;
    size_t len = FB_HEADER_LEN, pairs = 0;
    for (size_t i = 0; i < count; i++) {
        size_t k;
        for (k = 0; k < pairs; k++) {
            uint8_t *f = dst + FB_HEADER_LEN + 4 * k;
            uint16_t d = (uint16_t)(seq16[i] - sfu_rd16(f));
            if (d == 0)
                break;
            if (d <= 16) {
                sfu_wr16(f + 2, (uint16_t)(sfu_rd16(f + 2) | 1u << (d - 1)));
                break;
            }
        }
        if (k < pairs)
            continue;
        /* The length field counts 32-bit words in 16 bits. */
        if (len + 4 > cap || len + 4 > 65536 * 4)
            return -SFU_ENOSPC;
        sfu_wr16(dst + len, seq16[i]);
        sfu_wr16(dst + len + 2, 0);
        len += 4;
        pairs++;
    }
    write_fb_header(dst, SFU_RTCP_FMT_NACK, SFU_RTCP_RTPFB, len, sender_ssrc, media_ssrc);
    return (int)len;
}

int sfu_rtcp_pli_parse(const sfu_rtcp_common *c, uint32_t *sender_ssrc, uint32_t *media_ssrc)
{
    if (!is_fb(c, SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI))
        return -SFU_EINVAL;
    return sfu_rtcp_fb_parse_ssrcs(c, sender_ssrc, media_ssrc);
}

int sfu_rtcp_pli_build(uint8_t *dst, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    if (cap < FB_HEADER_LEN)
        return -SFU_ENOSPC;
    write_fb_header(dst, SFU_RTCP_FMT_PLI, SFU_RTCP_PSFB, FB_HEADER_LEN, sender_ssrc, media_ssrc);
    return FB_HEADER_LEN;
}

int sfu_rtcp_fir_parse(const sfu_rtcp_common *c, sfu_rtcp_fir *fir)
{
    if (!is_fb(c, SFU_RTCP_PSFB, SFU_RTCP_FMT_FIR))
        return -SFU_EINVAL;
    /* RFC 5104 4.3.1.1: FCI entries of SSRC (32), seq nr (8), reserved (24). */
    if (c->body_len < 16)
        return -SFU_EMALFORMED;
    fir->sender_ssrc = sfu_rd32(c->body);
    size_t n = (c->body_len - 8) / 8;
    fir->truncated = n > SFU_RTCP_MAX_FIR;
    fir->count = (uint8_t)(fir->truncated ? SFU_RTCP_MAX_FIR : n);
    for (unsigned i = 0; i < fir->count; i++) {
        const uint8_t *f = c->body + 8 + 8 * i;
        fir->entries[i].ssrc = sfu_rd32(f);
        fir->entries[i].seq_nr = f[4];
    }
    return 0;
}

int sfu_rtcp_fir_build(uint8_t *dst, size_t cap, uint32_t sender_ssrc,
                       const sfu_rtcp_fir_entry *entries, size_t count)
{
    if (count == 0 || count > SFU_RTCP_MAX_FIR)
        return -SFU_EINVAL;
    size_t len = FB_HEADER_LEN + 8 * count;
    if (len > cap)
        return -SFU_ENOSPC;
    /* RFC 5104 4.3.1.2: the media source SSRC is 0, the FCI names them. */
    write_fb_header(dst, SFU_RTCP_FMT_FIR, SFU_RTCP_PSFB, len, sender_ssrc, 0);
    for (size_t i = 0; i < count; i++) {
        uint8_t *f = dst + FB_HEADER_LEN + 8 * i;
        sfu_wr32(f, entries[i].ssrc);
        f[4] = entries[i].seq_nr;
        f[5] = f[6] = f[7] = 0;
    }
    return (int)len;
}

int sfu_rtcp_remb_parse(const sfu_rtcp_common *c, sfu_rtcp_remb *remb)
{
    if (!is_fb(c, SFU_RTCP_PSFB, SFU_RTCP_FMT_AFB))
        return -SFU_EINVAL;
    if (c->body_len < 12)
        return -SFU_EMALFORMED;
    const uint8_t *f = c->body + 8;
    if (f[0] != 'R' || f[1] != 'E' || f[2] != 'M' || f[3] != 'B')
        return -SFU_EUNSUPPORTED;
    if (c->body_len < 16)
        return -SFU_EMALFORMED;
    /* draft-alvestrand-rmcat-remb-03 2.2: Num SSRC (8), BR Exp (6),
     * BR Mantissa (18), then the SSRC feedback list. */
    uint8_t nssrc = f[4];
    unsigned exp = f[5] >> 2;
    uint64_t mantissa = sfu_rd24(f + 5) & REMB_MAX_MANTISSA;
    if ((size_t)nssrc * 4 > c->body_len - 16)
        return -SFU_EMALFORMED;
    remb->sender_ssrc = sfu_rd32(c->body);
    remb->bitrate_bps = mantissa > (UINT64_MAX >> exp) ? UINT64_MAX : mantissa << exp;
    remb->truncated = nssrc > SFU_RTCP_MAX_REMB_SSRCS;
    remb->ssrc_count = remb->truncated ? SFU_RTCP_MAX_REMB_SSRCS : nssrc;
    for (unsigned i = 0; i < remb->ssrc_count; i++)
        remb->ssrcs[i] = sfu_rd32(f + 8 + 4 * i);
    return 0;
}

int sfu_rtcp_remb_build(uint8_t *dst, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps,
                        const uint32_t *ssrcs, size_t count)
{
    if (count > 255 || (count && !ssrcs))
        return -SFU_EINVAL;
    size_t len = FB_HEADER_LEN + 8 + 4 * count;
    if (len > cap)
        return -SFU_ENOSPC;
    unsigned exp = 0;
    while ((bitrate_bps >> exp) > REMB_MAX_MANTISSA)
        exp++;
    uint32_t mantissa = (uint32_t)(bitrate_bps >> exp);
    write_fb_header(dst, SFU_RTCP_FMT_AFB, SFU_RTCP_PSFB, len, sender_ssrc, 0);
    uint8_t *f = dst + FB_HEADER_LEN;
    f[0] = 'R';
    f[1] = 'E';
    f[2] = 'M';
    f[3] = 'B';
    f[4] = (uint8_t)count;
    sfu_wr24(f + 5, (uint32_t)exp << 18 | mantissa);
    for (size_t i = 0; i < count; i++)
        sfu_wr32(f + 8 + 4 * i, ssrcs[i]);
    return (int)len;
}
