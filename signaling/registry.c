#include "signaling/registry.h"

#include "signaling/events.h"
#include "signaling/random.h"
#include "signaling/reneg.h"
#include "signaling/room_subs.h"

#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reg_room {
    char name[SIG_ROOM_NAME_MAX + 1];
    unsigned worker;
    unsigned nsessions;             /* any kind; the room lives while > 0 */
    GPtrArray *participants;        /* sig_session* that publish (WHIP, room) */
    GHashTable *departed;           /* participant number -> owner sub, for reuse */
    uint32_t speaker;               /* the last active speaker, 0 if none */
} reg_room;

#define REG_DEPARTED_MAX 1024       /* remembered ids per room */

struct sig_registry {
    GMutex lock;
    sig_limits limits;
    unsigned nworkers;
    unsigned *rooms_per_worker;
    GHashTable *rooms;              /* name -> reg_room */
    GHashTable *sessions;           /* id -> sig_session */
};

void sig_participant_format(uint32_t participant, char out[SIG_PARTICIPANT_ID_LEN + 1])
{
    snprintf(out, SIG_PARTICIPANT_ID_LEN + 1, "%08x", participant);
}

const char *sig_kind_name(sfu_kind kind)
{
    return kind == SFU_KIND_AUDIO ? "audio" : "video";
}

uint32_t sig_participant_parse(const char *text)
{
    if (!text || strlen(text) != SIG_PARTICIPANT_ID_LEN)
        return 0;
    uint32_t v = 0;
    for (const char *p = text; *p; p++) {
        int d = g_ascii_xdigit_value(*p);
        if (d < 0 || g_ascii_isupper(*p))
            return 0;
        v = v << 4 | (uint32_t)d;
    }
    return sfu_is_audio_slot(v) ? 0 : v;
}

static void session_free(sig_session *s)
{
    /* Worker state is normally released by the worker when the media ends;
     * at shutdown the workers have stopped and it is released here. */
    if (s->reneg_timer) {
        g_source_destroy(s->reneg_timer);
        g_source_unref(s->reneg_timer);
    }
    sig_reneg_free(s->reneg);
    sig_room_subs_stop(s);
    sig_events_close(s->events);
    g_free(s);
}

static void room_free(gpointer data)
{
    reg_room *room = data;
    g_ptr_array_free(room->participants, TRUE);
    g_hash_table_destroy(room->departed);
    g_free(room);
}

sig_registry *sig_registry_new(const sig_limits *limits, unsigned nworkers)
{
    sig_registry *reg = g_new0(sig_registry, 1);
    g_mutex_init(&reg->lock);
    reg->limits = *limits;
    reg->nworkers = nworkers;
    reg->rooms_per_worker = g_new0(unsigned, nworkers);
    reg->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, room_free);
    reg->sessions = g_hash_table_new(g_str_hash, g_str_equal);
    return reg;
}

void sig_registry_free(sig_registry *reg)
{
    if (!reg)
        return;
    GList *left = g_hash_table_get_values(reg->sessions);
    for (GList *l = left; l; l = l->next)
        session_free(l->data);
    g_list_free(left);
    g_hash_table_destroy(reg->sessions);
    g_hash_table_destroy(reg->rooms);
    g_free(reg->rooms_per_worker);
    g_mutex_clear(&reg->lock);
    g_free(reg);
}

static unsigned least_loaded_worker(const sig_registry *reg)
{
    unsigned best = 0;
    for (unsigned i = 1; i < reg->nworkers; i++)
        if (reg->rooms_per_worker[i] < reg->rooms_per_worker[best])
            best = i;
    return best;
}

static sig_session *find_participant(const reg_room *room, uint32_t participant)
{
    for (guint i = 0; i < room->participants->len; i++) {
        sig_session *s = g_ptr_array_index(room->participants, i);
        if (s->participant == participant)
            return s;
    }
    return NULL;
}

static uint32_t new_participant_number(const reg_room *room)
{
    uint32_t n;
    do
        sig_random_bytes(&n, sizeof n);
    while (n == 0 || sfu_is_audio_slot(n) || find_participant(room, n));
    return n;
}

