#include "signaling/session.h"

#include <stdio.h>
#include <string.h>

#include "sfu/net/log.h"
#include "signaling/sdp.h"
#include "signaling/sdp_answer.h"
#include "signaling/events.h"
#include "signaling/ice_servers.h"
#include "signaling/layer_select.h"
#include "signaling/media_events.h"
#include "signaling/room_subs.h"
#include "signaling/random.h"
#include "signaling/relay.h"
#include "signaling/room_session.h"
#include "signaling/sdpfrag.h"
#include "signaling/worker_cmd.h"

/* A create goes back and forth: (1) the worker makes the peer and gathers,
 * (2) the main thread negotiates the SDP, (3) the worker starts the peer
 * and adds its leg, (4) the main thread lists it, announces it to the room
 * and answers. The signaling never runs on the worker; a step that fails
 * undoes the ones before it. */
typedef struct session_job {
    sig_cmd cmd;
    sig_sdp *offer;
    sfu_codec video_codec;          /* WHEP: the publisher's */
    uint32_t h264_profile_level_id;
    /* What the worker's peer gathered, for the answer: */
    char ice_ufrag[257], ice_pwd[257];
    unsigned ncands;
    sig_ice_candidate cands[SFU_ICE_MAX_CANDIDATES];
    unsigned leg;
    bool negotiated;                /* res holds the answer */
    sig_sdp_result res;
    unsigned status;                /* a failure on the worker, answered on the main thread */
    char reason[256];
} session_job;

static void job_deinit(sig_cmd *cmd)
{
    session_job *job = (session_job *)cmd;
    sig_sdp_free(job->offer);
    if (job->negotiated)
        sig_sdp_result_deinit(&job->res);
}

static void to_sdp_candidates(const sfu_ice_candidate *in, unsigned n, sig_ice_candidate *out)
{
    for (unsigned i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        g_strlcpy(out[i].foundation, in[i].foundation, sizeof out[i].foundation);
        out[i].component = 1;
        out[i].transport = in[i].tcp ? SIG_ICE_TCP : SIG_ICE_UDP;
        out[i].priority = in[i].priority;
        g_strlcpy(out[i].address, in[i].addr, sizeof out[i].address);
        out[i].port = in[i].port;
        out[i].type = SIG_ICE_HOST;
        out[i].tcptype = in[i].tcp ? SIG_ICE_TCP_PASSIVE : SIG_ICE_TCP_NONE;
    }
}

unsigned sig_session_local_candidates(sfu_ice *ice, sig_ice_candidate *out)
{
    sfu_ice_candidate host[SFU_ICE_MAX_CANDIDATES];
    unsigned n = sfu_ice_local_candidates(ice, host, SFU_ICE_MAX_CANDIDATES);
    to_sdp_candidates(host, n, out);
    return n;
}

static const char *kind_name(sig_session_kind kind)
{
    return kind == SIG_SESSION_WHIP ? "whip" : kind == SIG_SESSION_WHEP ? "whep" : "room";
}

void sig_session_note_sinks(sig_session *s, const sfu_leg_desc *leg)
{
    s->nsink_mids = 0;
    for (unsigned i = 0; i < leg->ntracks && s->nsink_mids < SIG_SINKS_MAX; i++)
        if (leg->tracks[i].send && leg->tracks[i].kind == SFU_KIND_VIDEO)
            g_strlcpy(s->sink_mids[s->nsink_mids++], leg->tracks[i].mid, SFU_MID_MAX);
}

/* Signaling side (HTTP or main thread): the room's other sessions learn
 * the leave, the session's renegotiation state goes, and it is unlisted. */
static void end_signaling(sig_server *srv, sig_session *s)
{
    g_mutex_lock(&srv->rooms_lock);
    if (s->kind != SIG_SESSION_WHEP)
        sig_room_announce_leave(srv, s);
    sig_room_session_stop(s);
    g_mutex_unlock(&srv->rooms_lock);
    sig_registry_remove(srv->reg, s);
}

