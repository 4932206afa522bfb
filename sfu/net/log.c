/* One logfmt line per event, rate-limited per cause (see log.h). */
#include "sfu/net/log.h"

#include "sfu/net/log_redact.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One slot per cause. Causes are few and static (a few dozen), so a small
 * open-addressed table never fills in practice; if it does, every further
 * cause shares the last slot's budget rather than going unlimited. */
#define CAUSE_SLOTS 256

struct cause_slot {
    const char *cause;          /* NULL: free */
    sfu_time window_at;         /* start of the current one-second window */
    unsigned lines;             /* written in this window */
    unsigned suppressed;        /* dropped in this window */
    sfu_log_level worst;        /* most severe level among the dropped */
};

static atomic_int log_level = SFU_LOG_INFO;
static atomic_int log_fd = STDERR_FILENO;
static atomic_uint log_rate = SFU_LOG_DEFAULT_RATE;
static atomic_bool log_addresses = false;

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cause_slot slots[CAUSE_SLOTS];

static const char *const level_names[] = { "error", "warn", "info", "debug" };

const char *sfu_log_level_name(sfu_log_level level)
{
    if ((unsigned)level >= SFU_ARRAY_LEN(level_names))
        return "unknown";
    return level_names[level];
}

int sfu_log_level_parse(const char *name, sfu_log_level *out)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(level_names); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (sfu_log_level)i;
            return 0;
        }
    }
    return -SFU_EINVAL;
}

void sfu_log_set_level(sfu_log_level level) { atomic_store(&log_level, (int)level); }
sfu_log_level sfu_log_get_level(void) { return (sfu_log_level)atomic_load(&log_level); }
bool sfu_log_enabled(sfu_log_level level) { return (int)level <= atomic_load(&log_level); }
void sfu_log_set_rate(unsigned lines_per_second) { atomic_store(&log_rate, lines_per_second); }
int sfu_log_set_fd(int fd) { return atomic_exchange(&log_fd, fd); }
void sfu_log_set_addresses(bool allowed) { atomic_store(&log_addresses, allowed); }
bool sfu_log_addresses_allowed(void) { return atomic_load(&log_addresses); }

