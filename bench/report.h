/* The figures of a run as a table (stdout), JSON and CSV files. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include "bench/run.h"

#include <stdio.h>

void bench_report_table(FILE *f, const bench_result *r);
/* 0, or -1 when the file cannot be written. */
int bench_report_json(const char *path, const bench_result *r);
int bench_report_csv(const char *path, const bench_result *r);
/* plot.c: a ramp's SFU CPU, loss and latency against participants, drawn
 * by gnuplot into an SVG. 0, or -1 (no steps, no gnuplot, cannot write). */
int bench_report_plot(const char *svg_path, const bench_result *r);

#endif
