/* SRTP sessions: every profile round-trips RTP and RTCP, tampering and
 * replay are told apart, the replay window is wide enough for NACK
 * recovery, and a benchmark prints the protect cost per profile. */
#include "tests/test.h"

#include "sfu/crypto/srtp.h"

#include <stdlib.h>
#include <time.h>

static const struct {
    sfu_srtp_profile profile;
    size_t key_len, salt_len, rtp_tag, rtcp_trailer; /* trailer = tag + SRTCP index */
} profiles[] = {
    { SFU_SRTP_AEAD_AES_256_GCM, 32, 12, 16, 20 },
    { SFU_SRTP_AEAD_AES_128_GCM, 16, 12, 16, 20 },
    { SFU_SRTP_AES128_CM_SHA1_80, 16, 14, 10, 14 },
};

#define SSRC 0x11223344u

/* Two sessions with crossed keys: what a sends, b receives, and back. */
static int make_pair(sfu_srtp_profile profile, sfu_srtp_session **a, sfu_srtp_session **b)
{
    sfu_srtp_keys ka, kb;
    memset(&ka, 0, sizeof ka);
    ka.profile = profile;
    for (size_t i = 0; i < SFU_SRTP_MAX_KEY_LEN; i++) {
        ka.local_key[i] = (uint8_t)(i + 1);
        ka.remote_key[i] = (uint8_t)(0x80 + i);
    }
    for (size_t i = 0; i < SFU_SRTP_MAX_SALT_LEN; i++) {
        ka.local_salt[i] = (uint8_t)(0x40 + i);
        ka.remote_salt[i] = (uint8_t)(0xc0 + i);
    }
    kb = ka;
    memcpy(kb.local_key, ka.remote_key, sizeof kb.local_key);
    memcpy(kb.local_salt, ka.remote_salt, sizeof kb.local_salt);
    memcpy(kb.remote_key, ka.local_key, sizeof kb.remote_key);
    memcpy(kb.remote_salt, ka.local_salt, sizeof kb.remote_salt);
    *a = sfu_srtp_session_new(&ka);
    *b = sfu_srtp_session_new(&kb);
    return *a && *b ? 0 : -1;
}

static size_t build_rtp(uint8_t *p, uint16_t seq, size_t payload_len)
{
    p[0] = 0x80;
    p[1] = 96;
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    uint32_t ts = 90u * seq;
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        p[8 + i] = (uint8_t)(SSRC >> (24 - 8 * i));
    }
    for (size_t i = 0; i < payload_len; i++)
        p[12 + i] = (uint8_t)(i * 7 + seq);
    return 12 + payload_len;
}

/* A receiver report with one report block (RFC 3550 6.4.2). */
static size_t build_rtcp_rr(uint8_t *p)
{
    static const uint8_t rr[] = { 0x81, 201, 0, 7, 0x11, 0x22, 0x33, 0x44, 0xaa, 0xbb, 0xcc, 0xdd,
                                  0, 0, 0, 1, 0, 0, 0x10, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0 };
    memcpy(p, rr, sizeof rr);
    return sizeof rr;
}

TEST(profile_lengths)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(profiles); i++) {
        size_t k = 0, s = 0;
        ASSERT_EQ(sfu_srtp_profile_lengths(profiles[i].profile, &k, &s), 0);
        ASSERT_EQ(k, profiles[i].key_len);
        ASSERT_EQ(s, profiles[i].salt_len);
        ASSERT(strncmp(sfu_srtp_profile_name(profiles[i].profile), "SRTP_", 5) == 0);
    }
    size_t k, s;
    ASSERT_EQ(sfu_srtp_profile_lengths((sfu_srtp_profile)2, &k, &s), -SFU_EUNSUPPORTED);
    sfu_srtp_keys bad = { .profile = (sfu_srtp_profile)2 };
    ASSERT(sfu_srtp_session_new(&bad) == NULL);
    ASSERT(sfu_srtp_session_new(NULL) == NULL);
    return 0;
}

