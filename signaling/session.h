/* Session operations: create (WHIP, WHEP), trickle and ICE restart, end.
 * Each runs its media part on the room's worker and answers the suspended
 * HTTP request from there. */
#ifndef SIG_SESSION_H
#define SIG_SESSION_H

#include "signaling/http.h"
#include "signaling/server.h"

/* POST /whip/{room} and POST /whep/{room}/{participant}: `req` carries the
 * offer; `watched` is 0 for WHIP; `name` is the display name or NULL;
 * `sub` the token's subject, NULL with auth off. Only the same `sub` may
 * later change or end the session. */
void sig_session_create(sig_server *srv, sig_request *req, sig_session_kind kind,
                        const char *room, uint32_t watched, const char *name, const char *sub);
/* DELETE /sessions/{id} */
void sig_session_delete(sig_server *srv, sig_request *req, const char *id, const char *sub);
/* PATCH /sessions/{id} with an sdpfrag: trickle or ICE restart. */
void sig_session_patch(sig_server *srv, sig_request *req, const char *id, const char *sub);

/* sfu_host_config.on_peer_failed */
void sig_session_on_peer_failed(void *owner, struct sfu_peer *peer, const char *reason);
/* sfu_host_config.on_peer_connected */
void sig_session_on_peer_connected(void *owner, struct sfu_peer *peer, const char *remote);

#endif