/* On the worker: the media goes. The first of DELETE, a failure and the
 * relay's ending to get here does it. */
static void end_media(sig_server *srv, sig_session *s, bool failed, bool goodbye)
{
    sfu_peer *peer = s->peer;
    if (!peer)
        return;
    /* Unset first: the relay's hook may end other sessions, and through
     * them come back here for this one. */
    s->peer = NULL;
    s->nsink_mids = 0;
    sig_relay_session_ending(srv, s, peer, failed);
    if (goodbye)
        sfu_peer_goodbye(peer);
    sfu_peer_free(peer);
}

typedef struct end_ev {
    sig_server *srv;
    char id[SIG_SESSION_ID_LEN + 1];
} end_ev;

/* Main thread: the signaling half of an ending the worker started, unless
 * a DELETE or a failure has the session already. */
static void end_signaling_run(void *arg)
{
    end_ev *e = arg;
    sig_session *s = sig_registry_claim_end(e->srv->reg, e->id);
    if (s) {
        end_signaling(e->srv, s);
        sig_session_unref(e->srv->reg, s);
    }
    g_free(e);
}

void sig_session_end(sig_server *srv, sig_session *s, bool goodbye)
{
    if (!s->peer)
        return;
    sfu_log(SFU_LOG_INFO, "session.ended", "kind=%s leg=%u reason=\"relay leg ended\"",
            kind_name(s->kind), sfu_peer_leg(s->peer));
    end_media(srv, s, false, goodbye);
    end_ev *e = g_new(end_ev, 1);
    e->srv = srv;
    g_strlcpy(e->id, s->id, sizeof e->id);
    sig_media_events_post(srv, end_signaling_run, e);
}

static const char *codec_name(sfu_codec codec)
{
    switch (codec) {
    case SFU_CODEC_OPUS: return "opus";
    case SFU_CODEC_VP8: return "VP8";
    case SFU_CODEC_H264: return "H264";
    default: return "none";
    }
}

/* What GET /rooms shows and what a WHEP viewer's answer must match: the
 * codec, and for H.264 the publisher's profile-level-id from its offer. */
unsigned sig_session_tracks_of(const sfu_leg_desc *leg, const sig_sdp *offer, bool received,
                               sig_track_info *out)
{
    unsigned n = 0;
    for (unsigned i = 0; i < leg->ntracks && n < SIG_TRACKS_MAX; i++) {
        const sfu_track_desc *t = &leg->tracks[i];
        if (received ? !t->recv : !t->send)
            continue;
        g_strlcpy(out[n].mid, t->mid, sizeof out[n].mid);
        out[n].kind = t->kind;
        g_strlcpy(out[n].codec, codec_name(t->codec), sizeof out[n].codec);
        const sig_sdp_media *m = offer ? sig_sdp_find_mid(offer, t->mid) : NULL;
        const sig_sdp_fmt *fmt = m ? sig_sdp_media_fmt(m, t->pt) : NULL;
        out[n].profile_level_id = fmt ? fmt->profile_level_id : 0;
        n++;
    }
    return n;
}

