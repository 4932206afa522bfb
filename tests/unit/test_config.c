/* Config: the good sample loads with the right values, each bad sample gives
 * exactly its `file:line: key: problem` lines, configs/sfu.conf documents
 * every key at its default, and secrets never come out. */
#include "tests/test.h"

#include <stdlib.h>
#include <unistd.h>

#include "signaling/config.h"

#define DATA "tests/data/config/"

/* Runs the check mode and returns what it reported (caller frees). */
static char *check_report(const char *path, int *problems)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    *problems = sig_config_check(path, f);
    fclose(f);
    return text;
}

static char *dump(const sig_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    sig_config_dump(cfg, f);
    fclose(f);
    return text;
}

TEST(defaults)
{
    sig_config c;
    sig_config_defaults(&c);
    ASSERT_STR_EQ(c.http.listen.host, "127.0.0.1");
    ASSERT_EQ(c.http.listen.port, 8080);
    ASSERT_STR_EQ(c.http.cors_origin, "*");
    ASSERT_EQ(c.http.max_body_bytes, 65536);
    ASSERT_EQ(c.http.max_connections, 2048);
    ASSERT_EQ(c.http.max_pending_connections_per_client, 64);
    ASSERT_EQ(c.http.header_timeout, SFU_SEC(10));
    ASSERT_EQ(c.http.body_timeout, SFU_SEC(10));
    ASSERT_EQ(c.http.idle_timeout, SFU_SEC(30));
    ASSERT_EQ(c.http.requests_per_second_per_client, 50);
    ASSERT_EQ(c.http.request_burst, 400);
    ASSERT_EQ(c.media.port_min, 20000);
    ASSERT_EQ(c.media.port_max, 20999);
    ASSERT_EQ(c.media.gather_addresses.count, 1);
    ASSERT_STR_EQ(c.media.gather_addresses.item[0], "127.0.0.1");
    ASSERT_EQ(c.media.announce_addresses.count, 0);
    ASSERT_EQ(c.media.ice_tcp, true);
    ASSERT_EQ(c.media.workers, 0);
    ASSERT_EQ(c.media.liveness_timeout, SFU_SEC(15));
    ASSERT_EQ(c.media.buffer_pool_packets, 8192);
    ASSERT_EQ(c.media.buffer_pool_max_packets, 65536);
    ASSERT_EQ(c.media.rtx_cache_packets, 512);
    ASSERT_EQ(c.media.keyframe_min_interval, SFU_MS(250));
    ASSERT_EQ(c.media.keyframe_cache, SFU_SEC(1));
    ASSERT_EQ(c.media.max_publish_bitrate_bps, 0);
    ASSERT_EQ(c.limits.max_sessions, 1000);
    ASSERT_EQ(c.limits.max_participants_per_room, 50);
    ASSERT_EQ(c.limits.max_tracks_per_session, 16);
    ASSERT_EQ(c.limits.max_sdp_mlines, 32);
    ASSERT_EQ(c.limits.max_sdp_bytes, 65536);
    ASSERT_STR_EQ(c.dtls.cert_file, "");
    ASSERT_EQ(c.log.level, SFU_LOG_INFO);
    ASSERT_EQ(c.privacy.log_addresses, false);
    ASSERT_EQ(c.privacy.api_addresses, false);
    ASSERT_STR_EQ(c.auth.secret, "");
    ASSERT_EQ(c.auth.clock_skew_s, 30);
    ASSERT_EQ(c.turn.urls.count, 0);
    ASSERT_EQ(c.turn.ttl_s, 86400);
    return 0;
}

