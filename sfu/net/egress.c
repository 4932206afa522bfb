#include "sfu/net/egress.h"

#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#include "sfu/core/gso_plan.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103                 /* Linux 4.18 */
#endif

#define GSO_MIN_SEGS 2
#define GSO_MAX_SEGS 64                 /* the kernel's UDP_MAX_SEGMENTS */
#define GSO_MAX_BYTES 60000             /* under a 64 KiB datagram with headers */
#define GROUP_SLOTS 4096                /* fd hash for grouping, > 2 x SFU_EGRESS_MAX */
#define DEST_SLOTS 4096                 /* destination hash of one run, > 2 x SFU_EGRESS_MAX */

typedef struct dgram {
    int fd;
    socklen_t tolen;
    struct sockaddr_storage to;
    uint16_t len;
    uint8_t data[SFU_EGRESS_DGRAM_CAP];
} dgram;

typedef union gso_ctl {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
} gso_ctl;

/* Grouping by socket: per fd (open addressing, valid in the flush whose
 * generation it carries) the first and last index of its chain. */
typedef struct group_slot {
    uint32_t gen;
    int fd;
    uint16_t head, tail;
} group_slot;

/* Ordering one socket's run by destination: per destination (open
 * addressing, valid in the run whose generation it carries) its id. */
typedef struct dest_slot {
    uint32_t gen;
    uint16_t first;                     /* a held index with this destination */
    uint16_t id;
} dest_slot;

struct sfu_egress {
    dgram q[SFU_EGRESS_MAX];
    uint32_t n;
    bool reserved;
    bool gso;                           /* UDP_SEGMENT works here (until refused) */
    uint16_t order[SFU_EGRESS_MAX];     /* flush: indexes grouped by socket */
    uint16_t next[SFU_EGRESS_MAX];      /* flush: the next index on the same socket */
    group_slot groups[GROUP_SLOTS];
    uint32_t gen;
    /* one socket's run */
    uint16_t lens[SFU_EGRESS_MAX];
    uint32_t dests[SFU_EGRESS_MAX];
    sfu_gso_msg plan[SFU_EGRESS_MAX];
    struct mmsghdr msgs[SFU_EGRESS_MAX];
    struct iovec iov[SFU_EGRESS_MAX];
    gso_ctl ctl[SFU_EGRESS_MAX];
    /* ordering a run by destination */
    dest_slot dslots[DEST_SLOTS];
    uint32_t dgen;
    uint16_t dest_of[SFU_EGRESS_MAX];
    uint16_t dest_at[SFU_EGRESS_MAX + 1];
    uint16_t sorted[SFU_EGRESS_MAX];
    uint64_t failed, calls, gso_trains, gso_dgrams;
};

sfu_egress *sfu_egress_new(void)
{
    sfu_egress *eg = g_new0(sfu_egress, 1);
    eg->gso = true;
    return eg;
}
void sfu_egress_free(sfu_egress *eg) { g_free(eg); }
size_t sfu_egress_held(const sfu_egress *eg) { return eg->n; }
uint64_t sfu_egress_failed(const sfu_egress *eg) { return eg->failed; }
uint64_t sfu_egress_calls(const sfu_egress *eg) { return eg->calls; }
uint64_t sfu_egress_gso_trains(const sfu_egress *eg) { return eg->gso_trains; }
uint64_t sfu_egress_gso_dgrams(const sfu_egress *eg) { return eg->gso_dgrams; }
void sfu_egress_set_gso(sfu_egress *eg, bool on) { eg->gso = on; }

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

static bool same_dest(const dgram *a, const dgram *b)
{
    return a->tolen == b->tolen && memcmp(&a->to, &b->to, a->tolen) == 0;
}

