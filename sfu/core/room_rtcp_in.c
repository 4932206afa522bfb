/* RTCP in, terminated at the room's edge. Publishers' SRs feed their
 * producers' SR translation; viewers' RRs feed their consumers (round trip,
 * audio copies); viewers' NACKs are answered from the cache of the layer
 * they receive, and their PLI/FIR are answered from the keyframe cache or
 * become the SFU's own throttled request to that layer. REMB and
 * transport-cc feed the estimate toward the viewer (room_bwe.c); SDES and
 * BYE end here. */
#include "sfu/core/room_internal.h"
#include "sfu/core/rtcp_layers.h"
#include "sfu/core/rtcp_fb.h"

/* The sink on `leg` that sends with `ssrc`. */
static bool find_sink(const room_leg *leg, uint32_t ssrc, room_ref *ref)
{
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        if (leg->desc.tracks[t].send && leg->desc.tracks[t].local_ssrc == ssrc) {
            *ref = (room_ref){ leg->slot, (uint8_t)t };
            return true;
        }
    }
    return false;
}

/* RFC 3550 6.4.1: a viewer's report block on one of our sinks. */
static void on_report_blocks(sfu_room *room, room_leg *leg, const sfu_rtcp_report_block *b, uint8_t n,
                             sfu_time now)
{
    for (uint8_t i = 0; i < n; i++) {
        room_ref ref;
        if (find_sink(leg, b[i].ssrc, &ref))
            sfu_consumer_handle_report(&room_sink_at(room, ref)->c, &b[i],
                                       leg->desc.tracks[ref.track].kind == SFU_KIND_AUDIO, now);
    }
}

static void on_sr(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now)
{
    sfu_rtcp_sr sr;
    if (sfu_rtcp_sr_parse(c, &sr) < 0) {
        room_drop(room, SFU_DROP_MALFORMED);
        return;
    }
    on_report_blocks(room, leg, sr.reports, sr.report_count, now);
    for (unsigned t = 0; t < leg->desc.ntracks; t++)
        if (leg->tracks[t].prod)
            sfu_producer_handle_sr(leg->tracks[t].prod, sr.ssrc, sr.ntp, sr.rtp_ts, now);
}

static void on_rr(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now)
{
    sfu_rtcp_rr rr;
    if (sfu_rtcp_rr_parse(c, &rr) < 0) {
        room_drop(room, SFU_DROP_MALFORMED);
        return;
    }
    on_report_blocks(room, leg, rr.reports, rr.report_count, now);
}

static void on_nack(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out)
{
    sfu_rtcp_nack nack;
    room_ref ref;
    if (sfu_rtcp_nack_parse(c, &nack) < 0) {
        room_drop(room, SFU_DROP_MALFORMED);
        return;
    }
    room->stats.nacks_received++;
    if (!find_sink(leg, nack.media_ssrc, &ref))
        return;
    sfu_sink_repair_on_nack(&room_sink_at(room, ref)->repair, nack.seq16, nack.count);
    /* newest first: the most useful ones when the budget runs short */
    for (uint16_t i = nack.count; i-- > 0;)
        (void)room_retransmit(room, ref, nack.seq16[i], now, out);
}

static void on_pli(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out)
{
    uint32_t sender, media;
    room_ref ref;
    if (sfu_rtcp_pli_parse(c, &sender, &media) < 0) {
        room_drop(room, SFU_DROP_MALFORMED);
        return;
    }
    room->stats.plis_received++;
    if (find_sink(leg, media, &ref))
        room_sink_needs_keyframe(room, ref, now, out);
}

/* RFC 5104 4.3.1.2: a repeated sequence number is the same request. */
static void on_fir(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out)
{
    sfu_rtcp_fir fir;
    room_ref ref;
    if (sfu_rtcp_fir_parse(c, &fir) < 0) {
        room_drop(room, SFU_DROP_MALFORMED);
        return;
    }
    for (uint8_t i = 0; i < fir.count; i++) {
        if (!find_sink(leg, fir.entries[i].ssrc, &ref) ||
            !sfu_consumer_fir_is_new(&room_sink_at(room, ref)->c, fir.entries[i].seq_nr))
            continue;
        room->stats.firs_received++;
        room_sink_needs_keyframe(room, ref, now, out);
    }
}

/* A relay leg's pulling end says which layers it needs: the sinks pinned
 * to the others pause; one resumed asks its layer for a keyframe. */
static void on_layers(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out)
{
    sfu_rtcp_layers l;
    if (sfu_rtcp_layers_parse(c, &l) < 0) {
        room_drop(room, SFU_DROP_MALFORMED);
        return;
    }
    for (uint8_t i = 0; i < l.count; i++) {
        room_ref ref;
        if (!find_sink(leg, l.entries[i].ssrc, &ref))
            continue;
        room_sink *sink = room_sink_at(room, ref);
        if (sink->c.pinned < 0)
            continue;
        bool pause = !l.entries[i].wanted;
        if (pause != sink->c.paused)
            pause ? room->stats.layer_pauses++ : room->stats.layer_resumes++;
        if (sfu_consumer_set_paused(&sink->c, pause) && sink->has_src)
            room_request_keyframe(room, sink->src, sink->c.layer, now, out);
    }
}

static void handle_one(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out)
{
    if (leg->desc.layer_feedback && sfu_rtcp_is_layers(c)) {
        on_layers(room, leg, c, now, out);
        return;
    }
    if (c->pt == SFU_RTCP_SR)
        on_sr(room, leg, c, now);
    else if (c->pt == SFU_RTCP_RR)
        on_rr(room, leg, c, now);
    else if (c->pt == SFU_RTCP_RTPFB && c->count == SFU_RTCP_FMT_NACK)
        on_nack(room, leg, c, now, out);
    else if (c->pt == SFU_RTCP_PSFB && c->count == SFU_RTCP_FMT_PLI)
        on_pli(room, leg, c, now, out);
    else if (c->pt == SFU_RTCP_PSFB && c->count == SFU_RTCP_FMT_FIR)
        on_fir(room, leg, c, now, out);
    else if (c->pt == SFU_RTCP_RTPFB && c->count == SFU_RTCP_FMT_TWCC)
        room_bwe_on_twcc(room, leg, c, now, out);
    else if (c->pt == SFU_RTCP_PSFB && c->count == SFU_RTCP_FMT_AFB)
        room_bwe_on_remb(room, leg, c, now, out);
    /* SDES, BYE and the rest end here. Transport-cc and REMB feed the
     * estimate toward this viewer (room_bwe.c); none is forwarded. */
}

int sfu_room_handle_rtcp(sfu_room *room, sfu_leg_id from, const uint8_t *p, size_t n, sfu_time now,
                         sfu_out *out)
{
    room_leg *leg = room_find_leg(room, from);
    if (!leg)
        return -SFU_ENOTFOUND;
    room->stats.rtcp_in++;
    room_leg_touch(room, leg);  /* liveness, its estimator, its producers (SR) */
    if (now > leg->last_alive)
        leg->last_alive = now;
    size_t off = 0;
    sfu_rtcp_common c;
    int rc;
    while ((rc = sfu_rtcp_next(p, n, &off, &c)) == 1)
        handle_one(room, leg, &c, now, out);
    if (rc < 0) {
        room_drop(room, SFU_DROP_MALFORMED);
        return -SFU_EMALFORMED;
    }
    return 0;
}
