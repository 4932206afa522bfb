/* The HTTP API (shared/API.md, restated in docs/API.md): routes a request
 * and answers the simple endpoints here; session work goes to session.c. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/api.h"
#include "signaling/auth.h"
#include "signaling/cluster.h"
#include "signaling/metrics.h"
#include "signaling/ratelimit.h"
#include "signaling/relay.h"
#include "signaling/span.h"
#include "signaling/route.h"
#include "signaling/server.h"
#include "signaling/events.h"
#include "signaling/layer_select.h"
#include "signaling/room_subs.h"
#include "signaling/room_session.h"
#include "signaling/session.h"
#include "signaling/static_files.h"
#include "signaling/version.h"
#include "signaling/worker_cmd.h"

static int add_query_arg(void *user, const char *key, const char *value)
{
    return sig_route_query_arg(user, key, value);
}

static void answer_options(sig_request *req, const sig_route *route)
{
    char methods[128];
    sig_route_allow_header(route->allowed, methods, sizeof methods);
    sig_response resp = { .status = 204 };
    unsigned n = 0;
    resp.header_names[n] = "Access-Control-Allow-Methods", resp.header_values[n++] = methods;
    resp.header_names[n] = "Access-Control-Allow-Headers";
    resp.header_values[n++] = "Authorization, Content-Type, If-Match";
    resp.header_names[n] = "Access-Control-Max-Age", resp.header_values[n++] = "600";
    resp.header_names[n] = "Allow", resp.header_values[n++] = methods;
    if (route->id == SIG_ROUTE_WHIP || route->id == SIG_ROUTE_WHEP)
        resp.header_names[n] = "Accept-Post", resp.header_values[n++] = "application/sdp";
    resp.nheaders = n;
    sig_http_respond(req, &resp);
}

static void answer_route_error(sig_request *req, const sig_route *route)
{
    if (route->status != 405) {
        sig_http_respond_text(req, (unsigned)route->status, route->reason);
        return;
    }
    char methods[128], line[160];
    sig_route_allow_header(route->allowed, methods, sizeof methods);
    snprintf(line, sizeof line, "%s\n", route->reason);
    sig_response resp = { .status = 405, .body = line, .nheaders = 1,
                          .header_names = { "Allow" }, .header_values = { methods } };
    sig_http_respond(req, &resp);
}

static bool wants_json(const sig_request *req)
{
    const char *accept = sig_request_header(req, "Accept");
    return accept && strcasestr(accept, "application/json") != NULL;
}

void sig_api_answer_health(sig_server *srv, sig_request *req, bool draining)
{
    const bool auth_off = srv->cfg.auth.secret[0] == '\0';
    const char *warning = "auth is off ([auth] secret not set)";
    char body[512];
    sig_response resp = { .status = draining ? 503 : 200, .body = body,
                          .retry_after_s = draining ? 1 : 0 };
    if (wants_json(req)) {
        /* The same facts for machines, with the build's version. */
        resp.content_type = "application/json";
        snprintf(body, sizeof body,
                 "{\"status\":\"%s\",\"version\":\"%s\",\"commit\":\"%s\","
                 "\"auth\":%s,\"warnings\":[%s%s%s]}\n",
                 draining ? "draining" : "ok", sig_version(), sig_version_commit(),
                 auth_off ? "false" : "true", auth_off ? "\"" : "", auth_off ? warning : "",
                 auth_off ? "\"" : "");
    } else if (draining) {
        snprintf(body, sizeof body, "draining\n");
    } else {
        snprintf(body, sizeof body, "ok\n%s%s%s", auth_off ? "warning: " : "",
                 auth_off ? warning : "", auth_off ? "\n" : "");
    }
    sig_http_respond(req, &resp);
}

/* GET /rooms: the bitrates live with the media, so every worker first
 * copies its publishers' figures into the registry on its own thread; the
 * last one to finish answers. */
