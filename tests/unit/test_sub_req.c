#include "signaling/sub_req.h"
#include "tests/test.h"

static const struct {
    const char *body;
    const char *why;            /* NULL: accepted */
    bool on;
    unsigned n;
} cases[] = {
    { "{}", NULL, false, 0 },
    { "{\"video\":null}", NULL, false, 0 },
    { "{\"video\":[]}", NULL, true, 0 },
    { "{\"video\":[{\"participant\":\"51bc79ba\",\"maxLayer\":1},"
      "{\"participant\":\"0c2f9a11\",\"maxWidth\":320,\"maxHeight\":180},{\"participant\":\"00000001\"}]}",
      NULL, true, 3 },
    { "", "not valid JSON", false, 0 },
    { "{\"video\":[]", "not valid JSON", false, 0 },
    { "{\"video\":[],\"video\":null}", "not valid JSON", false, 0 },
    { "[]", "must be a JSON object", false, 0 },
    { "\"video\"", "must be a JSON object", false, 0 },
    { "{\"audio\":[]}", "unknown field in the subscription request", false, 0 },
    { "{\"video\":{}}", "must be an array", false, 0 },
    { "{\"video\":7}", "must be an array", false, 0 },
    { "{\"video\":[7]}", "must be a JSON object", false, 0 },
    { "{\"video\":[{}]}", "needs a participant", false, 0 },
    { "{\"video\":[{\"participant\":\"51BC79BA\"}]}", "8 lowercase hex", false, 0 },
    { "{\"video\":[{\"participant\":\"51bc79b\"}]}", "8 lowercase hex", false, 0 },
    { "{\"video\":[{\"participant\":\"00000000\"}]}", "8 lowercase hex", false, 0 },
    { "{\"video\":[{\"participant\":\"fffffff0\"}]}", "8 lowercase hex", false, 0 },
    { "{\"video\":[{\"participant\":51}]}", "8 lowercase hex", false, 0 },
    { "{\"video\":[{\"participant\":\"51bc79ba\"},{\"participant\":\"51bc79ba\"}]}", "listed twice", false, 0 },
    { "{\"video\":[{\"participant\":\"51bc79ba\",\"maxLayer\":3}]}", "maxLayer", false, 0 },
    { "{\"video\":[{\"participant\":\"51bc79ba\",\"maxLayer\":\"1\"}]}", "maxLayer", false, 0 },
    { "{\"video\":[{\"participant\":\"51bc79ba\",\"maxHeight\":0}]}", "maxWidth and maxHeight", false, 0 },
    { "{\"video\":[{\"participant\":\"51bc79ba\",\"maxWidth\":8193}]}", "maxWidth and maxHeight", false, 0 },
    { "{\"video\":[{\"participant\":\"51bc79ba\",\"maxWidth\":1.5}]}", "maxWidth and maxHeight", false, 0 },
    { "{\"video\":[{\"participant\":\"51bc79ba\",\"maxLayer\":0,\"maxHeight\":90}]}", "not both", false, 0 },
    { "{\"video\":[{\"participant\":\"51bc79ba\",\"mid\":\"1\"}]}", "unknown field in a video entry", false, 0 },
};

TEST(table)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        sig_sub_req r = { .n = 99 };
        char err[160] = "";
        int rc = sig_sub_req_parse(cases[i].body, strlen(cases[i].body), &r, err, sizeof err);
        if (cases[i].why ? (rc != -SFU_EMALFORMED || !strstr(err, cases[i].why)) : rc != 0)
            fprintf(stderr, "  case %zu (%s): rc %d, \"%s\"\n", i, cases[i].body, rc, err);
        if (cases[i].why) {
            ASSERT_EQ(rc, -SFU_EMALFORMED);
            ASSERT(strstr(err, cases[i].why) != NULL);
            ASSERT_EQ(r.n, 99u);        /* untouched */
        } else {
            ASSERT_EQ(rc, 0);
            ASSERT_EQ(r.video_on, cases[i].on);
            ASSERT_EQ(r.n, cases[i].n);
        }
    }
    return 0;
}

