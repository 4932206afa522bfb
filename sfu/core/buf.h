/* Pooled, reference-counted packet buffers.
 *
 * A packet is copied once on ingress into an sfu_buf and decrypted in place;
 * from then on every viewer's output and the retransmission cache hold
 * references to that one buffer, which is never modified after ingress.
 * Buffers come from a pool per worker: no malloc per packet. The pool starts
 * with `initial` buffers and, when its free list runs dry, adds a chunk of
 * SFU_BUF_CHUNK more (one allocation, off the per-packet path) until it holds
 * `limit`; at the limit, or when the chunk cannot be allocated, sfu_buf_alloc
 * returns NULL and the caller drops and counts. Chunks stay until the pool
 * is freed. Single-threaded: a pool and its buffers belong to one worker. */
#ifndef SFU_CORE_BUF_H
#define SFU_CORE_BUF_H

#include "sfu/core/common.h"

/* Room for a full-size datagram plus SRTP's largest trailer (tag + MKI). */
#define SFU_BUF_CAP 1664
/* Buffers added at a time once the initial ones are all in use: 1.6 MiB,
 * about 2 s of a 3-layer simulcast publisher's packets. */
#define SFU_BUF_CHUNK 1024

typedef struct sfu_buf_pool sfu_buf_pool;

typedef struct sfu_buf {
    uint8_t data[SFU_BUF_CAP];
    uint16_t len;
    uint16_t refs;
    sfu_buf_pool *pool;
    struct sfu_buf *next_free;  /* the pool's free list, while free */
} sfu_buf;

/* A pool of `initial` buffers that grows up to `limit` (limit < initial:
 * limit = initial, a fixed pool). NULL for initial == 0 or out of memory. */
sfu_buf_pool *sfu_buf_pool_new_growing(uint32_t initial, uint32_t limit);
/* A fixed pool of `count` buffers. */
sfu_buf_pool *sfu_buf_pool_new(uint32_t count);
/* Frees the pool; every buffer must have been released. */
void sfu_buf_pool_free(sfu_buf_pool *pool);

/* A buffer with refs == 1 and len == 0, or NULL when the pool is empty and
 * cannot grow. */
sfu_buf *sfu_buf_alloc(sfu_buf_pool *pool);
sfu_buf *sfu_buf_ref(sfu_buf *buf);
void sfu_buf_unref(sfu_buf *buf);   /* NULL is a no-op */

uint32_t sfu_buf_pool_in_use(const sfu_buf_pool *pool);
uint32_t sfu_buf_pool_capacity(const sfu_buf_pool *pool);  /* buffers allocated now */
uint32_t sfu_buf_pool_limit(const sfu_buf_pool *pool);
uint64_t sfu_buf_pool_grown(const sfu_buf_pool *pool);     /* chunks added */
uint64_t sfu_buf_pool_exhausted(const sfu_buf_pool *pool); /* failed allocs */

#endif
