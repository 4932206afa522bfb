#include "bench/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_RESPONSE (1 << 20)

int bench_url_parse(const char *text, bench_url *url, char *err, size_t errlen)
{
    const char *p = text;
    if (strncmp(p, "http://", 7) != 0) {
        snprintf(err, errlen, "URL %s: only http:// is supported", text);
        return -1;
    }
    p += 7;
    size_t hlen = strcspn(p, ":/");
    if (hlen == 0 || hlen >= sizeof url->host) {
        snprintf(err, errlen, "URL %s: bad host", text);
        return -1;
    }
    memcpy(url->host, p, hlen);
    url->host[hlen] = '\0';
    url->port = 80;
    p += hlen;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535 || (*end && *end != '/')) {
            snprintf(err, errlen, "URL %s: bad port", text);
            return -1;
        }
        url->port = (uint16_t)port;
    }
    return 0;
}

int bench_http_connect(const bench_url *url, char *err, size_t errlen)
{
    char port[8];
    snprintf(port, sizeof port, "%u", url->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int rc = getaddrinfo(url->host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", url->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = { .tv_sec = 10 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "connect %s:%u: %s", url->host, url->port, strerror(errno));
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until the peer closes (we asked for Connection: close). */
static char *read_all(int fd, size_t *len)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= MAX_RESPONSE)
                break;
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + n, cap - n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0) {
            buf[n] = '\0';
            *len = n;
            return buf;
        }
        n += (size_t)r;
    }
    free(buf);
    return NULL;
}

static void header_value(const char *line, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    if (strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
        return;
    const char *v = line + nlen + 1;
    v += strspn(v, " \t");
    size_t vlen = strcspn(v, "\r\n");
    if (vlen >= cap)
        vlen = cap - 1;
    memcpy(out, v, vlen);
    out[vlen] = '\0';
}

/* Link: <URL>; rel="REL": its URL into out. Other Links are skipped. The
 * WHEP layer selection extension (urn:ietf:params:whep:ext:core:layer) and
 * a room session's subscriptions (urn:x-sfu:subscriptions) are read. */
static void link_rel(const char *line, const char *rel, char *out, size_t cap)
{
    char v[512] = "", want[96];
    header_value(line, "Link", v, sizeof v);
    snprintf(want, sizeof want, "rel=\"%s\"", rel);
    const char *lt = v[0] == '<' ? v + 1 : NULL;
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (!gt || !strstr(gt, want) || (size_t)(gt - lt) >= cap)
        return;
    memcpy(out, lt, (size_t)(gt - lt));
    out[gt - lt] = '\0';
}

/* RFC 9112 7.1: decodes a chunked body in place (Janus answers chunked);
 * trailers are ignored. 0 or -1 when the framing is broken. */
static int dechunk(char *body, size_t *len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        unsigned long n = strtoul(body + in, &end, 16);
        char *crlf = strstr(end, "\r\n");
        if (end == body + in || !crlf || (size_t)(crlf + 2 - body) > *len)
            return -1;
        in = (size_t)(crlf + 2 - body);
        if (n == 0)
            break;
        if (n > *len - in)
            return -1;
        memmove(body + out, body + in, n);
        out += n;
        in += n + 2;
        if (in > *len)
            return -1;
    }
    body[out] = '\0';
    *len = out;
    return 0;
}

static int parse_response(char *raw, size_t len, bench_http_resp *resp)
{
    if (sscanf(raw, "HTTP/1.%*d %d", &resp->status) != 1)
        return -1;
    char *end = strstr(raw, "\r\n\r\n");
    if (!end)
        return -1;
    char retry[16] = "", te[32] = "";
    for (char *line = strstr(raw, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
        header_value(line, "Location", resp->location, sizeof resp->location);
        header_value(line, "X-Participant-Id", resp->participant, sizeof resp->participant);
        header_value(line, "Retry-After", retry, sizeof retry);
        link_rel(line, "urn:ietf:params:whep:ext:core:layer", resp->layer_link,
                 sizeof resp->layer_link);
        link_rel(line, "urn:x-sfu:subscriptions", resp->subs_link, sizeof resp->subs_link);
        header_value(line, "Transfer-Encoding", te, sizeof te);
    }
    resp->retry_after_s = atoi(retry);
    size_t off = (size_t)(end + 4 - raw);
    resp->body_len = len - off;
    resp->body = malloc(resp->body_len + 1);
    if (!resp->body)
        return -1;
    memcpy(resp->body, raw + off, resp->body_len);
    resp->body[resp->body_len] = '\0';
    if (strcasecmp(te, "chunked") == 0)
        return dechunk(resp->body, &resp->body_len);
    return 0;
}

int bench_http_request(const bench_url *url, const char *method, const char *path,
                       const char *ctype, const char *body, size_t body_len,
                       bench_http_resp *resp, char *err, size_t errlen)
{
    memset(resp, 0, sizeof *resp);
    int fd = bench_http_connect(url, err, errlen);
    if (fd < 0)
        return -1;
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n%s%s%s\r\n",
                     method, path, url->host, url->port, body ? body_len : 0,
                     body ? "Content-Type: " : "", body ? ctype : "", body ? "\r\n" : "");
    size_t len = 0;
    char *raw = NULL;
    if (n < 0 || (size_t)n >= sizeof head || send_all(fd, head, (size_t)n) != 0 ||
        (body && send_all(fd, body, body_len) != 0) || !(raw = read_all(fd, &len)) ||
        parse_response(raw, len, resp) != 0) {
        snprintf(err, errlen, "%s %s: %s", method, path,
                 raw ? "malformed HTTP answer" : "request failed");
        free(raw);
        close(fd);
        bench_http_resp_free(resp);
        return -1;
    }
    free(raw);
    close(fd);
    return 0;
}

void bench_http_resp_free(bench_http_resp *resp)
{
    free(resp->body);
    resp->body = NULL;
}
