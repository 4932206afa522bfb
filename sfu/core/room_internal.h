/* The room's own state: legs, their tracks (a producer for what the leg
 * sends, a sink holding a consumer for what it receives), bindings and
 * fan-out lists. Not part of the public API.
 *
 * The room's files call each other in one direction only:
 *   room_rtp_in.c, room_rtcp_in.c  (inputs: dispatch to producers/consumers)
 *        -> room.c                  (legs, bindings, fan-out lists, timers)
 *        -> room_bwe.c              (per-viewer estimation: limits, probes)
 *        -> room_layers.c           (layer choice, the layer API of room.h)
 *        -> room_send.c             (outputs: a viewer's copy of a packet,
 *                                    keyframe service and replays,
 *                                    retransmissions, RTCP items)
 * The media logic itself is in producer.c and consumer.c. */
#ifndef SFU_CORE_ROOM_INTERNAL_H
#define SFU_CORE_ROOM_INTERNAL_H

#include "sfu/core/audio_select.h"
#include "sfu/core/bwe.h"
#include "sfu/core/consumer.h"
#include "sfu/core/producer.h"
#include "sfu/core/room.h"
#include "sfu/core/rtcp_fb.h"
#include "sfu/core/rtcp_twcc.h"
#include "sfu/core/sink_repair.h"
#include "sfu/core/speaker.h"

#include <string.h>

#define ROOM_REPORT_INTERVAL SFU_SEC(1)
/* Transport-cc feedback toward a publisher: every ROOM_TWCC_INTERVAL, or
 * up to ROOM_TWCC_INTERVAL_MAX on a slow leg (an audio-only one), so that
 * feedback of about ROOM_TWCC_FB_BITS costs at most 1/ROOM_TWCC_RATE_SHARE of
 * what the leg sends (the share a libwebrtc receiver allows itself); a leg
 * holding ROOM_TWCC_MAX / 2 arrivals gets its feedback at once. */
#define ROOM_TWCC_INTERVAL SFU_MS(100)
/* A leg's periodic work (reports, transport-cc feedback, the estimator's
 * update) due within this of a wake-up that handles the room is done in it,
 * a little early: the legs of a room fall into step and share wake-ups
 * instead of each taking its own. */
#define ROOM_PERIODIC_SLACK SFU_MS(20)
#define ROOM_TWCC_INTERVAL_MAX SFU_MS(250)
#define ROOM_TWCC_FB_BITS 640           /* 80 octets: RTCP + SRTCP + UDP/IP */
#define ROOM_TWCC_RATE_SHARE 20
#define ROOM_TWCC_MAX 256               /* arrivals held per leg between feedbacks */
/* Layer choice runs this often once the room has a simulcast producer or a
 * sink with an estimate. */
#define ROOM_CHOOSE_INTERVAL SFU_MS(500)
/* A switch down from a layer whose bitrate is more than this many times the
 * viewer's limit holds that layer back until the switch (sfu_consumer_drain). */
#define ROOM_DRAIN_OVER 2
/* Per-viewer estimation (room_bwe.c): the limits follow the estimate at
 * every feedback and this often; audio is reckoned at ROOM_BWE_AUDIO_BPS per
 * audio sink; a packet's wire size counts an SRTP tag of ROOM_SRTP_OVERHEAD
 * bytes; probes go out in slices of ROOM_PROBE_SLICE. */
#define ROOM_BWE_INTERVAL SFU_MS(100)
#define ROOM_BWE_AUDIO_BPS 50000
#define ROOM_SRTP_OVERHEAD 10
/* A viewer that negotiated transport-cc but has sent neither feedback nor
 * REMB this long after its estimator started is not limited by it (a start
 * estimate never confirmed would hold it on the lowest layer for good). */
#define ROOM_BWE_DEAF SFU_SEC(2)
/* Silence is not congestion: while no feedback has come for this long (a
 * dead path, a restart), the limits stay where they were. */
