/* Offer/answer negotiation; the rules are in sdp_answer.h. Builds the answer
 * as a sig_sdp model, fills the sfu_leg_desc alongside, then writes it. */
#include "signaling/sdp_answer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signaling/sdp_simulcast.h"

enum { PROF_CB = 1, PROF_BASELINE, PROF_MAIN, PROF_EXTENDED, PROF_HIGH, PROF_CHIGH };

typedef struct nego {
    const sig_sdp *offer;
    sig_sdp_mode mode;
    const sig_sdp_local *local;
    sig_sdp_fingerprint fp;
    sig_sdp *answer;
    sfu_leg_desc *leg;
    unsigned accepted;
    bool ok[SIG_SDP_MAX_MEDIA]; /* per offered m-line: accepted */
    bool have_audio, have_video; /* VIEW: one of each */
    char reasons[256];
    size_t rlen;
    char *err;                  /* for a malformed offer */
    size_t errlen;
} nego;

__attribute__((format(printf, 3, 4))) static bool reject(nego *n, const sig_sdp_media *om,
                                                        const char *fmt, ...)
{
    if (n->rlen + 1 < sizeof n->reasons) {
        int k = snprintf(n->reasons + n->rlen, sizeof n->reasons - n->rlen, "%smid %s: ",
                         n->rlen ? "; " : "", om->mid[0] ? om->mid : "(none)");
        if (k > 0 && n->rlen + (size_t)k < sizeof n->reasons) {
            n->rlen += (size_t)k;
            va_list ap;
            va_start(ap, fmt);
            k = vsnprintf(n->reasons + n->rlen, sizeof n->reasons - n->rlen, fmt, ap);
            va_end(ap);
            n->rlen = k > 0 ? n->rlen + (size_t)k : n->rlen;
            if (n->rlen >= sizeof n->reasons)
                n->rlen = sizeof n->reasons - 1;
        }
    }
    return false;
}

/* RFC 6184 8.1: profile_idc and the constraint_set flags of profile-iop. */
int sig_sdp_h264_profile(uint32_t plid)
{
    unsigned idc = plid >> 16 & 0xff, iop = plid >> 8 & 0xff;
    switch (idc) {
    case 0x42: return iop & 0x40 ? PROF_CB : PROF_BASELINE;
    case 0x4d: return iop & 0x80 ? PROF_CB : PROF_MAIN;
    case 0x58: return (iop & 0xc0) == 0xc0 ? PROF_CB : (iop & 0x80) ? PROF_BASELINE : PROF_EXTENDED;
    case 0x64: return (iop & 0x0c) == 0x0c ? PROF_CHIGH : PROF_HIGH;
    default: return 0x100 | (int)idc;
    }
}

static sfu_codec codec_of(const sig_sdp_fmt *f, sig_sdp_kind kind)
{
    if (!f->has_rtpmap)
        return SFU_CODEC_NONE;
    if (kind == SIG_SDP_AUDIO && strcasecmp(f->name, "opus") == 0 && f->clock_rate == 48000 &&
        (f->channels == 2 || f->channels == 0))
        return SFU_CODEC_OPUS;
    if (kind != SIG_SDP_VIDEO || f->clock_rate != 90000)
        return SFU_CODEC_NONE;
    if (strcasecmp(f->name, "VP8") == 0)
        return SFU_CODEC_VP8;
    if (strcasecmp(f->name, "H264") == 0 && f->packetization_mode == 1)
        return SFU_CODEC_H264;
    return SFU_CODEC_NONE;
}

/* 2: same H.264 profile as wanted, 1: compatible, 0: no. */
static int h264_match(uint32_t offered, uint32_t wanted)
{
    if (!wanted)
        return 2;
    int o = sig_sdp_h264_profile(offered ? offered : 0x42e01f);
    int w = sig_sdp_h264_profile(wanted);
    return o == w ? 2 : (o == PROF_BASELINE && w == PROF_CB) ? 1 : 0;
}

