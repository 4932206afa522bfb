/* Source description with CNAME (RFC 3550 6.5) and BYE (RFC 3550 6.6). */
#ifndef SFU_CORE_RTCP_SDES_BYE_H
#define SFU_CORE_RTCP_SDES_BYE_H

#include "sfu/core/rtcp.h"

#define SFU_RTCP_SDES_END 0
#define SFU_RTCP_SDES_CNAME 1
#define SFU_RTCP_MAX_SDES_CHUNKS 31 /* the 5-bit SC field */
#define SFU_RTCP_MAX_BYE_SSRCS 31

/* One chunk. `cname` points into the packet (not NUL-terminated), NULL
 * when the chunk carries no CNAME item. */
typedef struct sfu_rtcp_sdes_chunk {
    uint32_t ssrc;
    uint8_t cname_len;
    const uint8_t *cname;
} sfu_rtcp_sdes_chunk;

typedef struct sfu_rtcp_sdes {
    uint8_t chunk_count;
    sfu_rtcp_sdes_chunk chunks[SFU_RTCP_MAX_SDES_CHUNKS];
} sfu_rtcp_sdes;

/* Walks every chunk and item; an item or chunk that overruns the body, or a
 * chunk list shorter than SC says, is -SFU_EMALFORMED. Items other than
 * CNAME are skipped. */
int sfu_rtcp_sdes_parse(const sfu_rtcp_common *c, sfu_rtcp_sdes *sdes);

/* One chunk with one CNAME item, null-terminated and padded to 32 bits
 * (RFC 3550 6.5). cname_len 1..255. */
int sfu_rtcp_sdes_build_cname(uint8_t *dst, size_t cap, uint32_t ssrc, const char *cname,
                              size_t cname_len);

typedef struct sfu_rtcp_bye {
    uint8_t ssrc_count;
    uint32_t ssrcs[SFU_RTCP_MAX_BYE_SSRCS];
    uint8_t reason_len;
    const uint8_t *reason;      /* into the packet, NULL if none */
} sfu_rtcp_bye;

int sfu_rtcp_bye_parse(const sfu_rtcp_common *c, sfu_rtcp_bye *bye);
/* count 1..31; reason may be NULL (reason_len 0), at most 255 bytes. */
int sfu_rtcp_bye_build(uint8_t *dst, size_t cap, const uint32_t *ssrcs, size_t count,
                       const char *reason, size_t reason_len);

#endif
