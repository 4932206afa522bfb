/* What ice.c and ice_shared.c share of one PeerConnection's ICE: the
 * session's state and the few steps both sides of the path take (libnice's
 * own sockets in ice.c, the worker's shared UDP port in ice_shared.c).
 * Internal to sfu/net/ice*.c; everyone else uses ice.h. */
#ifndef SFU_NET_ICE_INTERNAL_H
#define SFU_NET_ICE_INTERNAL_H

#include <agent.h>
#include <gio/gio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sfu/net/ice.h"
#include "sfu/net/shared_port.h"
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

/* ice.c */
void ice_report_state(sfu_ice *ice, sfu_ice_state next);
void ice_on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                 gpointer data);
void ice_clear_fast_path(sfu_ice *ice);
void ice_on_consent_timer(void *user, int64_t now);
bool ice_same_peer(const struct sockaddr_storage *p, const struct sockaddr *from);
bool ice_keeps_path(const sfu_ice *ice, uint64_t prio, gint64 now);
uint64_t ice_pair_priority(uint32_t g, uint32_t d);
bool ice_promote_next(sfu_ice *ice, ice_gen *g);

/* ice_shared.c */
void ice_wake(sfu_ice *ice);
void ice_cancel_redoze(sfu_ice *ice);
void ice_mux_register(sfu_ice *ice, ice_gen *g);

#endif
