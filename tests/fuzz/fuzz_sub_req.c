/* Fuzz target for the subscription request body (signaling/sub_req.h):
 * whatever it accepts must be within the documented bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sub_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sig_sub_req r;
    char err[160];
    memset(&r, 0xA5, sizeof r);
    if (sig_sub_req_parse((const char *)data, size, &r, err, sizeof err) != 0) {
        if (!memchr(err, '\0', sizeof err) || err[0] == '\0')
            abort();            /* every refusal says why */
        return 0;
    }
    if (r.n > SIG_SUB_MAX || (!r.video_on && r.n))
        abort();
    for (unsigned i = 0; i < r.n; i++) {
        const sig_sub_entry *e = &r.e[i];
        if (!e->participant || sfu_is_audio_slot(e->participant) || e->max_layer < -1 ||
            e->max_layer >= SFU_MAX_LAYERS || e->max_width > SIG_SUB_MAX_PIXELS ||
            e->max_height > SIG_SUB_MAX_PIXELS || (e->max_layer >= 0 && (e->max_width || e->max_height)))
            abort();
        for (unsigned k = 0; k < i; k++)
            if (r.e[k].participant == e->participant)
                abort();
        uint16_t w[3] = { 320, 640, 1280 }, h[3] = { 180, 360, 720 };
        bool unresolved;
        int l = sig_sub_layer_for(e, w, h, 3, &unresolved);
        if (l < -1 || l > 2)
            abort();
    }
    return 0;
}
