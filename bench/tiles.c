/* large-meeting: the videos each room member shows (its tiles), the
 * subscription it POSTs for them (docs/API.md, "POST
 * /sessions/{id}/subscriptions"), and the check that in the measuring window
 * it received exactly those videos and the room's audio.
 *
 * The rule: member k shows the `tiles` members before it in join order,
 * wrapping around (k-1, k-2, ...). Every member is then shown by exactly
 * `tiles` others, and a member that joins after the first `tiles` can name
 * all of its tiles at once (the ids come from the SFU's 201s, so a member
 * cannot name one that has not joined yet). The first `tiles` members
 * subscribe to those of theirs already in the room when they join (the very
 * first: `[]`, no video) and again once everyone has joined, as a call page
 * does when people arrive. Members, peers and publisher slots share one
 * index in this scenario (layout.c joins them in lockstep). */
#include "bench/run_internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TILES 32

/* The member indices member k shows, most wanted first; their count. */
static unsigned tiles_of(const bench_scenario *s, unsigned k, unsigned out[MAX_TILES])
{
    unsigned n = s->participants, t = s->tiles < n ? s->tiles : n - 1;
    for (unsigned i = 0; i < t; i++)
        out[i] = (k + n - 1 - i) % n;
    return t;
}

/* {"video":[{"participant":"…"},…]} with the tiles whose id is known;
 * *complete: all of them were. */
static char *subscription(bench_run_state *r, unsigned k, bool *complete)
{
    unsigned t[MAX_TILES], nt = tiles_of(r->s, k, t);
    json_t *video = json_array();
    *complete = true;
    g_mutex_lock(&r->pubs_lock);
    for (unsigned i = 0; i < nt; i++) {
        const char *id = t[i] < r->npubs ? r->pubs[t[i]].participant : "";
        if (id[0])
            json_array_append_new(video, json_pack("{s:s}", "participant", id));
        else
            *complete = false;
    }
    g_mutex_unlock(&r->pubs_lock);
    json_t *doc = json_pack("{s:o}", "video", video);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

int bench_tiles_subscribe(bench_run_state *r, unsigned k, const char *link, char *err,
                          size_t errlen)
{
    if (!r->tiles_link)
        r->tiles_link = g_malloc0_n(r->cap, sizeof *r->tiles_link);
    if (!r->tiles_done)
        r->tiles_done = g_new0(bool, r->cap);
    if (!link[0]) {
        snprintf(err, errlen, "the join's 201 has no Link rel=\"urn:x-sfu:subscriptions\"");
        return -1;
    }
    g_strlcpy(r->tiles_link[k], link, sizeof r->tiles_link[k]);
    bool complete;
    char *body = subscription(r, k, &complete);
    bench_http_resp resp;
    int rc = body ? bench_http_request(&r->url, "POST", link, "application/json", body,
                                       strlen(body), &resp, err, errlen)
                  : -1;
    if (rc == 0) {
        if (resp.status != 204) {
            snprintf(err, errlen, "POST %s %.60s: %d %.100s", link, body, resp.status,
                     resp.body ? resp.body : "");
            rc = -1;
        }
        bench_http_resp_free(&resp);
    }
    r->tiles_done[k] = rc == 0 && complete;
    free(body);
    return rc;
}

int bench_tiles_complete(bench_run_state *r, char *err, size_t errlen)
{
    for (unsigned k = 0; k < r->npeers_ctl; k++) {
        if (r->tiles_done[k])
            continue;
        char why[200];
        if (bench_tiles_subscribe(r, k, r->tiles_link[k], why, sizeof why) != 0 ||
            !r->tiles_done[k]) {
            snprintf(err, errlen, "member %u's subscription: %s", k,
                     r->tiles_done[k] ? why : "a tile's participant id is unknown");
            return -1;
        }
    }
    return 0;
}

/* ---- the check ---- */

#define MAX_STREAMS BENCH_PEER_MAX_SOURCES

typedef struct member_streams {
    unsigned n;
    bench_stream_count s[MAX_STREAMS];
} member_streams;

typedef struct streams_call {
    bench_run_state *r;
    member_streams *m;
} streams_call;

static void do_streams(void *arg)
{
    streams_call *c = arg;
    for (unsigned i = 0; i < c->r->npeers; i++)
        c->m[i].n = bench_peer_streams(c->r->peers[i], c->m[i].s, MAX_STREAMS);
}

void bench_tiles_mark(bench_run_state *r)
{
    g_free(r->tiles_mark);
    r->tiles_mark = g_new0(member_streams, r->npeers_ctl ? r->npeers_ctl : 1);
    streams_call c = { r, r->tiles_mark };
    bench_loop_call(r->loop, do_streams, &c);
}

static uint64_t received_before(const member_streams *m, uint32_t ssrc)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->s[i].ssrc == ssrc)
            return m->s[i].received;
    return 0;
}

