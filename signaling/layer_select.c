/* Layer selection requests and the layer figures of GET /rooms
 * (layer_select.h). The work runs on the session's media worker, where its
 * peer and its publisher's peer live (a room is pinned to one worker). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "sfu/net/host.h"
#include "signaling/http.h"
#include "signaling/layer_req.h"
#include "signaling/layer_select.h"
#include "signaling/registry.h"
#include "signaling/worker_cmd.h"

typedef struct layer_job {
    sig_cmd cmd;
    sig_layer_req body;
} layer_job;

/* The video m-lines the SFU sends on this session, in m-line order. */
static unsigned video_sinks(const sig_session *s, char mids[][SFU_MID_MAX], unsigned cap)
{
    unsigned n = 0;
    if (s->kind == SIG_SESSION_WHEP) {
        for (unsigned i = 0; i < s->ntracks && n < cap; i++)
            if (s->tracks[i].kind == SFU_KIND_VIDEO)
                g_strlcpy(mids[n++], s->tracks[i].mid, SFU_MID_MAX);
    } else if (s->kind == SIG_SESSION_ROOM) {
        /* The worker's own copy: the renegotiation state is the signaling
         * side's (room_session.h). */
        for (unsigned i = 0; i < s->nsink_mids && n < cap; i++)
            g_strlcpy(mids[n++], s->sink_mids[i], SFU_MID_MAX);
    }
    return n;
}

/* The layers of participant `who`'s video in the session's room, lowest
 * quality first; how many (0 when it publishes none now). */
unsigned sig_layer_publisher_layers(sig_server *srv, const sig_session *s, uint32_t who,
                                   sfu_room_layer_info *layers)
{
    unsigned n = 0;
    GPtrArray *all = sig_registry_sessions_on_worker(srv->reg, s->worker);
    for (guint i = 0; i < all->len; i++) {
        sig_session *p = g_ptr_array_index(all, i);
        if (n == 0 && p->kind != SIG_SESSION_WHEP && p->participant == who && p->peer &&
            strcmp(p->room, s->room) == 0) {
            for (unsigned t = 0; t < p->ntracks && n == 0; t++) {
                if (p->tracks[t].kind != SFU_KIND_VIDEO)
                    continue;
                int rc = sfu_peer_track_layers(p->peer, p->tracks[t].mid, layers, SFU_MAX_LAYERS);
                n = rc > 0 ? (unsigned)(rc < SFU_MAX_LAYERS ? rc : SFU_MAX_LAYERS) : 0;
            }
        }
        sig_session_unref(srv->reg, p);
    }
    g_ptr_array_free(all, TRUE);
    return n;
}

static void select_on_worker(sig_cmd *cmd)
{
    layer_job *job = (layer_job *)cmd;
    sig_session *s = cmd->s;
    char mids[SIG_SINKS_MAX][SFU_MID_MAX];
    unsigned nmids = s->peer ? video_sinks(s, mids, SIG_SINKS_MAX) : 0;
    const char *mid = NULL;
    for (unsigned i = 0; i < nmids && !mid; i++)
        if (!job->body.mid[0] || strcmp(job->body.mid, mids[i]) == 0)
            mid = mids[i];
    int layer = job->body.max_layer;
    char err[160];
    if (!s->peer) {
        sig_cmd_finish_text(&job->cmd, 404, "no such session");
    } else if (!mid) {
        sig_cmd_finish_text(&job->cmd, 400, job->body.mid[0]
                                                 ? "mediaId is not a video track this session receives"
                                                 : "this session receives no video");
    } else if (job->body.rid[0] && s->kind != SIG_SESSION_WHEP) {
        sig_cmd_finish_text(&job->cmd, 400, "room sessions give maxLayer, not encodingId");
    } else {
        if (job->body.rid[0]) {
            sfu_room_layer_info layers[SFU_MAX_LAYERS];
            unsigned n = sig_layer_publisher_layers(cmd->srv, s, s->watched, layers);
            for (unsigned i = 0; i < n && layer < 0; i++)
                if (strcmp(layers[i].rid, job->body.rid) == 0)
                    layer = (int)i;
            if (layer < 0) {
                char known[64] = "";
                for (unsigned i = 0; i < n; i++) {
                    if (!layers[i].rid[0])
                        continue;
                    if (known[0])
                        g_strlcat(known, ", ", sizeof known);
                    g_strlcat(known, layers[i].rid, sizeof known);
                }
                snprintf(err, sizeof err, "no encodingId %s on this track (it has: %s)",
                         job->body.rid, known[0] ? known : "none");
                sig_cmd_finish_text(&job->cmd, 400, err);
                goto out;
            }
        }
        int rc = sfu_peer_set_max_layer(s->peer, mid, layer);
        if (rc != 0) {
            snprintf(err, sizeof err, "cannot select that layer: %s", sfu_strerror(rc));
            sig_cmd_finish_text(&job->cmd, rc == -SFU_ENOTFOUND ? 404 : 400, err);
        } else {
            sig_cmd_finish(&job->cmd, &(sig_response){ .status = 204 });
        }
    }
out:;
}

