/* Link: rel="ice-server" values (RFC 9725 4.6) and TURN REST credentials.
 * The expected credentials were computed independently with python3:
 * base64.b64encode(hmac.new(b"north-turn-secret", user, hashlib.sha1).digest()). */
#include "signaling/ice_servers.h"
#include "tests/test.h"

#define NOW 1700000000
#define TURN_SECRET "north-turn-secret"

static void set_list(sig_config_list *l, const char *a, const char *b)
{
    memset(l, 0, sizeof *l);
    if (a)
        snprintf(l->item[l->count++], SIG_CONFIG_STR_MAX, "%s", a);
    if (b)
        snprintf(l->item[l->count++], SIG_CONFIG_STR_MAX, "%s", b);
}

TEST(turn_rest_vectors)
{
    static const struct {
        const char *name, *user, *cred;
    } cases[] = {
        { "p1", "1700086400:p1", "ENRAFk7VsaviWsUAo3HdunEIvX0=" },
        { "sfu", "1700086400:sfu", "1zA/NgJcqfuGHql995SA7U8clVo=" },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        char user[SIG_ICE_TURN_USER_MAX], cred[SIG_ICE_TURN_CRED_MAX];
        ASSERT_EQ(sig_ice_turn_credentials(TURN_SECRET, NOW + 86400, cases[i].name, user,
                                           sizeof user, cred, sizeof cred), 0);
        ASSERT_STR_EQ(user, cases[i].user);
        ASSERT_STR_EQ(cred, cases[i].cred);
    }
    char user[SIG_ICE_TURN_USER_MAX], cred[SIG_ICE_TURN_CRED_MAX];
    ASSERT_EQ(sig_ice_turn_credentials("", NOW, "p1", user, sizeof user, cred, sizeof cred),
              -SFU_EINVAL);
    ASSERT_EQ(sig_ice_turn_credentials(TURN_SECRET, NOW, "a:b", user, sizeof user, cred,
                                       sizeof cred), -SFU_EINVAL);
    ASSERT_EQ(sig_ice_turn_credentials(TURN_SECRET, NOW, "p1", user, 8, cred, sizeof cred),
              -SFU_EINVAL);
    ASSERT_EQ(sig_ice_turn_credentials(TURN_SECRET, NOW, "p1", user, sizeof user, cred, 28),
              -SFU_EINVAL);
    return 0;
}

TEST(links_table)
{
    static const struct {
        const char *what;
        const char *stun[2], *turn[2];
        const char *secret, *user, *cred, *name;
        int rc;
        unsigned count;
        const char *want[4];
    } cases[] = {
        { "nothing configured", { 0 }, { 0 }, "", "", "", NULL, 0, 0, { 0 } },
        { "stun only", { "stun:stun.example.net", "stuns:[2001:db8::1]:5349" }, { 0 }, "", "",
          "", NULL, 0, 2,
          { "<stun:stun.example.net>; rel=\"ice-server\"",
            "<stuns:[2001:db8::1]:5349>; rel=\"ice-server\"" } },
        { "turn with secret", { "stun:s.example.net:3478" },
          { "turn:t.example.net:3478?transport=udp", "turns:t.example.net:5349?transport=tcp" },
          TURN_SECRET, "", "", "p1", 0, 3,
          { "<stun:s.example.net:3478>; rel=\"ice-server\"",
            "<turn:t.example.net:3478?transport=udp>; rel=\"ice-server\"; "
            "username=\"1700086400:p1\"; credential=\"ENRAFk7VsaviWsUAo3HdunEIvX0=\"; "
            "credential-type=\"password\"",
            "<turns:t.example.net:5349?transport=tcp>; rel=\"ice-server\"; "
            "username=\"1700086400:p1\"; credential=\"ENRAFk7VsaviWsUAo3HdunEIvX0=\"; "
            "credential-type=\"password\"" } },
        { "turn with secret, no name", { 0 }, { "turn:192.0.2.1" }, TURN_SECRET, "", "", NULL, 0,
          1,
          { "<turn:192.0.2.1>; rel=\"ice-server\"; username=\"1700086400:sfu\"; "
            "credential=\"1zA/NgJcqfuGHql995SA7U8clVo=\"; credential-type=\"password\"" } },
        { "fixed credentials escaped", { 0 }, { "turn:192.0.2.1:3478" }, "", "u\"ser",
          "pa\\ss word", "p1", 0, 1,
          { "<turn:192.0.2.1:3478>; rel=\"ice-server\"; username=\"u\\\"ser\"; "
            "credential=\"pa\\\\ss word\"; credential-type=\"password\"" } },
        { "control char in credential", { "stun:s.example.net" }, { "turn:192.0.2.1" }, "",
          "user", "pa\rss", "p1", -SFU_EINVAL, 0, { 0 } },
        { "non-ascii username", { 0 }, { "turn:192.0.2.1" }, "", "us\xc3\xa9r", "x", "p1",
          -SFU_EINVAL, 0, { 0 } },
        { "bad name", { "stun:s.example.net" }, { 0 }, "", "", "", "a b", -SFU_EINVAL, 0, { 0 } },
        { "uri with angle bracket", { "stun:s.example.net>;rel=x" }, { 0 }, "", "", "", NULL,
          -SFU_EINVAL, 0, { 0 } },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        static sig_config cfg;
        static sig_ice_links links;
        sig_config_defaults(&cfg);
        set_list(&cfg.ice.stun_urls, cases[i].stun[0], cases[i].stun[1]);
        set_list(&cfg.turn.urls, cases[i].turn[0], cases[i].turn[1]);
        snprintf(cfg.turn.secret, sizeof cfg.turn.secret, "%s", cases[i].secret);
        snprintf(cfg.turn.username, sizeof cfg.turn.username, "%s", cases[i].user);
        snprintf(cfg.turn.credential, sizeof cfg.turn.credential, "%s", cases[i].cred);
        cfg.turn.ttl_s = 86400;
        links.count = 99;
        int rc = sig_ice_servers_links(&cfg, NOW, cases[i].name, &links);
        if (rc != cases[i].rc || links.count != cases[i].count)
            fprintf(stderr, "  case \"%s\"\n", cases[i].what);
        ASSERT_EQ(rc, cases[i].rc);
        ASSERT_EQ(links.count, cases[i].count);
        for (unsigned k = 0; k < links.count; k++)
            ASSERT_STR_EQ(links.value[k], cases[i].want[k]);
    }
    return 0;
}

