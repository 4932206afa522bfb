/* The worker's own loop (sfu/net/worker.h): its timer heap, its tasks and
 * its command queue, driven one wake-up at a time on the test's thread. */
#include "sfu/net/worker.h"
#include "sfu/core/common.h"
#include "tests/test.h"

#include <glib.h>

typedef struct log_ {
    int order[16];
    int n;
} log_;

typedef struct tctx {
    log_ *log;
    int id;
    sfu_worker *w;
    sfu_worker_timer *self, *victim;
    int64_t rearm_by;           /* re-arm this far ahead (0: not) */
    int fired;
} tctx;

static void on_timer(void *user, int64_t now)
{
    tctx *c = user;
    (void)now;
    c->fired++;
    if (c->log && c->log->n < 16)
        c->log->order[c->log->n++] = c->id;
    if (c->victim) {
        sfu_worker_timer_free(c->w, c->victim);
        c->victim = NULL;
    }
    if (c->rearm_by) {
        c->rearm_by = 0;
        sfu_worker_timer_set(c->w, c->self, now);   /* due at once: next wake-up */
    }
}

/* Iterates until `n` entries are logged or `ms` pass. */
static void iterate_until(sfu_worker *w, const log_ *log, int n, int ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    while (log->n < n && g_get_monotonic_time() < end) {
        sfu_worker_iterate(w);
        g_usleep(200);
    }
}

TEST(timers_fire_in_order)
{
    sfu_worker *w = sfu_worker_new(0, 16, 16);
    ASSERT(w);
    log_ log = { 0 };
    tctx c[5];
    sfu_worker_timer *t[5];
    for (int i = 0; i < 5; i++) {
        c[i] = (tctx){ .log = &log, .id = i, .w = w };
        t[i] = sfu_worker_timer_new(w, on_timer, &c[i]);
        c[i].self = t[i];
    }
    int64_t now = g_get_monotonic_time();
    sfu_worker_timer_set(w, t[0], now + 30000);
    sfu_worker_timer_set(w, t[1], now + 10000);
    sfu_worker_timer_set(w, t[2], now + 20000);
    sfu_worker_timer_set(w, t[3], now + 5000);
    sfu_worker_timer_set(w, t[3], -1);              /* disarmed: never fires */
    sfu_worker_timer_set(w, t[4], now + 40000);
    sfu_worker_timer_set(w, t[4], now + 15000);     /* moved earlier */
    iterate_until(w, &log, 4, 2000);
    ASSERT_EQ(log.n, 4);
    ASSERT_EQ(log.order[0], 1);
    ASSERT_EQ(log.order[1], 4);
    ASSERT_EQ(log.order[2], 2);
    ASSERT_EQ(log.order[3], 0);
    iterate_until(w, &log, 5, 50);
    ASSERT_EQ(log.n, 4);                             /* each fired once, t[3] never */
    ASSERT_EQ(c[3].fired, 0);
    for (int i = 0; i < 5; i++)
        sfu_worker_timer_free(w, t[i]);
    sfu_worker_free(w);
    return 0;
}

/* A timer re-armed at or before now from its own callback runs on the next
 * wake-up, not again in the same one; a timer freed by another's callback
 * does not run. */
TEST(rearm_and_free_from_callback)
{
    sfu_worker *w = sfu_worker_new(0, 16, 16);
    ASSERT(w);
    log_ log = { 0 };
    tctx a = { .log = &log, .id = 1, .w = w, .rearm_by = 1 };
    tctx b = { .log = &log, .id = 2, .w = w };
    a.self = sfu_worker_timer_new(w, on_timer, &a);
    sfu_worker_timer *tb = sfu_worker_timer_new(w, on_timer, &b);
    a.victim = tb;
    int64_t now = g_get_monotonic_time();
    sfu_worker_timer_set(w, a.self, now - 1000);
    sfu_worker_timer_set(w, tb, now - 500);
    sfu_worker_iterate(w);
    ASSERT_EQ(a.fired, 1);                          /* once in this wake-up */
    ASSERT_EQ(b.fired, 0);                          /* freed by a's callback */
    sfu_worker_iterate(w);
    ASSERT_EQ(a.fired, 2);                          /* the re-arm, next wake-up */
    sfu_worker_iterate(w);
    ASSERT_EQ(a.fired, 2);
    sfu_worker_timer_free(w, a.self);
    sfu_worker_free(w);
    return 0;
}

