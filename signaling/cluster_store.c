/* The cluster directory's pure logic (see cluster_store.h). */
#include "signaling/cluster_store.h"

#include <arpa/inet.h>
#include <glib.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/core/common.h"
#include "signaling/route.h"

#define MAC_HEX 64      /* HMAC-SHA256 as hex */

static bool parse_port(const char *s, size_t len, uint16_t *out)
{
    uint32_t v = 0;
    if (len == 0 || len > 5)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

static bool host_char(char c)
{
    return g_ascii_isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* "host[:port]" or "[v6]:port" in s[0..len): host into out, port if given. */
static bool parse_authority(const char *s, size_t len, char *host, size_t hostlen,
                            uint16_t *port)
{
    const char *hend, *rest;
    if (len > 0 && s[0] == '[') {
        hend = memchr(s, ']', len);
        if (!hend || (size_t)(hend - s - 1) >= hostlen || hend == s + 1)
            return false;
        memcpy(host, s + 1, (size_t)(hend - s - 1));
        host[hend - s - 1] = '\0';
        unsigned char bin[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET6, host, bin) != 1)
            return false;
        rest = hend + 1;
    } else {
        hend = memchr(s, ':', len);
        if (!hend)
            hend = s + len;
        if (hend == s || (size_t)(hend - s) >= hostlen)
            return false;
        for (const char *p = s; p < hend; p++)
            if (!host_char(*p))
                return false;
        memcpy(host, s, (size_t)(hend - s));
        host[hend - s] = '\0';
        rest = hend;
    }
    if (rest == s + len)
        return true;
    if (*rest != ':')
        return false;
    return parse_port(rest + 1, (size_t)(s + len - rest - 1), port);
}

int sig_cluster_parse_redis_url(const char *url, sig_redis_addr *out, char *why, size_t n)
{
    static const char scheme[] = "redis://";
    sig_redis_addr a = { .port = 6379, .db = 0 };
    if (strncmp(url, scheme, sizeof scheme - 1) != 0) {
        snprintf(why, n, "expected redis://HOST:PORT/DB, got \"%.60s\"", url);
        return -SFU_EINVAL;
    }
    const char *auth = url + sizeof scheme - 1;
    if (strpbrk(auth, "@?#")) {
        snprintf(why, n, "no user, password, query or fragment in the URL "
                         "(the password goes in cluster.redis_password)");
        return -SFU_EINVAL;
    }
    const char *slash = strchr(auth, '/');
    size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
    if (!parse_authority(auth, alen, a.host, sizeof a.host, &a.port)) {
        snprintf(why, n, "expected redis://HOST:PORT/DB (HOST a name or address, "
                         "PORT 1-65535), got \"%.60s\"", url);
        return -SFU_EINVAL;
    }
    if (slash && slash[1]) {
        const char *d = slash + 1;
        size_t dl = strlen(d);
        uint32_t db = 0;
        for (size_t i = 0; i < dl; i++) {
            if (d[i] < '0' || d[i] > '9' || dl > 5) {
                snprintf(why, n, "the database must be a number 0-65535, got \"%.20s\"", d);
                return -SFU_EINVAL;
            }
            db = db * 10 + (uint32_t)(d[i] - '0');
        }
        if (db > 65535) {
            snprintf(why, n, "the database must be a number 0-65535, got \"%.20s\"", d);
            return -SFU_EINVAL;
        }
        a.db = db;
    }
    *out = a;
    return 0;
}

int sig_cluster_check_public_url(const char *url, char *why, size_t n)
{
    const char *auth = NULL;
    if (strncmp(url, "http://", 7) == 0)
        auth = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        auth = url + 8;
    size_t len = auth ? strlen(auth) : 0;
    if (len && auth[len - 1] == '/')
        len--;      /* "http://h:1/" is the same origin */
    char host[SIG_CLUSTER_HOST_MAX];
    uint16_t port = 0;
    if (!auth || memchr(auth, '/', len) || strpbrk(auth, "@?#") ||
        !parse_authority(auth, len, host, sizeof host, &port)) {
        snprintf(why, n, "expected http(s)://HOST[:PORT] with no path, got \"%.60s\"", url);
        return -SFU_EINVAL;
    }
    return 0;
}

bool sig_cluster_valid_node_id(const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len > SIG_CLUSTER_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!host_char(id[i]))
            return false;
    return true;
}

/* ---- sealed records ---- */

static void mac_hex(const char *secret, const char *data, size_t len, char out[MAC_HEX + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)data, len, mac, &mlen);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", i < mlen ? mac[i] : 0);
}

char *sig_cluster_seal(const char *json, const char *secret)
{
    if (!secret || !secret[0])
        return g_strdup(json);
    char mac[MAC_HEX + 1];
    mac_hex(secret, json, strlen(json), mac);
    return g_strdup_printf("%s.%s", mac, json);
}

