/* Send-side bandwidth estimation per viewer leg, wired into the room.
 *
 * A leg that negotiated transport-cc on an m-line the SFU sends on (the
 * transport-wide-cc extension and a=rtcp-fb transport-cc) gets an sfu_bwe
 * (bwe.h). Every RTP packet the room sends it on such an m-line carries the
 * leg's own transport-wide sequence number (16 bits, one counter per leg,
 * written in the viewer's extension id by room_emit_rtp) and is recorded with
 * its wire size. The viewer's transport-cc feedback and REMB feed the
 * estimator; at every feedback and every ROOM_BWE_INTERVAL the estimate,
 * less ROOM_BWE_AUDIO_BPS per audio sink, is split evenly over the leg's
 * video sinks as their bitrate limit, and the consumer's layer choice
 * (consumer.h: down at once, up after SFU_CONSUMER_UP_HOLD) follows it.
 *
 * Probes: when the estimate is below what the highest layer of the leg's
 * video sinks would need, sfu_bwe_poll_probe asks for a probe; it goes out as
 * retransmissions of the sink's last ROOM_PROBE_RTX_DEPTH video packets on
 * its RTX SSRC (libwebrtc's payload padding), or as padding-only RTP packets
 * there while it has none, paced in ROOM_PROBE_SLICE slices from the room's
 * timer, filling up to the probe's rate what the media sent meanwhile
 * leaves; toward a policed leg (sfu_bwe_policed) as one burst right after a
 * video frame's last packet (room_bwe_after_frame). A leg with no RTX on
 * its video sinks is not probed. */
#include "sfu/core/room_internal.h"

#include <stdlib.h>

static bool sends_video(const sfu_leg_desc *desc)
{
    for (unsigned t = 0; t < desc->ntracks; t++)
        if (desc->tracks[t].send && desc->tracks[t].kind == SFU_KIND_VIDEO)
            return true;
    return false;
}

/* An estimator only toward a leg that is sent video: it sets the video
 * sinks' limits and sends probes on a video sink, and nothing else reads
 * it (audio copies follow receiver reports, audio_copies.h; the repair of
 * reported losses is for video). Toward an audio-only leg (a voice call)
 * it cost a send-history entry and a sent-rate bucket per packet, a
 * transport-wide number in every header and the viewer's feedback to parse,
 * for an estimate nothing used; a leg that gains video by renegotiation
 * gets one then (room_bwe_sync from sfu_room_update_leg). */
bool room_bwe_wanted(const sfu_leg_desc *desc)
{
    bool twcc = false;
    for (unsigned t = 0; t < desc->ntracks; t++)
        twcc |= desc->tracks[t].send && desc->tracks[t].ext.twcc && desc->tracks[t].fb_twcc;
    return twcc && sends_video(desc);
}

int room_bwe_sync(room_leg *leg, sfu_time now)
{
    bool want = room_bwe_wanted(&leg->desc);
    if (want && !leg->bwe) {
        leg->bwe = sfu_bwe_new(NULL);
        if (!leg->bwe)
            return -SFU_ENOMEM;
        leg->next_bwe_at = now + ROOM_BWE_INTERVAL;
        leg->bwe_since = now;
        leg->bwe_heard = false;
        leg->probe_left = 0;
    } else if (!want && leg->bwe) {
        sfu_bwe_free(leg->bwe);
        leg->bwe = NULL;
        leg->probe_left = 0;
    }
    return 0;
}

uint32_t room_bwe_start_limit(const room_leg *leg, sfu_time now)
{
    if (!leg->bwe || leg->bwe_heard || now - leg->bwe_since >= ROOM_BWE_DEAF)
        return 0;
    uint64_t est = sfu_bwe_estimate(leg->bwe, now);
    uint64_t each = est > ROOM_BWE_AUDIO_BPS ? est - ROOM_BWE_AUDIO_BPS : 1;
    return each > UINT32_MAX ? UINT32_MAX : (uint32_t)each;
}

void room_bwe_path_changed(room_leg *leg, sfu_time now)
{
    if (!leg->bwe)
        return;
    /* What the old path's feedback says (its queue, its losses, and the
     * packets lost while it was dead) does not describe the new one: start
     * over from the last estimate, never below the usual start. */
    sfu_bwe_config cfg = sfu_bwe_config_default;
    uint64_t last = sfu_bwe_estimate(leg->bwe, now);
    if (last > cfg.start_bps)
        cfg.start_bps = last;
    cfg.history_len = sfu_bwe_history_len(leg->bwe);
    sfu_bwe *fresh = sfu_bwe_new(&cfg);
    if (!fresh)
        return; /* keep the old one */
    sfu_bwe_free(leg->bwe);
    leg->bwe = fresh;
    leg->bwe_since = now;
    leg->bwe_heard = false;
    leg->bwe_hold = true;
    leg->probe_left = 0;
}

