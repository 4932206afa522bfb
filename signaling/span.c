#include "signaling/span.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "sfu/net/log.h"
#include "signaling/cluster.h"
#include "signaling/relay.h"
#include "signaling/relay_http.h"
#include "signaling/span_msg.h"

#define SPAN_PATH "/cluster/span"
#define SPAN_CONTENT_TYPE "application/x-sfu-span"
#define SPAN_CALL_MAX_MS 1500           /* a sync's deadline, at most */
#define PEER_KEY_MAX (SIG_NAME_MAX + SIG_CLUSTER_ID_MAX + 2)

/* This node as a satellite of one room. Under the lock; the thread works
 * on a copy and writes it back. */
typedef struct satellite {
    char room[SIG_NAME_MAX + 1];
    char owner_url[SIG_CLUSTER_URL_MAX];
    char owner_node[SIG_CLUSTER_ID_MAX + 1];    /* from its last answer; "" before */
    gint64 last_local;              /* when it last had a client participant (or a join) */
    gint64 last_sync;               /* the last call, answered or not; 0 never */
    guint offer_hash;               /* of the last offer the owner took */
    unsigned failures;              /* calls in a row that failed */
} satellite;

/* A satellite of a room this node owns, as its calls showed it. */
typedef struct peer {
    char key[PEER_KEY_MAX];         /* room "\n" node */
    char room[SIG_NAME_MAX + 1];
    char node[SIG_CLUSTER_ID_MAX + 1];
    gint64 last_seen;
} peer;

struct sig_span {
    sig_server *srv;
    GThread *thread;
    GMutex lock;
    GCond cond;
    bool stopping;
    GHashTable *sats;               /* room -> satellite*, owned */
    GHashTable *peers;              /* key -> peer*, owned */
    uint64_t syncs, sync_failed, refused;   /* atomic adds */
};

static void count(uint64_t *c) { __atomic_fetch_add(c, 1, __ATOMIC_RELAXED); }

sig_span *sig_span_new(sig_server *srv)
{
    sig_span *sp = g_new0(sig_span, 1);
    sp->srv = srv;
    g_mutex_init(&sp->lock);
    g_cond_init(&sp->cond);
    sp->sats = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    sp->peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    return sp;
}

void sig_span_free(sig_span *sp)
{
    if (!sp)
        return;
    sig_span_stop(sp);
    g_hash_table_destroy(sp->sats);
    g_hash_table_destroy(sp->peers);
    g_cond_clear(&sp->cond);
    g_mutex_clear(&sp->lock);
    g_free(sp);
}

void sig_span_counts_get(sig_span *sp, sig_span_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!sp)
        return;
    g_mutex_lock(&sp->lock);
    out->satellite_rooms = g_hash_table_size(sp->sats);
    out->satellites = g_hash_table_size(sp->peers);
    g_mutex_unlock(&sp->lock);
    out->syncs = __atomic_load_n(&sp->syncs, __ATOMIC_RELAXED);
    out->sync_failed = __atomic_load_n(&sp->sync_failed, __ATOMIC_RELAXED);
    out->refused = __atomic_load_n(&sp->refused, __ATOMIC_RELAXED);
}

void sig_span_satellite(sig_span *sp, const char *room, const char *owner_url)
{
    if (!sp || strlen(room) > SIG_NAME_MAX)
        return;
    g_mutex_lock(&sp->lock);
    satellite *sat = g_hash_table_lookup(sp->sats, room);
    if (!sat) {
        sat = g_new0(satellite, 1);
        g_strlcpy(sat->room, room, sizeof sat->room);
        g_strlcpy(sat->owner_url, owner_url, sizeof sat->owner_url);
        g_hash_table_insert(sp->sats, sat->room, sat);
        sfu_log(SFU_LOG_INFO, "span.satellite", "msg2=\"a room owned by another node joined here\"");
    }
    sat->last_local = g_get_monotonic_time();   /* the join gets its time to negotiate */
    g_cond_signal(&sp->cond);                   /* sync soon */
    g_mutex_unlock(&sp->lock);
}

bool sig_span_is_satellite(sig_span *sp, const char *room)
{
    if (!sp)
        return false;
    g_mutex_lock(&sp->lock);
    bool yes = g_hash_table_contains(sp->sats, room);
    g_mutex_unlock(&sp->lock);
    return yes;
}

/* ---- the room as this node holds it ---- */

