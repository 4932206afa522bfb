/* SDP parser (RFC 8866 5) into the sig_sdp model; see sdp.h. This file
 * splits lines and parses v/o/c/m; a= attributes are parsed in sdp_attr.c,
 * candidates, fingerprints and ICE credentials in sdp_candidate.c. */
#include "signaling/sdp.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp_parse.h"

#define DEFAULT_MAX_BYTES 65536
#define DEFAULT_MAX_LINE 4096
#define DEFAULT_MAX_MEDIA 32

int sig_sdp_fail(sig_sdp_parser *p, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        int n = p->line ? snprintf(p->err, p->errlen, "line %u: ", p->line) : 0;
        if (n < 0)
            n = 0;
        if ((size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -SFU_EMALFORMED;
}

sig_sdp *sig_sdp_new(void)
{
    return calloc(1, sizeof(sig_sdp));
}

void sig_sdp_free(sig_sdp *sdp)
{
    if (!sdp)
        return;
    free(sdp->media);
    free(sdp);
}

sig_sdp_media *sig_sdp_add_media(sig_sdp *sdp)
{
    if (sdp->nmedia >= SIG_SDP_MAX_MEDIA)
        return NULL;
    if (sdp->nmedia == sdp->cap) {
        unsigned cap = sdp->cap ? sdp->cap * 2 : 4;
        if (cap > SIG_SDP_MAX_MEDIA)
            cap = SIG_SDP_MAX_MEDIA;
        sig_sdp_media *media = realloc(sdp->media, cap * sizeof(*media));
        if (!media)
            return NULL;
        sdp->media = media;
        sdp->cap = cap;
    }
    sig_sdp_media *m = &sdp->media[sdp->nmedia++];
    memset(m, 0, sizeof(*m));
    return m;
}

/* "o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>" */
static int parse_origin(sig_sdp_parser *p, char *v)
{
    char *f[6];
    for (int i = 0; i < 6; i++)
        if (!(f[i] = sig_sdp_tok(&v)))
            return sig_sdp_fail(p, "o=: expected 6 fields");
    uint64_t id, ver;
    if (!sig_sdp_u64(f[1], UINT64_MAX, &id) || !sig_sdp_u64(f[2], UINT64_MAX, &ver))
        return sig_sdp_fail(p, "o=: session id and version must be numbers");
    if (strlen(f[0]) >= sizeof p->sdp->origin_user || strlen(f[5]) >= sizeof p->sdp->origin_addr)
        return sig_sdp_fail(p, "o=: field too long");
    strcpy(p->sdp->origin_user, f[0]);
    strcpy(p->sdp->origin_addr, f[5]);
    p->sdp->sess_id = id;
    p->sdp->sess_version = ver;
    p->seen_o = true;
    return 0;
}

/* "c=IN IP4 <address>[/ttl]" (RFC 8866 5.7) */
static int parse_conn(sig_sdp_parser *p, char *v)
{
    char *net = sig_sdp_tok(&v), *type = sig_sdp_tok(&v), *addr = sig_sdp_tok(&v);
    if (!addr || strcmp(net, "IN") != 0)
        return sig_sdp_fail(p, "c=: expected \"IN IP4|IP6 <address>\"");
    bool ip6 = strcmp(type, "IP6") == 0;
    if (!ip6 && strcmp(type, "IP4") != 0)
        return sig_sdp_fail(p, "c=: address type must be IP4 or IP6");
    char *slash = strchr(addr, '/');
    if (slash)
        *slash = '\0';
    if (strlen(addr) >= 64 || !*addr)
        return sig_sdp_fail(p, "c=: bad address");
    if (p->sdp->nmedia) {
        sig_sdp_media *m = &p->sdp->media[p->sdp->nmedia - 1];
        strcpy(m->conn_addr, addr);
        m->conn_ip6 = ip6;
    } else {
        strcpy(p->conn_addr, addr);
        p->conn_ip6 = ip6;
    }
    return 0;
}

static sig_sdp_kind kind_of(const char *media)
{
    if (strcmp(media, "audio") == 0)
        return SIG_SDP_AUDIO;
    if (strcmp(media, "video") == 0)
        return SIG_SDP_VIDEO;
    if (strcmp(media, "application") == 0)
        return SIG_SDP_APPLICATION;
    return SIG_SDP_OTHER;
}

static int parse_fmts(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    char *f;
    while ((f = sig_sdp_tok(&v))) {
        uint64_t pt;
        if (!sig_sdp_u64(f, UINT64_MAX, &pt))
            return sig_sdp_fail(p, "m=: payload type is not a number");
        if (pt > 127)
            return sig_sdp_fail(p, "m=: payload type out of range");
        if (sig_sdp_media_fmt(m, (uint8_t)pt))
            continue;
        if (m->nfmts == SIG_SDP_MAX_FMTS)
            return sig_sdp_fail(p, "m=: more than %d payload types", SIG_SDP_MAX_FMTS);
        sig_sdp_fmt *fmt = &m->fmts[m->nfmts++];
        fmt->pt = (uint8_t)pt;
        fmt->apt = -1;
        fmt->packetization_mode = -1;
    }
    return 0;
}

/* "m=<media> <port>[/<number of ports>] <proto> <fmt> ..." (RFC 8866 5.14) */
static int parse_m(sig_sdp_parser *p, char *v)
{
    if (!p->seen_o)
        return sig_sdp_fail(p, "m=: before the o= line");
    if (p->sdp->nmedia >= p->max_media)
        return sig_sdp_fail(p, "m=: more than %u m-lines", p->max_media);
    char *media = sig_sdp_tok(&v), *port = sig_sdp_tok(&v), *proto = sig_sdp_tok(&v);
    while (v && (*v == ' ' || *v == '\t'))
        v++;
    if (!proto || !v || !*v)
        return sig_sdp_fail(p, "m=: expected \"<media> <port> <proto> <fmt> ...\"");
    char *slash = strchr(port, '/');
    if (slash)
        *slash = '\0';
    uint64_t portn, nports;
    if (!sig_sdp_u64(port, 65535, &portn) || (slash && !sig_sdp_u64(slash + 1, 65535, &nports)))
        return sig_sdp_fail(p, "m=: bad port");
    if (strlen(media) >= 16 || strlen(proto) >= 32)
        return sig_sdp_fail(p, "m=: media or proto too long");
    sig_sdp_media *m = sig_sdp_add_media(p->sdp);
    if (!m)
        return -SFU_ENOMEM;
    m->line = p->line;
    strcpy(m->media, media);
    m->kind = kind_of(media);
    m->port = (uint16_t)portn;
    strcpy(m->proto, proto);
    m->rtp = strstr(proto, "RTP/") != NULL;
    if (p->conn_addr[0]) {
        strcpy(m->conn_addr, p->conn_addr);
        m->conn_ip6 = p->conn_ip6;
    }
    if (m->rtp)
        return parse_fmts(p, m, v);
    if (strlen(v) >= sizeof m->app_fmt)
        return sig_sdp_fail(p, "m=: format list too long");
    strcpy(m->app_fmt, v);
    return 0;
}

/* Copies session-level transport attributes into m-lines without their own
 * (RFC 8866 5: media-level values override session-level ones). */
static void inherit(sig_sdp_parser *p)
{
    sig_sdp *s = p->sdp;
    for (unsigned i = 0; i < s->nmedia; i++) {
        sig_sdp_media *m = &s->media[i];
        if (!m->ice.ufrag[0])
            strcpy(m->ice.ufrag, s->ice.ufrag);
        if (!m->ice.pwd[0])
            strcpy(m->ice.pwd, s->ice.pwd);
        m->ice.trickle |= s->ice.trickle;
        m->ice.ice2 |= s->ice.ice2;
        if (!m->fingerprint.len)
            m->fingerprint = s->fingerprint;
        if (m->setup == SIG_SDP_SETUP_NONE)
            m->setup = s->setup;
        if (!p->dir_set[i])
            m->dir = p->sess_dir;
    }
}

static int check_bundle(sig_sdp_parser *p)
{
    for (unsigned i = 0; i < p->sdp->nbundle; i++) {
        if (!sig_sdp_find_mid(p->sdp, p->sdp->bundle[i])) {
            p->line = p->bundle_line;
            return sig_sdp_fail(p, "a=group:BUNDLE: no m-line has mid \"%s\"", p->sdp->bundle[i]);
        }
    }
    return 0;
}

static int parse_line(sig_sdp_parser *p, char *buf, size_t n)
{
    if (n < 2 || buf[1] != '=' || !islower((unsigned char)buf[0]))
        return sig_sdp_fail(p, "expected <letter>=<value>");
    char *v = buf + 2;
    if (!p->seen_v) {
        if (strcmp(buf, "v=0") != 0)
            return sig_sdp_fail(p, "expected v=0 first");
        p->seen_v = true;
        return 0;
    }
    switch (buf[0]) {
    case 'v': return sig_sdp_fail(p, "v=: repeated");
    case 'o': return parse_origin(p, v);
    case 'c': return parse_conn(p, v);
    case 'm': return parse_m(p, v);
    case 'a': return sig_sdp_parse_attr(p, v);
    default: return 0;  /* s, t, b, i, u, e, p, z, k, r: nothing we use */
    }
}

static int parse_lines(sig_sdp_parser *p, const char *text, size_t len, size_t max_line)
{
    char *buf = malloc(max_line + 1);
    if (!buf)
        return -SFU_ENOMEM;
    int rc = 0;
    size_t pos = 0;
    while (pos < len && rc == 0) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        p->line++;
        if (n && start[n - 1] == '\r')
            n--;
        if (n > max_line) {
            rc = sig_sdp_fail(p, "longer than %zu bytes", max_line);
            break;
        }
        if (memchr(start, '\0', n)) {
            rc = sig_sdp_fail(p, "NUL byte");
            break;
        }
        if (n == 0)
            continue;           /* tolerate blank lines, e.g. a trailing one */
        memcpy(buf, start, n);
        buf[n] = '\0';
        rc = parse_line(p, buf, n);
    }
    free(buf);
    return rc;
}

int sig_sdp_parse(const char *text, size_t len, const sig_sdp_limits *limits, sig_sdp **out,
                  char *err, size_t errlen)
{
    sig_sdp_parser p = { .err = err, .errlen = errlen };
    size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes : DEFAULT_MAX_BYTES;
    size_t max_line = limits && limits->max_line ? limits->max_line : DEFAULT_MAX_LINE;
    p.max_media = limits && limits->max_media ? limits->max_media : DEFAULT_MAX_MEDIA;
    if (p.max_media > SIG_SDP_MAX_MEDIA)
        p.max_media = SIG_SDP_MAX_MEDIA;
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (len > max_bytes)
        return sig_sdp_fail(&p, "SDP of %zu bytes is over the limit of %zu", len, max_bytes);
    p.sdp = sig_sdp_new();
    if (!p.sdp)
        return -SFU_ENOMEM;
    int rc = parse_lines(&p, text, len, max_line);
    if (rc == 0 && !p.seen_v) {
        p.line = 0;
        rc = sig_sdp_fail(&p, "empty SDP");
    }
    if (rc == 0 && !p.seen_o) {
        p.line = 0;
        rc = sig_sdp_fail(&p, "no o= line");
    }
    if (rc == 0)
        rc = check_bundle(&p);
    if (rc != 0) {
        if (rc == -SFU_ENOMEM && err && errlen)
            snprintf(err, errlen, "out of memory");
        sig_sdp_free(p.sdp);
        return rc;
    }
    inherit(&p);
    *out = p.sdp;
    return 0;
}

const sig_sdp_fmt *sig_sdp_media_fmt(const sig_sdp_media *m, uint8_t pt)
{
    for (unsigned i = 0; i < m->nfmts; i++)
        if (m->fmts[i].pt == pt)
            return &m->fmts[i];
    return NULL;
}

const sig_sdp_media *sig_sdp_find_mid(const sig_sdp *sdp, const char *mid)
{
    for (unsigned i = 0; i < sdp->nmedia; i++)
        if (sdp->media[i].mid[0] && strcmp(sdp->media[i].mid, mid) == 0)
            return &sdp->media[i];
    return NULL;
}

bool sig_sdp_in_bundle(const sig_sdp *sdp, const char *mid)
{
    for (unsigned i = 0; i < sdp->nbundle; i++)
        if (strcmp(sdp->bundle[i], mid) == 0)
            return true;
    return false;
}
