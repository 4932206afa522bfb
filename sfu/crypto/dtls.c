#include "sfu/crypto/dtls.h"

#include "sfu/crypto/dtls_tail.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* RFC 5764 4.1.2 and RFC 7714 14.2 names, our preference first. */
#define SRTP_PROFILES "SRTP_AEAD_AES_256_GCM:SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
/* ECDHE with AES-GCM only: RFC 8827 section 6.5 makes
 * ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 mandatory, so every browser has it;
 * RSA kept for certificates loaded from PEM. Knowing every protected record
 * is AES-GCM lets check_datagram know their minimum length. */
#define CIPHERS "ECDHE+AESGCM:!aNULL"
/* RFC 6347 4.1 record header; RFC 5288 3: GCM records carry an 8-byte
 * explicit nonce and a 16-byte tag. */
#define RECORD_HEADER 13
#define MIN_GCM_RECORD 24
/* RFC 5764 4.2 */
#define EXPORTER_LABEL "EXTRACTOR-dtls_srtp"
/* Queued datagrams beyond this are dropped: DTLS retransmits, and a caller
 * that never drains must not grow memory without bound. */
#define MAX_QUEUED 32
#define MAX_DATAGRAM 65536
/* Retransmission timer (RFC 6347 4.2.4.1 allows shorter than its 1 s default
 * on a known-fast path; WebRTC stacks start around 50-100 ms). */
#define TIMER_INITIAL_US 100000u
#define TIMER_MAX_US 4000000u

struct sfu_dtls_ctx {
    SSL_CTX *ssl_ctx[2]; /* indexed by sfu_dtls_role */
};

struct datagram {
    struct datagram *next;
    size_t len, cap;
    uint8_t data[];
};

struct sfu_dtls {
    SSL *ssl;
    BIO *rbio;
    sfu_dtls_role role;
    sfu_dtls_state state;
    sfu_fingerprint expected;
    sfu_srtp_keys keys;
    /* Output: each OpenSSL write appends a record to the open tail datagram
     * until BIO_flush (end of a flight) or the MTU closes it. */
    struct datagram *head, *tail, *popped;
    bool tail_open;
    unsigned queued;
    const char *alert_sent; /* static string from OpenSSL */
    char failure[128];
    /* Retired (sfu_dtls_retire): ssl is NULL; the peer's alerts are read
     * through tail, and close_notify, written before the SSL went, waits in
     * farewell. */
    sfu_dtls_tail *retired;
    struct datagram *farewell;
};

static void set_failure(sfu_dtls *d, const char *fmt, ...)
{
    if (d->failure[0])
        return; /* the first cause is the interesting one */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->failure, sizeof d->failure, fmt, ap);
    va_end(ap);
}

/* The first cause wins: a fingerprint mismatch or an alert from the peer,
 * then OpenSSL's reason, then the alert we sent. */
static void fail(sfu_dtls *d, const char *why)
{
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    if (reason)
        set_failure(d, "%s: %s", why, reason);
    else if (d->alert_sent)
        set_failure(d, "%s: alert sent: %s", why, d->alert_sent);
    else
        set_failure(d, "%s", why);
    d->state = SFU_DTLS_FAILED;
    ERR_clear_error();
}

/* ---- output BIO: one queue entry per datagram ---- */

static int out_write(BIO *bio, const char *data, int len)
{
    sfu_dtls *d = BIO_get_data(bio);
    if (!d || len <= 0)
        return 0;
    struct datagram *t = d->tail_open ? d->tail : NULL;
    if (t && t->len + (size_t)len > t->cap)
        t = NULL; /* records never straddle datagrams */
    if (!t) {
        d->tail_open = false;
        size_t cap = (size_t)len > SFU_DTLS_MTU ? (size_t)len : SFU_DTLS_MTU;
        if (d->queued >= MAX_QUEUED || !(t = malloc(sizeof *t + cap)))
            return len; /* a lost datagram, as on the wire */
        t->next = NULL;
        t->len = 0;
        t->cap = cap;
        if (d->tail)
            d->tail->next = t;
        else
            d->head = t;
        d->tail = t;
        d->tail_open = true;
        d->queued++;
    }
    memcpy(t->data + t->len, data, (size_t)len);
    t->len += (size_t)len;
    return len;
}

