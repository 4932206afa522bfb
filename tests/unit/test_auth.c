/* JWT verification (RFC 7519, HS256 per RFC 7518 3.2), bearer parsing,
 * authorization decisions, minting and the `sfu token` command. Expected
 * signatures were computed independently with Python's hmac module. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <unistd.h>

#include "signaling/auth.h"
#include "signaling/base64url.h"
#include "signaling/token_cli.h"
#include "tests/test.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW 1700000000
#define SKEW 30

static const sig_auth_config cfg = { .secret = SECRET, .clock_skew_s = SKEW };

/* base64url(header) "." base64url(payload) "." base64url(HMAC-SHA256). */
static void make_token(const char *header, const char *payload, const char *secret, char *out,
                       size_t n)
{
    int k = sig_base64url_encode((const uint8_t *)header, strlen(header), out, n);
    size_t len = (size_t)k;
    out[len++] = '.';
    k = sig_base64url_encode((const uint8_t *)payload, strlen(payload), out + len, n - len);
    len += (size_t)k;
    uint8_t mac[32];
    unsigned maclen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)out, len, mac, &maclen);
    out[len++] = '.';
    sig_base64url_encode(mac, maclen, out + len, n - len);
}

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define EXP_OK "\"exp\":1700000060"

TEST(verify_table)
{
    static const struct {
        const char *name, *header, *payload;
        int want;
    } cases[] = {
        { "valid", HDR, "{\"room\":\"r1\",\"sub\":\"alice\"," EXP_OK "}", 0 },
        { "no typ", "{\"alg\":\"HS256\"}", "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}", 0 },
        { "typ lower case", "{\"alg\":\"HS256\",\"typ\":\"jwt\"}",
          "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}", 0 },
        { "room any", HDR, "{\"room\":\"*\",\"sub\":\"a\"," EXP_OK "}", 0 },
        { "utf-8 sub", HDR, "{\"room\":\"r1\",\"sub\":\"\\u00e9lise \\u2603\"," EXP_OK "}", 0 },
        { "sub 64 bytes", HDR,
          "{\"room\":\"r1\",\"sub\":\"" "0123456789012345678901234567890123456789012345678901234567890123"
          "\"," EXP_OK "}", 0 },
        { "extra claims ignored", HDR,
          "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK ",\"iss\":\"x\",\"aud\":[1],\"iat\":1}", 0 },
        { "exp far future", HDR,
          "{\"room\":\"r1\",\"sub\":\"a\",\"exp\":9223372036854775807}", 0 },
        { "nbf far past", HDR,
          "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK ",\"nbf\":-9223372036854775808}", 0 },
        /* alg: exactly HS256, nothing else (RFC 8725 3.1) */
        { "alg none", "{\"alg\":\"none\",\"typ\":\"JWT\"}",
          "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}", -SIG_AUTH_EALG },
        { "alg HS512", "{\"alg\":\"HS512\"}", "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}",
          -SIG_AUTH_EALG },
        { "alg RS256", "{\"alg\":\"RS256\"}", "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}",
          -SIG_AUTH_EALG },
        { "alg lower case", "{\"alg\":\"hs256\"}", "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}",
          -SIG_AUTH_EALG },
        { "alg missing", "{\"typ\":\"JWT\"}", "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}",
          -SIG_AUTH_EALG },
        { "alg not a string", "{\"alg\":256}", "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}",
          -SIG_AUTH_EALG },
        { "alg with NUL-free suffix", "{\"alg\":\"HS256 \"}",
          "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}", -SIG_AUTH_EALG },
        { "crit header", "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}",
          "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}", -SIG_AUTH_EALG },
        { "typ other", "{\"alg\":\"HS256\",\"typ\":\"JOSE+JSON\"}",
          "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}", -SIG_AUTH_EALG },
        /* JSON shape */
        { "header array", "[\"HS256\"]", "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}",
          -SIG_AUTH_EMALFORMED },
        { "header bad json", "{\"alg\":\"HS256\"", "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}",
          -SIG_AUTH_EMALFORMED },
        { "header duplicate alg", "{\"alg\":\"HS256\",\"alg\":\"none\"}",
          "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}", -SIG_AUTH_EMALFORMED },
        { "payload duplicate room", HDR,
          "{\"room\":\"r1\",\"room\":\"*\",\"sub\":\"a\"," EXP_OK "}", -SIG_AUTH_EMALFORMED },
        { "payload array", HDR, "[1,2]", -SIG_AUTH_EMALFORMED },
        { "payload number", HDR, "1", -SIG_AUTH_EMALFORMED },
        { "payload trailing garbage", HDR, "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK "}x",
          -SIG_AUTH_EMALFORMED },
        { "payload NUL escape", HDR, "{\"room\":\"r1\",\"sub\":\"a\\u0000b\"," EXP_OK "}",
          -SIG_AUTH_EMALFORMED },
        /* claims */
        { "exp missing", HDR, "{\"room\":\"r1\",\"sub\":\"a\"}", -SIG_AUTH_ECLAIMS },
        { "exp string", HDR, "{\"room\":\"r1\",\"sub\":\"a\",\"exp\":\"1700000060\"}",
          -SIG_AUTH_ECLAIMS },
        { "exp real", HDR, "{\"room\":\"r1\",\"sub\":\"a\",\"exp\":1700000060.5}",
          -SIG_AUTH_ECLAIMS },
        { "exp beyond int64", HDR, "{\"room\":\"r1\",\"sub\":\"a\",\"exp\":9223372036854775808}",
          -SIG_AUTH_EMALFORMED },
        { "nbf string", HDR, "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK ",\"nbf\":\"0\"}",
          -SIG_AUTH_ECLAIMS },
        { "room missing", HDR, "{\"sub\":\"a\"," EXP_OK "}", -SIG_AUTH_ECLAIMS },
        { "room number", HDR, "{\"room\":7,\"sub\":\"a\"," EXP_OK "}", -SIG_AUTH_ECLAIMS },
        { "room bad chars", HDR, "{\"room\":\"a/b\",\"sub\":\"a\"," EXP_OK "}",
          -SIG_AUTH_ECLAIMS },
        { "room dot dot", HDR, "{\"room\":\"..\",\"sub\":\"a\"," EXP_OK "}", -SIG_AUTH_ECLAIMS },
        { "room empty", HDR, "{\"room\":\"\",\"sub\":\"a\"," EXP_OK "}", -SIG_AUTH_ECLAIMS },
        { "sub missing", HDR, "{\"room\":\"r1\"," EXP_OK "}", -SIG_AUTH_ECLAIMS },
        { "sub empty", HDR, "{\"room\":\"r1\",\"sub\":\"\"," EXP_OK "}", -SIG_AUTH_ECLAIMS },
        { "sub 65 bytes", HDR,
          "{\"room\":\"r1\",\"sub\":\"" "01234567890123456789012345678901234567890123456789012345678901234"
          "\"," EXP_OK "}", -SIG_AUTH_ECLAIMS },
        { "sub control char", HDR, "{\"room\":\"r1\",\"sub\":\"a\\nb\"," EXP_OK "}",
          -SIG_AUTH_ECLAIMS },
        { "sub C1 control", HDR, "{\"room\":\"r1\",\"sub\":\"a\\u0085\"," EXP_OK "}",
          -SIG_AUTH_ECLAIMS },
        { "pub string", HDR, "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK ",\"pub\":\"yes\"}",
          -SIG_AUTH_ECLAIMS },
        { "sub_ok number", HDR, "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK ",\"sub_ok\":1}",
          -SIG_AUTH_ECLAIMS },
        /* times: expired when exp + skew <= now; early when nbf - skew > now */
        { "exp edge expired", HDR, "{\"room\":\"r1\",\"sub\":\"a\",\"exp\":1699999970}",
          -SIG_AUTH_EEXPIRED },
        { "exp edge valid", HDR, "{\"room\":\"r1\",\"sub\":\"a\",\"exp\":1699999971}", 0 },
        { "exp long past", HDR, "{\"room\":\"r1\",\"sub\":\"a\",\"exp\":0}", -SIG_AUTH_EEXPIRED },
        { "exp min int64", HDR,
          "{\"room\":\"r1\",\"sub\":\"a\",\"exp\":-9223372036854775808}", -SIG_AUTH_EEXPIRED },
        { "nbf edge valid", HDR, "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK ",\"nbf\":1700000030}",
          0 },
        { "nbf edge early", HDR, "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK ",\"nbf\":1700000031}",
          -SIG_AUTH_ENOTYET },
        { "nbf max int64", HDR,
          "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK ",\"nbf\":9223372036854775807}",
          -SIG_AUTH_ENOTYET },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        char tok[SIG_AUTH_TOKEN_MAX + 64];
        make_token(cases[i].header, cases[i].payload, SECRET, tok, sizeof tok);
        sig_auth_claims c;
        int rc = sig_auth_verify(&cfg, tok, NOW, &c);
        if (rc != cases[i].want)
            fprintf(stderr, "  case \"%s\"\n", cases[i].name);
        ASSERT_EQ(rc, cases[i].want);
    }
    return 0;
}

