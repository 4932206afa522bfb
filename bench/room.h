/* Room sessions (docs/API.md, "Room sessions"): a member joins with
 * POST /rooms/{room}/join (run.c, as for WHIP) and then receives the other
 * participants through server offers on GET /sessions/{id}/events, which it
 * answers with POST /sessions/{id}/answer?revision=N, as the call page does.
 *
 * One thread reads every member's event stream (poll over their sockets,
 * HTTP/1.0 so the body is the raw stream, parsed by sse.h), answers each
 * offer on the media loop (bench_peer_reanswer) after telling the peer which
 * publisher each announced SSRC belongs to (for latency), and POSTs the
 * answer. A member whose answer is refused or whose stream ends mid-run is
 * marked failed (a meeting with a failed member fails: main.c). */
#ifndef BENCH_ROOM_H
#define BENCH_ROOM_H

#include "bench/run_internal.h"

typedef struct bench_rooms bench_rooms;

/* Starts the events thread; NULL with a reason when it cannot. */
bench_rooms *bench_rooms_new(bench_run_state *r, char *err, size_t errlen);
/* Opens the event stream of a member that joined (session: its Location). */
int bench_rooms_watch(bench_rooms *rs, bench_peer *peer, const char *session, char *err,
                      size_t errlen);
/* Stops the thread and closes the streams (before the peers are freed). */
void bench_rooms_free(bench_rooms *rs);   /* NULL is a no-op */

#endif
