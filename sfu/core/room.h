/* The forwarding core of one room: sans-IO.
 *
 * Legs are PeerConnections (a WHIP publisher, a WHEP viewer, a room
 * participant); each belongs to a participant, named by a number the caller
 * chooses. A leg's tracks that the client sends are sources; a leg's tracks
 * the SFU sends are sinks, each bound to (participant, kind): the first source
 * of that kind the participant publishes. A binding outlives the publisher's
 * leg, so when the same participant publishes again the sink resumes on the
 * same SSRC with continuous sequence numbers and timestamps.
 *
 * The room also follows who is talking, from the audio level extension
 * (RFC 6464) of sources that negotiated it, and reports each change of
 * active speaker as an SFU_OUT_ACTIVE_SPEAKER item (see speaker.h).
 *
 * Inputs are decrypted packets and timeouts at `now`; outputs go into the
 * caller's sfu_out. The room takes references to buffers it keeps (the
 * retransmission cache) and never modifies a buffer it is given. */
#ifndef SFU_CORE_ROOM_H
#define SFU_CORE_ROOM_H

#include "sfu/core/buf.h"
#include "sfu/core/bwe.h"
#include "sfu/core/common.h"
#include "sfu/core/media.h"
#include "sfu/core/out.h"

typedef struct sfu_room sfu_room;

typedef struct sfu_room_config {
    uint32_t max_legs;              /* per room */
    sfu_time liveness_timeout;      /* no authenticated packet or consent for this long: expired */
    uint32_t rtx_cache_packets;     /* per video source stream */
    sfu_time keyframe_min_interval; /* at most one PLI/FIR per stream per this */
    sfu_time keyframe_cache_max_age; /* replay a keyframe at most this old; 0: never */
    uint32_t max_publish_bps;       /* 0: unlimited */
    uint32_t max_rtx_per_second;    /* per viewer stream; 0: 1000 */
    bool no_video_copies;           /* no copies toward lossy viewers (sink_repair.h) */
    /* Audio slots (room_audio.c): a sink bound to SFU_AUDIO_SLOT_BASE + k
     * (k < audio_slots) carries one of the loudest few of the room but its
     * own participant; the room selects audio_slots + 1 (audio_select.h).
     * 0: no selection (such bindings carry nothing). At most
     * SFU_AUDIO_SLOTS_MAX. */
    uint8_t audio_slots;
} sfu_room_config;

/* Why an input packet was dropped; counted per room. */
typedef enum sfu_drop_reason {
    SFU_DROP_MALFORMED = 0,
    SFU_DROP_UNKNOWN_SSRC,
    SFU_DROP_PADDING,
    SFU_DROP_DUPLICATE,
    SFU_DROP_TOO_OLD,
    SFU_DROP_OUT_FULL,
    SFU_DROP_BITRATE,
    SFU_DROP_RTX_RATE,          /* a NACKed packet not resent: the viewer's budget is spent */
    SFU_DROP_RTX_USELESS,       /* a NACKed packet not resent: older than the viewer's last
                                   keyframe or past its usefulness window */
    SFU_DROP_REASON_COUNT
} sfu_drop_reason;

typedef struct sfu_room_stats {
    uint64_t rtp_in, rtcp_in, rtp_out, rtcp_out;
    uint64_t forwarded;             /* RTP packets sent to viewers, retransmissions excluded */
    uint64_t retransmitted;         /* answered NACKs */
    uint64_t nacks_sent, plis_sent, firs_sent;
    uint64_t nacks_received, plis_received;
    uint64_t firs_received;         /* new requests (a repeated FIR seq nr is not counted) */
    uint64_t rtx_missed;            /* NACKed packets the cache no longer (or never) had */
    uint64_t keyframe_replays;      /* keyframes sent to one viewer from the cache */
    uint64_t keyframe_replay_packets;
    uint64_t drops[SFU_DROP_REASON_COUNT];
    /* RTP by media kind (sfu_kind): accepted from publishers, and sent
     * (forwarded and retransmitted), in packets and bytes before SRTP. */
    uint64_t rtp_in_kind[2], bytes_in_kind[2];
    uint64_t rtp_out_kind[2], bytes_out_kind[2];
    /* RFC 2198 audio RED: packets accepted from publishers, sent to viewers
     * as RED, and sent reduced to their primary Opus block. */
    uint64_t red_in, red_passed, red_reduced;
    uint64_t audio_copies;          /* extra copies of audio packets to lossy viewers */
    /* sink_repair.h: extra copies of video packets and retransmissions to
     * lossy viewers, and keyframe requests for viewers that NACKed a packet
     * that could not be resent. */
    uint64_t video_copies;
    uint64_t copies_withheld;       /* audio and video copies not sent: the viewer's path is congested */
    uint64_t repair_keyframe_requests;
    /* Retransmissions of packets the viewer's transport-cc feedback
     * reported lost while no NACK for them had come (room_send.c); also
     * counted in `retransmitted`. */
    uint64_t rtx_unasked;
    /* Send-side estimation toward viewers (room_bwe.c): packets sent with a
     * transport-wide sequence number, viewers' transport-cc feedback and
     * REMB messages used, probes started and their packets/bytes (RTX of
     * recent video, or padding). */
    uint64_t bwe_packets, bwe_feedbacks, bwe_rembs;
    uint64_t probes, probe_packets, probe_bytes;
    /* Switches down that held the current layer back until the switch
     * (sfu_consumer_drain), and the packets held back. */
    uint64_t drains, drained;
    /* Relay legs (sfu_leg_desc.layer_feedback): layers the pulling end
     * stopped and started needing, so their pinned sinks paused/resumed. */
    uint64_t layer_pauses, layer_resumes;
} sfu_room_stats;

