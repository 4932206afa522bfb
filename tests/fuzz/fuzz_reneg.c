/* Fuzz target for the room renegotiation state machine: the input is a
 * program of operations (tracks coming and going, polls, offers, simulated
 * client answers and re-offers, mutated ones, and raw bytes as answer or
 * re-offer SDP with arbitrary revisions) run against one session. Checked:
 * no crash or leak, every offer and answer the SFU writes parses back, the
 * SDP never loses m-lines, an offer's track map has no duplicates, an
 * accepted answer leaves nothing outstanding.
 *
 * Input: repeated [op byte][argument bytes...]; raw SDP is [len hi][len lo]
 * followed by up to that many bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/reneg.h"
#include "tests/unit/reneg_client.h"

static const char client_offer[] =
    "v=0\r\n"
    "o=- 5046300470928125368 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS s\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=candidate:1 1 udp 2122260223 127.0.0.1 47122 typ host\r\n"
    "a=ice-ufrag:MYzy\r\n"
    "a=ice-pwd:xqes+uBl7PRm8PHqJoojgapU\r\n"
    "a=fingerprint:sha-256 6D:65:B3:E9:8D:70:AC:E4:01:31:BC:1E:0C:A4:43:13:2F:58:98:DD:09:34:03:84:C5:E9:29:62:99:CF:64:D5\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\n"
    "a=msid:s a\r\n"
    "a=rtcp-mux\r\na=rtcp-rsize\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=ssrc:1246469323 cname:c\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:MYzy\r\n"
    "a=ice-pwd:xqes+uBl7PRm8PHqJoojgapU\r\n"
    "a=fingerprint:sha-256 6D:65:B3:E9:8D:70:AC:E4:01:31:BC:1E:0C:A4:43:13:2F:58:98:DD:09:34:03:84:C5:E9:29:62:99:CF:64:D5\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\n"
    "a=msid:s v\r\n"
    "a=rtcp-mux\r\na=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\n"
    "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
    "a=ssrc-group:FID 1891586647 1165449660\r\n"
    "a=ssrc:1891586647 cname:c\r\na=ssrc:1165449660 cname:c\r\n";

static uint32_t next_ssrc;
static uint32_t pick(void *ctx)
{
    (void)ctx;
    return ++next_ssrc;
}

static const sig_ice_candidate cand = { .foundation = "1", .component = 1, .priority = 1,
                                        .address = "127.0.0.1", .port = 40000 };

typedef struct run {
    sig_reneg *r;
    rc_client client;
    char *last;                 /* the server's latest SDP */
    size_t last_len;
    unsigned mlines;            /* m-lines the SDP has had */
    sfu_time now;
    const uint8_t *p, *end;
} run;

static unsigned byte(run *u)
{
    return u->p < u->end ? *u->p++ : 0;
}

static void set_last(run *u, const char *sdp, size_t len)
{
    free(u->last);
    u->last = malloc(len + 1);
    if (!u->last)
        abort();
    memcpy(u->last, sdp, len + 1);
    u->last_len = len;
}

/* What the SFU wrote must parse, keep its m-lines and say each once. */
static void check_sdp(run *u, const char *sdp, size_t len)
{
    sig_sdp *s = rc_parse(sdp, len);
    if (!s || s->nmedia < u->mlines)
        abort();
    u->mlines = s->nmedia;
    for (unsigned i = 0; i < s->nmedia; i++)
        for (unsigned k = 0; k < i; k++)
            if (strcmp(s->media[i].mid, s->media[k].mid) == 0)
                abort();
    sig_sdp_free(s);
    set_last(u, sdp, len);
}

static void check_offer(run *u, const sig_reneg_offer *o)
{
    check_sdp(u, o->sdp, o->sdp_len);
    for (unsigned i = 0; i < o->ntracks; i++)
        for (unsigned k = 0; k < i; k++)
            if (strcmp(o->tracks[i].mid, o->tracks[k].mid) == 0 ||
                (o->tracks[i].participant == o->tracks[k].participant && o->tracks[i].kind == o->tracks[k].kind))
                abort();
}

static void handled(run *u, int rc, sig_reneg_result *res)
{
    if (rc == 0 && (sig_reneg_outstanding(u->r) || res->leg.ntracks > SFU_MAX_TRACKS))
        abort();
    if (rc == 0 && res->sdp)
        check_sdp(u, res->sdp, res->sdp_len);
    sig_reneg_result_deinit(res);
}