TEST(rtp_round_trip_each_profile)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(profiles); i++) {
        sfu_srtp_session *a, *b;
        ASSERT_EQ(make_pair(profiles[i].profile, &a, &b), 0);
        for (uint16_t seq = 100; seq < 110; seq++) {
            uint8_t plain[1400], pkt[1400 + SFU_SRTP_MAX_TRAILER_LEN];
            size_t n = build_rtp(plain, seq, 1000);
            memcpy(pkt, plain, n);
            size_t len = n;
            ASSERT_EQ(sfu_srtp_session_protect_rtp(a, pkt, &len), 0);
            ASSERT_EQ(len, n + profiles[i].rtp_tag);
            ASSERT_MEM_EQ(pkt, plain, 12); /* header stays clear */
            ASSERT(memcmp(pkt + 12, plain + 12, n - 12) != 0);
            ASSERT_EQ(sfu_srtp_session_unprotect_rtp(b, pkt, &len), 0);
            ASSERT_EQ(len, n);
            ASSERT_MEM_EQ(pkt, plain, n);
        }
        /* and the other direction, with b's own keys */
        uint8_t pkt[200 + SFU_SRTP_MAX_TRAILER_LEN];
        size_t len = build_rtp(pkt, 7, 100);
        ASSERT_EQ(sfu_srtp_session_protect_rtp(b, pkt, &len), 0);
        ASSERT_EQ(sfu_srtp_session_unprotect_rtp(a, pkt, &len), 0);
        ASSERT_EQ(len, 112);
        sfu_srtp_session_free(a);
        sfu_srtp_session_free(b);
    }
    return 0;
}

TEST(rtcp_round_trip_each_profile)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(profiles); i++) {
        sfu_srtp_session *a, *b;
        ASSERT_EQ(make_pair(profiles[i].profile, &a, &b), 0);
        for (int round = 0; round < 3; round++) {
            uint8_t plain[64], pkt[64 + SFU_SRTP_MAX_TRAILER_LEN];
            size_t n = build_rtcp_rr(plain);
            memcpy(pkt, plain, n);
            size_t len = n;
            ASSERT_EQ(sfu_srtp_session_protect_rtcp(a, pkt, &len), 0);
            ASSERT_EQ(len, n + profiles[i].rtcp_trailer);
            ASSERT(memcmp(pkt + 8, plain + 8, n - 8) != 0);
            ASSERT_EQ(sfu_srtp_session_unprotect_rtcp(b, pkt, &len), 0);
            ASSERT_EQ(len, n);
            ASSERT_MEM_EQ(pkt, plain, n);
        }
        sfu_srtp_session_free(a);
        sfu_srtp_session_free(b);
    }
    return 0;
}

TEST(tampered_is_auth_failure)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(profiles); i++) {
        sfu_srtp_session *a, *b;
        ASSERT_EQ(make_pair(profiles[i].profile, &a, &b), 0);
        uint8_t pkt[300 + SFU_SRTP_MAX_TRAILER_LEN], copy[sizeof pkt];
        size_t len = build_rtp(pkt, 1, 200);
        ASSERT_EQ(sfu_srtp_session_protect_rtp(a, pkt, &len), 0);
        size_t copy_len = len;
        memcpy(copy, pkt, len);
        copy[40] ^= 0x01;
        ASSERT_EQ(sfu_srtp_session_unprotect_rtp(b, copy, &copy_len), -SFU_SRTP_EAUTH);
        /* a forgery does not poison the replay window for the genuine one
         * (the failed unprotect may leave its buffer garbled: use a copy) */
        ASSERT_EQ(sfu_srtp_session_unprotect_rtp(b, pkt, &len), 0);

        len = build_rtcp_rr(pkt);
        ASSERT_EQ(sfu_srtp_session_protect_rtcp(a, pkt, &len), 0);
        pkt[len - 1] ^= 0x80; /* last byte of the tag */
        ASSERT_EQ(sfu_srtp_session_unprotect_rtcp(b, pkt, &len), -SFU_SRTP_EAUTH);
        sfu_srtp_session_free(a);
        sfu_srtp_session_free(b);
    }
    return 0;
}

