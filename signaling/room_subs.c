/* Subscriptions of room sessions (room_subs.h). */
#include "signaling/room_subs.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "sfu/net/host.h"
#include "sfu/net/peer.h"
#include "signaling/http.h"
#include "signaling/layer_select.h"
#include "signaling/registry.h"
#include "signaling/reneg.h"
#include "signaling/room_session.h"
#include "signaling/sub_req.h"
#include "signaling/worker_cmd.h"

/* While a size could not be turned into a layer (the publisher's layers
 * have no measured size yet), the caps are tried again this often. */
#define RECAP_INTERVAL_MS 1000

typedef struct subs_job {
    sig_cmd cmd;
    sig_sub_req body;
} subs_job;

typedef struct recap_ctx {
    sig_server *srv;
    sig_session *s;
} recap_ctx;

static const sig_sub_entry *entry_of(const sig_session *s, uint32_t participant)
{
    for (unsigned i = 0; s->subs && s->subs->video_on && i < s->subs->n; i++)
        if (s->subs->e[i].participant == participant)
            return &s->subs->e[i];
    return NULL;
}

/* Sets the cap of `mid` from the entry; false when its size could not be
 * resolved yet (try again later). */
static bool apply_cap(sig_server *srv, sig_session *s, const char *mid, const sig_sub_entry *e)
{
    sfu_room_layer_info li[SFU_MAX_LAYERS];
    unsigned n = sig_layer_publisher_layers(srv, s, e->participant, li);
    uint16_t w[SFU_MAX_LAYERS], h[SFU_MAX_LAYERS];
    for (unsigned i = 0; i < n; i++)
        w[i] = li[i].width, h[i] = li[i].height;
    bool unresolved;
    int layer = sig_sub_layer_for(e, w, h, n, &unresolved);
    (void)sfu_peer_set_max_layer(s->peer, mid, layer);
    return !unresolved;
}

static gboolean recap_tick(gpointer data);

/* Every subscribed participant's m-line gets its cap; a timer comes back
 * while some size is unresolved. */
static void apply_caps(sig_server *srv, sig_session *s)
{
    bool pending = false;
    for (unsigned i = 0; s->peer && s->reneg && s->subs && s->subs->video_on && i < s->subs->n; i++) {
        const char *mid = sig_reneg_mid_of(s->reneg, s->subs->e[i].participant, SFU_KIND_VIDEO);
        if (mid && !apply_cap(srv, s, mid, &s->subs->e[i]))
            pending = true;
    }
    if (pending && !s->subs_timer && s->peer) {
        GSource *t = g_timeout_source_new(RECAP_INTERVAL_MS);
        recap_ctx *ctx = g_new(recap_ctx, 1);
        *ctx = (recap_ctx){ srv, s };
        g_source_set_callback(t, recap_tick, ctx, g_free);
        g_source_attach(t, sfu_worker_context(srv->workers[s->worker]));
        s->subs_timer = t;
    } else if (!pending && s->subs_timer) {
        g_source_destroy(s->subs_timer);
        g_source_unref(s->subs_timer);
        s->subs_timer = NULL;
    }
}

static gboolean recap_tick(gpointer data)
{
    recap_ctx *ctx = data;
    sig_session *s = ctx->s;
    /* apply_caps destroys this source when nothing is pending any more; the
     * return value is then ignored. */
    apply_caps(ctx->srv, s);
    return G_SOURCE_CONTINUE;
}

void sig_room_subs_bound(sig_server *srv, sig_session *s, const char *mid, uint32_t participant)
{
    const sig_sub_entry *e = entry_of(s, participant);
    if (!e || !s->peer)
        return;
    if (!apply_cap(srv, s, mid, e))
        apply_caps(srv, s);     /* starts the timer */
}

void sig_room_subs_stop(sig_session *s)
{
    if (s->subs_timer) {
        g_source_destroy(s->subs_timer);
        g_source_unref(s->subs_timer);
        s->subs_timer = NULL;
    }
    g_free(s->subs);
    s->subs = NULL;
}

