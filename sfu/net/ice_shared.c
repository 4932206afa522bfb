/* One PeerConnection's ICE on the worker's shared UDP port (shared_port.h):
 * a nomination there makes (that socket, that address) the session's path,
 * and meanwhile libnice's own sockets of the session doze. The libnice side
 * of the same session is ice.c; what both use is ice_internal.h. */
#include "sfu/net/ice_internal.h"

#include <string.h>

/* Every generation's local ufrag is in the shared port's table (with its
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
 * (on_selected_pair in ice.c). */

/* libnice's sockets of a session on the shared port are idle: kept in
 * GLib's poll they would cost nothing per wake-up, but they keep the
 * worker off its GLib grid (worker.c: the grid holds only while GLib polls
 * no socket but its wakeup), so libnice's timers would wake it at their own
 * instants again. They doze like a parked socket; the first datagram on
 * one (a client falling back to libnice's candidate, an answer to
 * libnice's consent check) hands them all back, unread, to libnice. */
void ice_wake(sfu_ice *ice)
{
    if (!ice->dozing)
        return;
    ice_gen *g = ice->dozing;
    ice->dozing = NULL;
    for (unsigned i = 0; i < ice->ndoze; i++)
        sfu_worker_unwatch(ice->worker, ice->doze_watch[i]);
    ice->ndoze = 0;
    nice_agent_attach_recv(g->agent, g->stream, 1, ice->ctx, ice_on_recv, g);
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

void ice_cancel_redoze(sfu_ice *ice)
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
    ice_wake(ice);
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
    ice_cancel_redoze(ice);
    ice_wake(ice);
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
        ice_wake(ice);
        return;
    }
    nice_agent_attach_recv(g->agent, g->stream, 1, sfu_worker_parked_context(ice->worker), ice_on_recv,
                           g);
}


void ice_mux_register(sfu_ice *ice, ice_gen *g)
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
    return alen == blen && a->ss_family == b->sa_family && ice_same_peer(a, b);
}


static void shared_select(sfu_ice *ice, ice_gen *g, int fd, const struct sockaddr *from,
                          socklen_t fromlen, uint64_t prio, int64_t now)
{
    if (g == ice->cur && ice_keeps_path(ice, prio, now))
        return;     /* aggressive nomination: see SETTLE_US */
    bool promoted = ice_promote_next(ice, g);
    ice_clear_fast_path(ice);
    memset(&ice->fast_peer, 0, sizeof ice->fast_peer);
    memcpy(&ice->fast_peer, from, fromlen <= sizeof ice->fast_peer ? fromlen : sizeof ice->fast_peer);
    ice->fast_peer_len = fromlen;
    ice->fast_fd = fd;
    ice->on_shared = true;
    sfu_shared_port_session_on(ice->shared, true);
    ice->last_check_at = now;
    ice->consent_timer = sfu_worker_timer_new(ice->worker, ice_on_consent_timer, ice);
    sfu_worker_timer_set(ice->worker, ice->consent_timer, now + SFU_ICE_CONSENT_TIMEOUT_US);
    bool changed = ice->had_pair && (promoted || !ice->last_was_shared ||
                                     !same_sockaddr(&ice->last_shared_addr, from, fromlen));
    ice->had_pair = true;
    ice->path_prio = prio;
    ice->path_at = now;
    ice->last_was_shared = true;
    ice->last_shared_addr = ice->fast_peer;
    doze(ice);
    ice_report_state(ice, SFU_ICE_CONNECTED);
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
            ice_report_state(ice, SFU_ICE_CONNECTED);
        }
        return;
    }
    /* A check without USE-CANDIDATE only tests the pair; its address now
     * reaches us (DTLS may start before the nomination, see peer.c). */
    if (nominated && ice->worker)
        shared_select(ice, g, fd, from, fromlen,
                      ice_pair_priority(priority, SFU_SHARED_PORT_PRIORITY), now);
}

int sfu_ice_use_shared_port(sfu_ice *ice, sfu_shared_port *port)
{
    /* Data goes straight to the session's receiver (the peer): the ICE
     * object is a first touch per packet otherwise, for a pointer hop. */
    const sfu_shared_port_callbacks cb = { .on_data = ice->cb.on_data, .data_user = ice->user,
                                           .on_check = on_shared_check };
    if (ice->shared || !port)
        return -1;
    ice->shared_owner = sfu_shared_port_attach(port, &cb, ice);
    if (ice->shared_owner == 0)
        return -1;
    ice->shared = port;
    ice_mux_register(ice, ice->cur);
    if (ice->next)
        ice_mux_register(ice, ice->next);
    return 0;
}

bool sfu_ice_on_shared_port(const sfu_ice *ice) { return ice->on_shared; }

bool sfu_ice_dozing(const sfu_ice *ice) { return ice->dozing != NULL; }