/* RTCP at the room's edge. Terminated: viewers' RR (their round trip is
 * kept), REMB, transport-cc, SDES, BYE; viewers' NACKs are answered from the
 * cache and their PLI/FIR are answered from the keyframe cache or become the
 * SFU's own throttled request. Generated: RR, NACK, PLI/FIR and
 * transport-cc feedback toward publishers; SR with CNAME toward viewers. */
#include "sfu/core/room_internal.h"
#include "sfu/core/rtcp_fb.h"
#include "sfu/core/rtcp_sdes_bye.h"
#include "sfu/core/rtcp_sr_rr.h"

#include <string.h>

#define NACKS_PER_PACKET 64     /* 64 FCIs at worst: fits an output head */
#define RR_BLOCKS_PER_PACKET 8

static void unpush(sfu_room *room, sfu_out *out)
{
    out->count--; /* the last item, which holds no buffer */
    room->stats.rtcp_out--;
}

/* A new RTCP item for `leg`. Without reduced-size RTCP, feedback rides in a
 * compound led by an (empty) RR (RFC 3550 6.1, RFC 4585 3.1). */
static sfu_out_item *rtcp_item(sfu_room *room, const room_leg *leg, bool feedback, sfu_out *out)
{
    sfu_out_item *item = sfu_out_push(out, SFU_OUT_RTCP, leg->id);
    if (!item) {
        room->stats.drops[SFU_DROP_OUT_FULL]++;
        return NULL;
    }
    room->stats.rtcp_out++;
    if (feedback && !leg->desc.rtcp_rsize) {
        sfu_rtcp_rr rr = { .ssrc = leg->desc.rtcp_ssrc };
        int n = sfu_rtcp_rr_build(item->head, SFU_OUT_HEAD_MAX, &rr);
        item->head_len = n > 0 ? (uint16_t)n : 0;
    }
    return item;
}

static size_t room_left(const sfu_out_item *item) { return SFU_OUT_HEAD_MAX - item->head_len; }

static void add_cname(const room_leg *leg, sfu_out_item *item, uint32_t ssrc)
{
    size_t len = strnlen(leg->desc.cname, sizeof leg->desc.cname - 1);
    if (len == 0)
        return;
    int n = sfu_rtcp_sdes_build_cname(item->head + item->head_len, room_left(item), ssrc,
                                      leg->desc.cname, len);
    if (n > 0)
        item->head_len += (uint16_t)n;
}

void room_send_keyframe_request(sfu_room *room, room_ref ref, sfu_time now, sfu_out *out)
{
    (void)now;
    room_leg *leg = room->legs[ref.slot];
    const sfu_track_desc *d = &leg->desc.tracks[ref.track];
    room_source *src = &leg->tracks[ref.track].src;
    if (!d->fb_pli && !d->fb_fir)
        return;
    sfu_out_item *item = rtcp_item(room, leg, true, out);
    if (!item)
        return;
    int n;
    if (d->fb_pli) {
        n = sfu_rtcp_pli_build(item->head + item->head_len, room_left(item), leg->desc.rtcp_ssrc, src->ssrc);
        room->stats.plis_sent++;
    } else {
        sfu_rtcp_fir_entry e = { src->ssrc, sfu_keyframe_req_fir_seq(&src->kf) };
        n = sfu_rtcp_fir_build(item->head + item->head_len, room_left(item), leg->desc.rtcp_ssrc, &e, 1);
        room->stats.firs_sent++;
    }
    if (n < 0) {
        unpush(room, out);
        return;
    }
    item->head_len += (uint16_t)n;
}

void room_send_nacks(sfu_room *room, room_ref ref, sfu_time now, sfu_out *out)
{
    room_leg *leg = room->legs[ref.slot];
    room_source *src = &leg->tracks[ref.track].src;
    uint64_t seqs[NACKS_PER_PACKET];
    size_t n = sfu_nack_gen_handle_timeout(&src->nack, now, seqs, NACKS_PER_PACKET);
    if (n == 0)
        return;
    uint16_t seq16[NACKS_PER_PACKET];
    for (size_t i = 0; i < n; i++)
        seq16[i] = (uint16_t)seqs[i];
    sfu_out_item *item = rtcp_item(room, leg, true, out);
    if (!item)
        return;
    int len = sfu_rtcp_nack_build(item->head + item->head_len, room_left(item), leg->desc.rtcp_ssrc,
                                  src->ssrc, seq16, n);
    if (len < 0) {
        unpush(room, out);
        return;
    }
    item->head_len += (uint16_t)len;
    room->stats.nacks_sent++;
}