TEST(replay_is_replay_error)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(profiles); i++) {
        sfu_srtp_session *a, *b;
        ASSERT_EQ(make_pair(profiles[i].profile, &a, &b), 0);
        uint8_t pkt[300 + SFU_SRTP_MAX_TRAILER_LEN], copy[sizeof pkt];
        size_t len = build_rtp(pkt, 5, 200);
        ASSERT_EQ(sfu_srtp_session_protect_rtp(a, pkt, &len), 0);
        size_t copy_len = len;
        memcpy(copy, pkt, len);
        ASSERT_EQ(sfu_srtp_session_unprotect_rtp(b, pkt, &len), 0);
        ASSERT_EQ(sfu_srtp_session_unprotect_rtp(b, copy, &copy_len), -SFU_SRTP_EREPLAY);

        len = build_rtcp_rr(pkt);
        ASSERT_EQ(sfu_srtp_session_protect_rtcp(a, pkt, &len), 0);
        copy_len = len;
        memcpy(copy, pkt, len);
        ASSERT_EQ(sfu_srtp_session_unprotect_rtcp(b, pkt, &len), 0);
        ASSERT_EQ(sfu_srtp_session_unprotect_rtcp(b, copy, &copy_len), -SFU_SRTP_EREPLAY);
        sfu_srtp_session_free(a);
        sfu_srtp_session_free(b);
    }
    return 0;
}

/* Sender protects 0..1999 in order; the receiver gets 0 and 1999 first, then
 * late ones: 1000 behind is still accepted, 1500 behind is too old. */
TEST(replay_window_covers_nack_recovery)
{
    static const struct {
        uint16_t seq;
        int want;
    } late[] = { { 999, 0 }, { 1900, 0 }, { 1900, -SFU_SRTP_EREPLAY }, { 499, -SFU_SRTP_EREPLAY } };
    sfu_srtp_session *a, *b;
    ASSERT_EQ(make_pair(SFU_SRTP_AEAD_AES_128_GCM, &a, &b), 0);
    static uint8_t pkts[2000][100 + SFU_SRTP_MAX_TRAILER_LEN];
    static size_t lens[2000];
    for (uint16_t seq = 0; seq < 2000; seq++) {
        lens[seq] = build_rtp(pkts[seq], seq, 80);
        ASSERT_EQ(sfu_srtp_session_protect_rtp(a, pkts[seq], &lens[seq]), 0);
    }
    ASSERT_EQ(sfu_srtp_session_unprotect_rtp(b, pkts[0], &lens[0]), 0);
    ASSERT_EQ(sfu_srtp_session_unprotect_rtp(b, pkts[1999], &lens[1999]), 0);
    for (size_t i = 0; i < SFU_ARRAY_LEN(late); i++) {
        uint8_t copy[sizeof pkts[0]];
        size_t len = lens[late[i].seq];
        memcpy(copy, pkts[late[i].seq], len);
        int got = sfu_srtp_session_unprotect_rtp(b, copy, &len);
        if (got != late[i].want)
            TEST_FAIL_("late seq %u: got %d want %d", late[i].seq, got, late[i].want);
    }
    sfu_srtp_session_free(a);
    sfu_srtp_session_free(b);
    return 0;
}

