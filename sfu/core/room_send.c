/* What the room sends: each bound viewer's copy of a packet (a rewritten
 * header and VP8 descriptor in the output item, the payload referenced in
 * the shared buffer), keyframes a viewer needs (replayed from a producer's
 * cache, else asked of the publisher), retransmissions from the cache, and the RTCP the SFU generates: RR, NACK, PLI/FIR and
 * transport-cc feedback toward publishers, SR with CNAME toward viewers. */
#include "sfu/core/room_internal.h"
#include "sfu/core/rtcp_layers.h"
#include "sfu/core/rtcp_sdes_bye.h"

#include <string.h>

#define REPLAY_MAX 64
#define RR_BLOCKS_PER_PACKET 8

/* Where the viewer's transport-wide sequence number sits in an item's head,
 * -1 when the leg has no estimator or the track no such extension. */
static int tw_offset(const room_leg *vleg, const sfu_track_desc *vd, const sfu_out_item *item)
{
    sfu_rtp_hdr wh;
    uint8_t wl;
    if (!vleg->bwe || !vd->ext.twcc || sfu_rtp_parse(item->head, item->head_len, &wh) < 0)
        return -1;
    const uint8_t *w = sfu_rtp_ext_find(&wh, item->head, vd->ext.twcc, &wl);
    return w && wl == 2 ? (int)(w - item->head) : -1;
}

/* Toward a viewer whose loss shows, the same packet again (a buffer
 * reference and the head): the receiver keeps whichever arrives first and
 * its SRTP replay check drops the other, before it reads the transport-wide
 * number, so the copy carries the original's number (a number of its own
 * would always be reported lost). Copies are redundancy for random loss:
 * none while the viewer's estimator sees congestion, whose loss each extra
 * packet makes worse, where it can tell (room_bwe_copies_ok). Audio copies: audio_copies.h;
 * video copies: sink_repair.h. */
static bool copies_allowed(sfu_room *room, const room_leg *vleg, uint8_t copies, sfu_time now)
{
    if (copies < 2)
        return false;
    if (!room_bwe_copies_ok(room, vleg, now)) {
        room->stats.copies_withheld += copies - 1u;
        return false;
    }
    return true;
}

/* `copies` in all, the item included; copies_allowed said yes. */
static void send_copies(sfu_room *room, room_leg *vleg, const sfu_track_desc *vd, const sfu_out_item *item,
                        uint8_t copies, sfu_time now, sfu_out *out)
{
    int tw_off = tw_offset(vleg, vd, item);
    for (uint8_t c = 1; c < copies; c++) {
        sfu_out_item *dup = sfu_out_push(out, SFU_OUT_RTP, vleg->id);
        if (!dup) {
            room_drop(room, SFU_DROP_OUT_FULL);
            return;
        }
        memcpy(dup->head, item->head, item->head_len);
        dup->head_len = item->head_len;
        dup->buf = sfu_buf_ref(item->buf);
        dup->body_off = item->body_off;
        dup->body_len = item->body_len;
        if (tw_off >= 0)
            room_bwe_copy_sent(room, vleg, sfu_rd16(dup->head + tw_off), (size_t)dup->head_len + dup->body_len, now);
        vd->kind == SFU_KIND_AUDIO ? room->stats.audio_copies++ : room->stats.video_copies++;
        room->stats.rtp_out++;
        room->stats.rtp_out_kind[vd->kind]++;
        room->stats.bytes_out_kind[vd->kind] += (uint64_t)item->head_len + item->body_len;
    }
}

/* Copies of the video item just pushed for a sink, `copies` in all, each
 * out of the spare half of its retransmission budget: answers to NACKs come
 * first (the budget allows half a second's worth at once). */
static void send_video_copies(sfu_room *room, room_ref sink_ref, uint8_t copies, sfu_time now, sfu_out *out)
{
    room_leg *vleg = room->legs[sink_ref.slot];
    const sfu_track_desc *vd = &vleg->desc.tracks[sink_ref.track];
    sfu_consumer *c = &room_sink_at(room, sink_ref)->c;
    if (room->cfg.no_video_copies || out->count == 0 || vd->kind != SFU_KIND_VIDEO ||
        !copies_allowed(room, vleg, copies, now)) /* before the budget is taken */
        return;
    uint8_t n = 1;
    while (n < copies && c->rtx_tat <= now + SFU_MS(250) &&
           sfu_consumer_rtx_take(c, room->cfg.max_rtx_per_second, now))
        n++;
    if (n < copies)
        room_drop(room, SFU_DROP_RTX_RATE);
    if (n > 1)
        send_copies(room, vleg, vd, &out->items[out->count - 1], n, now, out);
}

