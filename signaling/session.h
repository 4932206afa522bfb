/* Session operations: create (WHIP, WHEP, room joins), trickle and ICE
 * restart, end. Each runs its media part on the room's worker; the room's
 * other sessions and the registry's listing are the signaling side's
 * (HTTP and main threads): an ending unlists the session there and sends
 * the worker the media's end. */
#ifndef SIG_SESSION_H
#define SIG_SESSION_H

#include "signaling/http.h"
#include "signaling/sdp.h"
#include "signaling/server.h"

/* POST /whip/{room} and POST /whep/{room}/{participant}: `req` carries the
 * offer. Only the spec's owner_sub (NULL with auth off) may later change or
 * end the session. */
void sig_session_create(sig_server *srv, sig_request *req, const sig_session_spec *spec);
/* DELETE /sessions/{id} */
void sig_session_delete(sig_server *srv, sig_request *req, const char *id, const char *sub);
/* PATCH /sessions/{id} with an sdpfrag: trickle or ICE restart. */
void sig_session_patch(sig_server *srv, sig_request *req, const char *id, const char *sub);

/* What a leg publishes (received == true) or is sent, for the registry;
 * `offer` (may be NULL) gives H.264 profiles. Fills at most SIG_TRACKS_MAX. */
unsigned sig_session_tracks_of(const sfu_leg_desc *leg, const sig_sdp *offer, bool received,
                               sig_track_info *out);

/* The ICE candidates to announce for `ice`'s newest generation, in SDP
 * form; returns how many (at most SFU_ICE_MAX_CANDIDATES). */
unsigned sig_session_local_candidates(struct sfu_ice *ice, sig_ice_candidate *out);

/* Worker side: the video m-lines a leg sends on, for the layer API. */
void sig_session_note_sinks(sig_session *s, const sfu_leg_desc *leg);

/* On its worker (the relay's endings): ends `s`'s media (a relay leg's
 * ending takes its viewers along), then hands the rest (the room's other
 * sessions, the registry) to the main thread; with `goodbye` the client
 * first gets a DTLS close_notify. The caller keeps its reference. */
void sig_session_end(sig_server *srv, sig_session *s, bool goodbye);
/* A peer failed by itself (media_events.h, on the main thread): unless a
 * DELETE or an earlier failure is ending session `id` already, logs it and
 * ends it on its worker, as a DELETE does, with `reason`. */
void sig_session_fail(sig_server *srv, const char *id, unsigned leg, const char *reason);

#endif
