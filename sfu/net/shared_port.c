#include "sfu/net/shared_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <unistd.h>

#include "sfu/core/ice_mux.h"
#include "sfu/net/stun_responder.h"
#include "sfu/net/recv_batch.h"
#include "sfu/net/worker.h"

#define MAX_SOCKS 8                     /* SIG_CONFIG_LIST_MAX gather addresses */
#define SOCK_BUF_BYTES (4 << 20)        /* every session's traffic goes through it */

typedef struct shared_sock {
    sfu_shared_port *port;
    int fd;
    sfu_worker_watch *watch;
    sfu_ice_candidate cand;
} shared_sock;

typedef struct owner_slot {
    bool used;
    sfu_shared_port_callbacks cb;
    void *user;
} owner_slot;

struct sfu_shared_port {
    struct sfu_worker *worker;
    shared_sock socks[MAX_SOCKS];
    unsigned nsocks;
    sfu_ice_mux *mux;
    owner_slot *owners;                 /* owner id - 1 */
    uint32_t nowners, free_hint;
    sfu_shared_port_stats stats;
};

static bool to_mux_addr(const struct sockaddr_storage *ss, sfu_ice_mux_addr *a)
{
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ss;
        a->family = 4;
        memcpy(a->ip, &in->sin_addr, 4);
        a->port = ntohs(in->sin_port);
        return true;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)ss;
        a->family = 6;
        memcpy(a->ip, &in6->sin6_addr, 16);
        a->port = ntohs(in6->sin6_port);
        return true;
    }
    return false;
}

/* libnice's validater hook: the password of the generation the USERNAME
 * names, through the table; a miss fails the validation. */
typedef struct lookup {
    const sfu_ice_mux *mux;
    sfu_ice_mux_cred cred;
    bool found;
} lookup;

static bool validater(StunAgent *agent, StunMessage *msg, uint8_t *username, uint16_t ulen,
                      uint8_t **password, size_t *plen, void *data)
{
    (void)agent, (void)msg;
    lookup *l = data;
    l->found = sfu_ice_mux_find_username(l->mux, username, ulen, &l->cred);
    if (!l->found)
        return false;
    *password = (uint8_t *)l->cred.pwd;
    *plen = strlen(l->cred.pwd);
    return true;
}

/* RFC 8445 7.3 as the lite, controlled side: answer an authenticated
 * Binding request, bind its address to the session, and tell the session
 * (a nomination may make this its path). */
static void handle_stun(shared_sock *s, uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, socklen_t fromlen,
                        const sfu_ice_mux_addr *addr, int64_t now)
{
    sfu_shared_port *p = s->port;
    StunAgent *stun = sfu_stun_responder();
    lookup l = { .mux = p->mux };
    StunMessage req;
    StunValidationStatus v = stun_agent_validate(stun, &req, buf, len, validater, &l);
    if (v != STUN_VALIDATION_SUCCESS || !l.found || stun_message_get_class(&req) != STUN_REQUEST ||
        stun_message_get_method(&req) != STUN_BINDING) {
        p->stats.drop_stun++;
        return;
    }
    if (sfu_stun_answer(&req, s->fd, (const struct sockaddr *)from, fromlen) < 0) {
        p->stats.drop_stun++;
        return;
    }
    p->stats.checks++;
    if (sfu_ice_mux_bind(p->mux, addr, l.cred.owner) < 0)
        return;     /* out of memory: answered, but not routed */
    owner_slot *o = &p->owners[l.cred.owner - 1];
    o->cb.on_check(o->user, l.cred.gen, s->fd, (const struct sockaddr *)from, fromlen,
                   stun_usage_ice_conncheck_use_candidate(&req),
                   stun_usage_ice_conncheck_priority(&req), now);
}

static void on_readable(void *user, int64_t now)
{
    shared_sock *s = user;
    sfu_shared_port *p = s->port;
    static __thread sfu_recv_batch b;
    int n = sfu_recv_batch_read(&b, p->worker, s->fd);
    for (int i = 0; i < n; i++) {
        uint8_t *d = b.buf[i];
        size_t len = b.msgs[i].msg_len;
        p->stats.dgrams_in++;
        sfu_ice_mux_addr addr;
        if (len == 0 || (b.msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || !to_mux_addr(&b.from[i], &addr)) {
            p->stats.drop_unknown++;
            continue;
        }
        if (d[0] < 4) {     /* RFC 7983: STUN */
            handle_stun(s, d, len, &b.from[i], b.msgs[i].msg_hdr.msg_namelen, &addr, now);
            continue;
        }
        uint32_t owner = sfu_ice_mux_lookup(p->mux, &addr);
        if (owner == 0) {
            p->stats.drop_unknown++;
            continue;
        }
        owner_slot *o = &p->owners[owner - 1];
        o->cb.on_data(o->cb.data_user ? o->cb.data_user : o->user, d, len);
    }
}

static int open_sock(shared_sock *s, const char *host, const char *announce, uint16_t port,
                     char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    struct sockaddr_in *in = (void *)&ss;
    struct sockaddr_in6 *in6 = (void *)&ss;
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        sl = sizeof *in;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        sl = sizeof *in6;
    } else {
        snprintf(err, errlen, "media.udp_port: %s is not an IP address", host);
        return -1;
    }
    s->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        snprintf(err, errlen, "media.udp_port: socket: %s", strerror(errno));
        return -1;
    }
    int one = 1, bytes = SOCK_BUF_BYTES;
    if (ss.ss_family == AF_INET6)
        setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    /* FORCE passes net.core.*mem_max with CAP_NET_ADMIN; else the capped try. */
    if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
        setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
        setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    /* DF on every datagram, path MTU not learned: an unfragmentable IPv4
     * datagram of an unconnected socket gets IP ID 0, where the default
     * (IP_PMTUDISC_WANT, fragmentable) draws one from the kernel's shared ID
     * table per datagram (__ip_select_ident, 1.5 % of the SFU's CPU in
     * one-to-many). Media and DTLS stay under 1300 octets (SFU_DTLS_MTU). */
    int probe = IP_PMTUDISC_PROBE;
    if (ss.ss_family == AF_INET)
        setsockopt(s->fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe);
    if (bind(s->fd, (struct sockaddr *)&ss, sl) != 0) {
        snprintf(err, errlen, "media.udp_port: cannot bind %s port %u: %s", host, port,
                 strerror(errno));
        return -1;
    }
    s->cand = (sfu_ice_candidate){ .priority = SFU_SHARED_PORT_PRIORITY, .port = port };
    g_strlcpy(s->cand.addr, announce && announce[0] ? announce : host, sizeof s->cand.addr);
    snprintf(s->cand.foundation, sizeof s->cand.foundation, "shared%u", (unsigned)(s - s->port->socks));
    return 0;
}

