#include "sfu/net/peer.h"

#include <stdio.h>
#include <string.h>

#include "sfu/core/demux.h"
#include "sfu/crypto/srtp.h"
#include "sfu/net/host.h"
#include "sfu/net/log.h"
#include "sfu/net/relay_sock.h"

struct sfu_peer {
    sfu_host *host;
    sfu_room_driver *room;
    sfu_leg_id leg;
    uint32_t participant;
    void *user;
    sfu_ice *ice;               /* NULL on a relay leg */
    sfu_relay_sock *relay;      /* a relay leg's transport (relay_sock.h), else NULL */
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
    /* Connected: the first authenticated SRTP or SRTCP from the client shows
     * it finished the handshake, and the OpenSSL session is retired then
     * (sfu_dtls_retire: about 40 KB a PeerConnection). */
    bool dtls_retire_due;
    bool ice_connected_once;    /* from then on, ICE failure is lost consent */
    /* DTLS datagrams made before ICE could carry them: a client's
     * ClientHello can arrive on a checked pair just before its nomination
     * does, and the answer would otherwise wait for the client's
     * retransmission (100 ms or more). Sent when ICE connects. */
    GQueue *dtls_held;
};

static sfu_host_stats *stats(sfu_peer *peer) { return sfu_host_stats_mut(peer->host); }
static sfu_room *core(const sfu_peer *peer) { return sfu_room_driver_core(peer->room); }
static sfu_out *out_of(sfu_peer *peer) { return sfu_worker_out(sfu_host_worker(peer->host)); }

/* ---- egress ---- */

static int protect(sfu_peer *peer, const sfu_out_item *item, uint8_t *dst, size_t cap,
                   size_t *len)
{
    int n = sfu_out_item_flatten(item, dst, cap - SFU_SRTP_MAX_TRAILER_LEN);
    if (n < 0)
        return n;
    *len = (size_t)n;
    return item->type == SFU_OUT_RTP ? sfu_srtp_session_protect_rtp(peer->srtp, dst, len)
                                     : sfu_srtp_session_protect_rtcp(peer->srtp, dst, len);
}

void sfu_peer_prefetch(const sfu_peer *peer)
{
    if (peer->srtp)
        sfu_srtp_session_prefetch_out(peer->srtp);
    if (peer->ice)
        sfu_ice_prefetch(peer->ice);
}

/* Into the worker's egress batch when the pair is plain UDP (sent at the
 * end of the wake-up, egress.h), else through libnice at once. */
void sfu_peer_send_out(sfu_peer *peer, const sfu_out_item *item)
{
    if (!peer || !peer->srtp) {
        if (peer)
            stats(peer)->drops[SFU_HOST_DROP_NO_KEYS]++;
        return;
    }
    sfu_host_stats *st = stats(peer);
    size_t len = 0;
    int fd;
    const struct sockaddr *to;
    socklen_t tolen;
    int target = peer->relay ? sfu_relay_sock_send_target(peer->relay, &fd, &to, &tolen)
                             : sfu_ice_send_target(peer->ice, &fd, &to, &tolen);
    if (target == 0) {
        sfu_egress *eg = sfu_worker_egress(sfu_host_worker(peer->host));
        uint8_t *slot = sfu_egress_reserve(eg, fd, to, tolen);
        int rc = protect(peer, item, slot, SFU_EGRESS_DGRAM_CAP, &len);
        sfu_egress_commit(eg, rc == 0 ? len : 0);
        if (rc != 0) {
            st->drops[SFU_HOST_DROP_SEND_FAILED]++;
            return;
        }
    } else {
        uint8_t pkt[SFU_BUF_CAP + SFU_SRTP_MAX_TRAILER_LEN];
        if (!peer->ice || protect(peer, item, pkt, sizeof pkt, &len) != 0 ||
            sfu_ice_send(peer->ice, pkt, len) < 0) {
            st->drops[SFU_HOST_DROP_SEND_FAILED]++;
            return;
        }
    }
    st->packets_out++;
    st->bytes_out += len;
    if (peer->relay) {
        st->relay_packets_out++;
        st->relay_bytes_out += len;
    }
}

/* ---- failures are reported from an idle callback, never re-entrantly ---- */

