/* HTTP routing (see route.h): one table of path patterns, matched segment by
 * segment; the method is checked before the parameters, so that a wrong
 * method on a known path is 405 whatever its parameters hold. */
#include "signaling/route.h"

#include <stdio.h>
#include <string.h>

#include "sfu/core/common.h"

#define PATH_MAX_BYTES 2048
#define GET_LIKE (SIG_METHOD_GET | SIG_METHOD_HEAD)

enum seg_kind { SEG_END = 0, SEG_LIT, SEG_ROOM, SEG_PARTICIPANT, SEG_SESSION, SEG_REST };

struct seg {
    enum seg_kind kind;
    const char *lit;
};

struct pattern {
    sig_route_id id;
    unsigned allowed;               /* OPTIONS is added to every pattern */
    struct seg seg[4];
};

#define LIT(s) { SEG_LIT, s }
#define ROOM { SEG_ROOM, NULL }
#define PART { SEG_PARTICIPANT, NULL }
#define SESS { SEG_SESSION, NULL }
#define REST { SEG_REST, NULL }

static const struct pattern patterns[] = {
    { SIG_ROUTE_INDEX, GET_LIKE, { { SEG_END, NULL } } },
    { SIG_ROUTE_WHIP, SIG_METHOD_POST, { LIT("whip"), ROOM } },
    { SIG_ROUTE_WHEP, SIG_METHOD_POST, { LIT("whep"), ROOM, PART } },
    { SIG_ROUTE_ROOMS, GET_LIKE, { LIT("rooms") } },
    { SIG_ROUTE_ROOM, GET_LIKE, { LIT("rooms"), ROOM } },
    { SIG_ROUTE_ROOM_JOIN, SIG_METHOD_POST, { LIT("rooms"), ROOM, LIT("join") } },
    { SIG_ROUTE_SESSION, SIG_METHOD_PATCH | SIG_METHOD_DELETE, { LIT("sessions"), SESS } },
    /* an event stream has no meaningful HEAD */
    { SIG_ROUTE_SESSION_EVENTS, SIG_METHOD_GET, { LIT("sessions"), SESS, LIT("events") } },
    { SIG_ROUTE_SESSION_ANSWER, SIG_METHOD_POST, { LIT("sessions"), SESS, LIT("answer") } },
    { SIG_ROUTE_SESSION_LAYER, SIG_METHOD_POST, { LIT("sessions"), SESS, LIT("layer") } },
    { SIG_ROUTE_SESSION_SUBSCRIPTIONS, SIG_METHOD_POST, { LIT("sessions"), SESS, LIT("subscriptions") } },
    { SIG_ROUTE_HEALTH, GET_LIKE, { LIT("health") } },
    { SIG_ROUTE_METRICS, GET_LIKE, { LIT("metrics") } },
    { SIG_ROUTE_STATIC, GET_LIKE, { LIT("static"), REST } },
    { SIG_ROUTE_CLUSTER_RELAY, SIG_METHOD_POST, { LIT("cluster"), LIT("relay") } },
    { SIG_ROUTE_CLUSTER_SPAN, SIG_METHOD_POST, { LIT("cluster"), LIT("span") } },
};

static const struct {
    const char *name;
    sig_method method;
} methods[] = {
    { "GET", SIG_METHOD_GET },       { "HEAD", SIG_METHOD_HEAD },
    { "POST", SIG_METHOD_POST },     { "PATCH", SIG_METHOD_PATCH },
    { "DELETE", SIG_METHOD_DELETE }, { "OPTIONS", SIG_METHOD_OPTIONS },
};

sig_method sig_method_parse(const char *method)
{
    /* RFC 9110 section 9.1: method names are case-sensitive */
    for (size_t i = 0; i < SFU_ARRAY_LEN(methods); i++)
        if (strcmp(method, methods[i].name) == 0)
            return methods[i].method;
    return SIG_METHOD_OTHER;
}

size_t sig_route_allow_header(unsigned allowed, char *buf, size_t n)
{
    size_t o = 0;
    if (n == 0)
        return 0;
    buf[0] = '\0';
    for (size_t i = 0; i < SFU_ARRAY_LEN(methods); i++) {
        if (!(allowed & methods[i].method))
            continue;
        int k = snprintf(buf + o, n - o, "%s%s", o ? ", " : "", methods[i].name);
        if (k < 0 || (size_t)k >= n - o) {
            buf[o] = '\0';     /* whole names only */
            return o;
        }
        o += (size_t)k;
    }
    return o;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

bool sig_route_valid_name(const char *s, size_t len)
{
    if (len == 0 || len > SIG_NAME_MAX)
        return false;
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char(s[i]))
            return false;
    return true;
}