/* RFC 3550 A.8: interarrival jitter, kept scaled by 16. */
void room_rx_update(room_rx_stats *rx, uint64_t seq, uint32_t ts, uint32_t clock_rate,
                    bool retransmission, sfu_time now)
{
    if (!rx->started || seq < rx->base_seq) {
        if (!rx->started)
            rx->expected_prior = rx->received_prior = 0;
        rx->base_seq = seq;
        rx->started = true;
    }
    rx->received++;
    if (retransmission)
        return; /* its arrival time says nothing about the path's jitter */
    uint32_t arrival = (uint32_t)((now / 1000000) * clock_rate + (now % 1000000) * clock_rate / 1000000);
    int64_t transit = (int32_t)(arrival - ts);
    if (rx->have_transit) {
        int64_t d = transit - rx->transit;
        if (d < 0)
            d = -d;
        rx->jitter_q4 += (uint32_t)d - ((rx->jitter_q4 + 8) >> 4);
    }
    rx->transit = transit;
    rx->have_transit = true;
}

/* RFC 3550 6.4.1 and A.3. */
static void fill_block(room_source *src, sfu_time now, sfu_rtcp_report_block *b)
{
    room_rx_stats *rx = &src->rx;
    uint64_t highest = src->unwrap.highest;
    uint64_t expected = highest - rx->base_seq + 1;
    int64_t lost = (int64_t)expected - (int64_t)rx->received;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    int64_t exp_int = (int64_t)(expected - rx->expected_prior);
    int64_t lost_int = exp_int - (int64_t)(rx->received - rx->received_prior);
    rx->expected_prior = expected;
    rx->received_prior = rx->received;
    *b = (sfu_rtcp_report_block){
        .ssrc = src->ssrc,
        .fraction_lost = exp_int > 0 && lost_int > 0 ? (uint8_t)((lost_int << 8) / exp_int) : 0,
        .cumulative_lost = (int32_t)lost,
        .ext_highest_seq = (uint32_t)(highest - 0x10000), /* see sfu_seq_unwrap */
        .jitter = rx->jitter_q4 >> 4,
        .lsr = rx->lsr,
        .dlsr = rx->lsr ? sfu_rtcp_dlsr_from_us(now - rx->lsr_at) : 0,
    };
}

static void send_rr(sfu_room *room, room_leg *leg, const sfu_rtcp_rr *rr, sfu_out *out)
{
    sfu_out_item *item = rtcp_item(room, leg, false, out);
    if (!item)
        return;
    int n = sfu_rtcp_rr_build(item->head, SFU_OUT_HEAD_MAX, rr);
    if (n < 0) {
        unpush(room, out);
        return;
    }
    item->head_len = (uint16_t)n;
    add_cname(leg, item, rr->ssrc);
}

/* An SR only once the publisher sent one: a mapping invented from our own
 * clock would break the viewer's lip sync. */
static void send_sr(sfu_room *room, room_leg *leg, unsigned t, sfu_time now, sfu_out *out)
{
    const sfu_track_desc *d = &leg->desc.tracks[t];
    room_sink *sink = &leg->tracks[t].sink;
    if (!sink->has_src || sink->packets == 0)
        return;
    room_source *src = room_src_at(room, sink->src);
    sfu_rtcp_sr sr = { .ssrc = d->local_ssrc, .packet_count = sink->packets, .octet_count = sink->octets };
    if (sink->seq.epoch != src->epoch ||
        sfu_sr_translate_get(&src->sr, now, sfu_seq_ts_off(&sink->seq), &sr.ntp, &sr.rtp_ts) < 0)
        return;
    sfu_out_item *item = rtcp_item(room, leg, false, out);
    if (!item)
        return;
    int n = sfu_rtcp_sr_build(item->head, SFU_OUT_HEAD_MAX, &sr);
    if (n < 0) {
        unpush(room, out);
        return;
    }
    item->head_len = (uint16_t)n;
    add_cname(leg, item, d->local_ssrc);
    sink->sr_mid32 = sfu_ntp_mid32(sr.ntp);
    sink->sr_at = now;
}

