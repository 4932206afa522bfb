#include "signaling/relay.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "sfu/net/log.h"
#include "sfu/net/peer.h"
#include "signaling/cluster.h"
#include "signaling/random.h"
#include "signaling/relay_http.h"
#include "signaling/relay_msg.h"
#include "signaling/room_session.h"
#include "signaling/session.h"
#include "signaling/worker_cmd.h"

#define RELAY_PATH "/cluster/relay"
#define RELAY_CONTENT_TYPE "application/x-sfu-relay"
#define PULL_KEY_MAX (SIG_ROOM_NAME_MAX + 12)    /* "<local room>/<participant>" */

struct sig_relay {
    sig_server *srv;
    GMutex lock;
    GHashTable *pulls;              /* "<local room>/p8hex" -> pull*, owned */
    gint serving, pulling;          /* atomic */
    gint opening;                   /* atomic: pulls between request and ready/failed */
    uint64_t opened, open_failed, refused, lost;    /* atomic adds */
    GMutex rate_lock;
    gint64 rate_at[2];
    uint64_t rate_bytes[2], rate_bps[2];
};

/* A viewer's request waiting for its leg. */
typedef struct waiter {
    sig_request *req;
    sig_route route;
    sig_api_caller who;
} waiter;

/* Node B: one pulled publisher, from the first viewer's request (or, for a
 * room spanning nodes, from the span's decision) until the leg ends. Owned
 * by the table; an opening entry is touched only by its opener (one step
 * at a time), a ready one only on its room's worker; `closing` is under
 * the lock. */
typedef struct pull {
    sig_relay *relay;
    char key[PULL_KEY_MAX];
    char room[SIG_NAME_MAX + 1];
    char local_room[SIG_ROOM_NAME_MAX + 1];     /* "~" + room; the room itself for a span */
    uint32_t participant;
    bool ready;
    bool span;                      /* a participant of a room spanning nodes (span.h) */
    bool closing;                   /* span: asked to end while opening */
    char name[SIG_DISPLAY_NAME_MAX + 1];        /* span: the participant's display name */
    char origin[SIG_CLUSTER_ID_MAX + 1];        /* span: the node pulled from */
    GPtrArray *waiters;             /* waiter*, under the lock */
    sig_session *session;           /* the leg's session on this node (a reference) */
    char owner_url[SIG_CLUSTER_URL_MAX];
    /* The opening's state. */
    sig_relay_request rq;
    sig_relay_response *resp;
    char *body;
    unsigned status;
    char why[256];
} pull;

static void count(uint64_t *c) { __atomic_fetch_add(c, 1, __ATOMIC_RELAXED); }
static uint64_t load(const uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }

sig_relay *sig_relay_new(sig_server *srv)
{
    sig_relay *r = g_new0(sig_relay, 1);
    r->srv = srv;
    g_mutex_init(&r->lock);
    g_mutex_init(&r->rate_lock);
    r->pulls = g_hash_table_new(g_str_hash, g_str_equal);
    return r;
}

static void pull_free(pull *p)
{
    if (!p)
        return;
    g_ptr_array_unref(p->waiters);
    g_free(p->resp);
    g_free(p->body);
    g_free(p);
}

void sig_relay_free(sig_relay *r)
{
    if (!r)
        return;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, r->pulls);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        pull *p = v;
        if (p->session)
            sig_session_unref(r->srv->reg, p->session);
        pull_free(p);
    }
    g_hash_table_destroy(r->pulls);
    g_mutex_clear(&r->rate_lock);
    g_mutex_clear(&r->lock);
    g_free(r);
}

void sig_relay_stop(sig_relay *r)
{
    if (!r)
        return;
    /* An opening answers its viewers on the HTTP side: let it finish (its
     * call is bounded by relay_timeout_ms). */
    gint64 deadline = g_get_monotonic_time() + r->srv->cfg.cluster.relay_timeout + 2 * G_USEC_PER_SEC;
    while (g_atomic_int_get(&r->opening) > 0 && g_get_monotonic_time() < deadline)
        g_usleep(10000);
}

