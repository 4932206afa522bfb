/* Node-to-node message envelope: see cluster_msg.h. */
#include "signaling/cluster_msg.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/cluster_store.h"

char *sig_cluster_msg_seal(json_t *o, const char *secret, size_t max)
{
    if (!o)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return NULL;
    char *sealed = sig_cluster_seal(text, secret);
    free(text);
    if (sealed && strlen(sealed) > max) {
        g_free(sealed);
        return NULL;
    }
    return sealed;
}

json_t *sig_cluster_msg_open(const char *text, size_t len, const char *secret, size_t max,
                             const char *feature, char *why, size_t n)
{
    const char *js;
    size_t jl;
    if (!secret || !secret[0]) {
        snprintf(why, n, "no cluster secret: %s", feature);
        return NULL;
    }
    if (len > max || sig_cluster_unseal(text, len, secret, &js, &jl) != 0) {
        snprintf(why, n, "the body's seal does not check with the cluster secret");
        return NULL;
    }
    json_error_t err;
    json_t *o = json_loadb(js, jl, JSON_REJECT_DUPLICATES, &err);
    json_t *v = json_object_get(o, "v");
    if (!json_is_object(o) || !json_is_integer(v) || json_integer_value(v) != 1) {
        json_decref(o);
        snprintf(why, n, "the body is not a version 1 JSON object");
        return NULL;
    }
    return o;
}

const char *sig_cluster_msg_str(json_t *o, const char *key, size_t max)
{
    json_t *v = json_object_get(o, key);
    const char *s = json_string_value(v);
    return s && strlen(s) < max && strlen(s) == json_string_length(v) ? s : NULL;
}