typedef struct room_view {
    sig_span_entry *entries;        /* ready participants, origin "" for clients */
    unsigned n;
    GArray *pulls;                  /* sig_relay_span_pull: up or opening */
} room_view;

static void view_read(sig_server *srv, const char *room, room_view *v)
{
    GArray *members = sig_registry_members(srv->reg, room, NULL);
    v->pulls = sig_relay_span_pulls(srv->relay, room);
    v->entries = g_new0(sig_span_entry, members->len + 1);
    v->n = 0;
    for (guint i = 0; i < members->len; i++) {
        const sig_member *m = &g_array_index(members, sig_member, i);
        sig_span_entry *e = &v->entries[v->n++];
        e->m.participant = m->participant;
        g_strlcpy(e->m.name, m->name, sizeof e->m.name);
        for (guint k = 0; k < v->pulls->len; k++) {
            const sig_relay_span_pull *p = &g_array_index(v->pulls, sig_relay_span_pull, k);
            if (p->participant == m->participant)
                g_strlcpy(e->origin, p->origin, sizeof e->origin);
        }
    }
    g_array_free(members, TRUE);
}

static void view_clear(room_view *v)
{
    g_free(v->entries);
    g_array_free(v->pulls, TRUE);
}

/* Opens and closes pulls of `room` from node `from` so that they match
 * what it offered. */
static void apply_offer(sig_server *srv, const char *room, const room_view *v, const char *from,
                        const char *from_url, const sig_span_member *want, unsigned nwant)
{
    guint np = v->pulls->len;
    uint32_t *have = g_new0(uint32_t, np + 1), *local = g_new0(uint32_t, v->n + np + 1);
    unsigned nhave = 0, nlocal = 0;
    for (guint k = 0; k < np; k++) {
        const sig_relay_span_pull *p = &g_array_index(v->pulls, sig_relay_span_pull, k);
        if (strcmp(p->origin, from) == 0)
            have[nhave++] = p->participant;
        else
            local[nlocal++] = p->participant;
    }
    for (unsigned i = 0; i < v->n; i++)
        if (strcmp(v->entries[i].origin, from) != 0)
            local[nlocal++] = v->entries[i].m.participant;
    unsigned *open = g_new0(unsigned, nwant + 1), nopen, nclose;
    uint32_t *close = g_new0(uint32_t, nhave + 1);
    sig_span_diff(have, nhave, local, nlocal, want, nwant, open, &nopen, close, &nclose);
    for (unsigned i = 0; i < nopen; i++)
        sig_relay_span_open(srv, room, want[open[i]].participant, want[open[i]].name, from,
                            from_url);
    for (unsigned i = 0; i < nclose; i++)
        sig_relay_span_close(srv, room, close[i]);
    g_free(open);
    g_free(close);
    g_free(have);
    g_free(local);
}

/* Ends the pulls of `room` from `origin` (every origin for NULL). */
static void close_pulls(sig_server *srv, const char *room, const char *origin)
{
    GArray *pulls = sig_relay_span_pulls(srv->relay, room);
    for (guint k = 0; k < pulls->len; k++) {
        const sig_relay_span_pull *p = &g_array_index(pulls, sig_relay_span_pull, k);
        if (!origin || strcmp(p->origin, origin) == 0)
            sig_relay_span_close(srv, room, p->participant);
    }
    g_array_free(pulls, TRUE);
}

/* ======================= owner: POST /cluster/span ======================= */

