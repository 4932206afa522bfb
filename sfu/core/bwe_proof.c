/* What arrivals prove about a token-bucket policer (see bwe_proof.h). */
#include "sfu/core/bwe_proof.h"

#include <string.h>

void sfu_bwe_proof_init(sfu_bwe_proof *p) { memset(p, 0, sizeof *p); }

static size_t slot(int64_t k)
{
    return (size_t)(((k % SFU_BWE_PROOF_BUCKETS) + SFU_BWE_PROOF_BUCKETS) % SFU_BWE_PROOF_BUCKETS);
}

uint64_t sfu_bwe_proof_of(uint64_t bytes, sfu_time span)
{
    if (bytes <= SFU_BWE_PROOF_BURST_BYTES || span < 0)
        return 0;
    return (bytes - SFU_BWE_PROOF_BURST_BYTES) * 8 * (uint64_t)SFU_SEC(1) /
           (uint64_t)(SFU_BWE_PROOF_DEPTH + span);
}

/* Every window ending at the newest bucket; a window of k buckets spans at
 * most k of them, so taking that as its length errs low. */
void sfu_bwe_proof_update(sfu_bwe_proof *p)
{
    if (!p->any)
        return;
    uint64_t d = 0;
    for (int k = 1; k <= SFU_BWE_PROOF_BUCKETS; k++) {
        d += p->bytes[slot(p->newest - k + 1)];
        uint64_t r = sfu_bwe_proof_of(d, k * SFU_BWE_PROOF_BUCKET);
        if (r > p->proven_bps)
            p->proven_bps = r;
    }
}

void sfu_bwe_proof_on_arrival(sfu_bwe_proof *p, sfu_time arrival, size_t bytes)
{
    int64_t k = arrival / SFU_BWE_PROOF_BUCKET;
    if (!p->any || k - p->newest >= SFU_BWE_PROOF_BUCKETS) {
        memset(p->bytes, 0, sizeof p->bytes);
        p->any = true;
        p->newest = k;
    } else if (k <= p->newest - SFU_BWE_PROOF_BUCKETS) {
        return;                         /* older than any window */
    }
    while (p->newest < k)
        p->bytes[slot(++p->newest)] = 0;
    p->bytes[slot(k)] += bytes;
}
