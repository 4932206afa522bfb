/* Random values for identifiers: getrandom(2), the kernel's CSPRNG. */
#ifndef SIG_RANDOM_H
#define SIG_RANDOM_H

#include <stddef.h>
#include <stdint.h>

void sig_random_bytes(void *buf, size_t len);
/* A non-zero SSRC; the signature of sig_ssrc_fn (ctx unused). */
uint32_t sig_random_ssrc(void *ctx);
/* `len` ice-chars (RFC 8839 5.4) and a NUL into out[len + 1]; len <= 256. */
void sig_random_ice_chars(char *out, size_t len);

#endif
