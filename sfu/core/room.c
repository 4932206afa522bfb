/* The room: legs and their tracks, sink bindings and fan-out lists,
 * timers and liveness. Inputs are dispatched in room_rtp_in.c and
 * room_rtcp_in.c, layers chosen in room_layers.c, outputs built in
 * room_send.c; the media logic is in producer.c and consumer.c. */
#include "sfu/core/room_internal.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_LEGS 64
/* Slots a room starts with, doubled as legs join: a room sized for the
 * configured maximum (4 x participants + 64) held 8 bytes of slot and 128 of
 * fan-out per possible leg, 0.5 MB a room at 1000 participants, and every
 * scan of the legs walked all of them. */
#define INITIAL_SLOTS 4
#define DEFAULT_RTX_PACKETS 1024

sfu_room *sfu_room_new(const sfu_room_config *cfg)
{
    sfu_room *room = calloc(1, sizeof *room);
    if (!room || !cfg)
        goto err;
    room->cfg = *cfg;
    room->max_legs = cfg->max_legs ? cfg->max_legs : DEFAULT_MAX_LEGS;
    if (room->max_legs > UINT16_MAX)
        goto err;
    if (room->cfg.rtx_cache_packets == 0)
        room->cfg.rtx_cache_packets = DEFAULT_RTX_PACKETS;
    room->pcfg = (sfu_producer_config){ .rtx_cache_packets = room->cfg.rtx_cache_packets,
                                        .keyframe_min_interval = room->cfg.keyframe_min_interval,
                                        .keyframe_cache_max_age = room->cfg.keyframe_cache_max_age };
    room->nslots = room->max_legs < INITIAL_SLOTS ? room->max_legs : INITIAL_SLOTS;
    room->legs = calloc(room->nslots, sizeof *room->legs);
    room->ids = calloc(room->nslots, sizeof *room->ids);
    room->fanout = calloc((size_t)room->nslots * SFU_MAX_TRACKS, sizeof *room->fanout);
    /* A participant's audio comes in on one of their legs: at most one
     * speaker slot per leg. */
    room->speaker = sfu_speaker_new(room->max_legs);
    if (!room->legs || !room->ids || !room->fanout || !room->speaker || cfg->audio_slots > SFU_AUDIO_SLOTS_MAX)
        goto err;
    if (cfg->audio_slots) {
        room->audio_sel = sfu_audio_select_new(room->max_legs, cfg->audio_slots + 1u);
        if (!room->audio_sel)
            goto err;
    }
    room->next_choose_at = SFU_TIME_NEVER;
    room->deadline_stale = true;
    return room;
err:
    sfu_room_free(room);
    return NULL;
}

static void leg_free(room_leg *leg)
{
    if (!leg)
        return;
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        sfu_producer_free(leg->tracks[t].prod);
        free(leg->tracks[t].sink);
    }
    sfu_bwe_free(leg->bwe);
    free(leg);
}

void sfu_room_free(sfu_room *room)
{
    if (!room)
        return;
    if (room->legs)
        for (uint32_t i = 0; i < room->legs_end; i++)
            leg_free(room->legs[i]);
    free(room->legs);
    free(room->ids);
    free(room->fanout);
    sfu_speaker_free(room->speaker);
    sfu_audio_select_free(room->audio_sel);
    free(room);
}

static int source_init(sfu_room *room, room_track *track, const sfu_track_desc *d)
{
    track->prod = sfu_producer_new(d, &room->pcfg, &room->next_epoch);
    return track->prod ? 0 : -SFU_ENOMEM;
}

static int sink_init(room_track *track, const sfu_track_desc *d)
{
    room_sink *sink = calloc(1, sizeof *sink);
    if (!sink)
        return -SFU_ENOMEM;
    sfu_consumer_init(&sink->c, d->local_ssrc, d->local_rtx_ssrc, d->clock_rate);
    if (d->kind == SFU_KIND_VIDEO && d->pin_layer > 0 && d->pin_layer <= SFU_MAX_LAYERS)
        sink->c.pinned = (int8_t)(d->pin_layer - 1);
    track->sink = sink;
    return 0;
}

