/* What does a loopback fan-out cost its sender, and how much of that is
 * waking the receiver? The model of the SFU in the bench: a "publisher"
 * (another process, pinned to cpu 1) sends one small trigger datagram every
 * period to the sender (pinned to cpu 0), which sleeps in epoll_wait on its
 * socket, reads the trigger and sends N datagrams of 1200 bytes with one
 * sendmmsg, one to each of N receiver sockets owned by the other process.
 * That process reads them
 *   epoll: sleeping in epoll_wait with every receiver socket in its set,
 *   poll:  sleeping in poll() over every socket (GLib's way, the bench's
 *          libnice agents today),
 *   timer: sleeping on a 1 ms timerfd, then poll() with a zero timeout
 *          over the sockets (which queues no waiter) and recvmmsg
 *          (MSG_DONTWAIT) on the ready ones: no waiter on the sockets' wait
 *          queues when the sender's datagram arrives,
 *   timer-epoll: the same with the sockets in an epoll set (epoll_wait with
 *          a zero timeout instead of poll): the epoll entry stays on each
 *          socket's wait queue, though nobody sleeps on the set.
 * Printed per run: the sender's thread CPU per trigger (its wake-up, the
 * trigger's read and the fan-out), inside sendmmsg per datagram, and the
 * receiving process's CPU per datagram; N = 0 is the wake-up cycle alone
 * (sleep in epoll_wait, woken by a datagram, read it). Medians of 5 windows
 * of 2 s (the sendmmsg figure with its min-max). make loopback-floor. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXN 128
#define SIZE 1200
#define ROUNDS 5
#define WINDOW_NS 2000000000LL
#define WARMUP_NS 300000000LL
#define DRAIN_NS 1000000LL

enum mode { MODE_EPOLL, MODE_POLL, MODE_TIMER, MODE_TIMER_EPOLL, MODES };
static const char *const mode_name[] = { "epoll", "poll", "timer", "timer-ep" };

static int64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s); /* best effort: one core runs both */
}

static int udp_socket(struct sockaddr_in *bound)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    int big = 4 << 20;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    *bound = a;
    return fd;
}

static int timer_fd(int64_t period_ns)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec it = { .it_interval = { period_ns / 1000000000, period_ns % 1000000000 },
                             .it_value = { period_ns / 1000000000, period_ns % 1000000000 } };
    if (fd >= 0)
        timerfd_settime(fd, 0, &it, NULL);
    return fd;
}

static uint8_t rbuf[64][2048];

/* Reads everything queued on fd; returns the datagram count. */
static long drain(int fd)
{
    struct mmsghdr m[64];
    struct iovec iov[64];
    long got = 0;
    for (;;) {
        for (unsigned i = 0; i < 64; i++) {
            iov[i] = (struct iovec){ rbuf[i], sizeof rbuf[i] };
            m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
        }
        int r = recvmmsg(fd, m, 64, MSG_DONTWAIT, NULL);
        if (r <= 0)
            return got;
        got += r;
    }
}

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

/* The receiving process: triggers every period_ns to the sender, reads the
 * N sockets as mode says until SIGTERM, then writes its datagram count and
 * CPU ns to out. */
