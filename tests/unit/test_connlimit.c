/* The HTTP connection accounting on a virtual clock: per-client caps on
 * pending connections, the global limit closing idle ones first, and the
 * header, body and idle deadlines. */
#include "signaling/connlimit.h"
#include "tests/test.h"

#define T0 SFU_SEC(1000)
#define H SIG_CONN_HEADERS
#define B SIG_CONN_BODY
#define A SIG_CONN_ACTIVE
#define I SIG_CONN_IDLE
#define CL SIG_CONN_CLOSING

enum { ADMIT, STATE, REMOVE, TICK, PENDING, POLL };

typedef struct step {
    int op;
    sfu_time at;                /* offset from T0 */
    const char *client;         /* ADMIT, PENDING */
    uint64_t id;                /* STATE, REMOVE; ADMIT: the id wanted (0: refused) */
    sig_conn_state state;       /* STATE: the state asked; then the state wanted */
    uint64_t victims[2];        /* ADMIT, TICK: ids closed, in order; 0 ends */
    sig_conn_close reasons[2];
    unsigned count;             /* PENDING: connections wanted; POLL: deadline, s after T0 */
} step;

static int run_step(sig_connlimit *t, const step *s)
{
    sig_conn_victim v[8];
    unsigned nv = 0;
    switch (s->op) {
    case ADMIT: {
        uint64_t id = sig_connlimit_admit(t, s->client, T0 + s->at, v, &nv);
        ASSERT_EQ(id, s->id);
        if (id)
            ASSERT_EQ(sig_connlimit_set_tag(t, id, (int64_t)id + 100), 0);
        break;
    }
    case STATE:
        ASSERT_EQ(sig_connlimit_set_state(t, s->id, s->state, T0 + s->at), 0);
        break;
    case REMOVE:
        sig_connlimit_remove(t, s->id);
        ASSERT_EQ(sig_connlimit_state(t, s->id), CL);
        break;
    case TICK:
        nv = sig_connlimit_handle_timeout(t, T0 + s->at, v, 8);
        break;
    case PENDING:
        ASSERT_EQ(sig_connlimit_pending(t, s->client), s->count);
        break;
    case POLL:
        ASSERT_EQ(sig_connlimit_poll_timeout(t),
                  s->count ? T0 + SFU_SEC(s->count) : SFU_TIME_NEVER);
        break;
    }
    if (s->op == ADMIT || s->op == TICK) {
        unsigned want = s->victims[0] ? (s->victims[1] ? 2 : 1) : 0;
        ASSERT_EQ(nv, want);
        for (unsigned k = 0; k < nv; k++) {
            ASSERT_EQ(v[k].id, s->victims[k]);
            ASSERT_EQ(v[k].reason, s->reasons[k]);
            ASSERT_EQ(v[k].tag, (int64_t)v[k].id + 100);
            ASSERT_EQ(sig_connlimit_state(t, v[k].id), CL);
        }
    }
    return 0;
}

/* Replays `steps` on a new table, left in *out. */
static int run(const sig_connlimit_config *cfg, const step *steps, size_t n, sig_connlimit **out)
{
    sig_connlimit *t = sig_connlimit_new(cfg);
    ASSERT(t);
    for (size_t i = 0; i < n; i++)
        if (run_step(t, &steps[i]) != 0) {
            fprintf(stderr, "  at step %zu\n", i);
            sig_connlimit_free(t);
            return 1;
        }
    *out = t;
    return 0;
}

/* max 4 open, 2 pending per client, headers 10 s, body 5 s, idle 30 s. */
static const sig_connlimit_config small = {
    .max_connections = 4, .max_pending_per_client = 2, .header_timeout = SFU_SEC(10),
    .body_timeout = SFU_SEC(5), .idle_timeout = SFU_SEC(30),
};

