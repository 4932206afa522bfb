/* sfu-bench: load benchmark of an SFU through its public HTTP API with real
 * WebRTC peers (ICE, DTLS, SRTP) and real encoded media. See bench/README.md. */
#include "bench/report.h"
#include "bench/run.h"
#include "bench/scenario.h"
#include "bench/sfu_proc.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: sfu-bench [--target sfu] [--url URL] [--sfu-pid PID] [--sfu BINARY]\n"
    "                 [--duration S] [--json FILE] [--csv FILE] [--quiet] SCENARIO_FILE\n"
    "\n"
    "Joins the scenario's publishers (WHIP) and viewers (WHEP) as real WebRTC peers\n"
    "(full ICE, DTLS client, SRTP) sending Opus and VP8, then measures over the\n"
    "window: forwarded packets (decrypted by viewers), loss, one-way latency, join\n"
    "time, and the SFU's CPU and memory from /proc.\n"
    "\n"
    "  --target NAME   what is measured; only \"sfu\" (this project) is built so far\n"
    "  --url URL       an SFU already running (http://host:port); without it the\n"
    "                  bench starts --sfu BINARY (default build/sfu) on a free port,\n"
    "                  pins it to cpu 0 and itself to cpu 1\n"
    "  --sfu-pid PID   the SFU's process, for CPU and memory figures with --url\n"
    "  --sfu BINARY    the SFU binary to start (default build/sfu)\n"
    "  --duration S    measuring window in seconds (default: the scenario's)\n"
    "  --json FILE     write the figures as JSON\n"
    "  --csv FILE      write the figures as one CSV row with a header\n"
    "  --quiet         no live progress line\n"
    "  --help          this text\n"
    "\n"
    "Exit status: 0 done; 1 bad usage or setup; 2 the run failed or nothing was\n"
    "forwarded; 3 loss above the scenario's max_loss_ratio.\n";

typedef struct cli {
    bench_options o;
    const char *sfu_bin, *json, *csv, *scenario;
} cli;

static int parse_args(int argc, char **argv, cli *c)
{
    static const struct option opts[] = {
        { "target", required_argument, 0, 't' }, { "url", required_argument, 0, 'u' },
        { "sfu-pid", required_argument, 0, 'p' }, { "sfu", required_argument, 0, 's' },
        { "duration", required_argument, 0, 'd' }, { "json", required_argument, 0, 'j' },
        { "csv", required_argument, 0, 'c' }, { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' }, { "plot", required_argument, 0, 'P' }, { 0, 0, 0, 0 },
    };
    *c = (cli){ .o = { .target = "sfu", .progress = true }, .sfu_bin = "build/sfu" };
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 't': c->o.target = optarg; break;
        case 'u': c->o.url = optarg; break;
        case 'p': c->o.sfu_pid = (pid_t)atoi(optarg); break;
        case 's': c->sfu_bin = optarg; break;
        case 'd': c->o.duration_s = atof(optarg); break;
        case 'j': c->json = optarg; break;
        case 'c': c->csv = optarg; break;
        case 'q': c->o.progress = false; break;
        case 'h': fputs(usage, stdout); exit(0);
        case 'P': fprintf(stderr, "sfu-bench: --plot is not built yet\n"); return -1;
        default: fputs(usage, stderr); return -1;
        }
    }
    if (strcmp(c->o.target, "sfu") != 0) {
        fprintf(stderr, "sfu-bench: --target %s is not built yet (only sfu)\n", c->o.target);
        return -1;
    }
    if (optind != argc - 1) {
        fputs(usage, stderr);
        return -1;
    }
    c->scenario = argv[optind];
    return 0;
}

static int verdict(const bench_result *r, const bench_scenario *s)
{
    if (r->forwarded_packets == 0) {
        fprintf(stderr, "sfu-bench: FAIL: nothing was forwarded\n");
        return 2;
    }
    if (r->loss_ratio > s->max_loss_ratio) {
        fprintf(stderr, "sfu-bench: FAIL: loss %.3f%% over the scenario's limit %.3f%%\n",
                r->loss_ratio * 100, s->max_loss_ratio * 100);
        return 3;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli c;
    bench_scenario s;
    char err[512];
    if (parse_args(argc, argv, &c) != 0)
        return 1;
    if (bench_scenario_load(c.scenario, &s, err, sizeof err) != 0) {
        fprintf(stderr, "sfu-bench: %s\n", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    bench_sfu_proc proc = { .sfu_cpu = -1, .bench_cpu = -1 };
    if (!c.o.url) {
        if (bench_sfu_start(&proc, c.sfu_bin, err, sizeof err) != 0) {
            fprintf(stderr, "sfu-bench: %s\n", err);
            return 1;
        }
        c.o.url = proc.url;
        c.o.sfu_pid = proc.pid;
    }
    bench_result r;
    int rc = bench_run(&c.o, &s, &r, err, sizeof err);
    r.sfu_cpu = proc.sfu_cpu < 0 ? UINT32_MAX : (unsigned)proc.sfu_cpu;
    r.bench_cpu = proc.bench_cpu < 0 ? UINT32_MAX : (unsigned)proc.bench_cpu;
    int sfu_status = proc.pid ? bench_sfu_stop(&proc, rc != 0) : 0;
    if (rc != 0) {
        fprintf(stderr, "sfu-bench: %s%s%s\n", err, proc.dir[0] ? "; SFU log kept in " : "",
                proc.dir);
        return 2;
    }
    bench_report_table(stdout, &r);
    if (sfu_status != 0)
        fprintf(stderr, "sfu-bench: warning: the SFU exited with status %d\n", sfu_status);
    if ((c.json && bench_report_json(c.json, &r) != 0) ||
        (c.csv && bench_report_csv(c.csv, &r) != 0)) {
        fprintf(stderr, "sfu-bench: cannot write %s\n", c.json ? c.json : c.csv);
        return 1;
    }
    return verdict(&r, &s);
}
