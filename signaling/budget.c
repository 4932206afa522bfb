#include "signaling/budget.h"

static uint32_t min32(uint64_t a, uint32_t b) { return a < b ? (uint32_t)a : b; }

sig_budget sig_budget_compute(const sig_config *cfg, uint64_t fd_limit)
{
    sig_budget b = { .by_config = cfg->limits.max_sessions };
    /* libnice binds one port per address and transport within the range and
     * checks clashes per transport only, so a TCP listener and a UDP socket
     * share a port number without conflict. */
    b.by_ports = cfg->media.port_max >= cfg->media.port_min
                     ? (uint32_t)(cfg->media.port_max - cfg->media.port_min + 1u)
                     : 0;
    uint32_t naddrs = cfg->media.gather_addresses.count ? cfg->media.gather_addresses.count : 1;
    uint64_t per_session =
        naddrs * (SIG_BUDGET_FDS_UDP + (cfg->media.ice_tcp ? SIG_BUDGET_FDS_TCP : 0)) +
        SIG_BUDGET_FDS_FIXED;
    /* Keep room for HTTP connections (and those being closed, see http.c),
     * logs and libraries. */
    uint64_t spare = (uint64_t)cfg->http.max_connections + 128;
    uint64_t fds = fd_limit > spare ? fd_limit - spare : 0;
    b.by_fds = min32(fds / per_session, UINT32_MAX);
    b.sessions = min32(b.by_ports, b.by_config);
    b.sessions = min32(b.by_fds, b.sessions);
    return b;
}
