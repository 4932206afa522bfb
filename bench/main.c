/* sfu-bench: load benchmark of an SFU through its public HTTP API with real
 * WebRTC peers (ICE, DTLS, SRTP) and real encoded media. See bench/README.md. */
#include "bench/ice_client.h"
#include "bench/report.h"
#include "bench/run.h"
#include "bench/scenario.h"
#include "bench/sfu_proc.h"
#include "bench/soak.h"

#include <getopt.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: sfu-bench [--target sfu|janus] [--url URL] [--sfu-pid PID] [--sfu BINARY]\n"
    "                 [--sfu-media 'KEY = VALUE']...\n"
    "                 [--duration S] [--rx-poll-us US] [--json FILE] [--csv FILE]\n"
    "                 [--plot FILE.svg] [--quiet] SCENARIO_FILE\n"
    "       sfu-bench --soak N [--parallel K] [--url URL --sfu-pid PID | --sfu BINARY]\n"
    "                 [--json FILE] [--quiet] [SCENARIO_FILE]\n"
    "\n"
    "Joins the scenario's publishers (WHIP) and viewers (WHEP), or a meeting's or the\n"
    "voice calls' room sessions (POST /rooms/{room}/join, answering server offers; in a\n"
    "large meeting each also subscribes to its video tiles; voice calls through\n"
    "WHIP/WHEP with join = whip-whep), as real WebRTC peers\n"
    "(full ICE, DTLS client, SRTP) sending Opus and VP8, then measures over the\n"
    "window: forwarded packets (decrypted by viewers), loss, one-way latency, join\n"
    "time, and the SFU's CPU and memory from /proc.\n"
    "\n"
    "  --target NAME   sfu (this project) or janus (a Janus VideoRoom over its HTTP\n"
    "                  API at --url http://ADDR:PORT/janus: room 1234, or a room per\n"
    "                  voice call; one-to-many, meeting and voice-calls;\n"
    "                  bench/compare.sh starts one)\n"
    "  --url URL       an SFU already running (http://host:port); without it the\n"
    "                  bench starts --sfu BINARY (default build/sfu) on a free port,\n"
    "                  pins it to cpu 0 and itself to cpu 1\n"
    "  --sfu-pid PID   the SFU's process, for CPU and memory figures with --url\n"
    "  --viewer-urls U1,U2  viewers' WHEP POSTs go to these nodes, round robin (a\n"
    "                  cluster with relay legs: bench/cluster.py); publishers stay\n"
    "                  on --url\n"
    "  --sfu BINARY    the SFU binary to start (default build/sfu)\n"
    "  --sfu-media 'KEY = VALUE'  a line for the [media] group of the config the\n"
    "                  bench writes for the SFU it starts (repeatable), e.g.\n"
    "                  'read_coalesce_us = 0'\n"
    "  --duration S    measuring window in seconds (default: the scenario's)\n"
    "  --rx-poll-us US how the peers read what the server sends once connected:\n"
    "                  every US microseconds from a timer, without sleeping on\n"
    "                  their sockets, so the server's sends never wake the bench\n"
    "                  (default " G_STRINGIFY(BENCH_RX_POLL_US_DEFAULT) "); 0: libnice's receive callback on\n"
    "                  GLib's poll, each datagram waking the bench (before 8 Dec)\n"
    "  --json FILE     write the figures as JSON\n"
    "  --csv FILE      write the figures as one CSV row with a header\n"
    "  --plot FILE.svg a ramp's CPU, loss and latency against participants (gnuplot)\n"
    "  --soak N        N join/leave cycles (WHIP + WHEP, ended by DELETE, by\n"
    "                  vanishing, by close_notify), then check that the SFU's\n"
    "                  gauges are 0 and its fds, UDP sockets and RSS are back;\n"
    "                  SCENARIO_FILE (kind = soak) is optional. Exit 4 on a leak\n"
    "  --parallel K    soak cycles at once (default: the scenario's, 4)\n"
    "  --quiet         no live progress line\n"
    "  --help          this text\n"
    "\n"
    "Exit status: 0 done; 1 bad usage or setup; 2 the run failed or nothing was\n"
    "forwarded; 3 loss above the scenario's max_loss_ratio; 4 the soak failed.\n";

typedef struct cli {
    bench_options o;
    const char *sfu_bin, *json, *csv, *plot, *scenario;
    GString *sfu_media;         /* --sfu-media lines */
    unsigned soak, parallel;
    unsigned rx_poll_us;
} cli;