/* A video packet's transport-wide number `tseq` carries its track and
 * output number in the send history, so feedback that reports it lost can
 * have it resent (room_repair_reported_lost). */
#define REPAIR_TAG 0x80000000u
#define UNASKED_MAX 64          /* packets resent per feedback */
#define OUTAGE_RUN 16           /* lost in a row: an outage (random 30 % gives it once in 10^8) */
static void tag_for_repair(room_leg *vleg, uint8_t track, uint16_t tseq, uint16_t out_seq16)
{
    uint32_t *tag = sfu_bwe_packet_tag(vleg->bwe, tseq);
    if (tag)
        *tag = REPAIR_TAG | (uint32_t)track << 16 | out_seq16;
}

void room_repair_reported_lost(sfu_room *room, room_leg *leg, const sfu_twcc_packet *pkts, size_t n,
                               sfu_time now, sfu_out *out)
{
    /* Redundancy for random loss, as copies are: none while the path shows
     * congestion, which each extra packet makes worse. */
    if (!leg->bwe || !out || !room_bwe_copies_ok(room, leg, now))
        return;
    /* An outage's losses are not resent: the viewer needs a keyframe then
     * (its PLI, the path-change request), and old packets sent ahead of it
     * only delay it (netlab blackout: video back 450-510 ms instead of
     * about 100). */
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        run = pkts[i].received ? 0 : run + 1;
        if (run >= OUTAGE_RUN)
            return;
    }
    uint16_t seqs[UNASKED_MAX], mine[UNASKED_MAX];
    uint8_t tracks[UNASKED_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n && k < UNASKED_MAX; i++) {
        if (pkts[i].received)
            continue;
        uint32_t *tag = sfu_bwe_packet_tag(leg->bwe, pkts[i].seq16);
        if (!tag || !(*tag & REPAIR_TAG))
            continue;
        unsigned t = *tag >> 16 & 0xff;
        uint16_t seq16 = (uint16_t)*tag;
        *tag = 0; /* once, whatever later feedback says */
        if (t < leg->desc.ntracks && leg->desc.tracks[t].send &&
            sfu_sink_repair_unasked_wanted(&leg->tracks[t].sink->repair, seq16)) {
            seqs[k] = seq16;
            tracks[k++] = (uint8_t)t;
        }
    }
    /* The loss estimate takes each track's packets as one NACK naming them
     * (in sending order): an outage's feedback is no evidence of random
     * loss there either. */
    for (size_t i = 0; i < k; i++) {
        if (i > 0 && memchr(tracks, tracks[i], i))
            continue; /* its track was done */
        size_t m = 0;
        for (size_t j = i; j < k; j++)
            if (tracks[j] == tracks[i])
                mine[m++] = seqs[j];
        sfu_sink_repair_on_nack(&leg->tracks[tracks[i]].sink->repair, mine, m);
    }
    for (size_t i = 0; i < k; i++)
        if (room_retransmit(room, (room_ref){ leg->slot, tracks[i] }, seqs[i], now, out) == 0)
            room->stats.rtx_unasked++;
}

/* Whether the viewer's video NACKs show heavy loss on its path (one of its
 * video sinks gets copies, sink_repair.h): its audio, on the same path,
 * gets the most copies too (audio_copies.h). */
static bool path_lossy(const room_leg *vleg)
{
    for (unsigned t = 0; t < vleg->desc.ntracks; t++)
        if (vleg->desc.tracks[t].send && vleg->desc.tracks[t].kind == SFU_KIND_VIDEO &&
            vleg->tracks[t].sink->repair.copies >= 2)
            return true;
    return false;
}

/* The sink's viewer NACKed source packet `seq` of stream `epoch`, which
 * cannot be resent: the producer's cached keyframe is the one this viewer
 * was sent last, before the packet it lacks, so only a new one helps
 * (once per break, sink_repair.h). */
static void repair_broken(sfu_room *room, room_ref sink_ref, uint32_t epoch, uint64_t seq, sfu_time now,
                          sfu_out *out)
{
    room_sink *sink = room_sink_at(room, sink_ref);
    sfu_consumer *c = &sink->c;
    if (c->waiting_keyframe || c->layer < 0 || epoch != c->epoch)
        return;
    sfu_producer *prod = room_prod_at(room, sink->src);
    if (!prod->layers[c->layer].cache || prod->layers[c->layer].epoch != epoch)
        return; /* not video, or a stream the viewer is no longer on */
    if (!sfu_sink_repair_unrecoverable(&sink->repair, epoch, seq, now))
        return;
    room->stats.repair_keyframe_requests++;
    room_request_keyframe(room, sink->src, c->layer, now, out);
}

