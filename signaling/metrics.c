#include "signaling/metrics.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "signaling/cluster.h"
#include "signaling/relay.h"
#include "signaling/span.h"
#include "signaling/connlimit.h"
#include "signaling/route.h"
#include "signaling/version.h"
#include "signaling/worker_cmd.h"

#define ROUTES (SIG_ROUTE_CLUSTER_SPAN + 1)
#define STATUS_MIN 100
#define STATUS_MAX 599

struct sig_http_counts {
    uint64_t n[ROUTES][STATUS_MAX - STATUS_MIN + 1];    /* atomic adds */
};

static const char *const route_names[ROUTES] = {
    [SIG_ROUTE_NONE] = "none",
    [SIG_ROUTE_WHIP] = "whip",
    [SIG_ROUTE_WHEP] = "whep",
    [SIG_ROUTE_ROOM_JOIN] = "room_join",
    [SIG_ROUTE_ROOMS] = "rooms",
    [SIG_ROUTE_ROOM] = "room",
    [SIG_ROUTE_SESSION] = "session",
    [SIG_ROUTE_SESSION_EVENTS] = "session_events",
    [SIG_ROUTE_SESSION_ANSWER] = "session_answer",
    [SIG_ROUTE_HEALTH] = "health",
    [SIG_ROUTE_METRICS] = "metrics",
    [SIG_ROUTE_INDEX] = "index",
    [SIG_ROUTE_STATIC] = "static",
    [SIG_ROUTE_SESSION_LAYER] = "session_layer",
    [SIG_ROUTE_CLUSTER_RELAY] = "cluster_relay",
    [SIG_ROUTE_CLUSTER_SPAN] = "cluster_span",
    [SIG_ROUTE_SESSION_SUBSCRIPTIONS] = "session_subscriptions",
};

const char *sig_metrics_route_name(unsigned route)
{
    return route < ROUTES && route_names[route] ? route_names[route] : "none";
}

sig_http_counts *sig_http_counts_new(void)
{
    return g_new0(sig_http_counts, 1);
}

void sig_http_counts_free(sig_http_counts *c)
{
    g_free(c);
}

void sig_http_counts_add(sig_http_counts *c, unsigned route, unsigned status)
{
    if (!c)
        return;
    if (route >= ROUTES)
        route = SIG_ROUTE_NONE;
    if (status < STATUS_MIN || status > STATUS_MAX)
        status = 500;   /* never sent; keeps the index in range */
    __atomic_fetch_add(&c->n[route][status - STATUS_MIN], 1, __ATOMIC_RELAXED);
}

uint64_t sig_http_counts_get(const sig_http_counts *c, unsigned route, unsigned status)
{
    if (!c || route >= ROUTES || status < STATUS_MIN || status > STATUS_MAX)
        return 0;
    return __atomic_load_n(&c->n[route][status - STATUS_MIN], __ATOMIC_RELAXED);
}

typedef struct metrics_job {
    sig_server *srv;
    sig_request *req;
    sfu_host_stats *per_worker;
} metrics_job;

static const char *const host_drop_names[SFU_HOST_DROP_COUNT] = {
    [SFU_HOST_DROP_NOT_RTP] = "not_rtp",         [SFU_HOST_DROP_NO_KEYS] = "no_keys",
    [SFU_HOST_DROP_SRTP_AUTH] = "srtp_auth",     [SFU_HOST_DROP_SRTP_REPLAY] = "srtp_replay",
    [SFU_HOST_DROP_SRTP_OTHER] = "srtp_other",   [SFU_HOST_DROP_POOL_EMPTY] = "pool_empty",
    [SFU_HOST_DROP_SEND_FAILED] = "send_failed",
};

static const char *const room_drop_names[SFU_DROP_REASON_COUNT] = {
    [SFU_DROP_MALFORMED] = "malformed",     [SFU_DROP_UNKNOWN_SSRC] = "unknown_ssrc",
    [SFU_DROP_PADDING] = "padding",
    [SFU_DROP_DUPLICATE] = "duplicate",     [SFU_DROP_TOO_OLD] = "too_old",
    [SFU_DROP_OUT_FULL] = "out_full",
    [SFU_DROP_BITRATE] = "bitrate",         [SFU_DROP_RTX_RATE] = "rtx_rate",
    [SFU_DROP_RTX_USELESS] = "rtx_useless",
};

