/* Parsing and printing one configuration value by type (see config_value.h). */
#include "signaling/config_value.h"

#include <arpa/inet.h>
#include <glib.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

static int parse_uint(const char *text, uint32_t min, uint32_t max, uint32_t *out, char *why,
                      size_t n)
{
    uint64_t v = 0;
    size_t len = strlen(text);
    if (len == 0 || len > 19 || strspn(text, "0123456789") != len) {
        snprintf(why, n, "expected a whole number, got \"%.40s\"", text);
        return -SFU_EINVAL;
    }
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (uint64_t)(text[i] - '0');
    if (v < min || v > max) {
        snprintf(why, n, "%" PRIu64 " is out of range [%u, %u]", v, min, max);
        return -SFU_EINVAL;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_bool(const char *text, bool *out, char *why, size_t n)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < SFU_ARRAY_LEN(yes); i++) {
        if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
            *out = strcmp(text, yes[i]) == 0;
            return 0;
        }
    }
    snprintf(why, n, "expected true or false, got \"%.40s\"", text);
    return -SFU_EINVAL;
}

static bool is_ip(const char *s)
{
    unsigned char bin[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1;
}

static bool is_port(const char *s, bool zero_ok)
{
    uint32_t port;
    char why[8];
    return parse_uint(s, zero_ok ? 0 : 1, 65535, &port, why, sizeof why) == 0;
}

/* "192.0.2.1:8080" or "[2001:db8::1]:8080", numeric only: a listen address
 * that needs DNS at start fails in surprising ways. */
static int parse_addr(const char *text, sig_config_addr *out, char *why, size_t n)
{
    char host[SIG_CONFIG_HOST_MAX];
    const char *colon = strrchr(text, ':');
    const char *h = text, *hend = colon;
    if (text[0] == '[') {
        h = text + 1;
        hend = strchr(text, ']');
        if (!hend || hend[1] != ':')
            hend = NULL;
        colon = hend ? hend + 1 : NULL;
    }
    if (!colon || !hend || (size_t)(hend - h) >= sizeof host)
        goto bad;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    if (!is_ip(host) || (text[0] != '[' && strchr(host, ':')) || !is_port(colon + 1, true))
        goto bad;
    uint32_t port = 0;
    parse_uint(colon + 1, 0, 65535, &port, why, n);
    snprintf(out->host, sizeof out->host, "%s", host);
    out->port = (uint16_t)port;
    return 0;
bad:
    snprintf(why, n, "expected IP:port such as 127.0.0.1:8080 or [::1]:8080, got \"%.60s\"",
             text);
    return -SFU_EINVAL;
}

/* RFC 7064 section 3.1 and RFC 7065 section 3.1: scheme ":" host [":" port],
 * TURN also ["?transport=" ("udp" / "tcp")]. The URI goes into a Link header,
 * so nothing outside that grammar is let through. */
static bool valid_ice_url(const char *url, bool turn)
{
    const char *const schemes[2][2] = { { "stun:", "stuns:" }, { "turn:", "turns:" } };
    const char *p = NULL;
    for (int i = 0; i < 2 && !p; i++)
        if (strncmp(url, schemes[turn][i], strlen(schemes[turn][i])) == 0)
            p = url + strlen(schemes[turn][i]);
    if (!p)
        return false;
    char rest[SIG_CONFIG_STR_MAX];
    snprintf(rest, sizeof rest, "%s", p);
    char *query = strchr(rest, '?');
    if (query) {
        *query++ = '\0';
        if (!turn || (strcmp(query, "transport=udp") != 0 && strcmp(query, "transport=tcp") != 0))
            return false;
    }
    char *port = NULL;
    if (rest[0] == '[') {
        char *end = strchr(rest, ']');
        if (!end || (end[1] != '\0' && end[1] != ':'))
            return false;
        port = end[1] == ':' ? end + 2 : NULL;
        *end = '\0';
        unsigned char bin[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET6, rest + 1, bin) != 1)
            return false;
    } else {
        port = strchr(rest, ':');
        if (port)
            *port++ = '\0';
        size_t len = strlen(rest);
        if (len == 0 || strspn(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789.-") != len)
            return false;
    }
    return !port || is_port(port, false);
}

static int parse_list(const struct cfg_key *k, const char *text, sig_config_list *out,
                      char *why, size_t n)
{
    sig_config_list list = { 0 };
    gchar **items = g_strsplit_set(text, ",;", -1);
    int rc = -SFU_EINVAL;
    for (gchar **it = items; *it; it++) {
        const char *item = g_strstrip(*it);
        if (!item[0])
            continue;   /* "a, b," and GKeyFile's "a;b;" style */
        if (list.count == k->max) {
            snprintf(why, n, "more than %u items", k->max);
            goto out;
        }
        bool turn = k->type == CFG_TURN_URLS;
        bool ok = strlen(item) < SIG_CONFIG_STR_MAX &&
                  (k->type == CFG_IP_LIST ? is_ip(item) : valid_ice_url(item, turn));
        if (!ok) {
            snprintf(why, n, "\"%.60s\" is not %s", item,
                     k->type == CFG_IP_LIST ? "an IP address"
                     : k->type == CFG_STUN_URLS ? "a stun: or stuns: URI (RFC 7064)"
                                                : "a turn: or turns: URI (RFC 7065)");
            goto out;
        }
        snprintf(list.item[list.count++], SIG_CONFIG_STR_MAX, "%s", item);
    }
    if (list.count < k->min) {
        snprintf(why, n, "needs at least %u item%s", k->min, k->min == 1 ? "" : "s");
        goto out;
    }
    *out = list;
    rc = 0;
out:
    g_strfreev(items);
    return rc;
}

static int parse_string(const struct cfg_key *k, const char *text, char *field, char *why,
                        size_t n)
{
    size_t len = strlen(text);
    if (len >= k->size) {
        snprintf(why, n, "longer than %zu bytes", k->size - 1);
        return -SFU_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        /* values end up in headers and file names: no line breaks or other controls */
        if ((unsigned char)text[i] < ' ' || text[i] == 0x7f) {
            snprintf(why, n, "contains a control character");
            return -SFU_EINVAL;
        }
    }
    memcpy(field, text, len + 1);
    return 0;
}

int sig_config_value_parse(const struct cfg_key *k, const char *raw, sig_config *cfg, char *why,
                       size_t n)
{
    void *field = (char *)cfg + k->off;
    gchar *text = g_strstrip(g_strdup(raw));
    uint32_t v = 0;
    int rc = -SFU_EINVAL;
    switch (k->type) {
    case CFG_UINT:
    case CFG_MS:
        if ((rc = parse_uint(text, k->min, k->max, &v, why, n)) != 0)
            break;
        if (k->type == CFG_MS)
            *(sfu_time *)field = SFU_MS(v);
        else if (k->size == sizeof(uint16_t))
            *(uint16_t *)field = (uint16_t)v;
        else
            *(uint32_t *)field = v;
        break;
    case CFG_BOOL:
        rc = parse_bool(text, field, why, n);
        break;
    case CFG_STRING:
    case CFG_SECRET:
        rc = parse_string(k, text, field, why, n);
        break;
    case CFG_LEVEL:
        if ((rc = sfu_log_level_parse(text, field)) != 0)
            snprintf(why, n, "expected error, warn, info or debug, got \"%.40s\"", text);
        break;
    case CFG_ADDR:
        rc = parse_addr(text, field, why, n);
        break;
    case CFG_IP_LIST:
    case CFG_STUN_URLS:
    case CFG_TURN_URLS:
        rc = parse_list(k, text, field, why, n);
        break;
    }
    g_free(text);
    return rc;
}

void sig_config_value_format(const struct cfg_key *k, const sig_config *cfg, char *buf, size_t n)
{
    const void *field = (const char *)cfg + k->off;
    const sig_config_list *list = field;
    const sig_config_addr *addr = field;
    size_t o = 0;
    switch (k->type) {
    case CFG_UINT:
        snprintf(buf, n, "%u", k->size == sizeof(uint16_t) ? *(const uint16_t *)field
                                                           : *(const uint32_t *)field);
        break;
    case CFG_MS:
        snprintf(buf, n, "%lld", (long long)(*(const sfu_time *)field / 1000));
        break;
    case CFG_BOOL:
        snprintf(buf, n, "%s", *(const bool *)field ? "true" : "false");
        break;
    case CFG_STRING:
        snprintf(buf, n, "%s", (const char *)field);
        break;
    case CFG_SECRET:
        snprintf(buf, n, "%s", *(const char *)field ? "(set)" : "");
        break;
    case CFG_LEVEL:
        snprintf(buf, n, "%s", sfu_log_level_name(*(const sfu_log_level *)field));
        break;
    case CFG_ADDR:
        snprintf(buf, n, strchr(addr->host, ':') ? "[%s]:%u" : "%s:%u", addr->host, addr->port);
        break;
    case CFG_IP_LIST:
    case CFG_STUN_URLS:
    case CFG_TURN_URLS:
        buf[0] = '\0';
        for (unsigned i = 0; i < list->count && o < n; i++)
            o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? ", " : "", list->item[i]);
        break;
    }
}