TEST(script)
{
    static const step steps[] = {
        { .op = ADMIT, .at = 0, .client = "a", .id = 1 },
        { .op = ADMIT, .at = 0, .client = "a", .id = 2 },
        { .op = PENDING, .at = 0, .client = "a", .count = 2 },
        /* a at its cap: its oldest pending connection goes, the new one is in */
        { .op = ADMIT, .at = SFU_SEC(1), .client = "a", .id = 3,
          .victims = { 1 }, .reasons = { SIG_CONN_CLOSE_CLIENT_CAP } },
        { .op = PENDING, .at = 0, .client = "a", .count = 2 },
        { .op = ADMIT, .at = SFU_SEC(1), .client = "b", .id = 4 },
        { .op = STATE, .at = SFU_SEC(1), .id = 2, .state = B },    /* headers done: still pending */
        { .op = PENDING, .at = 0, .client = "a", .count = 2 },
        { .op = STATE, .at = SFU_SEC(1), .id = 3, .state = A },    /* a complete request */
        { .op = STATE, .at = SFU_SEC(1), .id = 4, .state = A },
        { .op = PENDING, .at = 0, .client = "a", .count = 1 },
        { .op = PENDING, .at = 0, .client = "b", .count = 0 },
        { .op = ADMIT, .at = SFU_SEC(2), .client = "c", .id = 5 },   /* open: 2, 3, 4, 5 */
        { .op = ADMIT, .at = SFU_SEC(2), .client = "d", .id = 0 },   /* full, none idle */
        { .op = STATE, .at = SFU_SEC(2), .id = 3, .state = I },     /* answered, keep-alive */
        /* full: the idle one makes room */
        { .op = ADMIT, .at = SFU_SEC(3), .client = "d", .id = 6,
          .victims = { 3 }, .reasons = { SIG_CONN_CLOSE_IDLE_EVICTED } },
        { .op = STATE, .at = SFU_SEC(3), .id = 4, .state = I },
        { .op = POLL, .count = 6 },                        /* 2's body deadline: 1 s + 5 s */
        { .op = TICK, .at = SFU_MS(5999) },
        { .op = TICK, .at = SFU_SEC(6),
          .victims = { 2 }, .reasons = { SIG_CONN_CLOSE_BODY_TIMEOUT } },
        { .op = STATE, .at = SFU_SEC(6), .id = 2, .state = A },     /* closing stays closing */
        { .op = POLL, .count = 12 },                        /* 5's headers: 2 s + 10 s */
        { .op = TICK, .at = SFU_SEC(12),
          .victims = { 5 }, .reasons = { SIG_CONN_CLOSE_HEADER_TIMEOUT } },
        { .op = STATE, .at = SFU_SEC(12), .id = 6, .state = B },    /* deadline now 17 s */
        { .op = TICK, .at = SFU_SEC(40),
          .victims = { 6, 4 },
          .reasons = { SIG_CONN_CLOSE_BODY_TIMEOUT, SIG_CONN_CLOSE_IDLE_TIMEOUT } },
        { .op = POLL, .count = 0 },
        { .op = REMOVE, .id = 1 }, { .op = REMOVE, .id = 2 }, { .op = REMOVE, .id = 3 },
        { .op = REMOVE, .id = 4 }, { .op = REMOVE, .id = 5 }, { .op = REMOVE, .id = 6 },
        { .op = REMOVE, .id = 99 },
    };
    sig_connlimit *t = NULL;
    if (run(&small, steps, SFU_ARRAY_LEN(steps), &t))
        return 1;
    sig_connlimit_counts c;
    sig_connlimit_counts_get(t, &c);
    for (int s = 0; s < SIG_CONN_STATES; s++)
        ASSERT_EQ(c.state[s], 0);
    ASSERT_EQ(c.closed[SIG_CONN_CLOSE_CLIENT_CAP], 1);
    ASSERT_EQ(c.closed[SIG_CONN_CLOSE_IDLE_EVICTED], 1);
    ASSERT_EQ(c.closed[SIG_CONN_CLOSE_BODY_TIMEOUT], 2);
    ASSERT_EQ(c.closed[SIG_CONN_CLOSE_HEADER_TIMEOUT], 1);
    ASSERT_EQ(c.closed[SIG_CONN_CLOSE_IDLE_TIMEOUT], 1);
    ASSERT_EQ(c.refused, 1);
    sig_connlimit_free(t);
    return 0;
}

