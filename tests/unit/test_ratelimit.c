/* The per-client token bucket on a virtual clock. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>

#include "signaling/ratelimit.h"
#include "tests/test.h"

#define T0 SFU_SEC(1000)

/* Replays a script of (time offset, client, expected answer, retry-after). */
TEST(bucket_script)
{
    sig_ratelimit *rl = sig_ratelimit_new(2, 3, 0);     /* 2/s, burst 3 */
    ASSERT(rl);
    static const struct {
        sfu_time at;
        const char *client;
        bool allowed;
        uint32_t retry;
    } steps[] = {
        { 0, "a", true, 0 },  { 0, "a", true, 0 },  { 0, "a", true, 0 },     /* the burst */
        { 0, "a", false, 1 },                                                /* 0.5 s away */
        { 0, "b", true, 0 },                                                 /* own bucket */
        { SFU_MS(499), "a", false, 1 },
        { SFU_MS(500), "a", true, 0 },                                       /* one refilled */
        { SFU_MS(500), "a", false, 1 },
        { SFU_MS(1000), "a", true, 0 },
        { SFU_MS(1000), "a", false, 1 },
        { SFU_MS(1000), "b", true, 0 }, { SFU_MS(1000), "b", true, 0 },
        { SFU_MS(1000), "b", true, 0 },                                      /* b: 1 left + 2 */
        { SFU_MS(1000), "b", false, 1 },
        { SFU_SEC(100), "a", true, 0 }, { SFU_SEC(100), "a", true, 0 },
        { SFU_SEC(100), "a", true, 0 },                                      /* capped at burst */
        { SFU_SEC(100), "a", false, 1 },
        { SFU_SEC(99), "a", false, 1 },                                      /* clock stepped back */
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(steps); i++) {
        uint32_t retry = 0;
        bool ok = sig_ratelimit_allow(rl, steps[i].client, T0 + steps[i].at, &retry);
        if (ok != steps[i].allowed)
            fprintf(stderr, "  step %zu\n", i);
        ASSERT_EQ(ok, steps[i].allowed);
        if (!ok)
            ASSERT_EQ(retry, steps[i].retry);
    }
    sig_ratelimit_free(rl);
    return 0;
}

TEST(retry_after_rounds_up)
{
    static const struct {
        uint32_t rate, burst;
        sfu_time wait;          /* after the burst */
        uint32_t want;
    } cases[] = {
        { 1, 1, 0, 1 },
        { 1, 1, SFU_MS(999), 1 },
        { 100, 1, 0, 1 },       /* 10 ms away is still "1 second" */
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        sig_ratelimit *rl = sig_ratelimit_new(cases[i].rate, cases[i].burst, 16);
        ASSERT(rl);
        for (uint32_t k = 0; k < cases[i].burst; k++)
            ASSERT(sig_ratelimit_allow(rl, "c", T0, NULL));
        uint32_t retry = 0;
        ASSERT(!sig_ratelimit_allow(rl, "c", T0 + cases[i].wait, &retry));
        ASSERT_EQ(retry, cases[i].want);
        sig_ratelimit_free(rl);
    }
    /* Over a long run the rate holds exactly: 60 s at 5/s plus the burst. */
    sig_ratelimit *rl = sig_ratelimit_new(5, 10, 16);
    ASSERT(rl);
    unsigned allowed = 0;
    for (sfu_time t = 0; t <= SFU_SEC(60); t += SFU_MS(10))
        allowed += sig_ratelimit_allow(rl, "c", T0 + t, NULL);
    ASSERT_EQ(allowed, 10 + 5 * 60);
    sig_ratelimit_free(rl);
    return 0;
}

TEST(off_and_burst_zero)
{
    sig_ratelimit *off = sig_ratelimit_new(0, 40, 0);
    ASSERT(off);
    for (int i = 0; i < 10000; i++)
        ASSERT(sig_ratelimit_allow(off, "a", T0, NULL));
    ASSERT_EQ(sig_ratelimit_tracked(off), 0);
    sig_ratelimit_free(off);
    ASSERT(sig_ratelimit_allow(NULL, "a", T0, NULL));
    sig_ratelimit_free(NULL);
    sig_ratelimit *one = sig_ratelimit_new(1, 0, 0);    /* burst 0 counts as 1 */
    ASSERT(one);
    ASSERT(sig_ratelimit_allow(one, "a", T0, NULL));
    ASSERT(!sig_ratelimit_allow(one, "a", T0, NULL));
    sig_ratelimit_free(one);
    return 0;
}

