/* The thread-safe command queue (sfu/net/cmd_queue.h): one wake-up per
 * batch, order per producer with several producers, nothing lost, the bound
 * as an error, and what a command posts while a drain runs. */
#include "sfu/net/cmd_queue.h"
#include "sfu/core/common.h"
#include "tests/test.h"

#include <glib.h>
#include <poll.h>

static bool readable(const sfu_cmd_queue *q)
{
    struct pollfd p = { .fd = sfu_cmd_queue_fd(q), .events = POLLIN };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

typedef struct log_ {
    int seen[64];
    int n;
} log_;

typedef struct item {
    log_ *log;
    int id;
    sfu_cmd_queue *q;           /* set: posts item `more` when run */
    struct item *more;
    int post_rc;
} item;

static void on_item(void *arg)
{
    item *it = arg;
    it->log->seen[it->log->n++] = it->id;
    if (it->q)
        it->post_rc = sfu_cmd_queue_post(it->q, on_item, it->more);
}

TEST(one_wakeup_per_batch_in_order)
{
    sfu_cmd_queue *q = sfu_cmd_queue_new(8);
    ASSERT(q);
    ASSERT(!readable(q));
    log_ log = { 0 };
    item it[5];
    for (int i = 0; i < 5; i++) {
        it[i] = (item){ .log = &log, .id = i };
        ASSERT_EQ(sfu_cmd_queue_post(q, on_item, &it[i]), 0);
    }
    ASSERT(readable(q));
    sfu_cmd_queue_stats st;
    sfu_cmd_queue_stats_get(q, &st);
    ASSERT_EQ(st.wakeups, 1);                  /* five posts, one wake-up */
    ASSERT_EQ(st.posted, 5);
    ASSERT_EQ(st.waiting, 5);
    ASSERT_EQ(sfu_cmd_queue_drain(q), 5);
    ASSERT_EQ(log.n, 5);
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(log.seen[i], i);
    ASSERT(!readable(q));
    ASSERT_EQ(sfu_cmd_queue_drain(q), 0);      /* a spurious drain runs nothing */
    sfu_cmd_queue_free(q);
    return 0;
}

/* A command posted by a command runs on the next drain, which its post
 * woke: never lost, never run inside the drain that posted it. */
TEST(post_from_a_command_wakes_the_next_drain)
{
    sfu_cmd_queue *q = sfu_cmd_queue_new(8);
    log_ log = { 0 };
    item second = { .log = &log, .id = 2 };
    item first = { .log = &log, .id = 1, .q = q, .more = &second };
    ASSERT_EQ(sfu_cmd_queue_post(q, on_item, &first), 0);
    ASSERT_EQ(sfu_cmd_queue_drain(q), 1);
    ASSERT_EQ(log.n, 1);
    ASSERT_EQ(first.post_rc, 0);
    ASSERT(readable(q));
    ASSERT_EQ(sfu_cmd_queue_drain(q), 1);
    ASSERT_EQ(log.n, 2);
    ASSERT_EQ(log.seen[1], 2);
    ASSERT(!readable(q));
    sfu_cmd_queue_free(q);
    return 0;
}

/* Full: new work gets -SFU_ELIMIT (the caller's 503) and is counted, what
 * waits is intact; a follow-up still goes in, after it. */
TEST(full_is_an_error_follow_up_is_not)
{
    sfu_cmd_queue *q = sfu_cmd_queue_new(3);
    log_ log = { 0 };
    item it[5];
    for (int i = 0; i < 5; i++)
        it[i] = (item){ .log = &log, .id = i };
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(sfu_cmd_queue_post(q, on_item, &it[i]), 0);
    ASSERT_EQ(sfu_cmd_queue_post(q, on_item, &it[3]), -SFU_ELIMIT);
    sfu_cmd_queue_post_follow(q, on_item, &it[4]);
    sfu_cmd_queue_stats st;
    sfu_cmd_queue_stats_get(q, &st);
    ASSERT_EQ(st.refused, 1);
    ASSERT_EQ(st.waiting, 4);
    ASSERT_EQ(st.peak, 4);
    ASSERT_EQ(sfu_cmd_queue_drain(q), 4);
    int want[] = { 0, 1, 2, 4 };
    ASSERT_EQ(log.n, 4);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(log.seen[i], want[i]);
    ASSERT_EQ(sfu_cmd_queue_post(q, on_item, &it[3]), 0);     /* room again */
    sfu_cmd_queue_drain(q);
    sfu_cmd_queue_free(q);
    return 0;
}

/* Several producers against a consumer that waits on the descriptor: every
 * admitted command runs exactly once, each producer's in its own order,
 * and the wake-ups are far fewer than the posts when producers burst. */
#define PRODUCERS 4
#define PER_PRODUCER 20000

typedef struct stress {
    sfu_cmd_queue *q;
    gint admitted[PRODUCERS];
    int last[PRODUCERS];        /* consumer only */
    int ran, out_of_order;
    gint done_producing;
} stress;

typedef struct sitem {
    stress *st;
    int producer, seq;
} sitem;

static sitem items[PRODUCERS][PER_PRODUCER];

static void on_sitem(void *arg)
{
    sitem *it = arg;
    stress *st = it->st;
    if (it->seq <= st->last[it->producer])
        st->out_of_order++;
    st->last[it->producer] = it->seq;
    st->ran++;
}

static gpointer producer_main(gpointer arg)
{
    sitem *row = arg;
    stress *st = row[0].st;
    for (int i = 0; i < PER_PRODUCER; i++)
        if (sfu_cmd_queue_post(st->q, on_sitem, &row[i]) == 0)
            g_atomic_int_inc(&st->admitted[row[0].producer]);
    g_atomic_int_inc(&st->done_producing);
    return NULL;
}

TEST(many_producers_nothing_lost_order_kept)
{
    stress st = { .q = sfu_cmd_queue_new(256) };
    ASSERT(st.q);
    for (int p = 0; p < PRODUCERS; p++) {
        st.last[p] = -1;
        for (int i = 0; i < PER_PRODUCER; i++)
            items[p][i] = (sitem){ .st = &st, .producer = p, .seq = i };
    }
    GThread *th[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++)
        th[p] = g_thread_new("producer", producer_main, items[p]);
    for (;;) {
        struct pollfd pfd = { .fd = sfu_cmd_queue_fd(st.q), .events = POLLIN };
        int done = g_atomic_int_get(&st.done_producing);
        if (poll(&pfd, 1, 5) == 1)
            sfu_cmd_queue_drain(st.q);
        else if (done == PRODUCERS)
            break;      /* every post is in and the descriptor says none waits */
    }
    for (int p = 0; p < PRODUCERS; p++)
        g_thread_join(th[p]);
    int admitted = 0;
    for (int p = 0; p < PRODUCERS; p++)
        admitted += g_atomic_int_get(&st.admitted[p]);
    sfu_cmd_queue_stats s;
    sfu_cmd_queue_stats_get(st.q, &s);
    ASSERT_EQ(st.out_of_order, 0);
    ASSERT_EQ(st.ran, admitted);
    ASSERT_EQ(s.waiting, 0);
    ASSERT_EQ((int)s.posted, admitted);
    ASSERT_EQ((int)s.refused, PRODUCERS * PER_PRODUCER - admitted);
    ASSERT_LE(s.peak, 256);
    ASSERT_LE(s.wakeups, s.posted);
    sfu_cmd_queue_free(st.q);
    return 0;
}

TEST_LIST(TEST_ENTRY(one_wakeup_per_batch_in_order),
          TEST_ENTRY(post_from_a_command_wakes_the_next_drain),
          TEST_ENTRY(full_is_an_error_follow_up_is_not),
          TEST_ENTRY(many_producers_nothing_lost_order_kept))
