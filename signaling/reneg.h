/* Server-driven renegotiation of one room session's PeerConnection
 * (RFC 8829 JSEP subsequent offers, RFC 3264 8). Pure signaling: no I/O, no
 * clock (callers pass `now`), one thread at a time.
 *
 * Model. The session's SDP is a list of m-line slots in a fixed order with
 * fixed mids; slots are never removed. Each slot has a kind, one codec (+RTX)
 * and header-extension ids taken from what the client offered, and two
 * independent directions:
 *   - pub: the client sends on it (its own camera/microphone);
 *   - assigned: the SFU sends on it another participant's track
 *     (participant, kind), with SSRCs chosen through the picker.
 * A receive slot is a slot the client does not publish on: the client's own
 * recvonly m-lines from the join, and m-lines the server appends. The
 * client's published m-lines stay receive-only for the SFU.
 *
 * Inputs are the set of others' tracks this participant should receive
 * (sig_reneg_add_track / sig_reneg_remove_track). An offer reconciles the
 * committed slots with that set: a slot whose track is gone goes a=inactive;
 * a new track takes an inactive receive slot of its kind (recycling, so a long
 * call does not grow its SDP), else a new m-line with a fresh mid, up to
 * cfg.max_mlines. A slot is reused only once the client has answered the
 * offer that made it inactive, so a transceiver never switches from one
 * participant's track to another's within one offer; a reused slot gets new
 * SSRCs (a new sink in the core). Tracks that find no slot wait and are placed
 * as soon as one frees up.
 *
 * Batching and glare: changes mark the session dirty; sig_reneg_poll_offer()
 * says "offer now" once cfg.batch_delay has passed since the first change and
 * no offer is outstanding. At most one server offer is outstanding; changes
 * arriving meanwhile (or while a client re-offer is handled) stay queued and
 * go into the next offer after the answer. A client re-offer while a server
 * offer is outstanding is refused (409): the client answers first.
 *
 * Offers carry the same m-lines in the same order every time, a=ice-lite,
 * a=setup:actpass (JSEP 5.2.2), the unchanged ICE credentials, fingerprint
 * and candidates, BUNDLE of every non-rejected mid, per sending m-line
 * a=msid:<participant-id> <kind>-<mid>, a=ssrc cname/msid and, for video with
 * RTX, a=ssrc-group:FID. The DTLS association and roles never change: an
 * answer must take the role the client already has (RFC 8842 5.5), and a
 * client re-offer is answered with the SFU's current role.
 *
 * Participant ids are the core's numbers; in SDP they are written as 8 hex
 * digits (sig_participant_format). */
#ifndef SIG_RENEG_H
#define SIG_RENEG_H

#include "sfu/core/media.h"
#include "signaling/sdp.h"
#include "signaling/sdp_answer.h"

typedef struct sig_reneg sig_reneg;

typedef struct sig_reneg_config {
    sfu_time batch_delay;       /* wait after the first change; 0: 100 ms */
    unsigned max_mlines;        /* non-rejected m-lines; 0 (or above SFU_MAX_TRACKS): SFU_MAX_TRACKS */
    unsigned max_tracks;        /* others' tracks remembered; 0: 256 */
    sig_sdp_limits limits;      /* for parsing answers and re-offers */
    sig_ssrc_fn pick_ssrc;      /* required: SSRCs for sent tracks, unique in the room */
    void *ssrc_ctx;
    bool simulcast;             /* client re-offers: as sig_sdp_local.simulcast */
    /* Large rooms: when more than this many others publish audio, the
     * session receives audio on this many slot m-lines instead (bound to
     * SFU_AUDIO_SLOT_BASE + k: the room switches their source), and goes
     * back to one m-line per participant when fewer than this many do.
     * 0: always one per participant. At most SFU_AUDIO_SLOTS_MAX. */
    unsigned audio_slots;
} sig_reneg_config;

/* One receiving m-line of an offer: whose media it carries. */
typedef struct sig_reneg_track {
    char mid[SFU_MID_MAX];
    uint32_t participant;
    sfu_kind kind;
} sig_reneg_track;

typedef struct sig_reneg_offer {
    uint32_t revision;          /* 1, 2, ...; monotonic per session */
    const char *sdp;            /* NUL-terminated; owned by the sig_reneg */
    size_t sdp_len;
    unsigned ntracks;           /* active receiving m-lines only, in m-line order */
    sig_reneg_track tracks[SFU_MAX_TRACKS];
} sig_reneg_offer;

/* A sink to bind: sfu_room_bind(room, leg, mid, participant) after
 * sfu_room_update_leg with the new description. */
typedef struct sig_reneg_binding {
    char mid[SFU_MID_MAX];
    uint32_t participant;
} sig_reneg_binding;

typedef struct sig_reneg_result {
    sfu_leg_desc leg;           /* for sfu_room_update_leg */
    unsigned nbindings;
    sig_reneg_binding bindings[SFU_MAX_TRACKS];
    /* Client re-offers only: */
    char *sdp;                  /* the answer, NUL-terminated */
    size_t sdp_len;
    bool ice_restart;           /* the client changed its ICE ufrag/pwd */
    sig_sdp_ice remote_ice;     /* the client's (new) credentials */
    unsigned nremote_cands;
    sig_ice_candidate remote_cands[SIG_SDP_MAX_CANDS];
    bool remote_end_of_candidates;
} sig_reneg_result;

/* New server ICE credentials for an ICE restart (RFC 8839 4.4.1.1.1), and
 * the new generation's candidates when it has a port of its own (ncands 0:
 * the candidates stay). */
