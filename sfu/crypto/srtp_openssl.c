#include "sfu/crypto/srtp_openssl.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <srtp2/crypto_types.h>

#include "sfu/core/common.h"

/* libsrtp's key lengths for the ICM and GCM types include the salt: ICM
 * keys are AES key + 14-octet salt (the counter's offset, RFC 3711 4.1.1),
 * GCM keys AES key + 12-octet salt, which libsrtp itself folds into the IV
 * (RFC 7714 8.1) and which the cipher never reads. */
#define ICM_SALT_LEN 14
#define ICM_IV_LEN 16
#define GCM_SALT_LEN 12
#define GCM_IV_LEN 12
#define SHA1_LEN 20
#define SHA1_BLOCK 64

static atomic_ulong key_setups;

static void count_key_setup(void)
{
    atomic_fetch_add_explicit(&key_setups, 1, memory_order_relaxed);
}

unsigned long sfu_srtp_openssl_key_setups(void)
{
    return atomic_load_explicit(&key_setups, memory_order_relaxed);
}

/* OpenSSL counts in int; libsrtp in unsigned int. */
static bool fits_int(unsigned int n) { return n <= (unsigned int)INT_MAX; }

/* ---- AES-ICM (AES-CTR) ---------------------------------------------------- */

struct icm_state {
    EVP_CIPHER_CTX *ctx; /* AES-CTR, keyed in icm_init */
    int key_size;        /* 16, 24 or 32 */
    uint8_t offset[ICM_IV_LEN]; /* the salt, two zero octets after it */
};

static const srtp_cipher_type_t icm_128_type, icm_192_type, icm_256_type;

static srtp_err_status_t icm_dealloc(srtp_cipher_t *c)
{
    if (!c)
        return srtp_err_status_ok;
    struct icm_state *st = c->state;
    if (st) {
        EVP_CIPHER_CTX_free(st->ctx);
        OPENSSL_cleanse(st, sizeof *st);
        free(st);
    }
    free(c);
    return srtp_err_status_ok;
}

/* One allocator for the three sizes, picked by the key length as libsrtp's
 * own ICM types do (its key derivation asks for an ICM cipher by the master
 * key's length). */
static srtp_err_status_t icm_alloc(srtp_cipher_t **out, int key_len, int tag_len)
{
    const srtp_cipher_type_t *type;
    const EVP_CIPHER *evp;
    (void)tag_len;
    switch (key_len) {
    case SRTP_AES_ICM_128_KEY_LEN_WSALT: type = &icm_128_type; evp = EVP_aes_128_ctr(); break;
    case SRTP_AES_ICM_192_KEY_LEN_WSALT: type = &icm_192_type; evp = EVP_aes_192_ctr(); break;
    case SRTP_AES_ICM_256_KEY_LEN_WSALT: type = &icm_256_type; evp = EVP_aes_256_ctr(); break;
    default: return srtp_err_status_bad_param;
    }
    srtp_cipher_t *c = calloc(1, sizeof *c);
    struct icm_state *st = calloc(1, sizeof *st);
    if (!c || !st)
        goto err;
    c->state = st;
    st->ctx = EVP_CIPHER_CTX_new();
    /* binds the algorithm now, so that keying and each packet fetch nothing */
    if (!st->ctx || !EVP_EncryptInit_ex(st->ctx, evp, NULL, NULL, NULL))
        goto err;
    st->key_size = key_len - ICM_SALT_LEN;
    c->type = type;
    c->algorithm = (int)type->id;
    c->key_len = key_len;
    *out = c;
    return srtp_err_status_ok;
err:
    if (c)
        icm_dealloc(c);
    else
        free(st);
    return srtp_err_status_alloc_fail;
}

static srtp_err_status_t icm_init(void *state, const uint8_t *key)
{
    struct icm_state *st = state;
    memset(st->offset, 0, sizeof st->offset);
    memcpy(st->offset, key + st->key_size, ICM_SALT_LEN);
    count_key_setup();
    if (!EVP_EncryptInit_ex(st->ctx, NULL, NULL, key, NULL))
        return srtp_err_status_init_fail;
    return srtp_err_status_ok;
}

