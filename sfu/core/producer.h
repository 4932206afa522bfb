/* A producer: one published track, what the SFU receives on one recv m-line
 * (mediasoup's Producer). Sans-IO and room-free: it knows its layers, their
 * receive state and repair machinery, and builds the feedback it sends to
 * the publisher; the room decides where packets go.
 *
 * A track is one stream (layer 0) or up to SFU_MAX_LAYERS simulcast
 * encodings (RFC 8853). Each layer has its own SSRC and RTX SSRC (signaled,
 * or learnt from the rid / repaired-rid header extensions, RFC 8852), its
 * own sequence unwrapping, NACK generation, retransmission cache, keyframe
 * requests (to that layer's SSRC), keyframe cache, SR translation, receive
 * statistics and bitrate.
 *
 * Layers are ranked by quality, lowest first (sfu_producer_layer_at):
 * clients list their encodings in different orders (Chromium's rids are
 * whatever the page chose, "q/h/f" or "0/1/2"; Firefox lists the full
 * resolution first), so the producer ranks by what it sees: the frame size
 * of the layer's last keyframe (the VP8 keyframe header, or the H.264 SPS
 * sent with it) once every layer has sent one, else the
 * bitrate measured over the last second. Until either is known the order is
 * the signaled one. The ranking is redone when a layer's keyframe size
 * changes and at each sfu_producer_update_bitrate.
 *
 * Epochs: every layer stream has a number, unique in the room, that changes
 * when its stream does (publisher restart, new SSRC). Viewers' rewriters key
 * on it (seq.h). The room owns the counter and passes it in. */
#ifndef SFU_CORE_PRODUCER_H
#define SFU_CORE_PRODUCER_H

#include "sfu/core/buf.h"
#include "sfu/core/keyframe_cache.h"
#include "sfu/core/keyframe_req.h"
#include "sfu/core/media.h"
#include "sfu/core/nack_gen.h"
#include "sfu/core/red.h"
#include "sfu/core/rtp.h"
#include "sfu/core/rtx_cache.h"
#include "sfu/core/rx_stats.h"
#include "sfu/core/seq.h"
#include "sfu/core/sr_translate.h"
#include "sfu/core/vp8.h"

#define SFU_PRODUCER_RTX_MAX_AGE SFU_SEC(2)  /* older cached packets are too late to help */
/* A keyframe replay from the cache is at most this many packets (and never
 * more than the retransmission cache holds). */
#define SFU_PRODUCER_REPLAY_MAX_PACKETS 512
/* A layer with no media for this long is inactive: layer choice skips it. */
#define SFU_PRODUCER_LAYER_IDLE SFU_MS(1500)

typedef struct sfu_producer_config {
    uint32_t rtx_cache_packets;     /* per layer; 0: 1024 */
    sfu_time keyframe_min_interval; /* at most one PLI/FIR per layer per this */
    sfu_time keyframe_cache_max_age;
} sfu_producer_config;

typedef struct sfu_producer_layer {
    char rid[SFU_RID_MAX];      /* "" for a plain stream or a layer told apart by SSRC */
    uint32_t ssrc;              /* signaled or learnt; 0 until known */
    uint32_t rtx_ssrc;
    uint32_t epoch;
    bool kf_deferred;           /* a keyframe request waits for the next timeout */
    sfu_seq_unwrapper unwrap;
    sfu_nack_gen nack;
    sfu_rtx_cache *cache;       /* video only, layers in use only */
    uint32_t cache_packets;     /* its capacity; 0: no cache (audio) */
    sfu_keyframe_req kf;
    sfu_keyframe_cache kcache;  /* video with a codec whose keyframes we see */
    sfu_sr_translate sr;
    sfu_rx_stats rx;
    uint64_t bytes;             /* received, for the bitrate */
    uint64_t bytes_at_rate;
    sfu_time rate_at;
    uint32_t bitrate_bps;       /* over the last sfu_producer_update_bitrate interval */
    /* VP8 temporal layers (RFC 7741 TID): bytes per TID, and the bitrate of
     * TIDs 0..t over the last interval (tid_bps[3]: all of them). */
    bool has_tid;
    uint64_t tid_bytes[4], tid_bytes_at_rate[4];
    uint32_t tid_bps[4];
    bool have_media;
    /* The stream's first picture was seen (a new stream, layer_restart,
     * starts over): when it was no keyframe, one was asked for at once. */
    bool stream_seen;
    sfu_time last_media_at;
    uint16_t width, height;     /* of its last keyframe (VP8 header, H.264 SPS); 0 unknown */
} sfu_producer_layer;