void sig_span_serve(sig_server *srv, sig_request *req)
{
    sig_span *sp = srv->span;
    if (!sp) {
        sig_http_respond_text(req, 404, "not found");
        return;
    }
    size_t len;
    const char *body = (const char *)sig_request_body(req, &len);
    sig_span_request *rq = g_new0(sig_span_request, 1);
    char why[160];
    if (sig_span_request_decode(body ? body : "", body ? len : 0, srv->cfg.cluster.secret,
                                g_get_real_time() / G_USEC_PER_SEC, rq, why, sizeof why) != 0) {
        count(&sp->refused);
        sfu_log(SFU_LOG_WARN, "span.refused", "reason=\"%s\"", why);
        g_free(rq);
        sig_http_respond_text(req, 403, "not a request of a node of this cluster");
        return;
    }
    if (sig_server_draining(srv)) {
        g_free(rq);
        sig_response busy = { .status = 503, .body = "draining\n", .retry_after_s = 1 };
        sig_http_respond(req, &busy);
        return;
    }
    if (sig_span_is_satellite(sp, rq->room)) {
        g_free(rq);
        sig_http_respond_text(req, 409, "this node is not the room's owner");
        return;
    }
    char key[PEER_KEY_MAX];
    snprintf(key, sizeof key, "%s\n%s", rq->room, rq->node);
    g_mutex_lock(&sp->lock);
    peer *pe = g_hash_table_lookup(sp->peers, key);
    if (!pe) {
        pe = g_new0(peer, 1);
        g_strlcpy(pe->key, key, sizeof pe->key);
        g_strlcpy(pe->room, rq->room, sizeof pe->room);
        g_strlcpy(pe->node, rq->node, sizeof pe->node);
        g_hash_table_insert(sp->peers, pe->key, pe);
        sfu_log(SFU_LOG_INFO, "span.peer", "node=%s msg2=\"a satellite of an owned room\"",
                rq->node);
    }
    pe->last_seen = g_get_monotonic_time();
    g_mutex_unlock(&sp->lock);

    room_view v;
    view_read(srv, rq->room, &v);
    apply_offer(srv, rq->room, &v, rq->node, rq->url, rq->members, rq->nmembers);
    sig_span_response *resp = g_new0(sig_span_response, 1);
    g_strlcpy(resp->node, sig_cluster_node_id(srv->cluster), sizeof resp->node);
    g_strlcpy(resp->room, rq->room, sizeof resp->room);
    resp->nmembers = sig_span_offer(v.entries, v.n, true, rq->node, resp->members,
                                    SIG_SPAN_MEMBERS_MAX);
    view_clear(&v);
    char *text = sig_span_response_encode(resp, srv->cfg.cluster.secret);
    g_free(resp);
    g_free(rq);
    if (!text) {
        sig_http_respond_text(req, 500, "cannot encode the answer");
        return;
    }
    sig_response ok = { .status = 200, .content_type = SPAN_CONTENT_TYPE, .body = text };
    sig_http_respond(req, &ok);
    g_free(text);
}

/* ======================= satellite: the span thread ======================= */

typedef struct resolved {
    gint refs;
    GMutex lock;
    GCond cond;
    bool done;
    sig_cluster_verdict v;
    char url[SIG_CLUSTER_URL_MAX];
} resolved;

static void resolved_unref(resolved *r)
{
    if (!g_atomic_int_dec_and_test(&r->refs))
        return;
    g_cond_clear(&r->cond);
    g_mutex_clear(&r->lock);
    g_free(r);
}

static void on_resolved(void *user, sig_cluster_verdict v, const char *owner_url)
{
    resolved *r = user;
    g_mutex_lock(&r->lock);
    r->v = v;
    if (owner_url)
        g_strlcpy(r->url, owner_url, sizeof r->url);
    r->done = true;
    g_cond_signal(&r->cond);
    g_mutex_unlock(&r->lock);
    resolved_unref(r);
}

/* The room's owner by the directory, claimed for this node if none is
 * live; UNAVAILABLE when the cluster does not answer in time. */
static sig_cluster_verdict resolve(sig_server *srv, const char *room, char *url, size_t n)
{
    resolved *r = g_new0(resolved, 1);
    r->refs = 2;
    g_mutex_init(&r->lock);
    g_cond_init(&r->cond);
    sig_cluster_resolve(srv->cluster, room, true, on_resolved, r);
    gint64 deadline = g_get_monotonic_time() + 4 * srv->cfg.cluster.redis_timeout + G_USEC_PER_SEC;
    g_mutex_lock(&r->lock);
    while (!r->done)
        if (!g_cond_wait_until(&r->cond, &r->lock, deadline))
            break;
    sig_cluster_verdict v = r->done ? r->v : SIG_CLUSTER_UNAVAILABLE;
    g_strlcpy(url, r->url, n);
    g_mutex_unlock(&r->lock);
    resolved_unref(r);
    return v;
}

static guint offer_hash(const sig_span_member *m, unsigned n)
{
    guint h = 2166136261u;
    for (unsigned i = 0; i < n; i++) {
        h = (h ^ m[i].participant) * 16777619u;
        h = (h ^ g_str_hash(m[i].name)) * 16777619u;
    }
    return h ^ n;
}

