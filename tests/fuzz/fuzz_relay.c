/* Fuzz target for what a node reads from another node when opening a relay
 * leg (signaling/relay_msg.c, signaling/relay_http.c): the sealed request
 * body of POST /cluster/relay, the sealed response body, and the HTTP
 * response around it. The first byte picks which; the rest is the input.
 * An input that is a sealed body of the right kind but not sealed here is
 * sealed with the test secret first, so the fuzzer reaches the JSON checks. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/cluster_store.h"
#include "signaling/relay_http.h"
#include "signaling/relay_msg.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NONCE "00112233445566778899aabbccddeeff"
#define NOW 1700000000

static void request(const char *text, size_t len)
{
    sig_relay_request r;
    char why[128];
    if (sig_relay_request_decode(text, len, SECRET, NOW, &r, why, sizeof why) != 0)
        return;
    /* What decodes encodes and decodes back to the same. */
    char *again = sig_relay_request_encode(&r, SECRET);
    sig_relay_request back;
    if (!again || sig_relay_request_decode(again, strlen(again), SECRET, NOW, &back, why,
                                           sizeof why) != 0 ||
        memcmp(&back, &r, sizeof r) != 0)
        abort();
    g_free(again);
}

static void response(const char *text, size_t len)
{
    sig_relay_response *r = g_new0(sig_relay_response, 1);
    char why[128];
    if (sig_relay_response_decode(text, len, SECRET, NONCE, r, why, sizeof why) == 0) {
        char *again = sig_relay_response_encode(r, SECRET);
        sig_relay_response *back = g_new0(sig_relay_response, 1);
        if (!again || sig_relay_response_decode(again, strlen(again), SECRET, NONCE, back, why,
                                                sizeof why) != 0 ||
            memcmp(back, r, sizeof *r) != 0)
            abort();
        sfu_leg_desc *desc = g_new0(sfu_leg_desc, 1);
        sig_relay_pull_desc(r->tracks, r->ntracks, 1, desc);
        sig_relay_serve_desc(r->tracks, r->ntracks, 1, desc);
        g_free(desc);
        g_free(back);
        g_free(again);
    }
    g_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > SIG_RELAY_HTTP_MAX)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 3) {
    case 0: {
        unsigned status;
        const char *body;
        size_t blen;
        if (sig_relay_http_parse(text, len, &status, &body, &blen) == 0) {
            if (body < text || body + blen != text + len || status < 100 || status > 999)
                abort();
            response(body, blen);
        }
        return 0;
    }
    case 1:
    case 2: {
        /* As sent, then sealed here (so the JSON is reached). */
        bool req = data[0] % 3 == 1;
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
    }
    return 0;
}
