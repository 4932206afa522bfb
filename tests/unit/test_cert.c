/* Certificates (generated and loaded from PEM) and SDP fingerprints. */
#include "tests/test.h"

#include "sfu/crypto/cert.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

TEST(self_signed_is_p256_and_valid_now)
{
    char err[256] = "";
    sfu_cert *c = sfu_cert_new_self_signed("test-sfu", err, sizeof err);
    if (!c)
        TEST_FAIL_("self-signed: %s", err);
    X509 *x = sfu_cert_x509(c);
    ASSERT_EQ(X509_get_version(x), X509_VERSION_3);
    ASSERT_STR_EQ(EVP_PKEY_get0_type_name(sfu_cert_key(c)), "EC");
    char group[32] = "";
    ASSERT(EVP_PKEY_get_group_name(sfu_cert_key(c), group, sizeof group, NULL) == 1);
    ASSERT_STR_EQ(group, "prime256v1");
    ASSERT_EQ(X509_verify(x, sfu_cert_key(c)), 1); /* self-signed */
    char cn[64] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    ASSERT_STR_EQ(cn, "test-sfu");

    /* valid from a day ago for 30 days */
    time_t now = time(NULL), t = now - 23 * 3600;
    ASSERT_EQ(X509_cmp_time(X509_get0_notBefore(x), &t), -1);
    t = now + 28 * 86400;
    ASSERT_EQ(X509_cmp_time(X509_get0_notAfter(x), &t), 1);
    t = now + 30 * 86400;
    ASSERT_EQ(X509_cmp_time(X509_get0_notAfter(x), &t), -1);

    const sfu_fingerprint *fp = sfu_cert_fingerprint(c);
    ASSERT_STR_EQ(fp->algo, "sha-256");
    ASSERT_EQ(fp->len, 32);
    const char *text = sfu_cert_fingerprint_text(c);
    ASSERT_EQ(strlen(text), 95);
    for (size_t i = 0; i < 95; i++)
        ASSERT(i % 3 == 2 ? text[i] == ':' : (text[i] >= '0' && text[i] <= '9') ||
                                                 (text[i] >= 'A' && text[i] <= 'F'));
    sfu_cert_free(c);
    sfu_cert_free(NULL);
    return 0;
}

TEST(two_certs_differ)
{
    sfu_cert *a = sfu_cert_new_self_signed(NULL, NULL, 0);
    sfu_cert *b = sfu_cert_new_self_signed(NULL, NULL, 0);
    ASSERT(a && b);
    ASSERT(strcmp(sfu_cert_fingerprint_text(a), sfu_cert_fingerprint_text(b)) != 0);
    ASSERT(!sfu_fingerprint_equal(sfu_cert_fingerprint(a), sfu_cert_fingerprint(b)));
    ASSERT(ASN1_INTEGER_cmp(X509_get0_serialNumber(sfu_cert_x509(a)),
                            X509_get0_serialNumber(sfu_cert_x509(b))) != 0);
    sfu_cert_free(a);
    sfu_cert_free(b);
    return 0;
}

TEST(pem_round_trip_and_errors)
{
    char dir[] = "/tmp/sfu-cert-XXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    char crt[64], key[64], key2[64], err[512];
    snprintf(crt, sizeof crt, "%s/c.pem", dir);
    snprintf(key, sizeof key, "%s/k.pem", dir);
    snprintf(key2, sizeof key2, "%s/k2.pem", dir);
    sfu_cert *a = sfu_cert_new_self_signed(NULL, NULL, 0);
    sfu_cert *b = sfu_cert_new_self_signed(NULL, NULL, 0);
    ASSERT(a && b);
    ASSERT_EQ(sfu_cert_write_pem(a, crt, key, err, sizeof err), 0);
    char crt_b[64];
    snprintf(crt_b, sizeof crt_b, "%s/cb.pem", dir);
    ASSERT_EQ(sfu_cert_write_pem(b, crt_b, key2, err, sizeof err), 0);

    sfu_cert *loaded = sfu_cert_new_from_pem(crt, key, err, sizeof err);
    if (!loaded)
        TEST_FAIL_("load: %s", err);
    ASSERT_STR_EQ(sfu_cert_fingerprint_text(loaded), sfu_cert_fingerprint_text(a));

    static const struct {
        int cert; /* 0: a's cert, 1: missing file */
        int key;  /* 0: a's key, 1: b's key, 2: missing file, 3: a cert as key */
        const char *needle;
    } bad[] = {
        { 1, 0, "cannot open certificate" },
        { 0, 2, "cannot open key" },
        { 0, 1, "does not match" },
        { 0, 3, "no PEM private key" },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(bad); i++) {
        const char *cp = bad[i].cert ? "/nonexistent/c.pem" : crt;
        const char *kp = bad[i].key == 0 ? key : bad[i].key == 1 ? key2
                       : bad[i].key == 2 ? "/nonexistent/k.pem" : crt;
        err[0] = '\0';
        sfu_cert *c = sfu_cert_new_from_pem(cp, kp, err, sizeof err);
        if (c || !strstr(err, bad[i].needle))
            TEST_FAIL_("case %zu: cert %p, err \"%s\", want \"%s\"", i, (void *)c, err,
                       bad[i].needle);
    }
    sfu_cert_free(loaded);
    sfu_cert_free(a);
    sfu_cert_free(b);
    unlink(crt);
    unlink(key);
    unlink(key2);
    unlink(crt_b);
    rmdir(dir);
    return 0;
}

