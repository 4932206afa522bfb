/* SDP parser and writer: real offers, malformed lines, structural limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp.h"
#include "tests/test.h"

static char *load(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "tests/data/sdp/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 17];
    *len = fread(buf, 1, sizeof buf - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static sig_sdp *parse_file(const char *name)
{
    size_t len;
    char *text = load(name, &len), err[200];
    sig_sdp *sdp = NULL;
    if (!text || sig_sdp_parse(text, len, NULL, &sdp, err, sizeof err) != 0) {
        fprintf(stderr, "  %s: %s\n", name, text ? err : "cannot read");
        return NULL;
    }
    return sdp;
}

static const struct real_offer {
    const char *file;
    unsigned nmedia;
    const char *mid0, *mid1;
    sig_sdp_dir dir;
    const char *ufrag;
    unsigned nfmts1;            /* payload types on the second m-line */
    unsigned ncands0;
    unsigned nssrcs1, nfids1, nrids1;
    bool allow_mixed;
} real_offers[] = {
    { "chromium156-whip-publish-offer.sdp", 2, "0", "1", SIG_SDP_SENDONLY, "MYzy", 23, 4, 2, 1, 0, true },
    { "chromium156-simulcast-publish-offer.sdp", 2, "0", "1", SIG_SDP_SENDONLY, "ZTuR", 23, 8, 0, 0, 3, true },
    { "chromium156-whep-recvonly-offer.sdp", 2, "0", "1", SIG_SDP_RECVONLY, "ku05", 34, 8, 0, 0, 0, true },
    { "aiortc1.4-publish-offer.sdp", 2, "0", "1", SIG_SDP_SENDONLY, "gxjS", 2, 1, 2, 1, 0, false },
    { "gstreamer1.22-webrtcbin-publish-offer.sdp", 2, "video0", "audio1", SIG_SDP_SENDONLY,
      "jI8aHbzw3H2GBPTEHFTSFPhv3qnA+T5R", 1, 1, 1, 0, 0, false },
    { "gstreamer1.22-webrtcbin-recvonly-offer.sdp", 2, "audio0", "video1", SIG_SDP_RECVONLY,
      "32MtNNIGAuAlDEll39bPmxqgkzX104Kq", 2, 1, 0, 0, 0, false },
    { "firefox99-sendrecv-offer.sdp", 2, "0", "1", SIG_SDP_SENDRECV, "6c0579ea", 8, 0, 2, 1, 0, false },
    { "obs-whip-publish-offer.sdp", 2, "0", "1", SIG_SDP_SENDONLY, "v3f/", 1, 3, 1, 0, 0, false },
    { "safari-handwritten-publish-offer.sdp", 2, "0", "1", SIG_SDP_SENDONLY, "Tq3x", 9, 0, 2, 1, 0, false },
};

TEST(real_offers_parse)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(real_offers); i++) {
        const struct real_offer *r = &real_offers[i];
        sig_sdp *s = parse_file(r->file);
        ASSERT(s);
        ASSERT_EQ(s->nmedia, r->nmedia);
        ASSERT_STR_EQ(s->media[0].mid, r->mid0);
        ASSERT_STR_EQ(s->media[1].mid, r->mid1);
        ASSERT_EQ(s->nbundle, 2);
        ASSERT_STR_EQ(s->bundle[0], r->mid0);
        for (unsigned k = 0; k < s->nmedia; k++) {
            const sig_sdp_media *m = &s->media[k];
            ASSERT_EQ(m->dir, r->dir);
            if (k == 0)         /* aiortc: other ufrags on other m-lines */
                ASSERT_STR_EQ(m->ice.ufrag, r->ufrag);
            ASSERT(strlen(m->ice.pwd) >= 22);
            ASSERT_EQ(m->fingerprint.len, 32);
            ASSERT_STR_EQ(m->fingerprint.alg, "sha-256");
            ASSERT_EQ(m->setup, SIG_SDP_SETUP_ACTPASS);
            ASSERT(m->rtcp_mux);
            ASSERT(m->rtp);
        }
        ASSERT_EQ(s->media[1].nfmts, r->nfmts1);
        ASSERT_EQ(s->media[0].ncands, r->ncands0);
        ASSERT_EQ(s->media[1].nssrcs, r->nssrcs1);
        ASSERT_EQ(s->media[1].nfids, r->nfids1);
        ASSERT_EQ(s->media[1].nrids, r->nrids1);
        ASSERT_EQ(s->media[1].simulcast, r->nrids1 > 0);
        ASSERT_EQ(s->extmap_allow_mixed, r->allow_mixed);
        sig_sdp_free(s);
    }
    return 0;
}

