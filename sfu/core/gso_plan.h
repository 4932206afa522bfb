/* UDP GSO trains (Linux UDP_SEGMENT): which datagrams of one socket's send
 * run may go out as one message. The kernel cuts a GSO message into
 * segments of `seg` bytes, the last one possibly shorter, all to one
 * destination; so a train is a stretch of consecutive datagrams to the same
 * destination, all of its first one's size except the last, which may be
 * shorter. Everything else goes out as single datagrams, in order. A
 * viewer's burst (a keyframe's packets of one wake-up) is such a stretch:
 * equal-sized RTP packets under the same header. Pure: no socket here. */
#ifndef SFU_CORE_GSO_PLAN_H
#define SFU_CORE_GSO_PLAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct sfu_gso_msg {
    uint32_t first;             /* index of its first datagram */
    uint32_t count;             /* datagrams in it; 1: a plain datagram */
    uint16_t seg;               /* segment size (count > 1), else the datagram's length */
} sfu_gso_msg;

/* Plans n datagrams of lengths len[] to destinations dest[] (equal ids:
 * the same destination) into messages out[] (room for n), each train of at
 * most max_segs datagrams and max_bytes bytes; trains of min_segs or more
 * only (shorter stretches go as plain datagrams: a train of two saves
 * little). Returns the number of messages. */
size_t sfu_gso_plan(const uint16_t *len, const uint32_t *dest, size_t n, uint32_t min_segs,
                    uint32_t max_segs, uint32_t max_bytes, sfu_gso_msg *out);

#endif
