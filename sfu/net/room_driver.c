#include "sfu/net/room_driver.h"

#include <glib.h>

#include "sfu/net/host.h"
#include "sfu/net/peer.h"

#define PREFETCH_CHUNK 32       /* items whose peers are asked for at once */

struct sfu_room_driver {
    sfu_host *host;
    char *key;
    sfu_room *core;
    sfu_worker_timer *timer;
    sfu_time timer_at;          /* what the timer is set to, SFU_TIME_NEVER when not */
    unsigned refs;
};

static void on_timer(void *user, int64_t now)
{
    sfu_room_driver *room = user;
    room->timer_at = SFU_TIME_NEVER;    /* a worker timer fires once per set */
    sfu_out *out = sfu_worker_out(sfu_host_worker(room->host));
    sfu_room_handle_timeout(room->core, now, out);
    sfu_room_driver_drain(room);
}

/* The core keeps its earliest deadline up to date as inputs change it (a
 * poll recomputes the legs they touched), so the timer follows it after
 * each input: no rescan of the room per wake-up, no task to post. */
static void rearm_now(sfu_room_driver *room)
{
    sfu_time at = sfu_room_poll_timeout(room->core);
    if (at != room->timer_at) {
        room->timer_at = at;
        sfu_worker_timer_set(sfu_host_worker(room->host), room->timer,
                             at == SFU_TIME_NEVER ? -1 : at);
    }
}

sfu_room_driver *sfu_room_driver_new(sfu_host *host, const char *key)
{
    sfu_room *core = sfu_room_new(&sfu_host_cfg(host)->room);
    if (!core)
        return NULL;
    sfu_room_driver *room = g_new0(sfu_room_driver, 1);
    room->host = host;
    room->key = g_strdup(key);
    room->core = core;
    room->timer = sfu_worker_timer_new(sfu_host_worker(host), on_timer, room);
    room->timer_at = SFU_TIME_NEVER;
    return room;
}

void sfu_room_driver_stats_add(const sfu_room_driver *room, sfu_room_stats *sum)
{
    const sfu_room_stats *s = sfu_room_stats_get(room->core);
    uint64_t *a = (uint64_t *)sum;
    const uint64_t *b = (const uint64_t *)s;
    for (size_t i = 0; i < sizeof *s / sizeof(uint64_t); i++)
        a[i] += b[i];
}

void sfu_room_driver_free(sfu_room_driver *room)
{
    if (!room)
        return;
    sfu_room_driver_stats_add(room, &sfu_host_stats_mut(room->host)->rooms);
    sfu_worker_timer_free(sfu_host_worker(room->host), room->timer);
    sfu_room_free(room->core);
    g_free(room->key);
    g_free(room);
}

sfu_room *sfu_room_driver_core(sfu_room_driver *room) { return room->core; }
const char *sfu_room_driver_key(const sfu_room_driver *room) { return room->key; }
unsigned *sfu_room_driver_refs(sfu_room_driver *room) { return &room->refs; }

void sfu_room_driver_rearm(sfu_room_driver *room) { rearm_now(room); }

/* Each viewer's peer, path and SRTP context are a first touch per wake-up;
 * the per-copy protect is too long for the processor to reach the next
 * viewer's loads by itself, so they are asked for up front, in two rounds
 * (the peers, then what they point to), and the misses overlap. A hint. */
static void prefetch_peers(sfu_host *host, const sfu_out *out, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++)
        if (out->items[i].type == SFU_OUT_RTP)
            sfu_host_prefetch_peer(host, out->items[i].leg);
    for (uint32_t i = from; i < to; i++)
        if (out->items[i].type == SFU_OUT_RTP) {
            const sfu_peer *peer = sfu_host_peer(host, out->items[i].leg);
            if (peer)
                sfu_peer_prefetch(peer);
        }
}

void sfu_room_driver_drain(sfu_room_driver *room)
{
    sfu_host *host = room->host;
    const sfu_host_config *cfg = sfu_host_cfg(host);
    sfu_out *out = sfu_worker_out(sfu_host_worker(host));
    for (uint32_t i = 0; i < out->count; i++) {
        if (i % PREFETCH_CHUNK == 0)
            prefetch_peers(host, out, i, out->count - i < PREFETCH_CHUNK ? out->count : i + PREFETCH_CHUNK);
        const sfu_out_item *item = &out->items[i];
        switch (item->type) {
        case SFU_OUT_RTP:
        case SFU_OUT_RTCP:
            sfu_peer_send_out(sfu_host_peer(host, item->leg), item);
            break;
        case SFU_OUT_LEG_EXPIRED: {
            sfu_peer *peer = sfu_host_peer(host, item->leg);
            if (peer)
                sfu_peer_fail(peer, "liveness timeout (no media, no consent)");
            break;
        }
        case SFU_OUT_ACTIVE_SPEAKER:
            if (cfg->on_active_speaker)
                cfg->on_active_speaker(cfg->owner, room->key, item->participant);
            break;
        }
    }
    sfu_out_reset(out);
    sfu_worker *w = sfu_host_worker(host);
    if (!sfu_worker_in_io(w))
        sfu_egress_flush(sfu_worker_egress(w));
    sfu_room_driver_rearm(room);
}
