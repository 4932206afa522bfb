#include "sfu/net/recv_batch.h"

#include <errno.h>

int sfu_recv_batch_read(sfu_recv_batch *b, sfu_worker *w, int fd)
{
    for (int i = 0; i < SFU_RECV_BATCH; i++) {
        b->iov[i] = (struct iovec){ .iov_base = b->buf[i], .iov_len = SFU_RECV_CAP };
        b->msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &b->from[i],
                                                    .msg_namelen = sizeof b->from[i],
                                                    .msg_iov = &b->iov[i],
                                                    .msg_iovlen = 1 } };
    }
    int n = recvmmsg(fd, b->msgs, SFU_RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n > 0) {
        int saved = errno;
        sfu_worker_note_read(w, (unsigned)n, n == SFU_RECV_BATCH);
        errno = saved;
    }
    return n;
}
