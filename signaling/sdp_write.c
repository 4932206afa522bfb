/* Writes a sig_sdp as SDP text with CRLF line ends, in the attribute order
 * browsers write (RFC 8829 5.2.1). Used for answers and for the server's own
 * offers on room renegotiation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp.h"

typedef struct strbuf {
    char *buf;
    size_t len, cap;
    bool oom;
} strbuf;

__attribute__((format(printf, 2, 3))) static void put(strbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->oom = true;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
}

static const char *dir_name(sig_sdp_dir d)
{
    static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
    return names[d & 3];
}

static void put_fingerprint(strbuf *b, const sig_sdp_fingerprint *fp)
{
    if (!fp->len)
        return;
    put(b, "a=fingerprint:%s ", fp->alg);
    for (unsigned i = 0; i < fp->len; i++)
        put(b, "%02X%s", fp->bytes[i], i + 1 < fp->len ? ":" : "\r\n");
}

static void put_transport(strbuf *b, const sig_sdp_ice *ice, const sig_sdp_fingerprint *fp,
                          sig_sdp_setup setup)
{
    static const char *const roles[] = { "", "actpass", "active", "passive", "holdconn" };
    if (ice->ufrag[0])
        put(b, "a=ice-ufrag:%s\r\n", ice->ufrag);
    if (ice->pwd[0])
        put(b, "a=ice-pwd:%s\r\n", ice->pwd);
    if (ice->trickle || ice->ice2)
        put(b, "a=ice-options:%s%s%s\r\n", ice->trickle ? "trickle" : "",
            ice->trickle && ice->ice2 ? " " : "", ice->ice2 ? "ice2" : "");
    put_fingerprint(b, fp);
    if (setup != SIG_SDP_SETUP_NONE && (unsigned)setup < SFU_ARRAY_LEN(roles))
        put(b, "a=setup:%s\r\n", roles[setup]);
}

static void put_fmt(strbuf *b, const sig_sdp_fmt *f)
{
    if (f->has_rtpmap) {
        put(b, "a=rtpmap:%u %s/%u", f->pt, f->name, (unsigned)f->clock_rate);
        if (f->channels)
            put(b, "/%u", f->channels);
        put(b, "\r\n");
    }
    static const struct {
        uint8_t bit;
        const char *text;
    } fbs[] = {
        { SIG_FB_NACK, "nack" },         { SIG_FB_PLI, "nack pli" },
        { SIG_FB_FIR, "ccm fir" },       { SIG_FB_REMB, "goog-remb" },
        { SIG_FB_TWCC, "transport-cc" },
    };
    for (unsigned i = 0; i < SFU_ARRAY_LEN(fbs); i++)
        if (f->fb & fbs[i].bit)
            put(b, "a=rtcp-fb:%u %s\r\n", f->pt, fbs[i].text);
    if (f->fmtp[0])
        put(b, "a=fmtp:%u %s\r\n", f->pt, f->fmtp);
}

static void put_ssrcs(strbuf *b, const sig_sdp_media *m)
{
    for (unsigned i = 0; i < m->nfids; i++)
        put(b, "a=ssrc-group:FID %u %u\r\n", (unsigned)m->fids[i].primary, (unsigned)m->fids[i].rtx);
    for (unsigned i = 0; i < m->nssrcs; i++) {
        const sig_sdp_ssrc *s = &m->ssrcs[i];
        if (s->cname[0])
            put(b, "a=ssrc:%u cname:%s\r\n", (unsigned)s->ssrc, s->cname);
        if (s->msid_stream[0])
            put(b, "a=ssrc:%u msid:%s%s%s\r\n", (unsigned)s->ssrc, s->msid_stream,
                s->msid_track[0] ? " " : "", s->msid_track);
    }
}

static void put_media_line(strbuf *b, const sig_sdp_media *m)
{
    put(b, "m=%s %u %s", m->media, (unsigned)m->port, m->proto);
    if (m->rtp)
        for (unsigned i = 0; i < m->nfmts; i++)
            put(b, " %u", m->fmts[i].pt);
    else
        put(b, " %s", m->app_fmt);
    put(b, "\r\n");
    put(b, "c=IN %s %s\r\n", m->conn_ip6 ? "IP6" : "IP4", m->conn_addr[0] ? m->conn_addr : "0.0.0.0");
}

static void put_media(strbuf *b, const sig_sdp_media *m)
{
    put_media_line(b, m);
    if (m->port == 0 && !m->bundle_only) {  /* rejected (RFC 8829 5.3.1) */
        if (m->mid[0])
            put(b, "a=mid:%s\r\n", m->mid);
        return;
    }
    if (m->bundle_only)
        put(b, "a=bundle-only\r\n");
    if (m->mid[0])
        put(b, "a=mid:%s\r\n", m->mid);
    put_transport(b, &m->ice, &m->fingerprint, m->setup);
    for (unsigned i = 0; i < m->nexts; i++) {
        const sig_sdp_ext *e = &m->exts[i];
        if (e->uri[0])
            put(b, "a=extmap:%u%s%s %s\r\n", (unsigned)e->id, e->has_dir ? "/" : "",
                e->has_dir ? dir_name(e->dir) : "", e->uri);
    }
    if (m->rtp)
        put(b, "a=%s\r\n", dir_name(m->dir));
    if (m->msid_stream[0])
        put(b, "a=msid:%s%s%s\r\n", m->msid_stream, m->msid_track[0] ? " " : "", m->msid_track);
    if (m->rtcp_mux)
        put(b, "a=rtcp-mux\r\n");
    if (m->rtcp_mux_only)
        put(b, "a=rtcp-mux-only\r\n");
    if (m->rtcp_rsize)
        put(b, "a=rtcp-rsize\r\n");
    for (unsigned i = 0; i < m->nfmts && m->rtp; i++)
        put_fmt(b, &m->fmts[i]);
    for (unsigned i = 0; i < m->nrids; i++)
        put(b, "a=rid:%s %s\r\n", m->rids[i].id, m->rids[i].send ? "send" : "recv");
    if (m->simulcast && m->simulcast_value[0])
        put(b, "a=simulcast:%s\r\n", m->simulcast_value);
    put_ssrcs(b, m);
    for (unsigned i = 0; i < m->ncands; i++) {
        char line[512];
        if (sig_sdp_format_candidate(&m->cands[i], line, sizeof line) == 0)
            put(b, "a=%s\r\n", line);
    }
    if (m->end_of_candidates)
        put(b, "a=end-of-candidates\r\n");
}