/* 201 with the answer and the headers RFC 9725 4.2 and API.md ask for. */
static void answer_created(session_job *job, const sig_sdp_result *res)
{
    sig_session *s = job->cmd.s;
    char location[64], etag[32], pid[SIG_PARTICIPANT_ID_LEN + 1];
    snprintf(location, sizeof location, "/sessions/%s", s->id);
    snprintf(etag, sizeof etag, "\"%u\"", s->etag);
    sig_participant_format(s->kind == SIG_SESSION_WHEP ? s->watched : s->participant, pid);
    sig_response resp = { .status = 201, .content_type = "application/sdp", .body = res->sdp,
                          .body_len = res->sdp_len };
    unsigned n = 0;
    resp.header_names[n] = "Location", resp.header_values[n++] = location;
    resp.header_names[n] = "ETag", resp.header_values[n++] = etag;
    resp.header_names[n] = "X-Participant-Id", resp.header_values[n++] = pid;
    char events_link[80];
    if (s->kind == SIG_SESSION_ROOM) {
        snprintf(events_link, sizeof events_link, "</sessions/%s/events>; rel=\"events\"", s->id);
        resp.header_names[n] = "Link", resp.header_values[n++] = events_link;
    }
    char subs_link[120];
    if (s->kind == SIG_SESSION_ROOM) {
        snprintf(subs_link, sizeof subs_link, "</sessions/%s/subscriptions>; rel=\"%s\"", s->id,
                 SIG_SUBS_REL);
        resp.header_names[n] = "Link", resp.header_values[n++] = subs_link;
    }
    char layer_link[120];
    if (s->kind != SIG_SESSION_WHIP) {
        /* The WHEP draft's layer selection extension (layer_select.h). */
        snprintf(layer_link, sizeof layer_link, "</sessions/%s/layer>; rel=\"%s\"", s->id,
                 SIG_LAYER_REL);
        resp.header_names[n] = "Link", resp.header_values[n++] = layer_link;
    }
    /* RFC 9725 4.6: STUN and TURN servers, TURN with credentials of its own. */
    sig_ice_links *links = g_new0(sig_ice_links, 1);
    if (sig_ice_servers_links(&job->cmd.srv->cfg, g_get_real_time() / 1000000, pid, links) != 0)
        sfu_log(SFU_LOG_WARN, "config.ice_servers", "msg2=\"ICE server URLs unusable; none sent\"");
    for (unsigned i = 0; i < links->count && n < SIG_HTTP_MAX_HEADERS; i++)
        resp.header_names[n] = "Link", resp.header_values[n++] = links->value[i];
    resp.nheaders = n;
    sig_cmd_finish(&job->cmd, &resp);
    g_free(links);
}

/* Main thread: a create the worker could not carry out; the reservation
 * goes. */
static void create_failed(sig_cmd *cmd)
{
    session_job *job = (session_job *)cmd;
    sig_registry_remove(cmd->srv->reg, cmd->s);
    sig_cmd_finish_text(cmd, job->status, job->reason);
}

/* On the worker: the peer goes, then the main thread answers. */
static void fail_create(session_job *job, unsigned status, const char *reason)
{
    sig_session *s = job->cmd.s;
    if (s->peer) {
        sfu_peer_free(s->peer);
        s->peer = NULL;
    }
    job->status = status;
    g_strlcpy(job->reason, reason, sizeof job->reason);
    sig_cmd_back(&job->cmd, create_failed);
}

/* On the worker, after the signaling side refused the create: the peer
 * goes (the request was answered and the reservation removed). */
static void create_undo_on_worker(sig_cmd *cmd)
{
    sig_session *s = cmd->s;
    if (s->peer) {
        sfu_peer_free(s->peer);
        s->peer = NULL;
    }
    sig_cmd_finish(cmd, NULL);
}

/* Main thread: ends a create the signaling side refused after the worker
 * made the peer. */
static void refuse_create(session_job *job, unsigned status, const char *reason)
{
    sig_session *s = job->cmd.s;
    sig_registry_remove(job->cmd.srv->reg, s);
    sig_cmd_respond_text(&job->cmd, status, reason);
    job->cmd.run = create_undo_on_worker;
    sig_cmd_post_follow(&job->cmd, s->worker);
}

