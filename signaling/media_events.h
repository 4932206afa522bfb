/* Events from the media workers to signaling: the other direction of the
 * one hand-off (worker_cmd.h is signaling to a worker). A worker posts an
 * event and goes on; the main thread drains the queue (sfu/net/cmd_queue.h,
 * one wake-up per batch) and does the signaling work there: the registry
 * and its lock, the event streams, the logs that read the privacy
 * settings. So these never run on a media thread.
 *
 * Events are never refused nor dropped: each is bounded by what causes it
 * (an ICE selection or a failure of a live session; an active-speaker
 * change, at most one per room per second, speaker.c), so they are queued
 * as follow-ups.
 *
 * Carried: a session's ICE pair selected (its address, for GET /rooms and
 * the log as the privacy settings say), a room's active speaker, a peer's
 * failure (the main thread claims the session's ending, so a DELETE under
 * way and a second failure find it taken, logs it, tells the room's other
 * sessions and unlists it there, and posts the media's end to the worker
 * as a command), and a command's next step on the signaling side
 * (sig_cmd_back: a create's negotiation, an ICE restart's re-offer); see
 * docs/ARCHITECTURE.md, "Threads". */
#ifndef SIG_MEDIA_EVENTS_H
#define SIG_MEDIA_EVENTS_H

#include <glib.h>
#include <stdint.h>

struct sig_server;
struct sfu_peer;

typedef struct sig_media_events sig_media_events;

/* Drained by a source on `ctx` (the main loop's). NULL on failure. */
sig_media_events *sig_media_events_new(struct sig_server *srv, GMainContext *ctx);
/* After the workers stopped: runs what still waits, then frees. */
void sig_media_events_free(sig_media_events *ev);

/* sfu_host_config callbacks, on a worker: each posts an event. `owner` is
 * the sig_server. */
void sig_media_events_on_connected(void *owner, struct sfu_peer *peer, const char *remote);
void sig_media_events_on_active_speaker(void *owner, const char *room, uint32_t participant);
void sig_media_events_on_failed(void *owner, struct sfu_peer *peer, const char *reason);
/* Any other work a worker hands to the signaling side (sig_cmd_back, a
 * session ended by the relay): fn(arg) on the main thread, in order. */
void sig_media_events_post(struct sig_server *srv, void (*fn)(void *arg), void *arg);

#endif
