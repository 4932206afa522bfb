/* Which simulcast layers the pulling end of a relay leg needs (RFC 3550
 * 6.7 APP packet, name "SFUL", subtype 0), so that the serving end sends
 * only those (sfu_leg_desc.layer_feedback):
 *
 *   V=2 P subtype=0 | PT=204 | length
 *   SSRC of the sender
 *   "SFUL"
 *   per layer: media SSRC (the serving end's SSRC for that layer) |
 *              flags (bit 0: wanted) | 3 bytes zero
 *
 * Sans-IO; the parser checks every length and reads only its own name. */
#ifndef SFU_CORE_RTCP_LAYERS_H
#define SFU_CORE_RTCP_LAYERS_H

#include "sfu/core/common.h"
#include "sfu/core/rtcp.h"

#define SFU_RTCP_LAYERS_MAX 16      /* entries per packet */

typedef struct sfu_rtcp_layer_want {
    uint32_t ssrc;
    bool wanted;
} sfu_rtcp_layer_want;

typedef struct sfu_rtcp_layers {
    uint32_t sender_ssrc;
    uint8_t count;
    sfu_rtcp_layer_want entries[SFU_RTCP_LAYERS_MAX];
} sfu_rtcp_layers;

/* Whether `c` is an APP packet named "SFUL" (whatever its contents). */
bool sfu_rtcp_is_layers(const sfu_rtcp_common *c);
/* -SFU_EMALFORMED for a body that is not a whole number of entries, has
 * none or more than SFU_RTCP_LAYERS_MAX, or another subtype. */
int sfu_rtcp_layers_parse(const sfu_rtcp_common *c, sfu_rtcp_layers *out);
/* Writes the packet; its length, or -SFU_ENOSPC, -SFU_EINVAL for n == 0 or
 * n > SFU_RTCP_LAYERS_MAX. */
int sfu_rtcp_layers_build(uint8_t *dst, size_t cap, uint32_t sender_ssrc, const sfu_rtcp_layer_want *w,
                          unsigned n);

#endif