/* A token of HDR + a good payload, then one change to its text. */
TEST(tampering_table)
{
    char good[512];
    make_token(HDR, "{\"room\":\"r1\",\"sub\":\"alice\"," EXP_OK ",\"pub\":true}", SECRET, good,
               sizeof good);
    ASSERT_EQ(sig_auth_verify(&cfg, good, NOW, NULL), 0);
    char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
    size_t len = strlen(good), h = (size_t)(dot1 - good), s = (size_t)(dot2 - good);
    static const struct {
        const char *name;
        int op;                 /* how to change the token, see the switch */
        int want;
    } cases[] = {
        { "payload char flipped", 0, -SIG_AUTH_ESIGNATURE },
        { "signature char flipped", 1, -SIG_AUTH_ESIGNATURE },
        { "signature truncated to 40 chars", 2, -SIG_AUTH_ESIGNATURE },
        { "signature empty", 3, -SIG_AUTH_ESIGNATURE },
        { "signature padded", 4, -SIG_AUTH_EMALFORMED },
        { "header padded", 5, -SIG_AUTH_EMALFORMED },
        { "plus instead of minus", 6, -SIG_AUTH_EMALFORMED },
        { "space inside", 7, -SIG_AUTH_EMALFORMED },
        { "two parts", 8, -SIG_AUTH_EMALFORMED },
        { "four parts", 9, -SIG_AUTH_EMALFORMED },
        { "leading dot", 10, -SIG_AUTH_EMALFORMED },
        { "signature non-canonical last char", 11, -SIG_AUTH_EMALFORMED },
        { "signature length 4k+1", 12, -SIG_AUTH_EMALFORMED },
        { "wrong secret", 13, -SIG_AUTH_ESIGNATURE },
        { "signature of another token", 14, -SIG_AUTH_ESIGNATURE },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        char t[600];
        memcpy(t, good, len + 1);
        switch (cases[i].op) {
        case 0: t[h + 5] = t[h + 5] == 'A' ? 'B' : 'A'; break;
        case 1: t[s + 3] = t[s + 3] == 'A' ? 'B' : 'A'; break;
        case 2: t[s + 1 + 40] = '\0'; break;
        case 3: t[s + 1] = '\0'; break;
        case 4: strcat(t, "="); break;
        case 5: memmove(t + h + 1, t + h, len - h + 1); t[h] = '='; break;
        case 6: t[s + 2] = '+'; break;
        case 7: t[s + 2] = ' '; break;
        case 8: t[s] = '\0'; break;
        case 9: strcat(t, ".AAAA"); break;
        case 10: memmove(t + 1, t, len + 1); t[0] = '.'; break;
        /* 32 bytes are 43 characters whose last carries 4 bits and 2 zero
         * bits; setting a zero bit keeps the bytes but changes the text. */
        case 11: t[len - 1] = (char)(t[len - 1] == 'A' ? 'B' : t[len - 1] ^ 1); break;
        case 12: strcat(t, "AA"); break;
        case 13: make_token(HDR, "{\"room\":\"r1\",\"sub\":\"alice\"," EXP_OK ",\"pub\":true}",
                            "another-secret-another-secret-xx", t, sizeof t); break;
        case 14: {
            char other[512];
            make_token(HDR, "{\"room\":\"*\",\"sub\":\"alice\"," EXP_OK ",\"pub\":true}", SECRET,
                       other, sizeof other);
            memcpy(t + s, strrchr(other, '.'), 45);
            break;
        }
        }
        int rc = sig_auth_verify(&cfg, t, NOW, NULL);
        if (rc != cases[i].want)
            fprintf(stderr, "  case \"%s\"\n", cases[i].name);
        ASSERT_EQ(rc, cases[i].want);
    }
    return 0;
}

