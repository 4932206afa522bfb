/* The configuration table and its loader (see config.h). GKeyFile parses the
 * INI syntax; since it keeps no line numbers, the file text is scanned once
 * more here to point each problem at its line. */
#include "signaling/config.h"

#include <assert.h>
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/cluster_store.h"
#include "signaling/config_value.h"
#include "sfu/core/media.h"

#define FIELD(f) offsetof(sig_config, f), sizeof(((sig_config *)0)->f)

/* The one table. Defaults are text and go through the same parser as the
 * file, so a default can never be out of its own bounds (the unit test checks). */
static const struct cfg_key keys[] = {
    { "http", "listen", CFG_ADDR, FIELD(http.listen), "127.0.0.1:8080", 0, 65535,
      "address and port of the HTTP API; port 0 picks a free one" },
    { "http", "cors_origin", CFG_STRING, FIELD(http.cors_origin), "*", 0, 0,
      "Access-Control-Allow-Origin sent on every answer" },
    { "http", "static_dir", CFG_STRING, FIELD(http.static_dir), "web", 0, 0,
      "directory of the web pages served at / and /static/" },
    { "http", "max_body_bytes", CFG_UINT, FIELD(http.max_body_bytes), "65536", 1024, 16777216,
      "largest request body; a larger one is answered 413" },
    { "http", "max_connections", CFG_UINT, FIELD(http.max_connections), "2048", 1, 65536,
      "open HTTP connections at most, event streams included; when full, the connection "
      "idle the longest is closed, and with none idle a new one is refused" },
    { "http", "max_pending_connections_per_client", CFG_UINT,
      FIELD(http.max_pending_connections_per_client), "64", 0, 65536,
      "connections of one client address still sending their request; past it that client's "
      "oldest such connection is closed; 0 turns the cap off" },
    { "http", "header_timeout_ms", CFG_MS, FIELD(http.header_timeout), "10000", 1000, 600000,
      "a request's line and headers must be complete this long after the connection opens" },
    { "http", "body_timeout_ms", CFG_MS, FIELD(http.body_timeout), "10000", 1000, 600000,
      "a request's body must be complete this long after its headers" },
    { "http", "idle_timeout_ms", CFG_MS, FIELD(http.idle_timeout), "30000", 1000, 3600000,
      "a keep-alive connection with no new request for this long is closed" },
    { "http", "requests_per_second_per_client", CFG_UINT,
      FIELD(http.requests_per_second_per_client), "50", 0, 100000,
      "sustained request rate per client address, then 429; 0 turns the limit off" },
    { "http", "request_burst_per_client", CFG_UINT, FIELD(http.request_burst), "400", 1, 100000,
      "requests a client may make at once before the rate applies" },

    { "media", "port_min", CFG_UINT, FIELD(media.port_min), "20000", 1, 65535,
      "lowest UDP/TCP port for ICE" },
    { "media", "port_max", CFG_UINT, FIELD(media.port_max), "20999", 1, 65535,
      "highest UDP/TCP port for ICE (inclusive)" },
    { "media", "gather_addresses", CFG_IP_LIST, FIELD(media.gather_addresses), "127.0.0.1", 1,
      SIG_CONFIG_LIST_MAX, "local IP addresses to gather ICE candidates on" },
    { "media", "announce_addresses", CFG_IP_LIST, FIELD(media.announce_addresses), "", 0,
      SIG_CONFIG_LIST_MAX,
      "public addresses of a 1:1 NAT, one per gather address in the same order; empty: none" },
    { "media", "udp_port", CFG_STRING, FIELD(media.udp_port), "auto", 0, 0,
      "one shared UDP port per worker, announced as the preferred host candidate (worker i "
      "binds BASE+i on every gather address): a port number BASE; auto: the first ports of "
      "port_min..port_max (libnice draws from the rest); 0 or off: per-connection ports only" },
    { "media", "ice_tcp", CFG_BOOL, FIELD(media.ice_tcp), "true", 0, 0,
      "also offer passive ICE-TCP candidates (RFC 6544), for networks that block UDP" },
    { "media", "workers", CFG_UINT, FIELD(media.workers), "0", 0, 64,
      "media worker threads; 0: one per core" },
    { "media", "liveness_timeout_ms", CFG_MS, FIELD(media.liveness_timeout), "15000", 1000,
      3600000,
      "grace for a quiet path: a session with no authenticated SRTP, SRTCP or answered "
      "consent check for this long is closed; an ICE restart within it keeps the session" },
    { "media", "buffer_pool_packets", CFG_UINT, FIELD(media.buffer_pool_packets), "8192", 256,
      1048576, "packet buffers per worker at start; the pool grows by 1024 at a time up to "
      "buffer_pool_max_packets" },
    { "media", "buffer_pool_max_packets", CFG_UINT, FIELD(media.buffer_pool_max_packets), "65536",
      256, 1048576, "packet buffers a worker's pool may grow to (not below buffer_pool_packets); "
      "past it packets are dropped" },
    { "media", "rtx_cache_packets", CFG_UINT, FIELD(media.rtx_cache_packets), "512", 16, 32768,
      "packets kept per source stream for retransmission" },
    { "media", "keyframe_min_interval_ms", CFG_MS, FIELD(media.keyframe_min_interval), "250",
      100, 60000, "at most one PLI/FIR per stream in this interval" },
    { "media", "keyframe_cache_ms", CFG_MS, FIELD(media.keyframe_cache), "1000", 0, 2000,
      "a viewer that needs a keyframe gets the last one from the cache if it is at most this old; 0: off" },
    { "media", "max_publish_bitrate_bps", CFG_UINT, FIELD(media.max_publish_bitrate_bps), "0",
      0, 1000000000, "a publisher's packets over this rate are dropped; 0: unlimited" },
    { "media", "max_retransmissions_per_second", CFG_UINT,
      FIELD(media.max_retransmissions_per_second), "1000", 1, 100000,
      "retransmissions per viewer stream, half a second's worth at once; more NACKs are refused" },
    { "media", "simulcast", CFG_BOOL, FIELD(media.simulcast), "true", 0, 0,
      "answer simulcast offers (a=rid + a=simulcast, RFC 8853) so publishers send up to 3 layers; "
      "false: one layer (the client's first encoding)" },
    { "media", "udp_gso", CFG_BOOL, FIELD(media.udp_gso), "false", 0, 0,
      "send a run of equal-sized packets to one viewer as one UDP GSO message (UDP_SEGMENT); off: "
      "one datagram per packet (a GSO train is one unit on veth, so loss there takes it whole)" },
    { "media", "read_coalesce_us", CFG_UINT, FIELD(media.read_coalesce_us), "1000", 0, 20000,
      "under load (at least 2 datagrams expected per window), a worker waits up to this many "
      "microseconds after a wake-up before reading again, so one read and one send carry several "
      "packets; it adds at most this much latency; 0: off" },
    { "media", "video_loss_copies", CFG_BOOL, FIELD(media.video_loss_copies), "true", 0, 0,
      "toward a viewer whose NACKs show heavy loss, send video twice and retransmissions up to "
      "three times, out of the retransmission budget" },

    { "room", "audio_slots", CFG_UINT, FIELD(room.audio_slots), "5", 0, SFU_AUDIO_SLOTS_MAX,
      "a room participant with more than this many others sending audio receives the loudest "
      "this many (the active speaker always among them) on this many audio m-lines; 0: "
      "everyone's audio, one m-line each" },

    { "limits", "max_sessions", CFG_UINT, FIELD(limits.max_sessions), "1000", 1, 1000000,
      "PeerConnections at once; more are answered 503" },
    { "limits", "max_rooms", CFG_UINT, FIELD(limits.max_rooms), "1000", 1, 1000000,
      "rooms at once" },
    { "limits", "max_participants_per_room", CFG_UINT, FIELD(limits.max_participants_per_room),
      "50", 1, 10000, "participants in one room" },
    { "limits", "max_tracks_per_session", CFG_UINT, FIELD(limits.max_tracks_per_session), "16",
      1, 64, "tracks one session may publish" },
    { "limits", "max_sdp_mlines", CFG_UINT, FIELD(limits.max_sdp_mlines), "32", 1, 1024,
      "m-lines in one SDP; more are answered 400" },
    { "limits", "max_sdp_bytes", CFG_UINT, FIELD(limits.max_sdp_bytes), "65536", 1024, 16777216,
      "bytes of one SDP; more are answered 400" },

    { "dtls", "cert_file", CFG_STRING, FIELD(dtls.cert_file), "", 0, 0,
      "PEM certificate for DTLS; empty: a fresh one is generated at start" },
    { "dtls", "key_file", CFG_STRING, FIELD(dtls.key_file), "", 0, 0,
      "PEM private key of cert_file" },

    { "log", "level", CFG_LEVEL, FIELD(log.level), "info", 0, 0,
      "error, warn, info or debug" },
    { "log", "lines_per_second_per_cause", CFG_UINT, FIELD(log.lines_per_second_per_cause),
      "20", 0, 100000, "log lines per second for one cause, then counted; 0: no limit" },

    { "privacy", "log_addresses", CFG_BOOL, FIELD(privacy.log_addresses), "false", 0, 0,
      "write client IP addresses into the log" },
    { "privacy", "api_addresses", CFG_BOOL, FIELD(privacy.api_addresses), "false", 0, 0,
      "show client IP addresses in GET /rooms" },

    { "auth", "secret", CFG_SECRET, FIELD(auth.secret), "", 0, 0,
      "HS256 key for bearer tokens, at least 32 bytes; empty: auth off" },
    { "auth", "clock_skew_s", CFG_UINT, FIELD(auth.clock_skew_s), "30", 0, 3600,
      "seconds of clock difference allowed around exp and nbf" },

    { "ice", "stun_urls", CFG_STUN_URLS, FIELD(ice.stun_urls), "", 0, SIG_CONFIG_LIST_MAX,
      "stun: or stuns: URIs given to clients in Link headers" },

    { "turn", "urls", CFG_TURN_URLS, FIELD(turn.urls), "", 0, SIG_CONFIG_LIST_MAX,
      "turn: or turns: URIs given to clients in Link headers" },
    { "turn", "secret", CFG_SECRET, FIELD(turn.secret), "", 0, 0,
      "shared secret for time-limited TURN credentials (TURN REST API)" },
    { "turn", "ttl_s", CFG_UINT, FIELD(turn.ttl_s), "86400", 60, 604800,
      "lifetime of time-limited TURN credentials" },
    { "turn", "username", CFG_STRING, FIELD(turn.username), "", 0, 0,
      "fixed TURN username, when no secret is set" },
    { "turn", "credential", CFG_SECRET, FIELD(turn.credential), "", 0, 0,
      "fixed TURN password, when no secret is set" },

    { "server", "drain_timeout_s", CFG_UINT, FIELD(server.drain_timeout_s), "0", 0, 86400,
      "on SIGTERM or SIGINT, refuse new sessions and wait this long for calls to end; "
      "0: stop at once" },

    { "cluster", "redis_url", CFG_STRING, FIELD(cluster.redis_url), "", 0, 0,
      "redis://HOST:PORT/DB of the cluster directory; empty: a single node" },
    { "cluster", "redis_password", CFG_SECRET, FIELD(cluster.redis_password), "", 0, 0,
      "password for Redis AUTH; empty: none" },
    { "cluster", "node_id", CFG_STRING, FIELD(cluster.node_id), "", 0, 0,
      "this node's id, 1-64 of A-Z a-z 0-9 _ . -; empty: a random one at each start" },
    { "cluster", "public_url", CFG_STRING, FIELD(cluster.public_url), "", 0, 0,
      "http(s)://HOST:PORT where clients and other nodes reach this node's HTTP API" },
    { "cluster", "secret", CFG_SECRET, FIELD(cluster.secret), "", 0, 0,
      "cluster secret, at least 32 bytes: seals what nodes publish in Redis (HMAC-SHA256); "
      "empty: records are not sealed" },
    { "cluster", "heartbeat_ms", CFG_MS, FIELD(cluster.heartbeat), "2000", 100, 60000,
      "how often a node refreshes its record, load and rooms in Redis" },
    { "cluster", "node_ttl_ms", CFG_MS, FIELD(cluster.node_ttl), "10000", 500, 600000,
      "a node that stops refreshing is gone from the directory after this long" },
    { "cluster", "redis_timeout_ms", CFG_MS, FIELD(cluster.redis_timeout), "500", 50, 10000,
      "connect and reply timeout of each Redis exchange" },
    { "cluster", "relay", CFG_BOOL, FIELD(cluster.relay), "false", 0, 0,
      "a WHEP viewer of a room owned by another node is served here through a relay leg "
      "(one per published track, shared by all of this node's viewers) instead of a 307; "
      "needs secret" },
    { "cluster", "relay_timeout_ms", CFG_MS, FIELD(cluster.relay_timeout), "3000", 100, 30000,
      "deadline of the node-to-node call that opens a relay leg" },
    { "cluster", "span", CFG_BOOL, FIELD(cluster.span), "false", 0, 0,
      "a room join for a room owned by another node is served here, the room spanning the "
      "nodes through relay legs to and from its owner, instead of a 307; needs relay" },
};

