/* A consumer: one viewer's view of one producer (mediasoup's
 * SimulcastConsumer), embedded in the room's sink. Sans-IO and room-free.
 *
 * It forwards one layer of the producer at a time and keeps the viewer's
 * stream continuous: its sequence numbers and timestamps (seq.h) and its VP8
 * PictureID/TL0PICIDX (vp8.h) run on without a gap or jump across a
 * publisher's restart and across layer switches, since each layer's stream
 * is an epoch of its own and a new epoch continues where the last one
 * stopped. A switch happens only at a keyframe of the target layer; until it
 * comes the current layer keeps flowing. It also holds the viewer's keyframe
 * gate, its join replay state, its retransmission budget, its round-trip
 * time and its audio copies.
 *
 * Layer choice (sfu_consumer_choose) works on qualities, 0 lowest, as the
 * producer ranks its layers: the highest active quality up to the viewer's
 * cap whose bitrate fits the viewer's estimate, the lowest when none fits;
 * down at once, up only once the higher quality has fitted for
 * SFU_CONSUMER_UP_HOLD. Without an estimate: the highest. */
#ifndef SFU_CORE_CONSUMER_H
#define SFU_CORE_CONSUMER_H

#include "sfu/core/audio_copies.h"
#include "sfu/core/common.h"
#include "sfu/core/media.h"
#include "sfu/core/rtcp_sr_rr.h"
#include "sfu/core/seq.h"
#include "sfu/core/vp8.h"

/* Retransmissions per viewer stream: at most `rate` per second on average
 * (0: SFU_CONSUMER_RTX_DEFAULT_RATE), half a second's worth at once. A NACK
 * names up to 17 packets in 4 bytes, so without a budget a viewer's NACK
 * storm makes the SFU send hundreds of times the bytes it receives. The
 * default, 1000/s, is several times what a lossy link needs even for a
 * high-rate video stream. */
#define SFU_CONSUMER_RTX_DEFAULT_RATE 1000
/* A NACKed packet is resent only while it can still be played: while it is
 * younger than two of the viewer's round trips plus what a receiver waits
 * for a repair (BASE), clamped to [BASE, MAX]; without an RTT estimate yet,
 * UNKNOWN. The base is not a jitter buffer's depth: at 30 % loss both ways a
 * packet needs several NACK rounds, and Chromium keeps asking for about a
 * second (a 200 ms base froze video for seconds in tests/e2e/netlab.sh). */
#define SFU_CONSUMER_RTX_USEFUL_BASE SFU_MS(1000)
#define SFU_CONSUMER_RTX_USEFUL_MAX SFU_SEC(2)
#define SFU_CONSUMER_RTX_USEFUL_UNKNOWN SFU_SEC(1)
/* A viewer that asks again for a keyframe within this time after a replay
 * of the same keyframe was not helped by it: the publisher is asked. */
#define SFU_CONSUMER_REPLAY_REPEAT SFU_SEC(1)
/* A higher quality must fit the estimate this long before the viewer moves
 * up to it. */
#define SFU_CONSUMER_UP_HOLD SFU_SEC(2)
/* VP8 temporal layers (TID 0..3): a cap of 3 forwards all of them. */
#define SFU_CONSUMER_ALL_TIDS 3

typedef struct sfu_consumer {
    /* The layer forwarded and its stream's epoch; layer -1 before the
     * first start. */
    int8_t layer;
    uint32_t epoch;
    /* The layer wanted: when it differs from `layer`, a switch waits for
     * its keyframe. */
    int8_t target;
    bool waiting_keyframe;      /* nothing forwarded since the start: gate closed */
    bool draining;              /* `layer` is held back until the next switch (sfu_consumer_drain) */
    bool paused;                /* nothing forwarded (sfu_consumer_set_paused) */
    bool resume_at_key;         /* unpaused: forwarding resumes at the next keyframe */
    /* Layer choice */
    int8_t pinned;              /* >= 0: always this layer (sfu_track_desc.pin_layer); -1: chosen */
    int8_t max_quality;         /* -1: automatic */
    uint32_t limit_bps;         /* the viewer's estimate; 0: none */
    uint32_t climb_bps;         /* no moving up above this (sfu_consumer_set_climb); 0: none */
    int8_t up_quality;          /* the higher quality that fits, since up_since */
    sfu_time up_since;
    uint64_t switches;          /* layer switches done */
    /* VP8 temporal layers forwarded: 0..max_tid; want_tid is where it
     * goes, lower at the next picture, higher at a layer sync picture. */
    uint8_t max_tid, want_tid;
    /* The last keyframe sent (the layer's numbering, epoch `epoch`): a NACK
     * for a packet before it is not answered, the viewer decodes from it. */
    bool have_key;
    uint64_t key_seq;
    /* A replay when it joined: packets [sq_from, sq_to] of epoch sq_epoch go
     * out with squeezed timestamps, sq_anchor_ts being the out timestamp of
     * the newest (keyframe_cache.h), also when resent later. */
    bool squeezed;
    uint32_t sq_epoch;
    uint64_t sq_from, sq_to;
    uint32_t sq_anchor_ts;
    /* The last replay that answered this viewer's PLI/FIR. */
    bool replayed;
    uint64_t replayed_key;
    sfu_time replayed_at;
    /* Round-trip time from the viewer's receiver reports (RFC 3550 6.4.1):
     * the SR sent last, and the estimate; 0 unknown. */
    uint32_t sr_mid32;
    sfu_time sr_at;
    sfu_time rtt;
    bool vp8_restart;
    bool have_fir_seq;
    uint8_t last_fir_seq;
    uint16_t rtx_seq16;
    sfu_time rtx_tat;           /* retransmission budget (GCRA): next theoretical send */
    uint32_t packets, octets;   /* for sender reports */
    sfu_audio_copies copies;    /* audio: copies per packet, from the viewer's loss */
    sfu_seq seq;
    sfu_vp8_rewriter vp8;
} sfu_consumer;

