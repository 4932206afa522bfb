/* The body of a room session's subscription request (docs/API.md
 * "Subscriptions"): which participants' video the client wants and at what
 * size, a JSON object
 *
 *   {"video": [{"participant": "51bc79ba", "maxLayer": 1},
 *              {"participant": "0c2f9a11", "maxWidth": 320, "maxHeight": 180}]}
 *   {"video": []}                   no video
 *   {"video": null} or {}           everyone's video, as m-lines allow (the default)
 *
 * The list's order is the client's priority when m-lines are short. Pure: no
 * I/O; the result holds copies of what it read. */
#ifndef SIG_SUB_REQ_H
#define SIG_SUB_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu/core/media.h"

#define SIG_SUB_REQ_MAX_BYTES 4096
#define SIG_SUB_MAX 32              /* entries; SIG_RENEG_MAX_SUBS */
#define SIG_SUB_MAX_PIXELS 8192     /* maxWidth, maxHeight */

typedef struct sig_sub_entry {
    uint32_t participant;           /* non-zero, never an audio slot number */
    int max_layer;                  /* 0 lowest; -1 not given */
    uint16_t max_width, max_height; /* 0 not given */
} sig_sub_entry;

typedef struct sig_sub_req {
    bool video_on;                  /* false: the default, everyone's video */
    unsigned n;
    sig_sub_entry e[SIG_SUB_MAX];
} sig_sub_req;

/* 0, or -SFU_EMALFORMED with one line in err: not a JSON object, an unknown
 * field, an entry that is not an object, a participant that is not 8
 * lowercase hex digits or is listed twice, maxLayer outside 0..2, a size
 * outside 1..SIG_SUB_MAX_PIXELS, maxLayer with a size, more than SIG_SUB_MAX
 * entries or SIG_SUB_REQ_MAX_BYTES bytes. `out` is untouched on error. */
int sig_sub_req_parse(const char *body, size_t len, sig_sub_req *out, char *err, size_t errlen);

/* The cap an entry asks for among `n` layers whose sizes (lowest quality
 * first; 0 unknown) are given: maxLayer as given; for a size, the lowest
 * layer at least as large, or -1 (no cap: the automatic choice) when only
 * the top one is or none is; -1 without either. *unresolved (may be NULL)
 * says a size was given but a layer's size is not known yet (then -1). */
int sig_sub_layer_for(const sig_sub_entry *e, const uint16_t *widths, const uint16_t *heights, unsigned n,
                      bool *unresolved);

#endif
