/* The hand-off from signaling to a worker (signaling/worker_cmd.h) on real
 * workers driven one wake-up at a time (not started): a command runs on its
 * worker, never inline, and ends through sig_cmd_finish (its payload freed,
 * its session reference released); a full queue refuses new work, after the
 * command's refused hook, without running it; the fan-out's `done` runs
 * once, after the last part, and says when a worker refused. */
#include "sfu/core/common.h"
#include "sfu/net/worker.h"
#include "signaling/registry.h"
#include "signaling/server.h"
#include "signaling/worker_cmd.h"
#include "tests/test.h"

#include <glib.h>

#define NWORKERS 2

static sig_server *server_new(void)
{
    sig_server *srv = g_new0(sig_server, 1);
    srv->nworkers = NWORKERS;
    srv->workers = g_new0(sfu_worker *, NWORKERS);
    for (unsigned i = 0; i < NWORKERS; i++)
        srv->workers[i] = sfu_worker_new(i, 16, 16);
    sig_limits limits = { .max_sessions = 10, .max_rooms = 4, .max_participants_per_room = 4 };
    srv->reg = sig_registry_new(&limits, NWORKERS);
    return srv;
}

static void server_free(sig_server *srv)
{
    for (unsigned i = 0; i < NWORKERS; i++)
        sfu_worker_free(srv->workers[i]);
    g_free(srv->workers);
    sig_registry_free(srv->reg);
    g_free(srv);
}

static sig_session *session_new(sig_server *srv)
{
    unsigned status = 0;
    const char *reason = NULL;
    sig_session_spec spec = { .kind = SIG_SESSION_WHIP, .room = "r" };
    return sig_registry_create(srv->reg, &spec, &status, &reason);
}

typedef struct counts {
    int ran, refused, deinit;
    bool on_worker;             /* the run saw its worker's thread as current */
} counts;

typedef struct test_cmd {
    sig_cmd cmd;
    counts *c;
    char *payload;              /* freed by deinit */
} test_cmd;

static void t_run(sig_cmd *cmd)
{
    test_cmd *t = (test_cmd *)cmd;
    t->c->ran++;
    t->c->on_worker = sfu_worker_is_current(cmd->srv->workers[cmd->s ? cmd->s->worker : 0]);
    sig_cmd_finish(cmd, NULL);
}

static void t_refused(sig_cmd *cmd) { ((test_cmd *)cmd)->c->refused++; }

static void t_deinit(sig_cmd *cmd)
{
    test_cmd *t = (test_cmd *)cmd;
    t->c->deinit++;
    g_free(t->payload);
}

static test_cmd *cmd_new(sig_server *srv, sig_session *s, counts *c)
{
    test_cmd *t = SIG_CMD_NEW(test_cmd, srv, NULL, s, t_run);
    t->c = c;
    t->payload = g_strdup("offer");
    t->cmd.refused = t_refused;
    t->cmd.deinit = t_deinit;
    return t;
}

static int refs_of(sig_session *s) { return s->refs; }   /* read with no other thread */

TEST(runs_on_its_worker_and_ends_once)
{
    sig_server *srv = server_new();
    sig_session *s = session_new(srv);
    ASSERT(s);
    ASSERT_EQ(refs_of(s), 2);                   /* the registry's and the command's */
    counts c = { 0 };
    ASSERT_EQ(sig_cmd_post(&cmd_new(srv, s, &c)->cmd, s->worker), 0);
    ASSERT_EQ(c.ran, 0);                        /* never inline */
    sfu_worker_iterate(srv->workers[1 - s->worker]);
    ASSERT_EQ(c.ran, 0);                        /* not on another worker */
    sfu_worker_iterate(srv->workers[s->worker]);
    ASSERT_EQ(c.ran, 1);
    ASSERT(c.on_worker);
    ASSERT_EQ(c.deinit, 1);
    ASSERT_EQ(c.refused, 0);
    ASSERT_EQ(refs_of(s), 1);                   /* the command's reference went with it */
    sig_registry_remove(srv->reg, s);
    server_free(srv);
    return 0;
}

