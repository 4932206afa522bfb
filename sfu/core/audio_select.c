/* The loudest few of a room from RFC 6464 levels (audio_select.h). */
#include "sfu/core/audio_select.h"
#include "sfu/core/loudness.h"

#include <stdlib.h>
#include <string.h>

/* The loudness average: half a second, slower than the speaker's fast score,
 * so that the selection follows turns in a conversation, not syllables. */
#define TAU SFU_MS(500)
/* A replacement must be this much louder than the weakest selected one... */
#define LOUDER_MARGIN SFU_AUDIO_SELECT_MARGIN
/* ...at every evaluation for this long (a cough or a laugh is shorter)... */
#define HOLD SFU_MS(300)
/* ...and the weakest must have been selected this long: a position does not
 * change hands twice within a second. */
#define MIN_DWELL SFU_AUDIO_SELECT_MIN_DWELL
/* Unheard this long: may be dropped from a full table. */
#define FORGET_AFTER SFU_SEC(10)
/* Entries allocated at first, doubled when all are used (speaker.c). */
#define INITIAL_ENTRIES 4

typedef struct entry {
    bool used;
    bool vad_seen;
    uint32_t participant;
    sfu_time last_at;
    float score;                /* decayed average of loudness, dB above the floor */
} entry;

struct sfu_audio_select {
    uint32_t cap;               /* the most participants */
    uint32_t n;                 /* entries allocated: grows by doubling up to cap */
    entry *e;
    unsigned npos;
    uint32_t pos[SFU_AUDIO_SELECT_MAX];
    sfu_time pos_since[SFU_AUDIO_SELECT_MAX];
    uint32_t speaker;
    uint32_t candidate;         /* 0: none */
    sfu_time candidate_since;
    sfu_time next_eval;
    uint32_t nused;
    bool changed;
};

sfu_audio_select *sfu_audio_select_new(uint32_t max_participants, unsigned members)
{
    sfu_audio_select *sel = NULL;
    if (max_participants == 0 || members == 0 || members > SFU_AUDIO_SELECT_MAX)
        goto err;
    sel = calloc(1, sizeof *sel);
    if (!sel)
        goto err;
    sel->cap = max_participants;
    sel->npos = members;
    /* grown as participants are heard (add), as in speaker.c */
    sel->n = max_participants < INITIAL_ENTRIES ? max_participants : INITIAL_ENTRIES;
    sel->e = calloc(sel->n, sizeof *sel->e);
    if (!sel->e)
        goto err;
    sel->next_eval = SFU_TIME_NEVER;
    return sel;
err:
    sfu_audio_select_free(sel);
    return NULL;
}

void sfu_audio_select_free(sfu_audio_select *sel)
{
    if (!sel)
        return;
    free(sel->e);
    free(sel);
}


static float score_at(const entry *e, sfu_time now) { return e->score * sfu_loudness_decay(now - e->last_at, TAU); }

static entry *find(const sfu_audio_select *sel, uint32_t participant)
{
    for (uint32_t i = 0; i < sel->n; i++)
        if (sel->e[i].used && sel->e[i].participant == participant)
            return &sel->e[i];
    return NULL;
}

static int position_of(const sfu_audio_select *sel, uint32_t participant)
{
    for (unsigned i = 0; participant && i < sel->npos; i++)
        if (sel->pos[i] == participant)
            return (int)i;
    return -1;
}

bool sfu_audio_select_has(const sfu_audio_select *sel, uint32_t participant)
{
    return position_of(sel, participant) >= 0;
}

/* A free entry, or the longest-unheard one past FORGET_AFTER not selected. */
static entry *add(sfu_audio_select *sel, uint32_t participant, sfu_time now)
{
    entry *pick = NULL;
    for (uint32_t i = 0; i < sel->n && !(pick && !pick->used); i++) {
        entry *e = &sel->e[i];
        if (!e->used || (position_of(sel, e->participant) < 0 && now - e->last_at >= FORGET_AFTER &&
                         (!pick || e->last_at < pick->last_at)))
            pick = e;
    }
    uint32_t old = sel->n;  /* a free entry first, as in a table allocated whole */
    entry *grown = !pick || pick->used ? sfu_grow_zeroed(sel->e, &sel->n, sel->cap, sizeof *sel->e) : NULL;
    if (grown)
        pick = &(sel->e = grown)[old];
    if (!pick)
        return NULL;
    if (!pick->used)
        sel->nused++;
    *pick = (entry){ .used = true, .participant = participant, .last_at = now - SFU_LOUDNESS_FIRST_SPAN };
    return pick;
}

int sfu_audio_select_handle_level(sfu_audio_select *sel, uint32_t participant, uint8_t level,
                                  bool voice, sfu_time now)
{
    if (level > 127 || participant == 0)
        return -SFU_EINVAL;
    entry *e = find(sel, participant);
    if (!e && !(e = add(sel, participant, now)))
        return -SFU_ENOSPC;
    float loud = sfu_loudness_of(&e->vad_seen, level, voice);
    e->score = sfu_loudness_update(e->score, loud, now - e->last_at, TAU);
    if (now > e->last_at)
        e->last_at = now;
    if (sel->next_eval == SFU_TIME_NEVER)
        sel->next_eval = now;
    return 0;
}

