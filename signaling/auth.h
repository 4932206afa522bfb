/* Bearer tokens for the HTTP API: JSON Web Tokens (RFC 7519) in JWS compact
 * serialization (RFC 7515 section 7.1), HMAC-SHA256 only (RFC 7518 section
 * 3.2). Pure: the caller passes the wall-clock time. Tokens are secrets:
 * nothing here logs or copies one anywhere but into the caller's buffer.
 *
 * Claims (docs/API.md "Auth"):
 *   room    string, a room name or "*" for every room        required
 *   sub     the participant's display name, 1-64 bytes of
 *           UTF-8 without control characters                 required
 *   exp     integer NumericDate                              required
 *   nbf     integer NumericDate                              optional
 *   pub     bool, may publish                                optional, false
 *   sub_ok  bool, may subscribe                              optional, false
 * Other claims (iat, iss, aud, ...) are ignored. */
#ifndef SIG_AUTH_H
#define SIG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu/core/common.h"
#include "signaling/route.h"

#define SIG_AUTH_TOKEN_MAX SIG_TOKEN_MAX    /* bytes of a token */

/* Why a token was refused; sig_auth_verify returns these negated. They do
 * not overlap enum sfu_error. */
enum sig_auth_error {
    SIG_AUTH_EMISSING = 100,    /* no Authorization header or no token */
    SIG_AUTH_EMALFORMED,        /* not three strict base64url parts of JSON objects */
    SIG_AUTH_EALG,              /* alg other than exactly "HS256", or a "crit" header */
    SIG_AUTH_ESIGNATURE,        /* HMAC does not match (or no secret configured) */
    SIG_AUTH_EEXPIRED,          /* exp + skew <= now */
    SIG_AUTH_ENOTYET,           /* nbf - skew > now */
    SIG_AUTH_ECLAIMS,           /* a claim missing, of the wrong type or invalid */
};

typedef struct sig_auth_config {
    const char *secret;         /* [auth] secret, NUL-terminated; empty refuses all */
    uint32_t clock_skew_s;      /* [auth] clock_skew_s */
} sig_auth_config;

typedef struct sig_auth_claims {
    char room[SIG_NAME_MAX + 1];        /* a valid room name, or "*" */
    char sub[SIG_DISPLAY_NAME_MAX + 1];
    int64_t exp;
    int64_t nbf;                        /* INT64_MIN when absent */
    bool pub;
    bool sub_ok;
} sig_auth_claims;

/* What a request wants to do; sig_auth_allows takes any combination. */
enum sig_auth_action {
    SIG_AUTH_READ = 0,          /* GET /rooms/{room} (and, with room NULL, GET /rooms) */
    SIG_AUTH_PUBLISH = 1 << 0,  /* needs pub */
    SIG_AUTH_SUBSCRIBE = 1 << 1,/* needs sub_ok */
};

/* Verifies a NUL-terminated token (RFC 7519 section 7.2): structure, header,
 * signature (constant-time), then claims and times. Returns 0 and fills `out`
 * (may be NULL), or -SIG_AUTH_E*; `out` is only written on success. */
int sig_auth_verify(const sig_auth_config *cfg, const char *token, int64_t now_unix,
                    sig_auth_claims *out);

/* The same for `len` bytes that need no NUL. */
int sig_auth_verify_n(const sig_auth_config *cfg, const char *token, size_t len,
                      int64_t now_unix, sig_auth_claims *out);

/* Finds the token in an Authorization header value (RFC 6750 section 2.1):
 * "Bearer" in any case, one or more spaces, a b64token, optional trailing
 * spaces or tabs. `value` NULL gives -SIG_AUTH_EMISSING; another scheme or a
 * token over SIG_AUTH_TOKEN_MAX bytes -SIG_AUTH_EMALFORMED. On success
 * *token points into `value`. */
int sig_auth_bearer(const char *value, const char **token, size_t *len);

/* sig_auth_bearer then sig_auth_verify_n: the whole check for one request. */
int sig_auth_verify_header(const sig_auth_config *cfg, const char *authorization,
                           int64_t now_unix, sig_auth_claims *out);

/* The HTTP status for a result of the functions above: 0 for 0, 401 for any
 * refusal, with a one-line reason for the text/plain body (never the token).
 * `reason` may be NULL. */
int sig_auth_status(int rc, const char **reason);

/* Whether valid claims allow `actions` (a bitmask of enum sig_auth_action)
 * in `room`: the room claim is "*" or equal to `room`, and every right asked
 * for is granted. `room` NULL means every room (GET /rooms): only "*" allows
 * it. A false answer is a 403. */
bool sig_auth_allows(const sig_auth_claims *claims, const char *room, unsigned actions);

/* Mints a token: header {"alg":"HS256","typ":"JWT"}, claims room, sub, iat,
 * exp = now + ttl_s, pub, sub_ok. Writes a new string into *out (free() it).
 * Returns 0, -SFU_EINVAL for an empty secret, a bad room or sub, or a ttl of
 * 0, or -SFU_ENOMEM. */
int sig_auth_mint(const char *secret, const char *room, const char *sub, uint32_t ttl_s,
                  bool pub, bool sub_ok, int64_t now_unix, char **out);

#endif
