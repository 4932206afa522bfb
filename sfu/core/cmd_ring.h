/* The order and the bound of a command queue: a FIFO of (fn, arg) pairs
 * with admission control. Pure: no lock and no wake-up here; the thread-safe
 * queue around it is sfu/net/cmd_queue.h.
 *
 * Two ways in. A new piece of work (an HTTP request that wants a worker) is
 * admitted only while fewer than `cap` entries wait: past that the caller
 * gets -SFU_ELIMIT and answers 503 at once, instead of queueing without end
 * behind a stuck or flooded worker. A follow-up of work already admitted (a
 * result going back, the answer of a node-to-node call, a shutdown) is
 * always taken, past `cap` if need be: dropping it would lose a result, and
 * waiting for room would block a thread. Follow-ups are bounded by the work
 * admitted, so the ring grows only as far as that. */
#ifndef SFU_CORE_CMD_RING_H
#define SFU_CORE_CMD_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sfu_cmd {
    void (*fn)(void *arg);
    void *arg;
} sfu_cmd;

typedef struct sfu_cmd_ring {
    sfu_cmd *slot;
    uint32_t size;              /* slots allocated (a power of two) */
    uint32_t head;              /* index of the oldest entry */
    uint32_t len;
    uint32_t cap;               /* admission bound for new work */
    uint32_t peak;              /* most entries ever waiting */
    uint64_t refused;           /* new work turned away */
} sfu_cmd_ring;

/* 0, or -SFU_ENOMEM. `cap` >= 1. */
int sfu_cmd_ring_init(sfu_cmd_ring *r, uint32_t cap);
void sfu_cmd_ring_deinit(sfu_cmd_ring *r);
/* New work: 0, or -SFU_ELIMIT when `cap` entries already wait. */
int sfu_cmd_ring_push(sfu_cmd_ring *r, sfu_cmd c);
/* Work that will be posted as a follow-up once decided elsewhere: 0 while
 * fewer than `cap` entries wait, else -SFU_ELIMIT, counted as refused like
 * a refused push. Nothing is queued. */
int sfu_cmd_ring_admit(sfu_cmd_ring *r);
/* A follow-up of admitted work: 0, or -SFU_ENOMEM only when memory for
 * more slots cannot be had. */
int sfu_cmd_ring_push_follow(sfu_cmd_ring *r, sfu_cmd c);
/* The oldest entry into *out: false when empty. */
bool sfu_cmd_ring_pop(sfu_cmd_ring *r, sfu_cmd *out);
uint32_t sfu_cmd_ring_len(const sfu_cmd_ring *r);

#endif