TEST(fingerprint_parse_table)
{
    static const char sha256_hex[] = "AB:cd:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
                                     "EE:FF:01:23:45:67:89:ab:cd:ef:10:20:30:40:50:60";
    static const struct {
        const char *algo, *hex;
        int want;
        uint8_t len;
    } cases[] = {
        { "sha-256", sha256_hex, 0, 32 },
        { "SHA-256", sha256_hex, 0, 32 },
        { "sha-1", "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33", 0, 20 },
        { "sha-1", sha256_hex, -SFU_EMALFORMED, 0 },       /* wrong length */
        { "sha-256", "AB:CD", -SFU_EMALFORMED, 0 },        /* too short */
        { "sha-256", "AB:CD:", -SFU_EMALFORMED, 0 },       /* trailing colon */
        { "sha-256", "ABCD", -SFU_EMALFORMED, 0 },         /* no colons */
        { "sha-256", "AB:CG", -SFU_EMALFORMED, 0 },        /* not hex */
        { "sha-256", "", -SFU_EMALFORMED, 0 },
        { "md5", "AB:CD", -SFU_EUNSUPPORTED, 0 },
        { NULL, "AB", -SFU_EUNSUPPORTED, 0 },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        sfu_fingerprint fp;
        int got = sfu_fingerprint_parse(&fp, cases[i].algo, cases[i].hex);
        if (got != cases[i].want)
            TEST_FAIL_("case %zu: got %d want %d", i, got, cases[i].want);
        if (got == 0)
            ASSERT_EQ(fp.len, cases[i].len);
    }
    /* 65 bytes must not overflow the parser */
    char longhex[65 * 3 + 1] = "";
    for (int i = 0; i < 65; i++)
        strcat(longhex, i ? ":AA" : "AA");
    sfu_fingerprint fp;
    ASSERT_EQ(sfu_fingerprint_parse(&fp, "sha-512", longhex), -SFU_EMALFORMED);

    ASSERT_EQ(sfu_fingerprint_parse(&fp, "sha-256", sha256_hex), 0);
    ASSERT_EQ(fp.bytes[0], 0xAB);
    ASSERT_EQ(fp.bytes[31], 0x60);
    char text[SFU_FINGERPRINT_MAX_TEXT];
    ASSERT_EQ(sfu_fingerprint_format(&fp, text, sizeof text), 0);
    ASSERT_STR_EQ(text, "AB:CD:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
                        "EE:FF:01:23:45:67:89:AB:CD:EF:10:20:30:40:50:60");
    ASSERT_EQ(sfu_fingerprint_format(&fp, text, 95), -SFU_ENOSPC);
    ASSERT_EQ(sfu_fingerprint_format(&fp, text, 96), 0);
    return 0;
}

TEST(fingerprint_algorithms_and_equality)
{
    sfu_cert *c = sfu_cert_new_self_signed(NULL, NULL, 0);
    ASSERT(c);
    static const struct {
        const char *algo;
        uint8_t len;
    } algos[] = { { "sha-1", 20 }, { "sha-256", 32 }, { "sha-384", 48 }, { "sha-512", 64 } };
    for (size_t i = 0; i < SFU_ARRAY_LEN(algos); i++) {
        sfu_fingerprint fp, again;
        ASSERT_EQ(sfu_fingerprint_of_x509(&fp, algos[i].algo, sfu_cert_x509(c)), 0);
        ASSERT_EQ(fp.len, algos[i].len);
        ASSERT_EQ(sfu_fingerprint_set(&again, algos[i].algo, fp.bytes, fp.len), 0);
        ASSERT(sfu_fingerprint_equal(&fp, &again));
        again.bytes[fp.len - 1] ^= 1;
        ASSERT(!sfu_fingerprint_equal(&fp, &again));
    }
    ASSERT_EQ(sfu_fingerprint_of_x509(&(sfu_fingerprint){ 0 }, "md5", sfu_cert_x509(c)),
              -SFU_EUNSUPPORTED);
    sfu_fingerprint a, b;
    ASSERT_EQ(sfu_fingerprint_of_x509(&a, "sha-256", sfu_cert_x509(c)), 0);
    ASSERT(sfu_fingerprint_equal(&a, sfu_cert_fingerprint(c)));
    b = a;
    memcpy(b.algo, "sha-384", 8); /* same bytes, other algorithm */
    ASSERT(!sfu_fingerprint_equal(&a, &b));
    ASSERT_EQ(sfu_fingerprint_set(&b, "sha-256", a.bytes, 31), -SFU_EMALFORMED);
    sfu_cert_free(c);
    return 0;
}

TEST_LIST(TEST_ENTRY(self_signed_is_p256_and_valid_now), TEST_ENTRY(two_certs_differ),
          TEST_ENTRY(pem_round_trip_and_errors), TEST_ENTRY(fingerprint_parse_table),
          TEST_ENTRY(fingerprint_algorithms_and_equality))
