/* A worker's shared UDP port (`[media] udp_port`): one socket per gather
 * address, bound to the same port for every PeerConnection of the worker,
 * announced as an ICE-lite host candidate above libnice's own. So a
 * fan-out to many viewers is one sendmmsg (each message has its own
 * destination) and one recvmmsg reads many clients' packets.
 *
 * Demultiplexing (sfu/core/ice_mux.h): a datagram from an address a valid
 * check came from goes to that session; STUN is answered only when it is a
 * Binding request whose USERNAME names a live local ufrag and whose
 * MESSAGE-INTEGRITY and FINGERPRINT verify with that generation's password
 * (libnice's STUN library); everything else is dropped and counted, never
 * logged. USE-CANDIDATE makes (this socket, that address) the session's
 * path. Worker thread only (new/free also before the thread starts and
 * after it stops). */
#ifndef SFU_NET_SHARED_PORT_H
#define SFU_NET_SHARED_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sfu/net/ice.h"

struct sfu_worker;
typedef struct sfu_shared_port sfu_shared_port;

typedef struct sfu_shared_port_callbacks {
    /* A datagram from one of the session's addresses, to `data_user` (the
     * session's own user when NULL): a session that only passes data on
     * names its receiver here, so a packet does not wake its object too. */
    void (*on_data)(void *user, uint8_t *data, size_t len);
    void *data_user;
    /* An authenticated Binding request for generation `gen` (the tag given
     * to sfu_shared_port_add_ufrag) from `from` on socket `fd`, answered
     * already; `nominated`: it carried USE-CANDIDATE; `priority`: its
     * PRIORITY attribute (the client's candidate, RFC 8445 7.1.1). */
    void (*on_check)(void *user, uint32_t gen, int fd, const struct sockaddr *from,
                     socklen_t fromlen, bool nominated, uint32_t priority, int64_t now);
} sfu_shared_port_callbacks;

typedef struct sfu_shared_port_stats {
    uint64_t dgrams_in, dgrams_out;
    uint64_t checks;                    /* answered */
    uint64_t drop_unknown;              /* not STUN, from an address nobody checked from */
    uint64_t drop_stun;                 /* STUN that is not a valid request for a live ufrag */
    uint64_t sessions;                  /* live sessions whose path is the shared port */
} sfu_shared_port_stats;

/* Binds `port` on every gather address of `cfg` (borrowed for the port's
 * life) and watches the sockets from `worker`'s epoll set. NULL with the
 * reason in err. */
sfu_shared_port *sfu_shared_port_new(struct sfu_worker *worker, const sfu_ice_config *cfg,
                                     uint16_t port, char *err, size_t errlen);
void sfu_shared_port_free(sfu_shared_port *p);

/* Its host candidates as announced (one per gather address), with a
 * priority above any libnice host candidate. */
unsigned sfu_shared_port_candidates(const sfu_shared_port *p, sfu_ice_candidate *out,
                                    unsigned max);
#define SFU_SHARED_PORT_PRIORITY 2130706431u   /* RFC 8445 5.1.2.1: type 126, local 65535, component 1 */

/* A session: returns its owner id, 0 when out of memory. Detach forgets
 * every ufrag and address of it. */
uint32_t sfu_shared_port_attach(sfu_shared_port *p, const sfu_shared_port_callbacks *cb,
                                void *user);
void sfu_shared_port_detach(sfu_shared_port *p, uint32_t owner);
int sfu_shared_port_add_ufrag(sfu_shared_port *p, uint32_t owner, uint32_t gen,
                              const char *ufrag, const char *pwd);
int sfu_shared_port_set_remote(sfu_shared_port *p, const char *ufrag, const char *remote_ufrag);
void sfu_shared_port_remove_ufrag(sfu_shared_port *p, const char *ufrag);

/* For the sessions: a datagram queued to the shared port; whether a
 * session's path is on it (the sessions gauge). */
void sfu_shared_port_count_out(sfu_shared_port *p);
void sfu_shared_port_session_on(sfu_shared_port *p, bool on);
void sfu_shared_port_stats_get(const sfu_shared_port *p, sfu_shared_port_stats *out);

#endif