TEST(memory_bounded)
{
    sig_ratelimit *rl = sig_ratelimit_new(1, 2, 100);
    ASSERT(rl);
    char key[32];
    /* 1000 busy clients at once: never more than 100 tracked. */
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        ASSERT(sig_ratelimit_allow(rl, key, T0, NULL));
        ASSERT_LE(sig_ratelimit_tracked(rl), 100);
    }
    ASSERT_EQ(sig_ratelimit_tracked(rl), 100);
    /* The most recent ones are still limited after a second request. */
    ASSERT(sig_ratelimit_allow(rl, "10.0.3.231", T0, NULL));
    ASSERT(!sig_ratelimit_allow(rl, "10.0.3.231", T0, NULL));
    /* Once buckets have refilled, calls drop the idle keys as they go. */
    for (int i = 0; i < 60; i++)
        sig_ratelimit_allow(rl, "late", T0 + SFU_SEC(10) + i, NULL);
    ASSERT_EQ(sig_ratelimit_tracked(rl), 1);    /* "late" alone, still busy */
    /* A key longer than the limit is cut, not refused. */
    char long_key[200];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    ASSERT(sig_ratelimit_allow(rl, long_key, T0 + SFU_SEC(20), NULL));
    sig_ratelimit_free(rl);
    return 0;
}

TEST(key_from_address)
{
    static const struct {
        int family;
        const char *addr, *want;
    } cases[] = {
        { AF_INET, "192.0.2.7", "192.0.2.7" },
        { AF_INET6, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64" },
        { AF_INET6, "2001:db8:1:2:ffff::1", "2001:db8:1:2::/64" },
        { AF_INET6, "::1", "::/64" },
        { AF_INET6, "::ffff:198.51.100.9", "198.51.100.9" },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        struct sockaddr_storage ss = { 0 };
        if (cases[i].family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            in->sin_family = AF_INET;
            ASSERT_EQ(inet_pton(AF_INET, cases[i].addr, &in->sin_addr), 1);
        } else {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            in6->sin6_family = AF_INET6;
            ASSERT_EQ(inet_pton(AF_INET6, cases[i].addr, &in6->sin6_addr), 1);
        }
        char key[SIG_RATELIMIT_KEY_MAX];
        ASSERT_EQ(sig_ratelimit_key((struct sockaddr *)&ss, key, sizeof key), 0);
        ASSERT_STR_EQ(key, cases[i].want);
    }
    struct sockaddr_storage un = { .ss_family = AF_UNIX };
    char key[SIG_RATELIMIT_KEY_MAX];
    ASSERT_EQ(sig_ratelimit_key((struct sockaddr *)&un, key, sizeof key), -SFU_EINVAL);
    ASSERT_EQ(sig_ratelimit_key(NULL, key, sizeof key), -SFU_EINVAL);
    return 0;
}

/* Four threads on one frozen clock share the keys' bursts exactly. */
static sig_ratelimit *shared;
static void *hammer(void *arg)
{
    unsigned *allowed = arg;
    char key[8];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%d", i % 50);
        *allowed += sig_ratelimit_allow(shared, key, T0, NULL);
    }
    return NULL;
}

TEST(threads)
{
    shared = sig_ratelimit_new(1, 7, 64);
    ASSERT(shared);
    pthread_t th[4];
    unsigned allowed[4] = { 0 };
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, hammer, &allowed[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ASSERT_EQ(allowed[0] + allowed[1] + allowed[2] + allowed[3], 50 * 7);
    ASSERT_EQ(sig_ratelimit_tracked(shared), 50);
    sig_ratelimit_free(shared);
    return 0;
}

TEST_LIST(TEST_ENTRY(bucket_script), TEST_ENTRY(retry_after_rounds_up),
          TEST_ENTRY(off_and_burst_zero), TEST_ENTRY(memory_bounded), TEST_ENTRY(key_from_address),
          TEST_ENTRY(threads))
