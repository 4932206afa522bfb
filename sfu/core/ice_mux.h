/* The demultiplexing table of a worker's shared UDP port (ICE-lite host
 * candidate shared by every PeerConnection of the worker, like LiveKit's
 * single port or mediasoup's WebRtcServer). Two maps, both bounded by the
 * live sessions:
 *
 * - ufrag → owner: each live ICE generation's local ufrag (RFC 8445 5.3),
 *   with its local password and the client's ufrag, so that a Binding
 *   request from an address nobody knows yet can be matched by the first
 *   part of its USERNAME ("local:remote", RFC 8445 7.2.2) and then
 *   authenticated with that owner's password (the caller verifies
 *   MESSAGE-INTEGRITY and FINGERPRINT; this table holds no crypto).
 * - address → owner: the client addresses a valid check came from, so that
 *   DTLS, SRTP and SRTCP from them reach their session. At most
 *   SFU_ICE_MUX_ADDRS_PER_OWNER per owner (the oldest goes first); a valid
 *   check for another owner from a bound address moves it.
 *
 * Lookups never change anything, so a flood of datagrams with unknown
 * addresses or ufrags costs a hash probe each and leaves the table as it
 * was. Owners are nonzero ids of the caller's. Pure: no socket, no clock. */
#ifndef SFU_CORE_ICE_MUX_H
#define SFU_CORE_ICE_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_ICE_MUX_UFRAG_MAX 64        /* bytes of a ufrag we register (RFC: 4..256) */
#define SFU_ICE_MUX_PWD_MAX 128
#define SFU_ICE_MUX_ADDRS_PER_OWNER 4

typedef struct sfu_ice_mux sfu_ice_mux;

/* A transport address, without the socket headers (the core has none). */
typedef struct sfu_ice_mux_addr {
    uint8_t family;                     /* 4 or 6 */
    uint8_t ip[16];                     /* IPv4 in the first 4 bytes, the rest zero */
    uint16_t port;                      /* host order */
} sfu_ice_mux_addr;

/* What a ufrag maps to. */
typedef struct sfu_ice_mux_cred {
    uint32_t owner;
    uint32_t gen;                       /* the owner's tag of the ICE generation */
    const char *pwd;                    /* the local password, NUL-terminated */
} sfu_ice_mux_cred;

sfu_ice_mux *sfu_ice_mux_new(void);
void sfu_ice_mux_free(sfu_ice_mux *mux);

/* Registers a generation's local ufrag and password (the client's ufrag
 * later, sfu_ice_mux_set_remote). -SFU_EINVAL: empty or too long, owner 0;
 * -SFU_ESTATE: the ufrag is already registered (to anyone). */
int sfu_ice_mux_add_ufrag(sfu_ice_mux *mux, const char *ufrag, const char *pwd, uint32_t owner,
                          uint32_t gen);
/* The client's ufrag for the generation of `ufrag`; until set, no USERNAME
 * matches it. -SFU_ENOTFOUND, -SFU_EINVAL (too long). */
int sfu_ice_mux_set_remote(sfu_ice_mux *mux, const char *ufrag, const char *remote_ufrag);
void sfu_ice_mux_remove_ufrag(sfu_ice_mux *mux, const char *ufrag);

/* The generation a STUN USERNAME (not NUL-terminated, from the network)
 * names: "local:remote" where local is registered and remote is its
 * client's ufrag. False for anything else. */
bool sfu_ice_mux_find_username(const sfu_ice_mux *mux, const uint8_t *username, size_t len,
                               sfu_ice_mux_cred *out);

/* Datagrams from `addr` go to `owner` from now on (after a check the
 * caller authenticated). Returns 1 when the address is new to the owner,
 * 0 when it was bound to it already, -SFU_EINVAL for a bad address or owner,
 * -SFU_ENOMEM. */
int sfu_ice_mux_bind(sfu_ice_mux *mux, const sfu_ice_mux_addr *addr, uint32_t owner);
/* The owner of `addr`, 0 when none. */
uint32_t sfu_ice_mux_lookup(const sfu_ice_mux *mux, const sfu_ice_mux_addr *addr);
/* Forgets every address and ufrag of `owner`. */
void sfu_ice_mux_remove_owner(sfu_ice_mux *mux, uint32_t owner);

size_t sfu_ice_mux_ufrags(const sfu_ice_mux *mux);
size_t sfu_ice_mux_addrs(const sfu_ice_mux *mux);

#endif