void sig_relay_counts_get(sig_relay *r, sig_relay_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!r)
        return;
    out->serving = (unsigned)g_atomic_int_get(&r->serving);
    out->pulling = (unsigned)g_atomic_int_get(&r->pulling);
    out->opened = load(&r->opened);
    out->open_failed = load(&r->open_failed);
    out->refused = load(&r->refused);
    out->lost = load(&r->lost);
}

uint64_t sig_relay_rate(sig_relay *r, bool out, uint64_t bytes_now)
{
    if (!r)
        return 0;
    int i = out ? 0 : 1;
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&r->rate_lock);
    if (!r->rate_at[i]) {
        r->rate_at[i] = now;
        r->rate_bytes[i] = bytes_now;
    } else if (now - r->rate_at[i] >= G_USEC_PER_SEC) {
        uint64_t d = bytes_now >= r->rate_bytes[i] ? bytes_now - r->rate_bytes[i] : 0;
        r->rate_bps[i] = d * 8 * G_USEC_PER_SEC / (uint64_t)(now - r->rate_at[i]);
        r->rate_at[i] = now;
        r->rate_bytes[i] = bytes_now;
    }
    uint64_t bps = r->rate_bps[i];
    g_mutex_unlock(&r->rate_lock);
    return bps;
}

static void nonce_new(char out[SIG_RELAY_NONCE_HEX + 1])
{
    uint8_t raw[SIG_RELAY_NONCE_HEX / 2];
    sig_random_bytes(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* What GET /rooms and a viewer's negotiation see of a relayed track. */
static unsigned track_infos(const sig_relay_track *t, unsigned n, sig_track_info *out)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n && k < SIG_TRACKS_MAX; i++, k++) {
        memset(&out[k], 0, sizeof out[k]);
        g_strlcpy(out[k].mid, t[i].mid, sizeof out[k].mid);
        out[k].kind = t[i].kind;
        g_strlcpy(out[k].codec, sig_relay_codec_name(t[i].codec), sizeof out[k].codec);
        out[k].profile_level_id = t[i].profile_level_id;
    }
    return k;
}

/* ======================= node A: serving a leg ======================= */

typedef struct serve_job {
    sig_cmd cmd;
    sig_relay_request rq;
    unsigned ntracks;
    sig_relay_track tracks[SIG_RELAY_TRACKS_MAX];
} serve_job;

static void serve_fail(serve_job *job, unsigned status, const char *reason)
{
    sig_session *s = job->cmd.s;
    if (s->peer) {
        sfu_peer_free(s->peer);
        s->peer = NULL;
    }
    sig_registry_remove(job->cmd.srv->reg, s);
    sfu_log(SFU_LOG_WARN, "relay.serve_failed", "node=%s reason=\"%s\"", job->rq.node, reason);
    sig_cmd_finish_text(&job->cmd, status, reason);
}

