#include "bench/run.h"

#include "bench/http.h"
#include "bench/janus.h"
#include "bench/loop.h"
#include "bench/peer.h"
#include "bench/room.h"
#include "bench/run_internal.h"
#include "sfu/crypto/cert.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- on the media thread ---- */

static void tick(void *arg)
{
    bench_run_state *r = arg;
    sfu_time now = bench_now();
    for (unsigned i = 0; i < r->npeers; i++)
        bench_peer_tick(r->peers[i], now);
}

typedef struct new_peer_call {
    bench_run_state *r;
    bench_role role;
    bool decode;
    bench_stamps *stamps;
    bench_peer *peer;
    char *offer;
    char err[160];
} new_peer_call;

static void do_new_peer(void *arg)
{
    new_peer_call *c = arg;
    bench_run_state *r = c->r;
    if (r->npeers == r->cap) {
        snprintf(c->err, sizeof c->err, "too many peers");
        return;
    }
    c->peer = bench_peer_new(&r->env, c->role, c->decode, c->stamps, c->err, sizeof c->err);
    if (c->peer) {
        r->peers[r->npeers++] = c->peer;
        c->offer = bench_peer_offer(c->peer);
    }
}

typedef struct start_call {
    bench_peer *peer;
    const bench_answer *answer;
    sfu_time post_at;
} start_call;

static void do_start(void *arg)
{
    start_call *c = arg;
    bench_peer_start(c->peer, c->answer, c->post_at);
}

static void do_snapshot(void *arg)
{
    bench_snapshot *s = arg;
    bench_run_state *r = s->r;
    memset(&s->pub, 0, sizeof s->pub);
    memset(&s->view, 0, sizeof s->view);
    s->joined = s->failed = 0;
    for (unsigned i = 0; i < r->npeers; i++) {
        bench_counters c;
        bench_peer_counters(r->peers[i], &c);
        /* A room member both sends (pub) and receives (view). */
        if (r->roles[i] != BENCH_VIEWER)
            bench_counters_add(&s->pub, &c);
        if (r->roles[i] != BENCH_PUBLISHER)
            bench_counters_add(&s->view, &c);
        s->joined += bench_peer_joined(r->peers[i]);
        if (bench_peer_failed(r->peers[i]) && !s->failed++)
            g_strlcpy(s->first_failure, bench_peer_failure(r->peers[i]), sizeof s->first_failure);
    }
    if (s->with_latency) {
        s->lat_count = r->env.latency->count;
        s->lat_p50 = bench_hist_quantile(r->env.latency, 0.50);
        s->lat_p95 = bench_hist_quantile(r->env.latency, 0.95);
        s->lat_p99 = bench_hist_quantile(r->env.latency, 0.99);
        s->app_p50 = bench_hist_quantile(r->env.latency_app, 0.50);
        s->app_p95 = bench_hist_quantile(r->env.latency_app, 0.95);
        s->app_p99 = bench_hist_quantile(r->env.latency_app, 0.99);
    }
}

static void do_reset_latency(void *arg)
{
    bench_run_state *r = arg;
    memset(r->env.latency, 0, sizeof *r->env.latency);
    memset(r->env.latency_app, 0, sizeof *r->env.latency_app);
}

static void do_join_times(void *arg)
{
    bench_run_state *r = arg;
    for (unsigned i = 0; i < r->npeers; i++)
    {
        r->join_us[i] = bench_peer_join_us(r->peers[i]);
        bench_peer_join_phases(r->peers[i], r->phase_us[i]);
    }
    for (unsigned i = 0; i < r->npeers; i++) {
        if (r->roles[i] == BENCH_PUBLISHER || !bench_peer_joined(r->peers[i]))
            continue;
        const bench_peer *v = r->peers[i];
        g_strlcpy(r->srtp_profile, sfu_srtp_profile_name(bench_peer_srtp_profile(v)),
                  sizeof r->srtp_profile);
        break;
    }
}

static void do_free_peers(void *arg)
{
    bench_run_state *r = arg;
    for (unsigned i = 0; i < r->npeers; i++)
        bench_peer_free(r->peers[i]);
    r->npeers = 0;
}

/* ---- on the control thread ---- */

