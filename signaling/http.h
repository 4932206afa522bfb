/* The HTTP server: libmicrohttpd on its own epoll thread, with
 * suspend/resume so that a request needing a media worker never blocks the
 * HTTP thread. The server collects a request's body (answering 413 past the
 * limit), then hands the whole request to one handler. The handler answers
 * at once with sig_http_respond, or keeps the request and answers later from
 * any thread; either way exactly one response per request. */
#ifndef SIG_HTTP_H
#define SIG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sig_http sig_http;
typedef struct sig_request sig_request;

#define SIG_HTTP_MAX_HEADERS 24

typedef struct sig_response {
    unsigned status;
    const char *content_type;       /* NULL: text/plain for a body */
    const char *body;               /* copied */
    size_t body_len;                /* 0 with a body: strlen */
    const char *header_names[SIG_HTTP_MAX_HEADERS];
    const char *header_values[SIG_HTTP_MAX_HEADERS];   /* copied */
    unsigned nheaders;
    unsigned retry_after_s;         /* 429, 503 */
} sig_response;

typedef void (*sig_http_handler)(void *user, sig_request *req);

typedef struct sig_http_config {
    const char *listen_addr;        /* "127.0.0.1" */
    uint16_t port;
    size_t max_body_bytes;
    /* Connection limits (signaling/connlimit.h): all open connections; the
     * pending ones (request not complete yet) of one client address, 0 for
     * no cap; the deadlines of a request's headers and body and of a
     * keep-alive connection between requests (each at least 1000). */
    unsigned max_connections;
    unsigned max_pending_per_client;
    unsigned header_timeout_ms, body_timeout_ms, idle_timeout_ms;
    unsigned connection_timeout_s;  /* no byte moved for this long: closed (slow readers) */
    const char *cors_origin;
    /* Called once per answer, from whichever thread answers, with the
     * request's tag (sig_request_set_tag; 0 by default) and the status: for
     * counting (metrics). May be NULL. */
    void (*on_answer)(void *user, unsigned tag, unsigned status);
} sig_http_config;

sig_http *sig_http_new(const sig_http_config *cfg, sig_http_handler handler, void *user,
                       char *err, size_t errlen);
/* Stops accepting, then frees. Requests still held by a handler must have
 * been answered. */
void sig_http_free(sig_http *http);
uint16_t sig_http_port(const sig_http *http);

/* Accessors are for the handler call itself (the HTTP thread); copy what
 * later work needs before handing the request to another thread. */
const char *sig_request_method(const sig_request *req);
/* The server the request came in on: fixed, so readable on any thread until
 * the request is answered. */
sig_http *sig_request_http(const sig_request *req);
const char *sig_request_path(const sig_request *req);
const char *sig_request_header(const sig_request *req, const char *name);
const char *sig_request_query(const sig_request *req, const char *name);
/* The media type (parameters after ';' ignored, case-insensitive) is `want`. */
bool sig_request_content_type_is(const sig_request *req, const char *want);
/* Calls fn for each query argument, decoded, in order; stops when fn
 * returns non-zero and returns that value. */
int sig_request_foreach_query(const sig_request *req,
                              int (*fn)(void *user, const char *key, const char *value),
                              void *user);
const uint8_t *sig_request_body(const sig_request *req, size_t *len);
/* The client's address, for rate limiting only; never logged by default. */
const char *sig_request_client(const sig_request *req);
struct sockaddr;
const struct sockaddr *sig_request_sockaddr(const sig_request *req);
/* A number the handler attaches for on_answer (the route, for metrics). */
void sig_request_set_tag(sig_request *req, unsigned tag);

/* Answers a request: from the handler itself or later, from any thread.
 * The request must not be touched afterwards. */
void sig_http_respond(sig_request *req, const sig_response *resp);
/* A streamed answer (Server-Sent Events): the server calls `read` on the
 * HTTP thread whenever it can send. `read` returns the bytes it wrote (at
 * most `max`), 0 when it has nothing now (the connection then waits, without
 * polling, until sig_stream_wake), or -1 to end the stream. `on_close` runs
 * once when the connection is gone; after it `cls` is not used again. */
typedef struct sig_stream sig_stream;
typedef long (*sig_stream_read_fn)(void *cls, char *buf, size_t max);
/* Returns a reference the caller releases with sig_stream_unref. */
sig_stream *sig_http_respond_stream(sig_request *req, const char *content_type,
                                    sig_stream_read_fn read, void *cls,
                                    void (*on_close)(void *cls));
/* New data for `read`: thread-safe, cheap, harmless after the close. */
void sig_stream_wake(sig_stream *s);
void sig_stream_unref(sig_stream *s);

/* The connections now by state, and those closed by reason (metrics). */
struct sig_connlimit_counts;
void sig_http_conn_counts(sig_http *http, struct sig_connlimit_counts *c);

/* Shorthand for a one-line text/plain answer. */
void sig_http_respond_text(sig_request *req, unsigned status, const char *reason);

#endif
