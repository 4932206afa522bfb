/* Who is where: rooms, participants and sessions, shared by the HTTP thread
 * and the workers under one lock (control plane only; no packet ever takes
 * it). Sessions are reference counted: the registry holds one reference
 * while the session is listed, and whoever works on it holds another. */
#ifndef SIG_REGISTRY_H
#define SIG_REGISTRY_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sfu/core/media.h"
#include "signaling/route.h"

#define SIG_PARTICIPANT_ID_LEN 8    /* hex digits of the participant number */
#define SIG_ROOM_NAME_MAX 64
#define SIG_TRACKS_MAX 16

typedef enum sig_session_kind {
    SIG_SESSION_WHIP = 0,
    SIG_SESSION_WHEP,
    SIG_SESSION_ROOM,
} sig_session_kind;

/* GET /rooms: one simulcast layer of a published video track (or its one
 * stream), lowest quality first, as the core last reported it. */
typedef struct sig_layer_info {
    char rid[SFU_RID_MAX];          /* "" for a plain stream */
    uint16_t width, height;         /* 0: unknown (no VP8 keyframe yet) */
    uint32_t bitrate_bps;
    bool active;
} sig_layer_info;

/* GET /rooms: what one video m-line the SFU sends to a viewer receives. */
typedef struct sig_sink_info {
    char mid[SFU_MID_MAX];
    uint8_t nlayers;                /* of its source; 0: bound to nothing yet */
    int current, target, max;       /* quality, 0 lowest; -1: none / automatic */
    uint32_t limit_bps;             /* its bandwidth estimate; 0: none */
    uint8_t max_tid;                /* VP8 temporal layers forwarded: 0..max_tid (3: all) */
    uint64_t switches;
} sig_sink_info;

#define SIG_SINKS_MAX 16            /* video sinks shown per session */

/* GET /rooms: one audio slot m-line of a room participant and whom it
 * carries now. */
typedef struct sig_slot_info {
    char mid[SFU_MID_MAX];
    uint32_t participant;           /* 0: nobody */
} sig_slot_info;

typedef struct sig_track_info {
    char mid[SFU_MID_MAX];
    sfu_kind kind;
    char codec[16];                 /* "opus", "VP8", "H264" */
    uint32_t profile_level_id;      /* H.264 */
    uint32_t bitrate_bps;           /* received, over the last second */
    uint8_t nlayers;                /* video: layers[] last collected */
    sig_layer_info layers[SFU_MAX_LAYERS];
} sig_track_info;

typedef struct sig_limits {
    uint32_t max_sessions;
    uint32_t max_rooms;
    uint32_t max_participants_per_room;
} sig_limits;

struct sfu_peer;
struct sig_events;
struct sig_reneg;

typedef struct sig_session {
    char id[SIG_SESSION_ID_LEN + 1];
    sig_session_kind kind;
    char room[SIG_ROOM_NAME_MAX + 1];
    unsigned worker;
    uint32_t participant;           /* own (WHIP, room); 0 for WHEP */
    uint32_t watched;               /* WHEP: whose media */
    char name[SIG_NAME_MAX + 1];
    char owner_sub[SIG_NAME_MAX + SIG_DISPLAY_NAME_MAX + 2]; /* "room/sub" of the creating token; "" with auth off */
    /* Only on the session's worker thread: */
    struct sfu_peer *peer;
    char remote_ufrag[257];         /* the client's current ICE ufrag */
    unsigned nsink_mids;            /* room sessions: the video m-lines the SFU sends on now */
    char sink_mids[SIG_SINKS_MAX][SFU_MID_MAX];
    char remote_addr[80];           /* under the lock; shown only if the operator allows */
    /* Only on the signaling side, under the server's rooms_lock: */
    struct sig_reneg *reneg;        /* room sessions: renegotiation state */
    void *reneg_timer;              /* GSource batching server offers (main context) */
    struct sig_sub_req *subs;       /* room sessions: the last subscription request, or NULL */
    void *subs_timer;               /* GSource re-applying size caps (room_subs.c, main context) */
    bool announced;                 /* its join went to the room's other sessions */
    /* Set at creation, then constant: */
    struct sig_events *events;      /* room sessions: the event stream */
    /* Under the registry lock: */
    gint refs;                      /* atomic (sig_session_ref/unref) */
    bool ready;                     /* negotiated; listed in GET /rooms */
    bool closing;                   /* DELETE or failure under way */
    unsigned etag;
    unsigned ntracks;
    sig_track_info tracks[SIG_TRACKS_MAX];
    int subscribed;                 /* video subscriptions, -1 none (everyone's), last collected */
    unsigned audio_slots;           /* audio slot m-lines it receives (0: everyone's audio) */
    unsigned nhearing;              /* audio slots as the room assigns them, last collected */
    sig_slot_info hearing[SFU_AUDIO_SLOTS_MAX];
    unsigned nsinks;                /* video m-lines it receives, last collected */
    sig_sink_info sinks[SIG_SINKS_MAX];
} sig_session;

typedef struct sig_registry sig_registry;

sig_registry *sig_registry_new(const sig_limits *limits, unsigned nworkers);
void sig_registry_free(sig_registry *reg);

typedef struct sig_session_spec {
    sig_session_kind kind;
    struct sig_events *events;      /* room sessions: taken over by the session */
    const char *room;
    uint32_t watched;               /* WHEP: whose media */
    const char *name;               /* display name, or NULL */
    const char *owner_sub;          /* the token's sub, or NULL with auth off */
    uint32_t reuse_participant;     /* WHIP: publish again under this id; 0: a new one */
    /* A participant of a room spanning nodes, pulled from the node that
     * admitted it (span.h): never refused for the room's participant
     * limit, or nodes would disagree on who is in the room. */
    bool admitted_elsewhere;
} sig_session_spec;

