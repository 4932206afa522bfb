/* Rooms spanning nodes, the pure parts: the sealed request and response
 * bodies of POST /cluster/span (round trips, every refusal), the loop rule
 * (what a node offers another) and the diff (what a node opens and closes
 * to match an offer). */
#include <glib.h>
#include <stdlib.h>

#include "sfu/core/common.h"
#include "signaling/span_msg.h"
#include "tests/test.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW 1700000000

static sig_span_request *a_request(void)
{
    sig_span_request *r = g_new0(sig_span_request, 1);
    g_strlcpy(r->node, "node-b", sizeof r->node);
    g_strlcpy(r->url, "http://10.0.0.2:8080", sizeof r->url);
    g_strlcpy(r->room, "standup", sizeof r->room);
    r->ts = NOW;
    r->nmembers = 2;
    r->members[0] = (sig_span_member){ .participant = 0x0a1b2c3d, .name = "Zoë" };
    r->members[1] = (sig_span_member){ .participant = 0xdeadbeef, .name = "" };
    return r;
}

TEST(request_round_trip)
{
    sig_span_request *r = a_request(), *back = g_new0(sig_span_request, 1);
    char *text = sig_span_request_encode(r, SECRET);
    ASSERT(text != NULL);
    char why[128] = "";
    ASSERT_EQ(sig_span_request_decode(text, strlen(text), SECRET, NOW + 59, back, why, sizeof why),
              0);
    ASSERT_STR_EQ(back->node, "node-b");
    ASSERT_STR_EQ(back->url, "http://10.0.0.2:8080");
    ASSERT_STR_EQ(back->room, "standup");
    ASSERT_EQ(back->ts, NOW);
    ASSERT_EQ(back->nmembers, 2u);
    ASSERT_EQ(back->members[0].participant, 0x0a1b2c3du);
    ASSERT_STR_EQ(back->members[0].name, "Zoë");
    ASSERT_EQ(back->members[1].participant, 0xdeadbeefu);
    ASSERT_STR_EQ(back->members[1].name, "");
    /* An empty offer (a satellite leaving) is a request too. */
    r->nmembers = 0;
    char *empty = sig_span_request_encode(r, SECRET);
    ASSERT_EQ(sig_span_request_decode(empty, strlen(empty), SECRET, NOW, back, why, sizeof why), 0);
    ASSERT_EQ(back->nmembers, 0u);
    g_free(empty);
    g_free(text);
    g_free(back);
    g_free(r);
    return 0;
}

