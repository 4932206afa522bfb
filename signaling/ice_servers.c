#include "signaling/ice_servers.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "signaling/route.h"

int sig_ice_turn_credentials(const char *secret, int64_t expiry_unix, const char *name,
                             char *username, size_t ulen, char *credential, size_t clen)
{
    if (!secret || !secret[0] || strlen(secret) > INT32_MAX || !name ||
        !sig_route_valid_name(name, strlen(name)) || clen < SIG_ICE_TURN_CRED_MAX)
        return -SFU_EINVAL;
    int n = snprintf(username, ulen, "%" PRId64 ":%s", expiry_unix, name);
    if (n < 0 || (size_t)n >= ulen)
        return -SFU_EINVAL;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)username, (size_t)n,
              mac, &maclen))
        return -SFU_EINVAL;
    /* Standard base64 with padding (RFC 4648 section 4), as coturn compares it. */
    EVP_EncodeBlock((unsigned char *)credential, mac, (int)maclen);
    return 0;
}

/* RFC 8288 3: the target is a URI-Reference between '<' and '>'. */
static bool uri_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\')
            return false;
    }
    return true;
}

/* An RFC 9110 5.6.4 quoted-string: '"' and '\' escaped; no control
 * characters (a CR or LF would split the header) and, to keep every client
 * reading the same bytes, no non-ASCII. Returns the length or -1. */
static int quote(const char *s, char *out, size_t n)
{
    size_t o = 0;
    if (n < 3)
        return -1;
    out[o++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f)
            return -1;
        if (o + 4 > n)
            return -1;
        if (c == '"' || c == '\\')
            out[o++] = '\\';
        out[o++] = (char)c;
    }
    out[o++] = '"';
    out[o] = '\0';
    return (int)o;
}

static int add(sig_ice_links *out, const char *url, const char *user, const char *cred)
{
    char qu[2 * SIG_CONFIG_STR_MAX + 3], qc[2 * SIG_CONFIG_STR_MAX + 3];
    if (out->count >= SIG_ICE_LINKS_MAX || !uri_ok(url))
        return -SFU_EINVAL;
    char *v = out->value[out->count];
    int n;
    if (user) {
        if (quote(user, qu, sizeof qu) < 0 || quote(cred, qc, sizeof qc) < 0)
            return -SFU_EINVAL;
        n = snprintf(v, SIG_ICE_LINK_LEN,
                     "<%s>; rel=\"ice-server\"; username=%s; credential=%s; "
                     "credential-type=\"password\"", url, qu, qc);
    } else {
        n = snprintf(v, SIG_ICE_LINK_LEN, "<%s>; rel=\"ice-server\"", url);
    }
    if (n < 0 || n >= SIG_ICE_LINK_LEN)
        return -SFU_EINVAL;
    out->count++;
    return 0;
}

static int fill(const sig_config *cfg, int64_t now_unix, const char *name, sig_ice_links *out)
{
    const char *user = NULL, *cred = NULL;
    char tuser[SIG_ICE_TURN_USER_MAX], tcred[SIG_ICE_TURN_CRED_MAX];
    if (cfg->turn.urls.count && cfg->turn.secret[0]) {
        int64_t expiry = now_unix > INT64_MAX - cfg->turn.ttl_s ? INT64_MAX
                                                                : now_unix + cfg->turn.ttl_s;
        if (sig_ice_turn_credentials(cfg->turn.secret, expiry, name, tuser, sizeof tuser,
                                     tcred, sizeof tcred) != 0)
            return -SFU_EINVAL;
        user = tuser;
        cred = tcred;
    } else if (cfg->turn.username[0]) {
        user = cfg->turn.username;
        cred = cfg->turn.credential;
    }
    for (unsigned i = 0; i < cfg->ice.stun_urls.count && i < SIG_CONFIG_LIST_MAX; i++)
        if (add(out, cfg->ice.stun_urls.item[i], NULL, NULL) != 0)
            return -SFU_EINVAL;
    for (unsigned i = 0; i < cfg->turn.urls.count && i < SIG_CONFIG_LIST_MAX; i++)
        if (add(out, cfg->turn.urls.item[i], user, cred) != 0)
            return -SFU_EINVAL;
    return 0;
}

int sig_ice_servers_links(const sig_config *cfg, int64_t now_unix, const char *name,
                          sig_ice_links *out)
{
    if (!out)
        return -SFU_EINVAL;
    out->count = 0;
    if (!cfg)
        return -SFU_EINVAL;
    if (!name)
        name = "sfu";
    if (!sig_route_valid_name(name, strlen(name)))
        return -SFU_EINVAL;
    int rc = fill(cfg, now_unix, name, out);
    if (rc != 0)
        out->count = 0;
    return rc;
}
