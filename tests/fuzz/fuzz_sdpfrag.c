/* Fuzz target for the trickle-ice-sdpfrag parser and the restart answer. */
#include <stdint.h>
#include <stdlib.h>

#include "signaling/sdpfrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sig_sdpfrag frag;
    char err[256];
    if (sig_sdpfrag_parse((const char *)data, size, 0, &frag, err, sizeof err) != 0)
        return 0;
    char *out;
    size_t len;
    if (sig_sdpfrag_write_answer(&frag, NULL, "srvU", "serverpasswordserverpw", frag.cands, frag.ncands,
                                 &out, &len) == 0) {
        sig_sdpfrag back;
        if (sig_sdpfrag_parse(out, len, 1 << 20, &back, err, sizeof err) != 0 || back.ncands != frag.ncands)
            abort();            /* our own answer must parse back */
        free(out);
    }
    return 0;
}