/* The answer, from the offer and what the worker's peer gathered. */
static int negotiate(session_job *job, sig_sdp_result *res, char *err, size_t errlen)
{
    sig_session *s = job->cmd.s;
    char stream_id[SIG_PARTICIPANT_ID_LEN + 1];
    sig_participant_format(s->kind == SIG_SESSION_WHEP ? s->watched : s->participant, stream_id);
    sig_sdp_local local = {
        .fingerprint = sfu_cert_fingerprint_text(job->cmd.srv->cert),
        .ice_ufrag = job->ice_ufrag, .ice_pwd = job->ice_pwd,
        .cands = job->cands, .ncands = job->ncands, .cname = "sfu", .stream_id = stream_id,
        .sess_id = sig_random_ssrc(NULL), .sess_version = 1,
        .pick_ssrc = sig_random_ssrc, .video_codec = job->video_codec,
        .h264_profile_level_id = job->h264_profile_level_id,
        .simulcast = job->cmd.srv->cfg.media.simulcast,
    };
    sig_sdp_mode mode = s->kind == SIG_SESSION_WHEP   ? SIG_SDP_VIEW
                        : s->kind == SIG_SESSION_ROOM ? SIG_SDP_ROOM
                                                      : SIG_SDP_PUBLISH;
    return sig_sdp_answer(job->offer, mode, &local, res, err, errlen);
}

static int start_media(session_job *job, const sig_sdp_result *res, char *err, size_t errlen)
{
    sig_session *s = job->cmd.s;
    sfu_peer_remote remote = {
        .ice_ufrag = res->remote_ice.ufrag, .ice_pwd = res->remote_ice.pwd,
        .dtls_role = res->role == SIG_DTLS_SERVER ? SFU_DTLS_SERVER : SFU_DTLS_CLIENT,
        .fp_algo = res->remote_fingerprint.alg, .fp = res->remote_fingerprint.bytes,
        .fp_len = res->remote_fingerprint.len,
    };
    g_strlcpy(s->remote_ufrag, res->remote_ice.ufrag, sizeof s->remote_ufrag);
    int rc = sfu_peer_start(s->peer, &remote, &res->leg, err, errlen);
    if (rc != 0 || s->kind != SIG_SESSION_WHEP)
        return rc;
    for (unsigned i = 0; i < res->leg.ntracks; i++)
        if (res->leg.tracks[i].send)
            sfu_peer_bind(s->peer, res->leg.tracks[i].mid, s->watched);
    return 0;
}

/* 4. Main thread: the session's renegotiation state (room sessions),
 * listed, announced to the room, answered. */
static void create_finish(sig_cmd *cmd)
{
    session_job *job = (session_job *)cmd;
    sig_server *srv = cmd->srv;
    sig_session *s = cmd->s;
    char err[256];
    g_mutex_lock(&srv->rooms_lock);
    int rc = s->kind == SIG_SESSION_ROOM
                 ? sig_room_session_start(srv, s, job->offer, &job->res, err, sizeof err)
                 : 0;
    if (rc != 0) {
        g_mutex_unlock(&srv->rooms_lock);
        refuse_create(job, 500, err);
        return;
    }
    sig_track_info tracks[SIG_TRACKS_MAX];
    unsigned ntracks =
        sig_session_tracks_of(&job->res.leg, job->offer, s->kind != SIG_SESSION_WHEP, tracks);
    sig_registry_set_ready(srv->reg, s, tracks, ntracks);
    if (s->kind != SIG_SESSION_WHEP)
        sig_room_announce_join(srv, s);
    g_mutex_unlock(&srv->rooms_lock);
    sfu_log(SFU_LOG_INFO, "session.created", "kind=%s leg=%u tracks=%u", kind_name(s->kind),
            job->leg, ntracks);
    answer_created(job, &job->res);     /* ends the command */
}

/* 3. On the worker: the client's ICE and DTLS parameters, the leg into
 * the room, a viewer's sinks bound. */
static void start_on_worker(sig_cmd *cmd)
{
    session_job *job = (session_job *)cmd;
    sig_session *s = cmd->s;
    char err[256];
    int rc = s->peer ? start_media(job, &job->res, err, sizeof err) : -SFU_ENOTFOUND;
    if (rc != 0) {
        if (rc == -SFU_ENOTFOUND)
            g_strlcpy(err, "the session ended", sizeof err);
        fail_create(job, rc == -SFU_EUNSUPPORTED ? 422 : rc == -SFU_ELIMIT ? 503 : 500, err);
        return;
    }
    sig_session_note_sinks(s, &job->res.leg);
    sig_cmd_back(cmd, create_finish);
}