static const sig_sdp_fmt *pick_codec(const nego *n, const sig_sdp_media *om)
{
    const sig_sdp_fmt *first = NULL, *pref = NULL, *compatible = NULL;
    sfu_codec want = om->kind == SIG_SDP_VIDEO ? n->local->video_codec : SFU_CODEC_NONE;
    for (unsigned i = 0; i < om->nfmts; i++) {
        const sig_sdp_fmt *f = &om->fmts[i];
        sfu_codec c = codec_of(f, om->kind);
        if (c == SFU_CODEC_NONE)
            continue;
        if (!first)
            first = f;
        if (c != want || pref)
            continue;
        int match = c == SFU_CODEC_H264 ? h264_match(f->profile_level_id, n->local->h264_profile_level_id) : 2;
        if (match == 2)
            pref = f;
        else if (match == 1 && !compatible)
            compatible = f;
    }
    if (pref || compatible)
        return pref ? pref : compatible;
    /* VIEW forwards the publisher's stream as it is: no other codec will do. */
    return n->mode == SIG_SDP_VIEW && want != SFU_CODEC_NONE ? NULL : first;
}

static const sig_sdp_fmt *pick_rtx(const sig_sdp_media *om, uint8_t pt)
{
    for (unsigned i = 0; i < om->nfmts; i++) {
        const sig_sdp_fmt *f = &om->fmts[i];
        if (f->has_rtpmap && strcasecmp(f->name, "rtx") == 0 && f->clock_rate == 90000 && f->apt == pt)
            return f;
    }
    return NULL;
}

/* RFC 2198 5 (with RFC 8866 fmtp): "red/48000/2" whose fmtp lists only the
 * chosen Opus payload type, "111/111" as Chromium writes it. */
static const sig_sdp_fmt *pick_red(const sig_sdp_media *om, uint8_t opus_pt)
{
    for (unsigned i = 0; i < om->nfmts; i++) {
        const sig_sdp_fmt *f = &om->fmts[i];
        if (!f->has_rtpmap || strcasecmp(f->name, "red") != 0 || f->clock_rate != 48000 || !f->fmtp[0])
            continue;
        const char *s = f->fmtp;
        bool ok = true;
        while (ok && *s) {
            char *end;
            unsigned long pt = strtoul(s, &end, 10);
            ok = end != s && pt == opus_pt && (*end == '\0' || (*end == '/' && end[1]));
            s = *end ? end + 1 : end;
        }
        if (ok)
            return f;
    }
    return NULL;
}

/* Sets the track's recv/send and the answer's direction from the offer's. */
static bool directions(nego *n, const sig_sdp_media *om, sfu_track_desc *t, sig_sdp_media *am)
{
    bool client_sends = om->dir == SIG_SDP_SENDRECV || om->dir == SIG_SDP_SENDONLY;
    bool client_recvs = om->dir == SIG_SDP_SENDRECV || om->dir == SIG_SDP_RECVONLY;
    switch (n->mode) {
    case SIG_SDP_PUBLISH:
        if (!client_sends)
            return reject(n, om, "a publisher's m-line must be sendonly or sendrecv");
        t->recv = true;
        break;
    case SIG_SDP_VIEW: {
        bool *have = om->kind == SIG_SDP_AUDIO ? &n->have_audio : &n->have_video;
        if (!client_recvs)
            return reject(n, om, "a viewer's m-line must be recvonly or sendrecv");
        if (*have)
            return reject(n, om, "one %s m-line only", om->media);
        t->send = true;
        break;
    }
    case SIG_SDP_ROOM:
        /* A participant's own m-lines carry what it sends; others' media
         * comes on m-lines of the server's offers, or on the recvonly ones a
         * participant with nothing to send had to offer. */
        t->recv = client_sends;
        t->send = client_recvs && !client_sends;
        break;
    }
    am->dir = t->recv && t->send ? SIG_SDP_SENDRECV
            : t->recv            ? SIG_SDP_RECVONLY
            : t->send            ? SIG_SDP_SENDONLY
                                 : SIG_SDP_INACTIVE;
    return true;
}

