#include "signaling/events.h"

#include <glib.h>
#include <string.h>

struct sig_events {
    GMutex lock;
    gint refs;
    bool closed;
    GQueue queue;               /* GString*, whole "event: ...\n\n" blocks */
    char *offer;                /* outstanding offer event block, or NULL */
    unsigned generation;        /* which attach is current */
    sig_stream *stream;         /* the current stream, or NULL */
    sfu_time last_sent;
};

/* One connected stream; holds a reference to its sig_events. */
typedef struct stream_ctx {
    sig_events *ev;
    unsigned generation;
    GString *pending;           /* a block being written, with `offset` sent */
    size_t offset;
    GQueue first;               /* snapshot then offer, before the queue */
} stream_ctx;

static void block_free(gpointer b)
{
    g_string_free(b, TRUE);
}

static void events_unref(sig_events *ev)
{
    if (!g_atomic_int_dec_and_test(&ev->refs))
        return;
    g_queue_clear_full(&ev->queue, block_free);
    g_free(ev->offer);
    g_mutex_clear(&ev->lock);
    g_free(ev);
}

sig_events *sig_events_new(void)
{
    sig_events *ev = g_new0(sig_events, 1);
    g_mutex_init(&ev->lock);
    g_queue_init(&ev->queue);
    ev->refs = 1;
    return ev;
}

static GString *block(const char *type, const char *json)
{
    GString *b = g_string_new(NULL);
    g_string_append_printf(b, "event: %s\ndata: %s\n\n", type, json);
    return b;
}

static void wake_locked(sig_events *ev)
{
    if (ev->stream)
        sig_stream_wake(ev->stream);
}

void sig_events_close(sig_events *ev)
{
    if (!ev)
        return;
    g_mutex_lock(&ev->lock);
    ev->closed = true;
    wake_locked(ev);
    g_mutex_unlock(&ev->lock);
    events_unref(ev);
}

void sig_events_push(sig_events *ev, const char *type, const char *json)
{
    GString *b = block(type, json);
    g_mutex_lock(&ev->lock);
    if (g_queue_get_length(&ev->queue) >= SIG_EVENTS_MAX_QUEUED)
        g_string_free(g_queue_pop_head(&ev->queue), TRUE);
    g_queue_push_tail(&ev->queue, b);
    wake_locked(ev);
    g_mutex_unlock(&ev->lock);
}

void sig_events_set_offer(sig_events *ev, const char *json)
{
    char *text = json ? g_strdup_printf("event: offer\ndata: %s\n\n", json) : NULL;
    g_mutex_lock(&ev->lock);
    g_free(ev->offer);
    ev->offer = text;
    if (text)   /* a connected client gets it now, a reconnecting one again */
        g_queue_push_tail(&ev->queue, g_string_new(text));
    wake_locked(ev);
    g_mutex_unlock(&ev->lock);
}

/* The next block to write: the connect's own first blocks, then the queue. */
static GString *next_block(stream_ctx *ctx)
{
    if (!g_queue_is_empty(&ctx->first))
        return g_queue_pop_head(&ctx->first);
    return g_queue_pop_head(&ctx->ev->queue);
}

static long stream_read(void *cls, char *buf, size_t max)
{
    stream_ctx *ctx = cls;
    sig_events *ev = ctx->ev;
    size_t n = 0;
    g_mutex_lock(&ev->lock);
    if (ev->closed || ev->generation != ctx->generation) {
        g_mutex_unlock(&ev->lock);
        return -1;
    }
    while (n < max) {
        if (!ctx->pending) {
            ctx->pending = next_block(ctx);
            ctx->offset = 0;
            if (!ctx->pending)
                break;
        }
        size_t left = ctx->pending->len - ctx->offset;
        size_t take = left < max - n ? left : max - n;
        memcpy(buf + n, ctx->pending->str + ctx->offset, take);
        n += take;
        ctx->offset += take;
        if (ctx->offset == ctx->pending->len) {
            g_string_free(ctx->pending, TRUE);
            ctx->pending = NULL;
        }
    }
    if (n > 0)
        ev->last_sent = g_get_monotonic_time();
    g_mutex_unlock(&ev->lock);
    return (long)n;
}

static void stream_close(void *cls)
{
    stream_ctx *ctx = cls;
    sig_events *ev = ctx->ev;
    g_mutex_lock(&ev->lock);
    if (ev->generation == ctx->generation && ev->stream) {
        sig_stream_unref(ev->stream);
        ev->stream = NULL;
    }
    g_mutex_unlock(&ev->lock);
    if (ctx->pending)
        g_string_free(ctx->pending, TRUE);
    g_queue_clear_full(&ctx->first, block_free);
    g_free(ctx);
    events_unref(ev);
}

void sig_events_attach(sig_events *ev, sig_request *req, const char *snapshot_json)
{
    stream_ctx *ctx = g_new0(stream_ctx, 1);
    g_queue_init(&ctx->first);
    g_queue_push_tail(&ctx->first, block("snapshot", snapshot_json));
    g_atomic_int_inc(&ev->refs);
    ctx->ev = ev;
    g_mutex_lock(&ev->lock);
    /* The outstanding offer is replayed on a reconnect; on the first
     * connect it is still in the queue. */
    bool queued = false;
    for (GList *l = ev->queue.head; l && ev->offer; l = l->next)
        queued = queued || strcmp(((GString *)l->data)->str, ev->offer) == 0;
    if (ev->offer && !queued)
        g_queue_push_tail(&ctx->first, g_string_new(ev->offer));
    ctx->generation = ++ev->generation;
    sig_stream *old = ev->stream;
    ev->stream = NULL;
    ev->last_sent = g_get_monotonic_time();
    g_mutex_unlock(&ev->lock);
    if (old) {  /* a newer connect replaces it: its reader ends the stream */
        sig_stream_wake(old);
        sig_stream_unref(old);
    }
    sig_stream *s = sig_http_respond_stream(req, "text/event-stream", stream_read, ctx,
                                            stream_close);
    if (!s)
        return;
    g_mutex_lock(&ev->lock);
    if (ev->generation == ctx->generation && !ev->stream)
        ev->stream = s;
    else
        sig_stream_unref(s);
    g_mutex_unlock(&ev->lock);
}

void sig_events_keepalive(sig_events *ev, sfu_time now)
{
    g_mutex_lock(&ev->lock);
    if (ev->stream && now - ev->last_sent >= SIG_EVENTS_KEEPALIVE) {
        g_queue_push_tail(&ev->queue, g_string_new(": keepalive\n\n"));
        ev->last_sent = now;
        wake_locked(ev);
    }
    g_mutex_unlock(&ev->lock);
}

bool sig_events_connected(sig_events *ev)
{
    g_mutex_lock(&ev->lock);
    bool connected = ev->stream != NULL;
    g_mutex_unlock(&ev->lock);
    return connected;
}
