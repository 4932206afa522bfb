/* The room: legs and their tracks, sink bindings, timers and liveness.
 * The packet path is in room_rtp.c, RTCP in room_rtcp.c. */
#include "sfu/core/room_internal.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_LEGS 64
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
    room->legs = calloc(room->max_legs, sizeof *room->legs);
    room->fanout = calloc((size_t)room->max_legs * SFU_MAX_TRACKS, sizeof *room->fanout);
    /* A participant's audio comes in on one of their legs: at most one
     * speaker slot per leg. */
    room->speaker = sfu_speaker_new(room->max_legs);
    if (!room->legs || !room->fanout || !room->speaker)
        goto err;
    return room;
err:
    sfu_room_free(room);
    return NULL;
}

static void leg_free(room_leg *leg)
{
    if (!leg)
        return;
    for (unsigned t = 0; t < SFU_MAX_TRACKS; t++)
        sfu_rtx_cache_free(leg->tracks[t].src.cache);
    free(leg);
}

void sfu_room_free(sfu_room *room)
{
    if (!room)
        return;
    if (room->legs)
        for (uint32_t i = 0; i < room->max_legs; i++)
            leg_free(room->legs[i]);
    free(room->legs);
    free(room->fanout);
    sfu_speaker_free(room->speaker);
    free(room);
}

room_leg *room_find_leg(const sfu_room *room, sfu_leg_id id)
{
    for (uint32_t i = 0; i < room->max_legs; i++)
        if (room->legs[i] && room->legs[i]->id == id)
            return room->legs[i];
    return NULL;
}

/* A cheap mix so that first sequence numbers, timestamps and RTX counters
 * differ between sinks without a random source in the core. */
static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static int source_init(sfu_room *room, room_source *src, const sfu_track_desc *d)
{
    memset(src, 0, sizeof *src);
    src->ssrc = d->remote_ssrc;
    src->rtx_ssrc = d->remote_rtx_ssrc;
    src->epoch = ++room->next_epoch;
    sfu_nack_config nc = sfu_nack_config_default;
    if (!d->fb_nack)
        nc.max_retries = 0; /* gaps only give up, nothing is asked for */
    sfu_nack_gen_init(&src->nack, &nc);
    sfu_keyframe_req_init(&src->kf, room->cfg.keyframe_min_interval);
    uint32_t replay_max = room->cfg.rtx_cache_packets < ROOM_REPLAY_MAX_PACKETS
                              ? room->cfg.rtx_cache_packets : ROOM_REPLAY_MAX_PACKETS;
    sfu_keyframe_cache_init(&src->kcache, room_sees_keyframes(d) ? room->cfg.keyframe_cache_max_age : 0,
                            replay_max);
    sfu_sr_translate_init(&src->sr, d->clock_rate);
    if (d->kind == SFU_KIND_VIDEO) {
        src->cache = sfu_rtx_cache_new(room->cfg.rtx_cache_packets, ROOM_RTX_MAX_AGE);
        if (!src->cache)
            return -SFU_ENOMEM;
    }
    return 0;
}

static void sink_init(room_sink *sink, const sfu_track_desc *d)
{
    memset(sink, 0, sizeof *sink);
    uint32_t h = mix32(d->local_ssrc);
    sfu_seq_init(&sink->seq, (uint16_t)h, mix32(h), d->clock_rate);
    sink->rtx_seq16 = (uint16_t)(mix32(d->local_rtx_ssrc) & 0x7fff);
    sfu_vp8_rewriter_init(&sink->vp8);
}

/* A new stream on the source's m-line (publisher restart, new SSRC):
 * everything about the old stream goes. */
void room_source_set_ssrc(sfu_room *room, room_source *src, uint32_t ssrc)
{
    src->ssrc = ssrc;
    src->epoch = ++room->next_epoch;
    src->unwrap = (sfu_seq_unwrapper){ 0 };
    sfu_nack_gen_reset(&src->nack);
    if (src->cache)
        sfu_rtx_cache_clear(src->cache);
    sfu_keyframe_cache_reset(&src->kcache);
    src->sr.have_sr = false;
    memset(&src->rx, 0, sizeof src->rx);
}

