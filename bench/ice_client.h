/* The client side of ICE for one simulated peer: a libnice agent in full
 * mode, controlling (RFC 8445 6.1.1: the offerer facing an ICE-lite answerer
 * is always controlling), one stream and one component (BUNDLE, rtcp-mux),
 * with consent freshness (RFC 7675) so the SFU sees us alive. Host
 * candidates on 127.0.0.1 only. Created, used and freed on the thread that
 * runs its GMainContext. */
#ifndef BENCH_ICE_CLIENT_H
#define BENCH_ICE_CLIENT_H

#include "signaling/sdp.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bench_ice bench_ice;

typedef struct bench_ice_callbacks {
    /* arrived_at: when the datagram reached the socket (the kernel's receive
     * timestamp, SIOCGSTAMPNS, on bench_now()'s clock), -1 when unknown. */
    void (*on_data)(void *user, uint8_t *data, size_t len, sfu_time arrived_at);
    void (*on_connected)(void *user);
    void (*on_failed)(void *user);
} bench_ice_callbacks;

/* NULL with a reason in err. */
bench_ice *bench_ice_new(GMainContext *ctx, const bench_ice_callbacks *cb, void *user,
                         char *err, size_t errlen);
void bench_ice_free(bench_ice *ice); /* NULL is a no-op */

/* Host candidates on ip (IPv4 literal) for agents created afterwards; the
 * default is 127.0.0.1. Call before the media thread creates peers. */
void bench_ice_set_local_address(const char *ip);
/* How connected agents' sockets are read, for agents created afterwards:
 * 0, libnice's receive callback on the media thread's GLib poll (each
 * datagram from the server wakes the bench); > 0, every that many
 * microseconds from a timer, GLib polling them without sleeping, so the
 * server's send never wakes the bench (ice_client.c). ICE, consent and the
 * kernel's receive stamps work the same either way. */
void bench_ice_set_rx_poll_us(unsigned us);
unsigned bench_ice_rx_poll_us(void);
/* RFC 8445 6.1.1: the answerer to a full-ICE offerer is controlled. Before
 * bench_ice_start. */
void bench_ice_set_controlling(bench_ice *ice, bool controlling);

/* ufrag, pwd and "candidate:..." lines for the offer; valid as long as ice. */
const char *bench_ice_ufrag(const bench_ice *ice);
const char *bench_ice_pwd(const bench_ice *ice);
const char *bench_ice_candidate_line(const bench_ice *ice);

/* The answer's credentials and UDP candidates; starts the checks. 0 or -1. */
int bench_ice_start(bench_ice *ice, const char *ufrag, const char *pwd,
                    const sig_ice_candidate *cands, unsigned ncands);

/* One datagram on the selected pair; -1 if not connected. */
int bench_ice_send(bench_ice *ice, const uint8_t *data, size_t len);

#endif
