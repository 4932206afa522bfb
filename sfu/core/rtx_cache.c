#include "sfu/core/rtx_cache.h"

#include <stdlib.h>

typedef struct slot {
    uint64_t seq;
    sfu_time at;
    sfu_buf *buf;
} slot;

struct sfu_rtx_cache {
    uint32_t capacity;
    uint32_t count;
    sfu_time max_age;
    bool started;
    uint64_t newest;
    uint64_t oldest;    /* no packet below it is held, except late ones put below it */
    slot *slots;        /* indexed by seq % capacity */
};

sfu_rtx_cache *sfu_rtx_cache_new(uint32_t capacity, sfu_time max_age)
{
    sfu_rtx_cache *c = calloc(1, sizeof *c);
    if (!c || capacity == 0)
        goto err;
    c->slots = calloc(capacity, sizeof *c->slots);
    if (!c->slots)
        goto err;
    c->capacity = capacity;
    c->max_age = max_age;
    return c;
err:
    sfu_rtx_cache_free(c);
    return NULL;
}

void sfu_rtx_cache_free(sfu_rtx_cache *c)
{
    if (!c)
        return;
    if (c->slots)
        sfu_rtx_cache_clear(c);
    free(c->slots);
    free(c);
}

static void release(sfu_rtx_cache *c, slot *s)
{
    if (!s->buf)
        return;
    sfu_buf_unref(s->buf);
    s->buf = NULL;
    c->count--;
}

/* Packets older than max_age are never handed out again (get): their
 * buffers go back to the pool now, not when their slot is reused. At 60
 * packets a second a 512-slot cache would otherwise hold 8 s of packets for
 * 2 s of use, and 16 such streams fill a worker's default pool (8192): a
 * 30-participant room then dropped most packets as pool_empty. Amortised
 * O(1): `oldest` only moves back for a late packet. */
static void expire(sfu_rtx_cache *c, uint64_t put, sfu_time now)
{
    uint64_t floor = c->newest >= c->capacity ? c->newest - c->capacity + 1 : 0;
    if (put < c->oldest)
        c->oldest = put;
    if (c->oldest < floor)
        c->oldest = floor;
    for (; c->oldest < c->newest; c->oldest++) {
        slot *s = &c->slots[c->oldest % c->capacity];
        if (!s->buf || s->seq != c->oldest)
            continue;
        if (now - s->at <= c->max_age)
            break;
        release(c, s);
    }
}

int sfu_rtx_cache_put(sfu_rtx_cache *c, uint64_t seq, sfu_buf *buf, sfu_time now)
{
    if (c->started && seq + c->capacity <= c->newest)
        return -SFU_ELIMIT;
    slot *s = &c->slots[seq % c->capacity];
    if (s->buf && s->seq == seq)
        return -SFU_ESTATE;
    if (!c->started || seq > c->newest) {
        /* Slots skipped by a jump hold packets now out of the window. */
        uint64_t first = c->started ? c->newest + 1 : seq;
        if (seq - first >= c->capacity)
            first = seq - c->capacity + 1;
        for (uint64_t q = first; q < seq; q++)
            release(c, &c->slots[q % c->capacity]);
        c->newest = seq;
        c->started = true;
    }
    release(c, s);
    s->seq = seq;
    s->at = now;
    s->buf = sfu_buf_ref(buf);
    c->count++;
    expire(c, seq, now);
    return 0;
}

sfu_buf *sfu_rtx_cache_get(const sfu_rtx_cache *c, uint64_t seq, sfu_time now)
{
    const slot *s = &c->slots[seq % c->capacity];
    if (!s->buf || s->seq != seq || now - s->at > c->max_age)
        return NULL;
    return s->buf;
}

sfu_time sfu_rtx_cache_age(const sfu_rtx_cache *c, uint64_t seq, sfu_time now)
{
    const slot *s = &c->slots[seq % c->capacity];
    if (!s->buf || s->seq != seq)
        return -1;
    return now - s->at;
}

void sfu_rtx_cache_clear(sfu_rtx_cache *c)
{
    for (uint32_t i = 0; i < c->capacity; i++)
        release(c, &c->slots[i]);
    c->started = false;
    c->newest = 0;
    c->oldest = 0;
}

uint32_t sfu_rtx_cache_count(const sfu_rtx_cache *c) { return c->count; }
