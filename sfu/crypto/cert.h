/* The process's DTLS certificate and certificate fingerprints.
 *
 * One sfu_cert is made at start (generated, or loaded from the PEM files the
 * config names) and shared read-only by every session: sfu_dtls_ctx_new
 * installs it into the per-role SSL_CTXs. Its SHA-256 fingerprint is what the
 * SDP announces (RFC 8122 section 5: "a=fingerprint:sha-256 AB:CD:...").
 * Immutable after construction, so any thread may read it. */
#ifndef SFU_CRYPTO_CERT_H
#define SFU_CRYPTO_CERT_H

#include "sfu/core/common.h"

#include <openssl/types.h>

/* Longest digest we handle (SHA-512) and its "AB:CD:..." text with NUL. */
#define SFU_FINGERPRINT_MAX_BYTES 64
#define SFU_FINGERPRINT_MAX_TEXT (SFU_FINGERPRINT_MAX_BYTES * 3)

/* A certificate digest as SDP carries it: the hash function's textual name
 * from the IANA registry RFC 8122 points to ("sha-1", "sha-256", "sha-384",
 * "sha-512"; stored lower case) and the raw digest bytes. */
typedef struct sfu_fingerprint {
    char algo[8];
    uint8_t len;
    uint8_t bytes[SFU_FINGERPRINT_MAX_BYTES];
} sfu_fingerprint;

typedef struct sfu_cert sfu_cert;

/* An ECDSA P-256 key and a self-signed certificate for it: random 63-bit
 * serial, subject and issuer CN=common_name ("sfu" when NULL), valid from one
 * day ago for 30 days, signed with SHA-256. NULL on failure with a message in
 * err (which may be NULL). */
sfu_cert *sfu_cert_new_self_signed(const char *common_name, char *err, size_t err_len);

/* Loads a PEM certificate and its PEM private key (any key type OpenSSL can
 * sign with) and checks that they belong together. NULL on failure with the
 * file name and reason in err. */
sfu_cert *sfu_cert_new_from_pem(const char *cert_path, const char *key_path, char *err,
                                size_t err_len);

void sfu_cert_free(sfu_cert *cert); /* NULL is a no-op */

/* Writes the certificate and key as PEM (the key file mode 0600). 0 or
 * -SFU_EINVAL with a message in err. */
int sfu_cert_write_pem(const sfu_cert *cert, const char *cert_path, const char *key_path,
                       char *err, size_t err_len);

/* The SHA-256 fingerprint, and the same as SDP text "AB:CD:...". Both live as
 * long as cert. */
const sfu_fingerprint *sfu_cert_fingerprint(const sfu_cert *cert);
const char *sfu_cert_fingerprint_text(const sfu_cert *cert);

/* Borrowed OpenSSL objects for sfu_dtls_ctx_new; valid as long as cert. */
X509 *sfu_cert_x509(const sfu_cert *cert);
EVP_PKEY *sfu_cert_key(const sfu_cert *cert);

/* Fills fp from an SDP algorithm name (case-insensitive) and raw bytes, whose
 * length must be that algorithm's digest length. -SFU_EUNSUPPORTED for an
 * unknown algorithm, -SFU_EMALFORMED for a wrong length. */
int sfu_fingerprint_set(sfu_fingerprint *fp, const char *algo, const uint8_t *bytes, size_t len);

/* Parses SDP text: algo as above, hex "AB:CD:..." (either case, colons
 * required between bytes, nothing else). -SFU_EUNSUPPORTED or -SFU_EMALFORMED. */
int sfu_fingerprint_parse(sfu_fingerprint *fp, const char *algo, const char *hex);

/* Formats fp's bytes as upper-case "AB:CD:..."; -SFU_ENOSPC when out is too
 * small (SFU_FINGERPRINT_MAX_TEXT always suffices). */
int sfu_fingerprint_format(const sfu_fingerprint *fp, char *out, size_t cap);

/* The digest of cert with algo (an SDP name) into fp. */
int sfu_fingerprint_of_x509(sfu_fingerprint *fp, const char *algo, X509 *cert);

/* Same algorithm and same bytes, compared in constant time. */
bool sfu_fingerprint_equal(const sfu_fingerprint *a, const sfu_fingerprint *b);

#endif
