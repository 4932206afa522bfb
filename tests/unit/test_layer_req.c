/* Layer selection request bodies (signaling/layer_req.h): the WHEP draft's
 * fields and ours, and every kind of bad body with its one-line reason. */
#include <string.h>

#include "signaling/layer_req.h"
#include "tests/test.h"

static const struct good {
    const char *body;
    const char *mid, *rid;
    int max_layer;
} good[] = {
    { "{}", "", "", -1 },
    { " { } ", "", "", -1 },
    { "{\"mediaId\":\"1\"}", "1", "", -1 },
    { "{\"mediaId\":\"1\",\"encodingId\":\"q\"}", "1", "q", -1 },
    { "{\"encodingId\":\"hi-res_2\"}", "", "hi-res_2", -1 },
    { "{\"mediaId\":\"video0\",\"maxLayer\":0}", "video0", "", 0 },
    { "{\"maxLayer\":2}", "", "", 2 },
};

static const struct bad {
    const char *body;
    const char *err;            /* a substring of the reason */
} bad[] = {
    { "", "not valid JSON" },
    { "{", "not valid JSON" },
    { "[]", "must be a JSON object" },
    { "\"q\"", "must be a JSON object" },
    { "{\"mediaId\":1}", "mediaId" },
    { "{\"mediaId\":\"\"}", "mediaId" },
    { "{\"mediaId\":\"a b\"}", "mediaId" },
    { "{\"mediaId\":\"0123456789abcdef\"}", "mediaId" },   /* 16 bytes: too long */
    { "{\"encodingId\":\"\"}", "encodingId" },
    { "{\"encodingId\":null}", "encodingId" },
    { "{\"encodingId\":\"q.1\"}", "encodingId" },
    { "{\"encodingId\":\"q\\u0000\"}", "not valid JSON" },  /* jansson refuses NUL */
    { "{\"encodingId\":\"0123456789abcdef\"}", "encodingId" },
    { "{\"maxLayer\":3}", "maxLayer" },
    { "{\"maxLayer\":-1}", "maxLayer" },
    { "{\"maxLayer\":1.5}", "maxLayer" },
    { "{\"maxLayer\":\"1\"}", "maxLayer" },
    { "{\"encodingId\":\"q\",\"maxLayer\":1}", "not both" },
    { "{\"spatialLayerId\":1}", "not supported" },
    { "{\"temporalLayerId\":0}", "not supported" },
    { "{\"color\":\"red\"}", "unknown field" },
    { "{\"mediaId\":\"1\",\"mediaId\":\"2\"}", "not valid JSON" },
};

TEST(good_bodies)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        sig_layer_req r;
        char err[160];
        ASSERT_EQ(sig_layer_req_parse(good[i].body, strlen(good[i].body), &r, err, sizeof err), 0);
        ASSERT_STR_EQ(r.mid, good[i].mid);
        ASSERT_STR_EQ(r.rid, good[i].rid);
        ASSERT_EQ(r.max_layer, good[i].max_layer);
    }
    return 0;
}

TEST(bad_bodies)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sig_layer_req r = { .mid = "keep", .max_layer = 7 };
        char err[160] = "";
        ASSERT_EQ(sig_layer_req_parse(bad[i].body, strlen(bad[i].body), &r, err, sizeof err),
                  -SFU_EMALFORMED);
        if (!strstr(err, bad[i].err))
            TEST_FAIL_("body %s: reason \"%s\" lacks \"%s\"", bad[i].body, err, bad[i].err);
        ASSERT_STR_EQ(r.mid, "keep");   /* untouched */
        ASSERT_EQ(r.max_layer, 7);
    }
    return 0;
}

TEST(size_and_nul)
{
    char big[SIG_LAYER_REQ_MAX_BYTES + 2];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 1] = '}';
    sig_layer_req r;
    char err[160];
    ASSERT_EQ(sig_layer_req_parse(big, sizeof big, &r, err, sizeof err), -SFU_EMALFORMED);
    ASSERT(strstr(err, "too large"));
    ASSERT_EQ(sig_layer_req_parse(big, SIG_LAYER_REQ_MAX_BYTES, &r, err, sizeof err), -SFU_EMALFORMED);
    static const char nul[] = "{}\0{}";
    ASSERT_EQ(sig_layer_req_parse(nul, sizeof nul - 1, &r, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_EQ(sig_layer_req_parse(NULL, 0, &r, err, sizeof err), -SFU_EMALFORMED);
    return 0;
}

TEST_LIST(TEST_ENTRY(good_bodies), TEST_ENTRY(bad_bodies), TEST_ENTRY(size_and_nul))