static void nothing(void *arg) { (void)arg; }

/* Full: refused (503 for a request) after its hook, never run, its payload
 * and session reference released; the work already queued is intact. */
TEST(full_queue_refuses_and_undoes)
{
    sig_server *srv = server_new();
    sig_session *s = session_new(srv);
    ASSERT(s);
    sig_registry_set_ready(srv->reg, s, &(sig_track_info){ 0 }, 0);
    sfu_worker *w = srv->workers[s->worker];
    for (int i = 0; i < SFU_WORKER_QUEUE_CAP; i++)
        ASSERT_EQ(sfu_worker_post(w, nothing, NULL), 0);
    counts c = { 0 };
    ASSERT_EQ(sig_cmd_post(&cmd_new(srv, s, &c)->cmd, s->worker), -SFU_ELIMIT);
    ASSERT_EQ(c.refused, 1);
    ASSERT_EQ(c.deinit, 1);
    ASSERT_EQ(c.ran, 0);
    ASSERT_EQ(refs_of(s), 1);
    /* A follow-up is taken all the same, after the queued work. */
    sig_session *s2 = sig_registry_get(srv->reg, s->id, NULL, false, &(unsigned){ 0 });
    ASSERT(s2 == s);
    counts f = { 0 };
    sig_cmd_post_follow(&cmd_new(srv, s, &f)->cmd, s->worker);
    sfu_worker_iterate(w);
    ASSERT_EQ(f.ran, 1);
    ASSERT_EQ(f.deinit, 1);
    ASSERT_EQ(c.ran, 0);
    sfu_cmd_queue_stats st;
    sfu_worker_queue_stats(w, &st);
    ASSERT_EQ(st.refused, 1);
    ASSERT_EQ(st.waiting, 0);
    ASSERT_EQ(refs_of(s), 1);
    /* Room again: admitted. */
    sig_session *s3 = sig_registry_get(srv->reg, s->id, NULL, false, &(unsigned){ 0 });
    counts d = { 0 };
    ASSERT_EQ(sig_cmd_post(&cmd_new(srv, s3, &d)->cmd, s->worker), 0);
    sfu_worker_iterate(w);
    ASSERT_EQ(d.ran, 1);
    sig_registry_remove(srv->reg, s);
    server_free(srv);
    return 0;
}

/* A DELETE's look-up marks the session closing; a refused DELETE reopens
 * it, so a later DELETE can still end it. */
TEST(reopen_after_a_refused_delete)
{
    sig_server *srv = server_new();
    sig_session *s = session_new(srv);
    ASSERT(s);
    sig_registry_set_ready(srv->reg, s, &(sig_track_info){ 0 }, 0);
    unsigned status = 0;
    sig_session *d = sig_registry_get(srv->reg, s->id, NULL, true, &status);
    ASSERT(d == s);
    ASSERT(sig_registry_get(srv->reg, s->id, NULL, true, &status) == NULL);
    ASSERT_EQ(status, 404u);
    sig_registry_reopen(srv->reg, d);
    sig_session_unref(srv->reg, d);
    sig_session *again = sig_registry_get(srv->reg, s->id, NULL, true, &status);
    ASSERT(again == s);
    sig_session_unref(srv->reg, again);
    /* A session gone meanwhile stays closed. */
    sig_registry_remove(srv->reg, s);
    sig_registry_reopen(srv->reg, s);
    ASSERT(s->closing);
    sig_session_unref(srv->reg, s);
    server_free(srv);
    return 0;
}

/* A failure's ending is claimed once: not again, not by a DELETE after it,
 * and not when a DELETE has it already; a session not ready can be claimed
 * (a relay leg failing while it opens). */
