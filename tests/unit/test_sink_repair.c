/* sink_repair: one keyframe request per break (again only after the re-ask
 * time, never after a keyframe repaired it), and copies that follow the
 * loss the viewer's NACKs show, with hysteresis. */
#include "sfu/core/sink_repair.h"
#include "tests/test.h"

TEST(one_request_per_break)
{
    sfu_sink_repair r;
    sfu_sink_repair_init(&r);
    sfu_time t = SFU_SEC(10);
    /* A NACK naming 60 packets that cannot be resent: one request. */
    ASSERT(sfu_sink_repair_unrecoverable(&r, 1, 100, t));
    for (uint64_t q = 101; q < 160; q++)
        ASSERT(!sfu_sink_repair_unrecoverable(&r, 1, q, t));
    ASSERT_EQ(r.broken_seq, 159);
    /* The browser NACKs them again every 100 ms: no new request while the
     * keyframe may be on its way ... */
    ASSERT(!sfu_sink_repair_unrecoverable(&r, 1, 100, t + SFU_MS(100)));
    ASSERT(!sfu_sink_repair_unrecoverable(&r, 1, 100, t + SFU_MS(299)));
    /* ... then once more (the request or the keyframe may have been lost). */
    ASSERT(sfu_sink_repair_unrecoverable(&r, 1, 100, t + SFU_MS(300)));
    ASSERT(!sfu_sink_repair_unrecoverable(&r, 1, 100, t + SFU_MS(400)));
    ASSERT_EQ(r.keyframes_asked, 2);
    /* A keyframe older than the break does not repair it; a newer one does. */
    sfu_sink_repair_keyframe_sent(&r, 1, 150);
    ASSERT(r.broken);
    sfu_sink_repair_keyframe_sent(&r, 1, 170);
    ASSERT(!r.broken);
    /* A late NACK for the old packets after that is a new break only by
     * what the caller sees: packets before the viewer's keyframe are not
     * NACK-answered at all (room_retransmit), so it never gets here. A new
     * break asks at once, whatever the time since the last request. */
    ASSERT(sfu_sink_repair_unrecoverable(&r, 1, 200, t + SFU_MS(450)));
    /* A new stream (epoch): its first break asks at once. */
    ASSERT(sfu_sink_repair_unrecoverable(&r, 2, 5, t + SFU_MS(460)));
    ASSERT_EQ(r.epoch, 2);
    /* A keyframe of another epoch ends the old break too. */
    sfu_sink_repair_keyframe_sent(&r, 3, 1);
    ASSERT(!r.broken);
    return 0;
}

/* Forwards `n` packets, NACKing every `every`-th one (0: none); returns the
 * copies asked for the last. */
static uint8_t run(sfu_sink_repair *r, uint16_t *seq16, int n, int every)
{
    uint8_t c = 1;
    for (int i = 0; i < n; i++) {
        c = sfu_sink_repair_on_forward(r, *seq16);
        if (every && (*seq16 % every) == 0) {
            sfu_sink_repair_on_nack(r, seq16, 1);
            sfu_sink_repair_on_nack(r, seq16, 1); /* a retry: counted once */
        }
        (*seq16)++;
    }
    return c;
}

TEST(copies_follow_loss)
{
    static const struct {
        int packets, every;     /* NACKed: one in `every` */
        uint8_t fwd, rtx;       /* copies after them */
    } steps[] = {
        { 320, 0, 1, 1 },       /* clean */
        { 320, 20, 1, 2 },      /* 5 %: retransmissions twice */
        { 320, 5, 2, 3 },       /* 20 %: everything twice, retransmissions three times */
        { 320, 12, 2, 3 },      /* 8 % left with the copies: they stay */
        { 320, 50, 2, 3 },      /* 2 % */
        { 320, 0, 1, 1 },       /* clean: back to one */
        { 320, 10, 1, 2 },      /* 10 %: not enough for copies of everything */
    };
    sfu_sink_repair r;
    sfu_sink_repair_init(&r);
    ASSERT_EQ(sfu_sink_repair_rtx_copies(&r), 1);
    uint16_t seq16 = 65000; /* wraps during the run */
    for (size_t i = 0; i < SFU_ARRAY_LEN(steps); i++) {
        uint8_t fwd = run(&r, &seq16, steps[i].packets, steps[i].every);
        if (fwd != steps[i].fwd || sfu_sink_repair_rtx_copies(&r) != steps[i].rtx)
            fprintf(stderr, "  step %zu: loss %u permille, copies %u\n", i, r.loss_pm, r.copies);
        ASSERT_EQ(fwd, steps[i].fwd);
        ASSERT_EQ(sfu_sink_repair_rtx_copies(&r), steps[i].rtx);
    }
    return 0;
}