static int parse_args(int argc, char **argv, cli *c)
{
    static const struct option opts[] = {
        { "target", required_argument, 0, 't' }, { "url", required_argument, 0, 'u' },
        { "sfu-pid", required_argument, 0, 'p' }, { "sfu", required_argument, 0, 's' },
        { "duration", required_argument, 0, 'd' }, { "json", required_argument, 0, 'j' },
        { "csv", required_argument, 0, 'c' }, { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' }, { "plot", required_argument, 0, 'P' },
        { "soak", required_argument, 0, 'S' }, { "parallel", required_argument, 0, 'K' },
        { "viewer-urls", required_argument, 0, 'V' },
        { "sfu-media", required_argument, 0, 'M' },
        { "rx-poll-us", required_argument, 0, 'R' },
        { 0, 0, 0, 0 },
    };
    *c = (cli){ .o = { .target = "sfu", .progress = true }, .sfu_bin = "build/sfu",
                .rx_poll_us = BENCH_RX_POLL_US_DEFAULT };
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
        case 'P': c->plot = optarg; break;
        case 'S': c->soak = (unsigned)atoi(optarg); break;
        case 'K': c->parallel = (unsigned)atoi(optarg); break;
        case 'V': c->o.viewer_urls = optarg; break;
        case 'R': {
            char *end;
            long us = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || us < 0 || us > 100000) {
                fprintf(stderr, "sfu-bench: --rx-poll-us takes 0 to 100000, not %s\n", optarg);
                return -1;
            }
            c->rx_poll_us = (unsigned)us;
            break;
        }
        case 'M':
            if (!c->sfu_media)
                c->sfu_media = g_string_new(NULL);
            g_string_append_printf(c->sfu_media, "%s\n", optarg);
            break;
        default: fputs(usage, stderr); return -1;
        }
    }
    bool janus = strcmp(c->o.target, "janus") == 0;
    if (strcmp(c->o.target, "sfu") != 0 && !janus) {
        fprintf(stderr, "sfu-bench: --target must be sfu or janus, not %s\n", c->o.target);
        return -1;
    }
    if (janus && (!c->o.url || c->soak)) {
        fprintf(stderr, "sfu-bench: --target janus needs --url http://ADDR:PORT/janus (start "
                        "Janus with bench/compare.sh) and runs no soak\n");
        return -1;
    }
    if (optind != argc - 1 && !(c->soak && optind == argc)) {
        fputs(usage, stderr);
        return -1;
    }
    c->scenario = optind < argc ? argv[optind] : NULL;
    return 0;
}

static int verdict(const bench_result *r, const bench_scenario *s)
{
    if (r->forwarded_packets == 0) {
        fprintf(stderr, "sfu-bench: FAIL: nothing was forwarded\n");
        return 2;
    }
    /* Room members failing (an answer refused, a stream lost) miss media
     * that no sequence gap shows. */
    bool rooms = strcmp(s->kind, "meeting") == 0 || r->tiles ||
                 (strcmp(s->kind, "voice-calls") == 0 && strcmp(s->join, "room") == 0);
    if (rooms && r->failed) {
        fprintf(stderr, "sfu-bench: FAIL: %u participant(s) failed: %s\n", r->failed,
                r->first_failure);
        return 2;
    }
    if (r->tiles && (r->tiles_members_ok < r->participants || r->tiles_sfu_ok < r->participants ||
                     !r->tiles_audio_ok)) {
        fprintf(stderr, "sfu-bench: FAIL: not every member received exactly its %u tiles' video "
                "and the room's audio: %s\n", r->tiles_per_member, r->tiles_problem);
        return 2;
    }
    if (r->simulcast && !r->layers_ok) {
        fprintf(stderr, "sfu-bench: FAIL: a simulcast viewer's video rate is not its layer's\n");
        return 2;
    }
    if (r->loss_ratio > s->max_loss_ratio) {
        fprintf(stderr, "sfu-bench: FAIL: loss %.3f%% over the scenario's limit %.3f%%\n",
                r->loss_ratio * 100, s->max_loss_ratio * 100);
        return 3;
    }
    return 0;
}

static int load_scenario(cli *c, bench_scenario *s, char *err, size_t errlen)
{
    if (!c->scenario) {
        bench_scenario_defaults(s);
        g_strlcpy(s->name, "soak", sizeof s->name);
        g_strlcpy(s->kind, "soak", sizeof s->kind);
        s->video = false;       /* audio only: short cycles */
    } else if (bench_scenario_load(c->scenario, s, err, errlen) != 0) {
        return -1;
    }
    if (c->soak) {
        g_strlcpy(s->kind, "soak", sizeof s->kind);
        s->soak.cycles = c->soak;
    }
    if (c->parallel)
        s->soak.parallel = c->parallel;
    return 0;
}

