#include "signaling/server.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sfu/crypto/srtp.h"
#include "sfu/net/log.h"
#include "sfu/net/shared_port.h"
#include "signaling/api.h"
#include "signaling/budget.h"
#include "signaling/cluster.h"
#include "signaling/cluster_store.h"
#include "signaling/relay.h"
#include "signaling/span.h"
#include "signaling/events.h"
#include "signaling/metrics.h"
#include "signaling/ratelimit.h"
#include "signaling/media_events.h"
#include "signaling/room_session.h"
#include "signaling/route.h"
#include "signaling/session.h"

#define DRAIN_RETRY_AFTER_S 5   /* a client refused during a drain tries again */

/* Raises the descriptor limit as far as allowed, then sizes the session
 * limit to it and to the port range (signaling/budget.c). */
static uint32_t session_budget(const sig_config *cfg_in, uint16_t port_min)
{
    /* libnice's range: without the shared ports at its start (udp_port auto) */
    sig_config *cfg = g_memdup2(cfg_in, sizeof *cfg_in);
    cfg->media.port_min = port_min;
    struct rlimit rl;
    uint64_t fd_limit = UINT64_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur != RLIM_INFINITY)
            fd_limit = rl.rlim_cur;
    }
    sig_budget b = sig_budget_compute(cfg, fd_limit);
    sfu_log(SFU_LOG_INFO, "server.session_limit",
            "sessions=%u by_config=%u by_ports=%u by_fds=%u ice_tcp=%s", b.sessions,
            b.by_config, b.by_ports, b.by_fds, cfg->media.ice_tcp ? "true" : "false");
    g_free(cfg);
    return b.sessions;
}

static int make_certificate(sig_server *srv, char *err, size_t errlen)
{
    if (srv->cfg.dtls.cert_file[0])
        srv->cert = sfu_cert_new_from_pem(srv->cfg.dtls.cert_file, srv->cfg.dtls.key_file, err,
                                          errlen);
    else
        srv->cert = sfu_cert_new_self_signed("sfu", err, errlen);
    if (!srv->cert)
        return -1;
    srv->dtls = sfu_dtls_ctx_new(srv->cert, err, errlen);
    if (!srv->dtls)
        return -1;
    /* libsrtp and its OpenSSL crypto types now, before any worker thread
     * exists, rather than at the first session: a refusal stops the start. */
    if (sfu_srtp_init() != 0) {
        snprintf(err, errlen, "SRTP: libsrtp2 failed to initialize or refused the OpenSSL "
                              "crypto types (a failed self-test)");
        return -1;
    }
    return 0;
}

static void fill_host_config(sig_server *srv)
{
    const sig_config *cfg = &srv->cfg;
    for (unsigned i = 0; i < cfg->media.gather_addresses.count; i++)
        srv->gather[i] = cfg->media.gather_addresses.item[i];
    for (unsigned i = 0; i < cfg->media.announce_addresses.count; i++)
        srv->announce[i] = cfg->media.announce_addresses.item[i];
    srv->host_cfg = (sfu_host_config){
        .ice = { .gather_addrs = srv->gather, .announce_addrs = srv->announce,
                 .naddrs = cfg->media.gather_addresses.count,
                 .nannounce = cfg->media.announce_addresses.count,
                 .port_min = cfg->media.port_min, .port_max = cfg->media.port_max,
                 .tcp = cfg->media.ice_tcp },
        .room = { .max_legs = cfg->limits.max_participants_per_room * 4 + 64,
                  .liveness_timeout = cfg->media.liveness_timeout,
                  .rtx_cache_packets = cfg->media.rtx_cache_packets,
                  .keyframe_min_interval = cfg->media.keyframe_min_interval,
                  .keyframe_cache_max_age = cfg->media.keyframe_cache,
                  .max_publish_bps = cfg->media.max_publish_bitrate_bps,
                  .max_rtx_per_second = cfg->media.max_retransmissions_per_second,
                  .no_video_copies = !cfg->media.video_loss_copies,
                  .audio_slots = (uint8_t)cfg->room.audio_slots },
        .dtls = srv->dtls,
        .on_peer_failed = sig_media_events_on_failed,
        .on_peer_connected = sig_media_events_on_connected,
        .on_active_speaker = sig_media_events_on_active_speaker,
        .owner = srv,
    };
}

