/* Retransmission cache of one source stream.
 *
 * Keeps references to the received packets by extended sequence number, so
 * every viewer's NACK is answered from the same buffers (the viewers keep only
 * their offset history, see seq.h). Bounded by count and by age: a packet
 * older than `max_age` is too late to help a jitter buffer, and each put
 * gives such packets' buffers back to the pool. Allocated once. */
#ifndef SFU_CORE_RTX_CACHE_H
#define SFU_CORE_RTX_CACHE_H

#include "sfu/core/buf.h"
#include "sfu/core/common.h"

typedef struct sfu_rtx_cache sfu_rtx_cache;

sfu_rtx_cache *sfu_rtx_cache_new(uint32_t capacity, sfu_time max_age);
/* Releases every reference it holds. */
void sfu_rtx_cache_free(sfu_rtx_cache *cache);

/* Takes a reference to `buf` as packet `seq`, received at `now`. A packet
 * more than `capacity` behind the newest is refused with -SFU_ELIMIT; one
 * already held is kept and -SFU_ESTATE returned. */
int sfu_rtx_cache_put(sfu_rtx_cache *cache, uint64_t seq, sfu_buf *buf, sfu_time now);
/* Packet `seq` (borrowed: sfu_buf_ref it to keep it) or NULL. */
sfu_buf *sfu_rtx_cache_get(const sfu_rtx_cache *cache, uint64_t seq, sfu_time now);
/* How long ago packet `seq` was put, or -1 when it is not held. */
sfu_time sfu_rtx_cache_age(const sfu_rtx_cache *cache, uint64_t seq, sfu_time now);
/* Releases everything (the source restarted). */
void sfu_rtx_cache_clear(sfu_rtx_cache *cache);
uint32_t sfu_rtx_cache_count(const sfu_rtx_cache *cache);

#endif
