/* Per-viewer sequence number and timestamp rewriting.
 *
 * A viewer sees one continuous RTP stream per sink even when the source
 * behind it changes (a publisher restart, a switch to another source), and
 * packets the SFU decides not to forward (padding, for instance) leave no gap.
 * The rewriter keeps only a short offset history: for source sequence numbers
 * from `from` on (in one source epoch) the output is `src + seq_off`. That
 * history maps late (reordered) packets correctly and inverts the mapping for
 * a viewer's NACK, so the retransmission cache can stay shared per source.
 *
 * Source sequence numbers are extended (64-bit, see sfu_seq_unwrap); the
 * epoch is any number that changes when the source stream changes. The first
 * output sequence number is below 32768 so that libsrtp's roll-over-counter
 * guess stays right for reordered packets at the start. */
#ifndef SFU_CORE_SEQ_H
#define SFU_CORE_SEQ_H

#include "sfu/core/common.h"

/* Extends 16-bit sequence numbers to 64 bits (RFC 3550 A.1 idea): a value
 * more than half the space behind the highest one seen is a late packet. */
typedef struct sfu_seq_unwrapper {
    bool started;
    uint64_t highest;
} sfu_seq_unwrapper;

static inline uint64_t sfu_seq_unwrap(sfu_seq_unwrapper *u, uint16_t seq16)
{
    if (!u->started) {
        u->started = true;
        u->highest = (uint64_t)seq16 + 0x10000; /* room below for late packets */
        return u->highest;
    }
    uint16_t hi16 = (uint16_t)u->highest;
    int64_t delta = (int16_t)(uint16_t)(seq16 - hi16);
    uint64_t ext = (uint64_t)((int64_t)u->highest + delta); /* highest >= 0x10000 */
    if (ext > u->highest)
        u->highest = ext;
    return ext;
}

#define SFU_SEQ_HISTORY 64

typedef struct sfu_seq_entry {
    uint32_t epoch;
    uint64_t from;          /* first source seq this entry covers */
    int64_t seq_off;        /* out = src + seq_off */
    uint32_t ts_off;        /* out_ts = src_ts + ts_off (mod 2^32) */
} sfu_seq_entry;

typedef struct sfu_seq {
    bool started;
    uint32_t clock_rate;
    uint32_t epoch;             /* epoch of the newest entry */
    uint64_t max_src;           /* highest source seq mapped or dropped in `epoch` */
    uint64_t max_out;           /* highest output seq (extended) */
    uint32_t max_out_ts;        /* timestamp of the packet at max_out */
    sfu_time max_out_at;        /* when it was sent */
    uint64_t first_out;
    uint32_t first_ts;
    uint32_t head;              /* index of the newest entry */
    uint32_t count;
    sfu_seq_entry hist[SFU_SEQ_HISTORY];
} sfu_seq;

/* `first_seq16` is masked below 32768. */
void sfu_seq_init(sfu_seq *s, uint16_t first_seq16, uint32_t first_ts, uint32_t clock_rate);

/* Maps one forwarded packet of source `epoch`. A new epoch continues right
 * after the highest output so far, its timestamps after the last one by the
 * time elapsed. Returns 0, or -SFU_ENOTFOUND for a packet older than what the
 * history covers (the caller drops it as too old). */
int sfu_seq_map(sfu_seq *s, uint32_t epoch, uint64_t src_seq, uint32_t src_ts, sfu_time now,
                uint16_t *out_seq16, uint32_t *out_ts);

/* Source packet `src_seq` will not be forwarded: later packets close the gap.
 * A drop behind the newest forwarded packet cannot be hidden and is ignored. */
void sfu_seq_drop(sfu_seq *s, uint32_t epoch, uint64_t src_seq);

/* Inverts the mapping for a viewer's NACK: which source packet was sent as
 * `out_seq16`, and the timestamp offset to resend it with. -SFU_ENOTFOUND
 * when the history no longer covers it. */
int sfu_seq_unmap(const sfu_seq *s, uint16_t out_seq16, uint32_t *epoch, uint64_t *src_seq,
                  uint32_t *ts_off);

/* The timestamp offset of the newest mapping (sender reports translate the
 * publisher's RTP time through it); 0 before the first packet. */
uint32_t sfu_seq_ts_off(const sfu_seq *s);

#endif
