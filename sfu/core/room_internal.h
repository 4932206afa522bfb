/* The forwarding engine's own state, shared by room.c (legs, bindings,
 * timers, liveness), room_rtp.c (the packet path) and room_rtcp.c (feedback
 * in and reports out). Not part of the public API. */
#ifndef SFU_CORE_ROOM_INTERNAL_H
#define SFU_CORE_ROOM_INTERNAL_H

#include "sfu/core/audio_copies.h"
#include "sfu/core/keyframe_cache.h"
#include "sfu/core/keyframe_req.h"
#include "sfu/core/nack_gen.h"
#include "sfu/core/red.h"
#include "sfu/core/room.h"
#include "sfu/core/rtcp_twcc.h"
#include "sfu/core/rtp.h"
#include "sfu/core/rtx_cache.h"
#include "sfu/core/seq.h"
#include "sfu/core/sink_repair.h"
#include "sfu/core/speaker.h"
#include "sfu/core/sr_translate.h"
#include "sfu/core/vp8.h"

#define ROOM_REPORT_INTERVAL SFU_SEC(1)
#define ROOM_TWCC_INTERVAL SFU_MS(100)
#define ROOM_TWCC_MAX 256               /* arrivals held per leg between feedbacks */
#define ROOM_RTX_MAX_AGE SFU_SEC(2)     /* older cached packets are too late to help */
/* Retransmissions per viewer stream: at most cfg.max_rtx_per_second on
 * average, half a second's worth at once. A NACK names up to 17 packets in
 * 4 bytes, so without a budget a viewer's NACK storm makes the SFU send
 * hundreds of times the bytes it receives. The default, 1000/s, is several
 * times what a lossy link needs even for a high-rate video stream. */
#define ROOM_RTX_DEFAULT_RATE 1000
/* A keyframe replay from the cache is at most this many packets (and never
 * more than the retransmission cache holds). */
#define ROOM_REPLAY_MAX_PACKETS 512
/* A viewer that asks again for a keyframe within this time after a replay
 * of the same keyframe was not helped by it: the publisher is asked. */
#define ROOM_REPLAY_REPEAT SFU_SEC(1)
/* A NACKed packet is resent only while it can still be played: while it is
 * younger than two of the viewer's round trips plus what a receiver waits
 * for a repair (ROOM_RTX_USEFUL_BASE), clamped to [BASE, ROOM_RTX_MAX_AGE];
 * without an RTT estimate yet, ROOM_RTX_USEFUL_UNKNOWN. The base is not a
 * jitter buffer's depth: at 30 % loss both ways a packet needs several NACK
 * rounds, and Chromium keeps asking for about a second (a 200 ms base froze
 * video for seconds in tests/e2e/netlab.sh). */
#define ROOM_RTX_USEFUL_BASE SFU_MS(1000)
#define ROOM_RTX_USEFUL_UNKNOWN SFU_SEC(1)

/* A sink's reference to a source, and a fan-out entry: leg slot and track. */
typedef struct room_ref {
    uint16_t slot;
    uint8_t track;
} room_ref;

/* RFC 3550 A.3 and A.8: what a receiver report says about one source. */
typedef struct room_rx_stats {
    bool started;
    uint64_t base_seq;
    uint64_t received;
    uint64_t expected_prior, received_prior;
    bool have_transit;
    int64_t transit;
    uint32_t jitter_q4;         /* jitter * 16 */
    uint32_t lsr;               /* middle 32 bits of the last SR's NTP time */
    sfu_time lsr_at;
} room_rx_stats;

/* What the SFU receives on an m-line (recv == true). */
typedef struct room_source {
    uint32_t ssrc;              /* signaled or learned; 0 until known */
    uint32_t rtx_ssrc;
    uint32_t epoch;             /* room-unique; changes when the stream does */
    bool kf_deferred;           /* a keyframe request waits for handle_timeout */
    sfu_seq_unwrapper unwrap;
    sfu_nack_gen nack;
    sfu_rtx_cache *cache;       /* video only */
    sfu_keyframe_req kf;
    sfu_keyframe_cache kcache;  /* video with a codec whose keyframes we see */
    sfu_sr_translate sr;
    room_rx_stats rx;
    uint64_t bytes;             /* received, for the bitrate */
    uint64_t bytes_at_rate;     /* `bytes` when bitrate_bps was last computed */
    sfu_time rate_at;
    uint32_t bitrate_bps;       /* over the last report interval */
    uint32_t fanout_start, fanout_count;
} room_source;

/* What the SFU sends on an m-line (send == true). */
typedef struct room_sink {
    bool bound;
    uint32_t participant;       /* bound to this participant's first source of the kind */
    bool has_src;
    room_ref src;
    uint32_t src_epoch;         /* the epoch being forwarded; 0 none yet */
    bool waiting_keyframe;
    /* The last keyframe sent (source numbering, epoch src_epoch): a NACK for
     * a packet before it is not answered, the viewer decodes from it. */
    bool have_key;
    uint64_t key_seq;
    /* A replay to this sink when it joined: source packets [sq_from, sq_to]
     * go out with squeezed timestamps, sq_anchor_ts being the out timestamp
     * of the newest (keyframe_cache.h), also when resent later. */
    bool squeezed;
    uint64_t sq_from, sq_to;
    uint32_t sq_anchor_ts;
    /* The last replay that answered this viewer's PLI/FIR. */
    bool replayed;
    uint64_t replayed_key;
    sfu_time replayed_at;
    /* Round-trip time from the viewer's receiver reports (RFC 3550 6.4.1):
     * the SR we sent last, and the estimate; 0 unknown. */
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
    sfu_sink_repair repair;     /* video: keyframe on a break, copies on loss (all zero: init) */
    sfu_seq seq;
    sfu_vp8_rewriter vp8;
} room_sink;