static unsigned worker_count(const sig_config *cfg)
{
    unsigned n = cfg->media.workers;
    if (n == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (unsigned)cores : 1;
    }
    return n;
}

/* media.udp_port: the shared ports' base (0: off); with auto, libnice's
 * range starts after them (host_cfg.ice.port_min). */
static int plan_udp_ports(sig_server *srv, char *err, size_t errlen)
{
    uint16_t port_min;
    int rc = sig_config_udp_ports(&srv->cfg, worker_count(&srv->cfg), &srv->udp_port_base,
                                  &port_min);
    if (rc < 0) {
        snprintf(err, errlen, "media.udp_port %s: %u workers' ports go past 65535",
                 srv->cfg.media.udp_port, worker_count(&srv->cfg));
        return -1;
    }
    if (rc > 0)
        sfu_log(SFU_LOG_WARN, "server.udp_port_off",
                "reason=\"media.udp_port auto: port_min..port_max holds fewer than 2 ports per "
                "worker\" workers=%u", worker_count(&srv->cfg));
    else if (srv->udp_port_base)
        sfu_log(SFU_LOG_INFO, "server.udp_port", "first=%u last=%u",
                (unsigned)srv->udp_port_base,
                (unsigned)(srv->udp_port_base + worker_count(&srv->cfg) - 1));
    srv->host_cfg.ice.port_min = port_min;
    return 0;
}

static int start_workers(sig_server *srv, char *err, size_t errlen)
{
    unsigned n = worker_count(&srv->cfg);
    srv->nworkers = n;
    srv->workers = g_new0(sfu_worker *, n);
    srv->hosts = g_new0(sfu_host *, n);
    for (unsigned i = 0; i < n; i++) {
        srv->workers[i] = sfu_worker_new(i, srv->cfg.media.buffer_pool_packets,
                                        srv->cfg.media.buffer_pool_max_packets);
        if (!srv->workers[i]) {
            snprintf(err, errlen, "cannot create worker %u (buffer pool)", i);
            return -1;
        }
        sfu_worker_set_udp_gso(srv->workers[i], srv->cfg.media.udp_gso);
        sfu_worker_set_read_coalesce(srv->workers[i], srv->cfg.media.read_coalesce_us);
        srv->hosts[i] = sfu_host_new(srv->workers[i], &srv->host_cfg);
        if (srv->udp_port_base) {
            sfu_shared_port *sp = sfu_shared_port_new(srv->workers[i], &srv->host_cfg.ice,
                                                      (uint16_t)(srv->udp_port_base + i), err,
                                                      errlen);
            if (!sp)
                return -1;
            sfu_host_set_shared_port(srv->hosts[i], sp);
        }
        sfu_worker_start(srv->workers[i]);
    }
    return 0;
}

static bool starts_session(const sig_route *r)
{
    return r->status == 0 && r->method == SIG_METHOD_POST &&
           (r->id == SIG_ROUTE_WHIP || r->id == SIG_ROUTE_WHEP || r->id == SIG_ROUTE_ROOM_JOIN);
}

/* The HTTP entry point: tags the request with its route for the metrics,
 * refuses new sessions while draining, and runs the API under the config
 * lock (see server.h). Routing is pure and cheap, so api.c routes again. */
static void handle(void *user, sig_request *req)
{
    sig_server *srv = user;
    sig_route route;
    sig_route_match(sig_request_method(req), sig_request_path(req), &route);
    sig_request_set_tag(req, route.status == 0 ? (unsigned)route.id : SIG_ROUTE_NONE);
    if (g_atomic_int_get(&srv->draining)) {
        if (starts_session(&route)) {
            sig_response resp = { .status = 503, .body = "server shutting down: no new sessions\n",
                                  .retry_after_s = DRAIN_RETRY_AFTER_S };
            sig_http_respond(req, &resp);
            return;
        }
        if (route.status == 0 && route.id == SIG_ROUTE_HEALTH &&
            route.method != SIG_METHOD_OPTIONS) {
            sig_api_answer_health(srv, req, true);
            return;
        }
    }
    g_rw_lock_reader_lock(&srv->cfg_lock);
    sig_api_handle(srv, req);
    g_rw_lock_reader_unlock(&srv->cfg_lock);
}