/* The first mismatch, for the report. */
static void G_GNUC_PRINTF(2, 3) problem(bench_result *res, const char *fmt, ...)
{
    if (res->tiles_problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->tiles_problem, sizeof res->tiles_problem, fmt, ap);
    va_end(ap);
}

/* What member k received in the window against its tiles. */
static void check_member(bench_run_state *r, unsigned k, const member_streams *before,
                         const member_streams *after, bench_result *res, unsigned *audio)
{
    unsigned t[MAX_TILES], nt = tiles_of(r->s, k, t);
    bool seen[MAX_TILES] = { false };
    unsigned videos = 0, strays = 0;
    *audio = 0;
    for (unsigned i = 0; i < after->n; i++) {
        const bench_stream_count *s = &after->s[i];
        if (s->received <= received_before(before, s->ssrc))
            continue;   /* nothing in the window */
        if (!s->video) {
            (*audio)++;
            continue;
        }
        videos++;
        bool mine = false;
        for (unsigned j = 0; j < nt && !mine; j++)
            if (s->source && s->source == r->pubs[t[j]].stamps && !seen[j])
                mine = seen[j] = true;
        strays += !mine;
    }
    if (videos == nt && strays == 0)
        res->tiles_members_ok++;
    else
        problem(res, "member %u received %u videos in the window, %u of them not its tiles'",
                k, videos, strays);
}

/* GET /rooms/{room}: what the SFU says each member subscribed to and
 * receives. */
static void check_sfu(bench_run_state *r, bench_result *res)
{
    char path[128], err[160];
    snprintf(path, sizeof path, "/rooms/%s", r->room);
    bench_http_resp resp;
    if (bench_http_request(&r->url, "GET", path, NULL, NULL, 0, &resp, err, sizeof err) != 0) {
        problem(res, "GET /rooms: %.100s", err);
        return;
    }
    json_t *doc = resp.status == 200 ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    bench_http_resp_free(&resp);
    json_t *people = json_object_get(doc, "participants");
    res->tiles_sfu_audio_slots = -1;
    for (size_t i = 0; i < json_array_size(people); i++) {
        json_t *p = json_array_get(people, i);
        json_t *sub = json_object_get(p, "subscribed"), *recv = json_object_get(p, "receiving");
        unsigned bound = 0;
        for (size_t j = 0; j < json_array_size(recv); j++)
            bound += json_integer_value(json_object_get(json_array_get(recv, j), "layers")) > 0;
        int slots = (int)json_integer_value(json_object_get(p, "audio_slots"));
        if (res->tiles_sfu_audio_slots < 0 || slots < res->tiles_sfu_audio_slots)
            res->tiles_sfu_audio_slots = slots;
        if (json_is_integer(sub) && json_integer_value(sub) == (json_int_t)r->s->tiles &&
            bound == r->s->tiles)
            res->tiles_sfu_ok++;
        else
            problem(res, "GET /rooms: participant %u: subscribed %u, %u video m-lines bound",
                    (unsigned)i, json_is_integer(sub) ? (unsigned)json_integer_value(sub) : 0,
                    bound);
    }
    if (!doc)
        problem(res, "GET /rooms: no room object");
    json_decref(doc);
}

void bench_tiles_check(bench_run_state *r, bench_result *res)
{
    unsigned n = r->npeers_ctl;
    member_streams *after = g_new0(member_streams, n ? n : 1);
    streams_call c = { r, after };
    bench_loop_call(r->loop, do_streams, &c);
    res->tiles = true;
    res->tiles_per_member = r->s->tiles;
    res->tiles_audio_min = UINT32_MAX;
    for (unsigned k = 0; k < n; k++) {
        unsigned audio;
        check_member(r, k, &r->tiles_mark[k], &after[k], res, &audio);
        res->tiles_audio_min = audio < res->tiles_audio_min ? audio : res->tiles_audio_min;
        res->tiles_audio_max = audio > res->tiles_audio_max ? audio : res->tiles_audio_max;
    }
    if (!n)
        res->tiles_audio_min = 0;
    check_sfu(r, res);
    /* The room's audio: as many streams as the SFU's audio slots (with no
     * slots, everyone else's). */
    unsigned want = res->tiles_sfu_audio_slots > 0 ? (unsigned)res->tiles_sfu_audio_slots
                                                   : n ? n - 1 : 0;
    if (r->s->audio && (res->tiles_audio_min != want || res->tiles_audio_max != want))
        problem(res, "audio streams per member %u-%u, the room's audio is %u", res->tiles_audio_min,
                res->tiles_audio_max, want);
    res->tiles_audio_ok = !r->s->audio || (res->tiles_audio_min == want && res->tiles_audio_max == want);
    g_free(after);
    g_free(r->tiles_mark);
    r->tiles_mark = NULL;
}

void bench_tiles_free(bench_run_state *r)
{
    g_free(r->tiles_link);
    g_free(r->tiles_done);
    g_free(r->tiles_mark);
}
