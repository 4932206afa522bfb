/* The shared UDP port's demultiplexing table (sfu/core/ice_mux.h). */
#include "sfu/core/ice_mux.h"
#include "sfu/core/common.h"
#include "tests/test.h"

static sfu_ice_mux_addr v4(uint8_t last, uint16_t port)
{
    sfu_ice_mux_addr a = { .family = 4, .port = port };
    a.ip[0] = 127, a.ip[3] = last;
    return a;
}

static bool find(const sfu_ice_mux *m, const char *username, sfu_ice_mux_cred *c)
{
    return sfu_ice_mux_find_username(m, (const uint8_t *)username, strlen(username), c);
}

/* Each row: a USERNAME from the network and the owner/generation it must
 * find (0: none). Table: owner 1 gen 1 "aaaa"/remote "cli1", owner 2 gen 1
 * "bbbb"/"cli2", owner 2 gen 2 "cccc" (restart, no remote yet). */
TEST(usernames)
{
    sfu_ice_mux *m = sfu_ice_mux_new();
    ASSERT(m != NULL);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "aaaa", "pwd-a-0123456789012345", 1, 1), 0);
    ASSERT_EQ(sfu_ice_mux_set_remote(m, "aaaa", "cli1"), 0);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "bbbb", "pwd-b-0123456789012345", 2, 1), 0);
    ASSERT_EQ(sfu_ice_mux_set_remote(m, "bbbb", "cli2"), 0);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "cccc", "pwd-c-0123456789012345", 2, 2), 0);
    static const struct {
        const char *username;
        uint32_t owner, gen;
    } rows[] = {
        { "aaaa:cli1", 1, 1 },
        { "bbbb:cli2", 2, 1 },
        { "aaaa:cli2", 0, 0 },          /* another session's client */
        { "aaaa:cli", 0, 0 },           /* a prefix of the remote ufrag */
        { "aaaa:cli11", 0, 0 },
        { "aaaa", 0, 0 },               /* no colon */
        { "aaaa:", 0, 0 },
        { ":cli1", 0, 0 },
        { "aaa:cli1", 0, 0 },           /* a prefix of the local ufrag */
        { "zzzz:cli1", 0, 0 },          /* unknown ufrag */
        { "cccc:cli3", 0, 0 },          /* remote ufrag not known yet */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sfu_ice_mux_cred c = { 0 };
        bool ok = find(m, rows[i].username, &c);
        if (ok != (rows[i].owner != 0))
            fprintf(stderr, "  row: %s\n", rows[i].username);
        ASSERT_EQ(ok, rows[i].owner != 0);
        if (ok) {
            ASSERT_EQ(c.owner, rows[i].owner);
            ASSERT_EQ(c.gen, rows[i].gen);
        }
    }
    sfu_ice_mux_cred c;
    ASSERT(find(m, "aaaa:cli1", &c));
    ASSERT_STR_EQ(c.pwd, "pwd-a-0123456789012345");
    /* the restart's generation once its client's ufrag is known */
    ASSERT_EQ(sfu_ice_mux_set_remote(m, "cccc", "cli3"), 0);
    ASSERT(find(m, "cccc:cli3", &c));
    ASSERT_EQ(c.gen, 2);
    ASSERT(find(m, "bbbb:cli2", &c));   /* the old generation still answers */
    /* the old generation freed */
    sfu_ice_mux_remove_ufrag(m, "bbbb");
    ASSERT(!find(m, "bbbb:cli2", &c));
    ASSERT(find(m, "cccc:cli3", &c));
    ASSERT_EQ(sfu_ice_mux_ufrags(m), 2);
    sfu_ice_mux_free(m);
    return 0;
}

