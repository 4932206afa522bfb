/* The packet path: demultiplex a leg's RTP to a source (RFC 8843 9.2),
 * unwrap RTX (RFC 4588 4), and write each bound viewer's copy: a rewritten
 * header (and VP8 descriptor) in the output item, the payload referenced in
 * the shared buffer. Answers viewers' NACKs from the source's cache. */
#include "sfu/core/audio_level.h"
#include "sfu/core/h264.h"
#include "sfu/core/room_internal.h"

#include <string.h>

#define REPLAY_MAX 64

static void drop(sfu_room *room, sfu_drop_reason why) { room->stats.drops[why]++; }

/* The recv track whose mid (with that m-line's own extension id) matches. */
static int find_by_mid(const room_leg *leg, const sfu_rtp_hdr *h, const uint8_t *pkt, bool *found_mid)
{
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const sfu_track_desc *d = &leg->desc.tracks[t];
        uint8_t len = 0;
        const uint8_t *mid = d->recv && d->ext.mid ? sfu_rtp_ext_find(h, pkt, d->ext.mid, &len) : NULL;
        if (!mid || len == 0)
            continue;
        *found_mid = true;
        for (unsigned u = 0; u < leg->desc.ntracks; u++) {
            const sfu_track_desc *e = &leg->desc.tracks[u];
            if (e->recv && e->ext.mid == d->ext.mid && strnlen(e->mid, SFU_MID_MAX) == len &&
                memcmp(e->mid, mid, len) == 0)
                return (int)u;
        }
    }
    return -1;
}

/* Without a mid extension: the one recv track this payload type belongs to. */
static int find_by_pt(const room_leg *leg, uint8_t pt)
{
    int found = -1;
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const sfu_track_desc *d = &leg->desc.tracks[t];
        if (!d->recv)
            continue;
        if (d->ext.mid)
            return -1;
        if (d->pt == pt || (d->rtx_pt && d->rtx_pt == pt) || (d->red_pt && d->red_pt == pt)) {
            if (found >= 0)
                return -1;
            found = (int)t;
        }
    }
    return found;
}

/* Learns a new SSRC for track t. A different media SSRC on a track that
 * had one is a new stream: its viewers restart on a keyframe. */
static void learn(sfu_room *room, room_leg *leg, unsigned t, uint32_t ssrc, bool is_rtx,
                  sfu_time now, sfu_out *out)
{
    room_source *src = &leg->tracks[t].src;
    if (is_rtx) {
        src->rtx_ssrc = ssrc;
    } else if (!src->ssrc) {
        src->ssrc = ssrc;
    } else if (src->ssrc != ssrc) {
        room_source_set_ssrc(room, src, ssrc);
        room_rebind(room, now, out);
    }
}

/* Returns the track index or -1; RTX by payload type or repaired-rid. */
static int classify(sfu_room *room, room_leg *leg, const sfu_rtp_hdr *h, const uint8_t *pkt,
                    bool *is_rtx, sfu_time now, sfu_out *out)
{
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const room_source *src = &leg->tracks[t].src;
        if (!leg->desc.tracks[t].recv)
            continue;
        if (src->ssrc && src->ssrc == h->ssrc) {
            *is_rtx = false;
            return (int)t;
        }
        if (src->rtx_ssrc && src->rtx_ssrc == h->ssrc) {
            *is_rtx = true;
            return (int)t;
        }
    }
    bool found_mid = false;
    int t = find_by_mid(leg, h, pkt, &found_mid);
    if (t < 0 && !found_mid)
        t = find_by_pt(leg, h->pt);
    if (t < 0)
        return -1;
    const sfu_track_desc *d = &leg->desc.tracks[t];
    uint8_t len;
    *is_rtx = (d->rtx_pt && h->pt == d->rtx_pt && d->rtx_pt != d->pt) ||
              (d->ext.repaired_rid && sfu_rtp_ext_find(h, pkt, d->ext.repaired_rid, &len));
    learn(room, leg, (unsigned)t, h->ssrc, *is_rtx, now, out);
    return t;
}