/* Whether any leg of `participant` still receives audio with levels. */
static bool has_level_source(const sfu_room *room, uint32_t participant)
{
    for (uint32_t s = 0; s < room->legs_end; s++) {
        const room_leg *leg = room->legs[s];
        for (unsigned t = 0; leg && leg->participant == participant && t < leg->desc.ntracks; t++) {
            const sfu_track_desc *d = &leg->desc.tracks[t];
            if (d->recv && d->kind == SFU_KIND_AUDIO && d->ext.audio_level)
                return true;
        }
    }
    return false;
}

/* A participant whose audio went away stops counting for active speaker. */
static void forget_speaker_if_gone(sfu_room *room, uint32_t participant)
{
    if (!has_level_source(room, participant)) {
        sfu_speaker_remove(room->speaker, participant);
        room_audio_forget(room, participant);
    }
}

static int check_desc(const sfu_leg_desc *desc)
{
    if (!desc || desc->ntracks > SFU_MAX_TRACKS)
        return -SFU_EINVAL;
    return 0;
}

static int leg_init_tracks(sfu_room *room, room_leg *leg)
{
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const sfu_track_desc *d = &leg->desc.tracks[t];
        if (d->recv) {
            int rc = source_init(room, &leg->tracks[t], d);
            if (rc < 0)
                return rc;
        }
        if (d->send) {
            int rc = sink_init(&leg->tracks[t], d);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* Twice the slots (at most max_legs), and the fan-out room for them; the
 * fan-out lists are laid out again by the room_rebind that follows. */
static int grow_slots(sfu_room *room)
{
    uint32_t n = room->nslots > room->max_legs / 2 ? room->max_legs : room->nslots * 2;
    room_leg **legs = realloc(room->legs, n * sizeof *legs);
    if (!legs)
        return -SFU_ENOMEM;
    memset(legs + room->nslots, 0, (n - room->nslots) * sizeof *legs);
    room->legs = legs;      /* longer than nslots says until the fan-out grows too */
    sfu_leg_id *ids = realloc(room->ids, n * sizeof *ids);
    if (!ids)
        return -SFU_ENOMEM;
    memset(ids + room->nslots, 0, (n - room->nslots) * sizeof *ids);
    room->ids = ids;
    room_ref *fanout = realloc(room->fanout, (size_t)n * SFU_MAX_TRACKS * sizeof *fanout);
    if (!fanout)
        return -SFU_ENOMEM;
    room->fanout = fanout;
    room->nslots = n;
    return 0;
}

int sfu_room_add_leg(sfu_room *room, sfu_leg_id id, uint32_t participant, const sfu_leg_desc *desc,
                     sfu_time now)
{
    if (id == 0 || check_desc(desc) < 0)
        return -SFU_EINVAL;
    if (room_find_leg(room, id))
        return -SFU_ESTATE;
    uint32_t slot = 0;
    while (slot < room->nslots && room->legs[slot])
        slot++;
    if (slot == room->max_legs)
        return -SFU_ELIMIT;
    if (slot == room->nslots && grow_slots(room) < 0)
        return -SFU_ENOMEM;
    room_leg *leg = calloc(1, room_leg_size(desc->ntracks));
    if (!leg)
        return -SFU_ENOMEM;
    leg->id = id;
    leg->slot = (uint16_t)slot;
    leg->participant = participant;
    leg->desc = *desc;
    leg->last_alive = now;
    leg->next_report_at = now + ROOM_REPORT_INTERVAL;
    leg->next_twcc_at = now + ROOM_TWCC_INTERVAL;
    leg->rate_window_at = now;
    int rc = leg_init_tracks(room, leg);
    if (rc == 0)
        rc = room_bwe_sync(leg, now);
    if (rc < 0) {
        leg_free(leg);
        return rc;
    }
    room->legs[slot] = leg;
    room->ids[slot] = id;
    room->nlegs++;
    if (slot >= room->legs_end)
        room->legs_end = slot + 1;
    room_rebind(room, now, NULL);
    return 0;
}

/* Carries a kept m-line's state over to its new position. */
static int carry_track(sfu_room *room, room_track *dst, const sfu_track_desc *nd, room_track *old,
                       const sfu_track_desc *od)
{
    if (nd->recv && od->recv && nd->kind == od->kind && old->prod) {
        dst->prod = old->prod;
        old->prod = NULL;
        int rc = sfu_producer_update(&dst->prod, nd, &room->next_epoch);
        if (rc < 0)
            return rc;
    } else if (nd->recv) {
        int rc = source_init(room, dst, nd);
        if (rc < 0)
            return rc;
    }
    if (nd->send && od->send && nd->local_ssrc == od->local_ssrc) {
        dst->sink = old->sink;
        old->sink = NULL;
    } else if (nd->send) {
        return sink_init(dst, nd);
    }
    return 0;
}

int sfu_room_update_leg(sfu_room *room, sfu_leg_id id, const sfu_leg_desc *desc, sfu_time now)
{
    if (check_desc(desc) < 0)
        return -SFU_EINVAL;
    room_leg *leg = room_find_leg(room, id);
    if (!leg)
        return -SFU_ENOTFOUND;
    size_t size = room_leg_size(desc->ntracks);
    room_leg *next = malloc(size);
    if (!next)
        return -SFU_ENOMEM;
    memcpy(next, leg, offsetof(room_leg, fanout_start));
    memset(next->fanout_start, 0, size - offsetof(room_leg, fanout_start));
    next->desc = *desc;
    next->bwe = NULL; /* moves over below, once nothing can fail */
    if (room_bwe_wanted(desc) && !leg->bwe && room_bwe_sync(next, now) < 0) {
        free(next);
        return -SFU_ENOMEM;
    }
    for (unsigned t = 0; t < desc->ntracks; t++) {
        const sfu_track_desc *nd = &desc->tracks[t];
        int o = room_find_mid(&leg->desc, nd->mid);
        int rc = 0;
        if (o >= 0) {
            rc = carry_track(room, &next->tracks[t], nd, &leg->tracks[o], &leg->desc.tracks[o]);
        } else {
            if (nd->recv)
                rc = source_init(room, &next->tracks[t], nd);
            if (nd->send && rc == 0)
                rc = sink_init(&next->tracks[t], nd);
        }
        if (rc < 0) {
            /* What was carried over goes back, so the leg stays whole. */
            for (unsigned u = 0; u <= t; u++) {
                int b = room_find_mid(&leg->desc, desc->tracks[u].mid);
                if (b >= 0 && !leg->tracks[b].prod && next->tracks[u].prod && leg->desc.tracks[b].recv) {
                    leg->tracks[b].prod = next->tracks[u].prod;
                    next->tracks[u].prod = NULL;
                }
                if (b >= 0 && !leg->tracks[b].sink && next->tracks[u].sink && leg->desc.tracks[b].send) {
                    leg->tracks[b].sink = next->tracks[u].sink;
                    next->tracks[u].sink = NULL;
                }
            }
            leg_free(next);
            return rc;
        }
    }
    if (!next->bwe) { /* the estimator and its history carry over */
        next->bwe = leg->bwe;
        leg->bwe = NULL;
        (void)room_bwe_sync(next, now); /* frees it when no longer wanted; fitted above: cannot fail */
    }
    for (uint32_t i = 0; i < room->legs_end; i++)
        if (room->legs[i] == leg)
            room->legs[i] = next;
    leg_free(leg);
    room_rebind(room, now, NULL);
    forget_speaker_if_gone(room, next->participant);
    return 0;
}

void sfu_room_remove_leg(sfu_room *room, sfu_leg_id id, sfu_time now, sfu_out *out)
{
    for (uint32_t i = 0; i < room->legs_end; i++) {
        if (room->legs[i] && room->legs[i]->id == id) {
            uint32_t participant = room->legs[i]->participant;
            leg_free(room->legs[i]);
            room->legs[i] = NULL;
            room->ids[i] = 0;
            room->nlegs--;
            while (room->legs_end > 0 && !room->legs[room->legs_end - 1])
                room->legs_end--;
            room_rebind(room, now, out);
            forget_speaker_if_gone(room, participant);
            return;
        }
    }
}

int sfu_room_bind(sfu_room *room, sfu_leg_id id, const char *mid, uint32_t participant,
                  sfu_time now, sfu_out *out)
{
    room_ref ref;
    room_sink *sink = room_find_sink(room, id, mid, &ref);
    if (!sink)
        return -SFU_ENOTFOUND;
    if (sfu_is_audio_slot(participant)) {
        /* The room points it at a talker (room_audio.c). */
        if (room_desc_at(room, ref)->kind != SFU_KIND_AUDIO)
            return -SFU_EINVAL;
        uint8_t k = (uint8_t)(participant - SFU_AUDIO_SLOT_BASE + 1);
        if (sink->audio_slot != k) {
            sink->audio_slot = k;
            sink->bound = false;
            sink->participant = 0;
            sink->has_src = false;
        }
        room_audio_assign(room, now);
    } else if (!sink->bound || sink->participant != participant || sink->audio_slot) {
        sink->audio_slot = 0;
        sink->bound = true;
        sink->participant = participant;
        sink->has_src = false;
    }
    room_rebind(room, now, out);
    return 0;
}

/* The first source of `kind` that `participant` publishes, in slot order. */
bool room_find_source(const sfu_room *room, uint32_t participant, sfu_kind kind, room_ref *ref)
{
    for (uint32_t s = 0; s < room->legs_end; s++) {
        const room_leg *leg = room->legs[s];
        if (!leg || leg->participant != participant)
            continue;
        for (unsigned t = 0; t < leg->desc.ntracks; t++) {
            const sfu_track_desc *d = &leg->desc.tracks[t];
            if (d->recv && d->kind == kind && leg->tracks[t].prod) {
                *ref = (room_ref){ (uint16_t)s, (uint8_t)t };
                return true;
            }
        }
    }
    return false;
}

/* A sink whose source changed (another producer, or the stream of the
 * layer it receives restarted) restarts on a keyframe of the new one. */
static void resolve_sink(sfu_room *room, room_ref sink_ref, const sfu_track_desc *d, sfu_time now,
                         sfu_out *out)
{
    room_sink *sink = room_sink_at(room, sink_ref);
    room_ref ref;
    sink->has_src = sink->bound && room_find_source(room, sink->participant, d->kind, &ref);
    if (!sink->has_src)
        return;
    sink->src = ref;
    sfu_producer *prod = room_prod_at(room, ref);
    sfu_consumer *c = &sink->c;
    if (c->layer >= 0 && c->layer < prod->nlayers && prod->layers[c->layer].epoch == c->epoch)
        return;
    /* A viewer with an estimator starts within its start estimate, not on
     * the top layer: a viewer on a slow link would freeze on its first
     * keyframe and step down at once (room_bwe.c lifts the limit for a
     * viewer that never sends feedback). */
    if (d->kind == SFU_KIND_VIDEO && !c->limit_bps)
        sfu_consumer_set_limit(c, room_bwe_start_limit(room->legs[sink_ref.slot], now));
    int layer = room_start_layer(c, prod, now);
    sfu_consumer_start(c, layer, prod->layers[layer].epoch, d->kind == SFU_KIND_VIDEO);
    if (d->kind == SFU_KIND_VIDEO)
        room_sink_needs_keyframe(room, sink_ref, now, out);
}

void room_rebind(sfu_room *room, sfu_time now, sfu_out *out)
{
    room_deadline_stale(room);
    /* Pass 1: resolve sinks and count them per source. */
    room->simulcast = false;
    for (uint32_t s = 0; s < room->legs_end; s++) {
        room_leg *leg = room->legs[s];
        for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
            leg->fanout_count[t] = 0;
            room->simulcast |= leg->tracks[t].prod && leg->tracks[t].prod->nlayers > 1;
        }
    }
    for (uint32_t s = 0; s < room->legs_end; s++) {
        room_leg *leg = room->legs[s];
        for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
            if (!leg->desc.tracks[t].send)
                continue;
            room_sink *sink = leg->tracks[t].sink;
            resolve_sink(room, (room_ref){ (uint16_t)s, (uint8_t)t }, &leg->desc.tracks[t], now, out);
            if (sink->has_src)
                room->legs[sink->src.slot]->fanout_count[sink->src.track]++;
        }
    }
    /* Pass 2: lay the lists out one after another, then fill them. */
    uint32_t next = 0;
    for (uint32_t s = 0; s < room->legs_end; s++) {
        room_leg *leg = room->legs[s];
        for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
            leg->fanout_start[t] = next;
            next += leg->fanout_count[t];
            leg->fanout_count[t] = 0;
        }
    }
    for (uint32_t s = 0; s < room->legs_end; s++) {
        room_leg *leg = room->legs[s];
        for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
            room_sink *sink = leg->tracks[t].sink;
            if (!leg->desc.tracks[t].send || !sink->has_src)
                continue;
            room_leg *src = room->legs[sink->src.slot];
            uint8_t st = sink->src.track;
            room->fanout[src->fanout_start[st] + src->fanout_count[st]++] = (room_ref){ (uint16_t)s, (uint8_t)t };
        }
    }
    if (room->simulcast && room->next_choose_at == SFU_TIME_NEVER)
        room->next_choose_at = now + ROOM_CHOOSE_INTERVAL;
}