TEST(chrome_details)
{
    sig_sdp *s = parse_file("chromium156-whip-publish-offer.sdp");
    ASSERT(s);
    const sig_sdp_media *a = &s->media[0], *v = &s->media[1];
    ASSERT_EQ(s->sess_id, 5046300470928125368ULL);
    ASSERT_EQ(a->kind, SIG_SDP_AUDIO);
    ASSERT_EQ(a->port, 47122);
    ASSERT_STR_EQ(a->conn_addr, "127.0.0.1");
    const sig_sdp_fmt *opus = sig_sdp_media_fmt(a, 111);
    ASSERT(opus && opus->has_rtpmap);
    ASSERT_STR_EQ(opus->name, "opus");
    ASSERT_EQ(opus->clock_rate, 48000);
    ASSERT_EQ(opus->channels, 2);
    ASSERT_EQ(opus->fb, SIG_FB_TWCC);
    ASSERT_STR_EQ(opus->fmtp, "minptime=10;useinbandfec=1");
    ASSERT_EQ(a->exts[3].id, 4);
    ASSERT_EQ(a->exts[3].kind, SIG_EXT_MID);
    ASSERT_EQ(a->exts[0].kind, SIG_EXT_AUDIO_LEVEL);
    ASSERT_EQ(a->exts[2].kind, SIG_EXT_TWCC);
    ASSERT_EQ(a->ssrcs[0].ssrc, 1246469323u);
    ASSERT_STR_EQ(a->ssrcs[0].cname, "BTp91Wwm/ef7v/oJ");
    ASSERT_STR_EQ(a->msid_track, "17e0ccb1-b734-4337-acbb-351ec108eba3");
    ASSERT_EQ(a->cands[2].transport, SIG_ICE_TCP);
    ASSERT_EQ(a->cands[2].tcptype, SIG_ICE_TCP_ACTIVE);
    ASSERT_EQ(a->cands[2].port, 9);
    ASSERT_EQ(a->cands[0].priority, 2122260223u);
    ASSERT(a->rtcp_rsize);
    const sig_sdp_fmt *h264 = sig_sdp_media_fmt(v, 102), *h264pm0 = sig_sdp_media_fmt(v, 104);
    ASSERT(h264 && h264pm0);
    ASSERT_EQ(h264->packetization_mode, 1);
    ASSERT_EQ(h264->profile_level_id, 0x42001f);
    ASSERT_EQ(h264pm0->packetization_mode, 0);
    ASSERT_EQ(h264->fb, SIG_FB_NACK | SIG_FB_PLI | SIG_FB_FIR | SIG_FB_TWCC | SIG_FB_REMB);
    ASSERT_EQ(sig_sdp_media_fmt(v, 103)->apt, 102);
    ASSERT_EQ(sig_sdp_media_fmt(v, 96)->apt, -1);
    ASSERT_EQ(v->fids[0].primary, 1891586647u);
    ASSERT_EQ(v->fids[0].rtx, 1165449660u);
    ASSERT_EQ(v->port, 9);
    ASSERT_STR_EQ(v->conn_addr, "0.0.0.0");
    sig_sdp_free(s);
    return 0;
}

