/* DTLS-SRTP handshakes in memory: our client against our server, and our
 * server against a plain OpenSSL client (to check the RFC 5764 key layout and
 * profile choice independently of our code), with loss, wrong fingerprints,
 * missing certificates, old protocol versions and close_notify. */
#include "tests/test.h"

#include "sfu/crypto/dtls.h"

#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* Either one of ours or a plain OpenSSL DTLS client over memory BIOs. */
typedef struct endpoint {
    sfu_dtls *d;
    SSL *ssl;
    BIO *in, *out;
    int sent;          /* datagrams sent */
    size_t max_len;    /* largest datagram sent */
} endpoint;

/* Each case gets its own certificates and contexts, freed after it
 * whether it passed or not: no case sees another's state. */
typedef struct fixture {
    sfu_cert *server_cert, *client_cert;
    sfu_dtls_ctx *server_ctx, *client_ctx;
} fixture;

static void fixture_deinit(fixture *f)
{
    sfu_dtls_ctx_free(f->server_ctx);
    sfu_dtls_ctx_free(f->client_ctx);
    sfu_cert_free(f->server_cert);
    sfu_cert_free(f->client_cert);
    memset(f, 0, sizeof *f);
}

static int fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->server_cert = sfu_cert_new_self_signed("server", NULL, 0);
    f->client_cert = sfu_cert_new_self_signed("client", NULL, 0);
    f->server_ctx = f->server_cert ? sfu_dtls_ctx_new(f->server_cert, NULL, 0) : NULL;
    f->client_ctx = f->client_cert ? sfu_dtls_ctx_new(f->client_cert, NULL, 0) : NULL;
    if (f->server_ctx && f->client_ctx)
        return 0;
    fixture_deinit(f);
    return -1;
}

/* TEST(name) around a body that receives a fresh fixture. */
#define DTLS_TEST(name)                                                       \
    static int name##_body(fixture *f);                                       \
    TEST(name)                                                                \
    {                                                                         \
        fixture fx;                                                           \
        if (fixture_init(&fx) != 0)                                           \
            TEST_FAIL_("%s", "fixture: certificates or contexts failed");     \
        int rc = name##_body(&fx);                                            \
        fixture_deinit(&fx);                                                  \
        return rc;                                                            \
    }                                                                         \
    static int name##_body(fixture *f)

static sfu_dtls *new_dtls(const fixture *f, sfu_dtls_role role, const sfu_cert *expect_peer)
{
    const sfu_fingerprint *fp = sfu_cert_fingerprint(expect_peer);
    return sfu_dtls_new(role == SFU_DTLS_SERVER ? f->server_ctx : f->client_ctx, role, fp->algo,
                        fp->bytes, fp->len);
}

/* A plain client: certificate optional, SRTP profiles optional, versions. */
static int raw_client(const fixture *f, endpoint *e, bool with_cert, const char *profiles, int version)
{
    SSL_CTX *c = SSL_CTX_new(DTLS_client_method());
    if (!c)
        return -1;
    SSL_CTX_set_security_level(c, 0); /* let the DTLS 1.0 case reach the server */
    SSL_CTX_set_min_proto_version(c, version);
    SSL_CTX_set_max_proto_version(c, version);
    if (with_cert) {
        SSL_CTX_use_certificate(c, sfu_cert_x509(f->client_cert));
        SSL_CTX_use_PrivateKey(c, sfu_cert_key(f->client_cert));
    }
    if (profiles)
        SSL_CTX_set_tlsext_use_srtp(c, profiles);
    e->ssl = SSL_new(c);
    SSL_CTX_free(c); /* the SSL keeps its own reference */
    e->in = BIO_new(BIO_s_mem());
    e->out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(e->in, -1);
    SSL_set_bio(e->ssl, e->in, e->out);
    SSL_set_connect_state(e->ssl);
    SSL_do_handshake(e->ssl);
    ERR_clear_error();
    return 0;
}

