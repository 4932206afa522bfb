/* What signaling negotiated for one PeerConnection, in the terms the
 * forwarding core needs: per m-line, the codec, payload types, SSRCs,
 * header-extension ids and feedback. Signaling fills it from the SDP offer
 * and answer; the core never sees SDP text. */
#ifndef SFU_CORE_MEDIA_H
#define SFU_CORE_MEDIA_H

#include "sfu/core/common.h"

#define SFU_MAX_TRACKS 32       /* m-lines per leg: own tracks and 15 others' A+V */
#define SFU_MID_MAX 16          /* bytes of a mid, with its NUL */
#define SFU_MAX_LAYERS 3        /* simulcast encodings per video source */
#define SFU_RID_MAX 16          /* bytes of a rid (RFC 8851), with its NUL */

/* Participant numbers from SFU_AUDIO_SLOT_BASE up are not participants: a
 * sink bound to SFU_AUDIO_SLOT_BASE + k carries the k-th of the audio
 * streams the room selects for its viewer (the loudest few, see
 * audio_select.h), switched by the room itself. Whoever numbers
 * participants never hands these out. */
#define SFU_AUDIO_SLOT_BASE 0xFFFFFFF0u
#define SFU_AUDIO_SLOTS_MAX 15
static inline bool sfu_is_audio_slot(uint32_t participant) { return participant >= SFU_AUDIO_SLOT_BASE; }

typedef enum sfu_kind { SFU_KIND_AUDIO = 0, SFU_KIND_VIDEO = 1 } sfu_kind;

typedef enum sfu_codec {
    SFU_CODEC_NONE = 0,
    SFU_CODEC_OPUS,
    SFU_CODEC_VP8,
    SFU_CODEC_H264,
} sfu_codec;

/* Header-extension ids as negotiated on this m-line; 0 means not negotiated.
 * Ids are per m-line because some clients (aiortc) reuse one id for different
 * extensions in different m-lines of one BUNDLE group. */
typedef struct sfu_ext_ids {
    uint8_t mid;
    uint8_t rid;
    uint8_t repaired_rid;
    uint8_t audio_level;
    uint8_t abs_send_time;
    uint8_t twcc;               /* transport-wide sequence number */
    uint8_t dd;                 /* dependency descriptor: copied publisher to viewer */
} sfu_ext_ids;

/* One simulcast encoding the client sends on a recv m-line (RFC 8853). */
typedef struct sfu_layer_desc {
    char rid[SFU_RID_MAX];      /* "" when only its SSRC tells it apart */
    uint32_t ssrc;              /* signaled (a=ssrc-group:SIM) or 0 until learnt */
    uint32_t rtx_ssrc;
} sfu_layer_desc;

typedef struct sfu_track_desc {
    char mid[SFU_MID_MAX];
    sfu_kind kind;
    bool recv;                  /* the client sends, the SFU receives */
    bool send;                  /* the SFU sends to the client */
    sfu_codec codec;
    uint8_t pt;                 /* payload type in this leg's SDP */
    uint8_t rtx_pt;             /* 0: no RTX negotiated */
    uint8_t red_pt;             /* audio/red (RFC 2198) around `pt`; 0: not negotiated */
    uint32_t clock_rate;
    uint32_t remote_ssrc;       /* what the client sends with; 0 if unsignaled */
    uint32_t remote_rtx_ssrc;
    uint32_t local_ssrc;        /* what the SFU sends with (send == true) */
    uint32_t local_rtx_ssrc;
    bool fb_nack, fb_pli, fb_fir, fb_twcc, fb_remb;
    sfu_ext_ids ext;
    /* Simulcast (recv video only): the encodings in the order of the
     * answer's a=simulcast line; 0 when the source is one stream
     * (remote_ssrc). The core ranks layers by what it measures, not by this
     * order: clients differ in the order they list them. */
    uint8_t nlayers;
    sfu_layer_desc layers[SFU_MAX_LAYERS];
    /* Send video: 1 + the source layer (its position in the source's
     * layers[], the order of its description) this sink always carries,
     * whatever layer choice would pick; 0: chosen per viewer (cap,
     * estimate). A relay leg carries every layer of a simulcast source as
     * one pinned sink each (signaling/relay.c). A source with fewer layers
     * gives its top one. */
    uint8_t pin_layer;
} sfu_track_desc;

typedef struct sfu_leg_desc {
    unsigned ntracks;
    sfu_track_desc tracks[SFU_MAX_TRACKS];
    bool rtcp_rsize;
    uint32_t rtcp_ssrc;         /* the SFU's own SSRC for feedback to this leg */
    char cname[32];             /* the SFU's CNAME toward this leg */
    /* Relay legs (rtcp_layers.h): the pulling end (sources) reports every
     * second which layers of its simulcast sources its viewers need; the
     * serving end (sinks pinned to layers) pauses the sinks of the others. */
    bool layer_feedback;
} sfu_leg_desc;

#endif