typedef struct room_track {
    room_source src;
    room_sink sink;
} room_track;

typedef struct room_leg {
    sfu_leg_id id;
    uint16_t slot;              /* index in room->legs */
    uint32_t participant;
    sfu_leg_desc desc;
    sfu_time last_alive;
    bool consent_held;          /* the ICE layer holds RFC 7675 consent: alive */
    bool expired;
    sfu_time next_report_at;
    sfu_time next_twcc_at;
    uint8_t twcc_fb_count;
    bool twcc_have_base;
    uint16_t twcc_base_seq16;   /* the next feedback starts here */
    uint32_t twcc_media_ssrc;
    uint32_t ntwcc;
    sfu_twcc_arrival twcc[ROOM_TWCC_MAX];
    sfu_time rate_window_at;    /* max_publish_bps accounting */
    uint64_t rate_window_bytes;
    room_track tracks[SFU_MAX_TRACKS];
} room_leg;

struct sfu_room {
    sfu_room_config cfg;
    uint32_t max_legs;
    uint32_t nlegs;
    uint32_t next_epoch;
    room_leg **legs;            /* max_legs slots, NULL when free */
    room_ref *fanout;           /* sinks grouped by source, see room_rebind */
    sfu_speaker *speaker;       /* fed by audio sources with the level extension */
    bool speaker_unsent;        /* a change the full output list refused; retried */
    sfu_room_stats stats;
};

/* A received media packet after RTX unwrapping: what fan-out and
 * retransmission need to write a viewer's copy. */
typedef struct room_pkt {
    sfu_buf *buf;
    const sfu_rtp_hdr *hdr;
    uint64_t seq;               /* extended, in the source's numbering */
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
} room_pkt;

/* room.c */
room_leg *room_find_leg(const sfu_room *room, sfu_leg_id id);
static inline room_source *room_src_at(const sfu_room *room, room_ref r)
{
    return &room->legs[r.slot]->tracks[r.track].src;
}
static inline const sfu_track_desc *room_desc_at(const sfu_room *room, room_ref r)
{
    return &room->legs[r.slot]->desc.tracks[r.track];
}
/* Asks the source's publisher for a keyframe, throttled; with out == NULL
 * the request waits for the next handle_timeout. */
void room_request_keyframe(sfu_room *room, room_ref src, sfu_time now, sfu_out *out);
/* A viewer's sink needs a keyframe: from the cache when worth it, else
 * asked of the publisher (throttled). */
void room_sink_needs_keyframe(sfu_room *room, room_ref sink_ref, sfu_time now, sfu_out *out);
/* Resolves every sink's source and rebuilds the fan-out lists. */
void room_rebind(sfu_room *room, sfu_time now, sfu_out *out);
void room_source_set_ssrc(sfu_room *room, room_source *src, uint32_t ssrc);
/* Pushes an SFU_OUT_ACTIVE_SPEAKER item if the speaker changed. */
void room_report_speaker(sfu_room *room, sfu_out *out);

/* room_rtp.c */
/* Writes one viewer's copy of `p` (a fresh forward, or a retransmission with
 * `out_seq16`/`ts_off` from the sink's history) into a new output item. */
int room_emit_rtp(sfu_room *room, room_ref sink_ref, room_ref src_ref, const room_pkt *p,
                  uint16_t out_seq16, uint32_t out_ts, bool retransmission, sfu_out *out);
/* Sends a sink its source's last keyframe and what followed, from the cache:
 * a waiting sink starts on it (timestamps squeezed), a forwarding one gets it
 * again as retransmissions. False when the cache cannot serve (nothing sent). */
bool room_replay_keyframe(sfu_room *room, room_ref sink_ref, sfu_time now, sfu_out *out);
/* Whether keyframes of this track are recognized (VP8, H.264). */
bool room_sees_keyframes(const sfu_track_desc *d);
/* Answers a viewer's NACK for `seq16` on a sink from its source's cache. */
int room_retransmit(sfu_room *room, room_ref sink_ref, uint16_t seq16, sfu_time now, sfu_out *out);
/* One retransmission (or video copy) out of the sink's budget (GCRA). */
bool room_rtx_budget_take(const sfu_room *room, room_sink *sink, sfu_time now);

/* room_repair.c (sink_repair.h) */
/* The item just pushed for this video sink goes out `copies` times in all. */
void room_repair_copies(sfu_room *room, room_ref sink_ref, uint8_t copies, sfu_time now, sfu_out *out);
/* The sink's viewer NACKed source packet `seq`, which cannot be resent. */
void room_repair_broken(sfu_room *room, room_ref sink_ref, uint64_t seq, sfu_time now, sfu_out *out);

/* room_rtcp.c */
void room_send_keyframe_request(sfu_room *room, room_ref src, sfu_time now, sfu_out *out);
void room_send_nacks(sfu_room *room, room_ref src, sfu_time now, sfu_out *out);
void room_send_reports(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out);
void room_send_twcc(sfu_room *room, room_leg *leg, sfu_out *out);
void room_record_twcc(room_leg *leg, uint16_t seq16, uint32_t media_ssrc, sfu_time now);
void room_rx_update(room_rx_stats *rx, uint64_t seq, uint32_t ts, uint32_t clock_rate,
                    bool retransmission, sfu_time now);

#endif