/* Where each group and key of the file is, from the scan of its text. */
struct place {
    char *group;
    char *key;          /* NULL for a group header */
    int line;
};

struct run {
    const char *path;
    GArray *places;     /* struct place */
    FILE *report;
    char *err;
    size_t errlen, used;
    int problems;
};

static void problem(struct run *r, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(struct run *r, int line, const char *what, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->problems++;
    if (r->report)
        fprintf(r->report, "%s:%d: %s: %s\n", r->path, line, what, msg);
    if (r->err && r->used < r->errlen) {
        int k = snprintf(r->err + r->used, r->errlen - r->used, "%s%s:%d: %s: %s",
                         r->used ? "\n" : "", r->path, line, what, msg);
        r->used = k < 0 ? r->errlen : r->used + (size_t)k;
    }
}

static int line_of(const struct run *r, const char *group, const char *key)
{
    int line = 0;
    for (guint i = 0; i < r->places->len; i++) {
        const struct place *p = &g_array_index(r->places, struct place, i);
        if (strcmp(p->group, group) == 0 && (key ? p->key && strcmp(p->key, key) == 0 : !p->key))
            line = p->line;     /* the last one: the one GKeyFile keeps */
    }
    return line;
}

/* Returns 1 when the key was already there (a problem, but not a syntax error). */
static int add_place(struct run *r, const char *group, const char *key, int line)
{
    int dup = 0;
    struct place p = { g_strdup(group), key ? g_strdup(key) : NULL, line };
    if (key) {
        int first = line_of(r, group, key);
        char what[300];
        snprintf(what, sizeof what, "%s.%s", group, key);
        if (first)
            problem(r, line, what, "duplicate key (first at line %d)", first);
        dup = first != 0;
    }
    g_array_append_val(r->places, p);
    return dup;
}

/* Mirrors GKeyFile's line rules (leading blanks skipped, '#' comments,
 * "[group]", "key = value") so that what it rejects gets a line number. */
static int scan_lines(struct run *r, const char *text, size_t len)
{
    int before = r->problems, duplicates = 0;
    char group[128] = "";
    int line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        bool nul = memchr(text + pos, '\0', n) != NULL;
        char *s = g_strndup(text + pos, n), *t = g_strstrip(s);
        line++;
        pos += n + 1;
        if (nul) {
            problem(r, line, "syntax", "NUL byte in line");
        } else if (t[0] == '\0' || t[0] == '#') {
            /* blank or comment */
        } else if (t[0] == '[') {
            char *end = strchr(t, ']');
            if (!end || end[1] != '\0' || end == t + 1 || (size_t)(end - t) >= sizeof group) {
                problem(r, line, "syntax", "bad group header, expected [name]");
            } else {
                *end = '\0';
                snprintf(group, sizeof group, "%s", t + 1);
                add_place(r, group, NULL, line);
            }
        } else if (strchr(t, '=') && t[0] != '=') {
            *strchr(t, '=') = '\0';
            g_strchomp(t);
            if (group[0] == '\0')
                problem(r, line, t, "key outside any [group]");
            else
                duplicates += add_place(r, group, t, line);
        } else {
            problem(r, line, "syntax", "expected [group], key = value or # comment");
        }
        g_free(s);
    }
    return r->problems - before - duplicates;
}

