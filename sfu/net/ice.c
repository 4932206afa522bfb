#include "sfu/net/ice.h"
#include "sfu/net/ice_internal.h"

#include <agent.h>
#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <sys/socket.h>

#include "sfu/net/recv_batch.h"
#include "sfu/net/shared_port.h"
#include "sfu/net/stun_responder.h"
#include "sfu/net/worker.h"


void ice_report_state(sfu_ice *ice, sfu_ice_state next)
{
    if (next != ice->state) {
        ice->state = next;
        ice->cb.on_state(ice->user, next);
    }
}

void ice_on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                    gpointer data)
{
    (void)agent, (void)stream, (void)component;
    ice_gen *g = data;
    /* Either generation: DTLS and SRTP live above ICE and stay. */
    g->ice->cb.on_data(g->ice->user, (uint8_t *)buf, len);
}

static void schedule_park(sfu_ice *ice);

static void on_component_state(NiceAgent *agent, guint stream, guint component, guint state,
                               gpointer data)
{
    (void)agent, (void)stream, (void)component;
    ice_gen *g = data;
    if (state == NICE_COMPONENT_STATE_READY || state == NICE_COMPONENT_STATE_CONNECTED)
        g->state = SFU_ICE_CONNECTED;
    else if (state == NICE_COMPONENT_STATE_FAILED)
        g->state = SFU_ICE_FAILED;
    /* A restart's generation speaks for the session once it selects a pair
     * (on_selected_pair); until then the current one does. A parked one
     * does not see the answers to its own consent checks (the worker reads
     * its socket): its verdict is blind, the responder's timer decides. */
    if (g == g->ice->cur && g != g->ice->parked && !g->ice->on_shared) {
        ice_report_state(g->ice, g->state);
        if (g->state == SFU_ICE_CONNECTED)
            schedule_park(g->ice);
    }
}

static void unpark(sfu_ice *ice);

void ice_clear_fast_path(sfu_ice *ice)
{
    unpark(ice);
    ice_wake(ice);
    ice_cancel_redoze(ice);
    if (ice->on_shared) {
        ice->on_shared = false;
        sfu_shared_port_session_on(ice->shared, false);
        sfu_worker_timer_free(ice->worker, ice->consent_timer);
        ice->consent_timer = NULL;
    }
    if (ice->fast_socket)
        g_object_unref(ice->fast_socket);
    ice->fast_socket = NULL;
    ice->fast_fd = -1;
}

/* RFC 4571 framing and TURN need libnice's own send; plain UDP does not. */
static void set_fast_path(sfu_ice *ice, ice_gen *g, guint component, NiceCandidate *local,
                          NiceCandidate *remote)
{
    ice_clear_fast_path(ice);
    if (local->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
        remote->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
        local->type == NICE_CANDIDATE_TYPE_RELAYED)
        return;
    GSocket *sock = nice_agent_get_selected_socket(g->agent, g->stream, component);
    if (!sock)
        return;
    memset(&ice->fast_peer, 0, sizeof ice->fast_peer);
    nice_address_copy_to_sockaddr(&remote->addr, (struct sockaddr *)&ice->fast_peer);
    ice->fast_peer_len = ice->fast_peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                              : sizeof(struct sockaddr_in);
    ice->fast_socket = sock;
    ice->fast_fd = g_socket_get_fd(sock);
}

