/* Layer choice: which layer of a simulcast producer each sink receives,
 * from its cap and estimate (consumer.h), and the layer API of room.h. */
#include "sfu/core/room_internal.h"

/* The qualities of a producer's layers as layer choice sees them. */
static int qualities(const sfu_producer *prod, sfu_time now, sfu_consumer_quality *q)
{
    for (int i = 0; i < prod->nlayers; i++) {
        int l = sfu_producer_layer_at(prod, i);
        q[i] = (sfu_consumer_quality){ prod->layers[l].bitrate_bps, sfu_producer_layer_active(prod, l, now) };
    }
    return prod->nlayers;
}

int room_start_layer(sfu_consumer *c, const sfu_producer *prod, sfu_time now)
{
    if (c->pinned >= 0)
        return c->pinned < prod->nlayers ? c->pinned : prod->nlayers - 1;
    if (prod->nlayers < 2)
        return 0;
    sfu_consumer_quality q[SFU_MAX_LAYERS];
    int n = qualities(prod, now, q);
    int want = sfu_consumer_choose(c, q, n, -1, now);
    if (want < 0)
        want = c->max_quality >= 0 && c->max_quality < n ? c->max_quality : n - 1;
    return sfu_producer_layer_at(prod, want);
}

/* VP8 temporal layers, a finer step below the lowest layer: when even the
 * chosen layer does not fit the estimate, the most of its temporal layers
 * that does (at least the base layer). */
static uint8_t temporal_cap(const sfu_consumer *c, const sfu_producer_layer *l)
{
    if (!c->limit_bps || !l->has_tid || l->bitrate_bps <= c->limit_bps)
        return SFU_CONSUMER_ALL_TIDS;
    for (uint8_t t = SFU_CONSUMER_ALL_TIDS; t > 0; t--)
        if (l->tid_bps[t - 1] && l->tid_bps[t - 1] <= c->limit_bps)
            return (uint8_t)(t - 1);
    return 0;
}

/* Layer choice for one sink: a new target asks for its keyframe once
 * (throttled per layer); the switch happens when it arrives. */
static void choose_layer(sfu_room *room, room_ref sink_ref, sfu_time now, sfu_out *out)
{
    room_sink *sink = room_sink_at(room, sink_ref);
    if (!sink->has_src || sink->c.layer < 0 || sink->c.pinned >= 0)
        return; /* a pinned sink keeps the layer it started on (room_start_layer) */
    sfu_producer *prod = room_prod_at(room, sink->src);
    if (prod->nlayers < 2) {
        sfu_consumer_set_max_tid(&sink->c, temporal_cap(&sink->c, &prod->layers[0]));
        return;
    }
    sfu_consumer_quality q[SFU_MAX_LAYERS];
    int n = qualities(prod, now, q);
    int want = sfu_consumer_choose(&sink->c, q, n, sfu_producer_quality_of(prod, sink->c.target), now);
    if (want < 0)
        return;
    int layer = sfu_producer_layer_at(prod, want);
    sfu_consumer_set_max_tid(&sink->c, temporal_cap(&sink->c, &prod->layers[layer]));
    bool ask = sfu_consumer_set_target(&sink->c, layer, prod->layers[layer].epoch);
    /* Down from a layer far beyond the estimate: hold it back until the
     * switch (sfu_consumer_drain), or the target's keyframe drowns in it. */
    if (sfu_consumer_switch_pending(&sink->c) && sink->c.limit_bps && !sink->c.draining &&
        want < sfu_producer_quality_of(prod, sink->c.layer) &&
        prod->layers[sink->c.layer].bitrate_bps > ROOM_DRAIN_OVER * (uint64_t)sink->c.limit_bps) {
        sfu_consumer_drain(&sink->c);
        room->stats.drains++;
    }
    if (!ask)
        return;
    if (sink->c.waiting_keyframe)
        room_sink_needs_keyframe(room, sink_ref, now, out); /* a join: the cache may serve it */
    else
        room_request_keyframe(room, sink->src, layer, now, out); /* a switch: a fresh keyframe */
}

void room_choose_layers(sfu_room *room, sfu_time now, sfu_out *out)
{
    for (uint32_t s = 0; s < room->legs_end; s++) {
        room_leg *leg = room->legs[s];
        for (unsigned t = 0; leg && t < leg->desc.ntracks; t++)
            if (leg->desc.tracks[t].send)
                choose_layer(room, (room_ref){ (uint16_t)s, (uint8_t)t }, now, out);
    }
}

void room_choose_layers_of(sfu_room *room, room_ref src, sfu_time now, sfu_out *out)
{
    const room_leg *leg = room->legs[src.slot];
    for (uint32_t i = 0; i < leg->fanout_count[src.track]; i++)
        choose_layer(room, room->fanout[leg->fanout_start[src.track] + i], now, out);
}

int sfu_room_track_layers(const sfu_room *room, sfu_leg_id id, const char *mid, sfu_time now,
                          sfu_room_layer_info *layers, unsigned cap)
{
    const room_leg *leg = room_find_leg(room, id);
    int t = leg && mid ? room_find_mid(&leg->desc, mid) : -1;
    if (t < 0 || !leg->tracks[t].prod)
        return -SFU_ENOTFOUND;
    const sfu_producer *prod = leg->tracks[t].prod;
    for (int q = 0; q < prod->nlayers && (unsigned)q < cap; q++) {
        int l = sfu_producer_layer_at(prod, q);
        const sfu_producer_layer *pl = &prod->layers[l];
        sfu_room_layer_info *i = &layers[q];
        memcpy(i->rid, pl->rid, SFU_RID_MAX);
        i->ssrc = pl->ssrc;
        i->bitrate_bps = pl->bitrate_bps;
        i->width = pl->width;
        i->height = pl->height;
        i->active = sfu_producer_layer_active(prod, l, now);
    }
    return prod->nlayers;
}

