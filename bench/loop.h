/* The media thread: one GMainContext that runs every peer's ICE agent and a
 * tick every 2 ms for timers and paced sending. The control thread (main,
 * doing blocking HTTP) reaches the peers only through bench_loop_call, which
 * runs a function on the media thread and waits for it. */
#ifndef BENCH_LOOP_H
#define BENCH_LOOP_H

#include <glib.h>

typedef struct bench_loop bench_loop;
typedef void (*bench_loop_fn)(void *arg);

/* Starts the thread; tick(arg) runs on it every 2 ms. NULL on failure. */
bench_loop *bench_loop_new(bench_loop_fn tick, void *tick_arg);
/* Stops and joins the thread. Free the peers first (with bench_loop_call). */
void bench_loop_free(bench_loop *l);
GMainContext *bench_loop_context(bench_loop *l);
/* Runs fn(arg) on the media thread and returns when it has. */
void bench_loop_call(bench_loop *l, bench_loop_fn fn, void *arg);

#endif
