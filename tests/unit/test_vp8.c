/* VP8 payload descriptor (RFC 7741 4.2) and the per-viewer rewriter. */
#include "sfu/core/vp8.h"
#include "tests/test.h"

#include <stdlib.h>

struct parse_case {
    const char *name;
    const char *hex;
    int rc;
    sfu_vp8_desc want;          /* compared field by field when rc == 0 */
};

#define BAD(n, h) { .name = n, .hex = h, .rc = -SFU_EMALFORMED, .want = { 0 } }

static const struct parse_case parse_cases[] = {
    { "keyframe, no X", "10 1002 00 9d012a", 0,
      { .start = true, .desc_len = 1, .keyframe = true } },
    { "delta frame", "10 01", 0, { .start = true, .desc_len = 1 } },
    { "P=0 but partition 1", "11 00", 0, { .start = true, .pid = 1, .desc_len = 1 } },
    { "P=0 but not a start", "00 00", 0, { .desc_len = 1 } },
    { "non-reference", "20 01", 0, { .non_ref = true, .desc_len = 1 } },
    { "X with nothing", "80 00 00", 0, { .desc_len = 2 } },
    { "7-bit picture id", "90 80 7f 00", 0,
      { .start = true, .has_picture_id = true, .picture_id = 0x7f, .desc_len = 3, .keyframe = true } },
    { "15-bit picture id", "90 80 8123 01", 0,
      { .start = true, .has_picture_id = true, .picture_id_15 = true, .picture_id = 0x0123, .desc_len = 4 } },
    { "tl0picidx", "90 40 05 00", 0,
      { .start = true, .has_tl0picidx = true, .tl0picidx = 5, .desc_len = 3, .keyframe = true } },
    { "tid + sync", "90 20 a0 01", 0,
      { .start = true, .has_tid = true, .tid = 2, .layer_sync = true, .desc_len = 3 } },
    { "keyidx only", "90 10 3f 01", 0,
      { .start = true, .has_keyidx = true, .keyidx = 31, .desc_len = 3 } },
    { "tid ignores keyidx bits", "90 20 5f 01", 0,
      { .start = true, .has_tid = true, .tid = 1, .desc_len = 3 } },
    { "everything", "b0 f0 ffff 07 e5 00", 0,
      { .non_ref = true, .start = true, .has_picture_id = true, .picture_id_15 = true,
        .picture_id = 0x7fff, .has_tl0picidx = true, .tl0picidx = 7, .has_tid = true, .tid = 3,
        .layer_sync = true, .has_keyidx = true, .keyidx = 5, .desc_len = 6, .keyframe = true } },

    BAD("empty", ""),
    BAD("no data, no X", "10"),
    BAD("X byte missing", "90"),
    BAD("picture id missing", "90 80"),
    BAD("15-bit id truncated", "90 80 81"),
    BAD("no data after 15-bit id", "90 80 8123"),
    BAD("tl0 missing", "90 40"),
    BAD("tid missing", "90 20"),
    BAD("keyidx missing", "90 10"),
    BAD("all, T/K missing", "90 f0 ffff 07"),
    BAD("all, no data", "90 f0 ffff 07 e5"),
};

static int same_desc(const sfu_vp8_desc *a, const sfu_vp8_desc *b)
{
    ASSERT_EQ(a->non_ref, b->non_ref);
    ASSERT_EQ(a->start, b->start);
    ASSERT_EQ(a->pid, b->pid);
    ASSERT_EQ(a->has_picture_id, b->has_picture_id);
    ASSERT_EQ(a->has_tl0picidx, b->has_tl0picidx);
    ASSERT_EQ(a->has_tid, b->has_tid);
    ASSERT_EQ(a->tid, b->tid);
    ASSERT_EQ(a->layer_sync, b->layer_sync);
    ASSERT_EQ(a->has_keyidx, b->has_keyidx);
    ASSERT_EQ(a->keyidx, b->keyidx);
    ASSERT_EQ(a->keyframe, b->keyframe);
    return 0;
}

