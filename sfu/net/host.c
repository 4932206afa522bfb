#include "sfu/net/host.h"

#include <string.h>

#include "sfu/net/shared_port.h"

/* The low bits of a leg id are its peer's slot in the host's table, so the
 * peer of an output is one index away; the high bits, from a counter shared
 * by the workers, keep ids distinct over time and between workers (logs
 * name legs by id). */
#define SLOT_BITS 16u
#define SLOT_MASK ((1u << SLOT_BITS) - 1u)
#define SLOTS_MAX (1u << SLOT_BITS)

struct sfu_host {
    sfu_worker *worker;
    const sfu_host_config *cfg;
    GHashTable *rooms;          /* key -> sfu_room_driver */
    sfu_peer **slots;           /* slot -> peer or NULL */
    uint32_t nslots;            /* allocated */
    uint32_t free_hint;         /* the lowest slot that may be free */
    sfu_host_stats stats;
    sfu_shared_port *shared;    /* owned; NULL when media.udp_port is off */
};

static uint32_t next_epoch(void)
{
    static gint counter;
    uint32_t e;
    do
        e = (uint32_t)g_atomic_int_add(&counter, 1) & (0xffffffffu >> SLOT_BITS);
    while (e == 0);
    return e;
}

sfu_leg_id sfu_host_attach_peer(sfu_host *host, sfu_peer *peer)
{
    uint32_t slot = host->free_hint;
    while (slot < host->nslots && host->slots[slot])
        slot++;
    if (slot == host->nslots) {
        if (host->nslots == SLOTS_MAX)
            return 0;
        uint32_t n = host->nslots ? host->nslots * 2 : 64;
        host->slots = g_renew(sfu_peer *, host->slots, n);
        memset(host->slots + host->nslots, 0, (n - host->nslots) * sizeof *host->slots);
        host->nslots = n;
    }
    host->slots[slot] = peer;
    host->free_hint = slot + 1;
    host->stats.peers_live++;
    return (sfu_leg_id)(next_epoch() << SLOT_BITS | slot);
}

void sfu_host_detach_peer(sfu_host *host, sfu_leg_id leg)
{
    uint32_t slot = leg & SLOT_MASK;
    if (slot >= host->nslots || !host->slots[slot])
        return;
    host->slots[slot] = NULL;
    if (slot < host->free_hint)
        host->free_hint = slot;
    host->stats.peers_live--;
}

sfu_peer *sfu_host_peer(const sfu_host *host, sfu_leg_id leg)
{
    uint32_t slot = leg & SLOT_MASK;
    if (slot >= host->nslots)
        return NULL;
    sfu_peer *peer = host->slots[slot];
    return peer && sfu_peer_leg(peer) == leg ? peer : NULL;
}

void sfu_host_prefetch_peer(const sfu_host *host, sfu_leg_id leg)
{
    uint32_t slot = leg & SLOT_MASK;
    if (slot < host->nslots && host->slots[slot])
        __builtin_prefetch(host->slots[slot]);
}

sfu_room_driver *sfu_host_room_acquire(sfu_host *host, const char *key)
{
    sfu_room_driver *room = g_hash_table_lookup(host->rooms, key);
    if (!room) {
        room = sfu_room_driver_new(host, key);
        if (!room)
            return NULL;
        g_hash_table_insert(host->rooms, (gpointer)sfu_room_driver_key(room), room);
    }
    (*sfu_room_driver_refs(room))++;
    return room;
}

void sfu_host_room_release(sfu_host *host, sfu_room_driver *room)
{
    if (--*sfu_room_driver_refs(room) == 0)
        g_hash_table_remove(host->rooms, sfu_room_driver_key(room));
}

sfu_time sfu_host_now(const sfu_host *host)
{
    /* The worker reads the clock once per wake-up; every callback of that
     * wake-up, GLib's included, sees that time. */
    return sfu_worker_now(host->worker);
}

sfu_host *sfu_host_new(sfu_worker *worker, const sfu_host_config *cfg)
{
    sfu_host *host = g_new0(sfu_host, 1);
    host->worker = worker;
    host->cfg = cfg;
    host->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify)sfu_room_driver_free);
    return host;
}

void sfu_host_free(sfu_host *host)
{
    if (!host)
        return;
    for (uint32_t i = 0; i < host->nslots; i++)
        if (host->slots[i])
            sfu_peer_free(host->slots[i]);
    g_free(host->slots);
    g_hash_table_destroy(host->rooms);
    sfu_shared_port_free(host->shared);
    g_free(host);
}

sfu_worker *sfu_host_worker(sfu_host *host) { return host->worker; }

void sfu_host_set_shared_port(sfu_host *host, sfu_shared_port *port)
{
    sfu_shared_port_free(host->shared);
    host->shared = port;
}

sfu_shared_port *sfu_host_shared_port(sfu_host *host) { return host->shared; }
const sfu_host_config *sfu_host_cfg(const sfu_host *host) { return host->cfg; }
sfu_host_stats *sfu_host_stats_mut(sfu_host *host) { return &host->stats; }

void sfu_host_stats_get(sfu_host *host, sfu_host_stats *out)
{
    *out = host->stats;
    out->rooms_live = g_hash_table_size(host->rooms);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, host->rooms);
    while (g_hash_table_iter_next(&it, NULL, &value))
        sfu_room_driver_stats_add(value, &out->rooms);
    if (host->shared) {
        sfu_shared_port_stats sp;
        sfu_shared_port_stats_get(host->shared, &sp);
        out->shared_dgrams_in = sp.dgrams_in;
        out->shared_dgrams_out = sp.dgrams_out;
        out->shared_checks = sp.checks;
        out->shared_drop_unknown = sp.drop_unknown;
        out->shared_drop_stun = sp.drop_stun;
        out->shared_sessions = sp.sessions;
    }
    const sfu_buf_pool *pool = sfu_worker_pool(host->worker);
    out->buffers_in_use = sfu_buf_pool_in_use(pool);
    out->buffers_allocated = sfu_buf_pool_capacity(pool);
    out->buffer_pool_grown = sfu_buf_pool_grown(pool);
    out->buffer_pool_refused = sfu_buf_pool_exhausted(pool);
    /* Counted as sent when queued; the kernel's refusals come at the flush. */
    uint64_t refused = sfu_egress_failed(sfu_worker_egress(host->worker));
    out->drops[SFU_HOST_DROP_SEND_FAILED] += refused;
    out->packets_out -= refused < out->packets_out ? refused : out->packets_out;
}
