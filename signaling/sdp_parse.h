/* Private to the SDP parser (sdp.c, sdp_attr.c, sdp_candidate.c, sdpfrag.c):
 * the parser's state and small lexing helpers. */
#ifndef SIG_SDP_PARSE_H
#define SIG_SDP_PARSE_H

#include "signaling/sdp.h"

typedef struct sig_sdp_parser {
    sig_sdp *sdp;
    unsigned line;
    unsigned max_media;
    char *err;
    size_t errlen;
    bool seen_v, seen_o;
    unsigned bundle_line;
    char conn_addr[64];         /* session-level c= */
    bool conn_ip6;
    sig_sdp_dir sess_dir;
    bool dir_set[SIG_SDP_MAX_MEDIA];
} sig_sdp_parser;

/* Writes "line N: <formatted>" into the error buffer; returns -SFU_EMALFORMED. */
int sig_sdp_fail(sig_sdp_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Handles the value of an a= line (after "a="). */
int sig_sdp_parse_attr(sig_sdp_parser *p, char *v);

/* Next space-separated token of *s (NUL-terminated in place), or NULL. */
char *sig_sdp_tok(char **s);
/* A whole string of 1-20 decimal digits, at most max. */
bool sig_sdp_u64(const char *s, uint64_t max, uint64_t *out);
/* RFC 8866 token characters, length 1..maxlen. */
bool sig_sdp_token_ok(const char *s, size_t maxlen);
bool sig_sdp_parse_dir(const char *s, sig_sdp_dir *dir);
/* Sets the flags of an a=ice-options value (modified in place). */
void sig_sdp_ice_options(sig_sdp_ice *ice, char *v);

#endif
