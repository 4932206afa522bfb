/* Untrusted datagrams into a DTLS session, in either role: it must never
 * crash, hang or leak, must never connect to a peer whose certificate does
 * not match the expected fingerprint, and when both ends connect their SRTP
 * keys must mirror each other.
 *
 * Byte 0 picks the scenario:
 *   bit 0  the session under test is the server (0) or the client (1)
 *   bit 1  raw (0): the rest is datagrams, each a 2-byte big-endian length
 *          and that many bytes (a short final length takes the rest), fed to
 *          the session alone;
 *          relay (1): a real peer of ours in the other role runs the
 *          handshake, and the rest is a program that damages what the peer
 *          sends (see relay()), so mutations reach every handshake message
 *          and the records after it, not only a ClientHello
 *   bit 2  the session expects a different fingerprint: it must fail
 *   bits 3-4  fingerprint algorithm (sha-256, sha-1, sha-384, sha-512)
 *   bit 5  relay: the session under test is retired (sfu_dtls_retire) as
 *          soon as it connects, so the records after the handshake (alerts,
 *          replays, damaged or injected ones) reach the retired reader
 *
 * The raw seeds are real ClientHellos from our own client and plain OpenSSL
 * clients; the relay seeds are short programs (pass, drop, flip a byte,
 * truncate, replay, close). */
#include "sfu/crypto/dtls.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

static sfu_dtls_ctx *ctx;
static sfu_cert *cert;

static int setup(void)
{
    if (ctx)
        return 0;
    cert = sfu_cert_new_self_signed("fuzz", NULL, 0);
    if (!cert)
        return -1;
    ctx = sfu_dtls_ctx_new(cert, NULL, 0);
    return ctx ? 0 : -1;
}

typedef struct input {
    const uint8_t *p, *end;
} input;

static unsigned byte(input *in)
{
    return in->p < in->end ? *in->p++ : 0;
}

static size_t u16(input *in)
{
    size_t n = (size_t)byte(in) << 8;
    return n | byte(in);
}

/* The next `n` bytes of the input (fewer at its end). */
static const uint8_t *take(input *in, size_t *n)
{
    const uint8_t *p = in->p;
    if (*n > (size_t)(in->end - in->p))
        *n = (size_t)(in->end - in->p);
    in->p += *n;
    return p;
}

/* The invariants that hold in any state. */
static void check(const sfu_dtls *d)
{
    sfu_srtp_keys keys;
    bool connected = sfu_dtls_get_state(d) == SFU_DTLS_CONNECTED;
    if ((sfu_dtls_get_srtp_keys(d, &keys) == 0) != connected)
        abort();
    if (!sfu_dtls_state_name(sfu_dtls_get_state(d)) || !sfu_dtls_failure(d))
        abort();
}

static void drain(sfu_dtls *d)
{
    size_t len;
    while (sfu_dtls_poll_output(d, &len)) {}
}

static void run_raw(sfu_dtls *d, input *in)
{
    if (sfu_dtls_get_role(d) == SFU_DTLS_CLIENT)
        (void)sfu_dtls_start(d);
    drain(d);
    for (int i = 0; in->p < in->end && i < 64; i++) {
        size_t n = u16(in);
        const uint8_t *p = take(in, &n);
        (void)sfu_dtls_handle_input(d, p, n);
        drain(d);
        (void)sfu_dtls_poll_timeout(d, 0);
        (void)sfu_dtls_handle_timeout(d);
        drain(d);
        check(d);
    }
}

/* ---- relay: peer -> (damaged) -> session under test -> peer ---- */

#define QUEUE 64

typedef struct relay {
    sfu_dtls *t, *peer;
    bool retire;
    uint8_t *q[QUEUE];          /* the peer's datagrams not yet delivered */
    size_t qlen[QUEUE];
    unsigned nq;
    uint8_t last[SFU_DTLS_MTU * 4]; /* the last datagram delivered, for replays */
    size_t last_len;
} relay;

/* Everything the session sends reaches the peer intact; the peer's output
 * is queued for the program to deliver. */
static void pump(relay *r)
{
    size_t len;
    const uint8_t *p;
    for (int round = 0; round < 8; round++) {
        bool any = false;
        while ((p = sfu_dtls_poll_output(r->t, &len))) {
            (void)sfu_dtls_handle_input(r->peer, p, len);
            any = true;
        }
        /* its last flight is out: retired as the shell does once the peer
         * shows it finished (here whether or not it did) */
        if (r->retire && sfu_dtls_get_state(r->t) == SFU_DTLS_CONNECTED && !sfu_dtls_retired(r->t)) {
            if (sfu_dtls_retire(r->t) != 0 || !sfu_dtls_retired(r->t))
                abort();        /* connected with AES-GCM, nothing queued: cannot fail */
            if (sfu_dtls_poll_timeout(r->t, 0) != SFU_TIME_NEVER)
                abort();
        }
        while ((p = sfu_dtls_poll_output(r->peer, &len))) {
            any = true;
            if (r->nq == QUEUE)
                continue;       /* lost, as on the wire */
            uint8_t *copy = malloc(len);
            if (!copy)
                abort();
            memcpy(copy, p, len);
            r->q[r->nq] = copy;
            r->qlen[r->nq++] = len;
        }
        if (!any)
            return;
    }
}

