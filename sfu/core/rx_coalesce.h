/* Read coalescing for the worker's loop (interrupt moderation): when
 * datagrams arrive fast enough that a short wait gathers several of them,
 * the loop waits a little after a wake-up before reading again, so one
 * epoll_wait, one recvmmsg and one sendmmsg carry several packets instead of
 * one each. 5000 audio packets a second spread over 100 clients otherwise
 * wake the worker once per packet, and each wake-up's fixed cost (the
 * scheduler, three system calls, the receiver's wake-up on loopback) is
 * most of a packet's.
 *
 * The rules, so that nothing waits for long and nothing starves:
 * - wait only while the arrival rate over the last period expects at least
 *   SFU_RX_COALESCE_MIN_BATCH datagrams per window: a lone packet at low
 *   load is read at once;
 * - the wait ends at most `window_us` after the previous wake-up began, and
 *   never after the loop's next deadline (timers, GLib);
 * - no wait when the previous wake-up left datagrams unread (a read filled
 *   its batch): the backlog is read at once.
 * Pure: the caller reads the clock and sleeps. */
#ifndef SFU_CORE_RX_COALESCE_H
#define SFU_CORE_RX_COALESCE_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu/core/common.h"

/* The arrival rate is counted over periods of this length. */
#define SFU_RX_COALESCE_PERIOD_US 100000
/* A wait pays when it gathers this many datagrams (one more system call, the
 * sleep, against the reads and sends it saves). */
#define SFU_RX_COALESCE_MIN_BATCH 2

typedef struct sfu_rx_coalesce {
    sfu_time window_us;         /* 0: off */
    sfu_time period_start;
    uint32_t period_dgrams;
    uint32_t rate;              /* datagrams per second over the last period */
    bool backlog;               /* the last wake-up left datagrams unread */
    bool started;
} sfu_rx_coalesce;

void sfu_rx_coalesce_init(sfu_rx_coalesce *c, sfu_time window_us);

/* After a wake-up that began at `now`: it read `dgrams` datagrams, and
 * `backlog` if a read stopped at its batch size. */
void sfu_rx_coalesce_note(sfu_rx_coalesce *c, sfu_time now, uint32_t dgrams, bool backlog);

/* Before the next wait: until when to hold off reading, given that the last
 * wake-up began at `woke` and the loop's next deadline is `deadline`. 0 (or
 * any instant already past) for "read at once". */
sfu_time sfu_rx_coalesce_until(const sfu_rx_coalesce *c, sfu_time woke, sfu_time deadline);

#endif
