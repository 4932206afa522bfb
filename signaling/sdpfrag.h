/* Trickle ICE sdpfrag bodies (RFC 8840 9, application/trickle-ice-sdpfrag)
 * as WHIP/WHEP PATCH requests carry them (RFC 9725 4.3): parsing the
 * client's candidates and credentials, and writing the server's answer to an
 * ICE restart (RFC 9725 4.3.2). Candidate lines are parsed by the same code
 * as in a full SDP (sig_sdp_parse_candidate). */
#ifndef SIG_SDPFRAG_H
#define SIG_SDPFRAG_H

#include "signaling/sdp.h"

#define SIG_SDPFRAG_MAX_CANDS 32

typedef struct sig_sdpfrag {
    sig_sdp_ice ice;            /* "" when the fragment carries none */
    bool has_mline;             /* the first m= line, echoed in the answer */
    char media[16];
    char proto[32];
    char fmt[64];
    char mid[SIG_SDP_MID_LEN + 1]; /* the first a=mid, "" if none */
    bool end_of_candidates;
    unsigned ncands;            /* candidates past the cap, or over a transport
                                   other than UDP/TCP, are skipped */
    sig_ice_candidate cands[SIG_SDPFRAG_MAX_CANDS];
} sig_sdpfrag;

/* Parses `len` bytes (max_bytes: 0 for 16384). -SFU_EMALFORMED with
 * "line N: ..." in err for a bad candidate, bad credentials, two different
 * ufrags, a NUL byte or an over-long line. */
int sig_sdpfrag_parse(const char *text, size_t len, size_t max_bytes, sig_sdpfrag *out,
                      char *err, size_t errlen);

/* The answer to an ICE restart: a=ice-lite, the new server credentials and
 * candidates, a=end-of-candidates, inside the m= line and mid of the request
 * (or `mid` if not NULL). Writes a new string into *out (free() it). */
int sig_sdpfrag_write_answer(const sig_sdpfrag *req, const char *mid, const char *ufrag,
                             const char *pwd, const sig_ice_candidate *cands, unsigned ncands,
                             char **out, size_t *outlen);

#endif