static void endpoint_free(endpoint *e)
{
    sfu_dtls_free(e->d);
    SSL_free(e->ssl);
    memset(e, 0, sizeof *e);
}

/* Every datagram holds whole DTLS records (RFC 6347 4.1: 13-byte header,
 * content type 20-23, version DTLS 1.0 or 1.2, then length bytes). */
static bool whole_records(const uint8_t *p, size_t len)
{
    size_t off = 0;
    while (off < len) {
        if (len - off < 13 || p[off] < 20 || p[off] > 23 || p[off + 1] != 0xfe)
            return false;
        off += 13 + (size_t)(p[off + 11] << 8 | p[off + 12]);
    }
    return off == len;
}

/* Moves every queued datagram from a to b; drop > 0 loses that many first. */
static int deliver(endpoint *a, endpoint *b, int drop)
{
    int moved = 0;
    for (;;) {
        uint8_t buf[20000];
        size_t len = 0;
        if (a->d) {
            const uint8_t *p = sfu_dtls_poll_output(a->d, &len);
            if (!p)
                break;
            if (!whole_records(p, len))
                return -1;
            memcpy(buf, p, len);
        } else {
            int n = BIO_read(a->out, buf, sizeof buf);
            if (n <= 0)
                break;
            len = (size_t)n;
        }
        a->sent++;
        a->max_len = len > a->max_len ? len : a->max_len;
        moved++;
        if (drop-- > 0)
            continue;
        if (b->d) {
            sfu_dtls_handle_input(b->d, buf, len);
        } else {
            uint8_t sink[2048];
            BIO_write(b->in, buf, (int)len);
            if (SSL_is_init_finished(b->ssl))
                while (SSL_read(b->ssl, sink, sizeof sink) > 0) {}
            else
                SSL_do_handshake(b->ssl);
            ERR_clear_error();
        }
    }
    return moved;
}

/* Shuttles until neither side has anything to send. */
static int run(endpoint *a, endpoint *b)
{
    for (int round = 0; round < 50; round++) {
        int x = deliver(a, b, 0), y = deliver(b, a, 0);
        if (x < 0 || y < 0)
            return -1;
        if (x == 0 && y == 0)
            return 0;
    }
    return -1;
}

static sfu_time mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return SFU_SEC(ts.tv_sec) + ts.tv_nsec / 1000;
}