TEST(known_vectors)
{
    /* Computed with python3: hmac.new(SECRET, header.payload, sha256). */
    static const char ours[] =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb29tIjoicjEiLCJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDA"
        "wMDAwMCwicHViIjp0cnVlfQ.HdmrC7fouKr8orizv2DggoGACJmq4riHXqIs3WuQNvU";
    sig_auth_claims c;
    ASSERT_EQ(sig_auth_verify(&cfg, ours, NOW, &c), 0);
    ASSERT_STR_EQ(c.room, "r1");
    ASSERT_STR_EQ(c.sub, "alice");
    ASSERT_EQ(c.exp, 2000000000);
    ASSERT_EQ(c.nbf, INT64_MIN);
    ASSERT(c.pub);
    ASSERT(!c.sub_ok);
    /* The common HS256 example token: its signature holds with its secret,
     * so only the claims it lacks refuse it. */
    static const char example[] =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"
        "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    sig_auth_config ex = { .secret = "your-256-bit-secret", .clock_skew_s = 0 };
    ASSERT_EQ(sig_auth_verify(&ex, example, NOW, NULL), -SIG_AUTH_ECLAIMS);
    ASSERT_EQ(sig_auth_verify(&cfg, example, NOW, NULL), -SIG_AUTH_ESIGNATURE);
    /* No secret: nothing verifies. */
    sig_auth_config none = { .secret = "", .clock_skew_s = SKEW };
    ASSERT_EQ(sig_auth_verify(&none, ours, NOW, NULL), -SIG_AUTH_ESIGNATURE);
    none.secret = NULL;
    ASSERT_EQ(sig_auth_verify(&none, ours, NOW, NULL), -SIG_AUTH_ESIGNATURE);
    return 0;
}

