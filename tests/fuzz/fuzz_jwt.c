/* Fuzzes the bearer-token verifier. The first byte picks what the rest is:
 *   0  a token as it arrives (?access_token=)
 *   1  "<header JSON>\n<payload JSON>", encoded and signed with the right
 *      secret here, so the fuzzer reaches the header and claim checks
 *   2  an Authorization header value
 *   3  base64url text, checked to decode to bytes that encode back to it
 *      (one accepted encoding per byte string), and bytes that round-trip
 * Checks what the verifier promises: a result it documents, and on success
 * claims that pass the validators, that the token is unexpired, and that
 * minting the same claims gives a token that verifies the same way. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/auth.h"
#include "signaling/base64url.h"

#define SECRET "fuzz-secret-fuzz-secret-fuzz-sec"
#define NOW 1700000000

static const sig_auth_config cfg = { .secret = SECRET, .clock_skew_s = 30 };

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_result(int rc, const sig_auth_claims *c)
{
    const char *reason = NULL;
    int status = sig_auth_status(rc, &reason);
    check(reason && !strchr(reason, '\n'));
    check(rc == 0 ? status == 0 : status == 401);
    check(rc == 0 || (rc <= -SIG_AUTH_EMISSING && rc >= -SIG_AUTH_ECLAIMS));
    if (rc != 0)
        return;
    check(strcmp(c->room, "*") == 0 || sig_route_valid_name(c->room, strlen(c->room)));
    check(sig_route_valid_display_name(c->sub, strlen(c->sub)));
    check(c->exp > NOW - 30 || c->exp == INT64_MAX);
    check(c->nbf == INT64_MIN || c->nbf <= NOW + 30);
    if (c->exp > NOW && c->exp - NOW < 1000000) {
        char *t = NULL;
        check(sig_auth_mint(SECRET, c->room, c->sub, (uint32_t)(c->exp - NOW), c->pub, c->sub_ok,
                            NOW, &t) == 0);
        sig_auth_claims again;
        check(sig_auth_verify(&cfg, t, NOW, &again) == 0);
        check(strcmp(again.room, c->room) == 0 && strcmp(again.sub, c->sub) == 0 &&
              again.exp == c->exp && again.pub == c->pub && again.sub_ok == c->sub_ok);
        free(t);
    }
}

static void signed_token(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl || size > 3000)
        return;
    size_t hn = (size_t)(nl - data), pn = size - hn - 1;
    char tok[SIG_AUTH_TOKEN_MAX + 64];
    int k = sig_base64url_encode(data, hn, tok, sizeof tok);
    check(k >= 0);
    size_t len = (size_t)k;
    tok[len++] = '.';
    k = sig_base64url_encode(nl + 1, pn, tok + len, sizeof tok - len);
    check(k >= 0);
    len += (size_t)k;
    uint8_t mac[32];
    unsigned maclen = 0;
    check(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const uint8_t *)tok, len, mac,
               &maclen) != NULL);
    tok[len++] = '.';
    k = sig_base64url_encode(mac, maclen, tok + len, sizeof tok - len);
    check(k >= 0);
    len += (size_t)k;
    sig_auth_claims c;
    int rc = sig_auth_verify_n(&cfg, tok, len, NOW, &c);
    check(rc != -SIG_AUTH_ESIGNATURE || len > SIG_AUTH_TOKEN_MAX);
    check_result(rc, &c);
}

static void base64url_roundtrip(const uint8_t *data, size_t size)
{
    uint8_t *bytes = malloc(size + 3);     /* >= decoded_max(size), and size + 1 */
    char *text = malloc(sig_base64url_encoded_len(size) + 1);
    size_t n;
    check(bytes && text);
    if (sig_base64url_decode((const char *)data, size, bytes, sig_base64url_decoded_max(size),
                             &n) == 0) {
        check(sig_base64url_encode(bytes, n, text, sig_base64url_encoded_len(size) + 1) ==
              (int)size);
        check(memcmp(text, data, size) == 0);
    }
    int k = sig_base64url_encode(data, size, text, sig_base64url_encoded_len(size) + 1);
    check(k >= 0);
    check(sig_base64url_decode(text, (size_t)k, bytes, size + 1, &n) == 0);
    check(n == size && memcmp(bytes, data, size) == 0);
    free(bytes);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0] % 4;
    data++;
    size--;
    char *s = malloc(size + 1);
    check(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    sig_auth_claims c;
    switch (mode) {
    case 0:
        check_result(sig_auth_verify_n(&cfg, s, size, NOW, &c), &c);
        check_result(sig_auth_verify(&cfg, s, NOW, &c), &c);
        break;
    case 1:
        signed_token(data, size);
        break;
    case 2:
        check_result(sig_auth_verify_header(&cfg, s, NOW, &c), &c);
        break;
    default:
        base64url_roundtrip(data, size);
        break;
    }
    free(s);
    return 0;
}
