#include "sfu/crypto/cert.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

struct sfu_cert {
    X509 *x509;
    EVP_PKEY *key;
    sfu_fingerprint sha256;
    char sha256_text[SFU_FINGERPRINT_MAX_TEXT];
};

#define DAY_SECONDS (24L * 60 * 60)

/* Writes "what: reason" into err, the reason being OpenSSL's last error if
 * any; clears OpenSSL's error queue so it does not leak into later calls. */
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0) {
        ERR_clear_error();
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    unsigned long e = ERR_peek_last_error();
    if (e && n >= 0 && (size_t)n + 3 < err_len) {
        char reason[256];
        ERR_error_string_n(e, reason, sizeof reason);
        snprintf(err + n, err_len - (size_t)n, ": %s", reason);
    }
    ERR_clear_error();
}

/* RFC 8122 section 5 names the hash functions as in the IANA "Hash Function
 * Textual Names" registry. */
static const struct {
    const char *name;
    const EVP_MD *(*md)(void);
    uint8_t len;
} digests[] = {
    { "sha-1", EVP_sha1, 20 },
    { "sha-256", EVP_sha256, 32 },
    { "sha-384", EVP_sha384, 48 },
    { "sha-512", EVP_sha512, 64 },
};

static int find_digest(const char *algo)
{
    for (size_t i = 0; algo && i < SFU_ARRAY_LEN(digests); i++)
        if (strcasecmp(algo, digests[i].name) == 0)
            return (int)i;
    return -1;
}

int sfu_fingerprint_set(sfu_fingerprint *fp, const char *algo, const uint8_t *bytes, size_t len)
{
    int i = find_digest(algo);
    if (i < 0)
        return -SFU_EUNSUPPORTED;
    if (len != digests[i].len || !bytes)
        return -SFU_EMALFORMED;
    memset(fp, 0, sizeof *fp);
    snprintf(fp->algo, sizeof fp->algo, "%s", digests[i].name);
    fp->len = digests[i].len;
    memcpy(fp->bytes, bytes, len);
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int sfu_fingerprint_parse(sfu_fingerprint *fp, const char *algo, const char *hex)
{
    uint8_t bytes[SFU_FINGERPRINT_MAX_BYTES];
    size_t n = 0;
    if (find_digest(algo) < 0)
        return -SFU_EUNSUPPORTED;
    if (!hex)
        return -SFU_EMALFORMED;
    for (const char *p = hex;; p += 3) {
        int hi = hex_value(p[0]), lo = hi < 0 ? -1 : hex_value(p[1]);
        if (lo < 0 || n == sizeof bytes)
            return -SFU_EMALFORMED;
        bytes[n++] = (uint8_t)(hi << 4 | lo);
        if (p[2] == '\0')
            break;
        if (p[2] != ':')
            return -SFU_EMALFORMED;
    }
    return sfu_fingerprint_set(fp, algo, bytes, n);
}

int sfu_fingerprint_format(const sfu_fingerprint *fp, char *out, size_t cap)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t need = fp->len ? (size_t)fp->len * 3 : 1;
    if (cap < need)
        return -SFU_ENOSPC;
    for (size_t i = 0; i < fp->len; i++) {
        out[3 * i] = digits[fp->bytes[i] >> 4];
        out[3 * i + 1] = digits[fp->bytes[i] & 15];
        out[3 * i + 2] = ':';
    }
    out[need - 1] = '\0';
    return 0;
}

int sfu_fingerprint_of_x509(sfu_fingerprint *fp, const char *algo, X509 *cert)
{
    int i = find_digest(algo);
    if (i < 0)
        return -SFU_EUNSUPPORTED;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!cert || X509_digest(cert, digests[i].md(), md, &len) != 1) {
        ERR_clear_error();
        return -SFU_EINVAL;
    }
    return sfu_fingerprint_set(fp, algo, md, len);
}