/* Whether any leg of `participant` still receives audio with levels. */
static bool has_level_source(const sfu_room *room, uint32_t participant)
{
    for (uint32_t s = 0; s < room->max_legs; s++) {
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
    if (!has_level_source(room, participant))
        sfu_speaker_remove(room->speaker, participant);
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
            int rc = source_init(room, &leg->tracks[t].src, d);
            if (rc < 0)
                return rc;
        }
        if (d->send)
            sink_init(&leg->tracks[t].sink, d);
    }
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
    while (slot < room->max_legs && room->legs[slot])
        slot++;
    if (slot == room->max_legs)
        return -SFU_ELIMIT;
    room_leg *leg = calloc(1, sizeof *leg);
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
    if (rc < 0) {
        leg_free(leg);
        return rc;
    }
    room->legs[slot] = leg;
    room->nlegs++;
    room_rebind(room, now, NULL);
    return 0;
}

static int find_mid(const sfu_leg_desc *desc, const char *mid)
{
    for (unsigned t = 0; t < desc->ntracks; t++)
        if (strncmp(desc->tracks[t].mid, mid, SFU_MID_MAX) == 0)
            return (int)t;
    return -1;
}

/* Carries a kept m-line's state over to its new position. */
static int carry_track(sfu_room *room, room_track *dst, const sfu_track_desc *nd, room_track *old,
                       const sfu_track_desc *od)
{
    if (nd->recv && od->recv && nd->kind == od->kind) {
        dst->src = old->src;
        old->src.cache = NULL;
        if (nd->remote_ssrc && nd->remote_ssrc != od->remote_ssrc)
            room_source_set_ssrc(room, &dst->src, nd->remote_ssrc);
        if (nd->remote_rtx_ssrc)
            dst->src.rtx_ssrc = nd->remote_rtx_ssrc;
    } else if (nd->recv) {
        int rc = source_init(room, &dst->src, nd);
        if (rc < 0)
            return rc;
    }
    if (nd->send && od->send && nd->local_ssrc == od->local_ssrc)
        dst->sink = old->sink;
    else if (nd->send)
        sink_init(&dst->sink, nd);
    return 0;
}

int sfu_room_update_leg(sfu_room *room, sfu_leg_id id, const sfu_leg_desc *desc, sfu_time now)
{
    if (check_desc(desc) < 0)
        return -SFU_EINVAL;
    room_leg *leg = room_find_leg(room, id);
    if (!leg)
        return -SFU_ENOTFOUND;
    room_leg *next = malloc(sizeof *next);
    if (!next)
        return -SFU_ENOMEM;
    memcpy(next, leg, offsetof(room_leg, tracks));
    memset(next->tracks, 0, sizeof next->tracks);
    next->desc = *desc;
    for (unsigned t = 0; t < desc->ntracks; t++) {
        const sfu_track_desc *nd = &desc->tracks[t];
        int o = find_mid(&leg->desc, nd->mid);
        int rc = 0;
        if (o >= 0) {
            rc = carry_track(room, &next->tracks[t], nd, &leg->tracks[o], &leg->desc.tracks[o]);
        } else {
            if (nd->recv)
                rc = source_init(room, &next->tracks[t].src, nd);
            if (nd->send)
                sink_init(&next->tracks[t].sink, nd);
        }
        if (rc < 0) {
            leg_free(next);
            return rc;
        }
    }
    for (uint32_t i = 0; i < room->max_legs; i++)
        if (room->legs[i] == leg)
            room->legs[i] = next;
    leg_free(leg);
    room_rebind(room, now, NULL);
    forget_speaker_if_gone(room, next->participant);
    return 0;
}

