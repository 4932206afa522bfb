#include "sfu/net/host.h"

#include <stdio.h>
#include <string.h>

#include "sfu/core/demux.h"
#include "sfu/crypto/srtp.h"
#include "sfu/net/log.h"

/* A room pinned to this worker: the forwarding core and its one timer. */
typedef struct hosted_room {
    sfu_host *host;
    char *key;
    sfu_room *core;
    GSource *timer;
    unsigned npeers;
} hosted_room;

struct sfu_host {
    sfu_worker *worker;
    const sfu_host_config *cfg;
    GHashTable *rooms;          /* key -> hosted_room */
    GHashTable *peers;          /* leg id -> sfu_peer */
    sfu_host_stats stats;
};

struct sfu_peer {
    sfu_host *host;
    hosted_room *room;
    sfu_leg_id leg;
    uint32_t participant;
    void *user;
    sfu_ice *ice;
    sfu_dtls *dtls;
    sfu_srtp_session *srtp;
    char profile[32];
    GSource *dtls_timer;
    GSource *fail_idle;         /* pending on_peer_failed */
    /* Sinks wait for the keys: a keyframe sent before the viewer can
     * decrypt it would open the gate for a picture it never gets. */
    unsigned npending_binds;
    struct pending_bind {
        char mid[SFU_MID_MAX];
        uint32_t participant;
    } pending_binds[SFU_MAX_TRACKS];
    const char *fail_reason;
    bool in_room;
    bool dtls_start_pending;    /* DTLS client: ClientHello once ICE connects */
    bool ice_connected_once;    /* from then on, ICE failure is lost consent */
    /* DTLS datagrams made before ICE could carry them: a client's
     * ClientHello can arrive on a checked pair just before its nomination
     * does, and the answer would otherwise wait for the client's
     * retransmission (100 ms or more). Sent when ICE connects. */
    GQueue *dtls_held;
};

static sfu_leg_id next_leg_id(void)
{
    static gint counter;
    return (sfu_leg_id)g_atomic_int_add(&counter, 1) + 1;
}

/* ---- rooms and their timers ---- */

static void drain(sfu_host *host, hosted_room *room);

static gboolean room_timer_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    (void)cb;
    hosted_room *room = data;
    sfu_out *out = sfu_worker_out(room->host->worker);
    sfu_room_handle_timeout(room->core, g_source_get_time(src), out);
    drain(room->host, room);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs room_timer_funcs = { .dispatch = room_timer_dispatch };

static void room_rearm(hosted_room *room)
{
    sfu_time deadline = sfu_room_poll_timeout(room->core);
    g_source_set_ready_time(room->timer, deadline == SFU_TIME_NEVER ? -1 : deadline);
}

static void room_add_stats(sfu_room_stats *sum, const sfu_room_stats *s)
{
    uint64_t *a = (uint64_t *)sum;
    const uint64_t *b = (const uint64_t *)s;
    for (size_t i = 0; i < sizeof *s / sizeof(uint64_t); i++)
        a[i] += b[i];
}

static void room_free(gpointer data)
{
    hosted_room *room = data;
    room_add_stats(&room->host->stats.rooms, sfu_room_stats_get(room->core));
    g_source_destroy(room->timer);
    g_source_unref(room->timer);
    sfu_room_free(room->core);
    g_free(room->key);
    g_free(room);
}

static hosted_room *room_get(sfu_host *host, const char *key)
{
    hosted_room *room = g_hash_table_lookup(host->rooms, key);
    if (room)
        return room;
    sfu_room *core = sfu_room_new(&host->cfg->room);
    if (!core)
        return NULL;
    room = g_new0(hosted_room, 1);
    room->host = host;
    room->key = g_strdup(key);
    room->core = core;
    room->timer = g_source_new(&room_timer_funcs, sizeof(GSource));
    g_source_set_callback(room->timer, NULL, room, NULL);
    g_source_set_ready_time(room->timer, -1);
    g_source_attach(room->timer, sfu_worker_context(host->worker));
    g_hash_table_insert(host->rooms, room->key, room);
    return room;
}

static void room_release(hosted_room *room)
{
    if (--room->npeers == 0)
        g_hash_table_remove(room->host->rooms, room->key);
}

