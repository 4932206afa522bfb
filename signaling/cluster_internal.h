/* What signaling/cluster.c (the thread, look-ups, leaving) and
 * signaling/cluster_beat.c (the heartbeat) share. Not for other files. */
#ifndef SIG_CLUSTER_INTERNAL_H
#define SIG_CLUSTER_INTERNAL_H

#include "signaling/cluster.h"
#include "signaling/redis_client.h"

typedef struct resolve_job {
    char room[SIG_CLUSTER_ID_MAX + 1];
    bool claim;
    sig_cluster_done_fn done;
    void *user;
} resolve_job;


struct sig_cluster {
    sig_cluster_params p;
    char node_id[SIG_CLUSTER_ID_MAX + 1];
    char public_url[SIG_CLUSTER_URL_MAX];
    char *redis_password, *secret;
    char ttl_text[16];
    GThread *thread;

    GMutex lock;                    /* the queue, flags and view below */
    GCond cond;
    GQueue jobs;                    /* resolve_job* */
    bool stopping, stopped;
    bool leave_wanted, leave_done;
    sig_cluster_node *nodes;        /* live nodes, this one included */
    unsigned nnodes;
    GPtrArray *remote_rooms;        /* JSON array texts */
    unsigned rooms_owned;

    gint redis_up;                  /* atomic */
    unsigned rooms_conflict;
    uint64_t redirects, unavailable, rejected;  /* atomic adds */

    /* The cluster thread's own. */
    sig_redis *redis;
    bool left;                      /* out of the directory: no more heartbeats */
    bool was_up;
    sig_redis_cause down_cause;
    gint64 down_since;
    GHashTable *held;               /* rooms whose owner record is ours */
    double cpu_last_s;
    gint64 cpu_last_at;
};


/* Deletes KEYS[1] only while it names ARGV[1] (a room's owner record). */
extern const char sig_cluster_release_lua[];

void sig_cluster_count(uint64_t *counter);
/* Redis up and down, each cause logged once (cluster thread). */
void sig_cluster_mark_down(sig_cluster *c, sig_redis_cause cause);
void sig_cluster_mark_up(sig_cluster *c);
/* Connects when not connected; false (marked down) on failure. */
bool sig_cluster_connect(sig_cluster *c);
/* One heartbeat (cluster thread): collect, write, read the view. */
void sig_cluster_heartbeat(sig_cluster *c);

#endif
