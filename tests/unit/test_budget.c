/* The session limit: config, port range and descriptors, with and without
 * ICE-TCP (signaling/budget.c). */
#include "tests/test.h"

#include "signaling/budget.h"

static sig_config config(uint16_t lo, uint16_t hi, bool tcp, unsigned naddrs, uint32_t max)
{
    sig_config c;
    sig_config_defaults(&c);
    c.media.port_min = lo;
    c.media.port_max = hi;
    c.media.ice_tcp = tcp;
    c.media.gather_addresses.count = naddrs;
    c.limits.max_sessions = max;
    c.http.max_connections = 256;   /* the table below does not follow the default */
    return c;
}

TEST(defaults_tcp_on_and_off_equal)
{
    sig_config c;
    sig_config_defaults(&c);
    ASSERT_EQ(c.media.ice_tcp, true);
    sig_budget on = sig_budget_compute(&c, 20000);
    c.media.ice_tcp = false;
    sig_budget off = sig_budget_compute(&c, 20000);
    ASSERT_EQ(on.sessions, off.sessions);
    ASSERT_EQ(on.sessions, 1000);   /* 20000-20999, max_sessions 1000 */
    ASSERT_EQ(on.by_ports, off.by_ports);
    return 0;
}

TEST(table)
{
    /* spare descriptors: max_connections 256 + 128 = 384 */
    static const struct {
        uint16_t lo, hi;
        bool tcp;
        unsigned naddrs;
        uint32_t max;
        uint64_t fds;
        uint32_t sessions, by_ports, by_fds;
    } t[] = {
        { 20000, 20999, false, 1, 1000, 20000, 1000, 1000, 6538 },     /* (20000-384)/3 */
        { 20000, 20999, true, 1, 1000, 20000, 1000, 1000, 3923 },      /* /5 */
        { 20000, 20023, true, 1, 1000, 20000, 24, 24, 3923 },           /* the port range */
        { 20000, 20023, false, 1, 1000, 20000, 24, 24, 6538 },
        { 10000, 59999, true, 1, 100000, 20000, 3923, 50000, 3923 },    /* descriptors */
        { 10000, 59999, true, 2, 100000, 20000, 2452, 50000, 2452 },    /* /8 */
        { 20000, 20999, false, 1, 10, 20000, 10, 1000, 6538 },          /* the config */
        { 20000, 20999, false, 1, 1000, 100, 0, 1000, 0 },              /* no room at all */
        { 20000, 20999, false, 1, 1000, UINT64_MAX, 1000, 1000, UINT32_MAX },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        sig_config c = config(t[i].lo, t[i].hi, t[i].tcp, t[i].naddrs, t[i].max);
        sig_budget b = sig_budget_compute(&c, t[i].fds);
        ASSERT_EQ(b.by_ports, t[i].by_ports);
        ASSERT_EQ(b.by_fds, t[i].by_fds);
        ASSERT_EQ(b.by_config, t[i].max);
        ASSERT_EQ(b.sessions, t[i].sessions);
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(defaults_tcp_on_and_off_equal), TEST_ENTRY(table))