typedef struct task_ctx {
    sfu_worker *w;
    sfu_worker_task *self;
    int runs;
    int repost;
} task_ctx;

static void on_task(void *user)
{
    task_ctx *c = user;
    c->runs++;
    if (c->repost-- > 0)
        sfu_worker_task_post(c->w, c->self);
}

/* Posted twice, a task runs once, at the end of the wake-up; freed while
 * posted it does not run; posted by itself it runs on the next wake-up. */
TEST(tasks_once_cancel_repost)
{
    sfu_worker *w = sfu_worker_new(0, 16, 16);
    ASSERT(w);
    task_ctx a = { .w = w }, b = { .w = w }, c = { .w = w, .repost = 1 };
    a.self = sfu_worker_task_new(w, on_task, &a);
    b.self = sfu_worker_task_new(w, on_task, &b);
    c.self = sfu_worker_task_new(w, on_task, &c);
    sfu_worker_task_post(w, a.self);
    sfu_worker_task_post(w, b.self);
    sfu_worker_task_post(w, a.self);
    sfu_worker_task_post(w, c.self);
    sfu_worker_task_free(w, b.self);
    sfu_worker_iterate(w);
    ASSERT_EQ(a.runs, 1);
    ASSERT_EQ(c.runs, 1);
    sfu_worker_iterate(w);
    ASSERT_EQ(a.runs, 1);
    ASSERT_EQ(c.runs, 2);
    sfu_worker_iterate(w);
    ASSERT_EQ(c.runs, 2);
    sfu_worker_task_free(w, a.self);
    sfu_worker_task_free(w, c.self);
    sfu_worker_free(w);
    return 0;
}

typedef struct glib_ctx {
    gint ran;                   /* commands run (atomic) */
    gint ticks;                 /* timeout callbacks run (atomic) */
} glib_ctx;

static void on_invoke(void *arg) { g_atomic_int_inc(&((glib_ctx *)arg)->ran); }

static gboolean on_tick(gpointer arg)
{
    g_atomic_int_inc(&((glib_ctx *)arg)->ticks);
    return G_SOURCE_CONTINUE;
}

/* On the worker's own thread, with every GLib socket gone (the steady
 * state): a command from another thread is never lost, however the
 * worker's drains of its queue and of GLib's wakeup fall against it, and
 * runs without waiting for GLib's timer grid; a 5 ms GLib timer runs on the grid
 * (25 ms), not every 5 ms, and keeps running. */
TEST(glib_handover_and_timer_grid)
{
    sfu_worker *w = sfu_worker_new(0, 16, 16);
    ASSERT(w);
    ASSERT_EQ(sfu_worker_start(w), 0);
    glib_ctx c = { 0 };
    GSource *tick = g_timeout_source_new(5);
    g_source_set_callback(tick, on_tick, &c, NULL);
    g_source_attach(tick, sfu_worker_context(w));
    gint64 slow = 0;
    for (int i = 1; i <= 200; i++) {
        gint64 t0 = g_get_monotonic_time();
        ASSERT_EQ(sfu_worker_post(w, on_invoke, &c), 0);
        while (g_atomic_int_get(&c.ran) < i && g_get_monotonic_time() - t0 < G_USEC_PER_SEC)
            g_usleep(50);
        ASSERT_EQ(g_atomic_int_get(&c.ran), i);
        if (g_get_monotonic_time() - t0 >= 20000)
            slow++;
        g_usleep(i % 7 * 300);  /* land at different points of the worker's cycle */
    }
    ASSERT_LE(slow, 20);        /* the grid would make most of them 0-25 ms late */
    gint64 t1 = g_get_monotonic_time();
    int ticks0 = g_atomic_int_get(&c.ticks);
    g_usleep(500000);
    int ticks = g_atomic_int_get(&c.ticks) - ticks0;
    gint64 span = g_get_monotonic_time() - t1;
    ASSERT(ticks >= 5);                               /* it runs */
    ASSERT_LE(ticks, (int)(span / 25000) + 2);      /* once per 25 ms slot at most */
    g_source_destroy(tick);
    g_source_unref(tick);
    sfu_worker_free(w);
    return 0;
}

