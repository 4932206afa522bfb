/* A ramp: one publisher, viewers added `ramp.step` at a time; after each
 * step a warm-up and a window of `ramp.step_s`. The ramp stops at the first
 * step whose loss or p99 latency passes the scenario's limits (or where a
 * viewer failed, or the bench itself ran out of CPU, which would make the
 * figures the bench's and not the SFU's). The capacity is the participants
 * of the last step within the limits; the run's figures are that step's. */
#include "bench/run_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Fills st from one window's figures; true when within the limits. */
static bool judge(const bench_scenario *s, const bench_result *f, unsigned failed_before,
                  bench_ramp_step *st, char *why, size_t whylen)
{
    double dt = f->duration_s > 0 ? f->duration_s : 1;
    *st = (bench_ramp_step){
        .participants = f->participants, .failed = f->failed,
        .sfu_cpu_ratio = f->sfu_cpu_seconds >= 0 ? f->sfu_cpu_seconds / dt : -1,
        .bench_cpu_ratio = f->bench_cpu_seconds / dt,
        .cpu_us_per_packet = f->sfu_cpu_us_per_forwarded_packet,
        .forwarded_pps = f->forwarded_pps, .loss_ratio = f->loss_ratio,
        .latency_ms_p50 = f->latency_ms_p50, .latency_ms_p95 = f->latency_ms_p95,
        .latency_ms_p99 = f->latency_ms_p99, .latency_app_ms_p99 = f->latency_app_ms_p99,
        .sfu_rss_bytes = f->sfu_rss_bytes,
    };
    if (f->forwarded_packets == 0)
        snprintf(why, whylen, "nothing forwarded at %u participants", f->participants);
    else if (f->loss_ratio > s->ramp.max_loss_ratio)
        snprintf(why, whylen, "loss %.3f%% > %.3f%% at %u participants", f->loss_ratio * 100,
                 s->ramp.max_loss_ratio * 100, f->participants);
    else if (f->latency_ms_p99 > s->ramp.max_latency_ms)
        snprintf(why, whylen, "p99 latency %.1f ms > %.1f ms at %u participants",
                 f->latency_ms_p99, s->ramp.max_latency_ms, f->participants);
    else if (f->failed > failed_before)
        snprintf(why, whylen, "%u viewer(s) failed to join at %u participants (%.40s)",
                 f->failed - failed_before, f->participants, f->first_failure);
    else
        return st->passed = true;
    return false;
}

static void one_step(bench_run_state *r, bench_result *f)
{
    bench_snapshot a, b;
    usleep((useconds_t)(r->s->warmup_s * 1e6));
    bench_run_window(r, r->s->ramp.step_s, &a, &b);
    bench_run_figures(&a, &b, f);
    f->sfu_rss_bytes = r->o->sfu_pid ? bench_proc_rss_bytes(r->o->sfu_pid) : -1;
}

int bench_ramp_measure(bench_run_state *r, bench_result *res, char *err, size_t errlen)
{
    const bench_scenario *s = r->s;
    pid_t pid = r->o->sfu_pid;
    int64_t rss_before = pid ? bench_proc_rss_bytes(pid) : -1;
    if (bench_layout_join(r, res, err, errlen) != 0)
        return -1;
    /* The figures of the last good step; res keeps the ramp's own fields. */
    bench_result *f = g_new0(bench_result, 1), *best = g_new0(bench_result, 1);
    unsigned viewers = 0, failed_before = 0;
    bool have_best = false;
    while (viewers < s->ramp.max_viewers && res->nsteps < BENCH_RAMP_MAX_STEPS) {
        unsigned add = s->ramp.max_viewers - viewers < s->ramp.step
                           ? s->ramp.max_viewers - viewers : s->ramp.step;
        bench_layout_add_viewers(r, 0, add);
        viewers += add;
        memset(f, 0, sizeof *f);
        one_step(r, f);
        f->participants = 1 + viewers;
        bench_ramp_step *st = &res->steps[res->nsteps++];
        bool ok = judge(s, f, failed_before, st, res->ramp_stop, sizeof res->ramp_stop);
        failed_before = f->failed;
        if (r->o->progress)
            fprintf(stderr, "  step %u: %u participants %s\n", res->nsteps, f->participants,
                    ok ? "within the limits" : res->ramp_stop);
        if (!ok)
            break;
        *best = *f;
        have_best = true;
        res->capacity = f->participants;
        if (st->bench_cpu_ratio > 0.9) {
            snprintf(res->ramp_stop, sizeof res->ramp_stop,
                     "the bench used %.0f%% of a core at %u participants: it, not the SFU, "
                     "is the limit", st->bench_cpu_ratio * 100, f->participants);
            break;
        }
    }
    if (!res->ramp_stop[0])
        snprintf(res->ramp_stop, sizeof res->ramp_stop, "max_viewers (%u) reached within the "
                 "limits", s->ramp.max_viewers);
    const bench_result *use = have_best ? best : f;
    unsigned nsteps = res->nsteps, capacity = res->capacity;
    char stop[sizeof res->ramp_stop];
    g_strlcpy(stop, res->ramp_stop, sizeof stop);
    bench_ramp_step *steps = g_memdup2(res->steps, sizeof res->steps);
    *res = *use;
    memcpy(res->steps, steps, sizeof res->steps);
    g_free(steps);
    res->nsteps = nsteps;
    res->capacity = capacity;
    g_strlcpy(res->ramp_stop, stop, sizeof res->ramp_stop);
    g_strlcpy(res->target, r->o->target, sizeof res->target);
    g_strlcpy(res->scenario, s->name, sizeof res->scenario);
    g_strlcpy(res->join, r->janus ? "janus" : "whip-whep", sizeof res->join);
    res->publishers = 1;
    res->viewers = res->participants - 1;
    res->decoders = s->decode_sample < res->viewers ? s->decode_sample : res->viewers;
    res->nack = r->view_answer.nack;
    res->pli = r->view_answer.pli;
    res->twcc = r->pub_answer.twcc;
    res->sfu_rss_before_bytes = rss_before;
    res->rss_bytes_per_participant =
        res->sfu_rss_bytes >= 0 && rss_before >= 0
            ? (res->sfu_rss_bytes - rss_before) / (int64_t)res->participants : -1;
    res->rss_anon_bytes_per_participant = -1;   /* not split for a ramp */
    g_free(f);
    g_free(best);
    bench_run_join_figures(r, res);
    return 0;
}
