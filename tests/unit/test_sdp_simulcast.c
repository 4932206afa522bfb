/* Simulcast in SDP: the a=simulcast parser (RFC 8853 5.1) on good and bad
 * values, and the answers to real simulcast offers (Chromium, Firefox, OBS)
 * and to edited ones, with the switch (sig_sdp_local.simulcast) on and off. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp_answer.h"
#include "signaling/sdp_simulcast.h"
#include "tests/test.h"

#define FP "7F:C0:A7:8D:C3:44:C2:68:17:EA:6C:52:4A:78:BF:82:15:0B:3F:51:85:15:E7:96:22:0D:38:93:65:F9:D0:34"

/* ---- the parser ---- */

/* A parsed list written back as "a,~b;c" for comparison. */
static void list_text(const sig_sc_list *l, char *out, size_t size)
{
    size_t off = 0;
    out[0] = '\0';
    for (unsigned s = 0; s < l->nstreams; s++)
        for (unsigned a = 0; a < l->streams[s].nalts; a++)
            off += (size_t)snprintf(out + off, size - off, "%s%s%s", a ? "," : s ? ";" : "",
                                    l->streams[s].alts[a].paused ? "~" : "", l->streams[s].alts[a].id);
}

static const struct parse_case {
    const char *value;
    const char *send, *recv;    /* NULL: direction absent */
} good[] = {
    { "send q;h;f", "q;h;f", NULL },                    /* Chromium, Firefox 153 */
    { "send 0;1;2", "0;1;2", NULL },                    /* OBS (libdatachannel) */
    { "send h;m;l", "h;m;l", NULL },
    { "recv 1;2", NULL, "1;2" },
    { "send 1,2;3 recv 4", "1,2;3", "4" },              /* RFC 8853 5.1 example */
    { "recv a send b;~c", "b;~c", "a" },
    { "send ~1,2;3", "~1,2;3", NULL },
    { " send rid=a;b;c", "a;b;c", NULL },               /* pre-RFC drafts, old Firefox */
    { "send A-1_x", "A-1_x", NULL },
    { "send   q;h  ", "q;h", NULL },
};

