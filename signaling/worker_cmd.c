#include "signaling/worker_cmd.h"

#include <glib.h>

#include "sfu/core/common.h"
#include "sfu/net/log.h"
#include "signaling/media_events.h"
#include "signaling/server.h"

void *sig_cmd_new(size_t size, sig_server *srv, sig_request *req, sig_session *s,
                  void (*run)(sig_cmd *cmd))
{
    sig_cmd *cmd = g_malloc0(size);
    cmd->srv = srv;
    cmd->req = req;
    cmd->s = s;
    cmd->run = run;
    return cmd;
}

static void run_cmd(void *arg)
{
    sig_cmd *cmd = arg;
    cmd->run(cmd);
}

static int refuse(sig_cmd *cmd, unsigned worker, int rc)
{
    sfu_log(SFU_LOG_WARN, "worker.busy", "worker=%u msg2=\"command queue full: 503\"", worker);
    if (cmd->refused)
        cmd->refused(cmd);
    sig_cmd_finish(cmd, &(sig_response){ .status = 503, .body = SIG_CMD_BUSY_REASON,
                                         .retry_after_s = 1 });
    return rc;
}

int sig_cmd_post(sig_cmd *cmd, unsigned worker)
{
    if (!cmd->srv->workers)
        return refuse(cmd, worker, -SFU_ELIMIT);
    int rc = sfu_worker_post(cmd->srv->workers[worker], run_cmd, cmd);
    return rc == 0 ? 0 : refuse(cmd, worker, rc);
}

int sig_cmd_admit(sig_cmd *cmd, unsigned worker)
{
    if (!cmd->srv->workers)
        return refuse(cmd, worker, -SFU_ELIMIT);
    /* The bound is a soft one (cmd_ring.h): another poster racing past this
     * check overshoots it by one command at most per poster. */
    int rc = sfu_worker_admit(cmd->srv->workers[worker]);
    return rc == 0 ? 0 : refuse(cmd, worker, rc);
}

void sig_cmd_back(sig_cmd *cmd, void (*fn)(sig_cmd *cmd))
{
    cmd->run = fn;
    sig_media_events_post(cmd->srv, run_cmd, cmd);
}

void sig_cmd_post_follow(sig_cmd *cmd, unsigned worker)
{
    if (!cmd->srv->workers) {   /* shutting down: what the main thread still runs */
        sig_cmd_finish(cmd, NULL);
        return;
    }
    sfu_worker_post_follow(cmd->srv->workers[worker], run_cmd, cmd);
}

void sig_cmd_finish(sig_cmd *cmd, const sig_response *resp)
{
    if (cmd->req && resp)
        sig_http_respond(cmd->req, resp);
    if (cmd->s)
        sig_session_unref(cmd->srv->reg, cmd->s);
    if (cmd->deinit)
        cmd->deinit(cmd);
    g_free(cmd);
}

void sig_cmd_finish_text(sig_cmd *cmd, unsigned status, const char *reason)
{
    sig_cmd_respond_text(cmd, status, reason);
    sig_cmd_finish(cmd, NULL);
}

void sig_cmd_respond(sig_cmd *cmd, const sig_response *resp)
{
    if (cmd->req)
        sig_http_respond(cmd->req, resp);
    cmd->req = NULL;
}

void sig_cmd_respond_text(sig_cmd *cmd, unsigned status, const char *reason)
{
    if (cmd->req)
        sig_http_respond_text(cmd->req, status, reason);
    cmd->req = NULL;
}

typedef struct fanout {
    void (*each)(sig_server *srv, unsigned worker, void *user);
    void (*done)(sig_server *srv, void *user, bool refused);
    void *user;
    gint pending;               /* parts not ended, plus the poster's own */
    gint refused;
} fanout;

typedef struct fanout_part {
    sig_cmd cmd;
    fanout *f;
    unsigned worker;
} fanout_part;

static void fanout_end(sig_server *srv, fanout *f)
{
    if (!g_atomic_int_dec_and_test(&f->pending))
        return;
    f->done(srv, f->user, g_atomic_int_get(&f->refused) != 0);
    g_free(f);
}

static void fanout_run(sig_cmd *cmd)
{
    fanout_part *part = (fanout_part *)cmd;
    sig_server *srv = cmd->srv;
    fanout *f = part->f;
    f->each(srv, part->worker, f->user);
    sig_cmd_finish(cmd, NULL);
    fanout_end(srv, f);
}

static void fanout_refused(sig_cmd *cmd)
{
    fanout_part *part = (fanout_part *)cmd;
    g_atomic_int_set(&part->f->refused, 1);
    fanout_end(cmd->srv, part->f);
}

void sig_cmd_fanout(sig_server *srv, void (*each)(sig_server *srv, unsigned worker, void *user),
                    void (*done)(sig_server *srv, void *user, bool refused), void *user)
{
    fanout *f = g_new0(fanout, 1);
    *f = (fanout){ .each = each, .done = done, .user = user,
                   .pending = (gint)srv->nworkers + 1 };
    for (unsigned i = 0; i < srv->nworkers; i++) {
        fanout_part *part = SIG_CMD_NEW(fanout_part, srv, NULL, NULL, fanout_run);
        part->f = f;
        part->worker = i;
        part->cmd.refused = fanout_refused;
        sig_cmd_post(&part->cmd, i);
    }
    fanout_end(srv, f);
}