static void e_drop(sig_sdp *s) { if (s->nmedia) s->nmedia--; }
static void e_reject(sig_sdp *s) { if (s->nmedia > 2) s->media[s->nmedia - 1].port = 0; }
static void e_passive(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].setup = SIG_SDP_SETUP_PASSIVE; }
static void e_inactive(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].dir = SIG_SDP_INACTIVE; }
static void e_sendrecv(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].dir = SIG_SDP_SENDRECV; }
static void e_ice(sig_sdp *s)
{
    for (unsigned i = 0; i < s->nmedia; i++) {
        strcpy(s->media[i].ice.ufrag, "rstU");
        strcpy(s->media[i].ice.pwd, "restartpasswordrestart");
    }
}
static void e_nofmt(sig_sdp *s) { if (s->nmedia > 2) s->media[2].nfmts = 0; }
static void e_mid(sig_sdp *s) { if (s->nmedia > 1) strcpy(s->media[s->nmedia - 1].mid, "q"); }
static const rc_edit edits[] = { NULL, e_drop, e_reject, e_passive, e_inactive, e_sendrecv, e_ice, e_nofmt, e_mid };

/* Re-offers also try what a client may not change (JSEP 5.2.2, RFC 8842
 * 5.5): the certificate, the m-line order and kinds, the mids. */
static void e_fp(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].fingerprint.bytes[0] ^= 1; }
static void e_holdconn(sig_sdp *s) { if (s->nmedia) s->media[0].setup = SIG_SDP_SETUP_HOLDCONN; }
static void e_active(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].setup = SIG_SDP_SETUP_ACTIVE; }
static void e_kind(sig_sdp *s) { if (s->nmedia) strcpy(s->media[0].media, strcmp(s->media[0].media, "audio") ? "audio" : "video"); }
static void e_mid0(sig_sdp *s) { if (s->nmedia) strcpy(s->media[0].mid, "z"); }
static void e_dupmid(sig_sdp *s) { if (s->nmedia > 2) strcpy(s->media[s->nmedia - 1].mid, s->media[0].mid); }
static void e_first_fmt(sig_sdp *s)
{
    for (unsigned i = 0; i < s->nmedia; i++)
        if (s->media[i].nfmts > 1) {
            memmove(s->media[i].fmts, s->media[i].fmts + 1, (s->media[i].nfmts - 1) * sizeof s->media[i].fmts[0]);
            s->media[i].nfmts--;
        }
}
static void e_only_first_fmt(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) if (s->media[i].nfmts) s->media[i].nfmts = 1; }
/* The first nine are `edits`, so older corpus units keep their meaning
 * where (b >> 1) % 18 < 9; the last one restarts ICE without new
 * credentials for the server. */
static const rc_edit reoffer_edits[] = { NULL, e_drop, e_reject, e_passive, e_inactive, e_sendrecv, e_ice, e_nofmt, e_mid,
                                         e_fp, e_holdconn, e_active, e_kind, e_mid0, e_dupmid, e_first_fmt,
                                         e_only_first_fmt, e_ice };

/* sig_reneg_is_ice_restart must agree with what handling the offer found,
 * where every m-line carries the same credentials (rc_reoffer's). */
static int is_restart(run *u, const char *sdp, size_t len)
{
    int rc = sig_reneg_is_ice_restart(u->r, sdp, len);
    if (rc != 0 && rc != 1 && rc >= 0)
        abort();
    return rc;
}

static void check_restart(int was, int rc, const sig_reneg_result *res)
{
    if (rc == 0 && was >= 0 && (was == 1) != res->ice_restart)
        abort();
}

static void op_answer(run *u, bool edit)
{
    const sig_reneg_offer *o = sig_reneg_outstanding(u->r);
    unsigned b = byte(u);
    uint32_t rev = o ? o->revision + (b % 3) - 1 : b;
    size_t len = 0;
    char *a = o ? rc_answer(&u->client, o->sdp, o->sdp_len, edit ? edits[byte(u) % SFU_ARRAY_LEN(edits)] : NULL, &len)
                : NULL;
    sig_reneg_result res;
    char err[128];
    int rc = sig_reneg_handle_answer(u->r, rev, a ? a : "", a ? len : 0, &res, err, sizeof err);
    if (o && !edit && b % 3 == 1 && rc != 0)
        abort();                /* a browser-like answer to the right revision */
    handled(u, rc, &res);
    free(a);
}

