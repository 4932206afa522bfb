/* Who joins, for each kind of scenario (scenario.h):
 *
 *   one-to-many  one room, one publisher, `viewers` WHEP sessions of it
 *   ramp         the same, viewers added later step by step (ramp.c)
 *   meeting      one room, `participants` members. Against our SFU each is
 *                a room session (POST /rooms/{room}/join: one PeerConnection
 *                that publishes and receives everyone else through server
 *                offers, room.h), as the call page does. Against Janus each
 *                is a VideoRoom publisher plus one subscriber handle per
 *                other feed (N publishers, N(N-1) subscriber sessions)
 *   large-meeting  the meeting through room sessions, each member subscribed
 *                to `tiles` others' video (tiles.c); our SFU only
 *   voice-calls  `calls` rooms of two participants, each receiving the other.
 *                Against our SFU by default two room sessions per room (one
 *                PeerConnection each, what the call page and 1:1 calling
 *                apps do); with `join = whip-whep` a WHIP publisher plus a
 *                WHEP viewer of the other per participant (two each). Janus:
 *                a VideoRoom per call, a publisher and a subscriber handle
 *                per participant
 *
 * Publishers join first (each viewer needs its publisher's id), then the
 * viewers, `join_interval_ms` apart. */
#include "bench/run_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool is(const bench_scenario *s, const char *kind) { return strcmp(s->kind, kind) == 0; }

/* Room sessions: every member publishes and receives on one PeerConnection. */
static bool rooms(const bench_scenario *s) { return is(s, "meeting") || is(s, "large-meeting"); }

unsigned bench_layout_publishers(const bench_scenario *s)
{
    if (rooms(s))
        return s->participants;
    if (is(s, "voice-calls"))
        return 2 * s->calls;
    return 1;
}

unsigned bench_layout_peers(const bench_scenario *s)
{
    if (is(s, "meeting"))
        return s->participants * s->participants;   /* Janus: a handle per feed */
    if (is(s, "large-meeting"))
        return s->participants;
    if (is(s, "voice-calls"))
        return 4 * s->calls;
    if (is(s, "ramp"))
        return 1 + s->ramp.max_viewers;
    return 1 + s->viewers;
}

/* The room of a voice call's participant i: two per room. */
static void call_room(const bench_run_state *r, unsigned i, char room[64])
{
    snprintf(room, 64, "%.48s-c%u", r->room, i / 2);
}

static void pause_between_joins(const bench_run_state *r)
{
    if (r->s->join_interval_ms)
        usleep(r->s->join_interval_ms * 1000u);
}

/* Publishers into rooms[i]; waits until they are connected. */
static int join_publishers(bench_run_state *r, unsigned n, char err[], size_t errlen)
{
    for (unsigned i = 0; i < n; i++) {
        char room[64], why[200];
        if (is(r->s, "voice-calls"))
            call_room(r, i, room);
        else
            g_strlcpy(room, r->room, sizeof room);
        int pub = bench_run_add_pub(r, room);
        if (pub < 0 || bench_run_join(r, BENCH_PUBLISHER, (unsigned)pub, false, why,
                                      sizeof why) != 0) {
            snprintf(err, errlen, "publisher %u: %s", i, pub < 0 ? "too many" : why);
            return -1;
        }
        pause_between_joins(r);
    }
    bench_run_wait_joined(r, r->npeers_ctl, 10 + 0.05 * n);
    bench_snapshot snap;
    bench_run_snapshot(r, &snap, false);
    if (snap.joined < n) {
        snprintf(err, errlen, "%u of %u publishers did not connect within the timeout%s%s",
                 n - snap.joined, n, snap.failed ? ": " : "", snap.first_failure);
        return -1;
    }
    return 0;
}

static unsigned viewers_joined_so_far(const bench_run_state *r)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->npeers_ctl; i++)
        n += r->roles[i] == BENCH_VIEWER;
    return n;
}

static void join_viewer(bench_run_state *r, unsigned pub)
{
    char why[200];
    bool decode = r->s->video && viewers_joined_so_far(r) < r->s->decode_sample;
    if (bench_run_join(r, BENCH_VIEWER, pub, decode, why, sizeof why) != 0)
        fprintf(stderr, "sfu-bench: viewer of publisher %u: %s\n", pub, why);
    pause_between_joins(r);
}

void bench_layout_add_viewers(bench_run_state *r, unsigned pub, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        join_viewer(r, pub);
    bench_run_wait_joined(r, r->npeers_ctl, 10 + 0.05 * n);
}

/* Room members, join_interval_ms apart, then until all receive media: all
 * in the run's room, or (voice-calls) two by two in a room per call. */
static int join_members(bench_run_state *r, unsigned n, char *err, size_t errlen)
{
    for (unsigned i = 0; i < n; i++) {
        char why[200], room[64];
        if (is(r->s, "voice-calls"))
            call_room(r, i, room);
        else
            g_strlcpy(room, r->room, sizeof room);
        int pub = bench_run_add_pub(r, room);
        bool decode = r->s->video && i < r->s->decode_sample;
        if (pub < 0 || bench_run_join(r, BENCH_MEMBER, (unsigned)pub, decode, why,
                                      sizeof why) != 0) {
            snprintf(err, errlen, "member %u: %s", i, pub < 0 ? "too many" : why);
            return -1;
        }
        pause_between_joins(r);
    }
    if (is(r->s, "large-meeting") && bench_tiles_complete(r, err, errlen) != 0)
        return -1;
    bench_run_wait_joined(r, r->npeers_ctl, 10 + 0.05 * n);
    return 0;
}

int bench_layout_join(bench_run_state *r, bench_result *res, char *err, size_t errlen)
{
    const bench_scenario *s = r->s;
    unsigned npub = bench_layout_publishers(s);
    g_strlcpy(res->target, r->o->target, sizeof res->target);
    g_strlcpy(res->scenario, s->name, sizeof res->scenario);
    bool by_room = rooms(s) || (is(s, "voice-calls") && strcmp(s->join, "room") == 0);
    g_strlcpy(res->join, r->janus ? "janus" : by_room ? "room" : "whip-whep", sizeof res->join);
    if (by_room && !r->janus) {
        if (join_members(r, npub, err, errlen) != 0)
            return -1;
        res->participants = res->publishers = res->viewers = npub;
        res->decoders = !s->video ? 0 : s->decode_sample < npub ? s->decode_sample : npub;
        return 0;
    }
    if (join_publishers(r, npub, err, errlen) != 0)
        return -1;
    unsigned before = r->npeers_ctl;
    if (is(s, "meeting")) {
        for (unsigned watcher = 0; watcher < npub; watcher++)
            for (unsigned pub = 0; pub < npub; pub++)
                if (pub != watcher)
                    join_viewer(r, pub);
        res->participants = npub;
    } else if (is(s, "voice-calls")) {
        for (unsigned pub = 0; pub < npub; pub++)
            join_viewer(r, pub ^ 1u);   /* each side of a call watches the other */
        res->participants = npub;
    } else if (is(s, "ramp")) {
        res->participants = 1;  /* viewers come step by step */
    } else {
        for (unsigned i = 0; i < s->viewers; i++)
            join_viewer(r, 0);
        res->participants = 1 + s->viewers;
    }
    unsigned nview = r->npeers_ctl - before;
    bench_run_wait_joined(r, r->npeers_ctl, 10 + 0.05 * nview);
    res->publishers = npub;
    res->viewers = nview;
    res->decoders = !s->video ? 0 : s->decode_sample < nview ? s->decode_sample : nview;
    return 0;
}
