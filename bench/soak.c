/* The soak's cycles (soak.h): `parallel` worker threads each run whole
 * cycles with blocking HTTP; every peer lives on the one media thread
 * (loop.h), reached through bench_loop_call. The checks afterwards are in
 * soak_check.c. */
#include "bench/soak.h"

#include "bench/http.h"
#include "bench/loop.h"
#include "bench/peer.h"
#include "sfu/crypto/cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOIN_TIMEOUT SFU_SEC(10)

typedef struct soak {
    const bench_options *o;
    const bench_scenario *s;
    bench_url url;
    bench_media media;
    sfu_cert *cert;
    sfu_dtls_ctx *dtls;
    bench_env env;
    bench_loop *loop;
    GPtrArray *peers;           /* media thread only */
    gint next;                  /* next cycle number (atomic) */
    GMutex mu;                  /* guards what follows and r */
    double *join_ms;
    unsigned njoin;
    bench_soak_result *r;
} soak;

/* Ending of cycle n: the order spreads every kind over the run. */
static bench_soak_ending ending_of(unsigned n) { return (bench_soak_ending)(n % BENCH_END_COUNT); }

/* ---- on the media thread ---- */

static void tick(void *arg)
{
    soak *k = arg;
    sfu_time now = bench_now();
    for (unsigned i = 0; i < k->peers->len; i++)
        bench_peer_tick(g_ptr_array_index(k->peers, i), now);
}

typedef struct peer_call {
    soak *k;
    bench_role role;
    bench_peer *peer;
    char *offer;
    const bench_answer *answer;
    sfu_time post_at;
    bool close_first;
    bool joined, failed;
    char err[160];
} peer_call;

static void do_new(void *arg)
{
    peer_call *c = arg;
    c->peer = bench_peer_new(&c->k->env, c->role, false, NULL, c->err, sizeof c->err);
    if (c->peer) {
        g_ptr_array_add(c->k->peers, c->peer);
        c->offer = bench_peer_offer(c->peer);
    }
}

static void do_start(void *arg)
{
    peer_call *c = arg;
    bench_peer_start(c->peer, c->answer, c->post_at);
}

static void do_state(void *arg)
{
    peer_call *c = arg;
    c->joined = bench_peer_joined(c->peer);
    c->failed = bench_peer_failed(c->peer);
    if (c->failed)
        g_strlcpy(c->err, bench_peer_failure(c->peer), sizeof c->err);
}

static void do_end(void *arg)
{
    peer_call *c = arg;
    if (c->close_first)
        bench_peer_close(c->peer);
    g_ptr_array_remove_fast(c->k->peers, c->peer);
    bench_peer_free(c->peer);
}

/* ---- on a worker thread ---- */

typedef struct member {
    bench_peer *peer;
    char session[256];
} member;

static int http(soak *k, const char *method, const char *path, const char *body,
                bench_http_resp *resp, char *err, size_t errlen)
{
    for (int attempt = 0;; attempt++) {
        if (bench_http_request(&k->url, method, path, body ? "application/sdp" : NULL, body,
                               body ? strlen(body) : 0, resp, err, errlen) != 0)
            return -1;
        if ((resp->status != 429 && resp->status != 503) || attempt == 5)
            return 0;
        bench_http_resp_free(resp);
        usleep(200 * 1000);
    }
}

/* Creates a peer, POSTs its offer to path and starts it. */
static int join(soak *k, bench_role role, const char *path, member *m, char *participant,
                char *err, size_t errlen)
{
    peer_call c = { .k = k, .role = role };
    bench_loop_call(k->loop, do_new, &c);
    if (!c.peer || !c.offer) {
        snprintf(err, errlen, "peer: %s", c.peer ? "no memory" : c.err);
        free(c.offer);
        return -1;
    }
    m->peer = c.peer;
    bench_http_resp resp;
    c.post_at = bench_now();
    int rc = http(k, "POST", path, c.offer, &resp, err, errlen);
    free(c.offer);
    if (rc != 0)
        return -1;
    bench_answer a;
    if (resp.status != 201) {
        snprintf(err, errlen, "POST %s: %d %.80s", path, resp.status, resp.body ? resp.body : "");
        rc = -1;
    } else {
        g_strlcpy(m->session, resp.location, sizeof m->session);
        if (participant)
            g_strlcpy(participant, resp.participant, 64);
        rc = bench_answer_parse(resp.body, resp.body_len, &a, err, errlen);
    }
    bench_http_resp_free(&resp);
    if (rc == 0) {
        c.answer = &a;
        bench_loop_call(k->loop, do_start, &c);
    }
    return rc;
}

