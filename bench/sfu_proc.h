/* The SFU under test as a process: start build/sfu with a temporary config
 * (free loopback port, its own UDP range, rate limit off, one worker),
 * pinned to one core while the bench pins itself to another; read its CPU
 * time and resident memory from /proc. */
#ifndef BENCH_SFU_PROC_H
#define BENCH_SFU_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct bench_sfu_proc {
    pid_t pid;
    char url[64];               /* http://127.0.0.1:PORT */
    char dir[64];               /* temporary directory: config and log */
    int sfu_cpu, bench_cpu;     /* cores pinned to; -1 if not pinned */
    const char *media_extra;    /* lines for the config's [media] group, or NULL */
} bench_sfu_proc;

/* Starts binary and waits for GET /health (p->media_extra is kept). liveness_ms > 0 sets [media]
 * liveness_timeout_ms (the soak's vanished clients). 0, or -1 with a reason
 * in err (the log's path included). */
int bench_sfu_start(bench_sfu_proc *p, const char *binary, unsigned liveness_ms, char *err,
                    size_t errlen);
/* SIGTERM, then SIGKILL after 5 s; removes the directory unless keep_log.
 * Returns the exit status (128 + signal when killed by one). */
int bench_sfu_stop(bench_sfu_proc *p, bool keep_log);

/* utime + stime of pid in seconds, or -1. */
double bench_proc_cpu_seconds(pid_t pid);
/* VmRSS of pid in bytes, or -1. */
int64_t bench_proc_rss_bytes(pid_t pid);
/* Its anonymous part (RssAnon): without the pages of the binary and the
 * shared libraries, which the first joins fault in once, whatever the count. */
int64_t bench_proc_rss_anon_bytes(pid_t pid);

/* Open descriptors of a process (/proc/PID/fd), how many are sockets, and
 * how many of those are UDP sockets (their inode in /proc/net/udp or udp6). */
typedef struct bench_proc_fds {
    int fds, sockets, udp;
} bench_proc_fds;

/* 0, or -1 when the process cannot be read. */
int bench_proc_count_fds(pid_t pid, bench_proc_fds *f);

#endif
