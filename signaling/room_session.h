/* Room sessions (API.md "Room sessions"): one PeerConnection per
 * participant that publishes and receives everyone else, renegotiated by
 * the server through `offer` events. Everything of a room runs on the
 * room's worker, so the fan-out to the other sessions takes no lock but the
 * registry's. */
#ifndef SIG_ROOM_SESSION_H
#define SIG_ROOM_SESSION_H

#include "signaling/http.h"
#include "signaling/sdp_answer.h"
#include "signaling/server.h"

/* Worker side, called by session.c. */
int sig_room_session_start(sig_server *srv, sig_session *s, const sig_sdp *offer,
                           const sig_sdp_result *answer, char *err, size_t errlen);
void sig_room_session_stop(sig_session *s);
/* A participant's media is ready / gone: tell the room's other sessions. */
void sig_room_announce_join(sig_server *srv, sig_session *s);
void sig_room_announce_leave(sig_server *srv, sig_session *s);

/* HTTP side. */
void sig_room_events(sig_server *srv, sig_request *req, const char *id, const char *sub);
void sig_room_answer(sig_server *srv, sig_request *req, const char *id, const char *sub,
                     bool has_revision, uint64_t revision);
/* PATCH /sessions/{id} with application/sdp: a client re-offer. */
void sig_room_reoffer(sig_server *srv, sig_request *req, const char *id, const char *sub);

/* Re-arms the session's offer timer after its renegotiation state changed
 * (worker side). */
void sig_room_rearm(sig_session *s);

/* The room's active speaker changed: into the registry and every room
 * session's event stream. On the main thread (media_events.h). */
void sig_room_on_active_speaker(void *owner, const char *room, uint32_t participant);
/* Keeps idle event streams open (a comment line); call every few seconds. */
void sig_room_keepalive(sig_server *srv);

#endif
