/* The cluster thread: room ownership look-ups and claims, leaving, the
 * views for HTTP and metrics (see cluster.h); the heartbeat is in
 * cluster_beat.c. All Redis I/O happens on this thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/net/log.h"
#include "signaling/cluster_internal.h"
#include "signaling/random.h"

#define RECONNECT_MAX_MS 1000       /* while Redis is down, try at least this often */
#define RESOLVE_ATTEMPTS 3

/* Owner of KEYS[1], claimed for ARGV[2] when no live node holds it.
 * ARGV[1] is the node key prefix, ARGV[3] the TTL in ms. Returns {owner,
 * code}: code 0 an existing live owner ("" and 0: none, look-up only), 1
 * claimed now, 2 the candidate itself is not live. Atomic, so the first
 * claim wins on every node. */
static const char RESOLVE_LUA[] =
    "local o = redis.call('GET', KEYS[1])\n"
    "if o and redis.call('EXISTS', ARGV[1] .. o) == 1 then return {o, 0} end\n"
    "if ARGV[2] == '' then return {'', 0} end\n"
    "if redis.call('EXISTS', ARGV[1] .. ARGV[2]) == 0 then return {'', 2} end\n"
    "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\n"
    "return {ARGV[2], 1}\n";

void sig_cluster_count(uint64_t *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static uint64_t read_count(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

sig_cluster *sig_cluster_new(const sig_cluster_params *p)
{
    sig_cluster *c = g_new0(sig_cluster, 1);
    c->p = *p;
    if (p->node_id && p->node_id[0]) {
        g_strlcpy(c->node_id, p->node_id, sizeof c->node_id);
    } else {
        uint8_t r[8];
        sig_random_bytes(r, sizeof r);
        for (unsigned i = 0; i < sizeof r; i++)
            snprintf(c->node_id + 2 * i, 3, "%02x", r[i]);
    }
    g_strlcpy(c->public_url, p->public_url, sizeof c->public_url);
    size_t ul = strlen(c->public_url);
    while (ul && c->public_url[ul - 1] == '/')
        c->public_url[--ul] = '\0';
    c->redis_password = g_strdup(p->redis_password ? p->redis_password : "");
    c->secret = g_strdup(p->secret ? p->secret : "");
    c->p.redis_password = c->redis_password;
    c->p.secret = c->secret;
    c->p.node_id = c->node_id;
    c->p.public_url = c->public_url;
    snprintf(c->ttl_text, sizeof c->ttl_text, "%u", p->node_ttl_ms);
    g_mutex_init(&c->lock);
    g_cond_init(&c->cond);
    g_queue_init(&c->jobs);
    c->remote_rooms = g_ptr_array_new_with_free_func(free);
    c->held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return c;
}

const char *sig_cluster_node_id(const sig_cluster *c)
{
    return c->node_id;
}

/* ---- Redis up and down, each cause logged once ---- */

void sig_cluster_mark_down(sig_cluster *c, sig_redis_cause cause)
{
    sig_redis_free(c->redis);
    c->redis = NULL;
    bool was = g_atomic_int_get(&c->redis_up) != 0;
    if (was || cause != c->down_cause || !c->down_since) {
        sfu_log(SFU_LOG_WARN, "cluster.redis_unavailable",
                "cause=%s msg2=\"serving local rooms only; new rooms answer 503\"",
                sig_redis_cause_name(cause));
    }
    if (was || !c->down_since)
        c->down_since = g_get_monotonic_time();
    c->down_cause = cause;
    g_atomic_int_set(&c->redis_up, 0);
}

void sig_cluster_mark_up(sig_cluster *c)
{
    if (g_atomic_int_get(&c->redis_up))
        return;
    if (c->down_since)
        sfu_log(SFU_LOG_INFO, "cluster.redis_available", "down_ms=%" G_GINT64_FORMAT,
                (g_get_monotonic_time() - c->down_since) / 1000);
    c->down_since = 0;
    c->down_cause = SIG_REDIS_OK;
    g_atomic_int_set(&c->redis_up, 1);
}

bool sig_cluster_connect(sig_cluster *c)
{
    if (c->redis)
        return true;
    sig_redis_cause cause;
    c->redis = sig_redis_connect(&c->p.redis, c->redis_password, c->p.redis_timeout_ms, &cause);
    if (!c->redis) {
        sig_cluster_mark_down(c, cause);
        return false;
    }
    return true;
}

/* ---- look-ups ---- */

/* The owner's URL from the view, else from its record in Redis. */
static bool owner_url(sig_cluster *c, const char *owner, char *url, size_t n)
{
    bool found = false;
    g_mutex_lock(&c->lock);
    for (unsigned i = 0; i < c->nnodes && !found; i++) {
        if (strcmp(c->nodes[i].id, owner) == 0) {
            g_strlcpy(url, c->nodes[i].url, n);
            found = true;
        }
    }
    g_mutex_unlock(&c->lock);
    if (found)
        return true;
    redisReply *rep[1];
    sig_redis_append(c->redis, "GET " SIG_CLUSTER_KEY_NODE "%s", owner);
    sig_redis_cause cause = sig_redis_exec(c->redis, rep, 1, true);
    if (cause != SIG_REDIS_OK) {
        sig_cluster_mark_down(c, cause);
        return false;
    }
    sig_cluster_node node;
    if (rep[0]->type == REDIS_REPLY_STRING &&
        sig_cluster_node_decode(rep[0]->str, rep[0]->len, c->secret, owner, &node) == 0) {
        g_strlcpy(url, node.url, n);
        found = true;
    } else if (rep[0]->type == REDIS_REPLY_STRING) {
        sig_cluster_count(&c->rejected);
    }
    sig_redis_replies_free(rep, 1);
    return found;
}

/* The least loaded live node from the view (this one when alone). */
static void pick_candidate(sig_cluster *c, const char *skip, char *out, size_t n)
{
    g_mutex_lock(&c->lock);
    sig_cluster_node *nodes = g_new0(sig_cluster_node, c->nnodes + 1);
    unsigned k = 0;
    for (unsigned i = 0; i < c->nnodes; i++)
        if (!skip || strcmp(c->nodes[i].id, skip) != 0)
            nodes[k++] = c->nodes[i];
    g_mutex_unlock(&c->lock);
    int best = sig_cluster_pick(nodes, k, c->node_id);
    g_strlcpy(out, best >= 0 ? nodes[best].id : c->node_id, n);
    g_free(nodes);
}

static sig_cluster_verdict resolve(sig_cluster *c, const resolve_job *job, char *url, size_t n)
{
    if (!c->redis || c->left)
        return SIG_CLUSTER_UNAVAILABLE;
    char key[128], cand[SIG_CLUSTER_ID_MAX + 1] = "", skip[SIG_CLUSTER_ID_MAX + 1] = "";
    snprintf(key, sizeof key, SIG_CLUSTER_KEY_ROOM "%s", job->room);
    for (int attempt = 0; attempt < RESOLVE_ATTEMPTS; attempt++) {
        if (job->claim)
            pick_candidate(c, skip[0] ? skip : NULL, cand, sizeof cand);
        sig_redis_append(c->redis, "EVAL %s 1 %s %s %s %s", RESOLVE_LUA, key,
                         SIG_CLUSTER_KEY_NODE, cand, c->ttl_text);
        redisReply *rep[1];
        sig_redis_cause cause = sig_redis_exec(c->redis, rep, 1, true);
        if (cause != SIG_REDIS_OK) {
            sig_cluster_mark_down(c, cause);
            return SIG_CLUSTER_UNAVAILABLE;
        }
        redisReply *r = rep[0];
        bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                  r->element[0]->type == REDIS_REPLY_STRING &&
                  r->element[1]->type == REDIS_REPLY_INTEGER;
        char owner[SIG_CLUSTER_ID_MAX + 1] = "";
        long long code = ok ? r->element[1]->integer : -1;
        if (ok)
            g_strlcpy(owner, r->element[0]->str, MIN(sizeof owner, r->element[0]->len + 1));
        sig_redis_replies_free(rep, 1);
        if (!ok)
            return SIG_CLUSTER_UNAVAILABLE;
        if (code == 2) {    /* the candidate's record expired meanwhile */
            g_strlcpy(skip, cand, sizeof skip);
            continue;
        }
        if (!owner[0])
            return SIG_CLUSTER_NOWHERE;
        if (strcmp(owner, c->node_id) == 0) {
            if (code == 1)
                g_hash_table_add(c->held, g_strdup(job->room));
            return SIG_CLUSTER_HERE;
        }
        return owner_url(c, owner, url, n) ? SIG_CLUSTER_ELSEWHERE : SIG_CLUSTER_UNAVAILABLE;
    }
    return SIG_CLUSTER_UNAVAILABLE;
}

void sig_cluster_resolve(sig_cluster *c, const char *room, bool claim, sig_cluster_done_fn done,
                         void *user)
{
    resolve_job *job = g_new0(resolve_job, 1);
    g_strlcpy(job->room, room, sizeof job->room);
    job->claim = claim;
    job->done = done;
    job->user = user;
    g_mutex_lock(&c->lock);
    bool closed = c->stopped || c->stopping;
    if (!closed) {
        g_queue_push_tail(&c->jobs, job);
        g_cond_signal(&c->cond);
    }
    g_mutex_unlock(&c->lock);
    if (closed) {
        done(user, SIG_CLUSTER_UNAVAILABLE, NULL);
        g_free(job);
    }
}

/* ---- leaving ---- */

static void leave_now(sig_cluster *c)
{
    if (c->left)
        return;
    c->left = true;
    if (!sig_cluster_connect(c))
        return;
    char key[128];
    snprintf(key, sizeof key, SIG_CLUSTER_KEY_NODE "%s", c->node_id);
    sig_redis_append(c->redis, "DEL %s", key);
    sig_redis_append(c->redis, "SREM %s %s", SIG_CLUSTER_KEY_NODES, c->node_id);
    snprintf(key, sizeof key, SIG_CLUSTER_KEY_ROOMS "%s", c->node_id);
    sig_redis_append(c->redis, "DEL %s", key);
    unsigned n = 3;
    GHashTableIter it;
    gpointer name;
    g_hash_table_iter_init(&it, c->held);
    while (g_hash_table_iter_next(&it, &name, NULL)) {
        snprintf(key, sizeof key, SIG_CLUSTER_KEY_ROOM "%s", (char *)name);
        sig_redis_append(c->redis, "EVAL %s 1 %s %s", sig_cluster_release_lua, key, c->node_id);
        n++;
    }
    redisReply **rep = g_new0(redisReply *, n);
    sig_redis_cause cause = sig_redis_exec(c->redis, rep, n, false);
    sig_redis_replies_free(rep, n);
    g_free(rep);
    if (cause != SIG_REDIS_OK) {
        sig_cluster_mark_down(c, cause);
        return;
    }
    g_hash_table_remove_all(c->held);
    sfu_log(SFU_LOG_INFO, "cluster.left", "node=%s", c->node_id);
}

/* ---- the thread ---- */

static void answer(sig_cluster *c, resolve_job *job)
{
    char url[SIG_CLUSTER_URL_MAX] = "";
    sig_cluster_verdict v = resolve(c, job, url, sizeof url);
    job->done(job->user, v, v == SIG_CLUSTER_ELSEWHERE ? url : NULL);
    g_free(job);
}

static gpointer cluster_main(gpointer data)
{
    sig_cluster *c = data;
    gint64 next_beat = 0;
    for (;;) {
        g_mutex_lock(&c->lock);
        while (!c->stopping && !(c->leave_wanted && !c->leave_done) && g_queue_is_empty(&c->jobs) &&
               g_get_monotonic_time() < next_beat)
            g_cond_wait_until(&c->cond, &c->lock, next_beat);
        bool stop = c->stopping, leave = c->leave_wanted;
        GQueue jobs = c->jobs;
        g_queue_init(&c->jobs);
        g_mutex_unlock(&c->lock);
        if (leave || stop) {
            leave_now(c);
            g_mutex_lock(&c->lock);
            c->leave_done = true;
            g_cond_broadcast(&c->cond);     /* sig_cluster_leave waits for it */
            g_mutex_unlock(&c->lock);
        }
        resolve_job *job;
        while ((job = g_queue_pop_head(&jobs)))
            answer(c, job);
        if (stop)
            break;
        gint64 now = g_get_monotonic_time();
        if (now >= next_beat && !c->left) {
            sig_cluster_heartbeat(c);
            unsigned ms = c->p.heartbeat_ms;
            if (!c->redis && ms > RECONNECT_MAX_MS)
                ms = RECONNECT_MAX_MS;
            next_beat = g_get_monotonic_time() + (gint64)ms * 1000;
        } else if (c->left) {
            next_beat = G_MAXINT64;
        }
    }
    return NULL;
}

void sig_cluster_start(sig_cluster *c)
{
    sfu_log(SFU_LOG_INFO, "cluster.starting", "node=%s public_url=%s heartbeat_ms=%u ttl_ms=%u",
            c->node_id, c->public_url, c->p.heartbeat_ms, c->p.node_ttl_ms);
    c->thread = g_thread_new("cluster", cluster_main, c);
}

void sig_cluster_leave(sig_cluster *c)
{
    if (!c || !c->thread)
        return;
    g_mutex_lock(&c->lock);
    c->leave_wanted = true;
    g_cond_signal(&c->cond);
    /* Bounded: connect plus one exchange, each within the Redis timeout. */
    gint64 deadline = g_get_monotonic_time() + (gint64)c->p.redis_timeout_ms * 3000;
    while (!c->leave_done && !c->stopped)
        if (!g_cond_wait_until(&c->cond, &c->lock, deadline))
            break;
    g_mutex_unlock(&c->lock);
}

static void stop_thread(sig_cluster *c)
{
    if (!c->thread)
        return;
    g_mutex_lock(&c->lock);
    c->stopping = true;
    g_cond_signal(&c->cond);
    g_mutex_unlock(&c->lock);
    g_thread_join(c->thread);
    c->thread = NULL;
    g_mutex_lock(&c->lock);
    c->stopped = true;
    GQueue jobs = c->jobs;
    g_queue_init(&c->jobs);
    g_mutex_unlock(&c->lock);
    resolve_job *job;
    while ((job = g_queue_pop_head(&jobs))) {
        job->done(job->user, SIG_CLUSTER_UNAVAILABLE, NULL);
        g_free(job);
    }
}

void sig_cluster_stop(sig_cluster *c)
{
    if (c)
        stop_thread(c);
}

void sig_cluster_free(sig_cluster *c)
{
    if (!c)
        return;
    stop_thread(c);
    sig_redis_free(c->redis);
    g_hash_table_destroy(c->held);
    g_ptr_array_unref(c->remote_rooms);
    g_free(c->nodes);
    g_free(c->redis_password);
    g_free(c->secret);
    g_cond_clear(&c->cond);
    g_mutex_clear(&c->lock);
    g_free(c);
}

/* ---- views for the HTTP side and metrics ---- */

GPtrArray *sig_cluster_remote_rooms(sig_cluster *c)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_mutex_lock(&c->lock);
    for (guint i = 0; i < c->remote_rooms->len; i++)
        g_ptr_array_add(out, g_strdup(g_ptr_array_index(c->remote_rooms, i)));
    g_mutex_unlock(&c->lock);
    return out;
}

char *sig_cluster_origins(sig_cluster *c)
{
    GString *s = g_string_new(c->public_url);
    g_mutex_lock(&c->lock);
    for (unsigned i = 0; i < c->nnodes; i++)
        if (strcmp(c->nodes[i].url, c->public_url) != 0 && !strchr(c->nodes[i].url, '['))
            g_string_append_printf(s, " %s", c->nodes[i].url);     /* checked URLs: no ';' */
    g_mutex_unlock(&c->lock);
    if (strchr(c->public_url, '['))     /* CSP has no IPv6 literals: leave it to 'self' */
        g_string_truncate(s, 0);
    return g_string_free(s, FALSE);
}

void sig_cluster_stats_get(sig_cluster *c, sig_cluster_stats *out)
{
    memset(out, 0, sizeof *out);
    out->redis_up = g_atomic_int_get(&c->redis_up) != 0;
    g_mutex_lock(&c->lock);
    out->nodes = out->redis_up ? c->nnodes : 0;
    out->rooms_owned = c->rooms_owned;
    out->rooms_conflict = c->rooms_conflict;
    g_mutex_unlock(&c->lock);
    out->redirects = read_count(&c->redirects);
    out->unavailable = read_count(&c->unavailable);
    out->records_rejected = read_count(&c->rejected);
}

void sig_cluster_count_redirect(sig_cluster *c)
{
    sig_cluster_count(&c->redirects);
}

void sig_cluster_count_unavailable(sig_cluster *c)
{
    sig_cluster_count(&c->unavailable);
}
