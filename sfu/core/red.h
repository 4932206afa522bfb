/* RFC 2198 redundant audio (RED, "audio/red"): the payload carries block
 * headers, then zero or more redundant (older) encodings, then the primary
 * (newest) encoding, whose timestamp is the RTP packet's. Parsing checks
 * every length against the payload; the egress step turns a source packet
 * into what one viewer gets: RED with the viewer's payload type in every
 * block header, or the primary block alone. Sans-IO, no allocation. */
#ifndef SFU_CORE_RED_H
#define SFU_CORE_RED_H

#include "sfu/core/common.h"

/* Blocks per packet, primary included. Browsers send 1 to 3; more is refused. */
#define SFU_RED_MAX_BLOCKS 16
/* Block headers of the largest packet accepted: 4 per redundant, 1 primary. */
#define SFU_RED_MAX_HDR (4 * (SFU_RED_MAX_BLOCKS - 1) + 1)
/* RFC 2198 3: a redundant block's length has 10 bits, its offset 14. */
#define SFU_RED_MAX_BLOCK_LEN 1023
#define SFU_RED_MAX_TS_OFFSET 16383

typedef struct sfu_red_block {
    uint8_t pt;                 /* the block's payload type, 7 bits */
    uint16_t ts_offset;         /* subtracted from the packet's timestamp; 0 for the primary */
    uint16_t off;               /* from the start of the RED payload */
    uint16_t len;
} sfu_red_block;

/* blocks[0..nblocks-2] are redundant in packet order (oldest first as
 * senders write them), blocks[nblocks-1] is the primary. */
typedef struct sfu_red {
    uint8_t nblocks;            /* 1..SFU_RED_MAX_BLOCKS */
    uint8_t hdr_len;            /* bytes of block headers before the first block */
    sfu_red_block blocks[SFU_RED_MAX_BLOCKS];
} sfu_red;

/* Parses a RED payload. -SFU_EMALFORMED when it is empty, a header is
 * truncated, or the redundant blocks run past the end; -SFU_EUNSUPPORTED
 * for more than SFU_RED_MAX_BLOCKS blocks. The primary may be empty. */
int sfu_red_parse(const uint8_t *payload, size_t len, sfu_red *r);

static inline const sfu_red_block *sfu_red_primary(const sfu_red *r)
{
    return &r->blocks[r->nblocks - 1];
}

/* True when every block carries payload type `pt` and the primary is not
 * empty: a packet the SFU can pass on as RED of one codec or reduce to it. */
bool sfu_red_is_single_codec(const sfu_red *r, uint8_t pt);

/* The egress step for one viewer. The payload's bytes stay where they are:
 * the viewer's packet is `dst[0..return)` followed by the payload bytes
 * [*body_off, *body_off + *body_len) (both relative to the same buffer the
 * caller passed in, and narrowed here).
 * - to_red: the block headers are written into dst with `pt` (the viewer's
 *   primary codec payload type) in every block, and the body starts after
 *   the source's headers. Returns the header bytes written.
 * - otherwise: nothing is written (returns 0) and the body is the primary
 *   block only; the viewer's RTP header keeps the packet's timestamp.
 * -SFU_ENOSPC if dst is too small. */
int sfu_red_egress(const sfu_red *r, const uint8_t *payload, bool to_red, uint8_t pt, uint8_t *dst,
                   size_t cap, uint16_t *body_off, uint16_t *body_len);

/* Builds a RED payload from `n` encodings (n-1 redundant, then the primary;
 * blocks[i].off/len index into `data`) with payload type pt in every block.
 * -SFU_EINVAL for n outside 1..SFU_RED_MAX_BLOCKS, a redundant block longer
 * than 1023 bytes or an offset above 16383; -SFU_ENOSPC if dst is too small.
 * Returns the bytes written. */
int sfu_red_build(uint8_t *dst, size_t cap, const sfu_red_block *blocks, unsigned n, const uint8_t *data);

#endif