static long out_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    sfu_dtls *d = BIO_get_data(bio);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        if (d)
            d->tail_open = false;
        return 1;
    case BIO_CTRL_WPENDING: /* OpenSSL packs the next record into what is left */
        return d && d->tail_open ? (long)d->tail->len : 0;
    default:
        return 0; /* incl. MTU queries and overhead: no socket here */
    }
}

static int out_create(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

static pthread_once_t out_method_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *out_method;

static void make_out_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sfu dtls out");
    if (m && BIO_meth_set_write(m, out_write) == 1 && BIO_meth_set_ctrl(m, out_ctrl) == 1 &&
        BIO_meth_set_create(m, out_create) == 1) {
        out_method = m;
        return;
    }
    BIO_meth_free(m);
}

static void free_queue(sfu_dtls *d)
{
    while (d->head) {
        struct datagram *next = d->head->next;
        free(d->head);
        d->head = next;
    }
    d->tail = NULL;
    d->tail_open = false;
    d->queued = 0;
    free(d->popped);
    d->popped = NULL;
}

/* ---- OpenSSL callbacks ---- */

/* The peer's certificate is self-signed by design: the fingerprint from SDP
 * authenticates it (RFC 8122 section 5). Checking it here, on the leaf,
 * fails the handshake with an alert before any key is derived. */
static int on_verify(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    sfu_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    sfu_fingerprint got;
    if (!d || sfu_fingerprint_of_x509(&got, d->expected.algo, cert) != 0 ||
        !sfu_fingerprint_equal(&got, &d->expected)) {
        if (d)
            set_failure(d, "peer certificate does not match the SDP fingerprint");
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
}

static void on_info(const SSL *ssl, int where, int ret)
{
    sfu_dtls *d = SSL_get_app_data(ssl);
    if (!d || !(where & SSL_CB_ALERT) || (ret & 0xff) == SSL_AD_CLOSE_NOTIFY)
        return;
    if (where & SSL_CB_READ)
        set_failure(d, "alert received: %s", SSL_alert_desc_string_long(ret));
    else
        d->alert_sent = SSL_alert_desc_string_long(ret);
}

static unsigned int on_timer(SSL *ssl, unsigned int previous_us)
{
    (void)ssl;
    if (previous_us == 0)
        return TIMER_INITIAL_US;
    return previous_us >= TIMER_MAX_US / 2 ? TIMER_MAX_US : previous_us * 2;
}

/* ---- context ---- */

static SSL_CTX *make_ssl_ctx(const sfu_cert *cert)
{
    SSL_CTX *c = SSL_CTX_new(DTLS_method());
    static const unsigned char sid_ctx[] = "sfu-dtls";
    if (!c)
        return NULL;
    SSL_CTX_set_options(c, SSL_OP_NO_DTLSv1 | SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET |
                               SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, on_verify);
    if (SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(c, CIPHERS) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(c, SRTP_PROFILES) != 0 /* 0 is success here */ ||
        SSL_CTX_set_session_id_context(c, sid_ctx, sizeof sid_ctx - 1) != 1 ||
        SSL_CTX_use_certificate(c, sfu_cert_x509(cert)) != 1 ||
        SSL_CTX_use_PrivateKey(c, sfu_cert_key(cert)) != 1 || SSL_CTX_check_private_key(c) != 1) {
        SSL_CTX_free(c);
        return NULL;
    }
    return c;
}

sfu_dtls_ctx *sfu_dtls_ctx_new(const sfu_cert *cert, char *err, size_t err_len)
{
    sfu_dtls_ctx *ctx = NULL;
    const char *what = "out of memory";
    pthread_once(&out_method_once, make_out_method);
    if (!cert) {
        what = "no certificate";
        goto err;
    }
    if (!out_method || !(ctx = calloc(1, sizeof *ctx)))
        goto err;
    what = "SSL_CTX setup failed";
    for (int role = 0; role < 2; role++)
        if (!(ctx->ssl_ctx[role] = make_ssl_ctx(cert)))
            goto err;
    return ctx;
err:
    if (err && err_len) {
        unsigned long e = ERR_peek_last_error();
        snprintf(err, err_len, "dtls: %s%s%s", what, e ? ": " : "",
                 e ? ERR_reason_error_string(e) : "");
    }
    ERR_clear_error();
    sfu_dtls_ctx_free(ctx);
    return NULL;
}

void sfu_dtls_ctx_free(sfu_dtls_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl_ctx[0]);
    SSL_CTX_free(ctx->ssl_ctx[1]);
    free(ctx);
}

