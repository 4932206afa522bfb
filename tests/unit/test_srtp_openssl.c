/* The OpenSSL crypto types under libsrtp (sfu/crypto/srtp_openssl.c):
 * libsrtp's self-tests pass on them (RFC 3711 B.2, RFC 6188 7, RFC 7714 16,
 * RFC 2202 vectors) and can fail; whole packets through srtp_protect /
 * srtp_unprotect are byte-exact against RFC 3711 B.3 and against what
 * Debian's stock libsrtp2 (NSS) produced for the same keys; every policy
 * round-trips and rejects tampering; keys are set once per session, not per
 * packet. */
#include "tests/test.h"

#include "sfu/crypto/srtp.h"
#include "sfu/crypto/srtp_openssl.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <srtp2/srtp.h>

static const srtp_cipher_type_id_t cipher_ids[] = {
    SRTP_AES_ICM_128, SRTP_AES_ICM_192, SRTP_AES_ICM_256, SRTP_AES_GCM_128, SRTP_AES_GCM_256,
};

TEST(registered_and_self_tests_pass)
{
    ASSERT_EQ(sfu_srtp_init(), 0); /* fails if libsrtp refused a replacement */
    for (size_t i = 0; i < SFU_ARRAY_LEN(cipher_ids); i++) {
        const srtp_cipher_type_t *ct = sfu_srtp_openssl_cipher_type(cipher_ids[i]);
        ASSERT(ct != NULL);
        ASSERT_EQ(ct->id, cipher_ids[i]);
        ASSERT(ct->test_data != NULL);
        ASSERT_EQ(srtp_cipher_type_self_test(ct), srtp_err_status_ok);
    }
    const srtp_auth_type_t *at = sfu_srtp_openssl_auth_type(SRTP_HMAC_SHA1);
    ASSERT(at != NULL);
    ASSERT_EQ(srtp_auth_type_self_test(at), srtp_err_status_ok);
    ASSERT(sfu_srtp_openssl_cipher_type(SRTP_NULL_CIPHER) == NULL);
    ASSERT(sfu_srtp_openssl_auth_type(SRTP_NULL_AUTH) == NULL);
    return 0;
}

/* The self-tests are not vacuous: one flipped bit in an expected output, or
 * in an RFC 7714 AAD, and libsrtp reports an algorithm failure. */
TEST(self_test_catches_wrong_answers)
{
    uint8_t bad[128];
    for (size_t i = 0; i < SFU_ARRAY_LEN(cipher_ids); i++) {
        const srtp_cipher_type_t *ct = sfu_srtp_openssl_cipher_type(cipher_ids[i]);
        srtp_cipher_test_case_t tc = *ct->test_data;
        ASSERT_LE(tc.ciphertext_length_octets, sizeof bad);
        memcpy(bad, tc.ciphertext, tc.ciphertext_length_octets);
        bad[tc.ciphertext_length_octets - 1] ^= 0x01;
        tc.ciphertext = bad;
        tc.next_test_case = NULL;
        ASSERT_NE(srtp_cipher_type_test(ct, &tc), srtp_err_status_ok);
        if (tc.aad_length_octets > 0) {
            tc = *ct->test_data;
            memcpy(bad, tc.aad, (size_t)tc.aad_length_octets);
            bad[0] ^= 0x01;
            tc.aad = bad;
            tc.next_test_case = NULL;
            ASSERT_NE(srtp_cipher_type_test(ct, &tc), srtp_err_status_ok);
        }
    }
    const srtp_auth_type_t *at = sfu_srtp_openssl_auth_type(SRTP_HMAC_SHA1);
    srtp_auth_test_case_t ac = *at->test_data;
    memcpy(bad, ac.tag, (size_t)ac.tag_length_octets);
    bad[3] ^= 0x40;
    ac.tag = bad;
    ac.next_test_case = NULL;
    ASSERT_NE(srtp_auth_type_test(at, &ac), srtp_err_status_ok);
    return 0;
}

/* ---- whole packets ---------------------------------------------------------- */

/* RFC 7714 16.1.1's RTP packet (SSRC 0x5501a0b2, SEQ 0xf17b) and a receiver
 * report from the same SSRC. */
#define RTP_PLAIN "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973" \
                  "20646976 69736120 696e2070 61727465 73207472 6573"
#define RTCP_PLAIN "81c90007 5501a0b2 aabbccdd 00000001 00001000 00000005 00000000 00000000"

