#include "signaling/http.h"

#include <arpa/inet.h>
#include <glib.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sfu/net/log.h"
#include "signaling/connlimit.h"
#include "signaling/ratelimit.h"

/* Room for connections chosen to be closed that libmicrohttpd still counts:
 * its own hard limit sits this far above max_connections. */
#define CLOSING_SLACK 64
#define REAPER_MAX_SLEEP SFU_SEC(1)
/* libmicrohttpd's memory pool per connection (its default is 32 KiB): the
 * request's headers and the I/O buffers; bodies are copied out as they come
 * (req->body). Each room session holds its event stream's connection open
 * for its lifetime, and the pool is zeroed whole when a kept-alive
 * connection is reused, so its size is resident per participant. Request
 * headers up to about 8 KiB still fit. */
#define CONN_POOL_BYTES (16 * 1024)

struct sig_http {
    struct MHD_Daemon *daemon;
    /* Open streams, so that stopping can end them: libmicrohttpd aborts if
     * it is stopped with a connection still suspended. */
    GMutex streams_lock;
    GList *streams;
    sig_http_handler handler;
    void *user;
    size_t max_body_bytes;
    char *cors_origin;
    uint16_t port;
    void (*on_answer)(void *user, unsigned tag, unsigned status);
    /* Connection accounting (signaling/connlimit.h): the HTTP thread admits
     * and moves connections, the reaper thread closes those past their
     * deadline. A connection leaves the table (NOTIFY_CLOSED) before
     * libmicrohttpd closes its socket, so a socket shut down under this
     * lock is never one already reused. */
    GMutex conns_lock;
    sig_connlimit *conns;
    uint64_t admitted;              /* admitted, waiting for NOTIFY_STARTED */
    GThread *reaper;
    GCond reaper_cond;
    bool stopping;
};

typedef enum req_state { REQ_READING, REQ_IN_HANDLER, REQ_SUSPENDED, REQ_ANSWERED } req_state;

struct sig_request {
    sig_http *http;
    struct MHD_Connection *conn;
    char *method, *path;
    GByteArray *body;
    bool too_large;
    char client[INET6_ADDRSTRLEN];
    uint64_t conn_id;               /* in http->conns */
    GMutex lock;
    req_state state;
    struct MHD_Response *response;  /* built by sig_http_respond */
    unsigned status;
    unsigned tag;                   /* for on_answer */
};

const char *sig_request_method(const sig_request *req) { return req->method; }
sig_http *sig_request_http(const sig_request *req) { return req->http; }
const char *sig_request_path(const sig_request *req) { return req->path; }
const char *sig_request_client(const sig_request *req) { return req->client; }
void sig_request_set_tag(sig_request *req, unsigned tag) { req->tag = tag; }

const struct sockaddr *sig_request_sockaddr(const sig_request *req)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info ? info->client_addr : NULL;
}

const char *sig_request_header(const sig_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *sig_request_query(const sig_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool sig_request_content_type_is(const sig_request *req, const char *want)
{
    const char *ct = sig_request_header(req, "Content-Type");
    size_t n = strlen(want);
    if (!ct || g_ascii_strncasecmp(ct, want, n) != 0)
        return false;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

typedef struct query_walk {
    int (*fn)(void *user, const char *key, const char *value);
    void *user;
    int rc;
} query_walk;

static enum MHD_Result on_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    query_walk *walk = cls;
    walk->rc = walk->fn(walk->user, key, value ? value : "");
    return walk->rc == 0 ? MHD_YES : MHD_NO;
}

int sig_request_foreach_query(const sig_request *req,
                              int (*fn)(void *user, const char *key, const char *value),
                              void *user)
{
    query_walk walk = { .fn = fn, .user = user, .rc = 0 };
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, on_query_arg, &walk);
    return walk.rc;
}

const uint8_t *sig_request_body(const sig_request *req, size_t *len)
{
    *len = req->body->len;
    return req->body->data;
}

static void client_address(sig_request *req)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    req->client[0] = '\0';
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->client,
                  sizeof req->client);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->client,
                  sizeof req->client);
}

