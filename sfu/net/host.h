/* The media side of one worker: the glue between the worker's thread, the
 * rooms pinned to it (room_driver.h) and the peers in them (peer.h): the
 * peer table (indexed by slot), the room table, the clock of a wake-up and
 * the counters. Everything here runs on the worker's thread; a host is made
 * on the main thread before the worker starts and freed after it stops. */
#ifndef SFU_NET_HOST_H
#define SFU_NET_HOST_H

#include "sfu/core/room.h"
#include "sfu/crypto/dtls.h"
#include "sfu/net/ice.h"
#include "sfu/net/peer.h"
#include "sfu/net/room_driver.h"
#include "sfu/net/worker.h"

typedef struct sfu_host sfu_host;

/* Drops the shell counts, beside the core's own (sfu_room_stats). */
typedef enum sfu_host_drop {
    SFU_HOST_DROP_NOT_RTP = 0,      /* RFC 7983: neither STUN, DTLS nor RTP/RTCP */
    SFU_HOST_DROP_NO_KEYS,          /* media before the DTLS handshake finished */
    SFU_HOST_DROP_SRTP_AUTH,
    SFU_HOST_DROP_SRTP_REPLAY,
    SFU_HOST_DROP_SRTP_OTHER,
    SFU_HOST_DROP_POOL_EMPTY,
    SFU_HOST_DROP_SEND_FAILED,
    SFU_HOST_DROP_COUNT
} sfu_host_drop;

typedef struct sfu_host_stats {
    uint64_t peers_live;
    uint64_t rooms_live;
    uint64_t dtls_ok, dtls_failed;
    uint64_t packets_in, packets_out, bytes_in, bytes_out;
    uint64_t drops[SFU_HOST_DROP_COUNT];
    /* Relay legs between nodes (relay_sock.h): live ones, and their share
     * of the packets and bytes above (SRTP included). */
    uint64_t relay_legs;
    uint64_t relay_packets_in, relay_packets_out, relay_bytes_in, relay_bytes_out;
    /* The worker's shared UDP port (shared_port.h): datagrams in and out,
     * checks answered, drops (unknown address; STUN that is not a valid
     * request for a live ufrag), sessions whose path it is. */
    uint64_t shared_dgrams_in, shared_dgrams_out, shared_checks;
    uint64_t shared_drop_unknown, shared_drop_stun, shared_sessions;
    sfu_room_stats rooms;           /* summed over the rooms, live and gone */
    uint32_t buffers_in_use;
    /* The worker's buffer pool (buf.h): buffers allocated, chunks added
     * since start, allocations refused at its limit. */
    uint32_t buffers_allocated;
    uint64_t buffer_pool_grown, buffer_pool_refused;
} sfu_host_stats;

typedef struct sfu_host_config {
    sfu_ice_config ice;
    sfu_room_config room;
    sfu_dtls_ctx *dtls;             /* shared, outlives the host */
    /* A peer failed by itself (ICE failure or consent lost, DTLS failure,
     * liveness timeout). Called from the worker's loop, never from inside a
     * library callback, so the owner may free the peer in it (signaling
     * posts an event and frees it later, in a command). */
    void (*on_peer_failed)(void *owner, sfu_peer *peer, const char *reason);
    /* ICE selected a pair: `remote` is the client's address, for the owner
     * to show or hide as its privacy settings say. Called on the worker. */
    void (*on_peer_connected)(void *owner, sfu_peer *peer, const char *remote);
    /* The loudest participant of room `room_key` changed (RFC 6464 levels). */
    void (*on_active_speaker)(void *owner, const char *room_key, uint32_t participant);
    void *owner;
} sfu_host_config;

/* Borrows cfg (and what it points to) for its whole life. */
sfu_host *sfu_host_new(sfu_worker *worker, const sfu_host_config *cfg);
void sfu_host_free(sfu_host *host);
sfu_worker *sfu_host_worker(sfu_host *host);
/* The worker's shared UDP port (shared_port.h), taken over (freed with the
 * host); set before the worker starts. NULL: per-connection ports only. */
struct sfu_shared_port;
void sfu_host_set_shared_port(sfu_host *host, struct sfu_shared_port *port);
struct sfu_shared_port *sfu_host_shared_port(sfu_host *host);
/* A snapshot, on the worker's thread. */
void sfu_host_stats_get(sfu_host *host, sfu_host_stats *out);

/* For peer.c and room_driver.c, on the worker's thread. */
const sfu_host_config *sfu_host_cfg(const sfu_host *host);
sfu_host_stats *sfu_host_stats_mut(sfu_host *host);
/* Now, read once per wake-up of the worker's loop (GLib's cached time of
 * the iteration), so every input and output of one wake-up shares it. */
sfu_time sfu_host_now(const sfu_host *host);
/* A slot for a new peer; returns its leg id (the slot in the low bits,
 * never 0), or 0 when full. */
sfu_leg_id sfu_host_attach_peer(sfu_host *host, sfu_peer *peer);
void sfu_host_detach_peer(sfu_host *host, sfu_leg_id leg);
/* The peer of `leg` by its slot, NULL when gone. */
sfu_peer *sfu_host_peer(const sfu_host *host, sfu_leg_id leg);
/* Asks the memory for the peer of `leg` (a hint before sfu_host_peer). */
void sfu_host_prefetch_peer(const sfu_host *host, sfu_leg_id leg);
/* The room `key` pinned to this host, made on first use (NULL: out of
 * memory); each acquire takes one reference, released by
 * sfu_host_room_release, which frees the room with its last one. */
sfu_room_driver *sfu_host_room_acquire(sfu_host *host, const char *key);
void sfu_host_room_release(sfu_host *host, sfu_room_driver *room);

#endif