TEST(quirks_of_other_senders)
{
    /* OBS: ICE and DTLS at session level, copied down; a=group:LS ignored. */
    sig_sdp *s = parse_file("obs-whip-publish-offer.sdp");
    ASSERT(s);
    ASSERT_STR_EQ(s->media[1].ice.pwd, "4b+Ogzsq+Xx0AEkYvTvG/n");
    ASSERT(s->media[1].ice.trickle && s->media[1].ice.ice2);
    ASSERT_EQ(s->media[1].fingerprint.bytes[0], 0x82);
    ASSERT_EQ(s->nbundle, 2);
    ASSERT_EQ(sig_sdp_media_fmt(&s->media[1], 96)->profile_level_id, 0x42e01f);
    sig_sdp_free(s);
    /* GStreamer: bundle-only m-line with port 0, candidate with "UDP". */
    s = parse_file("gstreamer1.22-webrtcbin-publish-offer.sdp");
    ASSERT(s);
    ASSERT_EQ(s->media[1].port, 0);
    ASSERT(s->media[1].bundle_only);
    ASSERT(sig_sdp_in_bundle(s, "audio1"));
    ASSERT_EQ(s->media[0].cands[0].transport, SIG_ICE_UDP);
    ASSERT_STR_EQ(sig_sdp_media_fmt(&s->media[1], 111)->name, "OPUS");
    sig_sdp_free(s);
    /* Firefox: LF endings, session fingerprint, extmap with direction. */
    s = parse_file("firefox99-sendrecv-offer.sdp");
    ASSERT(s);
    ASSERT_EQ(s->media[0].exts[1].id, 2);
    ASSERT(s->media[0].exts[1].has_dir);
    ASSERT_EQ(s->media[0].exts[1].dir, SIG_SDP_RECVONLY);
    ASSERT_EQ(s->media[1].fingerprint.len, 32);
    ASSERT_STR_EQ(s->media[0].msid_stream, "-");
    ASSERT_EQ(sig_sdp_media_fmt(&s->media[1], 97)->packetization_mode, -1);
    sig_sdp_free(s);
    /* aiortc: id 2 means different extensions in the two m-lines. */
    s = parse_file("aiortc1.4-publish-offer.sdp");
    ASSERT(s);
    ASSERT_EQ(s->media[0].exts[1].kind, SIG_EXT_AUDIO_LEVEL);
    ASSERT_EQ(s->media[1].exts[1].kind, SIG_EXT_ABS_SEND_TIME);
    ASSERT(s->media[0].end_of_candidates);
    sig_sdp_free(s);
    /* Safari (hand-written): mDNS host and srflx candidates. */
    s = parse_file("safari-handwritten-publish-offer.sdp");
    ASSERT(s);
    ASSERT_EQ(s->media[1].cands[0].type, SIG_ICE_SRFLX);
    ASSERT_STR_EQ(s->media[1].cands[0].raddr, "10.0.0.5");
    ASSERT_EQ(s->media[1].cands[0].rport, 61023);
    ASSERT_STR_EQ(s->media[1].cands[1].address, "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f.local");
    sig_sdp_free(s);
    return 0;
}

