/* Which participants' audio a large room forwards: the loudest few, from
 * the client-to-mixer audio level (RFC 6464) of each audio packet, without
 * decoding. Sans-IO, time passed in.
 *
 * The selector keeps up to `members` participants in numbered positions.
 * A position keeps its participant until someone replaces it, so a viewer's
 * audio m-line (one per position) carries one talker for a while instead
 * of hopping. The rules, with hysteresis (constants and reasons in
 * audio_select.c):
 *   - an empty position takes the loudest participant not selected, at
 *     once, whatever its level (a small room hears everyone);
 *   - the active speaker (set from speaker.h) is always selected: if it is
 *     not, it takes the weakest position at once;
 *   - otherwise someone not selected replaces the weakest selected one only
 *     when clearly louder for a while, and the weakest has been selected
 *     long enough; at most one replacement per evaluation.
 * Evaluations run from handle_timeout, at most every SFU_AUDIO_SELECT_EVAL. */
#ifndef SFU_CORE_AUDIO_SELECT_H
#define SFU_CORE_AUDIO_SELECT_H

#include "sfu/core/common.h"

#define SFU_AUDIO_SELECT_MAX 16         /* positions */
#define SFU_AUDIO_SELECT_EVAL SFU_MS(100)
/* A replacement must be this many dB louder than the one it replaces, and
 * the one replaced must have held its place this long (reasons in
 * audio_select.c); a viewer choosing among the positions uses the same. */
#define SFU_AUDIO_SELECT_MARGIN 6.0f
#define SFU_AUDIO_SELECT_MIN_DWELL SFU_SEC(1)
/* The score the active speaker's position gets in sfu_audio_select_scores:
 * above any loudness, so that it ranks first. */
#define SFU_AUDIO_SELECT_SPEAKER_SCORE 1000.0f

typedef struct sfu_audio_select sfu_audio_select;

/* Follows up to `max_participants` audio sources and selects up to `members`
 * (1..SFU_AUDIO_SELECT_MAX) of them. NULL on bad sizes or no memory. */
sfu_audio_select *sfu_audio_select_new(uint32_t max_participants, unsigned members);
void sfu_audio_select_free(sfu_audio_select *sel);

/* One audio packet of `participant`: `level` 0..127 (-dBov, 127 silence) and
 * its V bit. Only updates the participant's score; -SFU_EINVAL for a level
 * above 127, -SFU_ENOSPC when the table is full. */
int sfu_audio_select_handle_level(sfu_audio_select *sel, uint32_t participant, uint8_t level,
                                  bool voice, sfu_time now);
/* The active speaker (0: none); it is kept selected from the next evaluation on. */
void sfu_audio_select_set_speaker(sfu_audio_select *sel, uint32_t participant);
/* The participant's audio went away: it leaves the table and its position. */
void sfu_audio_select_remove(sfu_audio_select *sel, uint32_t participant);

void sfu_audio_select_handle_timeout(sfu_audio_select *sel, sfu_time now);
/* The next evaluation; SFU_TIME_NEVER while nobody is known. */
sfu_time sfu_audio_select_poll_timeout(const sfu_audio_select *sel);

/* True once after the selection changed (a position filled, replaced or emptied). */
bool sfu_audio_select_take_change(sfu_audio_select *sel);
/* Position i's participant into out[i] (0: empty) for i < cap and the
 * number of positions; the count of positions is `members`. */
unsigned sfu_audio_select_positions(const sfu_audio_select *sel, uint32_t *out, unsigned cap);
bool sfu_audio_select_has(const sfu_audio_select *sel, uint32_t participant);
/* Position i's loudness at `now` (dB above silence; 0 for an empty one;
 * SFU_AUDIO_SELECT_SPEAKER_SCORE for the active speaker) into out[i] for
 * i < cap: for a viewer with fewer audio m-lines than positions, which
 * ones to carry. */
void sfu_audio_select_scores(const sfu_audio_select *sel, sfu_time now, float *out, unsigned cap);

#endif
