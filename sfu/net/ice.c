#include "sfu/net/ice.h"

#include <agent.h>
#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

struct sfu_ice {
    NiceAgent *agent;
    guint stream;
    sfu_ice_callbacks cb;
    void *user;
    sfu_ice_state state;
    gchar *ufrag, *pwd;
    sfu_ice_candidate cands[SFU_ICE_MAX_CANDIDATES];
    unsigned ncands;
    gulong state_handler;
    gulong pair_handler;
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

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                    gpointer data)
{
    (void)agent, (void)stream, (void)component;
    sfu_ice *ice = data;
    ice->cb.on_data(ice->user, (uint8_t *)buf, len);
}

static void on_component_state(NiceAgent *agent, guint stream, guint component, guint state,
                               gpointer data)
{
    (void)agent, (void)stream, (void)component;
    sfu_ice *ice = data;
    sfu_ice_state next = ice->state;
    if (state == NICE_COMPONENT_STATE_READY || state == NICE_COMPONENT_STATE_CONNECTED)
        next = SFU_ICE_CONNECTED;
    else if (state == NICE_COMPONENT_STATE_FAILED)
        next = SFU_ICE_FAILED;
    if (next != ice->state) {
        ice->state = next;
        ice->cb.on_state(ice->user, next);
    }
}

static void clear_fast_path(sfu_ice *ice)
{
    if (ice->fast_socket)
        g_object_unref(ice->fast_socket);
    ice->fast_socket = NULL;
    ice->fast_fd = -1;
}

/* RFC 4571 framing and TURN need libnice's own send; plain UDP does not. */
static void set_fast_path(sfu_ice *ice, guint component, NiceCandidate *local,
                          NiceCandidate *remote)
{
    clear_fast_path(ice);
    if (local->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
        remote->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
        local->type == NICE_CANDIDATE_TYPE_RELAYED)
        return;
    GSocket *sock = nice_agent_get_selected_socket(ice->agent, ice->stream, component);
    if (!sock)
        return;
    memset(&ice->fast_peer, 0, sizeof ice->fast_peer);
    nice_address_copy_to_sockaddr(&remote->addr, (struct sockaddr *)&ice->fast_peer);
    ice->fast_peer_len = ice->fast_peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                              : sizeof(struct sockaddr_in);
    ice->fast_socket = sock;
    ice->fast_fd = g_socket_get_fd(sock);
}

/* libnice moves the selected pair to every newly nominated pair of higher
 * priority, and picks one afresh after a restart; the direct send path
 * follows each time, before anything else is sent. */
