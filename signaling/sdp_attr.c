/* SDP a= attributes that WebRTC peers send, one handler each, chosen from a
 * table by name. Handlers get the current m-line, or NULL at session level. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signaling/sdp_parse.h"

char *sig_sdp_tok(char **s)
{
    char *p = *s;
    if (!p)
        return NULL;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p) {
        *s = p;
        return NULL;
    }
    char *start = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (*p)
        *p++ = '\0';
    *s = p;
    return start;
}

bool sig_sdp_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n == 20)
            return false;
        uint64_t d = (uint64_t)(s[n] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (n == 0 || v > max)
        return false;
    *out = v;
    return true;
}

/* RFC 8866 9: token-char */
bool sig_sdp_token_ok(const char *s, size_t maxlen)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
            return false;
    }
    return n >= 1 && n <= maxlen;
}

bool sig_sdp_parse_dir(const char *s, sig_sdp_dir *dir)
{
    static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
    for (unsigned i = 0; i < SFU_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *dir = (sig_sdp_dir)i;
            return true;
        }
    }
    return false;
}

static sig_sdp_media *cur(sig_sdp_parser *p)
{
    return &p->sdp->media[p->sdp->nmedia - 1];
}

/* Reads "<pt>" of rtpmap/fmtp/rtcp-fb; 1 if the pt is not on the m= line. */
static int fmt_of(sig_sdp_parser *p, sig_sdp_media *m, const char *attr, char **v, sig_sdp_fmt **fmt)
{
    char *t = sig_sdp_tok(v);
    uint64_t pt;
    if (!t || !sig_sdp_u64(t, UINT64_MAX, &pt))
        return sig_sdp_fail(p, "a=%s: bad payload type", attr);
    if (pt > 127)
        return sig_sdp_fail(p, "a=%s: payload type out of range", attr);
    *fmt = (sig_sdp_fmt *)sig_sdp_media_fmt(m, (uint8_t)pt);
    return *fmt ? 0 : 1;        /* RFC 8866 6.6: not listed, ignored */
}

/* RFC 8866 6.6: "<pt> <encoding name>/<clock rate>[/<channels>]" */
static int at_rtpmap(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    if (!m->rtp)
        return 0;
    sig_sdp_fmt *fmt;
    int rc = fmt_of(p, m, "rtpmap", &v, &fmt);
    char *enc = sig_sdp_tok(&v);
    if (rc < 0)
        return rc;
    if (!enc)
        return sig_sdp_fail(p, "a=rtpmap: missing encoding");
    char *name = strtok_r(enc, "/", &enc), *rate = strtok_r(NULL, "/", &enc);
    char *ch = strtok_r(NULL, "/", &enc);
    uint64_t r, c = 0;
    if (!name || !sig_sdp_token_ok(name, sizeof fmt->name - 1))
        return sig_sdp_fail(p, "a=rtpmap: bad encoding name");
    if (!rate || !sig_sdp_u64(rate, UINT32_MAX, &r) || r == 0)
        return sig_sdp_fail(p, "a=rtpmap: bad clock rate");
    if (ch && (!sig_sdp_u64(ch, 255, &c) || c == 0))
        return sig_sdp_fail(p, "a=rtpmap: bad channel count");
    if (rc == 1)
        return 0;
    fmt->has_rtpmap = true;
    strcpy(fmt->name, name);
    fmt->clock_rate = (uint32_t)r;
    fmt->channels = (uint8_t)c;
    return 0;
}