/* The limit counts everyone in the room, participants pulled from other
 * nodes too: a node of a spanning room refuses a join once the whole room
 * is full as far as its last sync knew. */
static reg_room *room_for_new_session(sig_registry *reg, const char *name,
                                      const sig_session_spec *spec, unsigned *status,
                                      const char **reason)
{
    sig_session_kind kind = spec->kind;
    reg_room *room = g_hash_table_lookup(reg->rooms, name);
    if (room) {
        if (kind != SIG_SESSION_WHEP && !spec->admitted_elsewhere &&
            room->participants->len >= reg->limits.max_participants_per_room) {
            *status = 503, *reason = "room is full";
            return NULL;
        }
        return room;
    }
    if (kind == SIG_SESSION_WHEP) {
        *status = 404, *reason = "no such room";
        return NULL;
    }
    if (g_hash_table_size(reg->rooms) >= reg->limits.max_rooms) {
        *status = 503, *reason = "too many rooms";
        return NULL;
    }
    room = g_new0(reg_room, 1);
    g_strlcpy(room->name, name, sizeof room->name);
    room->participants = g_ptr_array_new();
    room->departed = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    room->worker = least_loaded_worker(reg);
    reg->rooms_per_worker[room->worker]++;
    g_hash_table_insert(reg->rooms, room->name, room);
    return room;
}

static bool may_reuse(const reg_room *room, const sig_session_spec *spec, unsigned *status,
                      const char **reason)
{
    if (find_participant(room, spec->reuse_participant)) {
        *status = 409, *reason = "that participant id is in use";
        return false;
    }
    const char *owner = g_hash_table_lookup(room->departed,
                                            GUINT_TO_POINTER(spec->reuse_participant));
    if (owner && strcmp(owner, spec->owner_sub ? spec->owner_sub : "") != 0) {
        *status = 403, *reason = "that participant id belongs to someone else";
        return false;
    }
    return true;
}

