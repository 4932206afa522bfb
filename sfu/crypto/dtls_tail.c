/* The peer's epoch-1 AES-GCM record protection, kept after the SSL object
 * is freed, to authenticate its alerts. See dtls_tail.h. */
#include "sfu/crypto/dtls_tail.h"

#include "sfu/core/common.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#define RECORD_HEADER 13        /* RFC 6347 4.1 */
#define EXPLICIT_NONCE 8        /* RFC 5288 3 */
#define TAG 16
#define FIXED_IV 4
#define ALERT 21                /* ContentType alert */
#define LABEL "key expansion"   /* RFC 5246 6.3 */

int sfu_dtls_tail_init(sfu_dtls_tail *t, SSL *ssl, bool we_are_client)
{
    memset(t, 0, sizeof *t);
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    const SSL_SESSION *sess = SSL_get_session(ssl);
    if (!c || !sess || SSL_version(ssl) != DTLS1_2_VERSION)
        return -1;
    int nid = SSL_CIPHER_get_cipher_nid(c);
    size_t key_len = nid == NID_aes_128_gcm ? 16 : nid == NID_aes_256_gcm ? 32 : 0;
    const EVP_MD *md = SSL_CIPHER_get_handshake_digest(c);
    if (!key_len || !md)
        return -1;
    uint8_t master[SSL_MAX_MASTER_KEY_LENGTH];
    size_t master_len = SSL_SESSION_get_master_key(sess, master, sizeof master);
    /* seed: the label, server_random, client_random */
    uint8_t seed[sizeof LABEL - 1 + 2 * SSL3_RANDOM_SIZE];
    memcpy(seed, LABEL, sizeof LABEL - 1);
    if (SSL_get_server_random(ssl, seed + sizeof LABEL - 1, SSL3_RANDOM_SIZE) != SSL3_RANDOM_SIZE ||
        SSL_get_client_random(ssl, seed + sizeof LABEL - 1 + SSL3_RANDOM_SIZE, SSL3_RANDOM_SIZE) !=
            SSL3_RANDOM_SIZE) {
        OPENSSL_cleanse(master, sizeof master);
        return -1;
    }
    /* key_block: client_write_key, server_write_key, client_write_IV,
     * server_write_IV (no MAC keys with AEAD) */
    uint8_t block[2 * 32 + 2 * FIXED_IV];
    size_t block_len = 2 * key_len + 2 * FIXED_IV;
    int rc = -1;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, master_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof seed),
        OSSL_PARAM_construct_end(),
    };
    if (master_len && kctx && EVP_KDF_derive(kctx, block, block_len, params) == 1) {
        bool peer_is_client = !we_are_client;
        memcpy(t->key, block + (peer_is_client ? 0 : key_len), key_len);
        memcpy(t->salt, block + 2 * key_len + (peer_is_client ? 0 : FIXED_IV), FIXED_IV);
        t->key_len = (uint8_t)key_len;
        rc = 0;
    }
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    OPENSSL_cleanse(master, sizeof master);
    OPENSSL_cleanse(block, sizeof block);
    return rc;
}

void sfu_dtls_tail_deinit(sfu_dtls_tail *t) { OPENSSL_cleanse(t, sizeof *t); }

int sfu_dtls_tail_open_alert(const sfu_dtls_tail *t, const uint8_t *rec, size_t len,
                             uint8_t *level, uint8_t *desc)
{
    if (!t->key_len || len < RECORD_HEADER + EXPLICIT_NONCE + TAG || rec[0] != ALERT ||
        sfu_rd16(rec + 3) != 1)
        return 0;
    size_t frag = sfu_rd16(rec + 11);
    if (frag != len - RECORD_HEADER || frag != EXPLICIT_NONCE + 2 + TAG)
        return 0;           /* an alert is two bytes */
    const uint8_t *p = rec + RECORD_HEADER;
    uint8_t nonce[FIXED_IV + EXPLICIT_NONCE];
    memcpy(nonce, t->salt, FIXED_IV);
    memcpy(nonce + FIXED_IV, p, EXPLICIT_NONCE);
    /* RFC 5246 6.2.3.3 with DTLS's epoch and sequence number (RFC 6347
     * 4.1.2.1): seq_num, type, version, length of the plaintext */
    uint8_t aad[13];
    memcpy(aad, rec + 3, 8);
    aad[8] = rec[0];
    aad[9] = rec[1];
    aad[10] = rec[2];
    sfu_wr16(aad + 11, 2);
    uint8_t plain[2 + 16];
    int n = 0, fin = 0;
    int ok = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const EVP_CIPHER *cipher = t->key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    if (ctx && EVP_DecryptInit_ex(ctx, cipher, NULL, t->key, nonce) == 1 &&
        EVP_DecryptUpdate(ctx, NULL, &n, aad, sizeof aad) == 1 &&
        EVP_DecryptUpdate(ctx, plain, &n, p + EXPLICIT_NONCE, 2) == 1 && n == 2 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, (void *)(p + EXPLICIT_NONCE + 2)) == 1 &&
        EVP_DecryptFinal_ex(ctx, plain + 2, &fin) == 1) {
        *level = plain[0];
        *desc = plain[1];
        ok = 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}