/* ---- the fast receive path ----
 *
 * Once a UDP pair is selected, the worker reads that socket itself, from
 * its epoll set, instead of GLib polling it (with every other agent's
 * sockets) on every wake-up: libnice's socket sources move to a context
 * the worker never iterates. libnice cannot be handed a datagram read by
 * someone else, so while parked this module is the ICE-lite responder of
 * the selected pair (RFC 8445 7.3, RFC 7675): an authenticated Binding
 * request from the selected remote address is answered here with libnice's
 * own STUN code (stun/usages/ice.h) and the local credentials, and counts
 * as consent. Anything that may change the pair goes back to libnice: an
 * authenticated request from another address (a new path or nomination),
 * a request that fails authentication (other credentials), an error.
 * The socket is handed back and that one datagram dropped; the client
 * retransmits its check (RFC 8445 14.3), which libnice then answers, and
 * its next selected pair is parked again. Answers to libnice's own consent
 * checks are dropped: libnice's verdict on a parked pair is ignored and
 * consent is lost when no valid check came for SFU_ICE_CONSENT_TIMEOUT_US.
 * ICE-TCP and relayed pairs are never parked, nor any pair when the agent
 * gathers on more than one address (see schedule_park). While parked,
 * libnice's other sockets of the component (the ICE-TCP listener) are not
 * polled either: a client that selected UDP does not move to TCP, which
 * has the lower priority, without an ICE restart (a new agent). */

void ice_on_consent_timer(void *user, int64_t now)
{
    sfu_ice *ice = user;
    gint64 due = ice->last_check_at + SFU_ICE_CONSENT_TIMEOUT_US;
    if (now < due) {
        sfu_worker_timer_set(ice->worker, ice->consent_timer, due);
        return;
    }
    ice_report_state(ice, SFU_ICE_FAILED);
}

static void unpark(sfu_ice *ice)
{
    if (!ice->parked)
        return;
    ice_gen *g = ice->parked;
    ice->parked = NULL;
    sfu_worker_unwatch(ice->worker, ice->watch);
    ice->watch = NULL;
    sfu_worker_timer_free(ice->worker, ice->consent_timer);
    ice->consent_timer = NULL;
    nice_agent_attach_recv(g->agent, g->stream, 1, ice->ctx, ice_on_recv, g);
}

bool ice_same_peer(const struct sockaddr_storage *p, const struct sockaddr *from)
{
    if (from->sa_family != p->ss_family)
        return false;
    if (from->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)from, *b = (const void *)p;
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *a = (const void *)from, *b = (const void *)p;
    return a->sin6_port == b->sin6_port &&
           memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
}

static bool from_peer(const sfu_ice *ice, const struct sockaddr_storage *from)
{
    return ice_same_peer(&ice->fast_peer, (const struct sockaddr *)from);
}

/* One STUN datagram on the parked socket. */
static void handle_stun(sfu_ice *ice, uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, socklen_t fromlen, gint64 now)
{
    ice_gen *g = ice->parked;
    char username[160];
    snprintf(username, sizeof username, "%s:%s", g->ufrag, g->remote_ufrag);
    StunDefaultValidaterData creds[2] = {
        { (uint8_t *)username, strlen(username), (uint8_t *)g->pwd, strlen(g->pwd) },
        { NULL, 0, NULL, 0 },
    };
    StunAgent *stun = sfu_stun_responder();
    StunMessage req;
    StunValidationStatus v =
        stun_agent_validate(stun, &req, buf, len, stun_agent_default_validater, creds);
    if (v == STUN_VALIDATION_UNMATCHED_RESPONSE || v == STUN_VALIDATION_NOT_STUN ||
        v == STUN_VALIDATION_INCOMPLETE_STUN)
        return;     /* answers to libnice's own checks; junk */
    if (v == STUN_VALIDATION_SUCCESS && stun_message_get_class(&req) == STUN_INDICATION)
        return;
    if (v != STUN_VALIDATION_SUCCESS || stun_message_get_class(&req) != STUN_REQUEST ||
        stun_message_get_method(&req) != STUN_BINDING || !from_peer(ice, from)) {
        unpark(ice);    /* libnice's to judge: see above */
        return;
    }
    if (sfu_stun_answer(&req, ice->fast_fd, (const struct sockaddr *)from, fromlen) < 0) {
        unpark(ice);
        return;
    }
    ice->last_check_at = now;
    if (ice->state == SFU_ICE_FAILED) {
        sfu_worker_timer_set(ice->worker, ice->consent_timer, now + SFU_ICE_CONSENT_TIMEOUT_US);
        ice_report_state(ice, SFU_ICE_CONNECTED);
    }
}