int sig_cluster_unseal(const char *text, size_t len, const char *secret, const char **json,
                       size_t *json_len)
{
    bool sealed = len > MAC_HEX && text[MAC_HEX] == '.';
    bool want = secret && secret[0];
    if (sealed != want)
        return -SFU_EMALFORMED;
    if (!want) {
        *json = text;
        *json_len = len;
        return 0;
    }
    char mac[MAC_HEX + 1];
    mac_hex(secret, text + MAC_HEX + 1, len - MAC_HEX - 1, mac);
    if (CRYPTO_memcmp(mac, text, MAC_HEX) != 0)
        return -SFU_EMALFORMED;
    *json = text + MAC_HEX + 1;
    *json_len = len - MAC_HEX - 1;
    return 0;
}

char *sig_cluster_node_encode(const sig_cluster_node *node, const char *secret)
{
    json_t *o = json_pack("{s:i,s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "v", 1, "id", node->id, "url",
                          node->url, "sessions", (json_int_t)node->sessions, "max_sessions",
                          (json_int_t)node->max_sessions, "rooms", (json_int_t)node->rooms,
                          "cpu_permille", (json_int_t)node->cpu_permille, "bitrate_bps",
                          (json_int_t)node->bitrate_bps);
    if (!o)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    char *sealed = text ? sig_cluster_seal(text, secret) : NULL;
    free(text);
    return sealed;
}

static bool get_uint(json_t *o, const char *key, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

int sig_cluster_node_decode(const char *text, size_t len, const char *secret,
                            const char *expect_id, sig_cluster_node *out)
{
    const char *js;
    size_t jl;
    if (sig_cluster_unseal(text, len, secret, &js, &jl) != 0)
        return -SFU_EMALFORMED;
    json_t *o = json_loadb(js, jl, JSON_REJECT_DUPLICATES, NULL);
    sig_cluster_node n = { 0 };
    uint64_t v, s, ms, r, cpu, bps;
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *url = json_string_value(json_object_get(o, "url"));
    char why[8];
    bool ok = json_is_object(o) && get_uint(o, "v", 1, &v) && v == 1 && id && url &&
              sig_cluster_valid_node_id(id) && (!expect_id || strcmp(id, expect_id) == 0) &&
              strlen(url) < sizeof n.url && sig_cluster_check_public_url(url, why, sizeof why) == 0 &&
              get_uint(o, "sessions", UINT32_MAX, &s) && get_uint(o, "max_sessions", UINT32_MAX, &ms) &&
              get_uint(o, "rooms", UINT32_MAX, &r) && get_uint(o, "cpu_permille", 100000, &cpu) &&
              get_uint(o, "bitrate_bps", UINT64_MAX >> 12, &bps);
    if (ok) {
        g_strlcpy(n.id, id, sizeof n.id);
        g_strlcpy(n.url, url, sizeof n.url);
        n.sessions = (uint32_t)s;
        n.max_sessions = (uint32_t)ms;
        n.rooms = (uint32_t)r;
        n.cpu_permille = (uint32_t)cpu;
        n.bitrate_bps = bps;
        *out = n;
    }
    json_decref(o);
    return ok ? 0 : -SFU_EMALFORMED;
}

/* ---- owner choice ---- */

double sig_cluster_load(const sig_cluster_node *node)
{
    double sessions = node->max_sessions ? (double)node->sessions / node->max_sessions : 1.0;
    double cpu = node->cpu_permille / 1000.0;
    return sessions > cpu ? sessions : cpu;
}

int sig_cluster_pick(const sig_cluster_node *nodes, unsigned n, const char *self)
{
    int best = -1, mine = -1;
    for (unsigned i = 0; i < n; i++) {
        if (self && strcmp(nodes[i].id, self) == 0)
            mine = (int)i;
        /* Ties go to the smaller id, so every node picks alike. */
        if (best < 0 || sig_cluster_load(&nodes[i]) < sig_cluster_load(&nodes[best]) ||
            (sig_cluster_load(&nodes[i]) == sig_cluster_load(&nodes[best]) &&
             strcmp(nodes[i].id, nodes[best].id) < 0))
            best = (int)i;
    }
    if (mine >= 0 &&
        sig_cluster_load(&nodes[mine]) <= sig_cluster_load(&nodes[best]) + SIG_CLUSTER_SELF_MARGIN)
        return mine;
    return best;
}

/* ---- rooms summaries ---- */

/* Only the fields listed here go to Redis: names and addresses never. */
static json_t *track_summary(json_t *t, uint64_t *bps)
{
    json_t *out = json_object();
    static const char *const keep[] = { "kind", "mid", "codec", "bitrate_bps" };
    for (size_t i = 0; i < SFU_ARRAY_LEN(keep); i++) {
        json_t *v = json_object_get(t, keep[i]);
        if (v)
            json_object_set(out, keep[i], v);
    }
    json_t *b = json_object_get(t, "bitrate_bps");
    if (json_is_integer(b) && json_integer_value(b) > 0)
        *bps += (uint64_t)json_integer_value(b);
    return out;
}

static json_t *room_summary(json_t *room, uint64_t *bps)
{
    json_t *name = json_object_get(room, "room");
    json_t *parts = json_object_get(room, "participants");
    if (!json_is_string(name) || !json_is_array(parts))
        return NULL;
    json_t *out_parts = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(parts, i, p) {
        json_t *id = json_object_get(p, "participant"), *tracks = json_object_get(p, "tracks");
        if (!json_is_string(id) ||
            !sig_route_valid_name(json_string_value(id), json_string_length(id)))
            continue;
        json_t *op = json_pack("{s:O,s:[]}", "participant", id, "tracks");
        size_t k;
        json_t *t;
        json_array_foreach(tracks, k, t)
            json_array_append_new(json_object_get(op, "tracks"), track_summary(t, bps));
        json_array_append_new(out_parts, op);
    }
    return json_pack("{s:O,s:o}", "room", name, "participants", out_parts);
}

char *sig_cluster_summary(const char *rooms_json, const char *node_id, uint64_t *bitrate_bps)
{
    *bitrate_bps = 0;
    json_t *in = json_loads(rooms_json, 0, NULL);
    json_t *rooms = json_object_get(in, "rooms");
    if (!json_is_array(rooms)) {
        json_decref(in);
        return NULL;
    }
    json_t *out_rooms = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rooms, i, r) {
        /* A relayed room's local copy ("~R", signaling/relay.h) is not a
         * room of this node's: not published. */
        const char *name = json_string_value(json_object_get(r, "room"));
        if (!name || name[0] == '~')
            continue;
        json_t *s = room_summary(r, bitrate_bps);
        if (s)
            json_array_append_new(out_rooms, s);
    }
    json_t *out = json_pack("{s:s,s:o}", "node", node_id, "rooms", out_rooms);
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    json_decref(in);
    return text;
}

