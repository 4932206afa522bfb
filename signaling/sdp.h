/* SDP (RFC 8866) as WebRTC peers write it: the unified-plan subset that
 * Chrome, Firefox, Safari, aiortc, GStreamer and OBS send (RFC 8829 JSEP,
 * RFC 8843 BUNDLE, RFC 8839 ICE, RFC 8842 DTLS).
 *
 * One data model serves both directions: sig_sdp_parse() fills it from text
 * and sig_sdp_write() turns it back into text, so an answer or a server offer
 * is built as a sig_sdp and written by the same code.
 *
 * The parser is strict about what it reads (every number in range, every
 * length checked) and lenient about what it does not need (unknown lines and
 * attributes are skipped). Errors go into the caller's buffer as
 * "line N: <attribute>: <problem>". Session-level ICE credentials, ICE
 * options, fingerprint, setup role and direction are copied down into every
 * m-line that does not carry its own (OBS writes them at session level), so a
 * consumer reads them from the m-line only. */
#ifndef SIG_SDP_H
#define SIG_SDP_H

#include "sfu/core/common.h"

#define SIG_SDP_MAX_MEDIA 64    /* hard cap; callers set a lower limit */
#define SIG_SDP_MAX_FMTS 64     /* payload types per m-line (Chrome: 34) */
#define SIG_SDP_MAX_EXTS 32     /* extmap lines per m-line */
#define SIG_SDP_MAX_CANDS 16    /* candidates kept per m-line; more are ignored */
#define SIG_SDP_MAX_SSRCS 16
#define SIG_SDP_MAX_FIDS 8
#define SIG_SDP_MAX_RIDS 8
#define SIG_SDP_MAX_RID_PTS 8   /* payload types of one a=rid's pt= restriction */
#define SIG_SDP_MAX_SIMS 8      /* SSRCs of one a=ssrc-group:SIM */
#define SIG_SDP_SIMULCAST_LEN 320 /* a=simulcast value: 8 rids of 32 chars, both directions */
#define SIG_SDP_MID_LEN 32      /* longest mid accepted (token) */
#define SIG_SDP_ID_LEN 64       /* msid ids: RFC 8830 1*64 token-char */
#define SIG_SDP_ICE_LEN 256     /* RFC 8839 5.4: ufrag 4-256, pwd 22-256 chars */
#define SIG_SDP_FMTP_LEN 191
#define SIG_SDP_URI_LEN 127

typedef enum sig_sdp_kind {
    SIG_SDP_AUDIO = 0,
    SIG_SDP_VIDEO,
    SIG_SDP_APPLICATION,
    SIG_SDP_OTHER,
} sig_sdp_kind;

/* From the point of view of whoever wrote the SDP. */
typedef enum sig_sdp_dir {
    SIG_SDP_SENDRECV = 0,
    SIG_SDP_SENDONLY,
    SIG_SDP_RECVONLY,
    SIG_SDP_INACTIVE,
} sig_sdp_dir;

/* RFC 4145 4 / RFC 8842 5 */
typedef enum sig_sdp_setup {
    SIG_SDP_SETUP_NONE = 0,
    SIG_SDP_SETUP_ACTPASS,
    SIG_SDP_SETUP_ACTIVE,
    SIG_SDP_SETUP_PASSIVE,
    SIG_SDP_SETUP_HOLDCONN,
} sig_sdp_setup;

/* Header extensions the SFU knows by URI. */
typedef enum sig_sdp_ext_kind {
    SIG_EXT_OTHER = 0,
    SIG_EXT_MID,            /* urn:ietf:params:rtp-hdrext:sdes:mid */
    SIG_EXT_RID,            /* ...:sdes:rtp-stream-id */
    SIG_EXT_REPAIRED_RID,   /* ...:sdes:repaired-rtp-stream-id */
    SIG_EXT_AUDIO_LEVEL,    /* urn:ietf:params:rtp-hdrext:ssrc-audio-level */
    SIG_EXT_ABS_SEND_TIME,
    SIG_EXT_TWCC,           /* draft-holmer-rmcat-transport-wide-cc-extensions-01 */
    SIG_EXT_DD,             /* AV1 RTP spec: dependency descriptor (forwarded untouched) */
} sig_sdp_ext_kind;

/* rtcp-fb (RFC 4585 4.2, RFC 5104 7.1) bits in sig_sdp_fmt.fb */
#define SIG_FB_NACK 0x01
#define SIG_FB_PLI 0x02
#define SIG_FB_FIR 0x04
#define SIG_FB_TWCC 0x08
#define SIG_FB_REMB 0x10