static int check_parse(const struct parse_case *c)
{
    uint8_t p[64];
    size_t n = test_unhex(c->hex, p);
    sfu_vp8_desc d;
    ASSERT_EQ(sfu_vp8_parse(p, n, &d), c->rc);
    if (c->rc != 0)
        return 0;
    if (same_desc(&d, &c->want) != 0)
        return 1;
    ASSERT_EQ(d.picture_id_15, c->want.picture_id_15);
    ASSERT_EQ(d.picture_id, c->want.picture_id);
    ASSERT_EQ(d.tl0picidx, c->want.tl0picidx);
    ASSERT_EQ(d.desc_len, c->want.desc_len);
    return 0;
}

TEST(parse_table)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(parse_cases); i++) {
        if (check_parse(&parse_cases[i]) != 0) {
            fprintf(stderr, "  case: %s\n", parse_cases[i].name);
            return 1;
        }
    }
    return 0;
}

/* Rewrites every valid case with a new PictureID/TL0PICIDX, re-parses the
 * result (new descriptor + the original VP8 data), and compares. */
static int check_rewrite(const struct parse_case *c)
{
    uint8_t p[64], out[64];
    size_t n = test_unhex(c->hex, p);
    sfu_vp8_desc d, d2;
    ASSERT_EQ(sfu_vp8_parse(p, n, &d), 0);
    int w = sfu_vp8_write_desc(out, sizeof out, &d, 0x4321, 0xa5);
    /* A 7-bit PictureID grows by one byte; an X byte with no field set is
     * dropped. */
    bool any = d.has_picture_id || d.has_tl0picidx || d.has_tid || d.has_keyidx;
    int want_len = d.desc_len + (d.has_picture_id && !d.picture_id_15 ? 1 : 0) -
                   (d.desc_len > 1 && !any ? 1 : 0);
    ASSERT_EQ(w, want_len);
    memcpy(out + w, p + d.desc_len, n - d.desc_len);
    ASSERT_EQ(sfu_vp8_parse(out, (size_t)w + n - d.desc_len, &d2), 0);
    if (same_desc(&d2, &d) != 0)
        return 1;
    ASSERT_EQ(d2.desc_len, w);
    if (d.has_picture_id) {
        ASSERT_EQ(d2.picture_id_15, true);
        ASSERT_EQ(d2.picture_id, 0x4321);
    }
    ASSERT_EQ(d2.tl0picidx, d.has_tl0picidx ? 0xa5 : 0);
    for (int cap = 0; cap < w; cap++)
        ASSERT_EQ(sfu_vp8_write_desc(out, (size_t)cap, &d, 1, 1), -SFU_ENOSPC);
    return 0;
}

TEST(rewrite_round_trip)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(parse_cases); i++) {
        if (parse_cases[i].rc == 0 && check_rewrite(&parse_cases[i]) != 0) {
            fprintf(stderr, "  case: %s\n", parse_cases[i].name);
            return 1;
        }
    }
    return 0;
}

TEST(rewrite_exact_bytes)
{
    uint8_t p[16], out[16], want[16];
    size_t n = test_unhex("90 e0 12 07 40 00", p);
    sfu_vp8_desc d;
    ASSERT_EQ(sfu_vp8_parse(p, n, &d), 0);
    ASSERT_EQ(d.desc_len, 5);
    /* The picture id is masked to 15 bits. */
    int w = sfu_vp8_write_desc(out, sizeof out, &d, 0xffff, 0x00);
    size_t wn = test_unhex("90 e0 ffff 00 40", want);
    ASSERT_EQ(w, (int)wn);
    ASSERT_MEM_EQ(out, want, wn);
    return 0;
}

/* One packet into the rewriter and the outputs it must give. */
struct step {
    uint16_t pid;
    bool pid15;
    uint8_t tl0;
    bool restarted;
    uint16_t want_pid;
    uint8_t want_tl0;
};

