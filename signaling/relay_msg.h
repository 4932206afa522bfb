/* The bodies of the node-to-node call that opens a relay leg
 * (signaling/relay.c), pure: encode, decode with every field checked,
 * the SRTP keys both ends derive, and the legs' descriptions.
 *
 * The pulling node (it has viewers, not the publisher) POSTs a request to
 * the serving node's internal endpoint; both bodies are JSON sealed with the
 * cluster secret (sig_cluster_seal: HMAC-SHA256, hex, '.'), so only a node
 * holding the secret can open a leg or answer one. No key travels: each side
 * sends a random nonce, and both derive the SRTP master keys of the two
 * directions as HMAC-SHA256(secret, label | nonce_pull | nonce_serve), so an
 * eavesdropper without the secret learns nothing it could decrypt with.
 *
 *   request  {"v":1,"node":ID,"room":R,"participant":"0a1b2c3d",
 *             "addr":IP,"port":N,"nonce":HEX32,"ts":UNIX_S}
 *   response {"v":1,"node":ID,"nonce":HEX32,"echo":HEX32 (the request's),
 *             "addr":IP,"port":N,"tracks":[{"mid":M,"kind":"audio"|"video",
 *             "codec":"opus"|"VP8"|"H264","pt":N,"rtx_pt":N,"ssrc":N,
 *             "rtx_ssrc":N,"plid":N[,"layers":[{"rid":RID,"ssrc":N,
 *             "rtx_ssrc":N}...]]}...]}
 *
 * A video track of a simulcast publisher carries every layer (2 or 3, in
 * the order of the publisher's description; "layers", whose first entry
 * repeats the track's ssrc and rtx_ssrc): on the serving node one viewer
 * sink pinned to each layer (sfu_track_desc.pin_layer), on the pulling node
 * one simulcast source with those SSRCs, so the pulling node's viewers
 * choose among the layers as for a local publisher.
 */
#ifndef SIG_RELAY_MSG_H
#define SIG_RELAY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu/core/media.h"
#include "sfu/crypto/srtp.h"
#include "signaling/cluster_store.h"
#include "signaling/route.h"

#define SIG_RELAY_TRACKS_MAX 16
#define SIG_RELAY_NONCE_HEX 32          /* 128 bits as lowercase hex */
#define SIG_RELAY_ADDR_MAX 64
#define SIG_RELAY_MAX_SKEW_S 60         /* a request older or newer than this is refused */
#define SIG_RELAY_BODY_MAX 16384        /* bytes of a sealed body, either way */

typedef struct sig_relay_layer {
    char rid[SFU_RID_MAX];              /* the publisher's rid; "" when it had none */
    uint32_t ssrc, rtx_ssrc;            /* what the serving node sends this layer with */
} sig_relay_layer;

typedef struct sig_relay_track {
    char mid[SFU_MID_MAX];
    sfu_kind kind;
    sfu_codec codec;
    uint8_t pt, rtx_pt;                 /* rtx_pt 0: none (audio) */
    uint32_t ssrc, rtx_ssrc;            /* what the serving node sends with */
    uint32_t profile_level_id;          /* H.264; 0 otherwise or unknown */
    uint8_t nlayers;                    /* simulcast video: 2..SFU_MAX_LAYERS; 0: one stream */
    sig_relay_layer layers[SFU_MAX_LAYERS]; /* layers[0] has the track's ssrc, rtx_ssrc */
} sig_relay_track;

typedef struct sig_relay_request {
    char node[SIG_CLUSTER_ID_MAX + 1];  /* the pulling node */
    char room[SIG_NAME_MAX + 1];
    uint32_t participant;               /* the publisher, as the serving node numbers it */
    char addr[SIG_RELAY_ADDR_MAX];      /* the pulling node's relay socket */
    uint16_t port;
    char nonce[SIG_RELAY_NONCE_HEX + 1];
    int64_t ts;                         /* seconds since the epoch */
} sig_relay_request;

