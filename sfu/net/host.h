/* The media side of one worker: the rooms pinned to it, their forwarding
 * cores and timers, and the peers (PeerConnections) in them. Everything here
 * runs on the worker's thread; a host is made on the main thread before the
 * worker starts and freed after it stops. */
#ifndef SFU_NET_HOST_H
#define SFU_NET_HOST_H

#include "sfu/core/room.h"
#include "sfu/crypto/dtls.h"
#include "sfu/net/ice.h"
#include "sfu/net/worker.h"

typedef struct sfu_host sfu_host;
typedef struct sfu_peer sfu_peer;

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
    sfu_room_stats rooms;           /* summed over the rooms, live and gone */
    uint32_t buffers_in_use;
} sfu_host_stats;

typedef struct sfu_host_config {
    sfu_ice_config ice;
    sfu_room_config room;
    sfu_dtls_ctx *dtls;             /* shared, outlives the host */
    /* A peer failed by itself (ICE failure or consent lost, DTLS failure,
     * liveness timeout). Called from the worker's loop, never from inside a
     * library callback, so the owner may free the peer in it. */
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
/* A snapshot, on the worker's thread. */
void sfu_host_stats_get(sfu_host *host, sfu_host_stats *out);

/* What the client's SDP said about its transport. */
typedef struct sfu_peer_remote {
    const char *ice_ufrag, *ice_pwd;    /* candidates: none needed, see ice.h */
    sfu_dtls_role dtls_role;        /* the SFU's role */
    const char *fp_algo;
    const uint8_t *fp;
    size_t fp_len;
} sfu_peer_remote;

/* A new peer in room `room_key` (the room is made on first use), owned by
 * participant `participant`: ICE gathered, nothing else yet. NULL with a
 * reason when no port is free. `user` is the owner's, for callbacks. */
sfu_peer *sfu_peer_new(sfu_host *host, const char *room_key, uint32_t participant, void *user,
                       char *err, size_t errlen);
/* Removes the peer's leg from its room and frees its transport; the room
 * goes when its last peer does. */
void sfu_peer_free(sfu_peer *peer);
void *sfu_peer_user(const sfu_peer *peer);
sfu_leg_id sfu_peer_leg(const sfu_peer *peer);

sfu_ice *sfu_peer_ice(sfu_peer *peer);
/* Sets the client's ICE and DTLS parameters and adds the leg to the room. */
int sfu_peer_start(sfu_peer *peer, const sfu_peer_remote *remote, const sfu_leg_desc *desc,
                   char *err, size_t errlen);
int sfu_peer_update(sfu_peer *peer, const sfu_leg_desc *desc);
/* Binds the sink on `mid` to `participant`'s media (WHEP, room sessions). */
int sfu_peer_bind(sfu_peer *peer, const char *mid, uint32_t participant);
/* Bits per second the peer's track on `mid` published over the last second. */
uint32_t sfu_peer_track_bitrate(const sfu_peer *peer, const char *mid);
/* Simulcast (room.h "Simulcast layers"), for the API on the worker's
 * thread: the layers of the peer's source on `mid`, what its sink on `mid`
 * receives, and a cap on that sink's layer (-1: automatic), whose keyframe
 * request goes out at once. -SFU_ENOTFOUND before the peer is in its room. */
int sfu_peer_track_layers(const sfu_peer *peer, const char *mid, sfu_room_layer_info *layers,
                          unsigned cap);
int sfu_peer_sink_layer(const sfu_peer *peer, const char *mid, sfu_room_sink_layer *info);
int sfu_peer_set_max_layer(sfu_peer *peer, const char *mid, int layer);
/* The negotiated SRTP profile name, "" before the handshake. */
const char *sfu_peer_srtp_profile(const sfu_peer *peer);

#endif