static int run_steps(const struct step *s, size_t n)
{
    sfu_vp8_rewriter rw;
    sfu_vp8_rewriter_init(&rw);
    for (size_t i = 0; i < n; i++) {
        sfu_vp8_desc d = { .has_picture_id = true, .picture_id_15 = s[i].pid15,
                           .picture_id = s[i].pid, .has_tl0picidx = true, .tl0picidx = s[i].tl0 };
        uint16_t pid = 0xffff;
        uint8_t tl0 = 0;
        sfu_vp8_rewriter_map(&rw, &d, s[i].restarted, &pid, &tl0);
        if (pid != s[i].want_pid || tl0 != s[i].want_tl0)
            TEST_FAIL_("step %zu: in %u/%u -> %u/%u, want %u/%u", i, s[i].pid, s[i].tl0,
                       pid, tl0, s[i].want_pid, s[i].want_tl0);
    }
    return 0;
}

#define RUN(steps) run_steps(steps, SFU_ARRAY_LEN(steps))

TEST(rewriter_passes_through_and_wraps)
{
    static const struct step s[] = {
        { 32766, true, 254, false, 32766, 254 },
        { 32766, true, 254, false, 32766, 254 },   /* same picture */
        { 32767, true, 255, false, 32767, 255 },
        { 0, true, 0, false, 0, 0 },
        { 1, true, 1, false, 1, 1 },
        { 32767, true, 255, false, 32767, 255 },   /* late packet */
        { 2, true, 1, false, 2, 1 },
    };
    return RUN(s);
}

TEST(rewriter_restart_continues)
{
    static const struct step s[] = {
        { 100, true, 10, false, 100, 10 },
        { 101, true, 10, false, 101, 10 },
        { 102, true, 11, false, 102, 11 },
        { 5000, true, 200, true, 103, 12 },       /* publisher restarted */
        { 5000, true, 200, false, 103, 12 },
        { 5002, true, 201, false, 105, 13 },      /* a lost picture shows as a gap */
        { 5001, true, 200, false, 104, 12 },      /* reordered */
        { 7, false, 3, true, 106, 14 },           /* layer switch to a 7-bit source */
        { 8, false, 3, false, 107, 14 },
    };
    return RUN(s);
}

TEST(rewriter_7bit_source_extends_to_15)
{
    static const struct step s[] = {
        { 125, false, 0, false, 125, 0 },
        { 126, false, 0, false, 126, 0 },
        { 127, false, 1, false, 127, 1 },
        { 0, false, 1, false, 128, 1 },
        { 1, false, 2, false, 129, 2 },
        { 127, false, 1, false, 127, 1 },          /* late packet */
        { 2, false, 2, false, 130, 2 },
        { 2, true, 2, false, 131, 2 },             /* width changed: treated as restart */
        { 3, true, 2, false, 132, 2 },
    };
    return RUN(s);
}

TEST(rewriter_restart_at_top_wraps)
{
    static const struct step s[] = {
        { 32767, true, 255, false, 32767, 255 },
        { 40, true, 9, true, 0, 0 },
        { 41, true, 10, false, 1, 1 },
        { 39, true, 8, false, 32767, 255 },       /* older than the restart point */
        { 42, true, 10, false, 2, 1 },
    };
    return RUN(s);
}

TEST(rewriter_restart_latched_per_field)
{
    sfu_vp8_rewriter rw;
    sfu_vp8_rewriter_init(&rw);
    sfu_vp8_desc d = { .has_picture_id = true, .picture_id_15 = true, .picture_id = 10,
                       .has_tl0picidx = true, .tl0picidx = 50 };
    uint16_t pid = 0;
    uint8_t tl0 = 0;
    sfu_vp8_rewriter_map(&rw, &d, false, &pid, &tl0);
    ASSERT_EQ(pid, 10);
    ASSERT_EQ(tl0, 50);
    /* The restart packet carries no TL0PICIDX; the next one does. */
    d = (sfu_vp8_desc){ .has_picture_id = true, .picture_id_15 = true, .picture_id = 900 };
    tl0 = 77;
    sfu_vp8_rewriter_map(&rw, &d, true, &pid, &tl0);
    ASSERT_EQ(pid, 11);
    ASSERT_EQ(tl0, 77);
    d.has_tl0picidx = true;
    d.tl0picidx = 3;
    sfu_vp8_rewriter_map(&rw, &d, false, &pid, &tl0);
    ASSERT_EQ(pid, 11);
    ASSERT_EQ(tl0, 51);
    return 0;
}