void sfu_room_handle_alive(sfu_room *room, sfu_leg_id from, sfu_time at)
{
    room_leg *leg = room_find_leg(room, from);
    if (leg && at > leg->last_alive) {
        leg->last_alive = at;
        room_leg_touch(room, leg);
    }
}

void sfu_room_handle_consent(sfu_room *room, sfu_leg_id from, bool held, sfu_time last_at)
{
    room_leg *leg = room_find_leg(room, from);
    if (!leg)
        return;
    room_leg_touch(room, leg);
    leg->consent_held = held;
    if (last_at > leg->last_alive)
        leg->last_alive = last_at;
}

void sfu_room_handle_path_changed(sfu_room *room, sfu_leg_id from, sfu_time now, sfu_out *out)
{
    /* A viewer is served like its own PLI: from the keyframe cache when it
     * holds a recent keyframe, else by asking the publisher. */
    room_deadline_stale(room);
    room_leg *leg = room_find_leg(room, from);
    if (leg)
        room_bwe_path_changed(leg, now);
    for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
        if (leg->desc.tracks[t].kind != SFU_KIND_VIDEO)
            continue;
        room_ref ref = { .slot = leg->slot, .track = (uint8_t)t };
        if (leg->desc.tracks[t].send) {
            room_sink_needs_keyframe(room, ref, now, out);
        } else if (leg->tracks[t].prod) {
            /* What it published into the dead path never arrived, and a
             * request sent meanwhile (or the keyframe answering it) went the
             * same way: ask at once, past the throttle. */
            sfu_producer *prod = leg->tracks[t].prod;
            sfu_producer_path_changed(prod);
            for (int l = 0; l < prod->nlayers; l++)
                room_request_keyframe(room, ref, l, now, out);
        }
    }
}

