/* Does UDP GSO (UDP_SEGMENT, Linux 4.18) make a burst to one receiver
 * cheaper on loopback? A burst of N datagrams of S bytes to one socket, sent
 * (a) with one sendmmsg of N messages, (b) with one sendmsg of N*S bytes and
 * UDP_SEGMENT = S; the receiver drains with recvmmsg after each burst. CPU
 * time of the sending and of the receiving calls (thread CPU: on loopback
 * the receive path up to the socket runs inside the sender's call), per
 * datagram, median of 7 rounds of 20,000 bursts. make gso-speed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define MAXN 64
#define ROUNDS 7
#define BURSTS 20000

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint8_t payload[MAXN * 1500];
static uint8_t rbuf[MAXN][2048];

static int drain(int rx, unsigned n)
{
    struct mmsghdr m[MAXN];
    struct iovec iov[MAXN];
    for (unsigned i = 0; i < n; i++) {
        iov[i] = (struct iovec){ rbuf[i], sizeof rbuf[i] };
        m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
    }
    unsigned got = 0;
    while (got < n) {
        int r = recvmmsg(rx, m + got, n - got, MSG_DONTWAIT, NULL);
        if (r <= 0)
            return -1;
        got += (unsigned)r;
    }
    return 0;
}

/* Sends one burst; returns 0 or -1. */
static int burst(int tx, const struct sockaddr_in *to, unsigned n, unsigned size, int gso)
{
    if (gso) {
        struct iovec iov = { payload, (size_t)n * size };
        char ctl[CMSG_SPACE(sizeof(uint16_t))] = { 0 };
        struct msghdr h = { .msg_name = (void *)to, .msg_namelen = sizeof *to, .msg_iov = &iov,
                            .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
        struct cmsghdr *c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t seg = (uint16_t)size;
        memcpy(CMSG_DATA(c), &seg, sizeof seg);
        return sendmsg(tx, &h, 0) == (ssize_t)(n * size) ? 0 : -1;
    }
    struct mmsghdr m[MAXN];
    struct iovec iov[MAXN];
    for (unsigned i = 0; i < n; i++) {
        iov[i] = (struct iovec){ payload + (size_t)i * size, size };
        m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = (void *)to, .msg_namelen = sizeof *to,
                                              .msg_iov = &iov[i], .msg_iovlen = 1 } };
    }
    return sendmmsg(tx, m, n, 0) == (int)n ? 0 : -1;
}

static int run(unsigned n, unsigned size, int gso, double *send_ns, double *recv_ns)
{
    int tx = socket(AF_INET, SOCK_DGRAM, 0), rx = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    int big = 4 << 20;
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (tx < 0 || rx < 0 || bind(rx, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(rx, (struct sockaddr *)&a, &al) != 0)
        return -1;
    double s[ROUNDS], r[ROUNDS];
    for (int k = 0; k < ROUNDS; k++) {
        double ts = 0, tr = 0;
        for (int b = 0; b < BURSTS; b++) {
            double t0 = cpu_ns();
            if (burst(tx, &a, n, size, gso) != 0)
                return -1;
            double t1 = cpu_ns();
            if (drain(rx, n) != 0)
                return -1;
            tr += cpu_ns() - t1;
            ts += t1 - t0;
        }
        s[k] = ts / BURSTS / n;
        r[k] = tr / BURSTS / n;
    }
    qsort(s, ROUNDS, sizeof s[0], cmp);
    qsort(r, ROUNDS, sizeof r[0], cmp);
    *send_ns = s[ROUNDS / 2];
    *recv_ns = r[ROUNDS / 2];
    return 0;
}

int main(void)
{
    static const unsigned bursts[] = { 1, 2, 3, 4, 8, 16, 40 };
    const unsigned size = 1232;     /* 1200 bytes of RTP and a 16-byte GCM tag, plus header room */
    memset(payload, 0x5a, sizeof payload);
    printf("%-8s %-10s %14s %14s %14s\n", "burst", "method", "send ns/dgram", "recv ns/dgram",
           "total");
    for (unsigned i = 0; i < sizeof bursts / sizeof bursts[0]; i++)
        for (int gso = 0; gso < 2; gso++) {
            double s, r;
            if (run(bursts[i], size, gso, &s, &r) != 0) {
                perror(gso ? "UDP_SEGMENT" : "sendmmsg");
                return 1;
            }
            printf("%-8u %-10s %14.0f %14.0f %14.0f\n", bursts[i], gso ? "gso" : "sendmmsg", s, r,
                   s + r);
        }
    return 0;
}