static void sleep_until(sfu_time deadline)
{
    sfu_time left = deadline - mono_now();
    if (left <= 0)
        return;
    struct timespec ts = { (time_t)(left / 1000000), (long)(left % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

/* Keys match crosswise and actually work for SRTP both ways. */
static int check_keys(const sfu_srtp_keys *c, const sfu_srtp_keys *s)
{
    size_t k, n;
    ASSERT_EQ(c->profile, s->profile);
    ASSERT_EQ(sfu_srtp_profile_lengths(c->profile, &k, &n), 0);
    ASSERT_MEM_EQ(c->local_key, s->remote_key, k);
    ASSERT_MEM_EQ(c->local_salt, s->remote_salt, n);
    ASSERT_MEM_EQ(c->remote_key, s->local_key, k);
    ASSERT_MEM_EQ(c->remote_salt, s->local_salt, n);
    ASSERT(memcmp(c->local_key, c->remote_key, k) != 0);
    sfu_srtp_session *cs = sfu_srtp_session_new(c), *ss = sfu_srtp_session_new(s);
    ASSERT(cs && ss);
    uint8_t pkt[100 + SFU_SRTP_MAX_TRAILER_LEN] = { 0x80, 111, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 42 };
    size_t len = 100;
    ASSERT_EQ(sfu_srtp_session_protect_rtp(cs, pkt, &len), 0);
    ASSERT_EQ(sfu_srtp_session_unprotect_rtp(ss, pkt, &len), 0);
    ASSERT_EQ(pkt[12], 42);
    ASSERT_EQ(sfu_srtp_session_protect_rtp(ss, pkt, &len), 0);
    ASSERT_EQ(sfu_srtp_session_unprotect_rtp(cs, pkt, &len), 0);
    ASSERT_EQ(len, 100);
    sfu_srtp_session_free(cs);
    sfu_srtp_session_free(ss);
    return 0;
}

DTLS_TEST(handshake_in_memory)
{
    endpoint c = { .d = new_dtls(f, SFU_DTLS_CLIENT, f->server_cert) };
    endpoint s = { .d = new_dtls(f, SFU_DTLS_SERVER, f->client_cert) };
    ASSERT(c.d && s.d);
    ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_NEW);
    ASSERT_EQ(sfu_dtls_start(s.d), 0); /* nothing to send as server */
    size_t len;
    ASSERT(sfu_dtls_poll_output(s.d, &len) == NULL);
    ASSERT_EQ(sfu_dtls_start(c.d), 0);
    ASSERT_EQ(sfu_dtls_start(c.d), -SFU_ESTATE);
    ASSERT_EQ(sfu_dtls_get_state(c.d), SFU_DTLS_CONNECTING);
    sfu_srtp_keys ck, sk;
    ASSERT_EQ(sfu_dtls_get_srtp_keys(c.d, &ck), -SFU_ESTATE);
    ASSERT_EQ(run(&c, &s), 0);
    ASSERT_STR_EQ(sfu_dtls_state_name(sfu_dtls_get_state(c.d)), "connected");
    ASSERT_STR_EQ(sfu_dtls_state_name(sfu_dtls_get_state(s.d)), "connected");
    ASSERT_LE(c.max_len, SFU_DTLS_MTU);
    ASSERT_LE(s.max_len, SFU_DTLS_MTU);
    ASSERT_EQ(sfu_dtls_get_srtp_keys(c.d, &ck), 0);
    ASSERT_EQ(sfu_dtls_get_srtp_keys(s.d, &sk), 0);
    ASSERT_EQ(ck.profile, SFU_SRTP_AEAD_AES_256_GCM); /* both prefer it */
    ASSERT_EQ(check_keys(&ck, &sk), 0);
    ASSERT_EQ(sfu_dtls_poll_timeout(s.d, 1000), SFU_TIME_NEVER);
    ASSERT_STR_EQ(sfu_dtls_failure(s.d), "");
    endpoint_free(&c);
    endpoint_free(&s);
    return 0;
}

/* Lose the client's first flight, then the server's: each side's timer
 * retransmits and the handshake still completes. */
DTLS_TEST(retransmission_after_loss)
{
    endpoint c = { .d = new_dtls(f, SFU_DTLS_CLIENT, f->server_cert) };
    endpoint s = { .d = new_dtls(f, SFU_DTLS_SERVER, f->client_cert) };
    ASSERT(c.d && s.d);
    ASSERT_EQ(sfu_dtls_poll_timeout(c.d, 5), SFU_TIME_NEVER); /* not started */
    ASSERT_EQ(sfu_dtls_start(c.d), 0);
    ASSERT_EQ(deliver(&c, &s, 1), 1); /* ClientHello lost */
    sfu_time now = mono_now(), at = sfu_dtls_poll_timeout(c.d, now);
    ASSERT_GT(at, now);
    ASSERT_LE(at, now + SFU_MS(100));
    ASSERT_EQ(sfu_dtls_handle_timeout(c.d), 0); /* too early: nothing */
    ASSERT_EQ(deliver(&c, &s, 0), 0);
    sleep_until(at);
    ASSERT_EQ(sfu_dtls_handle_timeout(c.d), 0);
    ASSERT_EQ(deliver(&c, &s, 0), 1); /* ClientHello again */
    now = mono_now();
    ASSERT_GT(sfu_dtls_poll_timeout(c.d, now), now + SFU_MS(100)); /* backed off */

    ASSERT_GE(deliver(&s, &c, 100), 1); /* server's whole first flight lost */
    now = mono_now();
    at = sfu_dtls_poll_timeout(s.d, now);
    ASSERT_LE(at, now + SFU_MS(100));
    sleep_until(at);
    ASSERT_EQ(sfu_dtls_handle_timeout(s.d), 0);
    ASSERT_EQ(run(&c, &s), 0);
    ASSERT_EQ(sfu_dtls_get_state(c.d), SFU_DTLS_CONNECTED);
    ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_CONNECTED);
    sfu_srtp_keys ck, sk;
    ASSERT_EQ(sfu_dtls_get_srtp_keys(c.d, &ck), 0);
    ASSERT_EQ(sfu_dtls_get_srtp_keys(s.d, &sk), 0);
    ASSERT_EQ(check_keys(&ck, &sk), 0);
    endpoint_free(&c);
    endpoint_free(&s);
    return 0;
}

/* The server's last flight is lost after it is connected (its record
 * buffers are freed between records then): the client's timer resends its
 * flight, the server answers it again, and both end connected; the
 * server's close_notify then reaches the client. */
DTLS_TEST(last_flight_lost_after_connect)
{
    endpoint c = { .d = new_dtls(f, SFU_DTLS_CLIENT, f->server_cert) };
    endpoint s = { .d = new_dtls(f, SFU_DTLS_SERVER, f->client_cert) };
    ASSERT(c.d && s.d);
    ASSERT_EQ(sfu_dtls_start(c.d), 0);
    ASSERT_EQ(deliver(&c, &s, 0), 1);                /* ClientHello */
    ASSERT_GE(deliver(&s, &c, 0), 1);                /* ServerHello .. Done */
    ASSERT_GE(deliver(&c, &s, 0), 1);                /* the client's flight */
    ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_CONNECTED);
    ASSERT_GE(deliver(&s, &c, 100), 1);              /* its answer, lost */
    ASSERT_EQ(sfu_dtls_get_state(c.d), SFU_DTLS_CONNECTING);
    sfu_time now = mono_now(), at = sfu_dtls_poll_timeout(c.d, now);
    ASSERT(at != SFU_TIME_NEVER);
    sleep_until(at);
    ASSERT_EQ(sfu_dtls_handle_timeout(c.d), 0);
    ASSERT_GE(deliver(&c, &s, 0), 1);                /* the flight again */
    ASSERT_GE(deliver(&s, &c, 0), 1);                /* answered again */
    ASSERT_EQ(sfu_dtls_get_state(c.d), SFU_DTLS_CONNECTED);
    ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_CONNECTED);
    sfu_srtp_keys ck, sk;
    ASSERT_EQ(sfu_dtls_get_srtp_keys(c.d, &ck), 0);
    ASSERT_EQ(sfu_dtls_get_srtp_keys(s.d, &sk), 0);
    ASSERT_EQ(check_keys(&ck, &sk), 0);
    ASSERT_EQ(sfu_dtls_close(s.d), 0);
    ASSERT_EQ(deliver(&s, &c, 0), 1);                /* close_notify */
    ASSERT_EQ(sfu_dtls_get_state(c.d), SFU_DTLS_CLOSED);
    endpoint_free(&c);
    endpoint_free(&s);
    return 0;
}