void bench_run_snapshot(bench_run_state *r, bench_snapshot *s, bool with_latency)
{
    s->r = r;
    s->with_latency = with_latency;
    bench_loop_call(r->loop, do_snapshot, s);
    s->at = bench_now();
    s->sfu_cpu_s = r->o->sfu_pid ? bench_proc_cpu_seconds(r->o->sfu_pid) : -1;
    s->bench_cpu_s = bench_proc_cpu_seconds(getpid());
}

/* POSTs one offer; retries a 429 or 503 a few times as Retry-After says. */
static int post_offer(const bench_url *url, const char *path,
                      const char *offer, bench_http_resp *resp, char *err, size_t errlen)
{
    for (int attempt = 0;; attempt++) {
        if (bench_http_request(url, "POST", path, "application/sdp", offer, strlen(offer),
                               resp, err, errlen) != 0)
            return -1;
        if ((resp->status != 429 && resp->status != 503) || attempt == 3)
            break;
        sleep(resp->retry_after_s > 0 ? (unsigned)resp->retry_after_s : 1);
        bench_http_resp_free(resp);
    }
    if (resp->status == 201)
        return 0;
    snprintf(err, errlen, "POST %s: %d %.100s", path, resp->status, resp->body ? resp->body : "");
    bench_http_resp_free(resp);
    return -1;
}

typedef struct fail_call {
    bench_peer *peer;
    const char *why;
} fail_call;

static void do_fail(void *arg)
{
    fail_call *c = arg;
    bench_peer_fail(c->peer, c->why);
}

int bench_run_add_pub(bench_run_state *r, const char *room)
{
    if (r->npubs == r->pubs_cap)
        return -1;
    bench_pub_slot *p = &r->pubs[r->npubs];
    g_strlcpy(p->room, room, sizeof p->room);
    /* 2^14 slots hold several seconds of 2 Mbit/s video without collisions. */
    p->stamps = bench_stamps_new(r->s->video ? 14 : 10);
    return (int)r->npubs++;
}

/* After signaling (rc): starts ICE and DTLS with the remote description, or
 * marks the peer failed. */
static int start_peer(bench_run_state *r, bench_peer *peer, bench_role role, int rc,
                      const bench_answer *answer, sfu_time post_at)
{
    if (rc != 0) {
        fail_call fc = { peer, "signaling failed" };
        bench_loop_call(r->loop, do_fail, &fc);
        return -1;
    }
    if (role != BENCH_VIEWER && !r->pub_answer.ufrag[0])
        r->pub_answer = *answer;
    if (role != BENCH_PUBLISHER && !r->have_view_answer++)
        r->view_answer = *answer;
    start_call sc = { peer, answer, post_at };
    bench_loop_call(r->loop, do_start, &sc);
    return 0;
}

/* The node a peer's session lives on: a viewer's is one of --viewer-urls. */
static const bench_url *url_of(const bench_run_state *r, unsigned idx)
{
    if (r->roles[idx] != BENCH_VIEWER || !r->nviewer_urls)
        return &r->url;
    return &r->viewer_urls[r->viewer_node[idx]];
}

/* WHEP layer selection (docs/API.md "Simulcast layers"): pins the viewer's
 * video (mid 1) to the publisher's encoding rid. */
static int pin_layer(const bench_url *url, const char *link, const char *rid, char *err,
                     size_t errlen)
{
    if (!link[0]) {
        snprintf(err, errlen, "the WHEP 201 has no layer selection Link");
        return -1;
    }
    char body[64];
    int n = snprintf(body, sizeof body, "{\"mediaId\":\"1\",\"encodingId\":\"%s\"}", rid);
    bench_http_resp resp;
    if (bench_http_request(url, "POST", link, "application/json", body, (size_t)n, &resp,
                           err, errlen) != 0)
        return -1;
    int rc = resp.status == 204 ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "POST %s %s: %d %.100s", link, body, resp.status,
                 resp.body ? resp.body : "");
    bench_http_resp_free(&resp);
    return rc;
}

