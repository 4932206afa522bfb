/* The core's outputs for one call: packets to protect and send, and events.
 *
 * The shell owns one sfu_out per worker, resets it before each input, and
 * drains it afterwards. An RTP output is a rewritten header (plus, for VP8,
 * the rewritten payload descriptor) in `head`, followed by `body_len` bytes of
 * the referenced buffer from `body_off`: the source buffer is shared, never
 * modified. An RTCP output the core built is whole in
 * `head` (body_len == 0), or, when larger, in a pool buffer with head_len == 0. */
#ifndef SFU_CORE_OUT_H
#define SFU_CORE_OUT_H

#include "sfu/core/buf.h"
#include "sfu/core/common.h"

#define SFU_OUT_HEAD_MAX 320

typedef enum sfu_out_type {
    SFU_OUT_RTP = 1,
    SFU_OUT_RTCP,
    SFU_OUT_LEG_EXPIRED,        /* the liveness timer ran out for `leg` */
    SFU_OUT_ACTIVE_SPEAKER,     /* the room's active speaker is now `participant`;
                                 * leg 0, no bytes to send */
} sfu_out_type;

typedef struct sfu_out_item {
    sfu_out_type type;
    sfu_leg_id leg;
    sfu_buf *buf;               /* a reference the drainer releases; may be NULL */
    uint16_t body_off;
    uint16_t body_len;
    uint16_t head_len;
    uint32_t participant;       /* SFU_OUT_ACTIVE_SPEAKER only; unset for other types */
    uint8_t head[SFU_OUT_HEAD_MAX];
} sfu_out_item;

typedef struct sfu_out {
    sfu_out_item *items;
    uint32_t count;
    uint32_t capacity;
    uint64_t dropped;           /* items refused because the list was full */
} sfu_out;

int sfu_out_init(sfu_out *out, uint32_t capacity);
void sfu_out_deinit(sfu_out *out);
/* Releases every item's buffer reference and empties the list. */
void sfu_out_reset(sfu_out *out);
/* The next free item, zeroed but for `type` and `leg`; NULL when full
 * (counted in `dropped`). */
sfu_out_item *sfu_out_push(sfu_out *out, sfu_out_type type, sfu_leg_id leg);
/* Copies an item's head and body into `dst` (at most `cap` bytes) and
 * returns the length, or -SFU_ENOSPC. */
int sfu_out_item_flatten(const sfu_out_item *item, uint8_t *dst, size_t cap);

#endif
