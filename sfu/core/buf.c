#include "sfu/core/buf.h"

#include <stdlib.h>

struct sfu_buf_pool {
    sfu_buf *free;          /* LIFO: the buffer freed last, still in cache, goes out first */
    uint32_t free_count;
    uint32_t capacity;
    uint32_t limit;
    sfu_buf **chunks;       /* what was allocated, to free it */
    uint32_t nchunks, capchunks;
    uint64_t grown;
    uint64_t exhausted;
};

/* Allocates `count` buffers and puts them on the free list (lowest address
 * first out). Their pages are all touched here, not on the packet path. */
static int add_chunk(sfu_buf_pool *pool, uint32_t count)
{
    if (pool->nchunks == pool->capchunks) {
        uint32_t cap = pool->capchunks ? pool->capchunks * 2 : 8;
        sfu_buf **c = realloc(pool->chunks, cap * sizeof *c);
        if (!c)
            return -1;
        pool->chunks = c;
        pool->capchunks = cap;
    }
    sfu_buf *bufs = malloc((size_t)count * sizeof *bufs);
    if (!bufs)
        return -1;
    pool->chunks[pool->nchunks++] = bufs;
    for (uint32_t i = count; i-- > 0;) {
        bufs[i].len = 0;
        bufs[i].refs = 0;
        bufs[i].pool = pool;
        bufs[i].next_free = pool->free;
        pool->free = &bufs[i];
    }
    pool->free_count += count;
    pool->capacity += count;
    return 0;
}

sfu_buf_pool *sfu_buf_pool_new_growing(uint32_t initial, uint32_t limit)
{
    if (initial == 0)
        return NULL;
    sfu_buf_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->limit = limit < initial ? initial : limit;
    if (add_chunk(pool, initial) != 0) {
        sfu_buf_pool_free(pool);
        return NULL;
    }
    return pool;
}

sfu_buf_pool *sfu_buf_pool_new(uint32_t count) { return sfu_buf_pool_new_growing(count, count); }

void sfu_buf_pool_free(sfu_buf_pool *pool)
{
    if (!pool)
        return;
    for (uint32_t i = 0; i < pool->nchunks; i++)
        free(pool->chunks[i]);
    free(pool->chunks);
    free(pool);
}

/* The free list ran dry: one more chunk, clipped to the limit. */
static bool grow(sfu_buf_pool *pool)
{
    uint32_t room = pool->limit - pool->capacity;
    if (room == 0 || add_chunk(pool, room < SFU_BUF_CHUNK ? room : SFU_BUF_CHUNK) != 0)
        return false;
    pool->grown++;
    return true;
}

sfu_buf *sfu_buf_alloc(sfu_buf_pool *pool)
{
    if (!pool->free && !grow(pool)) {
        pool->exhausted++;
        return NULL;
    }
    sfu_buf *buf = pool->free;
    pool->free = buf->next_free;
    pool->free_count--;
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
        buf->next_free = pool->free;
        pool->free = buf;
        pool->free_count++;
    }
}

uint32_t sfu_buf_pool_in_use(const sfu_buf_pool *pool)
{
    return pool->capacity - pool->free_count;
}

uint32_t sfu_buf_pool_capacity(const sfu_buf_pool *pool) { return pool->capacity; }
uint32_t sfu_buf_pool_limit(const sfu_buf_pool *pool) { return pool->limit; }
uint64_t sfu_buf_pool_grown(const sfu_buf_pool *pool) { return pool->grown; }
uint64_t sfu_buf_pool_exhausted(const sfu_buf_pool *pool) { return pool->exhausted; }