TEST(good_file_loads)
{
    sig_config c;
    char err[1024] = "untouched";
    ASSERT_EQ(sig_config_load(DATA "good.conf", &c, err, sizeof err), 0);
    ASSERT_STR_EQ(err, "");
    ASSERT_STR_EQ(c.http.listen.host, "::1");
    ASSERT_EQ(c.http.listen.port, 9090);
    ASSERT_STR_EQ(c.http.cors_origin, "https://call.example.org");
    ASSERT_EQ(c.http.max_body_bytes, 131072);
    ASSERT_EQ(c.http.max_connections, 2048);     /* not in the file: default */
    ASSERT_EQ(c.http.requests_per_second_per_client, 0);
    ASSERT_EQ(c.media.port_min, 40000);
    ASSERT_EQ(c.media.port_max, 40099);
    ASSERT_EQ(c.media.gather_addresses.count, 2);
    ASSERT_STR_EQ(c.media.gather_addresses.item[0], "10.0.0.5");
    ASSERT_STR_EQ(c.media.gather_addresses.item[1], "192.168.1.7");
    ASSERT_EQ(c.media.announce_addresses.count, 2);
    ASSERT_STR_EQ(c.media.announce_addresses.item[1], "203.0.113.6");
    ASSERT_EQ(c.media.ice_tcp, true);
    ASSERT_EQ(c.media.workers, 4);
    ASSERT_EQ(c.media.liveness_timeout, SFU_MS(5000));
    ASSERT_EQ(c.media.keyframe_min_interval, SFU_MS(500));
    ASSERT_EQ(c.media.keyframe_cache, 0);
    ASSERT_EQ(c.media.max_publish_bitrate_bps, 2500000);
    ASSERT_EQ(c.limits.max_participants_per_room, 8);
    ASSERT_EQ(c.limits.max_sdp_mlines, 64);
    ASSERT_STR_EQ(c.dtls.cert_file, "/etc/sfu/cert.pem");
    ASSERT_STR_EQ(c.dtls.key_file, "/etc/sfu/key.pem");
    ASSERT_EQ(c.log.level, SFU_LOG_DEBUG);
    ASSERT_EQ(c.privacy.log_addresses, true);
    ASSERT_STR_EQ(c.auth.secret, "0123456789abcdef0123456789abcdef-very-secret");
    ASSERT_EQ(c.auth.clock_skew_s, 5);
    ASSERT_EQ(c.ice.stun_urls.count, 2);
    ASSERT_STR_EQ(c.ice.stun_urls.item[1], "stun:[2001:db8::1]:3478");
    ASSERT_EQ(c.turn.urls.count, 2);
    ASSERT_STR_EQ(c.turn.urls.item[0], "turn:turn.example.org:3478?transport=udp");
    ASSERT_STR_EQ(c.turn.secret, "turn-shared-secret");
    ASSERT_EQ(c.turn.ttl_s, 3600);
    return 0;
}

