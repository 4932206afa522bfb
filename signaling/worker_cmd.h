/* A command from signaling to a media worker: the one hand-off for work the
 * HTTP side (or a signaling thread) needs done on a worker's thread.
 *
 * Every command has the same shape and the same life: a payload struct
 * that begins with a sig_cmd (the request that waits for it, the session
 * reference it holds, what runs on the worker, what frees the payload),
 * posted to one worker's bounded queue (sfu/net/cmd_queue.h), run there in
 * order, and ended by sig_cmd_finish, the one result path: it answers the
 * suspended request (which resumes it), releases the session and frees the
 * command. A full queue refuses new work: the command is finished at once
 * with 503 and Retry-After, never queued without end and never blocked on.
 * A follow-up of admitted work (the answer of a node-to-node call, a
 * shutdown) is always queued. */
#ifndef SIG_WORKER_CMD_H
#define SIG_WORKER_CMD_H

#include <stdbool.h>

#include "signaling/http.h"

struct sig_server;
struct sig_session;

typedef struct sig_cmd sig_cmd;
struct sig_cmd {
    struct sig_server *srv;
    sig_request *req;               /* answered by sig_cmd_finish; NULL: none waits */
    struct sig_session *s;          /* a reference released by sig_cmd_finish, or NULL */
    /* On the worker. It ends the command with sig_cmd_finish, or hands it
     * on (a follow-up post) to end it later. */
    void (*run)(sig_cmd *cmd);
    /* Undoes what admission reserved when the queue refuses the command
     * (a registry reservation, say), before the 503. NULL: nothing. */
    void (*refused)(sig_cmd *cmd);
    /* Frees what the payload holds beyond this header. NULL: nothing. */
    void (*deinit)(sig_cmd *cmd);
};

/* A zeroed payload of `size` bytes (a struct beginning with a sig_cmd). */
void *sig_cmd_new(size_t size, struct sig_server *srv, sig_request *req, struct sig_session *s,
                  void (*run)(sig_cmd *cmd));
#define SIG_CMD_NEW(type, srv, req, s, run) \
    ((type *)sig_cmd_new(sizeof(type), (srv), (req), (s), (run)))

/* Queues `cmd` for worker `worker`. 0; or, when that worker's queue is
 * full, -SFU_ELIMIT after finishing `cmd` with 503 (the caller must not
 * touch it again). */
int sig_cmd_post(sig_cmd *cmd, unsigned worker);
/* A follow-up: always queued. */
void sig_cmd_post_follow(sig_cmd *cmd, unsigned worker);
/* Admission without the post, for work the signaling side decides before
 * the worker applies it (a room session's answer: its renegotiation state
 * commits on the signaling side, so the media change that follows must not
 * be refused). 0: admitted, post it with sig_cmd_post_follow; or, when that
 * worker's queue is full, -SFU_ELIMIT after finishing `cmd` with 503, as
 * sig_cmd_post does. */
int sig_cmd_admit(sig_cmd *cmd, unsigned worker);
/* From the worker: fn(cmd) runs next on the main thread (the signaling
 * side), in order with the worker's events (media_events.h); it ends the
 * command or posts it on. The worker must not touch `cmd` afterwards. */
void sig_cmd_back(sig_cmd *cmd, void (*fn)(sig_cmd *cmd));

/* The one way a command ends: answers its request with `resp` (nothing is
 * sent when NULL or when no request waits), releases its session, frees it. */
void sig_cmd_finish(sig_cmd *cmd, const sig_response *resp);
void sig_cmd_finish_text(sig_cmd *cmd, unsigned status, const char *reason);

/* Answers the request now, when the worker has more to do before the
 * command ends (sig_cmd_finish then sends nothing more). */
void sig_cmd_respond(sig_cmd *cmd, const sig_response *resp);
void sig_cmd_respond_text(sig_cmd *cmd, unsigned status, const char *reason);

/* New work on every worker: each(srv, worker, user) on each worker's
 * thread, then done(srv, user, refused) once, on the thread that finished
 * last (refused: some worker's queue was full and its `each` did not run;
 * the caller answers 503). */
void sig_cmd_fanout(struct sig_server *srv, void (*each)(struct sig_server *srv, unsigned worker,
                                                         void *user),
                    void (*done)(struct sig_server *srv, void *user, bool refused), void *user);

/* The answer to new work a full worker queue refused. */
#define SIG_CMD_BUSY_REASON "the media worker is busy: try again"

#endif
