/* The forwarding core's own cost per forwarded packet, without sockets or
 * SRTP: one VP8 publisher and N viewers in a room, packets through
 * sfu_room_handle_rtp, outputs dropped. Two cases: a plain publisher, and a
 * three-layer simulcast publisher whose viewers are spread over the layers
 * (layer selection on every packet). `make core-speed`.
 *
 * Built with -DCORE_SPEED_PLAIN_ONLY it needs only the room API that came
 * before simulcast, so the same program measures an older tree. */
#include "sfu/core/room.h"
#include "sfu/core/rtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PUB = 1, VIEWERS = 20, PACKETS = 300000, EXT_MID = 1, EXT_RID = 2, PT = 96 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static sfu_track_desc pub_track(int nlayers)
{
    sfu_track_desc d = { .kind = SFU_KIND_VIDEO, .recv = true, .codec = SFU_CODEC_VP8, .pt = PT, .rtx_pt = 97,
                         .clock_rate = 90000, .fb_nack = true, .fb_pli = true };
    strcpy(d.mid, "0");
    d.ext.mid = EXT_MID;
    d.ext.rid = EXT_RID;
#ifndef CORE_SPEED_PLAIN_ONLY
    static const char *rids[] = { "q", "h", "f" };
    d.nlayers = (uint8_t)(nlayers > 1 ? nlayers : 0);
    for (int l = 0; l < nlayers && nlayers > 1; l++)
        strcpy(d.layers[l].rid, rids[l]);
#else
    (void)nlayers;
#endif
    return d;
}

/* A VP8 packet of layer l: 1000 bytes, a keyframe every 300 packets. */
static sfu_buf *packet(sfu_buf_pool *pool, int l, uint16_t seq, bool key)
{
    static const char *rids[] = { "q", "h", "f" };
    sfu_buf *b = sfu_buf_alloc(pool);
    if (!b)
        return NULL;
    sfu_rtp_ext_out ext[2] = { { EXT_MID, 1, (const uint8_t *)"0" }, { EXT_RID, 1, (const uint8_t *)rids[l] } };
    sfu_rtp_header_out h = { false, PT, seq, (uint32_t)(seq / 3) * 3000u, 0x1000 + (uint32_t)l, 2, ext };
    int hl = sfu_rtp_write_header(b->data, SFU_BUF_CAP, &h);
    uint8_t *p = b->data + hl;
    memset(p, 0x33, 1000);
    p[0] = 0x90;
    p[1] = 0xC0;
    p[2] = (uint8_t)(0x80 | (seq >> 8 & 0x7f));
    p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(seq / 3);
    p[5] = key ? 0x10 : 0x11;
    b->len = (uint16_t)(hl + 1000);
    return b;
}

static int run(int nlayers, const char *name)
{
    sfu_room_config cfg = { .max_legs = VIEWERS + 2, .liveness_timeout = SFU_SEC(600), .rtx_cache_packets = 1024,
                            .keyframe_min_interval = SFU_MS(500) };
    sfu_room *room = sfu_room_new(&cfg);
    sfu_buf_pool *pool = sfu_buf_pool_new(4096);
    sfu_out out;
    if (!room || !pool || sfu_out_init(&out, 4096) < 0)
        return 1;
    sfu_leg_desc pl = { .ntracks = 1, .rtcp_rsize = true, .rtcp_ssrc = 1 };
    pl.tracks[0] = pub_track(nlayers);
    if (sfu_room_add_leg(room, PUB, 7, &pl, 0) < 0)
        return 1;
    for (int v = 0; v < VIEWERS; v++) {
        sfu_leg_desc vl = { .ntracks = 1, .rtcp_rsize = true, .rtcp_ssrc = 100 + (uint32_t)v };
        sfu_track_desc *d = &vl.tracks[0];
        *d = (sfu_track_desc){ .kind = SFU_KIND_VIDEO, .send = true, .codec = SFU_CODEC_VP8, .pt = 120,
                               .rtx_pt = 121, .clock_rate = 90000, .local_ssrc = 0x5000 + 16 * (uint32_t)v,
                               .local_rtx_ssrc = 0x5001 + 16 * (uint32_t)v, .fb_nack = true, .fb_pli = true };
        strcpy(d->mid, "v");
        d->ext.mid = 9;
        if (sfu_room_add_leg(room, (sfu_leg_id)(10 + v), 8, &vl, 0) < 0 ||
            sfu_room_bind(room, (sfu_leg_id)(10 + v), "v", 7, 0, &out) < 0)
            return 1;
#ifndef CORE_SPEED_PLAIN_ONLY
        if (nlayers > 1)
            sfu_room_set_max_layer(room, (sfu_leg_id)(10 + v), "v", v % nlayers, 0, &out);
#endif
        sfu_out_reset(&out);
    }
    sfu_time t = SFU_MS(1);
    uint64_t fwd0 = 0;
    double cpu = 0;
    uint16_t seq[3] = { 0, 0, 0 };
    for (int i = 0; i < PACKETS; i++) {
        int l = nlayers > 1 ? i % nlayers : 0;
        sfu_buf *b = packet(pool, l, seq[l], seq[l] % 300 == 0);
        seq[l]++;
        t += 100;
        double a = now_s();
        sfu_room_handle_rtp(room, PUB, b, t, &out);
        if (sfu_room_poll_timeout(room) <= t)
            sfu_room_handle_timeout(room, t, &out);
        cpu += now_s() - a;
        sfu_out_reset(&out);
        sfu_buf_unref(b);
        if (i == PACKETS / 10) { /* warm-up done: count from here */
            fwd0 = sfu_room_stats_get(room)->forwarded;
            cpu = 0;
        }
    }
    uint64_t fwd = sfu_room_stats_get(room)->forwarded - fwd0;
    printf("%-28s %2d viewers: %9llu forwarded, %.1f ns per forwarded packet (core only, no SRTP, no send)\n", name,
           VIEWERS, (unsigned long long)fwd, fwd ? cpu * 1e9 / (double)fwd : 0.0);
    sfu_out_deinit(&out);
    sfu_room_free(room);
    sfu_buf_pool_free(pool);
    return 0;
}

int main(void)
{
    int rc = run(1, "plain VP8");
#ifndef CORE_SPEED_PLAIN_ONLY
    rc |= run(3, "simulcast VP8, 3 layers");
#endif
    return rc;
}