static void serve_on_worker(sig_cmd *cmd)
{
    serve_job *job = (serve_job *)cmd;
    sig_server *srv = cmd->srv;
    sig_session *s = cmd->s;
    char err[256];
    s->peer = sfu_peer_new_relay(srv->hosts[s->worker], s->room, 0, s, err, sizeof err);
    if (!s->peer) {
        serve_fail(job, 503, err);
        return;
    }
    sig_relay_response *resp = g_new0(sig_relay_response, 1);
    g_strlcpy(resp->node, sig_cluster_node_id(srv->cluster), sizeof resp->node);
    nonce_new(resp->nonce);
    g_strlcpy(resp->echo, job->rq.nonce, sizeof resp->echo);
    sfu_peer_relay_local(s->peer, resp->addr, sizeof resp->addr, &resp->port);
    /* A simulcast publisher's video goes over the leg as every layer, each
     * on a sink pinned to it: the pulling node's viewers choose among them. */
    sfu_layer_desc layers[SFU_MAX_LAYERS];
    int nl = sfu_peer_source_layers(s->peer, job->rq.participant, SFU_KIND_VIDEO, layers, SFU_MAX_LAYERS);
    for (unsigned i = 0; nl >= 2 && i < job->ntracks; i++)
        if (job->tracks[i].kind == SFU_KIND_VIDEO) {    /* the one sfu_room_bind binds a video sink to */
            sig_relay_track_set_layers(job->tracks, job->ntracks, i, layers, (unsigned)nl,
                                       sig_random_ssrc, NULL);
            break;
        }
    resp->ntracks = job->ntracks;
    memcpy(resp->tracks, job->tracks, sizeof job->tracks);
    sfu_srtp_keys keys;
    sfu_leg_desc *desc = g_new0(sfu_leg_desc, 1);
    sig_relay_serve_desc(job->tracks, job->ntracks, sig_random_ssrc(NULL), desc);
    int rc = sig_relay_keys(srv->cfg.cluster.secret, job->rq.nonce, resp->nonce, true, &keys);
    if (rc == 0)
        rc = sfu_peer_start_relay(s->peer, job->rq.addr, job->rq.port, &keys, desc, err,
                                  sizeof err);
    memset(&keys, 0, sizeof keys);
    char *body = rc == 0 ? sig_relay_response_encode(resp, srv->cfg.cluster.secret) : NULL;
    g_free(resp);
    if (!body) {
        g_free(desc);
        serve_fail(job, 500, rc ? err : "cannot encode the answer");
        return;
    }
    /* Listed per sink (a simulcast track's layers each), so that GET /rooms
     * shows what each one carries. */
    sig_track_info infos[SIG_TRACKS_MAX];
    unsigned ninfos = 0;
    for (unsigned i = 0; i < desc->ntracks; i++) {
        const sfu_track_desc *d = &desc->tracks[i];
        sfu_peer_bind(s->peer, d->mid, job->rq.participant);
        if (ninfos < SIG_TRACKS_MAX) {
            infos[ninfos] = (sig_track_info){ .kind = d->kind };
            g_strlcpy(infos[ninfos].mid, d->mid, sizeof infos[ninfos].mid);
            g_strlcpy(infos[ninfos].codec, sig_relay_codec_name(d->codec), sizeof infos[ninfos].codec);
            for (unsigned j = 0; j < job->ntracks; j++) {   /* "<mid>" or "<mid>.<k>" */
                size_t ml = strlen(job->tracks[j].mid);
                if (strncmp(d->mid, job->tracks[j].mid, ml) == 0 && (!d->mid[ml] || d->mid[ml] == '.'))
                    infos[ninfos].profile_level_id = job->tracks[j].profile_level_id;
            }
            ninfos++;
        }
    }
    g_free(desc);
    sig_registry_set_ready(srv->reg, s, infos, ninfos);
    g_atomic_int_inc(&srv->relay->serving);
    sfu_log(SFU_LOG_INFO, "relay.serving", "node=%s leg=%u tracks=%u", job->rq.node,
            sfu_peer_leg(s->peer), job->ntracks);
    sig_response ok = { .status = 201, .content_type = RELAY_CONTENT_TYPE, .body = body };
    sig_cmd_finish(cmd, &ok);
    g_free(body);
}

/* The reservation made before the post goes with the refusal. */
static void serve_refused(sig_cmd *cmd)
{
    sig_registry_remove(cmd->srv->reg, cmd->s);
}