static bool acceptable(nego *n, const sig_sdp_media *om)
{
    if (!om->rtp || (om->kind != SIG_SDP_AUDIO && om->kind != SIG_SDP_VIDEO))
        return reject(n, om, "%s m-lines are not supported", om->media);
    if (!strstr(om->proto, "TLS/RTP/SAVP"))
        return reject(n, om, "transport %s is not DTLS-SRTP", om->proto);
    if (!om->mid[0] || strlen(om->mid) >= SFU_MID_MAX)
        return reject(n, om, "needs an a=mid of 1 to %d bytes", SFU_MID_MAX - 1);
    bool bundled = sig_sdp_in_bundle(n->offer, om->mid);
    if (om->port == 0 && !(om->bundle_only && bundled))
        return reject(n, om, "disabled by the offerer (port 0)");
    if (n->offer->has_bundle ? !bundled : n->accepted > 0)
        return reject(n, om, "not in the BUNDLE group");
    if (!om->rtcp_mux)
        return reject(n, om, "no a=rtcp-mux");
    if (n->leg->ntracks == SFU_MAX_TRACKS)
        return reject(n, om, "more than %d tracks", SFU_MAX_TRACKS);
    return true;
}

static void add_fmt_at(sig_sdp_fmt *f, const sig_sdp_fmt *of)
{
    *f = *of;
    f->fb = 0;
    f->fmtp[0] = '\0';
}

static void add_fmt(sig_sdp_media *am, const sig_sdp_fmt *of, uint8_t fb)
{
    sig_sdp_fmt *f = &am->fmts[am->nfmts++];
    *f = *of;
    f->fb = of->fb & fb;
    f->fmtp[0] = '\0';
}

static uint8_t fb_wanted(const nego *n, const sig_sdp_media *om)
{
    /* transport-cc on every m-line: publishers get the SFU's feedback, and
     * viewers send theirs on what the SFU sends (send-side estimation per
     * viewer, sfu/core/bwe.h). REMB only from publishers. */
    uint8_t fb = SIG_FB_TWCC | (om->kind == SIG_SDP_VIDEO ? SIG_FB_NACK | SIG_FB_PLI | SIG_FB_FIR : 0);
    if (n->mode == SIG_SDP_PUBLISH && om->kind == SIG_SDP_VIDEO)
        fb |= SIG_FB_REMB;
    return fb;
}

/* Payload types, fmtp and feedback of the answer, and the track's codec. */
static bool codecs(nego *n, const sig_sdp_media *om, sfu_track_desc *t, sig_sdp_media *am)
{
    const sig_sdp_fmt *c = pick_codec(n, om);
    if (!c)
        return reject(n, om, "no codec in common (Opus, VP8, H.264 packetization-mode=1)");
    add_fmt(am, c, fb_wanted(n, om));
    sig_sdp_fmt *f = &am->fmts[0];   /* the codec stays first until RED is added below */
    t->codec = codec_of(c, om->kind);
    t->pt = c->pt;
    t->clock_rate = c->clock_rate;
    if (t->codec == SFU_CODEC_OPUS) {
        f->channels = 2;
        snprintf(f->fmtp, sizeof f->fmtp, "minptime=10;useinbandfec=1");
    } else if (t->codec == SFU_CODEC_H264) {
        snprintf(f->fmtp, sizeof f->fmtp,
                 "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=%06x",
                 (unsigned)(c->profile_level_id ? c->profile_level_id : 0x42e01f));
    }
    t->fb_nack = f->fb & SIG_FB_NACK;
    t->fb_pli = f->fb & SIG_FB_PLI;
    t->fb_fir = f->fb & SIG_FB_FIR;
    t->fb_twcc = f->fb & SIG_FB_TWCC;
    t->fb_remb = f->fb & SIG_FB_REMB;
    const sig_sdp_fmt *rtx = om->kind == SIG_SDP_VIDEO ? pick_rtx(om, c->pt) : NULL;
    if (rtx) {
        add_fmt(am, rtx, 0);
        snprintf(am->fmts[1].fmtp, sizeof am->fmts[1].fmtp, "apt=%u", c->pt);
        t->rtx_pt = rtx->pt;
    }
    /* RED goes first: Chromium sends RED only when it precedes Opus in the
     * answer. Room sessions do not negotiate it yet (reneg keeps one codec). */
    const sig_sdp_fmt *red = t->codec == SFU_CODEC_OPUS && n->mode != SIG_SDP_ROOM ? pick_red(om, c->pt) : NULL;
    if (red) {
        memmove(&am->fmts[1], &am->fmts[0], am->nfmts * sizeof am->fmts[0]);
        am->nfmts++;
        add_fmt_at(&am->fmts[0], red);
        snprintf(am->fmts[0].fmtp, sizeof am->fmts[0].fmtp, "%u/%u", c->pt, c->pt);
        t->red_pt = red->pt;
    }
    return true;
}