TEST(alg_none_unsigned)
{
    /* {"alg":"none"} . {"room":"*","sub":"a","exp":2000000000} . (empty) */
    char t[256];
    int n = sig_base64url_encode((const uint8_t *)"{\"alg\":\"none\"}", 14, t, sizeof t);
    t[n] = '.';
    const char *p = "{\"room\":\"*\",\"sub\":\"a\",\"exp\":2000000000,\"pub\":true}";
    n += 1 + sig_base64url_encode((const uint8_t *)p, strlen(p), t + n + 1, sizeof t - (size_t)n - 1);
    strcpy(t + n, ".");
    ASSERT_EQ(sig_auth_verify(&cfg, t, NOW, NULL), -SIG_AUTH_EALG);
    t[n] = '\0';        /* without the trailing dot: two parts */
    ASSERT_EQ(sig_auth_verify(&cfg, t, NOW, NULL), -SIG_AUTH_EMALFORMED);
    return 0;
}

TEST(size_limits)
{
    ASSERT_EQ(sig_auth_verify(&cfg, "", NOW, NULL), -SIG_AUTH_EMISSING);
    ASSERT_EQ(sig_auth_verify(&cfg, NULL, NOW, NULL), -SIG_AUTH_EMISSING);
    ASSERT_EQ(sig_auth_verify(NULL, "a.b.c", NOW, NULL), -SIG_AUTH_EMISSING);
    /* A validly signed token just over the limit, and one of a megabyte. */
    size_t pad = 3200;
    char *payload = malloc(pad + 128), *tok = malloc(2 * pad + 512);
    ASSERT(payload && tok);
    int k = snprintf(payload, 128, "{\"room\":\"r1\",\"sub\":\"a\"," EXP_OK ",\"x\":\"");
    memset(payload + k, 'x', pad);
    strcpy(payload + k + pad, "\"}");
    make_token(HDR, payload, SECRET, tok, 2 * pad + 512);
    ASSERT_GT(strlen(tok), SIG_AUTH_TOKEN_MAX);
    ASSERT_EQ(sig_auth_verify(&cfg, tok, NOW, NULL), -SIG_AUTH_EMALFORMED);
    /* The same shape just under the limit verifies. */
    pad = 2900;
    memset(payload + k, 'x', pad);
    strcpy(payload + k + pad, "\"}");
    make_token(HDR, payload, SECRET, tok, 2 * pad + 512);
    ASSERT_LE(strlen(tok), SIG_AUTH_TOKEN_MAX);
    ASSERT_EQ(sig_auth_verify(&cfg, tok, NOW, NULL), 0);
    free(payload);
    free(tok);
    size_t huge = 1 << 20;
    char *big = malloc(huge + 1);
    ASSERT(big);
    memset(big, 'A', huge);
    big[huge] = '\0';
    big[1000] = big[2000] = '.';
    ASSERT_EQ(sig_auth_verify(&cfg, big, NOW, NULL), -SIG_AUTH_EMALFORMED);
    free(big);
    return 0;
}