static int fmtp_param(sig_sdp_parser *p, sig_sdp_fmt *fmt, char *kv)
{
    while (*kv == ' ')
        kv++;
    char *eq = strchr(kv, '=');
    if (!eq)
        return 0;
    *eq = '\0';
    const char *val = eq + 1;
    uint64_t n;
    if (strcmp(kv, "apt") == 0) {
        if (!sig_sdp_u64(val, 127, &n))
            return sig_sdp_fail(p, "a=fmtp: apt out of range");
        fmt->apt = (int16_t)n;
    } else if (strcmp(kv, "packetization-mode") == 0) {
        if (!sig_sdp_u64(val, 2, &n))
            return sig_sdp_fail(p, "a=fmtp: bad packetization-mode");
        fmt->packetization_mode = (int8_t)n;
    } else if (strcmp(kv, "profile-level-id") == 0) {
        char *end;
        unsigned long id = strtoul(val, &end, 16);
        if (strlen(val) != 6 || *end || !isxdigit((unsigned char)val[0]))
            return sig_sdp_fail(p, "a=fmtp: bad profile-level-id");
        fmt->profile_level_id = (uint32_t)id;
    }
    return 0;
}

/* RFC 8866 6.15: "<fmt> <format specific parameters>" */
static int at_fmtp(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    if (!m->rtp)
        return 0;
    sig_sdp_fmt *fmt;
    int rc = fmt_of(p, m, "fmtp", &v, &fmt);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    while (*v == ' ')
        v++;
    if (strlen(v) > SIG_SDP_FMTP_LEN)
        return sig_sdp_fail(p, "a=fmtp: parameters longer than %d bytes", SIG_SDP_FMTP_LEN);
    strcpy(fmt->fmtp, v);
    char *save, *kv;
    for (kv = strtok_r(v, ";", &save); kv; kv = strtok_r(NULL, ";", &save))
        if ((rc = fmtp_param(p, fmt, kv)) != 0)
            return rc;
    return 0;
}

/* RFC 4585 4.2: "<pt>|* <type> [<param>]" */
static int at_rtcp_fb(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    if (!m->rtp)
        return 0;
    sig_sdp_fmt *fmt = NULL;
    bool all = strncmp(v, "* ", 2) == 0;
    int rc = 0;
    if (all)
        v += 2;
    else if ((rc = fmt_of(p, m, "rtcp-fb", &v, &fmt)) < 0)
        return rc;
    char *type = sig_sdp_tok(&v), *param = sig_sdp_tok(&v);
    if (!type)
        return sig_sdp_fail(p, "a=rtcp-fb: missing type");
    if (rc == 1)
        return 0;
    uint8_t bit = 0;
    if (strcmp(type, "nack") == 0)
        bit = !param ? SIG_FB_NACK : strcmp(param, "pli") == 0 ? SIG_FB_PLI : 0;
    else if (strcmp(type, "ccm") == 0 && param && strcmp(param, "fir") == 0)
        bit = SIG_FB_FIR;
    else if (strcmp(type, "transport-cc") == 0)
        bit = SIG_FB_TWCC;
    else if (strcmp(type, "goog-remb") == 0)
        bit = SIG_FB_REMB;
    for (unsigned i = 0; i < m->nfmts; i++)
        if (all || &m->fmts[i] == fmt)
            m->fmts[i].fb |= bit;
    return 0;
}

/* RFC 8285 8: "<id>[/<direction>] <uri> [<attributes>]" */
static int at_extmap(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    char *idt = sig_sdp_tok(&v), *uri = sig_sdp_tok(&v);
    if (!uri)
        return sig_sdp_fail(p, "a=extmap: expected \"<id> <uri>\"");
    sig_sdp_ext e = { 0 };
    char *slash = strchr(idt, '/');
    if (slash) {
        *slash = '\0';
        if (!sig_sdp_parse_dir(slash + 1, &e.dir))
            return sig_sdp_fail(p, "a=extmap: bad direction");
        e.has_dir = true;
    }
    uint64_t id;
    if (!sig_sdp_u64(idt, 255, &id) || id == 0)
        return sig_sdp_fail(p, "a=extmap: id out of range");
    e.id = (uint16_t)id;
    for (unsigned i = 0; i < m->nexts; i++)
        if (m->exts[i].id == id)
            return sig_sdp_fail(p, "a=extmap: id %u used twice", (unsigned)id);
    if (m->nexts == SIG_SDP_MAX_EXTS)
        return sig_sdp_fail(p, "a=extmap: more than %d", SIG_SDP_MAX_EXTS);
    if (strlen(uri) <= SIG_SDP_URI_LEN) {
        strcpy(e.uri, uri);
        e.kind = sig_sdp_ext_kind_of(uri);
    }
    m->exts[m->nexts++] = e;
    return 0;
}