static const struct {
    const char *name;
    void (*set_policy)(srtp_crypto_policy_t *);
    const char *master; /* key then salt */
    const char *rtp, *rtcp; /* protected, first packet of index 0 */
} kats[] = {
    /* SRTP_AEAD_AES_256_GCM and SRTP_AEAD_AES_128_GCM with RFC 7714's key
     * and salt as master key and salt; expected bytes from Debian's libsrtp2
     * 2.5.0 on NSS. */
    { "AEAD_AES_256_GCM", srtp_crypto_policy_set_aes_gcm_256_16_auth,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f517569642070726f2071756f",
      "8040f17b8041f8d35501a0b2df5b1e1f065082d0567f12496f9de28ac7f237738c1577d4f1a9f1b89420cd94"
      "a57fec994be3e31c8ef3a25e1890b801251d3e1293c7",
      "81c900075501a0b2fc5f674499c89abd07958f0b32b664cca25b2f7f9fa75908ad7d3b67d5dbf905ef12efbf"
      "b8ca6a6880000001" },
    { "AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth,
      "000102030405060708090a0b0c0d0e0f517569642070726f2071756f",
      "8040f17b8041f8d35501a0b292cb0ecff0a0db188f7bff6b523933aacef8ae9585ed378a627836cb2d6a731d"
      "6c3490d925387db18c0661762d59e50ad553d241535a",
      "81c900075501a0b254d7745e5c063d1d2e7e7c008dd232223a5cabbc8d50e846fdeba1bb3bffa5ed1f3e846f"
      "bcff0f5c80000001" },
    /* AES128_CM_SHA1_80 with RFC 3711 B.3's master key and salt: the RTP
     * packet is also recomputed from B.3's session keys below. */
    { "AES128_CM_SHA1_80", srtp_crypto_policy_set_rtp_default,
      "e1f97a0d3e018be0d64fa32c06de41390ec675ad498afeebb6960b3aabe6",
      "8040f17b8041f8d35501a0b246be74509aaa5ce4310b26d95e135249979cd7bc38109ee071f7bf3aa8495d6d"
      "d41778d02641cbe126523e4fe97e1d91",
      "81c900075501a0b224d14b18d51982d78953121b59ea57fa85aec4200c8e7bbb80000001d6570666a200e9ab"
      "cacd" },
    /* AES_256_CM_HMAC_SHA1_80 (RFC 6188): not negotiated by the SFU, but its
     * ICM-256 is also the key derivation of AEAD_AES_256_GCM. */
    { "AES256_CM_SHA1_80", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f517569642070726f2071756f"
      "a0a1",
      "8040f17b8041f8d35501a0b2be7a295277477c961126e32baa6a6500068ce5d298ed41533e0247a5c3fd3cdf"
      "99e3fcc27b28ff87e348a008a7ce9d94",
      "81c900075501a0b2442c5168de4da815c81c70e0978975465c1b97ce782dd9f2800000019aaf567ba4eac735"
      "0bd2" },
};

static srtp_t make_ctx(void (*set_policy)(srtp_crypto_policy_t *), const uint8_t *master,
                       bool outbound)
{
    srtp_policy_t policy;
    srtp_t ctx = NULL;
    memset(&policy, 0, sizeof policy);
    set_policy(&policy.rtp);
    set_policy(&policy.rtcp);
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.key = (uint8_t *)master;
    policy.window_size = 1024;
    policy.allow_repeat_tx = outbound;
    if (srtp_create(&ctx, &policy) != srtp_err_status_ok)
        return NULL;
    return ctx;
}

