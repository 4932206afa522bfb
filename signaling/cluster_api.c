/* The HTTP side of the cluster (see api.h): a request for a room that is
 * not on this node goes to the cluster thread, which finds the room's
 * owner in Redis and answers here: served locally, 307 to the owner, 404,
 * or 503 while Redis is unreachable. Rooms already on this node never
 * wait for Redis, so they keep working through an outage. */
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/net/log.h"
#include "signaling/api.h"
#include "signaling/cluster.h"
#include "signaling/relay.h"
#include "signaling/span.h"
#include "signaling/worker_cmd.h"

#define UNAVAILABLE_RETRY_AFTER_S 2
#define COLLECT_WAIT_MS 200         /* the heartbeat's wait for the workers' bitrates */
#define LOCATION_MAX 8192

typedef struct cluster_req {
    sig_server *srv;
    sig_request *req;
    sig_route route;
    sig_api_caller who;
    char *suffix;                   /* path and query for the Location */
} cluster_req;

typedef struct query_list {
    GPtrArray *keys, *values;
} query_list;

static int add_arg(void *user, const char *key, const char *value)
{
    query_list *q = user;
    g_ptr_array_add(q->keys, g_strdup(key));
    g_ptr_array_add(q->values, g_strdup(value));
    return 0;
}

/* The request's path and query, as the owner must see them. */
static char *location_suffix(sig_request *req)
{
    query_list q = { g_ptr_array_new_with_free_func(g_free),
                     g_ptr_array_new_with_free_func(g_free) };
    sig_request_foreach_query(req, add_arg, &q);
    sig_cluster_query *args = g_new0(sig_cluster_query, q.keys->len + 1);
    for (guint i = 0; i < q.keys->len; i++)
        args[i] = (sig_cluster_query){ g_ptr_array_index(q.keys, i),
                                       g_ptr_array_index(q.values, i) };
    char *out = g_malloc(LOCATION_MAX);
    if (sig_cluster_location("", sig_request_path(req), args, q.keys->len, out,
                             LOCATION_MAX) != 0) {
        g_free(out);
        out = NULL;
    }
    g_free(args);
    g_ptr_array_unref(q.keys);
    g_ptr_array_unref(q.values);
    return out;
}

static void redirect(cluster_req *cr, const char *owner_url)
{
    char *location = g_strconcat(owner_url, cr->suffix, NULL);
    sig_response resp = { .status = 307, .body = "this room is served by another node\n",
                          .nheaders = 1, .header_names = { "Location" },
                          .header_values = { location } };
    sig_cluster_count_redirect(cr->srv->cluster);
    sig_http_respond(cr->req, &resp);
    g_free(location);
}

static void on_resolved(void *user, sig_cluster_verdict v, const char *owner_url)
{
    cluster_req *cr = user;
    sig_server *srv = cr->srv;
    switch (v) {
    case SIG_CLUSTER_HERE:
        g_rw_lock_reader_lock(&srv->cfg_lock);
        sig_api_dispatch(srv, cr->req, &cr->route, &cr->who);
        g_rw_lock_reader_unlock(&srv->cfg_lock);
        break;
    case SIG_CLUSTER_ELSEWHERE:
        if (cr->route.id == SIG_ROUTE_ROOM_JOIN && srv->span) {
            /* Served here, the room spanning this node and its owner (span.h). */
            sig_span_satellite(srv->span, cr->route.room, owner_url);
            g_rw_lock_reader_lock(&srv->cfg_lock);
            sig_api_dispatch(srv, cr->req, &cr->route, &cr->who);
            g_rw_lock_reader_unlock(&srv->cfg_lock);
            break;
        }
        redirect(cr, owner_url);
        break;
    case SIG_CLUSTER_NOWHERE:
        sig_http_respond_text(cr->req, 404, "no such room");
        break;
    case SIG_CLUSTER_UNAVAILABLE: {
        sig_cluster_count_unavailable(srv->cluster);
        sig_response resp = { .status = 503,
                              .body = "the cluster directory is unreachable: try again\n",
                              .retry_after_s = UNAVAILABLE_RETRY_AFTER_S };
        sig_http_respond(cr->req, &resp);
        break;
    }
    }
    g_free(cr->suffix);
    g_free(cr);
}

