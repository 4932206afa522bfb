/* Per-client request rate limit for the HTTP API: one token bucket per
 * client key (an address string), `rate` requests per second sustained after
 * a burst of `burst`. Answers "allowed" or "retry after S seconds" (429 with
 * Retry-After, RFC 6585 section 4).
 *
 * Memory is bounded: at most `max_clients` keys are tracked. A key whose
 * bucket has refilled holds no state worth keeping and is dropped as calls
 * go by; when the table is full of busy keys, the one seen least recently is
 * dropped (that client gets a fresh burst, which only max_clients other
 * addresses arriving since can cause). Keys live in memory only.
 *
 * Time is passed in (monotonic microseconds), so tests run on a virtual
 * clock. Thread-safe: calls are serialized by an internal mutex. */
#ifndef SIG_RATELIMIT_H
#define SIG_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sfu/core/common.h"

#define SIG_RATELIMIT_KEY_MAX 64                /* bytes of a key with its NUL; longer ones are cut */
#define SIG_RATELIMIT_CLIENTS_DEFAULT 65536

typedef struct sig_ratelimit sig_ratelimit;

/* `rate_per_s` 0 turns limiting off (every call allowed, nothing tracked);
 * `burst` 0 counts as 1; `max_clients` 0 means SIG_RATELIMIT_CLIENTS_DEFAULT.
 * From the config: [http] requests_per_second_per_client and
 * request_burst_per_client. NULL on allocation failure. */
sig_ratelimit *sig_ratelimit_new(uint32_t rate_per_s, uint32_t burst, uint32_t max_clients);
void sig_ratelimit_free(sig_ratelimit *rl);

/* Takes one request from `client`'s bucket at `now`. Returns true if
 * allowed; false with *retry_after_s (may be NULL) set to the whole seconds,
 * at least 1, until the next request would be. A refused request costs
 * nothing. */
bool sig_ratelimit_allow(sig_ratelimit *rl, const char *client, sfu_time now,
                         uint32_t *retry_after_s);

/* Keys tracked now (for tests and metrics). */
unsigned sig_ratelimit_tracked(sig_ratelimit *rl);

/* The key for a peer address: an IPv4 address as is, an IPv6 address as its
 * /64 prefix (one host usually owns a whole /64, RFC 6177), an IPv4-mapped
 * IPv6 address as the IPv4 one. Returns 0 or -SFU_EINVAL (other families, or
 * `n` below SIG_RATELIMIT_KEY_MAX). */
int sig_ratelimit_key(const struct sockaddr *sa, char *buf, size_t n);

#endif
