/* The packet buffer pool: references, the free list, growth in chunks up to
 * the limit and refusal at it. */
#include "sfu/core/buf.h"
#include "tests/test.h"

TEST(refs_and_reuse)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(4);
    ASSERT(pool);
    sfu_buf *a = sfu_buf_alloc(pool);
    ASSERT(a);
    ASSERT_EQ(a->refs, 1);
    ASSERT_EQ(a->len, 0);
    a->len = 100;
    sfu_buf_ref(a);
    sfu_buf_unref(a);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 1);
    sfu_buf_unref(a);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf *b = sfu_buf_alloc(pool);
    ASSERT(b == a);         /* the one freed last goes out first */
    ASSERT_EQ(b->len, 0);
    sfu_buf_unref(b);
    sfu_buf_unref(NULL);
    sfu_buf_pool_free(pool);
    return 0;
}

TEST(fixed_pool_refuses_when_empty)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(3);
    sfu_buf *b[3];
    for (int i = 0; i < 3; i++)
        ASSERT((b[i] = sfu_buf_alloc(pool)) != NULL);
    ASSERT(sfu_buf_alloc(pool) == NULL);
    ASSERT_EQ(sfu_buf_pool_exhausted(pool), 1);
    ASSERT_EQ(sfu_buf_pool_grown(pool), 0);
    ASSERT_EQ(sfu_buf_pool_capacity(pool), 3);
    sfu_buf_unref(b[1]);
    ASSERT(sfu_buf_alloc(pool) == b[1]);
    for (int i = 0; i < 3; i++)
        sfu_buf_unref(b[i]);
    sfu_buf_pool_free(pool);
    ASSERT(sfu_buf_pool_new(0) == NULL);
    return 0;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(sfu_buf *const *)a, y = (uintptr_t)*(sfu_buf *const *)b;
    return x < y ? -1 : x > y;
}

/* 256 at start, grown by SFU_BUF_CHUNK and then by what is left to the
 * limit: every buffer distinct and whole, the next alloc refused. A fixed
 * pool of 256 (the old pool) fails at the 257th. */
TEST(grows_in_chunks_to_the_limit)
{
    const uint32_t initial = 256, limit = initial + SFU_BUF_CHUNK + 100;
    sfu_buf_pool *pool = sfu_buf_pool_new_growing(initial, limit);
    ASSERT(pool);
    ASSERT_EQ(sfu_buf_pool_capacity(pool), initial);
    ASSERT_EQ(sfu_buf_pool_limit(pool), limit);
    sfu_buf **held = calloc(limit, sizeof *held);
    ASSERT(held);
    for (uint32_t i = 0; i < limit; i++) {
        held[i] = sfu_buf_alloc(pool);
        ASSERT(held[i] != NULL);
        memset(held[i]->data, (int)(i & 0xff), SFU_BUF_CAP);
        held[i]->len = SFU_BUF_CAP;
        if (i == initial - 1)
            ASSERT_EQ(sfu_buf_pool_grown(pool), 0);
        if (i == initial)
            ASSERT_EQ(sfu_buf_pool_capacity(pool), initial + SFU_BUF_CHUNK);
    }
    ASSERT_EQ(sfu_buf_pool_grown(pool), 2);
    ASSERT_EQ(sfu_buf_pool_capacity(pool), limit);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), limit);
    ASSERT_EQ(sfu_buf_pool_exhausted(pool), 0);
    ASSERT(sfu_buf_alloc(pool) == NULL);
    ASSERT(sfu_buf_alloc(pool) == NULL);
    ASSERT_EQ(sfu_buf_pool_exhausted(pool), 2);
    ASSERT_EQ(sfu_buf_pool_grown(pool), 2);
    /* Every buffer its own: no two overlap, none was overwritten. */
    for (uint32_t i = 0; i < limit; i++)
        ASSERT(held[i]->data[0] == (uint8_t)i && held[i]->data[SFU_BUF_CAP - 1] == (uint8_t)i);
    qsort(held, limit, sizeof *held, cmp_ptr);
    for (uint32_t i = 1; i < limit; i++)
        ASSERT((uintptr_t)held[i] - (uintptr_t)held[i - 1] >= sizeof(sfu_buf));
    /* Given back, they serve again without growing. */
    for (uint32_t i = 0; i < limit; i++)
        sfu_buf_unref(held[i]);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    for (uint32_t i = 0; i < limit; i++)
        ASSERT((held[i] = sfu_buf_alloc(pool)) != NULL);
    ASSERT_EQ(sfu_buf_pool_grown(pool), 2);
    ASSERT(sfu_buf_alloc(pool) == NULL);
    for (uint32_t i = 0; i < limit; i++)
        sfu_buf_unref(held[i]);
    free(held);
    sfu_buf_pool_free(pool);
    return 0;
}

/* A limit below the initial size is the initial size: a fixed pool. */
TEST(limit_below_initial_is_fixed)
{
    sfu_buf_pool *pool = sfu_buf_pool_new_growing(8, 2);
    ASSERT_EQ(sfu_buf_pool_limit(pool), 8);
    sfu_buf *b[8];
    for (int i = 0; i < 8; i++)
        ASSERT((b[i] = sfu_buf_alloc(pool)) != NULL);
    ASSERT(sfu_buf_alloc(pool) == NULL);
    ASSERT_EQ(sfu_buf_pool_grown(pool), 0);
    for (int i = 0; i < 8; i++)
        sfu_buf_unref(b[i]);
    sfu_buf_pool_free(pool);
    return 0;
}

TEST_LIST(TEST_ENTRY(refs_and_reuse), TEST_ENTRY(fixed_pool_refuses_when_empty),
          TEST_ENTRY(grows_in_chunks_to_the_limit), TEST_ENTRY(limit_below_initial_is_fixed))