/* Starts sinks waiting for a keyframe of `layer` from the keyframe cache
 * where it can; true when a sink still waits for one from the publisher (a
 * joining sink the cache could not serve, or a layer switch). */
static bool serve_waiting_sinks(sfu_room *room, room_ref ref, int layer, sfu_time now, sfu_out *out)
{
    const room_leg *leg = room->legs[ref.slot];
    bool waiting = false;
    for (uint32_t i = 0; i < leg->fanout_count[ref.track]; i++) {
        room_ref r = room->fanout[leg->fanout_start[ref.track] + i];
        const sfu_consumer *c = &room_sink_at(room, r)->c;
        if (!sfu_consumer_waits_for(c, layer))
            continue;
        if (!c->waiting_keyframe || !room_replay_keyframe(room, r, now, out))
            waiting = true;
    }
    return waiting;
}

static void source_timeout(sfu_room *room, room_ref ref, sfu_time now, sfu_out *out)
{
    sfu_producer *prod = room_prod_at(room, ref);
    for (int l = 0; l < prod->nlayers; l++) {
        room_send_nacks(room, ref, l, now, out);
        bool waiting = serve_waiting_sinks(room, ref, l, now, out);
        if (sfu_producer_keyframe_timeout(prod, l, now, waiting))
            room_send_keyframe_request(room, ref, l, out);
    }
}

