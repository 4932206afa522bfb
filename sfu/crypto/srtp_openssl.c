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
#include "sfu/crypto/srtp_openssl_vectors.h"

/* libsrtp's key lengths for the ICM and GCM types include the salt: ICM
 * keys are AES key + 14-octet salt (the counter's offset, RFC 3711 4.1.1),
 * GCM keys AES key + 12-octet salt, which libsrtp itself folds into the IV
 * (RFC 7714 8.1) and which the cipher never reads. */
#define ICM_SALT_LEN 14
#define ICM_IV_LEN 16
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

/* ---- The types ---------------------------------------------------------------- */

#define ICM_TYPE(name, desc, type_id)                                                     \
    static const srtp_cipher_type_t name##_type = {                                       \
        icm_alloc, icm_dealloc, icm_init, NULL, icm_crypt, icm_crypt, icm_set_iv, NULL,   \
        desc, &sfu_srtp_vector_##name, type_id,                                           \
    }
ICM_TYPE(icm_128, "AES-128 counter mode (OpenSSL, keyed once)", SRTP_AES_ICM_128);
ICM_TYPE(icm_192, "AES-192 counter mode (OpenSSL, keyed once)", SRTP_AES_ICM_192);
ICM_TYPE(icm_256, "AES-256 counter mode (OpenSSL, keyed once)", SRTP_AES_ICM_256);

#define GCM_TYPE(name, desc, type_id)                                                     \
    static const srtp_cipher_type_t name##_type = {                                       \
        gcm_alloc, gcm_dealloc, gcm_init, gcm_set_aad, gcm_encrypt, gcm_decrypt,          \
        gcm_set_iv, gcm_get_tag, desc, &sfu_srtp_vector_##name, type_id,                  \
    }
GCM_TYPE(gcm_128, "AES-128 GCM (OpenSSL, keyed once)", SRTP_AES_GCM_128);
GCM_TYPE(gcm_256, "AES-256 GCM (OpenSSL, keyed once)", SRTP_AES_GCM_256);

static const srtp_auth_type_t hmac_type = {
    hmac_alloc, hmac_dealloc, hmac_init, hmac_compute, hmac_update, hmac_start,
    "HMAC-SHA1 (OpenSSL, keyed once)", &sfu_srtp_vector_hmac_sha1, SRTP_HMAC_SHA1,
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