static const struct cfg_key *find_key(const char *group, const char *name)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(keys); i++)
        if (strcmp(keys[i].group, group) == 0 && strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static bool known_group(const char *group)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(keys); i++)
        if (strcmp(keys[i].group, group) == 0)
            return true;
    return false;
}

/* Edit distance up to a small bound, for "did you mean". */
static unsigned distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned row[64];
    if (la >= SFU_ARRAY_LEN(row) || lb >= SFU_ARRAY_LEN(row))
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            best = MIN(best, up + 1);
            best = MIN(best, row[j - 1] + 1);
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Keys that an earlier release knew: an operator upgrading learns what to
 * write instead, not just that the key is unknown. */
static const struct {
    const char *group, *name, *advice;
} renamed[] = {
    { "http", "max_connections_per_client",
      "renamed to http.max_pending_connections_per_client, which counts only connections "
      "still sending their request (idle and event-stream connections count toward "
      "http.max_connections only)" },
};

static void unknown_key(struct run *r, const char *group, const char *name, int line)
{
    char what[160];
    snprintf(what, sizeof what, "%s.%s", group, name);
    for (size_t i = 0; i < SFU_ARRAY_LEN(renamed); i++) {
        if (strcmp(renamed[i].group, group) == 0 && strcmp(renamed[i].name, name) == 0) {
            problem(r, line, what, "%s", renamed[i].advice);
            return;
        }
    }
    for (size_t i = 0; i < SFU_ARRAY_LEN(keys); i++) {
        if (strcmp(keys[i].name, name) == 0) {
            problem(r, line, what, "unknown key (it belongs in [%s])", keys[i].group);
            return;
        }
    }
    for (size_t i = 0; i < SFU_ARRAY_LEN(keys); i++) {
        if (strcmp(keys[i].group, group) == 0 && distance(keys[i].name, name) <= 2) {
            problem(r, line, what, "unknown key (did you mean %s?)", keys[i].name);
            return;
        }
    }
    problem(r, line, what, "unknown key");
}