static void metric(GString *s, const char *name, const char *type, const char *help, double v)
{
    g_string_append_printf(s, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type,
                           name, v);
}

static void sum_stats(const metrics_job *job, sfu_host_stats *sum)
{
    memset(sum, 0, sizeof *sum);
    for (unsigned w = 0; w < job->srv->nworkers; w++) {
        const sfu_host_stats *s = &job->per_worker[w];
        sum->peers_live += s->peers_live;
        sum->rooms_live += s->rooms_live;
        sum->dtls_ok += s->dtls_ok;
        sum->dtls_failed += s->dtls_failed;
        sum->packets_in += s->packets_in;
        sum->packets_out += s->packets_out;
        sum->bytes_in += s->bytes_in;
        sum->bytes_out += s->bytes_out;
        sum->buffers_in_use += s->buffers_in_use;
        sum->buffers_allocated += s->buffers_allocated;
        sum->buffer_pool_grown += s->buffer_pool_grown;
        sum->buffer_pool_refused += s->buffer_pool_refused;
        sum->relay_legs += s->relay_legs;
        sum->relay_packets_in += s->relay_packets_in;
        sum->relay_packets_out += s->relay_packets_out;
        sum->relay_bytes_in += s->relay_bytes_in;
        sum->relay_bytes_out += s->relay_bytes_out;
        sum->shared_dgrams_in += s->shared_dgrams_in;
        sum->shared_dgrams_out += s->shared_dgrams_out;
        sum->shared_checks += s->shared_checks;
        sum->shared_drop_unknown += s->shared_drop_unknown;
        sum->shared_drop_stun += s->shared_drop_stun;
        sum->shared_sessions += s->shared_sessions;
        for (int i = 0; i < SFU_HOST_DROP_COUNT; i++)
            sum->drops[i] += s->drops[i];
        const uint64_t *b = (const uint64_t *)&s->rooms;
        uint64_t *a = (uint64_t *)&sum->rooms;
        for (size_t i = 0; i < sizeof s->rooms / sizeof(uint64_t); i++)
            a[i] += b[i];
    }
}

