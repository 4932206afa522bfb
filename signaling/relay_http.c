#include "signaling/relay_http.h"

#include <errno.h>
#include <glib.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sfu/core/common.h"

/* ---- the response ---- */

static const char *find_crlf2(const char *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return buf + i;
    return NULL;
}

/* The value of header `name` in the header block [p, end), or NULL. */
static const char *header_value(const char *p, const char *end, const char *name,
                                size_t *vlen)
{
    size_t nl = strlen(name);
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol + 2;
    }
    return NULL;
}

int sig_relay_http_parse(const char *buf, size_t len, unsigned *status, const char **body,
                         size_t *body_len)
{
    const char *hend = find_crlf2(buf, len);
    if (!hend || len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
        buf[8] != ' ')
        return -SFU_EMALFORMED;
    unsigned st = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -SFU_EMALFORMED;
        st = st * 10 + (unsigned)(buf[i] - '0');
    }
    if (st < 100 || (len > 12 && buf + 12 < hend && buf[12] != ' ' && buf[12] != '\r'))
        return -SFU_EMALFORMED;
    const char *first_eol = memchr(buf, '\r', (size_t)(hend - buf) + 1);
    const char *hstart = first_eol ? first_eol + 2 : hend;
    const char *b = hend + 4;
    size_t blen = len - (size_t)(b - buf);
    size_t vlen;
    const char *te = header_value(hstart, hend, "Transfer-Encoding", &vlen);
    if (te && !(vlen == 8 && strncasecmp(te, "identity", 8) == 0))
        return -SFU_EMALFORMED;
    const char *cl = header_value(hstart, hend, "Content-Length", &vlen);
    if (cl) {
        if (vlen == 0 || vlen > 9)
            return -SFU_EMALFORMED;
        size_t want = 0;
        for (size_t i = 0; i < vlen; i++) {
            if (cl[i] < '0' || cl[i] > '9')
                return -SFU_EMALFORMED;
            want = want * 10 + (size_t)(cl[i] - '0');
        }
        if (want != blen)
            return -SFU_EMALFORMED;
    }
    *status = st;
    *body = b;
    *body_len = blen;
    return 0;
}

/* ---- the request ---- */

/* "http://HOST[:PORT]" into host and port text. */
static int split_url(const char *url, char *host, size_t hn, char *port, size_t pn)
{
    if (strncmp(url, "http://", 7) != 0)
        return -SFU_EUNSUPPORTED;
    const char *h = url + 7, *end = h + strlen(h);
    while (end > h && end[-1] == '/')
        end--;
    const char *colon;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb)
            return -SFU_EINVAL;
        if ((size_t)(rb - h - 1) >= hn)
            return -SFU_EINVAL;
        g_strlcpy(host, h + 1, (size_t)(rb - h));
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        size_t l = (size_t)((colon ? colon : end) - h);
        if (l == 0 || l >= hn)
            return -SFU_EINVAL;
        g_strlcpy(host, h, l + 1);
    }
    if (colon) {
        size_t l = (size_t)(end - colon - 1);
        if (l == 0 || l >= pn)
            return -SFU_EINVAL;
        g_strlcpy(port, colon + 1, l + 1);
    } else {
        g_strlcpy(port, "80", pn);
    }
    return 0;
}

static int wait_fd(int fd, short events, gint64 deadline)
{
    for (;;) {
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0)
            return -1;
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static int connect_to(const char *host, const char *port, gint64 deadline, char *why, size_t n)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
        snprintf(why, n, "cannot resolve the other node's host");
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            close(fd), fd = -1;
            continue;
        }
        int err = 0;
        socklen_t el = sizeof err;
        if (wait_fd(fd, POLLOUT, deadline) != 0 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
            close(fd), fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(why, n, "cannot connect to the other node");
    return fd;
}

static int send_all(int fd, const char *p, size_t len, gint64 deadline)
{
    while (len > 0) {
        ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
        if (k > 0) {
            p += k, len -= (size_t)k;
            continue;
        }
        if (k < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (wait_fd(fd, POLLOUT, deadline) != 0)
            return -1;
    }
    return 0;
}

int sig_relay_http_post(const char *base_url, const char *path, const char *content_type,
                        const char *body, size_t len, unsigned timeout_ms, unsigned *status,
                        char **resp, size_t *resp_len, char *why, size_t n)
{
    char host[256], port[8];
    int rc = split_url(base_url, host, sizeof host, port, sizeof port);
    if (rc != 0) {
        snprintf(why, n, rc == -SFU_EUNSUPPORTED ? "the other node's public_url is not http://"
                                                 : "bad public_url of the other node");
        return rc;
    }
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int fd = connect_to(host, port, deadline, why, n);
    if (fd < 0)
        return -SFU_ENOTFOUND;
    bool v6 = strchr(host, ':') != NULL;
    char *head = g_strdup_printf("POST %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nContent-Type: %s\r\n"
                                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                                 path, v6 ? "[" : "", host, v6 ? "]" : "", port, content_type, len);
    rc = send_all(fd, head, strlen(head), deadline) == 0 && send_all(fd, body, len, deadline) == 0
             ? 0 : -SFU_ESTATE;
    g_free(head);
    if (rc != 0) {
        snprintf(why, n, "cannot send to the other node");
        close(fd);
        return rc;
    }
    char *buf = g_malloc(SIG_RELAY_HTTP_MAX);
    size_t got = 0;
    for (;;) {
        if (got == SIG_RELAY_HTTP_MAX) {
            rc = -SFU_ELIMIT;
            snprintf(why, n, "the other node's answer is too long");
            break;
        }
        ssize_t k = recv(fd, buf + got, SIG_RELAY_HTTP_MAX - got, 0);
        if (k > 0) {
            got += (size_t)k;
            continue;
        }
        if (k == 0)
            break;
        if (errno != EAGAIN && errno != EINTR) {
            rc = -SFU_ESTATE;
            snprintf(why, n, "the other node closed the connection badly");
            break;
        }
        if (wait_fd(fd, POLLIN, deadline) != 0) {
            rc = -SFU_ESTATE;
            snprintf(why, n, "the other node did not answer in %u ms", timeout_ms);
            break;
        }
    }
    close(fd);
    const char *b;
    size_t bl;
    if (rc == 0 && sig_relay_http_parse(buf, got, status, &b, &bl) != 0) {
        rc = -SFU_EMALFORMED;
        snprintf(why, n, "the other node's answer is not HTTP");
    }
    if (rc == 0) {
        *resp = g_strndup(b, bl);
        *resp_len = bl;
    }
    g_free(buf);
    return rc;
}
