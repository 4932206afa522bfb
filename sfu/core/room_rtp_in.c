/* RTP in: demultiplex a leg's packet to a track (RFC 8843 9.2: by SSRC,
 * else by the mid extension, else by payload type) and to a layer of its
 * producer (by SSRC, else rid / repaired-rid), let the producer take it, and
 * fan it out. */
#include "sfu/core/audio_level.h"
#include "sfu/core/room_internal.h"

#include <string.h>

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

/* The track and layer of a packet, or -1. A layer that learnt a new media
 * SSRC is a new stream: its viewers restart on a keyframe. */
static int classify(sfu_room *room, room_leg *leg, const sfu_rtp_hdr *h, const uint8_t *pkt, int *layer,
                    bool *is_rtx, sfu_time now, sfu_out *out)
{
    for (unsigned t = 0; t < leg->desc.ntracks; t++) {
        const sfu_producer *prod = leg->tracks[t].prod;
        if (prod && (*layer = sfu_producer_find_ssrc(prod, h->ssrc, is_rtx)) >= 0)
            return (int)t;
    }
    bool found_mid = false;
    int t = find_by_mid(leg, h, pkt, &found_mid);
    if (t < 0 && !found_mid)
        t = find_by_pt(leg, h->pt);
    if (t < 0 || !leg->tracks[t].prod)
        return -1;
    bool restarted = false;
    *layer = sfu_producer_learn(leg->tracks[t].prod, h, pkt, &room->next_epoch, is_rtx, &restarted);
    if (*layer < 0)
        return -1;
    if (restarted)
        room_rebind(room, now, out);
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

/* A source packet not forwarded: every viewer's numbering closes over it. */
static void skip_in_sinks(sfu_room *room, room_ref ref, int layer, uint64_t seq)
{
    const room_leg *leg = room->legs[ref.slot];
    uint32_t epoch = leg->tracks[ref.track].prod->layers[layer].epoch;
    for (uint32_t i = 0; i < leg->fanout_count[ref.track]; i++) {
        room_ref v = room->fanout[leg->fanout_start[ref.track] + i];
        sfu_consumer_skip(&room_sink_at(room, v)->c, epoch, seq);
    }
}

/* RFC 6464: the sender's level of this packet, for active-speaker detection.
 * Fed after duplicates are dropped, so a retransmission does not count twice. */
static void feed_speaker(sfu_room *room, room_ref ref, const sfu_media_pkt *p, sfu_time now, sfu_out *out)
{
    const sfu_track_desc *d = room_desc_at(room, ref);
    uint8_t len = 0;
    const uint8_t *ext = d->kind == SFU_KIND_AUDIO && d->ext.audio_level
                             ? sfu_rtp_ext_find(p->hdr, p->buf->data, d->ext.audio_level, &len) : NULL;
    sfu_audio_level lv;
    if (!ext || sfu_audio_level_parse(ext, len, &lv) < 0)
        return;
    room_own_touch(room);
    if (sfu_speaker_handle_level(room->speaker, room->legs[ref.slot]->participant, lv.level, lv.voice,
                                 now) == 0)
        room_report_speaker(room, out);
    room_audio_level(room, room->legs[ref.slot]->participant, lv.level, lv.voice, now);
}

static int process_media(sfu_room *room, room_ref ref, sfu_media_pkt *p, bool resent, sfu_time now,
                         sfu_out *out)
{
    sfu_producer *prod = room_prod_at(room, ref);
    bool want_key = false;
    sfu_producer_verdict v = sfu_producer_handle_media(prod, p, resent, now, &want_key);
    if (v == SFU_PRODUCER_DUPLICATE || v == SFU_PRODUCER_TOO_OLD) {
        room_drop(room, v == SFU_PRODUCER_DUPLICATE ? SFU_DROP_DUPLICATE : SFU_DROP_TOO_OLD);
        return 0;
    }
    if (want_key)
        room_request_keyframe(room, ref, p->layer, now, out);
    if (v == SFU_PRODUCER_BAD_RED) {
        /* RED a viewer could not decode: its number is skipped, like padding's */
        skip_in_sinks(room, ref, p->layer, p->seq);
        room_drop(room, SFU_DROP_MALFORMED);
        return 0;
    }
    room->stats.red_in += p->is_red;
    if (prod->rank_changed) {
        /* Viewers move to the right layer before this packet fans out. What
         * they need (a replay, a request) is deferred to the timeout, due at
         * once: a replay now would include this packet, sent again below. */
        prod->rank_changed = false;
        room_choose_layers_of(room, ref, now, NULL);
    }
    room_fan_out(room, ref, p, now, out);
    feed_speaker(room, ref, p, now, out);
    return 0;
}

int sfu_room_handle_rtp(sfu_room *room, sfu_leg_id from, sfu_buf *buf, sfu_time now, sfu_out *out)
{
    room_leg *leg = room_find_leg(room, from);
    if (!leg)
        return -SFU_ENOTFOUND;
    room->stats.rtp_in++;
    room_leg_touch(room, leg);  /* liveness, transport-cc, its producers' timers */
    if (now > leg->last_alive)
        leg->last_alive = now;
    sfu_rtp_hdr h;
    if (sfu_rtp_parse(buf->data, buf->len, &h) < 0) {
        room_drop(room, SFU_DROP_MALFORMED);
        return -SFU_EMALFORMED;
    }
    bool is_rtx = false;
    int layer = 0;
    int t = classify(room, leg, &h, buf->data, &layer, &is_rtx, now, out);
    if (t < 0) {
        room_drop(room, SFU_DROP_UNKNOWN_SSRC);
        return 0;
    }
    const sfu_track_desc *d = &leg->desc.tracks[t];
    uint8_t len;
    const uint8_t *tw = d->ext.twcc ? sfu_rtp_ext_find(&h, buf->data, d->ext.twcc, &len) : NULL;
    if (tw && len >= 2 && d->fb_twcc)
        room_record_twcc(leg, sfu_rd16(tw), h.ssrc, now);
    if (over_rate(room, leg, buf->len, now)) {
        room_drop(room, SFU_DROP_BITRATE);
        return 0;
    }
    room->stats.rtp_in_kind[d->kind]++;
    room->stats.bytes_in_kind[d->kind] += buf->len;
    room_ref ref = { leg->slot, (uint8_t)t };
    sfu_producer *prod = leg->tracks[t].prod;
    if (is_rtx && h.payload_len <= 2) {
        room_drop(room, SFU_DROP_PADDING); /* RTX probes carry no original packet */
        return 0;
    }
    if (!is_rtx && h.payload_len == 0) {
        /* Padding on the media SSRC uses up a sequence number: viewers'
         * numbering closes over it and it is never NACKed. */
        uint64_t seq;
        if (sfu_producer_handle_padding(prod, layer, &h, now, &seq) == 0)
            skip_in_sinks(room, ref, layer, seq);
        room_drop(room, SFU_DROP_PADDING);
        return 0;
    }
    sfu_media_pkt p;
    if (sfu_producer_read(prod, layer, buf, &h, is_rtx, &p) < 0) {
        room_drop(room, SFU_DROP_PADDING);
        return 0;
    }
    return process_media(room, ref, &p, is_rtx, now, out);
}