static bool over_rate(sfu_room *room, room_leg *leg, size_t bytes, sfu_time now)
{
    if (room->cfg.max_publish_bps == 0)
        return false;
    if (now - leg->rate_window_at >= SFU_SEC(1)) {
        leg->rate_window_at = now;
        leg->rate_window_bytes = 0;
    }
    leg->rate_window_bytes += bytes;
    return leg->rate_window_bytes * 8 > room->cfg.max_publish_bps;
}

bool room_sees_keyframes(const sfu_track_desc *d)
{
    return d->kind == SFU_KIND_VIDEO && (d->codec == SFU_CODEC_VP8 || d->codec == SFU_CODEC_H264);
}

static void inspect_payload(const sfu_track_desc *d, room_pkt *p)
{
    const uint8_t *payload = p->buf->data + p->payload_off;
    p->keyframe = true; /* audio, and codecs we cannot look into: no gating */
    p->is_red = d->red_pt && p->hdr->pt == d->red_pt;
    if (p->is_red)
        p->red_ok = sfu_red_parse(payload, p->payload_len, &p->red) == 0 &&
                    sfu_red_is_single_codec(&p->red, d->pt);
    if (d->codec == SFU_CODEC_VP8) {
        p->has_vp8 = sfu_vp8_parse(payload, p->payload_len, &p->vp8) == 0;
        p->keyframe = p->has_vp8 && p->vp8.keyframe;
    } else if (d->codec == SFU_CODEC_H264) {
        sfu_h264_info info;
        p->keyframe = sfu_h264_parse(payload, p->payload_len, &info) == 0 && sfu_h264_is_keyframe(&info);
    }
}

/* Toward a viewer whose reports show loss, the same packet again (a buffer
 * reference and the head; see audio_copies.h). */
static void send_copies(sfu_room *room, const room_leg *vleg, const sfu_out_item *item, uint8_t copies,
                        sfu_out *out)
{
    for (uint8_t c = 1; c < copies; c++) {
        sfu_out_item *dup = sfu_out_push(out, SFU_OUT_RTP, vleg->id);
        if (!dup) {
            drop(room, SFU_DROP_OUT_FULL);
            return;
        }
        memcpy(dup->head, item->head, item->head_len);
        dup->head_len = item->head_len;
        dup->buf = sfu_buf_ref(item->buf);
        dup->body_off = item->body_off;
        dup->body_len = item->body_len;
        room->stats.audio_copies++;
        room->stats.rtp_out++;
        room->stats.rtp_out_kind[SFU_KIND_AUDIO]++;
        room->stats.bytes_out_kind[SFU_KIND_AUDIO] += (uint64_t)item->head_len + item->body_len;
    }
}

