#include "signaling/room_session.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "sfu/net/log.h"
#include "signaling/events.h"
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

static gboolean offer_timer_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    (void)cb;
    sig_session *s = data;
    sfu_time now = g_source_get_time(src);
    const sig_reneg_offer *offer;
    if (sig_reneg_poll_offer(s->reneg, now) && sig_reneg_make_offer(s->reneg, now, &offer) == 0) {
        char *json = offer_json(offer);
        sig_events_set_offer(s->events, json);
        free(json);
    }
    sig_room_rearm(s);
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
    GSource *timer = g_source_new(&offer_timer_funcs, sizeof(GSource));
    g_source_set_callback(timer, NULL, s, NULL);
    g_source_set_ready_time(timer, -1);
    g_source_attach(timer, sfu_worker_context(srv->workers[s->worker]));
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

/* ---- HTTP entry points ---- */

static sig_session *room_session(sig_server *srv, sig_request *req, const char *id,
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
    sig_session *s = room_session(srv, req, id, sub);
    if (!s)
        return;
    char *snapshot = sig_registry_snapshot_json(srv->reg, s);
    sig_events_attach(s->events, req, snapshot);
    free(snapshot);
    sig_session_unref(srv->reg, s);
}

/* An answer or a re-offer, on the session's worker. */
typedef struct sdp_job {
    sig_cmd cmd;
    char *sdp;
    size_t len;
    uint32_t revision;
} sdp_job;

static void sdp_job_deinit(sig_cmd *cmd)
{
    g_free(((sdp_job *)cmd)->sdp);
}

static sdp_job *sdp_job_new(sig_server *srv, sig_request *req, sig_session *s,
                            void (*run)(sig_cmd *cmd))
{
    sdp_job *job = SIG_CMD_NEW(sdp_job, srv, req, s, run);
    job->cmd.deinit = sdp_job_deinit;
    const uint8_t *body = sig_request_body(req, &job->len);
    job->sdp = g_strndup((const char *)body, job->len);
    return job;
}

static void apply(sig_server *srv, sig_session *s, const sig_reneg_result *res)
{
    sfu_peer_update(s->peer, &res->leg);
    for (unsigned i = 0; i < res->nbindings; i++) {
        sfu_peer_bind(s->peer, res->bindings[i].mid, res->bindings[i].participant);
        sig_room_subs_bound(srv, s, res->bindings[i].mid, res->bindings[i].participant);
    }
}

static void answer_on_worker(sig_cmd *cmd)
{
    sdp_job *job = (sdp_job *)cmd;
    sig_session *s = cmd->s;
    char err[256];
    sig_reneg_result res;
    if (!s->peer || !s->reneg) {
        sig_cmd_finish_text(cmd, 404, "no such room session");
        return;
    }
    int rc = sig_reneg_handle_answer(s->reneg, job->revision, job->sdp, job->len, &res, err,
                                     sizeof err);
    if (rc != 0) {
        sig_cmd_respond_text(cmd, sig_reneg_http_status(rc), err);
    } else {
        apply(cmd->srv, s, &res);
        sig_reneg_result_deinit(&res);
        sig_events_set_offer(s->events, NULL);
        sig_cmd_respond(cmd, &(sig_response){ .status = 204 });
    }
    sig_room_rearm(s);   /* changes queued meanwhile make the next offer */
    sig_cmd_finish(cmd, NULL);
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
    sig_session *s = room_session(srv, req, id, sub);
    if (!s)
        return;
    sdp_job *job = sdp_job_new(srv, req, s, answer_on_worker);
    job->revision = (uint32_t)revision;
    sig_cmd_post(&job->cmd, s->worker);
}

static void reoffer_on_worker(sig_cmd *cmd)
{
    sdp_job *job = (sdp_job *)cmd;
    sig_session *s = cmd->s;
    char err[256], ufrag[9], pwd[25];
    sig_random_ice_chars(ufrag, 8);
    sig_random_ice_chars(pwd, 24);
    sig_reneg_ice_creds creds = { .ufrag = ufrag, .pwd = pwd };
    sig_ice_candidate cands[SFU_ICE_MAX_CANDIDATES];
    sig_reneg_result res;
    int rc = !s->peer || !s->reneg ? -SFU_ENOTFOUND : 0;
    /* RFC 8839 4.4.1.1.1: new ice-ufrag/pwd in a re-offer restart ICE. The
     * new generation gets its port first, so the answer announces it. */
    bool restarting = rc == 0 && sig_reneg_is_ice_restart(s->reneg, job->sdp, job->len) == 1;
    if (restarting) {
        sfu_ice *ice = sfu_peer_ice(s->peer);
        if (sfu_ice_restart(ice, ufrag, pwd, NULL, NULL) != 0) {
            rc = -SFU_EINVAL;
            g_strlcpy(err, "ICE restart refused", sizeof err);
        } else {
            creds.ncands = sig_session_local_candidates(ice, cands);
            creds.cands = cands;
        }
    }
    if (rc == 0)
        rc = sig_reneg_handle_client_offer(s->reneg, job->sdp, job->len, &creds, &res, err,
                                           sizeof err);
    if (rc != 0 && restarting && s->peer)
        sfu_ice_restart_cancel(sfu_peer_ice(s->peer));
    if (rc == -SFU_ENOTFOUND) {
        sig_cmd_finish_text(cmd, 404, "no such room session");
    } else if (rc != 0) {
        sig_cmd_finish_text(cmd, sig_reneg_http_status(rc), err);
    } else {
        if (res.ice_restart) {
            sfu_ice *ice = sfu_peer_ice(s->peer);
            if (!restarting)    /* sig_reneg_is_ice_restart said otherwise */
                sfu_ice_restart(ice, ufrag, pwd, NULL, NULL);
            sfu_ice_set_remote_credentials(ice, res.remote_ice.ufrag, res.remote_ice.pwd);
            g_strlcpy(s->remote_ufrag, res.remote_ice.ufrag, sizeof s->remote_ufrag);
            sfu_log(SFU_LOG_INFO, "ice.restart", "kind=room generations=%u",
                    sfu_ice_generations(ice));
        }
        apply(cmd->srv, s, &res);
        update_published(cmd->srv, s, &res.leg);
        char etag[32];
        snprintf(etag, sizeof etag, "\"%u\"", sig_registry_bump_etag(cmd->srv->reg, s));
        sig_response resp = { .status = 200, .content_type = "application/sdp", .body = res.sdp,
                              .body_len = res.sdp_len, .nheaders = 1,
                              .header_names = { "ETag" }, .header_values = { etag } };
        sig_cmd_respond(cmd, &resp);
        sig_reneg_result_deinit(&res);
        sig_room_rearm(s);
        sig_cmd_finish(cmd, NULL);
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
    sig_cmd_post(&sdp_job_new(srv, req, s, reoffer_on_worker)->cmd, s->worker);
}
