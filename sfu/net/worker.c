#include "sfu/net/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "sfu/net/cmd_queue.h"
#include "sfu/core/rx_coalesce.h"

/* Ready descriptors handled per wake-up; more stay ready for the next one. */
#define WORKER_EVENTS 64
#define TIME_NEVER INT64_MAX

struct sfu_worker_watch {
    int fd;
    sfu_worker_io_fn fn;
    void *user;
};

struct sfu_worker_timer {
    int64_t at;                 /* TIME_NEVER when disarmed */
    uint32_t idx;               /* in the heap, or UINT32_MAX */
    uint64_t armed_seq;         /* when it was last set: see run_timers */
    sfu_worker_timer_fn fn;
    void *user;
};

struct sfu_worker_task {
    bool posted;
    void (*fn)(void *user);
    void *user;
};

struct sfu_worker {
    unsigned index;
    GMainContext *ctx;
    GMainContext *parked;
    int epfd;
    /* GLib's descriptors, in an epoll set of their own that sits in epfd as
     * one entry: their registrations can never clash with the watches. */
    int glib_epfd;
    GPollFD *gfds;
    int ngfds, gfds_cap;
    int *greg, *greg_new;       /* descriptors registered in glib_epfd */
    /* GLib's wakeup eventfd (the one descriptor of a fresh context): never
     * closed while the context lives, so registered once; drained after a
     * dispatch (glib_run). */
    int gwake_fd;
    bool gwake_reg;
    int ngreg, greg_cap;
    gint gprio;
    int64_t glib_at;            /* when GLib's next timeout is due */
    bool glib_due;
    /* The events of the wake-up being dispatched, so that a watch removed
     * meanwhile is skipped. */
    struct epoll_event events[WORKER_EVENTS];
    int nevents;
    bool in_io;
    bool quit;
    bool primed;                /* glib_prepare has run */
    int64_t now;
    sfu_worker_timer **heap;
    uint32_t nheap, heap_cap;
    uint64_t seq;
    sfu_worker_task **tasks;    /* posted, run at the end of the wake-up */
    uint32_t ntasks, tasks_cap;
    sfu_egress *egress;
    /* The hand-off from other threads (cmd_queue.h): its eventfd sits in
     * epfd; a ready one drains the batch after GLib's turn. */
    sfu_cmd_queue *cmds;
    bool cmds_due;
    /* Read coalescing (core/rx_coalesce.h): datagrams the sockets read in
     * this wake-up, and whether a read stopped at its batch. */
    sfu_rx_coalesce coalesce;
    uint32_t wake_dgrams;
    bool wake_backlog;
    GThread *thread;
    sfu_buf_pool *pool;
    sfu_out out;
};

/* The worker whose loop runs on this thread, for sfu_worker_now. */
static __thread sfu_worker *tls_worker;

/* ---- timers: a binary min-heap on `at` ---- */

static bool heap_less(const sfu_worker *w, uint32_t a, uint32_t b)
{
    return w->heap[a]->at < w->heap[b]->at;
}

static void heap_swap(sfu_worker *w, uint32_t a, uint32_t b)
{
    sfu_worker_timer *t = w->heap[a];
    w->heap[a] = w->heap[b];
    w->heap[b] = t;
    w->heap[a]->idx = a;
    w->heap[b]->idx = b;
}

