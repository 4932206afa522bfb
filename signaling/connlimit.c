#include "signaling/connlimit.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

/* The states with a deadline, each in one queue. Every connection enters
 * its queue at the tail with now + that state's fixed timeout, so each
 * queue is in deadline order and the earliest deadline is at a head. */
enum { Q_HEADERS, Q_BODY, Q_IDLE, QUEUES };

typedef struct conn {
    uint64_t id;
    int64_t tag;
    sig_conn_state state;
    sfu_time deadline;
    char client[SIG_CONNLIMIT_CLIENT_MAX];
    GList state_link;           /* in t->timed[] while HEADERS, BODY or IDLE */
    GList client_link;          /* in its client's pending queue while pending */
} conn;

/* Kept only while the client has a pending connection. */
typedef struct client {
    char key[SIG_CONNLIMIT_CLIENT_MAX];
    GQueue pending;             /* oldest first */
} client;

struct sig_connlimit {
    sig_connlimit_config cfg;
    GHashTable *conns;          /* &conn->id -> conn; owns the conns */
    GHashTable *clients;        /* key -> client; owns the clients */
    GQueue timed[QUEUES];
    uint64_t next_id;
    sig_connlimit_counts counts;
};

static int queue_of(sig_conn_state s)
{
    switch (s) {
    case SIG_CONN_HEADERS: return Q_HEADERS;
    case SIG_CONN_BODY: return Q_BODY;
    case SIG_CONN_IDLE: return Q_IDLE;
    default: return -1;
    }
}

static bool is_pending(sig_conn_state s)
{
    return s == SIG_CONN_HEADERS || s == SIG_CONN_BODY;
}

static sfu_time timeout_of(const sig_connlimit *t, int q)
{
    return q == Q_HEADERS ? t->cfg.header_timeout
           : q == Q_BODY  ? t->cfg.body_timeout
                          : t->cfg.idle_timeout;
}

sig_connlimit *sig_connlimit_new(const sig_connlimit_config *cfg)
{
    if (!cfg || cfg->max_connections == 0 || cfg->header_timeout <= 0 ||
        cfg->body_timeout <= 0 || cfg->idle_timeout <= 0)
        return NULL;
    sig_connlimit *t = g_new0(sig_connlimit, 1);
    t->cfg = *cfg;
    t->conns = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    t->clients = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    for (int q = 0; q < QUEUES; q++)
        g_queue_init(&t->timed[q]);
    return t;
}

void sig_connlimit_free(sig_connlimit *t)
{
    if (!t)
        return;
    g_hash_table_destroy(t->conns);
    g_hash_table_destroy(t->clients);
    g_free(t);
}

static void client_add(sig_connlimit *t, conn *c)
{
    client *cl = g_hash_table_lookup(t->clients, c->client);
    if (!cl) {
        cl = g_new0(client, 1);
        memcpy(cl->key, c->client, sizeof cl->key);
        g_queue_init(&cl->pending);
        g_hash_table_insert(t->clients, cl->key, cl);
    }
    g_queue_push_tail_link(&cl->pending, &c->client_link);
}

static void client_drop(sig_connlimit *t, conn *c)
{
    client *cl = g_hash_table_lookup(t->clients, c->client);
    g_queue_unlink(&cl->pending, &c->client_link);
    if (g_queue_is_empty(&cl->pending))
        g_hash_table_remove(t->clients, c->client);
}

static void leave(sig_connlimit *t, conn *c)
{
    int q = queue_of(c->state);
    if (q >= 0)
        g_queue_unlink(&t->timed[q], &c->state_link);
    t->counts.state[c->state]--;
}

static void move(sig_connlimit *t, conn *c, sig_conn_state s, sfu_time now)
{
    bool was_pending = is_pending(c->state);
    leave(t, c);
    if (was_pending && !is_pending(s))
        client_drop(t, c);
    else if (!was_pending && is_pending(s))
        client_add(t, c);
    c->state = s;
    t->counts.state[s]++;
    int q = queue_of(s);
    if (q >= 0) {
        c->deadline = now + timeout_of(t, q);
        g_queue_push_tail_link(&t->timed[q], &c->state_link);
    }
}

static void close_conn(sig_connlimit *t, conn *c, sig_conn_close reason, sig_conn_victim *v)
{
    *v = (sig_conn_victim){ .id = c->id, .tag = c->tag, .reason = reason };
    move(t, c, SIG_CONN_CLOSING, 0);
    t->counts.closed[reason]++;
}

static uint32_t open_now(const sig_connlimit *t)
{
    uint32_t n = 0;
    for (int s = 0; s < SIG_CONN_STATES; s++)
        if (s != SIG_CONN_CLOSING)
            n += t->counts.state[s];
    return n;
}