int room_emit_rtp(sfu_room *room, room_ref sink_ref, room_ref src_ref, const sfu_media_pkt *p,
                  uint16_t out_seq16, uint32_t out_ts, bool retransmission, sfu_time now, sfu_out *out)
{
    room_leg *vleg = room->legs[sink_ref.slot];
    const sfu_track_desc *vd = &vleg->desc.tracks[sink_ref.track];
    const sfu_producer *prod = room_prod_at(room, src_ref);
    const sfu_track_desc *sd = &prod->desc;
    sfu_consumer *c = &room_sink_at(room, sink_ref)->c;
    sfu_out_item *item = sfu_out_push(out, SFU_OUT_RTP, vleg->id);
    if (!item) {
        room_drop(room, SFU_DROP_OUT_FULL);
        return -SFU_ENOSPC;
    }
    /* Extensions in the viewer's numbering. The publisher's transport-wide-cc
     * and abs-send-time describe its own link and are not forwarded; a
     * viewer with an estimator gets the leg's own transport-wide number,
     * first so that copies can rewrite it in place. */
    sfu_rtp_ext_out ext[4];
    uint8_t n = 0, len = 0, tw[2];
    bool stamp = vleg->bwe && vd->ext.twcc;
    uint16_t tseq = vleg->tw_seq16;
    if (stamp) {
        sfu_wr16(tw, tseq);
        ext[n++] = (sfu_rtp_ext_out){ vd->ext.twcc, 2, tw };
    }
    size_t mid_len = strnlen(vd->mid, SFU_MID_MAX - 1);
    if (vd->ext.mid && mid_len)
        ext[n++] = (sfu_rtp_ext_out){ vd->ext.mid, (uint8_t)mid_len, (const uint8_t *)vd->mid };
    const uint8_t *level = vd->ext.audio_level && sd->ext.audio_level
                               ? sfu_rtp_ext_find(p->hdr, p->buf->data, sd->ext.audio_level, &len) : NULL;
    if (level && len)
        ext[n++] = (sfu_rtp_ext_out){ vd->ext.audio_level, len, level };
    /* The dependency descriptor describes the frame, not the link: its bytes
     * go on as they came (an end-to-end encrypted payload leaves it the only
     * frame structure a viewer's decoder can see). */
    const uint8_t *dd = vd->ext.dd && sd->ext.dd ? sfu_rtp_ext_find(p->hdr, p->buf->data, sd->ext.dd, &len) : NULL;
    if (dd && len)
        ext[n++] = (sfu_rtp_ext_out){ vd->ext.dd, len, dd };
    bool as_rtx = retransmission && vd->rtx_pt && vd->local_rtx_ssrc;
    bool as_red = p->is_red && vd->red_pt; /* else reduced to the primary below */
    sfu_rtp_header_out h = {
        .marker = p->marker,
        .pt = as_rtx ? vd->rtx_pt : as_red ? vd->red_pt : vd->pt,
        .seq16 = as_rtx ? sfu_consumer_next_rtx_seq(c) : out_seq16,
        .ts = out_ts,
        .ssrc = as_rtx ? vd->local_rtx_ssrc : vd->local_ssrc,
        .ext_count = n,
        .ext = ext,
    };
    int hl = sfu_rtp_write_header(item->head, SFU_OUT_HEAD_MAX - 2 - SFU_VP8_MAX_DESC, &h);
    if (hl < 0) {
        out->count--; /* the item just pushed, holding nothing */
        room_drop(room, SFU_DROP_OUT_FULL);
        return hl;
    }
    size_t off = (size_t)hl;
    if (as_rtx) {
        sfu_wr16(item->head + off, out_seq16); /* RFC 4588 4: the OSN */
        off += 2;
    }
    uint16_t body_off = p->payload_off, body_len = p->payload_len;
    if (p->is_red && p->red_ok) {
        int rl = sfu_red_egress(&p->red, p->buf->data + p->payload_off, as_red, vd->pt, item->head + off,
                                SFU_OUT_HEAD_MAX - off, &body_off, &body_len);
        if (rl < 0) {
            out->count--;
            room_drop(room, SFU_DROP_OUT_FULL);
            return rl;
        }
        off += (size_t)rl;
        as_red ? room->stats.red_passed++ : room->stats.red_reduced++;
    }
    if (p->has_vp8 && vd->codec == SFU_CODEC_VP8) {
        uint16_t pid = p->vp8.picture_id;
        uint8_t tl0 = p->vp8.tl0picidx;
        sfu_consumer_map_vp8(c, &p->vp8, &pid, &tl0);
        int dl = sfu_vp8_write_desc(item->head + off, SFU_OUT_HEAD_MAX - off, &p->vp8, pid, tl0);
        if (dl >= 0) {
            off += (size_t)dl;
            body_off += p->vp8.desc_len;
            body_len -= p->vp8.desc_len;
        }
    }
    item->head_len = (uint16_t)off;
    item->buf = sfu_buf_ref(p->buf);
    item->body_off = body_off;
    item->body_len = body_len;
    room->stats.rtp_out_kind[vd->kind]++;
    room->stats.bytes_out_kind[vd->kind] += (uint64_t)off + body_len;
    bool key = p->keyframe && sfu_producer_sees_keyframes(prod);
    sfu_consumer_sent(c, retransmission, key, p->seq, (uint32_t)(off - (size_t)hl) + body_len);
    if (key && !retransmission)
        sfu_sink_repair_keyframe_sent(&room_sink_at(room, sink_ref)->repair, prod->layers[p->layer].epoch,
                                      p->seq);
    room->stats.rtp_out++;
    if (stamp) {
        vleg->tw_seq16++;
        room_bwe_sent(room, vleg, tseq, (size_t)off + body_len, now);
        if (vd->kind == SFU_KIND_VIDEO && !retransmission && !room->cfg.no_video_copies)
            tag_for_repair(vleg, sink_ref.track, tseq, out_seq16);
    }
    if (vd->kind == SFU_KIND_AUDIO && !retransmission) {
        if (path_lossy(vleg))
            sfu_audio_copies_path_lossy(&c->copies);
        if (copies_allowed(room, vleg, c->copies.copies, now))
            send_copies(room, vleg, vd, item, c->copies.copies, now, out);
    }
    return 0;
}