static void receiver(enum mode mode, const int *rx, unsigned n, int tx,
                     const struct sockaddr_in *to, int64_t period_ns, int out)
{
    pin(1);
    signal(SIGTERM, on_term);
    int trig = timer_fd(period_ns);
    bool timed = mode == MODE_TIMER || mode == MODE_TIMER_EPOLL;
    int drain_t = timed ? timer_fd(DRAIN_NS) : -1;
    int ep = epoll_create1(0), ep_rx = mode == MODE_TIMER_EPOLL ? epoll_create1(0) : ep;
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = MAXN };
    epoll_ctl(ep, EPOLL_CTL_ADD, trig, &ev);
    if (timed) {
        ev.data.u32 = MAXN + 1;
        epoll_ctl(ep, EPOLL_CTL_ADD, drain_t, &ev);
    }
    if (mode == MODE_EPOLL || mode == MODE_TIMER_EPOLL) {
        for (unsigned i = 0; i < n; i++) {
            ev.data.u32 = i;
            epoll_ctl(ep_rx, EPOLL_CTL_ADD, rx[i], &ev);
        }
    }
    struct pollfd pfd[MAXN + 1];
    for (unsigned i = 0; i < n; i++)
        pfd[i] = (struct pollfd){ .fd = rx[i], .events = POLLIN };
    pfd[n] = (struct pollfd){ .fd = trig, .events = POLLIN };
    long got = 0;
    uint64_t ticks;
    char one = 1;
    while (!stop) {
        struct epoll_event evs[MAXN + 2];
        int k;
        if (mode == MODE_POLL) {
            k = poll(pfd, n + 1, -1);
            for (unsigned i = 0; k > 0 && i <= n; i++) {
                if (!(pfd[i].revents & POLLIN))
                    continue;
                if (i == n) {
                    if (read(trig, &ticks, sizeof ticks) == sizeof ticks)
                        sendto(tx, &one, 1, 0, (const struct sockaddr *)to, sizeof *to);
                } else {
                    got += drain(rx[i]);
                }
            }
            continue;
        }
        k = epoll_wait(ep, evs, MAXN + 2, -1);
        for (int j = 0; j < k; j++) {
            uint32_t id = evs[j].data.u32;
            if (id == MAXN) {
                if (read(trig, &ticks, sizeof ticks) == sizeof ticks)
                    sendto(tx, &one, 1, 0, (const struct sockaddr *)to, sizeof *to);
            } else if (id == MAXN + 1) {
                if (read(drain_t, &ticks, sizeof ticks) != sizeof ticks)
                    continue;
                if (mode == MODE_TIMER_EPOLL) {
                    struct epoll_event rev[MAXN];
                    int r = epoll_wait(ep_rx, rev, MAXN, 0);
                    for (int q = 0; q < r; q++)
                        got += drain(rx[rev[q].data.u32]);
                } else if (poll(pfd, n, 0) > 0) {
                    for (unsigned i = 0; i < n; i++)
                        if (pfd[i].revents & POLLIN)
                            got += drain(rx[i]);
                }
            } else {
                got += drain(rx[id]);
            }
        }
    }
    for (unsigned i = 0; i < n; i++)
        got += drain(rx[i]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    int64_t res[2] = { got, ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
                                ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000 };
    if (write(out, res, sizeof res) != sizeof res)
        _exit(1);
    _exit(0);
}

typedef struct result {
    double per_trigger_ns, send_ns_per_dgram, rx_ns_per_dgram;
} result;

/* One read of the thread's CPU clock (a system call), taken out of the
 * sender's figures: the loop reads it twice around each sendmmsg. */
static double clock_read_ns;

static void calibrate(void)
{
    int64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < 100000; i++)
        clock_ns(CLOCK_THREAD_CPUTIME_ID);
    clock_read_ns = (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / 100000;
}

