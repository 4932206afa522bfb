/* A small test runner in the style of libuv's test/task.h.
 *
 * A test file defines its cases with TEST(name) and lists them once:
 *
 *   TEST(parses_header) { ...; ASSERT_EQ(x, 3); return 0; }
 *   TEST_LIST(TEST_ENTRY(parses_header), ...)
 *
 * Each test returns 0 on success; a failing ASSERT prints both values with the
 * file and line and returns 1. The binary prints one line per case and ends with
 * "<suite>: N passed, N failed". */
#ifndef SFU_TEST_H
#define SFU_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*test_fn)(void);
struct test_case {
    const char *name;
    test_fn fn;
};

#define TEST(name) static int test_##name(void)
#define TEST_ENTRY(name) { #name, test_##name }
#define TEST_LIST(...)                                                        \
    const struct test_case test_cases[] = { __VA_ARGS__ };                    \
    const size_t test_case_count = sizeof(test_cases) / sizeof(test_cases[0]);

extern const struct test_case test_cases[];
extern const size_t test_case_count;

#define TEST_FAIL_(fmt, ...)                                                  \
    do {                                                                      \
        fprintf(stderr, "  %s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__); \
        return 1;                                                             \
    } while (0)

#define ASSERT(expr)                                                          \
    do {                                                                      \
        if (!(expr)) TEST_FAIL_("ASSERT(%s) failed", #expr);                  \
    } while (0)

/* Integer comparisons hold for every pair of integer types: each side keeps
 * its own signedness (via _Generic) and value, so a uint64_t above
 * INT64_MAX is greater than any signed value, and -1 is less than any
 * unsigned one, whatever the usual arithmetic conversions would make of
 * them. Both sides are evaluated once. */
typedef struct test_int {
    bool neg;       /* value < 0: `u` holds it as intmax_t */
    uintmax_t u;
} test_int;

static inline test_int test_int_s(intmax_t v) { return (test_int){ v < 0, (uintmax_t)v }; }
static inline test_int test_int_u(uintmax_t v) { return (test_int){ false, v }; }

/* Negative, zero or positive as a is less than, equal to or greater than b. */
static inline int test_int_cmp(test_int a, test_int b)
{
    if (a.neg != b.neg)
        return a.neg ? -1 : 1;
    if (a.neg)
        return (intmax_t)a.u < (intmax_t)b.u ? -1 : (intmax_t)a.u > (intmax_t)b.u;
    return a.u < b.u ? -1 : a.u > b.u;
}

static inline const char *test_int_str(test_int v, char *buf, size_t cap)
{
    if (v.neg)
        snprintf(buf, cap, "%jd", (intmax_t)v.u);
    else
        snprintf(buf, cap, "%ju", v.u);
    return buf;
}

#define TEST_INT_(x)                                                          \
    _Generic((x),                                                             \
        _Bool: test_int_u, unsigned char: test_int_u,                         \
        unsigned short: test_int_u, unsigned int: test_int_u,                 \
        unsigned long: test_int_u, unsigned long long: test_int_u,            \
        char: test_int_s, signed char: test_int_s, short: test_int_s,         \
        int: test_int_s, long: test_int_s, long long: test_int_s)(x)

#define ASSERT_CMP_(a, op, b)                                                 \
    do {                                                                      \
        test_int a_ = TEST_INT_(a), b_ = TEST_INT_(b);                        \
        if (!(test_int_cmp(a_, b_) op 0)) {                                   \
            char as_[24], bs_[24];                                            \
            TEST_FAIL_("%s %s %s failed: %s vs %s", #a, #op, #b,              \
                       test_int_str(a_, as_, sizeof as_),                     \
                       test_int_str(b_, bs_, sizeof bs_));                    \
        }                                                                     \
    } while (0)

#define ASSERT_EQ(a, b) ASSERT_CMP_(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_CMP_(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_CMP_(a, <, b)
#define ASSERT_LE(a, b) ASSERT_CMP_(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_CMP_(a, >, b)
#define ASSERT_GE(a, b) ASSERT_CMP_(a, >=, b)

#define ASSERT_STR_EQ(a, b)                                                   \
    do {                                                                      \
        const char *a_ = (a), *b_ = (b);                                      \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                \
            TEST_FAIL_("%s == %s failed: \"%s\" vs \"%s\"", #a, #b,           \
                       a_ ? a_ : "(null)", b_ ? b_ : "(null)");               \
    } while (0)

#define ASSERT_MEM_EQ(a, b, n)                                                \
    do {                                                                      \
        if (memcmp((a), (b), (n)) != 0)                                       \
            TEST_FAIL_("memcmp(%s, %s, %s) != 0", #a, #b, #n);                \
    } while (0)

/* Hex digits, spaces allowed between bytes, into out; returns the byte
 * count. For packets written out in tables. */
static inline size_t test_unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (s[0] && s[1]) {
        if (*s == ' ') {
            s++;
            continue;
        }
        char b[3] = { s[0], s[1], 0 };
        out[n++] = (uint8_t)strtoul(b, NULL, 16);
        s += 2;
    }
    return n;
}

#endif
