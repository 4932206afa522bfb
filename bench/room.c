#include "bench/room.h"

#include "bench/sse.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_STREAMS 256
#define HEAD_MAX 4096

typedef struct stream {
    bench_rooms *rs;
    bench_peer *peer;
    char session[256];
    int fd;                     /* -1 once closed */
    char head[HEAD_MAX];        /* the response head until its blank line */
    size_t head_len;
    bool in_body;
    bench_sse sse;
} stream;

struct bench_rooms {
    bench_run_state *r;
    GThread *thread;
    GMutex lock;                /* streams, nstreams, stop, the counts */
    stream *streams[MAX_STREAMS];
    unsigned nstreams;
    bool stop;
    unsigned answered, refused;     /* offers; the first refusal is printed */
};

typedef struct fail_call {
    bench_peer *peer;
    const char *why;
} fail_call;

static void do_fail(void *arg)
{
    fail_call *c = arg;
    bench_peer_fail(c->peer, c->why);
}

/* A member whose offers cannot be answered misses media: it counts as
 * failed (the first reason is printed once). */
static void refuse(stream *st, const char *why)
{
    bench_rooms *rs = st->rs;
    g_mutex_lock(&rs->lock);
    bool first = rs->refused++ == 0;
    g_mutex_unlock(&rs->lock);
    if (first)
        fprintf(stderr, "sfu-bench: room session: %s\n", why);
    fail_call c = { st->peer, why };
    bench_loop_call(rs->r->loop, do_fail, &c);
}

typedef struct reanswer_call {
    bench_peer *peer;
    const char *sdp;
    unsigned nsrc;
    uint32_t ssrc[BENCH_PEER_MAX_SOURCES];
    bench_stamps *stamps[BENCH_PEER_MAX_SOURCES];
    char *answer;
    char err[160];
} reanswer_call;

static void do_reanswer(void *arg)
{
    reanswer_call *c = arg;
    for (unsigned i = 0; i < c->nsrc; i++)
        bench_peer_set_source(c->peer, c->ssrc[i], c->stamps[i]);
    c->answer = bench_peer_reanswer(c->peer, c->sdp, strlen(c->sdp), c->err, sizeof c->err);
}

/* The send-time table of the publisher with this participant id. */
static bench_stamps *stamps_of(bench_run_state *r, const char *participant)
{
    bench_stamps *t = NULL;
    g_mutex_lock(&r->pubs_lock);
    for (unsigned i = 0; i < r->npubs && !t; i++)
        if (strcmp(r->pubs[i].participant, participant) == 0)
            t = r->pubs[i].stamps;
    g_mutex_unlock(&r->pubs_lock);
    return t;
}

/* Which SSRC each announced m-line carries and whose it is. */
static void sources(bench_run_state *r, const char *sdp_text, const json_t *tracks,
                    reanswer_call *c)
{
    sig_sdp *sdp = NULL;
    char err[160];
    if (sig_sdp_parse(sdp_text, strlen(sdp_text), NULL, &sdp, err, sizeof err) != 0)
        return;     /* bench_peer_reanswer reports it */
    for (unsigned i = 0; i < sdp->nmedia && c->nsrc < BENCH_PEER_MAX_SOURCES; i++) {
        const sig_sdp_media *m = &sdp->media[i];
        const json_t *t = json_object_get(tracks, m->mid);
        const char *who = json_string_value(json_object_get(t, "participant"));
        bool slot = json_is_integer(json_object_get(t, "slot"));
        uint32_t ssrc = m->nfids ? m->fids[0].primary : m->nssrcs ? m->ssrcs[0].ssrc : 0;
        if ((!who && !slot) || !ssrc)
            continue;
        /* An audio slot carries whoever is loud (docs/API.md, "Room
         * sessions"): announced without a table, it is not timed. */
        c->ssrc[c->nsrc] = ssrc;
        c->stamps[c->nsrc++] = who ? stamps_of(r, who) : NULL;
    }
    sig_sdp_free(sdp);
}

static void on_offer(stream *st, const char *data, size_t len)
{
    bench_run_state *r = st->rs->r;
    json_error_t je;
    json_t *j = json_loadb(data, len, 0, &je);
    const char *sdp = json_string_value(json_object_get(j, "sdp"));
    json_t *rev = json_object_get(j, "revision");
    if (!sdp || !json_is_integer(rev)) {
        refuse(st, "an offer event without sdp or revision");
        json_decref(j);
        return;
    }
    reanswer_call *c = g_new0(reanswer_call, 1);
    c->peer = st->peer;
    c->sdp = sdp;
    sources(r, sdp, json_object_get(j, "tracks"), c);
    bench_loop_call(r->loop, do_reanswer, c);
    char why[200];
    if (!c->answer) {
        snprintf(why, sizeof why, "cannot answer a server offer: %s", c->err);
        refuse(st, why);
    } else {
        char path[320];
        snprintf(path, sizeof path, "%s/answer?revision=%lld", st->session,
                 (long long)json_integer_value(rev));
        bench_http_resp resp;
        if (bench_http_request(&r->url, "POST", path, "application/sdp", c->answer,
                               strlen(c->answer), &resp, why, sizeof why) == 0) {
            /* 409: a newer offer replaced this one; it comes next. */
            if (resp.status == 204) {
                g_mutex_lock(&st->rs->lock);
                st->rs->answered++;
                g_mutex_unlock(&st->rs->lock);
            } else if (resp.status != 409) {
                snprintf(why, sizeof why, "answer refused: %d %.120s", resp.status,
                         resp.body ? resp.body : "");
                refuse(st, why);
            }
            bench_http_resp_free(&resp);
        } else {
            refuse(st, why);
        }
    }
    g_free(c->answer);
    g_free(c);
    json_decref(j);
}