static int at_mid(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    if (!sig_sdp_token_ok(v, SIG_SDP_MID_LEN))
        return sig_sdp_fail(p, "a=mid: must be 1 to %d token characters", SIG_SDP_MID_LEN);
    if (sig_sdp_find_mid(p->sdp, v))
        return sig_sdp_fail(p, "a=mid: \"%s\" used twice", v);
    strcpy(m->mid, v);
    return 0;
}

/* RFC 5888 5 / RFC 8843 7: only the first BUNDLE group is used. */
static int at_group(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    (void)m;
    char *sem = sig_sdp_tok(&v), *mid;
    if (!sem)
        return sig_sdp_fail(p, "a=group: missing semantics");
    if (strcmp(sem, "BUNDLE") != 0 || p->sdp->has_bundle)
        return 0;               /* LS, FID, ...: not used */
    p->sdp->has_bundle = true;
    p->bundle_line = p->line;
    while ((mid = sig_sdp_tok(&v))) {
        if (!sig_sdp_token_ok(mid, SIG_SDP_MID_LEN))
            return sig_sdp_fail(p, "a=group:BUNDLE: bad mid");
        if (p->sdp->nbundle == SIG_SDP_MAX_MEDIA)
            return sig_sdp_fail(p, "a=group:BUNDLE: too many mids");
        strcpy(p->sdp->bundle[p->sdp->nbundle++], mid);
    }
    return 0;
}

static int copy_id(sig_sdp_parser *p, const char *attr, const char *s, char *dst, size_t size)
{
    if (!s)
        s = "";
    if (strlen(s) >= size)
        return sig_sdp_fail(p, "a=%s: id longer than %zu bytes", attr, size - 1);
    strcpy(dst, s);
    return 0;
}

/* RFC 8830 2: "<stream id> [<track id>]" */
static int at_msid(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    char *stream = sig_sdp_tok(&v), *track = sig_sdp_tok(&v);
    if (!stream)
        return sig_sdp_fail(p, "a=msid: missing stream id");
    int rc = copy_id(p, "msid", stream, m->msid_stream, sizeof m->msid_stream);
    return rc ? rc : copy_id(p, "msid", track, m->msid_track, sizeof m->msid_track);
}

/* RFC 5576 4.1: "<ssrc> <attribute>[:<value>]" */
static int at_ssrc(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    char *id = sig_sdp_tok(&v);
    uint64_t ssrc;
    if (!id || !sig_sdp_u64(id, UINT32_MAX, &ssrc))
        return sig_sdp_fail(p, "a=ssrc: bad SSRC");
    while (*v == ' ')
        v++;
    char *val = strchr(v, ':');
    if (val)
        *val++ = '\0';
    sig_sdp_ssrc *s = NULL;
    for (unsigned i = 0; i < m->nssrcs && !s; i++)
        if (m->ssrcs[i].ssrc == ssrc)
            s = &m->ssrcs[i];
    if (!s) {
        if (m->nssrcs == SIG_SDP_MAX_SSRCS)
            return sig_sdp_fail(p, "a=ssrc: more than %d SSRCs", SIG_SDP_MAX_SSRCS);
        s = &m->ssrcs[m->nssrcs++];
        s->ssrc = (uint32_t)ssrc;
    }
    if (strcmp(v, "cname") == 0)
        return copy_id(p, "ssrc", val, s->cname, sizeof s->cname);
    if (strcmp(v, "msid") == 0 && val) {
        char *stream = sig_sdp_tok(&val), *track = sig_sdp_tok(&val);
        int rc = copy_id(p, "ssrc", stream, s->msid_stream, sizeof s->msid_stream);
        return rc ? rc : copy_id(p, "ssrc", track, s->msid_track, sizeof s->msid_track);
    }
    return 0;
}

