/* The transport of a relay leg between two nodes of a cluster: one UDP
 * socket, bound to this node's first gather address within the media port
 * range, connected to the other node's relay socket once that is known.
 * No ICE and no DTLS: both ends learnt each other's address and keyed their
 * SRTP through an authenticated call between the nodes
 * (signaling/relay.c). The worker reads the socket from its epoll set.
 *
 * The socket is connected, so the kernel reports an ICMP port unreachable
 * from the other node (its process died, or it closed the leg) as
 * ECONNREFUSED on the next read: the leg fails at once instead of waiting
 * for the liveness timeout. Worker thread only. */
#ifndef SFU_NET_RELAY_SOCK_H
#define SFU_NET_RELAY_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sfu/net/ice.h"
#include "sfu/net/worker.h"

typedef struct sfu_relay_sock sfu_relay_sock;

typedef struct sfu_relay_sock_callbacks {
    void (*on_data)(void *user, uint8_t *data, size_t len);
    /* The other end refused a datagram (ECONNREFUSED) or the socket broke. */
    void (*on_error)(void *user, const char *reason);
} sfu_relay_sock_callbacks;

/* Binds a UDP socket on the first gather address of `cfg` (announced as
 * its first announce address), in its port range (any port when the range
 * is 0-0), and watches it on `worker`. NULL with a reason in err. */
sfu_relay_sock *sfu_relay_sock_new(sfu_worker *worker, const sfu_ice_config *cfg,
                                   const sfu_relay_sock_callbacks *cb, void *user, char *err,
                                   size_t errlen);
void sfu_relay_sock_free(sfu_relay_sock *rs);
/* Where the other node sends: the announced address and the bound port. */
void sfu_relay_sock_local(const sfu_relay_sock *rs, char *addr, size_t n, uint16_t *port);
/* Connects to the other node's relay socket (an IPv4 or IPv6 literal).
 * 0 or -SFU_EINVAL. */
int sfu_relay_sock_connect(sfu_relay_sock *rs, const char *addr, uint16_t port);
/* For the egress batch: the descriptor and destination; -1 before connect. */
int sfu_relay_sock_send_target(const sfu_relay_sock *rs, int *fd, const struct sockaddr **to,
                               socklen_t *tolen);

#endif