static void on_event(void *user, const char *event, const char *data, size_t len)
{
    if (strcmp(event, "offer") == 0)
        on_offer(user, data, len);
    /* snapshot, participant-*, track-*, active-speaker: nothing to do */
}

static void close_stream(stream *st)
{
    if (st->fd >= 0)
        close(st->fd);
    st->fd = -1;
}

/* The response head: 200 and not chunked, then the body is the stream. */
static void read_head(stream *st, const uint8_t *buf, size_t n)
{
    size_t take = n < HEAD_MAX - 1 - st->head_len ? n : HEAD_MAX - 1 - st->head_len;
    memcpy(st->head + st->head_len, buf, take);
    st->head_len += take;
    st->head[st->head_len] = '\0';
    char *end = strstr(st->head, "\r\n\r\n");
    if (!end) {
        if (st->head_len == HEAD_MAX - 1) {
            refuse(st, "events: response head too long");
            close_stream(st);
        }
        return;
    }
    int status = 0;
    if (sscanf(st->head, "HTTP/1.%*d %d", &status) != 1 || status != 200 ||
        g_strstr_len(st->head, end - st->head, "chunked")) {
        char why[160];
        snprintf(why, sizeof why, "events: %.60s", st->head);
        refuse(st, why);
        close_stream(st);
        return;
    }
    st->in_body = true;
    size_t body_off = (size_t)(end + 4 - st->head);
    size_t already = st->head_len - body_off;   /* body bytes in head[] */
    bench_sse_feed(&st->sse, (const uint8_t *)st->head + body_off, already, on_event, st);
    if (take < n)
        bench_sse_feed(&st->sse, buf + take, n - take, on_event, st);
}

static void read_stream(stream *st)
{
    uint8_t buf[16384];
    ssize_t n = read(st->fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        /* Only teardown ends a stream (the thread stops first): the server
         * ending it mid-run means the member gets no more offers. */
        close_stream(st);
        refuse(st, "the event stream ended");
        return;
    }
    if (st->in_body)
        bench_sse_feed(&st->sse, buf, (size_t)n, on_event, st);
    else
        read_head(st, buf, (size_t)n);
}

static gpointer events_thread(gpointer arg)
{
    bench_rooms *rs = arg;
    struct pollfd pfd[MAX_STREAMS];
    stream *which[MAX_STREAMS];
    for (;;) {
        unsigned n = 0;
        g_mutex_lock(&rs->lock);
        bool stop = rs->stop;
        for (unsigned i = 0; i < rs->nstreams; i++)
            if (rs->streams[i]->fd >= 0) {
                pfd[n] = (struct pollfd){ .fd = rs->streams[i]->fd, .events = POLLIN };
                which[n++] = rs->streams[i];
            }
        g_mutex_unlock(&rs->lock);
        if (stop)
            return NULL;
        /* New streams are picked up within 20 ms. */
        if (poll(pfd, n, 20) <= 0)
            continue;
        for (unsigned i = 0; i < n; i++)
            if (pfd[i].revents)
                read_stream(which[i]);
    }
}

bench_rooms *bench_rooms_new(bench_run_state *r, char *err, size_t errlen)
{
    bench_rooms *rs = g_new0(bench_rooms, 1);
    rs->r = r;
    g_mutex_init(&rs->lock);
    GError *ge = NULL;
    rs->thread = g_thread_try_new("bench-events", events_thread, rs, &ge);
    if (!rs->thread) {
        snprintf(err, errlen, "cannot start the events thread: %s", ge ? ge->message : "?");
        g_clear_error(&ge);
        g_mutex_clear(&rs->lock);
        g_free(rs);
        return NULL;
    }
    return rs;
}

int bench_rooms_watch(bench_rooms *rs, bench_peer *peer, const char *session, char *err,
                      size_t errlen)
{
    if (rs->nstreams == MAX_STREAMS) {
        snprintf(err, errlen, "more than %d room sessions", MAX_STREAMS);
        return -1;
    }
    int fd = bench_http_connect(&rs->r->url, err, errlen);
    if (fd < 0)
        return -1;
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s/events HTTP/1.0\r\nHost: %s\r\n"
                     "Accept: text/event-stream\r\n\r\n", session, rs->r->url.host);
    if (n <= 0 || (size_t)n >= sizeof req || write(fd, req, (size_t)n) != n) {
        snprintf(err, errlen, "cannot request the event stream");
        close(fd);
        return -1;
    }
    stream *st = g_new0(stream, 1);
    st->rs = rs;
    st->peer = peer;
    st->fd = fd;
    g_strlcpy(st->session, session, sizeof st->session);
    bench_sse_init(&st->sse);
    g_mutex_lock(&rs->lock);
    rs->streams[rs->nstreams++] = st;
    g_mutex_unlock(&rs->lock);
    return 0;
}

void bench_rooms_free(bench_rooms *rs)
{
    if (!rs)
        return;
    g_mutex_lock(&rs->lock);
    rs->stop = true;
    g_mutex_unlock(&rs->lock);
    g_thread_join(rs->thread);
    for (unsigned i = 0; i < rs->nstreams; i++) {
        close_stream(rs->streams[i]);
        bench_sse_deinit(&rs->streams[i]->sse);
        g_free(rs->streams[i]);
    }
    g_mutex_clear(&rs->lock);
    g_free(rs);
}
