#include "sfu/net/ice.h"

#include <agent.h>
#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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
    sfu_ice_candidate cands[SFU_ICE_MAX_CANDIDATES];
    unsigned ncands;
} ice_gen;

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
    /* The last selected pair's ends, to tell a new path from a repeat. */
    bool had_pair;
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
     * (on_selected_pair); until then the current one does. */
    if (g == g->ice->cur)
        report_state(g->ice, g->state);
}

static void clear_fast_path(sfu_ice *ice)
{
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

static void gen_free(ice_gen *g)
{
    if (!g)
        return;
    if (g->agent) {
        if (g->state_handler)
            g_signal_handler_disconnect(g->agent, g->state_handler);
        if (g->pair_handler)
            g_signal_handler_disconnect(g->agent, g->pair_handler);
        if (g->stream) {
            nice_agent_attach_recv(g->agent, g->stream, 1, NULL, NULL, NULL);
            nice_agent_remove_stream(g->agent, g->stream);
        }
        g_object_unref(g->agent);
    }
    g_free(g->ufrag);
    g_free(g->pwd);
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
    bool promoted = false;
    if (g == ice->next) {
        clear_fast_path(ice);
        gen_free(ice->cur);
        ice->cur = g;
        ice->next = NULL;
        promoted = true;
    } else if (g != ice->cur) {
        return;
    }
    set_fast_path(ice, g, component, local, remote);
    bool changed = ice->had_pair && (promoted || !nice_address_equal(&ice->last_remote, &remote->addr) ||
                                     !nice_address_equal(&ice->last_local, &local->addr) ||
                                     ice->last_transport != local->transport);
    ice->had_pair = true;
    ice->last_local = local->addr;
    ice->last_remote = remote->addr;
    ice->last_transport = local->transport;
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
    gen_free(ice->next);
    gen_free(ice->cur);
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
    unsigned n = g->ncands < max ? g->ncands : max;
    memcpy(out, g->cands, n * sizeof *out);
    return n;
}

int sfu_ice_set_remote_credentials(sfu_ice *ice, const char *ufrag, const char *pwd)
{
    ice_gen *g = newest(ice);
    return nice_agent_set_remote_credentials(g->agent, g->stream, ufrag, pwd) ? 0 : -1;
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
    g_free(g->ufrag);
    g_free(g->pwd);
    nice_agent_get_local_credentials(g->agent, g->stream, &g->ufrag, &g->pwd);
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
    if (g)
        ice->next = g;
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

int sfu_ice_send(sfu_ice *ice, const uint8_t *data, size_t len)
{
    if (ice->state != SFU_ICE_CONNECTED)
        return -1;
    if (ice->fast_fd >= 0) {
        ssize_t n = sendto(ice->fast_fd, data, len, MSG_DONTWAIT,
                           (const struct sockaddr *)&ice->fast_peer, ice->fast_peer_len);
        return n >= 0 || errno == EAGAIN ? (int)len : -1;   /* a full buffer is loss */
    }
    return nice_agent_send(ice->cur->agent, ice->cur->stream, 1, (guint)len, (const gchar *)data);
}

sfu_ice_state sfu_ice_state_get(const sfu_ice *ice) { return ice->state; }

void sfu_ice_remote_address(sfu_ice *ice, char *buf, size_t n)
{
    NiceCandidate *local = NULL, *remote = NULL;
    buf[0] = '\0';
    if (!nice_agent_get_selected_pair(ice->cur->agent, ice->cur->stream, 1, &local, &remote) ||
        !remote)
        return;
    char addr[NICE_ADDRESS_STRING_LEN];
    nice_address_to_string(&remote->addr, addr);
    bool v6 = strchr(addr, ':') != NULL;
    snprintf(buf, n, v6 ? "[%s]:%u" : "%s:%u", addr, nice_address_get_port(&remote->addr));
}