typedef struct rooms_job {
    sig_server *srv;
    sig_request *req;
    char room[SIG_NAME_MAX + 1];
    bool one_room;
} rooms_job;

static void rooms_answer(rooms_job *job)
{
    sig_server *srv = job->srv;
    char *json = sig_registry_rooms_json(srv->reg, job->one_room ? job->room : NULL,
                                         srv->cfg.privacy.api_addresses);
    if (json && srv->cluster && !job->one_room) {
        char *merged = sig_cluster_api_rooms(srv, json);
        if (merged) {
            free(json);
            json = merged;
        }
    }
    if (!json) {
        sig_http_respond_text(job->req, 404, "no such room");
    } else {
        sig_response resp = { .status = 200, .content_type = "application/json", .body = json };
        sig_http_respond(job->req, &resp);
        free(json);
    }
    g_free(job);
}

void sig_api_collect_bitrates(sig_server *srv, unsigned worker)
{
    GPtrArray *sessions = sig_registry_sessions_on_worker(srv->reg, worker);
    for (guint i = 0; i < sessions->len; i++) {
        sig_session *s = g_ptr_array_index(sessions, i);
        for (unsigned t = 0; s->peer && s->kind != SIG_SESSION_WHEP && t < s->ntracks; t++)
            sig_registry_set_bitrate(srv->reg, s, t,
                                     sfu_peer_track_bitrate(s->peer, s->tracks[t].mid));
        sig_layer_collect(srv, s);
        sig_room_subs_collect(srv, s);
        sig_session_unref(srv->reg, s);
    }
    g_ptr_array_free(sessions, TRUE);
}

static void rooms_collect(sig_server *srv, unsigned worker, void *user)
{
    (void)user;
    sig_api_collect_bitrates(srv, worker);
}

static void rooms_collected(sig_server *srv, void *user, bool refused)
{
    (void)srv;
    rooms_job *job = user;
    if (!refused) {
        rooms_answer(job);
        return;
    }
    sig_http_respond(job->req, &(sig_response){ .status = 503, .body = SIG_CMD_BUSY_REASON,
                                                .retry_after_s = 1 });
    g_free(job);
}

static void answer_rooms(sig_server *srv, sig_request *req, const char *room)
{
    rooms_job *job = g_new0(rooms_job, 1);
    job->srv = srv;
    job->req = req;
    job->one_room = room != NULL;
    if (room)
        g_strlcpy(job->room, room, sizeof job->room);
    sig_cmd_fanout(srv, rooms_collect, rooms_collected, job);
}


typedef sig_api_caller caller;

void sig_api_caller_copy(const sig_route *route, const sig_api_caller *who, sig_route *route2,
                         sig_api_caller *who2)
{
    *route2 = *route;
    *who2 = *who;
    if (who->sub)
        who2->sub = who2->owner;
    if (who->name == route->name)
        who2->name = route2->name;
    else if (who->name == who->claims.sub)
        who2->name = who2->claims.sub;
}

static bool is_public(sig_route_id id)
{
    /* The relay endpoint's own authentication is its sealed body. */
    return id == SIG_ROUTE_HEALTH || id == SIG_ROUTE_METRICS || id == SIG_ROUTE_INDEX ||
           id == SIG_ROUTE_STATIC || id == SIG_ROUTE_CLUSTER_RELAY ||
           id == SIG_ROUTE_CLUSTER_SPAN;
}

static unsigned needed_actions(sig_route_id id)
{
    switch (id) {
    case SIG_ROUTE_WHIP: return SIG_AUTH_PUBLISH;
    case SIG_ROUTE_WHEP: return SIG_AUTH_SUBSCRIBE;
    case SIG_ROUTE_ROOM_JOIN: return SIG_AUTH_PUBLISH | SIG_AUTH_SUBSCRIBE;
    default: return SIG_AUTH_READ;
    }
}