sfu_shared_port *sfu_shared_port_new(struct sfu_worker *worker, const sfu_ice_config *cfg,
                                     uint16_t port, char *err, size_t errlen)
{
    sfu_shared_port *p = g_new0(sfu_shared_port, 1);
    p->worker = worker;
    for (unsigned i = 0; i < MAX_SOCKS; i++)
        p->socks[i].fd = -1;
    p->mux = sfu_ice_mux_new();
    if (!p->mux) {
        snprintf(err, errlen, "media.udp_port: out of memory");
        goto err;
    }
    for (unsigned i = 0; i < cfg->naddrs && i < MAX_SOCKS; i++) {
        shared_sock *s = &p->socks[p->nsocks++];
        s->port = p;
        const char *announce = i < cfg->nannounce && cfg->announce_addrs ? cfg->announce_addrs[i]
                                                                         : NULL;
        if (open_sock(s, cfg->gather_addrs[i], announce, port, err, errlen) != 0)
            goto err;
        s->watch = sfu_worker_watch_fd(worker, s->fd, on_readable, s);
        if (!s->watch) {
            snprintf(err, errlen, "media.udp_port: cannot watch the socket");
            goto err;
        }
    }
    return p;
err:
    sfu_shared_port_free(p);
    return NULL;
}

void sfu_shared_port_free(sfu_shared_port *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->nsocks; i++) {
        sfu_worker_unwatch(p->worker, p->socks[i].watch);
        if (p->socks[i].fd >= 0)
            close(p->socks[i].fd);
    }
    sfu_ice_mux_free(p->mux);
    g_free(p->owners);
    g_free(p);
}

unsigned sfu_shared_port_candidates(const sfu_shared_port *p, sfu_ice_candidate *out,
                                    unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < p->nsocks && n < max; i++)
        out[n++] = p->socks[i].cand;
    return n;
}

uint32_t sfu_shared_port_attach(sfu_shared_port *p, const sfu_shared_port_callbacks *cb,
                                void *user)
{
    uint32_t i = p->free_hint;
    while (i < p->nowners && p->owners[i].used)
        i++;
    if (i == p->nowners) {
        uint32_t n = p->nowners ? p->nowners * 2 : 64;
        p->owners = g_renew(owner_slot, p->owners, n);
        memset(p->owners + p->nowners, 0, (n - p->nowners) * sizeof *p->owners);
        p->nowners = n;
    }
    p->owners[i] = (owner_slot){ .used = true, .cb = *cb, .user = user };
    p->free_hint = i + 1;
    return i + 1;
}

void sfu_shared_port_detach(sfu_shared_port *p, uint32_t owner)
{
    if (owner == 0 || owner > p->nowners || !p->owners[owner - 1].used)
        return;
    sfu_ice_mux_remove_owner(p->mux, owner);
    p->owners[owner - 1] = (owner_slot){ 0 };
    if (owner - 1 < p->free_hint)
        p->free_hint = owner - 1;
}

int sfu_shared_port_add_ufrag(sfu_shared_port *p, uint32_t owner, uint32_t gen,
                              const char *ufrag, const char *pwd)
{
    return sfu_ice_mux_add_ufrag(p->mux, ufrag, pwd, owner, gen);
}

int sfu_shared_port_set_remote(sfu_shared_port *p, const char *ufrag, const char *remote_ufrag)
{
    return sfu_ice_mux_set_remote(p->mux, ufrag, remote_ufrag);
}

void sfu_shared_port_remove_ufrag(sfu_shared_port *p, const char *ufrag)
{
    sfu_ice_mux_remove_ufrag(p->mux, ufrag);
}

void sfu_shared_port_count_out(sfu_shared_port *p) { p->stats.dgrams_out++; }

void sfu_shared_port_session_on(sfu_shared_port *p, bool on)
{
    if (on)
        p->stats.sessions++;
    else if (p->stats.sessions)
        p->stats.sessions--;
}

void sfu_shared_port_stats_get(const sfu_shared_port *p, sfu_shared_port_stats *out)
{
    *out = p->stats;
}
