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
#include "signaling/worker_cmd.h"

/* While a size could not be turned into a layer (the publisher's layers
 * have no measured size yet), the caps are tried again this often. */
#define RECAP_INTERVAL_MS 1000

/* ---- signaling side, under rooms_lock ---- */

static const sig_sub_entry *entry_of(const sig_session *s, uint32_t participant)
{
    for (unsigned i = 0; s->subs && s->subs->video_on && i < s->subs->n; i++)
        if (s->subs->e[i].participant == participant)
            return &s->subs->e[i];
    return NULL;
}

unsigned sig_room_subs_cap_of(const sig_session *s, const char *mid, uint32_t participant,
                              sig_room_cap *out)
{
    const sig_sub_entry *e = entry_of(s, participant);
    if (!e)
        return 0;
    g_strlcpy(out->mid, mid, sizeof out->mid);
    out->e = *e;
    return 1;
}

unsigned sig_room_subs_caps(const sig_session *s, sig_room_cap *out)
{
    unsigned n = 0;
    for (unsigned i = 0; s->reneg && s->subs && s->subs->video_on && i < s->subs->n; i++) {
        const char *mid = sig_reneg_mid_of(s->reneg, s->subs->e[i].participant, SFU_KIND_VIDEO);
        if (mid)
            n += sig_room_subs_cap_of(s, mid, s->subs->e[i].participant, &out[n]);
    }
    return n;
}

typedef struct recap_ctx {
    sig_server *srv;
    sig_session *s;                 /* valid while the source is not destroyed */
} recap_ctx;

/* Main thread: the caps again, as a command to the worker. */
static gboolean recap_fire(gpointer data)
{
    recap_ctx *ctx = data;
    sig_server *srv = ctx->srv;
    g_mutex_lock(&srv->rooms_lock);
    if (g_source_is_destroyed(g_main_current_source())) {   /* the session ended */
        g_mutex_unlock(&srv->rooms_lock);
        return G_SOURCE_REMOVE;
    }
    sig_session *s = ctx->s;
    g_source_unref(s->subs_timer);
    s->subs_timer = NULL;
    sig_room_cap caps[SIG_SUB_MAX];
    unsigned n = sig_room_subs_caps(s, caps);
    if (n > 0) {
        sig_room_media *m = sig_room_media_new(srv, NULL, sig_session_ref(srv->reg, s));
        memcpy(m->caps, caps, n * sizeof *caps);
        m->ncaps = n;
        /* The session's own follow-up, bounded by one per session and second. */
        sig_cmd_post_follow(&m->cmd, s->worker);
    }
    g_mutex_unlock(&srv->rooms_lock);
    return G_SOURCE_REMOVE;
}

