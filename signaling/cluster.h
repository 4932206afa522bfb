/* A node of a cluster: its entry in the directory in Redis, the owner of
 * each room, and what the other nodes published (signaling/cluster_store.h
 * names the keys). One thread of its own does all Redis I/O over its own
 * connection with timeouts; nobody else ever waits on Redis:
 *   - the HTTP thread hands a request over with sig_cluster_resolve and
 *     returns; the answer comes back on the cluster thread (the request
 *     stays suspended meanwhile);
 *   - GET /rooms reads the cached view (sig_cluster_remote_rooms);
 *   - media workers never see the cluster at all; the heartbeat asks them
 *     for their publishers' bitrates like GET /rooms does (a queued task).
 * Every heartbeat_ms the node writes its record (load) and rooms summary,
 * refreshes the owner record of each room it holds, releases those of
 * rooms that ended, and reads every live node's record and summary. */
#ifndef SIG_CLUSTER_H
#define SIG_CLUSTER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sfu/core/common.h"
#include "signaling/cluster_store.h"

typedef struct sig_cluster sig_cluster;

/* What the node holds now, from the server (called on the cluster thread
 * once per heartbeat). */
typedef struct sig_cluster_local {
    uint32_t sessions;
    char *rooms_json;           /* GET /rooms' JSON without addresses; free() */
    GPtrArray *room_names;      /* every local room (g_free'd strings) */
} sig_cluster_local;
typedef void (*sig_cluster_collect_fn)(void *user, sig_cluster_local *out);

typedef struct sig_cluster_params {
    sig_redis_addr redis;
    const char *redis_password;     /* "" for none */
    const char *node_id;            /* "" for a random one */
    const char *public_url;
    const char *secret;             /* "" for unsealed records */
    unsigned heartbeat_ms, node_ttl_ms, redis_timeout_ms;
    uint32_t max_sessions;          /* for the load figure */
    sig_cluster_collect_fn collect;
    void *user;
} sig_cluster_params;

/* Copies the params; starts nothing. */
sig_cluster *sig_cluster_new(const sig_cluster_params *p);
/* Starts the thread: it connects and registers at once. */
void sig_cluster_start(sig_cluster *c);
/* Leaves the directory (waiting up to the Redis timeout), answers every
 * queued request as unavailable and stops the thread; later look-ups are
 * answered unavailable at once. NULL is a no-op. */
void sig_cluster_stop(sig_cluster *c);
/* Stops (as sig_cluster_stop) and frees. Nobody may call in after. */
void sig_cluster_free(sig_cluster *c);
const char *sig_cluster_node_id(const sig_cluster *c);

/* Where a room is served. */
typedef enum sig_cluster_verdict {
    SIG_CLUSTER_HERE,           /* this node owns it (or just claimed it) */
    SIG_CLUSTER_ELSEWHERE,      /* another live node owns it: redirect to owner_url */
    SIG_CLUSTER_NOWHERE,        /* look-up only: no live node owns it */
    SIG_CLUSTER_UNAVAILABLE,    /* Redis cannot be reached now: 503 */
} sig_cluster_verdict;

/* Called once, on the cluster thread; owner_url is set for ELSEWHERE only
 * and valid for the call. */
typedef void (*sig_cluster_done_fn)(void *user, sig_cluster_verdict v, const char *owner_url);

/* Finds the room's owner. With `claim`, a room that no live node owns gets
 * one now, chosen by load among the live nodes and recorded atomically
 * (the first claim wins everywhere); without, such a room is NOWHERE.
 * Thread-safe; never blocks. */
void sig_cluster_resolve(sig_cluster *c, const char *room, bool claim, sig_cluster_done_fn done,
                         void *user);

/* SIGTERM: takes the node out of the directory now (its record, summary
 * and owner records), waiting at most the Redis timeout; no heartbeat
 * after. Idempotent. */
void sig_cluster_leave(sig_cluster *c);

/* The other live nodes' rooms from the last heartbeat, as JSON array texts
 * (sig_cluster_summary_rooms), in a GPtrArray of strings to free with
 * g_ptr_array_unref. */
GPtrArray *sig_cluster_remote_rooms(sig_cluster *c);

/* The live nodes' public URLs as CSP sources ("http://h:1 https://h2"),
 * for the call page's connect-src; this node's own included. g_free. */
char *sig_cluster_origins(sig_cluster *c);

typedef struct sig_cluster_stats {
    bool redis_up;
    unsigned nodes;                 /* live nodes seen at the last heartbeat, this one too */
    unsigned rooms_owned;           /* local rooms whose owner record is this node */
    unsigned rooms_conflict;        /* local rooms whose owner record names another live node */
    uint64_t redirects;             /* 307 answers */
    uint64_t unavailable;           /* 503 answers: directory unreachable */
    uint64_t records_rejected;      /* records whose seal or content did not check */
} sig_cluster_stats;
void sig_cluster_stats_get(sig_cluster *c, sig_cluster_stats *out);
void sig_cluster_count_redirect(sig_cluster *c);
void sig_cluster_count_unavailable(sig_cluster *c);

#endif