TEST(bad_registrations)
{
    sfu_ice_mux *m = sfu_ice_mux_new();
    char long_ufrag[SFU_ICE_MUX_UFRAG_MAX + 2];
    memset(long_ufrag, 'x', sizeof long_ufrag - 1);
    long_ufrag[sizeof long_ufrag - 1] = '\0';
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "", "pwd", 1, 1), -SFU_EINVAL);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, long_ufrag, "pwd", 1, 1), -SFU_EINVAL);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "a:b", "pwd", 1, 1), -SFU_EINVAL);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "abcd", "pwd", 0, 1), -SFU_EINVAL);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "abcd", "", 1, 1), -SFU_EINVAL);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "abcd", "pwd", 1, 1), 0);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "abcd", "pwd2", 2, 1), -SFU_ESTATE);
    ASSERT_EQ(sfu_ice_mux_set_remote(m, "nope", "x"), -SFU_ENOTFOUND);
    ASSERT_EQ(sfu_ice_mux_set_remote(m, "abcd", long_ufrag), -SFU_EINVAL);
    ASSERT_EQ(sfu_ice_mux_ufrags(m), 1);
    sfu_ice_mux_addr bad = { .family = 5 };
    ASSERT_EQ(sfu_ice_mux_bind(m, &bad, 1), -SFU_EINVAL);
    sfu_ice_mux_addr a = v4(1, 5000);
    ASSERT_EQ(sfu_ice_mux_bind(m, &a, 0), -SFU_EINVAL);
    ASSERT_EQ(sfu_ice_mux_addrs(m), 0);
    sfu_ice_mux_free(m);
    return 0;
}

/* Bind, rebind (another owner's valid check), the per-owner cap, removal. */
TEST(addresses)
{
    sfu_ice_mux *m = sfu_ice_mux_new();
    sfu_ice_mux_addr a = v4(1, 5000), b = v4(1, 5001), v6 = { .family = 6, .port = 5000 };
    v6.ip[15] = 1;
    ASSERT_EQ(sfu_ice_mux_lookup(m, &a), 0);
    ASSERT_EQ(sfu_ice_mux_bind(m, &a, 7), 1);
    ASSERT_EQ(sfu_ice_mux_bind(m, &a, 7), 0);           /* again: nothing new */
    ASSERT_EQ(sfu_ice_mux_lookup(m, &a), 7);
    ASSERT_EQ(sfu_ice_mux_lookup(m, &b), 0);            /* another port */
    ASSERT_EQ(sfu_ice_mux_bind(m, &v6, 8), 1);
    ASSERT_EQ(sfu_ice_mux_lookup(m, &v6), 8);
    /* the same address, a valid check for another session: it moves */
    ASSERT_EQ(sfu_ice_mux_bind(m, &a, 8), 1);
    ASSERT_EQ(sfu_ice_mux_lookup(m, &a), 8);
    ASSERT_EQ(sfu_ice_mux_addrs(m), 2);
    /* at most SFU_ICE_MUX_ADDRS_PER_OWNER per owner: the oldest goes */
    for (uint16_t p = 0; p < SFU_ICE_MUX_ADDRS_PER_OWNER + 2; p++) {
        sfu_ice_mux_addr x = v4(9, (uint16_t)(6000 + p));
        ASSERT_EQ(sfu_ice_mux_bind(m, &x, 9), 1);
    }
    sfu_ice_mux_addr first = v4(9, 6000), second = v4(9, 6001),
                     last = v4(9, 6000 + SFU_ICE_MUX_ADDRS_PER_OWNER + 1);
    ASSERT_EQ(sfu_ice_mux_lookup(m, &first), 0);
    ASSERT_EQ(sfu_ice_mux_lookup(m, &second), 0);
    ASSERT_EQ(sfu_ice_mux_lookup(m, &last), 9);
    ASSERT_EQ(sfu_ice_mux_addrs(m), 2 + SFU_ICE_MUX_ADDRS_PER_OWNER);
    /* removal forgets everything of the owner, nothing of the others */
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "nine", "pwd9", 9, 1), 0);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "ninf", "pwd9", 9, 2), 0);
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "eigh", "pwd8", 8, 1), 0);
    sfu_ice_mux_remove_owner(m, 9);
    ASSERT_EQ(sfu_ice_mux_lookup(m, &last), 0);
    ASSERT_EQ(sfu_ice_mux_addrs(m), 2);
    ASSERT_EQ(sfu_ice_mux_ufrags(m), 1);
    ASSERT_EQ(sfu_ice_mux_lookup(m, &a), 8);
    sfu_ice_mux_remove_owner(m, 8);
    ASSERT_EQ(sfu_ice_mux_addrs(m), 0);
    ASSERT_EQ(sfu_ice_mux_ufrags(m), 0);
    sfu_ice_mux_free(m);
    return 0;
}