/* "SIM <ssrc> <ssrc> ...": the layers of legacy (pre-RFC 8853) simulcast,
 * lowest first, as Chromium's SDP munging and older OBS builds write it. */
static int sim_group(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    if (m->nsims)
        return sig_sdp_fail(p, "a=ssrc-group:SIM: more than one");
    char *t;
    while ((t = sig_sdp_tok(&v))) {
        uint64_t ssrc;
        if (!sig_sdp_u64(t, UINT32_MAX, &ssrc))
            return sig_sdp_fail(p, "a=ssrc-group:SIM: bad SSRC");
        if (m->nsims == SIG_SDP_MAX_SIMS)
            return sig_sdp_fail(p, "a=ssrc-group:SIM: more than %d SSRCs", SIG_SDP_MAX_SIMS);
        for (unsigned i = 0; i < m->nsims; i++)
            if (m->sims[i] == ssrc)
                return sig_sdp_fail(p, "a=ssrc-group:SIM: SSRC %u twice", (unsigned)ssrc);
        m->sims[m->nsims++] = (uint32_t)ssrc;
    }
    if (!m->nsims)
        return sig_sdp_fail(p, "a=ssrc-group:SIM: no SSRC");
    return 0;
}

/* RFC 5576 4.2: "FID <primary> <rtx>" and SIM; other semantics are ignored. */
static int at_ssrc_group(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    char *sem = sig_sdp_tok(&v);
    if (sem && strcmp(sem, "SIM") == 0)
        return sim_group(p, m, v);
    if (!sem || strcmp(sem, "FID") != 0)
        return 0;
    char *a = sig_sdp_tok(&v), *b = sig_sdp_tok(&v);
    uint64_t pa, pb;
    if (!b || sig_sdp_tok(&v) || !sig_sdp_u64(a, UINT32_MAX, &pa) || !sig_sdp_u64(b, UINT32_MAX, &pb))
        return sig_sdp_fail(p, "a=ssrc-group:FID: needs two SSRCs");
    if (m->nfids == SIG_SDP_MAX_FIDS)
        return sig_sdp_fail(p, "a=ssrc-group: more than %d", SIG_SDP_MAX_FIDS);
    m->fids[m->nfids++] = (sig_sdp_fid){ (uint32_t)pa, (uint32_t)pb };
    return 0;
}

static sig_sdp_ice *ice_of(sig_sdp_parser *p, sig_sdp_media *m)
{
    return m ? &m->ice : &p->sdp->ice;
}

static int at_ufrag(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    if (!sig_sdp_ice_ufrag_ok(v))
        return sig_sdp_fail(p, "a=ice-ufrag: must be 4 to 256 ice-chars");
    strcpy(ice_of(p, m)->ufrag, v);
    return 0;
}

static int at_pwd(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    if (!sig_sdp_ice_pwd_ok(v))
        return sig_sdp_fail(p, "a=ice-pwd: must be 22 to 256 ice-chars");
    strcpy(ice_of(p, m)->pwd, v);
    return 0;
}

