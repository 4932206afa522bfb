/* Active-speaker detection from RFC 6464 audio levels: two time-decayed
 * averages of loudness per participant (loudness.h) and a switch rule with
 * hysteresis. */
#include "sfu/core/speaker.h"
#include "sfu/core/loudness.h"

#include <stdlib.h>
#include <string.h>

/* The fast average: about a syllable or two. Long enough that a click or a
 * single loud packet barely registers, short enough that a new talker
 * reaches SFU_LOUDNESS_ACTIVE within about 300 ms. */
#define FAST_TAU SFU_MS(300)

/* The slow average: about a phrase. The current speaker has "dropped" when
 * their fast score is under it (a pause, or the end of their turn). */
#define SLOW_TAU SFU_SEC(2)

/* A candidate must be this many dB louder than the current speaker (on
 * fast scores): two people at similar levels talking over each other do not
 * trade places on every syllable. */
#define LOUDER_MARGIN 6.0f

/* ... and for this long. A cough, a laugh or an "mm-hm" stays above
 * SFU_LOUDNESS_ACTIVE for well under half a second; a real new talker is switched to
 * about a second after they start. */
#define SWITCH_HOLD SFU_MS(700)

/* Lapses shorter than this (a breath, the gap between two words) do not
 * restart SWITCH_HOLD: a talker who pauses every second is still a talker.
 * Shorter than SWITCH_HOLD, so two coughs in a row are not a talker. */
#define CANDIDATE_GRACE SFU_MS(400)

/* At most one change per this, whatever the levels do: a highlight that
 * moves faster is noise to the people watching it. */
#define MIN_INTERVAL SFU_SEC(1)

/* While a switch is due but held back (the speaker has not dropped, or the
 * candidate is in a lapse) and no packets come, handle_timeout looks again
 * this often; the candidate decays out within a few looks. */
#define EVAL_STEP SFU_MS(100)

/* A participant unheard for this long may give their slot to a new one
 * when the table is full. */
#define FORGET_AFTER SFU_SEC(10)

/* Entries allocated at first, doubled when all are used: a table for the
 * room's maximum (4 x participants + 64 legs) cost 97 KB a room at 1000
 * participants, and each packet's look-up walked all of it. */
#define INITIAL_ENTRIES 4

typedef struct entry {
    bool used;
    bool vad_seen;              /* the sender has set V: its V bit means something */
    uint32_t participant;
    sfu_time last_at;           /* the scores are as of this time */
    float fast, slow;           /* decayed averages of loudness, dB above the floor */
} entry;

struct sfu_speaker {
    uint32_t cap;               /* the most participants */
    uint32_t n;                 /* entries allocated: grows by doubling up to cap */
    entry *e;
    bool has_current;
    uint32_t current;
    sfu_time changed_at;
    bool change_pending;        /* for take_change */
    bool has_candidate;
    uint32_t candidate;
    sfu_time candidate_since;   /* clearly louder (lapses under the grace aside) since */
    sfu_time candidate_ok_at;   /* last seen clearly louder */
    sfu_time evaluated_at;
};

sfu_speaker *sfu_speaker_new(uint32_t max_participants)
{
    sfu_speaker *sp = NULL;
    if (max_participants == 0)
        goto err;
    sp = calloc(1, sizeof *sp);
    if (!sp)
        goto err;
    sp->cap = max_participants;
    sp->n = max_participants < INITIAL_ENTRIES ? max_participants : INITIAL_ENTRIES;
    sp->e = calloc(sp->n, sizeof *sp->e);
    if (!sp->e)
        goto err;
    return sp;
err:
    sfu_speaker_free(sp);
    return NULL;
}

void sfu_speaker_free(sfu_speaker *sp)
{
    if (!sp)
        return;
    free(sp->e);
    free(sp);
}

static float fast_at(const entry *e, sfu_time now) { return e->fast * sfu_loudness_decay(now - e->last_at, FAST_TAU); }
static float slow_at(const entry *e, sfu_time now) { return e->slow * sfu_loudness_decay(now - e->last_at, SLOW_TAU); }

static entry *find(const sfu_speaker *sp, uint32_t participant)
{
    for (uint32_t i = 0; i < sp->n; i++)
        if (sp->e[i].used && sp->e[i].participant == participant)
            return &sp->e[i];
    return NULL;
}

/* A free slot, or the longest-unheard one past FORGET_AFTER that is
 * neither the speaker nor the candidate. */
static entry *add(sfu_speaker *sp, uint32_t participant, sfu_time now)
{
    entry *pick = NULL;
    for (uint32_t i = 0; i < sp->n && !(pick && !pick->used); i++) {
        entry *e = &sp->e[i];
        bool busy = e->used && ((sp->has_current && e->participant == sp->current) ||
                                (sp->has_candidate && e->participant == sp->candidate));
        if (!e->used || (!busy && now - e->last_at >= FORGET_AFTER &&
                         (!pick || e->last_at < pick->last_at)))
            pick = e;
    }
    uint32_t old = sp->n;   /* a free entry first, as in a table allocated whole */
    entry *grown = !pick || pick->used ? sfu_grow_zeroed(sp->e, &sp->n, sp->cap, sizeof *sp->e) : NULL;
    if (grown)
        pick = &(sp->e = grown)[old];
    if (pick)
        *pick = (entry){ .used = true, .participant = participant, .last_at = now - SFU_LOUDNESS_FIRST_SPAN };
    return pick;
}