/* LF and CRLF give the same result; the writer's output parses back. */
TEST(line_endings_and_round_trip)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(real_offers); i++) {
        size_t len;
        char *text = load(real_offers[i].file, &len), err[200];
        ASSERT(text);
        char *lf = malloc(len + 1);
        size_t n = 0;
        for (size_t k = 0; k < len; k++)
            if (text[k] != '\r')
                lf[n++] = text[k];
        sig_sdp *a = NULL, *b = NULL, *c = NULL;
        ASSERT_EQ(sig_sdp_parse(text, len, NULL, &a, err, sizeof err), 0);
        ASSERT_EQ(sig_sdp_parse(lf, n, NULL, &b, err, sizeof err), 0);
        free(lf);
        char *out;
        size_t outlen;
        ASSERT_EQ(sig_sdp_write(a, &out, &outlen), 0);
        ASSERT_EQ(strlen(out), outlen);
        ASSERT_EQ(sig_sdp_parse(out, outlen, NULL, &c, err, sizeof err), 0);
        free(out);
        ASSERT_EQ(a->nmedia, b->nmedia);
        ASSERT_EQ(a->nmedia, c->nmedia);
        for (unsigned k = 0; k < a->nmedia; k++) {
            const sig_sdp_media *x = &a->media[k], *y = &b->media[k], *z = &c->media[k];
            ASSERT_MEM_EQ(x, y, sizeof(*x));
            ASSERT_STR_EQ(z->mid, x->mid);
            ASSERT_EQ(z->nfmts, x->nfmts);
            ASSERT_EQ(z->nexts, x->nexts);
            ASSERT_EQ(z->ncands, x->ncands);
            ASSERT_EQ(z->nssrcs, x->nssrcs);
            ASSERT_EQ(z->dir, x->dir);
            ASSERT_EQ(z->port, x->port);
            ASSERT_MEM_EQ(&z->fingerprint, &x->fingerprint, sizeof x->fingerprint);
            for (unsigned f = 0; f < x->nfmts; f++) {
                ASSERT_EQ(z->fmts[f].pt, x->fmts[f].pt);
                ASSERT_EQ(z->fmts[f].fb, x->fmts[f].fb);
                ASSERT_EQ(z->fmts[f].apt, x->fmts[f].apt);
                ASSERT_STR_EQ(z->fmts[f].fmtp, x->fmts[f].fmtp);
            }
            for (unsigned e = 0; e < x->nexts; e++)
                ASSERT_EQ(z->exts[e].id, x->exts[e].id);
        }
        sig_sdp_free(a);
        sig_sdp_free(b);
        sig_sdp_free(c);
    }
    return 0;
}

/* A minimal valid offer; malformed cases replace or insert one line. */
static const char *const base[] = {
    "v=0",
    "o=- 1 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "c=IN IP4 0.0.0.0",
    "a=mid:0",
    "a=ice-ufrag:abcd",
    "a=ice-pwd:abcdefghijklmnopqrstuv",
    "a=fingerprint:sha-256 7F:C0:A7:8D:C3:44:C2:68:17:EA:6C:52:4A:78:BF:82:15:0B:3F:51:85:15:E7:96:22:0D:38:93:65:F9:D0:34",
    "a=setup:actpass",
    "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2",
};

/* Builds base with line `at` (1-based) replaced by `text` (or inserted
 * before it when insert is set). */
static size_t build(char *buf, size_t size, unsigned at, const char *text, bool insert)
{
    size_t n = 0;
    for (unsigned i = 0; i < SFU_ARRAY_LEN(base); i++) {
        if (i + 1 == at)
            n += (size_t)snprintf(buf + n, size - n, "%s\r\n", text);
        if (i + 1 != at || insert)
            n += (size_t)snprintf(buf + n, size - n, "%s\r\n", base[i]);
    }
    if (at > SFU_ARRAY_LEN(base))
        n += (size_t)snprintf(buf + n, size - n, "%s\r\n", text);
    return n;
}

TEST(base_is_valid)
{
    char buf[2048], err[200];
    size_t n = build(buf, sizeof buf, 99, "a=rtcp-rsize", false);
    sig_sdp *s;
    ASSERT_EQ(sig_sdp_parse(buf, n, NULL, &s, err, sizeof err), 0);
    ASSERT(s->media[0].rtcp_rsize);
    sig_sdp_free(s);
    return 0;
}