/* A bound video sink's source, or NULL. */
static const sfu_producer *video_src(const sfu_room *room, const room_leg *leg, unsigned t)
{
    const sfu_track_desc *d = &leg->desc.tracks[t];
    const room_sink *s = leg->tracks[t].sink;
    if (!d->send || d->kind != SFU_KIND_VIDEO || !s->has_src)
        return NULL;
    return room_prod_at(room, s->src);
}

static unsigned count_sinks(const sfu_room *room, const room_leg *leg, unsigned *naudio)
{
    unsigned nvideo = 0;
    *naudio = 0;
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const sfu_track_desc *d = &leg->desc.tracks[t];
        if (!d->send || !leg->tracks[t].sink->has_src)
            continue;
        if (d->kind == SFU_KIND_AUDIO)
            (*naudio)++;
        else if (video_src(room, leg, t))
            nvideo++;
    }
    return nvideo;
}

/* What the leg would need for each video sink to move up (the highest
 * active layer within its cap, or all temporal layers of a single stream);
 * 0 when none can. With the even split, that is the largest per
 * sink need times the number of video sinks, plus the audio allowance. */
static uint64_t probe_target(const sfu_room *room, const room_leg *leg, sfu_time now)
{
    unsigned naudio, nvideo = count_sinks(room, leg, &naudio);
    uint64_t need = 0;
    bool step = false;
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const sfu_producer *prod = video_src(room, leg, t);
        if (!prod)
            continue;
        const sfu_consumer *c = &leg->tracks[t].sink->c;
        uint64_t b;
        if (prod->nlayers < 2) {
            b = prod->layers[0].bitrate_bps;
            step |= c->max_tid < SFU_CONSUMER_ALL_TIDS;
        } else {
            int q = c->target >= 0 ? sfu_producer_quality_of(prod, c->target) : 0;
            b = prod->layers[sfu_producer_layer_at(prod, q)].bitrate_bps;
            /* The highest layer above it that the viewer would take: a
             * probe that finds room for it saves a probe (and an up-hold)
             * per layer on the way. */
            for (int nq = prod->nlayers - 1; nq > q; nq--) {
                int l = sfu_producer_layer_at(prod, nq);
                if ((c->max_quality >= 0 && nq > c->max_quality) || !sfu_producer_layer_active(prod, l, now) ||
                    !prod->layers[l].bitrate_bps)
                    continue;
                b = prod->layers[l].bitrate_bps;
                step = true;
                break;
            }
        }
        if (b > need)
            need = b;
    }
    if (!step || !need)
        return 0;
    return need * nvideo + (uint64_t)naudio * ROOM_BWE_AUDIO_BPS;
}

/* The video sink that probes go out on: one with RTX. */
static int probe_track(const room_leg *leg)
{
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const sfu_track_desc *d = &leg->desc.tracks[t];
        if (d->send && d->kind == SFU_KIND_VIDEO && d->rtx_pt && d->local_rtx_ssrc && d->ext.twcc)
            return (int)t;
    }
    return -1;
}

/* Sends `bytes` of the probe on track t now. */
static void probe_send(sfu_room *room, room_leg *leg, int t, size_t bytes, sfu_time now, sfu_out *out)
{
    /* Media-sized packets first: the recent video again (room_send_probe_rtx);
     * padding only when there is none (paused video). */
    while (bytes > 0) {
        size_t sent = room_send_probe_rtx(room, (room_ref){ leg->slot, (uint8_t)t },
                                          (uint16_t)(leg->probe_back++ % ROOM_PROBE_RTX_DEPTH), now, out);
        if (!sent)
            break;
        bytes = sent >= bytes ? 0 : bytes - sent;
        leg->probe_left = sent >= leg->probe_left ? 0 : leg->probe_left - sent;
    }
    while (bytes > 0) {
        size_t pad = bytes < ROOM_PROBE_PAD_MAX ? bytes : ROOM_PROBE_PAD_MAX;
        if (pad < 32)
            pad = 32;
        if (!room_send_padding(room, leg, (unsigned)t, pad, now, out))
            break;
        bytes = pad >= bytes ? 0 : bytes - pad;
        leg->probe_left = pad >= leg->probe_left ? 0 : leg->probe_left - pad;
    }
}

