/* A server-sent events parser (WHATWG HTML, "Parsing an event stream"),
 * sans-IO: feed it the bytes of a text/event-stream body as they arrive and
 * it calls back once per complete event. Used for a room session's events
 * (GET /sessions/{id}/events); the bytes come from the SFU under test, but
 * every length is checked: a line or an event's data longer than its buffer
 * drops that event (counted), never overruns. Only `event` and `data`
 * fields are kept; comments (`: keepalive`), `id` and `retry` are skipped. */
#ifndef BENCH_SSE_H
#define BENCH_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_SSE_EVENT_MAX 32      /* event names are short */
#define BENCH_SSE_DATA_MAX (512 * 1024) /* a 32 m-line offer is ~40 KiB */

/* data is NUL-terminated (len excludes it); event is "message" if unnamed. */
typedef void (*bench_sse_fn)(void *user, const char *event, const char *data, size_t len);

typedef struct bench_sse {
    char *line;                 /* BENCH_SSE_DATA_MAX + 1 */
    size_t line_len;
    bool line_over;             /* this line was longer than the buffer */
    bool after_cr;              /* a CR ended the last line: skip one LF */
    char event[BENCH_SSE_EVENT_MAX];
    char *data;                 /* BENCH_SSE_DATA_MAX + 1 */
    size_t data_len;
    bool has_data, data_over;
    uint64_t events, dropped;   /* dispatched; dropped as too long */
} bench_sse;

void bench_sse_init(bench_sse *p);
void bench_sse_deinit(bench_sse *p);
/* Parses len bytes; calls fn for every event they complete. */
void bench_sse_feed(bench_sse *p, const uint8_t *buf, size_t len, bench_sse_fn fn, void *user);

#endif