void room_send_reports(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out)
{
    sfu_rtcp_rr rr = { .ssrc = leg->desc.rtcp_ssrc };
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        if (leg->desc.tracks[t].send)
            send_sr(room, leg, t, now, out);
        room_source *src = &leg->tracks[t].src;
        if (!leg->desc.tracks[t].recv || !src->rx.started || !src->ssrc)
            continue;
        fill_block(src, now, &rr.reports[rr.report_count++]);
        if (rr.report_count == RR_BLOCKS_PER_PACKET) {
            send_rr(room, leg, &rr, out);
            rr.report_count = 0;
        }
    }
    if (rr.report_count)
        send_rr(room, leg, &rr, out);
}

/* Keeps arrivals sorted by transport-wide sequence number (serial order),
 * without duplicates, as the feedback builder wants them. */
void room_record_twcc(room_leg *leg, uint16_t seq16, uint32_t media_ssrc, sfu_time now)
{
    if (leg->ntwcc == ROOM_TWCC_MAX)
        return;
    leg->twcc_media_ssrc = media_ssrc;
    uint32_t i = leg->ntwcc;
    while (i > 0 && sfu_seq16_newer(leg->twcc[i - 1].seq16, seq16))
        i--;
    if (i > 0 && leg->twcc[i - 1].seq16 == seq16)
        return;
    memmove(&leg->twcc[i + 1], &leg->twcc[i], (leg->ntwcc - i) * sizeof leg->twcc[0]);
    leg->twcc[i] = (sfu_twcc_arrival){ seq16, now };
    leg->ntwcc++;
}

/* Feedback continues from where the last one stopped; arrivals older than
 * that were too late and are left out. */
void room_send_twcc(sfu_room *room, room_leg *leg, sfu_out *out)
{
    size_t done = 0;
    if (leg->ntwcc && !leg->twcc_have_base) {
        leg->twcc_base_seq16 = leg->twcc[0].seq16;
        leg->twcc_have_base = true;
    }
    while (done < leg->ntwcc && sfu_seq16_newer(leg->twcc_base_seq16, leg->twcc[done].seq16))
        done++;
    while (done < leg->ntwcc) {
        sfu_out_item *item = rtcp_item(room, leg, true, out);
        if (!item)
            break;
        sfu_twcc_build_args args = {
            .sender_ssrc = leg->desc.rtcp_ssrc,
            .media_ssrc = leg->twcc_media_ssrc,
            .fb_count = leg->twcc_fb_count,
            .base_seq16 = leg->twcc_base_seq16,
        };
        size_t used = 0;
        int n = sfu_twcc_build(item->head + item->head_len, room_left(item), &args, leg->twcc + done,
                               leg->ntwcc - done, &used);
        if (n < 0 || used == 0) {
            unpush(room, out);
            break;
        }
        item->head_len += (uint16_t)n;
        leg->twcc_fb_count++;
        done += used;
        leg->twcc_base_seq16 = (uint16_t)(leg->twcc[done - 1].seq16 + 1);
    }
    leg->ntwcc = 0;
}

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

static room_sink *sink_at(sfu_room *room, room_ref r) { return &room->legs[r.slot]->tracks[r.track].sink; }

static void on_report_blocks(sfu_room *room, room_leg *leg, const sfu_rtcp_report_block *b, uint8_t n,
                             sfu_time now);

static void on_sr(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now)
{
    sfu_rtcp_sr sr;
    if (sfu_rtcp_sr_parse(c, &sr) < 0) {
        room->stats.drops[SFU_DROP_MALFORMED]++;
        return;
    }
    on_report_blocks(room, leg, sr.reports, sr.report_count, now);
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        room_source *src = &leg->tracks[t].src;
        if (leg->desc.tracks[t].recv && src->ssrc && src->ssrc == sr.ssrc) {
            sfu_sr_translate_handle_sr(&src->sr, sr.ntp, sr.rtp_ts, now);
            src->rx.lsr = sfu_ntp_mid32(sr.ntp);
            src->rx.lsr_at = now;
        }
    }
}

