/* The whole server: configuration, certificate, media workers, the
 * registry and the HTTP front. One instance per process, built from a
 * loaded config and passed explicitly (no global state). */
#ifndef SIG_SERVER_H
#define SIG_SERVER_H

#include "signaling/config.h"
#include "signaling/http.h"
#include "signaling/registry.h"
#include "sfu/crypto/cert.h"
#include "sfu/crypto/dtls.h"
#include "sfu/net/host.h"
#include "sfu/net/worker.h"

struct sig_http_counts;
struct sig_cluster;

/* Threads and the configuration: `cfg` is read by the HTTP thread (inside
 * the handler, which runs under cfg_lock as a reader), by the workers
 * (inside their commands, worker_cmd.h) and by the main thread (the
 * workers' events, media_events.h), and written only by the main thread on
 * SIGHUP, which first parks every worker in a command that waits, then
 * takes cfg_lock as the writer. So no reader ever sees a half-written value, the
 * readers need no change, and the price is a pause of a few microseconds
 * per reload. Keys that other objects copied at start (ports, workers,
 * HTTP limits...) are never changed live; see sig_server_reload. */
typedef struct sig_server {
    sig_config cfg;
    GRWLock cfg_lock;
    sfu_cert *cert;
    sfu_dtls_ctx *dtls;
    unsigned nworkers;
    sfu_worker **workers;
    sfu_host **hosts;
    sfu_host_config host_cfg;
    uint16_t udp_port_base;             /* worker i's shared UDP port is base + i; 0: off */
    const char *gather[SIG_CONFIG_LIST_MAX];
    const char *announce[SIG_CONFIG_LIST_MAX];
    sig_registry *reg;
    sig_http *http;
    struct sig_ratelimit *ratelimit;    /* NULL: no limit */
    unsigned keepalive_timer;           /* event streams' comment lines, main loop */
    uint32_t max_sessions;          /* the config's, capped by ports and fds */
    struct sig_http_counts *http_counts;    /* answers by route and status */
    gint draining;                  /* atomic: SIGTERM seen, no new sessions */
    gint reloads_ok, reloads_failed;    /* atomic: SIGHUP outcomes */
    struct sig_cluster *cluster;    /* NULL: a single node ([cluster] redis_url empty) */
    struct sig_relay *relay;        /* NULL unless a cluster node with [cluster] relay */
    struct sig_span *span;          /* NULL unless also [cluster] span */
    struct sig_media_events *media_events;  /* the workers' events, drained on the main loop */
    /* The room sessions' lock: every room session's renegotiation state,
     * subscription and signaling timers (room_session.c, room_subs.c). The
     * signaling side only, the HTTP and main threads; never a worker. Taken
     * before the registry's lock, never inside it. */
    GMutex rooms_lock;
} sig_server;

sig_server *sig_server_new(const sig_config *cfg, char *err, size_t errlen);
void sig_server_free(sig_server *srv);

/* Graceful stop, first part (main thread): a cluster node first leaves the
 * directory (so no node sends clients here), then from now on a POST that would
 * start a session (WHIP, WHEP, room join) is answered 503 with Retry-After
 * and GET /health 503 "draining"; every room session's event stream gets
 * `event: server-shutdown` with {"drain_timeout_s":N}. Idempotent. */
void sig_server_drain(sig_server *srv);
bool sig_server_draining(sig_server *srv);
/* Sessions (PeerConnections) in the registry, being set up or live. */
unsigned sig_server_sessions(sig_server *srv);

/* SIGHUP (main thread): reads `path`; when it has no problem, applies the
 * keys that can change live (log, auth, privacy, ice, turn, per-client
 * rate limit, static_dir, per-request SDP limits, drain timeout) and logs
 * one line naming the keys applied and those that differ but need a
 * restart. When it has a problem, logs each and changes nothing. Returns 0
 * or -SFU_EINVAL. */
int sig_server_reload(sig_server *srv, const char *path);

/* The HTTP entry point (signaling/api.c). */
void sig_api_handle(void *user, sig_request *req);
/* GET /health: "ok" and warnings as text, or with `Accept: application/json`
 * a JSON object that also carries the version; 503 "draining" while draining. */
void sig_api_answer_health(sig_server *srv, sig_request *req, bool draining);

#endif