/* Checks one "key = value" line of the file, in file order. GKeyFile hides
 * localized keys (name[de]) from g_key_file_get_keys, so the keys come from
 * the scan and only the values from GKeyFile. */
static void check_key(struct run *r, GKeyFile *kf, const struct place *p, sig_config *cfg)
{
    const struct cfg_key *k = find_key(p->group, p->key);
    if (!known_group(p->group) || line_of(r, p->group, p->key) != p->line)
        return;     /* reported with its group, or a duplicate reported by the scan */
    if (!k) {
        unknown_key(r, p->group, p->key, p->line);
        return;
    }
    char what[160], why[256];
    snprintf(what, sizeof what, "%s.%s", p->group, p->key);
    GError *gerr = NULL;
    gchar *value = g_key_file_get_string(kf, p->group, p->key, &gerr);
    if (!value) {
        problem(r, p->line, what, "%s", gerr->message);
        g_error_free(gerr);
        return;
    }
    if (sig_config_value_parse(k, value, cfg, why, sizeof why) != 0)
        problem(r, p->line, what, "%s", why);
    g_free(value);
}

/* The line of the first of two keys that the file sets, for a problem
 * between them. */
static int line_of_either(const struct run *r, const char *group, const char *a, const char *b)
{
    int line = line_of(r, group, a);
    return line ? line : line_of(r, group, b);
}