/* Pads the probe up to its rate by the end of this slice: the media sent
 * meanwhile is part of the probe (its rate is the total rate, not padding
 * on top of the media, which behind a policer took media down with it). */
static void probe_slice(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out)
{
    room_leg_touch(room, leg);
    int t = probe_track(leg);
    if (t < 0 || !out) {
        leg->probe_left = 0;
        return;
    }
    uint64_t due = sfu_bwe_probe_due(leg->bwe, now + ROOM_PROBE_SLICE);
    size_t bytes = due > leg->probe_left ? leg->probe_left : (size_t)due;
    if (bytes > 0 && bytes < 64)
        bytes = 64;
    probe_send(room, leg, t, bytes, now, out);
    leg->probe_next_at = now + ROOM_PROBE_SLICE;
}

/* Behind a policer (sfu_bwe_policed) a probe is one burst, sent right
 * after a video frame's last packet: the policer's bucket refills for the
 * whole frame interval before the next frame, and no media goes out
 * while the probe's excess is being dropped. Called after each video
 * packet with the marker bit forwarded to the leg. */
void room_bwe_after_frame(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out)
{
    if (!leg->bwe || !out || leg->probe_left || !leg->bwe_heard || now - leg->bwe_heard_at > ROOM_BWE_SILENT ||
        !sfu_bwe_policed(leg->bwe, now))
        return;
    int t = probe_track(leg);
    sfu_bwe_probe probe;
    if (t < 0 || !sfu_bwe_poll_probe(leg->bwe, probe_target(room, leg, now), now, &probe))
        return;
    room->stats.probes++;
    leg->probe_left = probe.bytes;
    leg->probe_rate_bps = probe.rate_bps;
    probe_send(room, leg, t, probe.bytes, now, out);
    leg->probe_left = 0;
    sfu_bwe_probe_end(leg->bwe, now); /* what did not go out now is not sent later */
}

void room_bwe_update(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out)
{
    room_leg_touch(room, leg);
    if (!leg->bwe)
        return;
    uint64_t est = sfu_bwe_estimate(leg->bwe, now);
    unsigned naudio, nvideo = count_sinks(room, leg, &naudio);
    if (leg->bwe_heard && now - leg->bwe_heard_at > ROOM_BWE_SILENT)
        return; /* no news: keep the limits, no probes */
    if (leg->bwe_hold && !leg->bwe_heard && now - leg->bwe_since < ROOM_BWE_DEAF)
        return; /* a new path, not heard from yet */
    if (!leg->bwe_heard && now - leg->bwe_since >= ROOM_BWE_DEAF) {
        /* deaf: no limit (0), no probes */
        for (unsigned t = 0; t < leg->desc.ntracks; t++) {
            if (!video_src(room, leg, t))
                continue;
            sfu_consumer_set_climb(&leg->tracks[t].sink->c, 0);
            if (leg->tracks[t].sink->c.limit_bps)
                room_set_sink_limit(room, (room_ref){ leg->slot, (uint8_t)t }, 0, now, out);
        }
        return;
    }
    if (nvideo) {
        uint64_t audio = (uint64_t)naudio * ROOM_BWE_AUDIO_BPS;
        uint64_t each = est > audio ? (est - audio) / nvideo : 1;
        if (each < 1)
            each = 1; /* 0 would mean "no estimate" */
        if (each > UINT32_MAX)
            each = UINT32_MAX;
        /* The climb ceiling (sfu_bwe_climb_bps), split the same way. */
        uint64_t climb = sfu_bwe_climb_bps(leg->bwe), climb_each = 0;
        if (climb) {
            climb_each = climb > audio ? (climb - audio) / nvideo : 1;
            if (climb_each < 1)
                climb_each = 1;
            if (climb_each > UINT32_MAX)
                climb_each = UINT32_MAX;
        }
        for (unsigned t = 0; t < leg->desc.ntracks; t++) {
            if (!video_src(room, leg, t))
                continue;
            sfu_consumer_set_climb(&leg->tracks[t].sink->c, (uint32_t)climb_each);
            room_set_sink_limit(room, (room_ref){ leg->slot, (uint8_t)t }, (uint32_t)each, now, out);
        }
    }
    sfu_bwe_probe probe;
    /* A policed leg's probes go out after a frame (room_bwe_after_frame):
     * here only the estimator's timeouts run. */
    uint64_t target = probe_track(leg) >= 0 && !sfu_bwe_policed(leg->bwe, now) ? probe_target(room, leg, now) : 0;
    if (sfu_bwe_poll_probe(leg->bwe, target, now, &probe) && leg->probe_left == 0) {
        leg->probe_left = probe.bytes;
        leg->probe_rate_bps = probe.rate_bps;
        room->stats.probes++;
        probe_slice(room, leg, now, out);
    }
}

