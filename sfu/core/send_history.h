/* The packets sent toward one viewer, by transport-wide sequence number
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01): what transport-cc
 * feedback resolves into send time, size and arrival.
 *
 * A ring of a power-of-two number of entries indexed by the 16-bit number;
 * an entry remembers its own number, so feedback about a packet the ring has
 * already overwritten (more than the ring's length ago) is told
 * apart and ignored. A number keeps its slot until 65536 further packets
 * have been sent, long after the ring has reused it, so no unwrapping is
 * needed. Each entry also remembers what feedback said about it, so an
 * entry reported twice (feedback packets may overlap) counts once.
 *
 * The ring's length is fixed at creation: SFU_SEND_HISTORY_LEN by default,
 * what a video viewer needs (the room gives an estimator only to a leg that
 * is sent video, room_bwe.c). */
#ifndef SFU_CORE_SEND_HISTORY_H
#define SFU_CORE_SEND_HISTORY_H

#include "sfu/core/common.h"

/* Powers of two. The most, for video: 0.5 s of 1200-byte packets at 20
 * Mbit/s, 5 s at 2 (feedback comes every 100 ms); 24 KiB per viewer, where
 * 4096 cost 100 KiB of RSS. The least: 5 s of one 50-packet/s audio stream,
 * 6 KiB. */
#define SFU_SEND_HISTORY_LEN 1024
#define SFU_SEND_HISTORY_MIN 256

typedef enum sfu_send_state {
    SFU_SENT_NONE = 0,          /* an empty slot */
    SFU_SENT_UNREPORTED,        /* sent, no feedback yet */
    SFU_SENT_LOST,              /* feedback said not received (may still arrive) */
    SFU_SENT_RECEIVED,          /* feedback gave its arrival time */
} sfu_send_state;

typedef struct sfu_sent_packet {
    sfu_time sent_at;
    uint32_t probe_id;          /* 0: not part of a probe cluster */
    uint16_t seq16;
    uint16_t size_bytes;
    uint8_t state;              /* sfu_send_state */
    bool copied;                /* a copy went out under the same number (counted in size_bytes) */
    uint32_t tag;               /* the caller's, 0 when added (sfu_bwe_packet_tag) */
} sfu_sent_packet;

typedef struct sfu_send_history {
    sfu_sent_packet *ring;      /* mask + 1 entries, owned */
    uint32_t mask;
    bool any;
    uint16_t next_seq16;        /* one past the newest number recorded */
    uint64_t overwritten_unreported; /* entries reused before any feedback named them */
} sfu_send_history;

/* An empty history of `len` entries (a power of two from
 * SFU_SEND_HISTORY_MIN to SFU_SEND_HISTORY_LEN): 0, -SFU_EINVAL, or
 * -SFU_ENOMEM. */
int sfu_send_history_init(sfu_send_history *h, uint32_t len);
/* Frees the ring; h may then be initialized again. */
void sfu_send_history_deinit(sfu_send_history *h);
static inline uint32_t sfu_send_history_len(const sfu_send_history *h) { return h->mask + 1; }

/* Records a packet sent at `now`. Sizes above 65535 bytes are clamped. A
 * number already present (a caller bug or a wrap with no feedback at all)
 * is simply replaced. */
void sfu_send_history_add(sfu_send_history *h, uint16_t seq16, size_t size_bytes, sfu_time now,
                          uint32_t probe_id);

/* The entry for seq16, or NULL when it was never recorded or has been
 * overwritten. The pointer stays valid until the next add. */
sfu_sent_packet *sfu_send_history_get(sfu_send_history *h, uint16_t seq16);

#endif