static void count_answer(void *user, unsigned tag, unsigned status)
{
    sig_server *srv = user;
    sig_http_counts_add(srv->http_counts, tag, status);
}

/* [cluster] with a Redis URL: the node's directory thread (started once
 * the HTTP API answers, so no node is sent here before). */
static sig_cluster *make_cluster(sig_server *srv)
{
    const sig_config *cfg = &srv->cfg;
    sig_cluster_params p = {
        .redis_password = cfg->cluster.redis_password,
        .node_id = cfg->cluster.node_id,
        .public_url = cfg->cluster.public_url,
        .secret = cfg->cluster.secret,
        .heartbeat_ms = (unsigned)(cfg->cluster.heartbeat / 1000),
        .node_ttl_ms = (unsigned)(cfg->cluster.node_ttl / 1000),
        .redis_timeout_ms = (unsigned)(cfg->cluster.redis_timeout / 1000),
        .max_sessions = srv->max_sessions,
        .collect = sig_cluster_api_collect,
        .user = srv,
    };
    char why[256];
    if (sig_cluster_parse_redis_url(cfg->cluster.redis_url, &p.redis, why, sizeof why) != 0)
        return NULL;    /* the config check refused it already */
    return sig_cluster_new(&p);
}

static gboolean keep_streams_open(gpointer data)
{
    sig_room_keepalive(data);
    return G_SOURCE_CONTINUE;
}

sig_server *sig_server_new(const sig_config *cfg, char *err, size_t errlen)
{
    sig_server *srv = g_new0(sig_server, 1);
    srv->cfg = *cfg;
    g_rw_lock_init(&srv->cfg_lock);
    g_mutex_init(&srv->rooms_lock);
    srv->http_counts = sig_http_counts_new();
    if (make_certificate(srv, err, errlen) != 0)
        goto err;
    fill_host_config(srv);
    if (plan_udp_ports(srv, err, errlen) != 0)
        goto err;
    srv->max_sessions = session_budget(cfg, srv->host_cfg.ice.port_min);
    srv->media_events = sig_media_events_new(srv, g_main_context_default());
    if (!srv->media_events) {
        snprintf(err, errlen, "cannot make the workers' event queue");
        goto err;
    }
    if (start_workers(srv, err, errlen) != 0)
        goto err;
    sig_limits limits = { .max_sessions = srv->max_sessions,
                          .max_rooms = cfg->limits.max_rooms,
                          .max_participants_per_room = cfg->limits.max_participants_per_room };
    srv->reg = sig_registry_new(&limits, srv->nworkers);
    if (cfg->http.requests_per_second_per_client)
        srv->ratelimit = sig_ratelimit_new(cfg->http.requests_per_second_per_client,
                                           cfg->http.request_burst, 0);
    sig_http_config http = { .listen_addr = cfg->http.listen.host,
                             .port = cfg->http.listen.port,
                             .max_body_bytes = cfg->http.max_body_bytes,
                             .max_connections = cfg->http.max_connections,
                             .max_pending_per_client =
                                 cfg->http.max_pending_connections_per_client,
                             .header_timeout_ms = (unsigned)(cfg->http.header_timeout / 1000),
                             .body_timeout_ms = (unsigned)(cfg->http.body_timeout / 1000),
                             .idle_timeout_ms = (unsigned)(cfg->http.idle_timeout / 1000),
                             .connection_timeout_s = 30,
                             .cors_origin = cfg->http.cors_origin,
                             .on_answer = count_answer };
    if (cfg->cluster.redis_url[0] && !(srv->cluster = make_cluster(srv))) {
        snprintf(err, errlen, "cluster.redis_url: not a redis:// URL");
        goto err;
    }
    if (srv->cluster && cfg->cluster.relay)
        srv->relay = sig_relay_new(srv);
    if (srv->relay && cfg->cluster.span)
        srv->span = sig_span_new(srv);
    srv->http = sig_http_new(&http, handle, srv, err, errlen);
    if (!srv->http)
        goto err;
    if (srv->cluster)
        sig_cluster_start(srv->cluster);
    sig_span_start(srv->span);
    srv->keepalive_timer = g_timeout_add(SIG_EVENTS_KEEPALIVE_CHECK_MS, keep_streams_open, srv);
    sfu_log(SFU_LOG_INFO, "server.started", "port=%u workers=%u max_sessions=%u auth=%s",
            sig_http_port(srv->http), srv->nworkers, srv->max_sessions,
            cfg->auth.secret[0] ? "on" : "off");
    if (!cfg->auth.secret[0])
        sfu_log(SFU_LOG_WARN, "auth.off",
                "msg2=\"no [auth] secret configured: anyone who reaches the port may publish\"");
    return srv;
err:
    sig_server_free(srv);
    return NULL;
}

