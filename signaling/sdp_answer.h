/* Offer/answer negotiation (RFC 3264, RFC 8829 5.3) for the SFU's three
 * kinds of session: from a parsed offer, the server's transport and a mode,
 * builds the answer text and what the forwarding core needs (sfu_leg_desc).
 *
 * What is accepted:
 * - audio: Opus/48000/2; video: VP8/90000 or H264/90000 with
 *   packetization-mode=1, plus RTX (rtx/90000 apt=<pt>) when offered.
 * - audio RED (RFC 2198): red/48000 whose fmtp names only the chosen Opus
 *   payload type ("111/111") is answered, listed before Opus (Chromium sends
 *   RED only then), in PUBLISH and VIEW; not in ROOM yet. The track's red_pt
 *   is set; a viewer without it gets the primary Opus block of RED packets.
 * - feedback: nack, nack pli, ccm fir on video; transport-cc and goog-remb
 *   only in PUBLISH. Only what the offer lists is answered.
 * - header extensions (ids kept per m-line, as aiortc reuses ids across
 *   m-lines): sdes:mid always, ssrc-audio-level on audio, rtp-stream-id,
 *   repaired-rtp-stream-id and transport-wide-cc in PUBLISH; rtp-stream-id
 *   and repaired-rtp-stream-id in ROOM on a video m-line the client sends
 *   with a=rid (whatever media.simulcast says: Chromium needs them when it
 *   answers later server offers for a sender created with rids).
 * - simulcast (RFC 8853), only with sig_sdp_local.simulcast (config key
 *   media.simulcast): on a video m-line the SFU receives in PUBLISH and ROOM,
 *   the offer's send streams are answered "a=rid:<id> recv" +
 *   "a=simulcast:recv <ids>" (up to SFU_MAX_LAYERS; paused, undeclared or
 *   pt-restricted ones dropped; sdp_simulcast.h), and the track's
 *   layers are filled; a legacy a=ssrc-group:SIM gives layers by SSRC. A
 *   malformed a=simulcast is then -SFU_EMALFORMED. Without the switch,
 *   simulcast offers are answered without a=rid/a=simulcast, so the client
 *   sends one encoding (JSEP: its first).
 * - m-lines that are not RTP audio/video, lack rtcp-mux, are disabled (port 0
 *   without bundle-only), are outside the first BUNDLE group, or have no codec
 *   in common are rejected (port 0, not in the answer's BUNDLE group). Without
 *   any BUNDLE group only the first acceptable m-line is accepted (one
 *   transport per PeerConnection).
 * - DTLS (RFC 8842 5.3): offer actpass or active (or no a=setup) -> the SFU
 *   answers passive and is the DTLS server; offer passive -> the SFU answers
 *   active and is the DTLS client.
 * - The answer is ICE-lite and complete: every accepted m-line carries the
 *   ICE credentials, fingerprint, setup, all the server's candidates and
 *   a=end-of-candidates. RFC 8843 7.3.1 would put transport attributes in the
 *   BUNDLE-tag m-line only; repeating them is what Janus and browsers do and
 *   serves clients that read candidates per m-line. c= and the port come from
 *   the first candidate.
 *
 * Modes and directions (offer -> answer):
 *   PUBLISH (WHIP): sendonly|sendrecv -> recvonly; others rejected.
 *   VIEW (WHEP):    recvonly|sendrecv -> sendonly, first audio and first video
 *                   only; the SFU's SSRCs, cname, msid, FID for RTX are signaled.
 *   ROOM:           sendonly -> recvonly, recvonly -> sendonly,
 *                   sendrecv -> sendrecv, inactive -> inactive (kept so the
 *                   m-line can be reused on renegotiation).
 *
 * H.264 matching in VIEW: the profile (from profile_idc and the constraint
 * flags: Constrained Baseline, Baseline, Main, High, Constrained High, ...)
 * must match the publisher's, and an offered Baseline also accepts a
 * Constrained Baseline publisher. The level is not compared: the SFU cannot
 * transcode, and browsers offer level-asymmetry-allowed=1 and decode above
 * the level they signal; the answer echoes the offered profile-level-id. */
#ifndef SIG_SDP_ANSWER_H
#define SIG_SDP_ANSWER_H

#include "sfu/core/media.h"
#include "signaling/sdp.h"

typedef enum sig_sdp_mode {
    SIG_SDP_PUBLISH = 0,
    SIG_SDP_VIEW,
    SIG_SDP_ROOM,
} sig_sdp_mode;

typedef enum sig_dtls_role {
    SIG_DTLS_SERVER = 0,        /* the SFU answered a=setup:passive */
    SIG_DTLS_CLIENT,            /* the SFU answered a=setup:active */
} sig_dtls_role;

/* Returns a new SSRC for the SFU to send with, unique in the room. */
typedef uint32_t (*sig_ssrc_fn)(void *ctx);

/* The server's side; borrowed for the call. */
typedef struct sig_sdp_local {
    const char *ice_ufrag;              /* RFC 8839 ice-chars, 4..256 */
    const char *ice_pwd;                /* 22..256 */
    const char *fingerprint;            /* sha-256 as "AB:CD:..." */
    const sig_ice_candidate *cands;     /* host candidates: udp, or tcp passive; first 16 used */
    unsigned ncands;
    const char *cname;                  /* the SFU's CNAME toward this leg, < 32 bytes */
    const char *stream_id;              /* msid stream id of sent tracks (participant id); NULL: "-" */
    uint64_t sess_id, sess_version;     /* o= line */
    sig_ssrc_fn pick_ssrc;              /* needed when the SFU sends */
    void *ssrc_ctx;
    /* VIEW: the publisher's video codec, NONE for any; with H264 its
     * profile-level-id (0: any profile). PUBLISH/ROOM: a preference only. */
    sfu_codec video_codec;
    uint32_t h264_profile_level_id;
    bool simulcast;                     /* answer simulcast offers (media.simulcast) */
} sig_sdp_local;

typedef struct sig_sdp_result {
    char *sdp;                          /* the answer, NUL-terminated */
    size_t sdp_len;
    sfu_leg_desc leg;
    sig_dtls_role role;                 /* the SFU's DTLS role */
    sig_sdp_ice remote_ice;             /* the client's ufrag, pwd, options */
    sig_sdp_fingerprint remote_fingerprint;
    unsigned nremote_cands;             /* from accepted m-lines, duplicates removed */
    sig_ice_candidate remote_cands[SIG_SDP_MAX_CANDS];
    bool remote_end_of_candidates;
} sig_sdp_result;

/* Fills *res (release with sig_sdp_result_deinit). Errors, with a reason in
 * err: -SFU_EUNSUPPORTED when no m-line can be accepted (HTTP 422) or the
 * client's transport is one the SFU cannot use; -SFU_EMALFORMED when the
 * offer lacks ICE credentials or a fingerprint, or (with `simulcast`) has a
 * malformed a=simulcast (HTTP 400); -SFU_EINVAL for a
 * bad `local`; -SFU_ENOMEM. */
int sig_sdp_answer(const sig_sdp *offer, sig_sdp_mode mode, const sig_sdp_local *local,
                   sig_sdp_result *res, char *err, size_t errlen);
void sig_sdp_result_deinit(sig_sdp_result *res);

/* The H.264 profile of a profile-level-id (RFC 6184 8.1), as a small
 * number; equal numbers are the same profile. */
int sig_sdp_h264_profile(uint32_t profile_level_id);

#endif
