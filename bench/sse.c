#include "bench/sse.h"

#include <glib.h>
#include <string.h>

void bench_sse_init(bench_sse *p)
{
    memset(p, 0, sizeof *p);
    p->line = g_malloc(BENCH_SSE_DATA_MAX + 1);
    p->data = g_malloc(BENCH_SSE_DATA_MAX + 1);
}

void bench_sse_deinit(bench_sse *p)
{
    g_free(p->line);
    g_free(p->data);
    memset(p, 0, sizeof *p);
}

static void reset_event(bench_sse *p)
{
    p->event[0] = '\0';
    p->data_len = 0;
    p->has_data = p->data_over = false;
}

static void dispatch(bench_sse *p, bench_sse_fn fn, void *user)
{
    if (p->data_over)
        p->dropped++;
    else if (p->has_data) {
        p->data[p->data_len] = '\0';
        p->events++;
        fn(user, p->event[0] ? p->event : "message", p->data, p->data_len);
    }
    reset_event(p);
}

/* One complete line (not NUL-terminated): a field, a comment or the blank
 * line that ends an event. */
static void line(bench_sse *p, const char *l, size_t n, bench_sse_fn fn, void *user)
{
    if (n == 0) {
        dispatch(p, fn, user);
        return;
    }
    if (l[0] == ':')
        return;
    const char *colon = memchr(l, ':', n);
    size_t name_len = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vlen = (size_t)(l + n - v);
    if (vlen && v[0] == ' ') {
        v++;
        vlen--;
    }
    if (name_len == 5 && memcmp(l, "event", 5) == 0) {
        size_t k = vlen < sizeof p->event - 1 ? vlen : sizeof p->event - 1;
        memcpy(p->event, v, k);
        p->event[k] = '\0';
    } else if (name_len == 4 && memcmp(l, "data", 4) == 0) {
        size_t need = vlen + (p->has_data ? 1 : 0);
        if (p->data_over || need > BENCH_SSE_DATA_MAX - p->data_len) {
            p->data_over = true;
            return;
        }
        if (p->has_data)
            p->data[p->data_len++] = '\n';
        memcpy(p->data + p->data_len, v, vlen);
        p->data_len += vlen;
        p->has_data = true;
    }
}

void bench_sse_feed(bench_sse *p, const uint8_t *buf, size_t len, bench_sse_fn fn, void *user)
{
    for (size_t i = 0; i < len; i++) {
        char c = (char)buf[i];
        if (p->after_cr) {
            p->after_cr = false;
            if (c == '\n')
                continue;
        }
        if (c == '\r' || c == '\n') {
            p->after_cr = c == '\r';
            if (p->line_over)
                p->data_over = true;    /* a field was cut: drop the event */
            else
                line(p, p->line, p->line_len, fn, user);
            p->line_len = 0;
            p->line_over = false;
            continue;
        }
        if (p->line_len == BENCH_SSE_DATA_MAX)
            p->line_over = true;
        else
            p->line[p->line_len++] = c;
    }
}