#define ROOM_BWE_SILENT SFU_MS(500)
#define ROOM_PROBE_SLICE SFU_MS(5)
#define ROOM_TWCC_FB_MAX 1024           /* entries of one viewer feedback used */
#define ROOM_PROBE_PAD_MAX 255          /* RTP padding: one length byte */
#define ROOM_PROBE_RTX_DEPTH 4          /* RTX probes resend the last this many video packets */
/* Legs one wake-up's inputs may mark before the room rescans them all. */
#define ROOM_DIRTY_MAX 16

/* A sink's reference to a source, and a fan-out entry: leg slot and track. */
typedef struct room_ref {
    uint16_t slot;
    uint8_t track;
} room_ref;

/* What the SFU sends on an m-line (send == true). */
typedef struct room_sink {
    bool bound;
    uint32_t participant;       /* bound to this participant's first source of the kind */
    uint8_t audio_slot;         /* k + 1 for an audio slot (room_audio.c): the room
                                   sets `participant` itself; 0 otherwise */
    sfu_time slot_at;           /* an audio slot: when it took its talker */
    bool has_src;
    room_ref src;
    sfu_consumer c;
    sfu_sink_repair repair;     /* video: keyframe on a break, copies on loss (all zero: init) */
} room_sink;

/* A sink is about 2.5 KB (the consumer's sequence history and rewriters),
 * allocated only for an m-line the SFU sends on: a member's own m-lines and
 * the inactive ones it keeps from before the audio slots (or a tile that
 * went) cost the pointer. */
typedef struct room_track {
    sfu_producer *prod;         /* recv == true */
    room_sink *sink;            /* send == true */
} room_track;

typedef struct room_leg {
    sfu_leg_id id;
    uint16_t slot;              /* index in room->legs */
    uint32_t participant;
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
    /* Send-side estimation toward this leg (room_bwe.c); NULL when it
     * negotiated no transport-cc on what the SFU sends it. */
    sfu_bwe *bwe;
    uint16_t tw_seq16;          /* the next transport-wide sequence number */
    sfu_time next_bwe_at;
    sfu_time bwe_since;         /* when the estimator started */
    bool bwe_heard;             /* feedback or REMB has reached it */
    bool bwe_hold;              /* path changed: limits stay until the new path's feedback */
    sfu_time bwe_heard_at;      /* the last feedback or REMB */
    size_t probe_left;          /* bytes of the current probe still to send */
    uint64_t probe_rate_bps;
    sfu_time probe_next_at;
    uint16_t probe_back;        /* which recent packet the next RTX probe packet resends */
    sfu_time rate_window_at;    /* max_publish_bps accounting */
    uint64_t rate_window_bytes;
    /* The leg's earliest deadline (leg_deadline in room.c) as of the last
     * poll; `deadline_dirty` while an input may have moved it since (the
     * leg is then on the room's dirty list). */
    sfu_time deadline;
    bool deadline_dirty;
    /* The scalars above share a few cache lines that a packet touches;
     * the description (4.6 KB) and the arrivals (4 KB) come after them. */
    sfu_twcc_arrival twcc[ROOM_TWCC_MAX];
    sfu_leg_desc desc;
    uint32_t fanout_start[SFU_MAX_TRACKS], fanout_count[SFU_MAX_TRACKS];
    /* desc.ntracks of them (room_leg_size): a voice call's leg has 2 of
     * the 32 an m-line list may hold. */
    room_track tracks[];
} room_leg;

static inline size_t room_leg_size(unsigned ntracks)
{
    return sizeof(room_leg) + (size_t)ntracks * sizeof(room_track);
}

