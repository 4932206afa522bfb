#include "sfu/net/cmd_queue.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sfu/core/cmd_ring.h"
#include "sfu/core/common.h"

struct sfu_cmd_queue {
    GMutex lock;
    sfu_cmd_ring ring;
    int fd;
    bool told;                  /* the eventfd was written since the last drain */
    uint64_t posted, wakeups;
};

sfu_cmd_queue *sfu_cmd_queue_new(uint32_t cap)
{
    sfu_cmd_queue *q = g_new0(sfu_cmd_queue, 1);
    g_mutex_init(&q->lock);
    q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->fd < 0 || sfu_cmd_ring_init(&q->ring, cap) != 0) {
        sfu_cmd_queue_free(q);
        return NULL;
    }
    return q;
}

void sfu_cmd_queue_free(sfu_cmd_queue *q)
{
    if (!q)
        return;
    if (q->fd >= 0)
        close(q->fd);
    sfu_cmd_ring_deinit(&q->ring);
    g_mutex_clear(&q->lock);
    g_free(q);
}

int sfu_cmd_queue_fd(const sfu_cmd_queue *q) { return q->fd; }

/* Under the lock: the first post since the consumer's last drain wakes it. */
static bool take_wakeup(sfu_cmd_queue *q)
{
    q->posted++;
    if (q->told)
        return false;
    q->told = true;
    q->wakeups++;
    return true;
}

static void wake(sfu_cmd_queue *q)
{
    uint64_t one = 1;
    /* EAGAIN: the counter is at its maximum, so it is readable anyway. */
    while (write(q->fd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

int sfu_cmd_queue_post(sfu_cmd_queue *q, void (*fn)(void *arg), void *arg)
{
    g_mutex_lock(&q->lock);
    int rc = sfu_cmd_ring_push(&q->ring, (sfu_cmd){ fn, arg });
    bool tell = rc == 0 && take_wakeup(q);
    g_mutex_unlock(&q->lock);
    if (tell)
        wake(q);
    return rc;
}

int sfu_cmd_queue_admit(sfu_cmd_queue *q)
{
    g_mutex_lock(&q->lock);
    int rc = sfu_cmd_ring_admit(&q->ring);
    g_mutex_unlock(&q->lock);
    return rc;
}

void sfu_cmd_queue_post_follow(sfu_cmd_queue *q, void (*fn)(void *arg), void *arg)
{
    g_mutex_lock(&q->lock);
    int rc = sfu_cmd_ring_push_follow(&q->ring, (sfu_cmd){ fn, arg });
    bool tell = rc == 0 && take_wakeup(q);
    g_mutex_unlock(&q->lock);
    if (rc != 0)
        g_error("command queue: out of memory for a follow-up");
    if (tell)
        wake(q);
}

/* The eventfd is read before the batch is counted: a post after the count
 * finds `told` cleared and writes it again, so it is never missed. */
unsigned sfu_cmd_queue_drain(sfu_cmd_queue *q)
{
    uint64_t v;
    while (read(q->fd, &v, sizeof v) < 0 && errno == EINTR)
        ;
    g_mutex_lock(&q->lock);
    q->told = false;
    uint32_t n = sfu_cmd_ring_len(&q->ring);
    g_mutex_unlock(&q->lock);
    unsigned ran = 0;
    for (; ran < n; ran++) {
        sfu_cmd c;
        g_mutex_lock(&q->lock);
        bool got = sfu_cmd_ring_pop(&q->ring, &c);
        g_mutex_unlock(&q->lock);
        if (!got)
            break;
        c.fn(c.arg);
    }
    return ran;
}

void sfu_cmd_queue_stats_get(sfu_cmd_queue *q, sfu_cmd_queue_stats *out)
{
    g_mutex_lock(&q->lock);
    *out = (sfu_cmd_queue_stats){ .waiting = q->ring.len, .peak = q->ring.peak,
                                  .cap = q->ring.cap, .posted = q->posted,
                                  .refused = q->ring.refused, .wakeups = q->wakeups };
    g_mutex_unlock(&q->lock);
}
