#include "signaling/auth.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sfu/core/common.h"
#include "signaling/base64url.h"

#define HS256_LEN 32
/* The largest part a token of SIG_AUTH_TOKEN_MAX bytes can decode to. */
#define PART_MAX (SIG_AUTH_TOKEN_MAX / 4 * 3 + 3)

typedef struct part {
    const char *s;
    size_t n;
} part;

/* JWS compact serialization (RFC 7515 7.1): exactly three parts. An empty
 * header or payload cannot hold a JSON object; an empty signature (what
 * alg "none" sends) is let through so that the header check names it. */
static int split(const char *token, size_t len, part parts[3])
{
    size_t start = 0;
    unsigned k = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && token[i] != '.')
            continue;
        if (k == 3 || (i == start && k < 2))
            return -SIG_AUTH_EMALFORMED;
        parts[k].s = token + start;
        parts[k].n = i - start;
        k++;
        start = i + 1;
    }
    return k == 3 ? 0 : -SIG_AUTH_EMALFORMED;
}

/* A base64url part holding one JSON object. RFC 7515 and RFC 7519 leave
 * duplicate member names to the implementation: refusing them means no two
 * parsers can read different claims from one token. */
static json_t *decode_object(const part *p)
{
    uint8_t buf[PART_MAX];
    size_t n;
    if (sig_base64url_decode(p->s, p->n, buf, sizeof buf, &n) != 0)
        return NULL;
    json_t *obj = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static bool string_is(const json_t *v, const char *want)
{
    return json_is_string(v) && json_string_length(v) == strlen(want) &&
           memcmp(json_string_value(v), want, strlen(want)) == 0;
}

/* RFC 7518 3.2 and RFC 8725 2.1/3.1: accept exactly the one algorithm we use,
 * never "none" or another HMAC. RFC 7515 4.1.11: we understand no extension,
 * so a "crit" header must be refused. typ, when present, says JWT. */
static int check_header(const json_t *h)
{
    if (!string_is(json_object_get(h, "alg"), "HS256") || json_object_get(h, "crit"))
        return -SIG_AUTH_EALG;
    const json_t *typ = json_object_get(h, "typ");
    if (typ && !(json_is_string(typ) && strcasecmp(json_string_value(typ), "JWT") == 0))
        return -SIG_AUTH_EALG;
    return 0;
}

static int hs256(const char *secret, const void *data, size_t n, uint8_t mac[HS256_LEN])
{
    unsigned len = 0;
    size_t klen = strlen(secret);
    if (klen > INT32_MAX ||
        !HMAC(EVP_sha256(), secret, (int)klen, data, n, mac, &len) || len != HS256_LEN)
        return -SFU_EINVAL;
    return 0;
}

/* RFC 7515 5.2 step 8 over the ASCII of "header.payload"; the comparison
 * takes the same time wherever the first difference is. */
static int check_signature(const char *secret, const char *token, const part parts[3])
{
    uint8_t sig[PART_MAX], mac[HS256_LEN];
    size_t n;
    if (!secret || !secret[0])
        return -SIG_AUTH_ESIGNATURE;    /* fail closed: an empty key is no key */
    if (sig_base64url_decode(parts[2].s, parts[2].n, sig, sizeof sig, &n) != 0)
        return -SIG_AUTH_EMALFORMED;
    if (n != HS256_LEN)
        return -SIG_AUTH_ESIGNATURE;
    size_t signed_len = (size_t)(parts[1].s + parts[1].n - token);
    if (hs256(secret, token, signed_len, mac) != 0)
        return -SIG_AUTH_ESIGNATURE;
    return CRYPTO_memcmp(sig, mac, HS256_LEN) == 0 ? 0 : -SIG_AUTH_ESIGNATURE;
}

static int get_bool(const json_t *payload, const char *key, bool *out)
{
    const json_t *v = json_object_get(payload, key);
    *out = false;
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return -SIG_AUTH_ECLAIMS;
    *out = json_is_true(v);
    return 0;
}

/* RFC 7519 2 allows a fractional NumericDate; ours are whole seconds. */
static int get_time(const json_t *payload, const char *key, bool required, int64_t *out)
{
    const json_t *v = json_object_get(payload, key);
    if (!v)
        return required ? -SIG_AUTH_ECLAIMS : 0;
    if (!json_is_integer(v))
        return -SIG_AUTH_ECLAIMS;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int read_claims(const json_t *payload, sig_auth_claims *c)
{
    const json_t *room = json_object_get(payload, "room");
    const json_t *sub = json_object_get(payload, "sub");
    if (!json_is_string(room) || !json_is_string(sub))
        return -SIG_AUTH_ECLAIMS;
    const char *r = json_string_value(room), *s = json_string_value(sub);
    size_t rn = json_string_length(room), sn = json_string_length(sub);
    if (!(string_is(room, "*") || sig_route_valid_name(r, rn)) ||
        !sig_route_valid_display_name(s, sn))
        return -SIG_AUTH_ECLAIMS;
    memcpy(c->room, r, rn + 1);
    memcpy(c->sub, s, sn + 1);
    c->nbf = INT64_MIN;
    int rc = get_time(payload, "exp", true, &c->exp);
    if (rc == 0)
        rc = get_time(payload, "nbf", false, &c->nbf);
    if (rc == 0)
        rc = get_bool(payload, "pub", &c->pub);
    if (rc == 0)
        rc = get_bool(payload, "sub_ok", &c->sub_ok);
    return rc;
}

/* RFC 7519 4.1.4/4.1.5 with the configured leeway, saturating at the ends
 * of int64 so that no claim value can overflow the arithmetic. */
static int check_times(const sig_auth_claims *c, int64_t skew, int64_t now)
{
    int64_t exp_until = c->exp > INT64_MAX - skew ? INT64_MAX : c->exp + skew;
    if (exp_until <= now)
        return -SIG_AUTH_EEXPIRED;
    int64_t nbf_from = c->nbf < INT64_MIN + skew ? INT64_MIN : c->nbf - skew;
    if (nbf_from > now)
        return -SIG_AUTH_ENOTYET;
    return 0;
}

int sig_auth_verify_n(const sig_auth_config *cfg, const char *token, size_t len,
                      int64_t now_unix, sig_auth_claims *out)
{
    part parts[3];
    if (!cfg || !token || len == 0)
        return -SIG_AUTH_EMISSING;
    if (len > SIG_AUTH_TOKEN_MAX)
        return -SIG_AUTH_EMALFORMED;
    int rc = split(token, len, parts);
    if (rc != 0)
        return rc;
    json_t *header = decode_object(&parts[0]);
    if (!header)
        return -SIG_AUTH_EMALFORMED;
    rc = check_header(header);
    json_decref(header);
    if (rc == 0)
        rc = check_signature(cfg->secret, token, parts);
    if (rc != 0)
        return rc;
    json_t *payload = decode_object(&parts[1]);
    if (!payload)
        return -SIG_AUTH_EMALFORMED;
    sig_auth_claims c = { 0 };
    rc = read_claims(payload, &c);
    json_decref(payload);
    if (rc == 0)
        rc = check_times(&c, cfg->clock_skew_s, now_unix);
    if (rc == 0 && out)
        *out = c;
    return rc;
}

int sig_auth_verify(const sig_auth_config *cfg, const char *token, int64_t now_unix,
                    sig_auth_claims *out)
{
    if (!token)
        return -SIG_AUTH_EMISSING;
    /* strnlen: a huge string costs no more than one byte past the limit. */
    return sig_auth_verify_n(cfg, token, strnlen(token, SIG_AUTH_TOKEN_MAX + 1), now_unix, out);
}

/* RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool b64token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int sig_auth_bearer(const char *value, const char **token, size_t *len)
{
    if (!value)
        return -SIG_AUTH_EMISSING;
    if (strncasecmp(value, "Bearer", 6) != 0 || value[6] != ' ')
        return value[0] ? -SIG_AUTH_EMALFORMED : -SIG_AUTH_EMISSING;
    const char *t = value + 6;
    while (*t == ' ')
        t++;
    size_t n = 0;
    while (n <= SIG_AUTH_TOKEN_MAX && b64token_char(t[n]))
        n++;
    while (n <= SIG_AUTH_TOKEN_MAX && t[n] == '=')
        n++;
    if (n == 0 || n > SIG_AUTH_TOKEN_MAX)
        return n ? -SIG_AUTH_EMALFORMED : -SIG_AUTH_EMISSING;
    for (const char *rest = t + n; *rest; rest++)
        if (*rest != ' ' && *rest != '\t')
            return -SIG_AUTH_EMALFORMED;
    *token = t;
    *len = n;
    return 0;
}

int sig_auth_verify_header(const sig_auth_config *cfg, const char *authorization,
                           int64_t now_unix, sig_auth_claims *out)
{
    const char *token;
    size_t len;
    int rc = sig_auth_bearer(authorization, &token, &len);
    return rc != 0 ? rc : sig_auth_verify_n(cfg, token, len, now_unix, out);
}

int sig_auth_status(int rc, const char **reason)
{
    const char *why;
    switch (rc) {
    case 0: why = "ok"; break;
    case -SIG_AUTH_EMISSING: why = "missing bearer token"; break;
    case -SIG_AUTH_EMALFORMED: why = "malformed token"; break;
    case -SIG_AUTH_EALG: why = "token algorithm must be HS256"; break;
    case -SIG_AUTH_ESIGNATURE: why = "bad token signature"; break;
    case -SIG_AUTH_EEXPIRED: why = "token expired"; break;
    case -SIG_AUTH_ENOTYET: why = "token not yet valid"; break;
    case -SIG_AUTH_ECLAIMS: why = "token claims missing or invalid"; break;
    default: why = "invalid token"; break;
    }
    if (reason)
        *reason = why;
    return rc == 0 ? 0 : 401;
}

bool sig_auth_allows(const sig_auth_claims *claims, const char *room, unsigned actions)
{
    if (!claims)
        return false;
    bool any = strcmp(claims->room, "*") == 0;
    if (!any && (!room || strcmp(claims->room, room) != 0))
        return false;
    if ((actions & SIG_AUTH_PUBLISH) && !claims->pub)
        return false;
    if ((actions & SIG_AUTH_SUBSCRIBE) && !claims->sub_ok)
        return false;
    return (actions & ~(unsigned)(SIG_AUTH_PUBLISH | SIG_AUTH_SUBSCRIBE)) == 0;
}

/* base64url of a compact JSON dump, appended at `out`. */
static int append_json(const json_t *obj, char *out, size_t outsize)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return -SFU_ENOMEM;
    int n = sig_base64url_encode((const uint8_t *)text, strlen(text), out, outsize);
    free(text);
    return n;
}

int sig_auth_mint(const char *secret, const char *room, const char *sub, uint32_t ttl_s,
                  bool pub, bool sub_ok, int64_t now_unix, char **out)
{
    if (!secret || !secret[0] || !room || !sub || !out || ttl_s == 0 ||
        !(strcmp(room, "*") == 0 || sig_route_valid_name(room, strlen(room))) ||
        !sig_route_valid_display_name(sub, strlen(sub)) || now_unix > INT64_MAX - ttl_s)
        return -SFU_EINVAL;
    json_t *header = json_pack("{s:s, s:s}", "alg", "HS256", "typ", "JWT");
    json_t *claims = json_pack("{s:s, s:s, s:I, s:I, s:b, s:b}", "room", room, "sub", sub,
                               "iat", (json_int_t)now_unix, "exp",
                               (json_int_t)(now_unix + ttl_s), "pub", pub, "sub_ok", sub_ok);
    char *tok = malloc(SIG_AUTH_TOKEN_MAX + 1);
    int rc = -SFU_ENOMEM;
    if (!header || !claims || !tok)
        goto out;
    size_t n = 0;
    uint8_t mac[HS256_LEN];
    int k = append_json(header, tok, SIG_AUTH_TOKEN_MAX + 1);
    if (k >= 0) {
        n = (size_t)k;
        tok[n++] = '.';
        k = append_json(claims, tok + n, SIG_AUTH_TOKEN_MAX + 1 - n);
    }
    if (k < 0 || (n += (size_t)k) + 1 + sig_base64url_encoded_len(HS256_LEN) > SIG_AUTH_TOKEN_MAX) {
        rc = k == -SFU_ENOMEM ? k : -SFU_EINVAL;
        goto out;
    }
    if ((rc = hs256(secret, tok, n, mac)) != 0)
        goto out;
    tok[n++] = '.';
    sig_base64url_encode(mac, sizeof mac, tok + n, SIG_AUTH_TOKEN_MAX + 1 - n);
    *out = tok;
    tok = NULL;
    rc = 0;
out:
    json_decref(header);
    json_decref(claims);
    free(tok);
    return rc;
}