/* The server picks its own preference among what the client offers, and
 * exports keys exactly as a plain OpenSSL client lays out RFC 5764 4.2. */
DTLS_TEST(profiles_and_key_layout_against_plain_openssl)
{
    static const struct {
        const char *offer;
        sfu_srtp_profile want;
    } cases[] = {
        { "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM",
          SFU_SRTP_AEAD_AES_256_GCM },
        { "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", SFU_SRTP_AEAD_AES_128_GCM },
        { "SRTP_AES128_CM_SHA1_80", SFU_SRTP_AES128_CM_SHA1_80 },
        { "SRTP_AES128_CM_SHA1_32:SRTP_AES128_CM_SHA1_80", SFU_SRTP_AES128_CM_SHA1_80 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        endpoint c = { 0 }, s = { .d = new_dtls(f, SFU_DTLS_SERVER, f->client_cert) };
        ASSERT_EQ(raw_client(f, &c, true, cases[i].offer, DTLS1_2_VERSION), 0);
        ASSERT_EQ(run(&c, &s), 0);
        if (sfu_dtls_get_state(s.d) != SFU_DTLS_CONNECTED)
            TEST_FAIL_("case %zu: %s", i, sfu_dtls_failure(s.d));
        ASSERT_EQ(SSL_is_init_finished(c.ssl), 1);
        sfu_srtp_keys sk;
        ASSERT_EQ(sfu_dtls_get_srtp_keys(s.d, &sk), 0);
        ASSERT_EQ(sk.profile, cases[i].want);
        ASSERT_EQ(SSL_get_selected_srtp_profile(c.ssl)->id, (unsigned long)cases[i].want);
        size_t k, n;
        ASSERT_EQ(sfu_srtp_profile_lengths(sk.profile, &k, &n), 0);
        uint8_t km[92];
        ASSERT_EQ(SSL_export_keying_material(c.ssl, km, 2 * (k + n), "EXTRACTOR-dtls_srtp", 19,
                                             NULL, 0, 0), 1);
        ASSERT_MEM_EQ(sk.remote_key, km, k);          /* client_write_key */
        ASSERT_MEM_EQ(sk.local_key, km + k, k);       /* server_write_key */
        ASSERT_MEM_EQ(sk.remote_salt, km + 2 * k, n); /* client_write_salt */
        ASSERT_MEM_EQ(sk.local_salt, km + 2 * k + n, n);
        endpoint_free(&c);
        endpoint_free(&s);
    }
    return 0;
}

/* Each case must leave our server FAILED with a reason containing `why`. */
DTLS_TEST(server_refuses)
{
    static const struct {
        const char *name;
        bool cert;
        const char *profiles;
        int version;
        const char *why;
    } cases[] = {
        { "no client certificate", false, "SRTP_AES128_CM_SHA1_80", DTLS1_2_VERSION,
          "certificate" },
        { "no use_srtp", true, NULL, DTLS1_2_VERSION, "SRTP" },
        { "DTLS 1.0 only", true, "SRTP_AES128_CM_SHA1_80", DTLS1_VERSION, "protocol" },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        endpoint c = { 0 }, s = { .d = new_dtls(f, SFU_DTLS_SERVER, f->client_cert) };
        ASSERT_EQ(raw_client(f, &c, cases[i].cert, cases[i].profiles, cases[i].version), 0);
        ASSERT_EQ(run(&c, &s), 0);
        const char *why = sfu_dtls_failure(s.d);
        if (sfu_dtls_get_state(s.d) != SFU_DTLS_FAILED || !strstr(why, cases[i].why))
            TEST_FAIL_("%s: state %s, failure \"%s\"", cases[i].name,
                       sfu_dtls_state_name(sfu_dtls_get_state(s.d)), why);
        sfu_srtp_keys sk;
        ASSERT_EQ(sfu_dtls_get_srtp_keys(s.d, &sk), -SFU_ESTATE);
        uint8_t junk[] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        ASSERT_EQ(sfu_dtls_handle_input(s.d, junk, sizeof junk), -SFU_ESTATE);
        ASSERT_EQ(sfu_dtls_handle_timeout(s.d), -SFU_ESTATE);
        endpoint_free(&c);
        endpoint_free(&s);
    }
    return 0;
}

/* A certificate that is not the one in SDP fails the handshake, on either
 * side, and the other side learns it from the alert. */
DTLS_TEST(fingerprint_mismatch_fails)
{
    for (int wrong_side = 0; wrong_side < 2; wrong_side++) {
        /* side 0: the server expects the server's own cert; 1: the client does */
        endpoint c = { .d = new_dtls(f, SFU_DTLS_CLIENT, wrong_side ? f->client_cert : f->server_cert) };
        endpoint s = { .d = new_dtls(f, SFU_DTLS_SERVER, wrong_side ? f->client_cert : f->server_cert) };
        ASSERT(c.d && s.d);
        ASSERT_EQ(sfu_dtls_start(c.d), 0);
        ASSERT_EQ(run(&c, &s), 0);
        sfu_dtls *checker = wrong_side ? c.d : s.d, *other = wrong_side ? s.d : c.d;
        ASSERT_EQ(sfu_dtls_get_state(checker), SFU_DTLS_FAILED);
        ASSERT(strstr(sfu_dtls_failure(checker), "fingerprint") != NULL);
        ASSERT_EQ(sfu_dtls_get_state(other), SFU_DTLS_FAILED);
        ASSERT(strstr(sfu_dtls_failure(other), "alert received") != NULL);
        endpoint_free(&c);
        endpoint_free(&s);
    }
    /* a fingerprint of another algorithm over the right certificate works */
    sfu_fingerprint fp;
    ASSERT_EQ(sfu_fingerprint_of_x509(&fp, "sha-512", sfu_cert_x509(f->client_cert)), 0);
    endpoint c = { .d = new_dtls(f, SFU_DTLS_CLIENT, f->server_cert) };
    endpoint s = { .d = sfu_dtls_new(f->server_ctx, SFU_DTLS_SERVER, "SHA-512", fp.bytes, fp.len) };
    ASSERT(c.d && s.d);
    ASSERT_EQ(sfu_dtls_start(c.d), 0);
    ASSERT_EQ(run(&c, &s), 0);
    ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_CONNECTED);
    endpoint_free(&c);
    endpoint_free(&s);
    ASSERT(sfu_dtls_new(f->server_ctx, SFU_DTLS_SERVER, "md5", fp.bytes, 16) == NULL);
    ASSERT(sfu_dtls_new(f->server_ctx, SFU_DTLS_SERVER, "sha-256", fp.bytes, 31) == NULL);
    return 0;
}