typedef struct sfu_producer {
    sfu_track_desc desc;        /* what was negotiated (a copy) */
    uint8_t nlayers;            /* 1 for a plain stream */
    bool simulcast;             /* layers told apart by SSRC or rid */
    uint8_t rank[SFU_MAX_LAYERS]; /* rank[q]: the layer of quality q, 0 lowest */
    bool rank_changed;          /* set when the ranking changes; the room clears it */
    /* Layers allocated: SFU_MAX_LAYERS for simulcast video, 1 for a single
     * stream (sfu_producer_update grows it when a renegotiation adds
     * encodings; it never shrinks) and for audio, which never has more. A
     * layer is about 8.8 KB. */
    uint8_t nalloc;
    sfu_producer_config cfg;    /* for layers added later */
    sfu_producer_layer layers[];
} sfu_producer;

/* A received media packet after RTX unwrapping: what fan-out and
 * retransmission need to write a viewer's copy. */
typedef struct sfu_media_pkt {
    sfu_buf *buf;
    const sfu_rtp_hdr *hdr;
    uint8_t layer;
    uint64_t seq;               /* extended, in the layer's numbering */
    uint16_t seq16;
    uint32_t ts;
    bool marker;
    uint16_t payload_off;
    uint16_t payload_len;
    bool keyframe;
    bool has_vp8;
    sfu_vp8_desc vp8;
    bool is_red;                /* RFC 2198: sent with the source's RED payload type */
    bool red_ok;                /* parsed, one codec (the source's), primary not empty */
    sfu_red red;
} sfu_media_pkt;

/* What became of a media packet. */
typedef enum sfu_producer_verdict {
    SFU_PRODUCER_FORWARD = 0,
    SFU_PRODUCER_DUPLICATE,
    SFU_PRODUCER_TOO_OLD,
    SFU_PRODUCER_BAD_RED,       /* RED no viewer could decode: its number is skipped */
} sfu_producer_verdict;

/* A producer for recv track `d`; its layers' epochs come from *epochs.
 * NULL on allocation failure or a track that is not received. */
sfu_producer *sfu_producer_new(const sfu_track_desc *d, const sfu_producer_config *cfg, uint32_t *epochs);
/* Releases every buffer reference it holds. */
void sfu_producer_free(sfu_producer *p);
/* A renegotiation kept the m-line (of the same kind: -SFU_EINVAL otherwise): takes the new description. A layer whose
 * signaled SSRC changed restarts; layers are matched by rid, else position.
 * A single stream that becomes simulcast is reallocated: *pp may move.
 * -SFU_ENOMEM when the layers or a new layer's cache cannot be allocated. */
int sfu_producer_update(sfu_producer **pp, const sfu_track_desc *d, uint32_t *epochs);

/* Whether keyframes of this track are recognized (VP8, H.264). */
bool sfu_producer_sees_keyframes(const sfu_producer *p);

/* The layer that sends with `ssrc` (as media, or as RTX: *is_rtx); -1 none. */
int sfu_producer_find_ssrc(const sfu_producer *p, uint32_t ssrc, bool *is_rtx);
/* A packet of this track with an SSRC not yet known: which layer and
 * whether it is RTX, from the rid / repaired-rid extension (simulcast) or
 * the payload type; the SSRC is learnt. A layer that had another media SSRC
 * restarts with a new epoch from *epochs and *restarted is set (its viewers
 * restart on a keyframe). -1: a simulcast packet that names no known rid. */
int sfu_producer_learn(sfu_producer *p, const sfu_rtp_hdr *h, const uint8_t *pkt, uint32_t *epochs,
                       bool *is_rtx, bool *restarted);

/* Reads `buf` (parsed as `h`) of `layer` into `pkt`: RTX unwrapped when
 * `is_rtx`, payload inspected (keyframe, VP8 descriptor, RED). -SFU_EMALFORMED
 * for an RTX packet without an original sequence number. */
int sfu_producer_read(const sfu_producer *p, int layer, sfu_buf *buf, const sfu_rtp_hdr *h, bool is_rtx,
                      sfu_media_pkt *pkt);
/* One media packet (read above; `resent`: it came as RTX) at `now`: NACK
 * bookkeeping, receive statistics, the cache, keyframe tracking. Sets
 * *want_keyframe when a loss cannot be repaired by NACKs, and when the
 * stream's first picture is no keyframe (VP8, H.264): the SFU came in
 * mid-stream (a relay leg whose owner's first keyframe went out before this
 * node could decrypt it), its keyframe cache is empty, and every viewer will
 * need one, so it is asked for before the first viewer is. */
