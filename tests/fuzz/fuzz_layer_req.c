/* Fuzz target for the layer selection request body (signaling/layer_req.h):
 * whatever it accepts must be within the documented bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/layer_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sig_layer_req r;
    char err[160];
    if (sig_layer_req_parse((const char *)data, size, &r, err, sizeof err) != 0) {
        if (!memchr(err, '\0', sizeof err) || err[0] == '\0')
            abort();            /* every refusal says why */
        return 0;
    }
    if (strlen(r.mid) >= sizeof r.mid || strlen(r.rid) >= sizeof r.rid ||
        r.max_layer < -1 || r.max_layer >= SFU_MAX_LAYERS || (r.rid[0] && r.max_layer >= 0))
        abort();
    return 0;
}
