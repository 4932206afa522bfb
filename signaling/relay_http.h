/* The one HTTP client of the server: a node's POST to another node's
 * internal endpoint (signaling/relay.c). Blocking, with a deadline, on the
 * caller's thread (never the HTTP thread or a worker). Plain http:// only:
 * the body is sealed with the cluster secret and carries no key. */
#ifndef SIG_RELAY_HTTP_H
#define SIG_RELAY_HTTP_H

#include <stddef.h>

/* The largest response taken, headers included. */
#define SIG_RELAY_HTTP_MAX 32768

/* POSTs `body` to `base_url` (http://HOST[:PORT], as public_url) + `path`.
 * 0 with the status and the response body (g_free) or a negative error
 * code with the reason in `why` (URL, resolution, connection, timeout, a
 * response that does not parse). */
int sig_relay_http_post(const char *base_url, const char *path, const char *content_type,
                        const char *body, size_t len, unsigned timeout_ms, unsigned *status,
                        char **resp, size_t *resp_len, char *why, size_t n);

/* Pure: one whole HTTP/1.x response as read until the server closed.
 * 0 with the status and the body inside `buf` (Content-Length, when given,
 * must match what follows the headers; chunked is refused), or
 * -SFU_EMALFORMED. */
int sig_relay_http_parse(const char *buf, size_t len, unsigned *status, const char **body,
                         size_t *body_len);

#endif