static void extensions(nego *n, const sig_sdp_media *om, sfu_track_desc *t, sig_sdp_media *am)
{
    bool publish = n->mode == SIG_SDP_PUBLISH, video = om->kind == SIG_SDP_VIDEO;
    /* A room client's video with a=rid too, simulcast answered or not:
     * Chromium keeps the rid of the one encoding left after a refused
     * simulcast and, answering a later server offer, fails its own
     * setLocalDescription ("negotiates simulcast but does not negotiate the
     * RID RTP header extension") unless the extension is negotiated. */
    bool rids = video && (publish || (t->recv && om->nrids));
    for (unsigned i = 0; i < om->nexts; i++) {
        const sig_sdp_ext *e = &om->exts[i];
        uint8_t *slot = NULL;
        switch (e->kind) {
        case SIG_EXT_MID: slot = &t->ext.mid; break;
        case SIG_EXT_AUDIO_LEVEL: slot = om->kind == SIG_SDP_AUDIO ? &t->ext.audio_level : NULL; break;
        case SIG_EXT_RID: slot = rids ? &t->ext.rid : NULL; break;
        case SIG_EXT_REPAIRED_RID: slot = rids ? &t->ext.repaired_rid : NULL; break;
        case SIG_EXT_TWCC: slot = &t->ext.twcc; break;
        /* Up to 255 bytes: a viewer needs the two-byte form (RFC 8285 4.3),
         * which it allows only with a=extmap-allow-mixed. */
        case SIG_EXT_DD: slot = video && n->offer->extmap_allow_mixed ? &t->ext.dd : NULL; break;
        default: break;
        }
        if (!slot || *slot)
            continue;
        *slot = (uint8_t)e->id;
        sig_sdp_ext *a = &am->exts[am->nexts++];
        *a = *e;
        /* RFC 8285 8: the answer's direction mirrors the offer's. */
        if (e->has_dir && e->dir == SIG_SDP_SENDONLY)
            a->dir = SIG_SDP_RECVONLY;
        else if (e->has_dir && e->dir == SIG_SDP_RECVONLY)
            a->dir = SIG_SDP_SENDONLY;
    }
}

static void remote_ssrcs(const sig_sdp_media *om, sfu_track_desc *t)
{
    if (t->nlayers)
        return;                 /* the layers say which SSRCs, if any */
    if (om->nfids) {
        t->remote_ssrc = om->fids[0].primary;
        t->remote_rtx_ssrc = t->rtx_pt ? om->fids[0].rtx : 0;
    } else if (om->nssrcs && !om->nrids) {
        t->remote_ssrc = om->ssrcs[0].ssrc;
    }
}

/* Simulcast (RFC 8853) on a video m-line the SFU receives, when switched
 * on: the layers into the track, and for rid layers "a=rid:<id> recv" and
 * "a=simulcast:recv <ids>" into the answer. 0 or -SFU_EMALFORMED. */