static const struct bad_case {
    const char *value, *why;
} bad[] = {
    { "", "empty value" },
    { "   ", "empty value" },
    { "send", "expected" },
    { "send ", "empty rid" },
    { "sendrecv q", "expected" },
    { "snd q", "expected" },
    { "send q;;h", "empty rid" },
    { "send q;h;", "empty rid" },
    { "send ;q", "empty rid" },
    { "send q,,h", "empty rid" },
    { "send ~", "empty rid" },
    { "send ~~q", "bad character '~'" },
    { "send q.h", "bad character '.'" },
    { "send q;h send f", "given twice" },
    { "send q;h;q", "listed twice" },
    { "send q recv q", "listed twice" },
    { "send a;b;c;d;e;f;g;h;i", "more than 8 streams" },
    { "send a,b,c,d,e", "more than 4 alternatives" },
    { "send aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "longer than 32" },
    { "send q recv", "expected" },
    { "send q x", "expected" },
};

TEST(parse_good_values)
{
    for (unsigned i = 0; i < SFU_ARRAY_LEN(good); i++) {
        const struct parse_case *c = &good[i];
        sig_sdp_simulcast sc;
        char err[128] = "", text[256];
        int rc = sig_sdp_simulcast_parse(c->value, &sc, err, sizeof err);
        if (rc)
            fprintf(stderr, "  \"%s\": %s\n", c->value, err);
        ASSERT_EQ(rc, 0);
        ASSERT_EQ(sc.send.present, c->send != NULL);
        ASSERT_EQ(sc.recv.present, c->recv != NULL);
        list_text(&sc.send, text, sizeof text);
        ASSERT_STR_EQ(text, c->send ? c->send : "");
        list_text(&sc.recv, text, sizeof text);
        ASSERT_STR_EQ(text, c->recv ? c->recv : "");
    }
    return 0;
}

TEST(parse_bad_values)
{
    for (unsigned i = 0; i < SFU_ARRAY_LEN(bad); i++) {
        const struct bad_case *c = &bad[i];
        sig_sdp_simulcast sc;
        memset(&sc, 0xab, sizeof sc);
        char err[128] = "";
        ASSERT_EQ(sig_sdp_simulcast_parse(c->value, &sc, err, sizeof err), -SFU_EMALFORMED);
        if (!strstr(err, c->why))
            fprintf(stderr, "  \"%s\": got \"%s\", want \"%s\"\n", c->value, err, c->why);
        ASSERT(strstr(err, c->why) != NULL);
        ASSERT(!sc.send.present && !sc.recv.present && sc.send.nstreams == 0);
    }
    /* no error buffer is fine */
    sig_sdp_simulcast sc;
    ASSERT_EQ(sig_sdp_simulcast_parse("send q;;", &sc, NULL, 0), -SFU_EMALFORMED);
    return 0;
}

TEST(format)
{
    sfu_layer_desc l[3] = { { .rid = "q" }, { .rid = "h" }, { .rid = "f" } };
    char buf[32];
    ASSERT_EQ(sig_sdp_simulcast_format(l, 3, buf, sizeof buf), 0);
    ASSERT_STR_EQ(buf, "recv q;h;f");
    ASSERT_EQ(sig_sdp_simulcast_format(l, 1, buf, sizeof buf), 0);
    ASSERT_STR_EQ(buf, "recv q");
    ASSERT_EQ(sig_sdp_simulcast_format(l, 3, buf, 10), -SFU_ENOSPC);
    ASSERT_EQ(sig_sdp_simulcast_format(l, 3, buf, 11), 0);
    return 0;
}

/* ---- answers ---- */

static uint32_t next_ssrc;
static uint32_t pick(void *ctx)
{
    (void)ctx;
    return next_ssrc++;
}

static const sig_ice_candidate server_cands[] = {
    { .foundation = "1", .component = 1, .transport = SIG_ICE_UDP, .priority = 2130706431,
      .address = "127.0.0.1", .port = 40000, .type = SIG_ICE_HOST },
};

static sig_sdp_local local(bool simulcast)
{
    next_ssrc = 5000;
    return (sig_sdp_local){
        .ice_ufrag = "srvU", .ice_pwd = "serverpasswordserverpw", .fingerprint = FP,
        .cands = server_cands, .ncands = 1, .cname = "sfu-cname", .stream_id = "pA",
        .sess_id = 99, .sess_version = 1, .pick_ssrc = pick, .simulcast = simulcast,
    };
}

static char *load(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/data/sdp/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 17);
    if (buf)
        fread(buf, 1, (1 << 17) - 1, f);
    fclose(f);
    return buf;
}

/* `text` with the first `from` replaced by `to` (new string); `from` must be there. */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *q = strstr(text, from);
    if (!q)
        return NULL;
    size_t fl = strlen(from), tl = strlen(to), head = (size_t)(q - text);
    char *out = malloc(strlen(text) - fl + tl + 1);
    if (!out)
        return NULL;
    memcpy(out, text, head);
    memcpy(out + head, to, tl);
    strcpy(out + head + tl, q + fl);
    return out;
}

typedef struct answered {
    int rc;
    char err[256];
    sig_sdp_result res;
    sig_sdp *ans;
} answered;

/* Answers `file` (with up to two edits) in `mode`. */
static void answer_file(answered *a, const char *file, const char *const edits[4], sig_sdp_mode mode,
                        bool simulcast)
{
    memset(a, 0, sizeof *a);
    char *text = load(file);
    for (unsigned i = 0; text && edits && i < 4 && edits[i]; i += 2) {
        char *t = replace(text, edits[i], edits[i + 1]);
        if (!t)
            fprintf(stderr, "  %s: no \"%s\" to edit\n", file, edits[i]);
        free(text);
        text = t;
    }
    sig_sdp *offer = NULL;
    a->rc = -1000;
    if (text && sig_sdp_parse(text, strlen(text), NULL, &offer, a->err, sizeof a->err) == 0) {
        sig_sdp_local l = local(simulcast);
        a->rc = sig_sdp_answer(offer, mode, &l, &a->res, a->err, sizeof a->err);
        if (a->rc == 0 && sig_sdp_parse(a->res.sdp, a->res.sdp_len, NULL, &a->ans, NULL, 0) != 0)
            a->rc = -1001;
    }
    sig_sdp_free(offer);
    free(text);
}