static void check_together(struct run *r, const sig_config *cfg)
{
    if (cfg->media.port_min > cfg->media.port_max)
        problem(r, line_of_either(r, "media", "port_min", "port_max"), "media.port_min",
                "%u is above port_max %u", cfg->media.port_min, cfg->media.port_max);
    if (sig_config_udp_port_parse(cfg->media.udp_port, NULL) != 0)
        problem(r, line_of(r, "media", "udp_port"), "media.udp_port",
                "expected auto, off, or a port number 0-65535, got \"%.40s\"",
                cfg->media.udp_port);
    unsigned na = cfg->media.announce_addresses.count, ng = cfg->media.gather_addresses.count;
    if (na && na != ng)
        problem(r, line_of_either(r, "media", "announce_addresses", "gather_addresses"),
                "media.announce_addresses",
                "%u addresses for %u gather_addresses: give one per gather address, "
                "in the same order", na, ng);
    if (!cfg->dtls.cert_file[0] != !cfg->dtls.key_file[0])
        problem(r, line_of_either(r, "dtls", "cert_file", "key_file"),
                cfg->dtls.cert_file[0] ? "dtls.key_file" : "dtls.cert_file",
                "cert_file and key_file are set together or not at all");
    if (cfg->media.buffer_pool_max_packets < cfg->media.buffer_pool_packets)
        problem(r, line_of_either(r, "media", "buffer_pool_max_packets", "buffer_pool_packets"),
                "media.buffer_pool_max_packets", "%u is below buffer_pool_packets %u",
                cfg->media.buffer_pool_max_packets, cfg->media.buffer_pool_packets);
    size_t slen = strlen(cfg->auth.secret);
    if (slen && slen < 32)  /* RFC 7518 section 3.2: an HS256 key of 256 bits or more */
        problem(r, line_of(r, "auth", "secret"), "auth.secret",
                "%zu bytes; HS256 needs at least 32", slen);
    bool user = cfg->turn.username[0] || cfg->turn.credential[0];
    if (cfg->turn.secret[0] && user)
        problem(r, line_of_either(r, "turn", "username", "credential"), "turn.username",
                "set either secret or username and credential, not both");
    else if (user && !(cfg->turn.username[0] && cfg->turn.credential[0]))
        problem(r, line_of_either(r, "turn", "username", "credential"),
                cfg->turn.username[0] ? "turn.credential" : "turn.username",
                "username and credential are set together or not at all");
    if (cfg->turn.urls.count && !cfg->turn.secret[0] && !user)
        problem(r, line_of(r, "turn", "urls"), "turn.urls",
                "TURN servers need a secret, or a username and credential");
}

