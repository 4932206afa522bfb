/* Blocking hiredis with timeouts, for the cluster thread (see redis_client.h). */
#include "signaling/redis_client.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>

struct sig_redis {
    redisContext *ctx;
    unsigned queued;
};

const char *sig_redis_cause_name(sig_redis_cause cause)
{
    static const char *const names[SIG_REDIS_CAUSES] = {
        [SIG_REDIS_OK] = "ok",           [SIG_REDIS_CONNECT] = "connect",
        [SIG_REDIS_TIMEOUT] = "timeout", [SIG_REDIS_IO] = "io",
        [SIG_REDIS_AUTH] = "auth",       [SIG_REDIS_REPLY] = "error_reply",
    };
    return cause < SIG_REDIS_CAUSES ? names[cause] : "unknown";
}

static sig_redis_cause io_cause(const redisContext *ctx)
{
    if (ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT))
        return SIG_REDIS_TIMEOUT;
    return SIG_REDIS_IO;
}

void sig_redis_free(sig_redis *r)
{
    if (!r)
        return;
    if (r->ctx)
        redisFree(r->ctx);
    g_free(r);
}

void sig_redis_append(sig_redis *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (redisvAppendCommand(r->ctx, fmt, ap) == REDIS_OK)
        r->queued++;
    va_end(ap);
}

void sig_redis_replies_free(redisReply **replies, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (replies[i])
            freeReplyObject(replies[i]);
        replies[i] = NULL;
    }
}

sig_redis_cause sig_redis_exec(sig_redis *r, redisReply **replies, unsigned n, bool errors_fail)
{
    sig_redis_cause cause = SIG_REDIS_OK;
    unsigned queued = r->queued;
    r->queued = 0;
    for (unsigned i = 0; i < n; i++)
        replies[i] = NULL;
    if (queued != n)    /* a command that could not even be formatted */
        cause = SIG_REDIS_REPLY;
    for (unsigned i = 0; i < queued && cause != SIG_REDIS_IO && cause != SIG_REDIS_TIMEOUT; i++) {
        void *reply = NULL;
        if (redisGetReply(r->ctx, &reply) != REDIS_OK || !reply) {
            cause = io_cause(r->ctx);
            break;
        }
        if (i < n)
            replies[i] = reply;
        else
            freeReplyObject(reply);
        if (errors_fail && ((redisReply *)reply)->type == REDIS_REPLY_ERROR)
            cause = SIG_REDIS_REPLY;
    }
    if (cause != SIG_REDIS_OK)
        sig_redis_replies_free(replies, n);
    return cause;
}

sig_redis *sig_redis_connect(const sig_redis_addr *addr, const char *password,
                             unsigned timeout_ms, sig_redis_cause *cause)
{
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    sig_redis *r = g_new0(sig_redis, 1);
    r->ctx = redisConnectWithTimeout(addr->host, addr->port, tv);
    if (!r->ctx || r->ctx->err) {
        *cause = r->ctx && r->ctx->err == REDIS_ERR_IO &&
                         (errno == EINPROGRESS || errno == ETIMEDOUT)
                     ? SIG_REDIS_TIMEOUT
                     : SIG_REDIS_CONNECT;
        goto err;
    }
    if (redisSetTimeout(r->ctx, tv) != REDIS_OK) {
        *cause = SIG_REDIS_IO;
        goto err;
    }
    redisReply *rep[3];
    unsigned n = 0;
    if (password && password[0]) {
        sig_redis_append(r, "AUTH %s", password);
        n++;
    }
    char db[16];
    snprintf(db, sizeof db, "%u", addr->db);
    sig_redis_append(r, "SELECT %s", db);
    sig_redis_append(r, "PING");
    n += 2;
    *cause = sig_redis_exec(r, rep, n, true);
    if (*cause == SIG_REDIS_REPLY)
        *cause = SIG_REDIS_AUTH;
    if (*cause != SIG_REDIS_OK)
        goto err;
    sig_redis_replies_free(rep, n);
    return r;
err:
    sig_redis_free(r);
    return NULL;
}
