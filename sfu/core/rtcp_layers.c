/* RTCP APP "SFUL": the layers a relay leg's pulling end needs. See rtcp_layers.h. */
#include "sfu/core/rtcp_layers.h"

#include <string.h>

#define NAME "SFUL"
#define ENTRY 8

bool sfu_rtcp_is_layers(const sfu_rtcp_common *c)
{
    return c->pt == SFU_RTCP_APP && c->body_len >= 8 && memcmp(c->body + 4, NAME, 4) == 0;
}

int sfu_rtcp_layers_parse(const sfu_rtcp_common *c, sfu_rtcp_layers *out)
{
    if (!sfu_rtcp_is_layers(c) || c->count != 0)
        return -SFU_EMALFORMED;
    size_t n = (c->body_len - 8) / ENTRY;
    if ((c->body_len - 8) % ENTRY || n == 0 || n > SFU_RTCP_LAYERS_MAX)
        return -SFU_EMALFORMED;
    out->sender_ssrc = sfu_rd32(c->body);
    out->count = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = c->body + 8 + i * ENTRY;
        out->entries[i] = (sfu_rtcp_layer_want){ sfu_rd32(e), (e[4] & 1) != 0 };
    }
    return 0;
}

int sfu_rtcp_layers_build(uint8_t *dst, size_t cap, uint32_t sender_ssrc, const sfu_rtcp_layer_want *w,
                          unsigned n)
{
    if (n == 0 || n > SFU_RTCP_LAYERS_MAX)
        return -SFU_EINVAL;
    size_t len = 12 + (size_t)n * ENTRY;
    if (cap < len)
        return -SFU_ENOSPC;
    sfu_rtcp_write_header(dst, 0, SFU_RTCP_APP, len);
    sfu_wr32(dst + 4, sender_ssrc);
    memcpy(dst + 8, NAME, 4);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = dst + 12 + i * ENTRY;
        sfu_wr32(e, w[i].ssrc);
        e[4] = w[i].wanted ? 1 : 0;
        e[5] = e[6] = e[7] = 0;
    }
    return (int)len;
}