static void on_readable(void *user, int64_t now)
{
    sfu_ice *ice = user;
    static __thread sfu_recv_batch b;
    int n = sfu_recv_batch_read(&b, ice->worker, ice->fast_fd);
    for (int i = 0; i < n && ice->parked; i++) {
        uint8_t *d = b.buf[i];
        size_t len = b.msgs[i].msg_len;
        if (len == 0 || (b.msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
            continue;
        if (d[0] < 4) {     /* RFC 7983: STUN */
            handle_stun(ice, d, len, &b.from[i], b.msgs[i].msg_hdr.msg_namelen, now);
            continue;
        }
        if (!from_peer(ice, &b.from[i]))
            continue;       /* media only from the selected pair */
        ice->cb.on_data(ice->user, d, len);
    }
}


static gboolean park_dispatch(gpointer data)
{
    sfu_ice *ice = data;
    g_source_unref(ice->park_idle);
    ice->park_idle = NULL;
    ice_gen *g = ice->cur;
    if (ice->parked || ice->on_shared || ice->fast_fd < 0 || ice->next || !g->remote_ufrag ||
        ice->state != SFU_ICE_CONNECTED)
        return G_SOURCE_REMOVE;
    ice->watch = sfu_worker_watch_fd(ice->worker, ice->fast_fd, on_readable, ice);
    if (!ice->watch)
        return G_SOURCE_REMOVE;
    nice_agent_attach_recv(g->agent, g->stream, 1, sfu_worker_parked_context(ice->worker), ice_on_recv,
                           g);
    ice->parked = g;
    ice->last_check_at = sfu_worker_now(ice->worker);
    ice->consent_timer = sfu_worker_timer_new(ice->worker, ice_on_consent_timer, ice);
    sfu_worker_timer_set(ice->worker, ice->consent_timer,
                         ice->last_check_at + SFU_ICE_CONSENT_TIMEOUT_US);
    return G_SOURCE_REMOVE;
}

/* From an idle callback: libnice is inside its own read when it selects. */
static void schedule_park(sfu_ice *ice)
{
    /* libnice moves all of a component's sockets at once: with more than
     * one gathered address, a higher-priority pair on another local socket
     * could be nominated later and would not be heard while parked. */
    if (!ice->worker || ice->park_idle || ice->on_shared || ice->fast_fd < 0 ||
        ice->cfg.naddrs != 1)
        return;
    ice->park_idle = g_idle_source_new();
    g_source_set_callback(ice->park_idle, park_dispatch, ice, NULL);
    g_source_attach(ice->park_idle, ice->ctx);
}

void sfu_ice_use_worker(sfu_ice *ice, sfu_worker *worker) { ice->worker = worker; }

bool sfu_ice_parked(const sfu_ice *ice) { return ice->parked != NULL; }

/* A context that no thread dispatches (the worker's parked one), or the
 * agent's own when the session has no worker. */
static GMainContext *ice_detach_context(const sfu_ice *ice)
{
    return ice->worker ? sfu_worker_parked_context(ice->worker) : ice->ctx;
}

/* A client with aggressive nomination (RFC 5245 8.1.1.2: libnice's
 * default as a full agent) sets USE-CANDIDATE on every check of its first
 * round, best pair first, and the controlled side keeps the highest-priority
 * nominated pair: so for this long after a path is selected, a nomination
 * of lower priority does not take it. Later, any nomination does (a client
 * moving to another pair, e.g. falling back from the shared port). */
#define SETTLE_US (1 * G_USEC_PER_SEC)

static gint64 now_of(const sfu_ice *ice)
{
    return ice->worker ? sfu_worker_now(ice->worker) : g_get_monotonic_time();
}

bool ice_keeps_path(const sfu_ice *ice, uint64_t prio, gint64 now)
{
    return ice->had_pair && ice->state == SFU_ICE_CONNECTED && prio < ice->path_prio &&
           now - ice->path_at < SETTLE_US;
}

/* RFC 8445 6.1.2.3, G the controlling (client's) candidate, D ours. */
uint64_t ice_pair_priority(uint32_t g, uint32_t d)
{
    uint64_t lo = g < d ? g : d, hi = g < d ? d : g;
    return (lo << 32) + 2 * hi + (g > d ? 1 : 0);
}

static void gen_free(ice_gen *g);

/* The first pair a restart's generation selects retires the old one. */
bool ice_promote_next(sfu_ice *ice, ice_gen *g)
{
    if (g != ice->next)
        return false;
    ice_clear_fast_path(ice);
    gen_free(ice->cur);
    ice->cur = g;
    ice->next = NULL;
    return true;
}

static void gen_free(ice_gen *g)
{
    if (!g)
        return;
    if (g->in_mux)
        sfu_shared_port_remove_ufrag(g->ice->shared, g->ufrag);
    if (g->agent) {
        if (g->state_handler)
            g_signal_handler_disconnect(g->agent, g->state_handler);
        if (g->pair_handler)
            g_signal_handler_disconnect(g->agent, g->pair_handler);
        if (g->stream) {
            /* Detach on a context no other thread iterates: a NULL context
             * is GLib's default one, which the main thread runs, and it
             * could dispatch a socket source of this stream while the
             * stream is being removed here (a use after free in libnice's
             * socket callback, seen once in the ASan soak). */
            GMainContext *off = ice_detach_context(g->ice);
            nice_agent_attach_recv(g->agent, g->stream, 1, off, NULL, NULL);
            nice_agent_remove_stream(g->agent, g->stream);
        }
        g_object_unref(g->agent);
    }
    g_free(g->ufrag);
    g_free(g->pwd);
    g_free(g->remote_ufrag);
    g_free(g);
}

/* libnice moves the selected pair to every newly nominated pair of higher
 * priority, and picks one afresh after a restart; the direct send path
 * follows each time, before anything else is sent. The first pair of a new
 * generation is a new path whatever its addresses (another server port). */
static void on_selected_pair(NiceAgent *agent, guint stream, guint component,
                             NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
    (void)agent, (void)stream;
    ice_gen *g = data;
    sfu_ice *ice = g->ice;
    bool promoted = ice_promote_next(ice, g);
    if (!promoted && g != ice->cur)
        return;
    uint64_t prio = ice_pair_priority(remote->priority, local->priority);
    if (!promoted && ice_keeps_path(ice, prio, now_of(ice)))
        return;     /* aggressive nomination: see SETTLE_US */
    ice->path_prio = prio;
    ice->path_at = now_of(ice);
    set_fast_path(ice, g, component, local, remote);
    bool changed = ice->had_pair && (promoted || ice->last_was_shared ||
                                     !nice_address_equal(&ice->last_remote, &remote->addr) ||
                                     !nice_address_equal(&ice->last_local, &local->addr) ||
                                     ice->last_transport != local->transport);
    ice->had_pair = true;
    ice->last_was_shared = false;
    ice->last_local = local->addr;
    ice->last_remote = remote->addr;
    ice->last_transport = local->transport;
    schedule_park(ice);
    if (promoted) {
        /* A selected pair is a nominated, answered check: connected, even
         * if libnice reports the component state a moment later. */
        g->state = SFU_ICE_CONNECTED;
        ice_report_state(ice, SFU_ICE_CONNECTED);
    }
    if (changed && ice->cb.on_path)
        ice->cb.on_path(ice->user);
}

static const char *announced(const sfu_ice_config *cfg, const char *bound)
{
    for (unsigned i = 0; i < cfg->naddrs && i < cfg->nannounce; i++)
        if (strcmp(cfg->gather_addrs[i], bound) == 0 && cfg->announce_addrs[i] &&
            cfg->announce_addrs[i][0])
            return cfg->announce_addrs[i];
    return bound;
}

static void collect_candidates(ice_gen *g, const sfu_ice_config *cfg)
{
    GSList *list = nice_agent_get_local_candidates(g->agent, g->stream, 1);
    g->ncands = 0;
    for (GSList *l = list; l; l = l->next) {
        NiceCandidate *c = l->data;
        if (c->transport == NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE ||
            g->ncands == SFU_ICE_MAX_CANDIDATES)
            continue;   /* an ICE-lite server only listens */
        sfu_ice_candidate *out = &g->cands[g->ncands++];
        char bound[NICE_ADDRESS_STRING_LEN];
        nice_address_to_string(&c->addr, bound);
        g_strlcpy(out->addr, announced(cfg, bound), sizeof out->addr);
        g_strlcpy(out->foundation, c->foundation, sizeof out->foundation);
        out->port = (uint16_t)nice_address_get_port(&c->addr);
        out->priority = c->priority;
        out->tcp = c->transport != NICE_CANDIDATE_TRANSPORT_UDP;
    }
    g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
}

static int add_addresses(NiceAgent *agent, const sfu_ice_config *cfg, char *err, size_t errlen)
{
    for (unsigned i = 0; i < cfg->naddrs; i++) {
        NiceAddress addr;
        nice_address_init(&addr);
        if (!nice_address_set_from_string(&addr, cfg->gather_addrs[i]) ||
            !nice_agent_add_local_address(agent, &addr)) {
            snprintf(err, errlen, "cannot gather on address %s", cfg->gather_addrs[i]);
            return -1;
        }
    }
    return 0;
}

/* A gathered agent with credentials (these, or libnice's own when NULL). */
static ice_gen *gen_new(sfu_ice *ice, const char *ufrag, const char *pwd, char *err,
                        size_t errlen)
{
    const sfu_ice_config *cfg = &ice->cfg;
    ice_gen *g = g_new0(ice_gen, 1);
    g->ice = ice;
    g->agent = nice_agent_new_full(ice->ctx, NICE_COMPATIBILITY_RFC5245,
                                   NICE_AGENT_OPTION_LITE_MODE |
                                       NICE_AGENT_OPTION_CONSENT_FRESHNESS);
    g_object_set(g->agent, "controlling-mode", FALSE, "upnp", FALSE, "ice-udp", TRUE, "ice-tcp",
                 cfg->tcp ? TRUE : FALSE, NULL);
    if (add_addresses(g->agent, cfg, err, errlen) != 0)
        goto err;
    g->stream = nice_agent_add_stream(g->agent, 1);
    if (g->stream == 0) {
        snprintf(err, errlen, "cannot add an ICE stream");
        goto err;
    }
    nice_agent_set_port_range(g->agent, g->stream, 1, cfg->port_min, cfg->port_max);
    if (ufrag && pwd && !nice_agent_set_local_credentials(g->agent, g->stream, ufrag, pwd)) {
        snprintf(err, errlen, "bad local ICE credentials");
        goto err;
    }
    g->state_handler = g_signal_connect(g->agent, "component-state-changed",
                                        G_CALLBACK(on_component_state), g);
    g->pair_handler = g_signal_connect(g->agent, "new-selected-pair-full",
                                       G_CALLBACK(on_selected_pair), g);
    if (!nice_agent_attach_recv(g->agent, g->stream, 1, ice->ctx, ice_on_recv, g) ||
        !nice_agent_gather_candidates(g->agent, g->stream)) {
        snprintf(err, errlen, "no free media port in %u-%u", cfg->port_min, cfg->port_max);
        goto err;
    }
    nice_agent_get_local_credentials(g->agent, g->stream, &g->ufrag, &g->pwd);
    collect_candidates(g, cfg);
    if (g->ncands == 0) {
        snprintf(err, errlen, "no free media port in %u-%u", cfg->port_min, cfg->port_max);
        goto err;
    }
    return g;
err:
    gen_free(g);
    return NULL;
}

sfu_ice *sfu_ice_new(GMainContext *ctx, const sfu_ice_config *cfg,
                     const sfu_ice_callbacks *cb, void *user, char *err, size_t errlen)
{
    sfu_ice *ice = g_new0(sfu_ice, 1);
    ice->ctx = ctx;
    ice->cfg = *cfg;
    ice->fast_fd = -1;
    ice->cb = *cb;
    ice->user = user;
    ice->cur = gen_new(ice, NULL, NULL, err, errlen);
    if (!ice->cur) {
        g_free(ice);
        return NULL;
    }
    return ice;
}

void sfu_ice_free(sfu_ice *ice)
{
    if (!ice)
        return;
    ice_clear_fast_path(ice);
    if (ice->park_idle) {
        g_source_destroy(ice->park_idle);
        g_source_unref(ice->park_idle);
    }
    gen_free(ice->next);
    gen_free(ice->cur);
    if (ice->shared)
        sfu_shared_port_detach(ice->shared, ice->shared_owner);
    g_free(ice);
}

/* The newest generation: the one the client is told about. */
static ice_gen *newest(sfu_ice *ice) { return ice->next ? ice->next : ice->cur; }

void sfu_ice_local_credentials(sfu_ice *ice, const char **ufrag, const char **pwd)
{
    *ufrag = newest(ice)->ufrag;
    *pwd = newest(ice)->pwd;
}

unsigned sfu_ice_local_candidates(sfu_ice *ice, sfu_ice_candidate *out, unsigned max)
{
    ice_gen *g = newest(ice);
    /* The shared port first, at a priority above libnice's host
     * candidates (type preference 126 against libnice's 120 at most);
     * libnice's stay as fallbacks (ICE-TCP, a client that cannot reach
     * the shared port). Only while the generation is in its table. */
    unsigned k = g->in_mux ? sfu_shared_port_candidates(ice->shared, out, max) : 0;
    unsigned n = g->ncands < max - k ? g->ncands : max - k;
    memcpy(out + k, g->cands, n * sizeof *out);
    return k + n;
}

int sfu_ice_set_remote_credentials(sfu_ice *ice, const char *ufrag, const char *pwd)
{
    ice_gen *g = newest(ice);
    if (!nice_agent_set_remote_credentials(g->agent, g->stream, ufrag, pwd))
        return -1;
    g_free(g->remote_ufrag);
    g->remote_ufrag = g_strdup(ufrag);
    if (g->in_mux)
        sfu_shared_port_set_remote(ice->shared, g->ufrag, ufrag);
    return 0;
}

/* No port or descriptor for a second agent: restart the current one in
 * place, as RFC 8445 9 describes it; a client that keeps checking the old
 * generation then fails, one that does not still succeeds. */
static int restart_in_place(sfu_ice *ice, const char *local_ufrag, const char *local_pwd)
{
    ice_gen *g = ice->cur;
    ice_clear_fast_path(ice);   /* until the restarted checks select a pair */
    if (!nice_agent_restart_stream(g->agent, g->stream))
        return -1;
    if (local_ufrag && local_pwd &&
        !nice_agent_set_local_credentials(g->agent, g->stream, local_ufrag, local_pwd))
        return -1;
    if (g->in_mux)
        sfu_shared_port_remove_ufrag(ice->shared, g->ufrag);
    g->in_mux = false;
    g_free(g->ufrag);
    g_free(g->pwd);
    nice_agent_get_local_credentials(g->agent, g->stream, &g->ufrag, &g->pwd);
    ice_mux_register(ice, g);
    ice->restarts_in_place++;
    return 0;
}

int sfu_ice_restart(sfu_ice *ice, const char *local_ufrag, const char *local_pwd,
                    const char *remote_ufrag, const char *remote_pwd)
{
    char err[128];
    /* A restart of a restart that never selected a pair replaces it. */
    sfu_ice_restart_cancel(ice);
    ice_gen *g = gen_new(ice, local_ufrag, local_pwd, err, sizeof err);
    if (g) {
        ice->next = g;
        ice_mux_register(ice, g);
    }
    else if (restart_in_place(ice, local_ufrag, local_pwd) != 0)
        return -1;
    if (!remote_ufrag || !remote_pwd)
        return 0;
    return sfu_ice_set_remote_credentials(ice, remote_ufrag, remote_pwd);
}

void sfu_ice_restart_cancel(sfu_ice *ice)
{
    gen_free(ice->next);
    ice->next = NULL;
}

unsigned sfu_ice_generations(const sfu_ice *ice) { return ice->next ? 2u : 1u; }

unsigned sfu_ice_restarts_in_place(const sfu_ice *ice) { return ice->restarts_in_place; }

/* libnice fails a component 10 s after its last answered consent check and
 * checks only every ~5 s, so one lost answer is enough: at 30 % loss both
 * ways that happens within seconds, and after a 2 s blackout often. The
 * session's own liveness (authenticated SRTP/SRTCP or consent, within
 * media.liveness_timeout_ms) decides when a connected path is dead; until
 * then the selected UDP pair keeps carrying media. */
static bool may_send(const sfu_ice *ice)
{
    return ice->state == SFU_ICE_CONNECTED ||
           (ice->state == SFU_ICE_FAILED && ice->had_pair && ice->fast_fd >= 0);
}

int sfu_ice_send(sfu_ice *ice, const uint8_t *data, size_t len)
{
    if (!may_send(ice))
        return -1;
    if (ice->fast_fd >= 0) {
        ssize_t n = sendto(ice->fast_fd, data, len, MSG_DONTWAIT,
                           (const struct sockaddr *)&ice->fast_peer, ice->fast_peer_len);
        return n >= 0 || errno == EAGAIN ? (int)len : -1;   /* a full buffer is loss */
    }
    return nice_agent_send(ice->cur->agent, ice->cur->stream, 1, (guint)len, (const gchar *)data);
}

void sfu_ice_prefetch(const sfu_ice *ice)
{
    __builtin_prefetch(&ice->state);
    __builtin_prefetch(&ice->fast_peer);
    __builtin_prefetch(&ice->on_shared);
    __builtin_prefetch(&ice->shared);
}

int sfu_ice_send_target(const sfu_ice *ice, int *fd, const struct sockaddr **to, socklen_t *tolen)
{
    if (!may_send(ice) || ice->fast_fd < 0)
        return -1;
    if (ice->on_shared)
        sfu_shared_port_count_out(ice->shared);
    *fd = ice->fast_fd;
    *to = (const struct sockaddr *)&ice->fast_peer;
    *tolen = ice->fast_peer_len;
    return 0;
}

sfu_ice_state sfu_ice_state_get(const sfu_ice *ice) { return ice->state; }

void sfu_ice_remote_address(sfu_ice *ice, char *buf, size_t n)
{
    NiceCandidate *local = NULL, *remote = NULL;
    buf[0] = '\0';
    if (ice->on_shared) {
        char addr[INET6_ADDRSTRLEN];
        const struct sockaddr_in *in = (const void *)&ice->fast_peer;
        const struct sockaddr_in6 *in6 = (const void *)&ice->fast_peer;
        bool v6 = ice->fast_peer.ss_family == AF_INET6;
        if (!inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)&in6->sin6_addr
                                                   : (const void *)&in->sin_addr,
                       addr, sizeof addr))
            return;
        snprintf(buf, n, v6 ? "[%s]:%u" : "%s:%u", addr,
                 ntohs(v6 ? in6->sin6_port : in->sin_port));
        return;
    }
    if (!nice_agent_get_selected_pair(ice->cur->agent, ice->cur->stream, 1, &local, &remote) ||
        !remote)
        return;
    char addr[NICE_ADDRESS_STRING_LEN];
    nice_address_to_string(&remote->addr, addr);
    bool v6 = strchr(addr, ':') != NULL;
    snprintf(buf, n, v6 ? "[%s]:%u" : "%s:%u", addr, nice_address_get_port(&remote->addr));
}
