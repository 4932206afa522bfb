/* Accounting of the HTTP server's connections, so that its limits fit
 * clients that share one address (an office NAT, a carrier CGNAT, a reverse
 * proxy) and still stop slow clients (slowloris).
 *
 * A connection is in one state at a time:
 *   HEADERS  accepted; its request line and headers are not complete yet;
 *   BODY     headers complete; the body is not;
 *   ACTIVE   a complete request is being handled or answered (an event
 *            stream stays ACTIVE for as long as it is open);
 *   IDLE     a keep-alive connection between requests;
 *   CLOSING  chosen to be closed here, waiting for the server to close it.
 * HEADERS and BODY are "pending": they count toward the per-client cap, and
 * each has a deadline counted from entering it (header_timeout, body_timeout;
 * a trickle of bytes does not extend it). IDLE has idle_timeout. Every state
 * but CLOSING counts toward max_connections. ACTIVE has no deadline here.
 *
 * Admitting a new connection from client C:
 *  - when C holds max_pending_per_client pending connections, C's oldest
 *    pending one is closed: one slow client behind a shared address neither
 *    locks out its neighbours nor holds more than the cap;
 *  - when max_connections are open, the idle connection idle the longest is
 *    closed; with none idle, the new connection is refused.
 *
 * Pure: no sockets, no clock, no lock. Time is passed in. Each connection
 * has an id (never 0, never reused) and a caller's tag (the socket). */
#ifndef SIG_CONNLIMIT_H
#define SIG_CONNLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu/core/common.h"

/* Bytes of a client key with its NUL; longer ones are cut. */
#define SIG_CONNLIMIT_CLIENT_MAX 64

typedef enum sig_conn_state {
    SIG_CONN_HEADERS,
    SIG_CONN_BODY,
    SIG_CONN_ACTIVE,
    SIG_CONN_IDLE,
    SIG_CONN_CLOSING,
    SIG_CONN_STATES
} sig_conn_state;

typedef enum sig_conn_close {
    SIG_CONN_CLOSE_HEADER_TIMEOUT,  /* headers not complete in header_timeout */
    SIG_CONN_CLOSE_BODY_TIMEOUT,    /* body not complete in body_timeout */
    SIG_CONN_CLOSE_IDLE_TIMEOUT,    /* no next request in idle_timeout */
    SIG_CONN_CLOSE_CLIENT_CAP,      /* the oldest pending one of a client at its cap */
    SIG_CONN_CLOSE_IDLE_EVICTED,    /* idle, closed to make room at max_connections */
    SIG_CONN_CLOSE_REASONS
} sig_conn_close;

typedef struct sig_connlimit sig_connlimit;

typedef struct sig_connlimit_config {
    uint32_t max_connections;           /* at least 1 */
    uint32_t max_pending_per_client;    /* 0: no cap */
    sfu_time header_timeout, body_timeout, idle_timeout;   /* > 0 */
} sig_connlimit_config;

/* A connection chosen to be closed now: it is CLOSING from then on. */
typedef struct sig_conn_victim {
    uint64_t id;
    int64_t tag;                    /* as set by sig_connlimit_set_tag; -1 before */
    sig_conn_close reason;
} sig_conn_victim;

typedef struct sig_connlimit_counts {
    uint32_t state[SIG_CONN_STATES];    /* connections in each state now */
    uint64_t closed[SIG_CONN_CLOSE_REASONS];    /* since creation */
    uint64_t refused;                   /* new connections refused: all open, none idle */
} sig_connlimit_counts;

/* NULL on allocation failure or an impossible config. */
sig_connlimit *sig_connlimit_new(const sig_connlimit_config *cfg);
void sig_connlimit_free(sig_connlimit *t);

/* A new connection from `client` at `now`. Returns its id, in HEADERS, or
 * 0 when refused. Writes the connections to close to victims (room for
 * two) and their number to *nvictims. */
uint64_t sig_connlimit_admit(sig_connlimit *t, const char *client, sfu_time now,
                             sig_conn_victim victims[2], unsigned *nvictims);
/* The caller's tag for a connection (its socket). 0 or -SFU_ENOTFOUND. */
int sig_connlimit_set_tag(sig_connlimit *t, uint64_t id, int64_t tag);
/* Moves a connection to BODY, ACTIVE or IDLE at `now`; a CLOSING one stays
 * CLOSING. 0, -SFU_ENOTFOUND, or -SFU_EINVAL for another state. */
int sig_connlimit_set_state(sig_connlimit *t, uint64_t id, sig_conn_state state, sfu_time now);
/* The connection is gone (whatever its state). Unknown ids are ignored. */
void sig_connlimit_remove(sig_connlimit *t, uint64_t id);
sig_conn_state sig_connlimit_state(const sig_connlimit *t, uint64_t id);    /* CLOSING if unknown */

/* The earliest deadline, or SFU_TIME_NEVER. */
sfu_time sig_connlimit_poll_timeout(const sig_connlimit *t);
/* Connections past their deadline at `now`, at most `max` of them, into
 * `out` (each CLOSING from then on). Returns how many. */
unsigned sig_connlimit_handle_timeout(sig_connlimit *t, sfu_time now, sig_conn_victim *out,
                                      unsigned max);

void sig_connlimit_counts_get(const sig_connlimit *t, sig_connlimit_counts *c);
/* Pending connections of `client` now (for tests). */
unsigned sig_connlimit_pending(const sig_connlimit *t, const char *client);

#endif