sig_session *sig_registry_create(sig_registry *reg, const sig_session_spec *spec,
                                 unsigned *status, const char **reason)
{
    sig_session_kind kind = spec->kind;
    const char *room_name = spec->room;
    uint32_t watched = spec->watched;
    sig_session *s = NULL;
    g_mutex_lock(&reg->lock);
    if (g_hash_table_size(reg->sessions) >= reg->limits.max_sessions) {
        *status = 503, *reason = "too many sessions";
        goto out;
    }
    reg_room *room = room_for_new_session(reg, room_name, spec, status, reason);
    if (!room)
        goto out;
    if (kind == SIG_SESSION_WHEP && !find_participant(room, watched)) {
        *status = 404, *reason = "no such participant in this room";
        goto out;
    }
    if (spec->reuse_participant && !may_reuse(room, spec, status, reason)) {
        if (room->nsessions == 0) {     /* made for this request: undo */
            reg->rooms_per_worker[room->worker]--;
            g_hash_table_remove(reg->rooms, room_name);
        }
        goto out;
    }
    s = g_new0(sig_session, 1);
    uint8_t raw[SIG_SESSION_ID_LEN / 2];
    sig_random_bytes(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(s->id + 2 * i, 3, "%02x", raw[i]);
    s->kind = kind;
    s->events = spec->events;
    g_strlcpy(s->room, room_name, sizeof s->room);
    g_strlcpy(s->name, spec->name ? spec->name : "", sizeof s->name);
    g_strlcpy(s->owner_sub, spec->owner_sub ? spec->owner_sub : "", sizeof s->owner_sub);
    s->worker = room->worker;
    s->watched = watched;
    s->refs = 2;    /* the registry's and the caller's */
    s->etag = 1;
    s->subscribed = -1;
    if (kind != SIG_SESSION_WHEP) {
        s->participant = spec->reuse_participant ? spec->reuse_participant
                                                 : new_participant_number(room);
        g_hash_table_remove(room->departed, GUINT_TO_POINTER(s->participant));
        g_ptr_array_add(room->participants, s);
    }
    room->nsessions++;
    g_hash_table_insert(reg->sessions, s->id, s);
out:
    g_mutex_unlock(&reg->lock);
    return s;
}

void sig_registry_set_ready(sig_registry *reg, sig_session *s, const sig_track_info *tracks,
                            unsigned ntracks)
{
    g_mutex_lock(&reg->lock);
    s->ntracks = ntracks < SIG_TRACKS_MAX ? ntracks : SIG_TRACKS_MAX;
    memcpy(s->tracks, tracks, s->ntracks * sizeof *tracks);
    s->ready = true;
    g_mutex_unlock(&reg->lock);
}

sig_session *sig_registry_get(sig_registry *reg, const char *id, const char *sub, bool close,
                              unsigned *status)
{
    g_mutex_lock(&reg->lock);
    sig_session *s = id ? g_hash_table_lookup(reg->sessions, id) : NULL;
    *status = 404;
    if (s && (s->closing || !s->ready))
        s = NULL;
    if (s && sub && strcmp(sub, s->owner_sub) != 0) {
        *status = 403;
        s = NULL;
    }
    if (s) {
        g_atomic_int_inc(&s->refs);
        if (close)
            s->closing = true;
    }
    g_mutex_unlock(&reg->lock);
    return s;
}

sig_session *sig_registry_claim_end(sig_registry *reg, const char *id)
{
    g_mutex_lock(&reg->lock);
    sig_session *s = g_hash_table_lookup(reg->sessions, id);
    if (s && s->closing)
        s = NULL;
    if (s) {
        g_atomic_int_inc(&s->refs);
        s->closing = true;
    }
    g_mutex_unlock(&reg->lock);
    return s;
}

void sig_registry_reopen(sig_registry *reg, sig_session *s)
{
    g_mutex_lock(&reg->lock);
    if (g_hash_table_lookup(reg->sessions, s->id) == s)
        s->closing = false;
    g_mutex_unlock(&reg->lock);
}

static void unref_locked(sig_session *s)
{
    if (g_atomic_int_dec_and_test(&s->refs))
        session_free(s);
}

sig_session *sig_session_ref(sig_registry *reg, sig_session *s)
{
    (void)reg;
    g_atomic_int_inc(&s->refs);
    return s;
}

void sig_registry_remove(sig_registry *reg, sig_session *s)
{
    g_mutex_lock(&reg->lock);
    if (g_hash_table_lookup(reg->sessions, s->id) == s) {
        g_hash_table_remove(reg->sessions, s->id);
        s->closing = true;
        reg_room *room = g_hash_table_lookup(reg->rooms, s->room);
        if (room) {
            if (g_ptr_array_remove(room->participants, s)) {
                if (g_hash_table_size(room->departed) >= REG_DEPARTED_MAX)
                    g_hash_table_remove_all(room->departed);
                g_hash_table_insert(room->departed, GUINT_TO_POINTER(s->participant),
                                    g_strdup(s->owner_sub));
            }
            if (--room->nsessions == 0) {
                reg->rooms_per_worker[room->worker]--;
                g_hash_table_remove(reg->rooms, s->room);
            }
        }
        unref_locked(s);
    }
    g_mutex_unlock(&reg->lock);
}

/* Without the registry's lock: a listed session holds the registry's
 * reference, so the last one goes only once it is unlisted, and a worker
 * ending a command takes no signaling lock for it. */
void sig_session_unref(sig_registry *reg, sig_session *s)
{
    (void)reg;
    unref_locked(s);
}

unsigned sig_registry_bump_etag(sig_registry *reg, sig_session *s)
{
    g_mutex_lock(&reg->lock);
    unsigned v = ++s->etag;
    g_mutex_unlock(&reg->lock);
    return v;
}

int sig_registry_participant_tracks(sig_registry *reg, const char *room_name,
                                    uint32_t participant, sig_track_info *out, unsigned max)
{
    int n = -1;
    g_mutex_lock(&reg->lock);
    reg_room *room = g_hash_table_lookup(reg->rooms, room_name);
    sig_session *s = room ? find_participant(room, participant) : NULL;
    if (s) {
        n = (int)(s->ntracks < max ? s->ntracks : max);
        memcpy(out, s->tracks, (size_t)n * sizeof *out);
    }
    g_mutex_unlock(&reg->lock);
    return n;
}

/* A quality index, or null for -1 (none yet; automatic). */
static json_t *quality_json(int q)
{
    return q < 0 ? json_null() : json_integer(q);
}

static json_t *sinks_json(const sig_session *s)
{
    json_t *out = json_array();
    for (unsigned i = 0; i < s->nsinks; i++) {
        const sig_sink_info *k = &s->sinks[i];
        json_array_append_new(out, json_pack("{s:s, s:i, s:o, s:o, s:o, s:I, s:i, s:I}", "mid", k->mid,
                                             "layers", k->nlayers, "current",
                                             quality_json(k->current), "target",
                                             quality_json(k->target), "max",
                                             quality_json(k->max), "estimate_bps",
                                             (json_int_t)k->limit_bps, "max_tid", (int)k->max_tid,
                                             "switches", (json_int_t)k->switches));
    }
    return out;
}

static json_t *track_json(const sig_track_info *t)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "kind", sig_kind_name(t->kind), "mid", t->mid,
                          "codec", t->codec, "bitrate_bps", (json_int_t)t->bitrate_bps);
    if (t->kind == SFU_KIND_VIDEO && t->nlayers > 0) {
        json_t *layers = json_array();
        for (unsigned l = 0; l < t->nlayers; l++) {
            const sig_layer_info *li = &t->layers[l];
            json_array_append_new(layers, json_pack("{s:s, s:i, s:i, s:I, s:b}", "rid", li->rid,
                                                    "width", li->width, "height", li->height,
                                                    "bitrate_bps", (json_int_t)li->bitrate_bps,
                                                    "active", li->active));
        }
        json_object_set_new(o, "layers", layers);
    }
    return o;
}