size_t room_send_probe_rtx(sfu_room *room, room_ref sink_ref, uint16_t back, sfu_time now, sfu_out *out)
{
    room_sink *sink = room_sink_at(room, sink_ref);
    sfu_consumer *c = &sink->c;
    if (!sink->has_src || c->waiting_keyframe || c->layer < 0 || !c->seq.started || c->seq.max_out < back)
        return 0;
    uint16_t seq16 = (uint16_t)(c->seq.max_out - back);
    sfu_producer *prod = room_prod_at(room, sink->src);
    uint32_t epoch, ts_off;
    uint64_t src_seq;
    if (sfu_consumer_unmap(c, seq16, &epoch, &src_seq, &ts_off) < 0)
        return 0;
    int layer = sfu_producer_layer_of_epoch(prod, epoch);
    if (layer < 0 || !prod->layers[layer].cache || !sfu_consumer_rtx_useful(c, epoch, src_seq))
        return 0;
    sfu_rtp_hdr h;
    sfu_media_pkt p;
    if (sfu_producer_cached(prod, layer, src_seq, now, &h, &p) < 0 ||
        (p.has_vp8 && !sfu_consumer_tid_wanted(c, &p.vp8)))
        return 0;
    size_t before = out->count;
    if (room_emit_rtp(room, sink_ref, sink->src, &p, seq16,
                      sfu_consumer_squeeze(c, epoch, src_seq, p.ts + ts_off), true, now, out) < 0 ||
        out->count == before)
        return 0;
    const sfu_out_item *item = &out->items[out->count - 1];
    size_t bytes = (size_t)item->head_len + item->body_len;
    room->stats.probe_packets++;
    room->stats.probe_bytes += bytes;
    return bytes;
}

