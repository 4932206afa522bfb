/* --target janus: the same peers and media against a Janus VideoRoom, over
 * Janus's HTTP API (https://janus.conf.meetecho.com/docs/rest.html) instead
 * of WHIP/WHEP. Each peer has its own Janus session and videoroom handle:
 *
 *   publisher  create, attach, "joinandconfigure" (ptype publisher) with our
 *              offer; the "joined" event carries the feed id and the answer
 *   viewer     create, attach, "join" (ptype subscriber, feed) until it is
 *              not 428 No such feed; the "attached" event carries Janus's
 *              offer; we answer with "start"
 *
 * Events are read by long-polling GET {base}/{session}. The room is
 * BENCH_JANUS_ROOM, configured in configs/bench/janus/. Runs on the control
 * thread; the peer is reached through the media loop. */
#ifndef BENCH_JANUS_H
#define BENCH_JANUS_H

#include "bench/run_internal.h"

#define BENCH_JANUS_ROOM 1234

/* Reads the base path from o->url and gathers the peers' ICE candidates on
 * the local address that routes to Janus. 0 or -1 with a reason. */
int bench_janus_setup(bench_run_state *r, char *err, size_t errlen);

/* Signals peer (already on the loop, its offer in `offer` for a publisher),
 * stores the session path in r->sessions[idx] and, for a publisher, the feed
 * id in pubs[pub].participant. Fills the remote description and the time
 * the join started. 0 or -1 with a reason. */
int bench_janus_join(bench_run_state *r, bench_peer *peer, bench_role role, unsigned pub,
                     unsigned idx, const char *offer, bench_answer *remote, sfu_time *post_at,
                     char *err, size_t errlen);

/* Destroys a session stored by bench_janus_join (its handles go with it). */
void bench_janus_destroy(bench_run_state *r, const char *session_path);

#endif
