/* Redaction of foreign log text: one table of inputs and what must come out,
 * with and without the operator's consent to addresses, then the buffer
 * edges. */
#include "tests/test.h"

#include "sfu/net/log_redact.h"

#define R SFU_REDACT_SECRET
#define A SFU_REDACT_ADDR

static const struct {
    const char *in;
    const char *out;            /* addresses hidden (the default) */
    const char *out_keep;       /* addresses kept; NULL: same as out */
} cases[] = {
    /* the line that started it: libmicrohttpd quoting the event stream's URL */
    { "Failed to send the chunked response body for the request for "
      "`/sessions/0123456789abcdef0123456789abcdef/events'.\n",
      "Failed to send the chunked response body for the request for "
      "`/sessions/" R "/events'.\n", NULL },
    { "PATCH /sessions/abc HTTP/1.1", "PATCH /sessions/" R " HTTP/1.1", NULL },
    { "/SESSIONS/x?revision=2", "/SESSIONS/" R "?revision=2", NULL },
    { "/sessions/ is empty", "/sessions/ is empty", NULL },
    { "http://h/sessions/ab/answer", "http://h/sessions/" R "/answer", NULL },
    /* tokens */
    { "GET /sessions/s1/events?access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig HTTP/1.1",
      "GET /sessions/" R "/events?access_token=" R " HTTP/1.1", NULL },
    { "?a=1&token=abc&b=2", "?a=1&token=" R "&b=2", NULL },
    { "id_token=zz; next", "id_token=" R "; next", NULL },
    { "tokens=3 tokenizer=x", "tokens=3 tokenizer=x", NULL },
    { "jwt: eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "jwt: " R, NULL },
    { "bare eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.AbC-12_x end", "bare " R " end", NULL },
    { "Authorization: Bearer abc.def.ghi\r\nHost: x", "Authorization: " R "\r\nHost: x", NULL },
    { "authorization=\"Basic dXNlcjpwYXNz\" next", "authorization=\"" R "\" next", NULL },
    { "got bearer abcdef, ok", "got bearer " R ", ok", NULL },
    { "Cookie: a=b; c=d", "Cookie: " R, NULL },
    { "{\"token\": \"abc\", \"n\": 1}", "{\"token\": \"" R "\", \"n\": 1}", NULL },
    { "token=", "token=", NULL },
    { "token", "token", NULL },
    /* ICE credentials */
    { "a=ice-ufrag:Ab3x\r\na=ice-pwd:Zq8+/k2LmNoPqRsTuVwXyZ01\r\n",
      "a=ice-ufrag:" R "\r\na=ice-pwd:" R "\r\n", NULL },
    { "Adding remote candidate for s1/c1. U/P 'Ab3x'/'Zq8k2Lm' prio: 7e",
      "Adding remote candidate for s1/c1. U/P " R " prio: 7e", NULL },
    { "username=ab12:cd34 password='p w'", "username=" R " password='" R "'", NULL },
    { "ufrag=a", "ufrag=" R, NULL },
    { "turn secret = s3cr3t!", "turn secret = " R, NULL },
    { "credential:x", "credential:" R, NULL },
    /* anonymous runs: 16+ characters with a letter and a digit */
    { "key 0123456789abcdef0123456789abcdef here", "key " R " here", NULL },
    { "pwd-like Zq8+/k2LmNoPqRsTuVwXyZ01.", "pwd-like " R, NULL },
    { "short 0123456789abcde ok", "short 0123456789abcde ok", NULL },
    { "no digits nice_agent_gather_candidates", "no digits nice_agent_gather_candidates", NULL },
    { "no letters 12345678901234567890", "no letters 12345678901234567890", NULL },
    { "ssl3_get_record:wrong version number", "ssl3_get_record:wrong version number", NULL },
    /* IPv4 */
    { "from 10.77.3.213 port", "from " A " port", "from 10.77.3.213 port" },
    { "peer=10.77.3.213:50123,", "peer=" A ",", "peer=10.77.3.213:50123," },
    { "[192.0.2.1]:5000", "[" A "]:5000", "[192.0.2.1]:5000" },
    { "addr 192.0.2.1.", "addr " A ".", "addr 192.0.2.1." },
    { "host 192.0.2.1:x", "host " A ":x", "host 192.0.2.1:x" },
    { "version 1.2.3 and 1.2.3.4.5", "version 1.2.3 and 1.2.3.4.5", NULL },
    { "bad 256.1.1.1 and 1.2.3.4x", "bad 256.1.1.1 and 1.2.3.4x", NULL },
    { "v10.0.0.1", "v10.0.0.1", NULL },
    /* IPv6 */
    { "[2001:db8::7]:443 up", "[" A "]:443 up", "[2001:db8::7]:443 up" },
    { "from ::1 and ::ffff:10.77.3.213.", "from " A " and " A ".",
      "from ::1 and ::ffff:10.77.3.213." },
    { "link fe80::1%eth0 ok", "link " A " ok", "link fe80::1%eth0 ok" },
    { "2001:DB8:0:0:1:0:0:1", A, "2001:DB8:0:0:1:0:0:1" },
    { "at 12:00:00.123 and aa:bb:cc:dd:ee:ff", "at 12:00:00.123 and aa:bb:cc:dd:ee:ff", NULL },
    { "std::string", "std::string", NULL },
    /* nothing to do */
    { "", "", NULL },
    { "Failed to receive data", "Failed to receive data", NULL },
};

TEST(table)
{
    char out[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t k = sfu_log_redact(out, sizeof out, cases[i].in, strlen(cases[i].in), 0);
        ASSERT_STR_EQ(out, cases[i].out);
        ASSERT_EQ(k, strlen(cases[i].out));
        const char *keep = cases[i].out_keep ? cases[i].out_keep : cases[i].out;
        sfu_log_redact(out, sizeof out, cases[i].in, strlen(cases[i].in),
                       SFU_REDACT_KEEP_ADDRESSES);
        ASSERT_STR_EQ(out, keep);
    }
    return 0;
}

/* Redacting what was redacted changes nothing. */
TEST(idempotent)
{
    char once[512], twice[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t k = sfu_log_redact(once, sizeof once, cases[i].in, strlen(cases[i].in), 0);
        sfu_log_redact(twice, sizeof twice, once, k, 0);
        ASSERT_STR_EQ(twice, once);
    }
    return 0;
}

TEST(small_buffers_cut_the_same_output)
{
    const char *in = "GET /sessions/0123456789abcdef0123456789abcdef from 10.1.2.3";
    char full[256], part[256];
    size_t k = sfu_log_redact(full, sizeof full, in, strlen(in), 0);
    ASSERT_STR_EQ(full, "GET /sessions/" R " from " A);
    for (size_t n = 1; n <= k + 1; n++) {
        memset(part, 'x', sizeof part);
        size_t got = sfu_log_redact(part, n, in, strlen(in), 0);
        ASSERT_EQ(got, n - 1);
        ASSERT_EQ(part[n - 1], '\0');
        ASSERT_MEM_EQ(part, full, n - 1);
        ASSERT_EQ(part[n], 'x');    /* nothing written past n */
    }
    ASSERT_EQ(sfu_log_redact(NULL, 0, in, strlen(in), 0), 0);
    return 0;
}

TEST(stops_at_len_and_at_nul)
{
    char out[64];
    const char in[] = "token=abc\0 10.1.2.3";
    sfu_log_redact(out, sizeof out, in, sizeof in - 1, 0);
    ASSERT_STR_EQ(out, "token=" R);
    sfu_log_redact(out, sizeof out, "10.1.2.3 tail", 8, 0);
    ASSERT_STR_EQ(out, A);
    sfu_log_redact(out, sizeof out, "10.1.2.3 tail", 7, 0);
    ASSERT_STR_EQ(out, "10.1.2.");  /* cut mid-address: not an address any more */
    return 0;
}

/* A long input of nearly-matching pieces goes through in linear time: the
 * test would take minutes if every position rescanned the rest. */
TEST(long_runs_stay_linear)
{
    size_t n = 1 << 20;
    char *in = malloc(n), *out = malloc(n * 2);
    ASSERT(in && out);
    for (size_t i = 0; i < n; i++)
        in[i] = "a-"[i % 2];
    size_t k = sfu_log_redact(out, n * 2, in, n, 0);
    ASSERT_EQ(k, n);    /* letters only: kept */
    for (size_t i = 0; i < n; i++)
        in[i] = "1:"[i % 2];
    k = sfu_log_redact(out, n * 2, in, n, 0);
    ASSERT_EQ(k, n);
    free(in);
    free(out);
    return 0;
}

TEST_LIST(TEST_ENTRY(table), TEST_ENTRY(idempotent), TEST_ENTRY(small_buffers_cut_the_same_output),
          TEST_ENTRY(stops_at_len_and_at_nul), TEST_ENTRY(long_runs_stay_linear))