int bench_run_join(bench_run_state *r, bench_role role, unsigned pub, bool decode, char *err,
                   size_t errlen)
{
    bench_pub_slot *ps = &r->pubs[pub];
    char path[200];
    if (role == BENCH_PUBLISHER)
        snprintf(path, sizeof path, "/whip/%s", ps->room);
    else if (role == BENCH_MEMBER)
        snprintf(path, sizeof path, "/rooms/%s/join", ps->room);
    else
        snprintf(path, sizeof path, "/whep/%s/%s", ps->room, ps->participant);
    new_peer_call c = { .r = r, .role = role, .decode = decode, .stamps = ps->stamps };
    bench_loop_call(r->loop, do_new_peer, &c);
    if (!c.peer) {
        snprintf(err, errlen, "peer: %s", c.err);
        return -1;
    }
    unsigned idx = r->npeers_ctl++;
    r->roles[idx] = role;
    r->pub_of[idx] = pub;
    if (role == BENCH_VIEWER && r->nviewer_urls)
        r->viewer_node[idx] = r->nviewers_ctl % r->nviewer_urls;
    r->groups[idx] = role == BENCH_VIEWER ? r->nviewers_ctl++ % 3 : 0;
    bench_answer answer;
    sfu_time post_at;
    if (r->janus) {
        int jrc = c.offer ? bench_janus_join(r, c.peer, role, pub, idx, c.offer, &answer,
                                             &post_at, err, errlen)
                          : -1;
        free(c.offer);
        return start_peer(r, c.peer, role, jrc, &answer, post_at);
    }
    bench_http_resp resp;
    post_at = bench_now();
    /* The events thread maps a member's participant id to its send-time
     * table: hold it off until the id is known. */
    g_mutex_lock(&r->pubs_lock);
    int rc = c.offer ? post_offer(url_of(r, idx), path, c.offer, &resp, err, errlen) : -1;
    if (!c.offer)
        snprintf(err, errlen, "no memory for the offer");
    free(c.offer);
    if (rc == 0) {
        g_strlcpy(r->sessions[idx], resp.location, sizeof r->sessions[idx]);
        if (role != BENCH_VIEWER)
            g_strlcpy(ps->participant, resp.participant, sizeof ps->participant);
    }
    g_mutex_unlock(&r->pubs_lock);
    if (rc == 0) {
        rc = bench_answer_parse(resp.body, resp.body_len, &answer, err, errlen);
        bench_http_resp_free(&resp);
    }
    if (rc == 0 && role == BENCH_VIEWER && r->s->simulcast && r->groups[idx] < 2)
        rc = pin_layer(url_of(r, idx), resp.layer_link, bench_layer_rid[r->groups[idx]], err,
                       errlen);
    if (rc == 0 && role == BENCH_MEMBER && strcmp(r->s->kind, "large-meeting") == 0)
        rc = bench_tiles_subscribe(r, idx, resp.subs_link, err, errlen);
    if (rc == 0 && role == BENCH_MEMBER) {
        if (!r->rooms)
            r->rooms = bench_rooms_new(r, err, errlen);
        rc = r->rooms ? bench_rooms_watch(r->rooms, c.peer, r->sessions[idx], err, errlen) : -1;
    }
    return start_peer(r, c.peer, role, rc, &answer, post_at);
}

void bench_run_wait_joined(bench_run_state *r, unsigned want, double timeout_s)
{
    sfu_time end = bench_now() + (sfu_time)(timeout_s * 1e6);
    bench_snapshot s;
    do {
        usleep(50 * 1000);
        bench_run_snapshot(r, &s, false);
    } while (s.joined + s.failed < want && s.at < end);
}

void bench_run_join_times(bench_run_state *r) { bench_loop_call(r->loop, do_join_times, r); }
void bench_run_reset_latency(bench_run_state *r) { bench_loop_call(r->loop, do_reset_latency, r); }

static void delete_sessions(bench_run_state *r)
{
    for (unsigned i = 0; i < r->npeers_ctl; i++) {
        bench_http_resp resp;
        char err[160];
        if (r->janus && r->sessions[i][0]) {
            bench_janus_destroy(r, r->sessions[i]);
            continue;
        }
        if (r->sessions[i][0] &&
            bench_http_request(url_of(r, i), "DELETE", r->sessions[i], NULL, NULL, 0, &resp, err,
                               sizeof err) == 0)
            bench_http_resp_free(&resp);
    }
}

