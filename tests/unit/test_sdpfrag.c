/* Trickle ICE sdpfrag (RFC 8840) parsing and the ICE-restart answer. */
#include <stdlib.h>
#include <string.h>

#include "signaling/sdpfrag.h"
#include "tests/test.h"

/* As in RFC 9725 4.3.1, with a browser's extra candidate fields. */
static const char restart[] =
    "a=ice-options:trickle ice2\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "a=mid:0\r\n"
    "a=ice-ufrag:ZjD5\r\n"
    "a=ice-pwd:Ymlx8mVLGXfz0BoyAu0bSmvn\r\n"
    "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r\n"
    "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2\r\n"
    "a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active generation 0 ufrag EsAw network-id 1\r\n"
    "a=candidate:2154773085 1 udp 2122260223 10.0.0.1 1 typ host\r\n"
    "a=candidate:9 1 ssltcp 1 10.0.0.1 443 typ host\r\n"
    "a=end-of-candidates\r\n";

TEST(parses_restart_request)
{
    sig_sdpfrag f;
    char err[128];
    ASSERT_EQ(sig_sdpfrag_parse(restart, sizeof restart - 1, 0, &f, err, sizeof err), 0);
    ASSERT_STR_EQ(f.ice.ufrag, "ZjD5");
    ASSERT_STR_EQ(f.ice.pwd, "Ymlx8mVLGXfz0BoyAu0bSmvn");
    ASSERT(f.ice.trickle && f.ice.ice2);
    ASSERT_STR_EQ(f.mid, "0");
    ASSERT(f.has_mline);
    ASSERT_STR_EQ(f.media, "audio");
    ASSERT_STR_EQ(f.fmt, "111");
    ASSERT(f.end_of_candidates);
    ASSERT_EQ(f.ncands, 4);     /* ssltcp skipped */
    ASSERT_STR_EQ(f.cands[1].address, "198.51.100.2");
    ASSERT_EQ(f.cands[1].port, 61765);
    ASSERT_EQ(f.cands[2].transport, SIG_ICE_TCP);
    ASSERT_EQ(f.cands[2].tcptype, SIG_ICE_TCP_ACTIVE);
    return 0;
}

TEST(trickle_without_mline)
{
    static const char t[] = "a=candidate:1 1 UDP 2015364095 127.0.0.1 37315 typ host\n";
    sig_sdpfrag f;
    char err[128];
    ASSERT_EQ(sig_sdpfrag_parse(t, sizeof t - 1, 0, &f, err, sizeof err), 0);
    ASSERT_EQ(f.ncands, 1);
    ASSERT(!f.has_mline && !f.end_of_candidates && !f.ice.ufrag[0]);
    ASSERT_EQ(sig_sdpfrag_parse("", 0, 0, &f, err, sizeof err), 0);
    ASSERT_EQ(f.ncands, 0);
    return 0;
}

static const struct bad {
    const char *text;
    const char *err;
} bad[] = {
    { "a=ice-ufrag:abcd\r\na=candidate:1 1 udp 1 1.2.3.4 5 typ nope\r\n", "line 2: a=candidate: expected typ" },
    { "a=ice-ufrag:abcd\r\na=ice-ufrag:efgh\r\n", "line 2: a=ice-ufrag: differs from an earlier one" },
    { "a=ice-ufrag:ab\r\n", "line 1: a=ice-ufrag: bad value" },
    { "a=ice-pwd:short\r\n", "line 1: a=ice-pwd: bad value" },
    { "\r\n\r\nnonsense\r\n", "line 3: expected <letter>=<value>" },
    { "m=audio 9\r\n", "line 1: m=: expected" },
    { "a=mid:a b\"\r\n", "line 1: a=mid: bad mid" },
};

TEST(malformed_fragments)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(bad); i++) {
        sig_sdpfrag f;
        char err[128] = "";
        ASSERT_EQ(sig_sdpfrag_parse(bad[i].text, strlen(bad[i].text), 0, &f, err, sizeof err), -SFU_EMALFORMED);
        if (strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
            fprintf(stderr, "  case %zu: \"%s\"\n", i, err);
        ASSERT_EQ(strncmp(err, bad[i].err, strlen(bad[i].err)), 0);
    }
    char big[3000];
    memset(big, 'a', sizeof big);
    sig_sdpfrag f;
    char err[128];
    ASSERT_EQ(sig_sdpfrag_parse(big, sizeof big, 0, &f, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "line 1: longer than 1024 bytes");
    ASSERT_EQ(sig_sdpfrag_parse(big, sizeof big, 100, &f, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "sdpfrag of 3000 bytes is over the limit of 100");
    ASSERT_EQ(sig_sdpfrag_parse("a=x\0", 4, 0, &f, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "line 1: NUL byte");
    return 0;
}

TEST(restart_answer_round_trip)
{
    sig_sdpfrag req, back;
    char err[128];
    ASSERT_EQ(sig_sdpfrag_parse(restart, sizeof restart - 1, 0, &req, err, sizeof err), 0);
    const sig_ice_candidate cands[] = {
        { .foundation = "1", .component = 1, .priority = 2130706431, .address = "127.0.0.1", .port = 40000 },
        { .foundation = "2", .component = 1, .transport = SIG_ICE_TCP, .priority = 1518280447,
          .address = "127.0.0.1", .port = 40001, .tcptype = SIG_ICE_TCP_PASSIVE },
    };
    char *out;
    size_t len;
    ASSERT_EQ(sig_sdpfrag_write_answer(&req, NULL, "newU", "newpasswordnewpassword", cands, 2, &out, &len), 0);
    ASSERT_EQ(strlen(out), len);
    ASSERT(strncmp(out, "a=ice-lite\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n", 72) == 0);
    ASSERT_EQ(sig_sdpfrag_parse(out, len, 0, &back, err, sizeof err), 0);
    free(out);
    ASSERT_STR_EQ(back.ice.ufrag, "newU");
    ASSERT_STR_EQ(back.ice.pwd, "newpasswordnewpassword");
    ASSERT_STR_EQ(back.mid, "0");
    ASSERT(back.end_of_candidates);
    ASSERT_EQ(back.ncands, 2);
    ASSERT_EQ(back.cands[1].tcptype, SIG_ICE_TCP_PASSIVE);
    ASSERT_EQ(back.cands[0].port, 40000);
    /* without a request m-line or mid: credentials and candidates only */
    ASSERT_EQ(sig_sdpfrag_write_answer(NULL, NULL, "newU", "newpasswordnewpassword", cands, 1, &out, &len), 0);
    ASSERT(!strstr(out, "m="));
    ASSERT(strstr(out, "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\na=end-of-candidates\r\n"));
    free(out);
    ASSERT_EQ(sig_sdpfrag_write_answer(&req, NULL, "x", "newpasswordnewpassword", cands, 1, &out, &len),
              -SFU_EINVAL);
    return 0;
}

TEST_LIST(TEST_ENTRY(parses_restart_request), TEST_ENTRY(trickle_without_mline), TEST_ENTRY(malformed_fragments),
          TEST_ENTRY(restart_answer_round_trip))
