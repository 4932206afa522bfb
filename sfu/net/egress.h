/* The egress batch of one worker: datagrams protected during a wake-up wait
 * here and go out at its end, one sendmmsg per socket, so that a viewer that
 * gets several packets in one wake-up (a recvmmsg batch from its publisher,
 * a keyframe burst, RTP and RTCP) pays one syscall for them; a stretch of
 * equal-sized datagrams to one destination goes as one UDP GSO message
 * (UDP_SEGMENT, gso_plan.h), which the kernel carries through its stack as
 * one until the receiving socket. Each peer has its own socket, so one
 * input's fan-out still costs a send per viewer: sendmmsg batches per
 * socket only, which is why the batch is large enough to hold a keyframe
 * burst's fan-out (SFU_EGRESS_MAX datagrams, touched only as far as a
 * wake-up fills it). Worker thread only. */
#ifndef SFU_NET_EGRESS_H
#define SFU_NET_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sfu/core/buf.h"

#define SFU_EGRESS_MAX 2048             /* datagrams held before a flush */
#define SFU_EGRESS_DGRAM_CAP 1900       /* a flattened packet plus SRTP's trailer */

typedef struct sfu_egress sfu_egress;

sfu_egress *sfu_egress_new(void);
void sfu_egress_free(sfu_egress *eg);

/* Room for one datagram of at most SFU_EGRESS_DGRAM_CAP bytes to `to` on
 * `fd` (copied); it flushes first when full. Fill it, then commit its
 * length, or commit 0 to give it back. */
uint8_t *sfu_egress_reserve(sfu_egress *eg, int fd, const struct sockaddr *to, socklen_t tolen);
void sfu_egress_commit(sfu_egress *eg, size_t len);
/* Sends everything held, one sendmmsg per socket, in order per socket. A
 * full socket buffer drops the rest for that socket (loss, as with a single
 * send). */
void sfu_egress_flush(sfu_egress *eg);
size_t sfu_egress_held(const sfu_egress *eg);
/* Datagrams the kernel refused, and sendmmsg calls made, since the start. */
uint64_t sfu_egress_failed(const sfu_egress *eg);
uint64_t sfu_egress_calls(const sfu_egress *eg);
/* GSO messages sent and the datagrams in them. */
uint64_t sfu_egress_gso_trains(const sfu_egress *eg);
uint64_t sfu_egress_gso_dgrams(const sfu_egress *eg);
/* GSO on (the default) or off; it turns itself off when the kernel refuses
 * a GSO message on a socket. */
void sfu_egress_set_gso(sfu_egress *eg, bool on);

#endif
