/* RTCP common header and compound packet iteration (RFC 3550 6.4-6.6,
 * appendix A.2), including reduced-size RTCP (RFC 5506). Each packet family
 * has its own parser and builder: rtcp_sr_rr.h, rtcp_sdes_bye.h, rtcp_fb.h,
 * rtcp_twcc.h. Parsers take the sfu_rtcp_common that sfu_rtcp_next filled;
 * builders write one packet into a caller buffer and return its length or
 * -SFU_ENOSPC. */
#ifndef SFU_CORE_RTCP_H
#define SFU_CORE_RTCP_H

#include "sfu/core/common.h"

/* Packet types (RFC 3550 12.1, RFC 4585 6.1, RFC 3611). */
enum {
    SFU_RTCP_SR = 200,
    SFU_RTCP_RR = 201,
    SFU_RTCP_SDES = 202,
    SFU_RTCP_BYE = 203,
    SFU_RTCP_APP = 204,
    SFU_RTCP_RTPFB = 205,
    SFU_RTCP_PSFB = 206,
    SFU_RTCP_XR = 207,
};

/* Feedback message types, the FMT field (RFC 4585 6.2/6.3, RFC 5104 4.3). */
enum {
    SFU_RTCP_FMT_NACK = 1,      /* RTPFB: generic NACK */
    SFU_RTCP_FMT_TWCC = 15,     /* RTPFB: transport-wide congestion control */
    SFU_RTCP_FMT_PLI = 1,       /* PSFB: picture loss indication */
    SFU_RTCP_FMT_FIR = 4,       /* PSFB: full intra request */
    SFU_RTCP_FMT_AFB = 15,      /* PSFB: application layer feedback (REMB) */
};

#define SFU_RTCP_HEADER_LEN 4

/* One packet inside a compound. `pkt` points at its first header byte and
 * stays valid as long as the caller's buffer does. */
typedef struct sfu_rtcp_common {
    uint8_t version;            /* always 2 once parsed */
    bool padding;
    uint8_t count;              /* RC, SC or FMT: the low 5 bits of byte 0 */
    uint8_t pt;
    uint16_t pad_len;           /* padding bytes at the end, 0 without P */
    size_t len;                 /* whole packet in bytes, header and padding included */
    const uint8_t *pkt;
    const uint8_t *body;        /* after the 4-byte header */
    size_t body_len;            /* padding excluded */
} sfu_rtcp_common;

/* Reads the packet at p[*off] and advances *off past it. Returns 1 for a
 * packet, 0 at the end of the buffer, -SFU_EMALFORMED when the header is
 * short, the version is not 2, the length field overruns `n`, or the padding
 * count is 0 or larger than the packet. Never reads at or past p[n]. */
int sfu_rtcp_next(const uint8_t *p, size_t n, size_t *off, sfu_rtcp_common *c);

/* Checks a whole compound (RFC 3550 A.2): every packet parses, the lengths
 * add up to `n`, and, unless `reduced_size` (RFC 5506 3.4.2) allows
 * otherwise, the first packet is an SR or RR and only the last one is
 * padded. Returns the number of packets or -SFU_EMALFORMED. */
int sfu_rtcp_validate_compound(const uint8_t *p, size_t n, bool reduced_size);

/* Writes a common header: V=2, no padding, `count` (5 bits), `pt`, and the
 * length field for a packet of `len_bytes` (a multiple of 4, >= 4). The
 * caller has checked that 4 bytes fit. */
void sfu_rtcp_write_header(uint8_t *dst, uint8_t count, uint8_t pt, size_t len_bytes);

/* Quick demultiplexing test (RFC 5761 4): payload type 192..223 (with the
 * marker bit folded in) means RTCP when RTP and RTCP share a port. */
bool sfu_rtcp_is_rtcp(const uint8_t *p, size_t n);

#endif
