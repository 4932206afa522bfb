/* VP8 RTP payload descriptor (RFC 7741 4.2): parse, rewrite the PictureID
 * and TL0PICIDX per viewer, and keep them continuous across a publisher's
 * restart or a simulcast layer switch. */
#ifndef SFU_CORE_VP8_H
#define SFU_CORE_VP8_H

#include "sfu/core/common.h"

/* The longest descriptor: 1 + X + 2 (PictureID) + TL0PICIDX + T/K. */
#define SFU_VP8_MAX_DESC 6

typedef struct sfu_vp8_desc {
    bool non_ref;               /* N: may be discarded without harm */
    bool start;                 /* S: this packet starts a VP8 partition */
    uint8_t pid;                /* partition index, 0..7 */
    bool has_picture_id;        /* I */
    bool picture_id_15;         /* M: the source sent the 15-bit form */
    uint16_t picture_id;        /* 7 or 15 bits */
    bool has_tl0picidx;         /* L */
    uint8_t tl0picidx;
    bool has_tid;               /* T */
    uint8_t tid;                /* temporal layer, 0..3 */
    bool layer_sync;            /* Y */
    bool has_keyidx;            /* K */
    uint8_t keyidx;             /* 0..31 */
    uint8_t desc_len;           /* bytes of descriptor; the VP8 data follows */
    bool keyframe;              /* starts a keyframe: S=1, PID=0, payload header P=0 */
} sfu_vp8_desc;

/* Parses the descriptor at the start of an RTP payload. -SFU_EMALFORMED if
 * it is truncated or no VP8 data follows it. */
int sfu_vp8_parse(const uint8_t *payload, size_t len, sfu_vp8_desc *d);

/* RFC 6386 9.1: the frame size in a keyframe's uncompressed header.
 * `data` is the VP8 payload after the descriptor (the payload header first).
 * -SFU_EMALFORMED when it is not the start of a keyframe or is too short. */
int sfu_vp8_keyframe_size(const uint8_t *data, size_t len, uint16_t *width, uint16_t *height);

/* Writes d's descriptor into dst with the given PictureID (always in the
 * 15-bit M=1 form, when d has one) and TL0PICIDX (when d has one); every
 * other field is copied. Returns the new descriptor's length, which may
 * differ from d->desc_len: the caller sends it followed by
 * payload + d->desc_len. -SFU_ENOSPC if cap is too small. */
int sfu_vp8_write_desc(uint8_t *dst, size_t cap, const sfu_vp8_desc *d,
                       uint16_t picture_id, uint8_t tl0picidx);

#define SFU_VP8_HISTORY 16     /* recent pictures remembered for late packets */

/* One field's mapping from a source's numbering to a viewer's. */
typedef struct sfu_vp8_counter {
    bool valid;
    bool restart_pending;       /* the next value starts a new source */
    uint8_t in_bits;            /* width the source used: 7, 15 or 8 */
    uint16_t last_in;
    uint16_t last_out;
    uint16_t max_out;           /* highest output so far (serial order) */
    /* The newest values mapped, so that a late packet (a retransmission)
     * maps as its picture did even when dropped pictures came between. */
    uint8_t nhist, hist_next;
    uint16_t hist_in[SFU_VP8_HISTORY], hist_out[SFU_VP8_HISTORY];
} sfu_vp8_counter;

/* Per viewer and stream: maps source PictureIDs (7 or 15 bits, output 15
 * bits) and TL0PICIDX (8 bits) so the viewer sees one continuous sequence.
 * Embedded in the viewer's state; sans-IO. */
typedef struct sfu_vp8_rewriter {
    sfu_vp8_counter picture_id;
    sfu_vp8_counter tl0picidx;
} sfu_vp8_rewriter;

void sfu_vp8_rewriter_init(sfu_vp8_rewriter *rw);

/* Maps one packet's PictureID and TL0PICIDX. `restarted` marks the first
 * packet from a new source (publisher restart, SSRC change, layer switch):
 * its values then continue one past the highest ever given to this viewer,
 * and later packets follow the new source's own steps. Packets of the same
 * picture map to the same output; reordered packets map consistently.
 * A field the descriptor lacks leaves its output untouched. */
void sfu_vp8_rewriter_map(sfu_vp8_rewriter *rw, const sfu_vp8_desc *d, bool restarted,
                          uint16_t *picture_id, uint8_t *tl0picidx);

/* The picture `d` belongs to is not forwarded to this viewer (a VP8
 * temporal layer it does not get): the next forwarded picture's PictureID
 * follows the last forwarded one's, so the viewer sees no gap. TL0PICIDX is
 * untouched (only pictures above temporal layer 0 are dropped). */
void sfu_vp8_rewriter_drop(sfu_vp8_rewriter *rw, const sfu_vp8_desc *d);

#endif
