/* DTLS-SRTP (RFC 5764) for one PeerConnection, on OpenSSL, with no socket.
 *
 * The caller feeds every received DTLS datagram (RFC 7983: first byte 20-63)
 * to sfu_dtls_handle_input and sends every datagram sfu_dtls_poll_output
 * hands back, one send per datagram. When sfu_dtls_get_state says CONNECTED,
 * sfu_dtls_get_srtp_keys gives the negotiated profile and both directions'
 * keys for sfu_srtp_session_new.
 *
 * DTLS 1.2 only; SRTP profiles AEAD_AES_256_GCM, AEAD_AES_128_GCM,
 * AES128_CM_SHA1_80 in that order of preference. Both roles present the
 * process certificate and require the peer's, whose digest must equal the
 * fingerprint from the peer's SDP (RFC 8122 section 5, RFC 8842 section 5);
 * a mismatch fails the handshake with a bad_certificate alert.
 *
 * Threads: one sfu_dtls_ctx per process, immutable, shared by all threads;
 * an sfu_dtls belongs to one thread at a time. OpenSSL's error queue is
 * per thread; these functions leave it empty. */
#ifndef SFU_CRYPTO_DTLS_H
#define SFU_CRYPTO_DTLS_H

#include "sfu/core/common.h"
#include "sfu/crypto/cert.h"
#include "sfu/crypto/srtp.h"

/* Payload bytes per datagram we send (DTLS_set_link_mtu): with UDP and IPv6
 * headers it stays under IPv6's 1280-byte minimum MTU. */
#define SFU_DTLS_MTU 1200

typedef enum sfu_dtls_role {
    SFU_DTLS_SERVER, /* we answered a=setup:passive: we wait for ClientHello */
    SFU_DTLS_CLIENT, /* we are a=setup:active: sfu_dtls_start sends ClientHello */
} sfu_dtls_role;

typedef enum sfu_dtls_state {
    SFU_DTLS_NEW,        /* nothing sent or received yet */
    SFU_DTLS_CONNECTING, /* handshake in progress */
    SFU_DTLS_CONNECTED,  /* keys available */
    SFU_DTLS_FAILED,     /* handshake or record failure; see sfu_dtls_failure */
    SFU_DTLS_CLOSED,     /* close_notify sent or received */
} sfu_dtls_state;

typedef struct sfu_dtls_ctx sfu_dtls_ctx;
typedef struct sfu_dtls sfu_dtls;

/* The per-process SSL_CTXs (one per role) using cert. The context takes its
 * own references to cert's X509 and key, so cert may be freed afterwards.
 * NULL on failure with a message in err (which may be NULL). */
sfu_dtls_ctx *sfu_dtls_ctx_new(const sfu_cert *cert, char *err, size_t err_len);
/* Sessions hold their own reference to the SSL_CTX: this may run first. */
void sfu_dtls_ctx_free(sfu_dtls_ctx *ctx); /* NULL is a no-op */

/* A session in role; the peer certificate must match (fp_algo, fp, fp_len):
 * the SDP fingerprint's algorithm name ("sha-256", also "sha-1", "sha-384",
 * "sha-512") and raw digest bytes. NULL on an unknown algorithm, a wrong
 * length, or no memory. */
sfu_dtls *sfu_dtls_new(sfu_dtls_ctx *ctx, sfu_dtls_role role, const char *fp_algo,
                       const uint8_t *fp, size_t fp_len);
void sfu_dtls_free(sfu_dtls *d); /* NULL is a no-op; sends nothing */

/* Client: sends the first flight (ClientHello). Server: nothing to do yet.
 * 0, or -SFU_ESTATE if called twice or after a failure. */
int sfu_dtls_start(sfu_dtls *d);

/* One received datagram. A server starts on its first ClientHello without
 * sfu_dtls_start. Returns 0 whether or not the bytes made sense (DTLS drops
 * bad records itself); the outcome is in sfu_dtls_get_state. -SFU_ESTATE once
 * FAILED or CLOSED, -SFU_EINVAL for an empty or oversized datagram. */
int sfu_dtls_handle_input(sfu_dtls *d, const uint8_t *data, size_t len);

/* The next datagram to send, or NULL when none is queued. The bytes stay
 * valid until the next call with d. Datagrams hold whole records, at most
 * SFU_DTLS_MTU bytes of them except for a single larger record. */
const uint8_t *sfu_dtls_poll_output(sfu_dtls *d, size_t *len);

/* Retransmission timer. OpenSSL runs it on the real clock, so `now` must be a
 * monotonic clock in microseconds (sfu_time) read just before: the result is
 * the absolute deadline now + what DTLSv1_get_timeout reports remaining, or
 * SFU_TIME_NEVER when no timer runs. The first retransmission is 100 ms after
 * a flight, doubling up to 4 s per wait. */
sfu_time sfu_dtls_poll_timeout(sfu_dtls *d, sfu_time now);

/* Call at (or after) the deadline: retransmits the last flight if due
 * (DTLSv1_handle_timeout); too many retransmissions fail the handshake.
 * 0, or -SFU_ESTATE when the session has failed or closed. */
int sfu_dtls_handle_timeout(sfu_dtls *d);

/* Sends close_notify (queue it with sfu_dtls_poll_output) and moves to
 * CLOSED. 0, or -SFU_ESTATE if not CONNECTED. */
int sfu_dtls_close(sfu_dtls *d);

/* Frees the OpenSSL session (about 40 KB) once it is no longer needed: the
 * session is CONNECTED and the peer has shown that it finished its side of
 * the handshake too (it sent SRTP or SRTCP with the keys: the caller knows),
 * so no flight will ever need retransmitting. Afterwards the session still
 * reads the peer's alerts (close_notify: CLOSED; a fatal alert: FAILED),
 * authenticated with its epoch-1 keys (dtls_tail.h), drops every other
 * record, runs no timer, and sfu_dtls_close sends the close_notify OpenSSL
 * wrote at retirement. The SRTP keys stay. 0; -SFU_ESTATE when not
 * CONNECTED, already retired or output is still queued; -SFU_EINVAL for a
 * cipher that is not AES-GCM; -SFU_ENOMEM. The session is unchanged then. */
int sfu_dtls_retire(sfu_dtls *d);
bool sfu_dtls_retired(const sfu_dtls *d);

sfu_dtls_state sfu_dtls_get_state(const sfu_dtls *d);
sfu_dtls_role sfu_dtls_get_role(const sfu_dtls *d);
const char *sfu_dtls_state_name(sfu_dtls_state state);

/* Why the session FAILED or CLOSED, a static string for logs ("peer
 * certificate does not match the SDP fingerprint", "alert received: ...");
 * "" otherwise. */
const char *sfu_dtls_failure(const sfu_dtls *d);

/* The negotiated profile and keys, local and remote by role (RFC 5764 4.2).
 * 0, or -SFU_ESTATE before CONNECTED. */
int sfu_dtls_get_srtp_keys(const sfu_dtls *d, sfu_srtp_keys *keys);

#endif
