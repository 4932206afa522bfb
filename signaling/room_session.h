/* Room sessions (API.md "Room sessions"): one PeerConnection per
 * participant that publishes and receives everyone else, renegotiated by
 * the server through `offer` events.
 *
 * Two sides. The signaling side (the HTTP and main threads, under the
 * server's rooms_lock) holds every room session's renegotiation state
 * (reneg.h), its subscription and its offer timer; it takes the answers and
 * re-offers, fans joins and leaves out to the room's other sessions, and
 * decides the media changes. The session's worker only applies what a
 * command (sig_room_media) carries: the new leg description, the sink
 * bindings, layer caps, an ICE restart. Nothing of this runs on a worker
 * or takes the rooms_lock there. */
#ifndef SIG_ROOM_SESSION_H
#define SIG_ROOM_SESSION_H

#include "signaling/http.h"
#include "signaling/reneg.h"
#include "signaling/room_subs.h"
#include "signaling/sdp_answer.h"
#include "signaling/server.h"
#include "signaling/worker_cmd.h"

/* The media changes of one room session, decided on the signaling side and
 * applied on its worker, in this order: ICE restart, leg, bindings, lifted
 * caps, caps. Ends with `resp` (status 0: none) unless a cap is still
 * unresolved (then the command comes back to the main thread first). */
typedef struct sig_room_media {
    sig_cmd cmd;
    bool restart_ice;               /* a new ICE generation with these credentials */
    char ufrag[9], pwd[25];
    bool set_remote;                /* the client's new ICE credentials */
    char remote_ufrag[257], remote_pwd[257];
    sfu_leg_desc *leg;              /* NULL: unchanged */
    unsigned nbindings;
    sig_reneg_binding bindings[SFU_MAX_TRACKS];
    unsigned nlifts;                /* video m-lines back to the automatic layer */
    char lifts[SFU_MAX_TRACKS][SFU_MID_MAX];
    unsigned ncaps;
    sig_room_cap caps[SFU_MAX_TRACKS + SIG_SUB_MAX];
    unsigned status;                /* the answer once applied */
    char *body;                     /* g_malloc'd; NULL: none */
    size_t body_len;
    const char *content_type;
    char etag[32];                  /* "": no ETag */
} sig_room_media;

/* A new, empty command for session `s` (a reference the command takes
 * over), answering `req` (or NULL). */
sig_room_media *sig_room_media_new(sig_server *srv, sig_request *req, sig_session *s);

/* Signaling side, under rooms_lock (session.c): the join's renegotiation
 * state and offer timer, from the client's offer and the join's answer;
 * and its end. */
int sig_room_session_start(sig_server *srv, sig_session *s, const sig_sdp *offer,
                           const sig_sdp_result *answer, char *err, size_t errlen);
void sig_room_session_stop(sig_session *s);
/* A participant's media is ready / gone: tell the room's other sessions
 * (event streams and renegotiation). Under rooms_lock; a leave without a
 * join before is nothing. */
void sig_room_announce_join(sig_server *srv, sig_session *s);
void sig_room_announce_leave(sig_server *srv, sig_session *s);
/* From a worker (a relay leg of a room spanning nodes, ready): the join is
 * announced on the main thread. */
void sig_room_announce_join_later(sig_server *srv, const sig_session *s);

/* HTTP side. */
/* The room session `id` for a request on it (a reference), or NULL after
 * answering 404 (no such room session), or 403 (`sub` did not create it). */
sig_session *sig_room_session_get(sig_server *srv, sig_request *req, const char *id,
                                  const char *sub);
void sig_room_events(sig_server *srv, sig_request *req, const char *id, const char *sub);
void sig_room_answer(sig_server *srv, sig_request *req, const char *id, const char *sub,
                     bool has_revision, uint64_t revision);
/* PATCH /sessions/{id} with application/sdp: a client re-offer. */
void sig_room_reoffer(sig_server *srv, sig_request *req, const char *id, const char *sub);

/* Re-arms the session's offer timer after its renegotiation state changed
 * (signaling side, under rooms_lock). */
void sig_room_rearm(sig_session *s);
/* The room's active speaker changed: into the registry and every room
 * session's event stream. On the main thread (media_events.h). */
void sig_room_on_active_speaker(void *owner, const char *room, uint32_t participant);
/* Keeps idle event streams open (a comment line); call every few seconds. */
void sig_room_keepalive(sig_server *srv);

#endif