static int run_soak(const cli *c, const bench_scenario *s, bench_sfu_proc *proc)
{
    char err[512];
    bench_soak_result r;
    if (bench_soak_run(&c->o, s, &r, err, sizeof err) != 0) {
        fprintf(stderr, "sfu-bench: %s\n", err);
        bench_sfu_stop(proc, true);
        return 2;
    }
    bench_soak_report(stdout, &r);
    bool ok = bench_soak_passed(&r);
    /* An SFU we started must exit cleanly: under ASan a leak makes it fail. */
    int sfu_status = proc->pid ? bench_sfu_stop(proc, true) : 0;
    if (sfu_status != 0) {
        fprintf(stderr, "sfu-bench: the SFU exited with status %d (a sanitizer report?)\n",
                sfu_status);
        ok = false;
    }
    if (ok && proc->dir[0])
        bench_sfu_stop(proc, false);    /* only removes the directory now */
    if (c->json && bench_soak_json(c->json, &r) != 0)
        fprintf(stderr, "sfu-bench: cannot write %s\n", c->json);
    printf("soak: %s\n", ok ? "PASS" : "FAIL");
    if (!ok && proc->dir[0])
        fprintf(stderr, "sfu-bench: SFU log kept in %s\n", proc->dir);
    return ok ? 0 : 4;
}

int main(int argc, char **argv)
{
    cli c;
    bench_scenario s;
    char err[512];
    if (parse_args(argc, argv, &c) != 0)
        return 1;
    if (load_scenario(&c, &s, err, sizeof err) != 0) {
        fprintf(stderr, "sfu-bench: %s\n", err);
        return 1;
    }
    if (strcmp(c.o.target, "janus") == 0 && strcmp(s.kind, "one-to-many") != 0 &&
        strcmp(s.kind, "meeting") != 0 && strcmp(s.kind, "voice-calls") != 0) {
        fprintf(stderr, "sfu-bench: --target janus runs one-to-many, meeting and voice-calls "
                        "scenarios (not yet: %s%s)\n", s.kind,
                strcmp(s.kind, "large-meeting") == 0
                    ? ": it needs room subscriptions, which the bench's Janus client does not make"
                    : "");
        return 1;
    }
    bool soak = strcmp(s.kind, "soak") == 0;
    signal(SIGPIPE, SIG_IGN);
    bench_ice_set_rx_poll_us(c.rx_poll_us);
    bench_sfu_proc proc = { .sfu_cpu = -1, .bench_cpu = -1,
                            .media_extra = c.sfu_media ? c.sfu_media->str : NULL };
    if (!c.o.url) {
        unsigned liveness = soak ? s.soak.liveness_timeout_ms : 0;
        if (bench_sfu_start(&proc, c.sfu_bin, liveness, err, sizeof err) != 0) {
            fprintf(stderr, "sfu-bench: %s\n", err);
            return 1;
        }
        c.o.url = proc.url;
        c.o.sfu_pid = proc.pid;
    }
    if (soak)
        return run_soak(&c, &s, &proc);
    bench_result *r = g_new0(bench_result, 1);
    int rc = bench_run(&c.o, &s, r, err, sizeof err);
    r->rx_poll_us = c.rx_poll_us;
    r->sfu_cpu = proc.sfu_cpu < 0 ? UINT32_MAX : (unsigned)proc.sfu_cpu;
    r->bench_cpu = proc.bench_cpu < 0 ? UINT32_MAX : (unsigned)proc.bench_cpu;
    int sfu_status = proc.pid ? bench_sfu_stop(&proc, rc != 0) : 0;
    if (rc != 0) {
        fprintf(stderr, "sfu-bench: %s%s%s\n", err, proc.dir[0] ? "; SFU log kept in " : "",
                proc.dir);
        g_free(r);
        return 2;
    }
    bench_report_table(stdout, r);
    if (sfu_status != 0)
        fprintf(stderr, "sfu-bench: warning: the SFU exited with status %d\n", sfu_status);
    int out = 0;
    if ((c.json && bench_report_json(c.json, r) != 0) ||
        (c.csv && bench_report_csv(c.csv, r) != 0)) {
        fprintf(stderr, "sfu-bench: cannot write %s\n", c.json ? c.json : c.csv);
        out = 1;
    }
    if (c.plot && bench_report_plot(c.plot, r) != 0) {
        fprintf(stderr, "sfu-bench: cannot draw %s (is gnuplot installed?)\n", c.plot);
        out = 1;
    }
    if (out == 0)
        out = verdict(r, &s);
    g_free(r);
    return out;
}