static void add_common_headers(sig_http *http, struct MHD_Response *r)
{
    MHD_add_response_header(r, "Access-Control-Allow-Origin", http->cors_origin);
    MHD_add_response_header(r, "Access-Control-Expose-Headers",
                            "Location, ETag, Link, X-Participant-Id");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
}

static struct MHD_Response *build_response(sig_http *http, const sig_response *resp)
{
    const char *body = resp->body ? resp->body : "";
    size_t len = resp->body && resp->body_len == 0 ? strlen(body) : resp->body_len;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return NULL;
    if (len > 0 || resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type
                                                   : "text/plain; charset=utf-8");
    add_common_headers(http, r);
    for (unsigned i = 0; i < resp->nheaders && i < SIG_HTTP_MAX_HEADERS; i++)
        MHD_add_response_header(r, resp->header_names[i], resp->header_values[i]);
    if (resp->retry_after_s) {
        char v[16];
        snprintf(v, sizeof v, "%u", resp->retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    return r;
}

static void answer_with(sig_request *req, struct MHD_Response *r, unsigned status)
{
    if (req->http->on_answer)
        req->http->on_answer(req->http->user, req->tag,
                             r ? status : MHD_HTTP_INTERNAL_SERVER_ERROR);
    g_mutex_lock(&req->lock);
    req->response = r;
    req->status = r ? status : MHD_HTTP_INTERNAL_SERVER_ERROR;
    bool resume = req->state == REQ_SUSPENDED;
    req->state = REQ_ANSWERED;
    g_mutex_unlock(&req->lock);
    /* Once resumed, the HTTP thread may finish and free the request at
     * once: nothing touches it after this. */
    if (resume)
        MHD_resume_connection(req->conn);
}

void sig_http_respond(sig_request *req, const sig_response *resp)
{
    answer_with(req, build_response(req->http, resp), resp->status);
}

/* ---- streams ---- */

struct sig_stream {
    GMutex lock;
    gint refs;
    sig_http *http;
    bool ended;                     /* the server is stopping */
    struct MHD_Connection *conn;    /* NULL once closed */
    bool suspended;
    bool woken;                     /* data came while the reader was not waiting */
    sig_stream_read_fn read;
    void *cls;
    void (*on_close)(void *cls);
};

void sig_stream_unref(sig_stream *s)
{
    if (s && g_atomic_int_dec_and_test(&s->refs)) {
        g_mutex_clear(&s->lock);
        g_free(s);
    }
}

void sig_stream_wake(sig_stream *s)
{
    g_mutex_lock(&s->lock);
    if (s->conn && s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    } else {
        s->woken = true;
    }
    g_mutex_unlock(&s->lock);
}

/* libmicrohttpd calls again at once after a 0, so with nothing to send the
 * connection is suspended until sig_stream_wake: no busy loop. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sig_stream *s = cls;
    g_mutex_lock(&s->lock);
    bool ended = s->ended;
    g_mutex_unlock(&s->lock);
    long n = ended ? -1 : s->read(s->cls, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n > 0)
        return n;
    g_mutex_lock(&s->lock);
    if (s->woken)
        s->woken = false;   /* try again right away */
    else if (s->conn) {
        s->suspended = true;
        MHD_suspend_connection(s->conn);
    }
    g_mutex_unlock(&s->lock);
    return 0;
}

static void stream_closed(void *cls)
{
    sig_stream *s = cls;
    g_mutex_lock(&s->http->streams_lock);
    s->http->streams = g_list_remove(s->http->streams, s);
    g_mutex_unlock(&s->http->streams_lock);
    g_mutex_lock(&s->lock);
    s->conn = NULL;
    g_mutex_unlock(&s->lock);
    s->on_close(s->cls);
    sig_stream_unref(s);
}

sig_stream *sig_http_respond_stream(sig_request *req, const char *content_type,
                                    sig_stream_read_fn read, void *cls,
                                    void (*on_close)(void *cls))
{
    sig_stream *s = g_new0(sig_stream, 1);
    g_mutex_init(&s->lock);
    s->refs = 2;    /* the response's and the caller's */
    s->http = req->http;
    s->conn = req->conn;
    s->read = read;
    s->cls = cls;
    s->on_close = on_close;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
                                                               stream_reader, s, stream_closed);
    if (!r) {
        on_close(cls);
        sig_stream_unref(s);
        sig_stream_unref(s);
        sig_http_respond_text(req, 500, "cannot open the event stream");
        return NULL;
    }
    g_mutex_lock(&req->http->streams_lock);
    req->http->streams = g_list_prepend(req->http->streams, s);
    g_mutex_unlock(&req->http->streams_lock);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    add_common_headers(req->http, r);
    answer_with(req, r, 200);
    return s;
}