void sfu_room_remove_leg(sfu_room *room, sfu_leg_id id, sfu_time now, sfu_out *out)
{
    for (uint32_t i = 0; i < room->max_legs; i++) {
        if (room->legs[i] && room->legs[i]->id == id) {
            uint32_t participant = room->legs[i]->participant;
            leg_free(room->legs[i]);
            room->legs[i] = NULL;
            room->nlegs--;
            room_rebind(room, now, out);
            forget_speaker_if_gone(room, participant);
            return;
        }
    }
}

int sfu_room_bind(sfu_room *room, sfu_leg_id id, const char *mid, uint32_t participant,
                  sfu_time now, sfu_out *out)
{
    room_leg *leg = room_find_leg(room, id);
    if (!leg || !mid)
        return -SFU_ENOTFOUND;
    int t = find_mid(&leg->desc, mid);
    if (t < 0 || !leg->desc.tracks[t].send)
        return -SFU_ENOTFOUND;
    room_sink *sink = &leg->tracks[t].sink;
    if (!sink->bound || sink->participant != participant) {
        sink->bound = true;
        sink->participant = participant;
        sink->has_src = false;
    }
    room_rebind(room, now, out);
    return 0;
}

/* The first source of `kind` that `participant` publishes, in slot order. */
static bool find_source(const sfu_room *room, uint32_t participant, sfu_kind kind, room_ref *ref)
{
    for (uint32_t s = 0; s < room->max_legs; s++) {
        const room_leg *leg = room->legs[s];
        if (!leg || leg->participant != participant)
            continue;
        for (unsigned t = 0; t < leg->desc.ntracks; t++) {
            const sfu_track_desc *d = &leg->desc.tracks[t];
            if (d->recv && d->kind == kind) {
                *ref = (room_ref){ (uint16_t)s, (uint8_t)t };
                return true;
            }
        }
    }
    return false;
}

/* A sink whose source changed restarts on a keyframe of the new one. */
static void resolve_sink(sfu_room *room, room_ref sink_ref, const sfu_track_desc *d, sfu_time now,
                         sfu_out *out)
{
    room_sink *sink = &room->legs[sink_ref.slot]->tracks[sink_ref.track].sink;
    room_ref ref;
    sink->has_src = sink->bound && find_source(room, sink->participant, d->kind, &ref);
    if (!sink->has_src)
        return;
    sink->src = ref;
    uint32_t epoch = room_src_at(room, ref)->epoch;
    if (epoch == sink->src_epoch)
        return;
    sink->src_epoch = epoch;
    sink->vp8_restart = true;
    sink->have_fir_seq = false;
    sink->have_key = sink->squeezed = sink->replayed = false;
    if (d->kind == SFU_KIND_VIDEO) {
        sink->waiting_keyframe = true;
        room_sink_needs_keyframe(room, sink_ref, now, out);
    }
}

void room_sink_needs_keyframe(sfu_room *room, room_ref sink_ref, sfu_time now, sfu_out *out)
{
    room_sink *sink = &room->legs[sink_ref.slot]->tracks[sink_ref.track].sink;
    if (!sink->has_src)
        return;
    if (!out) {
        /* handle_timeout serves it (from the cache, or by asking) */
        room_src_at(room, sink->src)->kf_deferred = true;
        return;
    }
    if (room_replay_keyframe(room, sink_ref, now, out))
        return;
    room_request_keyframe(room, sink->src, now, out);
}