/* ---- egress ---- */

static void send_item(sfu_host *host, const sfu_out_item *item)
{
    sfu_peer *peer = g_hash_table_lookup(host->peers, GUINT_TO_POINTER(item->leg));
    if (!peer || !peer->srtp) {
        host->stats.drops[SFU_HOST_DROP_NO_KEYS]++;
        return;
    }
    uint8_t pkt[SFU_BUF_CAP + SFU_SRTP_MAX_TRAILER_LEN];
    int n = sfu_out_item_flatten(item, pkt, sizeof pkt - SFU_SRTP_MAX_TRAILER_LEN);
    if (n < 0)
        return;
    size_t len = (size_t)n;
    int rc = item->type == SFU_OUT_RTP ? sfu_srtp_session_protect_rtp(peer->srtp, pkt, &len)
                                       : sfu_srtp_session_protect_rtcp(peer->srtp, pkt, &len);
    if (rc != 0 || sfu_ice_send(peer->ice, pkt, len) < 0) {
        host->stats.drops[SFU_HOST_DROP_SEND_FAILED]++;
        return;
    }
    host->stats.packets_out++;
    host->stats.bytes_out += len;
}

static void peer_fail(sfu_peer *peer, const char *reason);

/* Sends what `room`'s core asked for, then re-arms its timer, which the
 * input may have moved. */
static void drain(sfu_host *host, hosted_room *room)
{
    sfu_out *out = sfu_worker_out(host->worker);
    for (uint32_t i = 0; i < out->count; i++) {
        const sfu_out_item *item = &out->items[i];
        switch (item->type) {
        case SFU_OUT_RTP:
        case SFU_OUT_RTCP:
            send_item(host, item);
            break;
        case SFU_OUT_LEG_EXPIRED: {
            sfu_peer *peer = g_hash_table_lookup(host->peers, GUINT_TO_POINTER(item->leg));
            if (peer)
                peer_fail(peer, "liveness timeout (no media, no consent)");
            break;
        }
        case SFU_OUT_ACTIVE_SPEAKER:
            if (room && host->cfg->on_active_speaker)
                host->cfg->on_active_speaker(host->cfg->owner, room->key, item->participant);
            break;
        }
    }
    sfu_out_reset(out);
    room_rearm(room);
}

/* ---- failures are reported from an idle callback, never re-entrantly ---- */

static gboolean peer_fail_dispatch(gpointer data)
{
    sfu_peer *peer = data;
    g_source_unref(peer->fail_idle);
    peer->fail_idle = NULL;
    peer->host->cfg->on_peer_failed(peer->host->cfg->owner, peer, peer->fail_reason);
    return G_SOURCE_REMOVE;
}

static void peer_fail(sfu_peer *peer, const char *reason)
{
    if (peer->fail_idle)
        return;
    peer->fail_reason = reason;
    peer->fail_idle = g_idle_source_new();
    g_source_set_callback(peer->fail_idle, peer_fail_dispatch, peer, NULL);
    g_source_attach(peer->fail_idle, sfu_worker_context(peer->host->worker));
}

/* ---- DTLS ---- */

#define DTLS_HELD_MAX 16        /* a handshake flight is a handful of datagrams */

static void dtls_flush(sfu_peer *peer)
{
    const uint8_t *dgram;
    size_t len;
    while ((dgram = sfu_dtls_poll_output(peer->dtls, &len))) {
        if (sfu_ice_state_get(peer->ice) == SFU_ICE_CONNECTED) {
            sfu_ice_send(peer->ice, dgram, len);
            continue;
        }
        if (!peer->dtls_held)
            peer->dtls_held = g_queue_new();
        if (g_queue_get_length(peer->dtls_held) < DTLS_HELD_MAX)
            g_queue_push_tail(peer->dtls_held, g_bytes_new(dgram, len));
    }
}

static void dtls_send_held(sfu_peer *peer)
{
    GBytes *b;
    while (peer->dtls_held && (b = g_queue_pop_head(peer->dtls_held))) {
        gsize len;
        const uint8_t *d = g_bytes_get_data(b, &len);
        sfu_ice_send(peer->ice, d, len);
        g_bytes_unref(b);
    }
}

