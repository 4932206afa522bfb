/* base64url (RFC 4648 section 5) without padding, as JWS compact
 * serialization uses it (RFC 7515 section 2). The decoder is strict: only
 * the 64 URL-safe characters, no '=' padding, no whitespace, no length that
 * no encoder produces (len % 4 == 1), and the unused low bits of the last
 * character must be zero (RFC 4648 section 3.5), so every byte string has
 * exactly one accepted encoding and a token cannot be altered without
 * changing the bytes it carries. */
#ifndef SIG_BASE64URL_H
#define SIG_BASE64URL_H

#include <stddef.h>
#include <stdint.h>

#include "sfu/core/common.h"

/* Characters needed for `n` bytes, without the NUL. */
size_t sig_base64url_encoded_len(size_t n);

/* Upper bound of the bytes `len` characters decode to. */
size_t sig_base64url_decoded_max(size_t len);

/* Writes the encoding of `in` and a NUL into `out`. Returns the length, or
 * -SFU_ENOSPC when `outsize` is below sig_base64url_encoded_len(n) + 1. */
int sig_base64url_encode(const uint8_t *in, size_t n, char *out, size_t outsize);

/* Decodes `len` characters into `out`. Returns 0 with *outlen set,
 * -SFU_EMALFORMED for anything the strict rules above refuse, or
 * -SFU_ENOSPC when `outsize` is too small. */
int sig_base64url_decode(const char *in, size_t len, uint8_t *out, size_t outsize,
                         size_t *outlen);

#endif
