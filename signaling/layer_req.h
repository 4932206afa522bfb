/* The body of a layer selection request (docs/API.md "Simulcast layers"):
 * the WHEP draft's video layer selection extension
 * (rel="urn:ietf:params:whep:ext:core:layer"), a JSON object
 *
 *   {"mediaId": "<mid>", "encodingId": "<rid>"}    pin that encoding
 *   {"mediaId": "<mid>"} or {}                      back to automatic
 *   {"mediaId": "<mid>", "maxLayer": 0..2}          cap at that quality (ours)
 *
 * Pure: no I/O; the result owns copies of what it read. */
#ifndef SIG_LAYER_REQ_H
#define SIG_LAYER_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "sfu/core/media.h"

#define SIG_LAYER_REQ_MAX_BYTES 1024

typedef struct sig_layer_req {
    char mid[SFU_MID_MAX];          /* "" when not given: the first video track */
    char rid[SFU_RID_MAX];          /* encodingId; "" when not given */
    int max_layer;                  /* maxLayer, 0 lowest; -1 when not given */
} sig_layer_req;

/* 0, or -SFU_EMALFORMED with one line in err: not a JSON object, a field of
 * the wrong type or size, an unknown field (spatialLayerId and
 * temporalLayerId included: simulcast only), encodingId with maxLayer, or
 * more than SIG_LAYER_REQ_MAX_BYTES. `out` is untouched on error. */
int sig_layer_req_parse(const char *body, size_t len, sig_layer_req *out, char *err, size_t errlen);

#endif
