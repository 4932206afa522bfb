/* The command ring (sfu/core/cmd_ring.h): order, the admission bound,
 * follow-ups past it, growth keeping the order across the wrap. */
#include "sfu/core/cmd_ring.h"
#include "sfu/core/common.h"
#include "tests/test.h"

static int tags[4096];

static sfu_cmd cmd_of(int i) { return (sfu_cmd){ .fn = NULL, .arg = &tags[i] }; }
static int index_of(sfu_cmd c) { return (int)((int *)c.arg - tags); }

TEST(fifo_order_across_the_wrap)
{
    sfu_cmd_ring r;
    ASSERT_EQ(sfu_cmd_ring_init(&r, 16), 0);
    int next_in = 0, next_out = 0;
    /* Push 3, pop 2, many times: the head walks round the slots. */
    for (int round = 0; round < 100; round++) {
        for (int k = 0; k < 3 && sfu_cmd_ring_len(&r) < 16; k++)
            ASSERT_EQ(sfu_cmd_ring_push(&r, cmd_of(next_in++ % 4096)), 0);
        for (int k = 0; k < 2; k++) {
            sfu_cmd c;
            ASSERT(sfu_cmd_ring_pop(&r, &c));
            ASSERT_EQ(index_of(c), next_out++ % 4096);
        }
    }
    sfu_cmd c;
    while (sfu_cmd_ring_pop(&r, &c))
        ASSERT_EQ(index_of(c), next_out++ % 4096);
    ASSERT_EQ(next_out, next_in);
    ASSERT(!sfu_cmd_ring_pop(&r, &c));
    sfu_cmd_ring_deinit(&r);
    return 0;
}

/* New work is refused at the bound and counted; nothing already queued is
 * lost; room made by a pop admits again. */
TEST(bound_refuses_new_work)
{
    static const uint32_t caps[] = { 1, 5, 16, 17, 100 };
    for (size_t t = 0; t < sizeof caps / sizeof caps[0]; t++) {
        sfu_cmd_ring r;
        ASSERT_EQ(sfu_cmd_ring_init(&r, caps[t]), 0);
        for (uint32_t i = 0; i < caps[t]; i++)
            ASSERT_EQ(sfu_cmd_ring_push(&r, cmd_of((int)i)), 0);
        ASSERT_EQ(sfu_cmd_ring_push(&r, cmd_of(999)), -SFU_ELIMIT);
        ASSERT_EQ(sfu_cmd_ring_push(&r, cmd_of(999)), -SFU_ELIMIT);
        ASSERT_EQ(r.refused, 2);
        ASSERT_EQ(sfu_cmd_ring_len(&r), caps[t]);
        sfu_cmd c;
        ASSERT(sfu_cmd_ring_pop(&r, &c));
        ASSERT_EQ(index_of(c), 0);
        ASSERT_EQ(sfu_cmd_ring_push(&r, cmd_of(1000)), 0);
        for (uint32_t i = 1; i < caps[t]; i++) {
            ASSERT(sfu_cmd_ring_pop(&r, &c));
            ASSERT_EQ(index_of(c), (int)i);
        }
        ASSERT(sfu_cmd_ring_pop(&r, &c));
        ASSERT_EQ(index_of(c), 1000);
        ASSERT_EQ(r.peak, caps[t]);
        sfu_cmd_ring_deinit(&r);
    }
    return 0;
}

/* Follow-ups are taken past the bound (the ring grows, in order), and while
 * they wait new work is still refused. */
TEST(follow_ups_never_refused)
{
    sfu_cmd_ring r;
    ASSERT_EQ(sfu_cmd_ring_init(&r, 4), 0);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(sfu_cmd_ring_push(&r, cmd_of(i)), 0);
    sfu_cmd c;
    ASSERT(sfu_cmd_ring_pop(&r, &c));       /* head off slot 0: the growth must unwrap */
    ASSERT_EQ(sfu_cmd_ring_push(&r, cmd_of(4)), 0);
    for (int i = 5; i < 300; i++)
        ASSERT_EQ(sfu_cmd_ring_push_follow(&r, cmd_of(i)), 0);
    ASSERT_EQ(sfu_cmd_ring_push(&r, cmd_of(999)), -SFU_ELIMIT);
    uint64_t refused = r.refused;
    ASSERT_EQ(sfu_cmd_ring_admit(&r), -SFU_ELIMIT);   /* admission counts its refusals too */
    ASSERT_EQ(r.refused, refused + 1);
    ASSERT_EQ(sfu_cmd_ring_len(&r), 299);
    for (int i = 1; i < 300; i++) {
        ASSERT(sfu_cmd_ring_pop(&r, &c));
        ASSERT_EQ(index_of(c), i);
    }
    ASSERT(!sfu_cmd_ring_pop(&r, &c));
    ASSERT_EQ(sfu_cmd_ring_push(&r, cmd_of(7)), 0);    /* empty again: admitted */
    sfu_cmd_ring_deinit(&r);
    return 0;
}

TEST(zero_cap_is_invalid)
{
    sfu_cmd_ring r;
    ASSERT_EQ(sfu_cmd_ring_init(&r, 0), -SFU_EINVAL);
    sfu_cmd_ring_deinit(&r);
    return 0;
}

TEST_LIST(TEST_ENTRY(fifo_order_across_the_wrap), TEST_ENTRY(bound_refuses_new_work),
          TEST_ENTRY(follow_ups_never_refused), TEST_ENTRY(zero_cap_is_invalid))
