/* The cluster's heartbeat (see cluster.h): this node's record, rooms
 * summary and owner records written, every live node's read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sfu/net/log.h"
#include "signaling/cluster_internal.h"

/* The owner's refresh of KEYS[1]: kept (or taken back when the record
 * expired or names a node that is gone) for ARGV[1]; returns "" then, else
 * the live node that holds it now. */
static const char REFRESH_LUA[] =
    "local o = redis.call('GET', KEYS[1])\n"
    "if o and o ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. o) == 1 then return o end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "return ''\n";

const char sig_cluster_release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

/* This process's share of all cores since the last heartbeat. */
static uint32_t cpu_permille(sig_cluster *c)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    gint64 now = g_get_monotonic_time();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t permille = 0;
    if (c->cpu_last_at && now > c->cpu_last_at) {
        double share = (cpu - c->cpu_last_s) / ((double)(now - c->cpu_last_at) / 1e6) /
                       (double)(cores > 0 ? cores : 1);
        permille = share <= 0 ? 0 : share >= 100 ? 100000 : (uint32_t)(share * 1000);
    }
    c->cpu_last_s = cpu;
    c->cpu_last_at = now;
    return permille;
}

typedef struct beat {
    sig_cluster_local local;
    sig_cluster_node self;
    char *record, *summary;
    GPtrArray *released;            /* held rooms that ended here */
} beat;

static void beat_free(beat *b)
{
    free(b->local.rooms_json);
    if (b->local.room_names)
        g_ptr_array_unref(b->local.room_names);
    g_free(b->record);
    g_free(b->summary);
    if (b->released)
        g_ptr_array_unref(b->released);
}

static void beat_prepare(sig_cluster *c, beat *b)
{
    memset(b, 0, sizeof *b);
    c->p.collect(c->p.user, &b->local);
    if (!b->local.room_names)
        b->local.room_names = g_ptr_array_new_with_free_func(g_free);
    uint64_t bps = 0;
    char *summary = b->local.rooms_json
                        ? sig_cluster_summary(b->local.rooms_json, c->node_id, &bps)
                        : NULL;
    if (!summary)
        summary = g_strdup_printf("{\"node\":\"%s\",\"rooms\":[]}", c->node_id);
    b->summary = sig_cluster_seal(summary, c->secret);
    free(summary);
    b->self = (sig_cluster_node){ .sessions = b->local.sessions,
                                  .max_sessions = c->p.max_sessions,
                                  .rooms = b->local.room_names->len,
                                  .cpu_permille = cpu_permille(c), .bitrate_bps = bps };
    g_strlcpy(b->self.id, c->node_id, sizeof b->self.id);
    g_strlcpy(b->self.url, c->public_url, sizeof b->self.url);
    b->record = sig_cluster_node_encode(&b->self, c->secret);
    b->released = g_ptr_array_new_with_free_func(g_free);
    GHashTable *now = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < b->local.room_names->len; i++)
        g_hash_table_add(now, g_ptr_array_index(b->local.room_names, i));
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, c->held);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(now, key))
            g_ptr_array_add(b->released, g_strdup(key));
    g_hash_table_destroy(now);
}

/* The refresh scripts' answers, one per local room: "" ours (held from now
 * on), else the live node that holds it (a conflict). False when one is
 * not an answer at all. */
static bool take_owned(sig_cluster *c, GPtrArray *names, redisReply **rep)
{
    unsigned owned = 0, conflicts = 0;
    bool ok = true;
    g_hash_table_remove_all(c->held);
    for (guint i = 0; i < names->len; i++) {
        if (rep[i]->type == REDIS_REPLY_STRING && rep[i]->len == 0) {
            owned++;
            g_hash_table_add(c->held, g_strdup(g_ptr_array_index(names, i)));
        } else if (rep[i]->type == REDIS_REPLY_STRING) {
            conflicts++;
        } else {
            ok = false;
        }
    }
    g_mutex_lock(&c->lock);
    bool changed = conflicts != c->rooms_conflict;
    c->rooms_conflict = conflicts;
    c->rooms_owned = owned;
    g_mutex_unlock(&c->lock);
    if (changed && conflicts)   /* a room split over nodes after an outage: its calls go on here */
        sfu_log(SFU_LOG_WARN, "cluster.room_conflict",
                "rooms=%u msg2=\"local rooms another live node owns; served here as they are\"",
                conflicts);
    return ok;
}