static int check_kat(size_t k)
{
    uint8_t master[64], want[128], pkt[128 + SRTP_MAX_TRAILER_LEN + 4], plain[128];
    test_unhex(kats[k].master, master);
    srtp_t out = make_ctx(kats[k].set_policy, master, true);
    srtp_t in = make_ctx(kats[k].set_policy, master, false);
    ASSERT(out && in);

    size_t plain_len = test_unhex(RTP_PLAIN, plain), want_len = test_unhex(kats[k].rtp, want);
    memcpy(pkt, plain, plain_len);
    int len = (int)plain_len;
    ASSERT_EQ(srtp_protect(out, pkt, &len), srtp_err_status_ok);
    ASSERT_EQ(len, want_len);
    if (memcmp(pkt, want, want_len) != 0)
        TEST_FAIL_("%s: protected RTP differs", kats[k].name);
    ASSERT_EQ(srtp_unprotect(in, pkt, &len), srtp_err_status_ok);
    ASSERT_EQ(len, plain_len);
    ASSERT_MEM_EQ(pkt, plain, plain_len);

    plain_len = test_unhex(RTCP_PLAIN, plain);
    want_len = test_unhex(kats[k].rtcp, want);
    memcpy(pkt, plain, plain_len);
    len = (int)plain_len;
    ASSERT_EQ(srtp_protect_rtcp(out, pkt, &len), srtp_err_status_ok);
    ASSERT_EQ(len, want_len);
    if (memcmp(pkt, want, want_len) != 0)
        TEST_FAIL_("%s: protected RTCP differs", kats[k].name);
    ASSERT_EQ(srtp_unprotect_rtcp(in, pkt, &len), srtp_err_status_ok);
    ASSERT_EQ(len, plain_len);
    ASSERT_MEM_EQ(pkt, plain, plain_len);
    srtp_dealloc(out);
    srtp_dealloc(in);
    return 0;
}

TEST(known_answers_byte_exact)
{
    ASSERT_EQ(sfu_srtp_init(), 0);
    for (size_t k = 0; k < SFU_ARRAY_LEN(kats); k++)
        if (check_kat(k) != 0)
            TEST_FAIL_("known answer %s", kats[k].name);
    return 0;
}

/* RFC 3711 3.1 and 4.1.1 computed here with one-shot OpenSSL calls from the
 * session keys RFC 3711 B.3 derives from its master key: AES-CM over the
 * payload with IV = (salt || 0x0000) XOR (SSRC << 64) XOR (index << 16),
 * then HMAC-SHA1 over header, ciphertext and ROC, truncated to 80 bits. It
 * must equal the AES128_CM_SHA1_80 known answer above. */
TEST(rfc3711_b3_session_keys_give_the_packet)
{
    uint8_t ck[16], cs[14], ak[20], plain[128], out[128], iv[16] = { 0 };
    test_unhex("c61e7a93744f39ee10734afe3ff7a087", ck);
    test_unhex("30cbbc08863d8c85d49db34a9ae1", cs);
    test_unhex("cebe321f6ff7716b6fd4ab49af256a156d38baa4", ak);
    size_t n = test_unhex(RTP_PLAIN, plain);
    memcpy(iv, cs, sizeof cs);
    for (int i = 0; i < 4; i++)
        iv[4 + i] ^= plain[8 + i]; /* SSRC */
    iv[12] ^= plain[2];            /* index = ROC 0 || SEQ */
    iv[13] ^= plain[3];
    memcpy(out, plain, 12);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int got = 0;
    ASSERT(ctx);
    ASSERT(EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, ck, iv));
    ASSERT(EVP_EncryptUpdate(ctx, out + 12, &got, plain + 12, (int)n - 12));
    EVP_CIPHER_CTX_free(ctx);
    ASSERT_EQ(got, n - 12);
    uint8_t auth_in[128 + 4] = { 0 }, tag[20];
    unsigned int tag_len = 0;
    memcpy(auth_in, out, n); /* then ROC 0 */
    ASSERT(HMAC(EVP_sha1(), ak, sizeof ak, auth_in, n + 4, tag, &tag_len));
    memcpy(out + n, tag, 10);

    uint8_t want[128];
    size_t want_len = test_unhex(kats[2].rtp, want);
    ASSERT_EQ(want_len, n + 10);
    ASSERT_MEM_EQ(out, want, want_len);
    return 0;
}

/* ---- round trips, tampering, keying once ------------------------------------- */

