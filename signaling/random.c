#include "signaling/random.h"

#include <sys/random.h>

void sig_random_bytes(void *buf, size_t len)
{
    uint8_t *p = buf;
    /* Blocks only until the pool is seeded at boot; short reads retry. */
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        }
    }
}

uint32_t sig_random_ssrc(void *ctx)
{
    (void)ctx;
    uint32_t v = 0;
    while (v == 0)
        sig_random_bytes(&v, sizeof v);
    return v;
}

void sig_random_ice_chars(char *out, size_t len)
{
    static const char chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t raw[256];
    if (len > sizeof raw)
        len = sizeof raw;
    sig_random_bytes(raw, len);
    for (size_t i = 0; i < len; i++)
        out[i] = chars[raw[i] & 63];
    out[len] = '\0';
}
