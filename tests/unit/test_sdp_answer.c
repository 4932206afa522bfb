/* Negotiation: every real offer is answered, the answer is parsed back and
 * what was negotiated is checked on both the text and the sfu_leg_desc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp_answer.h"
#include "tests/test.h"

#define FP "7F:C0:A7:8D:C3:44:C2:68:17:EA:6C:52:4A:78:BF:82:15:0B:3F:51:85:15:E7:96:22:0D:38:93:65:F9:D0:34"

static uint32_t next_ssrc;
static uint32_t pick(void *ctx)
{
    (void)ctx;
    return next_ssrc++;
}

static const sig_ice_candidate server_cands[] = {
    { .foundation = "1", .component = 1, .transport = SIG_ICE_UDP, .priority = 2130706431,
      .address = "127.0.0.1", .port = 40000, .type = SIG_ICE_HOST },
    { .foundation = "2", .component = 1, .transport = SIG_ICE_TCP, .priority = 1518280447,
      .address = "127.0.0.1", .port = 40001, .type = SIG_ICE_HOST, .tcptype = SIG_ICE_TCP_PASSIVE },
};

static sig_sdp_local local_default(void)
{
    next_ssrc = 5000;
    return (sig_sdp_local){
        .ice_ufrag = "srvU", .ice_pwd = "serverpasswordserverpw", .fingerprint = FP,
        .cands = server_cands, .ncands = 2, .cname = "sfu-cname", .stream_id = "pA",
        .sess_id = 99, .sess_version = 1, .pick_ssrc = pick,
    };
}

static sig_sdp *parse_text(const char *text, size_t len)
{
    char err[200];
    sig_sdp *s = NULL;
    if (sig_sdp_parse(text, len, NULL, &s, err, sizeof err) != 0)
        fprintf(stderr, "  parse: %s\n", err);
    return s;
}

static sig_sdp *parse_file(const char *name)
{
    char path[256];
    static char buf[1 << 17];
    snprintf(path, sizeof path, "tests/data/sdp/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return parse_text(buf, len);
}

/* Answers `file` in `mode`; the parsed answer into *ans. */
static int answer(const char *file, sig_sdp_mode mode, const sig_sdp_local *l, sig_sdp_result *res,
                  sig_sdp **ans, char *err, size_t errlen)
{
    sig_sdp *offer = parse_file(file);
    if (!offer)
        return -1000;
    int rc = sig_sdp_answer(offer, mode, l, res, err, errlen);
    sig_sdp_free(offer);
    if (rc == 0 && ans && !(*ans = parse_text(res->sdp, res->sdp_len)))
        return -1001;
    return rc;
}