typedef struct sig_reneg_ice_creds {
    const char *ufrag;          /* 4..256 ice-chars */
    const char *pwd;            /* 22..256 */
    const sig_ice_candidate *cands;
    unsigned ncands;            /* <= SIG_SDP_MAX_CANDS */
} sig_reneg_ice_creds;

/* add_track: the track was remembered but no m-line can carry it now (the
 * m-line limit, or the client negotiated no m-line of that kind); it is placed
 * when one frees up. Log it; emit nothing for it. */
#define SIG_RENEG_WAITING 1

/* From what the join negotiated: the client's parsed offer and the answer
 * sig_sdp_answer(offer, SIG_SDP_ROOM, ...) produced for it (its SDP text, leg
 * description, DTLS role and the client's transport are taken over; the
 * server's ICE credentials, fingerprint and candidates are read back from the
 * answer text). NULL on a bad config, an inconsistent pair, or no memory. */
sig_reneg *sig_reneg_new(const sig_sdp *client_offer, const sig_sdp_result *first_answer,
                         const sig_reneg_config *cfg);
void sig_reneg_free(sig_reneg *r);

/* Another participant's track appears / disappears. Idempotent for a known
 * (participant, kind). add: 0, SIG_RENEG_WAITING, -SFU_ELIMIT (max_tracks),
 * -SFU_EINVAL, -SFU_ENOMEM. remove: 0 or -SFU_ENOTFOUND. */
int sig_reneg_add_track(sig_reneg *r, uint32_t participant, sfu_kind kind, sfu_time now);
int sig_reneg_remove_track(sig_reneg *r, uint32_t participant, sfu_kind kind, sfu_time now);
/* Both kinds; 0 or -SFU_ENOTFOUND when it had none. */
int sig_reneg_remove_participant(sig_reneg *r, uint32_t participant, sfu_time now);

/* Video subscriptions: with `on`, the session receives video only from the
 * `n` participants listed (in that order of priority; duplicates and
 * participants not publishing video are ignored), and never has more video
 * m-lines than the list is long: a participant that drops out of the list
 * frees its m-line (a=inactive), which the next one reuses once the client
 * has answered. Without `on` (the default): everyone's video, as m-lines
 * allow. Returns 0, or -SFU_EINVAL when n > SIG_RENEG_MAX_SUBS. */
#define SIG_RENEG_MAX_SUBS SFU_MAX_TRACKS
int sig_reneg_set_subscriptions(sig_reneg *r, bool on, const uint32_t *participants, unsigned n,
                                sfu_time now);
/* Whether the session receives audio through slots now. */
bool sig_reneg_audio_slotted(const sig_reneg *r);
/* The committed m-line that carries `participant`'s track of `kind`, or NULL. */
const char *sig_reneg_mid_of(const sig_reneg *r, uint32_t participant, sfu_kind kind);
/* Committed m-lines carrying audio slots. */
unsigned sig_reneg_audio_slot_count(const sig_reneg *r);

/* Whether an offer should be built now: something would change, no offer is
 * outstanding, and batch_delay has passed since the first change. Call it
 * after every input and at sig_reneg_timeout(). */
bool sig_reneg_poll_offer(sig_reneg *r, sfu_time now);
/* When to poll next: SFU_TIME_NEVER if nothing is pending, 0 for "now". */
sfu_time sig_reneg_timeout(const sig_reneg *r);

/* Builds the next offer (also when nothing changed); *out stays valid until
 * the next offer or sig_reneg_free. -SFU_ESTATE while one is outstanding,
 * -SFU_ENOMEM. */
int sig_reneg_make_offer(sig_reneg *r, sfu_time now, const sig_reneg_offer **out);
/* The unanswered offer (to replay on an event-stream reconnect) or NULL. */
const sig_reneg_offer *sig_reneg_outstanding(const sig_reneg *r);

/* The client's answer to offer `revision`. Fills *res (no sdp) and commits.
 * -SFU_ESTATE (409): no offer outstanding, or not its revision.
 * -SFU_EMALFORMED (400): does not parse, or does not answer the offer (m-line
 * count, order, mid or kind differ; a needed m-line rejected; a direction,
 * payload type or extension id the offer did not allow; a=setup other than
 * the client's current DTLS role; changed ICE credentials or fingerprint).
 * The offer stays outstanding on error. Reason in err. */
int sig_reneg_handle_answer(sig_reneg *r, uint32_t revision, const char *sdp, size_t len,
                            sig_reneg_result *res, char *err, size_t errlen);

/* A client re-offer (PATCH application/sdp). On success *res holds the answer
 * text and the new description, and the session is committed.
 * -SFU_ESTATE (409): a server offer is outstanding.
 * -SFU_EMALFORMED (400): does not parse; an existing m-line was removed,
 * moved or changed kind or mid; DTLS role or fingerprint changed.
 * -SFU_EUNSUPPORTED (422): no m-line acceptable.
 * -SFU_EINVAL: an ICE restart and `restart` is NULL or invalid
 * (res->ice_restart is set; nothing changed; call again with credentials).
 * `restart` may always be given: it is used only when the client restarts. */
int sig_reneg_handle_client_offer(sig_reneg *r, const char *sdp, size_t len,
                                  const sig_reneg_ice_creds *restart, sig_reneg_result *res,
                                  char *err, size_t errlen);
/* 1 if this offer restarts ICE, 0 if not, -SFU_EMALFORMED. */
int sig_reneg_is_ice_restart(const sig_reneg *r, const char *sdp, size_t len);

void sig_reneg_result_deinit(sig_reneg_result *res);

/* The negotiated state as the core should have it now. */
void sig_reneg_leg(const sig_reneg *r, sfu_leg_desc *out);

/* The HTTP status for a return value of the handlers: 200, 400, 409, 422, 500. */
unsigned sig_reneg_http_status(int rc);

#endif
