/* The test runner's own comparisons (tests/test.h): every integer type
 * compares by value, whatever its signedness, and a failing assertion fails
 * and prints both values. Each check runs an assertion in a helper and
 * looks at whether it passed or failed and what it printed. */
#include "tests/test.h"

#include <fcntl.h>
#include <unistd.h>

static const uint64_t big = UINT64_MAX - 1; /* 18446744073709551614, above INT64_MAX */
static const uint64_t top_bit = (uint64_t)1 << 63;

static int u64_lt_int(uint64_t a, int b) { ASSERT_LT(a, b); return 0; }
static int u64_gt_int(uint64_t a, int b) { ASSERT_GT(a, b); return 0; }
static int u64_gt_i64(uint64_t a, int64_t b) { ASSERT_GT(a, b); return 0; }
static int u64_eq_i64(uint64_t a, int64_t b) { ASSERT_EQ(a, b); return 0; }
static int u64_ne_i64(uint64_t a, int64_t b) { ASSERT_NE(a, b); return 0; }
static int i64_lt_u64(int64_t a, uint64_t b) { ASSERT_LT(a, b); return 0; }
static int int_lt_uint(int a, unsigned b) { ASSERT_LT(a, b); return 0; }
static int u64_le_u64(uint64_t a, uint64_t b) { ASSERT_LE(a, b); return 0; }
static int u64_ge_u64(uint64_t a, uint64_t b) { ASSERT_GE(a, b); return 0; }
static int u8_eq_int(uint8_t a, int b) { ASSERT_EQ(a, b); return 0; }
static int bool_eq_int(bool a, int b) { ASSERT_EQ(a, b); return 0; }

/* The helpers that are meant to fail print their message; the checks
 * below keep it off the terminal between quiet() and loud(). */
static int saved_stderr = -1;

static void quiet(void)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    close(null);
}

static void loud(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
}

/* Runs fn with stderr going to a temporary file; what it printed into out. */
static int capture(int (*fn)(void), char *out, size_t cap)
{
    FILE *tmp = tmpfile();
    if (!tmp)
        return -1;
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    int rc = fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, cap - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return rc;
}

static int fail_big_lt_1(void) { return u64_lt_int(big, 1); }
static int fail_minus1_eq_max(void) { return u64_eq_i64(UINT64_MAX, -1); }

TEST(uint64_above_int64_max)
{
    /* A cast to long long made big negative: big < 1 passed, big > 0 failed. */
    quiet();
    int r[] = { u64_gt_int(big, 0), u64_lt_int(big, 1), u64_gt_i64(big, INT64_MAX),
                u64_gt_i64(top_bit, INT64_MAX), u64_le_u64(big, UINT64_MAX), u64_ge_u64(big, UINT64_MAX),
                u64_ge_u64(UINT64_MAX, big) };
    loud();
    static const int want[] = { 0, 1, 0, 0, 0, 1, 0 }; /* 1: the assertion fails */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ASSERT_EQ(r[i], want[i]);
    return 0;
}

TEST(signed_against_unsigned)
{
    /* C's usual conversions make -1 == UINT64_MAX and -1 > 0u; by value
     * neither holds. */
    quiet();
    int r[] = { u64_eq_i64(UINT64_MAX, -1), u64_ne_i64(UINT64_MAX, -1), u64_eq_i64(top_bit, INT64_MIN),
                i64_lt_u64(-1, 0), i64_lt_u64(INT64_MIN, big), i64_lt_u64(5, 5), int_lt_uint(-1, 0u),
                int_lt_uint(3, 2u) };
    loud();
    static const int want[] = { 1, 0, 1, 0, 0, 1, 0, 1 };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ASSERT_EQ(r[i], want[i]);
    return 0;
}

TEST(small_types)
{
    quiet();
    int r[] = { u8_eq_int(255, 255), u8_eq_int(255, -1), bool_eq_int(true, 1), bool_eq_int(false, 1) };
    loud();
    static const int want[] = { 0, 1, 0, 1 };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ASSERT_EQ(r[i], want[i]);
    return 0;
}

TEST(failure_prints_both_values)
{
    char msg[512];
    ASSERT_EQ(capture(fail_big_lt_1, msg, sizeof msg), 1);
    ASSERT(strstr(msg, "a < b failed: 18446744073709551614 vs 1") != NULL);
    ASSERT_EQ(capture(fail_minus1_eq_max, msg, sizeof msg), 1);
    ASSERT(strstr(msg, "a == b failed: 18446744073709551615 vs -1") != NULL);
    return 0;
}

TEST_LIST(TEST_ENTRY(uint64_above_int64_max), TEST_ENTRY(signed_against_unsigned), TEST_ENTRY(small_types),
          TEST_ENTRY(failure_prints_both_values))