sfu_room *sfu_room_new(const sfu_room_config *cfg);
/* Releases every buffer reference the room holds. */
void sfu_room_free(sfu_room *room);

/* Adds a leg with what was negotiated. Its sinks start bound to nothing. */
int sfu_room_add_leg(sfu_room *room, sfu_leg_id leg, uint32_t participant,
                     const sfu_leg_desc *desc, sfu_time now);
/* Replaces a leg's negotiated description after a renegotiation; tracks are
 * matched by mid, so bindings and rewriting state of kept m-lines survive. */
int sfu_room_update_leg(sfu_room *room, sfu_leg_id leg, const sfu_leg_desc *desc, sfu_time now);
/* Removes a leg: its sources stop (their sinks go silent), its sinks go away,
 * everything it held is released. */
void sfu_room_remove_leg(sfu_room *room, sfu_leg_id leg, sfu_time now, sfu_out *out);

/* Binds the sink of `leg` on m-line `mid` to the first source of the sink's
 * kind that `participant` publishes, now or later. Asks for a keyframe for
 * video. An audio sink bound to SFU_AUDIO_SLOT_BASE + k is an audio slot:
 * the room points it at one of its selected talkers itself (with continuous
 * SSRC, sequence numbers and timestamps), see sfu_room_config.audio_slots. */
int sfu_room_bind(sfu_room *room, sfu_leg_id leg, const char *mid, uint32_t participant,
                  sfu_time now, sfu_out *out);

/* `pkt` holds one decrypted RTP packet; the room references it as needed and
 * the caller keeps and releases its own reference. */
int sfu_room_handle_rtp(sfu_room *room, sfu_leg_id from, sfu_buf *pkt, sfu_time now, sfu_out *out);
/* One decrypted compound RTCP packet. */
int sfu_room_handle_rtcp(sfu_room *room, sfu_leg_id from, const uint8_t *p, size_t n,
                         sfu_time now, sfu_out *out);
/* The transport saw an authenticated packet at `at`: the leg is alive. */
void sfu_room_handle_alive(sfu_room *room, sfu_leg_id from, sfu_time at);
/* RFC 7675 consent, as the ICE layer knows it. While `held`, the leg is alive
 * and its liveness timer stands still. When consent lapses, `last_at` says
 * when the last authenticated consent check was answered: the timer runs from
 * then (or from a later packet), so a leg whose path went quiet is ended
 * `liveness_timeout` after it went quiet, however late the ICE layer noticed. */
void sfu_room_handle_consent(sfu_room *room, sfu_leg_id from, bool held, sfu_time last_at);
/* The leg's network path changed (a new pair was selected): whatever it was
 * sent meanwhile may be lost, so every video stream it views is served like
 * its own PLI (from the keyframe cache, else by asking the publisher,
 * throttled); and what it published meanwhile never arrived, so each video
 * stream it publishes is asked for a keyframe now, past the throttle once
 * (sfu_keyframe_req_path_changed): an earlier request, or the keyframe
 * answering it, may have gone down the dead path. */
void sfu_room_handle_path_changed(sfu_room *room, sfu_leg_id from, sfu_time now, sfu_out *out);
int sfu_room_handle_timeout(sfu_room *room, sfu_time now, sfu_out *out);
/* The earliest deadline: kept up to date as inputs change it, so a poll
 * costs the legs the inputs since the last one touched, not every leg. */
sfu_time sfu_room_poll_timeout(sfu_room *room);
/* The same from a scan of every leg and track, as the poll was before:
 * for tests, which hold the two equal after every input. */
sfu_time sfu_room_poll_timeout_rescan(const sfu_room *room);

const sfu_room_stats *sfu_room_stats_get(const sfu_room *room);
uint32_t sfu_room_leg_count(const sfu_room *room);
/* The participant last reported as active speaker; 0 while there is none
 * (nobody has talked yet, or the speaker left). Callers that need to tell
 * "none" apart number participants from 1. */
uint32_t sfu_room_active_speaker(const sfu_room *room);
/* The participants whose audio the room selects for its audio slots, by
 * position (0: empty) into out[0..cap); the number of positions (0 without
 * audio slots). */
