/* What the API's parts share (signaling/api.c, signaling/cluster_api.c). */
#ifndef SIG_API_H
#define SIG_API_H

#include "signaling/auth.h"
#include "signaling/route.h"
#include "signaling/server.h"

/* What an authenticated caller may do. `sub` is the ownership key of the
 * sessions it creates, NULL with auth off: the token's room claim and sub,
 * so a token for another room with the same name owns nothing here.
 * `sub` points at `owner`, `name` at the route's name or the claims' sub:
 * a copy must point them again (sig_api_caller_copy). */
typedef struct sig_api_caller {
    const char *sub;
    char owner[SIG_NAME_MAX + SIG_DISPLAY_NAME_MAX + 2];
    const char *name;           /* display name for a new participant */
    sig_auth_claims claims;
} sig_api_caller;

/* Copies `route` and `who` into `route2`/`who2`, pointing who2's pointers
 * into the copies. */
void sig_api_caller_copy(const sig_route *route, const sig_api_caller *who, sig_route *route2,
                         sig_api_caller *who2);

/* Runs an authorized request's route (any thread, under srv->cfg_lock as
 * a reader). */
void sig_api_dispatch(sig_server *srv, sig_request *req, const sig_route *route,
                      const sig_api_caller *who);

/* On worker `worker`'s thread: copies its publishers' bitrates into the
 * registry (for GET /rooms and the cluster's summary). */
void sig_api_collect_bitrates(sig_server *srv, unsigned worker);

/* The cluster's part of the API (signaling/cluster_api.c). Called after
 * authorization: returns true when it took the request (a room that is not
 * on this node: the directory decides between serving it here, 307 to its
 * owner, 404 or 503). */
bool sig_cluster_api_route(sig_server *srv, sig_request *req, const sig_route *route,
                           const sig_api_caller *who);
/* GET /rooms: the local JSON merged with the other nodes' rooms; returns
 * new text to free() (the local text is not freed). */
char *sig_cluster_api_rooms(sig_server *srv, const char *local_json);
/* The cluster's heartbeat hook (sig_cluster_collect_fn) for `srv`. */
struct sig_cluster_local;
void sig_cluster_api_collect(void *srv, struct sig_cluster_local *out);

#endif