TEST(bearer_table)
{
    static const struct {
        const char *value;
        int want;
        const char *token;
    } cases[] = {
        { "Bearer abc.def.ghi", 0, "abc.def.ghi" },
        { "bearer abc", 0, "abc" },
        { "BEARER abc", 0, "abc" },
        { "Bearer    abc", 0, "abc" },
        { "Bearer abc  \t", 0, "abc" },
        { "Bearer a-b_c~d+e/f==", 0, "a-b_c~d+e/f==" },
        { NULL, -SIG_AUTH_EMISSING, NULL },
        { "", -SIG_AUTH_EMISSING, NULL },
        { "Bearer ", -SIG_AUTH_EMISSING, NULL },
        { "Bearer", -SIG_AUTH_EMALFORMED, NULL },
        { "Bearerabc", -SIG_AUTH_EMALFORMED, NULL },
        { "Bearer\tabc", -SIG_AUTH_EMALFORMED, NULL },
        { "Basic dXNlcjpwYXNz", -SIG_AUTH_EMALFORMED, NULL },
        { " Bearer abc", -SIG_AUTH_EMALFORMED, NULL },
        { "Bearer abc def", -SIG_AUTH_EMALFORMED, NULL },
        { "Bearer abc=def", -SIG_AUTH_EMALFORMED, NULL },
        { "Bearer abc,", -SIG_AUTH_EMALFORMED, NULL },
        { "Bearer ab\"c", -SIG_AUTH_EMALFORMED, NULL },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        const char *tok = NULL;
        size_t len = 0;
        int rc = sig_auth_bearer(cases[i].value, &tok, &len);
        if (rc != cases[i].want)
            fprintf(stderr, "  case \"%s\"\n", cases[i].value ? cases[i].value : "(null)");
        ASSERT_EQ(rc, cases[i].want);
        if (rc == 0) {
            ASSERT_EQ(len, strlen(cases[i].token));
            ASSERT_MEM_EQ(tok, cases[i].token, len);
        }
    }
    /* Over the limit, even though every character is allowed. */
    char *v = malloc(SIG_AUTH_TOKEN_MAX + 16);
    ASSERT(v);
    strcpy(v, "Bearer ");
    memset(v + 7, 'a', SIG_AUTH_TOKEN_MAX);
    v[7 + SIG_AUTH_TOKEN_MAX] = '\0';
    const char *tok;
    size_t len;
    ASSERT_EQ(sig_auth_bearer(v, &tok, &len), 0);
    ASSERT_EQ(len, SIG_AUTH_TOKEN_MAX);
    strcat(v, "a");
    ASSERT_EQ(sig_auth_bearer(v, &tok, &len), -SIG_AUTH_EMALFORMED);
    free(v);
    /* The whole path, trailing space after the token included. */
    char good[512], hv[600];
    make_token(HDR, "{\"room\":\"r1\",\"sub\":\"alice\"," EXP_OK "}", SECRET, good, sizeof good);
    snprintf(hv, sizeof hv, "bEaReR  %s ", good);
    sig_auth_claims c;
    ASSERT_EQ(sig_auth_verify_header(&cfg, hv, NOW, &c), 0);
    ASSERT_STR_EQ(c.sub, "alice");
    ASSERT_EQ(sig_auth_verify_header(&cfg, NULL, NOW, &c), -SIG_AUTH_EMISSING);
    return 0;
}

