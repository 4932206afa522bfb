#include "bench/janus.h"
#include "bench/ice_client.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define POLL_TIMEOUT_US (20 * 1000000)
#define NO_SUCH_FEED 428
#define ROOM_EXISTS 427

/* POSTs obj (stolen) to path; the parsed reply, or NULL with a reason. */
static json_t *post_json(bench_run_state *r, const char *path, json_t *obj, char *err,
                         size_t errlen)
{
    json_object_set_new(obj, "transaction", json_string("bench"));
    char *body = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    bench_http_resp resp;
    int rc = body ? bench_http_request(&r->url, "POST", path, "application/json", body,
                                       strlen(body), &resp, err, errlen)
                  : -1;
    free(body);
    if (rc != 0)
        return NULL;
    json_error_t je;
    json_t *reply = resp.status == 200 ? json_loadb(resp.body, resp.body_len, 0, &je) : NULL;
    if (!reply)
        snprintf(err, errlen, "POST %s: %d %.100s", path, resp.status, resp.body ? resp.body : "");
    bench_http_resp_free(&resp);
    return reply;
}

static const char *kind(const json_t *j) { return json_string_value(json_object_get(j, "janus")); }

static void janus_error(const json_t *j, const char *what, char *err, size_t errlen)
{
    const json_t *e = json_object_get(j, "error");
    snprintf(err, errlen, "%s: janus %s %lld %s", what, kind(j) ? kind(j) : "?",
             (long long)json_integer_value(json_object_get(e, "code")),
             json_string_value(json_object_get(e, "reason")) ?: "");
}

/* A "success" reply's data.id (session or handle), 0 on error. */
static uint64_t create_id(bench_run_state *r, const char *path, json_t *req, char *err,
                          size_t errlen)
{
    json_t *reply = post_json(r, path, req, err, errlen);
    if (!reply)
        return 0;
    uint64_t id = 0;
    if (g_strcmp0(kind(reply), "success") == 0)
        id = (uint64_t)json_integer_value(json_object_get(json_object_get(reply, "data"), "id"));
    else
        janus_error(reply, path, err, errlen);
    json_decref(reply);
    return id;
}

typedef struct jsession {
    char path[128];             /* {base}/{session} */
    char handle[160];           /* {base}/{session}/{handle} */
} jsession;

static int open_session(bench_run_state *r, jsession *js, char *err, size_t errlen)
{
    json_t *req = json_pack("{ss}", "janus", "create");
    uint64_t sid = create_id(r, r->janus_base, req, err, errlen);
    if (!sid)
        return -1;
    snprintf(js->path, sizeof js->path, "%s/%llu", r->janus_base, (unsigned long long)sid);
    req = json_pack("{ssss}", "janus", "attach", "plugin", "janus.plugin.videoroom");
    uint64_t hid = create_id(r, js->path, req, err, errlen);
    if (!hid)
        return -1;
    snprintf(js->handle, sizeof js->handle, "%s/%llu", js->path, (unsigned long long)hid);
    return 0;
}

/* Sends a plugin message (body and jsep stolen; jsep may be NULL) and waits
 * for the plugin's event. The event's plugindata.data and jsep (either may
 * be NULL) are returned with a reference; -1 on a transport or Janus error. */
static int message(bench_run_state *r, const jsession *js, json_t *body, json_t *jsep,
                   json_t **data, json_t **rjsep, char *err, size_t errlen)
{
    *data = *rjsep = NULL;
    json_t *req = json_pack("{ssso}", "janus", "message", "body", body);
    if (jsep)
        json_object_set_new(req, "jsep", jsep);
    json_t *reply = post_json(r, js->handle, req, err, errlen);
    if (!reply)
        return -1;
    bool ok = g_strcmp0(kind(reply), "ack") == 0 || g_strcmp0(kind(reply), "event") == 0;
    json_t *ev = g_strcmp0(kind(reply), "event") == 0 ? reply : NULL;
    if (!ok) {
        janus_error(reply, "message", err, errlen);
        json_decref(reply);
        return -1;
    }
    if (!ev)
        json_decref(reply);
    /* One event per GET (without maxev the reply is an object, not an array). */
    const char *path = js->path;
    sfu_time end = bench_now() + POLL_TIMEOUT_US;
    while (!ev && bench_now() < end) {
        bench_http_resp resp;
        if (bench_http_request(&r->url, "GET", path, NULL, NULL, 0, &resp, err, errlen) != 0)
            return -1;
        json_error_t je;
        json_t *j = resp.status == 200 ? json_loadb(resp.body, resp.body_len, 0, &je) : NULL;
        bench_http_resp_free(&resp);
        if (j && g_strcmp0(kind(j), "event") == 0 && json_object_get(j, "plugindata"))
            ev = j;
        else
            json_decref(j);     /* keepalive, webrtcup, media, ... */
    }
    if (!ev) {
        snprintf(err, errlen, "no event from Janus within %d s", POLL_TIMEOUT_US / 1000000);
        return -1;
    }
    *data = json_incref(json_object_get(json_object_get(ev, "plugindata"), "data"));
    *rjsep = json_incref(json_object_get(ev, "jsep"));
    json_decref(ev);
    return 0;
}

