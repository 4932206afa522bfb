/* Rooms that span nodes ([cluster] span = true): a star through the room's
 * owner, built from relay legs (relay.h).
 *
 * A room join on node B for a room node A owns is served by B, which keeps
 * a local room of the same name as a *satellite* of A. B's span thread
 * keeps it in step with A: every SIG_SPAN_SYNC_MS, and at once when B's
 * own participants change, it POSTs to A's /cluster/span the participants
 * B's clients publish (sealed, span_msg.h); A pulls the new ones from B
 * over relay legs (and ends the pulls of those gone), and answers with the
 * room as A has it, less what came from B; B pulls the new ones from A and
 * ends the pulls of those gone. A pulled participant is an ordinary
 * participant of the local room: its sessions get participant-joined /
 * track-added, offers, and participant-left / track-removed when it goes.
 *
 * Loop rules (sig_span_offer): a satellite offers only its clients'
 * participants; the owner offers everything but what it pulled from the
 * asker. So a track crosses at most satellite -> owner -> satellite.
 *
 * Failures: a satellite that stops asking for SIG_SPAN_PEER_EXPIRY_MS has
 * its participants ended on the owner (and so on every other satellite at
 * their next sync); a relay leg to a dead node also fails by itself within
 * a second (relay.h). A satellite whose owner stops answering ends what it
 * pulled from it and asks the directory again (with a claim): it becomes
 * the owner itself, or a satellite of the new owner. A satellite whose
 * clients have all left for SIG_SPAN_RETIRE_MS ends its pulls and tells
 * the owner (an empty offer). */
#ifndef SIG_SPAN_H
#define SIG_SPAN_H

#include <stdbool.h>
#include <stdint.h>

#include "signaling/http.h"
#include "signaling/server.h"

#define SIG_SPAN_SYNC_MS 500            /* a satellite's sync period */
#define SIG_SPAN_RETRY_MS 250           /* ... after a failed sync */
#define SIG_SPAN_TICK_MS 100            /* how often the thread looks for changes */
#define SIG_SPAN_PEER_EXPIRY_MS 2500    /* owner: a silent satellite is gone */
#define SIG_SPAN_OWNER_FAILURES 3       /* satellite: failed syncs before the owner is gone */
#define SIG_SPAN_RETIRE_MS 3000         /* satellite: no client this long, it stops */

typedef struct sig_span sig_span;

sig_span *sig_span_new(sig_server *srv);
/* Starts the thread. */
void sig_span_start(sig_span *sp);
/* Stops the thread (waiting for a sync under way, bounded by
 * relay_timeout_ms). NULL is a no-op. */
void sig_span_stop(sig_span *sp);
void sig_span_free(sig_span *sp);

/* A room join was answered ELSEWHERE by the directory: this node serves it
 * as a satellite of `owner_url`'s node. Idempotent. */
void sig_span_satellite(sig_span *sp, const char *room, const char *owner_url);
/* Whether this node holds `room` as a satellite (not to be claimed or
 * published in the directory). False for NULL. */
bool sig_span_is_satellite(sig_span *sp, const char *room);

/* Owner: POST /cluster/span (HTTP thread). 404 unless this node spans
 * rooms; 403 for a body whose seal or timestamp does not check; 409 when
 * this node is itself a satellite of that room. */
void sig_span_serve(sig_server *srv, sig_request *req);

typedef struct sig_span_counts {
    unsigned satellite_rooms;       /* rooms held here as a satellite */
    unsigned satellites;            /* satellites of rooms this node owns */
    uint64_t syncs, sync_failed;    /* this node's calls to owners */
    uint64_t refused;               /* calls to this node refused (seal, time) */
} sig_span_counts;
/* Zeros for NULL. */
void sig_span_counts_get(sig_span *sp, sig_span_counts *out);

#endif
