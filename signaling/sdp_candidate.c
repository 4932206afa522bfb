/* ICE and DTLS values shared by the SDP and sdpfrag parsers and the
 * negotiation: candidates (RFC 8839 5.1), ICE credentials (RFC 8839 5.4),
 * fingerprints (RFC 8122 5) and the header-extension URIs the SFU knows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signaling/sdp_parse.h"

/* RFC 8839 5.1: ice-char = ALPHA / DIGIT / "+" / "/" */
static bool ice_chars_ok(const char *s, size_t min, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/';
        if (!ok || n == max)
            return false;
    }
    return n >= min;
}

bool sig_sdp_ice_ufrag_ok(const char *s)
{
    return ice_chars_ok(s, 4, SIG_SDP_ICE_LEN);
}

bool sig_sdp_ice_pwd_ok(const char *s)
{
    return ice_chars_ok(s, 22, SIG_SDP_ICE_LEN);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const struct {
    const char *alg;
    uint8_t len;
} digest_lens[] = {
    { "sha-1", 20 }, { "sha-224", 28 }, { "sha-256", 32 }, { "sha-384", 48 }, { "sha-512", 64 },
    { "md5", 16 },
};

int sig_sdp_parse_fingerprint_hex(const char *hex, sig_sdp_fingerprint *fp)
{
    size_t n = 0;
    for (const char *s = hex;; s += 3) {
        int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
        if (lo < 0 || n == sizeof fp->bytes)
            return -SFU_EMALFORMED;
        fp->bytes[n++] = (uint8_t)(hi << 4 | lo);
        if (s[2] == '\0')
            break;
        if (s[2] != ':')
            return -SFU_EMALFORMED;
    }
    for (unsigned i = 0; i < SFU_ARRAY_LEN(digest_lens); i++)
        if (strcmp(fp->alg, digest_lens[i].alg) == 0 && n != digest_lens[i].len)
            return -SFU_EMALFORMED;
    fp->len = (uint8_t)n;
    return 0;
}

/* Hostnames (mDNS "<uuid>.local"), IPv4 and IPv6 (with a zone) */
static bool address_ok(const char *s, size_t size)
{
    size_t n = strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.:-_%");
    return n > 0 && s[n] == '\0' && n < size;
}

static bool port_of(const char *s, uint16_t *port)
{
    uint64_t v;
    if (!s || !sig_sdp_u64(s, 65535, &v))
        return false;
    *port = (uint16_t)v;
    return true;
}

static int cand_ext(sig_ice_candidate *c, char *name, char *val, const char **why)
{
    if (!val)
        return *why = "extension without a value", -SFU_EMALFORMED;
    if (strcmp(name, "raddr") == 0) {
        if (!address_ok(val, sizeof c->raddr))
            return *why = "bad raddr", -SFU_EMALFORMED;
        strcpy(c->raddr, val);
        c->has_raddr = true;
    } else if (strcmp(name, "rport") == 0) {
        if (!port_of(val, &c->rport))
            return *why = "bad rport", -SFU_EMALFORMED;
    } else if (strcmp(name, "tcptype") == 0) {
        static const char *const types[] = { "", "active", "passive", "so" };
        unsigned i = 1;
        while (i < SFU_ARRAY_LEN(types) && strcmp(val, types[i]) != 0)
            i++;
        if (i == SFU_ARRAY_LEN(types))
            return *why = "bad tcptype", -SFU_EMALFORMED;
        c->tcptype = (sig_ice_tcptype)i;
    }
    return 0;                   /* generation, network-id, ufrag, ...: skipped */
}

static int cand_type(const char *s, sig_ice_type *type)
{
    static const char *const types[] = { "host", "srflx", "prflx", "relay" };
    for (unsigned i = 0; i < SFU_ARRAY_LEN(types); i++) {
        if (s && strcmp(s, types[i]) == 0) {
            *type = (sig_ice_type)i;
            return 0;
        }
    }
    return -SFU_EMALFORMED;
}

/* RFC 8839 5.1: <foundation> <component-id> <transport> <priority>
 * <connection-address> <port> typ <cand-type> [raddr ..] [rport ..] *(name value) */
static int parse_candidate(char *v, sig_ice_candidate *c, const char **why)
{
    memset(c, 0, sizeof(*c));
    if (strncmp(v, "candidate:", 10) == 0)
        v += 10;                /* as trickled by browsers */
    char *f[8];
    for (int i = 0; i < 8; i++)
        if (!(f[i] = sig_sdp_tok(&v)))
            return *why = "too few fields", -SFU_EMALFORMED;
    uint64_t comp, prio;
    if (!ice_chars_ok(f[0], 1, 32))
        return *why = "bad foundation", -SFU_EMALFORMED;
    strcpy(c->foundation, f[0]);
    if (!sig_sdp_u64(f[1], 256, &comp) || comp == 0)
        return *why = "component out of range", -SFU_EMALFORMED;
    c->component = (uint16_t)comp;
    if (!sig_sdp_u64(f[3], UINT32_MAX, &prio))
        return *why = "bad priority", -SFU_EMALFORMED;
    c->priority = (uint32_t)prio;
    if (!address_ok(f[4], sizeof c->address))
        return *why = "bad address", -SFU_EMALFORMED;
    strcpy(c->address, f[4]);
    if (!port_of(f[5], &c->port))
        return *why = "port out of range", -SFU_EMALFORMED;
    if (strcmp(f[6], "typ") != 0 || cand_type(f[7], &c->type) != 0)
        return *why = "expected typ host|srflx|prflx|relay", -SFU_EMALFORMED;
    char *name;
    while ((name = sig_sdp_tok(&v))) {
        int rc = cand_ext(c, name, sig_sdp_tok(&v), why);
        if (rc)
            return rc;
    }
    if (strcasecmp(f[2], "udp") == 0)
        c->transport = SIG_ICE_UDP;
    else if (strcasecmp(f[2], "tcp") == 0)
        c->transport = SIG_ICE_TCP;
    else
        return *why = "transport not UDP or TCP", -SFU_EUNSUPPORTED;
    return 0;
}

int sig_sdp_parse_candidate(const char *value, sig_ice_candidate *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    size_t n = strlen(value);
    if (n > 1024)
        return *why = "too long", -SFU_EMALFORMED;
    char buf[1025];
    memcpy(buf, value, n + 1);
    return parse_candidate(buf, out, why);
}

int sig_sdp_format_candidate(const sig_ice_candidate *c, char *buf, size_t size)
{
    static const char *const types[] = { "host", "srflx", "prflx", "relay" };
    static const char *const tcptypes[] = { "", "active", "passive", "so" };
    int n = snprintf(buf, size, "candidate:%s %u %s %u %s %u typ %s", c->foundation,
                     (unsigned)c->component, c->transport == SIG_ICE_TCP ? "tcp" : "udp",
                     (unsigned)c->priority, c->address, (unsigned)c->port, types[c->type & 3]);
    if (n >= 0 && (size_t)n < size && c->has_raddr)
        n += snprintf(buf + n, size - (size_t)n, " raddr %s rport %u", c->raddr, (unsigned)c->rport);
    if (n >= 0 && (size_t)n < size && c->tcptype != SIG_ICE_TCP_NONE)
        n += snprintf(buf + n, size - (size_t)n, " tcptype %s", tcptypes[c->tcptype & 3]);
    return n < 0 || (size_t)n >= size ? -SFU_ENOSPC : 0;
}

static const char *const ext_uris[] = {
    [SIG_EXT_OTHER] = "",
    [SIG_EXT_MID] = "urn:ietf:params:rtp-hdrext:sdes:mid",
    [SIG_EXT_RID] = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    [SIG_EXT_REPAIRED_RID] = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    [SIG_EXT_AUDIO_LEVEL] = "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    [SIG_EXT_ABS_SEND_TIME] = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    [SIG_EXT_TWCC] = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    [SIG_EXT_DD] = "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension",
};

sig_sdp_ext_kind sig_sdp_ext_kind_of(const char *uri)
{
    for (unsigned i = 1; i < SFU_ARRAY_LEN(ext_uris); i++)
        if (strcmp(uri, ext_uris[i]) == 0)
            return (sig_sdp_ext_kind)i;
    return SIG_EXT_OTHER;
}

const char *sig_sdp_ext_uri(sig_sdp_ext_kind kind)
{
    return (unsigned)kind < SFU_ARRAY_LEN(ext_uris) ? ext_uris[kind] : "";
}