static void answered_free(answered *a)
{
    sig_sdp_result_deinit(&a->res);
    sig_sdp_free(a->ans);
}

static const sfu_track_desc *video_track(const sfu_leg_desc *leg)
{
    for (unsigned i = 0; i < leg->ntracks; i++)
        if (leg->tracks[i].kind == SFU_KIND_VIDEO)
            return &leg->tracks[i];
    return NULL;
}

static const struct answer_case {
    const char *file;
    const char *edits[4];       /* from, to, from, to */
    sig_sdp_mode mode;
    const char *simulcast;      /* the answer's a=simulcast value with the switch on; "" none */
    const char *rids;           /* the track's layer rids with the switch on, "q,h,f" */
    uint32_t ssrcs[3], rtx[3];  /* legacy SIM layers */
    uint8_t ext_rid, ext_rrid;  /* answered ids with the switch on */
    uint32_t off_remote_ssrc;   /* remote_ssrc with the switch off */
} cases[] = {
    /* Captured by tests/e2e/simulcast_offers.mjs: the pages' q/h/f. */
    { "chromium156-simulcast-qhf-publish-offer.sdp", { 0 }, SIG_SDP_PUBLISH, "recv q;h;f", "q,h,f",
      { 0 }, { 0 }, 10, 11, 0 },
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "a=sendonly", "a=sendrecv" }, SIG_SDP_ROOM,
      "recv q;h;f", "q,h,f", { 0 }, { 0 }, 10, 11, 0 },
    /* Firefox 153 lists the rids in sendEncodings order, signals an SSRC +
     * RTX pair per encoding (three FID groups, no SIM), and its rid
     * extmaps say /sendonly. */
    { "firefox153-simulcast-publish-offer.sdp", { 0 }, SIG_SDP_PUBLISH, "recv q;h;f", "q,h,f",
      { 0 }, { 0 }, 9, 10, 1261417251u },
    { "firefox153-simulcast-publish-offer.sdp", { "a=sendonly", "a=sendrecv" }, SIG_SDP_ROOM,
      "recv q;h;f", "q,h,f", { 0 }, { 0 }, 9, 10, 1261417251u },
    { "chromium156-simulcast-publish-offer.sdp", { 0 }, SIG_SDP_PUBLISH, "recv h;m;l", "h,m,l",
      { 0 }, { 0 }, 10, 11, 0 },
    /* OBS: numeric rids, rid extension but no repaired-rid, H.264 only. */
    { "obs-handwritten-simulcast-publish-offer.sdp", { 0 }, SIG_SDP_PUBLISH, "recv 0;1;2", "0,1,2",
      { 0 }, { 0 }, 2, 0, 0 },
    /* A paused stream is dropped; the first usable alternative is taken. */
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "send q;h;f", "send ~q;h;f" }, SIG_SDP_PUBLISH,
      "recv h;f", "h,f", { 0 }, { 0 }, 10, 11, 0 },
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "send q;h;f", "send ~q,h;f" }, SIG_SDP_PUBLISH,
      "recv h;f", "h,f", { 0 }, { 0 }, 10, 11, 0 },
    /* Only the first three streams, in the offer's order of preference. */
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "send q;h;f", "send f;h;q;x", "a=rid:q send",
      "a=rid:q send\r\na=rid:x send" }, SIG_SDP_PUBLISH, "recv f;h;q", "f,h,q", { 0 }, { 0 }, 10, 11, 0 },
    /* A rid not declared by a=rid send is dropped, so is one whose pt=
     * excludes the answered codec (VP8 96); a recv rid is not ours. */
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "send q;h;f", "send q;h;f;z" }, SIG_SDP_PUBLISH,
      "recv q;h;f", "q,h,f", { 0 }, { 0 }, 10, 11, 0 },
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "a=rid:q send", "a=rid:q send pt=102,104" },
      SIG_SDP_PUBLISH, "recv h;f", "h,f", { 0 }, { 0 }, 10, 11, 0 },
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "a=rid:q send", "a=rid:q send pt=102,96;max-width=320" },
      SIG_SDP_PUBLISH, "recv q;h;f", "q,h,f", { 0 }, { 0 }, 10, 11, 0 },
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "a=rid:h send", "a=rid:h recv" }, SIG_SDP_PUBLISH,
      "recv q;f", "q,f", { 0 }, { 0 }, 10, 11, 0 },
    /* One usable stream is no simulcast: answered as a single stream. */
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "send q;h;f", "send q;~h;~f" }, SIG_SDP_PUBLISH,
      "", "", { 0 }, { 0 }, 10, 11, 0 },
    /* Without the rid extension the layers cannot be told apart. */
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n",
      "" }, SIG_SDP_PUBLISH, "", "", { 0 }, { 0 }, 0, 11, 0 },
    /* A client that wants to receive simulcast is not sending it. */
    { "chromium156-simulcast-qhf-publish-offer.sdp", { "a=simulcast:send q;h;f", "a=simulcast:recv q;h;f" },
      SIG_SDP_PUBLISH, "", "", { 0 }, { 0 }, 10, 11, 0 },
    /* Legacy simulcast (Chromium with munged SDP): SIM + FID, no rids. */
    { "chromium156-whip-publish-offer.sdp", { "a=ssrc-group:FID 1891586647 1165449660",
      "a=ssrc-group:SIM 11 22 33\r\na=ssrc-group:FID 11 111\r\na=ssrc-group:FID 22 222\r\n"
      "a=ssrc-group:FID 33 333\r\na=ssrc-group:FID 1891586647 1165449660" }, SIG_SDP_PUBLISH, "", "",
      { 11, 22, 33 }, { 111, 222, 333 }, 10, 11, 11 },
    { "chromium156-whip-publish-offer.sdp", { "a=ssrc-group:FID 1891586647 1165449660",
      "a=ssrc-group:SIM 11 22 33 44\r\na=ssrc-group:FID 1891586647 1165449660" }, SIG_SDP_PUBLISH, "", "",
      { 11, 22, 33 }, { 0 }, 10, 11, 1891586647u },
};