/* One call to the owner: 0 with its answer, or -1 (reason logged once per
 * run of failures by the caller). */
static int call_owner(sig_server *srv, const satellite *sat, const sig_span_member *offer,
                      unsigned n, sig_span_response *resp, char *why, size_t wn)
{
    sig_span_request *rq = g_new0(sig_span_request, 1);
    g_strlcpy(rq->node, sig_cluster_node_id(srv->cluster), sizeof rq->node);
    g_strlcpy(rq->url, srv->cfg.cluster.public_url, sizeof rq->url);
    g_strlcpy(rq->room, sat->room, sizeof rq->room);
    rq->ts = g_get_real_time() / G_USEC_PER_SEC;
    rq->nmembers = n;
    memcpy(rq->members, offer, n * sizeof *offer);
    char *body = sig_span_request_encode(rq, srv->cfg.cluster.secret);
    g_free(rq);
    if (!body) {
        snprintf(why, wn, "cannot encode the offer");
        return -1;
    }
    unsigned timeout = (unsigned)(srv->cfg.cluster.relay_timeout / 1000);
    if (timeout > SPAN_CALL_MAX_MS)
        timeout = SPAN_CALL_MAX_MS;
    char *answer = NULL;
    size_t alen = 0;
    unsigned status = 0;
    int rc = sig_relay_http_post(sat->owner_url, SPAN_PATH, SPAN_CONTENT_TYPE, body,
                                 strlen(body), timeout, &status, &answer, &alen, why, wn);
    g_free(body);
    if (rc == 0 && status != 200) {
        snprintf(why, wn, "the owner answered %u", status);
        rc = -1;
    } else if (rc == 0) {
        rc = sig_span_response_decode(answer, alen, srv->cfg.cluster.secret, sat->room, resp,
                                      why, wn) == 0 ? 0 : -1;
    }
    g_free(answer);
    return rc == 0 ? 0 : -1;
}

/* After SIG_SPAN_OWNER_FAILURES failed calls: what the owner gave is gone;
 * the directory says who owns the room now. Returns false when the
 * satellite ends (this node is the owner now). */
static bool owner_lost(sig_span *sp, satellite *sat)
{
    sig_server *srv = sp->srv;
    close_pulls(srv, sat->room, NULL);
    char url[SIG_CLUSTER_URL_MAX] = "";
    sig_cluster_verdict v = resolve(srv, sat->room, url, sizeof url);
    if (v == SIG_CLUSTER_HERE) {
        sfu_log(SFU_LOG_WARN, "span.owner_lost",
                "msg2=\"the room's owner is gone; this node owns the room now\"");
        return false;
    }
    if (v == SIG_CLUSTER_ELSEWHERE && strcmp(url, sat->owner_url) != 0) {
        sfu_log(SFU_LOG_WARN, "span.owner_lost",
                "msg2=\"the room's owner is gone; a satellite of the new owner now\"");
        g_strlcpy(sat->owner_url, url, sizeof sat->owner_url);
        sat->owner_node[0] = '\0';
        sat->failures = 0;
        sat->offer_hash = 0;
    }
    return true;
}

/* One satellite room, one tick. Returns false when it ends. */
static bool sat_step(sig_span *sp, satellite *sat)
{
    sig_server *srv = sp->srv;
    gint64 now = g_get_monotonic_time();
    room_view v;
    view_read(srv, sat->room, &v);
    sig_span_member *offer = g_new0(sig_span_member, SIG_SPAN_MEMBERS_MAX);
    unsigned n = sig_span_offer(v.entries, v.n, false, "", offer, SIG_SPAN_MEMBERS_MAX);
    bool retiring = false;
    if (n > 0)
        sat->last_local = now;
    else if (now - sat->last_local > SIG_SPAN_RETIRE_MS * 1000)
        retiring = true;
    guint hash = offer_hash(offer, n);
    gint64 period = sat->failures > 0 ? SIG_SPAN_RETRY_MS : SIG_SPAN_SYNC_MS;
    bool due = retiring || (hash != sat->offer_hash && sat->failures == 0) ||
               now - sat->last_sync >= period * 1000;
    bool keep = true;
    if (due && !sig_server_draining(srv)) {
        sig_span_response *resp = g_new0(sig_span_response, 1);
        char why[256];
        sat->last_sync = now;
        if (call_owner(srv, sat, offer, retiring ? 0 : n, resp, why, sizeof why) == 0) {
            count(&sp->syncs);
            if (sat->failures)
                sfu_log(SFU_LOG_INFO, "span.owner_back", "failures=%u", sat->failures);
            sat->failures = 0;
            sat->offer_hash = hash;
            if (sat->owner_node[0] && strcmp(sat->owner_node, resp->node) != 0)
                close_pulls(srv, sat->room, sat->owner_node);   /* a new owner */
            g_strlcpy(sat->owner_node, resp->node, sizeof sat->owner_node);
            if (!retiring)
                apply_offer(srv, sat->room, &v, resp->node, sat->owner_url, resp->members,
                            resp->nmembers);
        } else {
            count(&sp->sync_failed);
            if (sat->failures++ == 0)
                sfu_log(SFU_LOG_WARN, "span.sync_failed", "reason=\"%s\"", why);
            if (sat->failures >= SIG_SPAN_OWNER_FAILURES && !retiring)
                keep = owner_lost(sp, sat);
        }
        g_free(resp);
    }
    if (retiring) {
        close_pulls(srv, sat->room, NULL);
        sfu_log(SFU_LOG_INFO, "span.retired", "msg2=\"no participant of this node left\"");
        keep = false;
    }
    g_free(offer);
    view_clear(&v);
    return keep;
}