TEST(allows_table)
{
    sig_auth_claims r1 = { .room = "r1", .sub = "a", .pub = true, .sub_ok = false };
    sig_auth_claims any = { .room = "*", .sub = "a", .pub = false, .sub_ok = true };
    sig_auth_claims both = { .room = "r1", .sub = "a", .pub = true, .sub_ok = true };
    static const unsigned R = SIG_AUTH_READ, P = SIG_AUTH_PUBLISH, S = SIG_AUTH_SUBSCRIBE;
    const struct {
        const sig_auth_claims *c;
        const char *room;
        unsigned actions;
        bool want;
    } cases[] = {
        { &r1, "r1", R, true },         { &r1, "r1", P, true },
        { &r1, "r1", S, false },        { &r1, "r1", P | S, false },
        { &r1, "r2", R, false },        { &r1, "r2", P, false },
        { &r1, NULL, R, false },        { &r1, "r", R, false },
        { &r1, "r10", R, false },       { &any, "r2", R, true },
        { &any, "r2", S, true },        { &any, "r2", P, false },
        { &any, NULL, R, true },        { &both, "r1", P | S, true },
        { &both, "r1", 1u << 7, false }, { NULL, "r1", R, false },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        if (sig_auth_allows(cases[i].c, cases[i].room, cases[i].actions) != cases[i].want)
            fprintf(stderr, "  case %zu\n", i);
        ASSERT_EQ(sig_auth_allows(cases[i].c, cases[i].room, cases[i].actions), cases[i].want);
    }
    return 0;
}

TEST(status_reasons)
{
    const char *reason = NULL, *seen[16];
    ASSERT_EQ(sig_auth_status(0, &reason), 0);
    int codes[] = { -SIG_AUTH_EMISSING, -SIG_AUTH_EMALFORMED, -SIG_AUTH_EALG,
                    -SIG_AUTH_ESIGNATURE, -SIG_AUTH_EEXPIRED, -SIG_AUTH_ENOTYET,
                    -SIG_AUTH_ECLAIMS, -SFU_ENOMEM };
    for (size_t i = 0; i < SFU_ARRAY_LEN(codes); i++) {
        ASSERT_EQ(sig_auth_status(codes[i], &reason), 401);
        ASSERT(reason && reason[0] && !strchr(reason, '\n'));
        for (size_t j = 0; j < i; j++)
            ASSERT(strcmp(seen[j], reason) != 0);
        seen[i] = reason;
    }
    ASSERT_EQ(sig_auth_status(-SIG_AUTH_EEXPIRED, NULL), 401);
    return 0;
}