static sfu_time mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sfu_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool safe_char(unsigned char c)
{
    return c > ' ' && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

const char *sfu_log_quote(char *buf, size_t n, const char *s)
{
    if (n == 0)
        return buf;
    size_t len = strlen(s), o = 0;
    bool plain = len > 0;
    for (size_t i = 0; i < len && plain; i++)
        plain = safe_char((unsigned char)s[i]);
    if (plain) {
        snprintf(buf, n, "%s", s);
        return buf;
    }
    /* Room for the closing quote and the NUL is kept back while copying. */
    if (n < 3) {
        buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[5];
        int k = c == '"' || c == '\\' ? snprintf(esc, sizeof esc, "\\%c", c)
              : c < ' ' || c == 0x7f ? snprintf(esc, sizeof esc, "\\x%02x", c)
              : snprintf(esc, sizeof esc, "%c", c);
        if (o + (size_t)k + 2 > n)
            break;
        memcpy(buf + o, esc, (size_t)k);
        o += (size_t)k;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

const char *sfu_log_addr(char *buf, size_t n, const struct sockaddr *sa, bool allowed)
{
    char ip[INET6_ADDRSTRLEN];
    if (n == 0)
        return buf;
    if (!allowed) {
        snprintf(buf, n, "hidden");
    } else if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(buf, n, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(buf, n, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(buf, n, "unknown");
    }
    return buf;
}

/* Appends the caller's text, escaping control characters so that the event
 * stays on one line whatever a peer managed to put into it. */
static size_t append_escaped(char *line, size_t o, size_t cap, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= ' ' && c != 0x7f) {
            if (o + 1 >= cap)
                return cap;
            line[o++] = (char)c;
        } else {
            if (o + 4 >= cap)
                return cap;
            o += (size_t)snprintf(line + o, cap - o, "\\x%02x", c);
        }
    }
    return o;
}

static size_t line_prefix(char *line, size_t cap, sfu_log_level level, const char *cause)
{
    struct timespec ts;
    struct tm tm;
    char when[32], msg[96];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    int k = snprintf(line, cap, "ts=%s.%03ldZ level=%s msg=%s", when, ts.tv_nsec / 1000000,
                     sfu_log_level_name(level), sfu_log_quote(msg, sizeof msg, cause));
    return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
}

static void write_line(char *line, size_t len)
{
    int fd = atomic_load(&log_fd);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, line + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;     /* nowhere left to report a failing log */
        off += (size_t)w;
    }
}

static void emit(sfu_log_level level, const char *cause, const char *text)
{
    char line[SFU_LOG_LINE_MAX];
    const size_t cap = sizeof line - 1;     /* keeps room for the newline */
    size_t o = line_prefix(line, cap, level, cause);
    if (text[0] && o + 1 < cap) {
        line[o++] = ' ';
        o = append_escaped(line, o, cap, text);
    }
    if (o >= cap) {
        memcpy(line + cap - 3, "...", 3);
        o = cap;
    }
    line[o++] = '\n';
    write_line(line, o);
}

static void emit_suppressed(const char *cause, sfu_log_level level, unsigned count)
{
    char text[32];
    snprintf(text, sizeof text, "suppressed=%u", count);
    emit(level, cause, text);
}

static struct cause_slot *find_slot(const char *cause)
{
    uint32_t h = 2166136261u;   /* FNV-1a over the text: equal literals in two
                                 * files may have different addresses */
    for (const char *p = cause; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (size_t i = 0; i < CAUSE_SLOTS; i++) {
        struct cause_slot *s = &slots[(h + i) % CAUSE_SLOTS];
        if (!s->cause) {
            s->cause = cause;
            return s;
        }
        if (s->cause == cause || strcmp(s->cause, cause) == 0)
            return s;
    }
    return &slots[CAUSE_SLOTS - 1];
}

/* Decides under the lock whether a line of `cause` may go out now, and
 * collects a finished window's suppressed count to report first. */
static bool admit(const char *cause, sfu_log_level level, sfu_time now, unsigned *report,
                  sfu_log_level *report_level)
{
    unsigned rate = atomic_load(&log_rate);
    bool ok;
    *report = 0;
    if (rate == 0)
        return true;
    pthread_mutex_lock(&slots_lock);
    struct cause_slot *s = find_slot(cause);
    if (s->lines == 0 || now - s->window_at >= SFU_SEC(1) || now < s->window_at) {
        *report = s->suppressed;
        *report_level = s->worst;
        s->window_at = now;
        s->lines = 0;
        s->suppressed = 0;
    }
    ok = s->lines < rate;
    if (ok) {
        s->lines++;
    } else {
        if (s->suppressed == 0 || level < s->worst)
            s->worst = level;
        s->suppressed++;
    }
    pthread_mutex_unlock(&slots_lock);
    return ok;
}

void sfu_logv_at(sfu_log_level level, const char *cause, sfu_time now, const char *fmt,
                 va_list ap)
{
    if (!sfu_log_enabled(level))
        return;
    unsigned report;
    sfu_log_level report_level = level;
    bool ok = admit(cause, level, now, &report, &report_level);
    if (report)
        emit_suppressed(cause, report_level, report);
    if (!ok)
        return;
    char text[SFU_LOG_LINE_MAX];
    vsnprintf(text, sizeof text, fmt, ap);
    emit(level, cause, text);
}

void sfu_log_at(sfu_log_level level, const char *cause, sfu_time now, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sfu_logv_at(level, cause, now, fmt, ap);
    va_end(ap);
}

void sfu_log(sfu_log_level level, const char *cause, const char *fmt, ...)
{
    if (!sfu_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    sfu_logv_at(level, cause, mono_now(), fmt, ap);
    va_end(ap);
}

void sfu_log_flush(sfu_time now)
{
    struct { const char *cause; unsigned count; sfu_log_level level; } due[16];
    bool more = true;
    /* Collected in small batches so that no write happens under the lock. */
    while (more) {
        size_t n = 0;
        more = false;
        pthread_mutex_lock(&slots_lock);
        for (size_t i = 0; i < CAUSE_SLOTS; i++) {
            struct cause_slot *s = &slots[i];
            if (!s->cause || s->suppressed == 0 || now - s->window_at < SFU_SEC(1))
                continue;
            if (n == SFU_ARRAY_LEN(due)) {
                more = true;
                break;
            }
            due[n].cause = s->cause;
            due[n].count = s->suppressed;
            due[n].level = s->worst;
            n++;
            s->suppressed = 0;
            s->lines = 0;
        }
        pthread_mutex_unlock(&slots_lock);
        for (size_t i = 0; i < n; i++)
            emit_suppressed(due[i].cause, due[i].level, due[i].count);
    }
}

const char *sfu_log_text(char *buf, size_t n, const char *text)
{
    char clean[SFU_LOG_LINE_MAX];
    size_t k = sfu_log_redact(clean, sizeof clean, text, strlen(text),
                              sfu_log_addresses_allowed() ? SFU_REDACT_KEEP_ADDRESSES : 0);
    while (k > 0 && (clean[k - 1] == '\n' || clean[k - 1] == '\r' || clean[k - 1] == ' ' ||
                     clean[k - 1] == '\t'))
        clean[--k] = '\0';
    return sfu_log_quote(buf, n, clean);
}

void sfu_log_foreign(sfu_log_level level, const char *cause, const char *domain,
                     const char *text)
{
    if (!sfu_log_enabled(level))
        return;
    char value[SFU_LOG_LINE_MAX], dom[64];
    sfu_log_text(value, sizeof value, text);
    if (domain)
        sfu_log(level, cause, "domain=%s text=%s", sfu_log_quote(dom, sizeof dom, domain), value);
    else
        sfu_log(level, cause, "text=%s", value);
}