static const struct bad {
    unsigned at;
    bool insert;
    const char *line;
    const char *err;
} bad[] = {
    { 1, false, "v=1", "line 1: expected v=0 first" },
    { 1, true, "x", "line 1: expected <letter>=<value>" },
    { 2, false, "o=- 1 2 IN IP4", "line 2: o=: expected 6 fields" },
    { 2, false, "o=- x 2 IN IP4 1.2.3.4", "line 2: o=: session id and version must be numbers" },
    { 3, true, "v=0", "line 3: v=: repeated" },
    { 6, false, "m=audio 70000 UDP/TLS/RTP/SAVPF 111", "line 6: m=: bad port" },
    { 6, false, "m=audio 9 UDP/TLS/RTP/SAVPF 128", "line 6: m=: payload type out of range" },
    { 6, false, "m=audio 9 UDP/TLS/RTP/SAVPF", "line 6: m=: expected" },
    { 6, false, "m=audio 9 UDP/TLS/RTP/SAVPF x", "line 6: m=: payload type is not a number" },
    { 7, false, "c=IN IP5 1.2.3.4", "line 7: c=: address type must be IP4 or IP6" },
    { 8, false, "a=mid:", "line 8: a=mid: must be 1 to 32 token characters" },
    { 9, false, "a=ice-ufrag:ab", "line 9: a=ice-ufrag: must be 4 to 256 ice-chars" },
    { 10, false, "a=ice-pwd:short", "line 10: a=ice-pwd: must be 22 to 256 ice-chars" },
    { 11, false, "a=fingerprint:sha-256 7F:C0:ZZ", "line 11: a=fingerprint: bad digest for sha-256" },
    { 11, false, "a=fingerprint:sha-256 7F:C0", "line 11: a=fingerprint: bad digest for sha-256" },
    { 12, false, "a=setup:maybe", "line 12: a=setup: must be" },
    { 14, false, "a=rtpmap:200 opus/48000/2", "line 14: a=rtpmap: payload type out of range" },
    { 14, false, "a=rtpmap:111 opus", "line 14: a=rtpmap: bad clock rate" },
    { 14, false, "a=rtpmap:111 opus/48000/0", "line 14: a=rtpmap: bad channel count" },
    { 15, false, "a=fmtp:111 apt=300", "line 15: a=fmtp: apt out of range" },
    { 15, false, "a=fmtp:111 profile-level-id=42e0", "line 15: a=fmtp: bad profile-level-id" },
    { 15, false, "a=rtcp-fb:1111 nack", "line 15: a=rtcp-fb: payload type out of range" },
    { 15, false, "a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid", "line 15: a=extmap: id out of range" },
    { 15, false, "a=extmap:3/sideways urn:x", "line 15: a=extmap: bad direction" },
    { 15, false, "a=ssrc:99999999999 cname:x", "line 15: a=ssrc: bad SSRC" },
    { 15, false, "a=ssrc-group:FID 1", "line 15: a=ssrc-group:FID: needs two SSRCs" },
    { 15, false, "a=candidate:1 1 udp 100 1.2.3.4 5000 type host", "line 15: a=candidate: expected typ" },
    { 15, false, "a=candidate:1 1 udp 100 1.2.3.4 99999 typ host", "line 15: a=candidate: port out of range" },
    { 15, false, "a=candidate:1 0 udp 100 1.2.3.4 5 typ host", "line 15: a=candidate: component out of range" },
    { 15, false, "a=candidate:1 1 udp 100 1.2.3.4 5 typ host raddr", "line 15: a=candidate: extension without a value" },
    { 15, false, "a=candidate:1 1 udp 100 1.2.3.4 5", "line 15: a=candidate: too few fields" },
    { 15, false, "a=rid:h sideways", "line 15: a=rid: direction must be send or recv" },
    { 15, false, "a=msid:0123456789012345678901234567890123456789012345678901234567890123456789",
      "line 15: a=msid: id longer than 64 bytes" },
    { 5, false, "a=group:BUNDLE 0 7", "line 5: a=group:BUNDLE: no m-line has mid \"7\"" },
    { 15, false, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0", "line 16: a=mid: \"0\" used twice" },
    { 2, false, "a=x", "line 6: m=: before the o= line" },
    { 2, true, "m=audio 9 RTP/AVP 0", "line 2: m=: before the o= line" },
};

