#include "sfu/net/egress.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

typedef struct dgram {
    int fd;
    socklen_t tolen;
    struct sockaddr_storage to;
    uint16_t len;
    uint8_t data[SFU_EGRESS_DGRAM_CAP];
} dgram;

struct sfu_egress {
    dgram q[SFU_EGRESS_MAX];
    uint32_t n;
    bool reserved;
    uint16_t order[SFU_EGRESS_MAX];     /* flush: indexes grouped by socket */
    struct mmsghdr msgs[SFU_EGRESS_MAX];
    struct iovec iov[SFU_EGRESS_MAX];
    uint64_t failed, calls;
};

sfu_egress *sfu_egress_new(void) { return g_new0(sfu_egress, 1); }
void sfu_egress_free(sfu_egress *eg) { g_free(eg); }
size_t sfu_egress_held(const sfu_egress *eg) { return eg->n; }
uint64_t sfu_egress_failed(const sfu_egress *eg) { return eg->failed; }
uint64_t sfu_egress_calls(const sfu_egress *eg) { return eg->calls; }

uint8_t *sfu_egress_reserve(sfu_egress *eg, int fd, const struct sockaddr *to, socklen_t tolen)
{
    if (eg->n == SFU_EGRESS_MAX)
        sfu_egress_flush(eg);
    dgram *d = &eg->q[eg->n];
    d->fd = fd;
    d->tolen = tolen <= sizeof d->to ? tolen : sizeof d->to;
    memcpy(&d->to, to, d->tolen);
    eg->reserved = true;
    return d->data;
}

void sfu_egress_commit(sfu_egress *eg, size_t len)
{
    if (!eg->reserved)
        return;
    eg->reserved = false;
    if (len == 0 || len > SFU_EGRESS_DGRAM_CAP)
        return;
    eg->q[eg->n++].len = (uint16_t)len;
}

/* Sends q[order[from..to)], all on one socket. */
static void send_run(sfu_egress *eg, uint32_t from, uint32_t to)
{
    uint32_t k = 0;
    for (uint32_t i = from; i < to; i++, k++) {
        dgram *d = &eg->q[eg->order[i]];
        eg->iov[k] = (struct iovec){ .iov_base = d->data, .iov_len = d->len };
        eg->msgs[k] = (struct mmsghdr){ .msg_hdr = { .msg_name = &d->to,
                                                     .msg_namelen = d->tolen,
                                                     .msg_iov = &eg->iov[k],
                                                     .msg_iovlen = 1 } };
    }
    int fd = eg->q[eg->order[from]].fd;
    uint32_t sent = 0;
    while (sent < k) {
        eg->calls++;
        int r = sendmmsg(fd, eg->msgs + sent, k - sent, MSG_DONTWAIT);
        if (r > 0) {
            sent += (uint32_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            eg->failed += k - sent;     /* a full buffer is loss */
            return;
        }
        eg->failed++;                   /* this one is refused; go on */
        sent++;
    }
}

void sfu_egress_flush(sfu_egress *eg)
{
    uint32_t n = eg->n;
    if (n == 0)
        return;
    /* Group by socket, keeping each socket's order: a stable insertion sort
     * on fd (the batch is small, and mostly one entry per socket). */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i;
        while (j > 0 && eg->q[eg->order[j - 1]].fd > eg->q[i].fd) {
            eg->order[j] = eg->order[j - 1];
            j--;
        }
        eg->order[j] = (uint16_t)i;
    }
    uint32_t start = 0;
    for (uint32_t i = 1; i <= n; i++)
        if (i == n || eg->q[eg->order[i]].fd != eg->q[eg->order[start]].fd) {
            send_run(eg, start, i);
            start = i;
        }
    eg->n = 0;
}