static void update_bitrates(room_leg *leg, sfu_time now)
{
    for (unsigned t = 0; t < leg->desc.ntracks; t++)
        if (leg->tracks[t].prod)
            sfu_producer_update_bitrate(leg->tracks[t].prod, now);
}

uint32_t sfu_room_track_bitrate(const sfu_room *room, sfu_leg_id id, const char *mid)
{
    const room_leg *leg = room_find_leg(room, id);
    for (unsigned t = 0; leg && mid && t < leg->desc.ntracks; t++)
        if (leg->tracks[t].prod && strcmp(leg->desc.tracks[t].mid, mid) == 0)
            return sfu_producer_bitrate(leg->tracks[t].prod);
    return 0;
}

static void leg_timeout(sfu_room *room, uint32_t slot, sfu_time now, sfu_out *out)
{
    room_leg *leg = room->legs[slot];
    if (!leg->expired && !leg->consent_held && room->cfg.liveness_timeout > 0 &&
        now - leg->last_alive >= room->cfg.liveness_timeout) {
        if (sfu_out_push(out, SFU_OUT_LEG_EXPIRED, leg->id))
            leg->expired = true;
    }
    if (now + ROOM_PERIODIC_SLACK >= leg->next_report_at) {
        room_send_reports(room, leg, now, out);
        update_bitrates(leg, now);
        leg->next_report_at = now + ROOM_REPORT_INTERVAL;
    }
    if (now + ROOM_PERIODIC_SLACK >= leg->next_twcc_at) {
        room_send_twcc(room, leg, out);
        leg->next_twcc_at = now + room_twcc_interval(leg);
    }
    room_bwe_timeout(room, leg, now, out);
    for (unsigned t = 0; t < leg->desc.ntracks; t++)
        if (leg->tracks[t].prod)
            source_timeout(room, (room_ref){ (uint16_t)slot, (uint8_t)t }, now, out);
}