typedef enum sig_ice_transport { SIG_ICE_UDP = 0, SIG_ICE_TCP } sig_ice_transport;
typedef enum sig_ice_type { SIG_ICE_HOST = 0, SIG_ICE_SRFLX, SIG_ICE_PRFLX, SIG_ICE_RELAY } sig_ice_type;
typedef enum sig_ice_tcptype {
    SIG_ICE_TCP_NONE = 0,
    SIG_ICE_TCP_ACTIVE,
    SIG_ICE_TCP_PASSIVE,
    SIG_ICE_TCP_SO,
} sig_ice_tcptype;

/* One a=candidate (RFC 8839 5.1). */
typedef struct sig_ice_candidate {
    char foundation[33];
    uint16_t component;
    sig_ice_transport transport;
    uint32_t priority;
    char address[64];           /* IPv4, IPv6 or an FQDN (mDNS .local) */
    uint16_t port;
    sig_ice_type type;
    sig_ice_tcptype tcptype;
    bool has_raddr;
    char raddr[64];
    uint16_t rport;
} sig_ice_candidate;

typedef struct sig_sdp_ice {
    char ufrag[SIG_SDP_ICE_LEN + 1];
    char pwd[SIG_SDP_ICE_LEN + 1];
    bool trickle;               /* a=ice-options:trickle */
    bool ice2;                  /* a=ice-options:ice2 */
} sig_sdp_ice;

/* RFC 8122 5: a hash name and the digest's bytes. */
typedef struct sig_sdp_fingerprint {
    char alg[16];               /* lower case: "sha-256" */
    uint8_t len;                /* 0: none */
    uint8_t bytes[64];
} sig_sdp_fingerprint;

/* One payload type of an m-line with what rtpmap, fmtp and rtcp-fb said. */
typedef struct sig_sdp_fmt {
    uint8_t pt;
    bool has_rtpmap;
    char name[16];              /* encoding name as written ("opus", "OPUS") */
    uint32_t clock_rate;
    uint8_t channels;           /* 0: not given */
    char fmtp[SIG_SDP_FMTP_LEN + 1]; /* raw parameters, "" if none */
    int16_t apt;                /* RTX (RFC 4588 8.6): associated pt, -1 if none */
    int8_t packetization_mode;  /* H.264 (RFC 6184 8.1): -1 if absent (means 0) */
    uint32_t profile_level_id;  /* H.264: 24 bits, 0 if absent */
    uint8_t fb;                 /* SIG_FB_* */
} sig_sdp_fmt;

typedef struct sig_sdp_ext {
    uint16_t id;                /* 1-14, or 16-255 with the two-byte form */
    bool has_dir;
    sig_sdp_dir dir;            /* RFC 8285 8: a=extmap:N/dir */
    sig_sdp_ext_kind kind;
    char uri[SIG_SDP_URI_LEN + 1]; /* "" if it was longer (kind is then OTHER) */
} sig_sdp_ext;

typedef struct sig_sdp_ssrc {
    uint32_t ssrc;
    char cname[80];
    char msid_stream[SIG_SDP_ID_LEN + 1];
    char msid_track[SIG_SDP_ID_LEN + 1];
} sig_sdp_ssrc;

typedef struct sig_sdp_fid {
    uint32_t primary, rtx;      /* a=ssrc-group:FID (RFC 5576 4.2, RFC 4588) */
} sig_sdp_fid;

typedef struct sig_sdp_rid {
    char id[SIG_SDP_MID_LEN + 1];
    bool send;                  /* "send" (else "recv") */
    uint8_t npts;               /* RFC 8851 5: pt= restriction; 0: any format */
    uint8_t pts[SIG_SDP_MAX_RID_PTS];
} sig_sdp_rid;

typedef struct sig_sdp_media {
    unsigned line;              /* line number of the m= line, 0 when built */
    sig_sdp_kind kind;
    char media[16];             /* "audio", "video", "application", ... */
    uint16_t port;
    char proto[32];             /* "UDP/TLS/RTP/SAVPF" */
    bool rtp;                   /* proto is an RTP profile: fmts are payload types */
    unsigned nfmts;
    sig_sdp_fmt fmts[SIG_SDP_MAX_FMTS];
    char app_fmt[64];           /* the fmt list as written, when !rtp */
    char conn_addr[64];         /* c= address, "" if none */
    bool conn_ip6;
    char mid[SIG_SDP_MID_LEN + 1];
    sig_sdp_dir dir;
    bool rtcp_mux, rtcp_mux_only, rtcp_rsize, bundle_only;
    bool end_of_candidates;
    sig_sdp_ice ice;
    sig_sdp_fingerprint fingerprint;
    sig_sdp_setup setup;
    char msid_stream[SIG_SDP_ID_LEN + 1]; /* a=msid: "" if none */
    char msid_track[SIG_SDP_ID_LEN + 1];
    unsigned nexts;
    sig_sdp_ext exts[SIG_SDP_MAX_EXTS];
    unsigned nssrcs;
    sig_sdp_ssrc ssrcs[SIG_SDP_MAX_SSRCS];
    unsigned nfids;
    sig_sdp_fid fids[SIG_SDP_MAX_FIDS];
    unsigned nrids;
    sig_sdp_rid rids[SIG_SDP_MAX_RIDS];
    unsigned nsims;             /* a=ssrc-group:SIM (legacy simulcast), lowest layer first */
    uint32_t sims[SIG_SDP_MAX_SIMS];
    bool simulcast;             /* an a=simulcast line was present */
    unsigned simulcast_line;    /* its line number (0 when built) */
    bool simulcast_too_long;    /* its value did not fit; simulcast_value is "" */
    char simulcast_value[SIG_SDP_SIMULCAST_LEN + 1]; /* as written; parse with sig_sdp_simulcast_parse */
    unsigned ncands;
    sig_ice_candidate cands[SIG_SDP_MAX_CANDS];
} sig_sdp_media;

