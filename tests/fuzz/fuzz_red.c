/* Fuzzes the RFC 2198 RED parser with untrusted payloads. A parsed packet
 * must describe blocks inside the input; both egress forms must stay inside
 * it; rebuilding from the parsed blocks must give back the same bytes. */
#include "sfu/core/red.h"

#include <stdlib.h>
#include <string.h>

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sfu_red r;
    if (size > 1500 || sfu_red_parse(data, size, &r) != 0)
        return 0;
    check(r.nblocks >= 1 && r.nblocks <= SFU_RED_MAX_BLOCKS);
    check(r.hdr_len == 4 * (r.nblocks - 1) + 1 && r.hdr_len <= size);
    size_t end = r.hdr_len;
    for (unsigned i = 0; i < r.nblocks; i++) {
        check(r.blocks[i].off == end);
        end += r.blocks[i].len;
    }
    check(end == size);

    uint8_t head[SFU_RED_MAX_HDR];
    uint16_t off = 7, len = (uint16_t)size;
    check(sfu_red_egress(&r, data, false, 0, head, sizeof head, &off, &len) == 0);
    check(off >= 7 && (size_t)(off - 7) + len == size);
    off = 7, len = (uint16_t)size;
    int hl = sfu_red_egress(&r, data, true, 99, head, sizeof head, &off, &len);
    check(hl == r.hdr_len && (size_t)(off - 7) + len == size && (size_t)hl + len == size);

    static uint8_t out[1600];
    int n = sfu_red_build(out, sizeof out, r.blocks, r.nblocks, data);
    check(n == (int)size);
    check(memcmp(out, data, size) == 0);
    (void)sfu_red_is_single_codec(&r, r.blocks[0].pt);
    return 0;
}