void room_report_speaker(sfu_room *room, sfu_out *out)
{
    room_own_touch(room);   /* speaker_unsent */
    uint32_t p;
    if (sfu_speaker_take_change(room->speaker, &p)) {
        room->speaker_unsent = true;
        room_audio_speaker(room, p);
    }
    if (!room->speaker_unsent)
        return;
    if (!sfu_speaker_current(room->speaker, &p)) {
        room->speaker_unsent = false; /* the speaker left before it went out */
        return;
    }
    sfu_out_item *item = out ? sfu_out_push(out, SFU_OUT_ACTIVE_SPEAKER, 0) : NULL;
    if (!item)
        return; /* poll_timeout makes it due at once */
    item->participant = p;
    room->speaker_unsent = false;
}

int sfu_room_handle_timeout(sfu_room *room, sfu_time now, sfu_out *out)
{
    room_deadline_stale(room);
    for (uint32_t s = 0; s < room->legs_end; s++)
        if (room->legs[s])
            leg_timeout(room, s, now, out);
    if (now >= room->next_choose_at) {
        room_choose_layers(room, now, out);
        room->next_choose_at = now + ROOM_CHOOSE_INTERVAL;
    }
    if (now >= sfu_speaker_poll_timeout(room->speaker))
        sfu_speaker_handle_timeout(room->speaker, now);
    room_report_speaker(room, out);
    room_audio_timeout(room, now, out);
    return 0;
}