TEST(malformed_lines_are_named)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(bad); i++) {
        char buf[4096], err[200] = "";
        size_t n = build(buf, sizeof buf, bad[i].at, bad[i].line, bad[i].insert);
        sig_sdp *s = (sig_sdp *)1;
        int rc = sig_sdp_parse(buf, n, NULL, &s, err, sizeof err);
        if (rc != -SFU_EMALFORMED || strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
            fprintf(stderr, "  case %zu (%s): rc %d, \"%s\"\n", i, bad[i].line, rc, err);
        ASSERT_EQ(rc, -SFU_EMALFORMED);
        ASSERT(s == NULL);
        ASSERT_EQ(strncmp(err, bad[i].err, strlen(bad[i].err)), 0);
    }
    return 0;
}

TEST(duplicate_extmap_and_nul)
{
    char buf[4096], err[200];
    size_t n = build(buf, sizeof buf, 99, "a=extmap:3 urn:a\r\na=extmap:3 urn:b", false);
    sig_sdp *s;
    ASSERT_EQ(sig_sdp_parse(buf, n, NULL, &s, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "line 16: a=extmap: id 3 used twice");
    n = build(buf, sizeof buf, 4, "t=0 0", false);
    buf[20] = '\0';             /* inside line 2 */
    ASSERT_EQ(sig_sdp_parse(buf, n, NULL, &s, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "line 2: NUL byte");
    return 0;
}

TEST(structural_limits)
{
    char buf[8192], err[200];
    size_t n = build(buf, sizeof buf, 99, "a=rtcp-rsize", false);
    sig_sdp *s;
    sig_sdp_limits lim = { .max_bytes = n - 1 };
    ASSERT_EQ(sig_sdp_parse(buf, n, &lim, &s, err, sizeof err), -SFU_EMALFORMED);
    ASSERT(strstr(err, "over the limit"));
    lim = (sig_sdp_limits){ .max_line = 40 };
    ASSERT_EQ(sig_sdp_parse(buf, n, &lim, &s, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "line 11: longer than 40 bytes");
    /* three m-lines against a limit of two */
    n = build(buf, sizeof buf, 99, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\nm=video 9 UDP/TLS/RTP/SAVPF 96", false);
    lim = (sig_sdp_limits){ .max_media = 2 };
    ASSERT_EQ(sig_sdp_parse(buf, n, &lim, &s, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "line 17: m=: more than 2 m-lines");
    lim.max_media = 3;
    ASSERT_EQ(sig_sdp_parse(buf, n, &lim, &s, err, sizeof err), 0);
    ASSERT_EQ(s->nmedia, 3);
    sig_sdp_free(s);
    /* 65 payload types on one m-line */
    char m[1024] = "m=video 9 UDP/TLS/RTP/SAVPF";
    for (int pt = 0; pt < 65; pt++)
        snprintf(m + strlen(m), sizeof m - strlen(m), " %d", pt);
    n = build(buf, sizeof buf, 99, m, false);
    ASSERT_EQ(sig_sdp_parse(buf, n, NULL, &s, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "line 15: m=: more than 64 payload types");
    ASSERT_EQ(sig_sdp_parse("", 0, NULL, &s, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "empty SDP");
    ASSERT_EQ(sig_sdp_parse("v=0\ns=-\n", 8, NULL, &s, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "no o= line");
    return 0;
}

/* Seeded garbage and truncations of a real offer never crash. */
TEST(garbage_never_crashes)
{
    uint32_t x = 12345;
    char buf[512], err[64];
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(round % 500);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = round & 1 ? (char)(x >> 16) : "v=0\r\nam:/ 19\n"[(x >> 16) % 13];
        }
        sig_sdp *s = NULL;
        if (sig_sdp_parse(buf, n, NULL, &s, err, sizeof err) == 0)
            sig_sdp_free(s);
    }
    size_t len;
    char *text = load("chromium156-whip-publish-offer.sdp", &len);
    ASSERT(text);
    for (size_t cut = 0; cut < len; cut += 7) {
        sig_sdp *s = NULL;
        if (sig_sdp_parse(text, cut, NULL, &s, err, sizeof err) == 0)
            sig_sdp_free(s);
    }
    return 0;
}

static const struct cand_case {
    const char *in;
    int rc;
    const char *out;            /* as formatted back */
} cand_cases[] = {
    { "1 1 udp 2130706431 127.0.0.1 40000 typ host", 0, "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host" },
    { "candidate:a+/ 2 UDP 1 ::1 9 typ relay raddr 1.2.3.4 rport 5", 0,
      "candidate:a+/ 2 udp 1 ::1 9 typ relay raddr 1.2.3.4 rport 5" },
    { "7 1 TCP 1518280447 10.0.0.1 9 typ host tcptype active generation 0", 0,
      "candidate:7 1 tcp 1518280447 10.0.0.1 9 typ host tcptype active" },
    { "1 1 ssltcp 1 1.2.3.4 443 typ host", -SFU_EUNSUPPORTED, NULL },
    { "1 1 udp 1 1.2.3.4 443 typ bogus", -SFU_EMALFORMED, NULL },
    { "1 1 udp 1 1.2.3.4;rm 443 typ host", -SFU_EMALFORMED, NULL },
    { "1 1 udp 4294967296 1.2.3.4 443 typ host", -SFU_EMALFORMED, NULL },
    { "1 1 tcp 1 1.2.3.4 443 typ host tcptype sideways", -SFU_EMALFORMED, NULL },
};

TEST(candidates)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(cand_cases); i++) {
        sig_ice_candidate c;
        const char *why = NULL;
        ASSERT_EQ(sig_sdp_parse_candidate(cand_cases[i].in, &c, &why), cand_cases[i].rc);
        if (cand_cases[i].rc) {
            ASSERT(why && *why);
            continue;
        }
        char out[256];
        ASSERT_EQ(sig_sdp_format_candidate(&c, out, sizeof out), 0);
        ASSERT_STR_EQ(out, cand_cases[i].out);
        ASSERT_EQ(sig_sdp_format_candidate(&c, out, 10), -SFU_ENOSPC);
    }
    return 0;
}

TEST(writer_builds_from_scratch)
{
    sig_sdp *s = sig_sdp_new();
    ASSERT(s);
    s->sess_id = 7;
    s->has_bundle = true;
    s->nbundle = 1;
    strcpy(s->bundle[0], "a");
    sig_sdp_media *m = sig_sdp_add_media(s);
    ASSERT(m);
    strcpy(m->media, "audio");
    strcpy(m->proto, "UDP/TLS/RTP/SAVPF");
    strcpy(m->mid, "a");
    m->rtp = true;
    m->port = 9;
    m->setup = SIG_SDP_SETUP_ACTPASS;
    m->dir = SIG_SDP_SENDONLY;
    m->nfmts = 1;
    m->fmts[0] = (sig_sdp_fmt){ .pt = 111, .has_rtpmap = true, .name = "opus", .clock_rate = 48000,
                                .channels = 2, .apt = -1, .packetization_mode = -1 };
    char *out;
    size_t len;
    ASSERT_EQ(sig_sdp_write(s, &out, &len), 0);
    ASSERT(strstr(out, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"));
    ASSERT(strstr(out, "a=setup:actpass\r\na=sendonly\r\n"));
    ASSERT(strstr(out, "a=rtpmap:111 opus/48000/2\r\n"));
    free(out);
    sig_sdp_free(s);
    return 0;
}

TEST_LIST(TEST_ENTRY(real_offers_parse), TEST_ENTRY(chrome_details), TEST_ENTRY(quirks_of_other_senders),
          TEST_ENTRY(line_endings_and_round_trip), TEST_ENTRY(base_is_valid),
          TEST_ENTRY(malformed_lines_are_named), TEST_ENTRY(duplicate_extmap_and_nul),
          TEST_ENTRY(structural_limits), TEST_ENTRY(garbage_never_crashes), TEST_ENTRY(candidates),
          TEST_ENTRY(writer_builds_from_scratch))