static int check_case(const struct answer_case *c, bool on)
{
    answered a;
    answer_file(&a, c->file, c->edits, c->mode, on);
    if (a.rc)
        fprintf(stderr, "  %s: %s\n", c->file, a.err);
    ASSERT_EQ(a.rc, 0);
    const sfu_track_desc *t = video_track(&a.res.leg);
    ASSERT(t != NULL);
    ASSERT(t->recv);
    const sig_sdp_media *m = sig_sdp_find_mid(a.ans, t->mid);
    ASSERT(m != NULL);
    bool sc = on && c->simulcast[0];
    /* the answer's text */
    ASSERT_EQ(m->simulcast, sc);
    ASSERT_STR_EQ(m->simulcast_value, sc ? c->simulcast : "");
    char rids[64] = "";
    size_t off = 0;
    for (unsigned i = 0; i < m->nrids; i++) {
        ASSERT(!m->rids[i].send);
        off += (size_t)snprintf(rids + off, sizeof rids - off, "%s%s", i ? "," : "", m->rids[i].id);
    }
    ASSERT_STR_EQ(rids, sc ? c->rids : "");
    ASSERT(strstr(a.res.sdp, "a=rid:") == NULL || sc);
    /* the track's layers */
    bool sim = on && c->ssrcs[0];
    ASSERT_EQ(t->nlayers, sc ? m->nrids : sim ? 3 : 0);
    off = 0;
    rids[0] = '\0';
    for (unsigned i = 0; i < t->nlayers; i++) {
        off += (size_t)snprintf(rids + off, sizeof rids - off, "%s%s", i ? "," : "", t->layers[i].rid);
        ASSERT_EQ(t->layers[i].ssrc, sim ? c->ssrcs[i] : 0);
        ASSERT_EQ(t->layers[i].rtx_ssrc, sim ? c->rtx[i] : 0);
    }
    if (!sim)
        ASSERT_STR_EQ(rids, sc ? c->rids : "");
    if (t->nlayers)
        ASSERT_EQ(t->remote_ssrc, 0);
    else
        ASSERT_EQ(t->remote_ssrc, c->off_remote_ssrc);
    /* rid extensions: always in PUBLISH, in ROOM when the offer has a=rid
     * (Chromium needs them later even when simulcast is refused) */
    bool rid_exts = c->mode == SIG_SDP_PUBLISH || strstr(c->file, "simulcast");
    ASSERT_EQ(t->ext.rid, rid_exts ? c->ext_rid : 0);
    ASSERT_EQ(t->ext.repaired_rid, rid_exts ? c->ext_rrid : 0);
    /* transport-cc answered in every mode, the answer's text agreeing */
    uint8_t twcc_id = 0;
    for (unsigned e = 0; e < m->nexts; e++)
        if (m->exts[e].kind == SIG_EXT_TWCC)
            twcc_id = (uint8_t)m->exts[e].id;
    ASSERT_EQ(t->ext.twcc, twcc_id);
    if (!strstr(c->file, "obs"))   /* OBS offers no transport-cc */
        ASSERT_NE(t->ext.twcc, 0);
    for (unsigned e = 0; e < m->nexts; e++)
        if (m->exts[e].kind == SIG_EXT_RID && m->exts[e].has_dir)
            ASSERT_EQ(m->exts[e].dir, SIG_SDP_RECVONLY);
    answered_free(&a);
    return 0;
}

