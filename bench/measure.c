/* The timeline of a run: publishers join, then viewers; a warm-up; the
 * measuring window with a live progress line; then the figures, all taken
 * as differences between two snapshots so joins and teardown stay out. */
#include "bench/run_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void bench_counters_add(bench_counters *sum, const bench_counters *c)
{
    uint64_t *d = (uint64_t *)sum;
    const uint64_t *s = (const uint64_t *)c;
    for (size_t i = 0; i < sizeof *c / sizeof(uint64_t); i++)
        d[i] += s[i];
}

static void progress(const bench_snapshot *start, const bench_snapshot *prev,
                     const bench_snapshot *now, double total_s)
{
    double dt = (double)(now->at - prev->at) / 1e6;
    double pps = (double)(now->view.rx_packets - prev->view.rx_packets) / dt;
    double mbps = (double)(now->view.rx_bytes - prev->view.rx_bytes) * 8 / dt / 1e6;
    uint64_t exp = now->view.rx_expected - start->view.rx_expected;
    uint64_t got = now->view.rx_packets - start->view.rx_packets;
    double loss = exp ? (double)(exp > got ? exp - got : 0) / (double)exp * 100 : 0;
    double cpu = now->sfu_cpu_s >= 0 ? (now->sfu_cpu_s - prev->sfu_cpu_s) / dt * 100 : -1;
    fprintf(stderr, "\r  %5.1f/%.0f s  peers %u up %u failed  fwd %7.0f pkt/s %6.2f Mbit/s  "
            "loss %.2f%%  sfu cpu %s%.0f%%   ", (double)(now->at - start->at) / 1e6, total_s,
            now->joined, now->failed, pps, mbps, loss, cpu < 0 ? "n/a " : "", cpu < 0 ? 0 : cpu);
}

void bench_run_window(bench_run_state *r, double duration_s, bench_snapshot *a,
                      bench_snapshot *b)
{
    bench_run_reset_latency(r);
    r->nsec = 0;
    bench_run_snapshot(r, a, false);
    bench_snapshot prev = *a;
    sfu_time end = a->at + (sfu_time)(duration_s * 1e6);
    for (;;) {
        sfu_time now = bench_now();
        if (now >= end)
            break;
        sfu_time step = end - now < SFU_SEC(1) ? end - now : SFU_SEC(1);
        usleep((useconds_t)step);
        bench_run_snapshot(r, b, false);
        if (b->sfu_cpu_s >= 0 && prev.sfu_cpu_s >= 0 && r->nsec < BENCH_SECONDS_MAX) {
            r->sec_cpu[r->nsec] = b->sfu_cpu_s - prev.sfu_cpu_s;
            r->sec_dt[r->nsec] = (double)(b->at - prev.at) / 1e6;
            r->sec_fwd[r->nsec] = b->view.rx_packets - prev.view.rx_packets;
            r->nsec++;
        }
        if (r->o->progress)
            progress(a, &prev, b, duration_s);
        prev = *b;
    }
    bench_run_snapshot(r, b, true);
    if (r->o->progress)
        fprintf(stderr, "\n");
}

/* Whether peer i is the first member to join its room. */
static bool first_in_room(const bench_run_state *r, unsigned i)
{
    const char *room = r->pubs[r->pub_of[i]].room;
    for (unsigned k = 0; k < i; k++)
        if (r->roles[k] == BENCH_MEMBER && strcmp(r->pubs[r->pub_of[k]].room, room) == 0)
            return false;
    return true;
}