struct sfu_room {
    sfu_room_config cfg;
    sfu_producer_config pcfg;
    uint32_t max_legs;
    uint32_t nslots;            /* legs allocated: grows by doubling up to max_legs */
    uint32_t nlegs;
    uint32_t next_epoch;
    room_leg **legs;            /* nslots slots, NULL when free */
    /* Each slot's leg id, 0 when free: a lookup by id reads this array,
     * not the header of every leg before the one it finds. */
    sfu_leg_id *ids;
    /* One past the highest slot in use: every scan stops there. Slots are
     * taken lowest first, so a 1:1 call's room scans 2 slots, not the
     * nslots it has grown to or the max_legs it could hold. */
    uint32_t legs_end;
    room_ref *fanout;           /* nslots * SFU_MAX_TRACKS: sinks grouped by source, see room_rebind */
    sfu_speaker *speaker;       /* fed by audio sources with the level extension */
    sfu_audio_select *audio_sel; /* the talkers of audio slots; NULL without */
    bool speaker_unsent;        /* a change the full output list refused; retried */
    bool simulcast;             /* some producer has layers */
    sfu_time next_choose_at;
    /* The earliest deadline, kept up to date as inputs change it
     * (sfu_room_poll_timeout): an input marks the legs whose deadlines it
     * may have moved (room_leg_touch) and the poll recomputes only those,
     * and the room's own part (speaker, layer choice, audio slots) only
     * after room_own_touch. A full rescan only when the
     * deadline fired (handle_timeout), when the earliest part moved later
     * or went away, or when legs or bindings changed (deadline_stale). */
    sfu_time deadline;
    sfu_time own_deadline;
    bool deadline_stale;
    bool own_dirty;
    uint16_t ndirty;
    uint16_t dirty[ROOM_DIRTY_MAX];  /* slots of legs with deadline_dirty */
    sfu_room_stats stats;
};

static inline sfu_producer *room_prod_at(const sfu_room *room, room_ref r)
{
    return room->legs[r.slot]->tracks[r.track].prod;
}
static inline room_sink *room_sink_at(const sfu_room *room, room_ref r)
{
    return room->legs[r.slot]->tracks[r.track].sink;
}
static inline const sfu_track_desc *room_desc_at(const sfu_room *room, room_ref r)
{
    return &room->legs[r.slot]->desc.tracks[r.track];
}
static inline void room_drop(sfu_room *room, sfu_drop_reason why) { room->stats.drops[why]++; }

/* An input may have moved the leg's deadline (its timers, liveness,
 * estimator, or its producers' NACK and keyframe timers): the next poll
 * recomputes it. Every change of what leg_deadline reads outside
 * handle_timeout goes with one of these (or with room_deadline_stale). */
static inline void room_leg_touch(sfu_room *room, room_leg *leg)
{
    if (leg->deadline_dirty || room->deadline_stale)
        return;
    if (room->ndirty == ROOM_DIRTY_MAX) {
        room->deadline_stale = true;
        return;
    }
    leg->deadline_dirty = true;
    room->dirty[room->ndirty++] = leg->slot;
}

/* An input may have moved the room's own deadline (the active speaker, the
 * audio slots' selection, layer choice): the next poll recomputes it. */
static inline void room_own_touch(sfu_room *room) { room->own_dirty = true; }

/* Anything may have moved (legs, bindings, the deadline fired): the next
 * poll rescans every leg. */
static inline void room_deadline_stale(sfu_room *room) { room->deadline_stale = true; }

/* A packet with transport-wide number `tseq` and `bytes` before SRTP went
 * out to a leg with an estimator. */
static inline void room_bwe_sent(sfu_room *room, room_leg *leg, uint16_t tseq, size_t bytes, sfu_time now)
{
    sfu_bwe_on_packet_sent(leg->bwe, tseq, bytes + ROOM_SRTP_OVERHEAD, now);
    room->stats.bwe_packets++;
}

/* A copy of the packet numbered `tseq` went out to the leg too (the same
 * number, bwe.h). */
static inline void room_bwe_copy_sent(sfu_room *room, room_leg *leg, uint16_t tseq, size_t bytes, sfu_time now)
{
    sfu_bwe_on_copy_sent(leg->bwe, tseq, bytes + ROOM_SRTP_OVERHEAD, now);
    room->stats.bwe_packets++;
}

/* Whether copies (audio_copies.h, sink_repair.h) may go to the leg now
 * (room_bwe.c). */
bool room_bwe_copies_ok(const sfu_room *room, const room_leg *leg, sfu_time now);

static inline room_leg *room_find_leg(const sfu_room *room, sfu_leg_id id)
{
    for (uint32_t i = 0; i < room->legs_end; i++)
        if (room->ids[i] == id)
            return room->legs[i];
    return NULL;
}