void sig_room_subs_collect(sig_server *srv, sig_session *s)
{
    if (s->kind != SIG_SESSION_ROOM || !s->reneg)
        return;
    int subscribed = s->subs && s->subs->video_on ? (int)s->subs->n : -1;
    sfu_room_audio_slot slots[SFU_AUDIO_SLOTS_MAX];
    unsigned n = s->peer ? sfu_peer_audio_slots(s->peer, slots, SFU_AUDIO_SLOTS_MAX) : 0;
    n = n < SFU_AUDIO_SLOTS_MAX ? n : SFU_AUDIO_SLOTS_MAX;
    sig_slot_info hearing[SFU_AUDIO_SLOTS_MAX];
    for (unsigned i = 0; i < n; i++) {
        g_strlcpy(hearing[i].mid, slots[i].mid, sizeof hearing[i].mid);
        hearing[i].participant = slots[i].carrying ? slots[i].participant : 0;
    }
    sig_registry_set_subs(srv->reg, s, subscribed, sig_reneg_audio_slot_count(s->reneg), hearing,
                          n);
}

static void subscribe_on_worker(sig_cmd *cmd)
{
    subs_job *job = (subs_job *)cmd;
    sig_session *s = cmd->s;
    if (!s->peer || !s->reneg) {
        sig_cmd_finish_text(cmd, 404, "no such room session");
    } else {
        uint32_t parts[SIG_SUB_MAX];
        for (unsigned i = 0; i < job->body.n; i++)
            parts[i] = job->body.e[i].participant;
        sfu_time now = g_get_monotonic_time();
        bool was_on = s->subs && s->subs->video_on;
        (void)sig_reneg_set_subscriptions(s->reneg, job->body.video_on, parts, job->body.n, now);
        if (!s->subs)
            s->subs = g_new(sig_sub_req, 1);
        *s->subs = job->body;
        /* Back to everyone's video: the caps subscriptions set are lifted
         * (the layer request, POST /sessions/{id}/layer, may set its own). */
        sfu_leg_desc *leg = was_on && !job->body.video_on ? g_new0(sfu_leg_desc, 1) : NULL;
        if (leg) {
            sig_reneg_leg(s->reneg, leg);
            for (unsigned i = 0; i < leg->ntracks; i++)
                if (leg->tracks[i].send && leg->tracks[i].kind == SFU_KIND_VIDEO)
                    (void)sfu_peer_set_max_layer(s->peer, leg->tracks[i].mid, -1);
            g_free(leg);
        }
        apply_caps(cmd->srv, s);
        sig_room_rearm(s);
        sig_room_subs_collect(cmd->srv, s);
        sig_cmd_finish(cmd, &(sig_response){ .status = 204 });
    }
}

void sig_room_subscribe(sig_server *srv, sig_request *req, const char *id, const char *sub)
{
    if (!sig_request_content_type_is(req, "application/json")) {
        sig_http_respond_text(req, 415, "a subscription request is application/json");
        return;
    }
    subs_job *job = SIG_CMD_NEW(subs_job, srv, req, NULL, subscribe_on_worker);
    size_t len;
    const char *body = (const char *)sig_request_body(req, &len);
    char err[160];
    if (sig_sub_req_parse(body, len, &job->body, err, sizeof err) != 0) {
        sig_cmd_finish_text(&job->cmd, 400, err);
        return;
    }
    unsigned status;
    job->cmd.s = sig_registry_get(srv->reg, id, sub, false, &status);
    if (job->cmd.s && job->cmd.s->kind != SIG_SESSION_ROOM) {
        sig_session_unref(srv->reg, job->cmd.s);
        job->cmd.s = NULL;
        status = 404;
    }
    if (!job->cmd.s) {
        sig_cmd_finish_text(&job->cmd, status, status == 403 ? "this token did not create that session"
                                                             : "no such room session");
        return;
    }
    sig_cmd_post(&job->cmd, job->cmd.s->worker);
}