static const struct answer_case {
    const char *file;
    sig_sdp_mode mode;
    sfu_codec video;            /* caller's video codec (VIEW: the publisher's) */
    uint32_t plid;
    const char *mids[2];        /* accepted, in order of tracks */
    sfu_codec codec[2];
    uint8_t pt[2], rtx_pt[2];
    uint8_t ext_mid[2], ext_level[2], ext_twcc[2], ext_rid[2];
    uint32_t remote_ssrc[2], remote_rtx[2];
    bool send;                  /* the SFU sends (VIEW) */
    uint8_t red_pt;             /* audio/red answered on the audio track */
} cases[] = {
    { "chromium156-whip-publish-offer.sdp", SIG_SDP_PUBLISH, SFU_CODEC_NONE, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 111, 96 }, { 0, 97 }, { 4, 4 }, { 1, 0 }, { 3, 3 }, { 0, 10 },
      { 1246469323u, 1891586647u }, { 0, 1165449660u }, false, 63 },
    { "chromium156-simulcast-publish-offer.sdp", SIG_SDP_PUBLISH, SFU_CODEC_NONE, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 111, 96 }, { 0, 97 }, { 4, 4 }, { 1, 0 }, { 3, 3 }, { 0, 10 },
      { 2123401527u, 0 }, { 0, 0 }, false, 63 },
    { "aiortc1.4-publish-offer.sdp", SIG_SDP_PUBLISH, SFU_CODEC_NONE, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 96, 97 }, { 0, 98 }, { 1, 1 }, { 2, 0 }, { 0, 0 }, { 0, 0 },
      { 3422230105u, 2871124527u }, { 0, 1992496204u }, false, 0 },
    { "gstreamer1.22-webrtcbin-publish-offer.sdp", SIG_SDP_PUBLISH, SFU_CODEC_NONE, 0, { "video0", "audio1" },
      { SFU_CODEC_VP8, SFU_CODEC_OPUS }, { 96, 111 }, { 97, 0 }, { 0, 0 }, { 0, 0 }, { 0, 0 }, { 0, 0 },
      { 2112339314u, 3612088566u }, { 3318342133u, 0 }, false, 0 },
    { "firefox99-sendrecv-offer.sdp", SIG_SDP_PUBLISH, SFU_CODEC_NONE, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 109, 120 }, { 0, 124 }, { 3, 3 }, { 1, 0 }, { 0, 7 }, { 0, 0 },
      { 3772375965u, 7463831u }, { 0, 2513307155u }, false, 0 },
    /* Firefox 153, captured by tests/e2e/firefox_whip_whep.mjs: one
     * transport per m-line offered (bundle policy balanced) with RTCP
     * candidates; VP8 first of VP8/VP9/AV1, each with RTX, then ULPFEC and
     * RED (with its own RTX): only VP8 and its RTX are answered. */
    { "firefox153-whip-publish-offer.sdp", SIG_SDP_PUBLISH, SFU_CODEC_NONE, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 109, 120 }, { 0, 124 }, { 3, 3 }, { 1, 0 }, { 7, 7 }, { 0, 0 },
      { 4135129469u, 738172424u }, { 0, 3915579773u }, false, 0 },
    /* Firefox joining a room from the call page: max-bundle, sendrecv. */
    { "firefox153-room-join-offer.sdp", SIG_SDP_ROOM, SFU_CODEC_NONE, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 109, 120 }, { 0, 124 }, { 3, 3 }, { 1, 0 }, { 7, 7 }, { 0, 0 },
      { 2568382892u, 1813718690u }, { 0, 2718986081u }, false, 0 },
    { "obs-whip-publish-offer.sdp", SIG_SDP_PUBLISH, SFU_CODEC_NONE, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_H264 }, { 111, 96 }, { 0, 0 }, { 0, 0 }, { 0, 0 }, { 0, 0 }, { 0, 0 },
      { 2168349679u, 2168349680u }, { 0, 0 }, false, 0 },
    { "safari-handwritten-publish-offer.sdp", SIG_SDP_PUBLISH, SFU_CODEC_NONE, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_H264 }, { 111, 96 }, { 0, 97 }, { 4, 4 }, { 1, 0 }, { 3, 3 }, { 0, 5 },
      { 3390641256u, 2216395211u }, { 0, 1497102452u }, false, 0 },
    /* A VP8 preference wins over Safari's H.264-first order. */
    { "safari-handwritten-publish-offer.sdp", SIG_SDP_PUBLISH, SFU_CODEC_VP8, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 111, 100 }, { 0, 101 }, { 4, 4 }, { 1, 0 }, { 3, 3 }, { 0, 5 },
      { 3390641256u, 2216395211u }, { 0, 1497102452u }, false, 0 },
    { "chromium156-whep-recvonly-offer.sdp", SIG_SDP_VIEW, SFU_CODEC_NONE, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 111, 96 }, { 0, 97 }, { 4, 4 }, { 1, 0 }, { 3, 3 }, { 0, 0 },
      { 0, 0 }, { 0, 0 }, true, 63 },
    /* Publisher sends Constrained Baseline: 108 (42e01f) beats 102 (42001f). */
    { "chromium156-whep-recvonly-offer.sdp", SIG_SDP_VIEW, SFU_CODEC_H264, 0x42e01f, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_H264 }, { 111, 108 }, { 0, 109 }, { 4, 4 }, { 1, 0 }, { 3, 3 }, { 0, 0 },
      { 0, 0 }, { 0, 0 }, true, 63 },
    /* Main profile, any level: 116 (4d001f, packetization-mode=1). */
    { "chromium156-whep-recvonly-offer.sdp", SIG_SDP_VIEW, SFU_CODEC_H264, 0x4d0032, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_H264 }, { 111, 116 }, { 0, 117 }, { 4, 4 }, { 1, 0 }, { 3, 3 }, { 0, 0 },
      { 0, 0 }, { 0, 0 }, true, 63 },
    /* Firefox viewers: max-bundle (video m-line port 0 + a=bundle-only) and
     * balanced. Their recvonly m-lines carry the SSRC Firefox sends RTCP
     * from; the SFU receives no media there (feedback is routed by its
     * media SSRC), so no remote SSRC is taken. */
    { "firefox153-whep-max-bundle-recvonly-offer.sdp", SIG_SDP_VIEW, SFU_CODEC_VP8, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 109, 120 }, { 0, 124 }, { 3, 3 }, { 1, 0 }, { 7, 7 }, { 0, 0 },
      { 0, 0 }, { 0, 0 }, true, 0 },
    { "firefox153-whep-balanced-recvonly-offer.sdp", SIG_SDP_VIEW, SFU_CODEC_VP8, 0, { "0", "1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 109, 120 }, { 0, 124 }, { 3, 3 }, { 1, 0 }, { 7, 7 }, { 0, 0 },
      { 0, 0 }, { 0, 0 }, true, 0 },
    { "gstreamer1.22-webrtcbin-recvonly-offer.sdp", SIG_SDP_VIEW, SFU_CODEC_VP8, 0, { "audio0", "video1" },
      { SFU_CODEC_OPUS, SFU_CODEC_VP8 }, { 111, 96 }, { 0, 97 }, { 0, 0 }, { 0, 0 }, { 0, 0 }, { 0, 0 },
      { 0, 0 }, { 0, 0 }, true, 0 },
};