void sig_relay_serve(sig_server *srv, sig_request *req)
{
    sig_relay *r = srv->relay;
    if (!r) {
        sig_http_respond_text(req, 404, "not found");
        return;
    }
    size_t len;
    const char *body = (const char *)sig_request_body(req, &len);
    serve_job *job = SIG_CMD_NEW(serve_job, srv, req, NULL, serve_on_worker);
    job->cmd.refused = serve_refused;
    char why[160];
    if (sig_relay_request_decode(body ? body : "", body ? len : 0, srv->cfg.cluster.secret,
                                 g_get_real_time() / G_USEC_PER_SEC, &job->rq, why,
                                 sizeof why) != 0) {
        count(&r->refused);
        sfu_log(SFU_LOG_WARN, "relay.refused", "reason=\"%s\"", why);
        sig_cmd_finish_text(&job->cmd, 403, "not a request of a node of this cluster");
        return;
    }
    if (sig_server_draining(srv)) {
        sig_response busy = { .status = 503, .body = "draining\n", .retry_after_s = 1 };
        sig_cmd_finish(&job->cmd, &busy);
        return;
    }
    sig_track_info tracks[SIG_TRACKS_MAX];
    int n = sig_registry_participant_tracks(srv->reg, job->rq.room, job->rq.participant, tracks,
                                            SIG_TRACKS_MAX);
    sig_relay_source src[SIG_TRACKS_MAX];
    for (int i = 0; i < n; i++)
        src[i] = (sig_relay_source){ .kind = tracks[i].kind,
                                     .codec = sig_relay_codec_parse(tracks[i].codec),
                                     .profile_level_id = tracks[i].profile_level_id };
    job->ntracks = n > 0 ? sig_relay_tracks_make(src, (unsigned)n, sig_random_ssrc, NULL,
                                                 job->tracks) : 0;
    if (n < 0 || job->ntracks == 0) {
        sig_cmd_finish_text(&job->cmd, 404, "no such publisher on this node");
        return;
    }
    sig_session_spec spec = { .kind = SIG_SESSION_WHEP, .room = job->rq.room,
                              .watched = job->rq.participant };
    unsigned status = 500;
    const char *reason = "internal error";
    job->cmd.s = sig_registry_create(srv->reg, &spec, &status, &reason);
    if (!job->cmd.s) {
        sig_cmd_finish_text(&job->cmd, status, reason);
        return;
    }
    sig_cmd_post(&job->cmd, job->cmd.s->worker);
}

/* ======================= node B: pulling a leg ======================= */

static void dispatch_waiter(sig_server *srv, waiter *w, const char *local_room, bool lock)
{
    g_strlcpy(w->route.room, local_room, sizeof w->route.room);
    if (lock)
        g_rw_lock_reader_lock(&srv->cfg_lock);
    sig_api_dispatch(srv, w->req, &w->route, &w->who);
    if (lock)
        g_rw_lock_reader_unlock(&srv->cfg_lock);
}

/* Takes the entry out of the table and answers its waiters: 307 to the
 * owner when there is one (the viewer is served there instead), else
 * `status`. */
static void pull_fail(pull *p, unsigned status, const char *reason)
{
    sig_relay *r = p->relay;
    g_mutex_lock(&r->lock);
    g_hash_table_remove(r->pulls, p->key);
    GPtrArray *waiters = p->waiters;
    p->waiters = g_ptr_array_new_with_free_func(g_free);
    g_mutex_unlock(&r->lock);
    for (guint i = 0; i < waiters->len; i++) {
        waiter *w = g_ptr_array_index(waiters, i);
        if (p->owner_url[0]) {
            char *loc = g_strdup_printf("%s/whep/%s/%s", p->owner_url, p->room,
                                        w->route.participant);
            sig_response resp = { .status = 307, .body = "this room is served by another node\n",
                                  .nheaders = 1, .header_names = { "Location" },
                                  .header_values = { loc } };
            sig_cluster_count_redirect(r->srv->cluster);
            sig_http_respond(w->req, &resp);
            g_free(loc);
        } else {
            sig_response resp = { .status = status, .body = reason,
                                  .retry_after_s = status == 503 ? 2 : 0 };
            sig_http_respond(w->req, &resp);
        }
    }
    g_ptr_array_unref(waiters);
    pull_free(p);
    g_atomic_int_add(&r->opening, -1);
}

/* On the leg's worker: undo what the opening made, then fail. */
static void pull_abort_on_worker(pull *p)
{
    sig_server *srv = p->relay->srv;
    sig_session *s = p->session;
    p->session = NULL;
    if (s->peer) {
        sfu_peer_free(s->peer);
        s->peer = NULL;
    }
    sig_registry_remove(srv->reg, s);
    sig_session_unref(srv->reg, s);
    count(&p->relay->open_failed);
    sfu_log(SFU_LOG_WARN, "relay.open_failed", "msg2=\"%s; viewers redirected to the owner\"",
            p->why);
    pull_fail(p, 502, "relay leg failed\n");
}

/* A step of a pull's opening on its leg's worker: the pull outlives it. */
typedef struct pull_cmd {
    sig_cmd cmd;
    pull *p;
} pull_cmd;