bool sig_route_valid_session_id(const char *s, size_t len)
{
    if (len != SIG_SESSION_ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Well-formed UTF-8 (RFC 3629 section 4: no overlongs, no surrogates, at most
 * U+10FFFF) without control characters: display names go into JSON and logs. */
bool sig_route_valid_display_name(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    if (len == 0 || len > SIG_DISPLAY_NAME_MAX)
        return false;
    for (size_t i = 0; i < len;) {
        unsigned c = s[i], need, min;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80; c &= 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800; c &= 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000; c &= 0x07; }
        else return false;
        if (len - i <= need)
            return false;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            c = c << 6 | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c < 0xa0))
            return false;
        i += need + 1;
    }
    return true;
}

/* A path under /static/: segments of name characters, none starting with a
 * dot (no "..", no hidden files), no empty segment. */
static bool valid_static_path(const char *s, size_t len)
{
    if (len == 0 || len > SIG_STATIC_PATH_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool start = i == 0 || s[i - 1] == '/';
        if (s[i] == '/' ? start || i + 1 == len : !name_char(s[i]) || (start && s[i] == '.'))
            return false;
    }
    return true;
}

static int fail(sig_route *r, int status, const char *reason)
{
    /* nothing half-captured survives a failure */
    r->id = SIG_ROUTE_NONE;
    r->room[0] = r->participant[0] = r->session[0] = r->static_path[0] = '\0';
    r->name[0] = r->access_token[0] = '\0';
    r->has_name = r->has_revision = r->has_access_token = false;
    r->revision = 0;
    r->status = status;
    r->reason = reason;
    return status == 404 ? -SFU_ENOTFOUND : status == 405 ? -SFU_EUNSUPPORTED : -SFU_EMALFORMED;
}

/* Matches `path` (len bytes, after the leading '/') against one pattern;
 * fills caps[] with each parameter's start and length. */
static bool match_pattern(const struct pattern *pt, const char *path, size_t len,
                          const char *caps[4], size_t caplen[4])
{
    size_t pos = 0;
    bool first = true;
    for (size_t i = 0; i < SFU_ARRAY_LEN(pt->seg); i++) {
        const struct seg *sg = &pt->seg[i];
        if (sg->kind == SEG_END)
            return pos == len;
        if (!first) {
            if (pos >= len || path[pos] != '/')
                return false;
            pos++;
        }
        first = false;
        const char *slash = memchr(path + pos, '/', len - pos);
        size_t seglen = sg->kind == SEG_REST ? len - pos
                      : slash ? (size_t)(slash - (path + pos)) : len - pos;
        if (sg->kind == SEG_LIT) {
            if (seglen != strlen(sg->lit) || memcmp(path + pos, sg->lit, seglen) != 0)
                return false;
        } else if (seglen == 0) {
            return false;
        }
        caps[i] = path + pos;
        caplen[i] = seglen;
        pos += seglen;
    }
    return pos == len;
}