/* Streams and keep-alive connections of one address do not count toward its
 * cap; a keep-alive connection starting its next request does. */
TEST(shared_address)
{
    sig_connlimit_config cfg = small;
    cfg.max_connections = 1000;
    sig_connlimit *t = sig_connlimit_new(&cfg);
    ASSERT(t);
    sig_conn_victim v[2];
    unsigned nv;
    for (uint64_t i = 1; i <= 200; i++) {  /* 200 participants' event streams */
        ASSERT_EQ(sig_connlimit_admit(t, "nat", T0, v, &nv), i);
        ASSERT_EQ(nv, 0);
        ASSERT_EQ(sig_connlimit_set_state(t, i, SIG_CONN_BODY, T0), 0);
        ASSERT_EQ(sig_connlimit_set_state(t, i, SIG_CONN_ACTIVE, T0), 0);
    }
    ASSERT_EQ(sig_connlimit_pending(t, "nat"), 0);
    ASSERT_EQ(sig_connlimit_admit(t, "nat", T0, v, &nv), 201);
    ASSERT_EQ(sig_connlimit_set_state(t, 201, SIG_CONN_IDLE, T0), 0);
    ASSERT_EQ(sig_connlimit_pending(t, "nat"), 0);
    ASSERT_EQ(sig_connlimit_set_state(t, 201, SIG_CONN_BODY, T0), 0);
    ASSERT_EQ(sig_connlimit_pending(t, "nat"), 1);
    /* Slow ones: never more than the cap, the oldest going first. */
    for (uint64_t i = 202; i < 260; i++) {
        ASSERT_EQ(sig_connlimit_admit(t, "nat", T0 + (sfu_time)i, v, &nv), i);
        ASSERT_LE(sig_connlimit_pending(t, "nat"), 2);
        ASSERT_EQ(nv, i == 202 ? 0u : 1u);
        if (nv)
            ASSERT_EQ(v[0].id, i == 203 ? 201 : i - 2);
    }
    sig_connlimit_counts c;
    sig_connlimit_counts_get(t, &c);
    ASSERT_EQ(c.state[SIG_CONN_ACTIVE], 200);
    ASSERT_EQ(c.state[SIG_CONN_HEADERS], 2);
    ASSERT_EQ(c.state[SIG_CONN_CLOSING], 57);
    ASSERT_EQ(sig_connlimit_set_tag(t, 5000, 1), -SFU_ENOTFOUND);
    ASSERT_EQ(sig_connlimit_set_state(t, 5000, SIG_CONN_IDLE, T0), -SFU_ENOTFOUND);
    ASSERT_EQ(sig_connlimit_set_state(t, 1, SIG_CONN_HEADERS, T0), -SFU_EINVAL);
    sig_connlimit_free(t);  /* frees what is still tracked */
    return 0;
}

TEST(no_cap_and_bad_config)
{
    sig_connlimit_config cfg = small;
    cfg.max_pending_per_client = 0;
    sig_connlimit *t = sig_connlimit_new(&cfg);
    ASSERT(t);
    sig_conn_victim v[2];
    unsigned nv;
    for (uint64_t i = 1; i <= 4; i++)
        ASSERT_EQ(sig_connlimit_admit(t, "a", T0, v, &nv), i);
    ASSERT_EQ(sig_connlimit_pending(t, "a"), 4);
    ASSERT_EQ(sig_connlimit_admit(t, "a", T0, v, &nv), 0);     /* global limit */
    ASSERT_EQ(nv, 0);
    sig_connlimit_remove(t, 2);
    ASSERT_EQ(sig_connlimit_admit(t, "a", T0, v, &nv), 5);
    sig_connlimit_free(t);
    sig_connlimit_free(NULL);

    cfg = small;
    cfg.max_connections = 0;
    ASSERT(!sig_connlimit_new(&cfg));
    cfg = small;
    cfg.idle_timeout = 0;
    ASSERT(!sig_connlimit_new(&cfg));
    ASSERT(!sig_connlimit_new(NULL));
    return 0;
}

TEST_LIST(TEST_ENTRY(script), TEST_ENTRY(shared_address), TEST_ENTRY(no_cap_and_bad_config))