void room_rebind(sfu_room *room, sfu_time now, sfu_out *out)
{
    /* Pass 1: resolve sinks and count them per source. */
    for (uint32_t s = 0; s < room->max_legs; s++) {
        room_leg *leg = room->legs[s];
        for (unsigned t = 0; leg && t < leg->desc.ntracks; t++)
            leg->tracks[t].src.fanout_count = 0;
    }
    for (uint32_t s = 0; s < room->max_legs; s++) {
        room_leg *leg = room->legs[s];
        for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
            if (!leg->desc.tracks[t].send)
                continue;
            room_sink *sink = &leg->tracks[t].sink;
            resolve_sink(room, (room_ref){ (uint16_t)s, (uint8_t)t }, &leg->desc.tracks[t], now, out);
            if (sink->has_src)
                room_src_at(room, sink->src)->fanout_count++;
        }
    }
    /* Pass 2: lay the lists out one after another, then fill them. */
    uint32_t next = 0;
    for (uint32_t s = 0; s < room->max_legs; s++) {
        room_leg *leg = room->legs[s];
        for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
            room_source *src = &leg->tracks[t].src;
            src->fanout_start = next;
            next += src->fanout_count;
            src->fanout_count = 0;
        }
    }
    for (uint32_t s = 0; s < room->max_legs; s++) {
        room_leg *leg = room->legs[s];
        for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
            room_sink *sink = &leg->tracks[t].sink;
            if (!leg->desc.tracks[t].send || !sink->has_src)
                continue;
            room_source *src = room_src_at(room, sink->src);
            room->fanout[src->fanout_start + src->fanout_count++] = (room_ref){ (uint16_t)s, (uint8_t)t };
        }
    }
}

void room_request_keyframe(sfu_room *room, room_ref ref, sfu_time now, sfu_out *out)
{
    room_source *src = room_src_at(room, ref);
    if (!out || !src->ssrc) {
        src->kf_deferred = true;
        return;
    }
    if (sfu_keyframe_req_want(&src->kf, now))
        room_send_keyframe_request(room, ref, now, out);
}

void sfu_room_handle_alive(sfu_room *room, sfu_leg_id from, sfu_time at)
{
    room_leg *leg = room_find_leg(room, from);
    if (leg && at > leg->last_alive)
        leg->last_alive = at;
}

void sfu_room_handle_consent(sfu_room *room, sfu_leg_id from, bool held, sfu_time last_at)
{
    room_leg *leg = room_find_leg(room, from);
    if (!leg)
        return;
    leg->consent_held = held;
    if (last_at > leg->last_alive)
        leg->last_alive = last_at;
}

void sfu_room_handle_path_changed(sfu_room *room, sfu_leg_id from, sfu_time now, sfu_out *out)
{
    /* A viewer is served like its own PLI: from the keyframe cache when it
     * holds a recent keyframe, else by asking the publisher. */
    room_leg *leg = room_find_leg(room, from);
    for (unsigned t = 0; leg && t < leg->desc.ntracks; t++) {
        if (leg->desc.tracks[t].kind != SFU_KIND_VIDEO)
            continue;
        if (leg->desc.tracks[t].send) {
            room_sink_needs_keyframe(room, (room_ref){ .slot = leg->slot, .track = t }, now, out);
        } else {
            /* What it published into the dead path never arrived, and a
             * request sent meanwhile (or the keyframe answering it) went the
             * same way: ask at once, past the throttle. */
            sfu_keyframe_req_path_changed(&leg->tracks[t].src.kf);
            room_request_keyframe(room, (room_ref){ .slot = leg->slot, .track = (uint8_t)t },
                                  now, out);
        }
    }
}

/* Starts waiting sinks from the keyframe cache where it can; true when a
 * sink still waits for a keyframe from the publisher. */
static bool serve_waiting_sinks(sfu_room *room, const room_source *src, sfu_time now, sfu_out *out)
{
    bool waiting = false;
    for (uint32_t i = 0; i < src->fanout_count; i++) {
        room_ref r = room->fanout[src->fanout_start + i];
        if (room->legs[r.slot]->tracks[r.track].sink.waiting_keyframe &&
            !room_replay_keyframe(room, r, now, out))
            waiting = true;
    }
    return waiting;
}