static int check_case(const struct answer_case *c)
{
    sig_sdp_local l = local_default();
    l.video_codec = c->video;
    l.h264_profile_level_id = c->plid;
    sig_sdp_result r;
    sig_sdp *a = NULL;
    char err[256] = "";
    int rc = answer(c->file, c->mode, &l, &r, &a, err, sizeof err);
    if (rc)
        fprintf(stderr, "  %s: %d %s\n", c->file, rc, err);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(r.leg.ntracks, 2);
    ASSERT_EQ(r.role, SIG_DTLS_SERVER);
    ASSERT(a->ice_lite);
    ASSERT_EQ(a->nbundle, 2);
    for (unsigned i = 0; i < 2; i++) {
        const sfu_track_desc *t = &r.leg.tracks[i];
        ASSERT_STR_EQ(t->mid, c->mids[i]);
        ASSERT_STR_EQ(a->bundle[i], c->mids[i]);
        ASSERT_EQ(t->codec, c->codec[i]);
        ASSERT_EQ(t->pt, c->pt[i]);
        ASSERT_EQ(t->rtx_pt, c->rtx_pt[i]);
        ASSERT_EQ(t->ext.mid, c->ext_mid[i]);
        ASSERT_EQ(t->ext.audio_level, c->ext_level[i]);
        ASSERT_EQ(t->ext.twcc, c->ext_twcc[i]);
        ASSERT_EQ(t->ext.rid, c->ext_rid[i]);
        ASSERT_EQ(t->ext.abs_send_time, 0);
        ASSERT_EQ(t->remote_ssrc, c->remote_ssrc[i]);
        ASSERT_EQ(t->remote_rtx_ssrc, c->remote_rtx[i]);
        ASSERT_EQ(t->recv, !c->send);
        ASSERT_EQ(t->send, c->send);
        /* the answer text says the same */
        const sig_sdp_media *m = sig_sdp_find_mid(a, t->mid);
        ASSERT(m);
        ASSERT_EQ(m->port, 40000);
        ASSERT_STR_EQ(m->conn_addr, "127.0.0.1");
        ASSERT_EQ(m->dir, c->send ? SIG_SDP_SENDONLY : SIG_SDP_RECVONLY);
        ASSERT_EQ(m->setup, SIG_SDP_SETUP_PASSIVE);
        ASSERT_STR_EQ(m->ice.ufrag, "srvU");
        ASSERT_EQ(m->fingerprint.len, 32);
        ASSERT_EQ(m->fingerprint.bytes[0], 0x7f);
        ASSERT_EQ(m->ncands, 2);
        ASSERT_EQ(m->cands[1].tcptype, SIG_ICE_TCP_PASSIVE);
        ASSERT(m->end_of_candidates);
        ASSERT(m->rtcp_mux);
        /* RED (when answered) first, then the codec, then its RTX */
        unsigned base = t->red_pt ? 1 : 0;
        ASSERT_EQ(t->red_pt, t->kind == SFU_KIND_AUDIO ? c->red_pt : 0);
        ASSERT_EQ(m->nfmts, base + (t->rtx_pt ? 2 : 1));
        if (base) {
            ASSERT_STR_EQ(m->fmts[0].name, "red");
            ASSERT_EQ(m->fmts[0].clock_rate, 48000);
            char fmtp[16];
            snprintf(fmtp, sizeof fmtp, "%u/%u", t->pt, t->pt);
            ASSERT_STR_EQ(m->fmts[0].fmtp, fmtp);
        }
        ASSERT_EQ(m->fmts[base].pt, t->pt);
        if (t->rtx_pt)
            ASSERT_EQ(m->fmts[base + 1].apt, t->pt);
        ASSERT_EQ(m->nrids, 0);
        ASSERT(!m->simulcast);
        for (unsigned e = 0; e < m->nexts; e++) {
            uint8_t id = (uint8_t)m->exts[e].id;
            ASSERT(id == t->ext.mid || id == t->ext.audio_level || id == t->ext.twcc ||
                   id == t->ext.rid || id == t->ext.repaired_rid || id == t->ext.dd);
        }
        /* the dependency descriptor: on video, only with extmap-allow-mixed */
        if (t->ext.dd)
            ASSERT(t->kind == SFU_KIND_VIDEO && a->extmap_allow_mixed);
        if (strncmp(c->file, "chromium156-simulcast", 21) == 0 && t->kind == SFU_KIND_VIDEO)
            ASSERT(t->ext.dd != 0); /* Chromium offers it, with extmap-allow-mixed */
        if (t->kind == SFU_KIND_VIDEO) {
            ASSERT_EQ(t->fb_nack && t->fb_pli, true);
            ASSERT_EQ(m->fmts[0].fb & (SIG_FB_NACK | SIG_FB_PLI), SIG_FB_NACK | SIG_FB_PLI);
        }
        ASSERT_EQ(t->fb_twcc, (m->fmts[base].fb & SIG_FB_TWCC) != 0);
        /* transport-cc everywhere (viewers' feedback drives the SFU's
         * estimate toward them); REMB only from publishers */
        if (c->ext_twcc[i])
            ASSERT(t->fb_twcc);
        if (c->mode != SIG_SDP_PUBLISH)
            ASSERT(!t->fb_remb);
        if (c->send) {
            ASSERT_NE(t->local_ssrc, 0);
            ASSERT_EQ(m->nssrcs, t->rtx_pt ? 2 : 1);
            ASSERT_EQ(m->ssrcs[0].ssrc, t->local_ssrc);
            ASSERT_STR_EQ(m->ssrcs[0].cname, "sfu-cname");
            ASSERT_STR_EQ(m->msid_stream, "pA");
            ASSERT_STR_EQ(m->ssrcs[0].msid_stream, "pA");
            if (t->rtx_pt) {
                ASSERT_EQ(m->nfids, 1);
                ASSERT_EQ(m->fids[0].primary, t->local_ssrc);
                ASSERT_EQ(m->fids[0].rtx, t->local_rtx_ssrc);
            }
        } else {
            ASSERT_EQ(t->local_ssrc, 0);
            ASSERT_EQ(m->nssrcs, 0);
        }
    }
    ASSERT_STR_EQ(r.leg.cname, "sfu-cname");
    ASSERT_NE(r.leg.rtcp_ssrc, 0);
    ASSERT(r.remote_ice.ufrag[0] && r.remote_ice.pwd[0]);
    ASSERT_EQ(r.remote_fingerprint.len, 32);
    sig_sdp_free(a);
    sig_sdp_result_deinit(&r);
    return 0;
}