/* Whom each audio slot carries: a participant id, or null while empty. */
static json_t *hearing_json(const sig_session *s)
{
    json_t *out = json_array();
    for (unsigned i = 0; i < s->nhearing; i++) {
        const sig_slot_info *h = &s->hearing[i];
        char pid[SIG_PARTICIPANT_ID_LEN + 1];
        if (h->participant)
            sig_participant_format(h->participant, pid);
        json_array_append_new(out, json_pack("{s:s, s:o}", "mid", h->mid, "participant",
                                             h->participant ? json_string(pid) : json_null()));
    }
    return out;
}

static json_t *participant_json(const sig_session *s, bool with_address)
{
    char pid[SIG_PARTICIPANT_ID_LEN + 1];
    sig_participant_format(s->participant, pid);
    json_t *tracks = json_array();
    for (unsigned i = 0; i < s->ntracks; i++)
        json_array_append_new(tracks, track_json(&s->tracks[i]));
    json_t *p = json_pack("{s:s, s:s, s:o}", "participant", pid, "name", s->name, "tracks", tracks);
    if (s->kind == SIG_SESSION_ROOM) {
        json_object_set_new(p, "receiving", sinks_json(s));
        json_object_set_new(p, "subscribed", s->subscribed < 0 ? json_null() : json_integer(s->subscribed));
        json_object_set_new(p, "audio_slots", json_integer(s->audio_slots));
        json_object_set_new(p, "hearing", hearing_json(s));
    }
    if (with_address && s->remote_addr[0])
        json_object_set_new(p, "address", json_string(s->remote_addr));
    return p;
}

/* A room is public while it has participants (API.md): viewers alone keep
 * its media state, not its listing. */
static json_t *room_json(const sig_registry *reg, const reg_room *room, bool with_addresses)
{
    json_t *people = json_array();
    for (guint i = 0; i < room->participants->len; i++) {
        const sig_session *s = g_ptr_array_index(room->participants, i);
        if (s->ready && !s->closing)
            json_array_append_new(people, participant_json(s, with_addresses));
    }
    if (json_array_size(people) == 0) {
        json_decref(people);
        return NULL;
    }
    /* WHEP viewers: who they watch and what they receive, never their
     * session id or address. */
    json_t *viewers = json_array();
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, reg->sessions);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const sig_session *s = value;
        if (s->kind != SIG_SESSION_WHEP || !s->ready || s->closing || strcmp(s->room, room->name))
            continue;
        char pid[SIG_PARTICIPANT_ID_LEN + 1];
        sig_participant_format(s->watched, pid);
        json_array_append_new(viewers, json_pack("{s:s, s:o}", "watching", pid, "receiving",
                                                 sinks_json(s)));
    }
    return json_pack("{s:s, s:o, s:o}", "room", room->name, "participants", people, "viewers",
                     viewers);
}

