/* What the soak checks afterwards (soak.h): the SFU's live-object gauges
 * from /metrics, its descriptors and UDP sockets from /proc, its RSS; and
 * how the figures are printed. */
#include "bench/soak.h"

#include "bench/http.h"
#include "bench/peer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *const bench_soak_gauge_names[BENCH_SOAK_GAUGES] = {
    "sfu_sessions", "sfu_peers", "sfu_media_rooms", "sfu_buffers_in_use",
};

const char *bench_soak_ending_name(bench_soak_ending e)
{
    static const char *const names[BENCH_END_COUNT] = {
        "delete", "vanish", "close", "pub-delete", "view-delete",
    };
    return e < BENCH_END_COUNT ? names[e] : "?";
}

/* The unlabelled gauges we need from the Prometheus text; 0 or -1. */
static int read_gauges(const bench_url *url, double g[BENCH_SOAK_GAUGES])
{
    bench_http_resp resp;
    char err[160];
    for (unsigned i = 0; i < BENCH_SOAK_GAUGES; i++)
        g[i] = -1;
    if (bench_http_request(url, "GET", "/metrics", NULL, NULL, 0, &resp, err, sizeof err) != 0)
        return -1;
    int rc = resp.status == 200 && resp.body ? 0 : -1;
    for (char *line = resp.body; rc == 0 && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char name[64];
        double v;
        if (line[0] != '#' && sscanf(line, "%63s %lf", name, &v) == 2)
            for (unsigned i = 0; i < BENCH_SOAK_GAUGES; i++)
                if (strcmp(name, bench_soak_gauge_names[i]) == 0)
                    g[i] = v;
        line = nl ? nl + 1 : NULL;
    }
    bench_http_resp_free(&resp);
    return rc;
}

/* The counts once they stop moving (the connection of a request we just
 * made closes a moment after its answer), or at the timeout. */
static bench_proc_fds settled_fds(pid_t pid, const bench_proc_fds *want, double timeout_s)
{
    sfu_time end = bench_now() + (sfu_time)(timeout_s * 1e6);
    bench_proc_fds last = { -1, -1, -1 }, f = { -1, -1, -1 };
    int same = 0;
    while (bench_proc_count_fds(pid, &f) == 0) {
        if (want && f.fds <= want->fds && f.udp <= want->udp)
            break;
        same = memcmp(&f, &last, sizeof f) == 0 ? same + 1 : 0;
        last = f;
        if ((!want && same >= 3) || bench_now() > end)
            break;
        usleep(100 * 1000);
    }
    return f;
}

void bench_soak_baseline(const bench_options *o, const bench_url *url, bench_soak_result *r)
{
    double g[BENCH_SOAK_GAUGES];
    read_gauges(url, g);        /* the same requests as at the end, before counting */
    r->have_proc = o->sfu_pid > 0 && bench_proc_count_fds(o->sfu_pid, &r->start) == 0;
    if (!r->have_proc)
        return;
    r->start = settled_fds(o->sfu_pid, NULL, 3);
    r->rss_start = bench_proc_rss_bytes(o->sfu_pid);
}

static bool gauges_zero(const double g[BENCH_SOAK_GAUGES])
{
    for (unsigned i = 0; i < BENCH_SOAK_GAUGES; i++)
        if (g[i] != 0)
            return false;
    return true;
}

void bench_soak_check(const bench_options *o, const bench_scenario *s, const bench_url *url,
                      bench_soak_result *r)
{
    sfu_time start = bench_now(), end = start + (sfu_time)(s->soak.settle_s * 1e6);
    while (read_gauges(url, r->gauge) == 0 && !gauges_zero(r->gauge) && bench_now() < end)
        usleep(200 * 1000);
    r->settle_s = (double)(bench_now() - start) / 1e6;
    r->gauges_ok = gauges_zero(r->gauge);
    if (!r->have_proc) {
        r->fds_ok = r->rss_ok = true;   /* not checked: no --sfu-pid */
        return;
    }
    r->end = settled_fds(o->sfu_pid, &r->start, 5);
    r->fds_ok = r->end.fds == r->start.fds && r->end.udp == r->start.udp;
    r->rss_end = bench_proc_rss_bytes(o->sfu_pid);
    r->rss_ok = r->rss_tolerance <= 0 || r->rss_mid < 0 ||
                (double)r->rss_end <= (double)r->rss_mid * (1 + r->rss_tolerance);
}