static void heap_up(sfu_worker *w, uint32_t i)
{
    while (i > 0 && heap_less(w, i, (i - 1) / 2)) {
        heap_swap(w, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(sfu_worker *w, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < w->nheap && heap_less(w, l, m))
            m = l;
        if (r < w->nheap && heap_less(w, r, m))
            m = r;
        if (m == i)
            return;
        heap_swap(w, i, m);
        i = m;
    }
}

static void heap_remove(sfu_worker *w, sfu_worker_timer *t)
{
    uint32_t i = t->idx;
    if (i == UINT32_MAX)
        return;
    t->idx = UINT32_MAX;
    w->nheap--;
    if (i == w->nheap)
        return;
    w->heap[i] = w->heap[w->nheap];
    w->heap[i]->idx = i;
    heap_up(w, i);
    heap_down(w, w->heap[i]->idx);
}

sfu_worker_timer *sfu_worker_timer_new(sfu_worker *w, sfu_worker_timer_fn fn, void *user)
{
    (void)w;
    sfu_worker_timer *t = g_new(sfu_worker_timer, 1);
    *t = (sfu_worker_timer){ .at = TIME_NEVER, .idx = UINT32_MAX, .fn = fn, .user = user };
    return t;
}

void sfu_worker_timer_set(sfu_worker *w, sfu_worker_timer *t, int64_t at)
{
    if (at < 0)
        at = TIME_NEVER;
    t->armed_seq = w->seq;
    if (at == t->at)
        return;
    t->at = at;
    if (at == TIME_NEVER) {
        heap_remove(w, t);
        return;
    }
    if (t->idx == UINT32_MAX) {
        if (w->nheap == w->heap_cap) {
            w->heap_cap = w->heap_cap ? w->heap_cap * 2 : 64;
            w->heap = g_renew(sfu_worker_timer *, w->heap, w->heap_cap);
        }
        t->idx = w->nheap++;
        w->heap[t->idx] = t;
    }
    heap_up(w, t->idx);
    heap_down(w, t->idx);
}

void sfu_worker_timer_free(sfu_worker *w, sfu_worker_timer *t)
{
    if (!t)
        return;
    heap_remove(w, t);
    g_free(t);
}

/* Runs the timers due at `now` that were armed before this run began: one
 * that a callback re-arms at or before `now` runs on the next wake-up (an
 * epoll_wait with a zero timeout in between), as a GLib source would. */
static void run_timers(sfu_worker *w, int64_t now)
{
    uint64_t start = ++w->seq;
    while (w->nheap && w->heap[0]->at <= now && w->heap[0]->armed_seq < start) {
        sfu_worker_timer *t = w->heap[0];
        heap_remove(w, t);
        t->at = TIME_NEVER;
        t->fn(t->user, now);
    }
}

/* ---- tasks: work deferred to the end of the wake-up ---- */

sfu_worker_task *sfu_worker_task_new(sfu_worker *w, void (*fn)(void *user), void *user)
{
    (void)w;
    sfu_worker_task *t = g_new(sfu_worker_task, 1);
    *t = (sfu_worker_task){ .fn = fn, .user = user };
    return t;
}

void sfu_worker_task_post(sfu_worker *w, sfu_worker_task *t)
{
    if (t->posted)
        return;
    if (w->ntasks == w->tasks_cap) {
        w->tasks_cap = w->tasks_cap ? w->tasks_cap * 2 : 64;
        w->tasks = g_renew(sfu_worker_task *, w->tasks, w->tasks_cap);
    }
    w->tasks[w->ntasks++] = t;
    t->posted = true;
}

void sfu_worker_task_free(sfu_worker *w, sfu_worker_task *t)
{
    if (!t)
        return;
    if (t->posted)
        for (uint32_t i = 0; i < w->ntasks; i++)
            if (w->tasks[i] == t)
                w->tasks[i] = NULL;
    g_free(t);
}

/* A task posted by a task (itself included) runs on the next wake-up,
 * which then does not wait. */
static void run_tasks(sfu_worker *w)
{
    uint32_t n = w->ntasks;
    if (n == 0)
        return;
    for (uint32_t i = 0; i < n; i++) {
        sfu_worker_task *t = w->tasks[i];
        if (!t)
            continue;
        w->tasks[i] = NULL;
        t->posted = false;
        t->fn(t->user);
    }
    memmove(w->tasks, w->tasks + n, (w->ntasks - n) * sizeof *w->tasks);
    w->ntasks -= n;
}

/* ---- GLib: iterated only when one of its descriptors is ready or its next
 * timeout is due. The context is made with OWNERLESS_POLLING, so every
 * source attached, every ready time changed and every descriptor added,
 * from any thread including this one, writes its wakeup eventfd, which is
 * one of those descriptors: a change is never missed. ---- */

static uint32_t epoll_events_of(const sfu_worker *w, int fd)
{
    uint32_t ev = 0;
    for (int j = 0; j < w->ngfds; j++)
        if (w->gfds[j].fd == fd)
            ev |= (w->gfds[j].events & G_IO_IN ? EPOLLIN : 0) |
                  (w->gfds[j].events & G_IO_OUT ? EPOLLOUT : 0) |
                  (w->gfds[j].events & G_IO_PRI ? EPOLLPRI : 0);
    return ev;
}

static bool int_in(const int *a, int n, int v)
{
    for (int i = 0; i < n; i++)
        if (a[i] == v)
            return true;
    return false;
}

/* GLib's set is small and changes rarely (the wakeup eventfd, and the
 * sockets of agents whose pair is not parked yet). Every descriptor is
 * re-registered: MOD, or ADD when a close() took the registration away
 * (GLib may reuse the number for another socket). */
static void glib_sync_fds(sfu_worker *w)
{
    if (w->greg_cap < w->ngfds) {
        w->greg_cap = w->ngfds;
        w->greg = g_renew(int, w->greg, w->greg_cap);
        w->greg_new = g_renew(int, w->greg_new, w->greg_cap);
    }
    int n = 0;
    for (int i = 0; i < w->ngfds; i++) {
        int fd = w->gfds[i].fd;
        if (int_in(w->greg_new, n, fd))
            continue;
        if (fd == w->gwake_fd && w->gwake_reg) {
            w->greg_new[n++] = fd;
            continue;
        }
        struct epoll_event e = { .events = epoll_events_of(w, fd), .data.fd = fd };
        if (epoll_ctl(w->glib_epfd, EPOLL_CTL_MOD, fd, &e) != 0 && errno == ENOENT)
            epoll_ctl(w->glib_epfd, EPOLL_CTL_ADD, fd, &e);
        w->greg_new[n++] = fd;
        if (fd == w->gwake_fd)
            w->gwake_reg = true;
    }
    for (int k = 0; k < w->ngreg; k++)
        if (!int_in(w->greg_new, n, w->greg[k]))
        {
            epoll_ctl(w->glib_epfd, EPOLL_CTL_DEL, w->greg[k], NULL);
            if (w->greg[k] == w->gwake_fd)
                w->gwake_reg = false;
        }
    int *t = w->greg;
    w->greg = w->greg_new;
    w->greg_new = t;
    w->ngreg = n;
}

/* GLib's timers wake the worker on a grid of this many microseconds. Every
 * iteration of GLib costs what its context holds (prepare and check visit
 * every source: libnice's timers, a few per agent), and libnice's timers
 * (its consent checks and their STUN retransmissions, about 4 per agent
 * every 5 s) came at their own instants: 160 iterations a second with 200
 * agents, each over all of them. On the grid, the timers due within one
 * slot share an iteration. A timer is late by less than one slot: nothing
 * libnice or GLib runs for us here needs better (the ICE-lite agent sends
 * no paced checks; STUN retransmissions wait hundreds of ms), and only
 * while no socket but GLib's wakeup is left to GLib: a join in progress
 * (an agent not parked yet, its ICE and DTLS timers) is not slowed down.
 * Ready descriptors and sources due at once are not delayed. */
#define GLIB_GRID_US 25000

static int64_t glib_grid(int64_t at)
{
    return (at + GLIB_GRID_US - 1) / GLIB_GRID_US * GLIB_GRID_US;
}

/* GLib's prepare and query: its descriptors and its next timeout. */
static void glib_prepare(sfu_worker *w)
{
    gboolean ready = g_main_context_prepare(w->ctx, &w->gprio);
    gint timeout = -1;
    for (;;) {
        w->ngfds = g_main_context_query(w->ctx, w->gprio, &timeout, w->gfds, w->gfds_cap);
        if (w->ngfds <= w->gfds_cap)
            break;
        w->gfds_cap = w->ngfds;
        w->gfds = g_renew(GPollFD, w->gfds, w->gfds_cap);
    }
    glib_sync_fds(w);
    if (ready || timeout == 0)
        w->glib_at = 0;
    else if (timeout < 0)
        w->glib_at = TIME_NEVER;
    else    /* GLib's timeout runs from its own clock read, later than w->now */
        w->glib_at = g_get_monotonic_time() + (int64_t)timeout * 1000;
    /* Only GLib's wakeup left to poll: every agent's pair is parked, no
     * ICE or DTLS handshake is under way (their sockets would be polled
     * here), so the timers may wait for the grid. */
    bool settled = w->ngfds == 1 && w->gfds[0].fd == w->gwake_fd;
    if (settled && w->glib_at != 0 && w->glib_at != TIME_NEVER)
        w->glib_at = glib_grid(w->glib_at);
    w->glib_due = false;
}

/* GLib's check and dispatch after the wait (which was its poll), then the
 * prepare for the next wait.
 *
 * A dispatch wakes the context itself: libnice's timers re-add their
 * timeouts, and with OWNERLESS_POLLING every attach writes the wakeup
 * eventfd, so the next epoll_wait returned at once for a second iteration
 * that found nothing (about half of GLib's iterations in voice-calls).
 * The eventfd is drained between the dispatch and the prepare: a change
 * made before the drain is seen by that prepare (GLib changes a source,
 * then writes, under the context's lock), and a write after it leaves the
 * descriptor ready for the next wait, so nothing is missed. */
static void glib_run(sfu_worker *w)
{
    if (w->ngfds > 0)
        g_poll(w->gfds, (guint)w->ngfds, 0);
    if (g_main_context_check(w->ctx, w->gprio, w->gfds, w->ngfds)) {
        g_main_context_dispatch(w->ctx);
        if (w->gwake_fd >= 0) {
            uint64_t drain[8];
            if (read(w->gwake_fd, drain, sizeof drain) < 0 && errno != EAGAIN)
                w->gwake_fd = -1;   /* not what wakeup_fd took it for */
        }
    }
    glib_prepare(w);
}

static int wait_ms(const sfu_worker *w)
{
    int64_t next = w->glib_at;
    if (w->nheap && w->heap[0]->at < next)
        next = w->heap[0]->at;
    if (w->glib_due || w->ntasks || next <= w->now)
        return 0;
    if (next == TIME_NEVER)
        return -1;
    int64_t ms = (next - w->now + 999) / 1000;
    return ms > 60000 ? 60000 : (int)ms;
}

/* Read coalescing: under load, the next read waits until a window after
 * the last wake-up began, so that it gathers several datagrams (see
 * core/rx_coalesce.h). Never past the loop's next deadline; never while
 * work is pending. g_get_monotonic_time is CLOCK_MONOTONIC in microseconds. */
static void hold_reads(sfu_worker *w)
{
    int64_t deadline = w->glib_at;
    if (w->nheap && w->heap[0]->at < deadline)
        deadline = w->heap[0]->at;
    if (w->glib_due || w->ntasks)
        return;
    int64_t until = sfu_rx_coalesce_until(&w->coalesce, w->now, deadline);
    if (until <= 0 || until <= g_get_monotonic_time())
        return;
    struct timespec ts = { .tv_sec = until / 1000000, .tv_nsec = (until % 1000000) * 1000 };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* One wake-up: the clock is read once; ready sockets, then due timers, then
 * the batch of sends, then GLib if its turn came. */
static void wake_up(sfu_worker *w, bool block)
{
    if (block)
        hold_reads(w);
    int n = epoll_wait(w->epfd, w->events, WORKER_EVENTS, block ? wait_ms(w) : 0);
    w->now = g_get_monotonic_time();
    w->wake_dgrams = 0;
    w->wake_backlog = false;
    w->nevents = n > 0 ? n : 0;
    w->in_io = true;
    for (int i = 0; i < w->nevents; i++) {
        if (w->events[i].data.ptr == &w->glib_epfd) {
            w->glib_due = true;
            continue;
        }
        if (w->events[i].data.ptr == &w->cmds) {
            w->cmds_due = true;
            continue;
        }
        sfu_worker_watch *watch = w->events[i].data.ptr;
        if (watch)
            watch->fn(watch->user, w->now);
    }
    w->nevents = 0;
    sfu_rx_coalesce_note(&w->coalesce, w->now, w->wake_dgrams, w->wake_backlog);
    run_timers(w, w->now);
    w->in_io = false;
    sfu_egress_flush(w->egress);
    /* GLib's callbacks (peer set-up and teardown among them) send at once,
     * as before: a peer freed there must not leave datagrams in the batch
     * for a descriptor number that may be reused. */
    if (w->glib_due || w->now >= w->glib_at)
        glib_run(w);
    /* Commands from other threads, like GLib's callbacks, send at once. */
    if (w->cmds_due) {
        w->cmds_due = false;
        sfu_cmd_queue_drain(w->cmds);
    }
    /* Last, so that what the sockets, the timers and GLib changed is seen
     * once (a room's next deadline, for one); their sends go at once. */
    run_tasks(w);
    sfu_egress_flush(w->egress);
}

sfu_worker_watch *sfu_worker_watch_fd(sfu_worker *w, int fd, sfu_worker_io_fn fn, void *user)
{
    sfu_worker_watch *watch = g_new(sfu_worker_watch, 1);
    *watch = (sfu_worker_watch){ .fd = fd, .fn = fn, .user = user };
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = watch };
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        g_free(watch);
        return NULL;
    }
    return watch;
}