static void post_pull(pull *p, void (*run)(sig_cmd *cmd), void (*refused)(sig_cmd *cmd))
{
    pull_cmd *pc = SIG_CMD_NEW(pull_cmd, p->relay->srv, NULL, NULL, run);
    pc->p = p;
    pc->cmd.refused = refused;
    if (refused)
        sig_cmd_post(&pc->cmd, p->session->worker);
    else
        sig_cmd_post_follow(&pc->cmd, p->session->worker);
}

static void pull_start_on_worker(pull *p)
{
    sig_server *srv = p->relay->srv;
    sig_session *s = p->session;
    if (!p->resp) {
        pull_abort_on_worker(p);
        return;
    }
    sfu_srtp_keys keys;
    sfu_leg_desc *desc = g_new0(sfu_leg_desc, 1);
    sig_relay_pull_desc(p->resp->tracks, p->resp->ntracks, sig_random_ssrc(NULL), desc);
    int rc = sig_relay_keys(srv->cfg.cluster.secret, p->rq.nonce, p->resp->nonce, false, &keys);
    if (rc == 0)
        rc = sfu_peer_start_relay(s->peer, p->resp->addr, p->resp->port, &keys, desc, p->why,
                                  sizeof p->why);
    memset(&keys, 0, sizeof keys);
    g_free(desc);
    if (rc != 0) {
        pull_abort_on_worker(p);
        return;
    }
    sig_track_info infos[SIG_TRACKS_MAX];
    sig_registry_set_ready(srv->reg, s, infos,
                           track_infos(p->resp->tracks, p->resp->ntracks, infos));
    g_atomic_int_inc(&p->relay->pulling);
    count(&p->relay->opened);
    sfu_log(SFU_LOG_INFO, "relay.pulling", "node=%s leg=%u tracks=%u", p->resp->node,
            sfu_peer_leg(s->peer), p->resp->ntracks);
    g_free(p->resp);
    p->resp = NULL;
    if (p->span)    /* the room's sessions see an ordinary participant */
        sig_room_announce_join_later(srv, s);
    sig_relay *r = p->relay;
    g_mutex_lock(&r->lock);
    p->ready = true;
    bool closing = p->closing;
    GPtrArray *waiters = p->waiters;
    p->waiters = g_ptr_array_new_with_free_func(g_free);
    g_mutex_unlock(&r->lock);
    for (guint i = 0; i < waiters->len; i++)
        dispatch_waiter(srv, g_ptr_array_index(waiters, i), p->local_room, true);
    g_ptr_array_unref(waiters);
    g_atomic_int_add(&r->opening, -1);
    if (closing) {      /* the span no longer wants it: p goes with the session */
        unsigned st;
        sig_session *ref = sig_registry_get(srv->reg, s->id, NULL, false, &st);
        if (ref) {
            sig_session_end(srv, ref, false);
            sig_session_unref(srv->reg, ref);
        }
    }
}

static void run_pull_start(sig_cmd *cmd)
{
    pull *p = ((pull_cmd *)cmd)->p;
    sig_cmd_finish(cmd, NULL);
    pull_start_on_worker(p);
}

/* Its own short-lived thread: the one blocking call to the owner. */
static gpointer pull_call_thread(gpointer arg)
{
    pull *p = arg;
    sig_server *srv = p->relay->srv;
    char *answer = NULL;
    size_t alen = 0;
    unsigned status = 0;
    int rc = sig_relay_http_post(p->owner_url, RELAY_PATH, RELAY_CONTENT_TYPE, p->body,
                                 strlen(p->body), (unsigned)(srv->cfg.cluster.relay_timeout / 1000),
                                 &status, &answer, &alen, p->why, sizeof p->why);
    if (rc == 0 && status != 201) {
        snprintf(p->why, sizeof p->why, "the owner answered %u", status);
    } else if (rc == 0) {
        p->resp = g_new0(sig_relay_response, 1);
        if (sig_relay_response_decode(answer, alen, srv->cfg.cluster.secret, p->rq.nonce,
                                      p->resp, p->why, sizeof p->why) != 0) {
            g_free(p->resp);
            p->resp = NULL;
        }
    }
    g_free(answer);
    /* The owner's answer to admitted work: never refused. */
    post_pull(p, run_pull_start, NULL);
    return NULL;
}