TEST(request_refusals)
{
    sig_span_request *r = a_request(), *out = g_new0(sig_span_request, 1);
    char *good = sig_span_request_encode(r, SECRET);
    char why[128];
    out->nmembers = 77;
    ASSERT_EQ(sig_span_request_decode(good, strlen(good), "another-secret-0123456789abcdefgh", NOW,
                                      out, why, sizeof why), -SFU_EMALFORMED);
    ASSERT_EQ(sig_span_request_decode(good, strlen(good), "", NOW, out, why, sizeof why),
              -SFU_EMALFORMED);
    ASSERT_EQ(sig_span_request_decode(good, strlen(good), SECRET, NOW + 61, out, why, sizeof why),
              -SFU_EMALFORMED);
    ASSERT_STR_EQ(why, "stale or future timestamp");
    ASSERT_EQ(sig_span_request_decode(good, strlen(good), SECRET, NOW - 61, out, why, sizeof why),
              -SFU_EMALFORMED);
    char *bad = g_strdup(good);
    bad[strlen(bad) - 3] ^= 1;
    ASSERT_EQ(sig_span_request_decode(bad, strlen(bad), SECRET, NOW, out, why, sizeof why),
              -SFU_EMALFORMED);
    g_free(bad);
    g_free(good);
#define HEAD "{\"v\":1,\"node\":\"b\",\"url\":\"http://h:1\",\"room\":\"r\",\"ts\":1700000000,"
    static const char *const bodies[] = {
        "{\"v\":2,\"node\":\"b\",\"url\":\"http://h:1\",\"room\":\"r\",\"ts\":1700000000,\"members\":[]}",
        "{\"v\":1,\"node\":\"b b\",\"url\":\"http://h:1\",\"room\":\"r\",\"ts\":1700000000,\"members\":[]}",
        "{\"v\":1,\"node\":\"b\",\"url\":\"ftp://h:1\",\"room\":\"r\",\"ts\":1700000000,\"members\":[]}",
        "{\"v\":1,\"node\":\"b\",\"url\":\"http://h:1/path\",\"room\":\"r\",\"ts\":1700000000,\"members\":[]}",
        "{\"v\":1,\"node\":\"b\",\"url\":\"http://h:1\",\"room\":\"~r\",\"ts\":1700000000,\"members\":[]}",
        "{\"v\":1,\"node\":\"b\",\"url\":\"http://h:1\",\"room\":\"r\",\"ts\":\"now\",\"members\":[]}",
        HEAD "\"members\":{}}",
        HEAD "\"members\":[1]}",
        HEAD "\"members\":[{\"id\":\"00000000\",\"name\":\"x\"}]}",
        HEAD "\"members\":[{\"id\":\"0A1B2C3D\",\"name\":\"x\"}]}",
        HEAD "\"members\":[{\"id\":\"0a1b2c3\",\"name\":\"x\"}]}",
        HEAD "\"members\":[{\"id\":\"0a1b2c3d\"}]}",
        HEAD "\"members\":[{\"id\":\"0a1b2c3d\",\"name\":\"a\\nb\"}]}",
        HEAD "\"members\":[{\"id\":\"0a1b2c3d\",\"name\":\"a\\u0000b\"}]}",
        HEAD "\"members\":[{\"id\":\"0a1b2c3d\",\"name\":\"" /* 65 bytes */
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}",
        HEAD "\"members\":[{\"id\":\"0a1b2c3d\",\"name\":\"x\"},{\"id\":\"0a1b2c3d\",\"name\":\"y\"}]}",
        HEAD "\"members\":[],\"members\":[]}",
        "[1,2,3]",
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(bodies); i++) {
        char *text = sig_cluster_seal(bodies[i], SECRET);
        if (sig_span_request_decode(text, strlen(text), SECRET, NOW, out, why, sizeof why) !=
            -SFU_EMALFORMED)
            TEST_FAIL_("body %zu accepted: %s", i, bodies[i]);
        ASSERT_EQ(out->nmembers, 77u);  /* untouched */
        g_free(text);
    }
    /* The same head with good members passes (64 bytes of name is the most). */
    char *ok = sig_cluster_seal(HEAD "\"members\":[{\"id\":\"0a1b2c3d\",\"name\":\""
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}",
                                SECRET);
    ASSERT_EQ(sig_span_request_decode(ok, strlen(ok), SECRET, NOW, out, why, sizeof why), 0);
    ASSERT_EQ(out->nmembers, 1u);
    g_free(ok);
#undef HEAD
    /* Nothing encodes without a secret or with a bad field. */
    ASSERT(sig_span_request_encode(r, "") == NULL);
    r->members[1].participant = 0;
    ASSERT(sig_span_request_encode(r, SECRET) == NULL);
    r->members[1].participant = 1;
    g_strlcpy(r->members[1].name, "tab\there", sizeof r->members[1].name);
    ASSERT(sig_span_request_encode(r, SECRET) == NULL);
    g_free(out);
    g_free(r);
    return 0;
}

TEST(response_round_trip_and_refusals)
{
    sig_span_response *r = g_new0(sig_span_response, 1), *back = g_new0(sig_span_response, 1);
    g_strlcpy(r->node, "node-a", sizeof r->node);
    g_strlcpy(r->room, "standup", sizeof r->room);
    r->nmembers = SIG_SPAN_MEMBERS_MAX;
    for (unsigned i = 0; i < r->nmembers; i++) {
        r->members[i].participant = 0x1000 + i;
        snprintf(r->members[i].name, sizeof r->members[i].name, "participant number %u", i);
    }
    char *text = sig_span_response_encode(r, SECRET);
    ASSERT(text != NULL);
    char why[128];
    ASSERT_EQ(sig_span_response_decode(text, strlen(text), SECRET, "standup", back, why,
                                       sizeof why), 0);
    ASSERT_EQ(back->nmembers, (unsigned)SIG_SPAN_MEMBERS_MAX);
    ASSERT_EQ(back->members[127].participant, 0x1000u + 127);
    ASSERT_STR_EQ(back->members[127].name, "participant number 127");
    /* An answer for another room, or under another secret. */
    ASSERT_EQ(sig_span_response_decode(text, strlen(text), SECRET, "other", back, why, sizeof why),
              -SFU_EMALFORMED);
    ASSERT_EQ(sig_span_response_decode(text, strlen(text), "another-secret-0123456789abcdefgh",
                                       "standup", back, why, sizeof why), -SFU_EMALFORMED);
    g_free(text);
    /* One member too many does not encode. */
    r->nmembers = SIG_SPAN_MEMBERS_MAX + 1;
    ASSERT(sig_span_response_encode(r, SECRET) == NULL);
    /* 129 members sealed by hand are refused. */
    GString *big = g_string_new("{\"v\":1,\"node\":\"a\",\"room\":\"standup\",\"members\":[");
    for (unsigned i = 0; i <= SIG_SPAN_MEMBERS_MAX; i++)
        g_string_append_printf(big, "%s{\"id\":\"%08x\",\"name\":\"\"}", i ? "," : "", i + 1);
    g_string_append(big, "]}");
    char *sealed = sig_cluster_seal(big->str, SECRET);
    ASSERT_EQ(sig_span_response_decode(sealed, strlen(sealed), SECRET, "standup", back, why,
                                       sizeof why), -SFU_EMALFORMED);
    g_free(sealed);
    g_string_free(big, TRUE);
    g_free(back);
    g_free(r);
    return 0;
}

