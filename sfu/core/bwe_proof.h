/* What the path toward a viewer has shown it carries past any token-bucket
 * policer: the rate below which a policer is ruled out by what arrived.
 *
 * A tail-drop policer (nftables' `limit rate over R bytes/second`) holds a
 * second at its rate on top of its burst (nft_limit.c: tokens_max = unit *
 * (rate + burst) / rate), about 43 kB at 250 kbit/s. A viewer that joins
 * with that bucket full sees short probes pass whole: they cannot tell a
 * full bucket from a free path. But over any span of arrival time tau such
 * a policer passes at most R (1 s + tau) + burst bytes, whatever was sent
 * and lost. So bytes D that did arrive within tau rule out every policer
 * with R < (D - burst) / (1 s + tau). The proof is the highest such bound
 * over windows of up to SFU_BWE_PROOF_SPAN of arrival time, kept for the
 * estimator's life (a path change starts a new estimator). It counts the
 * wire bytes the estimator counts (no IP/UDP headers, which the policer
 * counts too), so it errs low. */
#ifndef SFU_CORE_BWE_PROOF_H
#define SFU_CORE_BWE_PROOF_H

#include "sfu/core/common.h"

#define SFU_BWE_PROOF_BUCKET SFU_MS(50)
#define SFU_BWE_PROOF_BUCKETS 40        /* windows of up to 2 s */
#define SFU_BWE_PROOF_SPAN (SFU_BWE_PROOF_BUCKET * SFU_BWE_PROOF_BUCKETS)
/* The policer burst assumed on top of its second's worth: nftables'
 * `burst 12 kbytes`, as tests/e2e/netlab.sh sets it. */
#define SFU_BWE_PROOF_BURST_BYTES 12288
/* The bucket's depth beyond the burst, in time at its rate. */
#define SFU_BWE_PROOF_DEPTH SFU_SEC(1)

typedef struct sfu_bwe_proof {
    uint64_t bytes[SFU_BWE_PROOF_BUCKETS];  /* arrived, by arrival time */
    bool any;
    int64_t newest;             /* bucket number */
    uint64_t proven_bps;
} sfu_bwe_proof;

void sfu_bwe_proof_init(sfu_bwe_proof *p);

/* A packet of `bytes` arrived at `arrival` (the receiver's clock, made
 * monotonic by the caller). Arrivals older than the window are ignored. */
void sfu_bwe_proof_on_arrival(sfu_bwe_proof *p, sfu_time arrival, size_t bytes);

/* Takes the windows ending at the newest arrival into the proof: call it
 * after the arrivals of each feedback. */
void sfu_bwe_proof_update(sfu_bwe_proof *p);

/* The rate below which a policer is ruled out (0: none yet). */
static inline uint64_t sfu_bwe_proof_bps(const sfu_bwe_proof *p) { return p->proven_bps; }

/* What a run of `bytes` arriving within `span` proves (0 when nothing). */
uint64_t sfu_bwe_proof_of(uint64_t bytes, sfu_time span);

#endif
