/* Fuzzes the forwarding core as a whole: a room with a VP8+Opus publisher and
 * two viewers takes a scripted sequence of inputs decoded from the fuzzer's
 * bytes (RTP and RTCP from either side, time passing). Nothing a peer sends
 * may crash it, and every buffer reference must come back. */
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
        .fb_nack = true, .fb_pli = true, .fb_fir = true, .fb_twcc = recv,
        .ext = { .mid = 1, .audio_level = 2, .twcc = 3, .rid = 4, .repaired_rid = 5 },
    };
    strcpy(t.mid, mid);
    return t;
}

static void add_leg(sfu_room *room, sfu_leg_id id, bool publisher)
{
    sfu_leg_desc d = { .ntracks = 2, .rtcp_rsize = true, .rtcp_ssrc = 1000 + id };
    d.tracks[0] = track("0", SFU_KIND_AUDIO, publisher, 2000 + id * 10);
    d.tracks[1] = track("1", SFU_KIND_VIDEO, publisher, 3000 + id * 10);
    strcpy(d.cname, "fuzz");
    sfu_room_add_leg(room, id, publisher ? PARTICIPANT : 0, &d, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const sfu_room_config cfg = { .max_legs = 8, .liveness_timeout = SFU_SEC(5),
                                         .rtx_cache_packets = 64,
                                         .keyframe_min_interval = SFU_MS(500) };
    sfu_buf_pool *pool = sfu_buf_pool_new(256);
    sfu_room *room = sfu_room_new(&cfg);
    sfu_out out;
    if (!pool || !room || sfu_out_init(&out, 512) != 0)
        abort();
    sfu_time now = SFU_SEC(1);
    add_leg(room, PUB, true);
    add_leg(room, VIEW_A, false);
    add_leg(room, VIEW_B, false);
    sfu_room_bind(room, VIEW_A, "0", PARTICIPANT, now, &out);
    sfu_room_bind(room, VIEW_A, "1", PARTICIPANT, now, &out);
    sfu_room_bind(room, VIEW_B, "1", PARTICIPANT, now, &out);
    sfu_out_reset(&out);

    /* Each step: op (1 byte), length (1 byte), then that many bytes. */
    size_t off = 0;
    while (off + 2 <= size) {
        uint8_t op = data[off], len = data[off + 1];
        off += 2;
        if (len > size - off)
            len = (uint8_t)(size - off);
        const uint8_t *p = data + off;
        off += len;
        sfu_leg_id from = (op >> 4) % 3 + 1;
        switch (op & 0x3) {
        case 0: {
            sfu_buf *buf = sfu_buf_alloc(pool);
            if (!buf)
                break;
            memcpy(buf->data, p, len);
            buf->len = len;
            sfu_room_handle_rtp(room, from, buf, now, &out);
            sfu_buf_unref(buf);
            break;
        }
        case 1:
            sfu_room_handle_rtcp(room, from, p, len, now, &out);
            break;
        case 2:
            now += (sfu_time)len * 1000;
            if (sfu_room_poll_timeout(room) <= now)
                sfu_room_handle_timeout(room, now, &out);
            break;
        case 3:
            if (len & 1)
                sfu_room_remove_leg(room, from, now, &out);
            else
                sfu_room_handle_alive(room, from, now);
            break;
        }
        sfu_out_reset(&out);
    }
    sfu_room_free(room);
    sfu_out_deinit(&out);
    if (sfu_buf_pool_in_use(pool) != 0)
        abort(); /* a reference was lost or kept */
    sfu_buf_pool_free(pool);
    return 0;
}