/* One padding-only packet of `pad` bytes on the sink's RTX SSRC. */
bool room_send_padding(sfu_room *room, room_leg *leg, unsigned t, size_t pad, sfu_time now, sfu_out *out)
{
    const sfu_track_desc *d = &leg->desc.tracks[t];
    sfu_consumer *c = &leg->tracks[t].sink->c;
    sfu_out_item *item = sfu_out_push(out, SFU_OUT_RTP, leg->id);
    if (!item) {
        room_drop(room, SFU_DROP_OUT_FULL);
        return false;
    }
    uint8_t tw[2];
    uint16_t tseq = leg->tw_seq16++;
    sfu_wr16(tw, tseq);
    sfu_rtp_ext_out ext[2];
    uint8_t n = 0;
    ext[n++] = (sfu_rtp_ext_out){ d->ext.twcc, 2, tw };
    size_t mid_len = strnlen(d->mid, SFU_MID_MAX - 1);
    if (d->ext.mid && mid_len)
        ext[n++] = (sfu_rtp_ext_out){ d->ext.mid, (uint8_t)mid_len, (const uint8_t *)d->mid };
    sfu_rtp_header_out h = {
        .pt = d->rtx_pt,
        .seq16 = sfu_consumer_next_rtx_seq(c),
        .ts = 0,
        .ssrc = d->local_rtx_ssrc,
        .ext_count = n,
        .ext = ext,
    };
    int hl = sfu_rtp_write_header(item->head, SFU_OUT_HEAD_MAX - ROOM_PROBE_PAD_MAX, &h);
    if (hl < 0) {
        out->count--;
        room_drop(room, SFU_DROP_OUT_FULL);
        return false;
    }
    item->head[0] |= 0x20; /* P: the payload is all padding, its last byte the count */
    memset(item->head + hl, 0, pad - 1);
    item->head[hl + pad - 1] = (uint8_t)pad;
    item->head_len = (uint16_t)(hl + pad);
    room->stats.rtp_out++;
    room->stats.probe_packets++;
    room->stats.probe_bytes += item->head_len;
    room_bwe_sent(room, leg, tseq, item->head_len, now);
    return true;
}

bool room_replay_keyframe(sfu_room *room, room_ref sink_ref, sfu_time now, sfu_out *out)
{
    room_sink *sink = room_sink_at(room, sink_ref);
    if (!out || !sink->has_src || sink->c.layer < 0)
        return false;
    sfu_consumer *c = &sink->c;
    room_ref src_ref = sink->src;
    sfu_producer *prod = room_prod_at(room, src_ref);
    int layer = c->layer;
    uint32_t epoch = prod->layers[layer].epoch;
    uint64_t from, to;
    uint32_t anchor_src_ts;
    if (!sfu_producer_replay_range(prod, layer, now, &from, &to, &anchor_src_ts) ||
        !sfu_consumer_replay_wanted(c, epoch, from, now))
        return false;
    bool join = c->waiting_keyframe;
    uint64_t sent = 0;
    for (uint64_t q = from; q <= to; q++) {
        sfu_rtp_hdr h;
        sfu_media_pkt p;
        uint16_t o;
        uint32_t ts;
        if (sfu_producer_cached(prod, layer, q, now, &h, &p) < 0)
            continue;
        if (p.has_vp8 && !(join ? sfu_consumer_temporal_pass(c, &p.vp8) : sfu_consumer_tid_wanted(c, &p.vp8))) {
            if (join && c->squeezed)
                sfu_consumer_drop(c, epoch, q, &p.vp8); /* a temporal layer it does not get */
            continue;
        }
        if (sfu_consumer_map(c, epoch, q, p.ts, now, &o, &ts) < 0) {
            if (q == from)
                return false; /* before what the viewer's mapping covers */
            continue;
        }
        if (join && q == from) {
            sfu_consumer_replay_join(c, from, to, p.ts, ts, anchor_src_ts);
            ts = sfu_consumer_squeeze(c, epoch, q, ts);
        } else if (join && !c->squeezed) {
            continue; /* the keyframe itself could not be mapped */
        }
        if (room_emit_rtp(room, sink_ref, src_ref, &p, o, ts, !join, now, out) == 0) {
            sent++;
            if (join)
                room->stats.forwarded++;
            else
                room->stats.retransmitted++;
        }
    }
    if (join && c->waiting_keyframe)
        return false;
    if (!join)
        sfu_consumer_replay_done(c, from, now);
    room->stats.keyframe_replays++;
    room->stats.keyframe_replay_packets += sent;
    return true;
}

/* Packets newer than the keyframe that reached the SFU before it (reordering)
 * were skipped while the sink waited: send them now, from the cache, so the
 * viewer's first frame is whole without a NACK round trip. */
static void replay_after_keyframe(sfu_room *room, room_ref sink_ref, room_ref src_ref, const sfu_media_pkt *key,
                                  sfu_time now, sfu_out *out)
{
    sfu_producer *prod = room_prod_at(room, src_ref);
    sfu_consumer *c = &room_sink_at(room, sink_ref)->c;
    const sfu_producer_layer *l = &prod->layers[key->layer];
    uint64_t last = l->unwrap.highest;
    if (!l->cache || last <= key->seq)
        return;
    if (last - key->seq > REPLAY_MAX)
        last = key->seq + REPLAY_MAX;
    for (uint64_t q = key->seq + 1; q <= last; q++) {
        sfu_rtp_hdr h;
        sfu_media_pkt p;
        uint16_t o;
        uint32_t ts;
        if (sfu_producer_cached(prod, key->layer, q, now, &h, &p) < 0)
            continue;
        if (p.has_vp8 && !sfu_consumer_temporal_pass(c, &p.vp8)) {
            sfu_consumer_drop(c, l->epoch, q, &p.vp8);
            continue;
        }
        if (sfu_consumer_map(c, l->epoch, q, p.ts, now, &o, &ts) == 0 &&
            room_emit_rtp(room, sink_ref, src_ref, &p, o, ts, false, now, out) == 0)
            room->stats.forwarded++;
    }
}

