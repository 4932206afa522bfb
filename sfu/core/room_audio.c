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
    if (room->audio_sel)
        sfu_audio_select_set_speaker(room->audio_sel, participant);
}

static bool selected(const uint32_t *pos, unsigned n, uint32_t participant)
{
    for (unsigned i = 0; i < n; i++)
        if (pos[i] && pos[i] == participant)
            return true;
    return false;
}

/* A leg's slot sinks follow the selection without its own participant:
 * sinks whose talker is still selected keep it, the others take the
 * selected talkers no sink of the leg carries yet, in position order. */
static bool assign_leg(sfu_room *room, room_leg *leg, const uint32_t *pos, unsigned npos)
{
    room_sink *slots[SFU_MAX_TRACKS];
    unsigned ns = 0;
    bool changed = false;
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const sfu_track_desc *d = &leg->desc.tracks[t];
        room_sink *s = &leg->tracks[t].sink;
        if (!d->send || d->kind != SFU_KIND_AUDIO || !s->audio_slot)
            continue;
        if (s->bound && (s->audio_slot > room->cfg.audio_slots || s->participant == leg->participant ||
                         !selected(pos, npos, s->participant))) {
            s->bound = false;
            s->participant = 0;
            s->has_src = false;
            changed = true;
        }
        if (s->audio_slot <= room->cfg.audio_slots)
            slots[ns++] = s;
    }
    for (unsigned i = 0; i < npos && ns; i++) {
        uint32_t p = pos[i];
        if (!p || p == leg->participant)
            continue;
        room_sink *free_sink = NULL;
        bool carried = false;
        for (unsigned k = 0; k < ns && !carried; k++) {
            carried = slots[k]->bound && slots[k]->participant == p;
            if (!slots[k]->bound && !free_sink)
                free_sink = slots[k];
        }
        if (carried || !free_sink)
            continue;
        free_sink->bound = true;
        free_sink->participant = p;
        free_sink->has_src = false;
        changed = true;
    }
    return changed;
}

bool room_audio_assign(sfu_room *room)
{
    uint32_t pos[SFU_AUDIO_SELECT_MAX] = { 0 };
    unsigned npos = room->audio_sel ? sfu_audio_select_positions(room->audio_sel, pos, SFU_AUDIO_SELECT_MAX)
                                    : 0;
    if (npos > SFU_AUDIO_SELECT_MAX)
        npos = SFU_AUDIO_SELECT_MAX;
    bool changed = false;
    for (uint32_t s = 0; s < room->max_legs; s++)
        if (room->legs[s])
            changed |= assign_leg(room, room->legs[s], pos, npos);
    return changed;
}

void room_audio_timeout(sfu_room *room, sfu_time now, sfu_out *out)
{
    if (!room->audio_sel || now < sfu_audio_select_poll_timeout(room->audio_sel))
        return;
    sfu_audio_select_handle_timeout(room->audio_sel, now);
    if (sfu_audio_select_take_change(room->audio_sel) && room_audio_assign(room))
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

void sfu_room_audio_slots_get(const sfu_room *room, sfu_leg_id id, unsigned *slots, unsigned *active)
{
    const room_leg *leg = room_find_leg(room, id);
    *slots = *active = 0;
    for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
        const room_sink *s = &leg->tracks[t].sink;
        if (!leg->desc.tracks[t].send || leg->desc.tracks[t].kind != SFU_KIND_AUDIO || !s->audio_slot)
            continue;
        (*slots)++;
        *active += s->has_src;
    }
}
