#include "sfu/net/ice.h"

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

#include "sfu/net/shared_port.h"
#include "sfu/net/stun_responder.h"
#include "sfu/net/worker.h"

/* One ICE generation (RFC 8445 9): a libnice agent with its own port and
 * credentials. An ICE restart starts a new generation next to the current
 * one instead of restarting the current agent in place, because a client
 * that restarts may keep checking the old generation (old username) on the
 * old port, even from its new address, until the answer is in; in place,
 * those checks would fail with 401 and the client would fail the restart.
 * Two agents keep both working: the first pair the new generation selects
 * retires the old one. */
typedef struct ice_gen {
    sfu_ice *ice;
    NiceAgent *agent;
    guint stream;
    gulong state_handler, pair_handler;
    sfu_ice_state state;                /* this agent's own */
    gchar *ufrag, *pwd;
    gchar *remote_ufrag;                /* for the responder's USERNAME check */
    sfu_ice_candidate cands[SFU_ICE_MAX_CANDIDATES];
    unsigned ncands;
    uint32_t tag;                       /* its name in the shared port's table */
    bool in_mux;                        /* its ufrag is in that table */
} ice_gen;

#define DOZE_MAX 8

struct sfu_ice {
    GMainContext *ctx;
    sfu_ice_config cfg;                 /* borrowed arrays, see sfu_ice_new */
    sfu_ice_callbacks cb;
    void *user;
    sfu_ice_state state;                /* as reported through on_state */
    ice_gen *cur;                       /* media goes on its selected pair */
    ice_gen *next;                      /* a restart's, until it selects a pair */
    unsigned restarts_in_place;
    /* The selected UDP pair, written to directly: libnice's send path (agent
     * lock, component lookup, GSocket layers) costs more than the SRTP. */
    GSocket *fast_socket;
    int fast_fd;
    struct sockaddr_storage fast_peer;
    socklen_t fast_peer_len;
    /* The worker's own read of the selected UDP socket (see "the fast
     * receive path" below); NULL worker: libnice reads everything. */
    sfu_worker *worker;
    ice_gen *parked;                    /* its sockets are out of GLib's poll */
    sfu_worker_watch *watch;
    GSource *park_idle;                 /* parks after the libnice callback */
    sfu_worker_timer *consent_timer;    /* while parked */
    gint64 last_check_at;               /* the client's last valid check */
    /* The worker's shared UDP port (shared_port.h), NULL when off. While
     * on_shared, the path is (its socket, the nominating address): fast_fd
     * and fast_peer, and the responder's consent timer, as when parked. */
    sfu_shared_port *shared;
    uint32_t shared_owner;
    /* While on the shared port, libnice's own sockets of the current
     * generation doze: out of GLib's poll, watched by the worker, handed
     * back at their first readable datagram (unread). */
    ice_gen *dozing;
    sfu_worker_watch *doze_watch[DOZE_MAX];
    unsigned ndoze;
    GSource *redoze_idle;               /* dozes again once libnice has read */
    bool tcp_awake;                     /* an ICE-TCP connection came: no more dozing */
    uint32_t next_tag;
    bool on_shared;
    uint64_t path_prio;                 /* the path's pair priority (RFC 8445 6.1.2.3) */
    gint64 path_at;                     /* when it was selected */
    /* The last selected pair's ends, to tell a new path from a repeat. */
    bool had_pair;
    bool last_was_shared;
    struct sockaddr_storage last_shared_addr;
    NiceAddress last_local, last_remote;
    NiceCandidateTransport last_transport;
};

static void report_state(sfu_ice *ice, sfu_ice_state next)
{
    if (next != ice->state) {
        ice->state = next;
        ice->cb.on_state(ice->user, next);
    }
}

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
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
        report_state(g->ice, g->state);
        if (g->state == SFU_ICE_CONNECTED)
            schedule_park(g->ice);
    }
}

static void unpark(sfu_ice *ice);

static void wake(sfu_ice *ice);

static void cancel_redoze(sfu_ice *ice);