static void copy(char *dst, const char *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static int capture(const struct pattern *pt, const char *caps[4], const size_t caplen[4],
                   sig_route *r)
{
    for (size_t i = 0; i < SFU_ARRAY_LEN(pt->seg); i++) {
        const char *c = caps[i];
        size_t n = caplen[i];
        switch (pt->seg[i].kind) {
        case SEG_ROOM:
            if (!sig_route_valid_name(c, n))
                return fail(r, 400, "room name must be 1-64 of A-Z a-z 0-9 _ . -");
            copy(r->room, c, n);
            break;
        case SEG_PARTICIPANT:
            if (!sig_route_valid_name(c, n))
                return fail(r, 400, "participant id must be 1-64 of A-Z a-z 0-9 _ . -");
            copy(r->participant, c, n);
            break;
        case SEG_SESSION:
            /* not our id format, so no such session: 404, like an unknown id */
            if (!sig_route_valid_session_id(c, n))
                return fail(r, 404, "no such session");
            copy(r->session, c, n);
            break;
        case SEG_REST:
            if (!valid_static_path(c, n))
                return fail(r, 404, "no such file");
            copy(r->static_path, c, n);
            break;
        case SEG_END:
            return 0;
        case SEG_LIT:
            break;
        }
    }
    return 0;
}

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* application/x-www-form-urlencoded decoding of s[0..len) into out (NUL
 * terminated). Returns the decoded length, or -1 if malformed or too long. */
static long decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (len - i < 3)
                return -1;
            int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

static bool valid_token(const char *s, size_t len)
{
    /* RFC 6750 section 2.1 b64token:
     * 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
    size_t i = 0;
    if (len == 0 || len > SIG_TOKEN_MAX)
        return false;
    while (i < len && (name_char(s[i]) || s[i] == '~' || s[i] == '+' || s[i] == '/'))
        i++;
    if (i == 0)
        return false;
    while (i < len && s[i] == '=')
        i++;
    return i == len;
}

/* The query parameters each route takes; the rest are ignored unread. */
static bool route_takes(const sig_route *r, const char *key)
{
    return ((r->id == SIG_ROUTE_ROOM_JOIN || r->id == SIG_ROUTE_WHIP) && strcmp(key, "name") == 0) ||
           (r->id == SIG_ROUTE_WHIP && strcmp(key, "participant") == 0) ||
           (r->id == SIG_ROUTE_SESSION_ANSWER && strcmp(key, "revision") == 0) ||
           (r->id == SIG_ROUTE_SESSION_EVENTS && strcmp(key, "access_token") == 0);
}

static int query_value(sig_route *r, const char *key, const char *value, size_t len)
{
    if (!route_takes(r, key))
        return 0;   /* cache busters and the like */
    if (strcmp(key, "name") == 0) {
        if (r->has_name)
            return fail(r, 400, "duplicate query parameter name");
        if (!sig_route_valid_display_name(value, len))
            return fail(r, 400, "name must be 1-64 bytes of UTF-8 text");
        copy(r->name, value, len);
        r->has_name = true;
    } else if (strcmp(key, "participant") == 0) {
        if (r->has_participant_query)
            return fail(r, 400, "duplicate query parameter participant");
        if (!sig_route_valid_name(value, len))
            return fail(r, 400, "participant must be a participant id");
        copy(r->participant_query, value, len);
        r->has_participant_query = true;
    } else if (strcmp(key, "revision") == 0) {
        if (r->has_revision)
            return fail(r, 400, "duplicate query parameter revision");
        if (len == 0 || len > 19 || strspn(value, "0123456789") != len)
            return fail(r, 400, "revision must be a decimal number");
        r->revision = 0;
        for (size_t i = 0; i < len; i++)
            r->revision = r->revision * 10 + (uint64_t)(value[i] - '0');
        r->has_revision = true;
    } else {
        /* RFC 6750 section 2.3: only where a header cannot be sent (EventSource) */
        if (r->has_access_token)
            return fail(r, 400, "duplicate query parameter access_token");
        if (!valid_token(value, len))
            return fail(r, 400, "access_token is malformed");
        copy(r->access_token, value, len);
        r->has_access_token = true;
    }
    return 0;
}

int sig_route_query_arg(sig_route *r, const char *key, const char *value)
{
    if (r->status != 0 || r->id == SIG_ROUTE_NONE)
        return fail(r, r->status ? r->status : 404, r->reason ? r->reason : "no such path");
    return query_value(r, key, value ? value : "", value ? strlen(value) : 0);
}

static int parse_query(sig_route *r, const char *q)
{
    char key[32], value[SIG_TOKEN_MAX + 1];
    while (*q) {
        size_t plen = strcspn(q, "&"), klen = strcspn(q, "=&");
        long kn = decode(q, klen, key, sizeof key);
        /* a key too long or malformed to be one of ours is ignored */
        if (kn > 0 && strlen(key) == (size_t)kn && route_takes(r, key)) {
            const char *v = klen < plen ? q + klen + 1 : q + plen;
            long vn = decode(v, (size_t)(q + plen - v), value, sizeof value);
            if (vn < 0)
                return fail(r, 400, "malformed query string");
            int rc = query_value(r, key, value, (size_t)vn);
            if (rc)
                return rc;
        }
        q += plen;
        if (*q == '&')
            q++;
    }
    return 0;
}

int sig_route_match(const char *method, const char *target, sig_route *out)
{
    memset(out, 0, sizeof *out);
    out->method = sig_method_parse(method);
    size_t len = strcspn(target, "?");
    if (target[0] != '/' || len > PATH_MAX_BYTES)
        return fail(out, 404, "no such path");
    const char *caps[4] = { 0 };
    size_t caplen[4] = { 0 };
    const struct pattern *pt = NULL;
    for (size_t i = 0; i < SFU_ARRAY_LEN(patterns) && !pt; i++)
        if (match_pattern(&patterns[i], target + 1, len - 1, caps, caplen))
            pt = &patterns[i];
    if (!pt)
        return fail(out, 404, "no such path");
    out->allowed = pt->allowed | SIG_METHOD_OPTIONS;
    if (!(out->method & out->allowed))
        return fail(out, 405, "method not allowed");
    out->id = pt->id;
    /* A preflight carries no parameters of its own; the real request that
     * follows gets the precise 400 if there is one. */
    if (out->method == SIG_METHOD_OPTIONS)
        return 0;
    int rc = capture(pt, caps, caplen, out);
    if (rc == 0 && target[len] == '?')
        rc = parse_query(out, target + len + 1);
    return rc;
}