/* Garbage after the handshake is ignored; close_notify closes the peer. */
DTLS_TEST(garbage_then_close_notify)
{
    endpoint c = { .d = new_dtls(f, SFU_DTLS_CLIENT, f->server_cert) };
    endpoint s = { .d = new_dtls(f, SFU_DTLS_SERVER, f->client_cert) };
    ASSERT_EQ(sfu_dtls_start(c.d), 0);
    ASSERT_EQ(run(&c, &s), 0);
    ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_CONNECTED);
    static const uint8_t junk[][16] = {
        { 23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 3, 1, 2, 3 }, /* app data, bad MAC */
        { 21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, 2, 2, 40 },  /* plaintext alert, epoch 0 */
        { 20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 98, 0, 30 },        /* truncated */
        { 63, 1, 2, 3 },
        { 23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 10, 0, 24 }, /* GCM-sized, truncated */
    };
    uint8_t forged[13 + 40] = { 23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 11, 0, 40 };
    ASSERT_EQ(sfu_dtls_handle_input(s.d, forged, sizeof forged), 0); /* bad tag */
    ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_CONNECTED);
    for (size_t i = 0; i < SFU_ARRAY_LEN(junk); i++) {
        ASSERT_EQ(sfu_dtls_handle_input(s.d, junk[i], sizeof junk[i]), 0);
        if (sfu_dtls_get_state(s.d) != SFU_DTLS_CONNECTED)
            TEST_FAIL_("junk %zu: %s", i, sfu_dtls_failure(s.d));
    }
    ASSERT_EQ(sfu_dtls_handle_input(s.d, junk[0], 0), -SFU_EINVAL);
    ASSERT_EQ(sfu_dtls_close(c.d), 0);
    ASSERT_EQ(sfu_dtls_close(c.d), -SFU_ESTATE);
    ASSERT_EQ(sfu_dtls_get_state(c.d), SFU_DTLS_CLOSED);
    ASSERT_EQ(deliver(&c, &s, 0), 1);
    ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_CLOSED);
    ASSERT_STR_EQ(sfu_dtls_failure(s.d), "close_notify received");
    endpoint_free(&c);
    endpoint_free(&s);
    return 0;
}