void sfu_worker_unwatch(sfu_worker *w, sfu_worker_watch *watch)
{
    if (!watch)
        return;
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
    for (int i = 0; i < w->nevents; i++)
        if (w->events[i].data.ptr == watch)
            w->events[i].data.ptr = NULL;
    g_free(watch);
}

GMainContext *sfu_worker_parked_context(sfu_worker *w) { return w->parked; }

void sfu_worker_set_udp_gso(sfu_worker *w, bool on) { sfu_egress_set_gso(w->egress, on); }

void sfu_worker_set_read_coalesce(sfu_worker *w, int64_t window_us)
{
    sfu_rx_coalesce_init(&w->coalesce, window_us);
}

void sfu_worker_note_read(sfu_worker *w, unsigned dgrams, bool full)
{
    w->wake_dgrams += dgrams;
    w->wake_backlog |= full;
}


/* A fresh context polls one descriptor, its wakeup (an eventfd, or a pipe's
 * read end: either is non-blocking and drained by reading it empty). -1
 * if GLib ever polls something else: then nothing is drained by hand. */
static int wakeup_fd(GMainContext *ctx)
{
    GPollFD fds[2];
    gint timeout;
    if (g_main_context_query(ctx, G_MAXINT, &timeout, fds, 2) != 1)
        return -1;
    int fl = fcntl(fds[0].fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK) ? fds[0].fd : -1;
}

