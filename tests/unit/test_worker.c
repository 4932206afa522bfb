/* The worker's own loop (sfu/net/worker.h): its timer heap and its tasks,
 * driven one wake-up at a time on the test's thread. */
#include "sfu/net/worker.h"
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
    sfu_worker *w = sfu_worker_new(0, 16);
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
    sfu_worker *w = sfu_worker_new(0, 16);
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
    sfu_worker *w = sfu_worker_new(0, 16);
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

TEST_LIST(TEST_ENTRY(timers_fire_in_order), TEST_ENTRY(rearm_and_free_from_callback),
          TEST_ENTRY(tasks_once_cancel_repost))