/* RFC 8839 5.6: space-separated; OBS (libdatachannel) separates with commas. */
void sig_sdp_ice_options(sig_sdp_ice *ice, char *v)
{
    char *save, *t;
    for (t = strtok_r(v, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
        ice->trickle |= strcmp(t, "trickle") == 0;
        ice->ice2 |= strcmp(t, "ice2") == 0;
    }
}

static int at_ice_options(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    sig_sdp_ice_options(ice_of(p, m), v);
    return 0;
}

/* RFC 8122 5: "<hash-func> <hex:hex:...>"; a sha-256 one is preferred. */
static int at_fingerprint(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    char *alg = sig_sdp_tok(&v), *hex = sig_sdp_tok(&v);
    sig_sdp_fingerprint fp = { 0 };
    if (!hex || strlen(alg) >= sizeof fp.alg)
        return sig_sdp_fail(p, "a=fingerprint: expected \"<hash> <hex>\"");
    for (size_t i = 0; alg[i]; i++)
        fp.alg[i] = (char)tolower((unsigned char)alg[i]);
    if (sig_sdp_parse_fingerprint_hex(hex, &fp) != 0)
        return sig_sdp_fail(p, "a=fingerprint: bad digest for %s", fp.alg);
    sig_sdp_fingerprint *dst = m ? &m->fingerprint : &p->sdp->fingerprint;
    if (!dst->len || (strcmp(dst->alg, "sha-256") != 0 && strcmp(fp.alg, "sha-256") == 0))
        *dst = fp;
    return 0;
}

static int at_setup(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    static const char *const roles[] = { "", "actpass", "active", "passive", "holdconn" };
    for (unsigned i = 1; i < SFU_ARRAY_LEN(roles); i++) {
        if (strcmp(v, roles[i]) == 0) {
            *(m ? &m->setup : &p->sdp->setup) = (sig_sdp_setup)i;
            return 0;
        }
    }
    return sig_sdp_fail(p, "a=setup: must be actpass, active, passive or holdconn");
}

static int at_candidate(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    sig_ice_candidate c;
    const char *why = "";
    int rc = sig_sdp_parse_candidate(v, &c, &why);
    if (rc == -SFU_EUNSUPPORTED)
        return 0;
    if (rc < 0)
        return sig_sdp_fail(p, "a=candidate: %s", why);
    if (m->ncands < SIG_SDP_MAX_CANDS)
        m->cands[m->ncands++] = c;
    return 0;
}

/* RFC 8851 10: "pt=<fmt>,<fmt>..." of a=rid's parameters; the other
 * restrictions (max-width, max-fps, ...) are not used. */
static int rid_params(sig_sdp_parser *p, sig_sdp_rid *r, char *params)
{
    char *save, *kv;
    for (kv = strtok_r(params, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        if (strncmp(kv, "pt=", 3) != 0)
            continue;
        char *save2, *pt;
        for (pt = strtok_r(kv + 3, ",", &save2); pt; pt = strtok_r(NULL, ",", &save2)) {
            uint64_t n;
            if (!sig_sdp_u64(pt, 127, &n))
                return sig_sdp_fail(p, "a=rid:%s: bad payload type in pt=", r->id);
            if (r->npts == SIG_SDP_MAX_RID_PTS)
                return sig_sdp_fail(p, "a=rid:%s: more than %d payload types", r->id, SIG_SDP_MAX_RID_PTS);
            r->pts[r->npts++] = (uint8_t)n;
        }
        if (!r->npts)
            return sig_sdp_fail(p, "a=rid:%s: empty pt=", r->id);
    }
    return 0;
}

/* RFC 8851 10: "<rid-id> send|recv [<params>]" */
static int at_rid(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    char *id = sig_sdp_tok(&v), *dir = sig_sdp_tok(&v), *params = sig_sdp_tok(&v);
    if (!dir || !sig_sdp_token_ok(id, SIG_SDP_MID_LEN))
        return sig_sdp_fail(p, "a=rid: expected \"<id> send|recv\"");
    if (strcmp(dir, "send") != 0 && strcmp(dir, "recv") != 0)
        return sig_sdp_fail(p, "a=rid: direction must be send or recv");
    for (unsigned i = 0; i < m->nrids; i++)
        if (strcmp(m->rids[i].id, id) == 0)
            return sig_sdp_fail(p, "a=rid: \"%s\" used twice", id);
    if (m->nrids == SIG_SDP_MAX_RIDS)
        return sig_sdp_fail(p, "a=rid: more than %d", SIG_SDP_MAX_RIDS);
    sig_sdp_rid *r = &m->rids[m->nrids];
    memset(r, 0, sizeof *r);
    strcpy(r->id, id);
    r->send = dir[0] == 's';
    int rc = params ? rid_params(p, r, params) : 0;
    if (rc == 0)
        m->nrids++;
    return rc;
}

/* RFC 8853 5.1; the value is parsed by sig_sdp_simulcast_parse() when the
 * negotiation wants it, so this only keeps it. */
static int at_simulcast(sig_sdp_parser *p, sig_sdp_media *m, char *v)
{
    m->simulcast = true;
    m->simulcast_line = p->line;
    m->simulcast_too_long = strlen(v) > SIG_SDP_SIMULCAST_LEN;
    snprintf(m->simulcast_value, sizeof m->simulcast_value, "%s", m->simulcast_too_long ? "" : v);
    return 0;
}

static int at_flag(sig_sdp_parser *p, sig_sdp_media *m, const char *name)
{
    if (strcmp(name, "extmap-allow-mixed") == 0)
        p->sdp->extmap_allow_mixed = true;
    else if (strcmp(name, "msid-semantic") == 0)
        p->sdp->msid_semantic = true;
    else if (strcmp(name, "ice-lite") == 0)
        p->sdp->ice_lite = !m;
    if (!m)
        return 0;
    m->rtcp_mux |= strcmp(name, "rtcp-mux") == 0;
    m->rtcp_mux_only |= strcmp(name, "rtcp-mux-only") == 0;
    m->rtcp_rsize |= strcmp(name, "rtcp-rsize") == 0;
    m->bundle_only |= strcmp(name, "bundle-only") == 0;
    m->end_of_candidates |= strcmp(name, "end-of-candidates") == 0;
    return 0;
}

enum scope { MEDIA, BOTH };
typedef int (*attr_fn)(sig_sdp_parser *p, sig_sdp_media *m, char *v);
static const struct attr {
    const char *name;
    enum scope scope;
    attr_fn fn;
} attrs[] = {
    { "rtpmap", MEDIA, at_rtpmap },       { "fmtp", MEDIA, at_fmtp },
    { "rtcp-fb", MEDIA, at_rtcp_fb },     { "extmap", MEDIA, at_extmap },
    { "mid", MEDIA, at_mid },             { "group", BOTH, at_group },
    { "msid", MEDIA, at_msid },           { "ssrc", MEDIA, at_ssrc },
    { "ssrc-group", MEDIA, at_ssrc_group }, { "ice-ufrag", BOTH, at_ufrag },
    { "ice-pwd", BOTH, at_pwd },          { "ice-options", BOTH, at_ice_options },
    { "fingerprint", BOTH, at_fingerprint }, { "setup", BOTH, at_setup },
    { "candidate", MEDIA, at_candidate }, { "rid", MEDIA, at_rid },
    { "simulcast", MEDIA, at_simulcast },
};

int sig_sdp_parse_attr(sig_sdp_parser *p, char *v)
{
    sig_sdp_media *m = p->sdp->nmedia ? cur(p) : NULL;
    char *colon = strchr(v, ':');
    if (colon)
        *colon = '\0';
    sig_sdp_dir dir;
    if (!colon && sig_sdp_parse_dir(v, &dir)) {
        if (m)
            m->dir = dir, p->dir_set[p->sdp->nmedia - 1] = true;
        else
            p->sess_dir = dir;
        return 0;
    }
    if (!colon)
        return at_flag(p, m, v);
    for (unsigned i = 0; i < SFU_ARRAY_LEN(attrs); i++) {
        if (strcmp(attrs[i].name, v) != 0)
            continue;
        if (!m && attrs[i].scope == MEDIA)
            return 0;           /* media attribute at session level: ignored */
        if (attrs[i].fn == at_group && m)
            return 0;           /* a=group is session level only */
        return attrs[i].fn(p, m, colon + 1);
    }
    return at_flag(p, m, v);    /* "a=msid-semantic: WMS ..." and unknown ones */
}
