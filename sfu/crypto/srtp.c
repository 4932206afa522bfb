#include "sfu/crypto/srtp.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "sfu/crypto/srtp_openssl.h"

_Static_assert(SFU_SRTP_MAX_TRAILER_LEN == SRTP_MAX_TRAILER_LEN + 4,
               "SFU_SRTP_MAX_TRAILER_LEN must cover an SRTCP trailer");

/* Video NACK recovery delivers packets up to a few hundred sequence numbers
 * late; libsrtp's default window (128) would reject them as replays. */
#define REPLAY_WINDOW 1024

/* Inbound, one libsrtp context for RTP and one for RTCP; outbound one for
 * both. libsrtp 2.5 finds a packet's stream by walking its context's list
 * of streams (newest first, two cache lines per stream passed). A peer's
 * receiver reports come from an SSRC of their own that is first seen after
 * its media's, so in one inbound context that stream sat in front of the
 * media's and every RTP packet walked past it (counted in voice-calls: 75
 * of 75 samples). The keys are the same in both; an SSRC's SRTP and SRTCP
 * state were separate within a stream already. Outbound the media's
 * streams were found first in the same count, and a split would add a
 * stream for every SSRC that sends SRs (384 bytes each) beside 3 KB. */
struct sfu_srtp_session {
    srtp_t in_rtp, in_rtcp;
    srtp_t out;
};

static const struct {
    sfu_srtp_profile profile;
    const char *name;
    uint8_t key_len, salt_len;
    void (*set_policy)(srtp_crypto_policy_t *);
} profiles[] = {
    /* RFC 7714 section 12: 16-octet tags for both AEAD profiles. */
    { SFU_SRTP_AEAD_AES_256_GCM, "SRTP_AEAD_AES_256_GCM", 32, 12,
      srtp_crypto_policy_set_aes_gcm_256_16_auth },
    { SFU_SRTP_AEAD_AES_128_GCM, "SRTP_AEAD_AES_128_GCM", 16, 12,
      srtp_crypto_policy_set_aes_gcm_128_16_auth },
    /* RFC 5764 4.1.2: 80-bit tag for SRTP and SRTCP. */
    { SFU_SRTP_AES128_CM_SHA1_80, "SRTP_AES128_CM_SHA1_80", 16, 14,
      srtp_crypto_policy_set_rtp_default },
};

static int find_profile(sfu_srtp_profile profile)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(profiles); i++)
        if (profiles[i].profile == profile)
            return (int)i;
    return -1;
}

int sfu_srtp_profile_lengths(sfu_srtp_profile profile, size_t *key_len, size_t *salt_len)
{
    int i = find_profile(profile);
    if (i < 0)
        return -SFU_EUNSUPPORTED;
    *key_len = profiles[i].key_len;
    *salt_len = profiles[i].salt_len;
    return 0;
}

