/* --plot: a ramp drawn by gnuplot (Debian gnuplot-nox) as three panels
 * sharing the participants axis: SFU CPU (share of a core, and µs per
 * forwarded packet), loss, and latency p50/p95/p99. The data goes inline
 * ("$data << EOD"), so no temporary file is needed. */
#include "bench/report.h"

#include <stdio.h>
#include <sys/wait.h>

static void data_block(FILE *g, const bench_result *r)
{
    fprintf(g, "$data << EOD\n");
    for (unsigned i = 0; i < r->nsteps; i++) {
        const bench_ramp_step *s = &r->steps[i];
        fprintf(g, "%u %.2f %.3f %.4f %.3f %.3f %.3f\n", s->participants,
                s->sfu_cpu_ratio * 100, s->cpu_us_per_packet, s->loss_ratio * 100,
                s->latency_ms_p50, s->latency_ms_p95, s->latency_ms_p99);
    }
    fprintf(g, "EOD\n");
}

int bench_report_plot(const char *svg_path, const bench_result *r)
{
    if (r->nsteps == 0) {
        fprintf(stderr, "sfu-bench: --plot draws a ramp (scenario kind = ramp)\n");
        return -1;
    }
    FILE *g = popen("gnuplot", "w");
    if (!g)
        return -1;
    data_block(g, r);
    fprintf(g, "set terminal svg size 800,900 dynamic font 'sans,11'\n"
               "set output '%s'\n"
               "set multiplot layout 3,1 title '%s against %s: capacity %u participants'\n"
               "set grid\nset key left top\nset xlabel 'participants'\n",
            svg_path, r->scenario, r->target, r->capacity);
    fprintf(g, "set ylabel 'SFU CPU (%% of a core)'\nset y2label 'µs per forwarded packet'\n"
               "set ytics nomirror\nset y2tics\nset yrange [0:*]\nset y2range [0:*]\n"
               "plot $data using 1:2 with linespoints title 'SFU CPU', "
               "$data using 1:3 axes x1y2 with linespoints title 'µs/packet'\n"
               "unset y2label\nunset y2tics\nset ytics mirror\n");
    fprintf(g, "set ylabel 'loss (%%)'\n"
               "plot $data using 1:4 with linespoints title 'loss'\n");
    fprintf(g, "set ylabel 'one-way latency (ms)'\n"
               "plot $data using 1:5 with linespoints title 'p50', "
               "$data using 1:6 with linespoints title 'p95', "
               "$data using 1:7 with linespoints title 'p99'\n"
               "unset multiplot\n");
    int status = pclose(g);
    return status == 0 ? 0 : -1;
}