static void drop_dtls_timer(sfu_peer *peer)
{
    if (!peer->dtls_timer)
        return;
    g_source_destroy(peer->dtls_timer);
    g_source_unref(peer->dtls_timer);
    peer->dtls_timer = NULL;
}

/* After the handshake a lost final flight is repaired by the client's
 * retransmission, answered on input: the timer goes, and with it one source
 * per peer that every main-loop iteration would check. */
static void dtls_rearm(sfu_peer *peer)
{
    if (!peer->dtls_timer)
        return;
    if (sfu_dtls_get_state(peer->dtls) >= SFU_DTLS_CONNECTED) {
        drop_dtls_timer(peer);
        return;
    }
    sfu_time now = g_get_monotonic_time();
    sfu_time deadline = sfu_dtls_poll_timeout(peer->dtls, now);
    g_source_set_ready_time(peer->dtls_timer, deadline == SFU_TIME_NEVER ? -1 : deadline);
}

static void apply_pending_binds(sfu_peer *peer)
{
    sfu_time now = g_get_monotonic_time();
    for (unsigned i = 0; i < peer->npending_binds; i++)
        sfu_room_bind(peer->room->core, peer->leg, peer->pending_binds[i].mid,
                      peer->pending_binds[i].participant, now, sfu_worker_out(peer->host->worker));
    peer->npending_binds = 0;
    drain(peer->host, peer->room);
}

static void dtls_check_state(sfu_peer *peer)
{
    sfu_dtls_state st = sfu_dtls_get_state(peer->dtls);
    if (st == SFU_DTLS_CONNECTED && !peer->srtp) {
        sfu_srtp_keys keys;
        if (sfu_dtls_get_srtp_keys(peer->dtls, &keys) == 0)
            peer->srtp = sfu_srtp_session_new(&keys);
        g_strlcpy(peer->profile, sfu_srtp_profile_name(keys.profile), sizeof peer->profile);
        memset(&keys, 0, sizeof keys);  /* no key material left on the stack */
        if (!peer->srtp) {
            peer->host->stats.dtls_failed++;
            peer_fail(peer, "srtp setup failed");
            return;
        }
        apply_pending_binds(peer);
        peer->host->stats.dtls_ok++;
        sfu_log(SFU_LOG_INFO, "dtls.connected", "leg=%u profile=%s", peer->leg, peer->profile);
    } else if (st == SFU_DTLS_FAILED || (st == SFU_DTLS_CLOSED && !peer->srtp)) {
        peer->host->stats.dtls_failed++;
        char reason[256];   /* OpenSSL's words: through the redaction */
        sfu_log(SFU_LOG_INFO, "dtls.failed", "leg=%u reason=%s", peer->leg,
                sfu_log_text(reason, sizeof reason, sfu_dtls_failure(peer->dtls)));
        peer_fail(peer, "dtls handshake failed");
    } else if (st == SFU_DTLS_CLOSED) {
        peer_fail(peer, "dtls closed by peer");
    }
}

static void dtls_start(sfu_peer *peer)
{
    peer->dtls_start_pending = false;
    sfu_dtls_start(peer->dtls);
    dtls_flush(peer);
    dtls_rearm(peer);
}

static gboolean dtls_timer_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    (void)src, (void)cb;
    sfu_peer *peer = data;
    sfu_dtls_handle_timeout(peer->dtls);
    dtls_flush(peer);
    dtls_check_state(peer);
    dtls_rearm(peer);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs dtls_timer_funcs = { .dispatch = dtls_timer_dispatch };

/* ---- ingress ---- */

static void handle_rtp(sfu_peer *peer, const uint8_t *data, size_t len, sfu_time now)
{
    sfu_host *host = peer->host;
    if (len > SFU_BUF_CAP)
        return;
    sfu_buf *buf = sfu_buf_alloc(sfu_worker_pool(host->worker));
    if (!buf) {
        host->stats.drops[SFU_HOST_DROP_POOL_EMPTY]++;
        return;
    }
    memcpy(buf->data, data, len);
    size_t plain = len;
    int rc = sfu_srtp_session_unprotect_rtp(peer->srtp, buf->data, &plain);
    if (rc == 0) {
        buf->len = (uint16_t)plain;
        sfu_room_handle_rtp(peer->room->core, peer->leg, buf, now, sfu_worker_out(host->worker));
    } else {
        host->stats.drops[rc == -SFU_SRTP_EAUTH     ? SFU_HOST_DROP_SRTP_AUTH
                          : rc == -SFU_SRTP_EREPLAY ? SFU_HOST_DROP_SRTP_REPLAY
                                                    : SFU_HOST_DROP_SRTP_OTHER]++;
    }
    sfu_buf_unref(buf);
}