/* What the viewer sends with: first sequence numbers and timestamps are
 * derived from its SSRCs, so they differ between viewers without a random
 * source in the core. */
void sfu_consumer_init(sfu_consumer *c, uint32_t local_ssrc, uint32_t local_rtx_ssrc, uint32_t clock_rate);

/* A new source stream (a new producer, or its layer restarted): forward
 * `layer` (stream `epoch`) from its next keyframe when `gated` (video whose
 * keyframes we see), else from its next packet. */
void sfu_consumer_start(sfu_consumer *c, int layer, uint32_t epoch, bool gated);

/* The layer to move to; `epoch` is its stream's. Returns true when a switch
 * now waits for a keyframe of it (the caller asks the publisher once). */
bool sfu_consumer_set_target(sfu_consumer *c, int layer, uint32_t epoch);
/* A switch down because the viewer's path cannot carry the current layer
 * (far above its estimate): until the target's keyframe the current layer
 * is held back (SFU_CONSUMER_DRAIN) instead of flowing on. What it would
 * send is mostly lost anyway, and behind a policer it keeps the bucket
 * empty, so the keyframe that ends the switch is lost with it and the
 * switch never happens. If the target goes back to the held layer before
 * the switch, that layer resumes at its next keyframe (set_target then
 * returns true: ask for one). No effect without a pending switch. */
void sfu_consumer_drain(sfu_consumer *c);
/* Paused, a consumer forwards nothing: its packets leave the viewer's
 * numbering as a held-back layer's do (SFU_CONSUMER_DRAIN), so nothing
 * looks lost. Unpaused, it resumes at the next keyframe of its layer:
 * returns true then (the caller asks for one). */
bool sfu_consumer_set_paused(sfu_consumer *c, bool paused);
/* Whether a switch waits for a keyframe of the target. */
bool sfu_consumer_switch_pending(const sfu_consumer *c);
/* Whether the consumer waits for a keyframe of `layer` (its first one, or
 * the target of a switch). */
bool sfu_consumer_waits_for(const sfu_consumer *c, int layer);

typedef enum sfu_consumer_gate {
    SFU_CONSUMER_SKIP = 0,      /* not for this viewer (another layer, or before its keyframe) */
    SFU_CONSUMER_FORWARD,
    SFU_CONSUMER_STARTED,       /* the first packet after the gate opened or a switch:
                                   packets after it that arrived before it follow from the cache */
    SFU_CONSUMER_DRAIN,         /* of the layer held back (sfu_consumer_drain): dropped, the
                                   viewer's numbering closes over it (sfu_consumer_drop) */
} sfu_consumer_gate;

/* A packet of `layer` (stream `epoch`): forward it? Opens the gate, or
 * switches, at a keyframe. */
sfu_consumer_gate sfu_consumer_gate_packet(sfu_consumer *c, int layer, uint32_t epoch, bool keyframe);

/* The viewer's sequence number and timestamp for source packet (`epoch`,
 * `seq`, `ts`); squeezed when it was part of the join replay.
 * -SFU_ENOTFOUND for a packet older than the mapping covers. */
int sfu_consumer_map(sfu_consumer *c, uint32_t epoch, uint64_t seq, uint32_t ts, sfu_time now,
                     uint16_t *out_seq16, uint32_t *out_ts);
/* Source packet `seq` is not forwarded (padding, undecodable RED): the
 * viewer's numbering closes over it. */
void sfu_consumer_skip(sfu_consumer *c, uint32_t epoch, uint64_t seq);
/* The timestamp to send source packet `seq` with, given its mapped `ts`
 * (a retransmission of a squeezed packet is squeezed again). */
uint32_t sfu_consumer_squeeze(const sfu_consumer *c, uint32_t epoch, uint64_t seq, uint32_t ts);
/* The PictureID and TL0PICIDX to send a VP8 packet with (vp8.h). */
void sfu_consumer_map_vp8(sfu_consumer *c, const sfu_vp8_desc *d, uint16_t *picture_id, uint8_t *tl0picidx);
/* A copy went out: `bytes` of payload after the RTP header. A fresh
 * keyframe packet (`keyframe`, source seq `seq`) moves the NACK floor. */