TEST(claim_end_once)
{
    sig_server *srv = server_new();
    sig_session *s = session_new(srv);
    ASSERT(s);
    sig_session *c = sig_registry_claim_end(srv->reg, s->id);      /* not ready yet */
    ASSERT(c == s);
    ASSERT(sig_registry_claim_end(srv->reg, s->id) == NULL);
    sig_registry_set_ready(srv->reg, s, &(sig_track_info){ 0 }, 0);
    unsigned status = 0;
    ASSERT(sig_registry_get(srv->reg, s->id, NULL, true, &status) == NULL);
    ASSERT_EQ(status, 404u);
    sig_registry_remove(srv->reg, c);
    sig_session_unref(srv->reg, c);
    ASSERT(sig_registry_claim_end(srv->reg, s->id) == NULL);        /* gone */
    sig_session *t = session_new(srv);
    sig_registry_set_ready(srv->reg, t, &(sig_track_info){ 0 }, 0);
    sig_session *d = sig_registry_get(srv->reg, t->id, NULL, true, &status);
    ASSERT(d == t);
    ASSERT(sig_registry_claim_end(srv->reg, t->id) == NULL);        /* DELETE has it */
    sig_registry_remove(srv->reg, t);
    sig_session_unref(srv->reg, d);
    sig_session_unref(srv->reg, s);
    sig_session_unref(srv->reg, t);
    server_free(srv);
    return 0;
}

typedef struct fan {
    int each[NWORKERS];
    int done;
    bool refused;
    int each_before_done;
} fan;

static void fan_each(sig_server *srv, unsigned worker, void *user)
{
    (void)srv;
    ((fan *)user)->each[worker]++;
}

static void fan_done(sig_server *srv, void *user, bool refused)
{
    (void)srv;
    fan *f = user;
    f->done++;
    f->refused = refused;
    for (int i = 0; i < NWORKERS; i++)
        f->each_before_done += f->each[i];
}

TEST(fanout_done_once_after_the_last)
{
    sig_server *srv = server_new();
    fan f = { 0 };
    sig_cmd_fanout(srv, fan_each, fan_done, &f);
    ASSERT_EQ(f.done, 0);
    sfu_worker_iterate(srv->workers[0]);
    ASSERT_EQ(f.each[0], 1);
    ASSERT_EQ(f.done, 0);
    sfu_worker_iterate(srv->workers[1]);
    ASSERT_EQ(f.done, 1);
    ASSERT(!f.refused);
    ASSERT_EQ(f.each_before_done, NWORKERS);
    /* Worker 1 full: its part is refused; done comes after worker 0's. */
    for (int i = 0; i < SFU_WORKER_QUEUE_CAP; i++)
        ASSERT_EQ(sfu_worker_post(srv->workers[1], nothing, NULL), 0);
    fan g = { 0 };
    sig_cmd_fanout(srv, fan_each, fan_done, &g);
    ASSERT_EQ(g.done, 0);
    sfu_worker_iterate(srv->workers[0]);
    ASSERT_EQ(g.done, 1);
    ASSERT(g.refused);
    ASSERT_EQ(g.each[0], 1);
    ASSERT_EQ(g.each[1], 0);
    sfu_worker_iterate(srv->workers[1]);
    ASSERT_EQ(g.each[1], 0);
    ASSERT_EQ(g.done, 1);
    /* Every worker full: done at once, on the poster's thread. */
    for (int i = 0; i < SFU_WORKER_QUEUE_CAP; i++)
        for (int k = 0; k < NWORKERS; k++)
            ASSERT_EQ(sfu_worker_post(srv->workers[k], nothing, NULL), 0);
    fan h = { 0 };
    sig_cmd_fanout(srv, fan_each, fan_done, &h);
    ASSERT_EQ(h.done, 1);
    ASSERT(h.refused);
    for (int k = 0; k < NWORKERS; k++)
        sfu_worker_iterate(srv->workers[k]);
    ASSERT_EQ(h.each[0] + h.each[1], 0);
    server_free(srv);
    return 0;
}

TEST_LIST(TEST_ENTRY(runs_on_its_worker_and_ends_once), TEST_ENTRY(full_queue_refuses_and_undoes),
          TEST_ENTRY(reopen_after_a_refused_delete), TEST_ENTRY(claim_end_once),
          TEST_ENTRY(fanout_done_once_after_the_last))