TEST(mint)
{
    /* The exact bytes python3 computed for these claims. */
    char *t = NULL;
    ASSERT_EQ(sig_auth_mint(SECRET, "lobby", "bob", 3600, true, false, NOW, &t), 0);
    ASSERT_STR_EQ(t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb29tIjoibG9iYnkiLCJzdWIiOiJib2IiL"
                     "CJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwicHViIjp0cnVlLCJzdWJfb2siOmZh"
                     "bHNlfQ.109Bjr7yrvViNVcJicV6m2scHv7gZ33NcJDCOMVtMa4");
    free(t);
    /* Round trip, and the lifetime edges through the verifier. */
    sig_auth_claims c;
    ASSERT_EQ(sig_auth_mint(SECRET, "*", "Zoë \"z\"", 60, false, true, NOW, &t), 0);
    ASSERT_EQ(sig_auth_verify(&cfg, t, NOW, &c), 0);
    ASSERT_STR_EQ(c.room, "*");
    ASSERT_STR_EQ(c.sub, "Zoë \"z\"");
    ASSERT(!c.pub && c.sub_ok);
    ASSERT_EQ(c.exp, NOW + 60);
    ASSERT_EQ(sig_auth_verify(&cfg, t, NOW + 60 + SKEW - 1, NULL), 0);
    ASSERT_EQ(sig_auth_verify(&cfg, t, NOW + 60 + SKEW, NULL), -SIG_AUTH_EEXPIRED);
    free(t);
    t = NULL;
    ASSERT_EQ(sig_auth_mint("", "r", "a", 60, 0, 0, NOW, &t), -SFU_EINVAL);
    ASSERT_EQ(sig_auth_mint(SECRET, "a b", "a", 60, 0, 0, NOW, &t), -SFU_EINVAL);
    ASSERT_EQ(sig_auth_mint(SECRET, "r", "", 60, 0, 0, NOW, &t), -SFU_EINVAL);
    ASSERT_EQ(sig_auth_mint(SECRET, "r", "a\x01", 60, 0, 0, NOW, &t), -SFU_EINVAL);
    ASSERT_EQ(sig_auth_mint(SECRET, "r", "\xff", 60, 0, 0, NOW, &t), -SFU_EINVAL);
    ASSERT_EQ(sig_auth_mint(SECRET, "r", "a", 0, 0, 0, NOW, &t), -SFU_EINVAL);
    ASSERT_EQ(sig_auth_mint(SECRET, "r", "a", 60, 0, 0, INT64_MAX - 10, &t), -SFU_EINVAL);
    ASSERT(t == NULL);
    return 0;
}

