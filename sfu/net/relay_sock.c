#include "sfu/net/relay_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sfu/core/common.h"
#include "sfu/net/recv_batch.h"

#define BIND_ATTEMPTS 64

struct sfu_relay_sock {
    sfu_worker *worker;
    sfu_worker_watch *watch;
    sfu_relay_sock_callbacks cb;
    void *user;
    int fd;
    int family;
    char announce[64];
    uint16_t port;
    bool connected;
    bool failed;
    struct sockaddr_storage peer;
    socklen_t peer_len;
};

/* IP_RECVERR queues an ICMP error for us to read even when a send in the
 * egress batch took the socket's pending error first. */
static bool take_errors(sfu_relay_sock *rs)
{
    bool refused = false;
    for (int i = 0; i < 8; i++) {
        uint8_t data[64], ctrl[512];
        struct iovec iov = { data, sizeof data };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
                            .msg_controllen = sizeof ctrl };
        if (recvmsg(rs->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            break;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
                struct sock_extended_err ee;
                memcpy(&ee, CMSG_DATA(c), sizeof ee);
                if (ee.ee_errno == ECONNREFUSED)
                    refused = true;
            }
        }
    }
    return refused;
}

static void fail(sfu_relay_sock *rs, const char *reason)
{
    if (rs->failed)
        return;
    rs->failed = true;
    rs->cb.on_error(rs->user, reason);
}

static void on_readable(void *user, int64_t now)
{
    (void)now;
    sfu_relay_sock *rs = user;
    if (take_errors(rs)) {
        fail(rs, "relay peer refused (its node is gone or closed the leg)");
        return;
    }
    static __thread sfu_recv_batch b;
    int n = sfu_recv_batch_read(&b, rs->worker, rs->fd);
    if (n < 0) {
        if (errno == ECONNREFUSED)
            fail(rs, "relay peer refused (its node is gone or closed the leg)");
        return;
    }
    /* Connected: the kernel delivers datagrams from the other node only. */
    for (int i = 0; i < n && !rs->failed; i++) {
        if (b.msgs[i].msg_len == 0 || (b.msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
            continue;
        rs->cb.on_data(rs->user, b.buf[i], b.msgs[i].msg_len);
    }
}

static int parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
                      socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *len = sizeof *v6;
        return 0;
    }
    return -SFU_EINVAL;
}

static int bind_in_range(sfu_relay_sock *rs, struct sockaddr_storage *ss, socklen_t len,
                         uint16_t lo, uint16_t hi)
{
    if (lo == 0 || hi < lo) {
        return bind(rs->fd, (struct sockaddr *)ss, len);
    }
    unsigned span = (unsigned)hi - lo + 1;
    unsigned start = g_random_int_range(0, (gint32)span);
    for (unsigned i = 0; i < span && i < BIND_ATTEMPTS; i++) {
        uint16_t port = (uint16_t)(lo + (start + i) % span);
        if (ss->ss_family == AF_INET)
            ((struct sockaddr_in *)ss)->sin_port = htons(port);
        else
            ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
        if (bind(rs->fd, (struct sockaddr *)ss, len) == 0)
            return 0;
    }
    return -1;
}

sfu_relay_sock *sfu_relay_sock_new(sfu_worker *worker, const sfu_ice_config *cfg,
                                   const sfu_relay_sock_callbacks *cb, void *user, char *err,
                                   size_t errlen)
{
    const char *gather = cfg->naddrs ? cfg->gather_addrs[0] : "127.0.0.1";
    const char *announce = gather;
    if (cfg->announce_addrs && cfg->nannounce && cfg->announce_addrs[0])
        announce = cfg->announce_addrs[0];
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_addr(gather, 0, &ss, &len) != 0) {
        snprintf(err, errlen, "relay: the gather address is not an IP literal");
        return NULL;
    }
    sfu_relay_sock *rs = g_new0(sfu_relay_sock, 1);
    rs->worker = worker;
    rs->cb = *cb;
    rs->user = user;
    rs->family = ss.ss_family;
    g_strlcpy(rs->announce, announce, sizeof rs->announce);
    rs->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (rs->fd < 0) {
        snprintf(err, errlen, "relay: no socket: %s", g_strerror(errno));
        g_free(rs);
        return NULL;
    }
    int one = 1;
    if (ss.ss_family == AF_INET)
        setsockopt(rs->fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
    else
        setsockopt(rs->fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
    if (bind_in_range(rs, &ss, len, cfg->port_min, cfg->port_max) != 0) {
        snprintf(err, errlen, "relay: no free media port in %u-%u", cfg->port_min, cfg->port_max);
        goto fail;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(rs->fd, (struct sockaddr *)&bound, &blen);
    rs->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                : ((struct sockaddr_in6 *)&bound)->sin6_port);
    rs->watch = sfu_worker_watch_fd(worker, rs->fd, on_readable, rs);
    if (!rs->watch) {
        snprintf(err, errlen, "relay: cannot watch the socket");
        goto fail;
    }
    return rs;
fail:
    close(rs->fd);
    g_free(rs);
    return NULL;
}

void sfu_relay_sock_free(sfu_relay_sock *rs)
{
    if (!rs)
        return;
    if (rs->watch)
        sfu_worker_unwatch(rs->worker, rs->watch);
    close(rs->fd);
    g_free(rs);
}

void sfu_relay_sock_local(const sfu_relay_sock *rs, char *addr, size_t n, uint16_t *port)
{
    g_strlcpy(addr, rs->announce, n);
    *port = rs->port;
}

int sfu_relay_sock_connect(sfu_relay_sock *rs, const char *addr, uint16_t port)
{
    if (port == 0 || parse_addr(addr, port, &rs->peer, &rs->peer_len) != 0 ||
        rs->peer.ss_family != rs->family)
        return -SFU_EINVAL;
    if (connect(rs->fd, (struct sockaddr *)&rs->peer, rs->peer_len) != 0)
        return -SFU_EINVAL;
    rs->connected = true;
    return 0;
}

int sfu_relay_sock_send_target(const sfu_relay_sock *rs, int *fd, const struct sockaddr **to,
                               socklen_t *tolen)
{
    if (!rs->connected || rs->failed)
        return -1;
    *fd = rs->fd;
    *to = (const struct sockaddr *)&rs->peer;
    *tolen = rs->peer_len;
    return 0;
}