static void labelled_header(GString *s, const char *name, const char *help)
{
    g_string_append_printf(s, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
}

/* Only the pairs seen so far: a series appears with its first request. */
static void http_metrics(GString *s, const sig_http_counts *c)
{
    labelled_header(s, "sfu_http_requests_total", "HTTP requests answered, by route and status.");
    for (unsigned r = 0; r < ROUTES; r++)
        for (unsigned st = STATUS_MIN; st <= STATUS_MAX; st++) {
            uint64_t n = sig_http_counts_get(c, r, st);
            if (n)
                g_string_append_printf(s,
                                       "sfu_http_requests_total{route=\"%s\",code=\"%u\"} %"
                                       G_GUINT64_FORMAT "\n", route_names[r], st, n);
        }
}

static void kind_metrics(GString *s, const sfu_room_stats *r)
{
    static const char *const kinds[2] = { "audio", "video" };
    g_string_append(s, "# HELP sfu_media_packets_total RTP packets by direction and media kind "
                       "(in: accepted from publishers; out: sent to receivers).\n"
                       "# TYPE sfu_media_packets_total counter\n");
    for (int k = 0; k < 2; k++)
        g_string_append_printf(s,
                               "sfu_media_packets_total{direction=\"in\",kind=\"%s\"} %" G_GUINT64_FORMAT "\n"
                               "sfu_media_packets_total{direction=\"out\",kind=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               kinds[k], r->rtp_in_kind[k], kinds[k], r->rtp_out_kind[k]);
    g_string_append(s, "# HELP sfu_media_bytes_total RTP bytes before SRTP by direction and media "
                       "kind.\n# TYPE sfu_media_bytes_total counter\n");
    for (int k = 0; k < 2; k++)
        g_string_append_printf(s,
                               "sfu_media_bytes_total{direction=\"in\",kind=\"%s\"} %" G_GUINT64_FORMAT "\n"
                               "sfu_media_bytes_total{direction=\"out\",kind=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               kinds[k], r->bytes_in_kind[k], kinds[k], r->bytes_out_kind[k]);
    labelled_header(s, "sfu_audio_red_packets_total",
                    "RFC 2198 audio RED packets: from publishers, to viewers as RED, reduced to Opus.");
    g_string_append_printf(s,
                           "sfu_audio_red_packets_total{action=\"in\"} %" G_GUINT64_FORMAT "\n"
                           "sfu_audio_red_packets_total{action=\"passed\"} %" G_GUINT64_FORMAT "\n"
                           "sfu_audio_red_packets_total{action=\"reduced\"} %" G_GUINT64_FORMAT "\n",
                           r->red_in, r->red_passed, r->red_reduced);
    metric(s, "sfu_audio_copies_total", "counter",
           "Extra copies of audio packets sent to viewers whose reports show loss.",
           (double)r->audio_copies);
    metric(s, "sfu_video_copies_total", "counter",
           "Extra copies of video packets and retransmissions sent to viewers whose NACKs show heavy loss.",
           (double)r->video_copies);
    metric(s, "sfu_copies_withheld_total", "counter",
           "Audio and video copies not sent because the viewer's bandwidth estimator saw congestion.",
           (double)r->copies_withheld);
    metric(s, "sfu_repair_keyframe_requests_total", "counter",
           "Keyframes asked for because a viewer NACKed a packet that could no longer be resent.",
           (double)r->repair_keyframe_requests);
    metric(s, "sfu_bwe_feedback_total", "counter",
           "Viewers' transport-cc feedback packets fed to their bandwidth estimators.",
           (double)r->bwe_feedbacks);
    metric(s, "sfu_bwe_remb_total", "counter", "Viewers' REMB messages fed to their bandwidth estimators.",
           (double)r->bwe_rembs);
    metric(s, "sfu_bwe_packets_total", "counter",
           "RTP packets sent to viewers with a transport-wide sequence number.", (double)r->bwe_packets);
    metric(s, "sfu_bwe_probes_total", "counter", "Bandwidth probes started toward viewers.", (double)r->probes);
    metric(s, "sfu_bwe_probe_bytes_total", "counter",
           "Bytes of RTX packets (recent video again, or padding) sent as bandwidth probes, before SRTP.",
           (double)r->probe_bytes);
    metric(s, "sfu_layer_drains_total", "counter",
           "Switches down from a layer far above a viewer's estimate that held it back until the switch.",
           (double)r->drains);
    metric(s, "sfu_layer_drained_packets_total", "counter",
           "Packets of such a layer not sent while its switch down waited for the lower layer's keyframe.",
           (double)r->drained);
    metric(s, "sfu_relay_layer_pauses_total", "counter",
           "Simulcast layers a relay leg stopped sending because no viewer on the pulling node needed them.",
           (double)r->layer_pauses);
    metric(s, "sfu_relay_layer_resumes_total", "counter",
           "Simulcast layers a relay leg sent again because a viewer on the pulling node needed them.",
           (double)r->layer_resumes);
}

static void rtcp_metrics(GString *s, const sfu_room_stats *r)
{
    metric(s, "sfu_rtp_packets_in_total", "counter",
           "RTP packets from publishers, decrypted, into the forwarding cores.",
           (double)r->rtp_in);
    metric(s, "sfu_rtcp_packets_in_total", "counter", "RTCP compound packets received, decrypted.",
           (double)r->rtcp_in);
    metric(s, "sfu_rtp_packets_out_total", "counter",
           "RTP packets the forwarding cores sent (forwarded and retransmitted).",
           (double)r->rtp_out);
    metric(s, "sfu_rtcp_packets_out_total", "counter", "RTCP packets the forwarding cores sent.",
           (double)r->rtcp_out);
    metric(s, "sfu_plis_sent_total", "counter", "PLIs sent to publishers.", (double)r->plis_sent);
    metric(s, "sfu_firs_sent_total", "counter", "FIRs sent to publishers.", (double)r->firs_sent);
    metric(s, "sfu_plis_received_total", "counter", "PLIs received from viewers.",
           (double)r->plis_received);
    metric(s, "sfu_firs_received_total", "counter", "New FIR requests received from viewers.",
           (double)r->firs_received);
    metric(s, "sfu_rtx_missed_total", "counter",
           "NACKed packets no longer (or never) in the retransmission cache.",
           (double)r->rtx_missed);
    metric(s, "sfu_rtp_retransmitted_unasked_total", "counter",
           "Retransmissions of packets a lossy viewer's transport-cc feedback reported lost without a NACK.",
           (double)r->rtx_unasked);
    metric(s, "sfu_keyframe_replays_total", "counter",
           "Keyframes sent to one viewer from the keyframe cache (on join or on its PLI/FIR).",
           (double)r->keyframe_replays);
    metric(s, "sfu_keyframe_replay_packets_total", "counter",
           "Packets those replays sent (the keyframe and what followed it).",
           (double)r->keyframe_replay_packets);
}

static void server_metrics(GString *s, sig_server *srv)
{
    /* The usual build-info gauge: constant 1, the facts in its labels. */
    g_string_append_printf(s, "# HELP sfu_build_info The version and commit of this build.\n"
                              "# TYPE sfu_build_info gauge\n"
                              "sfu_build_info{version=\"%s\",commit=\"%s\"} 1\n",
                           sig_version(), sig_version_commit());
    metric(s, "sfu_session_limit", "gauge", "Sessions allowed at once (config, ports, fds).",
           srv->max_sessions);
    metric(s, "sfu_draining", "gauge", "1 while a SIGTERM drain refuses new sessions.",
           sig_server_draining(srv) ? 1 : 0);
    labelled_header(s, "sfu_config_reloads_total", "SIGHUP config reloads, by result.");
    g_string_append_printf(s, "sfu_config_reloads_total{result=\"ok\"} %d\n"
                              "sfu_config_reloads_total{result=\"failed\"} %d\n",
                           g_atomic_int_get(&srv->reloads_ok),
                           g_atomic_int_get(&srv->reloads_failed));
}

/* Only on a cluster node ([cluster] redis_url set). */
static void cluster_metrics(GString *s, sig_cluster *c)
{
    if (!c)
        return;
    sig_cluster_stats st;
    sig_cluster_stats_get(c, &st);
    metric(s, "sfu_cluster_redis_up", "gauge",
           "1 while the last exchange with the cluster directory (Redis) succeeded.",
           st.redis_up ? 1 : 0);
    metric(s, "sfu_cluster_nodes", "gauge",
           "Live nodes in the directory at the last heartbeat, this one included; 0 while Redis is down.",
           st.nodes);
    metric(s, "sfu_cluster_rooms_owned", "gauge",
           "Rooms on this node whose owner record in the directory names this node.",
           st.rooms_owned);
    metric(s, "sfu_cluster_rooms_conflict", "gauge",
           "Rooms on this node whose owner record names another live node (split after an outage).",
           st.rooms_conflict);
    metric(s, "sfu_cluster_redirects_total", "counter",
           "Requests answered 307 to the node that owns the room.", (double)st.redirects);
    metric(s, "sfu_cluster_unavailable_total", "counter",
           "Requests answered 503 because the directory could not be reached.",
           (double)st.unavailable);
    metric(s, "sfu_cluster_records_rejected_total", "counter",
           "Node records or rooms summaries in Redis ignored: bad seal or content.",
           (double)st.records_rejected);
}

/* Rooms spanning nodes (signaling/span.c); only with [cluster] span. */
static void span_metrics(GString *s, sig_server *srv)
{
    if (!srv->span)
        return;
    sig_span_counts sc;
    sig_span_counts_get(srv->span, &sc);
    metric(s, "sfu_span_satellite_rooms", "gauge",
           "Rooms owned by another node that this node serves as a satellite.",
           (double)sc.satellite_rooms);
    metric(s, "sfu_span_satellites", "gauge",
           "Satellites (room, node) of the rooms this node owns.", (double)sc.satellites);
    labelled_header(s, "sfu_span_syncs_total",
                    "This node's sync calls to the owners of its satellite rooms, by result.");
    g_string_append_printf(s, "sfu_span_syncs_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n"
                              "sfu_span_syncs_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n",
                           sc.syncs, sc.sync_failed);
    metric(s, "sfu_span_refused_total", "counter",
           "Sync calls to this node refused (seal or timestamp).", (double)sc.refused);
}

/* Relay legs between cluster nodes (signaling/relay.c). "serve": legs this
 * node sends a local publisher's tracks on to another node; "pull": legs
 * this node pulls a publisher from another node on, for its own viewers. */
static void relay_metrics(GString *s, sig_server *srv, const sfu_host_stats *t)
{
    if (!srv->cluster)
        return;
    sig_relay_counts rc;
    sig_relay_counts_get(srv->relay, &rc);
    g_string_append(s, "# HELP sfu_relay_legs Relay legs alive, by role (serve: to another "
                       "node; pull: from another node).\n# TYPE sfu_relay_legs gauge\n");
    g_string_append_printf(s, "sfu_relay_legs{role=\"serve\"} %u\nsfu_relay_legs{role=\"pull\"} %u\n",
                           rc.serving, rc.pulling);
    metric(s, "sfu_relay_transports", "gauge", "Relay sockets open on the media workers.",
           (double)t->relay_legs);
    labelled_header(s, "sfu_relay_bytes_total",
                    "Bytes of SRTP/SRTCP on relay legs, by direction (rate() gives the bitrate).");
    g_string_append_printf(s, "sfu_relay_bytes_total{direction=\"out\"} %" G_GUINT64_FORMAT "\n"
                              "sfu_relay_bytes_total{direction=\"in\"} %" G_GUINT64_FORMAT "\n",
                           t->relay_bytes_out, t->relay_bytes_in);
    labelled_header(s, "sfu_relay_packets_total", "Datagrams on relay legs, by direction.");
    g_string_append_printf(s, "sfu_relay_packets_total{direction=\"out\"} %" G_GUINT64_FORMAT "\n"
                              "sfu_relay_packets_total{direction=\"in\"} %" G_GUINT64_FORMAT "\n",
                           t->relay_packets_out, t->relay_packets_in);
    g_string_append(s, "# HELP sfu_relay_bitrate_bps Relay legs' bitrate since the previous "
                       "scrape (at least 1 s before), by direction.\n"
                       "# TYPE sfu_relay_bitrate_bps gauge\n");
    g_string_append_printf(s, "sfu_relay_bitrate_bps{direction=\"out\"} %" G_GUINT64_FORMAT "\n"
                              "sfu_relay_bitrate_bps{direction=\"in\"} %" G_GUINT64_FORMAT "\n",
                           sig_relay_rate(srv->relay, true, t->relay_bytes_out),
                           sig_relay_rate(srv->relay, false, t->relay_bytes_in));
    labelled_header(s, "sfu_relay_opens_total", "Relay legs asked for, by result.");
    g_string_append_printf(s, "sfu_relay_opens_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n"
                              "sfu_relay_opens_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n"
                              "sfu_relay_opens_total{result=\"refused\"} %" G_GUINT64_FORMAT "\n",
                           rc.opened, rc.open_failed, rc.refused);
    metric(s, "sfu_relay_lost_total", "counter",
           "Pulled relay legs that ended by failure (node lost, leg refused, liveness); their viewers were ended.",
           (double)rc.lost);
}

static void connection_metrics(GString *s, sig_http *http)
{
    static const char *const states[SIG_CONN_STATES] = {
        [SIG_CONN_HEADERS] = "headers", [SIG_CONN_BODY] = "body", [SIG_CONN_ACTIVE] = "active",
        [SIG_CONN_IDLE] = "idle", [SIG_CONN_CLOSING] = "closing",
    };
    static const char *const reasons[SIG_CONN_CLOSE_REASONS] = {
        [SIG_CONN_CLOSE_HEADER_TIMEOUT] = "header_timeout",
        [SIG_CONN_CLOSE_BODY_TIMEOUT] = "body_timeout",
        [SIG_CONN_CLOSE_IDLE_TIMEOUT] = "idle_timeout",
        [SIG_CONN_CLOSE_CLIENT_CAP] = "client_cap",
        [SIG_CONN_CLOSE_IDLE_EVICTED] = "idle_evicted",
    };
    sig_connlimit_counts c;
    sig_http_conn_counts(http, &c);
    g_string_append(s, "# HELP sfu_http_connections Open HTTP connections, by state.\n"
                       "# TYPE sfu_http_connections gauge\n");
    for (int i = 0; i < SIG_CONN_STATES; i++)
        g_string_append_printf(s, "sfu_http_connections{state=\"%s\"} %u\n", states[i],
                               c.state[i]);
    labelled_header(s, "sfu_http_connections_closed_total",
                    "HTTP connections the server closed, by reason.");
    for (int i = 0; i < SIG_CONN_CLOSE_REASONS; i++)
        g_string_append_printf(s, "sfu_http_connections_closed_total{reason=\"%s\"} %"
                                  G_GUINT64_FORMAT "\n", reasons[i], c.closed[i]);
    metric(s, "sfu_http_connections_refused_total", "counter",
           "New HTTP connections refused: max_connections open, none idle.", (double)c.refused);
}

static void process_metrics(GString *s)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    metric(s, "process_cpu_seconds_total", "counter", "User and system CPU time.", cpu);
    long rss_pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%*d %ld", &rss_pages) != 1)
            rss_pages = 0;
        fclose(f);
    }
    metric(s, "process_resident_memory_bytes", "gauge", "Resident memory.",
           (double)rss_pages * (double)sysconf(_SC_PAGESIZE));
}

/* The workers' command queues (sfu/net/cmd_queue.h): what waits now, the
 * most that ever waited, and new work refused with 503 when one was full. */
static void queue_metrics(GString *s, sig_server *srv)
{
    uint64_t waiting = 0, peak = 0, refused = 0, posted = 0, wakeups = 0;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        sfu_cmd_queue_stats q;
        sfu_worker_queue_stats(srv->workers[i], &q);
        waiting += q.waiting;
        peak = q.peak > peak ? q.peak : peak;
        refused += q.refused;
        posted += q.posted;
        wakeups += q.wakeups;
    }
    metric(s, "sfu_worker_commands_waiting", "gauge",
           "Commands waiting in the workers' queues.", (double)waiting);
    metric(s, "sfu_worker_commands_peak", "gauge",
           "Most commands that ever waited in one worker's queue.", (double)peak);
    metric(s, "sfu_worker_commands_total", "counter", "Commands queued to the workers.",
           (double)posted);
    metric(s, "sfu_worker_command_wakeups_total", "counter",
           "Worker wake-ups for commands (one per batch).", (double)wakeups);
    metric(s, "sfu_worker_commands_refused_total", "counter",
           "Requests answered 503 because a worker's queue was full.", (double)refused);
}

