/* The room driver: one room pinned to a worker, its forwarding core and its
 * one timer. It drains what the core asked for after every input (packets
 * to the peers' egress, expired legs to their failure path, speaker changes
 * to the owner) and re-arms the timer from the core's earliest deadline,
 * once per wake-up (a worker task). Worker thread only. */
#ifndef SFU_NET_ROOM_DRIVER_H
#define SFU_NET_ROOM_DRIVER_H

#include "sfu/core/room.h"

typedef struct sfu_host sfu_host;
typedef struct sfu_room_driver sfu_room_driver;

/* NULL when the core cannot be made. `key` is copied. */
sfu_room_driver *sfu_room_driver_new(sfu_host *host, const char *key);
/* Adds the room's counters to the host's totals, then frees. */
void sfu_room_driver_free(sfu_room_driver *room);

sfu_room *sfu_room_driver_core(sfu_room_driver *room);
const char *sfu_room_driver_key(const sfu_room_driver *room);
/* Peers that hold the room; the host frees it when this drops to 0. */
unsigned *sfu_room_driver_refs(sfu_room_driver *room);

/* Adds the core's counters to `sum`. */
void sfu_room_driver_stats_add(const sfu_room_driver *room, sfu_room_stats *sum);

/* Hands the worker's sfu_out (filled by a call into this room's core) to
 * the peers, empties it, and re-arms the timer. */
void sfu_room_driver_drain(sfu_room_driver *room);
/* Re-arms the timer after a call that made no outputs (at once: the core's
 * poll costs the legs touched since the last one). */
void sfu_room_driver_rearm(sfu_room_driver *room);

#endif