static const struct {
    const char *name;
    void (*set_policy)(srtp_crypto_policy_t *);
} policies[] = {
    { "AEAD_AES_256_GCM", srtp_crypto_policy_set_aes_gcm_256_16_auth },
    { "AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth },
    { "AES128_CM_SHA1_80", srtp_crypto_policy_set_rtp_default },
    { "AES256_CM_SHA1_80", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80 },
    { "AES192_CM_SHA1_80", srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80 },
    { "AES128_CM_SHA1_32", srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32 },
    { "AEAD_AES_128_GCM_8", srtp_crypto_policy_set_aes_gcm_128_8_auth },
};

static size_t build_rtp(uint8_t *p, uint16_t seq, size_t payload_len)
{
    static const uint8_t hdr[12] = { 0x80, 0x60, 0, 0, 0, 0, 0x12, 0x34, 0xca, 0xfe, 0xba, 0xbe };
    memcpy(p, hdr, sizeof hdr);
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    for (size_t i = 0; i < payload_len; i++)
        p[12 + i] = (uint8_t)(i * 13 + seq);
    return 12 + payload_len;
}

static int round_trip_policy(size_t p)
{
    uint8_t master[64];
    for (size_t i = 0; i < sizeof master; i++)
        master[i] = (uint8_t)(0x30 + 7 * i);
    srtp_t out = make_ctx(policies[p].set_policy, master, true);
    srtp_t in = make_ctx(policies[p].set_policy, master, false);
    ASSERT(out && in);
    static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 1188, 1400 };
    uint16_t seq = 65500; /* the run crosses a ROC step */
    for (int round = 0; round < 10; round++) {
        for (size_t s = 0; s < SFU_ARRAY_LEN(sizes); s++, seq++) {
            uint8_t plain[1500], pkt[1500 + SRTP_MAX_TRAILER_LEN + 4];
            size_t n = build_rtp(plain, seq, sizes[s]);
            memcpy(pkt, plain, n);
            int len = (int)n;
            ASSERT_EQ(srtp_protect(out, pkt, &len), srtp_err_status_ok);
            ASSERT_GT(len, n);
            if (sizes[s] >= 16)
                ASSERT(memcmp(pkt + 12, plain + 12, sizes[s]) != 0);
            /* one flipped bit past the first word (timestamp, SSRC, payload
             * or tag) fails authentication and leaves the genuine packet
             * acceptable */
            uint8_t bad[sizeof pkt];
            int bad_len = len;
            memcpy(bad, pkt, (size_t)len);
            bad[4 + (size_t)(seq * 31u + s * 7u) % (size_t)(len - 4)] ^= 0x10;
            ASSERT_EQ(srtp_unprotect(in, bad, &bad_len), srtp_err_status_auth_fail);
            ASSERT_EQ(srtp_unprotect(in, pkt, &len), srtp_err_status_ok);
            ASSERT_EQ(len, n);
            ASSERT_MEM_EQ(pkt, plain, n);
        }
    }
    srtp_dealloc(out);
    srtp_dealloc(in);
    return 0;
}

TEST(every_policy_round_trips_and_rejects_tampering)
{
    ASSERT_EQ(sfu_srtp_init(), 0);
    for (size_t p = 0; p < SFU_ARRAY_LEN(policies); p++)
        if (round_trip_policy(p) != 0)
            TEST_FAIL_("policy %s", policies[p].name);
    return 0;
}

/* The sessions the SFU makes set their keys when created; a thousand
 * packets each way set none. */
TEST(keys_set_once_per_session)
{
    static const sfu_srtp_profile profiles[] = {
        SFU_SRTP_AEAD_AES_256_GCM, SFU_SRTP_AEAD_AES_128_GCM, SFU_SRTP_AES128_CM_SHA1_80,
    };
    for (size_t p = 0; p < SFU_ARRAY_LEN(profiles); p++) {
        sfu_srtp_keys keys;
        memset(&keys, 0x5a, sizeof keys);
        keys.profile = profiles[p];
        unsigned long before = sfu_srtp_openssl_key_setups();
        sfu_srtp_session *a = sfu_srtp_session_new(&keys); /* local == remote keys */
        ASSERT(a != NULL);
        unsigned long created = sfu_srtp_openssl_key_setups();
        ASSERT_GT(created, before);
        for (uint16_t seq = 0; seq < 1000; seq++) {
            uint8_t pkt[1300 + SFU_SRTP_MAX_TRAILER_LEN];
            size_t len = build_rtp(pkt, seq, 1200);
            ASSERT_EQ(sfu_srtp_session_protect_rtp(a, pkt, &len), 0);
            ASSERT_EQ(sfu_srtp_session_unprotect_rtp(a, pkt, &len), 0);
            ASSERT_EQ(len, 1212);
        }
        ASSERT_EQ(sfu_srtp_openssl_key_setups(), created);
        sfu_srtp_session_free(a);
    }
    return 0;
}

TEST_LIST(TEST_ENTRY(registered_and_self_tests_pass), TEST_ENTRY(self_test_catches_wrong_answers),
          TEST_ENTRY(known_answers_byte_exact), TEST_ENTRY(rfc3711_b3_session_keys_give_the_packet),
          TEST_ENTRY(every_policy_round_trips_and_rejects_tampering),
          TEST_ENTRY(keys_set_once_per_session))