int room_emit_rtp(sfu_room *room, room_ref sink_ref, room_ref src_ref, const room_pkt *p,
                  uint16_t out_seq16, uint32_t out_ts, bool retransmission, sfu_out *out)
{
    room_leg *vleg = room->legs[sink_ref.slot];
    const sfu_track_desc *vd = &vleg->desc.tracks[sink_ref.track];
    const sfu_track_desc *sd = room_desc_at(room, src_ref);
    room_sink *sink = &vleg->tracks[sink_ref.track].sink;
    sfu_out_item *item = sfu_out_push(out, SFU_OUT_RTP, vleg->id);
    if (!item) {
        drop(room, SFU_DROP_OUT_FULL);
        return -SFU_ENOSPC;
    }
    /* Extensions in the viewer's numbering; transport-wide-cc and
     * abs-send-time describe the publisher's link and are not forwarded. */
    sfu_rtp_ext_out ext[2];
    uint8_t n = 0, len = 0;
    size_t mid_len = strnlen(vd->mid, SFU_MID_MAX - 1);
    if (vd->ext.mid && mid_len)
        ext[n++] = (sfu_rtp_ext_out){ vd->ext.mid, (uint8_t)mid_len, (const uint8_t *)vd->mid };
    const uint8_t *level = vd->ext.audio_level && sd->ext.audio_level
                               ? sfu_rtp_ext_find(p->hdr, p->buf->data, sd->ext.audio_level, &len) : NULL;
    if (level && len)
        ext[n++] = (sfu_rtp_ext_out){ vd->ext.audio_level, len, level };
    bool as_rtx = retransmission && vd->rtx_pt && vd->local_rtx_ssrc;
    bool as_red = p->is_red && vd->red_pt; /* else reduced to the primary below */
    sfu_rtp_header_out h = {
        .marker = p->marker,
        .pt = as_rtx ? vd->rtx_pt : as_red ? vd->red_pt : vd->pt,
        .seq16 = as_rtx ? sink->rtx_seq16++ : out_seq16,
        .ts = out_ts,
        .ssrc = as_rtx ? vd->local_rtx_ssrc : vd->local_ssrc,
        .ext_count = n,
        .ext = ext,
    };
    int hl = sfu_rtp_write_header(item->head, SFU_OUT_HEAD_MAX - 2 - SFU_VP8_MAX_DESC, &h);
    if (hl < 0) {
        out->count--; /* the item just pushed, holding nothing */
        drop(room, SFU_DROP_OUT_FULL);
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
            drop(room, SFU_DROP_OUT_FULL);
            return rl;
        }
        off += (size_t)rl;
        as_red ? room->stats.red_passed++ : room->stats.red_reduced++;
    }
    if (p->has_vp8 && vd->codec == SFU_CODEC_VP8) {
        uint16_t pid = p->vp8.picture_id;
        uint8_t tl0 = p->vp8.tl0picidx;
        sfu_vp8_rewriter_map(&sink->vp8, &p->vp8, sink->vp8_restart, &pid, &tl0);
        sink->vp8_restart = false;
        int dl = sfu_vp8_write_desc(item->head + off, SFU_OUT_HEAD_MAX - off, &p->vp8, pid, tl0);
        if (dl >= 0) {
            off += (size_t)dl;
            body_off += p->vp8.desc_len;
            body_len -= p->vp8.desc_len;
        }
    }
    if (!retransmission && p->keyframe && room_sees_keyframes(sd)) {
        sink->have_key = true;
        sink->key_seq = p->seq;
        sfu_sink_repair_keyframe_sent(&sink->repair, room_src_at(room, src_ref)->epoch, p->seq);
    }
    item->head_len = (uint16_t)off;
    item->buf = sfu_buf_ref(p->buf);
    item->body_off = body_off;
    item->body_len = body_len;
    room->stats.rtp_out_kind[vd->kind]++;
    room->stats.bytes_out_kind[vd->kind] += (uint64_t)off + body_len;
    if (!retransmission) {
        sink->packets++;
        sink->octets += (uint32_t)(off - (size_t)hl) + body_len;
    }
    room->stats.rtp_out++;
    if (vd->kind == SFU_KIND_AUDIO && !retransmission)
        send_copies(room, vleg, item, sink->copies.copies, out);
    return 0;
}

/* Re-reads a cached packet (RTX unwrapped again when it came as one). */
static int pkt_from_cache(const room_source *src, const sfu_track_desc *d, sfu_buf *buf,
                          sfu_rtp_hdr *h, room_pkt *p)
{
    if (sfu_rtp_parse(buf->data, buf->len, h) < 0)
        return -SFU_EMALFORMED;
    *p = (room_pkt){ .buf = buf, .hdr = h, .seq16 = h->seq16, .ts = h->ts, .marker = h->marker,
                     .payload_off = h->payload_off, .payload_len = h->payload_len };
    bool rtx = (src->rtx_ssrc && h->ssrc == src->rtx_ssrc) ||
               (d->rtx_pt && h->pt == d->rtx_pt && d->rtx_pt != d->pt);
    if (rtx) {
        if (sfu_rtx_unwrap_osn(h, buf->data, &p->seq16) < 0)
            return -SFU_EMALFORMED;
        p->payload_off += 2;
        p->payload_len -= 2;
    }
    inspect_payload(d, p);
    return 0;
}

/* The timestamp a sink sends source packet `seq` with, given what its
 * mapping says (`ts`): squeezed when the packet was part of its join replay. */