static inline int room_find_mid(const sfu_leg_desc *desc, const char *mid)
{
    for (unsigned t = 0; t < desc->ntracks; t++)
        if (strncmp(desc->tracks[t].mid, mid, SFU_MID_MAX) == 0)
            return (int)t;
    return -1;
}

/* The sink of `leg` on m-line `mid` (and its ref), or NULL. */
static inline room_sink *room_find_sink(const sfu_room *room, sfu_leg_id id, const char *mid, room_ref *ref)
{
    room_leg *leg = room_find_leg(room, id);
    if (!leg || !mid)
        return NULL;
    int t = room_find_mid(&leg->desc, mid);
    if (t < 0 || !leg->desc.tracks[t].send)
        return NULL;
    *ref = (room_ref){ leg->slot, (uint8_t)t };
    return leg->tracks[t].sink;
}

/* room.c */
/* Resolves every sink's source and rebuilds the fan-out lists. */
void room_rebind(sfu_room *room, sfu_time now, sfu_out *out);
/* Pushes an SFU_OUT_ACTIVE_SPEAKER item if the speaker changed. */
void room_report_speaker(sfu_room *room, sfu_out *out);

/* room_audio.c */
/* One audio packet's RFC 6464 level of `participant`, for the selection. */
void room_audio_level(sfu_room *room, uint32_t participant, uint8_t level, bool voice, sfu_time now);
/* The participant's audio went away. */
void room_audio_forget(sfu_room *room, uint32_t participant);
/* The active speaker changed (0: none). */
void room_audio_speaker(sfu_room *room, uint32_t participant);
/* Points every audio slot at the current selection; true if a binding changed
 * (the caller rebinds). */
bool room_audio_assign(sfu_room *room, sfu_time now);
void room_audio_timeout(sfu_room *room, sfu_time now, sfu_out *out);
sfu_time room_audio_deadline(const sfu_room *room);

/* room_layers.c */
/* The layer a sink starts on: its choice among the active layers, else the
 * highest it may have. */
int room_start_layer(sfu_consumer *c, const sfu_producer *prod, sfu_time now);
/* The layers (a mask of layer positions) of the simulcast source `src`
 * that its sinks receive or switch to, with the quality above for a sink
 * that may move up (layer choice takes only layers that flow) and the one
 * below for a sink that follows an estimate (rtcp_layers.h); every layer
 * until all their sizes are known. */
unsigned room_layers_wanted(const sfu_room *room, room_ref src);
/* The first source of `kind` that `participant` publishes, in slot order:
 * the one a sink bound to that participant receives. */
bool room_find_source(const sfu_room *room, uint32_t participant, sfu_kind kind, room_ref *ref);
/* Layer choice for every sink (each new target asks for its keyframe). */
void room_choose_layers(sfu_room *room, sfu_time now, sfu_out *out);
/* The same for the sinks of one source. */
void room_choose_layers_of(sfu_room *room, room_ref src, sfu_time now, sfu_out *out);

/* Sets a sink's bitrate limit and runs its layer choice. */
void room_set_sink_limit(sfu_room *room, room_ref ref, uint32_t bps, sfu_time now, sfu_out *out);

/* room_bwe.c */
/* Whether the description asks for an estimator: it is sent video, and
 * transport-cc on a sent m-line. */
bool room_bwe_wanted(const sfu_leg_desc *desc);
/* Creates or frees the leg's estimator to match its description. */
int room_bwe_sync(room_leg *leg, sfu_time now);
/* The limits from the estimate, and a probe when one is due. */
void room_bwe_update(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out);
/* A video packet with the marker bit (a frame's last) went to the leg: a
 * policed leg's probe burst goes out now (room_bwe.c). */
void room_bwe_after_frame(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out);
/* The limit a new video sink of the leg starts with before its estimator
 * has heard anything: the start estimate less one audio sink's allowance;
 * 0 (none) without an estimator or once it has heard or gone deaf. */