/* 2. Main thread: SDP negotiation, against what the peer gathered. */
static void create_negotiate(sig_cmd *cmd)
{
    session_job *job = (session_job *)cmd;
    sig_server *srv = cmd->srv;
    char err[256];
    int rc = negotiate(job, &job->res, err, sizeof err);
    if (rc != 0) {
        refuse_create(job, rc == -SFU_EUNSUPPORTED ? 422 : rc == -SFU_EMALFORMED ? 400 : 500, err);
        return;
    }
    job->negotiated = true;
    unsigned published = 0;
    for (unsigned i = 0; i < job->res.leg.ntracks; i++)
        published += job->res.leg.tracks[i].recv;
    if (published > srv->cfg.limits.max_tracks_per_session) {
        snprintf(err, sizeof err, "the offer publishes %u tracks; the limit is %u", published,
                 srv->cfg.limits.max_tracks_per_session);
        refuse_create(job, 400, err);
        return;
    }
    cmd->run = start_on_worker;
    sig_cmd_post_follow(cmd, cmd->s->worker);
}

/* 1. On the worker: the peer, its ICE agent gathered (its port, possibly
 * the worker's shared one), its credentials and candidates for the answer. */
static void create_on_worker(sig_cmd *cmd)
{
    session_job *job = (session_job *)cmd;
    sig_server *srv = cmd->srv;
    sig_session *s = cmd->s;
    char err[256];
    s->peer = sfu_peer_new(srv->hosts[s->worker], s->room, s->participant, s, err, sizeof err);
    if (!s->peer) {
        fail_create(job, 503, err);
        return;
    }
    sfu_ice *ice = sfu_peer_ice(s->peer);
    const char *ufrag, *pwd;
    sfu_ice_local_credentials(ice, &ufrag, &pwd);
    g_strlcpy(job->ice_ufrag, ufrag, sizeof job->ice_ufrag);
    g_strlcpy(job->ice_pwd, pwd, sizeof job->ice_pwd);
    job->ncands = sig_session_local_candidates(ice, job->cands);
    job->leg = sfu_peer_leg(s->peer);
    sig_cmd_back(cmd, create_negotiate);
}

/* WHEP: answer with the codec the publisher sends. */
static void watched_codec(sig_server *srv, session_job *job, const char *room, uint32_t watched)
{
    sig_track_info tracks[SIG_TRACKS_MAX];
    int n = sig_registry_participant_tracks(srv->reg, room, watched, tracks, SIG_TRACKS_MAX);
    for (int i = 0; i < n; i++) {
        if (tracks[i].kind != SFU_KIND_VIDEO)
            continue;
        job->video_codec = strcmp(tracks[i].codec, "H264") == 0 ? SFU_CODEC_H264
                           : strcmp(tracks[i].codec, "VP8") == 0 ? SFU_CODEC_VP8
                                                                 : SFU_CODEC_NONE;
        job->h264_profile_level_id = tracks[i].profile_level_id;
        return;
    }
}

/* The reservation made before the post goes with the refusal. */
static void create_refused(sig_cmd *cmd)
{
    sig_registry_remove(cmd->srv->reg, cmd->s);
}