TEST(fields_and_limits)
{
    const char *body = "{\"video\":[{\"participant\":\"51bc79ba\",\"maxLayer\":1},"
                       "{\"participant\":\"0c2f9a11\",\"maxWidth\":320,\"maxHeight\":180}]}";
    sig_sub_req r;
    char err[160];
    ASSERT_EQ(sig_sub_req_parse(body, strlen(body), &r, err, sizeof err), 0);
    ASSERT_EQ(r.e[0].participant, 0x51bc79bau);
    ASSERT_EQ(r.e[0].max_layer, 1);
    ASSERT_EQ(r.e[1].participant, 0x0c2f9a11u);
    ASSERT_EQ(r.e[1].max_layer, -1);
    ASSERT_EQ(r.e[1].max_width, 320);
    ASSERT_EQ(r.e[1].max_height, 180);
    /* 32 entries pass, 33 do not; a body over 4096 bytes does not either */
    char big[5000];
    for (unsigned n = 32; n <= 33; n++) {
        size_t o = (size_t)snprintf(big, sizeof big, "{\"video\":[");
        for (unsigned i = 0; i < n; i++)
            o += (size_t)snprintf(big + o, sizeof big - o, "%s{\"participant\":\"%08x\"}", i ? "," : "", i + 1);
        o += (size_t)snprintf(big + o, sizeof big - o, "]}");
        int rc = sig_sub_req_parse(big, o, &r, err, sizeof err);
        ASSERT_EQ(rc, n == 32 ? 0 : -SFU_EMALFORMED);
    }
    memset(big, ' ', sizeof big);
    memcpy(big, "{}", 2);
    ASSERT_EQ(sig_sub_req_parse(big, SIG_SUB_REQ_MAX_BYTES + 1, &r, err, sizeof err), -SFU_EMALFORMED);
    ASSERT(strstr(err, "too large") != NULL);
    ASSERT_EQ(sig_sub_req_parse(big, SIG_SUB_REQ_MAX_BYTES, &r, err, sizeof err), 0);
    return 0;
}

/* Sizes to layers: the lowest layer at least as large; no cap when only
 * the top one is, or none is, or a size is unknown (unresolved). */
TEST(layer_for_size)
{
    const uint16_t w[3] = { 320, 640, 1280 }, h[3] = { 180, 360, 720 }, unknown[3] = { 180, 0, 720 };
    static const struct { uint16_t mw, mh; int max_layer; int want; } rows[] = {
        { 0, 0, -1, -1 }, { 0, 0, 2, 2 }, { 0, 180, -1, 0 }, { 0, 181, -1, 1 }, { 320, 200, -1, 1 },
        { 640, 0, -1, 1 }, { 0, 720, -1, -1 }, { 1920, 1080, -1, -1 }, { 100, 100, -1, 0 },
    };
    bool unresolved;
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++) {
        sig_sub_entry e = { 1, rows[i].max_layer, rows[i].mw, rows[i].mh };
        ASSERT_EQ(sig_sub_layer_for(&e, w, h, 3, &unresolved), rows[i].want);
        ASSERT(!unresolved);
    }
    sig_sub_entry e = { 1, -1, 0, 180 };
    ASSERT_EQ(sig_sub_layer_for(&e, w, unknown, 3, &unresolved), -1);
    ASSERT(unresolved);
    ASSERT_EQ(sig_sub_layer_for(&e, w, h, 1, &unresolved), -1);   /* one layer */
    ASSERT(!unresolved);
    ASSERT_EQ(sig_sub_layer_for(&e, w, h, 0, NULL), -1);
    return 0;
}

TEST_LIST(TEST_ENTRY(table), TEST_ENTRY(fields_and_limits), TEST_ENTRY(layer_for_size))