TEST(ttl_table)
{
    static const struct {
        const char *s;
        int rc;
        uint32_t want;
    } cases[] = {
        { "3600", 0, 3600 }, { "90s", 0, 90 }, { "30m", 0, 1800 }, { "1h", 0, 3600 },
        { "2d", 0, 172800 }, { "366d", 0, 31622400 }, { "1", 0, 1 },
        { "0", -SFU_EINVAL, 0 }, { "0h", -SFU_EINVAL, 0 }, { "367d", -SFU_EINVAL, 0 },
        { "", -SFU_EINVAL, 0 }, { "h", -SFU_EINVAL, 0 }, { "-5", -SFU_EINVAL, 0 },
        { "1hh", -SFU_EINVAL, 0 }, { "1 h", -SFU_EINVAL, 0 }, { "1w", -SFU_EINVAL, 0 },
        { "99999999999999999999", -SFU_EINVAL, 0 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        uint32_t v = 0;
        int rc = sig_token_parse_ttl(cases[i].s, &v);
        if (rc != cases[i].rc)
            fprintf(stderr, "  case \"%s\"\n", cases[i].s);
        ASSERT_EQ(rc, cases[i].rc);
        if (rc == 0)
            ASSERT_EQ(v, cases[i].want);
    }
    return 0;
}

/* Runs `sfu token` with up to 12 arguments; returns the exit status and
 * what it printed on stdout and stderr. */
static int run_token(const char *const *args, char *out, size_t outn, char *err, size_t errn)
{
    char *argv[16] = { "token" };
    int argc = 1;
    for (; args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    FILE *fo = tmpfile(), *fe = tmpfile();
    int st = sig_token_run(argc, argv, NOW, fo, fe);
    rewind(fo);
    rewind(fe);
    out[fread(out, 1, outn - 1, fo)] = '\0';
    err[fread(err, 1, errn - 1, fe)] = '\0';
    fclose(fo);
    fclose(fe);
    return st;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

TEST(token_cli)
{
    char with[] = "/tmp/test_auth_with_XXXXXX", without[] = "/tmp/test_auth_without_XXXXXX";
    int fd1 = mkstemp(with), fd2 = mkstemp(without);
    ASSERT(fd1 >= 0 && fd2 >= 0);
    close(fd1);
    close(fd2);
    write_file(with, "[auth]\nsecret = " SECRET "\n");
    write_file(without, "[auth]\nclock_skew_s = 10\n");
    char out[8192], err[2048];
    const char *ok[] = { "--config", with, "--room", "lobby", "--name", "Ann", "--ttl", "30m",
                         "--publish", "--subscribe", NULL };
    ASSERT_EQ(run_token(ok, out, sizeof out, err, sizeof err), SIG_TOKEN_EXIT_OK);
    ASSERT_STR_EQ(err, "");
    size_t n = strlen(out);
    ASSERT(n > 10 && out[n - 1] == '\n' && !strchr(out, ' '));
    out[n - 1] = '\0';
    sig_auth_claims c;
    ASSERT_EQ(sig_auth_verify(&cfg, out, NOW, &c), 0);
    ASSERT_STR_EQ(c.room, "lobby");
    ASSERT_STR_EQ(c.sub, "Ann");
    ASSERT_EQ(c.exp, NOW + 1800);
    ASSERT(c.pub && c.sub_ok);

    char cfgarg[64];
    snprintf(cfgarg, sizeof cfgarg, "--config=%s", with);
    const char *readonly[] = { cfgarg, "--room=*", "--name=ops", NULL };
    ASSERT_EQ(run_token(readonly, out, sizeof out, err, sizeof err), SIG_TOKEN_EXIT_OK);
    ASSERT(strstr(err, "only read"));
    out[strlen(out) - 1] = '\0';
    ASSERT_EQ(sig_auth_verify(&cfg, out, NOW, &c), 0);
    ASSERT(!c.pub && !c.sub_ok && c.exp == NOW + 3600 && strcmp(c.room, "*") == 0);

    static const struct {
        const char *args[8];
        int status;
        const char *err_has;
    } bad[] = {
        { { "--config", "/nonexistent/sfu.conf", "--room", "r", "--name", "a", NULL }, 1,
          "sfu.conf" },
        { { "--room", "r", "--name", "a", NULL }, 2, "--config is required" },
        { { "--config", "x", "--name", "a", NULL }, 2, "--room is required" },
        { { "--config", "x", "--room", "r", NULL }, 2, "--name is required" },
        { { "--config", "x", "--room", "r/s", "--name", "a", NULL }, 2, "--room" },
        { { "--config", "x", "--room", "r", "--name", "", NULL }, 2, "--name" },
        { { "--config", "x", "--room", "r", "--name", "a", "--ttl", "1y" }, 2, "--ttl" },
        { { "--config", "x", "--room", "r", "--name", "a", "--bogus", NULL }, 2, "--bogus" },
        { { "--config", "x", "--room", "r", "--name", NULL }, 2, "needs a value" },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(bad); i++) {
        const char *args[10] = { 0 };
        for (size_t k = 0; k < 8 && bad[i].args[k]; k++)
            args[k] = bad[i].args[k];
        int st = run_token(args, out, sizeof out, err, sizeof err);
        if (st != bad[i].status || !strstr(err, bad[i].err_has))
            fprintf(stderr, "  case %zu: %s", i, err);
        ASSERT_EQ(st, bad[i].status);
        ASSERT_STR_EQ(out, "");
        ASSERT(strstr(err, bad[i].err_has));
    }
    const char *nosecret[] = { "--config", without, "--room", "r", "--name", "a", NULL };
    ASSERT_EQ(run_token(nosecret, out, sizeof out, err, sizeof err), SIG_TOKEN_EXIT_ERROR);
    ASSERT_STR_EQ(out, "");
    ASSERT(strstr(err, "no [auth] secret"));
    /* The secret never appears in any message. */
    write_file(with, "[auth]\nsecret = " SECRET "\nbogus_key = 1\n");
    ASSERT_EQ(run_token(ok, out, sizeof out, err, sizeof err), SIG_TOKEN_EXIT_ERROR);
    ASSERT(err[0] && !strstr(err, SECRET));
    unlink(with);
    unlink(without);
    return 0;
}

TEST_LIST(TEST_ENTRY(verify_table), TEST_ENTRY(tampering_table), TEST_ENTRY(known_vectors),
          TEST_ENTRY(alg_none_unsigned), TEST_ENTRY(size_limits), TEST_ENTRY(bearer_table),
          TEST_ENTRY(allows_table), TEST_ENTRY(status_reasons), TEST_ENTRY(mint),
          TEST_ENTRY(ttl_table), TEST_ENTRY(token_cli))