bool sfu_fingerprint_equal(const sfu_fingerprint *a, const sfu_fingerprint *b)
{
    return a->len == b->len && a->len > 0 && strcmp(a->algo, b->algo) == 0 &&
           CRYPTO_memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* Takes ownership of x509 and key (freed on failure too). */
static sfu_cert *cert_wrap(X509 *x509, EVP_PKEY *key, char *err, size_t err_len)
{
    sfu_cert *cert = calloc(1, sizeof *cert);
    if (!cert) {
        set_err(err, err_len, "certificate: out of memory");
        goto err;
    }
    cert->x509 = x509;
    cert->key = key;
    if (sfu_fingerprint_of_x509(&cert->sha256, "sha-256", x509) != 0 ||
        sfu_fingerprint_format(&cert->sha256, cert->sha256_text, sizeof cert->sha256_text) != 0) {
        set_err(err, err_len, "certificate: cannot compute its fingerprint");
        free(cert);
        goto err;
    }
    return cert;
err:
    X509_free(x509);
    EVP_PKEY_free(key);
    return NULL;
}

/* A positive random serial that fits 63 bits (RFC 5280 4.1.2.2: at most 20
 * octets, non-negative). */
static int set_random_serial(X509 *x509)
{
    BIGNUM *bn = BN_new();
    int ok = bn && BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
             !BN_is_zero(bn) && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x509)) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

sfu_cert *sfu_cert_new_self_signed(const char *common_name, char *err, size_t err_len)
{
    X509 *x509 = NULL;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    const char *cn = common_name ? common_name : "sfu";
    if (!key) {
        set_err(err, err_len, "certificate: P-256 key generation failed");
        goto err;
    }
    x509 = X509_new();
    X509_NAME *name = x509 ? X509_get_subject_name(x509) : NULL;
    if (!name || X509_set_version(x509, X509_VERSION_3) != 1 || set_random_serial(x509) != 0 ||
        !X509_gmtime_adj(X509_getm_notBefore(x509), -DAY_SECONDS) ||
        !X509_gmtime_adj(X509_getm_notAfter(x509), 29 * DAY_SECONDS) ||
        X509_set_pubkey(x509, key) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x509, name) != 1 || X509_sign(x509, key, EVP_sha256()) <= 0) {
        set_err(err, err_len, "certificate: building the self-signed certificate failed");
        goto err;
    }
    return cert_wrap(x509, key, err, err_len);
err:
    X509_free(x509);
    EVP_PKEY_free(key);
    return NULL;
}

sfu_cert *sfu_cert_new_from_pem(const char *cert_path, const char *key_path, char *err,
                                size_t err_len)
{
    X509 *x509 = NULL;
    EVP_PKEY *key = NULL;
    FILE *f = cert_path ? fopen(cert_path, "r") : NULL;
    if (!f) {
        set_err(err, err_len, "%s: cannot open certificate file", cert_path ? cert_path : "(null)");
        goto err;
    }
    x509 = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x509) {
        set_err(err, err_len, "%s: no PEM certificate", cert_path);
        goto err;
    }
    f = key_path ? fopen(key_path, "r") : NULL;
    if (!f) {
        set_err(err, err_len, "%s: cannot open key file", key_path ? key_path : "(null)");
        goto err;
    }
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!key) {
        set_err(err, err_len, "%s: no PEM private key (encrypted keys are not supported)", key_path);
        goto err;
    }
    if (X509_check_private_key(x509, key) != 1) {
        set_err(err, err_len, "%s: key does not match certificate %s", key_path, cert_path);
        goto err;
    }
    return cert_wrap(x509, key, err, err_len);
err:
    X509_free(x509);
    EVP_PKEY_free(key);
    return NULL;
}

void sfu_cert_free(sfu_cert *cert)
{
    if (!cert)
        return;
    X509_free(cert->x509);
    EVP_PKEY_free(cert->key);
    free(cert);
}

int sfu_cert_write_pem(const sfu_cert *cert, const char *cert_path, const char *key_path,
                       char *err, size_t err_len)
{
    FILE *f = fopen(cert_path, "w");
    int ok = f && PEM_write_X509(f, cert->x509) == 1;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        set_err(err, err_len, "%s: cannot write certificate", cert_path);
        return -SFU_EINVAL;
    }
    int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f && fd >= 0)
        close(fd);
    ok = f && PEM_write_PrivateKey(f, cert->key, NULL, NULL, 0, NULL, NULL) == 1;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        set_err(err, err_len, "%s: cannot write key", key_path);
        return -SFU_EINVAL;
    }
    return 0;
}

const sfu_fingerprint *sfu_cert_fingerprint(const sfu_cert *cert) { return &cert->sha256; }
const char *sfu_cert_fingerprint_text(const sfu_cert *cert) { return cert->sha256_text; }
X509 *sfu_cert_x509(const sfu_cert *cert) { return cert->x509; }
EVP_PKEY *sfu_cert_key(const sfu_cert *cert) { return cert->key; }
