/* The room's side of sink_repair.h: copies of a video packet toward a lossy
 * viewer, out of its retransmission budget, and a keyframe for a viewer
 * whose NACKs show a packet it can no longer get. */
#include "sfu/core/room_internal.h"

#include <string.h>

void room_repair_copies(sfu_room *room, room_ref sink_ref, uint8_t copies, sfu_time now, sfu_out *out)
{
    room_leg *vleg = room->legs[sink_ref.slot];
    room_sink *sink = &vleg->tracks[sink_ref.track].sink;
    if (room->cfg.no_video_copies || copies < 2 || vleg->desc.tracks[sink_ref.track].kind != SFU_KIND_VIDEO || out->count == 0)
        return;
    /* The same SRTP packet again: the receiver keeps whichever arrives
     * first and its replay check drops the other. */
    uint32_t last = out->count - 1;
    for (uint8_t c = 1; c < copies; c++) {
        /* Copies only from the budget's spare half: answers to NACKs come
         * first (the budget allows half a second's worth at once). */
        if (sink->rtx_tat > now + SFU_MS(250) || !room_rtx_budget_take(room, sink, now)) {
            room->stats.drops[SFU_DROP_RTX_RATE]++;
            return;
        }
        sfu_out_item *dup = sfu_out_push(out, SFU_OUT_RTP, vleg->id);
        if (!dup) {
            room->stats.drops[SFU_DROP_OUT_FULL]++;
            return;
        }
        const sfu_out_item *item = &out->items[last];
        memcpy(dup->head, item->head, item->head_len);
        dup->head_len = item->head_len;
        dup->buf = sfu_buf_ref(item->buf);
        dup->body_off = item->body_off;
        dup->body_len = item->body_len;
        room->stats.video_copies++;
        room->stats.rtp_out++;
        room->stats.rtp_out_kind[SFU_KIND_VIDEO]++;
        room->stats.bytes_out_kind[SFU_KIND_VIDEO] += (uint64_t)item->head_len + item->body_len;
    }
}

void room_repair_broken(sfu_room *room, room_ref sink_ref, uint64_t seq, sfu_time now, sfu_out *out)
{
    room_sink *sink = &room->legs[sink_ref.slot]->tracks[sink_ref.track].sink;
    if (!sink->has_src || sink->waiting_keyframe)
        return;
    room_source *src = room_src_at(room, sink->src);
    if (!src->cache || sink->seq.epoch != src->epoch)
        return; /* not video, or a stream the viewer is not on yet */
    if (!sfu_sink_repair_unrecoverable(&sink->repair, src->epoch, seq, now))
        return;
    /* The cache's keyframe is the one this viewer was sent last, before the
     * packet it lacks: only a new one helps, from the publisher. */
    room->stats.repair_keyframe_requests++;
    room_request_keyframe(room, sink->src, now, out);
}