TEST(ttl_and_full_lists)
{
    static sig_config cfg;
    static sig_ice_links links;
    sig_config_defaults(&cfg);
    for (unsigned i = 0; i < SIG_CONFIG_LIST_MAX; i++) {
        snprintf(cfg.ice.stun_urls.item[i], SIG_CONFIG_STR_MAX, "stun:s%u.example.net", i);
        snprintf(cfg.turn.urls.item[i], SIG_CONFIG_STR_MAX, "turn:t%u.example.net", i);
    }
    cfg.ice.stun_urls.count = cfg.turn.urls.count = SIG_CONFIG_LIST_MAX;
    snprintf(cfg.turn.secret, sizeof cfg.turn.secret, "%s", TURN_SECRET);
    cfg.turn.ttl_s = 600;
    ASSERT_EQ(sig_ice_servers_links(&cfg, NOW, "p9", &links), 0);
    ASSERT_EQ(links.count, 2 * SIG_CONFIG_LIST_MAX);
    ASSERT(strstr(links.value[SIG_CONFIG_LIST_MAX], "username=\"1700000600:p9\""));
    ASSERT(strstr(links.value[2 * SIG_CONFIG_LIST_MAX - 1], "<turn:t7.example.net>"));
    /* Longest fixed credentials, every byte escaped, still fit. */
    memset(&cfg.turn.secret, 0, sizeof cfg.turn.secret);
    memset(cfg.turn.username, '"', SIG_CONFIG_STR_MAX - 1);
    memset(cfg.turn.credential, '\\', SIG_CONFIG_STR_MAX - 1);
    memset(cfg.turn.urls.item[0], 'a', SIG_CONFIG_STR_MAX - 1);
    memcpy(cfg.turn.urls.item[0], "turn:", 5);
    ASSERT_EQ(sig_ice_servers_links(&cfg, NOW, NULL, &links), 0);
    ASSERT_EQ(links.count, 2 * SIG_CONFIG_LIST_MAX);
    ASSERT_LT(strlen(links.value[SIG_CONFIG_LIST_MAX]), SIG_ICE_LINK_LEN);
    ASSERT(strstr(links.value[SIG_CONFIG_LIST_MAX], "credential-type=\"password\""));
    ASSERT_EQ(sig_ice_servers_links(NULL, NOW, NULL, &links), -SFU_EINVAL);
    ASSERT_EQ(links.count, 0);
    return 0;
}

TEST_LIST(TEST_ENTRY(turn_rest_vectors), TEST_ENTRY(links_table), TEST_ENTRY(ttl_and_full_lists))