static const struct {
    const char *file;
    const char *report;     /* every line the check prints */
} bad_files[] = {
    { "bad_unknown_key.conf",
      DATA "bad_unknown_key.conf:3: http.lisen: unknown key (did you mean listen?)\n" },
    { "bad_unknown_group.conf",
      DATA "bad_unknown_group.conf:4: mdia: unknown group [mdia]\n" },
    { "bad_wrong_group.conf",
      DATA "bad_wrong_group.conf:2: http.workers: unknown key (it belongs in [media])\n" },
    { "bad_type.conf",
      DATA "bad_type.conf:2: media.workers: expected a whole number, got \"many\"\n" },
    { "bad_range.conf",
      DATA "bad_range.conf:3: media.workers: 65 is out of range [0, 64]\n" },
    { "bad_address.conf",
      DATA "bad_address.conf:2: http.listen: expected IP:port such as 127.0.0.1:8080 or "
           "[::1]:8080, got \"localhost:8080\"\n" },
    { "bad_address6.conf",
      DATA "bad_address6.conf:2: http.listen: expected IP:port such as 127.0.0.1:8080 or "
           "[::1]:8080, got \"::1:8080\"\n" },
    { "bad_port_range.conf",
      DATA "bad_port_range.conf:2: media.port_min: 30000 is above port_max 20000\n" },
    { "bad_port_range_default.conf",
      DATA "bad_port_range_default.conf:2: media.port_min: 20000 is above port_max 10000\n" },
    { "bad_pool_max.conf",
      DATA "bad_pool_max.conf:2: media.buffer_pool_max_packets: 65536 is below "
           "buffer_pool_packets 100000\n" },
    { "bad_syntax.conf",
      DATA "bad_syntax.conf:2: syntax: expected [group], key = value or # comment\n" },
    { "bad_key_outside_group.conf",
      DATA "bad_key_outside_group.conf:1: workers: key outside any [group]\n" },
    { "bad_announce_count.conf",
      DATA "bad_announce_count.conf:3: media.announce_addresses: 1 addresses for 2 "
           "gather_addresses: give one per gather address, in the same order\n" },
    { "bad_ip_list.conf",
      DATA "bad_ip_list.conf:2: media.gather_addresses: \"eth0\" is not an IP address\n" },
    { "bad_empty_gather.conf",
      DATA "bad_empty_gather.conf:2: media.gather_addresses: needs at least 1 item\n" },
    { "bad_turn_url.conf",
      DATA "bad_turn_url.conf:2: turn.urls: \"http://turn.example.org\" is not a turn: or "
           "turns: URI (RFC 7065)\n" },
    { "bad_turn_no_credentials.conf",
      DATA "bad_turn_no_credentials.conf:2: turn.urls: TURN servers need a secret, or a "
           "username and credential\n" },
    { "bad_secret_short.conf",
      DATA "bad_secret_short.conf:2: auth.secret: 8 bytes; HS256 needs at least 32\n" },
    { "bad_duplicate.conf",
      DATA "bad_duplicate.conf:3: log.level: duplicate key (first at line 2)\n" },
    { "bad_bool.conf",
      DATA "bad_bool.conf:2: privacy.log_addresses: expected true or false, got \"maybe\"\n" },
    { "bad_level.conf",
      DATA "bad_level.conf:2: log.level: expected error, warn, info or debug, got \"trace\"\n" },
    { "bad_cert_without_key.conf",
      DATA "bad_cert_without_key.conf:2: dtls.key_file: cert_file and key_file are set "
           "together or not at all\n" },
    { "bad_control_char.conf",
      DATA "bad_control_char.conf:2: http.cors_origin: contains a control character\n" },
    { "bad_several.conf",
      DATA "bad_several.conf:2: http.max_body_bytes: 99999999999 is out of range [1024, "
           "16777216]\n"
      DATA "bad_several.conf:3: http.max_connections: expected a whole number, got \"-1\"\n"
      DATA "bad_several.conf:7: media.rtx_cache_packets: 8 is out of range [16, 32768]\n" },
    { "bad_nul.conf", DATA "bad_nul.conf:2: syntax: NUL byte in line\n" },
    { "bad_mixed.conf",
      DATA "bad_mixed.conf:3: http.listen: duplicate key (first at line 2)\n"
      /* only the last value counts, as in GKeyFile */
      DATA "bad_mixed.conf:3: http.listen: expected IP:port such as 127.0.0.1:8080 or "
           "[::1]:8080, got \"8080\"\n"
      DATA "bad_mixed.conf:5: rooms: unknown group [rooms]\n"
      DATA "bad_mixed.conf:8: media.gather_adresses: unknown key (did you mean "
           "gather_addresses?)\n" },
    { "does_not_exist.conf",
      DATA "does_not_exist.conf:0: file: cannot open: No such file or directory\n" },
    { "../config", DATA "../config:0: file: cannot read: Is a directory\n" },
};

TEST(bad_files_report_each_problem)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(bad_files); i++) {
        char path[256];
        int problems = 0;
        snprintf(path, sizeof path, DATA "%s", bad_files[i].file);
        char *report = check_report(path, &problems);
        int lines = 0;
        for (const char *p = bad_files[i].report; *p; p++)
            lines += *p == '\n';
        if (strcmp(report, bad_files[i].report) != 0)
            fprintf(stderr, "  case %s\n", bad_files[i].file);
        ASSERT_STR_EQ(report, bad_files[i].report);
        ASSERT_EQ(problems, lines);
        free(report);
    }
    return 0;
}

