/* ICE for one PeerConnection: a libnice agent in lite mode (RFC 8445 2.5),
 * one stream, one component (BUNDLE and rtcp-mux), on a worker's
 * GMainContext. Created, used and freed on that worker's thread only.
 * libnice answers connectivity and consent checks itself; every other
 * datagram reaches on_data.
 *
 * An ICE restart starts a new generation (RFC 8445 9): a second agent with
 * its own port and the new credentials, while the current one keeps
 * answering the old credentials and carrying media. The first pair the new
 * generation selects retires the old one. So a restart succeeds whichever
 * order the client uses (checks on the old generation from a new address
 * before the answer, or the answer before any check), and DTLS/SRTP, which
 * live above this module, never notice. */
#ifndef SFU_NET_ICE_H
#define SFU_NET_ICE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct sfu_ice sfu_ice;

typedef enum sfu_ice_state {
    SFU_ICE_CHECKING = 0,
    SFU_ICE_CONNECTED,
    SFU_ICE_FAILED,         /* checks failed or consent lost (RFC 7675) */
} sfu_ice_state;

typedef struct sfu_ice_config {
    const char *const *gather_addrs;    /* local addresses to bind */
    const char *const *announce_addrs;  /* same order; NULL entry or list: announce as bound */
    unsigned naddrs;
    unsigned nannounce;
    uint16_t port_min, port_max;
    bool tcp;                           /* passive ICE-TCP candidates too */
} sfu_ice_config;

/* libnice's RFC 7675 consent timeout, fixed inside it
 * (NICE_AGENT_TIMER_CONSENT_TIMEOUT, agent-priv.h, not exported): it sends a
 * consent check every 4-6 s and fails the component this long after the last
 * authenticated answer. So when SFU_ICE_FAILED follows SFU_ICE_CONNECTED,
 * the client last proved itself this long before. */
#define SFU_ICE_CONSENT_TIMEOUT_US (10 * G_USEC_PER_SEC)

typedef struct sfu_ice_callbacks {
    void (*on_data)(void *user, uint8_t *data, size_t len);
    /* CONNECTED: a pair is selected and libnice holds consent. FAILED after
     * CONNECTED: consent lost (or the selected TCP connection closed); an
     * ICE restart can bring CONNECTED back. */
    void (*on_state)(void *user, sfu_ice_state state);
    /* A pair other than the previous one was selected (a new nomination, or
     * the first pair of a new generation): the client's path changed.
     * Sends already go to the new pair. May be NULL. */
    void (*on_path)(void *user);
} sfu_ice_callbacks;

#define SFU_ICE_MAX_CANDIDATES 16

typedef struct sfu_ice_candidate {
    char foundation[33];
    uint32_t priority;
    char addr[64];
    uint16_t port;
    bool tcp;                           /* tcptype passive */
} sfu_ice_candidate;

/* NULL with a reason in err when the agent cannot gather (e.g. no free
 * port in the range). `cfg` is copied, its address arrays are borrowed and
 * must outlive the object (restarts gather again). */
sfu_ice *sfu_ice_new(GMainContext *ctx, const sfu_ice_config *cfg,
                     const sfu_ice_callbacks *cb, void *user, char *err, size_t errlen);
void sfu_ice_free(sfu_ice *ice);

/* The newest generation's local ufrag/pwd (the ones to tell the client);
 * valid until the next restart or the next generation takes over. */
void sfu_ice_local_credentials(sfu_ice *ice, const char **ufrag, const char **pwd);
/* The newest generation's host candidates as announced; returns how many
 * were written. */
unsigned sfu_ice_local_candidates(sfu_ice *ice, sfu_ice_candidate *out, unsigned max);

/* A lite agent takes no remote candidates (RFC 8445 2.5): it learns the
 * client's address from the client's own checks. Given candidates, libnice
 * would send checks of its own, which races the client's nomination (aioice
 * then fails about one connection in twenty). */
/* Applies to the newest generation. */
int sfu_ice_set_remote_credentials(sfu_ice *ice, const char *ufrag, const char *pwd);
/* ICE restart: a new generation with new local credentials (these, or
 * libnice's own when NULL) and the client's new ones (later, through
 * sfu_ice_set_remote_credentials, when NULL). Its candidates and
 * credentials are then the local ones. A pending generation that never
 * selected a pair is replaced. Without a free port for a second agent the
 * current one restarts in place (then checks with the old credentials fail). */
int sfu_ice_restart(sfu_ice *ice, const char *local_ufrag, const char *local_pwd,
                    const char *remote_ufrag, const char *remote_pwd);
/* Drops a pending generation (the signaling that asked for it failed);
 * the current one goes on. No-op without one. */
void sfu_ice_restart_cancel(sfu_ice *ice);
/* 2 while a restart's generation waits for its first pair, else 1. */
unsigned sfu_ice_generations(const sfu_ice *ice);
/* How many restarts fell back to restarting in place. */
unsigned sfu_ice_restarts_in_place(const sfu_ice *ice);

/* Lets `worker` read the selected UDP socket itself from its epoll set
 * (ice.c, "the fast receive path"); without it libnice reads everything. */
struct sfu_worker;
void sfu_ice_use_worker(sfu_ice *ice, struct sfu_worker *worker);
/* True while the worker reads the selected socket (and answers its
 * consent checks) itself. */
bool sfu_ice_parked(const sfu_ice *ice);
/* Registers every generation's credentials in the worker's shared UDP port
 * (shared_port.h) and announces its candidates first, so the client may
 * nominate it; libnice's sockets stay as fallbacks. -1 when it cannot. */
struct sfu_shared_port;
int sfu_ice_use_shared_port(sfu_ice *ice, struct sfu_shared_port *port);
/* True while the path is the shared port. */
bool sfu_ice_on_shared_port(const sfu_ice *ice);
/* True while libnice's own sockets are out of GLib's poll (parked, or
 * dozing while the path is the shared port). */
bool sfu_ice_dozing(const sfu_ice *ice);

/* Sends one datagram on the selected pair; negative when not connected
 * (and so after consent is lost, RFC 7675 section 5.1). */
int sfu_ice_send(sfu_ice *ice, const uint8_t *data, size_t len);
/* Where a datagram to the client goes when the selected pair is plain UDP
 * (for a batched send of the caller's own); -1 when it must go through
 * sfu_ice_send (not connected, TCP, TURN). Valid until control returns to
 * the worker's loop. */
/* Asks the memory for what sfu_ice_send_target reads (a hint). */
void sfu_ice_prefetch(const sfu_ice *ice);
int sfu_ice_send_target(const sfu_ice *ice, int *fd, const struct sockaddr **to,
                        socklen_t *tolen);
sfu_ice_state sfu_ice_state_get(const sfu_ice *ice);
/* The client's address on the selected pair ("192.0.2.1:5000",
 * "[2001:db8::1]:5000"), or "" when none is selected yet. */
void sfu_ice_remote_address(sfu_ice *ice, char *buf, size_t n);

#endif
