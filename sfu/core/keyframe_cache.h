/* Where the last keyframe of one source stream starts, so that a viewer who
 * needs a keyframe now (it just joined, or its decoder gave up and sent a
 * PLI) is sent that keyframe and every packet after it at once instead of
 * waiting for the publisher's next one.
 *
 * The packets themselves stay in the stream's retransmission cache (one
 * reference each, rtx_cache.h); this module only remembers the keyframe's
 * first extended sequence number, its RTP timestamp and when it arrived, and
 * decides whether a replay is worth it: the keyframe is at most `max_age`
 * old and the replay at most `max_packets` long. Past that the burst would
 * cost the viewer more than a fresh keyframe from the publisher.
 *
 * A replay sends up to `max_age` of video at once. Sent with their own
 * timestamps those frames would put the viewer's playout that far behind the
 * live stream for good (its jitter buffer maps the first frame's timestamp to
 * its arrival time), so a joining viewer's replayed frames get timestamps
 * squeezed toward the newest one (sfu_keyframe_cache_squeeze): decoded at
 * once, then live. */
#ifndef SFU_CORE_KEYFRAME_CACHE_H
#define SFU_CORE_KEYFRAME_CACHE_H

#include "sfu/core/common.h"

/* Replayed frames' distance to the newest one, in RTP ticks, is divided by
 * 2^SFU_KEYFRAME_SQUEEZE_SHIFT: 1 s of 90 kHz video becomes 31 ms, and
 * frames 1/60 s apart stay 46 ticks apart. */
#define SFU_KEYFRAME_SQUEEZE_SHIFT 5

typedef struct sfu_keyframe_cache {
    sfu_time max_age;           /* 0: never replay */
    uint32_t max_packets;
    bool have;
    uint64_t seq;               /* extended: the keyframe's first packet */
    uint32_t ts;
    sfu_time at;
} sfu_keyframe_cache;

void sfu_keyframe_cache_init(sfu_keyframe_cache *k, sfu_time max_age, uint32_t max_packets);
/* Forget the keyframe (the source restarted). */
void sfu_keyframe_cache_reset(sfu_keyframe_cache *k);
/* A packet that starts a keyframe (or carries part of its start: H.264 SPS,
 * PPS and the IDR's first fragment) arrived. A newer keyframe replaces the
 * one held; a reordered packet of the same keyframe moves its start back;
 * an older keyframe is ignored. */
void sfu_keyframe_cache_handle_keyframe(sfu_keyframe_cache *k, uint64_t seq, uint32_t ts, sfu_time now);
/* Whether a replay at `now`, with `highest` the newest packet of the stream,
 * is worth it; `*from` is then the keyframe's first packet. */
bool sfu_keyframe_cache_range(const sfu_keyframe_cache *k, uint64_t highest, sfu_time now,
                              uint64_t *from);

/* The timestamp a replayed packet is sent with: `out_ts` is what the
 * viewer's mapping gives it, `anchor_out_ts` what it gives the newest
 * replayed packet. The newest frame keeps its own timestamp, so live packets
 * of it and after it line up; older ones move toward it. */
static inline uint32_t sfu_keyframe_cache_squeeze(uint32_t out_ts, uint32_t anchor_out_ts)
{
    uint32_t behind = anchor_out_ts - out_ts;
    if (behind > 0x7fffffffu)
        return out_ts; /* not behind the anchor: a later frame, unchanged */
    return anchor_out_ts - (behind >> SFU_KEYFRAME_SQUEEZE_SHIFT);
}

#endif