void sig_http_respond_text(sig_request *req, unsigned status, const char *reason)
{
    char line[512];
    snprintf(line, sizeof line, "%s\n", reason);
    sig_response resp = { .status = status, .body = line };
    if (status == 429 || status == 503)
        resp.retry_after_s = 1;
    sig_http_respond(req, &resp);
}

/* ---- connection accounting ---- */

/* Shuts the victims' sockets down; libmicrohttpd then sees the end of the
 * stream and closes each connection (NOTIFY_CLOSED removes it). One without
 * a socket never got as far as NOTIFY_STARTED: nothing will remove it, so
 * it goes now. Called with conns_lock held. */
static void close_victims(sig_http *http, const sig_conn_victim *v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (v[i].tag >= 0)
            shutdown((int)v[i].tag, SHUT_RDWR);
        else
            sig_connlimit_remove(http->conns, v[i].id);
    }
}

static uint64_t conn_id_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? (uint64_t)(uintptr_t)info->socket_context : 0;
}

static void set_conn_state(sig_http *http, uint64_t id, sig_conn_state state)
{
    if (!id)
        return;
    g_mutex_lock(&http->conns_lock);
    sig_connlimit_set_state(http->conns, id, state, g_get_monotonic_time());
    g_mutex_unlock(&http->conns_lock);
}

/* libmicrohttpd's accept policy: runs on the HTTP thread before the
 * connection exists; NOTIFY_STARTED follows at once for an accepted one. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    sig_http *http = cls;
    char key[SIG_RATELIMIT_KEY_MAX];
    if (sig_ratelimit_key(addr, key, sizeof key) != 0)
        key[0] = '\0';
    sig_conn_victim v[2];
    unsigned n = 0;
    g_mutex_lock(&http->conns_lock);
    if (http->admitted)     /* libmicrohttpd gave up on the last one after admitting it */
        sig_connlimit_remove(http->conns, http->admitted);
    uint64_t id = sig_connlimit_admit(http->conns, key, g_get_monotonic_time(), v, &n);
    close_victims(http, v, n);
    http->admitted = id;
    g_mutex_unlock(&http->conns_lock);
    return id ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    sig_http *http = cls;
    g_mutex_lock(&http->conns_lock);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        uint64_t id = http->admitted;
        http->admitted = 0;
        if (id && info)
            sig_connlimit_set_tag(http->conns, id, info->connect_fd);
        *socket_context = (void *)(uintptr_t)id;
    } else {
        sig_connlimit_remove(http->conns, (uint64_t)(uintptr_t)*socket_context);
        *socket_context = NULL;
    }
    g_mutex_unlock(&http->conns_lock);
}

/* Closes connections past their header, body or idle deadline: wakes at
 * the earliest deadline, and at least once a second (no deadline is
 * shorter than a second, so none is missed by more than that). */
static gpointer reaper_main(gpointer data)
{
    sig_http *http = data;
    sig_conn_victim v[64];
    g_mutex_lock(&http->conns_lock);
    while (!http->stopping) {
        sfu_time now = g_get_monotonic_time();
        unsigned n;
        while ((n = sig_connlimit_handle_timeout(http->conns, now, v, SFU_ARRAY_LEN(v))) > 0)
            close_victims(http, v, n);
        sfu_time next = sig_connlimit_poll_timeout(http->conns);
        if (next > now + REAPER_MAX_SLEEP)
            next = now + REAPER_MAX_SLEEP;
        g_cond_wait_until(&http->reaper_cond, &http->conns_lock, next);
    }
    g_mutex_unlock(&http->conns_lock);
    return NULL;
}