static void handle_rtcp(sfu_peer *peer, const uint8_t *data, size_t len, sfu_time now)
{
    sfu_host *host = peer->host;
    uint8_t pkt[SFU_BUF_CAP];
    if (len > sizeof pkt)
        return;
    memcpy(pkt, data, len);
    size_t plain = len;
    int rc = sfu_srtp_session_unprotect_rtcp(peer->srtp, pkt, &plain);
    if (rc == 0) {
        sfu_room_handle_rtcp(peer->room->core, peer->leg, pkt, plain, now,
                             sfu_worker_out(host->worker));
    } else {
        host->stats.drops[rc == -SFU_SRTP_EAUTH     ? SFU_HOST_DROP_SRTP_AUTH
                          : rc == -SFU_SRTP_EREPLAY ? SFU_HOST_DROP_SRTP_REPLAY
                                                    : SFU_HOST_DROP_SRTP_OTHER]++;
    }
}

static void on_ice_data(void *user, uint8_t *data, size_t len)
{
    sfu_peer *peer = user;
    sfu_host *host = peer->host;
    host->stats.packets_in++;
    host->stats.bytes_in += len;
    sfu_demux_kind kind = sfu_demux_classify(data, len);
    switch (kind) {
    case SFU_DEMUX_DTLS:
        if (!peer->dtls)
            return;
        sfu_dtls_handle_input(peer->dtls, data, len);
        dtls_flush(peer);
        dtls_check_state(peer);
        dtls_rearm(peer);
        return;
    case SFU_DEMUX_RTP:
    case SFU_DEMUX_RTCP: {
        if (!peer->srtp || !peer->in_room) {
            host->stats.drops[SFU_HOST_DROP_NO_KEYS]++;
            return;
        }
        sfu_time now = g_get_monotonic_time();
        if (kind == SFU_DEMUX_RTCP)
            handle_rtcp(peer, data, len, now);
        else
            handle_rtp(peer, data, len, now);
        drain(host, peer->room);
        return;
    }
    default:
        host->stats.drops[SFU_HOST_DROP_NOT_RTP]++;
        return;
    }
}

/* libnice's consent (RFC 7675) is the leg's liveness while it holds; when it
 * lapses the core's liveness timer runs from the last answered check, so the
 * session gets the whole grace (media.liveness_timeout_ms) for an ICE restart
 * instead of ending when libnice notices. */
static void report_consent(sfu_peer *peer, bool held, sfu_time last_at)
{
    if (!peer->in_room)
        return;
    sfu_room_handle_consent(peer->room->core, peer->leg, held, last_at);
    room_rearm(peer->room);
}

static void on_ice_state(void *user, sfu_ice_state state)
{
    sfu_peer *peer = user;
    sfu_time now = g_get_monotonic_time();
    if (state == SFU_ICE_FAILED) {
        if (!peer->ice_connected_once) {
            peer_fail(peer, "ice failed");
            return;
        }
        sfu_log(SFU_LOG_INFO, "ice.consent_lost", "leg=%u", peer->leg);
        report_consent(peer, false, now - SFU_ICE_CONSENT_TIMEOUT_US);
        return;
    }
    if (state != SFU_ICE_CONNECTED)
        return;
    peer->ice_connected_once = true;
    report_consent(peer, true, now);
    dtls_send_held(peer);
    if (peer->dtls_start_pending)
        dtls_start(peer);
    if (peer->host->cfg->on_peer_connected) {
        char remote[80];
        sfu_ice_remote_address(peer->ice, remote, sizeof remote);
        peer->host->cfg->on_peer_connected(peer->host->cfg->owner, peer, remote);
    }
}

