/* Read coalescing: when the worker's loop may wait before reading again. */
#include "sfu/core/rx_coalesce.h"
#include "tests/test.h"

#define NEVER INT64_MAX

/* Feeds `pps` datagrams a second, one per wake-up, for `us` microseconds
 * from *t; returns with *t advanced. */
static void feed(sfu_rx_coalesce *c, sfu_time *t, uint32_t pps, sfu_time us)
{
    sfu_time step = 1000000 / pps;
    for (sfu_time end = *t + us; *t < end; *t += step)
        sfu_rx_coalesce_note(c, *t, 1, false);
}

TEST(off_never_waits)
{
    sfu_rx_coalesce c;
    sfu_rx_coalesce_init(&c, 0);
    sfu_time t = 1000;
    feed(&c, &t, 5000, SFU_SEC(1));
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t, NEVER), 0);
    return 0;
}

/* 5000 datagrams a second, one per wake-up: a window of 1 ms gathers 5. */
TEST(busy_waits_one_window_after_the_wake_up)
{
    sfu_rx_coalesce c;
    sfu_rx_coalesce_init(&c, 1000);
    sfu_time t = 1000;
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t, NEVER), 0);     /* nothing measured yet */
    feed(&c, &t, 5000, SFU_MS(250));
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t, NEVER), t + 1000);
    return 0;
}

/* Below MIN_BATCH per window a lone packet is never held: 1000 a second is
 * one per millisecond (no wait at 1 ms), two per 2 ms (a wait at 2 ms). */
TEST(low_rate_reads_at_once)
{
    sfu_rx_coalesce c;
    sfu_rx_coalesce_init(&c, 1000);
    sfu_time t = 1000;
    feed(&c, &t, 1000, SFU_MS(300));
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t, NEVER), 0);
    sfu_rx_coalesce_init(&c, 2000);
    t = 1000;
    feed(&c, &t, 1000, SFU_MS(300));
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t, NEVER), t + 2000);
    /* 150 a second (a one-to-many's one publisher): no wait at 2 ms. */
    sfu_rx_coalesce_init(&c, 2000);
    t = 1000;
    feed(&c, &t, 150, SFU_MS(500));
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t, NEVER), 0);
    return 0;
}

/* Timers are not starved: the wait ends at the loop's next deadline. */
TEST(deadline_caps_the_wait)
{
    sfu_rx_coalesce c;
    sfu_rx_coalesce_init(&c, 1000);
    sfu_time t = 1000;
    feed(&c, &t, 5000, SFU_MS(250));
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t, t + 300), t + 300);
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t, t), t);         /* due now: no wait */
    return 0;
}

/* A read cut at its batch size leaves datagrams in the socket: no wait. */
TEST(backlog_reads_at_once)
{
    sfu_rx_coalesce c;
    sfu_rx_coalesce_init(&c, 1000);
    sfu_time t = 1000;
    feed(&c, &t, 5000, SFU_MS(250));
    sfu_rx_coalesce_note(&c, t, 16, true);
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t, NEVER), 0);
    sfu_rx_coalesce_note(&c, t + 1000, 5, false);
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t + 1000, NEVER), t + 2000);
    return 0;
}

/* When the load stops, the next wake-up after the quiet stretch closes the
 * period with a low rate: the first packet after silence is read at once,
 * and one that comes before that waits no longer than the window. */
TEST(quiet_after_busy_stops_waiting)
{
    sfu_rx_coalesce c;
    sfu_rx_coalesce_init(&c, 1000);
    sfu_time t = 1000;
    feed(&c, &t, 5000, SFU_MS(250));
    sfu_time woke = t;
    sfu_time until = sfu_rx_coalesce_until(&c, woke, NEVER);
    ASSERT(until > 0 && until - woke <= 1000);
    t += SFU_MS(400);                   /* silence, then one packet */
    sfu_rx_coalesce_note(&c, t, 1, false);
    ASSERT_EQ(sfu_rx_coalesce_until(&c, t, NEVER), 0);
    return 0;
}

/* Whatever the arrivals, a wait never ends later than the window after the
 * wake-up nor after the deadline. */
TEST(never_past_window_or_deadline)
{
    uint32_t x = 99;
    for (int w = 0; w <= 5000; w += 250) {
        sfu_rx_coalesce c;
        sfu_rx_coalesce_init(&c, w);
        sfu_time t = 5000;
        for (int i = 0; i < 20000; i++) {
            x = x * 1103515245u + 12345u;
            t += (x >> 16) % 3000;
            sfu_rx_coalesce_note(&c, t, (x >> 8) % 20, (x >> 4) % 17 == 0);
            sfu_time deadline = t + (sfu_time)((x >> 12) % 4000);
            sfu_time until = sfu_rx_coalesce_until(&c, t, deadline);
            if (until) {
                ASSERT(w > 0);
                ASSERT(until <= t + w);
                ASSERT(until <= deadline);
            }
        }
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(off_never_waits), TEST_ENTRY(busy_waits_one_window_after_the_wake_up),
          TEST_ENTRY(low_rate_reads_at_once), TEST_ENTRY(deadline_caps_the_wait),
          TEST_ENTRY(backlog_reads_at_once), TEST_ENTRY(quiet_after_busy_stops_waiting),
          TEST_ENTRY(never_past_window_or_deadline))