/* Many sessions come and go (growth, backward-shift deletion): every live
 * entry is still found, every removed one is not. */
TEST(churn)
{
    sfu_ice_mux *m = sfu_ice_mux_new();
    enum { N = 3000 };
    char u[16];
    for (uint32_t o = 1; o <= N; o++) {
        snprintf(u, sizeof u, "u%u", o);
        ASSERT_EQ(sfu_ice_mux_add_ufrag(m, u, "password", o, 1), 0);
        ASSERT_EQ(sfu_ice_mux_set_remote(m, u, "r"), 0);
        sfu_ice_mux_addr a = v4((uint8_t)o, (uint16_t)(1000 + o));
        ASSERT_EQ(sfu_ice_mux_bind(m, &a, o), 1);
    }
    for (uint32_t o = 1; o <= N; o += 3)
        sfu_ice_mux_remove_owner(m, o);
    for (uint32_t o = 1; o <= N; o++) {
        bool live = (o - 1) % 3 != 0;
        char name[24];
        snprintf(name, sizeof name, "u%u:r", o);
        sfu_ice_mux_cred c = { 0 };
        ASSERT_EQ(find(m, name, &c), live);
        if (live)
            ASSERT_EQ(c.owner, o);
        sfu_ice_mux_addr a = v4((uint8_t)o, (uint16_t)(1000 + o));
        ASSERT_EQ(sfu_ice_mux_lookup(m, &a), live ? o : 0);
    }
    ASSERT_EQ(sfu_ice_mux_ufrags(m), N - N / 3);
    ASSERT_EQ(sfu_ice_mux_addrs(m), N - N / 3);
    sfu_ice_mux_free(m);
    return 0;
}

/* A hostile flood: random usernames and addresses find nothing and change
 * nothing. */
TEST(flood_changes_nothing)
{
    sfu_ice_mux *m = sfu_ice_mux_new();
    ASSERT_EQ(sfu_ice_mux_add_ufrag(m, "live", "pwd", 1, 1), 0);
    ASSERT_EQ(sfu_ice_mux_set_remote(m, "live", "cli"), 0);
    sfu_ice_mux_addr a = v4(1, 5000);
    ASSERT_EQ(sfu_ice_mux_bind(m, &a, 1), 1);
    uint32_t x = 12345;
    unsigned found = 0;
    for (int i = 0; i < 200000; i++) {
        uint8_t user[40];
        size_t n = 1 + (x % sizeof user);
        for (size_t k = 0; k < n; k++) {
            x = x * 1103515245u + 12345u;
            user[k] = (uint8_t)(x >> 16);
        }
        if (i % 2)
            user[x % n] = ':';
        sfu_ice_mux_cred c;
        found += sfu_ice_mux_find_username(m, user, n, &c);
        sfu_ice_mux_addr r = v4((uint8_t)(x >> 8), (uint16_t)x);
        r.ip[1] = (uint8_t)(x >> 24);
        if (sfu_ice_mux_lookup(m, &r) != 0 && !(r.ip[1] == 0 && r.ip[3] == 1 && r.port == 5000))
            found++;
    }
    ASSERT_EQ(found, 0);
    ASSERT_EQ(sfu_ice_mux_ufrags(m), 1);
    ASSERT_EQ(sfu_ice_mux_addrs(m), 1);
    ASSERT_EQ(sfu_ice_mux_lookup(m, &a), 1);
    sfu_ice_mux_free(m);
    return 0;
}

TEST_LIST(TEST_ENTRY(usernames), TEST_ENTRY(bad_registrations), TEST_ENTRY(addresses),
          TEST_ENTRY(churn), TEST_ENTRY(flood_changes_nothing))