static uint32_t sink_ts(const room_sink *sink, uint64_t seq, uint32_t ts)
{
    if (sink->squeezed && seq <= sink->sq_to && seq >= sink->sq_from)
        return sfu_keyframe_cache_squeeze(ts, sink->sq_anchor_ts);
    return ts;
}

/* The RTP timestamp of the newest cached packet in [from, to]. */
static bool newest_cached_ts(const room_source *src, uint64_t from, uint64_t to, sfu_time now,
                             uint32_t *ts)
{
    for (uint64_t q = to + 1; q-- > from;) {
        sfu_buf *buf = sfu_rtx_cache_get(src->cache, q, now);
        sfu_rtp_hdr h;
        if (buf && sfu_rtp_parse(buf->data, buf->len, &h) == 0) {
            *ts = h.ts;
            return true;
        }
    }
    return false;
}

static int pkt_from_cache(const room_source *src, const sfu_track_desc *d, sfu_buf *buf,
                          sfu_rtp_hdr *h, room_pkt *p);

bool room_replay_keyframe(sfu_room *room, room_ref sink_ref, sfu_time now, sfu_out *out)
{
    room_sink *sink = &room->legs[sink_ref.slot]->tracks[sink_ref.track].sink;
    if (!out || !sink->has_src)
        return false;
    room_ref src_ref = sink->src;
    room_source *src = room_src_at(room, src_ref);
    const sfu_track_desc *sd = room_desc_at(room, src_ref);
    uint64_t from, to = src->unwrap.highest;
    uint32_t anchor_src_ts;
    if (!src->cache || !sfu_keyframe_cache_range(&src->kcache, to, now, &from) ||
        !sfu_rtx_cache_get(src->cache, from, now) || !newest_cached_ts(src, from, to, now, &anchor_src_ts))
        return false;
    bool join = sink->waiting_keyframe;
    if (!join && sink->replayed && sink->replayed_key == from && now - sink->replayed_at < ROOM_REPLAY_REPEAT)
        return false; /* the same replay did not help: the publisher is asked */
    if (!join && (sink->seq.epoch != src->epoch || !sink->seq.started))
        return false;
    uint64_t sent = 0;
    for (uint64_t q = from; q <= to; q++) {
        sfu_buf *buf = sfu_rtx_cache_get(src->cache, q, now);
        sfu_rtp_hdr h;
        room_pkt p;
        uint16_t o;
        uint32_t ts;
        if (!buf || pkt_from_cache(src, sd, buf, &h, &p) < 0)
            continue;
        p.seq = q;
        if (sfu_seq_map(&sink->seq, src->epoch, q, p.ts, now, &o, &ts) < 0) {
            if (q == from)
                return false; /* before what the viewer's mapping covers */
            continue;
        }
        if (join && q == from) {
            /* The mapping starts here: the newest replayed packet's out
             * timestamp anchors the squeeze. */
            sink->waiting_keyframe = false;
            sink->squeezed = true;
            sink->sq_from = from;
            sink->sq_to = to;
            sink->sq_anchor_ts = anchor_src_ts + (ts - p.ts);
        } else if (join && !sink->squeezed) {
            continue; /* the keyframe itself could not be mapped */
        }
        ts = sink_ts(sink, q, ts);
        if (room_emit_rtp(room, sink_ref, src_ref, &p, o, ts, !join, out) == 0) {
            sent++;
            if (join)
                room->stats.forwarded++;
            else
                room->stats.retransmitted++;
        }
    }
    if (join && sink->waiting_keyframe)
        return false;
    if (!join) {
        sink->replayed = true;
        sink->replayed_key = from;
        sink->replayed_at = now;
        sink->have_key = true;
        sink->key_seq = from;
    }
    room->stats.keyframe_replays++;
    room->stats.keyframe_replay_packets += sent;
    return true;
}

/* Packets newer than the keyframe that reached the SFU before it (reordering)
 * were skipped while the sink waited: send them now, from the cache, so the
 * viewer's first frame is whole without a NACK round trip. */