/* Owner: satellites silent too long are gone with their participants. */
static void expire_peers(sig_span *sp)
{
    gint64 now = g_get_monotonic_time();
    GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
    g_mutex_lock(&sp->lock);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, sp->peers);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        peer *pe = v;
        if (now - pe->last_seen > SIG_SPAN_PEER_EXPIRY_MS * 1000) {
            g_ptr_array_add(gone, pe);
            g_hash_table_iter_steal(&it);
        }
    }
    g_mutex_unlock(&sp->lock);
    for (guint i = 0; i < gone->len; i++) {
        peer *pe = g_ptr_array_index(gone, i);
        sfu_log(SFU_LOG_INFO, "span.peer_gone", "node=%s", pe->node);
        close_pulls(sp->srv, pe->room, pe->node);
    }
    g_ptr_array_unref(gone);
}

static void tick(sig_span *sp)
{
    GPtrArray *rooms = g_ptr_array_new_with_free_func(g_free);
    g_mutex_lock(&sp->lock);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, sp->sats);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(rooms, g_strdup(key));
    g_mutex_unlock(&sp->lock);
    for (guint i = 0; i < rooms->len; i++) {
        const char *room = g_ptr_array_index(rooms, i);
        satellite copy;
        g_mutex_lock(&sp->lock);
        satellite *sat = g_hash_table_lookup(sp->sats, room);
        if (sat)
            copy = *sat;
        g_mutex_unlock(&sp->lock);
        if (!sat)
            continue;
        bool keep = sat_step(sp, &copy);
        g_mutex_lock(&sp->lock);
        sat = g_hash_table_lookup(sp->sats, room);
        if (sat && !keep && sat->last_local <= copy.last_local) {
            g_hash_table_remove(sp->sats, room);
        } else if (sat) {
            gint64 joined = sat->last_local;    /* a join may have come meanwhile */
            *sat = copy;
            if (joined > sat->last_local)
                sat->last_local = joined;
        }
        g_mutex_unlock(&sp->lock);
    }
    g_ptr_array_unref(rooms);
    expire_peers(sp);
}

static gpointer span_thread(gpointer arg)
{
    sig_span *sp = arg;
    g_mutex_lock(&sp->lock);
    while (!sp->stopping) {
        g_cond_wait_until(&sp->cond, &sp->lock,
                          g_get_monotonic_time() + SIG_SPAN_TICK_MS * 1000);
        if (sp->stopping)
            break;
        g_mutex_unlock(&sp->lock);
        tick(sp);
        g_mutex_lock(&sp->lock);
    }
    g_mutex_unlock(&sp->lock);
    return NULL;
}

void sig_span_start(sig_span *sp)
{
    if (sp && !sp->thread)
        sp->thread = g_thread_new("span", span_thread, sp);
}

void sig_span_stop(sig_span *sp)
{
    if (!sp || !sp->thread)
        return;
    g_mutex_lock(&sp->lock);
    sp->stopping = true;
    g_cond_signal(&sp->cond);
    g_mutex_unlock(&sp->lock);
    g_thread_join(sp->thread);
    sp->thread = NULL;
}