void sig_session_create(sig_server *srv, sig_request *req, const sig_session_spec *spec)
{
    size_t len;
    const char *body = (const char *)sig_request_body(req, &len);
    sig_sdp_limits limits = { .max_bytes = srv->cfg.limits.max_sdp_bytes,
                              .max_media = srv->cfg.limits.max_sdp_mlines };
    char err[256];
    session_job *job = SIG_CMD_NEW(session_job, srv, req, NULL, create_on_worker);
    job->cmd.deinit = job_deinit;
    job->cmd.refused = create_refused;
    if (sig_sdp_parse(body, len, &limits, &job->offer, err, sizeof err) != 0) {
        sig_events_close(spec->events);
        sig_cmd_finish_text(&job->cmd, 400, err);
        return;
    }
    if (spec->kind == SIG_SESSION_WHEP)
        watched_codec(srv, job, spec->room, spec->watched);
    unsigned status = 500;
    const char *reason = "internal error";
    job->cmd.s = sig_registry_create(srv->reg, spec, &status, &reason);
    if (!job->cmd.s) {
        sig_events_close(spec->events);
        sig_cmd_finish_text(&job->cmd, status, reason);
        return;
    }
    sig_cmd_post(&job->cmd, job->cmd.s->worker);
}

static void delete_on_worker(sig_cmd *cmd)
{
    end_media(cmd->srv, cmd->s, false, false);
    sig_cmd_finish_text(cmd, 200, "session ended");
}

static void answer_lookup_failure(sig_request *req, unsigned status)
{
    sig_http_respond_text(req, status, status == 403 ? "this token did not create that session"
                                                     : "no such session");
}

/* The session was marked closing by the look-up: a refused DELETE must not
 * leave it so, or no later DELETE could end it. */
static void delete_refused(sig_cmd *cmd)
{
    sig_registry_reopen(cmd->srv->reg, cmd->s);
}

void sig_session_delete(sig_server *srv, sig_request *req, const char *id, const char *sub)
{
    unsigned status;
    sig_session *s = sig_registry_get(srv->reg, id, sub, true, &status);
    if (!s) {
        answer_lookup_failure(req, status);
        return;
    }
    sig_cmd *cmd = SIG_CMD_NEW(sig_cmd, srv, req, s, delete_on_worker);
    cmd->refused = delete_refused;
    /* Admitted first: once unlisted, the media's ending must not be refused. */
    if (sig_cmd_admit(cmd, s->worker) != 0)
        return;
    end_signaling(srv, s);
    sfu_log(SFU_LOG_INFO, "session.deleted", "kind=%s", kind_name(s->kind));
    sig_cmd_post_follow(cmd, s->worker);
}

static void fail_on_worker(sig_cmd *cmd)
{
    end_media(cmd->srv, cmd->s, true, false);
    sig_cmd_finish(cmd, NULL);
}

void sig_session_fail(sig_server *srv, const char *id, unsigned leg, const char *reason)
{
    sig_session *s = sig_registry_claim_end(srv->reg, id);
    if (!s)
        return;
    sfu_log(SFU_LOG_INFO, "session.ended", "kind=%s leg=%u reason=\"%s\"", kind_name(s->kind),
            leg, reason);
    end_signaling(srv, s);
    /* The failure is the worker's own news: never refused. */
    sig_cmd_post_follow(sig_cmd_new(sizeof(sig_cmd), srv, NULL, s, fail_on_worker), s->worker);
}

typedef struct patch_job {
    sig_cmd cmd;
    sig_sdpfrag frag;
    char if_match[64];              /* "" when absent */
} patch_job;