static gboolean peer_fail_dispatch(gpointer data)
{
    sfu_peer *peer = data;
    g_source_unref(peer->fail_idle);
    peer->fail_idle = NULL;
    sfu_host_cfg(peer->host)->on_peer_failed(sfu_host_cfg(peer->host)->owner, peer, peer->fail_reason);
    return G_SOURCE_REMOVE;
}

void sfu_peer_fail(sfu_peer *peer, const char *reason)
{
    if (peer->fail_idle)
        return;
    peer->fail_reason = reason;
    peer->fail_idle = g_idle_source_new();
    g_source_set_callback(peer->fail_idle, peer_fail_dispatch, peer, NULL);
    g_source_attach(peer->fail_idle, sfu_worker_context(sfu_host_worker(peer->host)));
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
    sfu_time now = sfu_host_now(peer->host);
    sfu_time deadline = sfu_dtls_poll_timeout(peer->dtls, now);
    g_source_set_ready_time(peer->dtls_timer, deadline == SFU_TIME_NEVER ? -1 : deadline);
}

static void apply_pending_binds(sfu_peer *peer)
{
    sfu_time now = sfu_host_now(peer->host);
    for (unsigned i = 0; i < peer->npending_binds; i++)
        sfu_room_bind(core(peer), peer->leg, peer->pending_binds[i].mid,
                      peer->pending_binds[i].participant, now, out_of(peer));
    peer->npending_binds = 0;
    sfu_room_driver_drain(peer->room);
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
            stats(peer)->dtls_failed++;
            sfu_peer_fail(peer, "srtp setup failed");
            return;
        }
        apply_pending_binds(peer);
        peer->dtls_retire_due = true;
        stats(peer)->dtls_ok++;
        sfu_log(SFU_LOG_INFO, "dtls.connected", "leg=%u profile=%s", peer->leg, peer->profile);
    } else if (st == SFU_DTLS_FAILED || (st == SFU_DTLS_CLOSED && !peer->srtp)) {
        stats(peer)->dtls_failed++;
        char reason[256];   /* OpenSSL's words: through the redaction */
        sfu_log(SFU_LOG_INFO, "dtls.failed", "leg=%u reason=%s", peer->leg,
                sfu_log_text(reason, sizeof reason, sfu_dtls_failure(peer->dtls)));
        sfu_peer_fail(peer, "dtls handshake failed");
    } else if (st == SFU_DTLS_CLOSED) {
        sfu_peer_fail(peer, "dtls closed by peer");
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

/* The client sent media with the keys: it has our last flight, so the
 * handshake state can go. Tried again later only while output was queued. */
static void dtls_retire(sfu_peer *peer)
{
    peer->dtls_retire_due = sfu_dtls_retire(peer->dtls) == -SFU_ESTATE &&
                            sfu_dtls_get_state(peer->dtls) == SFU_DTLS_CONNECTED &&
                            !sfu_dtls_retired(peer->dtls);
}

static void handle_rtp(sfu_peer *peer, const uint8_t *data, size_t len, sfu_time now)
{
    sfu_host *host = peer->host;
    if (len > SFU_BUF_CAP)
        return;
    sfu_buf *buf = sfu_buf_alloc(sfu_worker_pool(sfu_host_worker(host)));
    if (!buf) {
        stats(peer)->drops[SFU_HOST_DROP_POOL_EMPTY]++;
        return;
    }
    memcpy(buf->data, data, len);
    size_t plain = len;
    int rc = sfu_srtp_session_unprotect_rtp(peer->srtp, buf->data, &plain);
    if (rc == 0) {
        if (peer->dtls_retire_due)
            dtls_retire(peer);
        buf->len = (uint16_t)plain;
        sfu_room_handle_rtp(core(peer), peer->leg, buf, now, out_of(peer));
    } else {
        stats(peer)->drops[rc == -SFU_SRTP_EAUTH     ? SFU_HOST_DROP_SRTP_AUTH
                          : rc == -SFU_SRTP_EREPLAY ? SFU_HOST_DROP_SRTP_REPLAY
                                                    : SFU_HOST_DROP_SRTP_OTHER]++;
    }
    sfu_buf_unref(buf);
}

static void handle_rtcp(sfu_peer *peer, const uint8_t *data, size_t len, sfu_time now)
{
    uint8_t pkt[SFU_BUF_CAP];
    if (len > sizeof pkt)
        return;
    memcpy(pkt, data, len);
    size_t plain = len;
    int rc = sfu_srtp_session_unprotect_rtcp(peer->srtp, pkt, &plain);
    if (rc == 0) {
        if (peer->dtls_retire_due)
            dtls_retire(peer);
        sfu_room_handle_rtcp(core(peer), peer->leg, pkt, plain, now,
                             out_of(peer));
    } else {
        stats(peer)->drops[rc == -SFU_SRTP_EAUTH     ? SFU_HOST_DROP_SRTP_AUTH
                          : rc == -SFU_SRTP_EREPLAY ? SFU_HOST_DROP_SRTP_REPLAY
                                                    : SFU_HOST_DROP_SRTP_OTHER]++;
    }
}

static void on_ice_data(void *user, uint8_t *data, size_t len)
{
    sfu_peer *peer = user;
    stats(peer)->packets_in++;
    stats(peer)->bytes_in += len;
    if (peer->relay) {
        stats(peer)->relay_packets_in++;
        stats(peer)->relay_bytes_in += len;
    }
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
            stats(peer)->drops[SFU_HOST_DROP_NO_KEYS]++;
            return;
        }
        sfu_time now = sfu_host_now(peer->host);
        if (kind == SFU_DEMUX_RTCP)
            handle_rtcp(peer, data, len, now);
        else
            handle_rtp(peer, data, len, now);
        sfu_room_driver_drain(peer->room);
        return;
    }
    default:
        stats(peer)->drops[SFU_HOST_DROP_NOT_RTP]++;
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
    sfu_room_handle_consent(core(peer), peer->leg, held, last_at);
    sfu_room_driver_rearm(peer->room);
}