TEST(load_fails_with_every_problem_and_leaves_out_alone)
{
    sig_config c;
    sig_config_defaults(&c);
    c.media.workers = 7;
    char err[512];
    ASSERT_EQ(sig_config_load(DATA "bad_several.conf", &c, err, sizeof err), -SFU_EINVAL);
    ASSERT_EQ(c.media.workers, 7);
    ASSERT(strncmp(err, DATA "bad_several.conf:2: http.max_body_bytes:", 47) == 0);
    ASSERT(strstr(err, "\n" DATA "bad_several.conf:7: media.rtx_cache_packets:") != NULL);
    /* a tiny buffer is cut, never overrun */
    char small[16];
    memset(small, 'x', sizeof small);
    ASSERT_EQ(sig_config_load(DATA "bad_range.conf", &c, small, 10), -SFU_EINVAL);
    ASSERT_EQ(strlen(small), 9);
    ASSERT_EQ(small[10], 'x');
    return 0;
}

TEST(shipped_config_is_the_defaults_and_documents_every_key)
{
    sig_config def, file;
    char err[1024];
    sig_config_defaults(&def);
    int rc = sig_config_load("configs/sfu.conf", &file, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "  %s\n", err);
    ASSERT_EQ(rc, 0);
    char *a = dump(&def), *b = dump(&file);
    ASSERT_STR_EQ(b, a);
    /* each "key = value" line the dump prints is set in the shipped file */
    FILE *f = fopen("configs/sfu.conf", "r");
    ASSERT(f != NULL);
    char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    int keys = 0;
    for (char *line = strtok(a, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '[')
            continue;
        char want[128];
        snprintf(want, sizeof want, "\n%.*s =", (int)strcspn(line, " "), line);
        if (!strstr(text, want))
            fprintf(stderr, "  not in configs/sfu.conf: %s\n", want + 1);
        ASSERT(strstr(text, want) != NULL);
        keys++;
    }
    ASSERT_GE(keys, 35);
    free(a);
    free(b);
    return 0;
}

TEST(dump_never_prints_secrets)
{
    sig_config c;
    char err[256];
    ASSERT_EQ(sig_config_load(DATA "good.conf", &c, err, sizeof err), 0);
    snprintf(c.turn.credential, sizeof c.turn.credential, "hunter2-credential");
    char *text = dump(&c);
    ASSERT(strstr(text, "very-secret") == NULL);
    ASSERT(strstr(text, "turn-shared-secret") == NULL);
    ASSERT(strstr(text, "hunter2") == NULL);
    ASSERT(strstr(text, "\nsecret = (set)\n") != NULL);
    ASSERT(strstr(text, "listen = [::1]:9090\n") != NULL);
    ASSERT(strstr(text, "liveness_timeout_ms = 5000\n") != NULL);
    free(text);
    /* nor do problems: a bad secret is described, never echoed */
    int problems = 0;
    char *report = check_report(DATA "bad_secret_short.conf", &problems);
    ASSERT_EQ(problems, 1);
    ASSERT(strstr(report, "tiny-key") == NULL);
    free(report);
    return 0;
}