/* RFC 9725 4.3.2: new credentials mean an ICE restart; answer with ours. */
static void restart_ice(patch_job *job, sfu_ice *ice)
{
    sig_session *s = job->cmd.s;
    if (sfu_ice_restart(ice, NULL, NULL, job->frag.ice.ufrag, job->frag.ice.pwd) != 0) {
        sig_cmd_finish_text(&job->cmd, 400, "ICE restart refused: bad credentials");
        return;
    }
    g_strlcpy(s->remote_ufrag, job->frag.ice.ufrag, sizeof s->remote_ufrag);
    sfu_log(SFU_LOG_INFO, "ice.restart", "kind=%s generations=%u", kind_name(s->kind),
            sfu_ice_generations(ice));
    const char *ufrag, *pwd;
    sfu_ice_local_credentials(ice, &ufrag, &pwd);
    sig_ice_candidate cands[SFU_ICE_MAX_CANDIDATES];
    unsigned n = sig_session_local_candidates(ice, cands);
    char *text = NULL;
    size_t len = 0;
    if (sig_sdpfrag_write_answer(&job->frag, job->frag.mid, ufrag, pwd, cands, n, &text, &len) != 0) {
        sfu_ice_restart_cancel(ice);
        sig_cmd_finish_text(&job->cmd, 500, "cannot write the sdpfrag answer");
        return;
    }
    char etag[32];
    snprintf(etag, sizeof etag, "\"%u\"", sig_registry_bump_etag(job->cmd.srv->reg, s));
    sig_response resp = { .status = 200, .content_type = "application/trickle-ice-sdpfrag",
                          .body = text, .body_len = len, .nheaders = 1,
                          .header_names = { "ETag" }, .header_values = { etag } };
    sig_cmd_finish(&job->cmd, &resp);
    free(text);
}

/* RFC 9110 13.1.1 spells it `If-Match: *`; API.md and some clients quote it. */
static bool if_match_any(const char *v)
{
    return strcmp(v, "*") == 0 || strcmp(v, "\"*\"") == 0;
}

static void patch_on_worker(sig_cmd *cmd)
{
    patch_job *job = (patch_job *)cmd;
    sig_session *s = cmd->s;
    char etag[32];
    snprintf(etag, sizeof etag, "\"%u\"", s->etag);
    bool restart = job->frag.ice.ufrag[0] && strcmp(job->frag.ice.ufrag, s->remote_ufrag) != 0;
    if (!s->peer || !sfu_peer_ice(s->peer)) {   /* gone, or a relay leg: no ICE */
        sig_cmd_finish_text(cmd, 404, "no such session");
    } else if (restart && !job->if_match[0]) {
        sig_cmd_finish_text(cmd, 428, "an ICE restart needs If-Match: \"*\"");
    } else if (restart && !if_match_any(job->if_match) && strcmp(job->if_match, etag) != 0) {
        sig_cmd_finish_text(cmd, 412, "If-Match does not match the ICE session");
    } else if (restart) {
        restart_ice(job, sfu_peer_ice(s->peer));
    } else if (job->if_match[0] && !if_match_any(job->if_match) &&
               strcmp(job->if_match, etag) != 0) {
        sig_cmd_finish_text(cmd, 412, "If-Match does not match the ICE session");
    } else {
        /* Trickled candidates are valid and accepted, and an ICE-lite server
         * needs none of them (see sfu/net/ice.h). */
        sig_cmd_finish(cmd, &(sig_response){ .status = 204 });
    }
}

void sig_session_patch(sig_server *srv, sig_request *req, const char *id, const char *sub)
{
    if (!sig_request_content_type_is(req, "application/trickle-ice-sdpfrag")) {
        sig_http_respond_text(req, 415, "PATCH takes application/trickle-ice-sdpfrag");
        return;
    }
    patch_job *job = SIG_CMD_NEW(patch_job, srv, req, NULL, patch_on_worker);
    size_t len;
    const char *body = (const char *)sig_request_body(req, &len);
    char err[256];
    if (sig_sdpfrag_parse(body, len, srv->cfg.http.max_body_bytes, &job->frag, err, sizeof err) != 0) {
        sig_cmd_finish_text(&job->cmd, 400, err);
        return;
    }
    unsigned status;
    job->cmd.s = sig_registry_get(srv->reg, id, sub, false, &status);
    if (!job->cmd.s) {
        answer_lookup_failure(req, status);
        sig_cmd_finish(&job->cmd, NULL);
        return;
    }
    const char *if_match = sig_request_header(req, "If-Match");
    g_strlcpy(job->if_match, if_match ? if_match : "", sizeof job->if_match);
    sig_cmd_post(&job->cmd, job->cmd.s->worker);
}