TEST(answers_switch_on_and_off)
{
    for (unsigned i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        for (int on = 0; on < 2; on++) {
            if (check_case(&cases[i], on) != 0) {
                fprintf(stderr, "  case %u (%s %s), switch %s\n", i, cases[i].file,
                        cases[i].edits[1] ? cases[i].edits[1] : "", on ? "on" : "off");
                return 1;
            }
        }
    }
    return 0;
}

/* The answer with the switch off is byte for byte what it was before the
 * switch existed: the same as the answer with the switch on to an offer
 * without simulcast. */
TEST(switch_off_answer_has_no_simulcast_text)
{
    answered off, plain;
    const char *strip[4] = { "a=simulcast:send q;h;f\r\n", "" };
    answer_file(&off, "chromium156-simulcast-qhf-publish-offer.sdp", NULL, SIG_SDP_PUBLISH, false);
    answer_file(&plain, "chromium156-simulcast-qhf-publish-offer.sdp", strip, SIG_SDP_PUBLISH, true);
    ASSERT_EQ(off.rc, 0);
    ASSERT_EQ(plain.rc, 0);
    ASSERT_STR_EQ(off.res.sdp, plain.res.sdp);
    ASSERT(strstr(off.res.sdp, "simulcast") == NULL);
    answered_free(&off);
    answered_free(&plain);
    return 0;
}

TEST(malformed_simulcast)
{
    static const struct {
        const char *to, *why;
    } m[] = {
        { "a=simulcast:send q;;f", "a=simulcast: empty rid" },
        { "a=simulcast:send q;h;q", "a=simulcast: rid \"q\" listed twice" },
        { "a=simulcast:sendonly q", "a=simulcast: expected" },
    };
    for (unsigned i = 0; i < SFU_ARRAY_LEN(m); i++) {
        const char *edit[4] = { "a=simulcast:send q;h;f", m[i].to };
        answered a;
        answer_file(&a, "chromium156-simulcast-qhf-publish-offer.sdp", edit, SIG_SDP_PUBLISH, true);
        ASSERT_EQ(a.rc, -SFU_EMALFORMED);
        ASSERT(strstr(a.err, m[i].why) != NULL);
        ASSERT(strncmp(a.err, "line 1", 6) == 0);     /* "line 1xx: " */
        ASSERT(a.res.sdp == NULL);
        answered_free(&a);
        /* with the switch off the value is not looked at */
        answer_file(&a, "chromium156-simulcast-qhf-publish-offer.sdp", edit, SIG_SDP_PUBLISH, false);
        ASSERT_EQ(a.rc, 0);
        answered_free(&a);
    }
    /* a value too long to keep */
    char longv[400] = "a=simulcast:send q;h;f";
    for (size_t n = strlen(longv); n < sizeof longv - 3; n += 2)
        strcat(longv, ";r");
    const char *edit[4] = { "a=simulcast:send q;h;f", longv };
    answered a;
    answer_file(&a, "chromium156-simulcast-qhf-publish-offer.sdp", edit, SIG_SDP_PUBLISH, true);
    ASSERT_EQ(a.rc, -SFU_EMALFORMED);
    ASSERT(strstr(a.err, "longer than") != NULL);
    answered_free(&a);
    return 0;
}