static void replay_after_keyframe(sfu_room *room, room_ref sink_ref, room_ref src_ref, uint64_t key_seq,
                                  sfu_time now, sfu_out *out)
{
    room_source *src = room_src_at(room, src_ref);
    room_sink *sink = &room->legs[sink_ref.slot]->tracks[sink_ref.track].sink;
    uint64_t last = src->unwrap.highest;
    if (!src->cache || last <= key_seq)
        return;
    if (last - key_seq > REPLAY_MAX)
        last = key_seq + REPLAY_MAX;
    for (uint64_t q = key_seq + 1; q <= last; q++) {
        sfu_buf *buf = sfu_rtx_cache_get(src->cache, q, now);
        sfu_rtp_hdr h;
        room_pkt p;
        uint16_t o;
        uint32_t ts;
        if (!buf || pkt_from_cache(src, room_desc_at(room, src_ref), buf, &h, &p) < 0)
            continue;
        p.seq = q;
        if (sfu_seq_map(&sink->seq, src->epoch, q, p.ts, now, &o, &ts) == 0 &&
            room_emit_rtp(room, sink_ref, src_ref, &p, o, sink_ts(sink, q, ts), false, out) == 0)
            room->stats.forwarded++;
    }
}

static void fan_out(sfu_room *room, room_ref src_ref, const room_pkt *p, sfu_time now, sfu_out *out)
{
    room_source *src = room_src_at(room, src_ref);
    for (uint32_t i = 0; i < src->fanout_count; i++) {
        room_ref r = room->fanout[src->fanout_start + i];
        room_sink *sink = &room->legs[r.slot]->tracks[r.track].sink;
        bool unblocked = false;
        if (sink->waiting_keyframe) {
            if (!p->keyframe)
                continue;
            sink->waiting_keyframe = false;
            unblocked = true;
        }
        uint16_t o;
        uint32_t ts;
        if (sfu_seq_map(&sink->seq, src->epoch, p->seq, p->ts, now, &o, &ts) < 0) {
            drop(room, SFU_DROP_TOO_OLD);
            continue;
        }
        if (sink->squeezed)
            ts = sink_ts(sink, p->seq, ts);
        if (room_emit_rtp(room, r, src_ref, p, o, ts, false, out) == 0) {
            room->stats.forwarded++;
            room_repair_copies(room, r, sfu_sink_repair_on_forward(&sink->repair, o), now, out);
        }
        if (unblocked)
            replay_after_keyframe(room, r, src_ref, p->seq, now, out);
    }
}

/* Padding on the media SSRC uses up a sequence number: viewers' numbering
 * closes over it and it is never NACKed. */
static void media_padding(sfu_room *room, room_ref ref, const sfu_rtp_hdr *h, sfu_time now)
{
    room_source *src = room_src_at(room, ref);
    uint64_t seq = sfu_seq_unwrap(&src->unwrap, h->seq16);
    if (sfu_nack_gen_handle_packet(&src->nack, seq, now) >= SFU_NACK_DUPLICATE)
        return;
    room_rx_update(&src->rx, seq, h->ts, room_desc_at(room, ref)->clock_rate, true, now);
    for (uint32_t i = 0; i < src->fanout_count; i++) {
        room_ref r = room->fanout[src->fanout_start + i];
        sfu_seq_drop(&room->legs[r.slot]->tracks[r.track].sink.seq, src->epoch, seq);
    }
}

/* RFC 6464: the sender's level of this packet, for active-speaker detection.
 * Fed after duplicates are dropped, so a retransmission does not count twice. */
static void feed_speaker(sfu_room *room, room_ref ref, const room_pkt *p, sfu_time now, sfu_out *out)
{
    const sfu_track_desc *d = room_desc_at(room, ref);
    uint8_t len = 0;
    const uint8_t *ext = d->kind == SFU_KIND_AUDIO && d->ext.audio_level
                             ? sfu_rtp_ext_find(p->hdr, p->buf->data, d->ext.audio_level, &len) : NULL;
    sfu_audio_level lv;
    if (!ext || sfu_audio_level_parse(ext, len, &lv) < 0)
        return;
    if (sfu_speaker_handle_level(room->speaker, room->legs[ref.slot]->participant, lv.level, lv.voice,
                                 now) == 0)
        room_report_speaker(room, out);
}