void sig_registry_set_address(sig_registry *reg, sig_session *s, const char *addr)
{
    g_mutex_lock(&reg->lock);
    g_strlcpy(s->remote_addr, addr, sizeof s->remote_addr);
    g_mutex_unlock(&reg->lock);
}

char *sig_registry_rooms_json(sig_registry *reg, const char *room_name, bool with_addresses)
{
    json_t *doc = NULL;
    g_mutex_lock(&reg->lock);
    if (room_name) {
        reg_room *room = g_hash_table_lookup(reg->rooms, room_name);
        doc = room ? room_json(reg, room, with_addresses) : NULL;
    } else {
        json_t *rooms = json_array();
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, reg->rooms);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            json_t *r = room_json(reg, value, with_addresses);
            if (r)
                json_array_append_new(rooms, r);
        }
        doc = json_pack("{s:o}", "rooms", rooms);
    }
    g_mutex_unlock(&reg->lock);
    if (!doc)
        return NULL;
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

GPtrArray *sig_registry_room_sessions(sig_registry *reg, const char *room_name,
                                      const sig_session *except)
{
    GPtrArray *out = g_ptr_array_new();
    g_mutex_lock(&reg->lock);
    reg_room *room = g_hash_table_lookup(reg->rooms, room_name);
    for (guint i = 0; room && i < room->participants->len; i++) {
        sig_session *s = g_ptr_array_index(room->participants, i);
        if (s != except && s->kind == SIG_SESSION_ROOM && s->ready && !s->closing) {
            g_atomic_int_inc(&s->refs);
            g_ptr_array_add(out, s);
        }
    }
    g_mutex_unlock(&reg->lock);
    return out;
}

GArray *sig_registry_members(sig_registry *reg, const char *room_name, const sig_session *except)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(sig_member));
    g_mutex_lock(&reg->lock);
    reg_room *room = g_hash_table_lookup(reg->rooms, room_name);
    for (guint i = 0; room && i < room->participants->len; i++) {
        const sig_session *s = g_ptr_array_index(room->participants, i);
        if (s == except || !s->ready || s->closing)
            continue;
        sig_member m = { .participant = s->participant, .ntracks = s->ntracks };
        g_strlcpy(m.name, s->name, sizeof m.name);
        for (unsigned t = 0; t < s->ntracks; t++)
            m.kinds[t] = s->tracks[t].kind;
        g_array_append_val(out, m);
    }
    g_mutex_unlock(&reg->lock);
    return out;
}

char *sig_registry_snapshot_json(sig_registry *reg, const sig_session *self)
{
    json_t *people = json_array();
    g_mutex_lock(&reg->lock);
    reg_room *room = g_hash_table_lookup(reg->rooms, self->room);
    for (guint i = 0; room && i < room->participants->len; i++) {
        const sig_session *s = g_ptr_array_index(room->participants, i);
        if (s == self || !s->ready || s->closing)
            continue;
        char pid[SIG_PARTICIPANT_ID_LEN + 1];
        sig_participant_format(s->participant, pid);
        json_t *tracks = json_array();
        for (unsigned t = 0; t < s->ntracks; t++)
            json_array_append_new(tracks, json_pack("{s:s}", "kind",
                                                    sig_kind_name(s->tracks[t].kind)));
        json_array_append_new(people, json_pack("{s:s, s:s, s:o}", "participant", pid, "name",
                                                s->name, "tracks", tracks));
    }
    json_t *doc = json_pack("{s:o}", "participants", people);
    /* A later joiner learns who is speaking now, not only at the next change. */
    if (room && room->speaker && find_participant(room, room->speaker)) {
        char pid[SIG_PARTICIPANT_ID_LEN + 1];
        sig_participant_format(room->speaker, pid);
        json_object_set_new(doc, "speaker", json_string(pid));
    }
    g_mutex_unlock(&reg->lock);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

GPtrArray *sig_registry_sessions_on_worker(sig_registry *reg, unsigned worker)
{
    GPtrArray *out = g_ptr_array_new();
    g_mutex_lock(&reg->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, reg->sessions);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        sig_session *s = value;
        if (s->worker == worker && s->ready && !s->closing) {
            g_atomic_int_inc(&s->refs);
            g_ptr_array_add(out, s);
        }
    }
    g_mutex_unlock(&reg->lock);
    return out;
}

