/* Lines from libraries: redacted, quoted, levelled and rate-limited like
 * ours, through sfu_log_foreign and the GLib (libnice) handlers. */
#include "tests/test.h"

#include <glib.h>
#include <srtp2/srtp.h>
#include <unistd.h>

#include "sfu/net/log.h"
#include "sfu/net/log_libs.h"

static FILE *capture_file;
static int saved_fd = -1;

static void capture_start(void)
{
    capture_file = tmpfile();
    saved_fd = sfu_log_set_fd(fileno(capture_file));
}

/* Everything logged since capture_start, each line without its "ts=..."
 * field (caller frees). */
static char *capture_end(void)
{
    sfu_log_set_fd(saved_fd);
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

TEST(foreign_line_is_redacted_and_quoted)
{
    sfu_log_set_level(SFU_LOG_INFO);
    sfu_log_set_rate(0);
    sfu_log_set_addresses(false);
    capture_start();
    sfu_log_foreign(SFU_LOG_WARN, "lib.microhttpd", NULL,
                    "Failed to send the chunked response body for the request for "
                    "`/sessions/0123456789abcdef0123456789abcdef/events'.\n");
    sfu_log_foreign(SFU_LOG_WARN, "lib.microhttpd", NULL,
                    "Error processing request (HTTP response code is 400 (`Bad Request')). "
                    "Closing connection from 10.77.3.213:40012.\n");
    sfu_log_foreign(SFU_LOG_ERROR, "lib.x", "dom\"ain", "a \"quoted\" \x01 text");
    sfu_log_foreign(SFU_LOG_DEBUG, "lib.x", NULL, "below the level");
    char *text = capture_end();
    ASSERT_STR_EQ(text,
                  "level=warn msg=lib.microhttpd text=\"Failed to send the chunked response "
                  "body for the request for `/sessions/<redacted>/events'.\"\n"
                  "level=warn msg=lib.microhttpd text=\"Error processing request (HTTP response "
                  "code is 400 (`Bad Request')). Closing connection from <addr>.\"\n"
                  "level=error msg=lib.x domain=\"dom\\\"ain\" text=\"a \\\"quoted\\\" \\x01 text\"\n");
    free(text);
    sfu_log_set_rate(SFU_LOG_DEFAULT_RATE);
    return 0;
}

TEST(addresses_only_when_the_operator_allows)
{
    sfu_log_set_rate(0);
    capture_start();
    sfu_log_set_addresses(true);
    ASSERT(sfu_log_addresses_allowed());
    sfu_log_foreign(SFU_LOG_WARN, "lib.t", NULL, "from [2001:db8::7]:443 token=abc");
    sfu_log_set_addresses(false);
    sfu_log_foreign(SFU_LOG_WARN, "lib.t", NULL, "from [2001:db8::7]:443 token=abc");
    char *text = capture_end();
    ASSERT_STR_EQ(text, "level=warn msg=lib.t text=\"from [2001:db8::7]:443 token=<redacted>\"\n"
                        "level=warn msg=lib.t text=\"from [<addr>]:443 token=<redacted>\"\n");
    free(text);
    sfu_log_set_rate(SFU_LOG_DEFAULT_RATE);
    return 0;
}

TEST(text_helper_for_openssl_reasons)
{
    char buf[128];
    ASSERT_STR_EQ(sfu_log_text(buf, sizeof buf, "handshake: unexpected message"),
                  "\"handshake: unexpected message\"");
    ASSERT_STR_EQ(sfu_log_text(buf, sizeof buf, "fingerprint_mismatch\n"), "fingerprint_mismatch");
    ASSERT_STR_EQ(sfu_log_text(buf, sizeof buf, "bad key 0123456789abcdef0123456789abcdef"),
                  "\"bad key <redacted>\"");
    ASSERT_STR_EQ(sfu_log_text(buf, 8, "0123456789"), "0123456");
    return 0;
}

/* The same budget per cause as our own lines. */
TEST(rate_limited_per_library)
{
    sfu_log_set_rate(3);
    capture_start();
    for (int i = 0; i < 10; i++) {
        sfu_log_foreign(SFU_LOG_WARN, "lib.rate_a", NULL, "again");
        sfu_log_foreign(SFU_LOG_WARN, "lib.rate_b", NULL, "again");
    }
    char *text = capture_end();
    int a = 0, b = 0;
    for (char *p = text; (p = strstr(p, "msg=lib.rate_")); p++)
        *(p[13] == 'a' ? &a : &b) += 1;
    ASSERT_EQ(a, 3);
    ASSERT_EQ(b, 3);
    free(text);
    sfu_log_set_rate(SFU_LOG_DEFAULT_RATE);
    return 0;
}

TEST(glib_and_libnice_lines_come_through_us)
{
    sfu_log_capture_libraries();
    sfu_log_capture_libraries();    /* a second call is harmless */
    sfu_log_set_rate(0);
    sfu_log_set_level(SFU_LOG_INFO);
    sfu_log_set_addresses(false);
    capture_start();
    g_log("libnice", G_LOG_LEVEL_WARNING, "Agent %p: U/P '%s'/'%s' from %s", (void *)0,
          "Ab3x", "Zq8+/k2LmNoPqRsTuVwXyZ01", "10.77.3.213");
    g_log("libnice-stun", G_LOG_LEVEL_DEBUG, "a debug line: not at level info");
    g_log("GLib-GIO", G_LOG_LEVEL_CRITICAL, "critical %d", 1);
    g_log_structured("libnice", G_LOG_LEVEL_MESSAGE, "MESSAGE", "structured %s", "ufrag=Ab3x");
    g_message("no domain");
    char *text = capture_end();
    ASSERT_STR_EQ(text, "level=warn msg=lib.nice domain=libnice text=\"Agent (nil): U/P <redacted> "
                        "from <addr>\"\n"
                        "level=error msg=lib.glib domain=GLib-GIO text=\"critical 1\"\n"
                        "level=info msg=lib.nice domain=libnice text=\"structured ufrag=<redacted>\"\n"
                        "level=info msg=lib.glib text=\"no domain\"\n");
    free(text);
    sfu_log_set_rate(SFU_LOG_DEFAULT_RATE);
    return 0;
}

TEST(levels_map)
{
    ASSERT_EQ(sfu_log_glib_level(G_LOG_LEVEL_ERROR | G_LOG_FLAG_FATAL), SFU_LOG_ERROR);
    ASSERT_EQ(sfu_log_glib_level(G_LOG_LEVEL_CRITICAL), SFU_LOG_ERROR);
    ASSERT_EQ(sfu_log_glib_level(G_LOG_LEVEL_WARNING), SFU_LOG_WARN);
    ASSERT_EQ(sfu_log_glib_level(G_LOG_LEVEL_MESSAGE), SFU_LOG_INFO);
    ASSERT_EQ(sfu_log_glib_level(G_LOG_LEVEL_INFO), SFU_LOG_INFO);
    ASSERT_EQ(sfu_log_glib_level(G_LOG_LEVEL_DEBUG), SFU_LOG_DEBUG);
    ASSERT_EQ(sfu_log_srtp_level(srtp_log_level_error), SFU_LOG_ERROR);
    ASSERT_EQ(sfu_log_srtp_level(srtp_log_level_warning), SFU_LOG_WARN);
    ASSERT_EQ(sfu_log_srtp_level(srtp_log_level_info), SFU_LOG_INFO);
    ASSERT_EQ(sfu_log_srtp_level(srtp_log_level_debug), SFU_LOG_DEBUG);
    return 0;
}

TEST_LIST(TEST_ENTRY(foreign_line_is_redacted_and_quoted),
          TEST_ENTRY(addresses_only_when_the_operator_allows),
          TEST_ENTRY(text_helper_for_openssl_reasons), TEST_ENTRY(rate_limited_per_library),
          TEST_ENTRY(glib_and_libnice_lines_come_through_us), TEST_ENTRY(levels_map))