void sig_room_subs_want_recap(sig_server *srv, sig_session *s)
{
    if (s->subs_timer || !s->reneg || !s->subs || !s->subs->video_on)
        return;
    GSource *t = g_timeout_source_new(RECAP_INTERVAL_MS);
    recap_ctx *ctx = g_new(recap_ctx, 1);
    *ctx = (recap_ctx){ srv, s };
    g_source_set_callback(t, recap_fire, ctx, g_free);
    g_source_attach(t, g_main_context_default());
    s->subs_timer = t;
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

void sig_room_subs_figures(sig_server *srv, sig_session *s)
{
    if (s->kind != SIG_SESSION_ROOM || !s->reneg)
        return;
    int subscribed = s->subs && s->subs->video_on ? (int)s->subs->n : -1;
    sig_registry_set_subs(srv->reg, s, subscribed, sig_reneg_audio_slot_count(s->reneg));
}

/* ---- worker side ---- */

/* Sets the cap of the entry's m-line; false when its size could not be
 * resolved yet (try again later). */
static bool apply_cap(sig_server *srv, sig_session *s, const sig_room_cap *c)
{
    sfu_room_layer_info li[SFU_MAX_LAYERS];
    unsigned n = sig_layer_publisher_layers(srv, s, c->e.participant, li);
    uint16_t w[SFU_MAX_LAYERS], h[SFU_MAX_LAYERS];
    for (unsigned i = 0; i < n; i++)
        w[i] = li[i].width, h[i] = li[i].height;
    bool unresolved;
    int layer = sig_sub_layer_for(&c->e, w, h, n, &unresolved);
    (void)sfu_peer_set_max_layer(s->peer, c->mid, layer);
    return !unresolved;
}

bool sig_room_subs_apply(sig_server *srv, sig_session *s, const sig_room_cap *caps, unsigned n)
{
    bool pending = false;
    for (unsigned i = 0; s->peer && i < n; i++)
        if (!apply_cap(srv, s, &caps[i]))
            pending = true;
    return pending;
}

void sig_room_subs_collect(sig_server *srv, sig_session *s)
{
    if (s->kind != SIG_SESSION_ROOM || !s->peer)
        return;
    sfu_room_audio_slot slots[SFU_AUDIO_SLOTS_MAX];
    unsigned n = sfu_peer_audio_slots(s->peer, slots, SFU_AUDIO_SLOTS_MAX);
    n = n < SFU_AUDIO_SLOTS_MAX ? n : SFU_AUDIO_SLOTS_MAX;
    sig_slot_info hearing[SFU_AUDIO_SLOTS_MAX];
    for (unsigned i = 0; i < n; i++) {
        g_strlcpy(hearing[i].mid, slots[i].mid, sizeof hearing[i].mid);
        hearing[i].participant = slots[i].carrying ? slots[i].participant : 0;
    }
    sig_registry_set_hearing(srv->reg, s, hearing, n);
}

/* ---- HTTP side ---- */

/* Under rooms_lock: the list into the renegotiation, and the caps it sets
 * or lifts into the command. */
static int subscribe(sig_server *srv, sig_session *s, const sig_sub_req *body, sig_room_media *m)
{
    if (!s->reneg)
        return -SFU_ENOTFOUND;
    uint32_t parts[SIG_SUB_MAX];
    for (unsigned i = 0; i < body->n; i++)
        parts[i] = body->e[i].participant;
    sfu_time now = g_get_monotonic_time();
    bool was_on = s->subs && s->subs->video_on;
    (void)sig_reneg_set_subscriptions(s->reneg, body->video_on, parts, body->n, now);
    if (!s->subs)
        s->subs = g_new(sig_sub_req, 1);
    *s->subs = *body;
    /* Back to everyone's video: the caps subscriptions set are lifted
     * (the layer request, POST /sessions/{id}/layer, may set its own). */
    if (was_on && !body->video_on) {
        sfu_leg_desc *leg = g_new0(sfu_leg_desc, 1);
        sig_reneg_leg(s->reneg, leg);
        for (unsigned i = 0; i < leg->ntracks; i++)
            if (leg->tracks[i].send && leg->tracks[i].kind == SFU_KIND_VIDEO)
                g_strlcpy(m->lifts[m->nlifts++], leg->tracks[i].mid, SFU_MID_MAX);
        g_free(leg);
    }
    m->ncaps = sig_room_subs_caps(s, m->caps);
    sig_room_rearm(s);
    sig_room_subs_figures(srv, s);
    return 0;
}

void sig_room_subscribe(sig_server *srv, sig_request *req, const char *id, const char *sub)
{
    if (!sig_request_content_type_is(req, "application/json")) {
        sig_http_respond_text(req, 415, "a subscription request is application/json");
        return;
    }
    sig_sub_req body;
    size_t len;
    const char *text = (const char *)sig_request_body(req, &len);
    char err[160];
    if (sig_sub_req_parse(text, len, &body, err, sizeof err) != 0) {
        sig_http_respond_text(req, 400, err);
        return;
    }
    sig_session *s = sig_room_session_get(srv, req, id, sub);
    if (!s)
        return;
    sig_room_media *m = sig_room_media_new(srv, req, s);
    if (sig_cmd_admit(&m->cmd, s->worker) != 0)
        return;
    /* Posted under the lock: the worker applies decisions in their order. */
    g_mutex_lock(&srv->rooms_lock);
    m->status = 204;
    if (subscribe(srv, s, &body, m) == 0)
        sig_cmd_post_follow(&m->cmd, s->worker);
    else
        sig_cmd_finish_text(&m->cmd, 404, "no such room session");
    g_mutex_unlock(&srv->rooms_lock);
}
