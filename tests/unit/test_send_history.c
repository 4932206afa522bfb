/* The ring of sent packets that transport-cc feedback resolves. */
#include "sfu/core/send_history.h"
#include "tests/test.h"

static sfu_send_history h;

TEST(add_and_get_table)
{
    static const struct {
        uint16_t seq16;
        size_t size;
        uint32_t probe;
        uint16_t want_size;
    } rows[] = {
        { 65534, 1200, 0, 1200 },
        { 65535, 80, 3, 80 },
        { 0, 1500, 3, 1500 },           /* the 16-bit wrap */
        { 1, 70000, 0, 65535 },         /* clamped */
    };
    ASSERT_EQ(sfu_send_history_init(&h, SFU_SEND_HISTORY_LEN), 0);
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++)
        sfu_send_history_add(&h, rows[i].seq16, rows[i].size, SFU_MS(10 * i), rows[i].probe);
    for (size_t i = 0; i < SFU_ARRAY_LEN(rows); i++) {
        sfu_sent_packet *e = sfu_send_history_get(&h, rows[i].seq16);
        ASSERT(e != NULL);
        ASSERT_EQ(e->seq16, rows[i].seq16);
        ASSERT_EQ(e->size_bytes, rows[i].want_size);
        ASSERT_EQ(e->probe_id, rows[i].probe);
        ASSERT_EQ(e->sent_at, SFU_MS(10 * i));
        ASSERT_EQ(e->state, SFU_SENT_UNREPORTED);
    }
    ASSERT_EQ(h.next_seq16, 2);
    ASSERT(sfu_send_history_get(&h, 2) == NULL);            /* never sent */
    ASSERT(sfu_send_history_get(&h, 65533) == NULL);
    sfu_send_history_deinit(&h);
    return 0;
}

/* A number the ring has reused is unknown, not another packet's entry. */
TEST(overwritten_entries_are_unknown)
{
    ASSERT_EQ(sfu_send_history_init(&h, SFU_SEND_HISTORY_LEN), 0);
    for (uint32_t i = 0; i < SFU_SEND_HISTORY_LEN + 10; i++)
        sfu_send_history_add(&h, (uint16_t)(60000 + i), 100, i, 0);
    ASSERT(sfu_send_history_get(&h, 60000) == NULL);
    ASSERT(sfu_send_history_get(&h, 60009) == NULL);
    ASSERT(sfu_send_history_get(&h, 60010) != NULL);
    ASSERT(sfu_send_history_get(&h, (uint16_t)(60000 + SFU_SEND_HISTORY_LEN + 9)) != NULL);
    ASSERT_EQ(h.overwritten_unreported, 10);
    /* Reported entries are not counted when reused. */
    sfu_send_history_get(&h, 60010)->state = SFU_SENT_RECEIVED;
    sfu_send_history_add(&h, (uint16_t)(60010 + SFU_SEND_HISTORY_LEN), 100, 0, 0);
    ASSERT_EQ(h.overwritten_unreported, 10);
    sfu_send_history_deinit(&h);
    return 0;
}

/* Lengths are powers of two within the bounds. */
TEST(bad_lengths_are_refused)
{
    static const uint32_t bad[] = { 0, 1, SFU_SEND_HISTORY_MIN / 2, SFU_SEND_HISTORY_MIN + 1, 300,
                                    SFU_SEND_HISTORY_LEN * 2 };
    for (size_t i = 0; i < SFU_ARRAY_LEN(bad); i++) {
        ASSERT_EQ(sfu_send_history_init(&h, bad[i]), -SFU_EINVAL);
        ASSERT(h.ring == NULL);
    }
    ASSERT_EQ(sfu_send_history_init(&h, SFU_SEND_HISTORY_MIN), 0);
    ASSERT_EQ(sfu_send_history_len(&h), SFU_SEND_HISTORY_MIN);
    sfu_send_history_deinit(&h);
    return 0;
}

TEST_LIST(TEST_ENTRY(add_and_get_table), TEST_ENTRY(overwritten_entries_are_unknown),
          TEST_ENTRY(bad_lengths_are_refused))