/* [cluster]: the keys only matter with a Redis URL. */
static void check_cluster(struct run *r, const sig_config *cfg)
{
    char why[256];
    sig_redis_addr addr;
    const char *node_id = cfg->cluster.node_id;
    if (node_id[0] && !sig_cluster_valid_node_id(node_id))
        problem(r, line_of(r, "cluster", "node_id"), "cluster.node_id",
                "1 to 64 of A-Z a-z 0-9 _ . - expected, got \"%.70s\"", node_id);
    size_t slen = strlen(cfg->cluster.secret);
    if (slen && slen < 32)
        problem(r, line_of(r, "cluster", "secret"), "cluster.secret",
                "%zu bytes; at least 32 are needed", slen);
    if (cfg->cluster.public_url[0] &&
        sig_cluster_check_public_url(cfg->cluster.public_url, why, sizeof why) != 0)
        problem(r, line_of(r, "cluster", "public_url"), "cluster.public_url", "%s", why);
    if (!cfg->cluster.redis_url[0])
        return;
    if (sig_cluster_parse_redis_url(cfg->cluster.redis_url, &addr, why, sizeof why) != 0)
        problem(r, line_of(r, "cluster", "redis_url"), "cluster.redis_url", "%s", why);
    if (!cfg->cluster.public_url[0])
        problem(r, line_of(r, "cluster", "redis_url"), "cluster.public_url",
                "a cluster node needs public_url (where clients and other nodes reach it)");
    if (cfg->cluster.relay && !cfg->cluster.secret[0])
        problem(r, line_of(r, "cluster", "relay"), "cluster.relay",
                "relay legs need cluster.secret (it authenticates the nodes' calls and keys "
                "the legs)");
    if (cfg->cluster.span && !cfg->cluster.relay)
        problem(r, line_of(r, "cluster", "span"), "cluster.span",
                "a room spanning nodes is made of relay legs: set cluster.relay = true too");
    if (cfg->cluster.heartbeat * 2 > cfg->cluster.node_ttl)
        problem(r, line_of_either(r, "cluster", "heartbeat_ms", "node_ttl_ms"),
                "cluster.heartbeat_ms",
                "%" G_GINT64_FORMAT " is more than half of node_ttl_ms %" G_GINT64_FORMAT
                ": one late heartbeat would drop the node",
                (gint64)(cfg->cluster.heartbeat / 1000), (gint64)(cfg->cluster.node_ttl / 1000));
}

static void load_into(struct run *r, const char *text, size_t len, sig_config *cfg)
{
    if (scan_lines(r, text, len) > 0)
        return;     /* GKeyFile would refuse the file, with no line number */
    GKeyFile *kf = g_key_file_new();
    GError *gerr = NULL;
    if (!g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &gerr)) {
        problem(r, 0, "syntax", "%s", gerr->message);
        g_error_free(gerr);
        g_key_file_free(kf);
        return;
    }
    for (guint i = 0; i < r->places->len; i++) {
        const struct place *p = &g_array_index(r->places, struct place, i);
        if (p->key)
            check_key(r, kf, p, cfg);
        else if (!known_group(p->group))
            problem(r, p->line, p->group, "unknown group [%s]", p->group);
    }
    g_key_file_free(kf);
    check_together(r, cfg);
    check_cluster(r, cfg);
}

#define FILE_MAX_BYTES (1 << 20)

