/* Simulcast in SDP: the a=simulcast value (RFC 8853 5.1) parsed into rid
 * lists, and the choice of the layers the SFU answers for a publisher's
 * m-line, from a=simulcast + a=rid (RFC 8851) or from a legacy
 * a=ssrc-group:SIM.
 *
 * Grammar (RFC 8853 5.1, with the rid-id of RFC 8851 10):
 *   value     = dir SP streams [SP dir SP streams]   ; "send" and "recv" at most once each
 *   streams   = alts *(";" alts)                     ; one entry per simulcast stream
 *   alts      = rid *("," rid)                       ; alternatives for that stream
 *   rid       = ["~"] 1*(ALPHA / DIGIT / "-" / "_")  ; "~": proposed paused
 * A "rid=" before a list (the syntax of the pre-RFC drafts that older
 * Firefox wrote) is accepted and ignored. */
#ifndef SIG_SDP_SIMULCAST_H
#define SIG_SDP_SIMULCAST_H

#include "sfu/core/media.h"
#include "signaling/sdp.h"

#define SIG_SC_MAX_STREAMS 8    /* streams per direction */
#define SIG_SC_MAX_ALTS 4       /* alternatives per stream */

typedef struct sig_sc_rid {
    char id[SIG_SDP_MID_LEN + 1];
    bool paused;                /* written with "~" */
} sig_sc_rid;

typedef struct sig_sc_stream {
    unsigned nalts;
    sig_sc_rid alts[SIG_SC_MAX_ALTS];
} sig_sc_stream;

typedef struct sig_sc_list {
    bool present;
    unsigned nstreams;          /* in the offerer's order of preference */
    sig_sc_stream streams[SIG_SC_MAX_STREAMS];
} sig_sc_list;

typedef struct sig_sdp_simulcast {
    sig_sc_list send, recv;     /* from the writer's point of view */
} sig_sdp_simulcast;

/* Parses the value of an a=simulcast line (after "a=simulcast:"). 0, or
 * -SFU_EMALFORMED with the problem in err (e.g. "empty stream", "rid \"q\"
 * twice", "unknown direction \"sendrecv\""); *out is then zeroed. */
int sig_sdp_simulcast_parse(const char *value, sig_sdp_simulcast *out, char *err, size_t errlen);

/* The layers the SFU receives on a publisher's video m-line, for the chosen
 * codec payload type `pt`.
 * With a=simulcast (RFC 8853 5.3.2, answerer): per offered send stream in
 * order, its first alternative that is not paused, is declared by
 * "a=rid:<id> send", allows `pt` and fits SFU_RID_MAX; streams without one
 * are dropped, and so are streams past SFU_MAX_LAYERS. Needs the rid header
 * extension in the offer. Layers carry their rid; SSRCs stay 0 (learnt from
 * the rid extension).
 * Without a=simulcast, an a=ssrc-group:SIM of 2 or more SSRCs gives layers
 * without rids (the first SFU_MAX_LAYERS, lowest first), each with its RTX
 * SSRC from a=ssrc-group:FID.
 * Fewer than 2 layers means no simulcast: *nlayers = 0.
 * 0, or -SFU_EMALFORMED ("line N: a=simulcast: <problem>") in err. */
int sig_sdp_simulcast_layers(const sig_sdp_media *om, uint8_t pt, sfu_layer_desc layers[SFU_MAX_LAYERS],
                             uint8_t *nlayers, char *err, size_t errlen);

/* "recv q;h;f": the answer's a=simulcast value for layers with rids. */
int sig_sdp_simulcast_format(const sfu_layer_desc *layers, unsigned nlayers, char *buf, size_t size);

#endif