/* RFC 6386 9.1: a keyframe's size, after the 3-byte frame tag and the
 * start code; the top two bits of each 16-bit field are the scale. */
TEST(keyframe_size_table)
{
    static const struct {
        uint8_t b[10];
        size_t len;
        int rc;
        uint16_t w, h;
    } t[] = {
        { { 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02 }, 10, 0, 1280, 720 },
        { { 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x41, 0xb4, 0xc0 }, 10, 0, 320, 180 },
        { { 0x11, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02 }, 10, -SFU_EMALFORMED, 0, 0 }, /* P=1 */
        { { 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2b, 0x00, 0x05, 0xd0, 0x02 }, 10, -SFU_EMALFORMED, 0, 0 }, /* code */
        { { 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02 }, 9, -SFU_EMALFORMED, 0, 0 },  /* short */
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        uint16_t w = 0, h = 0;
        int rc = sfu_vp8_keyframe_size(t[i].b, t[i].len, &w, &h);
        if (rc != t[i].rc || (rc == 0 && (w != t[i].w || h != t[i].h)))
            TEST_FAIL_("case %zu: rc %d %ux%u, want %d %ux%u", i, rc, w, h, t[i].rc, t[i].w, t[i].h);
    }
    return 0;
}

/* Dropped pictures (a temporal layer the viewer does not get) leave no gap
 * in its PictureIDs; late packets of forwarded pictures map as they did. */
TEST(rewriter_drop_closes_gaps)
{
    static const struct {
        uint16_t pid;
        bool drop;
        uint16_t want;          /* for forwarded ones */
    } t[] = {
        { 32766, false, 32766 }, { 32767, true, 0 }, { 0, false, 32767 }, { 0, false, 32767 },
        { 1, true, 0 }, { 2, true, 0 }, { 3, false, 0 },
        { 0, false, 32767 },    /* late: as it was */
        { 32766, false, 32766 },
        { 1, true, 0 },         /* a late dropped one changes nothing */
        { 4, false, 1 },
    };
    sfu_vp8_rewriter rw;
    sfu_vp8_rewriter_init(&rw);
    for (size_t i = 0; i < SFU_ARRAY_LEN(t); i++) {
        sfu_vp8_desc d = { .has_picture_id = true, .picture_id_15 = true, .picture_id = t[i].pid,
                           .has_tl0picidx = true, .tl0picidx = 7 };
        if (t[i].drop) {
            sfu_vp8_rewriter_drop(&rw, &d);
            continue;
        }
        uint16_t pid = 0;
        uint8_t tl0 = 0;
        sfu_vp8_rewriter_map(&rw, &d, false, &pid, &tl0);
        if (pid != t[i].want || tl0 != 7)
            TEST_FAIL_("step %zu: %u -> %u/%u, want %u/7", i, t[i].pid, pid, tl0, t[i].want);
    }
    return 0;
}

TEST_LIST(
    TEST_ENTRY(rewriter_drop_closes_gaps),
    TEST_ENTRY(keyframe_size_table),
    TEST_ENTRY(parse_table),
    TEST_ENTRY(rewrite_round_trip),
    TEST_ENTRY(rewrite_exact_bytes),
    TEST_ENTRY(rewriter_passes_through_and_wraps),
    TEST_ENTRY(rewriter_restart_continues),
    TEST_ENTRY(rewriter_7bit_source_extends_to_15),
    TEST_ENTRY(rewriter_restart_at_top_wraps),
    TEST_ENTRY(rewriter_restart_latched_per_field),
)
