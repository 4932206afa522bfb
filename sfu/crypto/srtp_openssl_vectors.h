/* Self-test data of the OpenSSL SRTP types (srtp_openssl.c), in libsrtp's
 * test-case form: RFC 3711 B.2 and RFC 6188 7 (AES-ICM keystream), RFC 7714
 * 16.1.1 and 16.2.1 (AES-GCM on an RTP packet), RFC 2202 3 (HMAC-SHA1). */
#ifndef SFU_CRYPTO_SRTP_OPENSSL_VECTORS_H
#define SFU_CRYPTO_SRTP_OPENSSL_VECTORS_H

#include <srtp2/auth.h>
#include <srtp2/cipher.h>

extern const srtp_cipher_test_case_t sfu_srtp_vector_icm_128, sfu_srtp_vector_icm_192,
    sfu_srtp_vector_icm_256, sfu_srtp_vector_gcm_128, sfu_srtp_vector_gcm_256;
extern const srtp_auth_test_case_t sfu_srtp_vector_hmac_sha1;

#endif