/* What a copy for sink `r` will touch: its consumer, its track's
 * description, its leg's estimator. Each is a first touch per wake-up (the
 * idle time between inputs leaves them cold), and the per-copy work is too
 * long for the processor to reach the next viewer's loads by itself: asked
 * for all viewers up front, the misses overlap instead of coming one at a
 * time. A hint only. */
static void prefetch_sink(const sfu_room *room, room_ref r, sfu_time now)
{
    const room_leg *vleg = room->legs[r.slot];
    const sfu_consumer *c = &vleg->tracks[r.track].sink->c;
    __builtin_prefetch(c, 1);
    __builtin_prefetch(&c->seq, 1);
    __builtin_prefetch(&c->seq.hist[c->seq.head % SFU_SEQ_HISTORY]);
    __builtin_prefetch(&c->vp8, 1);
    __builtin_prefetch(&vleg->desc.tracks[r.track]);
    if (vleg->bwe)
        sfu_bwe_prefetch(vleg->bwe, vleg->tw_seq16, now);
}

void room_fan_out(sfu_room *room, room_ref src_ref, const sfu_media_pkt *p, sfu_time now, sfu_out *out)
{
    const room_leg *leg = room->legs[src_ref.slot];
    uint32_t start = leg->fanout_start[src_ref.track], count = leg->fanout_count[src_ref.track];
    uint32_t epoch = room_prod_at(room, src_ref)->layers[p->layer].epoch;
    for (uint32_t i = 0; i < count; i++)
        prefetch_sink(room, room->fanout[start + i], now);
    for (uint32_t i = 0; i < count; i++) {
        room_ref r = room->fanout[start + i];
        sfu_consumer *c = &room_sink_at(room, r)->c;
        sfu_consumer_gate g = sfu_consumer_gate_packet(c, p->layer, epoch, p->keyframe);
        if (g == SFU_CONSUMER_SKIP)
            continue;
        if (g == SFU_CONSUMER_DRAIN) {
            /* held back until a switch: out of the viewer's numbering */
            if (p->has_vp8)
                sfu_consumer_drop(c, epoch, p->seq, &p->vp8);
            else
                sfu_consumer_skip(c, epoch, p->seq);
            if (c->draining)
                room->stats.drained++; /* not a paused relay layer's (rtcp_layers.h) */
            continue;
        }
        if (p->has_vp8 && !sfu_consumer_temporal_pass(c, &p->vp8)) {
            sfu_consumer_drop(c, epoch, p->seq, &p->vp8); /* a temporal layer it does not get */
            continue;
        }
        uint16_t o;
        uint32_t ts;
        if (sfu_consumer_map(c, epoch, p->seq, p->ts, now, &o, &ts) < 0) {
            room_drop(room, SFU_DROP_TOO_OLD);
            continue;
        }
        if (room_emit_rtp(room, r, src_ref, p, o, ts, false, now, out) == 0) {
            room->stats.forwarded++;
            send_video_copies(room, r, sfu_sink_repair_on_forward(&room_sink_at(room, r)->repair, o), now,
                              out);
            if (p->marker && room->legs[r.slot]->bwe && room_desc_at(room, r)->kind == SFU_KIND_VIDEO)
                room_bwe_after_frame(room, room->legs[r.slot], now, out);
        }
        if (g == SFU_CONSUMER_STARTED)
            replay_after_keyframe(room, r, src_ref, p, now, out);
    }
}

