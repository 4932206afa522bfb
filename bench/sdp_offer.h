/* The bench peers' side of the offer/answer exchange: the offer a browser
 * would send (BUNDLE, rtcp-mux, a=setup:actpass, Opus and VP8 with NACK, PLI,
 * FIR and transport-cc, the mid and transport-wide-cc extensions), and what
 * the bench needs from the SFU's answer, read with the SFU's own parser. */
#ifndef BENCH_SDP_OFFER_H
#define BENCH_SDP_OFFER_H

#include "signaling/sdp.h"

#include <stdbool.h>
#include <stdint.h>

#define BENCH_PT_OPUS 111
#define BENCH_PT_VP8 96
#define BENCH_EXT_MID 1
#define BENCH_EXT_AUDIO_LEVEL 2 /* ssrc-audio-level on audio (RFC 6464) */
#define BENCH_EXT_TWCC 3
#define BENCH_EXT_RID 4         /* simulcast publishers (RFC 8852) */
#define BENCH_EXT_RRID 5

typedef struct bench_offer {
    bool publisher;             /* sendonly with SSRCs, else recvonly */
    bool mirror;                /* answers: mirror each m-line's direction (a room
                                 * member's re-answer; sendonly ones with SSRCs) */
    bool audio, video;
    bool simulcast;             /* a publisher: video as a=rid q, h, f send and
                                 * a=simulcast:send q;h;f (RFC 8853), no a=ssrc */
    bool no_twcc;               /* leave transport-cc out (a viewer that sends no
                                 * feedback: the SFU then has no estimate for it) */
    bool audio_level;           /* offer (and accept) ssrc-audio-level on audio */
    const char *ufrag, *pwd;
    const char *candidate;      /* "candidate:..." */
    const char *fingerprint;    /* sha-256 "AB:CD:..." */
    uint32_t audio_ssrc, video_ssrc;
} bench_offer;

/* A malloc'ed NUL-terminated offer, or NULL without memory. */
char *bench_offer_write(const bench_offer *o);

/* Our answer to a target's offer (a Janus subscriber): o's credentials,
 * candidate and fingerprint (publisher and SSRCs unused), recvonly. A
 * g_malloc'ed string (g_free), or NULL with a reason in err. sdp_answer.c */
char *bench_answer_write(const bench_offer *o, const char *offer, size_t len, char *err,
                         size_t errlen);

typedef struct bench_answer {
    char ufrag[SIG_SDP_ICE_LEN + 1];
    char pwd[SIG_SDP_ICE_LEN + 1];
    unsigned ncands;
    sig_ice_candidate cands[SIG_SDP_MAX_CANDS];
    sig_sdp_fingerprint fingerprint;
    sig_sdp_setup setup;
    bool audio, video;          /* m-line accepted */
    uint8_t audio_pt, video_pt;
    bool nack, pli, twcc;       /* negotiated on video (twcc: on any m-line) */
    uint8_t mid_ext, twcc_ext;  /* 0: not negotiated */
    uint8_t level_ext;          /* ssrc-audio-level on audio, 0: none */
    uint8_t rid_ext;            /* sdes:rtp-stream-id on video, 0: none */
    bool simulcast;             /* the video m-line has a=simulcast */
} bench_answer;

/* 0, or -1 with a reason in err. Also reads a target's offer (the remote
 * side's description is what the peer needs either way). */
int bench_answer_parse(const char *text, size_t len, bench_answer *a, char *err, size_t errlen);

#endif
