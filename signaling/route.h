/* HTTP routing, pure: (method, path, query) to one route with its validated
 * parameters, or the status to answer instead. No I/O and no allocation; the
 * result owns copies of everything it captured.
 *
 *   POST    /whip/{room}                    SIG_ROUTE_WHIP
 *   POST    /whep/{room}/{participant}      SIG_ROUTE_WHEP
 *   POST    /rooms/{room}/join?name=        SIG_ROUTE_ROOM_JOIN
 *   GET     /rooms                          SIG_ROUTE_ROOMS
 *   GET     /rooms/{room}                   SIG_ROUTE_ROOM
 *   PATCH, DELETE /sessions/{id}            SIG_ROUTE_SESSION
 *   GET     /sessions/{id}/events?access_token=   SIG_ROUTE_SESSION_EVENTS
 *   POST    /sessions/{id}/answer?revision= SIG_ROUTE_SESSION_ANSWER
 *   POST    /sessions/{id}/layer            SIG_ROUTE_SESSION_LAYER
 *   POST    /sessions/{id}/subscriptions    SIG_ROUTE_SESSION_SUBSCRIPTIONS
 *   GET     /health, /metrics, /            SIG_ROUTE_HEALTH, _METRICS, _INDEX
 *   POST    /cluster/relay                  SIG_ROUTE_CLUSTER_RELAY (node to node,
 *                                           sealed body; signaling/relay.h)
 *   POST    /cluster/span                   SIG_ROUTE_CLUSTER_SPAN (node to node,
 *                                           sealed body; signaling/span.h)
 *   GET     /static/{file path}             SIG_ROUTE_STATIC
 *   OPTIONS on every path above (CORS preflight); HEAD wherever GET is,
 *   except the event stream.
 *
 * Names of rooms and participants are 1-64 of [A-Za-z0-9_.-], not "." or
 * "..": they appear in URLs, JSON and logs as they are. A session id is
 * exactly 32 lowercase hex digits (128 bits). Paths are matched as sent,
 * never percent-decoded: '%' is not a name character, so an encoded slash or
 * dot cannot sneak past. */
#ifndef SIG_ROUTE_H
#define SIG_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIG_NAME_MAX 64                 /* bytes of a room or participant name */
#define SIG_SESSION_ID_LEN 32           /* lowercase hex digits */
#define SIG_DISPLAY_NAME_MAX 64         /* bytes of ?name= (UTF-8) */
#define SIG_TOKEN_MAX 4096              /* bytes of ?access_token= */
#define SIG_STATIC_PATH_MAX 256         /* bytes of a path under /static/ */

typedef enum sig_route_id {
    SIG_ROUTE_NONE = 0,
    SIG_ROUTE_WHIP,
    SIG_ROUTE_WHEP,
    SIG_ROUTE_ROOM_JOIN,
    SIG_ROUTE_ROOMS,
    SIG_ROUTE_ROOM,
    SIG_ROUTE_SESSION,
    SIG_ROUTE_SESSION_EVENTS,
    SIG_ROUTE_SESSION_ANSWER,
    SIG_ROUTE_HEALTH,
    SIG_ROUTE_METRICS,
    SIG_ROUTE_INDEX,
    SIG_ROUTE_STATIC,
    SIG_ROUTE_SESSION_LAYER,
    SIG_ROUTE_CLUSTER_RELAY,
    SIG_ROUTE_SESSION_SUBSCRIPTIONS,
    SIG_ROUTE_CLUSTER_SPAN,
} sig_route_id;

/* Methods as bits, so that a path's allowed set is one mask. */
typedef enum sig_method {
    SIG_METHOD_OTHER = 0,               /* anything else: never allowed */
    SIG_METHOD_GET = 1 << 0,
    SIG_METHOD_HEAD = 1 << 1,
    SIG_METHOD_POST = 1 << 2,
    SIG_METHOD_PATCH = 1 << 3,
    SIG_METHOD_DELETE = 1 << 4,
    SIG_METHOD_OPTIONS = 1 << 5,
} sig_method;

typedef struct sig_route {
    sig_route_id id;                    /* SIG_ROUTE_NONE unless status is 0 */
    sig_method method;
    unsigned allowed;                   /* sig_method bits of the path; 0 if unknown */
    int status;                         /* 0: dispatch; else 400, 404 or 405 */
    const char *reason;                 /* one line for the error body; static */
    /* Captured from the path. */
    char room[SIG_NAME_MAX + 1];
    char participant[SIG_NAME_MAX + 1];
    char session[SIG_SESSION_ID_LEN + 1];
    char static_path[SIG_STATIC_PATH_MAX + 1];  /* relative: "js/app.js" */
    /* From the query, on the routes that take them; others are ignored. */
    bool has_name, has_revision, has_access_token, has_participant_query;
    char name[SIG_DISPLAY_NAME_MAX + 1];        /* ROOM_JOIN, WHIP: display name */
    char participant_query[SIG_NAME_MAX + 1];   /* WHIP: publish again as this participant */
    uint64_t revision;                          /* SESSION_ANSWER */
    char access_token[SIG_TOKEN_MAX + 1];       /* SESSION_EVENTS only (RFC 6750 2.3) */
} sig_route;

/* Routes `method` and `target` (a path, optionally followed by "?query" whose
 * values are percent-decoded here). Fills `out` in every case. Returns 0 to
 * dispatch, or -SFU_ENOTFOUND (404), -SFU_EUNSUPPORTED (405: see
 * out->allowed) or -SFU_EMALFORMED (400); out->status holds the HTTP status. */
int sig_route_match(const char *method, const char *target, sig_route *out);

/* Adds one query argument already decoded by the HTTP library (libmicrohttpd
 * hands over the path and the arguments apart). Call after a successful
 * sig_route_match; same checks and return values as the query there. */
int sig_route_query_arg(sig_route *r, const char *key, const char *value);

/* "GET, HEAD, OPTIONS" for an Allow or Access-Control-Allow-Methods header.
 * Returns the length written (cut to fit, NUL-terminated). */
size_t sig_route_allow_header(unsigned allowed, char *buf, size_t n);

sig_method sig_method_parse(const char *method);

/* The validators, for ids that arrive elsewhere (events, tokens). */
bool sig_route_valid_name(const char *s, size_t len);
bool sig_route_valid_session_id(const char *s, size_t len);
bool sig_route_valid_display_name(const char *s, size_t len);

#endif
