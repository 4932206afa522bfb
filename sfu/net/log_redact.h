/* Redaction of secrets from text we did not write: a library's diagnostic
 * (libmicrohttpd, libnice and GLib, libsrtp, OpenSSL's error strings) may
 * quote a URL, a header or an address that came from a client. Before such a
 * line reaches the log, this replaces
 *
 *   - the segment after "/sessions/" (a session URL is its capability),
 *   - the value after a secret's name: token=, access_token=, jwt=, pwd=,
 *     password=, passwd=, secret=, ufrag=, username= (also with ':' as in
 *     a=ice-pwd:...), "Authorization:" up to the end of the line, the word
 *     after "Bearer", the pair after libnice's "U/P",
 *   - any run of 16 or more characters from [A-Za-z0-9+/_.-] holding both a
 *     letter and a digit (session ids, JWTs, ICE passwords, keys whatever
 *     they are called),
 *   - IPv4 and IPv6 addresses, with a port when one follows, unless the
 *     caller keeps them (the operator's [privacy] log_addresses),
 *
 * each with "<redacted>" (addresses with "<addr>"). Names are matched without
 * regard to case and only at the start of a word. Pure: no I/O, no state,
 * time linear in the input. */
#ifndef SFU_NET_LOG_REDACT_H
#define SFU_NET_LOG_REDACT_H

#include <stddef.h>

#define SFU_REDACT_KEEP_ADDRESSES 1u    /* the operator opted in to addresses */

#define SFU_REDACT_SECRET "<redacted>"
#define SFU_REDACT_ADDR "<addr>"
#define SFU_REDACT_MIN_RUN 16           /* shortest anonymous run taken for a secret */

/* Writes the redacted copy of in[0..len) (up to its first NUL, if any) into
 * out, cut to n - 1 bytes and NUL-terminated when n > 0. Returns the length
 * written. */
size_t sfu_log_redact(char *out, size_t n, const char *in, size_t len, unsigned flags);

#endif