/* API.md "Auth": 401 for a missing or bad token, 403 for a good one that
 * does not allow this. Answers the request and returns false when refused. */
static bool authorize(sig_server *srv, sig_request *req, const sig_route *route, caller *who)
{
    who->sub = NULL;
    who->name = route->has_name ? route->name : NULL;
    if (!srv->cfg.auth.secret[0] || is_public(route->id))
        return true;
    sig_auth_config acfg = { .secret = srv->cfg.auth.secret,
                             .clock_skew_s = srv->cfg.auth.clock_skew_s };
    int64_t now = g_get_real_time() / 1000000;
    int rc;
    /* Browsers' EventSource cannot send headers: RFC 6750 2.3, events only. */
    if (route->id == SIG_ROUTE_SESSION_EVENTS && route->has_access_token)
        rc = sig_auth_verify(&acfg, route->access_token, now, &who->claims);
    else
        rc = sig_auth_verify_header(&acfg, sig_request_header(req, "Authorization"), now,
                                    &who->claims);
    if (rc != 0) {
        const char *reason;
        unsigned status = (unsigned)sig_auth_status(rc, &reason);
        char line[160];
        snprintf(line, sizeof line, "%s\n", reason);
        sig_response resp = { .status = status, .body = line, .nheaders = 1,
                              .header_names = { "WWW-Authenticate" },
                              .header_values = { "Bearer realm=\"sfu\"" } };
        sig_http_respond(req, &resp);
        return false;
    }
    bool room_scoped = route->id != SIG_ROUTE_ROOMS && route->id != SIG_ROUTE_SESSION &&
                       route->id != SIG_ROUTE_SESSION_EVENTS &&
                       route->id != SIG_ROUTE_SESSION_ANSWER &&
                       route->id != SIG_ROUTE_SESSION_LAYER &&
                       route->id != SIG_ROUTE_SESSION_SUBSCRIPTIONS;
    if ((room_scoped || route->id == SIG_ROUTE_ROOMS) &&
        !sig_auth_allows(&who->claims, room_scoped ? route->room : NULL,
                         needed_actions(route->id))) {
        sig_http_respond_text(req, 403, "this token does not allow that in this room");
        return false;
    }
    snprintf(who->owner, sizeof who->owner, "%s/%s", who->claims.room, who->claims.sub);
    who->sub = who->owner;
    who->name = who->claims.sub;  /* with auth on, the name is the token's */
    return true;
}

