#include "sfu/core/common.h"

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
