#include "signaling/room_session.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "sfu/net/ice.h"
#include "sfu/net/log.h"
#include "sfu/net/peer.h"
#include "signaling/events.h"
#include "signaling/media_events.h"
#include "signaling/random.h"
#include "signaling/reneg.h"
#include "signaling/room_subs.h"
#include "signaling/session.h"
#include "signaling/worker_cmd.h"

#define ROOM_BATCH_DELAY SFU_MS(100)    /* changes this close make one offer */

/* ---- server offers ---- */

static char *offer_json(const sig_reneg_offer *offer)
{
    json_t *tracks = json_object();
    for (unsigned i = 0; i < offer->ntracks; i++) {
        char pid[SIG_PARTICIPANT_ID_LEN + 1];
        uint32_t p = offer->tracks[i].participant;
        if (sfu_is_audio_slot(p)) {
            /* Whoever the room selects: no participant, a slot number. */
            json_object_set_new(tracks, offer->tracks[i].mid,
                                json_pack("{s:s, s:i}", "kind", "audio", "slot",
                                          (int)(p - SFU_AUDIO_SLOT_BASE)));
            continue;
        }
        sig_participant_format(p, pid);
        json_object_set_new(tracks, offer->tracks[i].mid,
                            json_pack("{s:s, s:s}", "participant", pid, "kind",
                                      sig_kind_name(offer->tracks[i].kind)));
    }
    json_t *doc = json_pack("{s:s%, s:I, s:o}", "sdp", offer->sdp, offer->sdp_len, "revision",
                            (json_int_t)offer->revision, "tracks", tracks);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

void sig_room_rearm(sig_session *s)
{
    if (!s->reneg_timer || !s->reneg)
        return;
    sfu_time at = sig_reneg_timeout(s->reneg);
    g_source_set_ready_time(s->reneg_timer, at == SFU_TIME_NEVER ? -1 : at);
}

typedef struct offer_timer {
    GSource src;
    sig_server *srv;
    sig_session *s;                 /* valid while the source is not destroyed */
} offer_timer;

/* Main thread: the batched changes become the next server offer. */
static gboolean offer_timer_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    (void)cb, (void)data;
    offer_timer *t = (offer_timer *)src;
    sig_server *srv = t->srv;
    g_mutex_lock(&srv->rooms_lock);
    if (g_source_is_destroyed(src)) {       /* the session ended meanwhile */
        g_mutex_unlock(&srv->rooms_lock);
        return G_SOURCE_REMOVE;
    }
    sig_session *s = t->s;
    sfu_time now = g_source_get_time(src);
    const sig_reneg_offer *offer;
    if (sig_reneg_poll_offer(s->reneg, now) && sig_reneg_make_offer(s->reneg, now, &offer) == 0) {
        char *json = offer_json(offer);
        sig_events_set_offer(s->events, json);
        free(json);
    }
    sig_room_rearm(s);
    g_mutex_unlock(&srv->rooms_lock);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs offer_timer_funcs = { .dispatch = offer_timer_dispatch };

int sig_room_session_start(sig_server *srv, sig_session *s, const sig_sdp *offer,
                           const sig_sdp_result *answer, char *err, size_t errlen)
{
    sig_reneg_config cfg = {
        .batch_delay = ROOM_BATCH_DELAY,
        .max_mlines = srv->cfg.limits.max_sdp_mlines,
        .limits = { .max_bytes = srv->cfg.limits.max_sdp_bytes,
                    .max_media = srv->cfg.limits.max_sdp_mlines },
        .pick_ssrc = sig_random_ssrc,
        .simulcast = srv->cfg.media.simulcast,
        .audio_slots = srv->cfg.room.audio_slots,
    };
    s->reneg = sig_reneg_new(offer, answer, &cfg);
    if (!s->reneg) {
        snprintf(err, errlen, "cannot prepare renegotiation");
        return -SFU_ENOMEM;
    }
    offer_timer *timer = (offer_timer *)g_source_new(&offer_timer_funcs, sizeof(offer_timer));
    timer->srv = srv;
    timer->s = s;
    g_source_set_ready_time(&timer->src, -1);
    g_source_attach(&timer->src, g_main_context_default());
    s->reneg_timer = timer;
    /* Everyone already in the room goes into the first server offer. */
    sfu_time now = g_get_monotonic_time();
    GArray *members = sig_registry_members(srv->reg, s->room, s);
    for (guint i = 0; i < members->len; i++) {
        const sig_member *m = &g_array_index(members, sig_member, i);
        for (unsigned t = 0; t < m->ntracks; t++)
            sig_reneg_add_track(s->reneg, m->participant, m->kinds[t], now);
    }
    g_array_free(members, TRUE);
    sig_room_rearm(s);
    sig_room_subs_figures(srv, s);
    return 0;
}

void sig_room_session_stop(sig_session *s)
{
    sig_room_subs_stop(s);
    if (s->reneg_timer) {
        g_source_destroy(s->reneg_timer);
        g_source_unref(s->reneg_timer);
        s->reneg_timer = NULL;
    }
    sig_reneg_free(s->reneg);
    s->reneg = NULL;
}

/* ---- fan-out to the other sessions of the room ---- */

static void push_participant(sig_events *ev, const char *type, const sig_session *s)
{
    char pid[SIG_PARTICIPANT_ID_LEN + 1];
    sig_participant_format(s->participant, pid);
    json_t *doc = json_pack("{s:s, s:s}", "participant", pid, "name", s->name);
    char *text = json_dumps(doc, JSON_COMPACT);
    sig_events_push(ev, type, text);
    free(text);
    json_decref(doc);
}

static void push_track(sig_events *ev, const char *type, uint32_t participant, sfu_kind kind)
{
    char json[96], pid[SIG_PARTICIPANT_ID_LEN + 1];
    sig_participant_format(participant, pid);
    snprintf(json, sizeof json, "{\"participant\":\"%s\",\"kind\":\"%s\"}", pid, sig_kind_name(kind));
    sig_events_push(ev, type, json);
}

static void announce(sig_server *srv, sig_session *s, bool joined)
{
    if (s->announced == joined)
        return;
    s->announced = joined;
    sfu_time now = g_get_monotonic_time();
    GPtrArray *others = sig_registry_room_sessions(srv->reg, s->room, s);
    for (guint i = 0; i < others->len; i++) {
        sig_session *o = g_ptr_array_index(others, i);
        push_participant(o->events, joined ? "participant-joined" : "participant-left", s);
        for (unsigned t = 0; t < s->ntracks; t++)
            push_track(o->events, joined ? "track-added" : "track-removed", s->participant,
                       s->tracks[t].kind);
        if (o->reneg) {
            for (unsigned t = 0; joined && t < s->ntracks; t++)
                sig_reneg_add_track(o->reneg, s->participant, s->tracks[t].kind, now);
            if (!joined)
                sig_reneg_remove_participant(o->reneg, s->participant, now);
            sig_room_rearm(o);
        }
        sig_session_unref(srv->reg, o);
    }
    g_ptr_array_free(others, TRUE);
}

void sig_room_announce_join(sig_server *srv, sig_session *s) { announce(srv, s, true); }

typedef struct join_ev {
    sig_server *srv;
    char id[SIG_SESSION_ID_LEN + 1];
} join_ev;

/* Main thread: the join, if the session is still listed (its ending, queued
 * behind, then announces the leave). */
static void join_run(void *arg)
{
    join_ev *e = arg;
    unsigned status;
    sig_session *s = sig_registry_get(e->srv->reg, e->id, NULL, false, &status);
    if (s) {
        g_mutex_lock(&e->srv->rooms_lock);
        sig_room_announce_join(e->srv, s);
        g_mutex_unlock(&e->srv->rooms_lock);
        sig_session_unref(e->srv->reg, s);
    }
    g_free(e);
}

void sig_room_announce_join_later(sig_server *srv, const sig_session *s)
{
    join_ev *e = g_new(join_ev, 1);
    e->srv = srv;
    g_strlcpy(e->id, s->id, sizeof e->id);
    sig_media_events_post(srv, join_run, e);
}

static unsigned count_kind(const sig_track_info *t, unsigned n, sfu_kind kind)
{
    unsigned c = 0;
    for (unsigned i = 0; i < n; i++)
        c += t[i].kind == kind;
    return c;
}

/* A re-offer may start or stop sending (camera turned on mid-call): the
 * registry and the room's other sessions learn the difference. */
static void update_published(sig_server *srv, sig_session *s, const sfu_leg_desc *leg)
{
    sig_track_info now_tracks[SIG_TRACKS_MAX];
    unsigned n = sig_session_tracks_of(leg, NULL, true, now_tracks);
    int delta[2];
    for (int k = 0; k < 2; k++)
        delta[k] = (int)count_kind(now_tracks, n, (sfu_kind)k) -
                   (int)count_kind(s->tracks, s->ntracks, (sfu_kind)k);
    sig_registry_set_ready(srv->reg, s, now_tracks, n);
    if (delta[0] == 0 && delta[1] == 0)
        return;
    sfu_time now = g_get_monotonic_time();
    GPtrArray *others = sig_registry_room_sessions(srv->reg, s->room, s);
    for (guint i = 0; i < others->len; i++) {
        sig_session *o = g_ptr_array_index(others, i);
        for (int k = 0; k < 2; k++) {
            for (int d = delta[k]; d > 0; d--) {
                push_track(o->events, "track-added", s->participant, (sfu_kind)k);
                if (o->reneg)
                    sig_reneg_add_track(o->reneg, s->participant, (sfu_kind)k, now);
            }
            for (int d = delta[k]; d < 0; d++) {
                push_track(o->events, "track-removed", s->participant, (sfu_kind)k);
                if (o->reneg)
                    sig_reneg_remove_track(o->reneg, s->participant, (sfu_kind)k, now);
            }
        }
        sig_room_rearm(o);
        sig_session_unref(srv->reg, o);
    }
    g_ptr_array_free(others, TRUE);
}
void sig_room_announce_leave(sig_server *srv, sig_session *s) { announce(srv, s, false); }

void sig_room_on_active_speaker(void *owner, const char *room, uint32_t participant)
{
    sig_server *srv = owner;
    char json[64], pid[SIG_PARTICIPANT_ID_LEN + 1];
    sig_participant_format(participant, pid);
    snprintf(json, sizeof json, "{\"participant\":\"%s\"}", pid);
    sig_registry_set_speaker(srv->reg, room, participant);
    GPtrArray *sessions = sig_registry_room_sessions(srv->reg, room, NULL);
    for (guint i = 0; i < sessions->len; i++) {
        sig_session *o = g_ptr_array_index(sessions, i);
        sig_events_push(o->events, "active-speaker", json);
        sig_session_unref(srv->reg, o);
    }
    g_ptr_array_free(sessions, TRUE);
}

static void keepalive_one(sig_events *ev, void *user)
{
    sig_events_keepalive(ev, *(const sfu_time *)user);
}

void sig_room_keepalive(sig_server *srv)
{
    sfu_time now = g_get_monotonic_time();
    sig_registry_foreach_events(srv->reg, keepalive_one, &now);
}

/* ---- media changes, applied on the session's worker ---- */

static void media_on_worker(sig_cmd *cmd);

static void media_deinit(sig_cmd *cmd)
{
    sig_room_media *m = (sig_room_media *)cmd;
    g_free(m->leg);
    g_free(m->body);
}

sig_room_media *sig_room_media_new(sig_server *srv, sig_request *req, sig_session *s)
{
    sig_room_media *m = SIG_CMD_NEW(sig_room_media, srv, req, s, media_on_worker);
    m->cmd.deinit = media_deinit;
    return m;
}

static void media_respond(sig_room_media *m)
{
    if (m->status == 0)
        return;
    sig_response resp = { .status = m->status, .content_type = m->content_type,
                          .body = m->body, .body_len = m->body_len };
    if (m->etag[0]) {
        resp.nheaders = 1;
        resp.header_names[0] = "ETag";
        resp.header_values[0] = m->etag;
    }
    sig_cmd_respond(&m->cmd, &resp);
}

/* Main thread: a cap came back unresolved; the re-cap timer tries again. */
static void media_back(sig_cmd *cmd)
{
    sig_server *srv = cmd->srv;
    g_mutex_lock(&srv->rooms_lock);
    sig_room_subs_want_recap(srv, cmd->s);
    g_mutex_unlock(&srv->rooms_lock);
    sig_cmd_finish(cmd, NULL);
}

static void media_on_worker(sig_cmd *cmd)
{
    sig_room_media *m = (sig_room_media *)cmd;
    sig_session *s = cmd->s;
    if (!s->peer) {                 /* ended meanwhile */
        sig_cmd_finish_text(cmd, 404, "no such room session");
        return;
    }
    sfu_ice *ice = sfu_peer_ice(s->peer);
    if (m->restart_ice && ice)
        (void)sfu_ice_restart(ice, m->ufrag, m->pwd, NULL, NULL);
    if (m->set_remote && ice) {
        sfu_ice_set_remote_credentials(ice, m->remote_ufrag, m->remote_pwd);
        g_strlcpy(s->remote_ufrag, m->remote_ufrag, sizeof s->remote_ufrag);
        sfu_log(SFU_LOG_INFO, "ice.restart", "kind=room generations=%u",
                sfu_ice_generations(ice));
    }
    if (m->leg) {
        sfu_peer_update(s->peer, m->leg);
        sig_session_note_sinks(s, m->leg);
    }
    for (unsigned i = 0; i < m->nbindings; i++)
        sfu_peer_bind(s->peer, m->bindings[i].mid, m->bindings[i].participant);
    for (unsigned i = 0; i < m->nlifts; i++)
        (void)sfu_peer_set_max_layer(s->peer, m->lifts[i], -1);
    bool pending = sig_room_subs_apply(cmd->srv, s, m->caps, m->ncaps);
    media_respond(m);
    if (pending)
        sig_cmd_back(cmd, media_back);
    else
        sig_cmd_finish(cmd, NULL);
}

/* The result's leg and bindings, and the caps the subscription puts on
 * the m-lines bound now. Under rooms_lock. */
static void take_result(const sig_session *s, const sig_reneg_result *res, sig_room_media *m)
{
    m->leg = g_new(sfu_leg_desc, 1);
    memcpy(m->leg, &res->leg, sizeof *m->leg);
    m->nbindings = res->nbindings;
    memcpy(m->bindings, res->bindings, res->nbindings * sizeof *res->bindings);
    for (unsigned i = 0; i < res->nbindings; i++)
        m->ncaps += sig_room_subs_cap_of(s, res->bindings[i].mid, res->bindings[i].participant,
                                         &m->caps[m->ncaps]);
}

/* ---- HTTP entry points ---- */

sig_session *sig_room_session_get(sig_server *srv, sig_request *req, const char *id,
                                  const char *sub)
{
    unsigned status;
    sig_session *s = sig_registry_get(srv->reg, id, sub, false, &status);
    if (s && s->kind != SIG_SESSION_ROOM) {
        sig_session_unref(srv->reg, s);
        s = NULL;
        status = 404;
    }
    if (!s)
        sig_http_respond_text(req, status, status == 403 ? "this token did not create that session"
                                                         : "no such room session");
    return s;
}

void sig_room_events(sig_server *srv, sig_request *req, const char *id, const char *sub)
{
    sig_session *s = sig_room_session_get(srv, req, id, sub);
    if (!s)
        return;
    char *snapshot = sig_registry_snapshot_json(srv->reg, s);
    sig_events_attach(s->events, req, snapshot);
    free(snapshot);
    sig_session_unref(srv->reg, s);
}

/* Under rooms_lock: the answer commits; its media changes go into `m`. */
static int take_answer(sig_server *srv, sig_session *s, uint32_t revision, const char *sdp,
                       size_t len, sig_room_media *m, char *err, size_t errlen)
{
    if (!s->reneg)
        return -SFU_ENOTFOUND;
    sig_reneg_result res;
    int rc = sig_reneg_handle_answer(s->reneg, revision, sdp, len, &res, err, errlen);
    if (rc == 0) {
        take_result(s, &res, m);
        sig_reneg_result_deinit(&res);
        sig_events_set_offer(s->events, NULL);
        sig_room_subs_figures(srv, s);
    }
    sig_room_rearm(s);   /* changes queued meanwhile make the next offer */
    return rc;
}

void sig_room_answer(sig_server *srv, sig_request *req, const char *id, const char *sub,
                     bool has_revision, uint64_t revision)
{
    if (!sig_request_content_type_is(req, "application/sdp")) {
        sig_http_respond_text(req, 415, "the answer must be application/sdp");
        return;
    }
    if (!has_revision || revision > UINT32_MAX) {
        sig_http_respond_text(req, has_revision ? 409 : 400,
                              has_revision ? "no such offer revision" : "revision is required");
        return;
    }
    sig_session *s = sig_room_session_get(srv, req, id, sub);
    if (!s)
        return;
    sig_room_media *m = sig_room_media_new(srv, req, s);
    if (sig_cmd_admit(&m->cmd, s->worker) != 0)
        return;
    size_t len;
    const char *sdp = (const char *)sig_request_body(req, &len);
    char err[256];
    /* Posted under the lock: the worker applies decisions in their order. */
    g_mutex_lock(&srv->rooms_lock);
    int rc = take_answer(srv, s, (uint32_t)revision, sdp, len, m, err, sizeof err);
    if (rc == 0) {
        m->status = 204;
        sig_cmd_post_follow(&m->cmd, s->worker);
    } else if (rc == -SFU_ENOTFOUND) {
        sig_cmd_finish_text(&m->cmd, 404, "no such room session");
    } else {
        sig_cmd_finish_text(&m->cmd, sig_reneg_http_status(rc), err);
    }
    g_mutex_unlock(&srv->rooms_lock);
}

/* A client re-offer. With an ICE restart the worker makes the new
 * generation first (its port and candidates go into the answer), then the
 * signaling side negotiates; otherwise the signaling side does at once. */
typedef struct reoffer_job {
    sig_cmd cmd;
    char *sdp;
    size_t len;
    char ufrag[9], pwd[25];         /* the server's, should the client restart ICE */
    bool restarting;                /* the worker made the new generation */
    unsigned ncands;
    sig_ice_candidate cands[SFU_ICE_MAX_CANDIDATES];
    unsigned status;                /* a failed negotiation's, after the cancel */
    char reason[256];
} reoffer_job;

static void reoffer_deinit(sig_cmd *cmd)
{
    g_free(((reoffer_job *)cmd)->sdp);
}

/* On the worker: the restart's negotiation failed, its generation goes. */
static void restart_cancel_on_worker(sig_cmd *cmd)
{
    reoffer_job *job = (reoffer_job *)cmd;
    sfu_ice *ice = cmd->s->peer ? sfu_peer_ice(cmd->s->peer) : NULL;
    if (ice)
        sfu_ice_restart_cancel(ice);
    sig_cmd_finish_text(cmd, job->status, job->reason);
}

/* Signaling side: the re-offer against the session's slots. On success the
 * media changes and the answer go to the worker as one command. */
static void reoffer_negotiate(reoffer_job *job)
{
    sig_server *srv = job->cmd.srv;
    sig_session *s = job->cmd.s;
    sig_reneg_ice_creds creds = { .ufrag = job->ufrag, .pwd = job->pwd, .cands = job->cands,
                                  .ncands = job->ncands };
    sig_reneg_result res;
    char err[256];
    g_mutex_lock(&srv->rooms_lock);
    int rc = s->reneg ? sig_reneg_handle_client_offer(s->reneg, job->sdp, job->len, &creds, &res,
                                                      err, sizeof err)
                      : -SFU_ENOTFOUND;
    if (rc != 0) {
        job->status = rc == -SFU_ENOTFOUND ? 404 : sig_reneg_http_status(rc);
        g_strlcpy(job->reason, rc == -SFU_ENOTFOUND ? "no such room session" : err,
                  sizeof job->reason);
        if (job->restarting) {
            job->cmd.run = restart_cancel_on_worker;
            sig_cmd_post_follow(&job->cmd, s->worker);
        } else {
            sig_cmd_finish_text(&job->cmd, job->status, job->reason);
        }
        g_mutex_unlock(&srv->rooms_lock);
        return;
    }
    sig_room_media *m = sig_room_media_new(srv, job->cmd.req, s);
    job->cmd.req = NULL;            /* handed over with the session reference */
    job->cmd.s = NULL;
    take_result(s, &res, m);
    if (res.ice_restart) {
        m->restart_ice = !job->restarting;  /* sig_reneg_is_ice_restart said otherwise */
        g_strlcpy(m->ufrag, job->ufrag, sizeof m->ufrag);
        g_strlcpy(m->pwd, job->pwd, sizeof m->pwd);
        m->set_remote = true;
        g_strlcpy(m->remote_ufrag, res.remote_ice.ufrag, sizeof m->remote_ufrag);
        g_strlcpy(m->remote_pwd, res.remote_ice.pwd, sizeof m->remote_pwd);
    }
    update_published(srv, s, &res.leg);
    snprintf(m->etag, sizeof m->etag, "\"%u\"", sig_registry_bump_etag(srv->reg, s));
    m->status = 200;
    m->content_type = "application/sdp";
    m->body = g_strndup(res.sdp, res.sdp_len);
    m->body_len = res.sdp_len;
    sig_reneg_result_deinit(&res);
    sig_room_rearm(s);
    sig_room_subs_figures(srv, s);
    sig_cmd_post_follow(&m->cmd, s->worker);
    g_mutex_unlock(&srv->rooms_lock);
    sig_cmd_finish(&job->cmd, NULL);
}

static void reoffer_back(sig_cmd *cmd)
{
    reoffer_negotiate((reoffer_job *)cmd);
}

/* On the worker. RFC 8839 4.4.1.1.1: new ice-ufrag/pwd in a re-offer
 * restart ICE. The new generation gets its port first, so the answer
 * announces it. */
static void restart_on_worker(sig_cmd *cmd)
{
    reoffer_job *job = (reoffer_job *)cmd;
    sfu_ice *ice = cmd->s->peer ? sfu_peer_ice(cmd->s->peer) : NULL;
    if (!ice) {
        sig_cmd_finish_text(cmd, 404, "no such room session");
    } else if (sfu_ice_restart(ice, job->ufrag, job->pwd, NULL, NULL) != 0) {
        sig_cmd_finish_text(cmd, sig_reneg_http_status(-SFU_EINVAL), "ICE restart refused");
    } else {
        job->restarting = true;
        job->ncands = sig_session_local_candidates(ice, job->cands);
        sig_cmd_back(cmd, reoffer_back);
    }
}

void sig_room_reoffer(sig_server *srv, sig_request *req, const char *id, const char *sub)
{
    unsigned status;
    sig_session *s = sig_registry_get(srv->reg, id, sub, false, &status);
    if (s && s->kind != SIG_SESSION_ROOM) {
        /* RFC 9725 4.3: a WHIP/WHEP session is patched with sdpfrags only. */
        sig_session_unref(srv->reg, s);
        sig_http_respond_text(req, 415, "PATCH takes application/trickle-ice-sdpfrag");
        return;
    }
    if (!s) {
        sig_http_respond_text(req, status, status == 403 ? "this token did not create that session"
                                                         : "no such room session");
        return;
    }
    reoffer_job *job = SIG_CMD_NEW(reoffer_job, srv, req, s, restart_on_worker);
    job->cmd.deinit = reoffer_deinit;
    const uint8_t *body = sig_request_body(req, &job->len);
    job->sdp = g_strndup((const char *)body, job->len);
    sig_random_ice_chars(job->ufrag, 8);
    sig_random_ice_chars(job->pwd, 24);
    g_mutex_lock(&srv->rooms_lock);
    int restart = s->reneg ? sig_reneg_is_ice_restart(s->reneg, job->sdp, job->len)
                           : -SFU_ENOTFOUND;
    g_mutex_unlock(&srv->rooms_lock);
    if (restart == -SFU_ENOTFOUND)
        sig_cmd_finish_text(&job->cmd, 404, "no such room session");
    else if (restart == 1)
        sig_cmd_post(&job->cmd, s->worker);     /* restart_on_worker */
    else if (sig_cmd_admit(&job->cmd, s->worker) == 0)
        reoffer_negotiate(job);
}
