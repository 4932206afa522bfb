/* A bounded multi-producer, single-consumer command queue with one wake-up
 * per batch: the hand-off between threads (signaling to a worker, a worker
 * to signaling). Any thread posts; one thread drains, when the queue's
 * descriptor (an eventfd) is readable. A post writes the eventfd only when
 * the consumer has not been told yet since its last drain, so a burst of
 * posts costs the consumer one wake-up, and the consumer's loop polls one
 * descriptor, not a source per call.
 *
 * Admission and follow-ups as in sfu/core/cmd_ring.h: new work is refused
 * with -SFU_ELIMIT past the bound (the caller answers 503), a follow-up of
 * admitted work is always taken. Nothing is ever dropped or blocked on. */
#ifndef SFU_NET_CMD_QUEUE_H
#define SFU_NET_CMD_QUEUE_H

#include <stdint.h>

typedef struct sfu_cmd_queue sfu_cmd_queue;

/* NULL when the eventfd or memory cannot be had. */
sfu_cmd_queue *sfu_cmd_queue_new(uint32_t cap);
/* Entries still waiting are not run: drain first. */
void sfu_cmd_queue_free(sfu_cmd_queue *q);
/* Readable while entries wait for a drain. */
int sfu_cmd_queue_fd(const sfu_cmd_queue *q);

/* Thread-safe. New work: 0, or -SFU_ELIMIT when the queue is full. */
int sfu_cmd_queue_post(sfu_cmd_queue *q, void (*fn)(void *arg), void *arg);
/* Thread-safe. Admission without a post (sfu_cmd_ring_admit): 0, or
 * -SFU_ELIMIT when the queue is full, counted as refused. */
int sfu_cmd_queue_admit(sfu_cmd_queue *q);
/* Thread-safe. A follow-up of admitted work: always queued (aborts only
 * when memory runs out, which no caller could handle better). */
void sfu_cmd_queue_post_follow(sfu_cmd_queue *q, void (*fn)(void *arg), void *arg);

/* The consumer: runs the entries that wait when it starts, in the order
 * they were posted, outside the lock (an entry may post more: those wake
 * the next drain). Returns how many ran. */
unsigned sfu_cmd_queue_drain(sfu_cmd_queue *q);

typedef struct sfu_cmd_queue_stats {
    uint32_t waiting, peak, cap;
    uint64_t posted, refused, wakeups;
} sfu_cmd_queue_stats;
void sfu_cmd_queue_stats_get(sfu_cmd_queue *q, sfu_cmd_queue_stats *out);

#endif
