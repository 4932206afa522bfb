#include "sfu/core/keyframe_req.h"
#include "sfu/core/sr_translate.h"
#include "tests/test.h"

/* 'w' want at now expects send; 't' timeout expects send; 'k' keyframe
 * arrived; 'p' poll expects the deadline in `now`; 'c' the publisher's
 * path changed. */
struct step {
    char op;
    sfu_time now;
    bool send;
};

TEST(throttle_and_coalesce)
{
    static const struct step t[] = {
        { 'p', SFU_TIME_NEVER, 0 },
        { 'w', SFU_MS(0), true },           /* first request goes at once */
        { 'w', SFU_MS(100), false },        /* coalesced */
        { 'w', SFU_MS(200), false },
        { 'p', SFU_MS(1000), 0 },
        { 't', SFU_MS(999), false },
        { 't', SFU_MS(1000), true },        /* one request for both */
        { 'p', SFU_TIME_NEVER, 0 },
        { 't', SFU_MS(2500), false },       /* nothing pending */
        { 'w', SFU_MS(2500), true },        /* interval long past */
        { 'w', SFU_MS(2600), false },
        { 'k', SFU_MS(2700), 0 },           /* a keyframe came anyway */
        { 'p', SFU_TIME_NEVER, 0 },
        { 't', SFU_MS(3500), false },
        { 'w', SFU_MS(3499), false },       /* 999 ms after the last one */
        { 'w', SFU_MS(3500), true },
        { 'w', SFU_MS(3600), false },       /* coalesced... */
        { 'c', SFU_MS(3700), 0 },           /* ...but the path it went down died */
        { 'w', SFU_MS(3700), true },        /* so this one goes at once */
        { 'p', SFU_TIME_NEVER, 0 },
        { 'w', SFU_MS(3800), false },       /* and the throttle holds again */
    };
    sfu_keyframe_req k;
    sfu_keyframe_req_init(&k, SFU_SEC(1));
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        bool got = false;
        switch (t[i].op) {
        case 'w': got = sfu_keyframe_req_want(&k, t[i].now); break;
        case 't': got = sfu_keyframe_req_handle_timeout(&k, t[i].now); break;
        case 'k': sfu_keyframe_req_keyframe_received(&k); continue;
        case 'c': sfu_keyframe_req_path_changed(&k); continue;
        case 'p':
            if (sfu_keyframe_req_poll_timeout(&k) != t[i].now)
                TEST_FAIL_("step %zu: poll %lld vs %lld", i,
                           (long long)sfu_keyframe_req_poll_timeout(&k), (long long)t[i].now);
            continue;
        }
        if (got != t[i].send)
            TEST_FAIL_("step %zu: send %d vs %d", i, got, t[i].send);
    }
    ASSERT_EQ(k.sent, 5);
    return 0;
}

TEST(fir_seq_advances_and_wraps)
{
    sfu_keyframe_req k;
    sfu_keyframe_req_init(&k, 0);
    for (int i = 0; i < 300; i++)
        ASSERT_EQ(sfu_keyframe_req_fir_seq(&k), i & 0xff);
    /* With no interval every request goes out. */
    ASSERT(sfu_keyframe_req_want(&k, 5));
    ASSERT(sfu_keyframe_req_want(&k, 5));
    return 0;
}

TEST(sr_translate_table)
{
    sfu_sr_translate t;
    sfu_sr_translate_init(&t, 90000);
    uint64_t ntp;
    uint32_t ts;
    ASSERT_EQ(sfu_sr_translate_get(&t, 0, 0, &ntp, &ts), -SFU_ESTATE);
    const uint64_t ntp0 = (uint64_t)3900000000u << 32 | 0x80000000u; /* x.5 s */
    sfu_sr_translate_handle_sr(&t, ntp0, 0xfffff000u, SFU_SEC(10));
    static const struct { sfu_time now; uint32_t ts_off; uint64_t ntp; uint32_t ts; } c[] = {
        { SFU_SEC(10), 0, ntp0, 0xfffff000u },
        { SFU_SEC(10), 1000, ntp0, 0xfffff000u + 1000 },
        { SFU_SEC(10) + SFU_MS(500), 0, ntp0 + 0x80000000u, 0xfffff000u + 45000 },  /* wraps */
        { SFU_SEC(12), 7, ntp0 + ((uint64_t)2 << 32), 0xfffff000u + 180000 + 7 },
        { SFU_SEC(10) - SFU_MS(250), 0, ntp0 - 0x40000000u, 0xfffff000u - 22500 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(c); i++) {
        ASSERT_EQ(sfu_sr_translate_get(&t, c[i].now, c[i].ts_off, &ntp, &ts), 0);
        ASSERT_EQ(ntp, c[i].ntp);
        ASSERT_EQ(ts, c[i].ts);
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(throttle_and_coalesce), TEST_ENTRY(fir_seq_advances_and_wraps),
          TEST_ENTRY(sr_translate_table))