int room_retransmit(sfu_room *room, room_ref sink_ref, uint16_t seq16, sfu_time now, sfu_out *out)
{
    room_sink *sink = room_sink_at(room, sink_ref);
    if (!sink->has_src)
        return -SFU_ENOTFOUND;
    sfu_consumer *c = &sink->c;
    sfu_producer *prod = room_prod_at(room, sink->src);
    uint32_t epoch, ts_off;
    uint64_t src_seq;
    int layer = sfu_consumer_unmap(c, seq16, &epoch, &src_seq, &ts_off) == 0
                    ? sfu_producer_layer_of_epoch(prod, epoch) : -1;
    bool mapped = layer >= 0 && prod->layers[layer].cache;
    if (mapped && !sfu_consumer_rtx_useful(c, epoch, src_seq)) {
        room_drop(room, SFU_DROP_RTX_USELESS); /* the viewer decodes from the keyframe after it */
        return -SFU_ELIMIT;
    }
    sfu_rtp_hdr h;
    sfu_media_pkt p;
    int rc = mapped ? sfu_producer_cached(prod, layer, src_seq, now, &h, &p) : -SFU_ENOTFOUND;
    if (rc == 0 && sfu_producer_cached_age(prod, layer, src_seq, now) > sfu_consumer_rtx_window(c)) {
        room_drop(room, SFU_DROP_RTX_USELESS); /* it would arrive after its playout */
        repair_broken(room, sink_ref, epoch, src_seq, now, out);
        return -SFU_ELIMIT;
    }
    if (rc < 0) {
        room->stats.rtx_missed++;
        /* gone from the cache, not still on its way from the publisher */
        if (mapped && !sfu_nack_gen_is_missing(&prod->layers[layer].nack, src_seq))
            repair_broken(room, sink_ref, epoch, src_seq, now, out);
        return -SFU_ENOTFOUND;
    }
    if (p.has_vp8 && !sfu_consumer_tid_wanted(c, &p.vp8)) {
        room_drop(room, SFU_DROP_RTX_USELESS); /* a temporal layer it does not get */
        return -SFU_ELIMIT;
    }
    if (sink->c.draining && epoch == c->epoch) {
        room_drop(room, SFU_DROP_RTX_USELESS); /* a layer held back: the viewer switches at the next keyframe */
        return -SFU_ELIMIT;
    }
    if (!sfu_consumer_rtx_take(c, room->cfg.max_rtx_per_second, now)) {
        room_drop(room, SFU_DROP_RTX_RATE);
        return -SFU_ELIMIT;
    }
    rc = room_emit_rtp(room, sink_ref, sink->src, &p, seq16,
                       sfu_consumer_squeeze(c, epoch, src_seq, p.ts + ts_off), true, now, out);
    if (rc == 0) {
        room->stats.retransmitted++;
        send_video_copies(room, sink_ref, sfu_sink_repair_rtx_copies(&sink->repair), now, out);
    }
    return rc;
}

void room_request_keyframe(sfu_room *room, room_ref ref, int layer, sfu_time now, sfu_out *out)
{
    room_leg_touch(room, room->legs[ref.slot]);    /* the producer's keyframe timer */
    sfu_producer *prod = room_prod_at(room, ref);
    if (!out) {
        sfu_producer_defer_keyframe(prod, layer);
        return;
    }
    if (sfu_producer_want_keyframe(prod, layer, now))
        room_send_keyframe_request(room, ref, layer, out);
}

void room_sink_needs_keyframe(sfu_room *room, room_ref sink_ref, sfu_time now, sfu_out *out)
{
    room_sink *sink = room_sink_at(room, sink_ref);
    if (!sink->has_src || sink->c.layer < 0)
        return;
    /* The layer the viewer receives, or the one it is about to: a switch's
     * keyframe serves its PLI too. */
    int layer = sfu_consumer_switch_pending(&sink->c) ? sink->c.target : sink->c.layer;
    if (sink->c.draining) {
        /* a replay would be of the layer held back, whose bytes are the problem */
        room_request_keyframe(room, sink->src, layer, now, out);
        return;
    }
    if (!out) {
        /* handle_timeout serves it (from the cache, or by asking) */
        room_leg_touch(room, room->legs[sink->src.slot]);
        sfu_producer_defer_keyframe(room_prod_at(room, sink->src), layer);
        return;
    }
    if (room_replay_keyframe(room, sink_ref, now, out))
        return;
    room_request_keyframe(room, sink->src, layer, now, out);
}

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

void room_send_keyframe_request(sfu_room *room, room_ref ref, int layer, sfu_out *out)
{
    room_leg *leg = room->legs[ref.slot];
    room_leg_touch(room, leg);
    sfu_producer *prod = leg->tracks[ref.track].prod;
    if (!prod->desc.fb_pli && !prod->desc.fb_fir)
        return;
    sfu_out_item *item = rtcp_item(room, leg, true, out);
    if (!item)
        return;
    bool fir;
    int n = sfu_producer_build_keyframe_request(prod, layer, leg->desc.rtcp_ssrc, item->head + item->head_len,
                                                room_left(item), &fir);
    if (n <= 0) {
        unpush(room, out);
        return;
    }
    fir ? room->stats.firs_sent++ : room->stats.plis_sent++;
    item->head_len += (uint16_t)n;
}