/* Enough for one input's fan-out to a large room plus its RTCP. */
#define WORKER_OUT_ITEMS 4096

sfu_worker *sfu_worker_new(unsigned index, uint32_t pool_packets, uint32_t pool_max_packets)
{
    sfu_worker *w = g_new0(sfu_worker, 1);
    w->index = index;
    w->ctx = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING);
    w->gwake_fd = wakeup_fd(w->ctx);
    w->parked = g_main_context_new();
    w->pool = sfu_buf_pool_new_growing(pool_packets, pool_max_packets);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->glib_epfd = epoll_create1(EPOLL_CLOEXEC);
    w->egress = sfu_egress_new();
    w->cmds = sfu_cmd_queue_new(SFU_WORKER_QUEUE_CAP);
    if (w->egress)
        sfu_egress_set_gso(w->egress, false);
    w->glib_at = 0;
    if (w->epfd < 0 || w->glib_epfd < 0 || !w->pool || !w->cmds ||
        sfu_out_init(&w->out, WORKER_OUT_ITEMS) != 0)
        goto err;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->glib_epfd };
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->glib_epfd, &ev) != 0)
        goto err;
    struct epoll_event cev = { .events = EPOLLIN, .data.ptr = &w->cmds };
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, sfu_cmd_queue_fd(w->cmds), &cev) != 0)
        goto err;
    return w;