static void pull_open_on_worker(pull *p)
{
    sig_server *srv = p->relay->srv;
    sig_session *s = p->session;
    s->peer = sfu_peer_new_relay(srv->hosts[s->worker], s->room, s->participant, s, p->why,
                                 sizeof p->why);
    if (!s->peer) {
        pull_abort_on_worker(p);
        return;
    }
    sig_relay_request *rq = &p->rq;
    g_strlcpy(rq->node, sig_cluster_node_id(srv->cluster), sizeof rq->node);
    g_strlcpy(rq->room, p->room, sizeof rq->room);
    rq->participant = p->participant;
    sfu_peer_relay_local(s->peer, rq->addr, sizeof rq->addr, &rq->port);
    nonce_new(rq->nonce);
    rq->ts = g_get_real_time() / G_USEC_PER_SEC;
    p->body = sig_relay_request_encode(rq, srv->cfg.cluster.secret);
    if (!p->body) {
        snprintf(p->why, sizeof p->why, "cannot encode the request");
        pull_abort_on_worker(p);
        return;
    }
    g_thread_unref(g_thread_new("relay-open", pull_call_thread, p));
}

static void run_pull_open(sig_cmd *cmd)
{
    pull *p = ((pull_cmd *)cmd)->p;
    sig_cmd_finish(cmd, NULL);
    pull_open_on_worker(p);
}

/* The worker's queue is full: the reservation goes, the waiters get 503
 * (or the redirect to the owner, as for any failed opening). */
static void pull_open_refused(sig_cmd *cmd)
{
    pull *p = ((pull_cmd *)cmd)->p;
    sig_server *srv = p->relay->srv;
    sig_registry_remove(srv->reg, p->session);
    sig_session_unref(srv->reg, p->session);
    p->session = NULL;
    g_strlcpy(p->why, SIG_CMD_BUSY_REASON, sizeof p->why);
    count(&p->relay->open_failed);
    pull_fail(p, 503, SIG_CMD_BUSY_REASON "\n");
}

static void on_pull_resolved(void *user, sig_cluster_verdict v, const char *owner_url)
{
    pull *p = user;
    sig_server *srv = p->relay->srv;
    if (v == SIG_CLUSTER_UNAVAILABLE) {
        sig_cluster_count_unavailable(srv->cluster);
        pull_fail(p, 503, "the cluster directory is unreachable: try again\n");
        return;
    }
    if (v != SIG_CLUSTER_ELSEWHERE) {
        pull_fail(p, 404, "no such room\n");
        return;
    }
    g_strlcpy(p->owner_url, owner_url, sizeof p->owner_url);
    sig_session_spec spec = { .kind = SIG_SESSION_WHIP, .room = p->local_room,
                              .reuse_participant = p->participant,
                              .admitted_elsewhere = p->span,
                              .name = p->span ? p->name : "relay" };
    unsigned status = 500;
    const char *reason = "internal error";
    p->session = sig_registry_create(srv->reg, &spec, &status, &reason);
    if (!p->session) {
        g_strlcpy(p->why, reason, sizeof p->why);
        count(&p->relay->open_failed);
        pull_fail(p, status, reason);
        return;
    }
    post_pull(p, run_pull_open, pull_open_refused);
}

