#include "sfu/core/common.h"

#include <stdlib.h>
#include <string.h>

const char *sfu_strerror(int err)
{
    switch (err < 0 ? -err : err) {
    case 0: return "ok";
    case SFU_EMALFORMED: return "malformed";
    case SFU_ENOMEM: return "out of memory";
    case SFU_ENOSPC: return "no space";
    case SFU_ENOTFOUND: return "not found";
    case SFU_EUNSUPPORTED: return "unsupported";
    case SFU_EINVAL: return "invalid argument";
    case SFU_ELIMIT: return "limit reached";
    case SFU_ESTATE: return "wrong state";
    }
    return "unknown error";
}

void *sfu_grow_zeroed(void *arr, uint32_t *n, uint32_t cap, size_t size)
{
    if (*n >= cap)
        return NULL;
    uint32_t next = *n == 0 ? 1 : *n > cap / 2 ? cap : *n * 2;
    uint8_t *a = realloc(arr, (size_t)next * size);
    if (!a)
        return NULL;
    memset(a + (size_t)*n * size, 0, (size_t)(next - *n) * size);
    *n = next;
    return a;
}