/* Sends already follow the new pair (ice.c); what the viewer missed while
 * its old path died needs a keyframe to repair. */
static void on_ice_path(void *user)
{
    sfu_peer *peer = user;
    if (!peer->in_room)
        return;
    sfu_log(SFU_LOG_INFO, "ice.path_changed", "leg=%u", peer->leg);
    sfu_room_handle_path_changed(peer->room->core, peer->leg, g_get_monotonic_time(),
                                 sfu_worker_out(peer->host->worker));
    drain(peer->host, peer->room);
}

/* ---- peers ---- */

sfu_peer *sfu_peer_new(sfu_host *host, const char *room_key, uint32_t participant, void *user,
                       char *err, size_t errlen)
{
    sfu_peer *peer = g_new0(sfu_peer, 1);
    peer->host = host;
    peer->user = user;
    peer->participant = participant;
    peer->leg = next_leg_id();
    peer->room = room_get(host, room_key);
    if (!peer->room) {
        snprintf(err, errlen, "out of memory");
        g_free(peer);
        return NULL;
    }
    peer->room->npeers++;
    static const sfu_ice_callbacks cb = { .on_data = on_ice_data, .on_state = on_ice_state,
                                          .on_path = on_ice_path };
    peer->ice = sfu_ice_new(sfu_worker_context(host->worker), &host->cfg->ice, &cb, peer, err,
                            errlen);
    if (!peer->ice) {
        sfu_peer_free(peer);
        return NULL;
    }
    g_hash_table_insert(host->peers, GUINT_TO_POINTER(peer->leg), peer);
    host->stats.peers_live++;
    return peer;
}

int sfu_peer_start(sfu_peer *peer, const sfu_peer_remote *remote, const sfu_leg_desc *desc,
                   char *err, size_t errlen)
{
    sfu_host *host = peer->host;
    if (sfu_ice_set_remote_credentials(peer->ice, remote->ice_ufrag, remote->ice_pwd) != 0) {
        snprintf(err, errlen, "bad ICE credentials");
        return -SFU_EINVAL;
    }
    peer->dtls = sfu_dtls_new(host->cfg->dtls, remote->dtls_role, remote->fp_algo, remote->fp,
                              remote->fp_len);
    if (!peer->dtls) {
        snprintf(err, errlen, "unsupported DTLS fingerprint");
        return -SFU_EUNSUPPORTED;
    }
    peer->dtls_timer = g_source_new(&dtls_timer_funcs, sizeof(GSource));
    g_source_set_callback(peer->dtls_timer, NULL, peer, NULL);
    g_source_attach(peer->dtls_timer, sfu_worker_context(host->worker));
    /* As DTLS client, the first flight waits for a selected pair: sent
     * earlier it would be lost and wait out the retransmission backoff. */
    peer->dtls_start_pending = remote->dtls_role == SFU_DTLS_CLIENT;
    if (peer->dtls_start_pending && sfu_ice_state_get(peer->ice) == SFU_ICE_CONNECTED)
        dtls_start(peer);
    dtls_rearm(peer);
    int rc = sfu_room_add_leg(peer->room->core, peer->leg, peer->participant, desc,
                              g_get_monotonic_time());
    if (rc != 0) {
        snprintf(err, errlen, "cannot add media: %s", sfu_strerror(rc));
        return rc;
    }
    peer->in_room = true;
    if (sfu_ice_state_get(peer->ice) == SFU_ICE_CONNECTED)
        sfu_room_handle_consent(peer->room->core, peer->leg, true, g_get_monotonic_time());
    drain(host, peer->room);
    return 0;
}

int sfu_peer_update(sfu_peer *peer, const sfu_leg_desc *desc)
{
    int rc = sfu_room_update_leg(peer->room->core, peer->leg, desc, g_get_monotonic_time());
    drain(peer->host, peer->room);
    return rc;
}

int sfu_peer_bind(sfu_peer *peer, const char *mid, uint32_t participant)
{
    if (!peer->srtp) {
        if (peer->npending_binds == SFU_MAX_TRACKS)
            return -SFU_ELIMIT;
        struct pending_bind *b = &peer->pending_binds[peer->npending_binds++];
        g_strlcpy(b->mid, mid, sizeof b->mid);
        b->participant = participant;
        return 0;
    }
    int rc = sfu_room_bind(peer->room->core, peer->leg, mid, participant, g_get_monotonic_time(),
                           sfu_worker_out(peer->host->worker));
    drain(peer->host, peer->room);
    return rc;
}

