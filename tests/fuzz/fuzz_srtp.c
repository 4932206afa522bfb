/* SRTP and SRTCP unprotect on bytes from the network, for every profile the
 * SFU negotiates, through libsrtp and the OpenSSL crypto types
 * (sfu/crypto/srtp_openssl.c): lengths shorter than a tag, headers that
 * claim more than they hold, anything. The first byte picks the case:
 *   bits 0-1  profile (3 counts as 0)
 *   bit 2     SRTCP instead of SRTP
 *   bit 3     round trip: protect the rest with fresh keys; what protects
 *             must unprotect to the same bytes, and with bit 4 set a bit
 *             flipped at offset byte1 % length must fail to unprotect
 * Without bit 3 the rest goes to unprotect as it came. */
#include <stdlib.h>
#include <string.h>

#include "sfu/crypto/srtp.h"

static const sfu_srtp_profile profiles[] = {
    SFU_SRTP_AEAD_AES_256_GCM, SFU_SRTP_AEAD_AES_128_GCM, SFU_SRTP_AES128_CM_SHA1_80,
};

static sfu_srtp_session *new_session(sfu_srtp_profile profile)
{
    sfu_srtp_keys keys;
    memset(&keys, 0x6b, sizeof keys); /* local == remote: it unprotects its own */
    keys.profile = profile;
    sfu_srtp_session *s = sfu_srtp_session_new(&keys);
    if (!s)
        abort();
    return s;
}

#define MAX_PKT 4096
static uint8_t buf[MAX_PKT + SFU_SRTP_MAX_TRAILER_LEN], plain[MAX_PKT];

static void round_trip(sfu_srtp_profile profile, bool rtcp, bool flip, uint8_t where,
                       const uint8_t *data, size_t size)
{
    sfu_srtp_session *s = new_session(profile);
    size_t len = size;
    memcpy(buf, data, size);
    memcpy(plain, data, size);
    int err = rtcp ? sfu_srtp_session_protect_rtcp(s, buf, &len)
                   : sfu_srtp_session_protect_rtp(s, buf, &len);
    if (err == 0) {
        if (len <= size)
            abort();
        if (flip)
            buf[where % len] ^= 0x01;
        err = rtcp ? sfu_srtp_session_unprotect_rtcp(s, buf, &len)
                   : sfu_srtp_session_unprotect_rtp(s, buf, &len);
        if (flip ? err == 0 : (err != 0 || len != size || memcmp(buf, plain, size) != 0))
            abort();
    }
    sfu_srtp_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sfu_srtp_session *sessions[3];
    if (size < 2 || size - 2 > MAX_PKT)
        return 0;
    uint8_t mode = data[0], where = data[1];
    size_t p = (mode & 3) % 3;
    bool rtcp = mode & 4;
    data += 2;
    size -= 2;
    if (mode & 8) {
        round_trip(profiles[p], rtcp, mode & 16, where, data, size);
        return 0;
    }
    if (!sessions[p]) /* kept for the process: replay state carries over */
        sessions[p] = new_session(profiles[p]);
    memcpy(buf, data, size);
    size_t len = size;
    int err = rtcp ? sfu_srtp_session_unprotect_rtcp(sessions[p], buf, &len)
                   : sfu_srtp_session_unprotect_rtp(sessions[p], buf, &len);
    if (err == 0 && len > size)
        abort();
    return 0;
}
