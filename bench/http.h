/* A small blocking HTTP/1.1 client over one TCP connection per request
 * (Connection: close), enough for the SFU's WHIP/WHEP API. No TLS. */
#ifndef BENCH_HTTP_H
#define BENCH_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_url {
    char host[64];              /* IPv4 literal or name */
    uint16_t port;
} bench_url;

typedef struct bench_http_resp {
    int status;
    char location[256];         /* Location header, "" if none */
    char participant[64];       /* X-Participant-Id, "" if none */
    char layer_link[256];       /* the Link with rel urn:ietf:params:whep:ext:core:layer
                                 * (its URL, without <>), "" if none */
    char subs_link[256];        /* a room session's, rel urn:x-sfu:subscriptions */
    int retry_after_s;          /* Retry-After, 0 if none */
    char *body;                 /* NUL-terminated; free with bench_http_resp_free */
    size_t body_len;
} bench_http_resp;

/* "http://host:port[/...]"; 0 or -1 with a reason in err. */
int bench_url_parse(const char *text, bench_url *url, char *err, size_t errlen);

/* Sends one request and reads the whole answer. body may be NULL (then
 * ctype is ignored). 0 with resp filled (any status), or -1 with a reason in
 * err when the connection or the answer's framing failed. */
int bench_http_request(const bench_url *url, const char *method, const char *path,
                       const char *ctype, const char *body, size_t body_len,
                       bench_http_resp *resp, char *err, size_t errlen);

void bench_http_resp_free(bench_http_resp *resp);

/* A connected TCP socket (close-on-exec), or -1 with a reason in err: for
 * a stream the caller reads itself (a room session's events). */
int bench_http_connect(const bench_url *url, char *err, size_t errlen);

#endif
