#include "sfu/core/rtcp_sr_rr.h"

#define REPORT_BLOCK_LEN 24
#define SR_INFO_LEN 24          /* SSRC, NTP, RTP ts, packet and octet counts */
#define NTP_UNIX_OFFSET 2208988800ULL /* seconds from 1900 to 1970 */

static void parse_block(const uint8_t *b, sfu_rtcp_report_block *rb)
{
    rb->ssrc = sfu_rd32(b);
    rb->fraction_lost = b[4];
    /* RFC 3550 6.4.1: cumulative number lost is a signed 24-bit integer. */
    uint32_t lost = sfu_rd24(b + 5);
    rb->cumulative_lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
    rb->ext_highest_seq = sfu_rd32(b + 8);
    rb->jitter = sfu_rd32(b + 12);
    rb->lsr = sfu_rd32(b + 16);
    rb->dlsr = sfu_rd32(b + 20);
}

static void write_block(uint8_t *b, const sfu_rtcp_report_block *rb)
{
    int32_t lost = rb->cumulative_lost;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    sfu_wr32(b, rb->ssrc);
    b[4] = rb->fraction_lost;
    sfu_wr24(b + 5, (uint32_t)lost & 0xffffff);
    sfu_wr32(b + 8, rb->ext_highest_seq);
    sfu_wr32(b + 12, rb->jitter);
    sfu_wr32(b + 16, rb->lsr);
    sfu_wr32(b + 20, rb->dlsr);
}

/* The report blocks after `fixed` bytes of sender info. */
static int parse_blocks(const sfu_rtcp_common *c, size_t fixed, sfu_rtcp_report_block *out)
{
    if (c->body_len < fixed + (size_t)c->count * REPORT_BLOCK_LEN)
        return -SFU_EMALFORMED;
    for (unsigned i = 0; i < c->count; i++)
        parse_block(c->body + fixed + i * REPORT_BLOCK_LEN, &out[i]);
    return 0;
}

int sfu_rtcp_sr_parse(const sfu_rtcp_common *c, sfu_rtcp_sr *sr)
{
    if (c->pt != SFU_RTCP_SR)
        return -SFU_EINVAL;
    if (c->body_len < SR_INFO_LEN)
        return -SFU_EMALFORMED;
    const uint8_t *b = c->body;
    sr->ssrc = sfu_rd32(b);
    sr->ntp = (uint64_t)sfu_rd32(b + 4) << 32 | sfu_rd32(b + 8);
    sr->rtp_ts = sfu_rd32(b + 12);
    sr->packet_count = sfu_rd32(b + 16);
    sr->octet_count = sfu_rd32(b + 20);
    sr->report_count = c->count;
    return parse_blocks(c, SR_INFO_LEN, sr->reports);
}

int sfu_rtcp_rr_parse(const sfu_rtcp_common *c, sfu_rtcp_rr *rr)
{
    if (c->pt != SFU_RTCP_RR)
        return -SFU_EINVAL;
    if (c->body_len < 4)
        return -SFU_EMALFORMED;
    rr->ssrc = sfu_rd32(c->body);
    rr->report_count = c->count;
    return parse_blocks(c, 4, rr->reports);
}

int sfu_rtcp_sr_build(uint8_t *dst, size_t cap, const sfu_rtcp_sr *sr)
{
    if (sr->report_count > SFU_RTCP_MAX_REPORTS)
        return -SFU_EINVAL;
    size_t len = SFU_RTCP_HEADER_LEN + SR_INFO_LEN + (size_t)sr->report_count * REPORT_BLOCK_LEN;
    if (len > cap)
        return -SFU_ENOSPC;
    sfu_rtcp_write_header(dst, sr->report_count, SFU_RTCP_SR, len);
    uint8_t *b = dst + SFU_RTCP_HEADER_LEN;
    sfu_wr32(b, sr->ssrc);
    sfu_wr32(b + 4, (uint32_t)(sr->ntp >> 32));
    sfu_wr32(b + 8, (uint32_t)sr->ntp);
    sfu_wr32(b + 12, sr->rtp_ts);
    sfu_wr32(b + 16, sr->packet_count);
    sfu_wr32(b + 20, sr->octet_count);
    for (unsigned i = 0; i < sr->report_count; i++)
        write_block(b + SR_INFO_LEN + i * REPORT_BLOCK_LEN, &sr->reports[i]);
    return (int)len;
}

int sfu_rtcp_rr_build(uint8_t *dst, size_t cap, const sfu_rtcp_rr *rr)
{
    if (rr->report_count > SFU_RTCP_MAX_REPORTS)
        return -SFU_EINVAL;
    size_t len = SFU_RTCP_HEADER_LEN + 4 + (size_t)rr->report_count * REPORT_BLOCK_LEN;
    if (len > cap)
        return -SFU_ENOSPC;
    sfu_rtcp_write_header(dst, rr->report_count, SFU_RTCP_RR, len);
    sfu_wr32(dst + 4, rr->ssrc);
    for (unsigned i = 0; i < rr->report_count; i++)
        write_block(dst + 8 + i * REPORT_BLOCK_LEN, &rr->reports[i]);
    return (int)len;
}

uint64_t sfu_ntp_from_unix_us(int64_t unix_us)
{
    int64_t secs = unix_us / 1000000, us = unix_us % 1000000;
    if (us < 0) {
        us += 1000000;
        secs--;
    }
    uint64_t frac = ((uint64_t)us << 32) / 1000000;
    return (uint64_t)(secs + (int64_t)NTP_UNIX_OFFSET) << 32 | frac;
}

int64_t sfu_ntp_to_unix_us(uint64_t ntp)
{
    int64_t secs = (int64_t)(ntp >> 32) - (int64_t)NTP_UNIX_OFFSET;
    /* Round the 32-bit fraction to the nearest microsecond. */
    int64_t us = (int64_t)(((ntp & 0xffffffffULL) * 1000000 + (1ULL << 31)) >> 32);
    return secs * 1000000 + us;
}

uint32_t sfu_rtcp_dlsr_from_us(sfu_time delay)
{
    if (delay <= 0)
        return 0;
    if (delay >= (sfu_time)65536 * 1000000) /* 2^32 units would not fit */
        return UINT32_MAX;
    return (uint32_t)(((uint64_t)delay << 16) / 1000000);
}

sfu_time sfu_rtcp_dlsr_to_us(uint32_t dlsr)
{
    return (sfu_time)(((uint64_t)dlsr * 1000000) >> 16);
}

sfu_time sfu_rtcp_rtt_us(uint32_t arrival_mid32, uint32_t lsr, uint32_t dlsr)
{
    if (lsr == 0)
        return -1;
    /* Modular arithmetic on the 16.16 fixed-point middle bits. */
    uint32_t rtt = arrival_mid32 - lsr - dlsr;
    if (rtt & 0x80000000u)
        return -1;
    return sfu_rtcp_dlsr_to_us(rtt);
}