static int process_media(sfu_room *room, room_ref ref, room_pkt *p, bool resent, sfu_time now,
                         sfu_out *out)
{
    room_source *src = room_src_at(room, ref);
    const sfu_track_desc *d = room_desc_at(room, ref);
    p->seq = sfu_seq_unwrap(&src->unwrap, p->seq16);
    sfu_nack_result r = sfu_nack_gen_handle_packet(&src->nack, p->seq, now);
    if (r == SFU_NACK_DUPLICATE || r == SFU_NACK_TOO_OLD) {
        drop(room, r == SFU_NACK_DUPLICATE ? SFU_DROP_DUPLICATE : SFU_DROP_TOO_OLD);
        return 0;
    }
    if (sfu_nack_gen_take_keyframe_request(&src->nack))
        room_request_keyframe(room, ref, now, out);
    room_rx_update(&src->rx, p->seq, p->ts, d->clock_rate, resent || r == SFU_NACK_RECOVERED, now);
    src->bytes += p->buf->len;
    if (src->cache)
        (void)sfu_rtx_cache_put(src->cache, p->seq, p->buf, now);
    inspect_payload(d, p);
    if (p->is_red && !p->red_ok) {
        /* RED a viewer could not decode: its number is skipped, like padding's */
        for (uint32_t i = 0; i < src->fanout_count; i++) {
            room_ref v = room->fanout[src->fanout_start + i];
            sfu_seq_drop(&room->legs[v.slot]->tracks[v.track].sink.seq, src->epoch, p->seq);
        }
        drop(room, SFU_DROP_MALFORMED);
        return 0;
    }
    room->stats.red_in += p->is_red;
    if (p->keyframe && room_sees_keyframes(d)) {
        sfu_keyframe_req_keyframe_received(&src->kf);
        sfu_keyframe_cache_handle_keyframe(&src->kcache, p->seq, p->ts, now);
    }
    fan_out(room, ref, p, now, out);
    feed_speaker(room, ref, p, now, out);
    return 0;
}

int sfu_room_handle_rtp(sfu_room *room, sfu_leg_id from, sfu_buf *buf, sfu_time now, sfu_out *out)
{
    room_leg *leg = room_find_leg(room, from);
    if (!leg)
        return -SFU_ENOTFOUND;
    room->stats.rtp_in++;
    if (now > leg->last_alive)
        leg->last_alive = now;
    sfu_rtp_hdr h;
    if (sfu_rtp_parse(buf->data, buf->len, &h) < 0) {
        drop(room, SFU_DROP_MALFORMED);
        return -SFU_EMALFORMED;
    }
    bool is_rtx = false;
    int t = classify(room, leg, &h, buf->data, &is_rtx, now, out);
    if (t < 0) {
        drop(room, SFU_DROP_UNKNOWN_SSRC);
        return 0;
    }
    const sfu_track_desc *d = &leg->desc.tracks[t];
    uint8_t len;
    const uint8_t *tw = d->ext.twcc ? sfu_rtp_ext_find(&h, buf->data, d->ext.twcc, &len) : NULL;
    if (tw && len >= 2 && d->fb_twcc)
        room_record_twcc(leg, sfu_rd16(tw), h.ssrc, now);
    if (over_rate(room, leg, buf->len, now)) {
        drop(room, SFU_DROP_BITRATE);
        return 0;
    }
    room->stats.rtp_in_kind[d->kind]++;
    room->stats.bytes_in_kind[d->kind] += buf->len;
    room_ref ref = { leg->slot, (uint8_t)t };
    room_pkt p = { .buf = buf, .hdr = &h, .seq16 = h.seq16, .ts = h.ts, .marker = h.marker,
                   .payload_off = h.payload_off, .payload_len = h.payload_len };
    if (is_rtx) {
        uint16_t osn;
        if (sfu_rtx_unwrap_osn(&h, buf->data, &osn) < 0 || h.payload_len == 2) {
            drop(room, SFU_DROP_PADDING); /* RTX probes carry no original packet */
            return 0;
        }
        p.seq16 = osn;
        p.payload_off += 2;
        p.payload_len -= 2;
    } else if (h.payload_len == 0) {
        media_padding(room, ref, &h, now);
        drop(room, SFU_DROP_PADDING);
        return 0;
    }
    return process_media(room, ref, &p, is_rtx, now, out);
}