/* Writes this node's record, summary and owner records; returns the
 * registered ids (SMEMBERS) or NULL after a failure. */
static redisReply *beat_write(sig_cluster *c, beat *b)
{
    char key[128], rkey[128];
    snprintf(key, sizeof key, SIG_CLUSTER_KEY_NODE "%s", c->node_id);
    snprintf(rkey, sizeof rkey, SIG_CLUSTER_KEY_ROOMS "%s", c->node_id);
    sig_redis_append(c->redis, "SET %s %s PX %s", key, b->record, c->ttl_text);
    sig_redis_append(c->redis, "SADD %s %s", SIG_CLUSTER_KEY_NODES, c->node_id);
    sig_redis_append(c->redis, "SET %s %s PX %s", rkey, b->summary, c->ttl_text);
    GPtrArray *names = b->local.room_names;
    for (guint i = 0; i < names->len; i++) {
        snprintf(key, sizeof key, SIG_CLUSTER_KEY_ROOM "%s", (char *)g_ptr_array_index(names, i));
        sig_redis_append(c->redis, "EVAL %s 1 %s %s %s %s", REFRESH_LUA, key, c->node_id,
                         c->ttl_text, SIG_CLUSTER_KEY_NODE);
    }
    for (guint i = 0; i < b->released->len; i++) {
        snprintf(key, sizeof key, SIG_CLUSTER_KEY_ROOM "%s",
                 (char *)g_ptr_array_index(b->released, i));
        sig_redis_append(c->redis, "EVAL %s 1 %s %s", sig_cluster_release_lua, key, c->node_id);
    }
    sig_redis_append(c->redis, "SMEMBERS %s", SIG_CLUSTER_KEY_NODES);
    unsigned n = 3 + names->len + b->released->len + 1;
    redisReply **rep = g_new0(redisReply *, n);
    sig_redis_cause cause = sig_redis_exec(c->redis, rep, n, false);
    if (cause != SIG_REDIS_OK) {
        g_free(rep);
        sig_cluster_mark_down(c, cause);
        return NULL;
    }
    bool failed = rep[0]->type == REDIS_REPLY_ERROR || !take_owned(c, names, rep + 3);
    redisReply *members = rep[n - 1];
    rep[n - 1] = NULL;
    sig_redis_replies_free(rep, n);
    g_free(rep);
    if (failed || members->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(members);
        sig_cluster_mark_down(c, SIG_REDIS_REPLY);
        return NULL;
    }
    return members;
}

/* The ids SMEMBERS returned that are ids at all (others are left alone). */
static GPtrArray *registered_ids(const redisReply *members)
{
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < members->elements; i++) {
        const redisReply *e = members->element[i];
        char *id = e->type == REDIS_REPLY_STRING ? g_strndup(e->str, e->len) : NULL;
        if (id && sig_cluster_valid_node_id(id))
            g_ptr_array_add(ids, id);
        else
            g_free(id);
    }
    return ids;
}

/* Another node's rooms summary into `rooms` (JSON array text), or counted
 * as rejected. */
static void take_summary(sig_cluster *c, const char *id, const redisReply *sum, GPtrArray *rooms)
{
    if (sum->type != REDIS_REPLY_STRING)
        return;     /* expired between the two reads: none this time */
    const char *js;
    size_t jl;
    char *arr = NULL;
    if (sig_cluster_unseal(sum->str, sum->len, c->secret, &js, &jl) == 0)
        arr = sig_cluster_summary_rooms(js, jl, id);
    if (arr)
        g_ptr_array_add(rooms, arr);
    else
        sig_cluster_count(&c->rejected);
}

