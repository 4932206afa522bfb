/* Loudness from RFC 6464 audio levels, as decayed averages: the scoring
 * shared by active-speaker detection (speaker.c) and the selection of the
 * loudest few (audio_select.c), which differ only in their time constants
 * and in what they decide from the scores. Sans-IO, no libm. */
#ifndef SFU_CORE_LOUDNESS_H
#define SFU_CORE_LOUDNESS_H

#include "sfu/core/common.h"

/* A score at which someone counts as talking: a steady -50 dBov. Background
 * noise that passes the floor (loudness.c) stays under it. */
#define SFU_LOUDNESS_ACTIVE 20.0f

/* A newly heard participant's first packet weighs as a typical 20 ms one:
 * start its last packet time this long before the first packet. */
#define SFU_LOUDNESS_FIRST_SPAN SFU_MS(20)

/* exp(-dt / tau): what is left of a score after dt of silence. */
float sfu_loudness_decay(sfu_time dt, sfu_time tau);

/* One packet's loudness in dB above the silence floor. `vad_seen` is the
 * sender's state: once it has set the V bit, its V = 0 packets count less. */
float sfu_loudness_of(bool *vad_seen, uint8_t level, bool voice);

/* `avg` (time constant `tau`) after a packet of loudness `x` that came `dt`
 * after the sender's previous one: the gap before the packet's own span
 * decays as silence, then the span pulls the average toward `x`. */
float sfu_loudness_update(float avg, float x, sfu_time dt, sfu_time tau);

#endif
