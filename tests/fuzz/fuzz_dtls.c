/* Untrusted datagrams into a fresh server-side DTLS session: it must never
 * crash, hang or leak, whatever arrives before (or instead of) a handshake.
 *
 * Input: a sequence of datagrams, each a 2-byte big-endian length and that
 * many bytes (a short final length takes the rest). The seeds are real
 * ClientHellos from our own client and plain OpenSSL clients. */
#include "sfu/crypto/dtls.h"

#include <stdlib.h>

static sfu_dtls_ctx *ctx;
static sfu_fingerprint peer_fp;

static int setup(void)
{
    if (ctx)
        return 0;
    sfu_cert *cert = sfu_cert_new_self_signed("fuzz", NULL, 0);
    if (!cert)
        return -1;
    ctx = sfu_dtls_ctx_new(cert, NULL, 0); /* keeps its own references */
    peer_fp = *sfu_cert_fingerprint(cert);
    sfu_cert_free(cert);
    return ctx ? 0 : -1;
}

static void drain(sfu_dtls *d)
{
    size_t len;
    while (sfu_dtls_poll_output(d, &len)) {}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (setup() != 0)
        abort();
    sfu_dtls *d = sfu_dtls_new(ctx, SFU_DTLS_SERVER, peer_fp.algo, peer_fp.bytes, peer_fp.len);
    if (!d)
        abort();
    for (int i = 0; size >= 2 && i < 64; i++) {
        size_t n = (size_t)(data[0] << 8 | data[1]);
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        (void)sfu_dtls_handle_input(d, data, n);
        drain(d);
        (void)sfu_dtls_poll_timeout(d, 0);
        (void)sfu_dtls_handle_timeout(d);
        drain(d);
        data += n;
        size -= n;
    }
    sfu_srtp_keys keys;
    if (sfu_dtls_get_srtp_keys(d, &keys) == 0 && sfu_dtls_get_state(d) != SFU_DTLS_CONNECTED)
        abort();
    sfu_dtls_free(d);
    return 0;
}
