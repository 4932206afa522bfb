#include "sfu/core/gso_plan.h"

/* How many datagrams from i on make one train (at least 1). */
static uint32_t train_at(const uint16_t *len, const uint32_t *dest, size_t n, size_t i,
                         uint32_t max_segs, uint32_t max_bytes)
{
    uint16_t seg = len[i];
    uint32_t count = 1, bytes = seg;
    if (seg == 0)
        return 1;
    while (i + count < n && count < max_segs && dest[i + count] == dest[i]) {
        uint16_t l = len[i + count];
        if (l > seg || l == 0 || bytes + l > max_bytes)
            break;
        bytes += l;
        count++;
        if (l < seg)
            break;      /* a shorter one ends the train */
    }
    return count;
}

size_t sfu_gso_plan(const uint16_t *len, const uint32_t *dest, size_t n, uint32_t min_segs,
                    uint32_t max_segs, uint32_t max_bytes, sfu_gso_msg *out)
{
    size_t m = 0;
    if (max_segs < 1)
        max_segs = 1;
    for (size_t i = 0; i < n;) {
        uint32_t c = train_at(len, dest, n, i, max_segs, max_bytes);
        if (c > 1 && c >= min_segs) {
            out[m++] = (sfu_gso_msg){ .first = (uint32_t)i, .count = c, .seg = len[i] };
            i += c;
            continue;
        }
        out[m++] = (sfu_gso_msg){ .first = (uint32_t)i, .count = 1, .seg = len[i] };
        i++;
    }
    return m;
}
