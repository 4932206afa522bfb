/* Subscription request bodies (sub_req.h), read with jansson. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/core/common.h"
#include "signaling/sub_req.h"

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -SFU_EMALFORMED;
}

/* A participant id as the server writes it: 8 lowercase hex digits, not 0,
 * not a number the server keeps for audio slots. */
static uint32_t parse_participant(const json_t *v)
{
    if (!json_is_string(v) || json_string_length(v) != 8)
        return 0;
    const char *s = json_string_value(v);
    uint32_t p = 0;
    for (unsigned i = 0; i < 8; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        p = p << 4 | (uint32_t)d;
    }
    return sfu_is_audio_slot(p) ? 0 : p;
}

static const char *parse_entry(const json_t *obj, sig_sub_entry *e)
{
    if (!json_is_object(obj))
        return "each video entry must be a JSON object";
    *e = (sig_sub_entry){ .max_layer = -1 };
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (strcmp(key, "participant") == 0) {
            if (!(e->participant = parse_participant(v)))
                return "participant must be a participant id (8 lowercase hex digits)";
        } else if (strcmp(key, "maxLayer") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= SFU_MAX_LAYERS)
                return "maxLayer must be an integer from 0 (lowest) to 2";
            e->max_layer = (int)json_integer_value(v);
        } else if (strcmp(key, "maxWidth") == 0 || strcmp(key, "maxHeight") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > SIG_SUB_MAX_PIXELS)
                return "maxWidth and maxHeight must be integers from 1 to 8192";
            *(key[3] == 'W' ? &e->max_width : &e->max_height) = (uint16_t)json_integer_value(v);
        } else {
            return "unknown field in a video entry (known: participant, maxLayer, maxWidth, maxHeight)";
        }
    }
    if (!e->participant)
        return "each video entry needs a participant";
    if (e->max_layer >= 0 && (e->max_width || e->max_height))
        return "give maxLayer or maxWidth/maxHeight, not both";
    return NULL;
}

int sig_sub_req_parse(const char *body, size_t len, sig_sub_req *out, char *err, size_t errlen)
{
    if (len > SIG_SUB_REQ_MAX_BYTES)
        return fail(err, errlen, "the subscription request is too large");
    json_error_t jerr;
    json_t *doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!doc)
        return fail(err, errlen, "the subscription request is not valid JSON");
    sig_sub_req *r = calloc(1, sizeof *r);
    const char *msg = r ? NULL : "out of memory";
    const char *key;
    json_t *v;
    if (!msg && !json_is_object(doc))
        msg = "the subscription request must be a JSON object";
    else if (!msg) {
        json_object_foreach(doc, key, v) {
            if (strcmp(key, "video") != 0) {
                msg = "unknown field in the subscription request (known: video)";
                break;
            }
            if (json_is_null(v))
                continue;
            if (!json_is_array(v)) {
                msg = "video must be an array of entries, or null";
                break;
            }
            if (json_array_size(v) > SIG_SUB_MAX) {
                msg = "video lists more than 32 participants";
                break;
            }
            r->video_on = true;
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item) {
                if ((msg = parse_entry(item, &r->e[r->n])))
                    break;
                for (unsigned k = 0; k < r->n && !msg; k++)
                    if (r->e[k].participant == r->e[r->n].participant)
                        msg = "a participant is listed twice";
                if (msg)
                    break;
                r->n++;
            }
        }
    }
    json_decref(doc);
    if (!msg)
        *out = *r;
    free(r);
    return msg ? fail(err, errlen, msg) : 0;
}

int sig_sub_layer_for(const sig_sub_entry *e, const uint16_t *widths, const uint16_t *heights, unsigned n,
                      bool *unresolved)
{
    if (unresolved)
        *unresolved = false;
    if (e->max_layer >= 0)
        return e->max_layer;
    if ((!e->max_width && !e->max_height) || n <= 1)
        return -1;      /* one layer: nothing to choose */
    for (unsigned i = 0; i < n; i++) {
        if (!heights[i] || !widths[i]) {
            if (unresolved)
                *unresolved = true;
            return -1;
        }
    }
    for (unsigned i = 0; i + 1 < n; i++)
        if (widths[i] >= e->max_width && heights[i] >= e->max_height)
            return (int)i;
    return -1;
}