TEST(real_offers_round_trip)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        if (check_case(&cases[i]) != 0) {
            fprintf(stderr, "  in case %zu (%s)\n", i, cases[i].file);
            return 1;
        }
    }
    return 0;
}

TEST(answer_text_details)
{
    sig_sdp_local l = local_default();
    sig_sdp_result r;
    char err[256];
    ASSERT_EQ(answer("chromium156-whip-publish-offer.sdp", SIG_SDP_PUBLISH, &l, &r, NULL, err, sizeof err), 0);
    ASSERT(strstr(r.sdp, "a=extmap-allow-mixed\r\n"));
    ASSERT(strstr(r.sdp, "a=msid-semantic:WMS *\r\n"));
    ASSERT(strstr(r.sdp, "a=group:BUNDLE 0 1\r\n"));
    ASSERT(strstr(r.sdp, "a=rtcp-fb:96 transport-cc\r\n"));
    ASSERT(strstr(r.sdp, "a=fmtp:111 minptime=10;useinbandfec=1\r\n"));
    ASSERT(!strstr(r.sdp, "abs-send-time"));
    ASSERT(!strstr(r.sdp, "\n\n"));
    ASSERT(r.leg.rtcp_rsize);
    ASSERT_EQ(r.nremote_cands, 4);
    ASSERT_EQ(r.remote_cands[0].port, 47122);
    sig_sdp_result_deinit(&r);
    /* Safari: no extmap-allow-mixed offered, none answered; H.264 fmtp echoed. */
    ASSERT_EQ(answer("safari-handwritten-publish-offer.sdp", SIG_SDP_PUBLISH, &l, &r, NULL, err, sizeof err), 0);
    ASSERT(!strstr(r.sdp, "extmap-allow-mixed"));
    ASSERT(strstr(r.sdp, "a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f\r\n"));
    ASSERT(!r.leg.rtcp_rsize);  /* audio m-line did not offer it */
    sig_sdp_result_deinit(&r);
    /* OBS: goog-remb but no transport-cc offered; no ccm fir either. */
    ASSERT_EQ(answer("obs-whip-publish-offer.sdp", SIG_SDP_PUBLISH, &l, &r, NULL, err, sizeof err), 0);
    ASSERT(r.leg.tracks[1].fb_remb && !r.leg.tracks[1].fb_twcc && !r.leg.tracks[1].fb_fir);
    ASSERT(strstr(r.sdp, "a=rtcp-fb:96 goog-remb\r\n"));
    sig_sdp_result_deinit(&r);
    return 0;
}