typedef struct sig_sdp {
    char origin_user[64];
    uint64_t sess_id, sess_version;
    char origin_addr[64];
    bool ice_lite;
    bool extmap_allow_mixed;    /* session level, or on any m-line */
    bool msid_semantic;         /* a=msid-semantic present */
    bool has_bundle;
    unsigned nbundle;           /* mids of the first a=group:BUNDLE */
    char bundle[SIG_SDP_MAX_MEDIA][SIG_SDP_MID_LEN + 1];
    /* Session-level values; already copied into m-lines lacking their own.
     * The writer writes them at session level when set. */
    sig_sdp_ice ice;
    sig_sdp_fingerprint fingerprint;
    sig_sdp_setup setup;
    unsigned nmedia;
    unsigned cap;               /* allocated entries of media */
    sig_sdp_media *media;
} sig_sdp;

/* Structural limits from the configuration; 0 takes the default. */
typedef struct sig_sdp_limits {
    size_t max_bytes;           /* default 65536 */
    size_t max_line;            /* bytes per line without the line end; default 4096 */
    unsigned max_media;         /* default 32, at most SIG_SDP_MAX_MEDIA */
} sig_sdp_limits;

/* Parses `len` bytes of `text` (NULs are malformed). On success *out is a
 * new sig_sdp for sig_sdp_free(). On failure returns -SFU_EMALFORMED (also
 * for an exceeded limit) or -SFU_ENOMEM and writes the reason into err. */
int sig_sdp_parse(const char *text, size_t len, const sig_sdp_limits *limits, sig_sdp **out,
                  char *err, size_t errlen);

/* An empty description to fill in for writing; sig_sdp_free() it. */
sig_sdp *sig_sdp_new(void);
void sig_sdp_free(sig_sdp *sdp);
/* Appends a zeroed m-line (dir sendrecv, apt/packetization-mode unset).
 * Returns NULL when SIG_SDP_MAX_MEDIA are there or memory runs out. */
sig_sdp_media *sig_sdp_add_media(sig_sdp *sdp);

/* Writes the description with CRLF line ends into a new NUL-terminated
 * string (*out, free() it; *outlen without the NUL). Rejected m-lines (port 0
 * and not bundle-only) are written with their mid only. */
int sig_sdp_write(const sig_sdp *sdp, char **out, size_t *outlen);

/* Helpers shared with the sdpfrag parser and the negotiation. */
/* `value` is what follows "a=candidate:". -SFU_EUNSUPPORTED for a transport
 * other than UDP or TCP, -SFU_EMALFORMED otherwise; reason in *why. */
int sig_sdp_parse_candidate(const char *value, sig_ice_candidate *out, const char **why);
/* Writes "candidate:..." (no "a=", no line end); -SFU_ENOSPC if too small. */
int sig_sdp_format_candidate(const sig_ice_candidate *c, char *buf, size_t size);
/* Checks RFC 8839 5.4 length and ice-char rules. */
bool sig_sdp_ice_ufrag_ok(const char *s);
bool sig_sdp_ice_pwd_ok(const char *s);
/* "AB:CD:..." into bytes; 0 or -SFU_EMALFORMED. */
int sig_sdp_parse_fingerprint_hex(const char *hex, sig_sdp_fingerprint *fp);
sig_sdp_ext_kind sig_sdp_ext_kind_of(const char *uri);
const char *sig_sdp_ext_uri(sig_sdp_ext_kind kind);
const sig_sdp_fmt *sig_sdp_media_fmt(const sig_sdp_media *m, uint8_t pt);
const sig_sdp_media *sig_sdp_find_mid(const sig_sdp *sdp, const char *mid);
bool sig_sdp_in_bundle(const sig_sdp *sdp, const char *mid);

#endif