static int one_run(enum mode mode, unsigned n, int64_t period_ns, result *r)
{
    int rx[MAXN];
    struct sockaddr_in dst[MAXN], self, pub;
    int me = udp_socket(&self), ptx = udp_socket(&pub);
    for (unsigned i = 0; i < n; i++)
        if ((rx[i] = udp_socket(&dst[i])) < 0)
            return -1;
    int res_pipe[2];
    if (me < 0 || ptx < 0 || pipe(res_pipe) != 0)
        return -1;
    pid_t child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        close(me);
        receiver(mode, rx, n, ptx, &self, period_ns, res_pipe[1]);
    }
    for (unsigned i = 0; i < n; i++)
        close(rx[i]);
    close(ptx);
    pin(0);

    static uint8_t payload[SIZE];
    struct mmsghdr m[MAXN];
    struct iovec iov = { payload, SIZE };
    for (unsigned i = 0; i < n; i++)
        m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &dst[i], .msg_namelen = sizeof dst[i],
                                              .msg_iov = &iov, .msg_iovlen = 1 } };
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN };
    epoll_ctl(ep, EPOLL_CTL_ADD, me, &ev);
    int64_t start = clock_ns(CLOCK_MONOTONIC), t0 = start + WARMUP_NS, t1 = t0 + WINDOW_NS;
    int64_t cpu0 = -1, cpu1 = 0, send_cpu = 0;
    long triggers = 0, sent = 0;
    for (;;) {
        int k = epoll_wait(ep, &ev, 1, 100);
        int64_t now = clock_ns(CLOCK_MONOTONIC);
        if (now >= t1) {
            cpu1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
            break;
        }
        if (now >= t0 && cpu0 < 0)
            cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        if (k <= 0)
            continue;
        long t = drain(me);
        if (cpu0 < 0)
            continue;
        for (long j = 0; j < t && n > 0; j++) {
            int64_t c = clock_ns(CLOCK_THREAD_CPUTIME_ID);
            int s = sendmmsg(me, m, n, 0);
            send_cpu += clock_ns(CLOCK_THREAD_CPUTIME_ID) - c;
            if (s > 0)
                sent += s;
        }
        triggers += t;
    }
    kill(child, SIGTERM);
    int64_t res[2] = { 0, 0 };
    if (read(res_pipe[0], res, sizeof res) != sizeof res)
        res[0] = -1;
    waitpid(child, NULL, 0);
    close(res_pipe[0]);
    close(res_pipe[1]);
    close(me);
    close(ep);
    if (triggers == 0)
        return -1;
    double sends = n ? (double)triggers : 0;
    r->per_trigger_ns = ((double)(cpu1 - cpu0) - 2 * clock_read_ns * sends) / triggers;
    r->send_ns_per_dgram = sent ? ((double)send_cpu - clock_read_ns * sends) / sent : 0;
    /* The receiver ran longer than the window (warm-up, teardown): its CPU
     * over everything it read, which the sender sent in and out of it. */
    r->rx_ns_per_dgram = res[0] > 0 ? (double)res[1] / res[0] : 0;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, ROUNDS, sizeof v[0], cmp);
    return v[ROUNDS / 2];
}

int main(int argc, char **argv)
{
    /* fan-out, trigger period: one-to-many-like (20 and 100 viewers, about
     * 200 input packets/s), voice-calls-like (1 copy, 5000 packets/s), and
     * the wake-up alone. */
    static const struct { unsigned n; int64_t period_ns; } cfg[] = {
        { 0, 1000000 }, { 1, 200000 }, { 20, 5000000 }, { 100, 5000000 }, { 20, 1000000 },
    };
    int only = argc > 1 ? atoi(argv[1]) : -1;
    pin(0);
    calibrate();
    printf("thread CPU clock read: %.0f ns (taken out of the sender's figures)\n", clock_read_ns);
    printf("%-6s %-9s %-9s %14s %15s %22s %11s\n", "fanout", "period_us", "receiver",
           "sender ns/trig", "sender ns/dgram", "sendmmsg ns/dgr (min-max)", "rx ns/dgram");
    for (unsigned c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        if (only >= 0 && (unsigned)only != cfg[c].n)
            continue;
        for (int mode = 0; mode < MODES; mode++) {
            if (cfg[c].n == 0 && mode != MODE_EPOLL)
                continue;                       /* no receiver sockets: the modes are one */
            double pt[ROUNDS], sd[ROUNDS], rx[ROUNDS];
            for (int k = 0; k < ROUNDS; k++) {
                result r;
                if (one_run(mode, cfg[c].n, cfg[c].period_ns, &r) != 0) {
                    perror("loopback-floor");
                    return 1;
                }
                pt[k] = r.per_trigger_ns;
                sd[k] = r.send_ns_per_dgram;
                rx[k] = r.rx_ns_per_dgram;
            }
            double per_trig = median(pt), sdm = median(sd);
            char range[48];
            snprintf(range, sizeof range, "%.0f (%.0f-%.0f)", sdm, sd[0], sd[ROUNDS - 1]);
            printf("%-6u %-9lld %-9s %14.0f %15.0f %22s %11.0f\n", cfg[c].n,
                   (long long)(cfg[c].period_ns / 1000), cfg[c].n ? mode_name[mode] : "-",
                   per_trig, cfg[c].n ? per_trig / cfg[c].n : 0.0, range, median(rx));
            fflush(stdout);
        }
    }
    return 0;
}
