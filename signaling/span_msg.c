#include "signaling/span_msg.h"

#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/core/common.h"
#include "signaling/cluster_msg.h"

/* A display name as the API takes it: at most SIG_DISPLAY_NAME_MAX bytes
 * of UTF-8 (jansson checked that), no control characters. */
static bool valid_name(const char *s, size_t len)
{
    if (len > SIG_DISPLAY_NAME_MAX || strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* ---- encode ---- */

static json_t *members_json(const sig_span_member *m, unsigned n)
{
    json_t *arr = json_array();
    for (unsigned i = 0; i < n; i++) {
        char pid[9];
        if (!m[i].participant || !valid_name(m[i].name, strlen(m[i].name))) {
            json_decref(arr);
            return NULL;
        }
        snprintf(pid, sizeof pid, "%08x", m[i].participant);
        json_array_append_new(arr, json_pack("{s:s,s:s}", "id", pid, "name", m[i].name));
    }
    return arr;
}

char *sig_span_request_encode(const sig_span_request *r, const char *secret)
{
    if (!secret || !secret[0] || r->nmembers > SIG_SPAN_MEMBERS_MAX ||
        !sig_cluster_valid_node_id(r->node) || !sig_route_valid_name(r->room, strlen(r->room)) ||
        !r->url[0])
        return NULL;
    json_t *members = members_json(r->members, r->nmembers);
    if (!members)
        return NULL;
    json_t *o = json_pack("{s:i,s:s,s:s,s:s,s:I,s:o}", "v", 1, "node", r->node, "url", r->url, "room",
                          r->room, "ts", (json_int_t)r->ts, "members", members);
    return sig_cluster_msg_seal(o, secret, SIG_SPAN_BODY_MAX);
}

char *sig_span_response_encode(const sig_span_response *r, const char *secret)
{
    if (!secret || !secret[0] || r->nmembers > SIG_SPAN_MEMBERS_MAX ||
        !sig_cluster_valid_node_id(r->node) || !sig_route_valid_name(r->room, strlen(r->room)))
        return NULL;
    json_t *members = members_json(r->members, r->nmembers);
    if (!members)
        return NULL;
    json_t *o = json_pack("{s:i,s:s,s:s,s:o}", "v", 1, "node", r->node, "room", r->room, "members", members);
    return sig_cluster_msg_seal(o, secret, SIG_SPAN_BODY_MAX);
}

/* ---- decode ---- */

#define WHY(...) (snprintf(why, n, __VA_ARGS__), -SFU_EMALFORMED)

static uint32_t parse_pid(const char *pid)
{
    if (!pid || strlen(pid) != 8 || strspn(pid, "0123456789abcdef") != 8)
        return 0;
    return (uint32_t)strtoul(pid, NULL, 16);
}

static int members_decode(json_t *o, sig_span_member *out, unsigned *nout, char *why, size_t n)
{
    json_t *arr = json_object_get(o, "members");
    if (!json_is_array(arr) || json_array_size(arr) > SIG_SPAN_MEMBERS_MAX)
        return WHY("members is not an array of at most %d", SIG_SPAN_MEMBERS_MAX);
    size_t i;
    json_t *m;
    json_array_foreach(arr, i, m) {
        if (!json_is_object(m))
            return WHY("a member is not an object");
        uint32_t pid = parse_pid(sig_cluster_msg_str(m, "id", 9));
        json_t *jname = json_object_get(m, "name");
        const char *name = json_string_value(jname);
        if (!pid)
            return WHY("bad member id");
        if (!name || !valid_name(name, json_string_length(jname)))
            return WHY("bad member name");
        for (size_t k = 0; k < i; k++)
            if (out[k].participant == pid)
                return WHY("member %08x twice", pid);
        out[i].participant = pid;
        g_strlcpy(out[i].name, name, sizeof out[i].name);
    }
    *nout = (unsigned)json_array_size(arr);
    return 0;
}

int sig_span_request_decode(const char *text, size_t len, const char *secret, int64_t now_s,
                            sig_span_request *out, char *why, size_t n)
{
    json_t *o = sig_cluster_msg_open(text, len, secret, SIG_SPAN_BODY_MAX, "spanning rooms are off", why, n);
    if (!o)
        return -SFU_EMALFORMED;
    sig_span_request *r = g_new0(sig_span_request, 1);
    const char *node = sig_cluster_msg_str(o, "node", sizeof r->node);
    const char *url = sig_cluster_msg_str(o, "url", sizeof r->url);
    const char *room = sig_cluster_msg_str(o, "room", sizeof r->room);
    json_t *ts = json_object_get(o, "ts");
    char uwhy[128];
    int rc = 0;
    if (!node || !sig_cluster_valid_node_id(node))
        rc = WHY("bad node id");
    else if (!url || sig_cluster_check_public_url(url, uwhy, sizeof uwhy) != 0)
        rc = WHY("bad url");
    else if (!room || !sig_route_valid_name(room, strlen(room)))
        rc = WHY("bad room name");
    else if (!json_is_integer(ts) || json_integer_value(ts) < now_s - SIG_SPAN_MAX_SKEW_S ||
             json_integer_value(ts) > now_s + SIG_SPAN_MAX_SKEW_S)
        rc = WHY("stale or future timestamp");
    else
        rc = members_decode(o, r->members, &r->nmembers, why, n);
    if (rc == 0) {
        g_strlcpy(r->node, node, sizeof r->node);
        g_strlcpy(r->url, url, sizeof r->url);
        g_strlcpy(r->room, room, sizeof r->room);
        r->ts = json_integer_value(ts);
        *out = *r;
    }
    g_free(r);
    json_decref(o);
    return rc;
}

int sig_span_response_decode(const char *text, size_t len, const char *secret, const char *room,
                             sig_span_response *out, char *why, size_t n)
{
    json_t *o = sig_cluster_msg_open(text, len, secret, SIG_SPAN_BODY_MAX, "spanning rooms are off", why, n);
    if (!o)
        return -SFU_EMALFORMED;
    sig_span_response *r = g_new0(sig_span_response, 1);
    const char *node = sig_cluster_msg_str(o, "node", sizeof r->node);
    const char *rm = sig_cluster_msg_str(o, "room", sizeof r->room);
    int rc = 0;
    if (!node || !sig_cluster_valid_node_id(node))
        rc = WHY("bad node id");
    else if (!rm || !sig_route_valid_name(rm, strlen(rm)) || strcmp(rm, room) != 0)
        rc = WHY("not an answer for this room");
    else
        rc = members_decode(o, r->members, &r->nmembers, why, n);
    if (rc == 0) {
        g_strlcpy(r->node, node, sizeof r->node);
        g_strlcpy(r->room, rm, sizeof r->room);
        *out = *r;
    }
    g_free(r);
    json_decref(o);
    return rc;
}

/* ---- the star's rules ---- */

unsigned sig_span_offer(const sig_span_entry *in, unsigned n, bool owner, const char *to,
                        sig_span_member *out, unsigned max)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n && k < max; i++) {
        bool pulled = in[i].origin[0] != '\0';
        if (owner ? strcmp(in[i].origin, to) == 0 : pulled)
            continue;
        out[k++] = in[i].m;
    }
    return k;
}

static bool has(const uint32_t *set, unsigned n, uint32_t v)
{
    for (unsigned i = 0; i < n; i++)
        if (set[i] == v)
            return true;
    return false;
}

void sig_span_diff(const uint32_t *have, unsigned nhave, const uint32_t *local, unsigned nlocal,
                   const sig_span_member *want, unsigned nwant, unsigned *open, unsigned *nopen,
                   uint32_t *close, unsigned *nclose)
{
    *nopen = *nclose = 0;
    for (unsigned i = 0; i < nwant; i++)
        if (!has(have, nhave, want[i].participant) && !has(local, nlocal, want[i].participant))
            open[(*nopen)++] = i;
    for (unsigned i = 0; i < nhave; i++) {
        bool offered = false;
        for (unsigned k = 0; k < nwant && !offered; k++)
            offered = want[k].participant == have[i];
        if (!offered)
            close[(*nclose)++] = have[i];
    }
}