bool sig_cluster_api_route(sig_server *srv, sig_request *req, const sig_route *route,
                           const sig_api_caller *who)
{
    bool claim;
    if (route->id == SIG_ROUTE_WHIP || route->id == SIG_ROUTE_ROOM_JOIN)
        claim = true;
    else if (route->id == SIG_ROUTE_WHEP || route->id == SIG_ROUTE_ROOM)
        claim = false;
    else
        return false;
    if (sig_registry_has_room(srv->reg, route->room))
        return false;   /* here already: no need to ask, even with Redis down */
    if (route->id == SIG_ROUTE_WHEP && srv->relay && sig_relay_whep(srv, req, route, who))
        return true;    /* served here through a relay leg (relay.h) */
    cluster_req *cr = g_new0(cluster_req, 1);
    cr->srv = srv;
    cr->req = req;
    sig_api_caller_copy(route, who, &cr->route, &cr->who);
    cr->suffix = location_suffix(req);
    if (!cr->suffix) {
        g_free(cr);
        sig_http_respond_text(req, 414, "the request's path and query are too long");
        return true;
    }
    sig_cluster_resolve(srv->cluster, route->room, claim, on_resolved, cr);
    return true;
}

char *sig_cluster_api_rooms(sig_server *srv, const char *local_json)
{
    GPtrArray *remote = sig_cluster_remote_rooms(srv->cluster);
    char *merged = sig_cluster_rooms_merge(local_json, sig_cluster_node_id(srv->cluster),
                                           (const char *const *)remote->pdata, remote->len);
    g_ptr_array_unref(remote);
    return merged;
}

/* ---- the heartbeat's view of this node ---- */

typedef struct collect_job {
    sig_server *srv;
    gint refs;
    GMutex lock;
    GCond cond;
    unsigned pending;
} collect_job;


static void collect_unref(collect_job *job)
{
    if (!g_atomic_int_dec_and_test(&job->refs))
        return;
    g_cond_clear(&job->cond);
    g_mutex_clear(&job->lock);
    g_free(job);
}

static void collect_on_worker(sig_server *srv, unsigned worker, void *user)
{
    (void)user;
    sig_api_collect_bitrates(srv, worker);
}

/* A worker whose queue was full is left out of this round's bitrates. */
static void collected(sig_server *srv, void *user, bool refused)
{
    (void)srv, (void)refused;
    collect_job *job = user;
    g_mutex_lock(&job->lock);
    job->pending = 0;
    g_cond_signal(&job->cond);
    g_mutex_unlock(&job->lock);
    collect_unref(job);
}

/* The registry's rooms JSON less the rooms held as satellites. */
static char *without_satellites(sig_server *srv, char *rooms_json)
{
    json_t *doc = json_loads(rooms_json, 0, NULL);
    json_t *rooms = json_object_get(doc, "rooms");
    if (!json_is_array(rooms)) {
        json_decref(doc);
        return rooms_json;
    }
    for (size_t i = json_array_size(rooms); i-- > 0;) {
        const char *name = json_string_value(json_object_get(json_array_get(rooms, i), "room"));
        if (name && sig_span_is_satellite(srv->span, name))
            json_array_remove(rooms, i);
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return rooms_json;
    free(rooms_json);
    return text;
}

void sig_cluster_api_collect(void *user, sig_cluster_local *out)
{
    sig_server *srv = user;
    /* The bitrates live with the media: ask each worker, as GET /rooms
     * does, and wait a little (never the workers for us). */
    collect_job *job = g_new0(collect_job, 1);
    job->srv = srv;
    job->refs = 2;      /* the waiter's and the fan-out's */
    job->pending = 1;
    g_mutex_init(&job->lock);
    g_cond_init(&job->cond);
    sig_cmd_fanout(srv, collect_on_worker, collected, job);
    gint64 deadline = g_get_monotonic_time() + COLLECT_WAIT_MS * 1000;
    g_mutex_lock(&job->lock);
    while (job->pending > 0)
        if (!g_cond_wait_until(&job->cond, &job->lock, deadline))
            break;
    g_mutex_unlock(&job->lock);
    collect_unref(job);

    sig_registry_counts counts;
    sig_registry_counts_get(srv->reg, &counts);
    out->sessions = counts.sessions;
    out->rooms_json = sig_registry_rooms_json(srv->reg, NULL, false);
    out->room_names = sig_registry_room_names(srv->reg);
    /* A relayed room's local copy ("~R", relay.h) is not this node's room,
     * nor is a room held as a satellite of its owner (span.h): the owner
     * publishes it, everyone in it included. */
    for (guint i = out->room_names->len; i-- > 0;) {
        const char *name = g_ptr_array_index(out->room_names, i);
        if (name[0] == '~' || sig_span_is_satellite(srv->span, name))
            g_ptr_array_remove_index(out->room_names, i);
    }
    if (srv->span && out->rooms_json)
        out->rooms_json = without_satellites(srv, out->rooms_json);
}