bool bench_soak_passed(const bench_soak_result *r)
{
    return r->failed == 0 && r->delete_errors == 0 && r->done == r->cycles && r->gauges_ok &&
           r->fds_ok && r->rss_ok;
}

static const char *verdict(bool ok) { return ok ? "ok" : "FAIL"; }

static double mib(int64_t b) { return b < 0 ? NAN : (double)b / 1048576; }

void bench_soak_report(FILE *f, const bench_soak_result *r)
{
    fprintf(f, "\n== sfu-bench soak: %u cycles in %.1f s (%.1f cycles/s) ==\n", r->done,
            r->wall_s, r->wall_s > 0 ? r->done / r->wall_s : 0);
    fprintf(f, "  %-28s %u failed%s%s\n", "cycles", r->failed, r->failed ? ", first: " : "",
            r->first_failure);
    fprintf(f, "  %-28s", "endings");
    for (unsigned e = 0; e < BENCH_END_COUNT; e++)
        fprintf(f, " %s %u", bench_soak_ending_name(e), r->by_ending[e]);
    fprintf(f, "; %u DELETE errors", r->delete_errors);
    if (r->delete_errors)
        fprintf(f, " (the first: %d)", r->first_delete_status);
    fputc('\n', f);
    fprintf(f, "  %-28s p50 %.1f ms, p95 %.1f ms\n", "join (WHIP POST to all up)",
            r->join_ms_p50, r->join_ms_p95);
    fprintf(f, "  %-28s", "gauges at the end");
    for (unsigned i = 0; i < BENCH_SOAK_GAUGES; i++)
        fprintf(f, " %s=%g", bench_soak_gauge_names[i], r->gauge[i]);
    fprintf(f, " (after %.1f s)  %s\n", r->settle_s, verdict(r->gauges_ok));
    if (!r->have_proc) {
        fprintf(f, "  %-28s not checked (no --sfu-pid)\n", "fds, UDP sockets, RSS");
        return;
    }
    fprintf(f, "  %-28s fds %d -> %d, sockets %d -> %d, UDP %d -> %d  %s\n",
            "descriptors (start -> end)", r->start.fds, r->end.fds, r->start.sockets,
            r->end.sockets, r->start.udp, r->end.udp, verdict(r->fds_ok));
    fprintf(f, "  %-28s start %.1f, middle %.1f, end %.1f MiB (end/middle %+.1f%%, limit "
            "%+.0f%%)  %s\n", "SFU RSS", mib(r->rss_start), mib(r->rss_mid), mib(r->rss_end),
            r->rss_mid > 0 ? ((double)r->rss_end / (double)r->rss_mid - 1) * 100 : NAN,
            r->rss_tolerance * 100, r->rss_tolerance > 0 ? verdict(r->rss_ok) : "not checked");
}

int bench_soak_json(const char *path, const bench_soak_result *r)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\n  \"scenario\": \"soak\",\n  \"cycles\": %u,\n  \"done\": %u,\n"
            "  \"failed\": %u,\n  \"delete_errors\": %u,\n  \"wall_s\": %.2f,\n"
            "  \"join_ms_p50\": %.1f,\n  \"join_ms_p95\": %.1f,\n  \"settle_s\": %.2f,\n",
            r->cycles, r->done, r->failed, r->delete_errors, r->wall_s, r->join_ms_p50,
            r->join_ms_p95, r->settle_s);
    for (unsigned i = 0; i < BENCH_SOAK_GAUGES; i++)
        fprintf(f, "  \"%s\": %g,\n", bench_soak_gauge_names[i], r->gauge[i]);
    if (r->have_proc)
        fprintf(f, "  \"fds_start\": %d,\n  \"fds_end\": %d,\n  \"udp_start\": %d,\n"
                "  \"udp_end\": %d,\n  \"rss_start_bytes\": %lld,\n  \"rss_mid_bytes\": %lld,\n"
                "  \"rss_end_bytes\": %lld,\n", r->start.fds, r->end.fds, r->start.udp,
                r->end.udp, (long long)r->rss_start, (long long)r->rss_mid,
                (long long)r->rss_end);
    fprintf(f, "  \"gauges_ok\": %s,\n  \"fds_ok\": %s,\n  \"rss_ok\": %s,\n  \"passed\": %s\n}\n",
            r->gauges_ok ? "true" : "false", r->fds_ok ? "true" : "false",
            r->rss_ok ? "true" : "false", bench_soak_passed(r) ? "true" : "false");
    return fclose(f) == 0 ? 0 : -1;
}
