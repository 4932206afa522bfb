#include "signaling/base64url.h"

#include "sfu/core/common.h"

static const char alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

size_t sig_base64url_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t sig_base64url_decoded_max(size_t len)
{
    return len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
}

int sig_base64url_encode(const uint8_t *in, size_t n, char *out, size_t outsize)
{
    size_t need = sig_base64url_encoded_len(n);
    if (need >= outsize || need > INT32_MAX)
        return -SFU_ENOSPC;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = sfu_rd24(in + i);
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        *o++ = alphabet[in[i] >> 2];
        *o++ = alphabet[(in[i] & 3) << 4];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
        *o++ = alphabet[v >> 10];
        *o++ = alphabet[(v >> 4) & 63];
        *o++ = alphabet[(v & 15) << 2];
    }
    *o = '\0';
    return (int)need;
}

int sig_base64url_decode(const char *in, size_t len, uint8_t *out, size_t outsize,
                         size_t *outlen)
{
    if (len % 4 == 1)
        return -SFU_EMALFORMED;     /* 6 bits cannot end a byte */
    if (sig_base64url_decoded_max(len) > outsize)
        return -SFU_ENOSPC;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = value_of((unsigned char)in[i]);
        if (v < 0)
            return -SFU_EMALFORMED;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* RFC 4648 3.5: the pad bits left over must be zero (canonical form). */
    if (bits && (acc & ((1u << bits) - 1)))
        return -SFU_EMALFORMED;
    *outlen = o;
    return 0;
}
