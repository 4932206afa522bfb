/* Fuzzes the forwarding core as a whole: a room with a VP8+Opus publisher and
 * two viewers takes a scripted sequence of inputs decoded from the fuzzer's
 * bytes (RTP and RTCP from either side, viewers' transport-cc feedback and
 * REMB feeding their estimators, time passing, legs renegotiated,
 * removed, added back and rebound, an output queue that fills up). Nothing a
 * peer sends may crash it, and every buffer reference must come back. */
#include <stdlib.h>
#include <string.h>

#include "sfu/core/buf.h"
#include "sfu/core/room.h"

enum { PUB = 1, VIEW_A = 2, VIEW_B = 3, PARTICIPANT = 77 };

static sfu_track_desc track(const char *mid, sfu_kind kind, bool recv, uint32_t ssrc)
{
    sfu_track_desc t = {
        .kind = kind, .recv = recv, .send = !recv,
        .codec = kind == SFU_KIND_VIDEO ? SFU_CODEC_VP8 : SFU_CODEC_OPUS,
        .pt = kind == SFU_KIND_VIDEO ? 96 : 111, .rtx_pt = kind == SFU_KIND_VIDEO ? 97 : 0,
        .clock_rate = kind == SFU_KIND_VIDEO ? 90000 : 48000,
        .local_ssrc = recv ? 0 : ssrc, .local_rtx_ssrc = recv || kind != SFU_KIND_VIDEO ? 0 : ssrc + 1,
        .fb_nack = true, .fb_pli = true, .fb_fir = true, .fb_twcc = true, /* viewers: an estimator */
        .ext = { .mid = 1, .audio_level = 2, .twcc = 3, .rid = 4, .repaired_rid = 5, .dd = 6 },
    };
    strcpy(t.mid, mid);
    return t;
}

static sfu_leg_desc leg_desc(sfu_leg_id id, bool publisher)
{
    sfu_leg_desc d = { .ntracks = 2, .rtcp_rsize = true, .rtcp_ssrc = 1000 + id };
    d.tracks[0] = track("0", SFU_KIND_AUDIO, publisher, 2000 + id * 10);
    d.tracks[1] = track("1", SFU_KIND_VIDEO, publisher, 3000 + id * 10);
    strcpy(d.cname, "fuzz");
    return d;
}

static void add_leg(sfu_room *room, sfu_leg_id id, bool publisher)
{
    sfu_leg_desc d = leg_desc(id, publisher);
    sfu_room_add_leg(room, id, publisher ? PARTICIPANT : 0, &d, 0);
}

/* A renegotiated description, as signaling would pass it after a re-offer:
 * `v` picks what changed. Malformed ones must be refused, others applied. */
static void update_leg(sfu_room *room, sfu_leg_id id, const uint8_t *p, uint8_t len, sfu_time now)
{
    uint8_t v = len ? p[0] : 0;
    sfu_leg_desc d = leg_desc(id, id == PUB);
    uint32_t ssrc = len >= 5 ? sfu_rd32(p + 1) : 0;
    switch (v % 8) {
    case 0: /* signaled SSRCs (a=ssrc), RTX included */
        d.tracks[0].remote_ssrc = ssrc;
        d.tracks[1].remote_ssrc = ssrc + 1;
        d.tracks[1].remote_rtx_ssrc = ssrc + 2;
        break;
    case 1: /* video switches to H.264 */
        d.tracks[1].codec = SFU_CODEC_H264;
        d.tracks[1].pt = 102;
        d.tracks[1].rtx_pt = 103;
        break;
    case 2: /* the video m-line goes away */
        d.ntracks = 1;
        break;
    case 3: /* a third m-line: a second video stream on the same payload type */
        d.ntracks = 3;
        d.tracks[2] = d.tracks[1];
        strcpy(d.tracks[2].mid, "2");
        d.tracks[2].local_ssrc += 5;
        for (unsigned t = 0; t < d.ntracks; t++)
            d.tracks[t].ext.mid = 0; /* packets are matched by payload type */
        break;
    case 4: /* directions flip: the publisher becomes a viewer and back */
        for (unsigned t = 0; t < d.ntracks; t++) {
            d.tracks[t].recv = !d.tracks[t].recv;
            d.tracks[t].send = !d.tracks[t].send;
            d.tracks[t].local_ssrc = d.tracks[t].send ? 4000 + id * 10 + t : 0;
        }
        break;
    case 5: /* sends on new SSRCs; no RTX, audio level or mid extension */
        d.tracks[1].local_ssrc = ssrc | 1;
        d.tracks[1].local_rtx_ssrc = 0;
        d.tracks[1].rtx_pt = 0;
        d.tracks[0].ext.audio_level = 0;
        d.tracks[0].ext.mid = d.tracks[1].ext.mid = 0;
        break;
    case 6: /* both directions on every m-line */
        for (unsigned t = 0; t < d.ntracks; t++) {
            d.tracks[t].recv = d.tracks[t].send = true;
            d.tracks[t].local_ssrc = 5000 + id * 10 + t;
        }
        break;
    default:
        if (len >= 6 && (p[5] & 1)) {
            /* simulcast video: three rids, one layer's SSRCs signaled (p[5]
             * bit 1), told apart by the rid / repaired-rid extensions */
            static const char *rids[] = { "a", "b", "c" };
            d.tracks[1].nlayers = SFU_MAX_LAYERS;
            for (unsigned l = 0; l < SFU_MAX_LAYERS; l++)
                strcpy(d.tracks[1].layers[l].rid, rids[l]);
            if (p[5] & 2) {
                d.tracks[1].layers[1].ssrc = ssrc;
                d.tracks[1].layers[1].rtx_ssrc = ssrc + 1;
            }
            (void)sfu_room_update_leg(room, id, &d, now);
            return;
        }
        /* too many tracks */
        d.ntracks = SFU_MAX_TRACKS + 1;
        if (sfu_room_update_leg(room, id, &d, now) == 0)
            abort();
        return;
    }
    (void)sfu_room_update_leg(room, id, &d, now);
}

