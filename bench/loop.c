#include "bench/loop.h"

#include <stdbool.h>

#define TICK_MS 2

struct bench_loop {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    bench_loop_fn tick;
    void *tick_arg;
};

typedef struct call {
    bench_loop_fn fn;
    void *arg;
    GMutex mutex;
    GCond cond;
    bool done;
} call;

static gboolean on_tick(gpointer data)
{
    bench_loop *l = data;
    l->tick(l->tick_arg);
    return G_SOURCE_CONTINUE;
}

static gpointer run(gpointer data)
{
    bench_loop *l = data;
    g_main_context_push_thread_default(l->ctx);
    GSource *tick = g_timeout_source_new(TICK_MS);
    g_source_set_callback(tick, on_tick, l, NULL);
    g_source_attach(tick, l->ctx);
    g_main_loop_run(l->loop);
    g_source_destroy(tick);
    g_source_unref(tick);
    g_main_context_pop_thread_default(l->ctx);
    return NULL;
}

bench_loop *bench_loop_new(bench_loop_fn tick, void *tick_arg)
{
    bench_loop *l = g_new0(bench_loop, 1);
    l->ctx = g_main_context_new();
    l->loop = g_main_loop_new(l->ctx, FALSE);
    l->tick = tick;
    l->tick_arg = tick_arg;
    l->thread = g_thread_try_new("bench-media", run, l, NULL);
    if (!l->thread) {
        g_main_loop_unref(l->loop);
        g_main_context_unref(l->ctx);
        g_free(l);
        return NULL;
    }
    return l;
}

static gboolean do_quit(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

void bench_loop_free(bench_loop *l)
{
    if (!l)
        return;
    g_main_context_invoke(l->ctx, do_quit, l->loop);
    g_thread_join(l->thread);
    /* libnice may leave sources (closing sockets) behind: run them out. */
    while (g_main_context_iteration(l->ctx, FALSE))
        ;
    g_main_loop_unref(l->loop);
    g_main_context_unref(l->ctx);
    g_free(l);
}

GMainContext *bench_loop_context(bench_loop *l) { return l->ctx; }

static gboolean do_call(gpointer data)
{
    call *c = data;
    c->fn(c->arg);
    g_mutex_lock(&c->mutex);
    c->done = true;
    g_cond_signal(&c->cond);
    g_mutex_unlock(&c->mutex);
    return G_SOURCE_REMOVE;
}

void bench_loop_call(bench_loop *l, bench_loop_fn fn, void *arg)
{
    call c = { .fn = fn, .arg = arg };
    g_mutex_init(&c.mutex);
    g_cond_init(&c.cond);
    g_main_context_invoke(l->ctx, do_call, &c);
    g_mutex_lock(&c.mutex);
    while (!c.done)
        g_cond_wait(&c.cond, &c.mutex);
    g_mutex_unlock(&c.mutex);
    g_mutex_clear(&c.mutex);
    g_cond_clear(&c.cond);
}