unsigned room_layers_wanted(const sfu_room *room, room_ref src)
{
    const room_leg *leg = room->legs[src.slot];
    const sfu_producer *prod = leg->tracks[src.track].prod;
    unsigned all = (1u << prod->nlayers) - 1, want = 0;
    /* Until every layer's frame size is known the ranking may still move:
     * everything flows. Sizes stay known while a layer is paused. */
    for (int l = 0; l < prod->nlayers; l++)
        if (!prod->layers[l].width)
            return all;
    for (uint32_t i = 0; i < leg->fanout_count[src.track]; i++) {
        const room_sink *sink = room_sink_at(room, room->fanout[leg->fanout_start[src.track] + i]);
        const sfu_consumer *c = &sink->c;
        if (!sink->has_src || c->layer < 0)
            continue;
        int qc = sfu_producer_quality_of(prod, c->layer), qt = sfu_producer_quality_of(prod, c->target);
        int top = qc > qt ? qc : qt;
        want |= 1u << c->layer;
        if (c->target >= 0)
            want |= 1u << c->target;
        /* The quality above, for a viewer that may move up: layer choice
         * takes only layers that flow and whose bitrate it measured. */
        if (c->pinned < 0 && top + 1 < prod->nlayers && (c->max_quality < 0 || c->max_quality > top))
            want |= 1u << sfu_producer_layer_at(prod, top + 1);
        /* And below, for one that follows an estimate: a step down lands
         * on the next layer, not on whatever still flows further down. */
        int low = qc < qt ? qc : qt;
        if (c->pinned < 0 && c->limit_bps && low > 0)
            want |= 1u << sfu_producer_layer_at(prod, low - 1);
    }
    return want;
}

int sfu_room_source_layers(const sfu_room *room, uint32_t participant, sfu_kind kind,
                           sfu_layer_desc *out, unsigned cap)
{
    room_ref ref;
    if (!room_find_source(room, participant, kind, &ref))
        return -SFU_ENOTFOUND;
    const sfu_producer *prod = room_prod_at(room, ref);
    for (unsigned l = 0; l < prod->nlayers && l < cap; l++) {
        memcpy(out[l].rid, prod->layers[l].rid, SFU_RID_MAX);
        out[l].ssrc = prod->layers[l].ssrc;
        out[l].rtx_ssrc = prod->layers[l].rtx_ssrc;
    }
    return prod->nlayers;
}

int sfu_room_sink_layer_get(const sfu_room *room, sfu_leg_id id, const char *mid, sfu_room_sink_layer *info)
{
    room_ref ref;
    const room_sink *sink = room_find_sink(room, id, mid, &ref);
    if (!sink)
        return -SFU_ENOTFOUND;
    const sfu_consumer *c = &sink->c;
    *info = (sfu_room_sink_layer){ .current = -1, .target = -1, .max = c->max_quality, .limit_bps = c->limit_bps,
                                   .switches = c->switches, .max_tid = c->max_tid };
    if (!sink->has_src || c->layer < 0)
        return 0;
    const sfu_producer *prod = room_prod_at(room, sink->src);
    info->nlayers = prod->nlayers;
    info->target = sfu_producer_quality_of(prod, c->target);
    info->current = c->waiting_keyframe ? -1 : sfu_producer_quality_of(prod, c->layer);
    return 0;
}

int sfu_room_set_max_layer(sfu_room *room, sfu_leg_id id, const char *mid, int layer, sfu_time now,
                           sfu_out *out)
{
    room_ref ref;
    room_sink *sink = room_find_sink(room, id, mid, &ref);
    if (!sink)
        return -SFU_ENOTFOUND;
    if (layer < -1 || layer >= SFU_MAX_LAYERS)
        return -SFU_EINVAL;
    room_deadline_stale(room);
    sfu_consumer_set_max_quality(&sink->c, layer);
    choose_layer(room, ref, now, out);
    return 0;
}

void room_set_sink_limit(sfu_room *room, room_ref ref, uint32_t bps, sfu_time now, sfu_out *out)
{
    sfu_consumer_set_limit(&room_sink_at(room, ref)->c, bps);
    room_own_touch(room);   /* next_choose_at */
    choose_layer(room, ref, now, out);
    if (bps && room->next_choose_at == SFU_TIME_NEVER)
        room->next_choose_at = now + ROOM_CHOOSE_INTERVAL; /* it follows the estimate from now on */
}

int sfu_room_set_sink_bitrate_limit(sfu_room *room, sfu_leg_id id, const char *mid, uint32_t bps,
                                    sfu_time now, sfu_out *out)
{
    room_ref ref;
    room_sink *sink = room_find_sink(room, id, mid, &ref);
    if (!sink)
        return -SFU_ENOTFOUND;
    room_deadline_stale(room);
    room_set_sink_limit(room, ref, bps, now, out);
    return 0;
}