void sig_registry_set_layers(sig_registry *reg, sig_session *s, unsigned track,
                             const sig_layer_info *layers, unsigned n)
{
    g_mutex_lock(&reg->lock);
    if (track < s->ntracks) {
        n = n < SFU_MAX_LAYERS ? n : SFU_MAX_LAYERS;
        memcpy(s->tracks[track].layers, layers, n * sizeof *layers);
        s->tracks[track].nlayers = (uint8_t)n;
    }
    g_mutex_unlock(&reg->lock);
}

void sig_registry_set_sinks(sig_registry *reg, sig_session *s, const sig_sink_info *sinks,
                            unsigned n)
{
    g_mutex_lock(&reg->lock);
    n = n < SIG_SINKS_MAX ? n : SIG_SINKS_MAX;
    memcpy(s->sinks, sinks, n * sizeof *sinks);
    s->nsinks = n;
    g_mutex_unlock(&reg->lock);
}

void sig_registry_set_subs(sig_registry *reg, sig_session *s, int subscribed, unsigned audio_slots)
{
    g_mutex_lock(&reg->lock);
    s->subscribed = subscribed;
    s->audio_slots = audio_slots;
    g_mutex_unlock(&reg->lock);
}

void sig_registry_set_hearing(sig_registry *reg, sig_session *s, const sig_slot_info *hearing,
                              unsigned nhearing)
{
    g_mutex_lock(&reg->lock);
    nhearing = nhearing < SFU_AUDIO_SLOTS_MAX ? nhearing : SFU_AUDIO_SLOTS_MAX;
    memcpy(s->hearing, hearing, nhearing * sizeof *hearing);
    s->nhearing = nhearing;
    g_mutex_unlock(&reg->lock);
}

void sig_registry_set_bitrate(sig_registry *reg, sig_session *s, unsigned track, uint32_t bps)
{
    g_mutex_lock(&reg->lock);
    if (track < s->ntracks)
        s->tracks[track].bitrate_bps = bps;
    g_mutex_unlock(&reg->lock);
}

void sig_registry_set_speaker(sig_registry *reg, const char *room_name, uint32_t participant)
{
    g_mutex_lock(&reg->lock);
    reg_room *room = g_hash_table_lookup(reg->rooms, room_name);
    if (room)
        room->speaker = participant;
    g_mutex_unlock(&reg->lock);
}

void sig_registry_foreach_events(sig_registry *reg, void (*fn)(struct sig_events *ev, void *user),
                                 void *user)
{
    g_mutex_lock(&reg->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, reg->sessions);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        sig_session *s = value;
        if (s->events)
            fn(s->events, user);
    }
    g_mutex_unlock(&reg->lock);
}

void sig_registry_counts_get(sig_registry *reg, sig_registry_counts *out)
{
    g_mutex_lock(&reg->lock);
    out->rooms = g_hash_table_size(reg->rooms);
    out->sessions = g_hash_table_size(reg->sessions);
    out->participants = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, reg->rooms);
    while (g_hash_table_iter_next(&it, NULL, &value))
        out->participants += ((reg_room *)value)->participants->len;
    g_mutex_unlock(&reg->lock);
}

bool sig_registry_has_room(sig_registry *reg, const char *room_name)
{
    g_mutex_lock(&reg->lock);
    bool found = g_hash_table_contains(reg->rooms, room_name);
    g_mutex_unlock(&reg->lock);
    return found;
}

GPtrArray *sig_registry_room_names(sig_registry *reg)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_mutex_lock(&reg->lock);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, reg->rooms);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(names, g_strdup(key));
    g_mutex_unlock(&reg->lock);
    return names;
}