/* Takes the next datagram a sends, without delivering it. */
static size_t grab(endpoint *a, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    if (a->d) {
        const uint8_t *p = sfu_dtls_poll_output(a->d, &len);
        if (!p || len > cap)
            return 0;
        memcpy(buf, p, len);
        return len;
    }
    int n = BIO_read(a->out, buf, (int)cap);
    return n > 0 ? (size_t)n : 0;
}

/* A retired session (its SSL freed) keeps its keys, authenticates the
 * peer's close_notify with its own epoch-1 keys (a forged or damaged one and
 * other records change nothing), and its own close_notify, written at
 * retirement, closes the peer: against our client (AES-256-GCM, SHA-384
 * PRF) and plain OpenSSL clients with AES-128-GCM (SHA-256) and AES-256. */
DTLS_TEST(retired_session_reads_alerts)
{
    static const char *const raw_ciphers[] = { NULL, "ECDHE-ECDSA-AES128-GCM-SHA256",
                                               "ECDHE-ECDSA-AES256-GCM-SHA384" };
    for (size_t k = 0; k < SFU_ARRAY_LEN(raw_ciphers); k++) {
        for (int server_closes = 0; server_closes < 2; server_closes++) {
            endpoint c = { 0 };
            endpoint s = { .d = new_dtls(f, SFU_DTLS_SERVER, f->client_cert) };
            if (raw_ciphers[k]) {
                ASSERT_EQ(raw_client(f, &c, true, "SRTP_AEAD_AES_128_GCM", DTLS1_2_VERSION), 0);
                ASSERT_EQ(SSL_set_cipher_list(c.ssl, raw_ciphers[k]), 1);
                (void)BIO_reset(c.out);     /* the ClientHello with every cipher */
                SSL_clear(c.ssl);
                SSL_set_connect_state(c.ssl);
                SSL_do_handshake(c.ssl);
                ERR_clear_error();
            } else {
                c.d = new_dtls(f, SFU_DTLS_CLIENT, f->server_cert);
                ASSERT_EQ(sfu_dtls_start(c.d), 0);
            }
            ASSERT_EQ(sfu_dtls_retire(s.d), -SFU_ESTATE);   /* not connected yet */
            ASSERT_EQ(run(&c, &s), 0);
            if (sfu_dtls_get_state(s.d) != SFU_DTLS_CONNECTED)
                TEST_FAIL_("case %zu: %s", k, sfu_dtls_failure(s.d));
            if (c.ssl && !SSL_is_init_finished(c.ssl))
                TEST_FAIL_("case %zu: plain client did not finish", k);
            sfu_srtp_keys before, after;
            ASSERT_EQ(sfu_dtls_get_srtp_keys(s.d, &before), 0);
            ASSERT(!sfu_dtls_retired(s.d));
            ASSERT_EQ(sfu_dtls_retire(s.d), 0);
            ASSERT(sfu_dtls_retired(s.d));
            ASSERT_EQ(sfu_dtls_retire(s.d), -SFU_ESTATE);
            ASSERT_EQ(sfu_dtls_get_srtp_keys(s.d, &after), 0);
            ASSERT_MEM_EQ(&before, &after, sizeof before);
            size_t len;
            ASSERT(sfu_dtls_poll_output(s.d, &len) == NULL);  /* close_notify is held */
            ASSERT_EQ(sfu_dtls_poll_timeout(s.d, 5), SFU_TIME_NEVER);
            ASSERT_EQ(sfu_dtls_handle_timeout(s.d), 0);
            if (c.d)
                ASSERT_EQ(sfu_dtls_retire(c.d), 0);         /* the client role's keys too */
            if (server_closes) {
                ASSERT_EQ(sfu_dtls_close(s.d), 0);
                ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_CLOSED);
                ASSERT_EQ(sfu_dtls_close(s.d), -SFU_ESTATE);
                ASSERT_EQ(deliver(&s, &c, 0), 1);
                if (c.d) {
                    ASSERT_EQ(sfu_dtls_get_state(c.d), SFU_DTLS_CLOSED);
                    ASSERT_STR_EQ(sfu_dtls_failure(c.d), "close_notify received");
                } else if (!(SSL_get_shutdown(c.ssl) & SSL_RECEIVED_SHUTDOWN)) {
                    TEST_FAIL_("case %zu: the plain client saw no close_notify", k);
                }
            } else {
                if (c.d) {
                    ASSERT_EQ(sfu_dtls_close(c.d), 0);
                } else {
                    SSL_shutdown(c.ssl);
                    ERR_clear_error();
                }
                uint8_t note[256];
                size_t n = grab(&c, note, sizeof note);
                ASSERT(n > 13 + 24);
                static const uint8_t junk[] = { 23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 3, 1, 2, 3 };
                ASSERT_EQ(sfu_dtls_handle_input(s.d, junk, sizeof junk), 0);
                uint8_t bad[256];
                for (size_t pos = 0; pos < n; pos += 7) {   /* damaged anywhere: not the peer's */
                    memcpy(bad, note, n);
                    bad[pos] ^= 0x20;
                    ASSERT_EQ(sfu_dtls_handle_input(s.d, bad, n), 0);
                    if (sfu_dtls_get_state(s.d) != SFU_DTLS_CONNECTED)
                        TEST_FAIL_("case %zu: damaged at %zu: %s", k, pos, sfu_dtls_failure(s.d));
                }
                ASSERT_EQ(sfu_dtls_handle_input(s.d, note, n - 1), 0);  /* truncated */
                ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_CONNECTED);
                ASSERT_EQ(sfu_dtls_handle_input(s.d, note, n), 0);
                ASSERT_EQ(sfu_dtls_get_state(s.d), SFU_DTLS_CLOSED);
                ASSERT_STR_EQ(sfu_dtls_failure(s.d), "close_notify received");
                ASSERT_EQ(sfu_dtls_handle_input(s.d, note, n), -SFU_ESTATE);
            }
            endpoint_free(&c);
            endpoint_free(&s);
        }
    }
    return 0;
}

/* Freeing with output still queued leaks nothing (ASan checks), and a
 * context needs a certificate. */
DTLS_TEST(free_with_output_queued)
{
    sfu_dtls *c = new_dtls(f, SFU_DTLS_CLIENT, f->server_cert);
    ASSERT(c);
    ASSERT_EQ(sfu_dtls_start(c), 0);
    sfu_dtls_free(c);
    sfu_dtls_free(NULL);
    sfu_dtls_ctx_free(NULL);
    char err[128] = "";
    ASSERT(sfu_dtls_ctx_new(NULL, err, sizeof err) == NULL);
    ASSERT(strstr(err, "certificate") != NULL);
    return 0;
}

TEST_LIST(TEST_ENTRY(handshake_in_memory), TEST_ENTRY(retired_session_reads_alerts), TEST_ENTRY(retransmission_after_loss),
          TEST_ENTRY(last_flight_lost_after_connect),
          TEST_ENTRY(profiles_and_key_layout_against_plain_openssl), TEST_ENTRY(server_refuses),
          TEST_ENTRY(fingerprint_mismatch_fails), TEST_ENTRY(garbage_then_close_notify),
          TEST_ENTRY(free_with_output_queued))