static void answer(metrics_job *job)
{
    sfu_host_stats t;
    sum_stats(job, &t);
    sig_registry_counts c;
    sig_registry_counts_get(job->srv->reg, &c);
    GString *s = g_string_new(NULL);
    metric(s, "sfu_rooms", "gauge", "Rooms with at least one session.", c.rooms);
    metric(s, "sfu_sessions", "gauge", "Sessions (PeerConnections).", c.sessions);
    metric(s, "sfu_participants", "gauge", "Publishing participants.", c.participants);
    metric(s, "sfu_peers", "gauge", "Media transports (ICE agents) alive.", (double)t.peers_live);
    metric(s, "sfu_media_rooms", "gauge", "Forwarding cores alive.", (double)t.rooms_live);
    metric(s, "sfu_buffers_in_use", "gauge", "Packet buffers held.", t.buffers_in_use);
    metric(s, "sfu_buffers_allocated", "gauge",
           "Packet buffers the workers' pools hold, in use or free.", t.buffers_allocated);
    metric(s, "sfu_buffer_pool_grown_total", "counter",
           "Chunks of packet buffers added to the workers' pools.", (double)t.buffer_pool_grown);
    metric(s, "sfu_buffer_pool_refused_total", "counter",
           "Packet buffers refused: a pool at media.buffer_pool_max_packets, or out of memory.",
           (double)t.buffer_pool_refused);
    metric(s, "sfu_dtls_handshakes_ok_total", "counter", "DTLS handshakes completed.",
           (double)t.dtls_ok);
    metric(s, "sfu_dtls_handshakes_failed_total", "counter", "DTLS handshakes failed.",
           (double)t.dtls_failed);
    metric(s, "sfu_packets_in_total", "counter", "Datagrams received.", (double)t.packets_in);
    metric(s, "sfu_packets_out_total", "counter", "Datagrams sent.", (double)t.packets_out);
    labelled_header(s, "sfu_shared_port_packets_total",
                    "Datagrams on the workers' shared UDP ports (media.udp_port), by direction.");
    g_string_append_printf(s, "sfu_shared_port_packets_total{direction=\"out\"} %" G_GUINT64_FORMAT "\n"
                              "sfu_shared_port_packets_total{direction=\"in\"} %" G_GUINT64_FORMAT "\n",
                           t.shared_dgrams_out, t.shared_dgrams_in);
    metric(s, "sfu_shared_port_sessions", "gauge",
           "Sessions whose ICE path is a shared UDP port.", (double)t.shared_sessions);
    metric(s, "sfu_shared_port_checks_total", "counter",
           "Authenticated STUN Binding requests answered on the shared UDP ports.",
           (double)t.shared_checks);
    labelled_header(s, "sfu_shared_port_dropped_total",
                    "Datagrams dropped on the shared UDP ports, by reason.");
    g_string_append_printf(s, "sfu_shared_port_dropped_total{reason=\"unknown_address\"} %" G_GUINT64_FORMAT "\n"
                              "sfu_shared_port_dropped_total{reason=\"bad_stun\"} %" G_GUINT64_FORMAT "\n",
                           t.shared_drop_unknown, t.shared_drop_stun);
    metric(s, "sfu_bytes_in_total", "counter", "Bytes received.", (double)t.bytes_in);
    metric(s, "sfu_bytes_out_total", "counter", "Bytes sent.", (double)t.bytes_out);
    metric(s, "sfu_rtp_forwarded_total", "counter", "RTP packets forwarded to viewers.",
           (double)t.rooms.forwarded);
    metric(s, "sfu_rtp_retransmitted_total", "counter", "Retransmissions sent for NACKs.",
           (double)t.rooms.retransmitted);
    metric(s, "sfu_nacks_sent_total", "counter", "NACKs sent to publishers.",
           (double)t.rooms.nacks_sent);
    metric(s, "sfu_nacks_received_total", "counter", "NACKs received from viewers.",
           (double)t.rooms.nacks_received);
    metric(s, "sfu_keyframe_requests_sent_total", "counter", "PLI and FIR sent to publishers.",
           (double)(t.rooms.plis_sent + t.rooms.firs_sent));
    g_string_append(s, "# HELP sfu_dropped_packets_total Packets dropped, by reason.\n"
                       "# TYPE sfu_dropped_packets_total counter\n");
    for (int i = 0; i < SFU_HOST_DROP_COUNT; i++)
        g_string_append_printf(s, "sfu_dropped_packets_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               host_drop_names[i], t.drops[i]);
    for (int i = 0; i < SFU_DROP_REASON_COUNT; i++)
        g_string_append_printf(s, "sfu_dropped_packets_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               room_drop_names[i], t.rooms.drops[i]);
    relay_metrics(s, job->srv, &t);
    span_metrics(s, job->srv);
    rtcp_metrics(s, &t.rooms);
    kind_metrics(s, &t.rooms);
    http_metrics(s, job->srv->http_counts);
    server_metrics(s, job->srv);
    cluster_metrics(s, job->srv->cluster);
    /* The request's own server, not srv->http: the daemon answers from
     * before sig_http_new has returned, so that pointer may still be unset. */
    connection_metrics(s, sig_request_http(job->req));
    queue_metrics(s, job->srv);
    process_metrics(s);
    sig_response resp = { .status = 200, .content_type = "text/plain; version=0.0.4",
                          .body = s->str, .body_len = s->len };
    sig_http_respond(job->req, &resp);
    g_string_free(s, TRUE);
    g_free(job->per_worker);
    g_free(job);
}

static void collect_on_worker(sig_server *srv, unsigned worker, void *user)
{
    metrics_job *job = user;
    sfu_host_stats_get(srv->hosts[worker], &job->per_worker[worker]);
}

static void collected(sig_server *srv, void *user, bool refused)
{
    (void)srv;
    metrics_job *job = user;
    if (!refused) {
        answer(job);
        return;
    }
    sig_http_respond(job->req, &(sig_response){ .status = 503, .body = SIG_CMD_BUSY_REASON,
                                                .retry_after_s = 1 });
    g_free(job->per_worker);
    g_free(job);
}

void sig_metrics_answer(sig_server *srv, sig_request *req)
{
    metrics_job *job = g_new0(metrics_job, 1);
    job->srv = srv;
    job->req = req;
    job->per_worker = g_new0(sfu_host_stats, srv->nworkers);
    sig_cmd_fanout(srv, collect_on_worker, collected, job);
}
