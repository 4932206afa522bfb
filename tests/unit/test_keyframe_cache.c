#include "sfu/core/keyframe_cache.h"
#include "tests/test.h"

/* 'k' a keyframe packet (seq, ts) arrives at `now`; 'r' asks for a replay
 * with `seq` the stream's newest packet: `ok` and, if so, `from`; 'x' the
 * source restarted. */
struct step {
    char op;
    sfu_time now;
    uint64_t seq;
    uint32_t ts;
    bool ok;
    uint64_t from;
};

TEST(range_table)
{
    static const struct step t[] = {
        { 'r', SFU_MS(0), 100, 0, false, 0 },               /* nothing yet */
        { 'k', SFU_MS(10), 100, 9000, 0, 0 },
        { 'r', SFU_MS(10), 100, 0, true, 100 },             /* just the keyframe's first packet */
        { 'r', SFU_MS(500), 160, 0, true, 100 },
        { 'k', SFU_MS(520), 98, 9000, 0, 0 },               /* the same keyframe, reordered */
        { 'r', SFU_MS(520), 160, 0, true, 98 },
        { 'k', SFU_MS(530), 90, 6000, 0, 0 },               /* an older keyframe, late: ignored */
        { 'r', SFU_MS(530), 160, 0, true, 98 },
        { 'r', SFU_MS(1010), 160, 0, true, 98 },            /* 1000 ms old: still served */
        { 'r', SFU_MS(1011), 160, 0, false, 0 },            /* older than max_age */
        { 'k', SFU_MS(1100), 200, 12000, 0, 0 },            /* a newer keyframe */
        { 'r', SFU_MS(1100), 263, 0, true, 200 },           /* 64 packets: at the limit */
        { 'r', SFU_MS(1100), 264, 0, false, 0 },            /* 65: too long a burst */
        { 'r', SFU_MS(1100), 199, 0, false, 0 },            /* newest before the keyframe: none */
        { 'x', SFU_MS(1200), 0, 0, 0, 0 },
        { 'r', SFU_MS(1200), 210, 0, false, 0 },            /* restarted: forgotten */
        { 'k', SFU_MS(1300), 5, 1, 0, 0 },                  /* the new stream's numbering */
        { 'r', SFU_MS(1300), 7, 0, true, 5 },
    };
    sfu_keyframe_cache k;
    sfu_keyframe_cache_init(&k, SFU_SEC(1), 64);
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        uint64_t from = 0;
        switch (t[i].op) {
        case 'k': sfu_keyframe_cache_handle_keyframe(&k, t[i].seq, t[i].ts, t[i].now); break;
        case 'x': sfu_keyframe_cache_reset(&k); break;
        case 'r': {
            bool ok = sfu_keyframe_cache_range(&k, t[i].seq, t[i].now, &from);
            if (ok != t[i].ok || (ok && from != t[i].from))
                TEST_FAIL_("step %zu: %d from %llu vs %d from %llu", i, ok, (unsigned long long)from,
                           t[i].ok, (unsigned long long)t[i].from);
            break;
        }
        }
    }
    return 0;
}

TEST(off_never_replays)
{
    sfu_keyframe_cache k;
    sfu_keyframe_cache_init(&k, 0, 512);
    sfu_keyframe_cache_handle_keyframe(&k, 10, 0, 0);
    uint64_t from;
    ASSERT(!sfu_keyframe_cache_range(&k, 10, 0, &from));
    return 0;
}

/* Replayed frames move toward the newest by 1/32 of their distance; the
 * newest and anything after it keep their timestamps; wrap-around is fine. */
TEST(squeeze_table)
{
    static const struct { uint32_t ts, anchor, want; } t[] = {
        { 1000000, 1000000, 1000000 },          /* the anchor itself */
        { 1000000 - 32, 1000000, 1000000 - 1 },
        { 1000000 - 3000, 1000000, 1000000 - 93 },
        { 1000000 - 90000, 1000000, 1000000 - 2812 },   /* 1 s becomes 31 ms */
        { 1003000, 1000000, 1003000 },          /* after the anchor: live, unchanged */
        { 0xffffff00u, 0x00000100u, 0x00000100u - 16 }, /* across the wrap */
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        uint32_t got = sfu_keyframe_cache_squeeze(t[i].ts, t[i].anchor);
        if (got != t[i].want)
            TEST_FAIL_("case %zu: %u vs %u", i, got, t[i].want);
    }
    /* Frames 1/30 s apart stay in order and distinct after the squeeze. */
    uint32_t prev = 0;
    for (uint32_t f = 0; f <= 30; f++) {
        uint32_t got = sfu_keyframe_cache_squeeze(500000 + f * 3000, 500000 + 30 * 3000);
        if (f > 0)
            ASSERT_GT(got, prev);
        prev = got;
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(range_table), TEST_ENTRY(off_never_replays), TEST_ENTRY(squeeze_table))