static int plugin_error(const json_t *data, char *err, size_t errlen)
{
    const json_t *code = json_object_get(data, "error_code");
    if (!code)
        return 0;
    snprintf(err, errlen, "videoroom %lld: %s", (long long)json_integer_value(code),
             json_string_value(json_object_get(data, "error")) ?: "");
    return (int)json_integer_value(code);
}

typedef struct answer_call {
    bench_peer *peer;
    const char *offer;
    bench_answer *remote;
    char *answer;
    char err[160];
} answer_call;

static void do_answer(void *arg)
{
    answer_call *c = arg;
    c->answer = bench_peer_answer(c->peer, c->offer, strlen(c->offer), c->remote, c->err,
                                  sizeof c->err);
}

/* The VideoRoom of a publisher: BENCH_JANUS_ROOM (configs/bench/janus/),
 * or for voice calls a room per call, as our SFU gets a room per call. */
static json_int_t room_of(const bench_run_state *r, unsigned pub)
{
    if (strcmp(r->s->kind, "voice-calls") == 0)
        return BENCH_JANUS_ROOM + 1 + pub / 2;
    return BENCH_JANUS_ROOM;
}

/* A synchronous VideoRoom request ("create"): its reply carries the
 * plugin's data at once. */
static int create_room(bench_run_state *r, const jsession *js, json_int_t room, char *err,
                       size_t errlen)
{
    json_t *body = json_pack("{sssIsssisssssbsisisbsb}", "request", "create", "room", room,
                             "admin_key", "bench-admin", "publishers", 2, "audiocodec", "opus",
                             "videocodec", "vp8", "transport_wide_cc_ext", 1, "bitrate", 0,
                             "fir_freq", 0, "notify_joining", 0, "record", 0);
    json_t *req = json_pack("{ssso}", "janus", "message", "body", body);
    json_t *reply = post_json(r, js->handle, req, err, errlen);
    if (!reply)
        return -1;
    int rc = 0;
    json_t *data = json_object_get(json_object_get(reply, "plugindata"), "data");
    if (g_strcmp0(kind(reply), "success") != 0) {
        janus_error(reply, "create", err, errlen);
        rc = -1;
    } else if (plugin_error(data, err, errlen) && plugin_error(data, err, errlen) != ROOM_EXISTS) {
        rc = -1;    /* an existing room (a second run against this Janus) will do */
    }
    json_decref(reply);
    return rc;
}

static int join_publisher(bench_run_state *r, const jsession *js, unsigned pub,
                          const char *offer, bench_answer *remote, char *err, size_t errlen)
{
    json_int_t room = room_of(r, pub);
    if (room != BENCH_JANUS_ROOM && pub % 2 == 0 && create_room(r, js, room, err, errlen) != 0)
        return -1;
    json_t *body = json_pack("{sssssIss}", "request", "joinandconfigure", "ptype", "publisher",
                             "room", room, "display", "sfu-bench");
    json_t *jsep = json_pack("{sssssb}", "type", "offer", "sdp", offer, "trickle", 0);
    json_t *data, *rjsep;
    if (message(r, js, body, jsep, &data, &rjsep, err, errlen) != 0)
        return -1;
    int rc = plugin_error(data, err, errlen) ? -1 : 0;
    const char *sdp = json_string_value(json_object_get(rjsep, "sdp"));
    if (rc == 0 && !sdp) {
        snprintf(err, errlen, "Janus answered the publisher without SDP");
        rc = -1;
    }
    if (rc == 0) {
        snprintf(r->pubs[pub].participant, sizeof r->pubs[pub].participant, "%lld",
                 (long long)json_integer_value(json_object_get(data, "id")));
        rc = bench_answer_parse(sdp, strlen(sdp), remote, err, errlen);
    }
    json_decref(data);
    json_decref(rjsep);
    return rc;
}