err:
    sfu_worker_free(w);
    return NULL;
}

void sfu_worker_free(sfu_worker *w)
{
    if (!w)
        return;
    sfu_worker_stop(w);
    if (w->epfd >= 0)
        close(w->epfd);
    if (w->glib_epfd >= 0)
        close(w->glib_epfd);
    g_main_context_unref(w->parked);
    sfu_egress_free(w->egress);
    sfu_cmd_queue_free(w->cmds);
    sfu_out_deinit(&w->out);
    sfu_buf_pool_free(w->pool);
    g_main_context_unref(w->ctx);
    g_free(w->gfds);
    g_free(w->greg);
    g_free(w->greg_new);
    g_free(w->heap);
    g_free(w->tasks);
    g_free(w);
}

static gpointer worker_main(gpointer data)
{
    sfu_worker *w = data;
    g_main_context_acquire(w->ctx);
    g_main_context_push_thread_default(w->ctx);
    tls_worker = w;
    w->now = g_get_monotonic_time();
    glib_prepare(w);
    w->primed = true;
    while (!w->quit)
        wake_up(w, true);
    /* Run what was queued before the stop so nothing handed over is lost
     * (a command may queue GLib work, and GLib work a command). */
    for (bool busy = true; busy;) {
        busy = sfu_cmd_queue_drain(w->cmds) > 0;
        while (g_main_context_iteration(w->ctx, FALSE))
            busy = true;
    }
    tls_worker = NULL;
    g_main_context_pop_thread_default(w->ctx);
    g_main_context_release(w->ctx);
    return NULL;
}