void sig_layer_select(sig_server *srv, sig_request *req, const char *id, const char *sub)
{
    if (!sig_request_content_type_is(req, "application/json")) {
        sig_http_respond_text(req, 415, "a layer request is application/json");
        return;
    }
    layer_job *job = SIG_CMD_NEW(layer_job, srv, req, NULL, select_on_worker);
    size_t len;
    const char *body = (const char *)sig_request_body(req, &len);
    char err[160];
    if (sig_layer_req_parse(body, len, &job->body, err, sizeof err) != 0) {
        sig_cmd_finish_text(&job->cmd, 400, err);
        return;
    }
    unsigned status;
    job->cmd.s = sig_registry_get(srv->reg, id, sub, false, &status);
    if (!job->cmd.s) {
        sig_cmd_finish_text(&job->cmd, status, status == 403 ? "this token did not create that session"
                                                             : "no such session");
        return;
    }
    if (job->cmd.s->kind == SIG_SESSION_WHIP) {
        sig_cmd_finish_text(&job->cmd, 400, "a WHIP session receives no video");
        return;
    }
    sig_cmd_post(&job->cmd, job->cmd.s->worker);
}

void sig_layer_collect(sig_server *srv, sig_session *s)
{
    if (!s->peer)
        return;
    for (unsigned t = 0; s->kind != SIG_SESSION_WHEP && t < s->ntracks; t++) {
        if (s->tracks[t].kind != SFU_KIND_VIDEO)
            continue;
        sfu_room_layer_info li[SFU_MAX_LAYERS];
        int rc = sfu_peer_track_layers(s->peer, s->tracks[t].mid, li, SFU_MAX_LAYERS);
        unsigned n = rc > 0 ? (unsigned)(rc < SFU_MAX_LAYERS ? rc : SFU_MAX_LAYERS) : 0;
        sig_layer_info out[SFU_MAX_LAYERS];
        for (unsigned i = 0; i < n; i++) {
            g_strlcpy(out[i].rid, li[i].rid, sizeof out[i].rid);
            out[i].width = li[i].width;
            out[i].height = li[i].height;
            out[i].bitrate_bps = li[i].bitrate_bps;
            out[i].active = li[i].active;
        }
        sig_registry_set_layers(srv->reg, s, t, out, n);
    }
    char mids[SIG_SINKS_MAX][SFU_MID_MAX];
    unsigned nmids = video_sinks(s, mids, SIG_SINKS_MAX), n = 0;
    sig_sink_info sinks[SIG_SINKS_MAX];
    for (unsigned i = 0; i < nmids; i++) {
        sfu_room_sink_layer k;
        if (sfu_peer_sink_layer(s->peer, mids[i], &k) != 0)
            continue;
        sinks[n] = (sig_sink_info){ .nlayers = k.nlayers, .current = k.current,
                                    .target = k.target, .max = k.max, .limit_bps = k.limit_bps,
                                    .max_tid = k.max_tid, .switches = k.switches };
        g_strlcpy(sinks[n].mid, mids[i], sizeof sinks[n].mid);
        n++;
    }
    sig_registry_set_sinks(srv->reg, s, sinks, n);
}