static sfu_time min_time(sfu_time a, sfu_time b) { return a < b ? a : b; }

static sfu_time leg_deadline(const sfu_room *room, const room_leg *leg)
{
    sfu_time t = leg->next_report_at;
    if (!leg->expired && !leg->consent_held && room->cfg.liveness_timeout > 0)
        t = min_time(t, leg->last_alive + room->cfg.liveness_timeout);
    if (leg->ntwcc)
        t = min_time(t, leg->next_twcc_at);
    t = min_time(t, room_bwe_deadline(leg));
    for (unsigned i = 0; i < leg->desc.ntracks; i++)
        if (leg->tracks[i].prod)
            t = min_time(t, sfu_producer_poll_timeout(leg->tracks[i].prod));
    return t;
}

/* The room's own part: active speaker, layer choice, audio slots. */
static sfu_time own_deadline(const sfu_room *room)
{
    if (room->speaker_unsent)
        return 0; /* due at once */
    sfu_time t = min_time(sfu_speaker_poll_timeout(room->speaker), room->next_choose_at);
    return min_time(t, room_audio_deadline(room));
}

sfu_time sfu_room_poll_timeout_rescan(const sfu_room *room)
{
    sfu_time t = own_deadline(room);
    for (uint32_t s = 0; s < room->legs_end; s++)
        if (room->legs[s])
            t = min_time(t, leg_deadline(room, room->legs[s]));
    return t;
}

static void rescan(sfu_room *room)
{
    sfu_time t = room->own_deadline;
    for (uint32_t s = 0; s < room->legs_end; s++) {
        room_leg *leg = room->legs[s];
        if (!leg)
            continue;
        leg->deadline = leg_deadline(room, leg);
        leg->deadline_dirty = false;
        t = min_time(t, leg->deadline);
    }
    room->ndirty = 0;
    room->deadline_stale = false;
    room->deadline = t;
}

/* The earliest of the parts as they were last computed. */
static sfu_time min_of_parts(const sfu_room *room)
{
    sfu_time t = room->own_deadline;
    for (uint32_t s = 0; s < room->legs_end; s++)
        if (room->legs[s])
            t = min_time(t, room->legs[s]->deadline);
    return t;
}

sfu_time sfu_room_poll_timeout(sfu_room *room)
{
    sfu_time old = room->deadline, t = old;
    bool later = false;     /* the part that was the earliest moved later */
    if (room->own_dirty || room->deadline_stale) {
        sfu_time own = own_deadline(room);
        later |= room->own_deadline == old && own > old;
        room->own_deadline = own;
        room->own_dirty = false;
        t = min_time(t, own);
    }
    if (room->deadline_stale) {
        rescan(room);
        return room->deadline;
    }
    for (uint16_t i = 0; i < room->ndirty; i++) {
        room_leg *leg = room->legs[room->dirty[i]];
        sfu_time n = leg_deadline(room, leg);
        later |= leg->deadline == old && n > old;
        leg->deadline = n;
        leg->deadline_dirty = false;
        t = min_time(t, n);
    }
    room->ndirty = 0;
    room->deadline = later ? min_of_parts(room) : t;
    return room->deadline;
}

const sfu_room_stats *sfu_room_stats_get(const sfu_room *room) { return &room->stats; }
uint32_t sfu_room_leg_count(const sfu_room *room) { return room->nlegs; }

uint32_t sfu_room_active_speaker(const sfu_room *room)
{
    uint32_t p = 0;
    return sfu_speaker_current(room->speaker, &p) ? p : 0;
}