TEST(old_nacks_not_counted)
{
    sfu_sink_repair r;
    sfu_sink_repair_init(&r);
    static const uint16_t a[] = { 100 }, b[] = { 90, 100, 101 };
    (void)sfu_sink_repair_on_forward(&r, 102);
    sfu_sink_repair_on_nack(&r, a, 1);
    sfu_sink_repair_on_nack(&r, b, 3);  /* 100 again: only 90 (its own NACK lost) and 101 count */
    ASSERT_EQ(r.window_nacked, 3);
    sfu_sink_repair_on_nack(&r, b, 3);  /* all again */
    ASSERT_EQ(r.window_nacked, 3);
    /* An outage's NACK (200 packets at once) counts as SFU_SINK_REPAIR_NACK_BURST. */
    uint16_t burst[200];
    for (int i = 0; i < 200; i++)
        burst[i] = (uint16_t)(102 + i);
    (void)sfu_sink_repair_on_forward(&r, 310);
    sfu_sink_repair_on_nack(&r, burst, 200);
    ASSERT_EQ(r.window_nacked, 3 + SFU_SINK_REPAIR_NACK_BURST);
    /* ... and of those only the last SFU_SINK_REPAIR_WINDOW sent count. */
    for (int i = 0; i < 200; i++)
        burst[i] = (uint16_t)(302 + i);
    (void)sfu_sink_repair_on_forward(&r, 700);
    sfu_sink_repair_on_nack(&r, burst, 200); /* 302..501: all far behind 700 */
    ASSERT_EQ(r.window_nacked, 3 + SFU_SINK_REPAIR_NACK_BURST);
    for (int i = 2; i < SFU_SINK_REPAIR_WINDOW; i++)
        (void)sfu_sink_repair_on_forward(&r, (uint16_t)(700 + i));
    ASSERT_EQ(r.loss_pm, (3 + SFU_SINK_REPAIR_NACK_BURST) * 1000 / SFU_SINK_REPAIR_WINDOW / 4);
    ASSERT_EQ(r.copies, 0); /* not copies: the keyframe repairs an outage */
    /* Across the 16-bit wrap. */
    static const uint16_t c[] = { 65534, 65535, 0, 1 };
    sfu_sink_repair r2;
    sfu_sink_repair_init(&r2);
    (void)sfu_sink_repair_on_forward(&r2, 2);
    sfu_sink_repair_on_nack(&r2, c, 4);
    sfu_sink_repair_on_nack(&r2, c, 4);
    ASSERT_EQ(r2.window_nacked, 4);
    return 0;
}

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1DULL;
}

/* `n` packets at `loss_pct` % random loss, each lost one NACKed right after
 * the next is forwarded (the gap shows then); returns the packet at which
 * the copies came on (n when they did not) and adds the onset test's alarms
 * to *onsets. */
static int lossy_run(sfu_sink_repair *r, uint16_t *seq16, int n, int loss_pct, uint64_t *x)
{
    int on_at = n;
    bool pending = false;
    uint16_t lost = 0;
    for (int i = 0; i < n; i++) {
        (void)sfu_sink_repair_on_forward(r, *seq16);
        if (pending)
            sfu_sink_repair_on_nack(r, &lost, 1);
        pending = (int)(rng_next(x) % 100) < loss_pct;
        lost = *seq16;
        (*seq16)++;
        if (r->copies >= 2 && on_at == n)
            on_at = i;
    }
    return on_at;
}

/* A clean link turning to 30 % loss: the copies come on within about 35
 * packets (the smoothed windows alone took about 100: 1.75 s of a 55
 * packets/s stream, frozen half of the time), and at 10 % or 5 % loss the
 * onset test hardly ever fires. */
TEST(onset_found_fast)
{
    int worst = 0, total = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        sfu_sink_repair r;
        sfu_sink_repair_init(&r);
        uint16_t seq16 = (uint16_t)(65000 + seed * 977);
        uint64_t x = seed * 0x9E3779B97F4A7C15ULL;
        ASSERT_EQ(lossy_run(&r, &seq16, 300, 0, &x), 300); /* clean: nothing */
        int at = lossy_run(&r, &seq16, 200, 30, &x);
        total += at;
        if (at > worst)
            worst = at;
    }
    printf("  30 %% loss: copies on after %d packets on average, %d at most\n", total / 20, worst);
    ASSERT_LE(total / 20, 45);
    ASSERT_LE(worst, 100);
    uint64_t alarms10 = 0, alarms5 = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        sfu_sink_repair r10, r5;
        sfu_sink_repair_init(&r10);
        sfu_sink_repair_init(&r5);
        uint16_t a = 0, b = 0;
        uint64_t x = seed * 0x9E3779B97F4A7C15ULL, y = x ^ 0xabcdef;
        (void)lossy_run(&r10, &a, 3000, 10, &x);
        (void)lossy_run(&r5, &b, 3000, 5, &y);
        alarms10 += r10.onsets;
        alarms5 += r5.onsets;
    }
    printf("  onset alarms in 60,000 packets: %llu at 10 %% loss, %llu at 5 %%\n",
           (unsigned long long)alarms10, (unsigned long long)alarms5);
    ASSERT_LE(alarms10, 12);
    ASSERT_EQ(alarms5, 0);
    /* The first NACK after an outage (hundreds of packets at once) does not
     * start the copies, nor do its retries. */
    sfu_sink_repair r;
    sfu_sink_repair_init(&r);
    uint16_t burst[200];
    for (int i = 0; i < 200; i++) {
        (void)sfu_sink_repair_on_forward(&r, (uint16_t)i);
        burst[i] = (uint16_t)i;
    }
    sfu_sink_repair_on_nack(&r, burst, 200);
    sfu_sink_repair_on_nack(&r, burst, 200);
    ASSERT_EQ(r.onsets, 0);
    ASSERT_LT(r.copies, 2);
    return 0;
}

TEST_LIST(TEST_ENTRY(one_request_per_break), TEST_ENTRY(copies_follow_loss), TEST_ENTRY(old_nacks_not_counted),
          TEST_ENTRY(onset_found_fast))
