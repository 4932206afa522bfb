/* Audio slots: a viewer in a large room receives the loudest few on a fixed
 * number of audio m-lines, whose sources the room switches itself
 * (room.h, sfu_room_config.audio_slots). The selection is audio_select.c;
 * here its positions are mapped onto each leg's slot sinks. A switch is a
 * rebinding like any other: the sink's consumer starts on the new source's
 * epoch, so the viewer's SSRC stays and its sequence numbers and
 * timestamps run on (consumer.h). */
#include "sfu/core/room_internal.h"

void room_audio_level(sfu_room *room, uint32_t participant, uint8_t level, bool voice, sfu_time now)
{
    room_own_touch(room);   /* the selection's deadline */
    if (room->audio_sel)
        (void)sfu_audio_select_handle_level(room->audio_sel, participant, level, voice, now);
}

void room_audio_forget(sfu_room *room, uint32_t participant)
{
    if (room->audio_sel)
        sfu_audio_select_remove(room->audio_sel, participant);
}

void room_audio_speaker(sfu_room *room, uint32_t participant)
{
    room_own_touch(room);
    if (room->audio_sel)
        sfu_audio_select_set_speaker(room->audio_sel, participant);
}

static int index_of(const uint32_t *pos, unsigned n, uint32_t participant)
{
    for (unsigned i = 0; participant && i < n; i++)
        if (pos[i] == participant)
            return (int)i;
    return -1;
}

static bool carried(room_sink *const *slots, unsigned ns, uint32_t participant)
{
    for (unsigned k = 0; k < ns; k++)
        if (slots[k]->bound && slots[k]->participant == participant)
            return true;
    return false;
}

/* The slot a talker not carried yet (score `cs`) takes: a free one, else
 * the one carrying the quietest talker when clearly quieter and carried a
 * while (the active speaker takes it at once); NULL: none. */
static room_sink *slot_for(room_sink *const *slots, unsigned ns, const uint32_t *pos, const float *score,
                           unsigned npos, float cs, sfu_time now)
{
    room_sink *weak = NULL;
    float ws = 0.0f;
    for (unsigned k = 0; k < ns; k++) {
        if (!slots[k]->bound)
            return slots[k];
        int i = index_of(pos, npos, slots[k]->participant);
        float s = i >= 0 ? score[i] : 0.0f;
        if (!weak || s < ws) {
            weak = slots[k];
            ws = s;
        }
    }
    if (!weak || cs < ws + SFU_AUDIO_SELECT_MARGIN)
        return NULL;
    if (cs < SFU_AUDIO_SELECT_SPEAKER_SCORE && now - weak->slot_at < SFU_AUDIO_SELECT_MIN_DWELL)
        return NULL;
    return weak;
}

/* A leg's slot sinks follow the selection without its own participant.
 * The selection has one position more than a leg has slots (so that a
 * talker still hears as many others), so a leg that is not selected itself
 * chooses: sinks whose talker is still selected keep it; the talkers not
 * carried, loudest first, take a free sink or replace the quietest one
 * carried, with the selector's margin and dwell (a talker who stopped
 * gives way to one who started, two alike do not swap back and forth). */
static bool assign_leg(sfu_room *room, room_leg *leg, const uint32_t *pos, const float *score, unsigned npos,
                       sfu_time now)
{
    room_sink *slots[SFU_MAX_TRACKS];
    unsigned ns = 0;
    bool changed = false;
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const sfu_track_desc *d = &leg->desc.tracks[t];
        room_sink *s = leg->tracks[t].sink;
        if (!d->send || d->kind != SFU_KIND_AUDIO || !s->audio_slot)
            continue;
        if (s->bound && (s->audio_slot > room->cfg.audio_slots || s->participant == leg->participant ||
                         index_of(pos, npos, s->participant) < 0)) {
            s->bound = false;
            s->participant = 0;
            s->has_src = false;
            changed = true;
        }
        if (s->audio_slot <= room->cfg.audio_slots)
            slots[ns++] = s;
    }
    bool tried[SFU_AUDIO_SELECT_MAX] = { false };
    for (;;) {
        int c = -1;
        for (unsigned i = 0; i < npos; i++)
            if (!tried[i] && pos[i] && pos[i] != leg->participant && !carried(slots, ns, pos[i]) &&
                (c < 0 || score[i] > score[c]))
                c = (int)i;
        if (c < 0)
            break;
        tried[c] = true;
        room_sink *to = slot_for(slots, ns, pos, score, npos, score[c], now);
        if (!to)
            break;      /* the quieter ones that follow would not get one either */
        to->bound = true;
        to->participant = pos[c];
        to->has_src = false;
        to->slot_at = now;
        changed = true;
    }
    return changed;
}

bool room_audio_assign(sfu_room *room, sfu_time now)
{
    room_own_touch(room);
    uint32_t pos[SFU_AUDIO_SELECT_MAX] = { 0 };
    float score[SFU_AUDIO_SELECT_MAX] = { 0 };
    unsigned npos = room->audio_sel ? sfu_audio_select_positions(room->audio_sel, pos, SFU_AUDIO_SELECT_MAX)
                                    : 0;
    if (npos > SFU_AUDIO_SELECT_MAX)
        npos = SFU_AUDIO_SELECT_MAX;
    if (room->audio_sel)
        sfu_audio_select_scores(room->audio_sel, now, score, npos);
    bool changed = false;
    for (uint32_t s = 0; s < room->legs_end; s++)
        if (room->legs[s])
            changed |= assign_leg(room, room->legs[s], pos, score, npos, now);
    return changed;
}

/* Every evaluation, not only when the selection changed: whom a leg with
 * fewer slots than positions carries follows the talkers' loudness. */
void room_audio_timeout(sfu_room *room, sfu_time now, sfu_out *out)
{
    if (!room->audio_sel || now < sfu_audio_select_poll_timeout(room->audio_sel))
        return;
    sfu_audio_select_handle_timeout(room->audio_sel, now);
    (void)sfu_audio_select_take_change(room->audio_sel);
    if (room_audio_assign(room, now))
        room_rebind(room, now, out);
}

sfu_time room_audio_deadline(const sfu_room *room)
{
    return room->audio_sel ? sfu_audio_select_poll_timeout(room->audio_sel) : SFU_TIME_NEVER;
}

unsigned sfu_room_audio_selection(const sfu_room *room, uint32_t *out, unsigned cap)
{
    return room->audio_sel ? sfu_audio_select_positions(room->audio_sel, out, cap) : 0;
}

unsigned sfu_room_audio_slots(const sfu_room *room, sfu_leg_id id, sfu_room_audio_slot *out, unsigned cap)
{
    const room_leg *leg = room_find_leg(room, id);
    unsigned n = 0;
    for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
        const sfu_track_desc *d = &leg->desc.tracks[t];
        const room_sink *s = leg->tracks[t].sink;
        if (!d->send || d->kind != SFU_KIND_AUDIO || !s->audio_slot)
            continue;
        if (n < cap) {
            sfu_room_audio_slot *o = &out[n];
            memcpy(o->mid, d->mid, sizeof o->mid);
            o->participant = s->bound ? s->participant : 0;
            o->carrying = s->bound && s->has_src;
        }
        n++;
    }
    return n;
}
