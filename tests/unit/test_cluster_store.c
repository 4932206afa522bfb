/* The cluster directory's pure logic: URLs, sealed node records, the owner
 * choice by load, rooms summaries without client data, GET /rooms merged
 * over nodes, redirect locations. No Redis. */
#include <glib.h>
#include <stdlib.h>

#include "sfu/core/common.h"
#include "signaling/cluster_store.h"
#include "tests/test.h"

#define SECRET "0123456789abcdef0123456789abcdef"

TEST(redis_urls)
{
    static const struct {
        const char *url;
        int rc;
        const char *host;
        unsigned port, db;
    } cases[] = {
        { "redis://127.0.0.1:6380/2", 0, "127.0.0.1", 6380, 2 },
        { "redis://redis.internal", 0, "redis.internal", 6379, 0 },
        { "redis://redis.internal/", 0, "redis.internal", 6379, 0 },
        { "redis://[::1]:7000/15", 0, "::1", 7000, 15 },
        { "redis://h:1/65535", 0, "h", 1, 65535 },
        { "http://127.0.0.1:6379/0", -1, NULL, 0, 0 },
        { "redis://:pw@127.0.0.1:6379/0", -1, NULL, 0, 0 },
        { "redis://127.0.0.1:6379/0?x=1", -1, NULL, 0, 0 },
        { "redis://127.0.0.1:0/0", -1, NULL, 0, 0 },
        { "redis://127.0.0.1:65536/0", -1, NULL, 0, 0 },
        { "redis://127.0.0.1:6379/a", -1, NULL, 0, 0 },
        { "redis://127.0.0.1:6379/65536", -1, NULL, 0, 0 },
        { "redis://[::1/0", -1, NULL, 0, 0 },
        { "redis://[zz]:1/0", -1, NULL, 0, 0 },
        { "redis:///0", -1, NULL, 0, 0 },
        { "redis://a b:1/0", -1, NULL, 0, 0 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        sig_redis_addr a = { .port = 1 };
        char why[256] = "";
        int rc = sig_cluster_parse_redis_url(cases[i].url, &a, why, sizeof why);
        if ((rc == 0) != (cases[i].rc == 0))
            fprintf(stderr, "  %s: %s\n", cases[i].url, why);
        ASSERT_EQ(rc == 0, cases[i].rc == 0);
        if (rc == 0) {
            ASSERT_STR_EQ(a.host, cases[i].host);
            ASSERT_EQ(a.port, cases[i].port);
            ASSERT_EQ(a.db, cases[i].db);
        } else {
            ASSERT(why[0] != '\0');
        }
    }
    return 0;
}

TEST(public_urls_and_ids)
{
    static const struct {
        const char *url;
        bool ok;
    } urls[] = {
        { "http://127.0.0.1:8080", true }, { "https://sfu-2.example.org", true },
        { "http://[2001:db8::1]:8443/", true }, { "ftp://h:1", false },
        { "http://h:1/path", false }, { "http://user@h:1", false }, { "http://h:1?x", false },
        { "http://", false }, { "", false },
    };
    char why[256];
    for (size_t i = 0; i < SFU_ARRAY_LEN(urls); i++)
        ASSERT_EQ(sig_cluster_check_public_url(urls[i].url, why, sizeof why) == 0, urls[i].ok);
    ASSERT(sig_cluster_valid_node_id("node-a.1_x"));
    ASSERT(!sig_cluster_valid_node_id(""));
    ASSERT(!sig_cluster_valid_node_id("a b"));
    ASSERT(!sig_cluster_valid_node_id("a:b"));
    char long_id[80];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    ASSERT(!sig_cluster_valid_node_id(long_id));
    long_id[64] = '\0';
    ASSERT(sig_cluster_valid_node_id(long_id));
    return 0;
}

static sig_cluster_node node(const char *id, uint32_t sessions, uint32_t max, uint32_t cpu)
{
    sig_cluster_node n = { .sessions = sessions, .max_sessions = max, .cpu_permille = cpu,
                           .rooms = 3, .bitrate_bps = 1234567 };
    g_strlcpy(n.id, id, sizeof n.id);
    g_strlcpy(n.url, "http://127.0.0.1:8080", sizeof n.url);
    return n;
}

TEST(node_records_round_trip_and_seal)
{
    sig_cluster_node a = node("a", 10, 100, 250), back;
    for (int sealed = 0; sealed < 2; sealed++) {
        const char *secret = sealed ? SECRET : "";
        char *rec = sig_cluster_node_encode(&a, secret);
        ASSERT(rec);
        ASSERT_EQ(sig_cluster_node_decode(rec, strlen(rec), secret, "a", &back), 0);
        ASSERT_STR_EQ(back.id, "a");
        ASSERT_STR_EQ(back.url, a.url);
        ASSERT_EQ(back.sessions, 10);
        ASSERT_EQ(back.max_sessions, 100);
        ASSERT_EQ(back.cpu_permille, 250);
        ASSERT_EQ(back.rooms, 3);
        ASSERT_EQ(back.bitrate_bps, 1234567);
        /* Stored under another node's key: refused. */
        ASSERT_EQ(sig_cluster_node_decode(rec, strlen(rec), secret, "b", &back), -SFU_EMALFORMED);
        /* Sealed where none is expected, or the other way round. */
        ASSERT_EQ(sig_cluster_node_decode(rec, strlen(rec), sealed ? "" : SECRET, "a", &back),
                  -SFU_EMALFORMED);
        g_free(rec);
    }
    /* Tampered: the URL changed after sealing. */
    char *rec = sig_cluster_node_encode(&a, SECRET);
    char *at = strstr(rec, "127.0.0.1");
    at[0] = '9';
    ASSERT_EQ(sig_cluster_node_decode(rec, strlen(rec), SECRET, "a", &back), -SFU_EMALFORMED);
    g_free(rec);
    /* Well sealed but wrong content. */
    static const char *const bad[] = {
        "{\"v\":2,\"id\":\"a\",\"url\":\"http://h:1\",\"sessions\":0,\"max_sessions\":0,"
        "\"rooms\":0,\"cpu_permille\":0,\"bitrate_bps\":0}",
        "{\"v\":1,\"id\":\"a\",\"url\":\"javascript:x\",\"sessions\":0,\"max_sessions\":0,"
        "\"rooms\":0,\"cpu_permille\":0,\"bitrate_bps\":0}",
        "{\"v\":1,\"id\":\"a\",\"url\":\"http://h:1\",\"sessions\":-1,\"max_sessions\":0,"
        "\"rooms\":0,\"cpu_permille\":0,\"bitrate_bps\":0}",
        "{\"v\":1,\"id\":\"a\",\"url\":\"http://h:1\"}",
        "[]", "", "not json",
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(bad); i++) {
        char *s = sig_cluster_seal(bad[i], SECRET);
        ASSERT_EQ(sig_cluster_node_decode(s, strlen(s), SECRET, NULL, &back), -SFU_EMALFORMED);
        g_free(s);
    }
    return 0;
}

TEST(owner_choice_by_load)
{
    /* Load: the larger of the session share and the CPU share. */
    sig_cluster_node n1 = node("n1", 50, 100, 100);
    ASSERT(sig_cluster_load(&n1) > 0.49 && sig_cluster_load(&n1) < 0.51);
    sig_cluster_node n2 = node("n2", 0, 100, 700);
    ASSERT(sig_cluster_load(&n2) > 0.69 && sig_cluster_load(&n2) < 0.71);
    sig_cluster_node full = node("z", 0, 0, 0);     /* no session budget: full */
    ASSERT(sig_cluster_load(&full) >= 1.0);

    sig_cluster_node set[] = { node("a", 80, 100, 0), node("b", 10, 100, 0),
                               node("c", 30, 100, 0) };
    ASSERT_EQ(sig_cluster_pick(set, 3, "a"), 1);    /* the least loaded */
    ASSERT_EQ(sig_cluster_pick(set, 3, NULL), 1);
    ASSERT_EQ(sig_cluster_pick(set, 0, "a"), -1);
    /* Within the margin, this node keeps the room (no redirect). */
    sig_cluster_node close[] = { node("a", 14, 100, 0), node("b", 10, 100, 0) };
    ASSERT_EQ(sig_cluster_pick(close, 2, "a"), 0);
    sig_cluster_node far[] = { node("a", 16, 100, 0), node("b", 10, 100, 0) };
    ASSERT_EQ(sig_cluster_pick(far, 2, "a"), 1);
    /* Ties go to the smaller id, whoever asks. */
    sig_cluster_node tie[] = { node("b", 10, 100, 0), node("a", 10, 100, 0),
                               node("c", 10, 100, 0) };
    ASSERT_EQ(sig_cluster_pick(tie, 3, "zz"), 1);
    return 0;
}

static const char ROOMS_JSON[] =
    "{\"rooms\":[{\"room\":\"demo\",\"participants\":[{\"participant\":\"51bc79ba\","
    "\"name\":\"Alice\",\"address\":\"192.0.2.7:50000\",\"token\":\"x\",\"tracks\":["
    "{\"kind\":\"audio\",\"mid\":\"0\",\"codec\":\"opus\",\"bitrate_bps\":40000},"
    "{\"kind\":\"video\",\"mid\":\"1\",\"codec\":\"VP8\",\"bitrate_bps\":800000,\"x\":1}]}]}]}";

TEST(summary_drops_names_and_addresses)
{
    uint64_t bps = 0;
    char *s = sig_cluster_summary(ROOMS_JSON, "node-a", &bps);
    ASSERT(s);
    ASSERT_EQ(bps, 840000);
    ASSERT(strstr(s, "\"node\":\"node-a\""));
    ASSERT(strstr(s, "51bc79ba"));
    ASSERT(strstr(s, "\"codec\":\"VP8\""));
    ASSERT(!strstr(s, "Alice"));
    ASSERT(!strstr(s, "192.0.2.7"));
    ASSERT(!strstr(s, "\"name\""));
    ASSERT(!strstr(s, "token"));
    ASSERT(!strstr(s, "\"x\""));
    /* Read back by another node: the rooms, each with its node. */
    char *rooms = sig_cluster_summary_rooms(s, strlen(s), "node-a");
    ASSERT(rooms);
    ASSERT(strstr(rooms, "\"node\":\"node-a\""));
    ASSERT(strstr(rooms, "\"room\":\"demo\""));
    ASSERT(sig_cluster_summary_rooms(s, strlen(s), "node-b") == NULL);   /* not its own */
    free(rooms);
    free(s);
    ASSERT(sig_cluster_summary("[]", "a", &bps) == NULL);
    ASSERT(sig_cluster_summary("nope", "a", &bps) == NULL);
    return 0;
}

TEST(summary_from_redis_is_rebuilt)
{
    /* Whatever else a record carries, only room, participant ids and
     * tracks come out; a bad room name or participant id is skipped. */
    static const char stored[] =
        "{\"node\":\"b\",\"rooms\":[{\"room\":\"ok\",\"evil\":1,\"participants\":["
        "{\"participant\":\"0000000a\",\"name\":\"Bob\",\"tracks\":[]},"
        "{\"participant\":\"../x\",\"tracks\":[]}]},"
        "{\"room\":\"bad room\",\"participants\":[]},{\"room\":7},\"str\"]}";
    char *rooms = sig_cluster_summary_rooms(stored, strlen(stored), "b");
    ASSERT(rooms);
    ASSERT_STR_EQ(rooms, "[{\"room\":\"ok\",\"participants\":[{\"participant\":\"0000000a\","
                         "\"tracks\":[]}],\"node\":\"b\"}]");
    free(rooms);
    return 0;
}

TEST(rooms_merge)
{
    static const char local[] =
        "{\"rooms\":[{\"room\":\"here\",\"participants\":[{\"participant\":\"00000001\","
        "\"name\":\"Me\",\"tracks\":[]}]}]}";
    const char *remote[] = {
        "[{\"room\":\"there\",\"participants\":[],\"node\":\"b\"},"
        "{\"room\":\"here\",\"participants\":[],\"node\":\"b\"}]",
        NULL,
        "[{\"room\":\"far\",\"participants\":[],\"node\":\"c\"}]",
    };
    char *m = sig_cluster_rooms_merge(local, "a", remote, 3);
    ASSERT(m);
    ASSERT_STR_EQ(m, "{\"rooms\":[{\"room\":\"here\",\"participants\":[{\"participant\":"
                     "\"00000001\",\"name\":\"Me\",\"tracks\":[]}],\"node\":\"a\"},"
                     "{\"room\":\"there\",\"participants\":[],\"node\":\"b\"},"
                     "{\"room\":\"far\",\"participants\":[],\"node\":\"c\"}]}");
    free(m);
    ASSERT(sig_cluster_rooms_merge("{}", "a", remote, 3) == NULL);
    return 0;
}

TEST(redirect_location)
{
    char out[256];
    sig_cluster_query args[] = { { "name", "Zoë & co" }, { "participant", "0000000a" } };
    ASSERT_EQ(sig_cluster_location("http://127.0.0.1:8081/", "/whip/demo", args, 2, out,
                                   sizeof out), 0);
    ASSERT_STR_EQ(out, "http://127.0.0.1:8081/whip/demo?name=Zo%C3%AB%20%26%20co"
                       "&participant=0000000a");
    ASSERT_EQ(sig_cluster_location("https://h", "/rooms/x/join", NULL, 0, out, sizeof out), 0);
    ASSERT_STR_EQ(out, "https://h/rooms/x/join");
    ASSERT_EQ(sig_cluster_location("https://h", "/rooms/x/join", NULL, 0, out, 10),
              -SFU_ELIMIT);
    return 0;
}

TEST_LIST(TEST_ENTRY(redis_urls), TEST_ENTRY(public_urls_and_ids),
          TEST_ENTRY(node_records_round_trip_and_seal), TEST_ENTRY(owner_choice_by_load),
          TEST_ENTRY(summary_drops_names_and_addresses), TEST_ENTRY(summary_from_redis_is_rebuilt),
          TEST_ENTRY(rooms_merge), TEST_ENTRY(redirect_location))