static int simulcast(nego *n, const sig_sdp_media *om, sfu_track_desc *t, sig_sdp_media *am)
{
    if (!n->local->simulcast || !t->recv || t->kind != SFU_KIND_VIDEO || n->mode == SIG_SDP_VIEW)
        return 0;
    int rc = sig_sdp_simulcast_layers(om, t->pt, t->layers, &t->nlayers, n->err, n->errlen);
    if (rc || !t->nlayers || !t->layers[0].rid[0])
        return rc;
    for (unsigned i = 0; i < t->nlayers; i++) {
        sig_sdp_rid *r = &am->rids[am->nrids++];
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", t->layers[i].rid);
    }
    am->simulcast = true;
    return sig_sdp_simulcast_format(t->layers, t->nlayers, am->simulcast_value, sizeof am->simulcast_value);
}

/* The SFU's SSRCs, cname and msid for a track it sends (RFC 5576, RFC 8830). */
static int local_ssrcs(nego *n, sfu_track_desc *t, sig_sdp_media *am)
{
    const sig_sdp_local *l = n->local;
    if (!l->pick_ssrc)
        return -SFU_EINVAL;
    t->local_ssrc = l->pick_ssrc(l->ssrc_ctx);
    t->local_rtx_ssrc = t->rtx_pt ? l->pick_ssrc(l->ssrc_ctx) : 0;
    snprintf(am->msid_stream, sizeof am->msid_stream, "%s", l->stream_id ? l->stream_id : "-");
    snprintf(am->msid_track, sizeof am->msid_track, "%s-%s", am->media, am->mid);
    uint32_t ssrcs[2] = { t->local_ssrc, t->local_rtx_ssrc };
    for (unsigned i = 0; i < (t->local_rtx_ssrc ? 2u : 1u); i++) {
        sig_sdp_ssrc *s = &am->ssrcs[am->nssrcs++];
        s->ssrc = ssrcs[i];
        snprintf(s->cname, sizeof s->cname, "%s", l->cname ? l->cname : "sfu");
        strcpy(s->msid_stream, am->msid_stream);
        strcpy(s->msid_track, am->msid_track);
    }
    if (t->local_rtx_ssrc)
        am->fids[am->nfids++] = (sig_sdp_fid){ t->local_ssrc, t->local_rtx_ssrc };
    return 0;
}

static void local_transport(nego *n, sig_sdp_media *am)
{
    const sig_sdp_local *l = n->local;
    snprintf(am->ice.ufrag, sizeof am->ice.ufrag, "%s", l->ice_ufrag);
    snprintf(am->ice.pwd, sizeof am->ice.pwd, "%s", l->ice_pwd);
    am->fingerprint = n->fp;
    am->rtcp_mux = true;
    am->port = l->ncands ? l->cands[0].port : 9;
    snprintf(am->conn_addr, sizeof am->conn_addr, "%s", l->ncands ? l->cands[0].address : "0.0.0.0");
    am->conn_ip6 = strchr(am->conn_addr, ':') != NULL;
    for (unsigned i = 0; i < l->ncands && i < SIG_SDP_MAX_CANDS; i++)
        am->cands[am->ncands++] = l->cands[i];
    am->end_of_candidates = true;
}

/* Negotiates one offered m-line into `am`; returns 1 if accepted, 0 if
 * rejected, or a negative error. */