/* Removes the ids whose record expired from the set. */
static sig_redis_cause forget(sig_cluster *c, GPtrArray *dead)
{
    if (!dead->len)
        return SIG_REDIS_OK;
    for (guint i = 0; i < dead->len; i++)
        sig_redis_append(c->redis, "SREM %s %s", SIG_CLUSTER_KEY_NODES,
                         (char *)g_ptr_array_index(dead, i));
    redisReply **rep = g_new0(redisReply *, dead->len);
    sig_redis_cause cause = sig_redis_exec(c->redis, rep, dead->len, false);
    sig_redis_replies_free(rep, dead->len);
    g_free(rep);
    return cause;
}

typedef struct view {
    sig_cluster_node *nodes;        /* live nodes, this one included */
    unsigned n;
    GPtrArray *rooms;               /* other nodes' rooms, JSON array texts */
} view;

/* Reads every registered node's record and summary into a new view;
 * forgets the ids whose record expired. */
static sig_redis_cause read_view(sig_cluster *c, const beat *b, GPtrArray *ids, view *v)
{
    guint m = ids->len;
    for (guint i = 0; i < m; i++) {
        sig_redis_append(c->redis, "GET " SIG_CLUSTER_KEY_NODE "%s",
                         (char *)g_ptr_array_index(ids, i));
        sig_redis_append(c->redis, "GET " SIG_CLUSTER_KEY_ROOMS "%s",
                         (char *)g_ptr_array_index(ids, i));
    }
    redisReply **rep = g_new0(redisReply *, 2 * m + 1);
    sig_redis_cause cause = m ? sig_redis_exec(c->redis, rep, 2 * m, true) : SIG_REDIS_OK;
    v->nodes = g_new0(sig_cluster_node, m + 1);
    v->n = 0;
    v->rooms = g_ptr_array_new_with_free_func(free);
    GPtrArray *dead = g_ptr_array_new();
    bool self_seen = false;
    for (guint i = 0; i < m && cause == SIG_REDIS_OK; i++) {
        const char *id = g_ptr_array_index(ids, i);
        const redisReply *rec = rep[2 * i];
        if (rec->type != REDIS_REPLY_STRING) {
            g_ptr_array_add(dead, (char *)id);
        } else if (sig_cluster_node_decode(rec->str, rec->len, c->secret, id,
                                           &v->nodes[v->n]) != 0) {
            sig_cluster_count(&c->rejected);
        } else if (strcmp(id, c->node_id) == 0) {
            v->nodes[v->n++] = b->self;     /* ours as of now */
            self_seen = true;
        } else {
            v->n++;
            take_summary(c, id, rep[2 * i + 1], v->rooms);
        }
    }
    if (!self_seen)
        v->nodes[v->n++] = b->self;
    if (cause == SIG_REDIS_OK)
        cause = forget(c, dead);
    g_ptr_array_free(dead, TRUE);
    sig_redis_replies_free(rep, 2 * m);
    g_free(rep);
    return cause;
}

static void beat_read(sig_cluster *c, const beat *b, const redisReply *members)
{
    GPtrArray *ids = registered_ids(members);
    view v;
    sig_redis_cause cause = read_view(c, b, ids, &v);
    g_ptr_array_unref(ids);
    if (cause != SIG_REDIS_OK) {
        g_free(v.nodes);
        g_ptr_array_unref(v.rooms);
        sig_cluster_mark_down(c, cause);
        return;
    }
    g_mutex_lock(&c->lock);
    g_free(c->nodes);
    c->nodes = v.nodes;
    c->nnodes = v.n;
    g_ptr_array_unref(c->remote_rooms);
    c->remote_rooms = v.rooms;
    g_mutex_unlock(&c->lock);
    if (!c->was_up)
        sfu_log(SFU_LOG_INFO, "cluster.registered", "node=%s nodes=%u", c->node_id, v.n);
    c->was_up = true;
    sig_cluster_mark_up(c);
}

void sig_cluster_heartbeat(sig_cluster *c)
{
    if (!sig_cluster_connect(c))
        return;
    beat b;
    beat_prepare(c, &b);
    redisReply *members = beat_write(c, &b);
    if (members) {
        beat_read(c, &b, members);
        freeReplyObject(members);
    }
    beat_free(&b);
}
