#include "sfu/core/rtx_cache.h"
#include "tests/test.h"

struct step {
    char op;            /* 'p' put, 'g' get (expect hit or miss), 'a' age (expect us, -1 not
                           held), 'c' clear */
    uint64_t seq;
    sfu_time now;
    int expect;         /* put: rc; get: 1 hit, 0 miss */
    uint32_t count;     /* packets held afterwards */
};

TEST(put_get_table)
{
    static const struct step t[] = {
        { 'p', 100, 0, 0, 1 },
        { 'g', 100, 0, 1, 1 },
        { 'a', 100, SFU_MS(7), SFU_MS(7), 1 },
        { 'a', 101, SFU_MS(7), -1, 1 },
        { 'g', 101, 0, 0, 1 },
        { 'p', 100, 0, -SFU_ESTATE, 1 },    /* duplicate */
        { 'p', 103, 0, 0, 2 },
        { 'p', 101, 0, 0, 3 },              /* late, still in the window */
        { 'p', 107, 0, 0, 4 },              /* window of 8: 100..107 all fit */
        { 'g', 100, 0, 1, 4 },
        { 'p', 108, 0, 0, 4 },              /* 100 leaves the window */
        { 'g', 100, 0, 0, 4 },
        { 'p', 100, 0, -SFU_ELIMIT, 4 },    /* too far behind */
        { 'g', 108, SFU_MS(999), 1, 4 },
        { 'g', 108, SFU_MS(1001), 0, 4 },   /* older than max_age */
        { 'a', 108, SFU_MS(1001), SFU_MS(1001), 4 }, /* held still: the age says how old */
        { 'p', 1000, SFU_MS(1001), 0, 1 },  /* a jump releases everything */
        { 'g', 103, SFU_MS(1001), 0, 1 },
        { 'g', 1000, SFU_MS(1001), 1, 1 },
        { 'c', 0, 0, 0, 0 },
        { 'g', 1000, SFU_MS(1001), 0, 0 },
        { 'p', 5, SFU_MS(1001), 0, 1 },     /* after clear, any seq starts over */
    };
    sfu_buf_pool *pool = sfu_buf_pool_new(16);
    sfu_rtx_cache *c = sfu_rtx_cache_new(8, SFU_SEC(1));
    ASSERT(pool && c);
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        if (t[i].op == 'p') {
            sfu_buf *b = sfu_buf_alloc(pool);
            ASSERT(b);
            b->len = (uint16_t)(t[i].seq & 0xff);
            int rc = sfu_rtx_cache_put(c, t[i].seq, b, t[i].now);
            sfu_buf_unref(b);
            if (rc != t[i].expect)
                TEST_FAIL_("step %zu: rc %d vs %d", i, rc, t[i].expect);
        } else if (t[i].op == 'g') {
            sfu_buf *b = sfu_rtx_cache_get(c, t[i].seq, t[i].now);
            if ((b != NULL) != t[i].expect)
                TEST_FAIL_("step %zu: hit %d vs %d", i, b != NULL, t[i].expect);
            if (b)
                ASSERT_EQ(b->len, t[i].seq & 0xff);
        } else if (t[i].op == 'a') {
            sfu_time age = sfu_rtx_cache_age(c, t[i].seq, t[i].now);
            if (age != t[i].expect)
                TEST_FAIL_("step %zu: age %lld vs %d", i, (long long)age, t[i].expect);
        } else {
            sfu_rtx_cache_clear(c);
        }
        if (sfu_rtx_cache_count(c) != t[i].count)
            TEST_FAIL_("step %zu: count %u vs %u", i, sfu_rtx_cache_count(c), t[i].count);
        ASSERT_EQ(sfu_buf_pool_in_use(pool), t[i].count);
    }
    sfu_rtx_cache_free(c);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

TEST(free_releases_references)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(64);
    sfu_rtx_cache *c = sfu_rtx_cache_new(32, SFU_SEC(1));
    ASSERT(pool && c);
    for (uint64_t s = 0; s < 100; s++) {
        sfu_buf *b = sfu_buf_alloc(pool);
        ASSERT(b);
        ASSERT_EQ(sfu_rtx_cache_put(c, s, b, 0), 0);
        sfu_buf_unref(b);
    }
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 32);
    sfu_rtx_cache_free(c);
    sfu_rtx_cache_free(NULL);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

/* A slow stream in a big cache: only max_age of packets stays held (the
 * pool is shared by every stream of a worker), a late packet put below the
 * held ones is kept and later given back too. */
TEST(expired_packets_go_back_to_the_pool)
{
    sfu_buf_pool *pool = sfu_buf_pool_new(1024);
    sfu_rtx_cache *c = sfu_rtx_cache_new(512, SFU_SEC(1));
    ASSERT(pool && c);
    /* 50 packets a second for 4 s, every 5th put 300 ms late (the last
     * three of those never) */
    sfu_time now = 0;
    for (uint64_t s = 0; s < 200; s++, now += SFU_MS(20)) {
        uint64_t seq = s % 5 == 4 && s >= 15 ? s - 15 : s;
        if (s % 5 == 4 && s < 15)
            continue;
        sfu_buf *b = sfu_buf_alloc(pool);
        ASSERT(b);
        ASSERT_EQ(sfu_rtx_cache_put(c, seq, b, now), 0);
        sfu_buf_unref(b);
        /* 1 s at 50/s; behind a late packet, up to its 300 ms more */
        ASSERT(sfu_rtx_cache_count(c) <= 51 + 15);
    }
    ASSERT(sfu_rtx_cache_count(c) >= 49);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), sfu_rtx_cache_count(c));
    sfu_time last = now - SFU_MS(20);
    ASSERT(sfu_rtx_cache_get(c, 198, last) != NULL);
    ASSERT(sfu_rtx_cache_get(c, 184, last) != NULL);    /* the late one, put at 199's time */
    ASSERT(sfu_rtx_cache_get(c, 100, last) == NULL);
    ASSERT_EQ(sfu_rtx_cache_age(c, 100, last), -1);    /* given back, not only refused */
    sfu_rtx_cache_free(c);
    ASSERT_EQ(sfu_buf_pool_in_use(pool), 0);
    sfu_buf_pool_free(pool);
    return 0;
}

TEST_LIST(TEST_ENTRY(put_get_table), TEST_ENTRY(free_releases_references),
          TEST_ENTRY(expired_packets_go_back_to_the_pool))
