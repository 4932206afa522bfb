#include "sfu/core/cmd_ring.h"

#include <stdlib.h>
#include <string.h>

#include "sfu/core/common.h"

int sfu_cmd_ring_init(sfu_cmd_ring *r, uint32_t cap)
{
    memset(r, 0, sizeof *r);
    if (cap == 0)
        return -SFU_EINVAL;
    uint32_t size = 16;
    while (size < cap && size < (1u << 30))
        size *= 2;
    r->slot = malloc(size * sizeof *r->slot);
    if (!r->slot)
        return -SFU_ENOMEM;
    r->size = size;
    r->cap = cap;
    return 0;
}

void sfu_cmd_ring_deinit(sfu_cmd_ring *r)
{
    free(r->slot);
    r->slot = NULL;
    r->size = r->len = r->head = 0;
}

/* Doubles the slots, keeping the order (the oldest first). */
static int grow(sfu_cmd_ring *r)
{
    if (r->size >= (1u << 30))
        return -SFU_ENOMEM;
    sfu_cmd *slot = malloc(2 * (size_t)r->size * sizeof *slot);
    if (!slot)
        return -SFU_ENOMEM;
    for (uint32_t i = 0; i < r->len; i++)
        slot[i] = r->slot[(r->head + i) & (r->size - 1)];
    free(r->slot);
    r->slot = slot;
    r->head = 0;
    r->size *= 2;
    return 0;
}

static int append(sfu_cmd_ring *r, sfu_cmd c)
{
    if (r->len == r->size) {
        int rc = grow(r);
        if (rc != 0)
            return rc;
    }
    r->slot[(r->head + r->len) & (r->size - 1)] = c;
    r->len++;
    if (r->len > r->peak)
        r->peak = r->len;
    return 0;
}

int sfu_cmd_ring_push(sfu_cmd_ring *r, sfu_cmd c)
{
    if (r->len >= r->cap) {
        r->refused++;
        return -SFU_ELIMIT;
    }
    return append(r, c);
}

int sfu_cmd_ring_admit(sfu_cmd_ring *r)
{
    if (r->len >= r->cap) {
        r->refused++;
        return -SFU_ELIMIT;
    }
    return 0;
}

int sfu_cmd_ring_push_follow(sfu_cmd_ring *r, sfu_cmd c) { return append(r, c); }

bool sfu_cmd_ring_pop(sfu_cmd_ring *r, sfu_cmd *out)
{
    if (r->len == 0)
        return false;
    *out = r->slot[r->head];
    r->head = (r->head + 1) & (r->size - 1);
    r->len--;
    return true;
}

uint32_t sfu_cmd_ring_len(const sfu_cmd_ring *r) { return r->len; }