int sfu_worker_start(sfu_worker *w)
{
    char name[16];
    snprintf(name, sizeof name, "sfu-worker-%u", w->index);
    w->thread = g_thread_new(name, worker_main, w);
    return 0;
}

static void quit_loop(void *arg)
{
    ((sfu_worker *)arg)->quit = true;
}

void sfu_worker_stop(sfu_worker *w)
{
    if (!w->thread)
        return;
    /* After the commands already queued. */
    sfu_cmd_queue_post_follow(w->cmds, quit_loop, w);
    g_thread_join(w->thread);
    w->thread = NULL;
}

/* Never run inline: the caller may hold locks. */
int sfu_worker_post(sfu_worker *w, void (*fn)(void *arg), void *arg)
{
    return sfu_cmd_queue_post(w->cmds, fn, arg);
}

int sfu_worker_admit(sfu_worker *w) { return sfu_cmd_queue_admit(w->cmds); }

void sfu_worker_post_follow(sfu_worker *w, void (*fn)(void *arg), void *arg)
{
    sfu_cmd_queue_post_follow(w->cmds, fn, arg);
}

void sfu_worker_queue_stats(sfu_worker *w, sfu_cmd_queue_stats *out)
{
    sfu_cmd_queue_stats_get(w->cmds, out);
}

void sfu_worker_iterate(sfu_worker *w)
{
    g_main_context_acquire(w->ctx);
    tls_worker = w;
    if (!w->primed) {
        w->now = g_get_monotonic_time();
        glib_prepare(w);
        w->primed = true;
    }
    wake_up(w, false);
    tls_worker = NULL;
    g_main_context_release(w->ctx);
}

int64_t sfu_worker_now(const sfu_worker *w)
{
    return tls_worker == w ? w->now : g_get_monotonic_time();
}

GMainContext *sfu_worker_context(sfu_worker *w) { return w->ctx; }
sfu_egress *sfu_worker_egress(sfu_worker *w) { return w->egress; }
bool sfu_worker_in_io(const sfu_worker *w) { return w->in_io; }
sfu_buf_pool *sfu_worker_pool(sfu_worker *w) { return w->pool; }
sfu_out *sfu_worker_out(sfu_worker *w) { return &w->out; }
unsigned sfu_worker_index(const sfu_worker *w) { return w->index; }
bool sfu_worker_is_current(const sfu_worker *w) { return g_main_context_is_owner(w->ctx); }
