/* Routing: tables of method and target to route, captured parameters and
 * status (404 unknown path, 405 known path with a wrong method, 400 bad
 * parameter). */
#include "tests/test.h"

#include "sfu/core/common.h"
#include "signaling/route.h"

#define SID "0123456789abcdef0123456789abcdef"

static const struct {
    const char *method, *target;
    int status;
    sig_route_id id;
    const char *room, *participant, *session, *file;
} cases[] = {
    { "POST", "/whip/demo", 0, SIG_ROUTE_WHIP, "demo", "", "", "" },
    { "POST", "/whip/My_Room-1.a", 0, SIG_ROUTE_WHIP, "My_Room-1.a", "", "", "" },
    { "POST", "/whep/demo/p-42", 0, SIG_ROUTE_WHEP, "demo", "p-42", "", "" },
    { "POST", "/rooms/demo/join", 0, SIG_ROUTE_ROOM_JOIN, "demo", "", "", "" },
    { "POST", "/rooms/join/join", 0, SIG_ROUTE_ROOM_JOIN, "join", "", "", "" },
    { "GET", "/rooms", 0, SIG_ROUTE_ROOMS, "", "", "", "" },
    { "HEAD", "/rooms", 0, SIG_ROUTE_ROOMS, "", "", "", "" },
    { "GET", "/rooms/demo", 0, SIG_ROUTE_ROOM, "demo", "", "", "" },
    { "GET", "/rooms/join", 0, SIG_ROUTE_ROOM, "join", "", "", "" },
    { "PATCH", "/sessions/" SID, 0, SIG_ROUTE_SESSION, "", "", SID, "" },
    { "DELETE", "/sessions/" SID, 0, SIG_ROUTE_SESSION, "", "", SID, "" },
    { "GET", "/sessions/" SID "/events", 0, SIG_ROUTE_SESSION_EVENTS, "", "", SID, "" },
    { "POST", "/sessions/" SID "/answer?revision=3", 0, SIG_ROUTE_SESSION_ANSWER, "", "", SID, "" },
    { "GET", "/health", 0, SIG_ROUTE_HEALTH, "", "", "", "" },
    { "HEAD", "/health", 0, SIG_ROUTE_HEALTH, "", "", "", "" },
    { "GET", "/metrics", 0, SIG_ROUTE_METRICS, "", "", "", "" },
    { "GET", "/", 0, SIG_ROUTE_INDEX, "", "", "", "" },
    { "GET", "/?room=demo", 0, SIG_ROUTE_INDEX, "", "", "", "" },
    { "GET", "/static/app.js", 0, SIG_ROUTE_STATIC, "", "", "", "app.js" },
    { "GET", "/static/css/call-page.v2.css", 0, SIG_ROUTE_STATIC, "", "", "", "css/call-page.v2.css" },
    /* OPTIONS everywhere, without parameter checks (the real request gets those) */
    { "OPTIONS", "/whip/demo", 0, SIG_ROUTE_WHIP, "", "", "", "" },
    { "OPTIONS", "/whip/bad%20name", 0, SIG_ROUTE_WHIP, "", "", "", "" },
    { "OPTIONS", "/sessions/" SID, 0, SIG_ROUTE_SESSION, "", "", "", "" },
    { "OPTIONS", "/", 0, SIG_ROUTE_INDEX, "", "", "", "" },
    /* 405: known path, wrong method */
    { "GET", "/whip/demo", 405, SIG_ROUTE_NONE, "", "", "", "" },
    { "PUT", "/whip/demo", 405, SIG_ROUTE_NONE, "", "", "", "" },
    { "post", "/whip/demo", 405, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/sessions/" SID, 405, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/sessions/" SID, 405, SIG_ROUTE_NONE, "", "", "", "" },
    { "HEAD", "/sessions/" SID "/events", 405, SIG_ROUTE_NONE, "", "", "", "" },
    { "DELETE", "/rooms/demo", 405, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/health", 405, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/whip/bad%20name", 405, SIG_ROUTE_NONE, "", "", "", "" },
    /* 404: unknown path */
    { "GET", "/nope", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "health", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "//", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/rooms/", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/health/", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whip", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whip/", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whip//", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whip/a/b", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whep/demo", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whep/demo/p/x", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/rooms/demo/leave", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/sessions/" SID "/events/x", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/Health", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/static", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/static/", 404, SIG_ROUTE_NONE, "", "", "", "" },
    /* bad session ids look like unknown sessions */
    { "DELETE", "/sessions/0123456789ABCDEF0123456789ABCDEF", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "DELETE", "/sessions/0123456789abcdef", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "DELETE", "/sessions/" SID "0", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/sessions/../events", 404, SIG_ROUTE_NONE, "", "", "", "" },
    /* static traversal and hidden files */
    { "GET", "/static/../configs/sfu.conf", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/static/js/../../x", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/static/.env", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/static/js//app.js", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/static/js/", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/static/%2e%2e/x", 404, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/static/a\\b", 404, SIG_ROUTE_NONE, "", "", "", "" },
    /* 400: a known path and method, a bad name */
    { "POST", "/whip/..", 400, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whip/.", 400, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whip/bad%20name", 400, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whip/a%2Fb", 400, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whip/caf\xc3\xa9", 400, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whip/a b", 400, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whip/0123456789012345678901234567890123456789012345678901234567890123", 0,
      SIG_ROUTE_WHIP, "0123456789012345678901234567890123456789012345678901234567890123", "", "", "" },
    { "POST", "/whip/01234567890123456789012345678901234567890123456789012345678901234", 400,
      SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whep/demo/..", 400, SIG_ROUTE_NONE, "", "", "", "" },
    { "POST", "/whep/de:mo/p", 400, SIG_ROUTE_NONE, "", "", "", "" },
    { "GET", "/rooms/a..b", 0, SIG_ROUTE_ROOM, "a..b", "", "", "" },
};

TEST(routes)
{
    sig_route r;
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        int rc = sig_route_match(cases[i].method, cases[i].target, &r);
        if (r.status != cases[i].status || r.id != cases[i].id || strcmp(r.room, cases[i].room))
            fprintf(stderr, "  case %s %s: status %d reason %s\n", cases[i].method,
                    cases[i].target, r.status, r.reason ? r.reason : "-");
        ASSERT_EQ(r.status, cases[i].status);
        ASSERT_EQ(r.id, cases[i].id);
        ASSERT_EQ(rc, cases[i].status == 0 ? 0 : cases[i].status == 404 ? -SFU_ENOTFOUND
                      : cases[i].status == 405 ? -SFU_EUNSUPPORTED : -SFU_EMALFORMED);
        ASSERT(r.status == 0 ? r.reason == NULL : r.reason != NULL);
        ASSERT_STR_EQ(r.room, cases[i].room);
        ASSERT_STR_EQ(r.participant, cases[i].participant);
        ASSERT_STR_EQ(r.session, cases[i].session);
        ASSERT_STR_EQ(r.static_path, cases[i].file);
    }
    return 0;
}

static const struct {
    const char *method, *target, *allow;
} allows[] = {
    { "GET", "/whip/demo", "POST, OPTIONS" },
    { "GET", "/whep/demo/p", "POST, OPTIONS" },
    { "GET", "/rooms/demo/join", "POST, OPTIONS" },
    { "POST", "/rooms", "GET, HEAD, OPTIONS" },
    { "POST", "/rooms/demo", "GET, HEAD, OPTIONS" },
    { "GET", "/sessions/" SID, "PATCH, DELETE, OPTIONS" },
    { "POST", "/sessions/" SID "/events", "GET, OPTIONS" },
    { "GET", "/sessions/" SID "/answer", "POST, OPTIONS" },
    { "OPTIONS", "/health", "GET, HEAD, OPTIONS" },
    { "DELETE", "/metrics", "GET, HEAD, OPTIONS" },
    { "PUT", "/", "GET, HEAD, OPTIONS" },
    { "POST", "/static/app.js", "GET, HEAD, OPTIONS" },
    { "GET", "/nope", "" },
};

TEST(allowed_methods)
{
    sig_route r;
    char buf[64];
    for (size_t i = 0; i < SFU_ARRAY_LEN(allows); i++) {
        sig_route_match(allows[i].method, allows[i].target, &r);
        sig_route_allow_header(r.allowed, buf, sizeof buf);
        ASSERT_STR_EQ(buf, allows[i].allow);
    }
    /* cut to fit, always terminated */
    char small[8];
    ASSERT_EQ(sig_route_allow_header(SIG_METHOD_GET | SIG_METHOD_HEAD, small, sizeof small), 3);
    ASSERT_STR_EQ(small, "GET");
    return 0;
}

static const struct {
    const char *method, *target;
    int status;
    const char *name, *token;
    int has_revision;
    uint64_t revision;
} queries[] = {
    { "POST", "/rooms/demo/join?name=Alice", 0, "Alice", "", 0, 0 },
    { "POST", "/rooms/demo/join?name=Jos%C3%A9+da+Silva&x=1", 0, "Jos\xc3\xa9 da Silva", "", 0, 0 },
    { "POST", "/rooms/demo/join?x&name=%F0%9F%98%80", 0, "\xf0\x9f\x98\x80", "", 0, 0 },
    { "POST", "/rooms/demo/join", 0, "", "", 0, 0 },
    { "POST", "/rooms/demo/join?", 0, "", "", 0, 0 },
    { "POST", "/rooms/demo/join?name=", 400, "", "", 0, 0 },
    { "POST", "/rooms/demo/join?name=a%0Ab", 400, "", "", 0, 0 },
    { "POST", "/rooms/demo/join?name=a%00b", 400, "", "", 0, 0 },
    { "POST", "/rooms/demo/join?name=%C0%AF", 400, "", "", 0, 0 },     /* overlong '/' */
    { "POST", "/rooms/demo/join?name=%ED%A0%80", 400, "", "", 0, 0 },  /* surrogate */
    { "POST", "/rooms/demo/join?name=%E2%82", 400, "", "", 0, 0 },     /* cut short */
    { "POST", "/rooms/demo/join?name=%zz", 400, "", "", 0, 0 },
    { "POST", "/rooms/demo/join?name=%4", 400, "", "", 0, 0 },
    { "POST", "/rooms/demo/join?name=a&name=b", 400, "", "", 0, 0 },
    { "POST", "/rooms/demo/join?name=0123456789012345678901234567890123456789012345678901234567890123",
      0, "0123456789012345678901234567890123456789012345678901234567890123", "", 0, 0 },
    { "POST", "/rooms/demo/join?name=01234567890123456789012345678901234567890123456789012345678901234",
      400, "", "", 0, 0 },
    { "POST", "/sessions/" SID "/answer?revision=0", 0, "", "", 1, 0 },
    { "POST", "/sessions/" SID "/answer?revision=18446744073709551", 0, "", "", 1,
      18446744073709551ull },
    { "POST", "/sessions/" SID "/answer", 0, "", "", 0, 0 },
    { "POST", "/sessions/" SID "/answer?revision=-1", 400, "", "", 0, 0 },
    { "POST", "/sessions/" SID "/answer?revision=", 400, "", "", 0, 0 },
    { "POST", "/sessions/" SID "/answer?revision=12345678901234567890", 400, "", "", 0, 0 },
    { "POST", "/sessions/" SID "/answer?revision=1%00", 400, "", "", 0, 0 },
    { "GET", "/sessions/" SID "/events?access_token=eyJh.eyJz.c2ln-_", 0, "", "eyJh.eyJz.c2ln-_", 0, 0 },
    { "GET", "/sessions/" SID "/events?access_token=abc%3D%3D", 0, "", "abc==", 0, 0 },
    { "GET", "/sessions/" SID "/events?access_token=a%20b", 400, "", "", 0, 0 },
    { "GET", "/sessions/" SID "/events?access_token==abc", 400, "", "", 0, 0 },
    /* a WHIP publisher may name itself; other routes' parameters are ignored */
    { "POST", "/whip/demo?access_token=abc&name=x&revision=z", 0, "x", "", 0, 0 },
    { "POST", "/whip/demo?name=", 400, "", "", 0, 0 },
    { "POST", "/whip/demo?participant=../x", 400, "", "", 0, 0 },
    { "POST", "/rooms/demo/join?access_token=abc", 0, "", "", 0, 0 },
    { "GET", "/rooms?name=%zz", 0, "", "", 0, 0 },
};

TEST(query)
{
    sig_route r;
    for (size_t i = 0; i < SFU_ARRAY_LEN(queries); i++) {
        sig_route_match(queries[i].method, queries[i].target, &r);
        if (r.status != queries[i].status)
            fprintf(stderr, "  case %s: status %d reason %s\n", queries[i].target, r.status,
                    r.reason ? r.reason : "-");
        ASSERT_EQ(r.status, queries[i].status);
        if (r.status)
            continue;
        ASSERT_STR_EQ(r.name, queries[i].name);
        ASSERT_EQ(r.has_name, queries[i].name[0] != '\0');
        ASSERT_STR_EQ(r.access_token, queries[i].token);
        ASSERT_EQ(r.has_access_token, queries[i].token[0] != '\0');
        ASSERT_EQ(r.has_revision, queries[i].has_revision);
        ASSERT_EQ(r.revision, queries[i].revision);
    }
    return 0;
}

TEST(query_args_from_the_http_library)
{
    sig_route r;
    ASSERT_EQ(sig_route_match("POST", "/rooms/demo/join", &r), 0);
    ASSERT_EQ(sig_route_query_arg(&r, "cachebust", "123"), 0);
    ASSERT_EQ(sig_route_query_arg(&r, "name", "Zo\xc3\xab"), 0);
    ASSERT_STR_EQ(r.name, "Zo\xc3\xab");
    ASSERT_EQ(sig_route_query_arg(&r, "name", "again"), -SFU_EMALFORMED);
    ASSERT_EQ(r.status, 400);

    ASSERT_EQ(sig_route_match("POST", "/sessions/" SID "/answer", &r), 0);
    ASSERT_EQ(sig_route_query_arg(&r, "revision", "7"), 0);
    ASSERT_EQ(r.revision, 7);
    ASSERT_EQ(sig_route_match("POST", "/sessions/" SID "/answer", &r), 0);
    ASSERT_EQ(sig_route_query_arg(&r, "revision", NULL), -SFU_EMALFORMED);

    /* no arguments after a failed match */
    ASSERT_EQ(sig_route_match("GET", "/nope", &r), -SFU_ENOTFOUND);
    ASSERT_EQ(sig_route_query_arg(&r, "name", "x"), -SFU_ENOTFOUND);
    ASSERT_EQ(r.status, 404);
    return 0;
}

TEST(validators)
{
    ASSERT(sig_route_valid_session_id(SID, 32));
    ASSERT(!sig_route_valid_session_id(SID, 31));
    ASSERT(!sig_route_valid_session_id("g123456789abcdef0123456789abcdef", 32));
    ASSERT(sig_route_valid_name("a", 1));
    ASSERT(sig_route_valid_name("...", 3));
    ASSERT(!sig_route_valid_name("..", 2));
    ASSERT(!sig_route_valid_name("", 0));
    ASSERT(!sig_route_valid_name("a/b", 3));
    ASSERT(sig_route_valid_display_name("\xe2\x82\xac", 3));      /* euro sign */
    ASSERT(!sig_route_valid_display_name("\xc2\x85", 2));         /* C1 control NEL */
    ASSERT(!sig_route_valid_display_name("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    ASSERT(!sig_route_valid_display_name("\x7f", 1));
    ASSERT_EQ(sig_method_parse("OPTIONS"), SIG_METHOD_OPTIONS);
    ASSERT_EQ(sig_method_parse("CONNECT"), SIG_METHOD_OTHER);
    return 0;
}

TEST_LIST(
    TEST_ENTRY(routes),
    TEST_ENTRY(allowed_methods),
    TEST_ENTRY(query),
    TEST_ENTRY(query_args_from_the_http_library),
    TEST_ENTRY(validators),
)