/* RFC 3711 4.1.1: the counter block is the offset (salt) XOR the IV libsrtp
 * builds from SSRC and packet index; the key schedule stays. */
static srtp_err_status_t icm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
    struct icm_state *st = state;
    uint8_t counter[ICM_IV_LEN];
    (void)dir;
    for (size_t i = 0; i < ICM_IV_LEN; i++)
        counter[i] = st->offset[i] ^ iv[i];
    if (!EVP_EncryptInit_ex(st->ctx, NULL, NULL, NULL, counter))
        return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

/* Keystream XOR in place; consecutive calls continue the keystream, as
 * libsrtp expects when it takes a keystream prefix before the payload. */
static srtp_err_status_t icm_crypt(void *state, uint8_t *buf, unsigned int *len)
{
    struct icm_state *st = state;
    int n = 0;
    if (*len == 0)
        return srtp_err_status_ok;
    if (!fits_int(*len) || !EVP_EncryptUpdate(st->ctx, buf, &n, buf, (int)*len) ||
        n != (int)*len)
        return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

/* ---- AES-GCM ---------------------------------------------------------------- */

struct gcm_state {
    EVP_CIPHER_CTX *ctx; /* AES-GCM, keyed in gcm_init */
    int tag_len;         /* 8 or 16 */
    srtp_cipher_direction_t dir;
};

static const srtp_cipher_type_t gcm_128_type, gcm_256_type;

static srtp_err_status_t gcm_dealloc(srtp_cipher_t *c)
{
    if (!c)
        return srtp_err_status_ok;
    struct gcm_state *st = c->state;
    if (st) {
        EVP_CIPHER_CTX_free(st->ctx);
        free(st);
    }
    free(c);
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_alloc(srtp_cipher_t **out, int key_len, int tag_len)
{
    const srtp_cipher_type_t *type;
    const EVP_CIPHER *evp;
    switch (key_len) {
    case SRTP_AES_GCM_128_KEY_LEN_WSALT: type = &gcm_128_type; evp = EVP_aes_128_gcm(); break;
    case SRTP_AES_GCM_256_KEY_LEN_WSALT: type = &gcm_256_type; evp = EVP_aes_256_gcm(); break;
    default: return srtp_err_status_bad_param;
    }
    /* RFC 7714 12: 16-octet tags; libsrtp also defines 8. */
    if (tag_len != 16 && tag_len != 8)
        return srtp_err_status_bad_param;
    srtp_cipher_t *c = calloc(1, sizeof *c);
    struct gcm_state *st = calloc(1, sizeof *st);
    if (!c || !st)
        goto err;
    c->state = st;
    st->ctx = EVP_CIPHER_CTX_new();
    if (!st->ctx || !EVP_CipherInit_ex(st->ctx, evp, NULL, NULL, NULL, 1))
        goto err;
    st->tag_len = tag_len;
    st->dir = srtp_direction_any;
    c->type = type;
    c->algorithm = (int)type->id;
    c->key_len = key_len;
    *out = c;
    return srtp_err_status_ok;
err:
    if (c)
        gcm_dealloc(c);
    else
        free(st);
    return srtp_err_status_alloc_fail;
}

static srtp_err_status_t gcm_init(void *state, const uint8_t *key)
{
    struct gcm_state *st = state;
    st->dir = srtp_direction_any;
    count_key_setup();
    if (!EVP_CipherInit_ex(st->ctx, NULL, NULL, key, NULL, 1))
        return srtp_err_status_init_fail;
    return srtp_err_status_ok;
}

/* A new message: the 12-octet IV and the direction (a tag can only be set
 * for decryption). The key schedule and GHASH key stay. */
static srtp_err_status_t gcm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
    struct gcm_state *st = state;
    if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
        return srtp_err_status_bad_param;
    st->dir = dir;
    if (!EVP_CipherInit_ex(st->ctx, NULL, NULL, NULL, iv, dir == srtp_direction_encrypt))
        return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

/* May be called more than once per message (SRTCP: header, then index). */
static srtp_err_status_t gcm_set_aad(void *state, const uint8_t *aad, uint32_t aad_len)
{
    struct gcm_state *st = state;
    int n;
    if (st->dir == srtp_direction_any)
        return srtp_err_status_bad_param;
    if (aad_len == 0)
        return srtp_err_status_ok;
    if (!fits_int(aad_len) || !EVP_CipherUpdate(st->ctx, NULL, &n, aad, (int)aad_len))
        return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_encrypt(void *state, uint8_t *buf, unsigned int *len)
{
    struct gcm_state *st = state;
    int n = 0;
    if (st->dir != srtp_direction_encrypt)
        return srtp_err_status_bad_param;
    if (*len == 0) /* SRTCP without encryption: only the tag */
        return srtp_err_status_ok;
    if (!fits_int(*len) || !EVP_CipherUpdate(st->ctx, buf, &n, buf, (int)*len) || n != (int)*len)
        return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

/* After encrypt: finish the message and write its tag. */
static srtp_err_status_t gcm_get_tag(void *state, uint8_t *tag, uint32_t *len)
{
    struct gcm_state *st = state;
    uint8_t none[16];
    int n = 0;
    if (st->dir != srtp_direction_encrypt)
        return srtp_err_status_bad_param;
    if (!EVP_CipherFinal_ex(st->ctx, none, &n) ||
        !EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_AEAD_GET_TAG, st->tag_len, tag))
        return srtp_err_status_algo_fail;
    *len = (uint32_t)st->tag_len;
    return srtp_err_status_ok;
}

/* buf holds ciphertext then tag; on success *len drops the tag. */
static srtp_err_status_t gcm_decrypt(void *state, uint8_t *buf, unsigned int *len)
{
    struct gcm_state *st = state;
    uint8_t none[16];
    int n = 0;
    if (st->dir != srtp_direction_decrypt)
        return srtp_err_status_bad_param;
    if (*len < (unsigned int)st->tag_len || !fits_int(*len))
        return srtp_err_status_bad_param;
    unsigned int body = *len - (unsigned int)st->tag_len;
    if (!EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_AEAD_SET_TAG, st->tag_len, buf + body))
        return srtp_err_status_cipher_fail;
    if (body > 0 && (!EVP_CipherUpdate(st->ctx, buf, &n, buf, (int)body) || n != (int)body))
        return srtp_err_status_cipher_fail;
    if (EVP_CipherFinal_ex(st->ctx, none, &n) <= 0)
        return srtp_err_status_auth_fail;
    *len = body;
    return srtp_err_status_ok;
}

/* ---- HMAC-SHA1 ----------------------------------------------------------------
 * RFC 2104 with both padded-key blocks hashed once at init: a packet costs
 * two context copies instead of two key blocks. Faster with OpenSSL 3.0 than
 * re-initializing an EVP_MAC or HMAC_CTX, or duplicating an EVP_MAC_CTX
 * (bench/README.md). */

struct hmac_state {
    EVP_MD_CTX *inner; /* SHA-1 after (key ^ ipad) */
    EVP_MD_CTX *outer; /* SHA-1 after (key ^ opad) */
    EVP_MD_CTX *work;
    bool started; /* work holds inner plus this message so far */
};

static const srtp_auth_type_t hmac_type;

static srtp_err_status_t hmac_dealloc(srtp_auth_t *a)
{
    if (!a)
        return srtp_err_status_ok;
    struct hmac_state *st = a->state;
    if (st) {
        EVP_MD_CTX_free(st->inner);
        EVP_MD_CTX_free(st->outer);
        EVP_MD_CTX_free(st->work);
        free(st);
    }
    free(a);
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_alloc(srtp_auth_t **out, int key_len, int out_len)
{
    if (key_len < 0 || out_len < 1 || out_len > SHA1_LEN)
        return srtp_err_status_bad_param;
    srtp_auth_t *a = calloc(1, sizeof *a);
    struct hmac_state *st = calloc(1, sizeof *st);
    if (!a || !st)
        goto err;
    a->state = st;
    st->inner = EVP_MD_CTX_new();
    st->outer = EVP_MD_CTX_new();
    st->work = EVP_MD_CTX_new();
    if (!st->inner || !st->outer || !st->work)
        goto err;
    a->type = &hmac_type;
    a->out_len = out_len;
    a->key_len = key_len;
    a->prefix_len = 0;
    *out = a;
    return srtp_err_status_ok;
err:
    if (a)
        hmac_dealloc(a);
    else
        free(st);
    return srtp_err_status_alloc_fail;
}

static bool start_pad(EVP_MD_CTX *ctx, const uint8_t *key, size_t key_len, uint8_t pad)
{
    uint8_t block[SHA1_BLOCK];
    for (size_t i = 0; i < SHA1_BLOCK; i++)
        block[i] = (uint8_t)((i < key_len ? key[i] : 0) ^ pad);
    bool ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) && EVP_DigestUpdate(ctx, block, sizeof block);
    OPENSSL_cleanse(block, sizeof block);
    return ok;
}

static srtp_err_status_t hmac_start(void *state)
{
    struct hmac_state *st = state;
    if (!EVP_MD_CTX_copy_ex(st->work, st->inner))
        return srtp_err_status_auth_fail;
    st->started = true;
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_init(void *state, const uint8_t *key, int key_len)
{
    struct hmac_state *st = state;
    uint8_t hashed[SHA1_LEN];
    unsigned int hashed_len = 0;
    if (key_len < 0)
        return srtp_err_status_bad_param;
    count_key_setup();
    /* RFC 2104 2: a key longer than the block is hashed first */
    if (key_len > SHA1_BLOCK) {
        if (!EVP_Digest(key, (size_t)key_len, hashed, &hashed_len, EVP_sha1(), NULL))
            return srtp_err_status_init_fail;
        key = hashed;
        key_len = (int)hashed_len;
    }
    bool ok = start_pad(st->inner, key, (size_t)key_len, 0x36) &&
              start_pad(st->outer, key, (size_t)key_len, 0x5c);
    OPENSSL_cleanse(hashed, sizeof hashed);
    if (!ok)
        return srtp_err_status_init_fail;
    /* libsrtp's self-test computes right after init, without start */
    return hmac_start(st);
}

static srtp_err_status_t hmac_update(void *state, const uint8_t *buf, int len)
{
    struct hmac_state *st = state;
    if (len < 0)
        return srtp_err_status_bad_param;
    if (!st->started && hmac_start(st) != srtp_err_status_ok)
        return srtp_err_status_auth_fail;
    if (len > 0 && !EVP_DigestUpdate(st->work, buf, (size_t)len))
        return srtp_err_status_auth_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_compute(void *state, const uint8_t *buf, int len, int tag_len,
                                      uint8_t *tag)
{
    struct hmac_state *st = state;
    uint8_t digest[SHA1_LEN];
    unsigned int n = 0;
    if (tag_len < 1 || tag_len > SHA1_LEN)
        return srtp_err_status_bad_param;
    srtp_err_status_t err = hmac_update(st, buf, len);
    if (err != srtp_err_status_ok)
        return err;
    st->started = false;
    if (!EVP_DigestFinal_ex(st->work, digest, &n) || !EVP_MD_CTX_copy_ex(st->work, st->outer) ||
        !EVP_DigestUpdate(st->work, digest, n) || !EVP_DigestFinal_ex(st->work, digest, &n))
        return srtp_err_status_auth_fail;
    memcpy(tag, digest, (size_t)tag_len);
    return srtp_err_status_ok;
}

/* ---- Self-test data: published test vectors --------------------------------- */

static const uint8_t zeros48[48];
static const uint8_t zero_iv[ICM_IV_LEN];

/* RFC 3711 B.2: AES-CM keystream, session key and salt, index 0. */
static const uint8_t icm_128_key[] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const uint8_t icm_128_stream[] = {
    0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
    0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
    0x41, 0xe9, 0x5b, 0x3b, 0xb0, 0xa2, 0xe8, 0xdd, 0x47, 0x79, 0x01, 0xe4, 0xfc, 0xa8, 0x94, 0xc0,
};
/* RFC 6188 7.1 and 7.2: AES-192-CM and AES-256-CM keystream, same salt. */
static const uint8_t icm_192_key[] = {
    0xea, 0xb2, 0x34, 0x76, 0x4e, 0x51, 0x7b, 0x2d, 0x3d, 0x16, 0x0d, 0x58, 0x7d, 0x8c, 0x86, 0x21,
    0x97, 0x40, 0xf6, 0x5f, 0x99, 0xb6, 0xbc, 0xf7,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const uint8_t icm_192_stream[] = {
    0x35, 0x09, 0x6c, 0xba, 0x46, 0x10, 0x02, 0x8d, 0xc1, 0xb5, 0x75, 0x03, 0x80, 0x4c, 0xe3, 0x7c,
    0x5d, 0xe9, 0x86, 0x29, 0x1d, 0xcc, 0xe1, 0x61, 0xd5, 0x16, 0x5e, 0xc4, 0x56, 0x8f, 0x5c, 0x9a,
    0x47, 0x4a, 0x40, 0xc7, 0x78, 0x94, 0xbc, 0x17, 0x18, 0x02, 0x02, 0x27, 0x2a, 0x4c, 0x26, 0x4d,
};
static const uint8_t icm_256_key[] = {
    0x57, 0xf8, 0x2f, 0xe3, 0x61, 0x3f, 0xd1, 0x70, 0xa8, 0x5e, 0xc9, 0x3c, 0x40, 0xb1, 0xf0, 0x92,
    0x2e, 0xc4, 0xcb, 0x0d, 0xc0, 0x25, 0xb5, 0x82, 0x72, 0x14, 0x7c, 0xc4, 0x38, 0x94, 0x4a, 0x98,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const uint8_t icm_256_stream[] = {
    0x92, 0xbd, 0xd2, 0x8a, 0x93, 0xc3, 0xf5, 0x25, 0x11, 0xc6, 0x77, 0xd0, 0x8b, 0x55, 0x15, 0xa4,
    0x9d, 0xa7, 0x1b, 0x23, 0x78, 0xa8, 0x54, 0xf6, 0x70, 0x50, 0x75, 0x6d, 0xed, 0x16, 0x5b, 0xac,
    0x63, 0xc4, 0x86, 0x8b, 0x70, 0x96, 0xd8, 0x84, 0x21, 0xb5, 0x63, 0xb8, 0xc9, 0x4c, 0x9a, 0x31,
};

#define ICM_CASE(name)                                                                    \
    static const srtp_cipher_test_case_t name##_case = {                                  \
        sizeof name##_key, name##_key, (uint8_t *)zero_iv, sizeof zeros48, zeros48,       \
        sizeof name##_stream, name##_stream, 0, NULL, 0, NULL,                            \
    }
ICM_CASE(icm_128);
ICM_CASE(icm_192);
ICM_CASE(icm_256);

/* RFC 7714 16.1.1 and 16.2.1: an RTP packet (header as AAD, SSRC 0x5501a0b2,
 * SEQ 0xf17b, ROC 0) under AES-128-GCM and AES-256-GCM. The key is followed
 * by the salt ("Quid pro quo"), the IV is salt XOR (SSRC, ROC, SEQ). */
static const uint8_t gcm_128_key[] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x51, 0x75, 0x69, 0x64, 0x20, 0x70, 0x72, 0x6f, 0x20, 0x71, 0x75, 0x6f,
};
static const uint8_t gcm_256_key[] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x51, 0x75, 0x69, 0x64, 0x20, 0x70, 0x72, 0x6f, 0x20, 0x71, 0x75, 0x6f,
};
static const uint8_t gcm_iv[GCM_IV_LEN] = {
    0x51, 0x75, 0x3c, 0x65, 0x80, 0xc2, 0x72, 0x6f, 0x20, 0x71, 0x84, 0x14,
};
static const uint8_t gcm_aad[] = {
    0x80, 0x40, 0xf1, 0x7b, 0x80, 0x41, 0xf8, 0xd3, 0x55, 0x01, 0xa0, 0xb2,
};
static const uint8_t gcm_plain[] = "Gallia est omnis divisa in partes tres";
static const uint8_t gcm_128_sealed[] = {
    0xf2, 0x4d, 0xe3, 0xa3, 0xfb, 0x34, 0xde, 0x6c, 0xac, 0xba, 0x86, 0x1c, 0x9d, 0x7e, 0x4b, 0xca,
    0xbe, 0x63, 0x3b, 0xd5, 0x0d, 0x29, 0x4e, 0x6f, 0x42, 0xa5, 0xf4, 0x7a, 0x51, 0xc7, 0xd1, 0x9b,
    0x36, 0xde, 0x3a, 0xdf, 0x88, 0x33, 0x89, 0x9d, 0x7f, 0x27, 0xbe, 0xb1, 0x6a, 0x91, 0x52, 0xcf,
    0x76, 0x5e, 0xe4, 0x39, 0x0c, 0xce,
};
static const uint8_t gcm_256_sealed[] = {
    0x32, 0xb1, 0xde, 0x78, 0xa8, 0x22, 0xfe, 0x12, 0xef, 0x9f, 0x78, 0xfa, 0x33, 0x2e, 0x33, 0xaa,
    0xb1, 0x80, 0x12, 0x38, 0x9a, 0x58, 0xe2, 0xf3, 0xb5, 0x0b, 0x2a, 0x02, 0x76, 0xff, 0xae, 0x0f,
    0x1b, 0xa6, 0x37, 0x99, 0xb8, 0x7b, 0x7a, 0xa3, 0xdb, 0x36, 0xdf, 0xff, 0xd6, 0xb0, 0xf9, 0xbb,
    0x78, 0x78, 0xd7, 0xa7, 0x6c, 0x13,
};

#define GCM_CASE(name)                                                                    \
    static const srtp_cipher_test_case_t name##_case = {                                  \
        sizeof name##_key, name##_key, (uint8_t *)gcm_iv, sizeof gcm_plain - 1, gcm_plain, \
        sizeof name##_sealed, name##_sealed, sizeof gcm_aad, gcm_aad, 16, NULL,           \
    }
GCM_CASE(gcm_128);
GCM_CASE(gcm_256);

/* RFC 2202 3: HMAC-SHA1 test cases 1, 2, 3 and 6 (a key longer than the
 * block); case 1 again with the 80-bit tag SRTP uses. */
static const uint8_t hmac_key_1[20] = {
    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
};
static const uint8_t hmac_data_1[] = "Hi There";
static const uint8_t hmac_tag_1[] = {
    0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
    0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00,
};
static const uint8_t hmac_key_2[] = "Jefe";
static const uint8_t hmac_data_2[] = "what do ya want for nothing?";
static const uint8_t hmac_tag_2[] = {
    0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
    0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79,
};
#define TEN(v) v, v, v, v, v, v, v, v, v, v
static const uint8_t hmac_key_3[20] = { TEN(0xaa), TEN(0xaa) };
static const uint8_t hmac_data_3[50] = { TEN(0xdd), TEN(0xdd), TEN(0xdd), TEN(0xdd), TEN(0xdd) };
static const uint8_t hmac_tag_3[] = {
    0x12, 0x5d, 0x73, 0x42, 0xb9, 0xac, 0x11, 0xcd, 0x91, 0xa3,
    0x9a, 0xf4, 0x8a, 0xa1, 0x7b, 0x4f, 0x63, 0xf1, 0x75, 0xd3,
};
static const uint8_t hmac_key_6[80] = {
    TEN(0xaa), TEN(0xaa), TEN(0xaa), TEN(0xaa), TEN(0xaa), TEN(0xaa), TEN(0xaa), TEN(0xaa),
};
static const uint8_t hmac_data_6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
static const uint8_t hmac_tag_6[] = {
    0xaa, 0x4a, 0xe5, 0xe1, 0x52, 0x72, 0xd0, 0x0e, 0x95, 0x70,
    0x56, 0x37, 0xce, 0x8a, 0x3b, 0x55, 0xed, 0x40, 0x21, 0x12,
};

static const srtp_auth_test_case_t hmac_case_1_80 = {
    sizeof hmac_key_1, hmac_key_1, sizeof hmac_data_1 - 1, hmac_data_1, 10, hmac_tag_1, NULL,
};
static const srtp_auth_test_case_t hmac_case_6 = {
    sizeof hmac_key_6, hmac_key_6, sizeof hmac_data_6 - 1, hmac_data_6, 20, hmac_tag_6,
    &hmac_case_1_80,
};
static const srtp_auth_test_case_t hmac_case_3 = {
    sizeof hmac_key_3, hmac_key_3, sizeof hmac_data_3, hmac_data_3, 20, hmac_tag_3, &hmac_case_6,
};
static const srtp_auth_test_case_t hmac_case_2 = {
    sizeof hmac_key_2 - 1, hmac_key_2, sizeof hmac_data_2 - 1, hmac_data_2, 20, hmac_tag_2,
    &hmac_case_3,
};
static const srtp_auth_test_case_t hmac_case_1 = {
    sizeof hmac_key_1, hmac_key_1, sizeof hmac_data_1 - 1, hmac_data_1, 20, hmac_tag_1,
    &hmac_case_2,
};

/* ---- The types ---------------------------------------------------------------- */

#define ICM_TYPE(name, desc, type_id)                                                     \
    static const srtp_cipher_type_t name##_type = {                                       \
        icm_alloc, icm_dealloc, icm_init, NULL, icm_crypt, icm_crypt, icm_set_iv, NULL,   \
        desc, &name##_case, type_id,                                                      \
    }
ICM_TYPE(icm_128, "AES-128 counter mode (OpenSSL, keyed once)", SRTP_AES_ICM_128);
ICM_TYPE(icm_192, "AES-192 counter mode (OpenSSL, keyed once)", SRTP_AES_ICM_192);
ICM_TYPE(icm_256, "AES-256 counter mode (OpenSSL, keyed once)", SRTP_AES_ICM_256);

#define GCM_TYPE(name, desc, type_id)                                                     \
    static const srtp_cipher_type_t name##_type = {                                       \
        gcm_alloc, gcm_dealloc, gcm_init, gcm_set_aad, gcm_encrypt, gcm_decrypt,          \
        gcm_set_iv, gcm_get_tag, desc, &name##_case, type_id,                             \
    }
