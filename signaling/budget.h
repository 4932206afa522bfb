/* How many sessions (PeerConnections) the process can hold at once: the
 * configured limit, the media port range and the file descriptor limit,
 * whichever is smallest. Pure arithmetic, so the unit test can check it. */
#ifndef SIG_BUDGET_H
#define SIG_BUDGET_H

#include <stdint.h>

#include "signaling/config.h"

/* Descriptors one session holds per gather address: its UDP socket, and with
 * ICE-TCP its passive listener plus the client's connection (measured by
 * tests/e2e/session_limit.py). */
#define SIG_BUDGET_FDS_UDP 1u
#define SIG_BUDGET_FDS_TCP 2u
/* Per session whatever the addresses (measured: one; one spare). */
#define SIG_BUDGET_FDS_FIXED 2u

typedef struct sig_budget {
    uint32_t sessions;              /* the smallest of the three below */
    uint32_t by_config;             /* limits.max_sessions */
    uint32_t by_ports;              /* media.port_min..port_max */
    uint32_t by_fds;                /* fd_limit, less room for HTTP and libraries */
} sig_budget;

/* `fd_limit` is RLIMIT_NOFILE's soft limit after raising it. Each session
 * takes one UDP port per gather address and, with ICE-TCP, one TCP port per
 * address too; UDP and TCP ports are separate spaces, so the range holds as
 * many sessions with ICE-TCP as without. */
sig_budget sig_budget_compute(const sig_config *cfg, uint64_t fd_limit);

#endif
