/* The cluster directory's pure logic, without Redis: what the keys are
 * called, what a node publishes about itself and how it is sealed with the
 * cluster secret, how an owner is chosen by load, what a node's rooms
 * summary may carry (no client name, address or token), and how GET /rooms
 * merges the other nodes' summaries. signaling/cluster.c does the I/O. */
#ifndef SIG_CLUSTER_STORE_H
#define SIG_CLUSTER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIG_CLUSTER_ID_MAX 64           /* bytes of a node id */
#define SIG_CLUSTER_URL_MAX 256         /* bytes of a public URL, with its NUL */
#define SIG_CLUSTER_HOST_MAX 256

/* Keys (one Redis database holds one cluster):
 *   sfu:node:<id>    the node's sealed record, expiring after node_ttl_ms
 *   sfu:nodes        a set of the ids that registered (members whose record
 *                    expired are removed by whoever notices)
 *   sfu:rooms:<id>   the node's sealed rooms summary, same expiry
 *   sfu:room:<room>  the id of the room's owner, same expiry, refreshed by
 *                    the owner while the room lives */
#define SIG_CLUSTER_KEY_NODE "sfu:node:"
#define SIG_CLUSTER_KEY_NODES "sfu:nodes"
#define SIG_CLUSTER_KEY_ROOMS "sfu:rooms:"
#define SIG_CLUSTER_KEY_ROOM "sfu:room:"

typedef struct sig_redis_addr {
    char host[SIG_CLUSTER_HOST_MAX];    /* a name or an IP literal, without brackets */
    uint16_t port;                      /* 6379 unless given */
    uint32_t db;                        /* 0 unless given */
} sig_redis_addr;

/* "redis://HOST[:PORT][/DB]" (HOST may be "[IPv6]"). No user, password or
 * query in the URL: the password has its own secret key. Returns 0, or
 * -SFU_EINVAL with the reason in `why`. */
int sig_cluster_parse_redis_url(const char *url, sig_redis_addr *out, char *why, size_t n);
/* "http(s)://HOST[:PORT]" with no path, query or user part. */
int sig_cluster_check_public_url(const char *url, char *why, size_t n);
/* 1-64 of [A-Za-z0-9_.-]. */
bool sig_cluster_valid_node_id(const char *id);

/* What a node publishes about itself (no client data). */
typedef struct sig_cluster_node {
    char id[SIG_CLUSTER_ID_MAX + 1];
    char url[SIG_CLUSTER_URL_MAX];
    uint32_t sessions, max_sessions, rooms;
    uint32_t cpu_permille;              /* of all the machine's cores, last interval */
    uint64_t bitrate_bps;               /* received from publishers */
} sig_cluster_node;

/* A record as stored: the JSON text, preceded by "<64 hex digits>." (its
 * HMAC-SHA256 with the cluster secret) when a secret is set. Returns a
 * string to g_free. */
char *sig_cluster_seal(const char *json, const char *secret);
/* The JSON inside a stored record: 0 with *json and *json_len pointing into
 * `text`, or -SFU_EMALFORMED (no seal where one is needed, a bad one, or a
 * seal without a secret to check it). */
int sig_cluster_unseal(const char *text, size_t len, const char *secret, const char **json,
                       size_t *json_len);

char *sig_cluster_node_encode(const sig_cluster_node *node, const char *secret);
/* Parses and checks a stored node record; `expect_id` (may be NULL) must be
 * the id inside. Returns 0 or -SFU_EMALFORMED. */
int sig_cluster_node_decode(const char *text, size_t len, const char *secret,
                            const char *expect_id, sig_cluster_node *out);

/* A node's load in [0, 1] and above: the larger of its session share and
 * its CPU share. */
double sig_cluster_load(const sig_cluster_node *node);
/* The owner for a new room: the least loaded node; `self` wins while its
 * load is within SIG_CLUSTER_SELF_MARGIN of the least (a redirect costs the
 * client a round trip). Returns an index, or -1 when n is 0. */
#define SIG_CLUSTER_SELF_MARGIN 0.05
int sig_cluster_pick(const sig_cluster_node *nodes, unsigned n, const char *self);

/* A node's rooms summary for Redis from GET /rooms' JSON (registry): the
 * same rooms, participant ids and tracks, without any "name" or "address".
 * Returns {"node":ID,"rooms":[...]} to free(), or NULL when the input is not
 * that JSON. *bitrate_bps gets the sum of the tracks' bitrates. */
char *sig_cluster_summary(const char *rooms_json, const char *node_id, uint64_t *bitrate_bps);
/* The rooms of a stored summary (after unsealing) as a JSON array text to
 * free(), each room with "node" set; NULL when it is not a summary of
 * `expect_id`. */
char *sig_cluster_summary_rooms(const char *json, size_t len, const char *expect_id);
/* GET /rooms on a cluster node: the local answer with "node":self added to
 * each room, then the rooms of other nodes (JSON arrays from
 * sig_cluster_summary_rooms) not present locally. Returns text to free(),
 * or NULL when local_json is not the registry's JSON. */
char *sig_cluster_rooms_merge(const char *local_json, const char *self_id,
                              const char *const *remote_rooms, unsigned nremote);

/* Location of a redirect: public_url + path, then "?" and the query
 * arguments (percent-encoded again) if any. Returns 0, or -SFU_ELIMIT when
 * it does not fit in n. */
typedef struct sig_cluster_query {
    const char *key, *value;
} sig_cluster_query;
int sig_cluster_location(const char *public_url, const char *path,
                         const sig_cluster_query *args, unsigned nargs, char *out, size_t n);

#endif
