/* Logging: the line format, level filter, escaping, the per-cause rate limit
 * on a virtual clock, the helpers, and whole lines from several threads. */
#include "tests/test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sfu/net/log.h"

static FILE *capture_file;
static int saved_fd = -1;

static void capture_start(void)
{
    capture_file = tmpfile();
    saved_fd = sfu_log_set_fd(fileno(capture_file));
}

/* Returns everything logged since capture_start, without the "ts=... "
 * field that differs per run (caller frees). */
static char *capture_end(void)
{
    sfu_log_set_fd(saved_fd);
    fseek(capture_file, 0, SEEK_END);
    long len = ftell(capture_file);
    fseek(capture_file, 0, SEEK_SET);
    char *raw = calloc(1, (size_t)len + 1), *out = calloc(1, (size_t)len + 1);
    size_t got = fread(raw, 1, (size_t)len, capture_file);
    fclose(capture_file);
    size_t o = 0;
    for (char *line = raw; line < raw + got;) {
        char *nl = memchr(line, '\n', (size_t)(raw + got - line));
        size_t n = nl ? (size_t)(nl - line) + 1 : (size_t)(raw + got - line);
        char *sp = strncmp(line, "ts=", 3) == 0 ? memchr(line, ' ', n) : NULL;
        char *from = sp ? sp + 1 : line;
        memcpy(out + o, from, n - (size_t)(from - line));
        o += n - (size_t)(from - line);
        line += n;
    }
    free(raw);
    return out;
}

TEST(line_format)
{
    sfu_log_set_level(SFU_LOG_INFO);
    sfu_log_set_rate(SFU_LOG_DEFAULT_RATE);
    capture_start();
    sfu_log(SFU_LOG_INFO, "session.created", "room=%s tracks=%d", "demo", 2);
    sfu_log(SFU_LOG_WARN, "ice.failed", "%s", "");
    sfu_log(SFU_LOG_ERROR, "odd cause", "x=1");
    long pos = ftell(capture_file);
    fseek(capture_file, 0, SEEK_SET);
    char first[128] = "";
    ASSERT(fgets(first, sizeof first, capture_file) != NULL);
    fseek(capture_file, pos, SEEK_SET);
    char *text = capture_end();
    ASSERT_STR_EQ(text, "level=info msg=session.created room=demo tracks=2\n"
                        "level=warn msg=ice.failed\n"
                        "level=error msg=\"odd cause\" x=1\n");
    /* ts=2025-01-31T12:00:00.123Z */
    ASSERT(strncmp(first, "ts=", 3) == 0);
    ASSERT_GT(strlen(first), 28);
    ASSERT_EQ(first[13], 'T');
    ASSERT_EQ(first[22], '.');
    ASSERT_EQ(first[26], 'Z');
    ASSERT_EQ(first[27], ' ');
    free(text);
    return 0;
}

TEST(level_filter_at_runtime)
{
    sfu_log_set_rate(0);
    capture_start();
    sfu_log_set_level(SFU_LOG_WARN);
    ASSERT(!sfu_log_enabled(SFU_LOG_INFO));
    ASSERT(sfu_log_enabled(SFU_LOG_ERROR));
    sfu_log(SFU_LOG_INFO, "t.level", "n=1");
    sfu_log(SFU_LOG_WARN, "t.level", "n=2");
    sfu_log_set_level(SFU_LOG_DEBUG);
    sfu_log(SFU_LOG_DEBUG, "t.level", "n=3");
    sfu_log_set_level(SFU_LOG_ERROR);
    sfu_log(SFU_LOG_WARN, "t.level", "n=4");
    sfu_log_set_level(SFU_LOG_INFO);
    ASSERT_EQ(sfu_log_get_level(), SFU_LOG_INFO);
    char *text = capture_end();
    ASSERT_STR_EQ(text, "level=warn msg=t.level n=2\nlevel=debug msg=t.level n=3\n");
    free(text);
    sfu_log_set_rate(SFU_LOG_DEFAULT_RATE);
    return 0;
}

TEST(peer_text_cannot_break_the_line)
{
    capture_start();
    sfu_log(SFU_LOG_INFO, "t.escape", "name=%s", "a\nlevel=error msg=forged\r\x1b");
    char *text = capture_end();
    ASSERT_STR_EQ(text, "level=info msg=t.escape name=a\\x0alevel=error msg=forged\\x0d\\x1b\n");
    free(text);
    return 0;
}

TEST(long_lines_are_cut)
{
    char big[3 * SFU_LOG_LINE_MAX];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    capture_start();
    sfu_log(SFU_LOG_INFO, "t.long", "v=%s", big);
    sfu_log(SFU_LOG_INFO, "t.long", "after=1");
    char *text = capture_end();
    char *nl = strchr(text, '\n');
    ASSERT(nl != NULL);
    ASSERT(nl - text < SFU_LOG_LINE_MAX);
    ASSERT(strncmp(nl - 3, "...", 3) == 0);
    ASSERT_STR_EQ(nl + 1, "level=info msg=t.long after=1\n");
    free(text);
    return 0;
}