/* Until every member joined: 0, or -1 with the first failure. */
static int wait_joined(soak *k, member *m, unsigned n, char *err, size_t errlen)
{
    sfu_time end = bench_now() + JOIN_TIMEOUT;
    for (;;) {
        unsigned up = 0;
        for (unsigned i = 0; i < n; i++) {
            peer_call c = { .k = k, .peer = m[i].peer };
            bench_loop_call(k->loop, do_state, &c);
            if (c.failed) {
                snprintf(err, errlen, "%s %u: %s", i ? "viewer" : "publisher", i, c.err);
                return -1;
            }
            up += c.joined;
        }
        if (up == n)
            return 0;
        if (bench_now() > end) {
            snprintf(err, errlen, "%u of %u peers not up after 10 s", n - up, n);
            return -1;
        }
        usleep(5 * 1000);
    }
}

static bool deletes(bench_soak_ending e, bool publisher)
{
    return e == BENCH_END_DELETE || (e == BENCH_END_PUB_DELETE && publisher) ||
           (e == BENCH_END_VIEW_DELETE && !publisher);
}

/* Viewers first, then the publisher, as a tidy client leaves: a publisher's
 * DELETE may end its viewers' sessions, and their own DELETE would be 404. */
static void leave(soak *k, member *m, unsigned n, bench_soak_ending e)
{
    for (unsigned j = 1; j <= n; j++) {
        unsigned i = j % n;
        if (!m[i].peer)
            continue;
        if (deletes(e, i == 0) && m[i].session[0]) {
            bench_http_resp resp;
            char err[160];
            int status = 0;
            if (http(k, "DELETE", m[i].session, NULL, &resp, err, sizeof err) == 0) {
                status = resp.status;
                bench_http_resp_free(&resp);
            }
            if (status != 200 && status != 204) {
                g_mutex_lock(&k->mu);
                if (!k->r->delete_errors)
                    k->r->first_delete_status = status;
                k->r->delete_errors++;
                g_mutex_unlock(&k->mu);
            }
        }
        peer_call c = { .k = k, .peer = m[i].peer, .close_first = e == BENCH_END_CLOSE };
        bench_loop_call(k->loop, do_end, &c);
    }
}

static void cycle(soak *k, unsigned n)
{
    const bench_scenario *s = k->s;
    unsigned nm = 1 + s->soak.viewers;
    member m[1 + 16];
    memset(m, 0, sizeof m);
    char path[200], participant[64] = "", err[200] = "";
    snprintf(path, sizeof path, "/whip/soak-%d-%u", (int)getpid(), n);
    sfu_time t0 = bench_now();
    int rc = join(k, BENCH_PUBLISHER, path, &m[0], participant, err, sizeof err);
    snprintf(path, sizeof path, "/whep/soak-%d-%u/%s", (int)getpid(), n, participant);
    for (unsigned i = 1; i < nm && rc == 0; i++)
        rc = join(k, BENCH_VIEWER, path, &m[i], NULL, err, sizeof err);
    if (rc == 0)
        rc = wait_joined(k, m, nm, err, sizeof err);
    double join_ms = (double)(bench_now() - t0) / 1000.0;
    if (rc == 0 && s->soak.hold_ms)
        usleep(s->soak.hold_ms * 1000u);
    bench_soak_ending e = ending_of(n);
    /* A failed cycle still cleans up the way it would have. */
    leave(k, m, nm, e);
    g_mutex_lock(&k->mu);
    bench_soak_result *r = k->r;
    r->done++;
    r->by_ending[e]++;
    if (rc != 0 && !r->failed++)
        snprintf(r->first_failure, sizeof r->first_failure, "cycle %u: %.180s", n, err);
    if (rc == 0)
        k->join_ms[k->njoin++] = join_ms;
    if (r->done == r->cycles / 2 && k->o->sfu_pid)
        r->rss_mid = bench_proc_rss_bytes(k->o->sfu_pid);
    g_mutex_unlock(&k->mu);
}