/* Retransmissions resend a sequence number already protected. */
TEST(outbound_allows_repeat)
{
    sfu_srtp_session *a, *b;
    ASSERT_EQ(make_pair(SFU_SRTP_AES128_CM_SHA1_80, &a, &b), 0);
    uint8_t first[200 + SFU_SRTP_MAX_TRAILER_LEN], again[sizeof first];
    size_t len = build_rtp(first, 42, 150), len2 = build_rtp(again, 42, 150);
    ASSERT_EQ(sfu_srtp_session_protect_rtp(a, first, &len), 0);
    ASSERT_EQ(sfu_srtp_session_protect_rtp(a, again, &len2), 0);
    ASSERT_EQ(len, len2);
    ASSERT_MEM_EQ(first, again, len);
    sfu_srtp_session_free(a);
    sfu_srtp_session_free(b);
    return 0;
}

TEST(malformed_input)
{
    sfu_srtp_session *a, *b;
    ASSERT_EQ(make_pair(SFU_SRTP_AEAD_AES_128_GCM, &a, &b), 0);
    static const size_t short_lens[] = { 0, 1, 5, 11 };
    for (size_t i = 0; i < SFU_ARRAY_LEN(short_lens); i++) {
        uint8_t pkt[64 + SFU_SRTP_MAX_TRAILER_LEN] = { 0x80, 96 };
        size_t len = short_lens[i];
        int got = sfu_srtp_session_unprotect_rtp(b, pkt, &len);
        ASSERT(got == -SFU_EMALFORMED || got == -SFU_SRTP_EAUTH);
        len = short_lens[i];
        got = sfu_srtp_session_unprotect_rtcp(b, pkt, &len);
        ASSERT(got == -SFU_EMALFORMED || got == -SFU_SRTP_EAUTH);
    }
    uint8_t big[8];
    size_t len = 1u << 20;
    ASSERT_EQ(sfu_srtp_session_protect_rtp(a, big, &len), -SFU_EINVAL);
    ASSERT_STR_EQ(sfu_srtp_strerror(-SFU_SRTP_EREPLAY), "SRTP replay");
    sfu_srtp_session_free(a);
    sfu_srtp_session_free(b);
    return 0;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Prints, does not assert, the cost: machines differ. SRTP_BENCH_PACKETS
 * overrides the count (e.g. smaller under sanitizers). */
TEST(bench_protect_1200_bytes)
{
    const char *env = getenv("SRTP_BENCH_PACKETS");
    long count = env ? atol(env) : 100000;
    for (size_t i = 0; i < SFU_ARRAY_LEN(profiles); i++) {
        sfu_srtp_session *a, *b;
        ASSERT_EQ(make_pair(profiles[i].profile, &a, &b), 0);
        uint8_t pkt[1200 + SFU_SRTP_MAX_TRAILER_LEN];
        build_rtp(pkt, 0, 1200 - 12);
        double start = now_ns();
        for (long k = 0; k < count; k++) {
            /* new sequence number, payload left as the last ciphertext */
            pkt[2] = (uint8_t)(k >> 8);
            pkt[3] = (uint8_t)k;
            size_t len = 1200;
            int err = sfu_srtp_session_protect_rtp(a, pkt, &len);
            if (err != 0)
                TEST_FAIL_("protect #%ld: %d", k, err);
        }
        double ns = (now_ns() - start) / (double)(count > 0 ? count : 1);
        printf("  protect 1200 B %-24s %8.0f ns/packet (%ld packets)\n",
               sfu_srtp_profile_name(profiles[i].profile), ns, count);
        sfu_srtp_session_free(a);
        sfu_srtp_session_free(b);
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(profile_lengths), TEST_ENTRY(rtp_round_trip_each_profile),
          TEST_ENTRY(rtcp_round_trip_each_profile), TEST_ENTRY(tampered_is_auth_failure),
          TEST_ENTRY(replay_is_replay_error), TEST_ENTRY(replay_window_covers_nack_recovery),
          TEST_ENTRY(outbound_allows_repeat), TEST_ENTRY(malformed_input),
          TEST_ENTRY(bench_protect_1200_bytes))
