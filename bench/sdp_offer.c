#include "bench/sdp_offer.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void media_section(GString *s, const bench_offer *o, bool video)
{
    unsigned pt = video ? BENCH_PT_VP8 : BENCH_PT_OPUS;
    g_string_append_printf(s,
        "m=%s 9 UDP/TLS/RTP/SAVPF %u\r\nc=IN IP4 0.0.0.0\r\na=mid:%d\r\n"
        "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\na=setup:actpass\r\n"
        "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
        video ? "video" : "audio", pt, video ? 1 : 0, o->ufrag, o->pwd, o->fingerprint,
        BENCH_EXT_MID);
    if (!o->no_twcc)
        g_string_append_printf(s, "a=extmap:%d "
            "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n",
            BENCH_EXT_TWCC);
    if (!video && o->audio_level)
        g_string_append_printf(s, "a=extmap:%d urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n",
                               BENCH_EXT_AUDIO_LEVEL);
    g_string_append_printf(s, "a=%s\r\n", o->publisher ? "sendonly" : "recvonly");
    bool sim = video && o->publisher && o->simulcast;
    if (sim)
        g_string_append_printf(s,
            "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
            "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n",
            BENCH_EXT_RID, BENCH_EXT_RRID);
    if (o->publisher)
        g_string_append_printf(s, "a=msid:bench %s\r\n", video ? "video" : "audio");
    g_string_append(s, "a=rtcp-mux\r\na=rtcp-rsize\r\n");
    g_string_append_printf(s, video ? "a=rtpmap:%u VP8/90000\r\n" : "a=rtpmap:%u opus/48000/2\r\n",
                           pt);
    if (!o->no_twcc)
        g_string_append_printf(s, "a=rtcp-fb:%u transport-cc\r\n", pt);
    if (video)
        g_string_append_printf(s, "a=rtcp-fb:%u ccm fir\r\na=rtcp-fb:%u nack\r\n"
                               "a=rtcp-fb:%u nack pli\r\n", pt, pt, pt);
    else
        g_string_append_printf(s, "a=fmtp:%u minptime=10;useinbandfec=1\r\n", pt);
    if (sim)
        g_string_append(s, "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\n"
                           "a=simulcast:send q;h;f\r\n");
    else if (o->publisher)
        g_string_append_printf(s, "a=ssrc:%u cname:bench\r\na=ssrc:%u msid:bench %s\r\n",
                               video ? o->video_ssrc : o->audio_ssrc,
                               video ? o->video_ssrc : o->audio_ssrc, video ? "video" : "audio");
    g_string_append_printf(s, "a=%s\r\na=end-of-candidates\r\n", o->candidate);
}

char *bench_offer_write(const bench_offer *o)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                           "a=group:BUNDLE%s%s\r\na=msid-semantic:WMS *\r\n",
                           g_random_int() >> 1, o->audio ? " 0" : "", o->video ? " 1" : "");
    if (o->audio)
        media_section(s, o, false);
    if (o->video)
        media_section(s, o, true);
    char *out = strdup(s->str);
    g_string_free(s, TRUE);
    return out;
}

static uint8_t ext_id(const sig_sdp_media *m, sig_sdp_ext_kind kind)
{
    for (unsigned i = 0; i < m->nexts; i++)
        if (m->exts[i].kind == kind && m->exts[i].id < 15)
            return (uint8_t)m->exts[i].id;
    return 0;
}

static void read_media(const sig_sdp_media *m, bench_answer *a)
{
    bool video = m->kind == SIG_SDP_VIDEO;
    if (m->port == 0 && !m->bundle_only)
        return;     /* rejected */
    for (unsigned i = 0; i < m->nfmts; i++) {
        const sig_sdp_fmt *f = &m->fmts[i];
        if (video && g_ascii_strcasecmp(f->name, "VP8") == 0 && !a->video) {
            a->video = true;
            a->video_pt = f->pt;
            a->nack = f->fb & SIG_FB_NACK;
            a->pli = f->fb & SIG_FB_PLI;
            a->twcc |= (f->fb & SIG_FB_TWCC) != 0;
        } else if (!video && g_ascii_strcasecmp(f->name, "opus") == 0 && !a->audio) {
            a->audio = true;
            a->audio_pt = f->pt;
            a->twcc |= (f->fb & SIG_FB_TWCC) != 0;
        }
    }
    if (!a->ufrag[0]) {
        g_strlcpy(a->ufrag, m->ice.ufrag, sizeof a->ufrag);
        g_strlcpy(a->pwd, m->ice.pwd, sizeof a->pwd);
        a->fingerprint = m->fingerprint;
        a->setup = m->setup;
        a->ncands = m->ncands;
        memcpy(a->cands, m->cands, m->ncands * sizeof m->cands[0]);
    }
    if (!a->mid_ext)
        a->mid_ext = ext_id(m, SIG_EXT_MID);
    if (!a->twcc_ext)
        a->twcc_ext = ext_id(m, SIG_EXT_TWCC);
    if (!video && !a->level_ext)
        a->level_ext = ext_id(m, SIG_EXT_AUDIO_LEVEL);
    if (video && !a->rid_ext)
        a->rid_ext = ext_id(m, SIG_EXT_RID);
    a->simulcast |= video && m->simulcast;
}

int bench_answer_parse(const char *text, size_t len, bench_answer *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    sig_sdp *sdp = NULL;
    if (sig_sdp_parse(text, len, NULL, &sdp, err, errlen) != 0)
        return -1;
    for (unsigned i = 0; i < sdp->nmedia; i++)
        read_media(&sdp->media[i], a);
    sig_sdp_free(sdp);
    if (!a->audio && !a->video)
        snprintf(err, errlen, "the answer accepts no m-line");
    else if (!a->ufrag[0] || !a->fingerprint.len || a->ncands == 0)
        snprintf(err, errlen, "the answer lacks ICE credentials, candidates or a fingerprint");
    else
        return 0;
    return -1;
}