/* Generic cell rate algorithm: each retransmission moves the sink's
 * theoretical time on by one interval (1 s / rate); refused while that time
 * runs more than half a second ahead of now. */
bool room_rtx_budget_take(const sfu_room *room, room_sink *sink, sfu_time now)
{
    uint32_t rate = room->cfg.max_rtx_per_second ? room->cfg.max_rtx_per_second
                                                 : ROOM_RTX_DEFAULT_RATE;
    sfu_time interval = SFU_SEC(1) / rate;
    sfu_time tat = sink->rtx_tat > now ? sink->rtx_tat : now;
    if (tat - now >= SFU_MS(500) && tat - now >= interval)
        return false;
    sink->rtx_tat = tat + (interval > 0 ? interval : 1);
    return true;
}

/* How old a packet may be and still be worth resending to this viewer. */
static sfu_time room_rtx_useful_window(const room_sink *sink)
{
    if (sink->rtt <= 0)
        return ROOM_RTX_USEFUL_UNKNOWN;
    sfu_time w = 2 * sink->rtt + ROOM_RTX_USEFUL_BASE;
    return w < ROOM_RTX_MAX_AGE ? w : ROOM_RTX_MAX_AGE;
}

int room_retransmit(sfu_room *room, room_ref sink_ref, uint16_t seq16, sfu_time now, sfu_out *out)
{
    room_sink *sink = &room->legs[sink_ref.slot]->tracks[sink_ref.track].sink;
    if (!sink->has_src)
        return -SFU_ENOTFOUND;
    room_source *src = room_src_at(room, sink->src);
    uint32_t epoch, ts_off;
    uint64_t src_seq;
    sfu_buf *buf = NULL;
    bool mapped = src->cache && sfu_seq_unmap(&sink->seq, seq16, &epoch, &src_seq, &ts_off) == 0 &&
                  epoch == src->epoch;
    if (mapped && sink->have_key && src_seq < sink->key_seq) {
        drop(room, SFU_DROP_RTX_USELESS); /* the viewer decodes from the keyframe after it */
        return -SFU_ELIMIT;
    }
    if (mapped)
        buf = sfu_rtx_cache_get(src->cache, src_seq, now);
    if (buf && sfu_rtx_cache_age(src->cache, src_seq, now) > room_rtx_useful_window(sink)) {
        drop(room, SFU_DROP_RTX_USELESS); /* it would arrive after its playout */
        room_repair_broken(room, sink_ref, src_seq, now, out);
        return -SFU_ELIMIT;
    }
    sfu_rtp_hdr h;
    room_pkt p;
    if (!buf || pkt_from_cache(src, room_desc_at(room, sink->src), buf, &h, &p) < 0) {
        room->stats.rtx_missed++;
        if (mapped && !sfu_nack_gen_is_missing(&src->nack, src_seq)) /* gone, not on its way */
            room_repair_broken(room, sink_ref, src_seq, now, out);
        return -SFU_ENOTFOUND;
    }
    if (!room_rtx_budget_take(room, sink, now)) {
        drop(room, SFU_DROP_RTX_RATE);
        return -SFU_ELIMIT;
    }
    int rc = room_emit_rtp(room, sink_ref, sink->src, &p, seq16, sink_ts(sink, src_seq, p.ts + ts_off), true,
                           out);
    if (rc == 0) {
        room->stats.retransmitted++;
        room_repair_copies(room, sink_ref, sfu_sink_repair_rtx_copies(&sink->repair), now, out);
    }
    return rc;
}