/* The queries the HTTP API and metrics make; they must not disturb anything. */
static void query(const sfu_room *room)
{
    const sfu_room_stats *st = sfu_room_stats_get(room);
    if (!st || sfu_room_leg_count(room) > 8)
        abort();
    (void)sfu_room_active_speaker(room);
    (void)sfu_room_track_bitrate(room, PUB, "1");
    (void)sfu_room_track_bitrate(room, PUB, "0");
    (void)sfu_room_track_bitrate(room, 9, "1");
    sfu_room_layer_info li[SFU_MAX_LAYERS];
    int n = sfu_room_track_layers(room, PUB, "1", SFU_SEC(1), li, SFU_MAX_LAYERS);
    if (n > SFU_MAX_LAYERS)
        abort();
    for (sfu_leg_id id = VIEW_A; id <= VIEW_B; id++) {
        sfu_room_sink_layer sl;
        if (sfu_room_sink_layer_get(room, id, "1", &sl) == 0 &&
            (sl.current >= SFU_MAX_LAYERS || sl.target >= SFU_MAX_LAYERS || sl.nlayers > SFU_MAX_LAYERS))
            abort();
        sfu_bwe_stats bs;
        if (sfu_room_leg_bwe_get(room, id, SFU_SEC(1), &bs) == 0 && bs.estimate_bps == 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const sfu_room_config cfg = { .max_legs = 8, .liveness_timeout = SFU_SEC(5),
                                         .rtx_cache_packets = 64,
                                         .keyframe_min_interval = SFU_MS(500),
                                         .max_publish_bps = 100000, .max_rtx_per_second = 20 };
    sfu_buf_pool *pool = sfu_buf_pool_new(256);
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out big, small; /* small: a full queue makes the room drop */
    if (!pool || !room || sfu_out_init(&big, 512) != 0 || sfu_out_init(&small, 2) != 0)
        abort();
    sfu_time now = SFU_SEC(1);
    add_leg(room, PUB, true);
    add_leg(room, VIEW_A, false);
    add_leg(room, VIEW_B, false);
    sfu_room_bind(room, VIEW_A, "0", PARTICIPANT, now, &big);
    sfu_room_bind(room, VIEW_A, "1", PARTICIPANT, now, &big);
    sfu_room_bind(room, VIEW_B, "1", PARTICIPANT, now, &big);
    sfu_out_reset(&big);

    /* Each step: op (1 byte), length (1 byte), then that many bytes. Op bits
     * 0-1 pick the input, bits 4-7 the leg, bit 3 the small output queue
     * (ops 0-2); op 3 is picked among by bits 2-3. */
    size_t off = 0;
    while (off + 2 <= size) {
        uint8_t op = data[off], len = data[off + 1];
        off += 2;
        if (len > size - off)
            len = (uint8_t)(size - off);
        const uint8_t *p = data + off;
        off += len;
        sfu_leg_id from = (op >> 4) % 3 + 1;
        sfu_out *o = op & 0x8 ? &small : &big;
        switch (op & 0x3) {
        case 0: {
            sfu_buf *buf = sfu_buf_alloc(pool);
            if (!buf)
                break;
            memcpy(buf->data, p, len);
            buf->len = len;
            sfu_room_handle_rtp(room, from, buf, now, o);
            sfu_buf_unref(buf);
            break;
        }
        case 1:
            sfu_room_handle_rtcp(room, from, p, len, now, o);
            break;
        case 2:
            now += (sfu_time)len * 1000;
            if (sfu_room_poll_timeout(room) <= now)
                sfu_room_handle_timeout(room, now, o);
            break;
        default:
            switch ((op >> 2) & 3) {
            case 0:
                if (len & 1)
                    sfu_room_remove_leg(room, from, now, &big);
                else
                    sfu_room_handle_alive(room, from, now);
                break;
            case 1:
                update_leg(room, from, p, len, now);
                break;
            case 2: /* back after a removal (refused while present), or a new binding */
                if (len & 1)
                    add_leg(room, from, from == PUB);
                else
                    (void)sfu_room_bind(room, from, len & 2 ? "1" : "0", len & 4 ? PARTICIPANT : 5, now, &big);
                break;
            default: /* a viewer's cap and estimate (-2: refused), then the queries */
                if (len >= 1)
                    (void)sfu_room_set_max_layer(room, from, "1", (int)(p[0] % 5) - 2, now, &big);
                if (len >= 5)
                    (void)sfu_room_set_sink_bitrate_limit(room, from, "1", sfu_rd32(p + 1), now, &big);
                query(room);
                break;
            }
            break;
        }
        sfu_out_reset(&big);
        sfu_out_reset(&small);
    }
    query(room);
    sfu_room_free(room);
    sfu_out_deinit(&big);
    sfu_out_deinit(&small);
    if (sfu_buf_pool_in_use(pool) != 0)
        abort(); /* a reference was lost or kept */
    sfu_buf_pool_free(pool);
    return 0;
}
