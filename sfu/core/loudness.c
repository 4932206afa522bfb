/* Loudness scores from RFC 6464 levels (loudness.h). */
#include "sfu/core/loudness.h"

/* Levels at or above this (-dBov) count as silence; loudness is dB above it.
 * Browsers report 127 for digital silence and roughly 55-80 for room tone
 * after noise suppression, while speech into a headset or laptop microphone
 * sits around 20-45. */
#define FLOOR_LEVEL 70

/* RFC 6464 4: with vad=on the V bit says whether the packet holds speech.
 * A sender that has set V at least once runs a detector, so its V = 0
 * packets (typing, a fan) count a quarter; a sender that never sets V
 * (vad=off) is taken at its level. */
#define NO_VOICE_WEIGHT 0.25f

/* One packet stands for at most this much audio (browsers send Opus with a
 * ptime of 10-40 ms). A longer gap before a packet (DTX, loss, a muted
 * sender) decays the scores as silence, so one packet after a silence weighs
 * as one packet, not as the whole gap. */
#define SAMPLE_SPAN_MAX SFU_MS(40)

/* (1 + x/16)^-16 is within a few percent of exp(-x) over the range that
 * matters, and reaches 0 where it no longer does. */
float sfu_loudness_decay(sfu_time dt, sfu_time tau)
{
    if (dt <= 0)
        return 1.0f;
    float x = (float)dt / (float)tau;
    if (x > 30.0f)
        return 0.0f;
    float y = 1.0f / (1.0f + x / 16.0f);
    y *= y;
    y *= y;
    y *= y;
    return y * y;
}

float sfu_loudness_of(bool *vad_seen, uint8_t level, bool voice)
{
    if (voice)
        *vad_seen = true;
    float x = level < FLOOR_LEVEL ? (float)(FLOOR_LEVEL - level) : 0.0f;
    return *vad_seen && !voice ? x * NO_VOICE_WEIGHT : x;
}

float sfu_loudness_update(float avg, float x, sfu_time dt, sfu_time tau)
{
    if (dt < 0)
        dt = 0;
    sfu_time span = dt < SAMPLE_SPAN_MAX ? dt : SAMPLE_SPAN_MAX;
    avg *= sfu_loudness_decay(dt - span, tau);
    return avg + (1.0f - sfu_loudness_decay(span, tau)) * (x - avg);
}
