#include "sfu/core/buf.h"

#include <stdlib.h>

struct sfu_buf_pool {
    sfu_buf *bufs;
    uint32_t *free_stack;   /* indexes of free buffers */
    uint32_t free_count;
    uint32_t capacity;
    uint64_t exhausted;
};

sfu_buf_pool *sfu_buf_pool_new(uint32_t count)
{
    sfu_buf_pool *pool = calloc(1, sizeof *pool);
    if (!pool || count == 0)
        goto err;
    pool->bufs = calloc(count, sizeof *pool->bufs);
    pool->free_stack = calloc(count, sizeof *pool->free_stack);
    if (!pool->bufs || !pool->free_stack)
        goto err;
    pool->capacity = count;
    for (uint32_t i = 0; i < count; i++) {
        pool->bufs[i].pool = pool;
        pool->bufs[i].pool_index = i;
        pool->free_stack[i] = count - 1 - i;
    }
    pool->free_count = count;
    return pool;
err:
    sfu_buf_pool_free(pool);
    return NULL;
}

void sfu_buf_pool_free(sfu_buf_pool *pool)
{
    if (!pool)
        return;
    free(pool->bufs);
    free(pool->free_stack);
    free(pool);
}

sfu_buf *sfu_buf_alloc(sfu_buf_pool *pool)
{
    if (pool->free_count == 0) {
        pool->exhausted++;
        return NULL;
    }
    sfu_buf *buf = &pool->bufs[pool->free_stack[--pool->free_count]];
    buf->refs = 1;
    buf->len = 0;
    return buf;
}

sfu_buf *sfu_buf_ref(sfu_buf *buf)
{
    buf->refs++;
    return buf;
}

void sfu_buf_unref(sfu_buf *buf)
{
    if (!buf)
        return;
    if (--buf->refs == 0) {
        sfu_buf_pool *pool = buf->pool;
        pool->free_stack[pool->free_count++] = buf->pool_index;
    }
}

uint32_t sfu_buf_pool_in_use(const sfu_buf_pool *pool)
{
    return pool->capacity - pool->free_count;
}

uint32_t sfu_buf_pool_capacity(const sfu_buf_pool *pool) { return pool->capacity; }
uint64_t sfu_buf_pool_exhausted(const sfu_buf_pool *pool) { return pool->exhausted; }
