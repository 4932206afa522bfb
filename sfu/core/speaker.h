/* Active-speaker detection from the client-to-mixer audio level (RFC 6464),
 * without decoding any audio: sans-IO, time passed in.
 *
 * Each audio packet's level (-dBov, 0 loudest, 127 silence) and V bit feed a
 * per-participant score: a fast time-decayed average of loudness (how loud
 * the participant is now) and a slow one (how loud they usually are). The
 * active speaker changes only when another participant has been clearly
 * louder than the current one for a while, the current one has dropped
 * below their own usual level, and the last change is not too recent; the
 * constants and why they are what they are are in speaker.c. Silence clears
 * nobody: the last speaker stays until someone else talks or they are
 * removed. */
#ifndef SFU_CORE_SPEAKER_H
#define SFU_CORE_SPEAKER_H

#include "sfu/core/common.h"

typedef struct sfu_speaker sfu_speaker;

/* Tracks up to `max_participants` audio sources at once; participants idle
 * for long are forgotten when the table is full. NULL if 0 or out of memory. */
sfu_speaker *sfu_speaker_new(uint32_t max_participants);
void sfu_speaker_free(sfu_speaker *sp);

/* One audio packet of `participant` at `now`: `level` 0..127 as RFC 6464
 * carries it, `voice` its V bit. -SFU_EINVAL for a level above 127,
 * -SFU_ENOSPC when the table is full of recently heard participants. */
int sfu_speaker_handle_level(sfu_speaker *sp, uint32_t participant, uint8_t level, bool voice,
                             sfu_time now);
/* Re-evaluates at `now` when no packet came (a pending switch whose wait
 * ended, a talker whose packets stopped). */
void sfu_speaker_handle_timeout(sfu_speaker *sp, sfu_time now);
/* When handle_timeout next has something to decide; SFU_TIME_NEVER if no
 * switch is pending. */
sfu_time sfu_speaker_poll_timeout(const sfu_speaker *sp);

/* The participant's audio went away (left, or stopped publishing audio).
 * If they were the active speaker there is none until someone talks; that
 * is not reported as a change. */
void sfu_speaker_remove(sfu_speaker *sp, uint32_t participant);

/* The active speaker; false while there is none. */
bool sfu_speaker_current(const sfu_speaker *sp, uint32_t *participant);
/* The output: true once per change, with the participant it changed to
 * (the latest, if several happened since the last call). */
bool sfu_speaker_take_change(sfu_speaker *sp, uint32_t *participant);

#endif