typedef struct cmd_log {
    int seen[SFU_WORKER_QUEUE_CAP + 8];
    int n;
} cmd_log;

typedef struct cmd_item {
    cmd_log *log;
    int id;
} cmd_item;

static void on_cmd(void *arg)
{
    cmd_item *it = arg;
    it->log->seen[it->log->n++] = it->id;
}

/* The command queue of a worker not started (driven here): new work past
 * the bound is refused with -SFU_ELIMIT, nothing queued is dropped, a
 * follow-up goes in past the bound, and one wake-up runs the whole batch
 * in the order posted. */
TEST(commands_bounded_in_order_one_wakeup)
{
    sfu_worker *w = sfu_worker_new(0, 16, 16);
    ASSERT(w);
    static cmd_log log;
    static cmd_item it[SFU_WORKER_QUEUE_CAP + 2];
    log.n = 0;
    for (int i = 0; i < SFU_WORKER_QUEUE_CAP + 2; i++)
        it[i] = (cmd_item){ .log = &log, .id = i };
    for (int i = 0; i < SFU_WORKER_QUEUE_CAP; i++)
        ASSERT_EQ(sfu_worker_post(w, on_cmd, &it[i]), 0);
    ASSERT_EQ(sfu_worker_post(w, on_cmd, &it[SFU_WORKER_QUEUE_CAP]), -SFU_ELIMIT);
    sfu_worker_post_follow(w, on_cmd, &it[SFU_WORKER_QUEUE_CAP + 1]);
    ASSERT_EQ(log.n, 0);                /* never inline */
    sfu_worker_iterate(w);
    ASSERT_EQ(log.n, SFU_WORKER_QUEUE_CAP + 1);
    for (int i = 0; i < SFU_WORKER_QUEUE_CAP; i++)
        ASSERT_EQ(log.seen[i], i);
    ASSERT_EQ(log.seen[SFU_WORKER_QUEUE_CAP], SFU_WORKER_QUEUE_CAP + 1);
    sfu_cmd_queue_stats st;
    sfu_worker_queue_stats(w, &st);
    ASSERT_EQ(st.wakeups, 1);
    ASSERT_EQ(st.refused, 1);
    ASSERT_EQ(st.waiting, 0);
    sfu_worker_iterate(w);
    ASSERT_EQ(log.n, SFU_WORKER_QUEUE_CAP + 1);
    sfu_worker_free(w);
    return 0;
}

static void on_cmd_slow(void *arg)
{
    g_usleep(100);
    on_cmd(arg);
}

/* A stop comes after the commands queued before it: they all run. */
TEST(stop_runs_what_was_queued)
{
    sfu_worker *w = sfu_worker_new(0, 16, 16);
    ASSERT(w);
    ASSERT_EQ(sfu_worker_start(w), 0);
    static cmd_log log;
    static cmd_item it[200];
    log.n = 0;
    for (int i = 0; i < 200; i++) {
        it[i] = (cmd_item){ .log = &log, .id = i };
        ASSERT_EQ(sfu_worker_post(w, on_cmd_slow, &it[i]), 0);
    }
    sfu_worker_free(w);
    ASSERT_EQ(log.n, 200);
    for (int i = 0; i < 200; i++)
        ASSERT_EQ(log.seen[i], i);
    return 0;
}

TEST_LIST(TEST_ENTRY(timers_fire_in_order), TEST_ENTRY(rearm_and_free_from_callback),
          TEST_ENTRY(tasks_once_cancel_repost),
          TEST_ENTRY(glib_handover_and_timer_grid), TEST_ENTRY(commands_bounded_in_order_one_wakeup),
          TEST_ENTRY(stop_runs_what_was_queued))
