/* sfu: a WebRTC selective forwarding unit.
 *
 *   sfu --config FILE          run with that configuration
 *   sfu --check-config FILE    report every problem in FILE, exit 1 if any
 *   sfu --version              print "sfu 0.2.0 (git <hash>)"
 *
 * Signals: SIGTERM/SIGINT drain then stop (a second one stops at once),
 * SIGHUP reloads the config file (see docs/OPERATIONS.md, Signals).
 */
#include <glib-unix.h>
#include <glib.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/net/log.h"
#include "sfu/net/log_libs.h"
#include "signaling/config.h"
#include "signaling/server.h"
#include "signaling/token_cli.h"
#include "signaling/version.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sfu --config FILE\n"
            "       sfu --check-config FILE\n"
            "       sfu --version\n"
            "       sfu token --config FILE --room R --name N [--ttl 1h] [--publish] [--subscribe]\n"
            "\n"
            "  --config FILE        start the SFU with this configuration (INI)\n"
            "  --check-config FILE  print each problem as file:line: key: problem;\n"
            "                       exit 0 when the file is good, 1 otherwise\n"
            "  token                print an access token (JWT, HS256) signed with the\n"
            "                       config's [auth] secret\n"
            "  --version            print the version and the commit it was built from\n"
            "  --help               this text\n");
}

/* What the signal handlers share; lives in run()'s frame. */
typedef struct app {
    GMainLoop *loop;
    sig_server *srv;
    const char *config_path;
    bool stopping;              /* a first SIGTERM or SIGINT came */
    sfu_time drain_deadline;    /* monotonic */
    unsigned drain_timer;
} app;

static void stop_now(app *a, const char *reason)
{
    sfu_log(SFU_LOG_INFO, "server.stopping", "reason=%s sessions=%u", reason,
            sig_server_sessions(a->srv));
    g_main_loop_quit(a->loop);
}

/* Every 200 ms while draining: stop once the last session ended, or at
 * the deadline. */
static gboolean check_drain(gpointer data)
{
    app *a = data;
    if (sig_server_sessions(a->srv) == 0)
        stop_now(a, "drained");
    else if (g_get_monotonic_time() >= a->drain_deadline)
        stop_now(a, "drain_timeout");
    else
        return G_SOURCE_CONTINUE;
    a->drain_timer = 0;
    return G_SOURCE_REMOVE;
}

/* SIGTERM, SIGINT: drain for [server] drain_timeout_s, then stop; a second
 * one stops at once. Either way the exit status is 0. */
static gboolean on_stop_signal(gpointer data)
{
    app *a = data;
    if (a->stopping) {
        stop_now(a, "second_signal");
        return G_SOURCE_CONTINUE;
    }
    a->stopping = true;
    unsigned timeout = a->srv->cfg.server.drain_timeout_s;
    unsigned sessions = sig_server_sessions(a->srv);
    if (timeout == 0 || sessions == 0) {
        stop_now(a, "signal");
        return G_SOURCE_CONTINUE;
    }
    sig_server_drain(a->srv);
    sfu_log(SFU_LOG_INFO, "server.draining", "sessions=%u timeout_s=%u", sessions, timeout);
    a->drain_deadline = g_get_monotonic_time() + SFU_SEC((sfu_time)timeout);
    a->drain_timer = g_timeout_add(200, check_drain, a);
    return G_SOURCE_CONTINUE;
}

static gboolean on_hangup(gpointer data)
{
    app *a = data;
    sfu_log(SFU_LOG_INFO, "config.reload", "reason=SIGHUP");
    sig_server_reload(a->srv, a->config_path);
    return G_SOURCE_CONTINUE;
}

static gboolean flush_logs(gpointer data)
{
    (void)data;
    sfu_log_flush(g_get_monotonic_time());
    return G_SOURCE_CONTINUE;
}

/* Allocations of 64 KiB and more get pages of their own (mmap) instead of a
 * place in a malloc arena. Each libnice component holds two 64 KiB buffers
 * (its receive buffer and the RFC 4571 one for ICE-TCP) that a UDP session
 * touches a page or two of: carved from arena memory that earlier sessions
 * had used, every page of them is resident; mapped fresh, only the touched
 * ones are. voice-calls: 176 -> 150 KiB per participant (bench/README.md).
 * A fixed threshold also turns off glibc's sliding one, which rises after a
 * large block is freed and would bring the arena back. GLIBC_TUNABLES with
 * glibc.malloc.mmap_threshold still decides when set. */
static void tune_malloc(void)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if (!t || !strstr(t, "mmap_threshold"))
        (void)mallopt(M_MMAP_THRESHOLD, 64 * 1024);
}

static int run(const char *path)
{
    static sig_config cfg;  /* large: keep it off the stack */
    char err[4096];
    tune_malloc();
    if (sig_config_load(path, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s", err);
        return 1;
    }
    sfu_log_set_level(cfg.log.level);
    sfu_log_set_rate(cfg.log.lines_per_second_per_cause);
    sfu_log_set_addresses(cfg.privacy.log_addresses);
    sfu_log_capture_libraries();
    signal(SIGPIPE, SIG_IGN);

    sig_server *srv = sig_server_new(&cfg, err, sizeof err);
    if (!srv) {
        char reason[sizeof err];    /* may carry OpenSSL's or a library's words */
        sfu_log(SFU_LOG_ERROR, "server.failed", "reason=%s", sfu_log_text(reason, sizeof reason, err));
        return 1;
    }
    app a = { .loop = g_main_loop_new(NULL, FALSE), .srv = srv, .config_path = path };
    /* The signal sources stay attached until exit: removing them would put
     * back the default action while the server is being freed. */
    g_unix_signal_add(SIGINT, on_stop_signal, &a);
    g_unix_signal_add(SIGTERM, on_stop_signal, &a);
    g_unix_signal_add(SIGHUP, on_hangup, &a);
    g_timeout_add_seconds(1, flush_logs, NULL);  /* report suppressed log lines */
    g_main_loop_run(a.loop);
    if (a.drain_timer)
        g_source_remove(a.drain_timer);
    g_main_loop_unref(a.loop);
    sig_server_free(srv);
    sfu_log(SFU_LOG_INFO, "server.stopped", "status=0");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "token") == 0)
        return sig_token_main(argc - 1, argv + 1);
    if (argc == 3 && strcmp(argv[1], "--config") == 0)
        return run(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--check-config") == 0)
        return sig_config_check(argv[2], stdout) == 0 ? 0 : 1;
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("%s\n", sig_version_line());
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