/* Replaces every occurrence of `from` by `to` in a real offer. */
static sig_sdp *edited(const char *file, const char *from, const char *to)
{
    char path[256];
    static char buf[1 << 17], out[1 << 17];
    snprintf(path, sizeof path, "tests/data/sdp/%s", file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t len = fread(buf, 1, sizeof buf - 1, f), n = 0;
    fclose(f);
    buf[len] = '\0';
    for (const char *p = buf; *p;) {
        if (strncmp(p, from, strlen(from)) == 0) {
            n += (size_t)snprintf(out + n, sizeof out - n, "%s", to);
            p += strlen(from);
        } else {
            out[n++] = *p++;
        }
    }
    return parse_text(out, n);
}

static const struct role_case {
    const char *setup;
    sig_dtls_role role;
    sig_sdp_setup answered;
} role_cases[] = {
    { "a=setup:actpass", SIG_DTLS_SERVER, SIG_SDP_SETUP_PASSIVE },
    { "a=setup:active", SIG_DTLS_SERVER, SIG_SDP_SETUP_PASSIVE },
    { "a=setup:passive", SIG_DTLS_CLIENT, SIG_SDP_SETUP_ACTIVE },
    { "a=x-no-setup:actpass", SIG_DTLS_SERVER, SIG_SDP_SETUP_PASSIVE },
};

TEST(dtls_roles)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(role_cases); i++) {
        sig_sdp *o = edited("aiortc1.4-publish-offer.sdp", "a=setup:actpass", role_cases[i].setup);
        ASSERT(o);
        sig_sdp_local l = local_default();
        sig_sdp_result r;
        char err[256];
        ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_PUBLISH, &l, &r, err, sizeof err), 0);
        ASSERT_EQ(r.role, role_cases[i].role);
        sig_sdp *a = parse_text(r.sdp, r.sdp_len);
        ASSERT(a);
        ASSERT_EQ(a->media[0].setup, role_cases[i].answered);
        ASSERT_EQ(a->media[1].setup, role_cases[i].answered);
        sig_sdp_free(a);
        sig_sdp_free(o);
        sig_sdp_result_deinit(&r);
    }
    sig_sdp *o = edited("aiortc1.4-publish-offer.sdp", "a=setup:actpass", "a=setup:holdconn");
    sig_sdp_local l = local_default();
    sig_sdp_result r;
    char err[256];
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_PUBLISH, &l, &r, err, sizeof err), -SFU_EUNSUPPORTED);
    sig_sdp_free(o);
    return 0;
}

static const struct unsupported_case {
    const char *from, *to;
    const char *reason;
} unsupported[] = {
    /* only G722 left for audio, only AV1 for video */
    { "a=rtpmap:96 opus/48000/2", "a=rtpmap:96 G722/8000", "mid 0: no codec in common" },
    { "a=rtpmap:97 VP8/90000", "a=rtpmap:97 AV1/90000", "mid 1: no codec in common" },
};

TEST(unsupported_is_422)
{
    sig_sdp_local l = local_default();
    sig_sdp_result r;
    char err[256];
    /* G722 audio and AV1 video together: nothing accepted */
    sig_sdp *o = edited("aiortc1.4-publish-offer.sdp", unsupported[0].from, unsupported[0].to);
    ASSERT(o);
    sig_sdp_media *v = &o->media[1];
    strcpy(v->fmts[0].name, "AV1");
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_PUBLISH, &l, &r, err, sizeof err), -SFU_EUNSUPPORTED);
    ASSERT(strstr(err, "no m-line accepted"));
    ASSERT(strstr(err, unsupported[0].reason));
    ASSERT(strstr(err, unsupported[1].reason));
    ASSERT(r.sdp == NULL);
    sig_sdp_free(o);
    /* one of them only: the other m-line is rejected with port 0 */
    for (size_t i = 0; i < SFU_ARRAY_LEN(unsupported); i++) {
        o = edited("aiortc1.4-publish-offer.sdp", unsupported[i].from, unsupported[i].to);
        ASSERT(o);
        ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_PUBLISH, &l, &r, err, sizeof err), 0);
        ASSERT_EQ(r.leg.ntracks, 1);
        sig_sdp *a = parse_text(r.sdp, r.sdp_len);
        ASSERT(a);
        ASSERT_EQ(a->media[i].port, 0);
        ASSERT_EQ(a->media[1 - i].port, 40000);
        ASSERT_EQ(a->nbundle, 1);
        ASSERT_STR_EQ(a->bundle[0], i ? "0" : "1");
        sig_sdp_free(a);
        sig_sdp_free(o);
        sig_sdp_result_deinit(&r);
    }
    return 0;
}

