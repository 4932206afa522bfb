/* NACK generation for one received stream (RFC 4585 6.2.1 generic NACK).
 *
 * A receive log (a bitmap over the newest SFU_NACK_WINDOW extended sequence
 * numbers) tells new packets from duplicates; each gap becomes a missing
 * entry that is NACKed after `first_delay` (room for plain reordering), then
 * every `retry_interval` (or the RTT, if longer), until it arrives, has been
 * asked for `max_retries` times, or is older than `max_age`. A packet older
 * than the first one seen (reordering at the start) opens gaps below it as
 * well, so a stream's first packets are not silently lost. With
 * `max_silence`, a gap that opens after the stream was silent that long is
 * not NACKed at all (a keyframe is asked for instead). Sans-IO:
 * handle_timeout collects what is due; poll_timeout tells when. A gap too
 * large to track asks the caller for a keyframe instead. */
#ifndef SFU_CORE_NACK_GEN_H
#define SFU_CORE_NACK_GEN_H

#include "sfu/core/common.h"

#define SFU_NACK_WINDOW 1024        /* bits in the receive log */
#define SFU_NACK_MAX_MISSING 256    /* gaps tracked at once */
#define SFU_NACK_MAX_BELOW 32       /* gaps found below the first packet */

typedef struct sfu_nack_config {
    sfu_time first_delay;
    sfu_time retry_interval;
    uint32_t max_retries;
    sfu_time max_age;
    /* A gap that opens after the stream was silent longer than this is
     * given up whole, with a keyframe asked for (0: never). */
    sfu_time max_silence;
} sfu_nack_config;

typedef enum sfu_nack_result {
    SFU_NACK_NEW = 0,           /* first arrival, in order or after a gap */
    SFU_NACK_RECOVERED,         /* a missing packet arrived (late or resent) */
    SFU_NACK_DUPLICATE,
    SFU_NACK_TOO_OLD,           /* behind the receive log */
} sfu_nack_result;

typedef struct sfu_nack_missing {
    uint64_t seq;
    sfu_time lost_at;
    sfu_time next_at;
    uint32_t retries;
} sfu_nack_missing;

typedef struct sfu_nack_gen {
    sfu_nack_config cfg;
    sfu_time rtt;
    bool started;
    bool keyframe_needed;
    uint64_t highest;
    sfu_time highest_at;        /* when `highest` arrived */
    uint64_t lowest;            /* the oldest packet seen: gaps below it count too */
    uint64_t log[SFU_NACK_WINDOW / 64];
    uint32_t nmissing;          /* sorted by seq */
    sfu_nack_missing missing[SFU_NACK_MAX_MISSING];
    uint64_t nacked, recovered, given_up;
} sfu_nack_gen;

/* Defaults suited to video: first NACK after 10 ms, retries every 100 ms,
 * 10 tries, give up after 1 s; gaps after a silence are NACKed (a
 * receiver's view: the SFU's producers set max_silence). */
extern const sfu_nack_config sfu_nack_config_default;

void sfu_nack_gen_init(sfu_nack_gen *g, const sfu_nack_config *cfg);
/* Forget everything (the source restarted). */
void sfu_nack_gen_reset(sfu_nack_gen *g);
/* Extended sequence number `seq` arrived at `now`. */
sfu_nack_result sfu_nack_gen_handle_packet(sfu_nack_gen *g, uint64_t seq, sfu_time now);
/* Writes up to `cap` sequence numbers due for a NACK at `now` into `seqs`
 * (ascending) and returns how many; drops entries past their limits. */
size_t sfu_nack_gen_handle_timeout(sfu_nack_gen *g, sfu_time now, uint64_t *seqs, size_t cap);
sfu_time sfu_nack_gen_poll_timeout(const sfu_nack_gen *g);
/* Retries wait at least this long (0: unknown). */
void sfu_nack_gen_set_rtt(sfu_nack_gen *g, sfu_time rtt);
/* Whether `seq` is a gap still being NACKed (it may yet arrive). */
bool sfu_nack_gen_is_missing(const sfu_nack_gen *g, uint64_t seq);
/* True once after a gap too large to recover by NACKs. */
bool sfu_nack_gen_take_keyframe_request(sfu_nack_gen *g);

#endif
