/* Types and error codes shared by every layer. The core never reads a clock:
 * callers pass `now`, microseconds of a monotonic clock. */
#ifndef SFU_CORE_COMMON_H
#define SFU_CORE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t sfu_time;       /* microseconds, monotonic */
#define SFU_TIME_NEVER INT64_MAX
#define SFU_MS(ms) ((sfu_time)(ms) * 1000)
#define SFU_SEC(s) ((sfu_time)(s) * 1000000)

typedef uint32_t sfu_leg_id;    /* one PeerConnection's media side; 0 is "none" */

/* Functions return 0 or one of these, negated. */
enum sfu_error {
    SFU_EMALFORMED = 1, /* bytes from the network that do not parse */
    SFU_ENOMEM,         /* allocation failed, or a pool is empty */
    SFU_ENOSPC,         /* a caller's buffer or table is full */
    SFU_ENOTFOUND,      /* unknown id, ssrc, leg */
    SFU_EUNSUPPORTED,   /* well formed but not something we handle */
    SFU_EINVAL,         /* a caller passed something impossible */
    SFU_ELIMIT,         /* a configured limit would be exceeded */
    SFU_ESTATE,         /* not allowed in the current state */
};

const char *sfu_strerror(int err);

/* A table that grows as it fills: `arr`, *n elements of `size` bytes,
 * reallocated twice as long (at most `cap`), the new elements zeroed; *n
 * updated. Returns the table, or NULL when already at cap or out of memory
 * (then `arr` and *n are unchanged). */
void *sfu_grow_zeroed(void *arr, uint32_t *n, uint32_t cap, size_t size);

#define SFU_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static inline uint16_t sfu_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t sfu_rd24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static inline uint32_t sfu_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void sfu_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void sfu_wr24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16); p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)v;
}
static inline void sfu_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif
