/* The bodies of the node-to-node call that keeps a room spanning nodes in
 * step (signaling/span.c), pure: encode, decode with every field checked,
 * and the two rules of the star: what a node offers another, and what it
 * must open or close to match what it was offered.
 *
 * A satellite (a node serving participants of a room another node owns)
 * POSTs its room's local participants to the owner's internal endpoint;
 * the owner answers with the room as it knows it, less what came from that
 * satellite. Both bodies are JSON sealed with the cluster secret
 * (sig_cluster_seal), so only a node holding the secret can ask or answer.
 *
 *   request  {"v":1,"node":ID,"url":PUBLIC_URL,"room":R,"ts":UNIX_S,
 *             "members":[{"id":"0a1b2c3d","name":NAME}...]}
 *   response {"v":1,"node":ID,"room":R,"members":[...]}
 *
 * Names travel only between nodes, sealed; Redis never sees them. */
#ifndef SIG_SPAN_MSG_H
#define SIG_SPAN_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signaling/cluster_store.h"
#include "signaling/route.h"

#define SIG_SPAN_MEMBERS_MAX 128        /* participants offered in one body */
#define SIG_SPAN_MAX_SKEW_S 60          /* a request older or newer than this is refused */
#define SIG_SPAN_BODY_MAX 28672         /* bytes of a sealed body, either way */

typedef struct sig_span_member {
    uint32_t participant;
    char name[SIG_DISPLAY_NAME_MAX + 1];
} sig_span_member;

typedef struct sig_span_request {
    char node[SIG_CLUSTER_ID_MAX + 1];  /* the satellite */
    char url[SIG_CLUSTER_URL_MAX];      /* its public_url: where the owner pulls from */
    char room[SIG_NAME_MAX + 1];
    int64_t ts;                         /* seconds since the epoch */
    unsigned nmembers;
    sig_span_member members[SIG_SPAN_MEMBERS_MAX];
} sig_span_request;

typedef struct sig_span_response {
    char node[SIG_CLUSTER_ID_MAX + 1];  /* the owner */
    char room[SIG_NAME_MAX + 1];
    unsigned nmembers;
    sig_span_member members[SIG_SPAN_MEMBERS_MAX];
} sig_span_response;

/* Sealed texts to g_free; NULL when a field is out of range or the text
 * would be longer than SIG_SPAN_BODY_MAX. */
char *sig_span_request_encode(const sig_span_request *req, const char *secret);
char *sig_span_response_encode(const sig_span_response *resp, const char *secret);
/* 0, or -SFU_EMALFORMED with the reason in `why` (a bad or missing seal,
 * bad JSON, a field missing or out of range, a participant twice, a
 * request whose ts is more than SIG_SPAN_MAX_SKEW_S from `now_s`, a
 * response for another room than `room`). `out` is filled only on
 * success. An empty secret refuses everything. */
int sig_span_request_decode(const char *text, size_t len, const char *secret, int64_t now_s,
                            sig_span_request *out, char *why, size_t n);
int sig_span_response_decode(const char *text, size_t len, const char *secret, const char *room,
                             sig_span_response *out, char *why, size_t n);

/* A participant of a room as one node holds it: published here by a
 * client (origin ""), or pulled over a relay leg from node `origin`. */
typedef struct sig_span_entry {
    sig_span_member m;
    char origin[SIG_CLUSTER_ID_MAX + 1];
} sig_span_entry;

/* The loop rule: what this node offers node `to`. A satellite (owner ==
 * false) offers only its own clients' participants, never one it pulled;
 * the owner offers everyone but what it pulled from `to`. So a track never
 * goes back where it came from, and every path is at most satellite ->
 * owner -> satellite. Returns how many were written (at most `max`). */
unsigned sig_span_offer(const sig_span_entry *in, unsigned n, bool owner, const char *to,
                        sig_span_member *out, unsigned max);

/* The diff: `have` are the participants this node pulls from the peer,
 * `local` those it has from anywhere else (its clients, other origins),
 * `want` what the peer offered. Fills `open` with indexes into `want` of
 * participants to pull (offered, not pulled, not held otherwise) and
 * `close` with the pulled ones no longer offered. Counts in *nopen and
 * *nclose (at most nwant and nhave). */
void sig_span_diff(const uint32_t *have, unsigned nhave, const uint32_t *local, unsigned nlocal,
                   const sig_span_member *want, unsigned nwant, unsigned *open, unsigned *nopen,
                   uint32_t *close, unsigned *nclose);

#endif
