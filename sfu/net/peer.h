/* A peer: one PeerConnection's transport on a worker. ICE (sfu/net/ice.c),
 * the DTLS handshake that keys it, its SRTP session, and its leg in a room:
 * datagrams in (demultiplexed, RFC 7983: DTLS to the handshake, SRTP and
 * SRTCP to the room's core), the core's outputs out (protected and sent on
 * the selected pair), and its failures reported to the owner from the
 * worker's loop. Worker thread only. */
#ifndef SFU_NET_PEER_H
#define SFU_NET_PEER_H

#include "sfu/core/out.h"
#include "sfu/core/room.h"
#include "sfu/crypto/dtls.h"
#include "sfu/net/ice.h"

typedef struct sfu_host sfu_host;
typedef struct sfu_peer sfu_peer;

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
/* The audio-slot m-lines it receives and whom each carries (room.h). */
unsigned sfu_peer_audio_slots(const sfu_peer *peer, sfu_room_audio_slot *out, unsigned cap);
int sfu_peer_set_max_layer(sfu_peer *peer, const char *mid, int layer);
/* The layers of `participant`'s source of `kind` in the peer's room
 * (sfu_room_source_layers), also before the peer is in it. */
int sfu_peer_source_layers(const sfu_peer *peer, uint32_t participant, sfu_kind kind,
                           sfu_layer_desc *out, unsigned cap);
/* A relay leg between two nodes of a cluster (relay_sock.h, signaling/
 * relay.c): a UDP socket instead of ICE, keys from the nodes' exchange
 * instead of DTLS; to the room it is a leg like any other (a publisher on
 * the node that pulls, a viewer on the node that serves). NULL with a
 * reason when no port is free. sfu_peer_ice() is NULL for it. */
sfu_peer *sfu_peer_new_relay(sfu_host *host, const char *room_key, uint32_t participant,
                             void *user, char *err, size_t errlen);
bool sfu_peer_is_relay(const sfu_peer *peer);
/* Where the other node must send (announced address, bound port). */
void sfu_peer_relay_local(const sfu_peer *peer, char *addr, size_t n, uint16_t *port);
/* Connects to the other node's relay socket, keys SRTP, adds the leg. */
struct sfu_srtp_keys;
int sfu_peer_start_relay(sfu_peer *peer, const char *addr, uint16_t port,
                         const struct sfu_srtp_keys *keys, const sfu_leg_desc *desc, char *err,
                         size_t errlen);
/* Tells the client the session ends (DTLS close_notify, RFC 5246 7.2.1),
 * before sfu_peer_free; nothing without a DTLS association. */
void sfu_peer_goodbye(sfu_peer *peer);
/* The negotiated SRTP profile name, "" before the handshake. */
const char *sfu_peer_srtp_profile(const sfu_peer *peer);

/* For the room driver. Protects and sends one RTP or RTCP output of the
 * core; `peer` NULL (the leg went) or without keys counts a drop. */
/* Asks the memory for what sfu_peer_send_out reads first: the transport's
 * path and the SRTP context (a hint, for a fan-out's viewers up front). */
void sfu_peer_prefetch(const sfu_peer *peer);
void sfu_peer_send_out(sfu_peer *peer, const sfu_out_item *item);
/* Reports the peer failed to the owner from the worker's loop (never from
 * inside a library callback); once. */
void sfu_peer_fail(sfu_peer *peer, const char *reason);

#endif
