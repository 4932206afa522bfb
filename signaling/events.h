/* A room session's event stream (API.md "Room sessions"): Server-Sent
 * Events queued from the 201 on, delivered when the client connects to
 * GET /sessions/{id}/events. Every connect starts with a snapshot, then the
 * outstanding server offer if any, then what was queued. A newer connect
 * replaces an older one. Thread-safe: producers are the workers and the
 * HTTP thread; the reader is the HTTP thread. */
#ifndef SIG_EVENTS_H
#define SIG_EVENTS_H

#include "sfu/core/common.h"
#include "signaling/http.h"

/* A comment line on a stream idle this long: API.md promises one at least
 * every 15 s, proxies commonly close idle streams at 15-30 s. The server
 * checks every SIG_EVENTS_KEEPALIVE_CHECK, so an idle stream gets one every
 * 10 to 10.5 s, measured from the last bytes sent (no drift). */
#define SIG_EVENTS_KEEPALIVE SFU_SEC(10)
#define SIG_EVENTS_KEEPALIVE_CHECK_MS 500
#define SIG_EVENTS_MAX_QUEUED 1024      /* past this the oldest are dropped */

typedef struct sig_events sig_events;

sig_events *sig_events_new(void);
/* Drops the caller's reference; an open stream ends. */
void sig_events_close(sig_events *ev);

/* Queues `event: type` with one line of JSON data. */
void sig_events_push(sig_events *ev, const char *type, const char *json);
/* The offer a client has not answered yet (replayed on every reconnect);
 * NULL once answered. */
void sig_events_set_offer(sig_events *ev, const char *json);

/* Answers `req` with the stream; `snapshot_json` is the snapshot to start
 * with (copied). */
void sig_events_attach(sig_events *ev, sig_request *req, const char *snapshot_json);

/* Sends a comment line on a stream idle for SIG_EVENTS_KEEPALIVE or more. */
void sig_events_keepalive(sig_events *ev, sfu_time now);
bool sig_events_connected(sig_events *ev);

#endif
