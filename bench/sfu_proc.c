#include "bench/sfu_proc.h"

#include "bench/http.h"

#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

static int free_port(int type)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int write_config(const bench_sfu_proc *p, int http_port, unsigned liveness_ms)
{
    /* A UDP range below the kernel's ephemeral ports, where our peers bind. */
    srand((unsigned)(getpid() ^ time(NULL)));
    int lo = 10000 + (rand() % 200) * 100;
    char path[96];
    snprintf(path, sizeof path, "%s/sfu.conf", p->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "[http]\nlisten = 127.0.0.1:%d\nrequests_per_second_per_client = 0\n"
               "max_connections = 4096\n\n[media]\nport_min = %d\nport_max = %d\nworkers = 1\n",
               http_port, lo, lo + 2999);
    if (liveness_ms)
        fprintf(f, "liveness_timeout_ms = %u\n", liveness_ms);
    if (p->media_extra)
        fputs(p->media_extra, f);
    fprintf(f, "\n[limits]\nmax_sessions = 10000\nmax_participants_per_room = 1000\n\n"
               "[log]\nlevel = warn\n");
    return fclose(f) == 0 ? 0 : -1;
}

static void pin(pid_t pid, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(pid, sizeof set, &set);
}

static void exec_sfu(const bench_sfu_proc *p, const char *binary)
{
    char path[96];
    snprintf(path, sizeof path, "%s/sfu.log", p->dir);
    int log = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
        dup2(log, 1);
        dup2(log, 2);
    }
    snprintf(path, sizeof path, "%s/sfu.conf", p->dir);
    execl(binary, binary, "--config", path, (char *)NULL);
    fprintf(stderr, "exec %s: %s\n", binary, strerror(errno));
    _exit(127);
}

static bool healthy(const char *url)
{
    bench_url u;
    bench_http_resp r;
    char err[128];
    if (bench_url_parse(url, &u, err, sizeof err) != 0 ||
        bench_http_request(&u, "GET", "/health", NULL, NULL, 0, &r, err, sizeof err) != 0)
        return false;
    bench_http_resp_free(&r);
    return r.status == 200;
}

int bench_sfu_start(bench_sfu_proc *p, const char *binary, unsigned liveness_ms, char *err,
                    size_t errlen)
{
    const char *media_extra = p->media_extra;
    memset(p, 0, sizeof *p);
    p->sfu_cpu = p->bench_cpu = -1;
    p->media_extra = media_extra;
    snprintf(p->dir, sizeof p->dir, "/tmp/sfu-bench-XXXXXX");
    int port = free_port(SOCK_STREAM);
    if (!mkdtemp(p->dir) || port < 0 || write_config(p, port, liveness_ms) != 0) {
        snprintf(err, errlen, "cannot write a config under /tmp: %s", strerror(errno));
        return -1;
    }
    snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", port);
    p->pid = fork();
    if (p->pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (p->pid == 0)
        exec_sfu(p, binary);
    if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
        p->sfu_cpu = 0;
        p->bench_cpu = 1;
        pin(p->pid, p->sfu_cpu);
        pin(0, p->bench_cpu);
    }
    for (int i = 0; i < 100; i++) {
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0;
            snprintf(err, errlen, "%s exited during start; see %s/sfu.log", binary, p->dir);
            return -1;
        }
        if (healthy(p->url))
            return 0;
        usleep(100 * 1000);
    }
    snprintf(err, errlen, "%s: GET /health not 200 within 10 s; see %s/sfu.log", binary, p->dir);
    bench_sfu_stop(p, true);
    return -1;
}

int bench_sfu_stop(bench_sfu_proc *p, bool keep_log)
{
    int status = 0, rc = 0;
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        for (int i = 0; i < 50 && waitpid(p->pid, &status, WNOHANG) == 0; i++)
            usleep(100 * 1000);
        if (kill(p->pid, 0) == 0) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
        }
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        p->pid = 0;
    }
    if (!keep_log && p->dir[0]) {
        char path[96];
        snprintf(path, sizeof path, "%s/sfu.conf", p->dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/sfu.log", p->dir);
        unlink(path);
        rmdir(p->dir);
    }
    return rc;
}

double bench_proc_cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* proc(5): fields 14 and 15 follow the command name in parentheses. */
    char *p = strrchr(buf, ')');
    unsigned long utime, stime;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                     &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* One "Name: N kB" line of /proc/PID/status, in bytes; -1 if absent. */
static int64_t status_kb(pid_t pid, const char *name)
{
    char path[64], line[256], fmt[32];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    snprintf(fmt, sizeof fmt, "%s: %%lld kB", name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, fmt, &kb) == 1)
            break;
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

int64_t bench_proc_rss_bytes(pid_t pid) { return status_kb(pid, "VmRSS"); }
int64_t bench_proc_rss_anon_bytes(pid_t pid) { return status_kb(pid, "RssAnon"); }

/* Adds the inode column (proc(5): the tenth) of every line of a
 * /proc/net/udp* file to inodes. */
static void udp_inodes(const char *path, GHashTable *inodes)
{
    FILE *f = fopen(path, "r");
    char line[512];
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long inode;
        if (sscanf(line, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &inode) == 1 && inode)
            g_hash_table_add(inodes, GSIZE_TO_POINTER(inode));
    }
    fclose(f);
}

int bench_proc_count_fds(pid_t pid, bench_proc_fds *out)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    GHashTable *udp = g_hash_table_new(g_direct_hash, g_direct_equal);
    udp_inodes("/proc/net/udp", udp);
    udp_inodes("/proc/net/udp6", udp);
    *out = (bench_proc_fds){ 0 };
    struct dirent *e;
    while ((e = readdir(d))) {
        char link[320], target[128];
        if (e->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n < 0)
            continue;   /* closed while we looked */
        target[n] = '\0';
        out->fds++;
        unsigned long inode;
        if (sscanf(target, "socket:[%lu]", &inode) == 1) {
            out->sockets++;
            out->udp += g_hash_table_contains(udp, GSIZE_TO_POINTER(inode));
        }
    }
    closedir(d);
    g_hash_table_destroy(udp);
    return 0;
}