/* The loudest participant other than the current speaker, by fast score. */
static const entry *loudest_other(const sfu_speaker *sp, sfu_time now, float *score)
{
    const entry *best = NULL;
    *score = 0.0f;
    for (uint32_t i = 0; i < sp->n; i++) {
        const entry *e = &sp->e[i];
        if (!e->used || (sp->has_current && e->participant == sp->current))
            continue;
        float f = fast_at(e, now);
        if (!best || f > *score) {
            best = e;
            *score = f;
        }
    }
    return best;
}

static bool clearly_louder(float f, float cur_fast) { return f >= SFU_LOUDNESS_ACTIVE && f >= cur_fast + LOUDER_MARGIN; }

/* The switch rule: a candidate clearly louder than the speaker for
 * SWITCH_HOLD, the speaker below their own usual level, MIN_INTERVAL since
 * the last change. A candidate that still qualifies keeps its place even
 * when someone else is momentarily louder, so that two people talking at
 * once do not keep restarting each other's wait. */
static void evaluate(sfu_speaker *sp, sfu_time now)
{
    sp->evaluated_at = now;
    const entry *cur = sp->has_current ? find(sp, sp->current) : NULL;
    float cur_fast = cur ? fast_at(cur, now) : 0.0f;
    const entry *cand = sp->has_candidate ? find(sp, sp->candidate) : NULL;
    if (!cand || !clearly_louder(fast_at(cand, now), cur_fast)) {
        float best_fast;
        const entry *best = loudest_other(sp, now, &best_fast);
        if (!best || !clearly_louder(best_fast, cur_fast)) {
            if (sp->has_candidate && now - sp->candidate_ok_at > CANDIDATE_GRACE)
                sp->has_candidate = false;
            return;
        }
        sp->has_candidate = true;
        sp->candidate = best->participant;
        sp->candidate_since = now;
    }
    sp->candidate_ok_at = now;
    bool dropped = !cur || cur_fast < slow_at(cur, now) || cur_fast < SFU_LOUDNESS_ACTIVE;
    if (now - sp->candidate_since < SWITCH_HOLD || !dropped ||
        (sp->has_current && now - sp->changed_at < MIN_INTERVAL))
        return;
    sp->has_current = true;
    sp->current = sp->candidate;
    sp->changed_at = now;
    sp->change_pending = true;
    sp->has_candidate = false;
}

int sfu_speaker_handle_level(sfu_speaker *sp, uint32_t participant, uint8_t level, bool voice,
                             sfu_time now)
{
    if (level > 127)
        return -SFU_EINVAL;
    entry *e = find(sp, participant);
    if (!e)
        e = add(sp, participant, now);
    if (!e)
        return -SFU_ENOSPC;
    float x = sfu_loudness_of(&e->vad_seen, level, voice);
    e->fast = sfu_loudness_update(e->fast, x, now - e->last_at, FAST_TAU);
    e->slow = sfu_loudness_update(e->slow, x, now - e->last_at, SLOW_TAU);
    if (now > e->last_at)
        e->last_at = now;
    evaluate(sp, now);
    return 0;
}

void sfu_speaker_handle_timeout(sfu_speaker *sp, sfu_time now)
{
    if (sp->has_candidate)
        evaluate(sp, now);
}

sfu_time sfu_speaker_poll_timeout(const sfu_speaker *sp)
{
    if (!sp->has_candidate)
        return SFU_TIME_NEVER;
    sfu_time t = sp->candidate_since + SWITCH_HOLD;
    if (sp->has_current && sp->changed_at + MIN_INTERVAL > t)
        t = sp->changed_at + MIN_INTERVAL;
    if (t <= sp->evaluated_at)
        t = sp->evaluated_at + EVAL_STEP; /* due, but something else held it back */
    return t;
}

void sfu_speaker_remove(sfu_speaker *sp, uint32_t participant)
{
    entry *e = find(sp, participant);
    if (e)
        e->used = false;
    if (sp->has_current && sp->current == participant) {
        sp->has_current = false;
        sp->change_pending = false;
    }
    if (sp->has_candidate && sp->candidate == participant)
        sp->has_candidate = false;
}

bool sfu_speaker_current(const sfu_speaker *sp, uint32_t *participant)
{
    if (sp->has_current)
        *participant = sp->current;
    return sp->has_current;
}

bool sfu_speaker_take_change(sfu_speaker *sp, uint32_t *participant)
{
    if (!sp->change_pending)
        return false;
    sp->change_pending = false;
    *participant = sp->current;
    return true;
}
