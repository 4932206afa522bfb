/* sfu: a WebRTC selective forwarding unit.
 *
 *   sfu --config FILE          run with that configuration
 *   sfu --check-config FILE    report every problem in FILE, exit 1 if any
 */
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sfu/net/log.h"
#include "signaling/config.h"
#include "signaling/server.h"
#include "signaling/token_cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sfu --config FILE\n"
            "       sfu --check-config FILE\n"
            "       sfu token --config FILE --room R --name N [--ttl 1h] [--publish] [--subscribe]\n"
            "\n"
            "  --config FILE        start the SFU with this configuration (INI)\n"
            "  --check-config FILE  print each problem as file:line: key: problem;\n"
            "                       exit 0 when the file is good, 1 otherwise\n"
            "  token                print an access token (JWT, HS256) signed with the\n"
            "                       config's [auth] secret\n"
            "  --help               this text\n");
}

static gboolean on_stop_signal(gpointer loop)
{
    sfu_log(SFU_LOG_INFO, "server.stopping", "reason=signal");
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

/* Reloading is not built yet: say so instead of dying on the default action. */
static gboolean on_hangup(gpointer data)
{
    (void)data;
    sfu_log(SFU_LOG_WARN, "config.reload",
            "msg2=\"SIGHUP: live reload is not supported; restart to apply changes\"");
    return G_SOURCE_CONTINUE;
}

static gboolean flush_logs(gpointer data)
{
    (void)data;
    sfu_log_flush(g_get_monotonic_time());
    return G_SOURCE_CONTINUE;
}

static int run(const char *path)
{
    static sig_config cfg;  /* large: keep it off the stack */
    char err[4096];
    if (sig_config_load(path, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s", err);
        return 1;
    }
    sfu_log_set_level(cfg.log.level);
    sfu_log_set_rate(cfg.log.lines_per_second_per_cause);
    signal(SIGPIPE, SIG_IGN);

    sig_server *srv = sig_server_new(&cfg, err, sizeof err);
    if (!srv) {
        sfu_log(SFU_LOG_ERROR, "server.failed", "reason=\"%s\"", err);
        return 1;
    }
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGINT, on_stop_signal, loop);
    g_unix_signal_add(SIGTERM, on_stop_signal, loop);
    g_unix_signal_add(SIGHUP, on_hangup, NULL);
    g_timeout_add_seconds(1, flush_logs, NULL);  /* report suppressed log lines */
    g_main_loop_run(loop);
    g_main_loop_unref(loop);
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
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