typedef struct sig_relay_response {
    char node[SIG_CLUSTER_ID_MAX + 1];  /* the serving node */
    char nonce[SIG_RELAY_NONCE_HEX + 1];
    char echo[SIG_RELAY_NONCE_HEX + 1];
    char addr[SIG_RELAY_ADDR_MAX];
    uint16_t port;
    unsigned ntracks;
    sig_relay_track tracks[SIG_RELAY_TRACKS_MAX];
} sig_relay_response;

/* Sealed texts to g_free; NULL when a field is out of range. */
char *sig_relay_request_encode(const sig_relay_request *req, const char *secret);
char *sig_relay_response_encode(const sig_relay_response *resp, const char *secret);
/* 0, or -SFU_EMALFORMED with the reason in `why` (a bad or missing seal,
 * bad JSON, a field missing or out of range, a request whose ts is more
 * than SIG_RELAY_MAX_SKEW_S from `now_s`, a response whose echo is not
 * `nonce`). `out` is filled only on success. An empty secret refuses
 * everything: relay legs need one. */
int sig_relay_request_decode(const char *text, size_t len, const char *secret, int64_t now_s,
                             sig_relay_request *out, char *why, size_t n);
int sig_relay_response_decode(const char *text, size_t len, const char *secret,
                              const char *nonce, sig_relay_response *out, char *why, size_t n);

/* The SRTP keys (AEAD_AES_128_GCM) of one end: `serving` says which. The
 * serving node's send key is the pulling node's receive key and back.
 * 0, or -SFU_EINVAL for a nonce that is not 32 hex digits or no secret. */
int sig_relay_keys(const char *secret, const char *nonce_pull, const char *nonce_serve,
                   bool serving, sfu_srtp_keys *out);

/* The serving node's tracks for a publisher's (from its registry entry):
 * mids "r0", "r1"..., payload types opus 111, VP8 96 (RTX 97), H.264 102
 * (RTX 103), SSRCs from `pick`. Tracks of other codecs are left out.
 * Returns how many were written (at most SIG_RELAY_TRACKS_MAX). */
typedef struct sig_relay_source {
    sfu_kind kind;
    sfu_codec codec;
    uint32_t profile_level_id;
} sig_relay_source;
unsigned sig_relay_tracks_make(const sig_relay_source *in, unsigned n,
                               uint32_t (*pick)(void *user), void *user, sig_relay_track *out);

/* Track `t` (of the n in `tracks`) carries the publisher's simulcast
 * `layers` (as sfu_room_source_layers gives them, at most SFU_MAX_LAYERS
 * are taken): layer 0 keeps the track's SSRCs, the others get new ones
 * from `pick`, unused by every track. No-op for fewer than 2 layers or a
 * track that is not video. */
void sig_relay_track_set_layers(sig_relay_track *tracks, unsigned n, unsigned t,
                                const sfu_layer_desc *layers, unsigned nlayers,
                                uint32_t (*pick)(void *user), void *user);

/* The legs' descriptions: on the serving node a viewer leg (every track a
 * sink with NACK and PLI; a simulcast track one sink per layer, pinned to
 * it, mids "<mid>" for layer 0 and "<mid>.<k>" for the others), on the
 * pulling node a publisher leg (every track a source with those SSRCs, a
 * simulcast track one source with its layers), both with layer_feedback
 * (the pulling end reports the layers its viewers need, the serving end
 * pauses the others: sfu/core/rtcp_layers.h). `rtcp_ssrc` is the node's
 * own for feedback. Tracks beyond SFU_MAX_TRACKS m-lines are left out. */
void sig_relay_serve_desc(const sig_relay_track *tracks, unsigned n, uint32_t rtcp_ssrc,
                          sfu_leg_desc *out);
void sig_relay_pull_desc(const sig_relay_track *tracks, unsigned n, uint32_t rtcp_ssrc,
                         sfu_leg_desc *out);

/* "opus", "VP8", "H264", as GET /rooms names codecs; SFU_CODEC_NONE for
 * anything else. */
sfu_codec sig_relay_codec_parse(const char *name);
const char *sig_relay_codec_name(sfu_codec codec);

#endif
