/* The bench peer as the answerer: a Janus VideoRoom subscriber is sent an
 * offer and answers it (RFC 8829 5.3). We accept the first Opus and the first
 * VP8 format, recvonly, with the offer's mids, BUNDLE and extension ids, and
 * reject everything else with port 0 (RFC 3264 6). A room member answering
 * our SFU's server offer (o->mirror) mirrors each direction instead: what the
 * server receives we send (with our SSRC), what it sends we receive. */
#include "bench/sdp_offer.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

static const sig_sdp_fmt *pick(const sig_sdp_media *m)
{
    const char *want = m->kind == SIG_SDP_VIDEO ? "VP8" : m->kind == SIG_SDP_AUDIO ? "opus" : NULL;
    if (!want || !m->rtp || (m->port == 0 && !m->bundle_only))
        return NULL;
    for (unsigned i = 0; i < m->nfmts; i++)
        if (g_ascii_strcasecmp(m->fmts[i].name, want) == 0)
            return &m->fmts[i];
    return NULL;
}

static void accepted(GString *s, const bench_offer *o, const sig_sdp_media *m,
                     const sig_sdp_fmt *f)
{
    bool video = m->kind == SIG_SDP_VIDEO;
    g_string_append_printf(s,
        "m=%s 9 UDP/TLS/RTP/SAVPF %u\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\n"
        "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\n"
        /* RFC 8842 5.3: the answerer to actpass picks; active makes us the
         * DTLS client, as towards our own SFU. */
        "a=setup:active\r\n",
        m->media, f->pt, m->mid, o->ufrag, o->pwd, o->fingerprint);
    for (unsigned i = 0; i < m->nexts; i++)
        if (m->exts[i].kind == SIG_EXT_MID || m->exts[i].kind == SIG_EXT_TWCC ||
            (o->audio_level && m->exts[i].kind == SIG_EXT_AUDIO_LEVEL))
            g_string_append_printf(s, "a=extmap:%u %s\r\n", m->exts[i].id, m->exts[i].uri);
    const char *dir = "recvonly";
    uint32_t ssrc = 0;
    if (o->mirror && m->dir == SIG_SDP_INACTIVE)
        dir = "inactive";
    else if (o->mirror && m->dir == SIG_SDP_SENDRECV)
        dir = "sendrecv";
    else if (o->mirror && m->dir == SIG_SDP_RECVONLY)
        dir = "sendonly";
    if (o->mirror && m->dir != SIG_SDP_SENDONLY && m->dir != SIG_SDP_INACTIVE)
        ssrc = video ? o->video_ssrc : o->audio_ssrc;
    g_string_append_printf(s, "a=%s\r\na=rtcp-mux\r\n", dir);
    if (ssrc)
        g_string_append_printf(s, "a=msid:bench %s\r\na=ssrc:%u cname:bench\r\n",
                               video ? "video" : "audio", ssrc);
    if (m->rtcp_rsize)
        g_string_append(s, "a=rtcp-rsize\r\n");
    if (video)
        g_string_append_printf(s, "a=rtpmap:%u VP8/90000\r\n", f->pt);
    else
        g_string_append_printf(s, "a=rtpmap:%u opus/48000/2\r\n"
                               "a=fmtp:%u minptime=10;useinbandfec=1\r\n", f->pt, f->pt);
    static const struct { uint8_t bit; const char *name; } fbs[] = {
        { SIG_FB_TWCC, "transport-cc" }, { SIG_FB_FIR, "ccm fir" }, { SIG_FB_NACK, "nack" },
        { SIG_FB_PLI, "nack pli" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fbs); i++)
        if ((f->fb & fbs[i].bit) && (video || fbs[i].bit == SIG_FB_TWCC))
            g_string_append_printf(s, "a=rtcp-fb:%u %s\r\n", f->pt, fbs[i].name);
    g_string_append_printf(s, "a=%s\r\na=end-of-candidates\r\n", o->candidate);
}

char *bench_answer_write(const bench_offer *o, const char *offer, size_t len, char *err,
                         size_t errlen)
{
    sig_sdp *sdp = NULL;
    if (sig_sdp_parse(offer, len, NULL, &sdp, err, errlen) != 0)
        return NULL;
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                           "a=group:BUNDLE", g_random_int() >> 1);
    for (unsigned i = 0; i < sdp->nmedia; i++)
        if (pick(&sdp->media[i]))
            g_string_append_printf(s, " %s", sdp->media[i].mid);
    g_string_append(s, "\r\na=msid-semantic:WMS *\r\n");
    unsigned n = 0;
    for (unsigned i = 0; i < sdp->nmedia; i++) {
        const sig_sdp_media *m = &sdp->media[i];
        const sig_sdp_fmt *f = pick(m);
        if (f) {
            accepted(s, o, m, f);
            n++;
        } else {
            char fmt[64];
            if (m->rtp && m->nfmts)
                snprintf(fmt, sizeof fmt, "%u", m->fmts[0].pt);
            else
                g_strlcpy(fmt, m->app_fmt[0] ? m->app_fmt : "0", sizeof fmt);
            g_string_append_printf(s, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\n",
                                   m->media, m->proto, fmt, m->mid);
        }
    }
    sig_sdp_free(sdp);
    if (n == 0) {
        snprintf(err, errlen, "the offer has neither Opus nor VP8");
        g_string_free(s, TRUE);
        return NULL;
    }
    return g_string_free(s, FALSE);
}