static char *read_file(struct run *r, size_t *len)
{
    FILE *f = fopen(r->path, "rb");
    char *text = f ? g_malloc(FILE_MAX_BYTES + 1) : NULL;
    if (!f) {
        problem(r, 0, "file", "cannot open: %s", strerror(errno));
        return NULL;
    }
    *len = fread(text, 1, FILE_MAX_BYTES + 1, f);
    if (ferror(f))
        problem(r, 0, "file", "cannot read: %s", strerror(errno));
    else if (*len > FILE_MAX_BYTES)
        problem(r, 0, "file", "larger than %d bytes", FILE_MAX_BYTES);
    fclose(f);
    if (r->problems) {
        g_free(text);
        return NULL;
    }
    text[*len] = '\0';
    return text;
}

static int run_file(struct run *r, sig_config *cfg)
{
    size_t len = 0;
    r->places = g_array_new(FALSE, FALSE, sizeof(struct place));
    sig_config_defaults(cfg);
    char *text = read_file(r, &len);
    if (text)
        load_into(r, text, len, cfg);
    for (guint i = 0; i < r->places->len; i++) {
        struct place *p = &g_array_index(r->places, struct place, i);
        g_free(p->group);
        g_free(p->key);
    }
    g_array_free(r->places, TRUE);
    g_free(text);
    return r->problems;
}

void sig_config_defaults(sig_config *cfg)
{
    char why[256];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < SFU_ARRAY_LEN(keys); i++) {
        int rc = sig_config_value_parse(&keys[i], keys[i].def, cfg, why, sizeof why);
        assert(rc == 0 && "a default out of its own bounds");
        (void)rc;
    }
}

int sig_config_load(const char *path, sig_config *out, char *err, size_t errlen)
{
    struct run r = { .path = path, .err = err, .errlen = errlen };
    sig_config *cfg = g_new0(sig_config, 1);
    if (err && errlen)
        err[0] = '\0';
    int n = run_file(&r, cfg);
    if (n == 0)
        *out = *cfg;
    g_free(cfg);
    return n == 0 ? 0 : -SFU_EINVAL;
}

int sig_config_check(const char *path, FILE *report)
{
    struct run r = { .path = path, .report = report };
    sig_config *cfg = g_new0(sig_config, 1);
    int n = run_file(&r, cfg);
    g_free(cfg);
    return n;
}

void sig_config_dump(const sig_config *cfg, FILE *out)
{
    const char *group = "";
    char value[SIG_CONFIG_LIST_MAX * (SIG_CONFIG_STR_MAX + 2) + 64];
    for (size_t i = 0; i < SFU_ARRAY_LEN(keys); i++) {
        const struct cfg_key *k = &keys[i];
        if (strcmp(k->group, group) != 0) {
            fprintf(out, "%s[%s]\n", i ? "\n" : "", k->group);
            group = k->group;
        }
        sig_config_value_format(k, cfg, value, sizeof value);
        fprintf(out, "%s = %s\n", k->name, value);
    }
}

int sig_config_udp_port_parse(const char *text, uint32_t *port)
{
    uint32_t v = 0;
    if (strcmp(text, "auto") == 0)
        v = SIG_UDP_PORT_AUTO;
    else if (strcmp(text, "off") == 0)
        v = 0;
    else {
        char *end;
        errno = 0;
        unsigned long n = strtoul(text, &end, 10);
        if (!text[0] || *end || errno || n > 65535 || text[0] == '-' || text[0] == '+')
            return -SFU_EINVAL;
        v = (uint32_t)n;
    }
    if (port)
        *port = v;
    return 0;
}

int sig_config_udp_ports(const sig_config *cfg, unsigned nworkers, uint16_t *base,
                         uint16_t *port_min)
{
    uint32_t v = 0;
    *base = 0;
    *port_min = cfg->media.port_min;
    if (sig_config_udp_port_parse(cfg->media.udp_port, &v) != 0)
        return -SFU_EINVAL;
    if (v == SIG_UDP_PORT_AUTO) {
        /* the first ports of the range, if it keeps as many for libnice;
         * a smaller range stays as it was (per-session ports only) */
        if ((uint32_t)cfg->media.port_min + 2 * nworkers > (uint32_t)cfg->media.port_max + 1)
            return 1;
        *base = cfg->media.port_min;
        *port_min = (uint16_t)(cfg->media.port_min + nworkers);
        return 0;
    }
    if (v && v + nworkers - 1 > 65535)
        return -SFU_ELIMIT;
    *base = (uint16_t)v;
    return 0;
}