/* Simulcast is for what the SFU receives: viewers get none. */
TEST(view_ignores_simulcast)
{
    answered a;
    answer_file(&a, "chromium156-whep-recvonly-offer.sdp", NULL, SIG_SDP_VIEW, true);
    ASSERT_EQ(a.rc, 0);
    const sfu_track_desc *t = video_track(&a.res.leg);
    ASSERT(t && t->send && t->nlayers == 0);
    ASSERT(strstr(a.res.sdp, "simulcast") == NULL);
    answered_free(&a);
    return 0;
}

/* Parser: a=rid parameters, duplicate rids, a=ssrc-group:SIM. */
TEST(rid_and_sim_lines)
{
    static const struct {
        const char *from, *to, *why;    /* why NULL: parses */
    } e[] = {
        { "a=rid:q send", "a=rid:q send pt=96,x", "a=rid:q: bad payload type in pt=" },
        { "a=rid:q send", "a=rid:q send pt=128", "bad payload type" },
        { "a=rid:q send", "a=rid:q send pt=", "a=rid:q: empty pt=" },
        { "a=rid:q send", "a=rid:q send pt=1,2,3,4,5,6,7,8,9", "more than 8 payload types" },
        { "a=rid:h send", "a=rid:q send", "a=rid: \"q\" used twice" },
        { "a=rid:q send", "a=rid:q send max-width=320;max-height=180", NULL },
        { "a=simulcast:send q;h;f", "a=ssrc-group:SIM 1 2 x", "a=ssrc-group:SIM: bad SSRC" },
        { "a=simulcast:send q;h;f", "a=ssrc-group:SIM", "a=ssrc-group:SIM: no SSRC" },
        { "a=simulcast:send q;h;f", "a=ssrc-group:SIM 1 2 1", "SSRC 1 twice" },
        { "a=simulcast:send q;h;f", "a=ssrc-group:SIM 1 2\r\na=ssrc-group:SIM 3 4", "more than one" },
        { "a=simulcast:send q;h;f", "a=ssrc-group:SIM 1 2 3 4 5 6 7 8 9", "more than 8 SSRCs" },
        { "a=simulcast:send q;h;f", "a=ssrc-group:SIM 1 2 3", NULL },
    };
    char *raw = load("chromium156-simulcast-qhf-publish-offer.sdp");
    ASSERT(raw != NULL);
    for (unsigned i = 0; i < SFU_ARRAY_LEN(e); i++) {
        char *text = replace(raw, e[i].from, e[i].to);
        ASSERT(text != NULL);
        sig_sdp *s = NULL;
        char err[200] = "";
        int rc = sig_sdp_parse(text, strlen(text), NULL, &s, err, sizeof err);
        if (e[i].why && !strstr(err, e[i].why))
            fprintf(stderr, "  %s: got \"%s\"\n", e[i].to, err);
        ASSERT_EQ(rc, e[i].why ? -SFU_EMALFORMED : 0);
        if (e[i].why)
            ASSERT(strstr(err, e[i].why) != NULL);
        else if (strstr(e[i].to, "SIM"))
            ASSERT(s->media[1].nsims == 3 && s->media[1].sims[2] == 3);
        else
            ASSERT(s->media[1].nrids == 3 && s->media[1].rids[0].npts == 0);
        sig_sdp_free(s);
        free(text);
    }
    free(raw);
    return 0;
}

TEST_LIST(TEST_ENTRY(parse_good_values), TEST_ENTRY(parse_bad_values), TEST_ENTRY(format),
          TEST_ENTRY(answers_switch_on_and_off), TEST_ENTRY(switch_off_answer_has_no_simulcast_text),
          TEST_ENTRY(malformed_simulcast), TEST_ENTRY(view_ignores_simulcast), TEST_ENTRY(rid_and_sim_lines))