void sig_http_conn_counts(sig_http *http, sig_connlimit_counts *c)
{
    g_mutex_lock(&http->conns_lock);
    sig_connlimit_counts_get(http->conns, c);
    g_mutex_unlock(&http->conns_lock);
}

static enum MHD_Result queue_answer(sig_request *req)
{
    if (!req->response)
        return MHD_NO;  /* could not build one: close the connection */
    enum MHD_Result rc = MHD_queue_response(req->conn, req->status, req->response);
    MHD_destroy_response(req->response);
    req->response = NULL;
    return rc;
}

static sig_request *request_new(sig_http *http, struct MHD_Connection *conn, const char *method,
                                const char *url)
{
    sig_request *req = g_new0(sig_request, 1);
    req->http = http;
    req->conn = conn;
    req->method = g_strdup(method);
    req->path = g_strdup(url);
    req->body = g_byte_array_new();
    g_mutex_init(&req->lock);
    client_address(req);
    req->conn_id = conn_id_of(conn);
    return req;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    sig_http *http = cls;
    sig_request *req = *con_cls;
    if (!req) {
        req = request_new(http, conn, method, url);
        *con_cls = req;
        set_conn_state(http, req->conn_id, SIG_CONN_BODY);  /* headers complete */
        /* A body far over the limit is refused before a byte of it is read,
         * so a client cannot hold a connection by announcing one. A body
         * just over is read and discarded first: a client that writes its
         * whole body before reading would otherwise see a broken pipe
         * instead of the 413. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && g_ascii_strtoull(cl, NULL, 10) > (guint64)http->max_body_bytes * 64) {
            set_conn_state(http, req->conn_id, SIG_CONN_ACTIVE);
            sig_http_respond_text(req, 413, "request body too large");
            return queue_answer(req);
        }
        return MHD_YES;
    }
    if (req->state == REQ_READING && *upload_size > 0) {
        if (req->body->len + *upload_size > http->max_body_bytes)
            req->too_large = true;  /* keep reading, answer 413 at the end */
        else
            g_byte_array_append(req->body, (const guint8 *)upload, (guint)*upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (req->state == REQ_READING) {
        set_conn_state(http, req->conn_id, SIG_CONN_ACTIVE);    /* the whole request is in */
        if (req->too_large) {
            sig_http_respond_text(req, 413, "request body too large");
            return queue_answer(req);
        }
        req->state = REQ_IN_HANDLER;
        http->handler(http->user, req);
        g_mutex_lock(&req->lock);
        if (req->state != REQ_ANSWERED) {
            req->state = REQ_SUSPENDED;
            MHD_suspend_connection(conn);
            g_mutex_unlock(&req->lock);
            return MHD_YES;
        }
        g_mutex_unlock(&req->lock);
    }
    if (req->state == REQ_ANSWERED)
        return queue_answer(req);
    return MHD_YES;
}

/* libmicrohttpd's own diagnostics: they may quote a request's URL (a
 * session URL is its capability) or a client's address, so they go through
 * our logger's redaction and rate limit rather than straight to stderr. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char text[SFU_LOG_LINE_MAX];
    vsnprintf(text, sizeof text, fmt, ap);
    sfu_log_foreign(SFU_LOG_WARN, "lib.microhttpd", NULL, text);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)code;
    /* Between requests now (or closing, which NOTIFY_CLOSED settles). */
    set_conn_state(cls, conn_id_of(conn), SIG_CONN_IDLE);
    sig_request *req = *con_cls;
    if (!req)
        return;
    if (req->response)
        MHD_destroy_response(req->response);
    g_byte_array_free(req->body, TRUE);
    g_free(req->method);
    g_free(req->path);
    g_mutex_clear(&req->lock);
    g_free(req);
    *con_cls = NULL;
}

/* libmicrohttpd's own messages (one per connection a client or the limits
 * closed mid-request, for one) go to the log at debug level, rate-limited
 * like every cause, instead of straight to stderr. */
sig_http *sig_http_new(const sig_http_config *cfg, sig_http_handler handler, void *user,
                       char *err, size_t errlen)
{
    sig_http *http = g_new0(sig_http, 1);
    g_mutex_init(&http->streams_lock);
    http->handler = handler;
    http->user = user;
    http->max_body_bytes = cfg->max_body_bytes;
    http->on_answer = cfg->on_answer;
    http->cors_origin = g_strdup(cfg->cors_origin ? cfg->cors_origin : "*");
    g_mutex_init(&http->conns_lock);
    g_cond_init(&http->reaper_cond);
    sig_connlimit_config limits = {
        .max_connections = cfg->max_connections,
        .max_pending_per_client = cfg->max_pending_per_client,
        .header_timeout = SFU_MS(cfg->header_timeout_ms),
        .body_timeout = SFU_MS(cfg->body_timeout_ms),
        .idle_timeout = SFU_MS(cfg->idle_timeout_ms),
    };
    http->conns = sig_connlimit_new(&limits);
    if (!http->conns) {
        snprintf(err, errlen, "http connection limits: impossible values");
        goto err;
    }

    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(cfg->port) };
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(cfg->port) };
    const struct sockaddr *sa = (const struct sockaddr *)&sin;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET6, cfg->listen_addr, &sin6.sin6_addr) == 1) {
        sa = (const struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else if (inet_pton(AF_INET, cfg->listen_addr, &sin.sin_addr) != 1) {
        snprintf(err, errlen, "http listen address %s is not an IP address", cfg->listen_addr);
        goto err;
    }
    http->daemon = MHD_start_daemon(
        flags, cfg->port, on_accept, http, on_request, http,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, http, /* first: before any message */
        MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections + CLOSING_SLACK,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_POOL_BYTES,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, http,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, http, MHD_OPTION_END);
    if (!http->daemon) {
        snprintf(err, errlen, "cannot listen on %s:%u", cfg->listen_addr, cfg->port);
        goto err;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
    http->port = info ? info->port : cfg->port;
    http->reaper = g_thread_new("http-reaper", reaper_main, http);
    return http;
err:
    sig_http_free(http);
    return NULL;
}

/* Ends every open stream and waits (at most 2 s) for libmicrohttpd to
 * close them: none may be suspended when the daemon stops. */
static void end_streams(sig_http *http)
{
    for (int tries = 0; tries < 200; tries++) {
        /* Take references under the list's lock, wake without it: the HTTP
         * thread takes that lock when it closes a stream. */
        g_mutex_lock(&http->streams_lock);
        GList *open = g_list_copy(http->streams);
        for (GList *l = open; l; l = l->next)
            g_atomic_int_inc(&((sig_stream *)l->data)->refs);
        g_mutex_unlock(&http->streams_lock);
        if (!open)
            return;
        for (GList *l = open; l; l = l->next) {
            sig_stream *s = l->data;
            g_mutex_lock(&s->lock);
            s->ended = true;
            g_mutex_unlock(&s->lock);
            sig_stream_wake(s);
            sig_stream_unref(s);
        }
        g_list_free(open);
        g_usleep(10000);
    }
}

void sig_http_free(sig_http *http)
{
    if (!http)
        return;
    if (http->reaper) {
        g_mutex_lock(&http->conns_lock);
        http->stopping = true;
        g_cond_signal(&http->reaper_cond);
        g_mutex_unlock(&http->conns_lock);
        g_thread_join(http->reaper);
    }
    if (http->daemon) {
        MHD_socket listener = MHD_quiesce_daemon(http->daemon);  /* no new connections */
        end_streams(http);
        MHD_stop_daemon(http->daemon);
        if (listener != MHD_INVALID_SOCKET)
            close(listener);    /* quiesce hands the listening socket over to us */
    }
    sig_connlimit_free(http->conns);   /* after the daemon: its last notifications use it */
    g_cond_clear(&http->reaper_cond);
    g_mutex_clear(&http->conns_lock);
    g_mutex_clear(&http->streams_lock);
    g_free(http->cors_origin);
    g_free(http);
}

uint16_t sig_http_port(const sig_http *http) { return http->port; }