GCM_TYPE(gcm_128, "AES-128 GCM (OpenSSL, keyed once)", SRTP_AES_GCM_128);
GCM_TYPE(gcm_256, "AES-256 GCM (OpenSSL, keyed once)", SRTP_AES_GCM_256);

static const srtp_auth_type_t hmac_type = {
    hmac_alloc, hmac_dealloc, hmac_init, hmac_compute, hmac_update, hmac_start,
    "HMAC-SHA1 (OpenSSL, keyed once)", &hmac_case_1, SRTP_HMAC_SHA1,
};

static const srtp_cipher_type_t *const cipher_types[] = {
    &icm_128_type, &icm_192_type, &icm_256_type, &gcm_128_type, &gcm_256_type,
};

const srtp_cipher_type_t *sfu_srtp_openssl_cipher_type(srtp_cipher_type_id_t id)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(cipher_types); i++)
        if (cipher_types[i]->id == id)
            return cipher_types[i];
    return NULL;
}

const srtp_auth_type_t *sfu_srtp_openssl_auth_type(srtp_auth_type_id_t id)
{
    return id == SRTP_HMAC_SHA1 ? &hmac_type : NULL;
}

int sfu_srtp_openssl_register(void)
{
    /* The key derivation runs on ICM: replace it first, then the rest. */
    for (size_t i = 0; i < SFU_ARRAY_LEN(cipher_types); i++)
        if (srtp_replace_cipher_type(cipher_types[i], cipher_types[i]->id) != srtp_err_status_ok)
            return -SFU_EUNSUPPORTED;
    if (srtp_replace_auth_type(&hmac_type, SRTP_HMAC_SHA1) != srtp_err_status_ok)
        return -SFU_EUNSUPPORTED;
    return 0;
}