static void source_timeout(sfu_room *room, room_ref ref, sfu_time now, sfu_out *out)
{
    room_source *src = room_src_at(room, ref);
    room_send_nacks(room, ref, now, out);
    /* A gap the SFU cannot repair: only a fresh keyframe helps. */
    bool lost = sfu_nack_gen_take_keyframe_request(&src->nack);
    if (!src->ssrc) {
        src->kf_deferred |= lost;
        return;
    }
    bool waiting = serve_waiting_sinks(room, src, now, out);
    /* A request that was lost, or asked for before the SSRC was known, is
     * repeated while a viewer still waits (throttled like any other). */
    bool deferred = src->kf_deferred;
    src->kf_deferred = false;
    if (lost || (deferred && waiting) || (!src->kf.pending && waiting)) {
        if (sfu_keyframe_req_want(&src->kf, now))
            room_send_keyframe_request(room, ref, now, out);
    } else if (sfu_keyframe_req_handle_timeout(&src->kf, now)) {
        room_send_keyframe_request(room, ref, now, out);
    }
}

static void update_bitrates(room_leg *leg, sfu_time now)
{
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        room_source *src = &leg->tracks[t].src;
        if (!leg->desc.tracks[t].recv)
            continue;
        if (src->rate_at > 0 && now > src->rate_at)
            src->bitrate_bps = (uint32_t)((src->bytes - src->bytes_at_rate) * 8 * SFU_SEC(1) /
                                          (uint64_t)(now - src->rate_at));
        src->bytes_at_rate = src->bytes;
        src->rate_at = now;
    }
}

uint32_t sfu_room_track_bitrate(const sfu_room *room, sfu_leg_id id, const char *mid)
{
    const room_leg *leg = room_find_leg(room, id);
    for (unsigned t = 0; leg && t < leg->desc.ntracks; t++)
        if (leg->desc.tracks[t].recv && strcmp(leg->desc.tracks[t].mid, mid) == 0)
            return leg->tracks[t].src.bitrate_bps;
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
    if (now >= leg->next_report_at) {
        room_send_reports(room, leg, now, out);
        update_bitrates(leg, now);
        leg->next_report_at = now + ROOM_REPORT_INTERVAL;
    }
    if (now >= leg->next_twcc_at) {
        room_send_twcc(room, leg, out);
        leg->next_twcc_at = now + ROOM_TWCC_INTERVAL;
    }
    for (unsigned t = 0; t < leg->desc.ntracks; t++)
        if (leg->desc.tracks[t].recv)
            source_timeout(room, (room_ref){ (uint16_t)slot, (uint8_t)t }, now, out);
}

void room_report_speaker(sfu_room *room, sfu_out *out)
{
    uint32_t p;
    if (sfu_speaker_take_change(room->speaker, &p))
        room->speaker_unsent = true;
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
    for (uint32_t s = 0; s < room->max_legs; s++)
        if (room->legs[s])
            leg_timeout(room, s, now, out);
    if (now >= sfu_speaker_poll_timeout(room->speaker))
        sfu_speaker_handle_timeout(room->speaker, now);
    room_report_speaker(room, out);
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
    for (unsigned i = 0; i < leg->desc.ntracks; i++) {
        if (!leg->desc.tracks[i].recv)
            continue;
        const room_source *src = &leg->tracks[i].src;
        if (src->kf_deferred && src->ssrc)
            return 0; /* due at once */
        t = min_time(t, sfu_nack_gen_poll_timeout(&src->nack));
        t = min_time(t, sfu_keyframe_req_poll_timeout(&src->kf));
    }
    return t;
}

sfu_time sfu_room_poll_timeout(const sfu_room *room)
{
    if (room->speaker_unsent)
        return 0; /* due at once */
    sfu_time t = sfu_speaker_poll_timeout(room->speaker);
    for (uint32_t s = 0; s < room->max_legs; s++)
        if (room->legs[s])
            t = min_time(t, leg_deadline(room, room->legs[s]));
    return t;
}

const sfu_room_stats *sfu_room_stats_get(const sfu_room *room) { return &room->stats; }
uint32_t sfu_room_leg_count(const sfu_room *room) { return room->nlegs; }

uint32_t sfu_room_active_speaker(const sfu_room *room)
{
    uint32_t p = 0;
    return sfu_speaker_current(room->speaker, &p) ? p : 0;
}