static void free_host_on_worker(void *arg)
{
    sfu_host_free(arg);
}

void sig_server_free(sig_server *srv)
{
    if (!srv)
        return;
    if (srv->keepalive_timer)
        g_source_remove(srv->keepalive_timer);
    /* Out of the directory first; the requests it holds are answered. */
    sig_cluster_stop(srv->cluster);
    sig_span_stop(srv->span);
    sig_relay_stop(srv->relay);
    sig_http_free(srv->http);   /* no new requests from here on */
    sig_cluster_free(srv->cluster);
    for (unsigned i = 0; i < srv->nworkers; i++) {
        if (!srv->workers[i])
            continue;
        /* Peers and agents belong to their worker's thread: free them there. */
        if (srv->hosts[i])
            sfu_worker_post_follow(srv->workers[i], free_host_on_worker, srv->hosts[i]);
        sfu_worker_free(srv->workers[i]);
    }
    g_free(srv->workers);
    srv->workers = NULL;        /* commands posted from here on end at once */
    g_free(srv->hosts);
    srv->hosts = NULL;
    sig_media_events_free(srv->media_events);   /* the workers are gone: what waits runs now */
    sig_span_free(srv->span);
    sig_relay_free(srv->relay);
    sig_registry_free(srv->reg);
    sig_ratelimit_free(srv->ratelimit);
    sfu_dtls_ctx_free(srv->dtls);
    sfu_cert_free(srv->cert);
    sig_http_counts_free(srv->http_counts);
    g_rw_lock_clear(&srv->cfg_lock);
    g_mutex_clear(&srv->rooms_lock);
    g_free(srv);
}

/* ---- graceful stop ---- */

static void tell_shutdown(struct sig_events *ev, void *user)
{
    sig_events_push(ev, "server-shutdown", user);
}

void sig_server_drain(sig_server *srv)
{
    if (g_atomic_int_get(&srv->draining))
        return;
    /* No node may send clients here any more (bounded by the Redis timeout). */
    sig_cluster_leave(srv->cluster);
    if (!g_atomic_int_compare_and_exchange(&srv->draining, 0, 1))
        return;
    char json[64];
    snprintf(json, sizeof json, "{\"drain_timeout_s\":%u}", srv->cfg.server.drain_timeout_s);
    sig_registry_foreach_events(srv->reg, tell_shutdown, json);
}

bool sig_server_draining(sig_server *srv)
{
    return g_atomic_int_get(&srv->draining) != 0;
}

unsigned sig_server_sessions(sig_server *srv)
{
    sig_registry_counts c;
    sig_registry_counts_get(srv->reg, &c);
    return c.sessions;
}

/* ---- SIGHUP: live reload ---- */

/* Keys whose readers read srv->cfg per request or per event, so a new value
 * takes effect at once. apply_live copies exactly these. */
