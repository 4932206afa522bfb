/* The session registry's limits (signaling/registry.c): a room's
 * participant limit, and participants of a spanning room pulled from the
 * node that admitted them. */
#include "tests/test.h"

#include "signaling/registry.h"

static sig_session *create(sig_registry *reg, const char *room, uint32_t reuse, bool elsewhere,
                           unsigned *status)
{
    const char *reason = NULL;
    sig_session_spec spec = { .kind = SIG_SESSION_WHIP, .room = room, .reuse_participant = reuse,
                              .admitted_elsewhere = elsewhere };
    return sig_registry_create(reg, &spec, status, &reason);
}

static void drop(sig_registry *reg, sig_session *s)
{
    sig_registry_remove(reg, s);
    sig_session_unref(reg, s);
}

TEST(room_limit_counts_everyone_but_never_refuses_a_pull)
{
    sig_limits limits = { .max_sessions = 10, .max_rooms = 4, .max_participants_per_room = 2 };
    sig_registry *reg = sig_registry_new(&limits, 1);
    unsigned status = 0;
    sig_session *a = create(reg, "r", 0, false, &status);
    ASSERT(a != NULL);
    /* A participant pulled from another node counts toward the room... */
    sig_session *pulled = create(reg, "r", 0x0a0b0c0d, true, &status);
    ASSERT(pulled != NULL);
    /* ... so a local join finds the room full, */
    ASSERT(create(reg, "r", 0, false, &status) == NULL);
    ASSERT_EQ(status, 503u);
    /* but one more pull is taken: its node admitted it. */
    sig_session *pulled2 = create(reg, "r", 0x0a0b0c0e, true, &status);
    ASSERT(pulled2 != NULL);
    /* Once the pulls end, a local join fits again. */
    drop(reg, pulled2);
    drop(reg, pulled);
    sig_session *b = create(reg, "r", 0, false, &status);
    ASSERT(b != NULL);
    drop(reg, b);
    drop(reg, a);
    sig_registry_free(reg);
    return 0;
}

TEST(session_limit_holds_for_pulls)
{
    sig_limits limits = { .max_sessions = 1, .max_rooms = 4, .max_participants_per_room = 5 };
    sig_registry *reg = sig_registry_new(&limits, 1);
    unsigned status = 0;
    sig_session *a = create(reg, "r", 0, false, &status);
    ASSERT(a != NULL);
    ASSERT(create(reg, "r", 0x0a0b0c0d, true, &status) == NULL);
    ASSERT_EQ(status, 503u);
    drop(reg, a);
    sig_registry_free(reg);
    return 0;
}

TEST_LIST(TEST_ENTRY(room_limit_counts_everyone_but_never_refuses_a_pull),
          TEST_ENTRY(session_limit_holds_for_pulls))