/* Reserves a new session (creating the room on a worker when it does not
 * exist yet). For WHEP, `watched` must be a participant of that room. A
 * participant id may be reused once free, by the same owner only, so its
 * viewers resume on the same tracks. Returns a reference, or NULL with an
 * HTTP status and reason: 404 (room or participant unknown), 409 (id in
 * use), 403 (id of another owner), 503 (a limit). */
sig_session *sig_registry_create(sig_registry *reg, const sig_session_spec *spec,
                                 unsigned *status, const char **reason);
/* The session's media is negotiated: list it with these tracks. */
void sig_registry_set_ready(sig_registry *reg, sig_session *s, const sig_track_info *tracks,
                            unsigned ntracks);
/* A reference to the session `id`, or NULL with *status 404 (unknown or
 * closing) or 403 (`sub` is not its owner; NULL skips that check, auth off).
 * With `close` set, marks it closing so that only one caller ends it. */
sig_session *sig_registry_get(sig_registry *reg, const char *id, const char *sub, bool close,
                              unsigned *status);
/* A reference to the session `id` for ending it, ready or not, marked
 * closing; NULL when it is gone or another ending (DELETE, an earlier
 * failure) has it already. */
sig_session *sig_registry_claim_end(sig_registry *reg, const char *id);
/* Undoes sig_registry_get's `close` when the ending could not be queued
 * (the worker's queue was full), unless the session is gone meanwhile. */
void sig_registry_reopen(sig_registry *reg, sig_session *s);
/* Unlists the session (idempotent) and drops the registry's reference. */
void sig_registry_remove(sig_registry *reg, sig_session *s);
void sig_session_unref(sig_registry *reg, sig_session *s);
/* Another reference to a session the caller holds one of; returns `s`. */
sig_session *sig_session_ref(sig_registry *reg, sig_session *s);
/* Bumps the session's ETag version and returns the new one. */
unsigned sig_registry_bump_etag(sig_registry *reg, sig_session *s);

/* Tracks a participant published, for a WHEP viewer's negotiation. Fills at
 * most `max`; returns how many, or -1 if the participant is unknown. */
int sig_registry_participant_tracks(sig_registry *reg, const char *room, uint32_t participant,
                                    sig_track_info *out, unsigned max);

/* Room sessions' subscription figures for GET /rooms (room_subs.c): what
 * the signaling side negotiated, and whom the worker's audio slots carry. */
void sig_registry_set_subs(sig_registry *reg, sig_session *s, int subscribed, unsigned audio_slots);
void sig_registry_set_hearing(sig_registry *reg, sig_session *s, const sig_slot_info *hearing,
                              unsigned nhearing);

/* JSON text for GET /rooms (room == NULL) or GET /rooms/{room}; NULL when
 * that room does not exist. The caller frees it with free(). */
char *sig_registry_rooms_json(sig_registry *reg, const char *room, bool with_addresses);
void sig_registry_set_address(sig_registry *reg, sig_session *s, const char *addr);

/* References to the ready room sessions of `room` (not `except`), for
 * fan-out of events; release each with sig_session_unref. */
GPtrArray *sig_registry_room_sessions(sig_registry *reg, const char *room, const sig_session *except);
/* A participant as others see it. */
typedef struct sig_member {
    uint32_t participant;
    char name[SIG_NAME_MAX + 1];
    unsigned ntracks;
    sfu_kind kinds[SIG_TRACKS_MAX];
} sig_member;
/* The ready participants of `room` but `except`, as a GArray of sig_member. */
GArray *sig_registry_members(sig_registry *reg, const char *room, const sig_session *except);
/* The snapshot event's JSON for `s`: everyone in its room but itself. */
char *sig_registry_snapshot_json(sig_registry *reg, const sig_session *s);
/* References to the ready sessions that live on `worker`. */
GPtrArray *sig_registry_sessions_on_worker(sig_registry *reg, unsigned worker);
/* Sets a published track's bitrate for GET /rooms. */
/* GET /rooms, from the session's worker: its track's layers, its sinks. */
void sig_registry_set_layers(sig_registry *reg, sig_session *s, unsigned track,
                             const sig_layer_info *layers, unsigned n);
void sig_registry_set_sinks(sig_registry *reg, sig_session *s, const sig_sink_info *sinks,
                            unsigned n);
void sig_registry_set_bitrate(sig_registry *reg, sig_session *s, unsigned track, uint32_t bps);
/* Remembers the room's active speaker for snapshots. */
void sig_registry_set_speaker(sig_registry *reg, const char *room, uint32_t participant);
/* Calls fn on the event stream of every room session. */
void sig_registry_foreach_events(sig_registry *reg, void (*fn)(struct sig_events *ev, void *user),
                                 void *user);

typedef struct sig_registry_counts {
    unsigned rooms, sessions, participants;
} sig_registry_counts;
void sig_registry_counts_get(sig_registry *reg, sig_registry_counts *out);
/* Whether `room` has a session of any kind on this node (the cluster's
 * "is it here" test). */
bool sig_registry_has_room(sig_registry *reg, const char *room);
/* The names of every room on this node, copied (free the array). */
GPtrArray *sig_registry_room_names(sig_registry *reg);

/* "audio" or "video", as the API writes kinds. */
const char *sig_kind_name(sfu_kind kind);

/* "0a1b2c3d" <-> 0x0a1b2c3d; parse returns 0 for anything not of that form. */
void sig_participant_format(uint32_t participant, char out[SIG_PARTICIPANT_ID_LEN + 1]);
uint32_t sig_participant_parse(const char *text);

#endif