/* What Firefox 153 offers and Chromium does not (captured offers). */
TEST(firefox_offers)
{
    sig_sdp_local l = local_default();
    sig_sdp_result r;
    sig_sdp *a = NULL;
    char err[256];
    /* max-bundle: the video m-line is port 0 + a=bundle-only, and only
     * the audio m-line carries candidates. It is accepted on the shared
     * transport: a real port in the answer, no a=bundle-only there. */
    sig_sdp *o = parse_file("firefox153-whep-max-bundle-recvonly-offer.sdp");
    ASSERT(o);
    ASSERT(o->media[1].port == 0 && o->media[1].bundle_only && o->media[1].ncands == 0);
    ASSERT(o->media[0].ncands > 0);
    sig_sdp_free(o);
    for (int mode = 0; mode < 2; mode++) {
        const char *file = mode ? "firefox153-room-join-offer.sdp" : "firefox153-whep-max-bundle-recvonly-offer.sdp";
        l = local_default();
        l.video_codec = SFU_CODEC_VP8;
        ASSERT_EQ(answer(file, mode ? SIG_SDP_ROOM : SIG_SDP_VIEW, &l, &r, &a, err, sizeof err), 0);
        ASSERT_EQ(r.leg.ntracks, 2);
        ASSERT_EQ(a->media[1].port, 40000);
        ASSERT(!a->media[1].bundle_only);
        ASSERT(!strstr(r.sdp, "bundle-only"));
        ASSERT(strstr(r.sdp, "a=group:BUNDLE 0 1\r\n"));
        ASSERT_STR_EQ(r.remote_ice.ufrag, mode ? "32d8c665" : "7d6b76ae");
        sig_sdp_free(a);
        sig_sdp_result_deinit(&r);
    }
    /* balanced: every m-line has its own ports and RTCP-component (2)
     * candidates besides rtcp-mux; VP9, AV1, RED, ULPFEC and the RTX of
     * those are offered. The answer: rtcp-mux, VP8 + its RTX only, the
     * transport of the first m-line (RFC 8843 7.3.1). */
    l = local_default();
    o = parse_file("firefox153-whip-publish-offer.sdp");
    ASSERT(o);
    unsigned rtcp_cands = 0;
    for (unsigned i = 0; i < o->media[1].ncands; i++)
        rtcp_cands += o->media[1].cands[i].component == 2;
    ASSERT(rtcp_cands > 0 && o->media[1].port != 0 && o->media[1].port != o->media[0].port);
    sig_sdp_free(o);
    ASSERT_EQ(answer("firefox153-whip-publish-offer.sdp", SIG_SDP_PUBLISH, &l, &r, &a, err, sizeof err), 0);
    static const char *const absent[] = { "VP9", "AV1", "red/", "ulpfec", "apt=121", "apt=99", "apt=122",
                                          "G722", "PCMU", "telephone-event", "bundle-only", "a=rtcp:" };
    for (size_t i = 0; i < SFU_ARRAY_LEN(absent); i++)
        ASSERT(!strstr(r.sdp, absent[i]));
    ASSERT(strstr(r.sdp, "a=rtpmap:120 VP8/90000\r\n"));
    ASSERT(strstr(r.sdp, "a=fmtp:124 apt=120\r\n"));
    ASSERT(a->media[0].rtcp_mux && a->media[1].rtcp_mux);
    ASSERT_EQ(a->media[0].port, a->media[1].port);
    ASSERT_STR_EQ(r.remote_ice.ufrag, "526143c7");
    sig_sdp_free(a);
    sig_sdp_result_deinit(&r);
    return 0;
}

static const char datachannel_only[] =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
    "a=fingerprint:sha-256 " FP "\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n";