int sig_sdp_write(const sig_sdp *sdp, char **out, size_t *outlen)
{
    strbuf b = { .cap = 2048 };
    *out = NULL;
    b.buf = malloc(b.cap);
    if (!b.buf)
        return -SFU_ENOMEM;
    b.buf[0] = '\0';
    put(&b, "v=0\r\n");
    put(&b, "o=%s %llu %llu IN IP4 %s\r\n", sdp->origin_user[0] ? sdp->origin_user : "-",
        (unsigned long long)sdp->sess_id, (unsigned long long)sdp->sess_version,
        sdp->origin_addr[0] ? sdp->origin_addr : "0.0.0.0");
    put(&b, "s=-\r\nt=0 0\r\n");
    if (sdp->ice_lite)
        put(&b, "a=ice-lite\r\n");
    if (sdp->has_bundle) {
        put(&b, "a=group:BUNDLE");
        for (unsigned i = 0; i < sdp->nbundle; i++)
            put(&b, " %s", sdp->bundle[i]);
        put(&b, "\r\n");
    }
    if (sdp->extmap_allow_mixed)
        put(&b, "a=extmap-allow-mixed\r\n");
    if (sdp->msid_semantic)
        put(&b, "a=msid-semantic:WMS *\r\n");
    put_transport(&b, &sdp->ice, &sdp->fingerprint, sdp->setup);
    for (unsigned i = 0; i < sdp->nmedia; i++)
        put_media(&b, &sdp->media[i]);
    if (b.oom) {
        free(b.buf);
        return -SFU_ENOMEM;
    }
    *out = b.buf;
    if (outlen)
        *outlen = b.len;
    return 0;
}
