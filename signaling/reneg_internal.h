/* Shared between reneg.c (state, offers, answers), reneg_sdp.c (SDP and leg
 * description from the slots) and reneg_reoffer.c (client re-offers). */
#ifndef SIG_RENEG_INTERNAL_H
#define SIG_RENEG_INTERNAL_H

#include <string.h>

#include "signaling/reneg.h"

/* Slots, rejected ones included (they keep their place in the SDP). */
#define RENEG_MAX_SLOTS 32

typedef struct reneg_slot {
    char mid[SIG_SDP_MID_LEN + 1]; /* < SFU_MID_MAX unless rejected */
    char media[16];             /* m= media as the client wrote it */
    char proto[32];
    char app_fmt[64];           /* fmt list of a non-RTP m-line */
    bool rtp;
    bool rejected;              /* port 0 from now on */
    bool pub;                   /* the client sends on it */
    bool recv_ok;               /* the client accepts media on it */
    bool rtcp_rsize;
    sig_sdp_fmt fmt, rtx;       /* the one codec and its RTX (if td.rtx_pt), client's PTs */
    sfu_track_desc td;          /* codec, PTs, feedback, extension ids, remote SSRCs */
    bool assigned;              /* the SFU sends `participant`'s track of td.kind */
    uint32_t participant;
    uint32_t ssrc, rtx_ssrc;    /* 0 until picked */
} reneg_slot;

typedef struct reneg_want {
    uint32_t participant;
    sfu_kind kind;
} reneg_want;

struct sig_reneg {
    sig_reneg_config cfg;
    /* Sized to the m-lines in use (a session of a large room has 15-20 of
     * 776 bytes; fixed arrays of 32 were 50 KB a session). `next` exists
     * only while an offer is outstanding or being built: an idle session
     * keeps just its committed slots. */
    unsigned nslots;            /* committed */
    reneg_slot *slots;
    unsigned nnext, capnext;    /* the outstanding offer, or scratch */
    reneg_slot *next;
    reneg_want *want;
    unsigned nwant, capwant;
    bool subs_on;               /* video from `subs` only */
    unsigned nsubs;
    uint32_t subs[SIG_RENEG_MAX_SUBS];
    bool slotted;               /* audio through cfg.audio_slots slots */
    sfu_time change_since;      /* first unoffered change, SFU_TIME_NEVER if none */
    bool outstanding;
    uint32_t revision;
    unsigned next_mid;          /* mids the server makes up: decimal, never reused */
    char *offer_text;
    sig_reneg_offer offer;
    /* The server's transport */
    sig_sdp_ice local_ice;
    sig_sdp_fingerprint local_fp;
    char local_fp_hex[200];
    unsigned ncands;
    sig_ice_candidate cands[SIG_SDP_MAX_CANDS];
    sig_dtls_role role;
    uint64_t sess_id, sess_version;
    /* The client's */
    sig_sdp_ice remote_ice;
    sig_sdp_fingerprint remote_fp;
    bool allow_mixed;
    /* Leg-wide values kept from the join */
    uint32_t rtcp_ssrc;
    bool rtcp_rsize;
    char cname[32];
};

/* Mids of accepted m-lines are shorter than SFU_MID_MAX (sig_sdp_answer
 * checks); this copies into the core's fields without overflowing. */
static inline void reneg_mid_copy(char dst[SFU_MID_MAX], const char *src)
{
    size_t n = strnlen(src, SFU_MID_MAX - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Writes slots as an offer (setup actpass, BUNDLE in slot order) or, with
 * `offer` set, as the answer to that client offer (the SFU's DTLS role,
 * BUNDLE in the offer's group order). Bumps the o= version. */
int reneg_write_sdp(sig_reneg *r, const reneg_slot *slots, unsigned n, const sig_sdp *offer,
                    char **out, size_t *outlen);
/* The leg description of the slots. */
void reneg_leg_of(const sig_reneg *r, const reneg_slot *slots, unsigned n, sfu_leg_desc *leg);
/* Makes r->next the committed state; bindings and leg into *res. */
void reneg_commit(sig_reneg *r, sig_reneg_result *res);
/* Room for n slots in r->next (kept contents): 0 or -SFU_ENOMEM. */
int reneg_next_room(sig_reneg *r, unsigned n);
/* Frees r->next unless an offer is outstanding (it is scratch then). */
void reneg_drop_scratch(sig_reneg *r);
/* Non-rejected slots. */
unsigned reneg_live(const reneg_slot *slots, unsigned n);
/* 8 hex digits, as sig_participant_format writes them. */
void reneg_participant_id(uint32_t participant, char out[9]);
/* The slot's codec from a negotiated m-line of the answer and its track. */
void reneg_slot_codec(reneg_slot *s, const sig_sdp_media *am, const sfu_track_desc *td);
bool reneg_same_fp(const sig_sdp_fingerprint *a, const sig_sdp_fingerprint *b);
/* Copies m-line identity (mid, media, proto, fmt list) into a slot. */
void reneg_slot_ident(reneg_slot *s, const sig_sdp_media *m);

/* Writes the reason into err and returns -SFU_EMALFORMED (HTTP 400). */
__attribute__((format(printf, 3, 4))) int reneg_fail(char *err, size_t errlen, const char *fmt,
                                                     ...);

#endif