static uint32_t dest_hash(const dgram *d)
{
    uint32_t h = 2166136261u;
    const uint8_t *b = (const uint8_t *)&d->to;
    for (socklen_t i = 0; i < d->tolen; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

/* order[from..to) (one socket's run) regrouped by destination, each
 * destination's datagrams in the order they were held and the destinations
 * in the order they first appear: on the shared port a wake-up holds its
 * fan-out packet by packet (every viewer's copy of the first packet, then
 * of the second), and a viewer's packets must be neighbours to make a GSO
 * train. Nothing is reordered for any one destination. */
static void order_by_dest(sfu_egress *eg, uint32_t from, uint32_t to)
{
    uint32_t k = to - from, ndest = 0;
    if (++eg->dgen == 0) {
        memset(eg->dslots, 0, sizeof eg->dslots);
        eg->dgen = 1;
    }
    for (uint32_t i = 0; i < k; i++) {
        const dgram *d = &eg->q[eg->order[from + i]];
        uint32_t h = dest_hash(d) & (DEST_SLOTS - 1);
        while (eg->dslots[h].gen == eg->dgen && !same_dest(&eg->q[eg->dslots[h].first], d))
            h = (h + 1) & (DEST_SLOTS - 1);
        dest_slot *s = &eg->dslots[h];
        if (s->gen != eg->dgen) {
            *s = (dest_slot){ .gen = eg->dgen, .first = eg->order[from + i], .id = (uint16_t)ndest };
            eg->dest_at[ndest++] = 0;
        }
        eg->dest_of[i] = s->id;
        eg->dest_at[s->id]++;
    }
    if (ndest == k)
        return;                         /* one datagram per destination */
    uint32_t sum = 0;
    for (uint32_t j = 0; j < ndest; j++) {
        uint32_t c = eg->dest_at[j];
        eg->dest_at[j] = (uint16_t)sum;
        sum += c;
    }
    for (uint32_t i = 0; i < k; i++)
        eg->sorted[eg->dest_at[eg->dest_of[i]]++] = eg->order[from + i];
    memcpy(&eg->order[from], eg->sorted, k * sizeof eg->sorted[0]);
}

/* Sends q[order[from..to)], all on one socket: one sendmmsg whose messages
 * are single datagrams or GSO trains (gso_plan.h) of one viewer's burst. */
static void send_run(sfu_egress *eg, uint32_t from, uint32_t to)
{
    uint32_t k = to - from;
    if (eg->gso && k > 2)
        order_by_dest(eg, from, to);
    for (uint32_t i = 0; i < k; i++) {
        const dgram *d = &eg->q[eg->order[from + i]];
        eg->lens[i] = d->len;
        eg->dests[i] = i > 0 && same_dest(d, &eg->q[eg->order[from + i - 1]]) ? eg->dests[i - 1] : i;
    }
    size_t m = sfu_gso_plan(eg->lens, eg->dests, k, GSO_MIN_SEGS, eg->gso ? GSO_MAX_SEGS : 1,
                            GSO_MAX_BYTES, eg->plan);
    for (size_t j = 0; j < m; j++) {
        const sfu_gso_msg *pm = &eg->plan[j];
        for (uint32_t i = pm->first; i < pm->first + pm->count; i++) {
            dgram *d = &eg->q[eg->order[from + i]];
            eg->iov[i] = (struct iovec){ .iov_base = d->data, .iov_len = d->len };
        }
        dgram *d0 = &eg->q[eg->order[from + pm->first]];
        eg->msgs[j] = (struct mmsghdr){ .msg_hdr = { .msg_name = &d0->to,
                                                     .msg_namelen = d0->tolen,
                                                     .msg_iov = &eg->iov[pm->first],
                                                     .msg_iovlen = pm->count } };
        if (pm->count > 1) {
            struct msghdr *h = &eg->msgs[j].msg_hdr;
            memset(&eg->ctl[j], 0, sizeof eg->ctl[j]);
            h->msg_control = eg->ctl[j].buf;
            h->msg_controllen = sizeof eg->ctl[j].buf;
            struct cmsghdr *c = CMSG_FIRSTHDR(h);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            memcpy(CMSG_DATA(c), &pm->seg, sizeof pm->seg);
        }
    }
    int fd = eg->q[eg->order[from]].fd;
    size_t sent = 0;
    while (sent < m) {
        eg->calls++;
        int r = sendmmsg(fd, eg->msgs + sent, (unsigned)(m - sent), MSG_DONTWAIT);
        if (r > 0) {
            for (size_t j = sent; j < sent + (size_t)r; j++)
                if (eg->plan[j].count > 1) {
                    eg->gso_trains++;
                    eg->gso_dgrams += eg->plan[j].count;
                }
            sent += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        uint32_t left = k - eg->plan[sent].first;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            eg->failed += left;         /* a full buffer is loss */
            return;
        }
        if (eg->plan[sent].count > 1) {
            /* A socket or route without UDP GSO (no checksum offload,
             * IPsec, an old kernel): send singly from here on. */
            eg->gso = false;
            send_run(eg, from + eg->plan[sent].first, to);
            return;
        }
        eg->failed++;                   /* this one is refused; go on */
        sent++;
    }
}

/* order[] = every held index, grouped by socket in the order each socket
 * first appears, each socket's datagrams in the order they were held. */
static void group_by_socket(sfu_egress *eg)
{
    uint32_t n = eg->n;
    if (++eg->gen == 0) {
        memset(eg->groups, 0, sizeof eg->groups);
        eg->gen = 1;
    }
    uint32_t nfirst = 0;
    uint16_t *firsts = eg->lens;        /* scratch until send_run */
    for (uint32_t i = 0; i < n; i++) {
        int fd = eg->q[i].fd;
        uint32_t h = ((uint32_t)fd * 2654435761u) & (GROUP_SLOTS - 1);
        while (eg->groups[h].gen == eg->gen && eg->groups[h].fd != fd)
            h = (h + 1) & (GROUP_SLOTS - 1);
        group_slot *g = &eg->groups[h];
        eg->next[i] = UINT16_MAX;
        if (g->gen != eg->gen) {
            *g = (group_slot){ .gen = eg->gen, .fd = fd, .head = (uint16_t)i, .tail = (uint16_t)i };
            firsts[nfirst++] = (uint16_t)i;
        } else {
            eg->next[g->tail] = (uint16_t)i;
            g->tail = (uint16_t)i;
        }
    }
    uint32_t o = 0;
    for (uint32_t f = 0; f < nfirst; f++)
        for (uint32_t i = firsts[f]; i != UINT16_MAX; i = eg->next[i])
            eg->order[o++] = (uint16_t)i;
}

void sfu_egress_flush(sfu_egress *eg)
{
    uint32_t n = eg->n;
    if (n == 0)
        return;
    group_by_socket(eg);
    uint32_t start = 0;
    for (uint32_t i = 1; i <= n; i++)
        if (i == n || eg->q[eg->order[i]].fd != eg->q[eg->order[start]].fd) {
            send_run(eg, start, i);
            start = i;
        }
    eg->n = 0;
}