static int setup(bench_run_state *r, char *err, size_t errlen)
{
    const bench_scenario *s = r->s;
    if (bench_url_parse(r->o->url, &r->url, err, errlen) != 0 ||
        bench_media_encode(&r->media, s, err, errlen) != 0)
        return -1;
    if (r->o->viewer_urls) {
        gchar **parts = g_strsplit(r->o->viewer_urls, ",", -1);
        r->nviewer_urls = g_strv_length(parts);
        r->viewer_urls = g_new0(bench_url, r->nviewer_urls ? r->nviewer_urls : 1);
        int bad = r->nviewer_urls == 0;
        for (unsigned i = 0; i < r->nviewer_urls && !bad; i++)
            bad = bench_url_parse(parts[i], &r->viewer_urls[i], err, errlen) != 0;
        g_strfreev(parts);
        if (bad) {
            if (!r->nviewer_urls)
                snprintf(err, errlen, "--viewer-urls: no URL");
            return -1;
        }
    }
    r->janus = strcmp(r->o->target, "janus") == 0;
    if (r->janus && s->simulcast) {
        snprintf(err, errlen, "media.simulcast: not built for --target janus");
        return -1;
    }
    if (r->janus && bench_janus_setup(r, err, errlen) != 0)
        return -1;
    r->cert = sfu_cert_new_self_signed("sfu-bench", err, errlen);
    r->dtls = r->cert ? sfu_dtls_ctx_new(r->cert, err, errlen) : NULL;
    if (!r->dtls || sfu_srtp_init() != 0)
        return -1;
    r->cap = bench_layout_peers(s);
    r->pubs_cap = bench_layout_publishers(s);
    r->pubs = g_new0(bench_pub_slot, r->pubs_cap);
    r->peers = g_new0(bench_peer *, r->cap);
    r->roles = g_new0(bench_role, r->cap);
    r->groups = g_new0(unsigned, r->cap);
    r->pub_of = g_new0(unsigned, r->cap);
    r->join_us = g_new0(sfu_time, r->cap);
    r->phase_us = g_malloc0_n(r->cap, sizeof *r->phase_us);
    r->sessions = g_malloc0(sizeof *r->sessions * r->cap);
    r->viewer_node = g_new0(unsigned, r->cap);
    r->env = (bench_env){
        .dtls = r->dtls, .fingerprint = sfu_cert_fingerprint_text(r->cert), .media = &r->media,
        .audio = s->audio, .video = s->video, .simulcast = s->simulcast,
        .viewer_twcc = s->viewer_transport_cc, .audio_level = s->audio_level,
        /* kbit/s to bytes per microsecond; simulcast: f + h (1/3) + q (1/10) */
        .pace_bytes_per_us = s->pacing_factor * s->video_kbps * (s->simulcast ? 1.0 + 1.0 / 3 + 0.1 : 1.0)
                             / 8000.0,
        .latency = g_new0(bench_hist, 1),
        .latency_app = g_new0(bench_hist, 1),
    };
    r->loop = bench_loop_new(tick, r);
    if (!r->loop) {
        snprintf(err, errlen, "cannot start the media thread");
        return -1;
    }
    r->env.ctx = bench_loop_context(r->loop);
    snprintf(r->room, sizeof r->room, "bench-%d", (int)getpid());
    return 0;
}

static void teardown(bench_run_state *r)
{
    bench_rooms_free(r->rooms);     /* before the peers it answers for go */
    bench_tiles_free(r);
    if (r->loop) {
        delete_sessions(r);
        bench_loop_call(r->loop, do_free_peers, r);
        bench_loop_free(r->loop);
    }
    for (unsigned i = 0; i < r->npubs; i++)
        bench_stamps_free(r->pubs[i].stamps);
    g_free(r->pubs);
    g_mutex_clear(&r->pubs_lock);
    g_free(r->env.latency);
    g_free(r->env.latency_app);
    g_free(r->peers);
    g_free(r->roles);
    g_free(r->groups);
    g_free(r->pub_of);
    g_free(r->join_us);
    g_free(r->phase_us);
    g_free(r->sessions);
    g_free(r->viewer_node);
    g_free(r->viewer_urls);
    sfu_dtls_ctx_free(r->dtls);
    sfu_cert_free(r->cert);
    bench_media_deinit(&r->media);
}

int bench_run(const bench_options *o, const bench_scenario *s, bench_result *res, char *err,
              size_t errlen)
{
    bench_run_state r = { .o = o, .s = s };
    g_mutex_init(&r.pubs_lock);
    memset(res, 0, sizeof *res);
    int rc = setup(&r, err, errlen);
    if (rc == 0)
        rc = strcmp(s->kind, "ramp") == 0 ? bench_ramp_measure(&r, res, err, errlen)
                                          : bench_run_measure(&r, res, err, errlen);
    teardown(&r);
    return rc;
}