/* Joins as a subscriber of the feed; Janus's offer in *offer (a reference),
 * retrying while the publisher's PeerConnection is not up (428). */
static int join_viewer(bench_run_state *r, const jsession *js, unsigned pub, json_t **offer,
                       char *err, size_t errlen)
{
    long long feed = atoll(r->pubs[pub].participant);
    sfu_time end = bench_now() + POLL_TIMEOUT_US;
    for (;;) {
        json_t *body = json_pack("{sssssIsI}", "request", "join", "ptype", "subscriber", "room",
                                 room_of(r, pub), "feed", (json_int_t)feed);
        json_t *data;
        if (message(r, js, body, NULL, &data, offer, err, errlen) != 0)
            return -1;
        int code = plugin_error(data, err, errlen);
        json_decref(data);
        if (code == 0 && json_string_value(json_object_get(*offer, "sdp")))
            return 0;
        json_decref(*offer);
        *offer = NULL;
        if (code == 0)
            snprintf(err, errlen, "Janus sent the subscriber no offer");
        if (code != NO_SUCH_FEED || bench_now() > end)
            return -1;
        usleep(200 * 1000);
    }
}

static int start_viewer(bench_run_state *r, const jsession *js, bench_peer *peer,
                        const char *offer, bench_answer *remote, char *err, size_t errlen)
{
    answer_call c = { .peer = peer, .offer = offer, .remote = remote };
    bench_loop_call(r->loop, do_answer, &c);
    if (!c.answer) {
        snprintf(err, errlen, "answering Janus: %s", c.err);
        return -1;
    }
    json_t *body = json_pack("{ss}", "request", "start");
    json_t *jsep = json_pack("{sssssb}", "type", "answer", "sdp", c.answer, "trickle", 0);
    g_free(c.answer);
    json_t *data, *rjsep;
    if (message(r, js, body, jsep, &data, &rjsep, err, errlen) != 0)
        return -1;
    int rc = plugin_error(data, err, errlen) ? -1 : 0;
    json_decref(data);
    json_decref(rjsep);
    return rc;
}

int bench_janus_join(bench_run_state *r, bench_peer *peer, bench_role role, unsigned pub,
                     unsigned idx, const char *offer, bench_answer *remote, sfu_time *post_at,
                     char *err, size_t errlen)
{
    jsession js;
    *post_at = bench_now();
    if (open_session(r, &js, err, errlen) != 0)
        return -1;
    g_strlcpy(r->sessions[idx], js.path, sizeof r->sessions[idx]);
    if (role == BENCH_PUBLISHER)
        return join_publisher(r, &js, pub, offer, remote, err, errlen);
    json_t *jsep = NULL;
    int rc = join_viewer(r, &js, pub, &jsep, err, errlen);
    if (rc == 0)
        rc = start_viewer(r, &js, peer, json_string_value(json_object_get(jsep, "sdp")), remote,
                          err, errlen);
    json_decref(jsep);
    return rc;
}

void bench_janus_destroy(bench_run_state *r, const char *session_path)
{
    char err[160];
    json_t *reply = post_json(r, session_path, json_pack("{ss}", "janus", "destroy"), err,
                              sizeof err);
    json_decref(reply);
}

/* The source address the kernel picks towards Janus (a UDP connect sends
 * nothing). */
static int local_ip_towards(const char *host, char *ip, size_t iplen)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) }, me;
    socklen_t len = sizeof me;
    if (inet_pton(AF_INET, host, &to.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int rc = fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof to) == 0 &&
             getsockname(fd, (struct sockaddr *)&me, &len) == 0 &&
             inet_ntop(AF_INET, &me.sin_addr, ip, (socklen_t)iplen) ? 0 : -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

int bench_janus_setup(bench_run_state *r, char *err, size_t errlen)
{
    const char *u = r->o->url;
    const char *slash = strchr(u + strlen("http://"), '/');
    g_strlcpy(r->janus_base, slash ? slash : "/janus", sizeof r->janus_base);
    size_t n = strlen(r->janus_base);
    if (n > 1 && r->janus_base[n - 1] == '/')
        r->janus_base[n - 1] = '\0';
    char ip[INET_ADDRSTRLEN];
    if (local_ip_towards(r->url.host, ip, sizeof ip) != 0) {
        snprintf(err, errlen, "--target janus: the URL's host must be an IPv4 address (%s)",
                 r->url.host);
        return -1;
    }
    /* Janus never pairs with loopback candidates (it runs in its own
     * network namespace, bench/compare.sh): gather on the veth address. */
    bench_ice_set_local_address(ip);
    return 0;
}