static sig_span_entry entry(uint32_t pid, const char *origin)
{
    sig_span_entry e = { .m = { .participant = pid } };
    snprintf(e.m.name, sizeof e.m.name, "p%x", pid);
    g_strlcpy(e.origin, origin, sizeof e.origin);
    return e;
}

TEST(offer_follows_the_loop_rule)
{
    /* The owner A holds: its client 1, 2 pulled from B, 3 pulled from C. */
    sig_span_entry owner[] = { entry(1, ""), entry(2, "B"), entry(3, "C") };
    sig_span_member out[8];
    unsigned n = sig_span_offer(owner, 3, true, "B", out, 8);
    ASSERT_EQ(n, 2u);           /* never B's own back to B */
    ASSERT_EQ(out[0].participant, 1u);
    ASSERT_EQ(out[1].participant, 3u);
    ASSERT_STR_EQ(out[1].name, "p3");
    n = sig_span_offer(owner, 3, true, "C", out, 8);
    ASSERT_EQ(n, 2u);
    ASSERT_EQ(out[1].participant, 2u);
    n = sig_span_offer(owner, 3, true, "D", out, 8);    /* a new satellite gets everyone */
    ASSERT_EQ(n, 3u);
    /* Satellite B holds its client 2 and, pulled from A, 1 and 3: it offers
     * only 2, so nothing it pulled ever goes back up. */
    sig_span_entry sat[] = { entry(1, "A"), entry(2, ""), entry(3, "A") };
    n = sig_span_offer(sat, 3, false, "A", out, 8);
    ASSERT_EQ(n, 1u);
    ASSERT_EQ(out[0].participant, 2u);
    /* `max` bounds the output. */
    ASSERT_EQ(sig_span_offer(owner, 3, true, "D", out, 1), 1u);
    ASSERT_EQ(sig_span_offer(owner, 0, true, "D", out, 8), 0u);
    return 0;
}

TEST(diff_opens_the_new_and_closes_the_gone)
{
    uint32_t have[] = { 10, 11, 12 };           /* pulled from the peer */
    uint32_t local[] = { 20, 30 };              /* clients here, pulls from elsewhere */
    sig_span_member want[] = { { .participant = 11 }, { .participant = 13 },
                               { .participant = 20 }, { .participant = 14 } };
    unsigned open[4], nopen;
    uint32_t close[3];
    unsigned nclose;
    sig_span_diff(have, 3, local, 2, want, 4, open, &nopen, close, &nclose);
    ASSERT_EQ(nopen, 2u);       /* 13 and 14; 11 is pulled, 20 is held here */
    ASSERT_EQ(want[open[0]].participant, 13u);
    ASSERT_EQ(want[open[1]].participant, 14u);
    ASSERT_EQ(nclose, 2u);      /* 10 and 12 are no longer offered */
    ASSERT_EQ(close[0], 10u);
    ASSERT_EQ(close[1], 12u);
    /* An empty offer closes everything; nothing had, nothing closed. */
    sig_span_diff(have, 3, local, 2, want, 0, open, &nopen, close, &nclose);
    ASSERT_EQ(nopen, 0u);
    ASSERT_EQ(nclose, 3u);
    sig_span_diff(NULL, 0, NULL, 0, want, 4, open, &nopen, close, &nclose);
    ASSERT_EQ(nopen, 4u);
    ASSERT_EQ(nclose, 0u);
    /* The same offer again changes nothing. */
    uint32_t now[] = { 11, 13, 14 };
    sig_span_diff(now, 3, local, 2, want, 4, open, &nopen, close, &nclose);
    ASSERT_EQ(nopen, 0u);
    ASSERT_EQ(nclose, 0u);
    return 0;
}

TEST_LIST(TEST_ENTRY(request_round_trip), TEST_ENTRY(request_refusals),
          TEST_ENTRY(response_round_trip_and_refusals), TEST_ENTRY(offer_follows_the_loop_rule),
          TEST_ENTRY(diff_opens_the_new_and_closes_the_gone))