bool sig_relay_whep(sig_server *srv, sig_request *req, const sig_route *route,
                    const sig_api_caller *who)
{
    sig_relay *r = srv->relay;
    uint32_t participant = sig_participant_parse(route->participant);
    if (!r || strlen(route->room) + 1 >= sizeof(((pull *)0)->local_room) || !participant ||
        !sig_request_content_type_is(req, "application/sdp"))
        return false;
    waiter *w = g_new0(waiter, 1);
    w->req = req;
    sig_api_caller_copy(route, who, &w->route, &w->who);
    char key[PULL_KEY_MAX];
    snprintf(key, sizeof key, "~%s/%08x", route->room, participant);
    g_mutex_lock(&r->lock);
    pull *p = g_hash_table_lookup(r->pulls, key);
    if (p && p->ready) {
        char local_room[SIG_ROOM_NAME_MAX + 1];
        g_strlcpy(local_room, p->local_room, sizeof local_room);
        g_mutex_unlock(&r->lock);
        dispatch_waiter(srv, w, local_room, false);    /* the HTTP thread holds cfg_lock */
        g_free(w);
        return true;
    }
    bool fresh = !p;
    if (fresh) {
        p = g_new0(pull, 1);
        p->relay = r;
        g_strlcpy(p->key, key, sizeof p->key);
        g_strlcpy(p->room, route->room, sizeof p->room);
        p->local_room[0] = '~';    /* the length was checked above */
        g_strlcpy(p->local_room + 1, route->room, sizeof p->local_room - 1);
        p->participant = participant;
        p->waiters = g_ptr_array_new_with_free_func(g_free);
        g_hash_table_insert(r->pulls, p->key, p);
    }
    g_ptr_array_add(p->waiters, w);
    if (fresh)
        g_atomic_int_inc(&r->opening);
    g_mutex_unlock(&r->lock);
    if (fresh)
        sig_cluster_resolve(srv->cluster, route->room, false, on_pull_resolved, p);
    return true;
}

/* ======================= endings (session's worker) ======================= */

/* Ready viewers (WHEP) of `participant` in `room` on `worker`, but `except`. */
static GPtrArray *viewers_of(sig_server *srv, unsigned worker, const char *room,
                             uint32_t participant, const sig_session *except)
{
    GPtrArray *all = sig_registry_sessions_on_worker(srv->reg, worker);
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < all->len; i++) {
        sig_session *v = g_ptr_array_index(all, i);
        if (v != except && v->kind == SIG_SESSION_WHEP && v->watched == participant &&
            strcmp(v->room, room) == 0 && v->peer)
            g_ptr_array_add(out, v);
        else
            sig_session_unref(srv->reg, v);
    }
    g_ptr_array_unref(all);
    return out;
}

/* The entry whose leg is `s`, taken out of the table; NULL if none. */
static pull *take_pull(sig_relay *r, const sig_session *s)
{
    char key[PULL_KEY_MAX];
    snprintf(key, sizeof key, "%s/%08x", s->room, s->participant);
    g_mutex_lock(&r->lock);
    pull *p = g_hash_table_lookup(r->pulls, key);
    if (p && p->ready && p->session == s)
        g_hash_table_remove(r->pulls, key);
    else
        p = NULL;
    g_mutex_unlock(&r->lock);
    return p;
}

void sig_relay_session_ending(sig_server *srv, sig_session *s, struct sfu_peer *peer,
                              bool failed)
{
    sig_relay *r = srv->relay;
    if (!r)
        return;
    bool relay_leg = peer && sfu_peer_is_relay(peer);
    if (relay_leg && s->kind == SIG_SESSION_WHEP) {     /* node A: a leg we served */
        g_atomic_int_add(&r->serving, -1);
        sfu_log(SFU_LOG_INFO, "relay.serve_ended", "leg=%u failed=%d", sfu_peer_leg(peer),
                failed);
        return;
    }
    if (relay_leg) {                                    /* node B: a leg we pulled */
        pull *p = take_pull(r, s);
        if (!p)
            return;     /* an opening that failed: pull_abort_on_worker handles it */
        g_atomic_int_add(&r->pulling, -1);
        if (failed)
            count(&r->lost);
        GPtrArray *viewers = viewers_of(srv, s->worker, s->room, s->participant, NULL);
        sfu_log(failed ? SFU_LOG_WARN : SFU_LOG_INFO, "relay.pull_ended",
                "leg=%u failed=%d viewers_ended=%u", sfu_peer_leg(peer), failed, viewers->len);
        for (guint i = 0; i < viewers->len; i++) {
            sig_session *v = g_ptr_array_index(viewers, i);
            sig_session_end(srv, v, true);
            sig_session_unref(srv->reg, v);
        }
        g_ptr_array_unref(viewers);
        sig_session_unref(srv->reg, p->session);
        pull_free(p);
        return;
    }
    if (s->room[0] != '~' || s->kind != SIG_SESSION_WHEP)
        return;
    /* A viewer of a pulled leg left: the last one closes the leg. */
    GPtrArray *others = viewers_of(srv, s->worker, s->room, s->watched, s);
    guint left = others->len;
    for (guint i = 0; i < others->len; i++)
        sig_session_unref(srv->reg, g_ptr_array_index(others, i));
    g_ptr_array_unref(others);
    if (left > 0)
        return;
    char key[PULL_KEY_MAX];
    snprintf(key, sizeof key, "%s/%08x", s->room, s->watched);
    g_mutex_lock(&r->lock);
    pull *p = g_hash_table_lookup(r->pulls, key);
    sig_session *leg = p && p->ready ? p->session : NULL;
    g_mutex_unlock(&r->lock);
    if (leg)
        sig_session_end(srv, leg, false);   /* back here as the leg's ending */
}

