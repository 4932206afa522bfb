/* Subscriptions of room sessions (docs/API.md "Subscriptions"):
 * POST /sessions/{id}/subscriptions says whose video the client wants and at
 * what size. The list goes into the session's renegotiation (reneg.h: video
 * m-lines for the subscribed participants only, reused as the list
 * changes); each entry's size becomes a layer cap on whichever m-line
 * carries that participant, set when the m-line is bound and again while
 * the publisher's layer sizes are still unknown.
 *
 * The list and the decisions live on the signaling side (the HTTP and main
 * threads, under the server's rooms_lock); a worker only applies the caps a
 * command carries (sig_room_media, room_session.h), since the layer sizes
 * they are resolved against are the worker's. When a size cannot be
 * resolved yet, the command comes back to the main thread, whose one-shot
 * re-cap timer posts the caps again a second later. */
#ifndef SIG_ROOM_SUBS_H
#define SIG_ROOM_SUBS_H

#include "signaling/server.h"
#include "signaling/sub_req.h"

/* The Link a room join's 201 carries to the subscription URL. */
#define SIG_SUBS_REL "urn:x-sfu:subscriptions"

/* A subscription's cap for one m-line, as a command carries it. */
typedef struct sig_room_cap {
    char mid[SFU_MID_MAX];
    sig_sub_entry e;
} sig_room_cap;

void sig_room_subscribe(sig_server *srv, sig_request *req, const char *id, const char *sub);

/* Signaling side, under rooms_lock. The cap for `mid` newly bound to
 * `participant`, if the subscription sizes it: 1 (written to *out) or 0. */
unsigned sig_room_subs_cap_of(const sig_session *s, const char *mid, uint32_t participant,
                              sig_room_cap *out);
/* Caps for every subscribed participant's committed m-line; how many (at
 * most SIG_SUB_MAX). */
unsigned sig_room_subs_caps(const sig_session *s, sig_room_cap *out);
/* A cap came back unresolved: the re-cap timer posts them again soon. */
void sig_room_subs_want_recap(sig_server *srv, sig_session *s);
/* Frees the subscription state and its timer (or at shutdown). */
void sig_room_subs_stop(sig_session *s);
/* GET /rooms: what the renegotiation committed (subscribed, audio slots). */
void sig_room_subs_figures(sig_server *srv, sig_session *s);

/* Worker side: sets each cap on the session's peer; true when some size
 * could not be resolved yet (the publisher's layers have no size). */
bool sig_room_subs_apply(sig_server *srv, sig_session *s, const sig_room_cap *caps, unsigned n);
/* Worker side: whom the audio slots carry, for GET /rooms. */
void sig_room_subs_collect(sig_server *srv, sig_session *s);

#endif
