#include "signaling/server.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sfu/net/log.h"
#include "signaling/ratelimit.h"
#include "signaling/room_session.h"
#include "signaling/session.h"

/* Every agent holds a UDP socket per gather address (and a TCP one with
 * ICE-TCP): the port range and the descriptor limit both cap the sessions. */
static uint32_t session_budget(const sig_config *cfg)
{
    uint32_t per_session = cfg->media.gather_addresses.count * (cfg->media.ice_tcp ? 2 : 1);
    if (per_session == 0)
        per_session = 1;
    uint32_t ports = (uint32_t)(cfg->media.port_max - cfg->media.port_min + 1);
    uint32_t budget = ports / (cfg->media.ice_tcp ? 2 : 1);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;  /* raise the soft limit as far as allowed */
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        /* Keep room for HTTP connections, logs and libraries. */
        uint64_t spare = cfg->http.max_connections + 64;
        uint64_t fds = rl.rlim_cur > spare ? rl.rlim_cur - spare : 0;
        /* Each agent also holds a few descriptors of its own (wakeups). */
        uint64_t by_fd = fds / (per_session + 2);
        if (by_fd < budget)
            budget = (uint32_t)by_fd;
    }
    return budget < cfg->limits.max_sessions ? budget : cfg->limits.max_sessions;
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
    return srv->dtls ? 0 : -1;
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
                  .max_publish_bps = cfg->media.max_publish_bitrate_bps },
        .dtls = srv->dtls,
        .on_peer_failed = sig_session_on_peer_failed,
        .on_peer_connected = sig_session_on_peer_connected,
        .on_active_speaker = sig_room_on_active_speaker,
        .owner = srv,
    };
}

static int start_workers(sig_server *srv, char *err, size_t errlen)
{
    unsigned n = srv->cfg.media.workers;
    if (n == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (unsigned)cores : 1;
    }
    srv->nworkers = n;
    srv->workers = g_new0(sfu_worker *, n);
    srv->hosts = g_new0(sfu_host *, n);
    for (unsigned i = 0; i < n; i++) {
        srv->workers[i] = sfu_worker_new(i, srv->cfg.media.buffer_pool_packets);
        if (!srv->workers[i]) {
            snprintf(err, errlen, "cannot create worker %u (buffer pool)", i);
            return -1;
        }
        srv->hosts[i] = sfu_host_new(srv->workers[i], &srv->host_cfg);
        sfu_worker_start(srv->workers[i]);
    }
    return 0;
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
    if (make_certificate(srv, err, errlen) != 0)
        goto err;
    fill_host_config(srv);
    srv->max_sessions = session_budget(cfg);
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
                             .connection_timeout_s = 30,
                             .cors_origin = cfg->http.cors_origin };
    srv->http = sig_http_new(&http, sig_api_handle, srv, err, errlen);
    if (!srv->http)
        goto err;
    srv->keepalive_timer = g_timeout_add_seconds(5, keep_streams_open, srv);
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
    sig_http_free(srv->http);   /* no new requests from here on */
    for (unsigned i = 0; i < srv->nworkers; i++) {
        if (!srv->workers[i])
            continue;
        /* Peers and agents belong to their worker's thread: free them there. */
        if (srv->hosts[i])
            sfu_worker_invoke(srv->workers[i], free_host_on_worker, srv->hosts[i]);
        sfu_worker_free(srv->workers[i]);
    }
    g_free(srv->workers);
    g_free(srv->hosts);
    sig_registry_free(srv->reg);
    sig_ratelimit_free(srv->ratelimit);
    sfu_dtls_ctx_free(srv->dtls);
    sfu_cert_free(srv->cert);
    g_free(srv);
}