char *sig_cluster_summary_rooms(const char *json, size_t len, const char *expect_id)
{
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    const char *node = json_string_value(json_object_get(o, "node"));
    json_t *rooms = json_object_get(o, "rooms");
    char *text = NULL;
    if (node && (!expect_id || strcmp(node, expect_id) == 0) && json_is_array(rooms)) {
        json_t *out = json_array();
        size_t i;
        json_t *r;
        json_array_foreach(rooms, i, r) {
            /* Rebuilt field by field: a record is trusted for what it may
             * carry only. */
            uint64_t bps = 0;
            json_t *s = json_is_object(r) ? room_summary(r, &bps) : NULL;
            if (!s)
                continue;
            const char *name = json_string_value(json_object_get(s, "room"));
            if (!name || !sig_route_valid_name(name, strlen(name))) {
                json_decref(s);
                continue;
            }
            json_object_set_new(s, "node", json_string(node));
            json_array_append_new(out, s);
        }
        text = json_dumps(out, JSON_COMPACT);
        json_decref(out);
    }
    json_decref(o);
    return text;
}

char *sig_cluster_rooms_merge(const char *local_json, const char *self_id,
                              const char *const *remote_rooms, unsigned nremote)
{
    json_t *doc = json_loads(local_json, 0, NULL);
    json_t *rooms = json_object_get(doc, "rooms");
    if (!json_is_array(rooms)) {
        json_decref(doc);
        return NULL;
    }
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    size_t i;
    json_t *r;
    json_array_foreach(rooms, i, r) {
        json_object_set_new(r, "node", json_string(self_id));
        const char *name = json_string_value(json_object_get(r, "room"));
        if (name)
            g_hash_table_add(seen, (gpointer)name);
    }
    json_t *remote_all = json_array();     /* keeps the remote names alive for `seen` */
    for (unsigned k = 0; k < nremote; k++) {
        json_t *arr = remote_rooms[k] ? json_loads(remote_rooms[k], 0, NULL) : NULL;
        json_array_foreach(arr, i, r) {
            const char *name = json_string_value(json_object_get(r, "room"));
            if (!name || g_hash_table_contains(seen, name))
                continue;   /* a room split over nodes: the local view wins */
            json_array_append(remote_all, r);
            g_hash_table_add(seen, (gpointer)name);
            json_array_append(rooms, r);
        }
        json_decref(arr);
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    g_hash_table_destroy(seen);
    json_decref(remote_all);
    json_decref(doc);
    return text;
}

/* ---- redirects ---- */

static void append_encoded(GString *s, const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (g_ascii_isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            g_string_append_c(s, (char)*p);
        else
            g_string_append_printf(s, "%%%02X", *p);
    }
}

int sig_cluster_location(const char *public_url, const char *path,
                         const sig_cluster_query *args, unsigned nargs, char *out, size_t n)
{
    GString *s = g_string_new(public_url);
    while (s->len && s->str[s->len - 1] == '/')
        g_string_truncate(s, s->len - 1);
    g_string_append(s, path);
    for (unsigned i = 0; i < nargs; i++) {
        g_string_append_c(s, i ? '&' : '?');
        append_encoded(s, args[i].key);
        g_string_append_c(s, '=');
        append_encoded(s, args[i].value);
    }
    int rc = s->len < n ? 0 : -SFU_ELIMIT;
    if (rc == 0)
        memcpy(out, s->str, s->len + 1);
    g_string_free(s, TRUE);
    return rc;
}
