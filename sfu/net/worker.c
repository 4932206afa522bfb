#include "sfu/net/worker.h"

#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Ready sockets handled per wake-up; more stay ready for the next one. */
#define WORKER_EVENTS 64

struct sfu_worker_watch {
    int fd;
    sfu_worker_io_fn fn;
    void *user;
};

typedef struct epoll_source {
    GSource base;
    sfu_worker *w;
} epoll_source;

struct sfu_worker {
    unsigned index;
    GMainContext *ctx;
    GMainContext *parked;
    int epfd;
    GSource *epoll;
    /* The events of the wake-up being dispatched, so that a watch removed
     * meanwhile is skipped. */
    struct epoll_event events[WORKER_EVENTS];
    int nevents;
    bool in_io;
    sfu_egress *egress;
    GMainLoop *loop;
    GThread *thread;
    sfu_buf_pool *pool;
    sfu_out out;
};

static gboolean epoll_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    (void)cb, (void)data;
    sfu_worker *w = ((epoll_source *)src)->w;
    int64_t now = g_source_get_time(src);
    int n = epoll_wait(w->epfd, w->events, WORKER_EVENTS, 0);
    w->nevents = n > 0 ? n : 0;
    w->in_io = true;
    for (int i = 0; i < w->nevents; i++) {
        sfu_worker_watch *watch = w->events[i].data.ptr;
        if (watch)
            watch->fn(watch->user, now);
    }
    w->in_io = false;
    w->nevents = 0;
    sfu_egress_flush(w->egress);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs epoll_funcs = { .dispatch = epoll_dispatch };

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

/* Enough for one input's fan-out to a large room plus its RTCP. */
#define WORKER_OUT_ITEMS 4096

sfu_worker *sfu_worker_new(unsigned index, uint32_t pool_packets)
{
    sfu_worker *w = g_new0(sfu_worker, 1);
    w->index = index;
    w->ctx = g_main_context_new();
    w->parked = g_main_context_new();
    w->loop = g_main_loop_new(w->ctx, FALSE);
    w->pool = sfu_buf_pool_new(pool_packets);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->egress = sfu_egress_new();
    if (w->epfd < 0 || !w->pool || sfu_out_init(&w->out, WORKER_OUT_ITEMS) != 0)
        goto err;
    w->epoll = g_source_new(&epoll_funcs, sizeof(epoll_source));
    ((epoll_source *)w->epoll)->w = w;
    g_source_add_unix_fd(w->epoll, w->epfd, G_IO_IN);
    /* GLib blocks a source while dispatching it unless it may recurse, and
     * blocking one with a descriptor writes its wakeup eventfd twice (out of
     * the poll set, back in), which then wakes the next poll for nothing:
     * two writes, a read and an empty poll per wake-up. Nothing iterates
     * this context recursively. */
    g_source_set_can_recurse(w->epoll, TRUE);
    g_source_attach(w->epoll, w->ctx);
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
    if (w->epoll) {
        g_source_destroy(w->epoll);
        g_source_unref(w->epoll);
    }
    if (w->epfd >= 0)
        close(w->epfd);
    g_main_context_unref(w->parked);
    sfu_egress_free(w->egress);
    sfu_out_deinit(&w->out);
    sfu_buf_pool_free(w->pool);
    g_main_loop_unref(w->loop);
    g_main_context_unref(w->ctx);
    g_free(w);
}

static gpointer worker_main(gpointer data)
{
    sfu_worker *w = data;
    g_main_context_push_thread_default(w->ctx);
    g_main_loop_run(w->loop);
    /* Run what was queued before the stop so nothing handed over is lost. */
    while (g_main_context_iteration(w->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(w->ctx);
    return NULL;
}

int sfu_worker_start(sfu_worker *w)
{
    char name[16];
    snprintf(name, sizeof name, "sfu-worker-%u", w->index);
    w->thread = g_thread_new(name, worker_main, w);
    return 0;
}

static gboolean quit_loop(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

void sfu_worker_stop(sfu_worker *w)
{
    if (!w->thread)
        return;
    g_main_context_invoke(w->ctx, quit_loop, w->loop);
    g_thread_join(w->thread);
    w->thread = NULL;
}

typedef struct invoke_call {
    void (*fn)(void *arg);
    void *arg;
} invoke_call;

static gboolean run_call(gpointer data)
{
    invoke_call *call = data;
    call->fn(call->arg);
    return G_SOURCE_REMOVE;
}

void sfu_worker_invoke(sfu_worker *w, void (*fn)(void *arg), void *arg)
{
    invoke_call *call = g_new(invoke_call, 1);
    call->fn = fn;
    call->arg = arg;
    /* Always queued, never run inline: the caller may hold locks. */
    GSource *src = g_idle_source_new();
    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, run_call, call, g_free);
    g_source_attach(src, w->ctx);
    g_source_unref(src);
}

GMainContext *sfu_worker_context(sfu_worker *w) { return w->ctx; }
sfu_egress *sfu_worker_egress(sfu_worker *w) { return w->egress; }
bool sfu_worker_in_io(const sfu_worker *w) { return w->in_io; }
sfu_buf_pool *sfu_worker_pool(sfu_worker *w) { return w->pool; }
sfu_out *sfu_worker_out(sfu_worker *w) { return &w->out; }
unsigned sfu_worker_index(const sfu_worker *w) { return w->index; }
bool sfu_worker_is_current(const sfu_worker *w) { return g_main_context_is_owner(w->ctx); }