/* ---- session ---- */

sfu_dtls *sfu_dtls_new(sfu_dtls_ctx *ctx, sfu_dtls_role role, const char *fp_algo,
                       const uint8_t *fp, size_t fp_len)
{
    BIO *wbio = NULL;
    sfu_dtls *d = NULL;
    if (!ctx || (role != SFU_DTLS_SERVER && role != SFU_DTLS_CLIENT))
        return NULL;
    if (!(d = calloc(1, sizeof *d)) || sfu_fingerprint_set(&d->expected, fp_algo, fp, fp_len) != 0)
        goto err;
    d->role = role;
    if (!(d->ssl = SSL_new(ctx->ssl_ctx[role])) || !(d->rbio = BIO_new(BIO_s_mem())) ||
        !(wbio = BIO_new(out_method)))
        goto err;
    BIO_set_mem_eof_return(d->rbio, -1); /* empty means "try again", not EOF */
    BIO_set_data(wbio, d);
    SSL_set_bio(d->ssl, d->rbio, wbio); /* the SSL owns both BIOs now */
    wbio = NULL;
    SSL_set_app_data(d->ssl, d);
    SSL_set_info_callback(d->ssl, on_info);
    DTLS_set_timer_cb(d->ssl, on_timer);
    if (DTLS_set_link_mtu(d->ssl, SFU_DTLS_MTU) != 1)
        goto err;
    if (role == SFU_DTLS_SERVER)
        SSL_set_accept_state(d->ssl);
    else
        SSL_set_connect_state(d->ssl);
    return d;
err:
    BIO_free(wbio);
    ERR_clear_error();
    sfu_dtls_free(d);
    return NULL;
}

void sfu_dtls_free(sfu_dtls *d)
{
    if (!d)
        return;
    SSL_free(d->ssl);
    free_queue(d);
    if (d->retired)
        sfu_dtls_tail_deinit(d->retired);
    free(d->retired);
    free(d->farewell);
    OPENSSL_cleanse(&d->keys, sizeof d->keys);
    free(d);
}

/* RFC 5764 4.2: client_write_key | server_write_key | client_write_salt |
 * server_write_salt; "local" is ours by role. */
static int export_keys(sfu_dtls *d)
{
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    uint8_t km[2 * (SFU_SRTP_MAX_KEY_LEN + SFU_SRTP_MAX_SALT_LEN)];
    size_t k, s;
    if (!p || sfu_srtp_profile_lengths((sfu_srtp_profile)p->id, &k, &s) != 0)
        return -1;
    if (SSL_export_keying_material(d->ssl, km, 2 * (k + s), EXPORTER_LABEL,
                                   sizeof EXPORTER_LABEL - 1, NULL, 0, 0) != 1)
        return -1;
    const uint8_t *client_key = km, *server_key = km + k;
    const uint8_t *client_salt = km + 2 * k, *server_salt = km + 2 * k + s;
    bool client = d->role == SFU_DTLS_CLIENT;
    d->keys.profile = (sfu_srtp_profile)p->id;
    memcpy(d->keys.local_key, client ? client_key : server_key, k);
    memcpy(d->keys.local_salt, client ? client_salt : server_salt, s);
    memcpy(d->keys.remote_key, client ? server_key : client_key, k);
    memcpy(d->keys.remote_salt, client ? server_salt : client_salt, s);
    OPENSSL_cleanse(km, sizeof km);
    return 0;
}