static int negotiate_media(nego *n, const sig_sdp_media *om, sig_sdp_media *am)
{
    sfu_track_desc *t = &n->leg->tracks[n->leg->ntracks];
    memset(t, 0, sizeof(*t));
    if (!acceptable(n, om) || !directions(n, om, t, am) || !codecs(n, om, t, am)) {
        am->nfmts = 0;
        return 0;
    }
    strcpy(t->mid, om->mid);
    t->kind = om->kind == SIG_SDP_AUDIO ? SFU_KIND_AUDIO : SFU_KIND_VIDEO;
    int rc = simulcast(n, om, t, am);
    if (rc)
        return rc;
    extensions(n, om, t, am);
    if (t->recv)
        remote_ssrcs(om, t);
    if (t->send) {
        rc = local_ssrcs(n, t, am);
        if (rc)
            return rc;
    }
    am->rtcp_rsize = om->rtcp_rsize;
    local_transport(n, am);
    if (n->mode == SIG_SDP_VIEW)
        *(om->kind == SIG_SDP_AUDIO ? &n->have_audio : &n->have_video) = true;
    n->leg->ntracks++;
    n->accepted++;
    return 1;
}

static int check_local(const sig_sdp_local *l, sig_sdp_fingerprint *fp)
{
    if (!l->ice_ufrag || !l->ice_pwd || !sig_sdp_ice_ufrag_ok(l->ice_ufrag) ||
        !sig_sdp_ice_pwd_ok(l->ice_pwd) || !l->fingerprint || (l->ncands && !l->cands))
        return -SFU_EINVAL;
    memset(fp, 0, sizeof(*fp));
    strcpy(fp->alg, "sha-256");
    return sig_sdp_parse_fingerprint_hex(l->fingerprint, fp) == 0 ? 0 : -SFU_EINVAL;
}

/* The offer's transport, from the answer's BUNDLE-tag m-line (RFC 8843 7.3.1). */
static int remote_transport(nego *n, const sig_sdp_media *tag, sig_sdp_result *res, char *err, size_t errlen)
{
    if (!tag->ice.ufrag[0] || !tag->ice.pwd[0] || !tag->fingerprint.len) {
        snprintf(err, errlen, "line %u: m-line without a=ice-ufrag, a=ice-pwd or a=fingerprint", tag->line);
        return -SFU_EMALFORMED;
    }
    if (tag->setup == SIG_SDP_SETUP_HOLDCONN) {
        snprintf(err, errlen, "line %u: a=setup:holdconn is not supported", tag->line);
        return -SFU_EUNSUPPORTED;
    }
    res->role = tag->setup == SIG_SDP_SETUP_PASSIVE ? SIG_DTLS_CLIENT : SIG_DTLS_SERVER;
    res->remote_ice = tag->ice;
    res->remote_fingerprint = tag->fingerprint;
    for (unsigned i = 0; i < n->answer->nmedia; i++) {
        const sig_sdp_media *om = &n->offer->media[i];
        if (!n->ok[i])
            continue;
        n->answer->media[i].setup = res->role == SIG_DTLS_CLIENT ? SIG_SDP_SETUP_ACTIVE : SIG_SDP_SETUP_PASSIVE;
        res->remote_end_of_candidates |= om->end_of_candidates;
        for (unsigned k = 0; k < om->ncands && res->nremote_cands < SIG_SDP_MAX_CANDS; k++) {
            bool dup = false;
            for (unsigned j = 0; j < res->nremote_cands && !dup; j++)
                dup = memcmp(&res->remote_cands[j], &om->cands[k], sizeof om->cands[k]) == 0;
            if (!dup)
                res->remote_cands[res->nremote_cands++] = om->cands[k];
        }
    }
    return 0;
}

static sig_sdp *new_answer(const nego *n)
{
    sig_sdp *a = sig_sdp_new();
    if (!a)
        return NULL;
    a->sess_id = n->local->sess_id;
    a->sess_version = n->local->sess_version;
    a->ice_lite = true;
    a->msid_semantic = true;
    a->extmap_allow_mixed = n->offer->extmap_allow_mixed;
    return a;
}

/* The answer's group lists the accepted mids in the offer group's order, so
 * the offerer's BUNDLE tag stays the tag when accepted (RFC 8843 7.3.1).
 * Returns the offered m-line of the answerer's tag. */
