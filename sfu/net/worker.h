/* A media worker: one thread waiting in its own epoll set. Rooms are pinned
 * to one worker, so a room's packets never cross threads and the media path
 * takes no lock. Other threads hand work over through the worker's command
 * queue (cmd_queue.h): sfu_worker_post.
 *
 * Each wake-up reads the clock once, runs the ready sockets' callbacks (the
 * watches below), then the due timers, then sends the batch of datagrams
 * they queued; the worker's GMainContext (libnice, DTLS timers)
 * is iterated only when one of its descriptors is ready or its next
 * timeout is due, so a wake-up costs what is ready, not every source. */
#ifndef SFU_NET_WORKER_H
#define SFU_NET_WORKER_H

#include <glib.h>

#include "sfu/core/buf.h"
#include "sfu/core/out.h"
#include "sfu/net/cmd_queue.h"
#include "sfu/net/egress.h"

/* Commands that may wait for a worker before new work is refused. */
#define SFU_WORKER_QUEUE_CAP 1024

typedef struct sfu_worker sfu_worker;

/* The worker's buffer pool starts with pool_packets and grows in chunks up to
 * pool_max_packets (buf.h). */
sfu_worker *sfu_worker_new(unsigned index, uint32_t pool_packets, uint32_t pool_max_packets);
/* Whether the worker's egress may send UDP GSO trains (egress.h); off at
 * creation. Before sfu_worker_start. */
void sfu_worker_set_udp_gso(sfu_worker *w, bool on);
/* Read coalescing (core/rx_coalesce.h): under load, wait up to window_us
 * after a wake-up before reading again, so that one read and one send carry
 * several datagrams; 0: off (at creation; the server sets [media]
 * read_coalesce_us). Before sfu_worker_start. */
void sfu_worker_set_read_coalesce(sfu_worker *w, int64_t window_us);
/* From a watch's callback: it read `dgrams` datagrams, and `full` if its
 * read stopped at its batch size (more may be waiting). */
void sfu_worker_note_read(sfu_worker *w, unsigned dgrams, bool full);
/* Stops the thread if running, then frees. */
void sfu_worker_free(sfu_worker *w);
int sfu_worker_start(sfu_worker *w);
/* Quits the loop after the work already queued and joins the thread. */
void sfu_worker_stop(sfu_worker *w);

/* The worker's command queue (cmd_queue.h), thread-safe: fn(arg) runs on
 * the worker's thread, in the order posted, never inline, in the wake-up
 * after the post (after its sockets, timers and GLib's turn; its sends go
 * at once). A burst of posts costs the worker one wake-up.
 * New work: 0, or -SFU_ELIMIT when SFU_WORKER_QUEUE_CAP commands already
 * wait (the caller answers 503). */
int sfu_worker_post(sfu_worker *w, void (*fn)(void *arg), void *arg);
/* Admission of work whose command is decided first and posted later as a
 * follow-up: 0, or -SFU_ELIMIT (counted as refused) when the queue is full. */
int sfu_worker_admit(sfu_worker *w);
/* A follow-up of admitted work (a result, a shutdown): always queued. */
void sfu_worker_post_follow(sfu_worker *w, void (*fn)(void *arg), void *arg);
void sfu_worker_queue_stats(sfu_worker *w, sfu_cmd_queue_stats *out);

/* The worker's epoll set (worker thread only): sockets the worker reads
 * itself instead of leaving them in GLib's poll array, so a wake-up costs
 * what is ready, not every socket the worker owns. Each ready socket's `fn`
 * runs with the wake-up's time (the clock is read once per wake-up). A watch may be removed from any
 * callback, its own included; its `fn` is not called afterwards. */
typedef struct sfu_worker_watch sfu_worker_watch;
typedef void (*sfu_worker_io_fn)(void *user, int64_t now);
/* NULL when the descriptor cannot be added. */
sfu_worker_watch *sfu_worker_watch_fd(sfu_worker *w, int fd, sfu_worker_io_fn fn, void *user);
void sfu_worker_unwatch(sfu_worker *w, sfu_worker_watch *watch);
/* A context the worker never iterates: libnice's socket sources are moved
 * there while the worker reads their socket itself. */
GMainContext *sfu_worker_parked_context(sfu_worker *w);

/* Timers of the worker's own heap (worker thread only), cheaper than GLib
 * sources: GLib checks every source on every iteration. `fn` gets the
 * wake-up's time. A timer fires once per set; it may re-arm or free itself,
 * or other timers, from its callback. */
typedef struct sfu_worker_timer sfu_worker_timer;
typedef void (*sfu_worker_timer_fn)(void *user, int64_t now);
sfu_worker_timer *sfu_worker_timer_new(sfu_worker *w, sfu_worker_timer_fn fn, void *user);
/* `at` in the monotonic clock's microseconds; negative disarms. */
void sfu_worker_timer_set(sfu_worker *w, sfu_worker_timer *t, int64_t at);
void sfu_worker_timer_free(sfu_worker *w, sfu_worker_timer *t);

/* Work deferred to the end of the wake-up (worker thread only), after its
 * sockets, timers and GLib's turn: posting twice before then runs it once.
 * A task runs on the wake-up it was posted in (posted outside one or by a
 * task, on the next); its sends go at once. Freeing a posted task cancels
 * it. */
typedef struct sfu_worker_task sfu_worker_task;
sfu_worker_task *sfu_worker_task_new(sfu_worker *w, void (*fn)(void *user), void *user);
void sfu_worker_task_post(sfu_worker *w, sfu_worker_task *t);
void sfu_worker_task_free(sfu_worker *w, sfu_worker_task *t);

/* The time of the wake-up being run on the worker's thread (read once per
 * wake-up); the clock itself from any other thread. */
int64_t sfu_worker_now(const sfu_worker *w);

/* One wake-up that does not wait, on the calling thread: for tests that
 * drive a worker whose thread is not started. */
void sfu_worker_iterate(sfu_worker *w);

/* For code running on the worker's thread. */
GMainContext *sfu_worker_context(sfu_worker *w);
sfu_buf_pool *sfu_worker_pool(sfu_worker *w);
sfu_out *sfu_worker_out(sfu_worker *w);
unsigned sfu_worker_index(const sfu_worker *w);
/* The worker's egress batch; the wake-up flushes it after its sockets and timers. */
sfu_egress *sfu_worker_egress(sfu_worker *w);
/* True while a wake-up runs its sockets and timers (their sends wait for the flush). */
bool sfu_worker_in_io(const sfu_worker *w);
bool sfu_worker_is_current(const sfu_worker *w);

#endif