TEST(rate_limit_per_cause)
{
    sfu_log_set_rate(3);
    capture_start();
    sfu_time t0 = SFU_SEC(1000);
    for (int i = 0; i < 10; i++)
        sfu_log_at(SFU_LOG_INFO, "t.burst", t0 + i, "i=%d", i);
    sfu_log_at(SFU_LOG_WARN, "t.other", t0 + 20, "unaffected=1");
    sfu_log_at(SFU_LOG_ERROR, "t.burst", t0 + SFU_MS(999), "i=%d", 10);   /* same second */
    sfu_log_at(SFU_LOG_INFO, "t.burst", t0 + SFU_MS(1500), "i=%d", 11);   /* next second */
    char *text = capture_end();
    ASSERT_STR_EQ(text, "level=info msg=t.burst i=0\n"
                        "level=info msg=t.burst i=1\n"
                        "level=info msg=t.burst i=2\n"
                        "level=warn msg=t.other unaffected=1\n"
                        "level=error msg=t.burst suppressed=8\n"
                        "level=info msg=t.burst i=11\n");
    free(text);
    sfu_log_set_rate(SFU_LOG_DEFAULT_RATE);
    return 0;
}

TEST(flush_reports_the_last_burst)
{
    sfu_log_set_rate(1);
    capture_start();
    sfu_time t0 = SFU_SEC(5000);
    for (int i = 0; i < 5; i++)
        sfu_log_at(SFU_LOG_WARN, "t.flush", t0, "i=%d", i);
    sfu_log_flush(t0 + SFU_MS(500));    /* the second is not over */
    sfu_log_flush(t0 + SFU_SEC(1));
    sfu_log_flush(t0 + SFU_SEC(2));     /* nothing left */
    sfu_log_at(SFU_LOG_WARN, "t.flush", t0 + SFU_SEC(3), "i=%d", 5);
    char *text = capture_end();
    ASSERT_STR_EQ(text, "level=warn msg=t.flush i=0\n"
                        "level=warn msg=t.flush suppressed=4\n"
                        "level=warn msg=t.flush i=5\n");
    free(text);
    sfu_log_set_rate(SFU_LOG_DEFAULT_RATE);
    return 0;
}

static const struct {
    const char *in, *out;
} quotes[] = {
    { "plain", "plain" },
    { "", "\"\"" },
    { "two words", "\"two words\"" },
    { "a=b", "\"a=b\"" },
    { "say \"hi\"", "\"say \\\"hi\\\"\"" },
    { "back\\slash", "\"back\\\\slash\"" },
    { "line\nbreak", "\"line\\x0abreak\"" },
    { "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
};

TEST(quote)
{
    char buf[64];
    for (size_t i = 0; i < SFU_ARRAY_LEN(quotes); i++)
        ASSERT_STR_EQ(sfu_log_quote(buf, sizeof buf, quotes[i].in), quotes[i].out);
    char small[6];
    ASSERT_STR_EQ(sfu_log_quote(small, sizeof small, "a b c d"), "\"a b\"");
    ASSERT_STR_EQ(sfu_log_quote(small, sizeof small, "abcdefgh"), "abcde");
    return 0;
}

TEST(addresses_only_when_allowed)
{
    char buf[64];
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(5000) };
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
    inet_pton(AF_INET, "192.0.2.1", &in.sin_addr);
    inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
    ASSERT_STR_EQ(sfu_log_addr(buf, sizeof buf, (struct sockaddr *)&in, true), "192.0.2.1:5000");
    ASSERT_STR_EQ(sfu_log_addr(buf, sizeof buf, (struct sockaddr *)&in6, true), "[2001:db8::1]:443");
    ASSERT_STR_EQ(sfu_log_addr(buf, sizeof buf, (struct sockaddr *)&in, false), "hidden");
    ASSERT_STR_EQ(sfu_log_addr(buf, sizeof buf, NULL, true), "unknown");
    return 0;
}

TEST(level_names)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (size_t i = 0; i < SFU_ARRAY_LEN(names); i++) {
        sfu_log_level l = SFU_LOG_DEBUG;
        ASSERT_EQ(sfu_log_level_parse(names[i], &l), 0);
        ASSERT_EQ(l, i);
        ASSERT_STR_EQ(sfu_log_level_name(l), names[i]);
    }
    sfu_log_level l = SFU_LOG_WARN;
    ASSERT_EQ(sfu_log_level_parse("INFO", &l), -SFU_EINVAL);
    ASSERT_EQ(sfu_log_level_parse("trace", &l), -SFU_EINVAL);
    ASSERT_EQ(l, SFU_LOG_WARN);
    return 0;
}

#define THREADS 4
#define LINES 500

static void *log_lines(void *arg)
{
    for (int i = 0; i < LINES; i++)
        sfu_log(SFU_LOG_INFO, "t.threads", "thread=%d i=%d pad=%0200d", (int)(intptr_t)arg, i, 0);
    return NULL;
}

TEST(threads_write_whole_lines)
{
    sfu_log_set_rate(0);
    capture_start();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, log_lines, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = capture_end();
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        int thread = -1, i = -1, n = 0;
        ASSERT_EQ(sscanf(line, "level=info msg=t.threads thread=%d i=%d pad=%*d%n", &thread, &i, &n), 2);
        ASSERT_EQ((size_t)n, strlen(line));
        lines++;
    }
    ASSERT_EQ(lines, THREADS * LINES);
    free(text);
    sfu_log_set_rate(SFU_LOG_DEFAULT_RATE);
    return 0;
}

TEST_LIST(
    TEST_ENTRY(line_format),
    TEST_ENTRY(level_filter_at_runtime),
    TEST_ENTRY(peer_text_cannot_break_the_line),
    TEST_ENTRY(long_lines_are_cut),
    TEST_ENTRY(rate_limit_per_cause),
    TEST_ENTRY(flush_reports_the_last_burst),
    TEST_ENTRY(quote),
    TEST_ENTRY(addresses_only_when_allowed),
    TEST_ENTRY(level_names),
    TEST_ENTRY(threads_write_whole_lines),
)
