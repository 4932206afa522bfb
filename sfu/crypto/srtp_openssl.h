/* OpenSSL-backed cipher and auth types for libsrtp2.
 *
 * Debian's libsrtp2 is built on NSS, which sets up a PKCS#11 context on every
 * packet. These types do the same transforms with OpenSSL EVP contexts keyed
 * once, when libsrtp initializes a stream's session keys; per packet only the
 * IV (and for GCM the AAD and tag) changes:
 *   AES-ICM 128/192/256  SRTP_AES_ICM_*   (RFC 3711 4.1.1, RFC 6188), also
 *                                          libsrtp's key derivation PRF
 *   AES-GCM 128/256      SRTP_AES_GCM_*   (RFC 7714), 8- or 16-octet tags
 *   HMAC-SHA1            SRTP_HMAC_SHA1   (RFC 3711 4.2.1, RFC 2104)
 * libsrtp keeps everything else: packet framing, replay windows, ROC, key
 * derivation. Each type carries RFC test vectors (srtp_openssl_vectors.c) as
 * its libsrtp self-test data; libsrtp runs them, and the replaced type's own,
 * before it accepts a replacement. */
#ifndef SFU_CRYPTO_SRTP_OPENSSL_H
#define SFU_CRYPTO_SRTP_OPENSSL_H

#include <srtp2/auth.h>
#include <srtp2/cipher.h>

/* Replace libsrtp's types with these. Call once, after srtp_init and before
 * any srtp_create: libsrtp's type list has no lock (sfu_srtp_init does it
 * inside its pthread_once). 0, or -SFU_EUNSUPPORTED when libsrtp refuses a
 * type (a failed self-test); types replaced before the failure stay. */
int sfu_srtp_openssl_register(void);

/* The types, by libsrtp id; NULL for an id not provided here. For tests. */
const srtp_cipher_type_t *sfu_srtp_openssl_cipher_type(srtp_cipher_type_id_t id);
const srtp_auth_type_t *sfu_srtp_openssl_auth_type(srtp_auth_type_id_t id);

/* How many times a key was set on one of these types' contexts since the
 * process started (any thread). Constant while packets flow: the per-packet
 * path sets no key. */
unsigned long sfu_srtp_openssl_key_setups(void);

#endif
