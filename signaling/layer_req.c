/* Layer selection request bodies (layer_req.h), read with jansson. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "sfu/core/common.h"
#include "signaling/layer_req.h"

/* RFC 8851 rid-id: 1*(alpha-numeric / "-" / "_"); a mid (RFC 5888) is a
 * token, restricted here to what our own answers use and clients send. */
static bool valid_id(const char *s, size_t len, size_t max, bool rid)
{
    if (len == 0 || len >= max)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || (!rid && (c == '.' || c == '~' || c == '+'));
        if (!ok)
            return false;
    }
    return true;
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -SFU_EMALFORMED;
}

int sig_layer_req_parse(const char *body, size_t len, sig_layer_req *out, char *err, size_t errlen)
{
    if (len > SIG_LAYER_REQ_MAX_BYTES)
        return fail(err, errlen, "the layer request is too large");
    sig_layer_req r = { .max_layer = -1 };
    json_error_t jerr;
    json_t *doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!doc)
        return fail(err, errlen, "the layer request is not valid JSON");
    int rc = 0;
    const char *msg = NULL;
    if (!json_is_object(doc)) {
        msg = "the layer request must be a JSON object";
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        if (strcmp(key, "mediaId") == 0) {
            if (!json_is_string(v) || !valid_id(json_string_value(v), json_string_length(v),
                                               sizeof r.mid, false)) {
                msg = "mediaId must be the mid of a video track (a short token)";
                goto out;
            }
            memcpy(r.mid, json_string_value(v), json_string_length(v) + 1);
        } else if (strcmp(key, "encodingId") == 0) {
            if (!json_is_string(v) || !valid_id(json_string_value(v), json_string_length(v),
                                               sizeof r.rid, true)) {
                msg = "encodingId must be a rid (1-15 of A-Z a-z 0-9 - _)";
                goto out;
            }
            memcpy(r.rid, json_string_value(v), json_string_length(v) + 1);
        } else if (strcmp(key, "maxLayer") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) >= SFU_MAX_LAYERS) {
                msg = "maxLayer must be an integer from 0 (lowest) to 2";
                goto out;
            }
            r.max_layer = (int)json_integer_value(v);
        } else if (strstr(key, "LayerId")) {
            msg = "spatial and temporal layer ids are not supported: give encodingId (simulcast)";
            goto out;
        } else {
            msg = "unknown field in the layer request (known: mediaId, encodingId, maxLayer)";
            goto out;
        }
    }
    if (r.rid[0] && r.max_layer >= 0)
        msg = "give encodingId or maxLayer, not both";
out:
    json_decref(doc);
    if (msg)
        return fail(err, errlen, msg);
    *out = r;
    return rc;
}