static void on_selected_pair(NiceAgent *agent, guint stream, guint component,
                             NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
    (void)agent, (void)stream;
    sfu_ice *ice = data;
    set_fast_path(ice, component, local, remote);
    bool changed = ice->had_pair && (!nice_address_equal(&ice->last_remote, &remote->addr) ||
                                     !nice_address_equal(&ice->last_local, &local->addr) ||
                                     ice->last_transport != local->transport);
    ice->had_pair = true;
    ice->last_local = local->addr;
    ice->last_remote = remote->addr;
    ice->last_transport = local->transport;
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

static void collect_candidates(sfu_ice *ice, const sfu_ice_config *cfg)
{
    GSList *list = nice_agent_get_local_candidates(ice->agent, ice->stream, 1);
    ice->ncands = 0;
    for (GSList *l = list; l; l = l->next) {
        NiceCandidate *c = l->data;
        if (c->transport == NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE ||
            ice->ncands == SFU_ICE_MAX_CANDIDATES)
            continue;   /* an ICE-lite server only listens */
        sfu_ice_candidate *out = &ice->cands[ice->ncands++];
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

sfu_ice *sfu_ice_new(GMainContext *ctx, const sfu_ice_config *cfg,
                     const sfu_ice_callbacks *cb, void *user, char *err, size_t errlen)
{
    sfu_ice *ice = g_new0(sfu_ice, 1);
    ice->fast_fd = -1;
    ice->cb = *cb;
    ice->user = user;
    ice->agent = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245,
                                     NICE_AGENT_OPTION_LITE_MODE |
                                         NICE_AGENT_OPTION_CONSENT_FRESHNESS);
    g_object_set(ice->agent, "controlling-mode", FALSE, "upnp", FALSE, "ice-udp", TRUE,
                 "ice-tcp", cfg->tcp ? TRUE : FALSE, NULL);
    if (add_addresses(ice->agent, cfg, err, errlen) != 0)
        goto err;
    ice->stream = nice_agent_add_stream(ice->agent, 1);
    if (ice->stream == 0) {
        snprintf(err, errlen, "cannot add an ICE stream");
        goto err;
    }
    nice_agent_set_port_range(ice->agent, ice->stream, 1, cfg->port_min, cfg->port_max);
    ice->state_handler = g_signal_connect(ice->agent, "component-state-changed",
                                          G_CALLBACK(on_component_state), ice);
    ice->pair_handler = g_signal_connect(ice->agent, "new-selected-pair-full",
                                         G_CALLBACK(on_selected_pair), ice);
    if (!nice_agent_attach_recv(ice->agent, ice->stream, 1, ctx, on_recv, ice) ||
        !nice_agent_gather_candidates(ice->agent, ice->stream)) {
        snprintf(err, errlen, "no free media port in %u-%u", cfg->port_min, cfg->port_max);
        goto err;
    }
    nice_agent_get_local_credentials(ice->agent, ice->stream, &ice->ufrag, &ice->pwd);
    collect_candidates(ice, cfg);
    if (ice->ncands == 0) {
        snprintf(err, errlen, "no free media port in %u-%u", cfg->port_min, cfg->port_max);
        goto err;
    }
    return ice;
err:
    sfu_ice_free(ice);
    return NULL;
}

void sfu_ice_free(sfu_ice *ice)
{
    if (!ice)
        return;
    if (ice->agent) {
        if (ice->state_handler)
            g_signal_handler_disconnect(ice->agent, ice->state_handler);
        if (ice->pair_handler)
            g_signal_handler_disconnect(ice->agent, ice->pair_handler);
        clear_fast_path(ice);
        if (ice->stream) {
            nice_agent_attach_recv(ice->agent, ice->stream, 1, NULL, NULL, NULL);
            nice_agent_remove_stream(ice->agent, ice->stream);
        }
        g_object_unref(ice->agent);
    }
    g_free(ice->ufrag);
    g_free(ice->pwd);
    g_free(ice);
}

void sfu_ice_local_credentials(sfu_ice *ice, const char **ufrag, const char **pwd)
{
    *ufrag = ice->ufrag;
    *pwd = ice->pwd;
}

unsigned sfu_ice_local_candidates(sfu_ice *ice, sfu_ice_candidate *out, unsigned max)
{
    unsigned n = ice->ncands < max ? ice->ncands : max;
    memcpy(out, ice->cands, n * sizeof *out);
    return n;
}

int sfu_ice_set_remote_credentials(sfu_ice *ice, const char *ufrag, const char *pwd)
{
    return nice_agent_set_remote_credentials(ice->agent, ice->stream, ufrag, pwd) ? 0 : -1;
}

int sfu_ice_restart(sfu_ice *ice, const char *local_ufrag, const char *local_pwd,
                    const char *remote_ufrag, const char *remote_pwd)
{
    clear_fast_path(ice);   /* until the restarted checks select a pair */
    if (!nice_agent_restart_stream(ice->agent, ice->stream))
        return -1;
    if (local_ufrag && local_pwd &&
        !nice_agent_set_local_credentials(ice->agent, ice->stream, local_ufrag, local_pwd))
        return -1;
    g_free(ice->ufrag);
    g_free(ice->pwd);
    nice_agent_get_local_credentials(ice->agent, ice->stream, &ice->ufrag, &ice->pwd);
    return sfu_ice_set_remote_credentials(ice, remote_ufrag, remote_pwd);
}

int sfu_ice_send(sfu_ice *ice, const uint8_t *data, size_t len)
{
    if (ice->state != SFU_ICE_CONNECTED)
        return -1;
    if (ice->fast_fd >= 0) {
        ssize_t n = sendto(ice->fast_fd, data, len, MSG_DONTWAIT,
                           (const struct sockaddr *)&ice->fast_peer, ice->fast_peer_len);
        return n >= 0 || errno == EAGAIN ? (int)len : -1;   /* a full buffer is loss */
    }
    return nice_agent_send(ice->agent, ice->stream, 1, (guint)len, (const gchar *)data);
}

sfu_ice_state sfu_ice_state_get(const sfu_ice *ice) { return ice->state; }

void sfu_ice_remote_address(sfu_ice *ice, char *buf, size_t n)
{
    NiceCandidate *local = NULL, *remote = NULL;
    buf[0] = '\0';
    if (!nice_agent_get_selected_pair(ice->agent, ice->stream, 1, &local, &remote) || !remote)
        return;
    char addr[NICE_ADDRESS_STRING_LEN];
    nice_address_to_string(&remote->addr, addr);
    bool v6 = strchr(addr, ':') != NULL;
    snprintf(buf, n, v6 ? "[%s]:%u" : "%s:%u", addr, nice_address_get_port(&remote->addr));
}
