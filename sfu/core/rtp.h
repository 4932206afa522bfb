/* RTP header parsing and writing (RFC 3550 5.1), with header extensions in
 * the one-byte (RFC 8285 4.2) and two-byte (RFC 8285 4.3) forms. */
#ifndef SFU_CORE_RTP_H
#define SFU_CORE_RTP_H

#include "sfu/core/common.h"

#define SFU_RTP_MAX_EXT 16
#define SFU_RTP_MIN_HEADER 12

typedef struct sfu_rtp_ext {
    uint8_t id;
    uint8_t len;                /* bytes of data, 0..255 */
    uint16_t off;               /* where the data starts in the packet */
} sfu_rtp_ext;

typedef struct sfu_rtp_hdr {
    bool padding;
    bool marker;
    uint8_t pt;
    uint8_t csrc_count;
    uint16_t seq16;
    uint32_t ts;
    uint32_t ssrc;
    uint16_t header_len;        /* fixed header, CSRCs and extension block */
    uint16_t payload_off;
    uint16_t payload_len;       /* padding excluded */
    uint8_t pad_len;
    uint16_t ext_profile;       /* 0xBEDE, 0x1000 (two-byte), other, or 0 if none */
    uint8_t ext_count;          /* elements parsed (others past 16 are ignored) */
    sfu_rtp_ext ext[SFU_RTP_MAX_EXT];
} sfu_rtp_hdr;

/* Parses and checks every length; -SFU_EMALFORMED on anything inconsistent
 * (version != 2, truncated header, extension block or padding that
 * overruns). A padding-only packet parses with payload_len == 0. */
int sfu_rtp_parse(const uint8_t *pkt, size_t len, sfu_rtp_hdr *hdr);

/* The data of extension `id`, or NULL; its length in *len. */
const uint8_t *sfu_rtp_ext_find(const sfu_rtp_hdr *hdr, const uint8_t *pkt, uint8_t id, uint8_t *len);

/* One extension to write: an id in the target's numbering and its data. */
typedef struct sfu_rtp_ext_out {
    uint8_t id;
    uint8_t len;
    const uint8_t *data;
} sfu_rtp_ext_out;

typedef struct sfu_rtp_header_out {
    bool marker;
    uint8_t pt;
    uint16_t seq16;
    uint32_t ts;
    uint32_t ssrc;
    uint8_t ext_count;
    const sfu_rtp_ext_out *ext;
} sfu_rtp_header_out;

/* Writes a header with no CSRCs and the given extensions, in the one-byte
 * form when every id is 1..14 and every length 1..16, otherwise two-byte.
 * Returns the bytes written or -SFU_ENOSPC. */
int sfu_rtp_write_header(uint8_t *dst, size_t cap, const sfu_rtp_header_out *h);

/* RFC 4588 4: an RTX payload starts with the original sequence number. */
int sfu_rtx_unwrap_osn(const sfu_rtp_hdr *hdr, const uint8_t *pkt, uint16_t *osn);

/* Serial-number arithmetic on 16-bit sequence numbers (RFC 1982). */
static inline bool sfu_seq16_newer(uint16_t a, uint16_t b)
{
    return a != b && (uint16_t)(a - b) < 0x8000;
}

#endif
