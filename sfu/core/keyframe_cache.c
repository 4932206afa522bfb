#include "sfu/core/keyframe_cache.h"

#include <string.h>

void sfu_keyframe_cache_init(sfu_keyframe_cache *k, sfu_time max_age, uint32_t max_packets)
{
    memset(k, 0, sizeof *k);
    k->max_age = max_age;
    k->max_packets = max_packets;
}

void sfu_keyframe_cache_reset(sfu_keyframe_cache *k) { k->have = false; }

void sfu_keyframe_cache_handle_keyframe(sfu_keyframe_cache *k, uint64_t seq, uint32_t ts, sfu_time now)
{
    if (k->have && ts == k->ts) {
        if (seq < k->seq)
            k->seq = seq; /* an earlier packet of the same keyframe, reordered */
        return;
    }
    if (k->have && seq < k->seq)
        return; /* an older keyframe, late */
    k->have = true;
    k->seq = seq;
    k->ts = ts;
    k->at = now;
}

bool sfu_keyframe_cache_range(const sfu_keyframe_cache *k, uint64_t highest, sfu_time now,
                              uint64_t *from)
{
    if (!k->have || k->max_age <= 0 || now - k->at > k->max_age || highest < k->seq ||
        highest - k->seq >= k->max_packets)
        return false;
    *from = k->seq;
    return true;
}