TEST(datachannel)
{
    sig_sdp_local l = local_default();
    sig_sdp_result r;
    char err[256];
    sig_sdp *o = parse_text(datachannel_only, sizeof datachannel_only - 1);
    ASSERT(o);
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_PUBLISH, &l, &r, err, sizeof err), -SFU_EUNSUPPORTED);
    ASSERT_STR_EQ(err, "no m-line accepted: mid 0: application m-lines are not supported");
    sig_sdp_free(o);
    /* next to audio and video: rejected, out of the BUNDLE group */
    o = parse_file("chromium156-whip-publish-offer.sdp");
    ASSERT(o);
    strcpy(o->bundle[o->nbundle++], "2");
    sig_sdp_media *m = sig_sdp_add_media(o);
    strcpy(m->media, "application");
    strcpy(m->proto, "UDP/DTLS/SCTP");
    strcpy(m->app_fmt, "webrtc-datachannel");
    strcpy(m->mid, "2");
    m->kind = SIG_SDP_APPLICATION;
    m->port = 9;
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_PUBLISH, &l, &r, err, sizeof err), 0);
    ASSERT(strstr(r.sdp, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"));
    ASSERT(strstr(r.sdp, "a=group:BUNDLE 0 1\r\n"));
    ASSERT_EQ(r.leg.ntracks, 2);
    sig_sdp_free(o);
    sig_sdp_result_deinit(&r);
    return 0;
}

TEST(wrong_direction_for_mode)
{
    sig_sdp_local l = local_default();
    sig_sdp_result r;
    char err[256];
    ASSERT_EQ(answer("chromium156-whep-recvonly-offer.sdp", SIG_SDP_PUBLISH, &l, &r, NULL, err, sizeof err),
              -SFU_EUNSUPPORTED);
    ASSERT(strstr(err, "must be sendonly or sendrecv"));
    ASSERT_EQ(answer("chromium156-whip-publish-offer.sdp", SIG_SDP_VIEW, &l, &r, NULL, err, sizeof err),
              -SFU_EUNSUPPORTED);
    ASSERT(strstr(err, "must be recvonly or sendrecv"));
    /* VIEW of an H.264 High publisher: Chrome's viewer offer has no High
     * profile with packetization-mode=1, so only audio is accepted. */
    l.video_codec = SFU_CODEC_H264;
    l.h264_profile_level_id = 0x640c1f;
    sig_sdp *a = NULL;
    ASSERT_EQ(answer("chromium156-whep-recvonly-offer.sdp", SIG_SDP_VIEW, &l, &r, &a, err, sizeof err), 0);
    ASSERT_EQ(r.leg.ntracks, 1);
    ASSERT_EQ(a->media[1].port, 0);
    sig_sdp_free(a);
    sig_sdp_result_deinit(&r);
    return 0;
}

TEST(room_mode_directions)
{
    sig_sdp_local l = local_default();
    sig_sdp_result r;
    char err[256];
    sig_sdp *a = NULL;
    /* A participant's sendrecv m-lines carry what it sends: the SFU's media
     * for it comes on m-lines of later server offers. */
    ASSERT_EQ(answer("firefox99-sendrecv-offer.sdp", SIG_SDP_ROOM, &l, &r, &a, err, sizeof err), 0);
    for (unsigned i = 0; i < 2; i++) {
        ASSERT(r.leg.tracks[i].recv && !r.leg.tracks[i].send);
        ASSERT_EQ(a->media[i].dir, SIG_SDP_RECVONLY);
        ASSERT_EQ(r.leg.tracks[i].local_ssrc, 0);
    }
    ASSERT_EQ(r.leg.tracks[0].ext.twcc, 0); /* Firefox 99 offers it on video only */
    ASSERT_EQ(r.leg.tracks[1].ext.twcc, 7);
    ASSERT(r.leg.tracks[1].fb_twcc);
    sig_sdp_free(a);
    sig_sdp_result_deinit(&r);
    /* recvonly in a room: the SFU sends; inactive: kept, inactive */
    sig_sdp *o = edited("firefox99-sendrecv-offer.sdp", "a=sendrecv", "a=recvonly");
    ASSERT(o);
    o->media[1].dir = SIG_SDP_INACTIVE;
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_ROOM, &l, &r, err, sizeof err), 0);
    ASSERT(!r.leg.tracks[0].recv && r.leg.tracks[0].send);
    ASSERT(!r.leg.tracks[1].recv && !r.leg.tracks[1].send);
    a = parse_text(r.sdp, r.sdp_len);
    ASSERT(a);
    ASSERT_EQ(a->media[0].dir, SIG_SDP_SENDONLY);
    ASSERT_EQ(a->media[1].dir, SIG_SDP_INACTIVE);
    ASSERT_EQ(a->media[1].port, 40000);
    sig_sdp_free(a);
    sig_sdp_free(o);
    sig_sdp_result_deinit(&r);
    return 0;
}

TEST(transport_problems)
{
    sig_sdp_local l = local_default();
    sig_sdp_result r;
    char err[256];
    /* no fingerprint anywhere: malformed (400) naming the m-line */
    sig_sdp *o = edited("aiortc1.4-publish-offer.sdp", "a=fingerprint:", "a=x-fingerprint:");
    ASSERT(o);
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_PUBLISH, &l, &r, err, sizeof err), -SFU_EMALFORMED);
    ASSERT_STR_EQ(err, "line 7: m-line without a=ice-ufrag, a=ice-pwd or a=fingerprint");
    sig_sdp_free(o);
    /* no BUNDLE group: one transport, so only the first m-line */
    o = edited("aiortc1.4-publish-offer.sdp", "a=group:BUNDLE 0 1", "a=x");
    ASSERT(o);
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_PUBLISH, &l, &r, err, sizeof err), 0);
    ASSERT_EQ(r.leg.ntracks, 1);
    ASSERT(!strstr(r.sdp, "a=group:BUNDLE"));
    sig_sdp_free(o);
    sig_sdp_result_deinit(&r);
    /* no rtcp-mux */
    o = edited("aiortc1.4-publish-offer.sdp", "a=rtcp-mux", "a=x");
    ASSERT(o);
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_PUBLISH, &l, &r, err, sizeof err), -SFU_EUNSUPPORTED);
    ASSERT(strstr(err, "no a=rtcp-mux"));
    sig_sdp_free(o);
    /* bad local side */
    o = parse_file("aiortc1.4-publish-offer.sdp");
    l.fingerprint = "zz";
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_PUBLISH, &l, &r, err, sizeof err), -SFU_EINVAL);
    sig_sdp_free(o);
    o = parse_file("chromium156-whep-recvonly-offer.sdp");
    l = local_default();
    l.pick_ssrc = NULL;         /* the SFU sends on recvonly m-lines: SSRCs needed */
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_ROOM, &l, &r, err, sizeof err), -SFU_EINVAL);
    ASSERT_STR_EQ(err, "no SSRC picker for a track the SFU sends");
    sig_sdp_free(o);
    return 0;
}