static gpointer worker(gpointer arg)
{
    soak *k = arg;
    for (;;) {
        unsigned n = (unsigned)g_atomic_int_add(&k->next, 1);
        if (n >= k->r->cycles)
            return NULL;
        cycle(k, n);
    }
}

/* ---- setup, the run, teardown ---- */

static int setup(soak *k, char *err, size_t errlen)
{
    bench_scenario media = *k->s;
    if (bench_url_parse(k->o->url, &k->url, err, errlen) != 0 ||
        bench_media_encode(&k->media, &media, err, errlen) != 0)
        return -1;
    k->cert = sfu_cert_new_self_signed("sfu-bench", err, errlen);
    k->dtls = k->cert ? sfu_dtls_ctx_new(k->cert, err, errlen) : NULL;
    if (!k->dtls || sfu_srtp_init() != 0)
        return -1;
    k->env = (bench_env){ .dtls = k->dtls, .fingerprint = sfu_cert_fingerprint_text(k->cert),
                          .media = &k->media, .audio = k->s->audio, .video = k->s->video };
    k->peers = g_ptr_array_new();
    k->join_ms = g_new0(double, k->r->cycles);
    g_mutex_init(&k->mu);
    k->loop = bench_loop_new(tick, k);
    if (!k->loop) {
        snprintf(err, errlen, "cannot start the media thread");
        return -1;
    }
    k->env.ctx = bench_loop_context(k->loop);
    return 0;
}

static void teardown(soak *k)
{
    bench_loop_free(k->loop);   /* every peer was freed by its cycle */
    if (k->peers)
        g_ptr_array_free(k->peers, TRUE);
    g_free(k->join_ms);
    if (k->peers)
        g_mutex_clear(&k->mu);
    sfu_dtls_ctx_free(k->dtls);
    sfu_cert_free(k->cert);
    bench_media_deinit(&k->media);
}

static void progress(soak *k, sfu_time start)
{
    g_mutex_lock(&k->mu);
    unsigned done = k->r->done, failed = k->r->failed;
    g_mutex_unlock(&k->mu);
    double t = (double)(bench_now() - start) / 1e6;
    fprintf(stderr, "\r  soak %6.1f s  %u/%u cycles  %u failed  %.1f cycles/s   ", t, done,
            k->r->cycles, failed, t > 0 ? done / t : 0);
}

int bench_soak_run(const bench_options *o, const bench_scenario *s, bench_soak_result *r,
                   char *err, size_t errlen)
{
    soak k = { .o = o, .s = s, .r = r };
    memset(r, 0, sizeof *r);
    r->cycles = s->soak.cycles;
    r->rss_tolerance = s->soak.rss_tolerance;
    r->rss_start = r->rss_mid = r->rss_end = -1;
    int rc = setup(&k, err, errlen);
    if (rc == 0) {
        bench_soak_baseline(o, &k.url, r);
        unsigned nw = s->soak.parallel < r->cycles ? s->soak.parallel : r->cycles;
        GThread **w = g_new0(GThread *, nw);
        sfu_time start = bench_now();
        for (unsigned i = 0; i < nw; i++)
            w[i] = g_thread_new("soak", worker, &k);
        while (g_atomic_int_get(&k.next) < (gint)r->cycles + (gint)nw) {
            usleep(250 * 1000);
            if (o->progress)
                progress(&k, start);
        }
        for (unsigned i = 0; i < nw; i++)
            g_thread_join(w[i]);
        g_free(w);
        r->wall_s = (double)(bench_now() - start) / 1e6;
        if (o->progress) {
            progress(&k, start);
            fputc('\n', stderr);
        }
        r->join_ms_p50 = bench_quantile_sorted(k.join_ms, k.njoin, 0.50);
        r->join_ms_p95 = bench_quantile_sorted(k.join_ms, k.njoin, 0.95);
        bench_soak_check(o, s, &k.url, r);
    }
    teardown(&k);
    return rc;
}