void sfu_audio_select_set_speaker(sfu_audio_select *sel, uint32_t participant)
{
    sel->speaker = participant;
}

void sfu_audio_select_remove(sfu_audio_select *sel, uint32_t participant)
{
    entry *e = find(sel, participant);
    if (e) {
        e->used = false;
        sel->nused--;
    }
    int p = position_of(sel, participant);
    if (p >= 0) {
        sel->pos[p] = 0;
        sel->changed = true;
    }
    if (sel->speaker == participant)
        sel->speaker = 0;
    if (sel->candidate == participant)
        sel->candidate = 0;
    if (sel->nused == 0)
        sel->next_eval = SFU_TIME_NEVER;
}

static void place(sfu_audio_select *sel, unsigned p, uint32_t participant, sfu_time now)
{
    sel->pos[p] = participant;
    sel->pos_since[p] = now;
    sel->changed = true;
}

/* The loudest known participant not selected, or NULL. */
static const entry *loudest_out(const sfu_audio_select *sel, sfu_time now, float *score)
{
    const entry *best = NULL;
    *score = 0.0f;
    for (uint32_t i = 0; i < sel->n; i++) {
        const entry *e = &sel->e[i];
        if (!e->used || position_of(sel, e->participant) >= 0)
            continue;
        float s = score_at(e, now);
        if (!best || s > *score) {
            best = e;
            *score = s;
        }
    }
    return best;
}

/* The weakest selected position other than the speaker's; -1 if none. */
static int weakest_in(const sfu_audio_select *sel, sfu_time now, float *score)
{
    int w = -1;
    *score = 0.0f;
    for (unsigned i = 0; i < sel->npos; i++) {
        if (!sel->pos[i] || sel->pos[i] == sel->speaker)
            continue;
        const entry *e = find(sel, sel->pos[i]);
        float s = e ? score_at(e, now) : 0.0f;
        if (w < 0 || s < *score) {
            w = (int)i;
            *score = s;
        }
    }
    return w;
}

static void evaluate(sfu_audio_select *sel, sfu_time now)
{
    /* Empty positions: the speaker first, then the loudest, at once. */
    for (unsigned i = 0; i < sel->npos; i++) {
        if (sel->pos[i])
            continue;
        float s;
        const entry *e = sel->speaker && position_of(sel, sel->speaker) < 0 ? find(sel, sel->speaker)
                                                                             : loudest_out(sel, now, &s);
        if (!e)
            break;
        place(sel, i, e->participant, now);
    }
    float ws;
    int w = weakest_in(sel, now, &ws);
    if (sel->speaker && position_of(sel, sel->speaker) < 0 && find(sel, sel->speaker)) {
        if (w >= 0)
            place(sel, (unsigned)w, sel->speaker, now);
        sel->candidate = 0;
        return;
    }
    /* The candidate keeps its hold while it still qualifies, loudest out or
     * not: equally loud talkers cross each other packet by packet, and
     * following the loudest would restart the hold at every crossing. */
    float cs = 0.0f;
    const entry *c = sel->candidate && position_of(sel, sel->candidate) < 0 ? find(sel, sel->candidate) : NULL;
    if (c && w >= 0) {
        cs = score_at(c, now);
        if (cs < SFU_LOUDNESS_ACTIVE || cs < ws + LOUDER_MARGIN)
            c = NULL;
    }
    if (!c)
        c = loudest_out(sel, now, &cs);
    if (!c || w < 0 || cs < SFU_LOUDNESS_ACTIVE || cs < ws + LOUDER_MARGIN) {
        sel->candidate = 0;
        return;
    }
    if (sel->candidate != c->participant) {
        sel->candidate = c->participant;
        sel->candidate_since = now;
    }
    if (now - sel->candidate_since >= HOLD && now - sel->pos_since[w] >= MIN_DWELL) {
        place(sel, (unsigned)w, c->participant, now);
        sel->candidate = 0;
    }
}

void sfu_audio_select_handle_timeout(sfu_audio_select *sel, sfu_time now)
{
    if (sel->next_eval == SFU_TIME_NEVER || now < sel->next_eval)
        return;
    evaluate(sel, now);
    sel->next_eval = sel->nused ? now + SFU_AUDIO_SELECT_EVAL : SFU_TIME_NEVER;
}

sfu_time sfu_audio_select_poll_timeout(const sfu_audio_select *sel) { return sel->next_eval; }

bool sfu_audio_select_take_change(sfu_audio_select *sel)
{
    bool c = sel->changed;
    sel->changed = false;
    return c;
}

void sfu_audio_select_scores(const sfu_audio_select *sel, sfu_time now, float *out, unsigned cap)
{
    for (unsigned i = 0; i < sel->npos && i < cap; i++) {
        const entry *e = sel->pos[i] ? find(sel, sel->pos[i]) : NULL;
        out[i] = !e                                ? 0.0f
                 : sel->pos[i] == sel->speaker ? SFU_AUDIO_SELECT_SPEAKER_SCORE
                                                   : score_at(e, now);
    }
}

unsigned sfu_audio_select_positions(const sfu_audio_select *sel, uint32_t *out, unsigned cap)
{
    for (unsigned i = 0; i < sel->npos && i < cap; i++)
        out[i] = sel->pos[i];
    return sel->npos;
}