void bench_run_join_figures(bench_run_state *r, bench_result *res)
{
    bench_run_join_times(r);
    double ms[r->npeers_ctl + 1];
    size_t n = 0;
    for (unsigned i = 0; i < r->npeers_ctl; i++) {
        /* A room member joins when it receives someone: the first one of
         * each room joined it empty and waited for the second, so it is
         * left out. */
        bool skip = r->roles[i] == BENCH_MEMBER && first_in_room(r, i);
        if (r->roles[i] != BENCH_PUBLISHER && !skip && r->join_us[i] >= 0)
            ms[n++] = (double)r->join_us[i] / 1000.0;
    }
    res->join_ms_p50 = bench_quantile_sorted(ms, n, 0.50);
    res->join_ms_p95 = bench_quantile_sorted(ms, n, 0.95);
    for (int ph = 0; ph < 3; ph++) {
        n = 0;
        for (unsigned i = 0; i < r->npeers_ctl; i++)
            if (r->roles[i] != BENCH_PUBLISHER && r->phase_us[i][ph] >= 0)
                ms[n++] = (double)r->phase_us[i][ph] / 1000.0;
        res->join_phase_ms_p50[ph] = bench_quantile_sorted(ms, n, 0.50);
    }
    g_strlcpy(res->srtp_profile, r->srtp_profile, sizeof res->srtp_profile);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double median_of(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_run_stalls(const bench_run_state *r, bench_result *res)
{
    res->sfu_cpu_stall_seconds = -1;
    res->stall_seconds = 0;
    res->sfu_cpu_us_per_forwarded_packet_steady = res->sfu_cpu_us_per_forwarded_packet;
    unsigned n = 0;
    double cpu[BENCH_SECONDS_MAX], fwd[BENCH_SECONDS_MAX];
    for (unsigned i = 0; i < r->nsec; i++) {
        if (r->sec_dt[i] < 0.5)    /* the window's short last step */
            continue;
        cpu[n] = r->sec_cpu[i] / r->sec_dt[i];
        fwd[n++] = (double)r->sec_fwd[i] / r->sec_dt[i];
    }
    if (n < 5 || res->sfu_cpu_seconds < 0)
        return;
    double m = median_of(cpu, n), mf = median_of(fwd, n);
    double excess = 0;
    for (unsigned i = 0; i < r->nsec; i++) {
        if (r->sec_dt[i] < 0.5)
            continue;
        double c = r->sec_cpu[i] / r->sec_dt[i], f = (double)r->sec_fwd[i] / r->sec_dt[i];
        if (c > 2 * m && c - m > 0.03 && f <= 1.25 * mf) {
            excess += (c - m) * r->sec_dt[i];
            res->stall_seconds++;
        }
    }
    res->sfu_cpu_stall_seconds = excess;
    if (res->forwarded_packets)
        res->sfu_cpu_us_per_forwarded_packet_steady =
            (res->sfu_cpu_seconds - excess) * 1e6 / (double)res->forwarded_packets;
}

void bench_run_figures(const bench_snapshot *a, const bench_snapshot *b, bench_result *res)
{
    double dt = (double)(b->at - a->at) / 1e6;
    res->duration_s = dt;
    res->joined = b->joined;
    res->failed = b->failed;
    g_strlcpy(res->first_failure, b->first_failure, sizeof res->first_failure);
    res->sent_packets = b->pub.tx_packets - a->pub.tx_packets;
    res->forwarded_packets = b->view.rx_packets - a->view.rx_packets;
    res->forwarded_bytes = b->view.rx_bytes - a->view.rx_bytes;
    res->expected_packets = b->view.rx_expected - a->view.rx_expected;
    res->lost_packets = res->expected_packets > res->forwarded_packets
                            ? res->expected_packets - res->forwarded_packets : 0;
    res->loss_ratio = res->expected_packets
                          ? (double)res->lost_packets / (double)res->expected_packets : 0;
    res->forwarded_pps = (double)res->forwarded_packets / dt;
    res->forwarded_bps = (double)res->forwarded_bytes * 8 / dt;
    res->sfu_cpu_seconds = a->sfu_cpu_s >= 0 ? b->sfu_cpu_s - a->sfu_cpu_s : -1;
    res->bench_cpu_seconds = b->bench_cpu_s - a->bench_cpu_s;
    res->sfu_cpu_us_per_forwarded_packet =
        res->sfu_cpu_seconds >= 0 && res->forwarded_packets
            ? res->sfu_cpu_seconds * 1e6 / (double)res->forwarded_packets : -1;
    res->sfu_cpu_stall_seconds = -1;    /* bench_run_stalls, where the window's seconds are known */
    res->stall_seconds = 0;
    res->sfu_cpu_us_per_forwarded_packet_steady = -1;
    res->latency_samples = b->lat_count;
    res->latency_unmatched = b->view.latency_unmatched - a->view.latency_unmatched;
    res->latency_ms_p50 = b->lat_p50 < 0 ? -1 : b->lat_p50 / 1000;
    res->latency_ms_p95 = b->lat_p95 < 0 ? -1 : b->lat_p95 / 1000;
    res->latency_ms_p99 = b->lat_p99 < 0 ? -1 : b->lat_p99 / 1000;
    res->latency_app_ms_p50 = b->app_p50 < 0 ? -1 : b->app_p50 / 1000;
    res->latency_app_ms_p95 = b->app_p95 < 0 ? -1 : b->app_p95 / 1000;
    res->latency_app_ms_p99 = b->app_p99 < 0 ? -1 : b->app_p99 / 1000;
    res->latency_stamped = b->view.latency_stamped - a->view.latency_stamped;
    res->frames_decoded = b->view.frames_decoded - a->view.frames_decoded;
    res->decode_errors = b->view.decode_errors - a->view.decode_errors;
    res->plis_sent = b->view.plis_sent - a->view.plis_sent;
    res->plis_received = b->pub.plis_received - a->pub.plis_received;
    res->nacks_received = b->pub.nacks_received - a->pub.nacks_received;
}

/* Each peer's video counters (simulcast: per viewer). */
typedef struct peer_video {
    bench_run_state *r;
    uint64_t *bytes, *packets;
} peer_video;

static void do_peer_video(void *arg)
{
    peer_video *v = arg;
    for (unsigned i = 0; i < v->r->npeers; i++) {
        bench_counters c;
        bench_peer_counters(v->r->peers[i], &c);
        v->bytes[i] = c.rx_video_bytes;
        v->packets[i] = c.rx_video_packets;
    }
}

static void take_peer_video(bench_run_state *r, uint64_t *bytes, uint64_t *packets,
                            sfu_time *at)
{
    peer_video v = { r, bytes, packets };
    bench_loop_call(r->loop, do_peer_video, &v);
    *at = bench_now();
}

/* What each group of simulcast viewers received, per viewer, between the
 * two takes; and what the publisher encodes on the layer each should get. */
static void layer_groups(bench_run_state *r, const uint64_t *b0, const uint64_t *p0,
                         const uint64_t *b1, const uint64_t *p1, double dt, bench_result *res)
{
    const bench_media *m = &r->media;
    res->simulcast = true;
    for (unsigned g = 0; g < 3; g++) {
        struct bench_layer_group *lg = &res->groups[g];
        size_t bytes = g < 2 ? m->low[g].bytes : m->video_bytes;
        unsigned n = g < 2 ? m->low[g].n : m->nvideo;
        lg->source_kbps = n ? (double)bytes * 8 * m->fps / n / 1000 : -1;
        lg->kbps_min = lg->kbps_max = lg->kbps_mean = lg->pps_mean = -1;
        double sum = 0, psum = 0;
        for (unsigned i = 0; i < r->npeers_ctl; i++) {
            if (r->roles[i] != BENCH_VIEWER || r->groups[i] != g)
                continue;
            double kbps = (double)(b1[i] - b0[i]) * 8 / dt / 1000;
            lg->kbps_min = lg->viewers == 0 || kbps < lg->kbps_min ? kbps : lg->kbps_min;
            lg->kbps_max = kbps > lg->kbps_max ? kbps : lg->kbps_max;
            sum += kbps;
            psum += (double)(p1[i] - p0[i]) / dt;
            lg->viewers++;
        }
        if (lg->viewers) {
            lg->kbps_mean = sum / lg->viewers;
            lg->pps_mean = psum / lg->viewers;
        }
    }
    /* A viewer gets its layer when its rate is nearer that layer's than
     * either neighbour's (geometric midpoints: the rates are 1:3:10). */
    res->layers_ok = true;
    for (unsigned g = 0; g < 3; g++) {
        const struct bench_layer_group *lg = &res->groups[g];
        double lo = g > 0 ? sqrt(res->groups[g - 1].source_kbps * lg->source_kbps) : 0;
        double hi = g < 2 ? sqrt(res->groups[g + 1].source_kbps * lg->source_kbps) : 1e12;
        if (lg->viewers && (lg->kbps_min < lo || lg->kbps_max > hi))
            res->layers_ok = false;
    }
}

int bench_run_measure(bench_run_state *r, bench_result *res, char *err, size_t errlen)
{
    const bench_scenario *s = r->s;
    pid_t pid = r->o->sfu_pid;
    res->sfu_rss_before_bytes = pid ? bench_proc_rss_bytes(pid) : -1;
    int64_t anon_before = pid ? bench_proc_rss_anon_bytes(pid) : -1;
    if (bench_layout_join(r, res, err, errlen) != 0)
        return -1;
    res->nack = r->view_answer.nack;
    res->pli = r->view_answer.pli;
    res->twcc = r->pub_answer.twcc;
    usleep((useconds_t)(s->warmup_s * 1e6));
    bench_snapshot a, b;
    uint64_t *vid = s->simulcast ? g_new0(uint64_t, 4 * (size_t)r->cap) : NULL;
    sfu_time t0 = 0, t1 = 0;
    bool tiles = strcmp(s->kind, "large-meeting") == 0;
    if (vid)
        take_peer_video(r, vid, vid + r->cap, &t0);
    if (tiles)
        bench_tiles_mark(r);
    bench_run_window(r, r->o->duration_s > 0 ? r->o->duration_s : s->duration_s, &a, &b);
    if (tiles)
        bench_tiles_check(r, res);
    if (vid) {
        take_peer_video(r, vid + 2 * r->cap, vid + 3 * r->cap, &t1);
        layer_groups(r, vid, vid + r->cap, vid + 2 * r->cap, vid + 3 * r->cap,
                     (double)(t1 - t0) / 1e6, res);
        g_free(vid);
    }
    res->sfu_rss_bytes = pid ? bench_proc_rss_bytes(pid) : -1;
    res->rss_bytes_per_participant =
        res->sfu_rss_bytes >= 0 && res->sfu_rss_before_bytes >= 0 && res->participants
            ? (res->sfu_rss_bytes - res->sfu_rss_before_bytes) / (int64_t)res->participants : -1;
    int64_t anon = pid ? bench_proc_rss_anon_bytes(pid) : -1;
    res->rss_anon_bytes_per_participant = anon >= 0 && anon_before >= 0 && res->participants
                                              ? (anon - anon_before) / (int64_t)res->participants : -1;
    bench_run_figures(&a, &b, res);
    bench_run_stalls(r, res);
    bench_run_join_figures(r, res);
    return 0;
}
