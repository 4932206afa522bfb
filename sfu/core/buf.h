/* Pooled, reference-counted packet buffers.
 *
 * A packet is copied once on ingress into an sfu_buf and decrypted in place;
 * from then on every viewer's output and the retransmission cache hold
 * references to that one buffer, which is never modified after ingress.
 * Buffers come from a fixed pool per worker: no malloc per packet. An empty
 * pool makes sfu_buf_alloc return NULL and the caller drops and counts.
 * Single-threaded: a pool and its buffers belong to one worker. */
#ifndef SFU_CORE_BUF_H
#define SFU_CORE_BUF_H

#include "sfu/core/common.h"

/* Room for a full-size datagram plus SRTP's largest trailer (tag + MKI). */
#define SFU_BUF_CAP 1664

typedef struct sfu_buf_pool sfu_buf_pool;

typedef struct sfu_buf {
    uint8_t data[SFU_BUF_CAP];
    uint16_t len;
    uint16_t refs;
    uint32_t pool_index;
    sfu_buf_pool *pool;
} sfu_buf;

sfu_buf_pool *sfu_buf_pool_new(uint32_t count);
/* Frees the pool; every buffer must have been released. */
void sfu_buf_pool_free(sfu_buf_pool *pool);

/* A buffer with refs == 1 and len == 0, or NULL when the pool is empty. */
sfu_buf *sfu_buf_alloc(sfu_buf_pool *pool);
sfu_buf *sfu_buf_ref(sfu_buf *buf);
void sfu_buf_unref(sfu_buf *buf);   /* NULL is a no-op */

uint32_t sfu_buf_pool_in_use(const sfu_buf_pool *pool);
uint32_t sfu_buf_pool_capacity(const sfu_buf_pool *pool);
uint64_t sfu_buf_pool_exhausted(const sfu_buf_pool *pool); /* failed allocs */

#endif