void room_bwe_timeout(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out)
{
    if (!leg->bwe)
        return;
    if (leg->probe_left && !sfu_bwe_probe_rate(leg->bwe))
        leg->probe_left = 0; /* the estimator ended it (all sent with media, or it failed) */
    if (leg->probe_left && now >= leg->probe_next_at)
        probe_slice(room, leg, now, out);
    if (now + ROOM_PERIODIC_SLACK >= leg->next_bwe_at) {
        room_bwe_update(room, leg, now, out);
        leg->next_bwe_at = now + ROOM_BWE_INTERVAL;
    }
}

sfu_time room_bwe_deadline(const room_leg *leg)
{
    if (!leg->bwe)
        return SFU_TIME_NEVER;
    if (leg->probe_left && leg->probe_next_at < leg->next_bwe_at)
        return leg->probe_next_at;
    return leg->next_bwe_at;
}

void room_bwe_on_twcc(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out)
{
    /* 16 KiB of scratch on the worker's stack, touched by every room's
     * feedback alike, where a copy in each room cost 16 KiB of RSS a room. */
    sfu_twcc_packet pkts[ROOM_TWCC_FB_MAX];
    sfu_twcc_feedback fb;
    if (sfu_twcc_parse(c, &fb, pkts, ROOM_TWCC_FB_MAX) < 0) {
        room_drop(room, SFU_DROP_MALFORMED);
        return;
    }
    if (!leg->bwe)
        return;
    room->stats.bwe_feedbacks++;
    leg->bwe_heard = true;
    leg->bwe_hold = false;
    leg->bwe_heard_at = now;
    (void)sfu_bwe_on_feedback(leg->bwe, &fb, pkts, fb.packet_count, now);
    room_repair_reported_lost(room, leg, pkts, fb.packet_count, now, out);
    room_bwe_update(room, leg, now, out);
}

void room_bwe_on_remb(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out)
{
    sfu_rtcp_remb remb;
    int rc = sfu_rtcp_remb_parse(c, &remb);
    if (rc == -SFU_EUNSUPPORTED)
        return; /* another application-layer message */
    if (rc < 0) {
        room_drop(room, SFU_DROP_MALFORMED);
        return;
    }
    if (!leg->bwe)
        return;
    room->stats.bwe_rembs++;
    leg->bwe_heard = true;
    leg->bwe_hold = false;
    leg->bwe_heard_at = now;
    sfu_bwe_on_remb(leg->bwe, remb.bitrate_bps, now);
    room_bwe_update(room, leg, now, out);
}

int sfu_room_leg_bwe_get(const sfu_room *room, sfu_leg_id id, sfu_time now, sfu_bwe_stats *out)
{
    const room_leg *leg = room_find_leg(room, id);
    if (!leg)
        return -SFU_ENOTFOUND;
    if (!leg->bwe)
        return -SFU_ESTATE;
    sfu_bwe_stats_get(leg->bwe, now, out);
    return 0;
}

/* A viewer whose video can step down (a simulcast source): its estimator's
 * loss check lowers what it is sent and learns whether the loss is
 * congestion, and copies wait for the answer. Toward a viewer with nothing
 * to step down to the check never concludes, so holding copies back would
 * hold them for good, on random loss too (netlab loss30: 4.7 s frozen in
 * 10 s with them held, 0-1.1 s without). There they follow the loss. */
static bool can_step_down(const sfu_room *room, const room_leg *leg)
{
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const room_sink *sink = leg->tracks[t].sink;
        if (leg->desc.tracks[t].send && leg->desc.tracks[t].kind == SFU_KIND_VIDEO && sink->has_src &&
            room_prod_at(room, sink->src)->nlayers > 1)
            return true;
    }
    return false;
}

bool room_bwe_copies_ok(const sfu_room *room, const room_leg *leg, sfu_time now)
{
    return !leg->bwe || !can_step_down(room, leg) || sfu_bwe_redundancy_ok(leg->bwe, now);
}