/* One "[group] key = value" line through the loader: "" means accepted. */
static const struct {
    const char *group, *line, *problem;
} values[] = {
    { "http", "listen = 0.0.0.0:0", "" },
    { "http", "listen = [2001:db8::1]:443", "" },
    { "http", "listen = 127.0.0.1", "expected IP:port" },
    { "http", "listen = 127.0.0.1:65536", "expected IP:port" },
    { "http", "listen = [::1]8080", "expected IP:port" },
    { "http", "listen = 999.0.0.1:80", "expected IP:port" },
    { "http", "max_body_bytes = 1024", "" },
    { "http", "max_body_bytes = 1023", "1023 is out of range [1024, 16777216]" },
    { "http", "max_body_bytes = 1e6", "expected a whole number" },
    { "http", "max_body_bytes = 99999999999999999999", "expected a whole number" },
    { "http", "max_body_bytes =", "expected a whole number, got \"\"" },
    { "media", "ice_tcp = on", "" },
    { "media", "ice_tcp = TRUE", "expected true or false" },
    { "media", "gather_addresses = ::1, 10.1.2.3", "" },
    { "media", "gather_addresses = 1,2,3,4,5,6,7,8,9", "\"1\" is not an IP address" },
    { "media", "gather_addresses = 10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5,10.0.0.6,"
               "10.0.0.7,10.0.0.8,10.0.0.9", "more than 8 items" },
    { "ice", "stun_urls = stuns:stun.example.org:5349", "" },
    { "ice", "stun_urls = stun:stun.example.org:0", "is not a stun: or stuns: URI" },
    { "ice", "stun_urls = stun:stun.example.org?transport=udp", "is not a stun: or stuns: URI" },
    { "ice", "stun_urls = turn:turn.example.org", "is not a stun: or stuns: URI" },
    { "ice", "stun_urls = stun:a b", "is not a stun: or stuns: URI" },
    { "ice", "stun_urls = stun:<evil>", "is not a stun: or stuns: URI" },
    { "ice", "stun_urls = stun:[::1", "is not a stun: or stuns: URI" },
    { "ice", "stun_urls = stun:", "is not a stun: or stuns: URI" },
    { "http", "cors_origin = \\s", "" },
    { "http", "cors_origin = a\tb", "contains a control character" },
    { "http", "listen[de] = 127.0.0.1:1", "unknown key" },
    { "http", "= 1", "syntax: expected [group], key = value" },
    { "http", "[http", "syntax: bad group header" },
    { "http", "Listen = 127.0.0.1:1", "unknown key (did you mean listen?)" },
    { "http", "max_connections_per_client = 32",
      "renamed to http.max_pending_connections_per_client" },
    { "auth", "secret = 0123456789abcdef0123456789abcdef", "" },
    { "turn", "username = u", "turn.credential: username and credential are set together" },
    { "turn", "ttl_s = 59", "59 is out of range [60, 604800]" },
};

TEST(values)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(values); i++) {
        char path[] = "/tmp/test_config_XXXXXX";
        int fd = mkstemp(path);
        ASSERT(fd >= 0);
        FILE *f = fdopen(fd, "w");
        fprintf(f, "# case %zu\n[%s]\n%s\n", i, values[i].group, values[i].line);
        fclose(f);
        int problems = 0;
        char *report = check_report(path, &problems);
        unlink(path);
        bool ok = values[i].problem[0] ? problems == 1 && strstr(report, values[i].problem) &&
                                             strstr(report, ":3: ")
                                       : problems == 0;
        if (!ok)
            fprintf(stderr, "  case \"%s\": want \"%s\", got %d: %s\n", values[i].line,
                    values[i].problem, problems, report);
        ASSERT(ok);
        free(report);
    }
    return 0;
}

TEST(empty_file_is_the_defaults)
{
    sig_config def, c;
    char err[256];
    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, "# nothing\n\n", 11), 11);
    close(fd);
    sig_config_defaults(&def);
    ASSERT_EQ(sig_config_load(path, &c, err, sizeof err), 0);
    unlink(path);
    char *a = dump(&def), *b = dump(&c);
    ASSERT_STR_EQ(b, a);
    free(a);
    free(b);
    return 0;
}

TEST_LIST(
    TEST_ENTRY(values),
    TEST_ENTRY(empty_file_is_the_defaults),
    TEST_ENTRY(defaults),
    TEST_ENTRY(good_file_loads),
    TEST_ENTRY(bad_files_report_each_problem),
    TEST_ENTRY(load_fails_with_every_problem_and_leaves_out_alone),
    TEST_ENTRY(shipped_config_is_the_defaults_and_documents_every_key),
    TEST_ENTRY(dump_never_prints_secrets),
)