static void on_handshake_done(sfu_dtls *d)
{
    X509 *peer = SSL_get0_peer_certificate(d->ssl);
    sfu_fingerprint got;
    /* on_verify already checked; this guards against a path that skipped it */
    if (!peer || sfu_fingerprint_of_x509(&got, d->expected.algo, peer) != 0 ||
        !sfu_fingerprint_equal(&got, &d->expected)) {
        fail(d, "peer certificate does not match the SDP fingerprint");
        return;
    }
    if (!SSL_get_selected_srtp_profile(d->ssl)) {
        fail(d, "no SRTP profile in common (use_srtp, RFC 5764 4.1.1)");
        return;
    }
    if (export_keys(d) != 0) {
        fail(d, "exporting SRTP keys failed");
        return;
    }
    d->state = SFU_DTLS_CONNECTED;
}

/* Maps an SSL_* result that is not success; true if the session can go on. */
static bool check_result(sfu_dtls *d, int r, const char *what)
{
    int e = SSL_get_error(d->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return true;
    if (e == SSL_ERROR_ZERO_RETURN) {
        set_failure(d, "close_notify received");
        d->state = SFU_DTLS_CLOSED;
        ERR_clear_error();
        return false;
    }
    fail(d, what);
    return false;
}

/* After the handshake: records are application data (none expected: no data
 * channels yet, so it is discarded), alerts, or the peer's retransmitted last
 * flight, which OpenSSL answers by itself. */
static void read_records(sfu_dtls *d)
{
    uint8_t sink[4096];
    for (;;) {
        ERR_clear_error();
        int r = SSL_read(d->ssl, sink, sizeof sink);
        if (r > 0)
            continue;
        (void)check_result(d, r, "record layer failure");
        return;
    }
}

static void drive(sfu_dtls *d)
{
    if (d->state == SFU_DTLS_CONNECTED) {
        read_records(d);
        return;
    }
    ERR_clear_error();
    d->state = SFU_DTLS_CONNECTING;
    int r = SSL_do_handshake(d->ssl);
    if (r == 1) {
        on_handshake_done(d);
        if (d->state == SFU_DTLS_CONNECTED)
            read_records(d); /* records that came in the same datagram */
        return;
    }
    (void)check_result(d, r, "handshake failed");
}

int sfu_dtls_start(sfu_dtls *d)
{
    if (d->state != SFU_DTLS_NEW)
        return -SFU_ESTATE;
    if (d->role == SFU_DTLS_CLIENT)
        drive(d);
    return d->state == SFU_DTLS_FAILED ? -SFU_ESTATE : 0;
}

/* OpenSSL 3.0 answers a protected record shorter than GCM's nonce and tag
 * with a fatal internal_error alert instead of discarding it as RFC 6347
 * 4.1.2.7 asks: one spoofed 16-byte datagram would end the session. Such a
 * datagram is dropped here; everything else is OpenSSL's to judge. */
static bool check_datagram(const uint8_t *p, size_t len)
{
    size_t off = 0;
    while (len - off >= RECORD_HEADER) {
        uint16_t epoch = sfu_rd16(p + off + 3);
        size_t n = sfu_rd16(p + off + 11);
        if (epoch != 0 && n < MIN_GCM_RECORD)
            return false;
        if (n > len - off - RECORD_HEADER)
            break;
        off += RECORD_HEADER + n;
    }
    return true;
}

/* Once connected, records are rare (alerts, a retransmitted flight): the
 * record layer's read and write buffers (about 34 KB a session) are freed
 * between calls instead of held for the session's life. OpenSSL 3.0's DTLS
 * write path does not allocate its write buffer again by itself, so every
 * call that may write allocates both first (a no-op while they exist). */
static bool buffers_in(sfu_dtls *d)
{
    if (SSL_alloc_buffers(d->ssl) == 1)
        return true;
    ERR_clear_error();
    return false;
}

static void buffers_out(sfu_dtls *d)
{
    if (d->state != SFU_DTLS_CONNECTING && d->state != SFU_DTLS_NEW)
        (void)SSL_free_buffers(d->ssl);     /* 0 with data pending: kept */
}

/* A retired session reads only the peer's alerts: close_notify closes it,
 * a fatal alert fails it, as OpenSSL would have; every other record (a late
 * copy of the peer's last flight, application data) is dropped. */
static void handle_retired(sfu_dtls *d, const uint8_t *p, size_t len)
{
    size_t off = 0;
    while (len - off >= RECORD_HEADER && d->state == SFU_DTLS_CONNECTED) {
        size_t n = sfu_rd16(p + off + 11);
        if (n > len - off - RECORD_HEADER)
            return;
        uint8_t level, desc;
        if (sfu_dtls_tail_open_alert(d->retired, p + off, RECORD_HEADER + n, &level, &desc)) {
            if (desc == SSL_AD_CLOSE_NOTIFY) {
                set_failure(d, "close_notify received");
                d->state = SFU_DTLS_CLOSED;
            } else if (level == SSL3_AL_FATAL) {
                set_failure(d, "alert received: %s", SSL_alert_desc_string_long(desc));
                d->state = SFU_DTLS_FAILED;
            }
        }
        off += RECORD_HEADER + n;
    }
}

int sfu_dtls_handle_input(sfu_dtls *d, const uint8_t *data, size_t len)
{
    if (d->state == SFU_DTLS_FAILED || d->state == SFU_DTLS_CLOSED)
        return -SFU_ESTATE;
    if (len == 0 || len > MAX_DATAGRAM)
        return -SFU_EINVAL;
    if (d->retired) {
        handle_retired(d, data, len);
        return 0;
    }
    if (!check_datagram(data, len))
        return 0;
    if (BIO_write(d->rbio, data, (int)len) != (int)len) {
        ERR_clear_error();
        return -SFU_ENOMEM;
    }
    if (!buffers_in(d))
        return -SFU_ENOMEM;
    drive(d);
    /* Whatever OpenSSL left unread (a datagram beyond its buffer) must not
     * be glued to the next datagram. */
    (void)BIO_reset(d->rbio);
    buffers_out(d);
    ERR_clear_error();
    return 0;
}

const uint8_t *sfu_dtls_poll_output(sfu_dtls *d, size_t *len)
{
    free(d->popped);
    d->popped = d->head;
    if (!d->head) {
        *len = 0;
        return NULL;
    }
    d->head = d->head->next;
    if (!d->head) {
        d->tail = NULL;
        d->tail_open = false;
    }
    d->queued--;
    *len = d->popped->len;
    return d->popped->data;
}

sfu_time sfu_dtls_poll_timeout(sfu_dtls *d, sfu_time now)
{
    struct timeval tv;
    if (d->retired || (d->state != SFU_DTLS_CONNECTING && d->state != SFU_DTLS_CONNECTED))
        return SFU_TIME_NEVER;
    if (DTLSv1_get_timeout(d->ssl, &tv) != 1)
        return SFU_TIME_NEVER;
    return now + SFU_SEC(tv.tv_sec) + tv.tv_usec;
}

int sfu_dtls_handle_timeout(sfu_dtls *d)
{
    if (d->state == SFU_DTLS_FAILED || d->state == SFU_DTLS_CLOSED)
        return -SFU_ESTATE;
    if (d->state == SFU_DTLS_NEW || d->retired)
        return 0;
    ERR_clear_error();
    if (!buffers_in(d))
        return 0;   /* no memory now: the timer stays due, tried again */
    if (DTLSv1_handle_timeout(d->ssl) < 0) {
        fail(d, "handshake timed out after retransmissions");
        return -SFU_ESTATE;
    }
    buffers_out(d);
    ERR_clear_error();
    return 0;
}

int sfu_dtls_close(sfu_dtls *d)
{
    if (d->state != SFU_DTLS_CONNECTED)
        return -SFU_ESTATE;
    if (d->retired) {
        /* the close_notify OpenSSL wrote at retirement, now on its way */
        if (d->farewell && d->queued < MAX_QUEUED) {
            d->farewell->next = NULL;
            if (d->tail)
                d->tail->next = d->farewell;
            else
                d->head = d->farewell;
            d->tail = d->farewell;
            d->tail_open = false;
            d->queued++;
            d->farewell = NULL;
        }
        set_failure(d, "closed locally");
        d->state = SFU_DTLS_CLOSED;
        return 0;
    }
    ERR_clear_error();
    if (buffers_in(d))
        (void)SSL_shutdown(d->ssl); /* queues close_notify; no answer awaited */
    ERR_clear_error();
    set_failure(d, "closed locally");
    d->state = SFU_DTLS_CLOSED;
    buffers_out(d);
    return 0;
}

int sfu_dtls_retire(sfu_dtls *d)
{
    if (d->state != SFU_DTLS_CONNECTED || d->retired || d->head)
        return -SFU_ESTATE;
    sfu_dtls_tail *t = malloc(sizeof *t);
    if (!t)
        return -SFU_ENOMEM;
    if (sfu_dtls_tail_init(t, d->ssl, d->role == SFU_DTLS_CLIENT) != 0 || !buffers_in(d)) {
        sfu_dtls_tail_deinit(t);
        free(t);
        ERR_clear_error();
        return -SFU_EINVAL;
    }
    /* close_notify now, kept for sfu_dtls_close: its record number comes
     * next in epoch 1 whenever it is sent, since nothing else will be. */
    ERR_clear_error();
    (void)SSL_shutdown(d->ssl);
    ERR_clear_error();
    struct datagram *fw = d->head;
    if (fw) {
        d->head = fw->next;
        d->queued--;
        free_queue(d);  /* nothing else was queued (checked above) */
        /* one 39-byte record in an MTU-sized datagram: keep the record */
        struct datagram *small = realloc(fw, sizeof *fw + fw->len);
        if (small) {
            fw = small;
            fw->cap = fw->len;
        }
    }
    d->farewell = fw;
    SSL_free(d->ssl);   /* the BIOs with it */
    d->ssl = NULL;
    d->rbio = NULL;
    d->retired = t;
    return 0;
}

bool sfu_dtls_retired(const sfu_dtls *d) { return d->retired != NULL; }

sfu_dtls_state sfu_dtls_get_state(const sfu_dtls *d) { return d->state; }
sfu_dtls_role sfu_dtls_get_role(const sfu_dtls *d) { return d->role; }

const char *sfu_dtls_state_name(sfu_dtls_state state)
{
    switch (state) {
    case SFU_DTLS_NEW: return "new";
    case SFU_DTLS_CONNECTING: return "connecting";
    case SFU_DTLS_CONNECTED: return "connected";
    case SFU_DTLS_FAILED: return "failed";
    case SFU_DTLS_CLOSED: return "closed";
    }
    return "unknown";
}

const char *sfu_dtls_failure(const sfu_dtls *d)
{
    return d->state == SFU_DTLS_FAILED || d->state == SFU_DTLS_CLOSED ? d->failure : "";
}

int sfu_dtls_get_srtp_keys(const sfu_dtls *d, sfu_srtp_keys *keys)
{
    if (d->state != SFU_DTLS_CONNECTED)
        return -SFU_ESTATE;
    *keys = d->keys;
    return 0;
}