uint64_t sig_connlimit_admit(sig_connlimit *t, const char *client_key, sfu_time now,
                             sig_conn_victim victims[2], unsigned *nvictims)
{
    *nvictims = 0;
    char key[SIG_CONNLIMIT_CLIENT_MAX];
    snprintf(key, sizeof key, "%s", client_key ? client_key : "");
    client *cl = g_hash_table_lookup(t->clients, key);
    if (t->cfg.max_pending_per_client && cl &&
        g_queue_get_length(&cl->pending) >= t->cfg.max_pending_per_client)
        close_conn(t, g_queue_peek_head(&cl->pending), SIG_CONN_CLOSE_CLIENT_CAP,
                   &victims[(*nvictims)++]);
    if (open_now(t) >= t->cfg.max_connections) {
        conn *idle = g_queue_peek_head(&t->timed[Q_IDLE]);
        if (!idle) {
            t->counts.refused++;
            return 0;
        }
        close_conn(t, idle, SIG_CONN_CLOSE_IDLE_EVICTED, &victims[(*nvictims)++]);
    }
    conn *c = g_new0(conn, 1);
    c->id = ++t->next_id;
    c->tag = -1;
    memcpy(c->client, key, sizeof key);
    c->state_link.data = c;
    c->client_link.data = c;
    c->state = SIG_CONN_CLOSING;    /* move() leaves this one */
    t->counts.state[SIG_CONN_CLOSING]++;
    g_hash_table_insert(t->conns, &c->id, c);
    move(t, c, SIG_CONN_HEADERS, now);
    return c->id;
}

static conn *find(const sig_connlimit *t, uint64_t id)
{
    return g_hash_table_lookup(t->conns, &id);
}

int sig_connlimit_set_tag(sig_connlimit *t, uint64_t id, int64_t tag)
{
    conn *c = find(t, id);
    if (!c)
        return -SFU_ENOTFOUND;
    c->tag = tag;
    return 0;
}

int sig_connlimit_set_state(sig_connlimit *t, uint64_t id, sig_conn_state state, sfu_time now)
{
    if (state != SIG_CONN_BODY && state != SIG_CONN_ACTIVE && state != SIG_CONN_IDLE)
        return -SFU_EINVAL;
    conn *c = find(t, id);
    if (!c)
        return -SFU_ENOTFOUND;
    if (c->state != SIG_CONN_CLOSING)
        move(t, c, state, now);
    return 0;
}

void sig_connlimit_remove(sig_connlimit *t, uint64_t id)
{
    conn *c = find(t, id);
    if (!c)
        return;
    leave(t, c);
    if (is_pending(c->state))
        client_drop(t, c);
    g_hash_table_remove(t->conns, &id);
}

sig_conn_state sig_connlimit_state(const sig_connlimit *t, uint64_t id)
{
    conn *c = find(t, id);
    return c ? c->state : SIG_CONN_CLOSING;
}

/* The queue whose head has the earliest deadline, or -1 when all are empty. */
static int earliest(const sig_connlimit *t)
{
    int best = -1;
    sfu_time at = SFU_TIME_NEVER;
    for (int q = 0; q < QUEUES; q++) {
        conn *c = g_queue_peek_head((GQueue *)&t->timed[q]);
        if (c && c->deadline < at) {
            at = c->deadline;
            best = q;
        }
    }
    return best;
}

sfu_time sig_connlimit_poll_timeout(const sig_connlimit *t)
{
    int q = earliest(t);
    return q < 0 ? SFU_TIME_NEVER : ((conn *)g_queue_peek_head((GQueue *)&t->timed[q]))->deadline;
}

unsigned sig_connlimit_handle_timeout(sig_connlimit *t, sfu_time now, sig_conn_victim *out,
                                      unsigned max)
{
    static const sig_conn_close reasons[QUEUES] = {
        [Q_HEADERS] = SIG_CONN_CLOSE_HEADER_TIMEOUT,
        [Q_BODY] = SIG_CONN_CLOSE_BODY_TIMEOUT,
        [Q_IDLE] = SIG_CONN_CLOSE_IDLE_TIMEOUT,
    };
    unsigned n = 0;
    int q;
    while (n < max && (q = earliest(t)) >= 0) {
        conn *c = g_queue_peek_head(&t->timed[q]);
        if (c->deadline > now)
            break;
        close_conn(t, c, reasons[q], &out[n++]);
    }
    return n;
}

void sig_connlimit_counts_get(const sig_connlimit *t, sig_connlimit_counts *c)
{
    *c = t->counts;
}

unsigned sig_connlimit_pending(const sig_connlimit *t, const char *client_key)
{
    char key[SIG_CONNLIMIT_CLIENT_MAX];
    snprintf(key, sizeof key, "%s", client_key ? client_key : "");
    client *cl = g_hash_table_lookup(t->clients, key);
    return cl ? g_queue_get_length(&cl->pending) : 0;
}