void room_send_nacks(sfu_room *room, room_ref ref, int layer, sfu_time now, sfu_out *out)
{
    room_leg *leg = room->legs[ref.slot];
    room_leg_touch(room, leg);
    sfu_producer *prod = leg->tracks[ref.track].prod;
    /* Built first, so a layer with nothing due costs no item. */
    uint8_t buf[SFU_OUT_HEAD_MAX];
    int len = sfu_producer_build_nack(prod, layer, leg->desc.rtcp_ssrc, now, buf, sizeof buf);
    if (len <= 0)
        return;
    sfu_out_item *item = rtcp_item(room, leg, true, out);
    if (!item)
        return;
    if ((size_t)len > room_left(item)) {
        unpush(room, out);
        return;
    }
    memcpy(item->head + item->head_len, buf, (size_t)len);
    item->head_len += (uint16_t)len;
    room->stats.nacks_sent++;
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
    room_sink *sink = leg->tracks[t].sink;
    sfu_consumer *c = &sink->c;
    if (!sink->has_src || c->packets == 0 || c->layer < 0)
        return;
    sfu_producer *prod = room_prod_at(room, sink->src);
    sfu_rtcp_sr sr = { .ssrc = d->local_ssrc, .packet_count = c->packets, .octet_count = c->octets };
    if (c->seq.epoch != prod->layers[c->layer].epoch ||
        sfu_producer_sr_get(prod, c->layer, now, sfu_seq_ts_off(&c->seq), &sr.ntp, &sr.rtp_ts) < 0)
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
    sfu_consumer_sr_sent(c, sr.ntp, now);
}

/* Relay legs: the layers of each simulcast source this node's viewers
 * need, to the serving node (rtcp_layers.h). */
static void send_layers(sfu_room *room, room_leg *leg, sfu_out *out)
{
    sfu_rtcp_layer_want w[SFU_RTCP_LAYERS_MAX];
    unsigned n = 0;
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const sfu_producer *prod = leg->tracks[t].prod;
        if (!prod || prod->nlayers < 2)
            continue;
        unsigned want = room_layers_wanted(room, (room_ref){ leg->slot, (uint8_t)t });
        for (unsigned l = 0; l < prod->nlayers && n < SFU_RTCP_LAYERS_MAX; l++)
            if (prod->layers[l].ssrc)
                w[n++] = (sfu_rtcp_layer_want){ prod->layers[l].ssrc, (want >> l) & 1 };
    }
    if (n == 0)
        return;
    sfu_out_item *item = rtcp_item(room, leg, true, out);
    if (!item)
        return;
    int len = sfu_rtcp_layers_build(item->head + item->head_len, room_left(item), leg->desc.rtcp_ssrc, w, n);
    if (len <= 0) {
        unpush(room, out);
        return;
    }
    item->head_len += (uint16_t)len;
}

void room_send_reports(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out)
{
    if (leg->desc.layer_feedback)
        send_layers(room, leg, out);
    sfu_rtcp_rr rr = { .ssrc = leg->desc.rtcp_ssrc };
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        if (leg->desc.tracks[t].send)
            send_sr(room, leg, t, now, out);
        sfu_producer *prod = leg->tracks[t].prod;
        for (unsigned l = 0; prod && l < prod->nlayers; l++) {
            if (!sfu_producer_report_block(prod, (int)l, now, &rr.reports[rr.report_count]))
                continue;
            if (++rr.report_count == RR_BLOCKS_PER_PACKET) {
                send_rr(room, leg, &rr, out);
                rr.report_count = 0;
            }
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
    if (leg->ntwcc >= ROOM_TWCC_MAX / 2 && leg->next_twcc_at > now)
        leg->next_twcc_at = now;
}

sfu_time room_twcc_interval(const room_leg *leg)
{
    uint64_t bps = 0;
    for (unsigned t = 0; t < leg->desc.ntracks; t++)
        if (leg->tracks[t].prod)
            bps += sfu_producer_bitrate(leg->tracks[t].prod);
    /* Unknown for the first second: the default until it is. */
    if (bps == 0)
        return ROOM_TWCC_INTERVAL;
    uint64_t iv = (uint64_t)ROOM_TWCC_FB_BITS * ROOM_TWCC_RATE_SHARE * SFU_SEC(1) / bps;
    if (iv < (uint64_t)ROOM_TWCC_INTERVAL)
        return ROOM_TWCC_INTERVAL;
    return iv > (uint64_t)ROOM_TWCC_INTERVAL_MAX ? ROOM_TWCC_INTERVAL_MAX : (sfu_time)iv;
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
