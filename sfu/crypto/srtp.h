/* SRTP and SRTCP for one PeerConnection, on libsrtp2.
 *
 * A session holds two libsrtp contexts: inbound (the remote master key, any
 * SSRC the peer sends) and outbound (our master key, any SSRC we send, repeat
 * transmissions allowed because RTX-less retransmissions reuse sequence
 * numbers). Keys come from DTLS-SRTP (sfu_dtls_get_srtp_keys).
 * Everything works in place. A session belongs to one thread at a time;
 * different sessions may be used on different threads at once. */
#ifndef SFU_CRYPTO_SRTP_H
#define SFU_CRYPTO_SRTP_H

#include "sfu/core/common.h"

/* SRTP protection profiles, valued as their DTLS-SRTP ids (RFC 5764 4.1.2,
 * RFC 7714 14.2), listed in our order of preference. */
typedef enum sfu_srtp_profile {
    SFU_SRTP_AEAD_AES_256_GCM = 0x0008,
    SFU_SRTP_AEAD_AES_128_GCM = 0x0007,
    SFU_SRTP_AES128_CM_SHA1_80 = 0x0001,
} sfu_srtp_profile;

#define SFU_SRTP_MAX_KEY_LEN 32  /* AES-256 */
#define SFU_SRTP_MAX_SALT_LEN 14 /* AES-CM; the GCM profiles use 12 */

/* Tailroom a caller must leave after every packet handed to protect: the
 * longest SRTP tag plus MKI, plus the 4-byte SRTCP index (libsrtp's
 * SRTP_MAX_TRAILER_LEN + 4). */
#define SFU_SRTP_MAX_TRAILER_LEN 148

/* Errors beyond common.h's, negated like them, so the caller can count drops
 * by reason. */
enum sfu_srtp_error {
    SFU_SRTP_EAUTH = 64,   /* authentication tag did not verify */
    SFU_SRTP_EREPLAY = 65, /* index already seen or older than the window */
};

/* Master keys and salts for both directions, as DTLS-SRTP exports them. Only
 * the first key_len / salt_len bytes of each array are used. */
typedef struct sfu_srtp_keys {
    sfu_srtp_profile profile;
    uint8_t local_key[SFU_SRTP_MAX_KEY_LEN];
    uint8_t local_salt[SFU_SRTP_MAX_SALT_LEN];
    uint8_t remote_key[SFU_SRTP_MAX_KEY_LEN];
    uint8_t remote_salt[SFU_SRTP_MAX_SALT_LEN];
} sfu_srtp_keys;

typedef struct sfu_srtp_session sfu_srtp_session;

/* Master key and salt lengths of a profile; -SFU_EUNSUPPORTED if unknown. */
int sfu_srtp_profile_lengths(sfu_srtp_profile profile, size_t *key_len, size_t *salt_len);
/* The RFC name ("SRTP_AEAD_AES_128_GCM"), or "unknown". */
const char *sfu_srtp_profile_name(sfu_srtp_profile profile);

/* srtp_init and the OpenSSL crypto types (srtp_openssl.h), once per process,
 * safe to call from any thread any number of
 * times; sfu_srtp_session_new calls it. 0 or -SFU_EUNSUPPORTED. */
int sfu_srtp_init(void);

/* NULL on a bad profile or when libsrtp refuses the keys. */
sfu_srtp_session *sfu_srtp_session_new(const sfu_srtp_keys *keys);
void sfu_srtp_session_free(sfu_srtp_session *s); /* NULL is a no-op */

/* Protect in place: *len grows by the tag (and SRTCP index). The buffer must
 * have SFU_SRTP_MAX_TRAILER_LEN bytes of room after the packet.
 * 0, -SFU_EMALFORMED (not RTP/RTCP), or -SFU_EINVAL. */
/* Asks the memory for the outbound context a protect starts from (a hint). */
void sfu_srtp_session_prefetch_out(const sfu_srtp_session *s);
int sfu_srtp_session_protect_rtp(sfu_srtp_session *s, uint8_t *pkt, size_t *len);
int sfu_srtp_session_protect_rtcp(sfu_srtp_session *s, uint8_t *pkt, size_t *len);

/* Unprotect in place: *len shrinks to the plain packet. 0, -SFU_SRTP_EAUTH,
 * -SFU_SRTP_EREPLAY, or -SFU_EMALFORMED (too short, or anything else libsrtp
 * rejects). */
int sfu_srtp_session_unprotect_rtp(sfu_srtp_session *s, uint8_t *pkt, size_t *len);
int sfu_srtp_session_unprotect_rtcp(sfu_srtp_session *s, uint8_t *pkt, size_t *len);

/* sfu_strerror that also knows the SRTP codes. */
const char *sfu_srtp_strerror(int err);

#endif