void sfu_consumer_sent(sfu_consumer *c, bool retransmission, bool keyframe, uint64_t seq, uint32_t bytes);
/* VP8 temporal layers. The cap the viewer should get (0..3); a lower one
 * takes effect at the next picture, a higher one at a keyframe or at a
 * picture that says it is a layer sync point (Y) for its layer. */
void sfu_consumer_set_max_tid(sfu_consumer *c, uint8_t tid);
/* Whether a VP8 packet passes the temporal cap (applying a pending change
 * at a picture start). A packet without TID always passes. */
bool sfu_consumer_temporal_pass(sfu_consumer *c, const sfu_vp8_desc *d);
/* Whether a packet's temporal layer is one the viewer gets now (for
 * retransmissions and replays, which change nothing). */
bool sfu_consumer_tid_wanted(const sfu_consumer *c, const sfu_vp8_desc *d);
/* A packet of source stream `epoch` that did not pass: the viewer's
 * sequence numbers and PictureIDs close over it. */
void sfu_consumer_drop(sfu_consumer *c, uint32_t epoch, uint64_t seq, const sfu_vp8_desc *d);
/* The next RTX sequence number (RFC 4588). */
uint16_t sfu_consumer_next_rtx_seq(sfu_consumer *c);

/* Retransmission. Which source packet the viewer's `out_seq16` was. */
int sfu_consumer_unmap(const sfu_consumer *c, uint16_t out_seq16, uint32_t *epoch, uint64_t *seq,
                       uint32_t *ts_off);
/* Whether resending source packet (`epoch`, `seq`) could help: not when the
 * viewer decodes from a keyframe sent after it. */
bool sfu_consumer_rtx_useful(const sfu_consumer *c, uint32_t epoch, uint64_t seq);
/* How old a packet may be and still be worth resending to this viewer. */
sfu_time sfu_consumer_rtx_window(const sfu_consumer *c);
/* Generic cell rate algorithm: true when one more retransmission is within
 * the budget of `rate` per second (0: the default) at `now`, and takes it. */
bool sfu_consumer_rtx_take(sfu_consumer *c, uint32_t rate, sfu_time now);

/* Keyframe replays from the producer's cache (keyframe_cache.h). Whether a
 * replay of the keyframe at `from` is worth sending now: a waiting viewer
 * starts on it; a forwarding one gets it again, unless the same replay did
 * not help within SFU_CONSUMER_REPLAY_REPEAT. */
bool sfu_consumer_replay_wanted(const sfu_consumer *c, uint32_t epoch, uint64_t from, sfu_time now);
/* A join replay of [from, to] starts: the mapping starts at `from`, whose
 * out timestamp is first_out_ts; the newest replayed packet has source
 * timestamp anchor_src_ts and first_src_ts is `from`'s. */
void sfu_consumer_replay_join(sfu_consumer *c, uint64_t from, uint64_t to, uint32_t first_src_ts,
                              uint32_t first_out_ts, uint32_t anchor_src_ts);
/* A replay to a forwarding viewer (its PLI) went out. */
void sfu_consumer_replay_done(sfu_consumer *c, uint64_t from, sfu_time now);

/* RTCP. An SR with NTP time `ntp` was sent at `now`. */
void sfu_consumer_sr_sent(sfu_consumer *c, uint64_t ntp, sfu_time now);
/* The viewer's report block on this stream: RTT (when it echoes our last
 * SR), and for audio its loss sets the copies per packet. */
void sfu_consumer_handle_report(sfu_consumer *c, const sfu_rtcp_report_block *b, bool audio, sfu_time now);
/* RFC 5104 4.3.1.2: a FIR with a repeated sequence number is the same
 * request. True for a new one. */
bool sfu_consumer_fir_is_new(sfu_consumer *c, uint8_t seq_nr);

/* Layer choice. One entry per quality, lowest first. */
typedef struct sfu_consumer_quality {
    uint32_t bitrate_bps;
    bool active;
} sfu_consumer_quality;
/* The quality the viewer should get now (see the top of this file); -1
 * when no quality is active. */
int sfu_consumer_choose(sfu_consumer *c, const sfu_consumer_quality *q, int n, int current_quality, sfu_time now);
/* -1: automatic; otherwise the highest quality this viewer wants. */
void sfu_consumer_set_max_quality(sfu_consumer *c, int quality);
void sfu_consumer_set_limit(sfu_consumer *c, uint32_t bps);
/* How high the viewer may move up to now (bwe.h sfu_bwe_climb_bps, its
 * share of it): a quality whose bitrate is above it is not moved up to,
 * though it fits the limit; the up-hold (SFU_CONSUMER_UP_HOLD) runs on
 * meanwhile, so the move follows as soon as the ceiling allows. Moving
 * down and the temporal layers go by the limit alone. 0: no ceiling. */
void sfu_consumer_set_climb(sfu_consumer *c, uint32_t bps);

#endif
