/* What a DTLS 1.2 session still needs once its handshake is over and the
 * peer has shown it finished too (sfu_dtls_retire): the peer's epoch-1
 * record protection, to authenticate the alerts it may still send
 * (close_notify when it hangs up), and nothing else. OpenSSL's SSL object
 * keeps about 40 KB per session after the handshake (the handshake message
 * buffer, the record layer, the session), this about 60 bytes.
 *
 * Only AEAD AES-GCM records (RFC 5288), the only ciphers dtls.c offers.
 * Keys come from the session's master secret (RFC 5246 6.3, RFC 5288 3). */
#ifndef SFU_CRYPTO_DTLS_TAIL_H
#define SFU_CRYPTO_DTLS_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

typedef struct sfu_dtls_tail {
    uint8_t key[32];            /* the peer's write key */
    uint8_t salt[4];            /* the peer's write IV: the implicit nonce part */
    uint8_t key_len;            /* 16 or 32 */
} sfu_dtls_tail;

/* From a connected DTLS 1.2 session with an AES-GCM cipher; `we_are_client`
 * picks the server's keys as the peer's. 0, or -1 (another cipher, no
 * session, KDF failure). */
int sfu_dtls_tail_init(sfu_dtls_tail *t, SSL *ssl, bool we_are_client);
void sfu_dtls_tail_deinit(sfu_dtls_tail *t);

/* The alert in `rec` (one whole record, header included, RFC 6347 4.1), if
 * it is an epoch-1 alert record the peer protected: 1 with *level and *desc
 * (RFC 5246 7.2); 0 for anything else (another type or epoch, a bad tag, a
 * bad length). */
int sfu_dtls_tail_open_alert(const sfu_dtls_tail *t, const uint8_t *rec, size_t len,
                             uint8_t *level, uint8_t *desc);

#endif