static const sig_sdp_media *bundle_group(nego *n)
{
    const sig_sdp *o = n->offer;
    sig_sdp *a = n->answer;
    const sig_sdp_media *tag = NULL;
    for (unsigned i = 0; i < o->nbundle; i++) {
        for (unsigned k = 0; k < o->nmedia; k++) {
            if (n->ok[k] && strcmp(o->media[k].mid, o->bundle[i]) == 0) {
                strcpy(a->bundle[a->nbundle++], o->bundle[i]);
                tag = tag ? tag : &o->media[k];
            }
        }
    }
    a->has_bundle = o->has_bundle;
    for (unsigned k = 0; k < o->nmedia && !tag; k++)
        tag = n->ok[k] ? &o->media[k] : NULL;
    return tag;
}

static void copy_mline(const sig_sdp_media *om, sig_sdp_media *am)
{
    snprintf(am->media, sizeof am->media, "%s", om->media);
    snprintf(am->proto, sizeof am->proto, "%s", om->proto);
    snprintf(am->mid, sizeof am->mid, "%s", om->mid);
    snprintf(am->app_fmt, sizeof am->app_fmt, "%s", om->app_fmt);
    am->kind = om->kind;
    am->rtp = om->rtp;
}

static int negotiate(nego *n, sig_sdp_result *res, char *err, size_t errlen)
{
    for (unsigned i = 0; i < n->offer->nmedia; i++) {
        const sig_sdp_media *om = &n->offer->media[i];
        sig_sdp_media *am = sig_sdp_add_media(n->answer);
        if (!am)
            return -SFU_ENOMEM;
        copy_mline(om, am);
        int rc = negotiate_media(n, om, am);
        if (rc < 0)
            return rc;
        n->ok[i] = rc == 1;
        if (rc == 0 && om->rtp && om->nfmts) {
            am->fmts[0] = om->fmts[0];  /* RFC 3264 6: a rejected stream keeps a format */
            am->nfmts = 1;
        }
    }
    if (!n->accepted) {
        snprintf(err, errlen, "no m-line accepted: %s", n->rlen ? n->reasons : "the offer has none");
        return -SFU_EUNSUPPORTED;
    }
    return remote_transport(n, bundle_group(n), res, err, errlen);
}

int sig_sdp_answer(const sig_sdp *offer, sig_sdp_mode mode, const sig_sdp_local *local,
                   sig_sdp_result *res, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || !errlen)
        err = dummy, errlen = sizeof dummy;
    err[0] = '\0';
    memset(res, 0, sizeof(*res));
    nego n = { .offer = offer, .mode = mode, .local = local, .leg = &res->leg, .err = err, .errlen = errlen };
    int rc = check_local(local, &n.fp);
    if (rc) {
        snprintf(err, errlen, "bad local ICE credentials, fingerprint or candidates");
        return rc;
    }
    if (!(n.answer = new_answer(&n)))
        return -SFU_ENOMEM;
    rc = negotiate(&n, res, err, errlen);
    if (rc == 0) {
        snprintf(res->leg.cname, sizeof res->leg.cname, "%s", local->cname ? local->cname : "sfu");
        res->leg.rtcp_ssrc = local->pick_ssrc ? local->pick_ssrc(local->ssrc_ctx) : 0;
        res->leg.rtcp_rsize = true;
        for (unsigned i = 0; i < res->leg.ntracks; i++) {
            const sig_sdp_media *om = sig_sdp_find_mid(offer, res->leg.tracks[i].mid);
            res->leg.rtcp_rsize &= om && om->rtcp_rsize;
        }
        rc = sig_sdp_write(n.answer, &res->sdp, &res->sdp_len);
    }
    if (rc == -SFU_ENOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc == -SFU_EINVAL && !err[0])
        snprintf(err, errlen, "no SSRC picker for a track the SFU sends");
    sig_sdp_free(n.answer);
    if (rc)
        sig_sdp_result_deinit(res);
    return rc;
}

void sig_sdp_result_deinit(sig_sdp_result *res)
{
    free(res->sdp);
    memset(res, 0, sizeof(*res));
}
