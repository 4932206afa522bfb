#include "sfu/net/worker.h"

#include <stdio.h>

struct sfu_worker {
    unsigned index;
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    sfu_buf_pool *pool;
    sfu_out out;
};

/* Enough for one input's fan-out to a large room plus its RTCP. */
#define WORKER_OUT_ITEMS 4096

sfu_worker *sfu_worker_new(unsigned index, uint32_t pool_packets)
{
    sfu_worker *w = g_new0(sfu_worker, 1);
    w->index = index;
    w->ctx = g_main_context_new();
    w->loop = g_main_loop_new(w->ctx, FALSE);
    w->pool = sfu_buf_pool_new(pool_packets);
    if (!w->pool || sfu_out_init(&w->out, WORKER_OUT_ITEMS) != 0)
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
sfu_buf_pool *sfu_worker_pool(sfu_worker *w) { return w->pool; }
sfu_out *sfu_worker_out(sfu_worker *w) { return &w->out; }
unsigned sfu_worker_index(const sfu_worker *w) { return w->index; }
bool sfu_worker_is_current(const sfu_worker *w) { return g_main_context_is_owner(w->ctx); }