void sig_api_dispatch(sig_server *srv, sig_request *req, const sig_route *route,
                      const sig_api_caller *who)
{
    switch (route->id) {
    case SIG_ROUTE_WHIP:
    case SIG_ROUTE_WHEP:
        if (!sig_request_content_type_is(req, "application/sdp")) {
            sig_http_respond_text(req, 415, "the offer must be application/sdp");
            return;
        }
        sig_session_spec spec = { .room = route->room, .owner_sub = who->sub };
        if (route->id == SIG_ROUTE_WHIP) {
            spec.kind = SIG_SESSION_WHIP;
            spec.name = who->name;
            if (route->has_participant_query &&
                !(spec.reuse_participant = sig_participant_parse(route->participant_query))) {
                sig_http_respond_text(req, 400, "participant must be an id the server gave");
                return;
            }
        } else {
            spec.kind = SIG_SESSION_WHEP;
            if (!(spec.watched = sig_participant_parse(route->participant))) {
                sig_http_respond_text(req, 404, "no such participant in this room");
                return;
            }
        }
        sig_session_create(srv, req, &spec);
        return;
    case SIG_ROUTE_ROOM_JOIN: {
        if (!sig_request_content_type_is(req, "application/sdp")) {
            sig_http_respond_text(req, 415, "the offer must be application/sdp");
            return;
        }
        sig_session_spec join = { .kind = SIG_SESSION_ROOM, .room = route->room,
                                  .name = who->name, .owner_sub = who->sub,
                                  .events = sig_events_new() };
        sig_session_create(srv, req, &join);
        return;
    }
    case SIG_ROUTE_SESSION_EVENTS:
        sig_room_events(srv, req, route->session, who->sub);
        return;
    case SIG_ROUTE_SESSION_ANSWER:
        sig_room_answer(srv, req, route->session, who->sub, route->has_revision, route->revision);
        return;
    case SIG_ROUTE_SESSION_LAYER:
        sig_layer_select(srv, req, route->session, who->sub);
        return;
    case SIG_ROUTE_SESSION_SUBSCRIPTIONS:
        sig_room_subscribe(srv, req, route->session, who->sub);
        return;
    case SIG_ROUTE_SESSION:
        if (route->method == SIG_METHOD_DELETE)
            sig_session_delete(srv, req, route->session, who->sub);
        else if (sig_request_content_type_is(req, "application/sdp"))
            sig_room_reoffer(srv, req, route->session, who->sub);
        else
            sig_session_patch(srv, req, route->session, who->sub);
        return;
    case SIG_ROUTE_ROOMS:
        answer_rooms(srv, req, NULL);
        return;
    case SIG_ROUTE_ROOM:
        answer_rooms(srv, req, route->room);
        return;
    case SIG_ROUTE_HEALTH:
        sig_api_answer_health(srv, req, false);
        return;
    case SIG_ROUTE_METRICS:
        sig_metrics_answer(srv, req);
        return;
    case SIG_ROUTE_CLUSTER_RELAY:
        sig_relay_serve(srv, req);
        return;
    case SIG_ROUTE_CLUSTER_SPAN:
        sig_span_serve(srv, req);
        return;
    case SIG_ROUTE_INDEX:
    case SIG_ROUTE_STATIC: {
        /* A cluster node's page may be redirected to any live node. */
        char *origins = srv->cluster ? sig_cluster_origins(srv->cluster) : NULL;
        sig_static_answer(req, srv->cfg.http.static_dir,
                          route->id == SIG_ROUTE_INDEX ? "index.html" : route->static_path,
                          route->method == SIG_METHOD_HEAD, origins);
        g_free(origins);
        return;
    }
    default:
        sig_http_respond_text(req, 404, "not found");
        return;
    }
}

/* 429 with Retry-After past the configured rate; the address is only a
 * key in memory, never logged. */
static bool within_rate(sig_server *srv, sig_request *req)
{
    char key[64];
    const struct sockaddr *sa = sig_request_sockaddr(req);
    uint32_t retry_after = 1;
    if (!srv->ratelimit || !sa || sig_ratelimit_key(sa, key, sizeof key) != 0 ||
        sig_ratelimit_allow(srv->ratelimit, key, g_get_monotonic_time(), &retry_after))
        return true;
    sig_response resp = { .status = 429, .body = "too many requests from this client\n",
                          .retry_after_s = retry_after ? retry_after : 1 };
    sig_http_respond(req, &resp);
    return false;
}

void sig_api_handle(void *user, sig_request *req)
{
    sig_server *srv = user;
    sig_route route;
    if (sig_route_match(sig_request_method(req), sig_request_path(req), &route) == 0)
        sig_request_foreach_query(req, add_query_arg, &route);
    if (route.status == 0 && route.method == SIG_METHOD_OPTIONS) {
        answer_options(req, &route);
        return;
    }
    if (route.id != SIG_ROUTE_HEALTH && route.id != SIG_ROUTE_METRICS && !within_rate(srv, req))
        return;
    if (route.status != 0) {
        answer_route_error(req, &route);
        return;
    }
    caller who;
    if (!authorize(srv, req, &route, &who))
        return;
    if (srv->cluster && sig_cluster_api_route(srv, req, &route, &who))
        return;
    sig_api_dispatch(srv, req, &route, &who);
}
