/* Fuzzes the redaction of foreign log text. The first byte's low bit keeps
 * addresses (the operator's opt-in), the second picks a small output size.
 * Checks what the redactor promises: the output fits and ends in one NUL,
 * a smaller buffer gets a prefix of the same output, and redacting the
 * output again changes nothing (so nothing it would still take for a
 * secret is left in it). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/net/log_redact.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned flags = data[0] & 1 ? SFU_REDACT_KEEP_ADDRESSES : 0;
    size_t small = data[1];
    const char *in = (const char *)data + 2;
    size_t len = size - 2;
    /* Every replacement is at most 10 bytes and takes at least one. */
    size_t cap = 10 * len + 16;
    char *full = malloc(cap), *again = malloc(cap), *part = malloc(small + 1);
    check(full && again && part);

    size_t k = sfu_log_redact(full, cap, in, len, flags);
    check(k < cap - 1 && full[k] == '\0' && strlen(full) == k);

    /* Addresses are left out of this check: a run such as "ffff::<hex>"
     * is no address, but once its secret-looking tail is replaced, what
     * is left ("ffff::") parses as one. */
    size_t k2 = sfu_log_redact(again, cap, full, k, flags | SFU_REDACT_KEEP_ADDRESSES);
    check(k2 == k && memcmp(again, full, k) == 0);

    size_t kp = sfu_log_redact(part, small + 1, in, len, flags);
    check(kp == (k < small ? k : small) && part[kp] == '\0' && memcmp(part, full, kp) == 0);

    free(full);
    free(again);
    free(part);
    return 0;
}
