/* RFC 8840 sdpfrag parsing and the RFC 9725 4.3.2 ICE-restart answer. */
#include "signaling/sdpfrag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp_parse.h"

#define FRAG_MAX_LINE 1024

static int set_cred(sig_sdp_parser *p, char *dst, const char *v, bool ok, const char *attr)
{
    if (!ok)
        return sig_sdp_fail(p, "a=%s: bad value", attr);
    if (dst[0] && strcmp(dst, v) != 0)
        return sig_sdp_fail(p, "a=%s: differs from an earlier one", attr);
    strcpy(dst, v);
    return 0;
}

/* "m=<media> <port> <proto> <fmt>": kept to echo in the answer. */
static int frag_mline(sig_sdp_parser *p, sig_sdpfrag *f, char *v)
{
    char *media = sig_sdp_tok(&v), *port = sig_sdp_tok(&v), *proto = sig_sdp_tok(&v);
    char *fmt = sig_sdp_tok(&v);
    if (!fmt || strlen(media) >= sizeof f->media || strlen(proto) >= sizeof f->proto ||
        strlen(fmt) >= sizeof f->fmt || !sig_sdp_token_ok(media, sizeof f->media))
        return sig_sdp_fail(p, "m=: expected \"<media> <port> <proto> <fmt>\"");
    (void)port;
    if (f->has_mline)
        return 0;
    f->has_mline = true;
    strcpy(f->media, media);
    strcpy(f->proto, proto);
    strcpy(f->fmt, fmt);
    return 0;
}

static int frag_attr(sig_sdp_parser *p, sig_sdpfrag *f, char *v)
{
    char *val = strchr(v, ':');
    if (val)
        *val++ = '\0';
    if (strcmp(v, "end-of-candidates") == 0)
        f->end_of_candidates = true;
    if (!val)
        return 0;
    if (strcmp(v, "ice-ufrag") == 0)
        return set_cred(p, f->ice.ufrag, val, sig_sdp_ice_ufrag_ok(val), v);
    if (strcmp(v, "ice-pwd") == 0)
        return set_cred(p, f->ice.pwd, val, sig_sdp_ice_pwd_ok(val), v);
    if (strcmp(v, "ice-options") == 0) {
        sig_sdp_ice_options(&f->ice, val);
    } else if (strcmp(v, "mid") == 0 && !f->mid[0]) {
        if (!sig_sdp_token_ok(val, SIG_SDP_MID_LEN))
            return sig_sdp_fail(p, "a=mid: bad mid");
        strcpy(f->mid, val);
    } else if (strcmp(v, "candidate") == 0) {
        sig_ice_candidate c;
        const char *why = "";
        int rc = sig_sdp_parse_candidate(val, &c, &why);
        if (rc == -SFU_EMALFORMED)
            return sig_sdp_fail(p, "a=candidate: %s", why);
        if (rc == 0 && f->ncands < SIG_SDPFRAG_MAX_CANDS)
            f->cands[f->ncands++] = c;
    }
    return 0;
}

int sig_sdpfrag_parse(const char *text, size_t len, size_t max_bytes, sig_sdpfrag *out,
                      char *err, size_t errlen)
{
    sig_sdp_parser p = { .err = err, .errlen = errlen };
    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = '\0';
    if (!max_bytes)
        max_bytes = 16384;
    if (len > max_bytes)
        return sig_sdp_fail(&p, "sdpfrag of %zu bytes is over the limit of %zu", len, max_bytes);
    char buf[FRAG_MAX_LINE + 1];
    size_t pos = 0;
    int rc = 0;
    while (pos < len && rc == 0) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        p.line++;
        if (n && start[n - 1] == '\r')
            n--;
        if (n > FRAG_MAX_LINE)
            return sig_sdp_fail(&p, "longer than %d bytes", FRAG_MAX_LINE);
        if (memchr(start, '\0', n))
            return sig_sdp_fail(&p, "NUL byte");
        if (n == 0)
            continue;
        memcpy(buf, start, n);
        buf[n] = '\0';
        if (n < 2 || buf[1] != '=')
            return sig_sdp_fail(&p, "expected <letter>=<value>");
        if (buf[0] == 'a')
            rc = frag_attr(&p, out, buf + 2);
        else if (buf[0] == 'm')
            rc = frag_mline(&p, out, buf + 2);
    }
    return rc;
}

int sig_sdpfrag_write_answer(const sig_sdpfrag *req, const char *mid, const char *ufrag,
                             const char *pwd, const sig_ice_candidate *cands, unsigned ncands,
                             char **out, size_t *outlen)
{
    *out = NULL;
    if (!ufrag || !pwd || !sig_sdp_ice_ufrag_ok(ufrag) || !sig_sdp_ice_pwd_ok(pwd) || (ncands && !cands))
        return -SFU_EINVAL;
    if (!mid && req && req->mid[0])
        mid = req->mid;
    size_t cap = 1024 + 2 * (mid ? strlen(mid) : 0) + strlen(ufrag) + strlen(pwd) + (size_t)ncands * 320;
    char *b = malloc(cap);
    if (!b)
        return -SFU_ENOMEM;
    size_t n = 0;
    n += (size_t)snprintf(b + n, cap - n, "a=ice-lite\r\n");
    if (mid) {
        bool m = req && req->has_mline;
        n += (size_t)snprintf(b + n, cap - n, "a=group:BUNDLE %s\r\nm=%s 9 %s %s\r\na=mid:%s\r\n", mid,
                              m ? req->media : "audio", m ? req->proto : "UDP/TLS/RTP/SAVPF",
                              m ? req->fmt : "0", mid);
    }
    n += (size_t)snprintf(b + n, cap - n, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", ufrag, pwd);
    for (unsigned i = 0; i < ncands && n < cap; i++) {
        char line[320];
        if (sig_sdp_format_candidate(&cands[i], line, sizeof line) == 0)
            n += (size_t)snprintf(b + n, cap - n, "a=%s\r\n", line);
    }
    if (n < cap)
        n += (size_t)snprintf(b + n, cap - n, "a=end-of-candidates\r\n");
    if (n >= cap) {
        free(b);
        return -SFU_ENOSPC;
    }
    *out = b;
    if (outlen)
        *outlen = n;
    return 0;
}