/* ======================= rooms spanning nodes (span.h) ======================= */

void sig_relay_span_open(sig_server *srv, const char *room, uint32_t participant,
                         const char *name, const char *origin, const char *origin_url)
{
    sig_relay *r = srv->relay;
    if (!r || !participant || strlen(room) > SIG_NAME_MAX)
        return;
    char key[PULL_KEY_MAX];
    snprintf(key, sizeof key, "%s/%08x", room, participant);
    g_mutex_lock(&r->lock);
    if (g_hash_table_lookup(r->pulls, key)) {
        g_mutex_unlock(&r->lock);
        return;
    }
    pull *p = g_new0(pull, 1);
    p->relay = r;
    p->span = true;
    g_strlcpy(p->key, key, sizeof p->key);
    g_strlcpy(p->room, room, sizeof p->room);
    g_strlcpy(p->local_room, room, sizeof p->local_room);
    g_strlcpy(p->name, name, sizeof p->name);
    g_strlcpy(p->origin, origin, sizeof p->origin);
    p->participant = participant;
    p->waiters = g_ptr_array_new_with_free_func(g_free);
    g_hash_table_insert(r->pulls, p->key, p);
    g_atomic_int_inc(&r->opening);
    g_mutex_unlock(&r->lock);
    sfu_log(SFU_LOG_INFO, "span.pull", "node=%s", origin);
    /* The peer's URL is known: no directory look-up. */
    on_pull_resolved(p, SIG_CLUSTER_ELSEWHERE, origin_url);
}

static void end_on_worker(sig_cmd *cmd)
{
    sig_session_end(cmd->srv, cmd->s, false);   /* back in sig_relay_session_ending */
    sig_cmd_finish(cmd, NULL);
}

void sig_relay_span_close(sig_server *srv, const char *room, uint32_t participant)
{
    sig_relay *r = srv->relay;
    if (!r)
        return;
    char key[PULL_KEY_MAX];
    snprintf(key, sizeof key, "%s/%08x", room, participant);
    sig_session *s = NULL;
    g_mutex_lock(&r->lock);
    pull *p = g_hash_table_lookup(r->pulls, key);
    if (p && p->span && !p->ready) {
        p->closing = true;      /* ended as soon as it is ready */
    } else if (p && p->span) {
        unsigned st;
        s = sig_registry_get(srv->reg, p->session->id, NULL, false, &st);
    }
    g_mutex_unlock(&r->lock);
    if (!s)
        return;
    /* The span's decision, already taken: never refused. */
    sig_cmd_post_follow(sig_cmd_new(sizeof(sig_cmd), srv, NULL, s, end_on_worker), s->worker);
}

GArray *sig_relay_span_pulls(sig_relay *r, const char *room)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(sig_relay_span_pull));
    if (!r)
        return out;
    GHashTableIter it;
    gpointer v;
    g_mutex_lock(&r->lock);
    g_hash_table_iter_init(&it, r->pulls);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const pull *p = v;
        if (!p->span || strcmp(p->local_room, room) != 0)
            continue;
        sig_relay_span_pull sp = { .participant = p->participant, .ready = p->ready };
        g_strlcpy(sp.origin, p->origin, sizeof sp.origin);
        g_array_append_val(out, sp);
    }
    g_mutex_unlock(&r->lock);
    return out;
}
