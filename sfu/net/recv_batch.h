/* One batched read of a UDP socket from the worker's loop: at most
 * SFU_RECV_BATCH datagrams per wake-up and socket, so one busy socket
 * cannot starve the others (and a wake-up's fan-out fits the egress batch,
 * egress.h), counted for read coalescing (sfu_worker_note_read). The
 * shared port, a parked libnice socket and a relay leg read this way. */
#ifndef SFU_NET_RECV_BATCH_H
#define SFU_NET_RECV_BATCH_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "sfu/net/worker.h"

#define SFU_RECV_BATCH 16
#define SFU_RECV_CAP 2048

typedef struct sfu_recv_batch {
    struct mmsghdr msgs[SFU_RECV_BATCH];    /* msg_len, msg_flags, msg_namelen per datagram */
    struct iovec iov[SFU_RECV_BATCH];
    struct sockaddr_storage from[SFU_RECV_BATCH];
    uint8_t buf[SFU_RECV_BATCH][SFU_RECV_CAP];
} sfu_recv_batch;

/* Reads what `fd` holds, without blocking, into `b`: the number of
 * datagrams, or -1 with errno set. A datagram of length 0 or with MSG_TRUNC
 * is the caller's to skip. */
int sfu_recv_batch_read(sfu_recv_batch *b, sfu_worker *w, int fd);

#endif
