/* Logging for the shell: one logfmt line per event on stderr,
 *
 *   ts=2025-01-31T12:00:00.123Z level=info msg=session.created room=demo tracks=2
 *
 * `msg` is the event's cause: a short static string ("session.created",
 * "ice.failed") that also keys the rate limit. At most N lines per second go
 * out per cause; the rest are counted and reported as one line
 * `... msg=<cause> suppressed=K` once that second is over (on the cause's next
 * line, or on sfu_log_flush). Each line is built in a local buffer and written
 * with one write(), so lines from different threads never interleave. Control
 * characters in the caller's text are escaped (\xNN): a peer-supplied string
 * can never start a line of its own.
 *
 * The core never logs (DESIGN.md); client addresses are logged only when the
 * operator allows it, through sfu_log_addr. */
#ifndef SFU_NET_LOG_H
#define SFU_NET_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "sfu/core/common.h"

struct sockaddr;

typedef enum sfu_log_level {
    SFU_LOG_ERROR = 0,
    SFU_LOG_WARN = 1,
    SFU_LOG_INFO = 2,
    SFU_LOG_DEBUG = 3,
} sfu_log_level;

#define SFU_LOG_LINE_MAX 2048           /* longer lines are cut, ending in "..." */
#define SFU_LOG_DEFAULT_RATE 20         /* lines per second per cause */

/* Logs one event if `level` is enabled and the cause is within its rate.
 * `cause` must be a string that lives for the whole process (a literal).
 * `fmt` formats the rest of the line, by convention `key=value` pairs. */
void sfu_log(sfu_log_level level, const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, with the caller's monotonic `now` (microseconds) for the rate
 * limit: the shell reads the clock once per wake-up and tests use a virtual one. */
void sfu_log_at(sfu_log_level level, const char *cause, sfu_time now, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sfu_logv_at(sfu_log_level level, const char *cause, sfu_time now, const char *fmt,
                 va_list ap) __attribute__((format(printf, 4, 0)));
/* Writes the pending "suppressed=K" line of every cause whose second is over.
 * Call it now and then (once a second) so the count of a last burst is seen. */
void sfu_log_flush(sfu_time now);

/* Runtime settings, safe from any thread. */
void sfu_log_set_level(sfu_log_level level);
sfu_log_level sfu_log_get_level(void);
bool sfu_log_enabled(sfu_log_level level);
/* Lines per second per cause; 0 turns the limit off. */
void sfu_log_set_rate(unsigned lines_per_second);
/* Where lines go (stderr by default); returns the previous descriptor. */
int sfu_log_set_fd(int fd);

/* Whether client addresses may appear in lines this process did not
 * write itself (the operator's [privacy] log_addresses; off by default). */
void sfu_log_set_addresses(bool allowed);
bool sfu_log_addresses_allowed(void);

/* A line from a library (libmicrohttpd, libnice or GLib, libsrtp): logged
 * as `msg=<cause> text="..."`, under the same level filter and rate limit,
 * with secrets and (unless allowed) addresses redacted (log_redact.h),
 * trailing white space dropped. `cause` as for sfu_log; `domain`, when not
 * NULL, is added as `domain=...` (GLib's log domain). */
void sfu_log_foreign(sfu_log_level level, const char *cause, const char *domain,
                     const char *text);
/* Formats text we did not write (an OpenSSL reason, a library's message) as
 * a logfmt value: redacted as for sfu_log_foreign, then quoted as by
 * sfu_log_quote. Returns buf. */
const char *sfu_log_text(char *buf, size_t n, const char *text);

/* "error", "warn", "info", "debug". */
const char *sfu_log_level_name(sfu_log_level level);
/* Parses a level name; returns 0 or -SFU_EINVAL. */
int sfu_log_level_parse(const char *name, sfu_log_level *out);

/* Formats `sa` as "192.0.2.1:5000" or "[2001:db8::1]:5000" when `allowed`
 * (the operator's [privacy] log_addresses), else as "hidden". Returns buf. */
const char *sfu_log_addr(char *buf, size_t n, const struct sockaddr *sa, bool allowed);
/* Formats `s` as a logfmt value: as it is when it holds only safe characters,
 * else in double quotes with `"` and `\` escaped; cut to fit. Returns buf. */
const char *sfu_log_quote(char *buf, size_t n, const char *s);

#endif
