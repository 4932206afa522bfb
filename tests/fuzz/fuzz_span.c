/* Fuzz target for what a node reads from another node to keep a room that
 * spans nodes in step (signaling/span_msg.c): the sealed request body of
 * POST /cluster/span and the sealed response body. The first byte picks
 * which; the rest is the input, tried as sent and sealed with the test
 * secret (so the fuzzer reaches the JSON checks). What decodes must encode
 * and decode back to the same, and the loop rule and the diff must stay
 * within their bounds on it. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/cluster_store.h"
#include "signaling/span_msg.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW 1700000000

static void rules(const sig_span_member *m, unsigned n)
{
    sig_span_entry *e = g_new0(sig_span_entry, n + 1);
    uint32_t *have = g_new0(uint32_t, n + 1);
    for (unsigned i = 0; i < n; i++) {
        e[i].m = m[i];
        g_strlcpy(e[i].origin, i % 3 == 0 ? "" : i % 3 == 1 ? "b" : "c", sizeof e[i].origin);
        have[i] = m[i].participant ^ (i & 1);
    }
    sig_span_member *out = g_new0(sig_span_member, n + 1);
    if (sig_span_offer(e, n, true, "b", out, n) > n || sig_span_offer(e, n, false, "", out, n) > n)
        abort();
    unsigned *open = g_new0(unsigned, n + 1), nopen, nclose;
    uint32_t *close = g_new0(uint32_t, n + 1);
    sig_span_diff(have, n, have, n / 2, m, n, open, &nopen, close, &nclose);
    if (nopen > n || nclose > n)
        abort();
    for (unsigned i = 0; i < nopen; i++)
        if (open[i] >= n)
            abort();
    g_free(open);
    g_free(close);
    g_free(out);
    g_free(have);
    g_free(e);
}

static void request(const char *text, size_t len)
{
    sig_span_request *r = g_new0(sig_span_request, 1);
    char why[128];
    if (sig_span_request_decode(text, len, SECRET, NOW, r, why, sizeof why) == 0) {
        char *again = sig_span_request_encode(r, SECRET);
        sig_span_request *back = g_new0(sig_span_request, 1);
        if (!again || sig_span_request_decode(again, strlen(again), SECRET, NOW, back, why,
                                              sizeof why) != 0 ||
            memcmp(back, r, sizeof *r) != 0)
            abort();
        rules(r->members, r->nmembers);
        g_free(back);
        g_free(again);
    }
    g_free(r);
}

static void response(const char *text, size_t len)
{
    sig_span_response *r = g_new0(sig_span_response, 1);
    char why[128];
    if (sig_span_response_decode(text, len, SECRET, "r", r, why, sizeof why) == 0) {
        char *again = sig_span_response_encode(r, SECRET);
        sig_span_response *back = g_new0(sig_span_response, 1);
        if (!again || sig_span_response_decode(again, strlen(again), SECRET, "r", back, why,
                                               sizeof why) != 0 ||
            memcmp(back, r, sizeof *r) != 0)
            abort();
        rules(r->members, r->nmembers);
        g_free(back);
        g_free(again);
    }
    g_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > SIG_SPAN_BODY_MAX)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    bool req = data[0] % 2 == 0;
    if (req)
        request(text, len);
    else
        response(text, len);
    char *plain = g_strndup(text, len);
    char *sealed = sig_cluster_seal(plain, SECRET);
    if (req)
        request(sealed, strlen(sealed));
    else
        response(sealed, strlen(sealed));
    g_free(sealed);
    g_free(plain);
    return 0;
}