const char *sfu_srtp_profile_name(sfu_srtp_profile profile)
{
    int i = find_profile(profile);
    return i < 0 ? "unknown" : profiles[i].name;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_init_fail;

/* The crypto types are swapped for the OpenSSL ones (srtp_openssl.h) here,
 * before any context exists: libsrtp's type list takes no lock. */
static void init_library(void)
{
    init_status = srtp_init();
    if (init_status == srtp_err_status_ok && sfu_srtp_openssl_register() != 0)
        init_status = srtp_err_status_init_fail;
}

int sfu_srtp_init(void)
{
    pthread_once(&init_once, init_library);
    return init_status == srtp_err_status_ok ? 0 : -SFU_EUNSUPPORTED;
}

/* libsrtp takes one buffer: master key followed by master salt. */
static srtp_t create_context(int prof, const uint8_t *key, const uint8_t *salt, bool outbound)
{
    uint8_t master[SFU_SRTP_MAX_KEY_LEN + SFU_SRTP_MAX_SALT_LEN];
    srtp_policy_t policy;
    srtp_t ctx = NULL;

    memcpy(master, key, profiles[prof].key_len);
    memcpy(master + profiles[prof].key_len, salt, profiles[prof].salt_len);
    memset(&policy, 0, sizeof policy);
    profiles[prof].set_policy(&policy.rtp);
    profiles[prof].set_policy(&policy.rtcp);
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.key = master;
    policy.window_size = REPLAY_WINDOW;
    policy.allow_repeat_tx = outbound;
    if (srtp_create(&ctx, &policy) != srtp_err_status_ok)
        ctx = NULL;
    memset(master, 0, sizeof master);
    return ctx;
}

sfu_srtp_session *sfu_srtp_session_new(const sfu_srtp_keys *keys)
{
    int prof = keys ? find_profile(keys->profile) : -1;
    if (prof < 0 || sfu_srtp_init() != 0)
        return NULL;
    sfu_srtp_session *s = calloc(1, sizeof *s);
    if (!s)
        goto err;
    s->in_rtp = create_context(prof, keys->remote_key, keys->remote_salt, false);
    s->in_rtcp = create_context(prof, keys->remote_key, keys->remote_salt, false);
    s->out = create_context(prof, keys->local_key, keys->local_salt, true);
    if (!s->in_rtp || !s->in_rtcp || !s->out)
        goto err;
    return s;
err:
    sfu_srtp_session_free(s);
    return NULL;
}

void sfu_srtp_session_free(sfu_srtp_session *s)
{
    if (!s)
        return;
    srtp_t all[] = { s->in_rtp, s->in_rtcp, s->out };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            srtp_dealloc(all[i]);
    free(s);
}

static int map_status(srtp_err_status_t st, int other)
{
    switch (st) {
    case srtp_err_status_ok: return 0;
    case srtp_err_status_auth_fail: return -SFU_SRTP_EAUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: return -SFU_SRTP_EREPLAY;
    default: return other;
    }
}

/* libsrtp counts in int; a datagram never comes close. */
#define MAX_PACKET (1 << 16)

void sfu_srtp_session_prefetch_out(const sfu_srtp_session *s) { __builtin_prefetch(s->out); }

int sfu_srtp_session_protect_rtp(sfu_srtp_session *s, uint8_t *pkt, size_t *len)
{
    if (*len > MAX_PACKET)
        return -SFU_EINVAL;
    int n = (int)*len;
    int err = map_status(srtp_protect(s->out, pkt, &n), -SFU_EMALFORMED);
    if (err == 0)
        *len = (size_t)n;
    return err;
}

int sfu_srtp_session_protect_rtcp(sfu_srtp_session *s, uint8_t *pkt, size_t *len)
{
    if (*len > MAX_PACKET)
        return -SFU_EINVAL;
    int n = (int)*len;
    int err = map_status(srtp_protect_rtcp(s->out, pkt, &n), -SFU_EMALFORMED);
    if (err == 0)
        *len = (size_t)n;
    return err;
}

int sfu_srtp_session_unprotect_rtp(sfu_srtp_session *s, uint8_t *pkt, size_t *len)
{
    if (*len > MAX_PACKET)
        return -SFU_EMALFORMED;
    int n = (int)*len;
    int err = map_status(srtp_unprotect(s->in_rtp, pkt, &n), -SFU_EMALFORMED);
    if (err == 0)
        *len = (size_t)n;
    return err;
}

int sfu_srtp_session_unprotect_rtcp(sfu_srtp_session *s, uint8_t *pkt, size_t *len)
{
    if (*len > MAX_PACKET)
        return -SFU_EMALFORMED;
    int n = (int)*len;
    int err = map_status(srtp_unprotect_rtcp(s->in_rtcp, pkt, &n), -SFU_EMALFORMED);
    if (err == 0)
        *len = (size_t)n;
    return err;
}

const char *sfu_srtp_strerror(int err)
{
    switch (err < 0 ? -err : err) {
    case SFU_SRTP_EAUTH: return "SRTP authentication failed";
    case SFU_SRTP_EREPLAY: return "SRTP replay";
    }
    return sfu_strerror(err);
}
