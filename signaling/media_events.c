#include "signaling/media_events.h"

#include <glib-unix.h>
#include <string.h>

#include "sfu/net/cmd_queue.h"
#include "sfu/net/log.h"
#include "sfu/net/peer.h"
#include "signaling/registry.h"
#include "signaling/room_session.h"
#include "signaling/server.h"
#include "signaling/session.h"

/* Only what bounds the queue if the main thread falls behind: the cap
 * refuses nothing here (every event is a follow-up). */
#define EVENTS_QUEUE_CAP 4096

struct sig_media_events {
    sig_server *srv;
    sfu_cmd_queue *q;
    GSource *source;
};

static gboolean on_ready(gint fd, GIOCondition cond, gpointer user)
{
    (void)fd, (void)cond;
    sfu_cmd_queue_drain(((sig_media_events *)user)->q);
    return G_SOURCE_CONTINUE;
}

sig_media_events *sig_media_events_new(sig_server *srv, GMainContext *ctx)
{
    sig_media_events *ev = g_new0(sig_media_events, 1);
    ev->srv = srv;
    ev->q = sfu_cmd_queue_new(EVENTS_QUEUE_CAP);
    if (!ev->q) {
        g_free(ev);
        return NULL;
    }
    ev->source = g_unix_fd_source_new(sfu_cmd_queue_fd(ev->q), G_IO_IN);
    g_source_set_callback(ev->source, G_SOURCE_FUNC(on_ready), ev, NULL);
    g_source_attach(ev->source, ctx);
    return ev;
}

void sig_media_events_free(sig_media_events *ev)
{
    if (!ev)
        return;
    g_source_destroy(ev->source);
    g_source_unref(ev->source);
    while (sfu_cmd_queue_drain(ev->q) > 0)
        ;
    sfu_cmd_queue_free(ev->q);
    g_free(ev);
}

typedef struct connected_ev {
    sig_server *srv;
    char id[SIG_SESSION_ID_LEN + 1];
    unsigned leg;
    char remote[80];
} connected_ev;

/* On the main thread. A session ended meanwhile is skipped. */
static void connected_run(void *arg)
{
    connected_ev *e = arg;
    sig_server *srv = e->srv;
    if (srv->cfg.privacy.api_addresses) {
        unsigned status;
        sig_session *s = sig_registry_get(srv->reg, e->id, NULL, false, &status);
        if (s) {
            sig_registry_set_address(srv->reg, s, e->remote);
            sig_session_unref(srv->reg, s);
        }
    }
    if (srv->cfg.privacy.log_addresses)
        sfu_log(SFU_LOG_INFO, "ice.connected", "leg=%u remote=%s", e->leg, e->remote);
    else
        sfu_log(SFU_LOG_DEBUG, "ice.connected", "leg=%u", e->leg);
    memset(e->remote, 0, sizeof e->remote);
    g_free(e);
}

void sig_media_events_on_connected(void *owner, struct sfu_peer *peer, const char *remote)
{
    sig_server *srv = owner;
    const sig_session *s = sfu_peer_user(peer);     /* its id is fixed at creation */
    connected_ev *e = g_new0(connected_ev, 1);
    e->srv = srv;
    g_strlcpy(e->id, s->id, sizeof e->id);
    e->leg = sfu_peer_leg(peer);
    g_strlcpy(e->remote, remote, sizeof e->remote);
    sfu_cmd_queue_post_follow(srv->media_events->q, connected_run, e);
}

typedef struct speaker_ev {
    sig_server *srv;
    uint32_t participant;
    char room[];
} speaker_ev;

static void speaker_run(void *arg)
{
    speaker_ev *e = arg;
    sig_room_on_active_speaker(e->srv, e->room, e->participant);
    g_free(e);
}

void sig_media_events_on_active_speaker(void *owner, const char *room, uint32_t participant)
{
    sig_server *srv = owner;
    size_t n = strlen(room) + 1;
    speaker_ev *e = g_malloc(sizeof *e + n);
    e->srv = srv;
    e->participant = participant;
    memcpy(e->room, room, n);
    sfu_cmd_queue_post_follow(srv->media_events->q, speaker_run, e);
}

typedef struct failed_ev {
    sig_server *srv;
    char id[SIG_SESSION_ID_LEN + 1];
    unsigned leg;
    char reason[96];
} failed_ev;

static void failed_run(void *arg)
{
    failed_ev *e = arg;
    sig_session_fail(e->srv, e->id, e->leg, e->reason);
    g_free(e);
}

void sig_media_events_on_failed(void *owner, struct sfu_peer *peer, const char *reason)
{
    sig_server *srv = owner;
    const sig_session *s = sfu_peer_user(peer);
    failed_ev *e = g_new0(failed_ev, 1);
    e->srv = srv;
    g_strlcpy(e->id, s->id, sizeof e->id);
    e->leg = sfu_peer_leg(peer);
    g_strlcpy(e->reason, reason, sizeof e->reason);
    sfu_cmd_queue_post_follow(srv->media_events->q, failed_run, e);
}

void sig_media_events_post(sig_server *srv, void (*fn)(void *arg), void *arg)
{
    sfu_cmd_queue_post_follow(srv->media_events->q, fn, arg);
}