static void clear_fast_path(sfu_ice *ice)
{
    unpark(ice);
    wake(ice);
    cancel_redoze(ice);
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
    clear_fast_path(ice);
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

#define RECV_BATCH 16           /* datagrams per socket per wake-up */
#define RECV_CAP 2048

static void on_consent_timer(void *user, int64_t now)
{
    sfu_ice *ice = user;
    gint64 due = ice->last_check_at + SFU_ICE_CONSENT_TIMEOUT_US;
    if (now < due) {
        sfu_worker_timer_set(ice->worker, ice->consent_timer, due);
        return;
    }
    report_state(ice, SFU_ICE_FAILED);
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
    nice_agent_attach_recv(g->agent, g->stream, 1, ice->ctx, on_recv, g);
}

static bool from_peer_raw(const struct sockaddr_storage *p, const struct sockaddr *from)
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
    return from_peer_raw(&ice->fast_peer, (const struct sockaddr *)from);
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
        report_state(ice, SFU_ICE_CONNECTED);
    }
}

static void on_readable(void *user, int64_t now)
{
    sfu_ice *ice = user;
    static __thread uint8_t bufs[RECV_BATCH][RECV_CAP];
    struct iovec iov[RECV_BATCH];
    struct sockaddr_storage from[RECV_BATCH];
    struct mmsghdr msgs[RECV_BATCH];
    for (int i = 0; i < RECV_BATCH; i++) {
        iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = RECV_CAP };
        msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i],
                                                 .msg_namelen = sizeof from[i],
                                                 .msg_iov = &iov[i],
                                                 .msg_iovlen = 1 } };
    }
    int n = recvmmsg(ice->fast_fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n > 0)
        sfu_worker_note_read(ice->worker, (unsigned)n, n == RECV_BATCH);
    for (int i = 0; i < n && ice->parked; i++) {
        uint8_t *d = bufs[i];
        size_t len = msgs[i].msg_len;
        if (len == 0 || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
            continue;
        if (d[0] < 4) {     /* RFC 7983: STUN */
            handle_stun(ice, d, len, &from[i], msgs[i].msg_hdr.msg_namelen, now);
            continue;
        }
        if (!from_peer(ice, &from[i]))
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
    nice_agent_attach_recv(g->agent, g->stream, 1, sfu_worker_parked_context(ice->worker), on_recv,
                           g);
    ice->parked = g;
    ice->last_check_at = sfu_worker_now(ice->worker);
    ice->consent_timer = sfu_worker_timer_new(ice->worker, on_consent_timer, ice);
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

/* ---- the worker's shared UDP port ----
 *
 * Every generation's local ufrag is in the shared port's table (with its
 * password and, once known, the client's ufrag), so a client may check and
 * nominate the shared host candidate instead of libnice's own. A
 * nomination there (USE-CANDIDATE on an authenticated request: the client
 * controls, a lite agent takes what it nominates, RFC 8445 7.3.1.5) makes
 * (that socket, that address) the path, as libnice's selection does for
 * its own sockets: the first one is "ICE connected", a later one from
 * another address is a new path, and the first one of a restart's
 * generation retires the old generation. libnice's verdicts on a session
 * that lives on the shared port are blind (it never sees these checks) and
 * ignored; consent is the responder's own timer, as on a parked socket. A
 * nomination on libnice's own sockets takes the session back there
 * (on_selected_pair). */

static void gen_free(ice_gen *g);

/* libnice's sockets of a session on the shared port are idle: kept in
 * GLib's poll they would cost nothing per wake-up, but they keep the
 * worker off its GLib grid (worker.c: the grid holds only while GLib polls
 * no socket but its wakeup), so libnice's timers would wake it at their own
 * instants again. They doze like a parked socket; the first datagram on
 * one (a client falling back to libnice's candidate, an answer to
 * libnice's consent check) hands them all back, unread, to libnice. */
static void wake(sfu_ice *ice)
{
    if (!ice->dozing)
        return;
    ice_gen *g = ice->dozing;
    ice->dozing = NULL;
    for (unsigned i = 0; i < ice->ndoze; i++)
        sfu_worker_unwatch(ice->worker, ice->doze_watch[i]);
    ice->ndoze = 0;
    nice_agent_attach_recv(g->agent, g->stream, 1, ice->ctx, on_recv, g);
}

static void doze(sfu_ice *ice);

static gboolean redoze_dispatch(gpointer data)
{
    sfu_ice *ice = data;
    g_source_unref(ice->redoze_idle);
    ice->redoze_idle = NULL;
    if (ice->on_shared)
        doze(ice);
    return G_SOURCE_REMOVE;
}

static void cancel_redoze(sfu_ice *ice)
{
    if (!ice->redoze_idle)
        return;
    g_source_destroy(ice->redoze_idle);
    g_source_unref(ice->redoze_idle);
    ice->redoze_idle = NULL;
}

/* Most such datagrams are answers to libnice's consent checks on a pair it
 * selected when the client nominated every pair (aggressive nomination),
 * which we do not use: libnice reads it (its socket source runs before an
 * idle one), then the sockets doze again. A nomination that takes the path
 * back to libnice leaves the shared port first, and then they stay awake. */
static void on_doze_readable(void *user, int64_t now)
{
    (void)now;
    sfu_ice *ice = user;
    wake(ice);
    if (ice->redoze_idle)
        return;
    ice->redoze_idle = g_idle_source_new();
    g_source_set_callback(ice->redoze_idle, redoze_dispatch, ice, NULL);
    g_source_attach(ice->redoze_idle, ice->ctx);
}

/* A connection to libnice's passive ICE-TCP socket: libnice accepts it as
 * a socket of its own, which nice_agent_get_sockets does not list (it
 * lists the candidates' sockets), so a doze would hide it from every poll
 * and its data or its close would never be read (a descriptor held in
 * CLOSE_WAIT for the session's life). The session's sockets stay awake. */
static void on_doze_tcp_readable(void *user, int64_t now)
{
    (void)now;
    sfu_ice *ice = user;
    ice->tcp_awake = true;
    cancel_redoze(ice);
    wake(ice);
}

static void doze(sfu_ice *ice)
{
    ice_gen *g = ice->cur;
    if (ice->dozing || ice->parked || !ice->worker || ice->tcp_awake)
        return;
    GPtrArray *socks = nice_agent_get_sockets(g->agent, g->stream, 1);
    if (!socks)
        return;
    bool ok = socks->len > 0 && socks->len <= DOZE_MAX;
    for (guint i = 0; ok && i < socks->len; i++) {
        GSocket *gs = socks->pdata[i];
        bool tcp = g_socket_get_socket_type(gs) == G_SOCKET_TYPE_STREAM;
        sfu_worker_watch *w = sfu_worker_watch_fd(ice->worker, g_socket_get_fd(gs),
                                                  tcp ? on_doze_tcp_readable : on_doze_readable, ice);
        if (!w)
            ok = false;
        else
            ice->doze_watch[ice->ndoze++] = w;
    }
    g_ptr_array_unref(socks);
    ice->dozing = g;
    if (!ok) {
        wake(ice);
        return;
    }
    nice_agent_attach_recv(g->agent, g->stream, 1, sfu_worker_parked_context(ice->worker), on_recv,
                           g);
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

static bool keeps_path(const sfu_ice *ice, uint64_t prio, gint64 now)
{
    return ice->had_pair && ice->state == SFU_ICE_CONNECTED && prio < ice->path_prio &&
           now - ice->path_at < SETTLE_US;
}

/* RFC 8445 6.1.2.3, G the controlling (client's) candidate, D ours. */
static uint64_t pair_priority(uint32_t g, uint32_t d)
{
    uint64_t lo = g < d ? g : d, hi = g < d ? d : g;
    return (lo << 32) + 2 * hi + (g > d ? 1 : 0);
}

static void mux_register(sfu_ice *ice, ice_gen *g)
{
    if (!ice->shared || g->in_mux || !g->ufrag || !g->pwd)
        return;
    g->tag = ++ice->next_tag;
    g->in_mux = sfu_shared_port_add_ufrag(ice->shared, ice->shared_owner, g->tag, g->ufrag,
                                          g->pwd) == 0;
    if (g->in_mux && g->remote_ufrag)
        sfu_shared_port_set_remote(ice->shared, g->ufrag, g->remote_ufrag);
}

static bool same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr *b,
                          socklen_t blen)
{
    socklen_t alen = a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    return alen == blen && a->ss_family == b->sa_family && from_peer_raw(a, b);
}

/* The first pair a restart's generation selects retires the old one. */
static bool promote_next(sfu_ice *ice, ice_gen *g)
{
    if (g != ice->next)
        return false;
    clear_fast_path(ice);
    gen_free(ice->cur);
    ice->cur = g;
    ice->next = NULL;
    return true;
}

static void shared_select(sfu_ice *ice, ice_gen *g, int fd, const struct sockaddr *from,
                          socklen_t fromlen, uint64_t prio, int64_t now)
{
    if (g == ice->cur && keeps_path(ice, prio, now))
        return;     /* aggressive nomination: see SETTLE_US */
    bool promoted = promote_next(ice, g);
    clear_fast_path(ice);
    memset(&ice->fast_peer, 0, sizeof ice->fast_peer);
    memcpy(&ice->fast_peer, from, fromlen <= sizeof ice->fast_peer ? fromlen : sizeof ice->fast_peer);
    ice->fast_peer_len = fromlen;
    ice->fast_fd = fd;
    ice->on_shared = true;
    sfu_shared_port_session_on(ice->shared, true);
    ice->last_check_at = now;
    ice->consent_timer = sfu_worker_timer_new(ice->worker, on_consent_timer, ice);
    sfu_worker_timer_set(ice->worker, ice->consent_timer, now + SFU_ICE_CONSENT_TIMEOUT_US);
    bool changed = ice->had_pair && (promoted || !ice->last_was_shared ||
                                     !same_sockaddr(&ice->last_shared_addr, from, fromlen));
    ice->had_pair = true;
    ice->path_prio = prio;
    ice->path_at = now;
    ice->last_was_shared = true;
    ice->last_shared_addr = ice->fast_peer;
    doze(ice);
    report_state(ice, SFU_ICE_CONNECTED);
    if (changed && ice->cb.on_path)
        ice->cb.on_path(ice->user);
}

static void on_shared_check(void *user, uint32_t tag, int fd, const struct sockaddr *from,
                            socklen_t fromlen, bool nominated, uint32_t priority, int64_t now)
{
    sfu_ice *ice = user;
    ice_gen *g = ice->cur->tag == tag && ice->cur->in_mux ? ice->cur
                 : ice->next && ice->next->tag == tag && ice->next->in_mux ? ice->next
                                                                            : NULL;
    if (!g)
        return;
    bool on_path = ice->on_shared && fd == ice->fast_fd && g == ice->cur &&
                   same_sockaddr(&ice->fast_peer, from, fromlen);
    if (on_path) {  /* RFC 7675: consent from the client on our path */
        ice->last_check_at = now;
        if (ice->state == SFU_ICE_FAILED) {
            sfu_worker_timer_set(ice->worker, ice->consent_timer, now + SFU_ICE_CONSENT_TIMEOUT_US);
            report_state(ice, SFU_ICE_CONNECTED);
        }
        return;
    }
    /* A check without USE-CANDIDATE only tests the pair; its address now
     * reaches us (DTLS may start before the nomination, see peer.c). */
    if (nominated && ice->worker)
        shared_select(ice, g, fd, from, fromlen,
                      pair_priority(priority, SFU_SHARED_PORT_PRIORITY), now);
}

static void on_shared_data(void *user, uint8_t *data, size_t len)
{
    sfu_ice *ice = user;
    ice->cb.on_data(ice->user, data, len);
}

int sfu_ice_use_shared_port(sfu_ice *ice, sfu_shared_port *port)
{
    static const sfu_shared_port_callbacks cb = { .on_data = on_shared_data,
                                                  .on_check = on_shared_check };
    if (ice->shared || !port)
        return -1;
    ice->shared_owner = sfu_shared_port_attach(port, &cb, ice);
    if (ice->shared_owner == 0)
        return -1;
    ice->shared = port;
    mux_register(ice, ice->cur);
    if (ice->next)
        mux_register(ice, ice->next);
    return 0;
}

bool sfu_ice_on_shared_port(const sfu_ice *ice) { return ice->on_shared; }

bool sfu_ice_dozing(const sfu_ice *ice) { return ice->dozing != NULL; }

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
    bool promoted = promote_next(ice, g);
    if (!promoted && g != ice->cur)
        return;
    uint64_t prio = pair_priority(remote->priority, local->priority);
    if (!promoted && keeps_path(ice, prio, now_of(ice)))
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
        report_state(ice, SFU_ICE_CONNECTED);
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
    if (!nice_agent_attach_recv(g->agent, g->stream, 1, ice->ctx, on_recv, g) ||
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
    clear_fast_path(ice);
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
    clear_fast_path(ice);   /* until the restarted checks select a pair */
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
    mux_register(ice, g);
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
        mux_register(ice, g);
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