void sfu_peer_free(sfu_peer *peer)
{
    if (!peer)
        return;
    sfu_host *host = peer->host;
    if (peer->in_room) {
        sfu_room_remove_leg(peer->room->core, peer->leg, g_get_monotonic_time(),
                            sfu_worker_out(host->worker));
        drain(host, peer->room);
    }
    if (peer->fail_idle) {
        g_source_destroy(peer->fail_idle);
        g_source_unref(peer->fail_idle);
    }
    drop_dtls_timer(peer);
    if (g_hash_table_remove(host->peers, GUINT_TO_POINTER(peer->leg)))
        host->stats.peers_live--;
    sfu_srtp_session_free(peer->srtp);
    if (peer->dtls_held)
        g_queue_free_full(peer->dtls_held, (GDestroyNotify)g_bytes_unref);
    sfu_dtls_free(peer->dtls);
    sfu_ice_free(peer->ice);
    room_release(peer->room);
    g_free(peer);
}

void *sfu_peer_user(const sfu_peer *peer) { return peer->user; }

uint32_t sfu_peer_track_bitrate(const sfu_peer *peer, const char *mid)
{
    return peer->in_room ? sfu_room_track_bitrate(peer->room->core, peer->leg, mid) : 0;
}

int sfu_peer_track_layers(const sfu_peer *peer, const char *mid, sfu_room_layer_info *layers,
                          unsigned cap)
{
    if (!peer->in_room)
        return -SFU_ENOTFOUND;
    return sfu_room_track_layers(peer->room->core, peer->leg, mid, g_get_monotonic_time(), layers,
                                 cap);
}

int sfu_peer_sink_layer(const sfu_peer *peer, const char *mid, sfu_room_sink_layer *info)
{
    return peer->in_room ? sfu_room_sink_layer_get(peer->room->core, peer->leg, mid, info)
                         : -SFU_ENOTFOUND;
}

int sfu_peer_set_max_layer(sfu_peer *peer, const char *mid, int layer)
{
    if (!peer->in_room)
        return -SFU_ENOTFOUND;
    int rc = sfu_room_set_max_layer(peer->room->core, peer->leg, mid, layer, g_get_monotonic_time(),
                                    sfu_worker_out(peer->host->worker));
    drain(peer->host, peer->room);
    return rc;
}

sfu_leg_id sfu_peer_leg(const sfu_peer *peer) { return peer->leg; }
sfu_ice *sfu_peer_ice(sfu_peer *peer) { return peer->ice; }
const char *sfu_peer_srtp_profile(const sfu_peer *peer) { return peer->profile; }

/* ---- the host ---- */

sfu_host *sfu_host_new(sfu_worker *worker, const sfu_host_config *cfg)
{
    sfu_host *host = g_new0(sfu_host, 1);
    host->worker = worker;
    host->cfg = cfg;
    host->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, room_free);
    host->peers = g_hash_table_new(g_direct_hash, g_direct_equal);
    return host;
}

void sfu_host_free(sfu_host *host)
{
    if (!host)
        return;
    GList *peers = g_hash_table_get_values(host->peers);
    for (GList *l = peers; l; l = l->next)
        sfu_peer_free(l->data);
    g_list_free(peers);
    g_hash_table_destroy(host->peers);
    g_hash_table_destroy(host->rooms);
    g_free(host);
}

sfu_worker *sfu_host_worker(sfu_host *host) { return host->worker; }

void sfu_host_stats_get(sfu_host *host, sfu_host_stats *out)
{
    *out = host->stats;
    out->rooms_live = g_hash_table_size(host->rooms);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, host->rooms);
    while (g_hash_table_iter_next(&it, NULL, &value))
        room_add_stats(&out->rooms, sfu_room_stats_get(((hosted_room *)value)->core));
    out->buffers_in_use = sfu_buf_pool_in_use(sfu_worker_pool(host->worker));
}