static const char *const live_keys[] = {
    "log.level", "log.lines_per_second_per_cause",
    "privacy.log_addresses", "privacy.api_addresses",
    "auth.secret", "auth.clock_skew_s",
    "ice.stun_urls",
    "turn.urls", "turn.secret", "turn.ttl_s", "turn.username", "turn.credential",
    "http.requests_per_second_per_client", "http.request_burst_per_client", "http.static_dir",
    "limits.max_tracks_per_session", "limits.max_sdp_mlines", "limits.max_sdp_bytes",
    "server.drain_timeout_s",
};

static void apply_live(sig_config *dst, const sig_config *src)
{
    dst->log = src->log;
    dst->privacy = src->privacy;
    dst->auth = src->auth;
    dst->ice = src->ice;
    dst->turn = src->turn;
    dst->http.requests_per_second_per_client = src->http.requests_per_second_per_client;
    dst->http.request_burst = src->http.request_burst;
    memcpy(dst->http.static_dir, src->http.static_dir, sizeof dst->http.static_dir);
    dst->limits.max_tracks_per_session = src->limits.max_tracks_per_session;
    dst->limits.max_sdp_mlines = src->limits.max_sdp_mlines;
    dst->limits.max_sdp_bytes = src->limits.max_sdp_bytes;
    dst->server = src->server;
}

static bool is_live(const char *key)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(live_keys); i++)
        if (strcmp(live_keys[i], key) == 0)
            return true;
    return false;
}

static void add_key(GString *list, const char *key)
{
    g_string_append_printf(list, "%s%s", list->len ? "," : "", key);
}

static char *dump_text(const sig_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return g_strdup("");
    sig_config_dump(cfg, f);
    fclose(f);
    return text;
}

/* Names ("group.key") of the keys whose values differ, split into those
 * applied live and those needing a restart. The dump prints secrets as
 * "(set)", so those are compared directly. */
static void diff_configs(const sig_config *old, const sig_config *next, GString *live,
                         GString *restart)
{
    static const struct { const char *key; size_t off; } secrets[] = {
        { "auth.secret", offsetof(sig_config, auth.secret) },
        { "turn.secret", offsetof(sig_config, turn.secret) },
        { "turn.credential", offsetof(sig_config, turn.credential) },
        { "cluster.redis_password", offsetof(sig_config, cluster.redis_password) },
        { "cluster.secret", offsetof(sig_config, cluster.secret) },
    };
    char *ta = dump_text(old), *tb = dump_text(next);
    char **la = g_strsplit(ta, "\n", -1), **lb = g_strsplit(tb, "\n", -1);
    char group[64] = "";
    for (unsigned i = 0; la[i] && lb[i]; i++) {
        if (la[i][0] == '[') {
            snprintf(group, sizeof group, "%.*s", (int)strcspn(la[i] + 1, "]"), la[i] + 1);
            continue;
        }
        const char *eq = strstr(la[i], " = ");
        char key[160];
        if (!eq)
            continue;
        snprintf(key, sizeof key, "%s.%.*s", group, (int)(eq - la[i]), la[i]);
        bool secret = false;
        for (size_t k = 0; k < SFU_ARRAY_LEN(secrets); k++) {
            if (strcmp(key, secrets[k].key) == 0) {
                secret = true;
                if (strcmp((const char *)old + secrets[k].off,
                           (const char *)next + secrets[k].off) != 0)
                    add_key(live, key);
            }
        }
        if (!secret && strcmp(la[i], lb[i]) != 0)
            add_key(is_live(key) ? live : restart, key);
    }
    g_strfreev(la);
    g_strfreev(lb);
    free(ta);
    free(tb);
}

/* Parks every worker in a task that waits for `release`: while parked, no
 * worker is inside a task, so none reads srv->cfg. */
typedef struct quiesce {
    GMutex lock;
    GCond cond;
    unsigned parked, left;
    bool release;
} quiesce;