uint32_t room_bwe_start_limit(const room_leg *leg, sfu_time now);
/* The leg's path changed: its estimator starts over (from its last estimate). */
void room_bwe_path_changed(room_leg *leg, sfu_time now);
void room_bwe_timeout(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out);
sfu_time room_bwe_deadline(const room_leg *leg);
/* A viewer's transport-cc feedback (RTPFB 15) and REMB (PSFB 15). */
void room_bwe_on_twcc(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out);
void room_bwe_on_remb(sfu_room *room, room_leg *leg, const sfu_rtcp_common *c, sfu_time now, sfu_out *out);

/* room_send.c */
/* Asks for a keyframe of `layer` of the source, throttled; with out == NULL
 * the request waits for the next handle_timeout. */
void room_request_keyframe(sfu_room *room, room_ref src, int layer, sfu_time now, sfu_out *out);
/* A viewer's sink needs a keyframe: from the cache when worth it, else
 * asked of the publisher (throttled). */
void room_sink_needs_keyframe(sfu_room *room, room_ref sink_ref, sfu_time now, sfu_out *out);
/* Writes one viewer's copy of `p` (a fresh forward, or a retransmission with
 * `out_seq16`/`out_ts` from the sink's history) into a new output item. */
int room_emit_rtp(sfu_room *room, room_ref sink_ref, room_ref src_ref, const sfu_media_pkt *p,
                  uint16_t out_seq16, uint32_t out_ts, bool retransmission, sfu_time now, sfu_out *out);
/* Forwards `p` to every sink of the source that takes it. */
void room_fan_out(sfu_room *room, room_ref src_ref, const sfu_media_pkt *p, sfu_time now, sfu_out *out);
/* Sends a sink its source's last keyframe and what followed, from the cache:
 * a waiting sink starts on it (timestamps squeezed), a forwarding one gets it
 * again as retransmissions. False when the cache cannot serve (nothing sent). */
bool room_replay_keyframe(sfu_room *room, room_ref sink_ref, sfu_time now, sfu_out *out);
/* The viewer's transport-cc feedback reported the packets `pkts[0..n)`:
 * those it lost that no NACK asked for are resent (sink_repair.h). */
void room_repair_reported_lost(sfu_room *room, room_leg *leg, const sfu_twcc_packet *pkts, size_t n,
                               sfu_time now, sfu_out *out);
/* Answers a viewer's NACK for `seq16` on a sink from its source's cache. */
int room_retransmit(sfu_room *room, room_ref sink_ref, uint16_t seq16, sfu_time now, sfu_out *out);
void room_send_keyframe_request(sfu_room *room, room_ref src, int layer, sfu_out *out);
void room_send_nacks(sfu_room *room, room_ref src, int layer, sfu_time now, sfu_out *out);
void room_send_reports(sfu_room *room, room_leg *leg, sfu_time now, sfu_out *out);
void room_send_twcc(sfu_room *room, room_leg *leg, sfu_out *out);
/* The time to the leg's next transport-cc feedback, from the bitrate its
 * tracks received over the last second (ROOM_TWCC_INTERVAL..._MAX). */
sfu_time room_twcc_interval(const room_leg *leg);
/* A bandwidth probe's packet toward a video sink: the packet it was sent
 * `back` packets before its newest, again, as a retransmission on its RTX
 * SSRC with the leg's transport-wide number (libwebrtc's payload padding).
 * A probe of media-sized packets meets a byte-counting policer as the media
 * does, where tiny padding packets keep its bucket below a media packet's
 * size and so drop the media alone; and a media packet the probe's excess
 * cost may arrive in its copy. Returns the bytes sent; 0 when there is no
 * such packet to resend (nothing forwarded yet, gone from the cache, a
 * temporal layer the viewer does not get) or the output list is full. */
size_t room_send_probe_rtx(sfu_room *room, room_ref sink_ref, uint16_t back, sfu_time now, sfu_out *out);
/* A bandwidth probe's packet toward `leg`: `pad` (1..ROOM_PROBE_PAD_MAX)
 * bytes of RTP padding on the RTX SSRC of its video sink on track `t`, with
 * the leg's transport-wide number. False when the output list is full. */
bool room_send_padding(sfu_room *room, room_leg *leg, unsigned t, size_t pad, sfu_time now, sfu_out *out);
void room_record_twcc(room_leg *leg, uint16_t seq16, uint32_t media_ssrc, sfu_time now);

#endif
