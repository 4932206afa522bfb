/* Fuzzes the bench's server-sent events parser (bench/sse.c, which reads a
 * room session's event stream). Input: one byte that picks a chunk size,
 * then the stream. Checks what the parser promises: every event's data is
 * NUL-terminated within its bound and its name has no line break, and
 * feeding the stream in chunks gives exactly the events feeding it whole
 * gives (no state lost at a chunk boundary, a CR LF split included). */
#include "bench/sse.c"

#include <stdlib.h>

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void collect(void *user, const char *event, const char *data, size_t len)
{
    GString *out = user;
    check(len <= BENCH_SSE_DATA_MAX && data[len] == '\0');
    check(strlen(event) < BENCH_SSE_EVENT_MAX && !strpbrk(event, "\r\n"));
    g_string_append_printf(out, "%s|%zu|", event, len);
    g_string_append_len(out, data, (gssize)len);
    g_string_append_c(out, '\0');
}

static void run(const uint8_t *d, size_t n, size_t chunk, GString *out, uint64_t *counts)
{
    bench_sse p;
    bench_sse_init(&p);
    for (size_t off = 0; off < n; off += chunk)
        bench_sse_feed(&p, d + off, n - off < chunk ? n - off : chunk, collect, out);
    counts[0] = p.events;
    counts[1] = p.dropped;
    bench_sse_deinit(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = 1 + data[0] % 17;
    GString *whole = g_string_new(NULL), *parts = g_string_new(NULL);
    uint64_t a[2], b[2];
    run(data + 1, size - 1, size, whole, a);
    run(data + 1, size - 1, chunk, parts, b);
    check(a[0] == b[0] && a[1] == b[1]);
    check(whole->len == parts->len && memcmp(whole->str, parts->str, whole->len) == 0);
    g_string_free(whole, TRUE);
    g_string_free(parts, TRUE);
    return 0;
}
