/* Subscriptions of room sessions (docs/API.md "Subscriptions"):
 * POST /sessions/{id}/subscriptions says whose video the client wants and at
 * what size. The list goes into the session's renegotiation (reneg.h: video
 * m-lines for the subscribed participants only, reused as the list
 * changes); each entry's size becomes a layer cap on whichever m-line
 * carries that participant, set when the m-line is bound and again while
 * the publisher's layer sizes are still unknown. Everything but the HTTP
 * entry point runs on the session's worker. */
#ifndef SIG_ROOM_SUBS_H
#define SIG_ROOM_SUBS_H

#include "signaling/server.h"

/* The Link a room join's 201 carries to the subscription URL. */
#define SIG_SUBS_REL "urn:x-sfu:subscriptions"

void sig_room_subscribe(sig_server *srv, sig_request *req, const char *id, const char *sub);

/* Worker side: a video m-line `mid` was bound to `participant`; its cap
 * follows the subscription (no-op without one). */
void sig_room_subs_bound(sig_server *srv, sig_session *s, const char *mid, uint32_t participant);
/* Worker side (or at shutdown): frees the subscription state. */
void sig_room_subs_stop(sig_session *s);
/* Worker side: the figures GET /rooms shows. */
void sig_room_subs_collect(sig_server *srv, sig_session *s);

#endif