unsigned sfu_room_audio_selection(const sfu_room *room, uint32_t *out, unsigned cap);
/* One audio-slot sink of a leg: its m-line and whom it carries. */
typedef struct sfu_room_audio_slot {
    char mid[SFU_MID_MAX];
    uint32_t participant;       /* the talker assigned to it; 0: none */
    bool carrying;              /* that talker's audio is flowing on it */
} sfu_room_audio_slot;

/* The audio-slot sinks of `leg`, in m-line order, into out[0..cap); returns
 * how many it has (0 for an unknown leg or one without slots). */
unsigned sfu_room_audio_slots(const sfu_room *room, sfu_leg_id leg, sfu_room_audio_slot *out, unsigned cap);
/* What the leg's source on `mid` received over the last second (RTP bytes,
 * headers included, SRTP tags not); 0 for an unknown leg or mid. */
uint32_t sfu_room_track_bitrate(const sfu_room *room, sfu_leg_id leg, const char *mid);

/* Simulcast layers. A video source may have up to SFU_MAX_LAYERS layers
 * (sfu_track_desc.layers); they are numbered by quality, 0 the lowest, as
 * the room ranks them (see producer.h). Each video sink receives one layer,
 * chosen automatically (the highest active one its estimate allows, the
 * highest without an estimate) up to its cap, and switched at a keyframe
 * of the new layer. */
typedef struct sfu_room_layer_info {
    char rid[SFU_RID_MAX];      /* "" for a plain stream or one told apart by SSRC */
    uint32_t ssrc;              /* 0 until known */
    uint32_t bitrate_bps;       /* received over the last second */
    uint16_t width, height;     /* of its last keyframe (VP8 header, H.264 SPS); 0 unknown */
    bool active;                /* media arrived lately */
} sfu_room_layer_info;

/* The layers of the source on `leg`'s m-line `mid`, lowest quality first,
 * into `layers` (at most `cap`); returns how many the source has (1 for a
 * plain stream), or -SFU_ENOTFOUND. */
int sfu_room_track_layers(const sfu_room *room, sfu_leg_id leg, const char *mid, sfu_time now,
                          sfu_room_layer_info *layers, unsigned cap);

/* The layers of the source a sink bound to (`participant`, `kind`) would
 * receive, in the order of its description (the positions
 * sfu_track_desc.pin_layer names, not the quality ranking): rid, and SSRCs
 * as known now (0 until learnt), into `out` (at most `cap`). Returns how
 * many the source has (1 for a plain stream), or -SFU_ENOTFOUND. */
int sfu_room_source_layers(const sfu_room *room, uint32_t participant, sfu_kind kind,
                           sfu_layer_desc *out, unsigned cap);

typedef struct sfu_room_sink_layer {
    uint8_t nlayers;            /* of the source it is bound to; 0 when none */
    int current;                /* the quality forwarded now; -1 none yet */
    int target;                 /* the quality it is switching to (== current when none) */
    int max;                    /* its cap; -1 automatic */
    uint32_t limit_bps;         /* its estimate; 0 none */
    uint64_t switches;          /* layer switches done */
    uint8_t max_tid;            /* VP8 temporal layers forwarded: 0..max_tid (3: all) */
} sfu_room_sink_layer;

/* What the sink on `leg`'s m-line `mid` receives. -SFU_ENOTFOUND for an
 * unknown leg or a mid that is not a sink. */
int sfu_room_sink_layer_get(const sfu_room *room, sfu_leg_id leg, const char *mid, sfu_room_sink_layer *info);
/* Caps the sink's layer at quality `layer` (0 lowest); -1 goes back to
 * automatic. Without an estimate the sink gets the cap itself when that
 * layer is active, so this also pins a layer (WHEP layer selection). A
 * change moves the sink at the new layer's next keyframe, asked for now
 * (the request is in `out`). -SFU_EINVAL for layer < -1 or >=
 * SFU_MAX_LAYERS; a cap above the source's top layer means the top. */
int sfu_room_set_max_layer(sfu_room *room, sfu_leg_id leg, const char *mid, int layer, sfu_time now,
                           sfu_out *out);
/* The sink's bandwidth estimate (bits per second; 0: none), from its
 * viewer's estimator: the sink gets the highest layer whose bitrate fits,
 * moving down at once and up once the higher layer has fitted for
 * SFU_CONSUMER_UP_HOLD. When not even the lowest layer fits, VP8 temporal
 * layers are dropped (down to the base layer) for a finer step. Whoever holds one estimate per viewer connection
 * divides it among that viewer's sinks. */
int sfu_room_set_sink_bitrate_limit(sfu_room *room, sfu_leg_id leg, const char *mid, uint32_t bps,
                                    sfu_time now, sfu_out *out);
/* The room holds that estimate itself for a leg that negotiated
 * transport-cc on an m-line the SFU sends on (room_bwe.c): it sets its
 * sinks' limits at every feedback and every 100 ms, overriding a limit set
 * above. The leg's estimator state; -SFU_ENOTFOUND for an unknown leg,
 * -SFU_ESTATE for a leg without an estimator. */
int sfu_room_leg_bwe_get(const sfu_room *room, sfu_leg_id leg, sfu_time now, sfu_bwe_stats *out);

#endif