static void on_ice_state(void *user, sfu_ice_state state)
{
    sfu_peer *peer = user;
    sfu_time now = sfu_host_now(peer->host);
    if (state == SFU_ICE_FAILED) {
        if (!peer->ice_connected_once) {
            sfu_peer_fail(peer, "ice failed");
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
    if (sfu_host_cfg(peer->host)->on_peer_connected) {
        char remote[80];
        sfu_ice_remote_address(peer->ice, remote, sizeof remote);
        sfu_host_cfg(peer->host)->on_peer_connected(sfu_host_cfg(peer->host)->owner, peer, remote);
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
    sfu_room_handle_path_changed(core(peer), peer->leg, sfu_host_now(peer->host),
                                 out_of(peer));
    sfu_room_driver_drain(peer->room);
}

/* ---- peers ---- */

/* The peer without a transport: its room and its slot. */
static sfu_peer *peer_alloc(sfu_host *host, const char *room_key, uint32_t participant,
                            void *user, char *err, size_t errlen)
{
    sfu_peer *peer = g_new0(sfu_peer, 1);
    peer->host = host;
    peer->user = user;
    peer->participant = participant;
    peer->room = sfu_host_room_acquire(host, room_key);
    if (!peer->room) {
        snprintf(err, errlen, "out of memory");
        g_free(peer);
        return NULL;
    }
    peer->leg = sfu_host_attach_peer(host, peer);
    if (!peer->leg) {
        snprintf(err, errlen, "too many peers on this worker");
        sfu_peer_free(peer);
        return NULL;
    }
    return peer;
}

sfu_peer *sfu_peer_new(sfu_host *host, const char *room_key, uint32_t participant, void *user,
                       char *err, size_t errlen)
{
    sfu_peer *peer = peer_alloc(host, room_key, participant, user, err, errlen);
    if (!peer)
        return NULL;
    static const sfu_ice_callbacks cb = { .on_data = on_ice_data, .on_state = on_ice_state,
                                          .on_path = on_ice_path };
    peer->ice = sfu_ice_new(sfu_worker_context(sfu_host_worker(host)), &sfu_host_cfg(host)->ice,
                            &cb, peer, err, errlen);
    if (!peer->ice) {
        sfu_peer_free(peer);
        return NULL;
    }
    sfu_ice_use_worker(peer->ice, sfu_host_worker(host));
    if (sfu_host_shared_port(host))
        sfu_ice_use_shared_port(peer->ice, sfu_host_shared_port(host));
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
    peer->dtls = sfu_dtls_new(sfu_host_cfg(host)->dtls, remote->dtls_role, remote->fp_algo, remote->fp,
                              remote->fp_len);
    if (!peer->dtls) {
        snprintf(err, errlen, "unsupported DTLS fingerprint");
        return -SFU_EUNSUPPORTED;
    }
    peer->dtls_timer = g_source_new(&dtls_timer_funcs, sizeof(GSource));
    g_source_set_callback(peer->dtls_timer, NULL, peer, NULL);
    g_source_attach(peer->dtls_timer, sfu_worker_context(sfu_host_worker(host)));
    /* As DTLS client, the first flight waits for a selected pair: sent
     * earlier it would be lost and wait out the retransmission backoff. */
    peer->dtls_start_pending = remote->dtls_role == SFU_DTLS_CLIENT;
    if (peer->dtls_start_pending && sfu_ice_state_get(peer->ice) == SFU_ICE_CONNECTED)
        dtls_start(peer);
    dtls_rearm(peer);
    int rc = sfu_room_add_leg(core(peer), peer->leg, peer->participant, desc,
                              sfu_host_now(peer->host));
    if (rc != 0) {
        snprintf(err, errlen, "cannot add media: %s", sfu_strerror(rc));
        return rc;
    }
    peer->in_room = true;
    if (sfu_ice_state_get(peer->ice) == SFU_ICE_CONNECTED)
        sfu_room_handle_consent(core(peer), peer->leg, true, sfu_host_now(peer->host));
    sfu_room_driver_drain(peer->room);
    return 0;
}

int sfu_peer_update(sfu_peer *peer, const sfu_leg_desc *desc)
{
    int rc = sfu_room_update_leg(core(peer), peer->leg, desc, sfu_host_now(peer->host));
    sfu_room_driver_drain(peer->room);
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
    int rc = sfu_room_bind(core(peer), peer->leg, mid, participant, sfu_host_now(peer->host),
                           out_of(peer));
    sfu_room_driver_drain(peer->room);
    return rc;
}

void sfu_peer_free(sfu_peer *peer)
{
    if (!peer)
        return;
    sfu_host *host = peer->host;
    if (peer->in_room) {
        sfu_room_remove_leg(core(peer), peer->leg, sfu_host_now(peer->host),
                            out_of(peer));
        sfu_room_driver_drain(peer->room);
    }
    if (peer->fail_idle) {
        g_source_destroy(peer->fail_idle);
        g_source_unref(peer->fail_idle);
    }
    drop_dtls_timer(peer);
    if (peer->leg)
        sfu_host_detach_peer(host, peer->leg);
    sfu_srtp_session_free(peer->srtp);
    if (peer->dtls_held)
        g_queue_free_full(peer->dtls_held, (GDestroyNotify)g_bytes_unref);
    sfu_dtls_free(peer->dtls);
    sfu_ice_free(peer->ice);
    if (peer->relay) {
        sfu_relay_sock_free(peer->relay);
        sfu_host_stats_mut(host)->relay_legs--;
    }
    sfu_host_room_release(host, peer->room);
    g_free(peer);
}

void *sfu_peer_user(const sfu_peer *peer) { return peer->user; }

uint32_t sfu_peer_track_bitrate(const sfu_peer *peer, const char *mid)
{
    return peer->in_room ? sfu_room_track_bitrate(core(peer), peer->leg, mid) : 0;
}

int sfu_peer_track_layers(const sfu_peer *peer, const char *mid, sfu_room_layer_info *layers,
                          unsigned cap)
{
    if (!peer->in_room)
        return -SFU_ENOTFOUND;
    return sfu_room_track_layers(core(peer), peer->leg, mid, sfu_host_now(peer->host), layers, cap);
}

int sfu_peer_source_layers(const sfu_peer *peer, uint32_t participant, sfu_kind kind,
                           sfu_layer_desc *out, unsigned cap)
{
    return peer->room ? sfu_room_source_layers(core(peer), participant, kind, out, cap) : -SFU_ENOTFOUND;
}

int sfu_peer_sink_layer(const sfu_peer *peer, const char *mid, sfu_room_sink_layer *info)
{
    return peer->in_room ? sfu_room_sink_layer_get(core(peer), peer->leg, mid, info) : -SFU_ENOTFOUND;
}

unsigned sfu_peer_audio_slots(const sfu_peer *peer, sfu_room_audio_slot *out, unsigned cap)
{
    return peer->in_room ? sfu_room_audio_slots(core(peer), peer->leg, out, cap) : 0;
}

int sfu_peer_set_max_layer(sfu_peer *peer, const char *mid, int layer)
{
    if (!peer->in_room)
        return -SFU_ENOTFOUND;
    int rc = sfu_room_set_max_layer(core(peer), peer->leg, mid, layer, sfu_host_now(peer->host),
                                    sfu_worker_out(sfu_host_worker(peer->host)));
    sfu_room_driver_drain(peer->room);
    return rc;
}

sfu_leg_id sfu_peer_leg(const sfu_peer *peer) { return peer->leg; }
sfu_ice *sfu_peer_ice(sfu_peer *peer) { return peer->ice; }
const char *sfu_peer_srtp_profile(const sfu_peer *peer) { return peer->profile; }


/* ---- relay legs (relay_sock.h): keyed by the nodes, no ICE, no DTLS ---- */

static void on_relay_error(void *user, const char *reason)
{
    sfu_peer *peer = user;
    sfu_log(SFU_LOG_INFO, "relay.refused", "leg=%u", peer->leg);
    sfu_peer_fail(peer, reason);
}

sfu_peer *sfu_peer_new_relay(sfu_host *host, const char *room_key, uint32_t participant,
                             void *user, char *err, size_t errlen)
{
    sfu_peer *peer = peer_alloc(host, room_key, participant, user, err, errlen);
    if (!peer)
        return NULL;
    static const sfu_relay_sock_callbacks cb = { .on_data = on_ice_data,
                                                 .on_error = on_relay_error };
    peer->relay = sfu_relay_sock_new(sfu_host_worker(host), &sfu_host_cfg(host)->ice, &cb, peer,
                                     err, errlen);
    if (!peer->relay) {
        sfu_peer_free(peer);
        return NULL;
    }
    sfu_host_stats_mut(host)->relay_legs++;
    return peer;
}

bool sfu_peer_is_relay(const sfu_peer *peer) { return peer->relay != NULL; }

void sfu_peer_relay_local(const sfu_peer *peer, char *addr, size_t n, uint16_t *port)
{
    sfu_relay_sock_local(peer->relay, addr, n, port);
}

int sfu_peer_start_relay(sfu_peer *peer, const char *addr, uint16_t port,
                         const sfu_srtp_keys *keys, const sfu_leg_desc *desc, char *err,
                         size_t errlen)
{
    if (!peer->relay || peer->in_room) {
        snprintf(err, errlen, "not a relay leg, or started already");
        return -SFU_ESTATE;
    }
    if (sfu_relay_sock_connect(peer->relay, addr, port) != 0) {
        snprintf(err, errlen, "relay: bad address of the other node");
        return -SFU_EINVAL;
    }
    peer->srtp = sfu_srtp_session_new(keys);
    if (!peer->srtp) {
        snprintf(err, errlen, "relay: SRTP refused the keys");
        return -SFU_EINVAL;
    }
    g_strlcpy(peer->profile, sfu_srtp_profile_name(keys->profile), sizeof peer->profile);
    int rc = sfu_room_add_leg(core(peer), peer->leg, peer->participant, desc,
                              sfu_host_now(peer->host));
    if (rc != 0) {
        snprintf(err, errlen, "cannot add media: %s", sfu_strerror(rc));
        return rc;
    }
    /* No consent on a relay leg: authenticated SRTP/SRTCP (media one way,
     * receiver reports the other) keeps it alive, and its liveness timer
     * ends it when the other node goes quiet. */
    peer->in_room = true;
    apply_pending_binds(peer);
    /* The pulling end: the serving node started sending before this end
     * was keyed, so the keyframes it sent first (one per simulcast layer)
     * never arrived. Asked for again now, every layer's frame size is known
     * (the ranking, GET /rooms) before a viewer needs it. */
    bool pulls = false;
    for (unsigned t = 0; t < desc->ntracks; t++)
        pulls |= desc->tracks[t].recv && desc->tracks[t].kind == SFU_KIND_VIDEO;
    if (pulls) {
        sfu_room_handle_path_changed(core(peer), peer->leg, sfu_host_now(peer->host), out_of(peer));
        sfu_room_driver_drain(peer->room);
    }
    return 0;
}

void sfu_peer_goodbye(sfu_peer *peer)
{
    if (!peer->dtls || sfu_dtls_get_state(peer->dtls) != SFU_DTLS_CONNECTED)
        return;
    if (sfu_dtls_close(peer->dtls) == 0)
        dtls_flush(peer);
}
