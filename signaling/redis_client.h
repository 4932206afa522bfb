/* A thin wrapper over hiredis's blocking API for the cluster thread (the
 * only user): one connection with a connect and I/O timeout, AUTH and
 * SELECT at connect, pipelined commands, and every failure reduced to one
 * cause so that the caller can log each cause once. */
#ifndef SIG_REDIS_CLIENT_H
#define SIG_REDIS_CLIENT_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "signaling/cluster_store.h"

typedef enum sig_redis_cause {
    SIG_REDIS_OK = 0,
    SIG_REDIS_CONNECT,      /* refused, unreachable, name not found */
    SIG_REDIS_TIMEOUT,      /* no answer within the timeout */
    SIG_REDIS_IO,           /* the connection broke */
    SIG_REDIS_AUTH,         /* AUTH or SELECT refused */
    SIG_REDIS_REPLY,        /* an error reply (script error, out of memory, read-only) */
    SIG_REDIS_CAUSES,
} sig_redis_cause;

const char *sig_redis_cause_name(sig_redis_cause cause);

typedef struct sig_redis sig_redis;

/* Connects, authenticates (password may be "" for none) and selects the
 * database. NULL with *cause set on failure. */
sig_redis *sig_redis_connect(const sig_redis_addr *addr, const char *password,
                             unsigned timeout_ms, sig_redis_cause *cause);
void sig_redis_free(sig_redis *r);

/* Queues one command (hiredis format: %s strings, %b binary with length). */
void sig_redis_append(sig_redis *r, const char *fmt, ...);
/* Sends what is queued and reads one reply per queued command into
 * replies[] (each freed with freeReplyObject, or all with
 * sig_redis_replies_free). Returns SIG_REDIS_OK, or the cause with no
 * reply left to free; after a cause other than SIG_REDIS_REPLY the
 * connection is unusable. An error reply to a command counts as
 * SIG_REDIS_REPLY only when `errors_fail`; otherwise it is left in
 * replies[] for the caller. */
sig_redis_cause sig_redis_exec(sig_redis *r, redisReply **replies, unsigned n, bool errors_fail);
void sig_redis_replies_free(redisReply **replies, unsigned n);

#endif