static void op_raw(run *u, bool answer)
{
    size_t n = (size_t)byte(u) << 8;
    n |= byte(u);
    uint32_t rev = byte(u);
    if (n > (size_t)(u->end - u->p))
        n = (size_t)(u->end - u->p);
    const char *text = (const char *)u->p;
    u->p += n;
    sig_reneg_result res;
    char err[128];
    const sig_reneg_ice_creds creds = { "newS", "newserverpasswordnewse", NULL, 0 };
    if (!answer)
        (void)is_restart(u, text, n);
    int rc = answer ? sig_reneg_handle_answer(u->r, rev, text, n, &res, err, sizeof err)
                    : sig_reneg_handle_client_offer(u->r, text, n, rev & 1 ? &creds : NULL, &res, err, sizeof err);
    handled(u, rc, &res);
}

static void op_reoffer(run *u)
{
    static sig_sdp_media cam;
    unsigned b = byte(u);
    sig_sdp *co = rc_parse(client_offer, sizeof client_offer - 1);
    if (!co)
        abort();
    cam = co->media[1];
    sig_sdp_free(co);
    snprintf(cam.mid, sizeof cam.mid, "c%u", byte(u));
    size_t len;
    unsigned e = (b >> 1) % SFU_ARRAY_LEN(reoffer_edits);
    char *re = rc_reoffer(&u->client, u->last, u->last_len, b & 1 ? &cam : NULL, reoffer_edits[e], &len);
    if (!re)
        abort();
    const sig_reneg_ice_creds creds = { "newS", "newserverpasswordnewse", NULL, 0 };
    sig_reneg_result res;
    char err[128];
    int was = is_restart(u, re, len);
    bool no_creds = e == SFU_ARRAY_LEN(reoffer_edits) - 1;
    int rc = sig_reneg_handle_client_offer(u->r, re, len, no_creds ? NULL : &creds, &res, err, sizeof err);
    if (no_creds && rc == 0 && res.ice_restart)
        abort();                /* restarted without credentials to restart with */
    check_restart(was, rc, &res);
    if (rc == 0 && res.ice_restart)
        u->client.ice = res.remote_ice;
    handled(u, rc, &res);
    free(re);
}

static void step(run *u, unsigned op)
{
    const sig_reneg_offer *o;
    switch (op % 9) {
    case 0: sig_reneg_add_track(u->r, byte(u) % 8 + 1, (sfu_kind)(byte(u) & 1), u->now); break;
    case 1: sig_reneg_remove_track(u->r, byte(u) % 8 + 1, (sfu_kind)(byte(u) & 1), u->now); break;
    case 2:
        u->now += SFU_MS(60);
        if (sig_reneg_poll_offer(u->r, u->now)) {
            if (sig_reneg_make_offer(u->r, u->now, &o) != 0)
                abort();
            check_offer(u, o);
        }
        break;
    case 3:
        if (sig_reneg_make_offer(u->r, u->now, &o) == 0)
            check_offer(u, o);
        break;
    case 4: op_answer(u, false); break;
    case 5: op_answer(u, true); break;
    case 6: op_raw(u, true); break;
    case 7: op_raw(u, false); break;
    default: op_reoffer(u); break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sig_sdp *offer = rc_parse(client_offer, sizeof client_offer - 1);
    if (!offer)
        abort();
    const sig_sdp_local local = {
        .ice_ufrag = "srvU", .ice_pwd = "serverpasswordserverpw",
        .fingerprint = "7F:C0:A7:8D:C3:44:C2:68:17:EA:6C:52:4A:78:BF:82:15:0B:3F:51:85:15:E7:96:22:0D:38:93:65:F9:D0:34",
        .cands = &cand, .ncands = 1, .cname = "c", .pick_ssrc = pick,
        .simulcast = size && data[0] >= 128,    /* media.simulcast */
    };
    sig_sdp_result first;
    next_ssrc = 0;
    if (sig_sdp_answer(offer, SIG_SDP_ROOM, &local, &first, NULL, 0) != 0)
        abort();
    const sig_reneg_config cfg = { .max_mlines = size ? data[0] % 20 : 0, .max_tracks = 12, .pick_ssrc = pick,
                                   .simulcast = local.simulcast };
    run u = { .p = data + (size ? 1 : 0), .end = data + size };
    u.r = sig_reneg_new(offer, &first, &cfg);
    if (!u.r)
        abort();
    u.client = (rc_client){ .ice = offer->media[0].ice, .fp = offer->media[0].fingerprint,
                            .setup = SIG_SDP_SETUP_ACTIVE, .ssrc_base = 7000 };
    set_last(&u, first.sdp, first.sdp_len);
    for (unsigned n = 0; u.p < u.end && n < 256; n++)
        step(&u, byte(&u));
    sig_reneg_free(u.r);
    sig_sdp_result_deinit(&first);
    sig_sdp_free(offer);
    free(u.last);
    return 0;
}