/* RFC 3550 6.4.1: a viewer's report block on one of our sinks that echoes
 * our last SR gives the round trip: now - when we sent it - DLSR. Its
 * fraction lost on an audio sink sets the copies per packet. */
static void on_report_blocks(sfu_room *room, room_leg *leg, const sfu_rtcp_report_block *b, uint8_t n,
                             sfu_time now)
{
    for (uint8_t i = 0; i < n; i++) {
        room_ref ref;
        if (!find_sink(leg, b[i].ssrc, &ref))
            continue;
        room_sink *sink = sink_at(room, ref);
        /* a viewer's loss on audio sets how many copies it gets (audio_copies.h) */
        if (leg->desc.tracks[ref.track].kind == SFU_KIND_AUDIO)
            (void)sfu_audio_copies_on_report(&sink->copies, b[i].fraction_lost);
        if (!b[i].lsr)
            continue;
        if (b[i].lsr != sink->sr_mid32)
            continue;
        sfu_time rtt = now - sink->sr_at - sfu_rtcp_dlsr_to_us(b[i].dlsr);
        if (rtt >= 0 && rtt < SFU_SEC(10))
            sink->rtt = rtt > 0 ? rtt : 1;
    }
}

static void on_rr(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now)
{
    sfu_rtcp_rr rr;
    if (sfu_rtcp_rr_parse(c, &rr) < 0) {
        room->stats.drops[SFU_DROP_MALFORMED]++;
        return;
    }
    on_report_blocks(room, leg, rr.reports, rr.report_count, now);
}

static void on_nack(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out)
{
    sfu_rtcp_nack nack;
    room_ref ref;
    if (sfu_rtcp_nack_parse(c, &nack) < 0) {
        room->stats.drops[SFU_DROP_MALFORMED]++;
        return;
    }
    room->stats.nacks_received++;
    if (!find_sink(leg, nack.media_ssrc, &ref))
        return;
    sfu_sink_repair_on_nack(&sink_at(room, ref)->repair, nack.seq16, nack.count);
    /* newest first: the most useful ones when the budget runs short */
    for (uint16_t i = nack.count; i-- > 0;)
        (void)room_retransmit(room, ref, nack.seq16[i], now, out);
}

static void on_pli(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out)
{
    uint32_t sender, media;
    room_ref ref;
    if (sfu_rtcp_pli_parse(c, &sender, &media) < 0) {
        room->stats.drops[SFU_DROP_MALFORMED]++;
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
        room->stats.drops[SFU_DROP_MALFORMED]++;
        return;
    }
    for (uint8_t i = 0; i < fir.count; i++) {
        if (!find_sink(leg, fir.entries[i].ssrc, &ref))
            continue;
        room_sink *sink = sink_at(room, ref);
        if (sink->have_fir_seq && sink->last_fir_seq == fir.entries[i].seq_nr)
            continue;
        sink->have_fir_seq = true;
        sink->last_fir_seq = fir.entries[i].seq_nr;
        room->stats.firs_received++;
        room_sink_needs_keyframe(room, ref, now, out);
    }
}

static void handle_one(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out)
{
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
    /* RR (read above: round trip, audio copies), SDES, BYE, REMB, transport-cc and
     * the rest end here: they describe the viewer's own link and are never
     * forwarded. */
}

int sfu_room_handle_rtcp(sfu_room *room, sfu_leg_id from, const uint8_t *p, size_t n, sfu_time now,
                         sfu_out *out)
{
    room_leg *leg = room_find_leg(room, from);
    if (!leg)
        return -SFU_ENOTFOUND;
    room->stats.rtcp_in++;
    if (now > leg->last_alive)
        leg->last_alive = now;
    size_t off = 0;
    sfu_rtcp_common c;
    int rc;
    while ((rc = sfu_rtcp_next(p, n, &off, &c)) == 1)
        handle_one(room, leg, &c, now, out);
    if (rc < 0) {
        room->stats.drops[SFU_DROP_MALFORMED]++;
        return -SFU_EMALFORMED;
    }
    return 0;
}
