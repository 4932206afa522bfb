/* Relay legs between the nodes of a cluster ([cluster] relay = true).
 *
 * A WHEP viewer on node B of a publisher on node A (the room's owner) is
 * served by B: B pulls the publisher's tracks from A over one relay leg,
 * however many viewers B has, and its viewers watch that leg like any
 * local publisher. To the forwarding cores a relay leg is an ordinary leg:
 * on A a viewer whose sinks are bound to the publisher (consumers), on B a
 * publisher whose sources B's viewers are bound to (producers). Keyframe
 * requests, NACKs and receiver reports flow back over it as RTCP.
 *
 *   B: POST /whep/R/P, R owned by A ──► pull entry "R/P" (one per
 *      publisher) ── first viewer: relay session (a publisher P in the
 *      local room "~R"), its UDP socket; POST A/cluster/relay (sealed,
 *      relay_msg.h) ──► A: a viewer session of P whose transport is a UDP
 *      socket connected to B's; answer with A's socket and tracks
 *   B: connects, keys SRTP, adds the leg; dispatches the waiting viewers
 *      (and later ones at once) as WHEP viewers of P in "~R".
 *
 * "~R" cannot be named by a client (route.h: no '~' in room names), so
 * nothing but a relayed WHEP request reaches it; it is not published in
 * the cluster directory. A leg ends when B's last viewer of it leaves (B
 * closes its socket; A's next datagram is refused and A ends its side), or
 * when it fails (A refused it, A's process is gone, no media for
 * media.liveness_timeout_ms): B then ends every viewer of it with a DTLS
 * close_notify. */
#ifndef SIG_RELAY_H
#define SIG_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "signaling/api.h"
#include "signaling/cluster_store.h"
#include "signaling/server.h"

typedef struct sig_relay sig_relay;

sig_relay *sig_relay_new(sig_server *srv);
/* Waits for openings under way (bounded by relay_timeout_ms + 2 s);
 * before the HTTP front goes. NULL is a no-op. */
void sig_relay_stop(sig_relay *r);
/* After the workers stopped, before the registry goes. NULL is a no-op. */
void sig_relay_free(sig_relay *r);

typedef struct sig_relay_counts {
    unsigned serving;               /* legs this node sends on to another node */
    unsigned pulling;               /* legs this node pulls from another node */
    uint64_t opened, open_failed;   /* pulls asked for: opened, failed (viewers redirected) */
    uint64_t refused;               /* calls to this node's endpoint refused (seal, time) */
    uint64_t lost;                  /* pulled legs that failed (their viewers ended) */
} sig_relay_counts;
/* Zeros for NULL. */
void sig_relay_counts_get(sig_relay *r, sig_relay_counts *out);
/* Bits per second of relay bytes (`out` or in) since the previous call
 * at least 1 s before; `bytes_now` the counter's current value. */
uint64_t sig_relay_rate(sig_relay *r, bool out, uint64_t bytes_now);

/* Node B: a WHEP request (authorized) for a room not on this node.
 * Returns true when it took the request (served through a relay leg, or
 * answered 404/503/307 once the directory and the owner spoke); false to
 * leave it to the plain cluster path (a room name too long for "~R"). */
bool sig_relay_whep(sig_server *srv, sig_request *req, const sig_route *route,
                    const sig_api_caller *who);

/* Node A: POST /cluster/relay (any thread). 404 unless this node relays;
 * 403 for a body whose seal or timestamp does not check. */
void sig_relay_serve(sig_server *srv, sig_request *req);

/* From session.c, on the session's worker, for every session whose media
 * ends (before its peer is freed): a relay leg ending, or a viewer of a
 * relayed publisher leaving. `failed`: the leg failed by itself. */
void sig_relay_session_ending(sig_server *srv, struct sig_session *s, struct sfu_peer *peer,
                              bool failed);

/* Rooms spanning nodes (signaling/span.h). Pulls `participant` of `room`
 * from node `origin` (reached at `origin_url`) into this node's room of the
 * same name, where the room's sessions see it as an ordinary participant
 * called `name` once its leg is up. Any thread; a no-op when that
 * participant is already pulled or being opened. */
void sig_relay_span_open(sig_server *srv, const char *room, uint32_t participant,
                         const char *name, const char *origin, const char *origin_url);
/* Ends such a pull (on its worker; one still opening ends once up). */
void sig_relay_span_close(sig_server *srv, const char *room, uint32_t participant);
typedef struct sig_relay_span_pull {
    uint32_t participant;
    char origin[SIG_CLUSTER_ID_MAX + 1];
    bool ready;
} sig_relay_span_pull;
/* The span pulls of `room` (opening or up), a GArray of
 * sig_relay_span_pull to free. Empty for NULL. */
GArray *sig_relay_span_pulls(sig_relay *r, const char *room);

#endif