sfu_producer_verdict sfu_producer_handle_media(sfu_producer *p, sfu_media_pkt *pkt, bool resent, sfu_time now,
                                               bool *want_keyframe);
/* Padding on a layer's media SSRC uses up sequence number *seq: 0 when it is
 * new (viewers' numbering closes over it), -SFU_ESTATE for a duplicate. */
int sfu_producer_handle_padding(sfu_producer *p, int layer, const sfu_rtp_hdr *h, sfu_time now, uint64_t *seq);

/* Cached packet `seq` of `layer`, re-read into `pkt` (with `h` its header
 * storage). -SFU_ENOTFOUND when the cache no longer holds it. */
int sfu_producer_cached(const sfu_producer *p, int layer, uint64_t seq, sfu_time now, sfu_rtp_hdr *h,
                        sfu_media_pkt *pkt);
/* How long ago cached packet `seq` arrived, or -1. */
sfu_time sfu_producer_cached_age(const sfu_producer *p, int layer, uint64_t seq, sfu_time now);
/* Whether the layer's last keyframe can be replayed from the cache now:
 * packets [*from, *to], the newest cached one with RTP time *anchor_ts. */
bool sfu_producer_replay_range(const sfu_producer *p, int layer, sfu_time now, uint64_t *from, uint64_t *to,
                               uint32_t *anchor_ts);
/* The layer whose current stream has `epoch`; -1 none. */
int sfu_producer_layer_of_epoch(const sfu_producer *p, uint32_t epoch);

/* Keyframe requests. want: a keyframe of `layer` is wanted now; true when a
 * request should be sent now (throttled; false also when the SSRC is not
 * known yet: it is then deferred to the timeout). */
bool sfu_producer_want_keyframe(sfu_producer *p, int layer, sfu_time now);
/* Defers a request to the next timeout (no output list at hand). */
void sfu_producer_defer_keyframe(sfu_producer *p, int layer);
/* The publisher's path changed: the next request of every layer goes out
 * past the throttle. */
void sfu_producer_path_changed(sfu_producer *p);
/* Writes a PLI (or FIR when only that was negotiated) for `layer` from
 * `sender_ssrc`; returns its length, 0 when neither was negotiated, or
 * -SFU_ENOSPC. *is_fir says which. */
int sfu_producer_build_keyframe_request(sfu_producer *p, int layer, uint32_t sender_ssrc, uint8_t *dst,
                                        size_t cap, bool *is_fir);

/* Timer work of one layer. NACKs due at `now` are built into dst (0 when
 * none is due). */
int sfu_producer_build_nack(sfu_producer *p, int layer, uint32_t sender_ssrc, sfu_time now, uint8_t *dst,
                            size_t cap);
/* After the NACKs: whether a keyframe request goes out now. `waiting`: a
 * viewer still waits for a keyframe of this layer (a lost request, or one
 * asked before the SSRC was known, is repeated then, throttled). */
bool sfu_producer_keyframe_timeout(sfu_producer *p, int layer, sfu_time now, bool waiting);
sfu_time sfu_producer_poll_timeout(const sfu_producer *p);

/* RFC 3550 6.4.1: the report block on `layer`; false before its first packet. */
bool sfu_producer_report_block(sfu_producer *p, int layer, sfu_time now, sfu_rtcp_report_block *b);
/* The publisher's SR for `ssrc` (any of its layers). */
void sfu_producer_handle_sr(sfu_producer *p, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts, sfu_time now);
/* NTP and RTP time of `now` for a viewer of `layer` whose timestamps are the
 * layer's plus ts_off; -SFU_ESTATE before the publisher's first SR. */
int sfu_producer_sr_get(const sfu_producer *p, int layer, sfu_time now, uint32_t ts_off, uint64_t *ntp,
                        uint32_t *rtp_ts);

/* Recomputes every layer's bitrate over the time since the last call, and
 * the ranking. */
void sfu_producer_update_bitrate(sfu_producer *p, sfu_time now);
/* What the track received over the last interval, all layers. */
uint32_t sfu_producer_bitrate(const sfu_producer *p);
/* The layer of quality `q` (0 lowest); -1 out of range. */
int sfu_producer_layer_at(const sfu_producer *p, int q);
/* The quality of `layer`; -1 out of range. */
int sfu_producer_quality_of(const sfu_producer *p, int layer);
/* Whether `layer` carried media lately (SFU_PRODUCER_LAYER_IDLE). */
bool sfu_producer_layer_active(const sfu_producer *p, int layer, sfu_time now);

#endif