TEST(h264_profiles)
{
    ASSERT_EQ(sig_sdp_h264_profile(0x42e01f), sig_sdp_h264_profile(0x42c033));
    ASSERT_EQ(sig_sdp_h264_profile(0x4d801f), sig_sdp_h264_profile(0x42e01f));
    ASSERT_NE(sig_sdp_h264_profile(0x42001f), sig_sdp_h264_profile(0x42e01f));
    ASSERT_NE(sig_sdp_h264_profile(0x640c1f), sig_sdp_h264_profile(0x64001f));
    ASSERT_NE(sig_sdp_h264_profile(0x4d001f), sig_sdp_h264_profile(0x64001f));
    ASSERT_EQ(sig_sdp_h264_profile(0x4d001f), sig_sdp_h264_profile(0x4d0032));
    return 0;
}

/* RED is answered only around the Opus the SFU picked, and not in rooms. */
static const struct red_case {
    const char *from, *to;      /* edit of the Chromium WHIP offer */
    sig_sdp_mode mode;
    uint8_t red_pt;
} red_cases[] = {
    { "a=fmtp:63 111/111", "a=fmtp:63 111/111", SIG_SDP_PUBLISH, 63 },
    { "a=fmtp:63 111/111", "a=fmtp:63 111/111/111", SIG_SDP_PUBLISH, 63 },
    { "a=fmtp:63 111/111", "a=fmtp:63 111/111", SIG_SDP_ROOM, 0 },
    { "a=fmtp:63 111/111", "a=fmtp:63 111/9", SIG_SDP_PUBLISH, 0 },   /* G.722 inside */
    { "a=fmtp:63 111/111", "a=fmtp:63 111/", SIG_SDP_PUBLISH, 0 },
    { "a=fmtp:63 111/111", "a=fmtp:63 x", SIG_SDP_PUBLISH, 0 },
    { "a=fmtp:63 111/111\r\n", "", SIG_SDP_PUBLISH, 0 },            /* no block list */
    { "a=rtpmap:63 red/48000/2", "a=rtpmap:63 red/8000", SIG_SDP_PUBLISH, 0 },
    { "a=rtpmap:63 red/48000/2\r\n", "", SIG_SDP_PUBLISH, 0 },      /* not offered */
};

TEST(audio_red)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(red_cases); i++) {
        const struct red_case *c = &red_cases[i];
        sig_sdp_local l = local_default();
        sig_sdp_result r;
        char err[256];
        sig_sdp *o = edited("chromium156-whip-publish-offer.sdp", c->from, c->to);
        ASSERT(o);
        int rc = sig_sdp_answer(o, c->mode, &l, &r, err, sizeof err);
        sig_sdp_free(o);
        if (rc != 0 || r.leg.tracks[0].red_pt != c->red_pt)
            fprintf(stderr, "  in case %zu (%s -> %s)\n", i, c->from, c->to);
        ASSERT_EQ(rc, 0);
        ASSERT_EQ(r.leg.tracks[0].kind, SFU_KIND_AUDIO);
        ASSERT_EQ(r.leg.tracks[0].pt, 111);
        ASSERT_EQ(r.leg.tracks[0].red_pt, c->red_pt);
        ASSERT_EQ(r.leg.tracks[1].red_pt, 0);
        bool listed = strstr(r.sdp, "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n") != NULL;
        ASSERT_EQ(listed, c->red_pt != 0);
        /* Chromium sends RED only when it comes before Opus in the answer */
        ASSERT(strstr(r.sdp, c->red_pt ? "m=audio 40000 UDP/TLS/RTP/SAVPF 63 111\r\n"
                                       : "m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n"));
        sig_sdp_result_deinit(&r);
    }
    /* A viewer that offers RED gets it; one that does not, plain Opus. */
    sig_sdp_local l = local_default();
    sig_sdp_result r;
    char err[256];
    ASSERT_EQ(answer("chromium156-whep-recvonly-offer.sdp", SIG_SDP_VIEW, &l, &r, NULL, err, sizeof err), 0);
    ASSERT_EQ(r.leg.tracks[0].red_pt, 63);
    sig_sdp_result_deinit(&r);
    sig_sdp *o = edited("chromium156-whep-recvonly-offer.sdp", "a=rtpmap:63 red/48000/2\r\n", "");
    ASSERT(o);
    ASSERT_EQ(sig_sdp_answer(o, SIG_SDP_VIEW, &l, &r, err, sizeof err), 0);
    sig_sdp_free(o);
    ASSERT_EQ(r.leg.tracks[0].red_pt, 0);
    ASSERT(!strstr(r.sdp, "red/"));
    sig_sdp_result_deinit(&r);
    return 0;
}

TEST_LIST(TEST_ENTRY(real_offers_round_trip), TEST_ENTRY(audio_red), TEST_ENTRY(answer_text_details), TEST_ENTRY(dtls_roles),
          TEST_ENTRY(firefox_offers), TEST_ENTRY(unsupported_is_422), TEST_ENTRY(datachannel),
          TEST_ENTRY(wrong_direction_for_mode), TEST_ENTRY(room_mode_directions), TEST_ENTRY(transport_problems), TEST_ENTRY(h264_profiles))