/* Removes the oldest queued datagram into `buf`; its length, 0 if none. */
static size_t pop(relay *r, uint8_t *buf, size_t cap)
{
    if (r->nq == 0)
        return 0;
    size_t n = r->qlen[0] < cap ? r->qlen[0] : cap;
    memcpy(buf, r->q[0], n);
    free(r->q[0]);
    memmove(r->q, r->q + 1, (r->nq - 1) * sizeof r->q[0]);
    memmove(r->qlen, r->qlen + 1, (r->nq - 1) * sizeof r->qlen[0]);
    r->nq--;
    return n;
}

static void deliver(relay *r, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    (void)sfu_dtls_handle_input(r->t, p, n);
    if (p != r->last && n <= sizeof r->last) {
        memmove(r->last, p, n);
        r->last_len = n;
    }
    check(r->t);
}

/* Ops (one byte, then its arguments):
 *   0 pass the next datagram      1 flip: [pos16][xor] then pass
 *   2 truncate to [len16]         3 drop the next datagram
 *   4 inject [len16][bytes]       5 replay the last delivered datagram
 *   6 run both retransmit timers  7 close the session ([arg] odd: the peer)
 *   8 append [len16][bytes] to the next datagram */
static void relay_step(relay *r, input *in)
{
    uint8_t buf[SFU_DTLS_MTU * 4];
    size_t n;
    unsigned op = byte(in) % 9;
    switch (op) {
    case 0:
        deliver(r, buf, pop(r, buf, sizeof buf));
        break;
    case 1: {
        size_t pos = u16(in);
        unsigned x = byte(in);
        if ((n = pop(r, buf, sizeof buf)) == 0)
            break;
        buf[pos % n] ^= (uint8_t)(x ? x : 1);
        deliver(r, buf, n);
        break;
    }
    case 2: {
        size_t keep = u16(in);
        n = pop(r, buf, sizeof buf);
        deliver(r, buf, keep < n ? keep : n);
        break;
    }
    case 3:
        (void)pop(r, buf, sizeof buf);
        break;
    case 4: {
        size_t len = u16(in);
        const uint8_t *p = take(in, &len);
        deliver(r, p, len);
        break;
    }
    case 5:
        deliver(r, r->last, r->last_len);
        break;
    case 6:
        (void)sfu_dtls_handle_timeout(r->t);
        (void)sfu_dtls_handle_timeout(r->peer);
        (void)sfu_dtls_poll_timeout(r->t, 0);
        break;
    case 7:
        (void)sfu_dtls_close(byte(in) & 1 ? r->peer : r->t);
        break;
    default: {
        size_t len = u16(in);
        const uint8_t *p = take(in, &len);
        n = pop(r, buf, sizeof buf);
        if (len > sizeof buf - n)
            len = sizeof buf - n;
        memcpy(buf + n, p, len);
        deliver(r, buf, n + len);
        break;
    }
    }
    pump(r);
}

static void run_relay(sfu_dtls *t, sfu_dtls *peer, input *in, bool wrong_fp, bool retire)
{
    relay r = { .t = t, .peer = peer, .retire = retire };
    if (sfu_dtls_get_role(t) == SFU_DTLS_CLIENT)
        (void)sfu_dtls_start(t);
    else
        (void)sfu_dtls_start(peer);
    pump(&r);
    for (int i = 0; in->p < in->end && i < 256; i++)
        relay_step(&r, in);
    /* The program is over: the rest arrives intact. */
    uint8_t buf[SFU_DTLS_MTU * 4];
    for (int i = 0; r.nq && i < 64; i++) {
        deliver(&r, buf, pop(&r, buf, sizeof buf));
        pump(&r);
    }
    sfu_srtp_keys kt, kp;
    if (sfu_dtls_get_srtp_keys(t, &kt) == 0) {
        if (wrong_fp)
            abort();            /* connected to a certificate it must refuse */
        if (sfu_dtls_get_srtp_keys(peer, &kp) == 0 &&
            (kt.profile != kp.profile || memcmp(kt.local_key, kp.remote_key, sizeof kt.local_key) != 0 ||
             memcmp(kt.remote_salt, kp.local_salt, sizeof kt.remote_salt) != 0))
            abort();            /* both connected, yet with different keys */
    }
    for (unsigned i = 0; i < r.nq; i++)
        free(r.q[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const algos[] = { "sha-256", "sha-1", "sha-384", "sha-512" };
    if (setup() != 0)
        abort();
    input in = { data, data + size };
    unsigned mode = byte(&in);
    sfu_dtls_role role = mode & 1 ? SFU_DTLS_CLIENT : SFU_DTLS_SERVER;
    bool relay_mode = mode & 2, wrong_fp = mode & 4;
    sfu_fingerprint fp;
    if (sfu_fingerprint_of_x509(&fp, algos[(mode >> 3) & 3], sfu_cert_x509(cert)) != 0)
        abort();
    sfu_fingerprint expect = fp;
    if (wrong_fp)
        expect.bytes[0] ^= 1;
    sfu_dtls *t = sfu_dtls_new(ctx, role, expect.algo, expect.bytes, expect.len);
    if (!t)
        abort();
    if (!relay_mode) {
        run_raw(t, &in);
    } else {
        sfu_dtls *peer = sfu_dtls_new(ctx, role == SFU_DTLS_CLIENT ? SFU_DTLS_SERVER : SFU_DTLS_CLIENT,
                                      fp.algo, fp.bytes, fp.len);
        if (!peer)
            abort();
        run_relay(t, peer, &in, wrong_fp, mode & 32);
        sfu_dtls_free(peer);
    }
    check(t);
    sfu_dtls_free(t);
    return 0;
}