static void park_worker(void *arg)
{
    quiesce *q = arg;
    g_mutex_lock(&q->lock);
    q->parked++;
    g_cond_broadcast(&q->cond);
    while (!q->release)
        g_cond_wait(&q->cond, &q->lock);
    q->left++;
    g_cond_broadcast(&q->cond);
    g_mutex_unlock(&q->lock);
}

static void stop_readers(sig_server *srv, quiesce *q)
{
    memset(q, 0, sizeof *q);
    g_mutex_init(&q->lock);
    g_cond_init(&q->cond);
    for (unsigned i = 0; i < srv->nworkers; i++)
        sfu_worker_post_follow(srv->workers[i], park_worker, q);   /* never refused */
    g_mutex_lock(&q->lock);
    while (q->parked < srv->nworkers)
        g_cond_wait(&q->cond, &q->lock);
    g_mutex_unlock(&q->lock);
    /* Workers never wait for the HTTP thread, so taking this last cannot
     * deadlock: the HTTP thread finishes its current handler and waits. */
    g_rw_lock_writer_lock(&srv->cfg_lock);
}

static void resume_readers(sig_server *srv, quiesce *q)
{
    g_rw_lock_writer_unlock(&srv->cfg_lock);
    g_mutex_lock(&q->lock);
    q->release = true;
    g_cond_broadcast(&q->cond);
    while (q->left < srv->nworkers)     /* `q` lives on our stack */
        g_cond_wait(&q->cond, &q->lock);
    g_mutex_unlock(&q->lock);
    g_cond_clear(&q->cond);
    g_mutex_clear(&q->lock);
}

static void report_problems(const char *err)
{
    char **lines = g_strsplit(err, "\n", -1);
    unsigned n = g_strv_length(lines);
    for (unsigned i = 0; i < n; i++) {
        char quoted[600];
        sfu_log(SFU_LOG_ERROR, "config.reload_failed", "problem=%s",
                sfu_log_quote(quoted, sizeof quoted, lines[i]));
    }
    sfu_log(SFU_LOG_ERROR, "config.reload_failed", "problems=%u changed=none", n);
    g_strfreev(lines);
}

int sig_server_reload(sig_server *srv, const char *path)
{
    sig_config *next = g_new0(sig_config, 1);
    char *err = g_malloc(8192);
    if (sig_config_load(path, next, err, 8192) != 0) {
        report_problems(err);
        g_atomic_int_inc(&srv->reloads_failed);
        g_free(err);
        g_free(next);
        return -SFU_EINVAL;
    }
    GString *live = g_string_new(NULL), *restart = g_string_new(NULL);
    diff_configs(&srv->cfg, next, live, restart);

    bool new_rate = next->http.requests_per_second_per_client !=
                        srv->cfg.http.requests_per_second_per_client ||
                    next->http.request_burst != srv->cfg.http.request_burst;
    struct sig_ratelimit *rl = NULL, *old_rl = NULL;
    if (new_rate && next->http.requests_per_second_per_client)
        rl = sig_ratelimit_new(next->http.requests_per_second_per_client,
                               next->http.request_burst, 0);
    quiesce q;
    stop_readers(srv, &q);
    apply_live(&srv->cfg, next);
    if (new_rate) {     /* the HTTP thread is its only user, and it is waiting */
        old_rl = srv->ratelimit;
        srv->ratelimit = rl;
    }
    resume_readers(srv, &q);
    sig_ratelimit_free(old_rl);

    sfu_log_set_level(srv->cfg.log.level);
    sfu_log_set_rate(srv->cfg.log.lines_per_second_per_cause);
    sfu_log_set_addresses(srv->cfg.privacy.log_addresses);
    g_atomic_int_inc(&srv->reloads_ok);
    sfu_log(restart->len ? SFU_LOG_WARN : SFU_LOG_INFO, "config.reloaded",
            "applied=%s restart_needed=%s auth=%s", live->len ? live->str : "none",
            restart->len ? restart->str : "none", srv->cfg.auth.secret[0] ? "on" : "off");
    g_string_free(live, TRUE);
    g_string_free(restart, TRUE);
    g_free(err);
    g_free(next);
    return 0;
}
