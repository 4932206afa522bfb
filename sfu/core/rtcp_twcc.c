#include "sfu/core/rtcp_twcc.h"

#include <string.h>

/* Packet status symbols (draft-holmer-rmcat-transport-wide-cc-extensions-01
 * 3.1.1). */
enum { SYM_NOT_RECEIVED = 0, SYM_SMALL = 1, SYM_LARGE = 2, SYM_RESERVED = 3 };

#define RLE_MAX 0x1fff          /* 13-bit run length */
#define VEC1_SYMBOLS 14
#define VEC2_SYMBOLS 7
#define MAX_PACKET_BYTES (65536 * 4) /* the 16-bit length field, in words */

/* ---- parsing ---- */

/* Walks the status symbols chunk by chunk, checking every chunk fits. */
typedef struct sym_walk {
    const uint8_t *b;
    size_t n;
    size_t pos;                 /* next chunk */
    uint16_t chunk;
    uint16_t chunk_len;         /* symbols in the current chunk */
    uint16_t chunk_idx;         /* next symbol in it */
} sym_walk;

static uint8_t chunk_symbol(uint16_t chunk, uint16_t i)
{
    if (!(chunk & 0x8000))
        return (chunk >> 13) & 3;                 /* 3.1.3 run length */
    if (!(chunk & 0x4000))
        return (chunk >> (13 - i)) & 1;           /* 3.1.4 one-bit vector */
    return (chunk >> (12 - 2 * i)) & 3;           /* 3.1.4 two-bit vector */
}

static int walk_next(sym_walk *w, uint8_t *sym)
{
    while (w->chunk_idx == w->chunk_len) {
        if (w->n - w->pos < 2)
            return -SFU_EMALFORMED;
        w->chunk = sfu_rd16(w->b + w->pos);
        w->pos += 2;
        w->chunk_idx = 0;
        if (!(w->chunk & 0x8000))
            w->chunk_len = w->chunk & RLE_MAX;
        else
            w->chunk_len = (w->chunk & 0x4000) ? VEC2_SYMBOLS : VEC1_SYMBOLS;
    }
    *sym = chunk_symbol(w->chunk, w->chunk_idx++);
    return *sym == SYM_RESERVED ? -SFU_EMALFORMED : 0;
}

static int32_t read_delta(const uint8_t *d, uint8_t sym)
{
    return sym == SYM_SMALL ? d[0] : (int16_t)sfu_rd16(d);
}

int sfu_twcc_parse(const sfu_rtcp_common *c, sfu_twcc_feedback *fb, sfu_twcc_packet *pkts,
                   size_t cap)
{
    if (c->pt != SFU_RTCP_RTPFB || c->count != SFU_RTCP_FMT_TWCC)
        return -SFU_EINVAL;
    const uint8_t *b = c->body;
    if (c->body_len < 16)
        return -SFU_EMALFORMED;
    fb->sender_ssrc = sfu_rd32(b);
    fb->media_ssrc = sfu_rd32(b + 4);
    fb->base_seq16 = sfu_rd16(b + 8);
    fb->status_count = sfu_rd16(b + 10);
    fb->reference_time = sfu_rd24(b + 12);
    fb->fb_count = b[15];
    if (fb->status_count == 0)
        return -SFU_EMALFORMED;

    /* First pass: the chunks cover status_count symbols and the deltas
     * they call for fit in the body. */
    sym_walk w = { .b = b, .n = c->body_len, .pos = 16 };
    size_t delta_bytes = 0;
    uint16_t received = 0;
    for (uint32_t i = 0; i < fb->status_count; i++) {
        uint8_t sym;
        if (walk_next(&w, &sym) < 0)
            return -SFU_EMALFORMED;
        delta_bytes += sym;     /* small: 1 byte, large: 2 */
        received += sym != SYM_NOT_RECEIVED;
    }
    size_t deltas = w.pos;
    if (delta_bytes > c->body_len - deltas)
        return -SFU_EMALFORMED;
    fb->received_count = received;

    /* Second pass: fill the caller's entries. */
    sym_walk w2 = { .b = b, .n = c->body_len, .pos = 16 };
    size_t fill = cap < fb->status_count ? cap : fb->status_count;
    int64_t at = (int64_t)fb->reference_time * SFU_TWCC_REF_US;
    for (size_t i = 0; i < fill; i++) {
        uint8_t sym;
        if (walk_next(&w2, &sym) < 0)
            return -SFU_EMALFORMED; /* unreachable after the first pass */
        sfu_twcc_packet *p = &pkts[i];
        p->seq16 = (uint16_t)(fb->base_seq16 + i);
        p->received = sym != SYM_NOT_RECEIVED;
        p->delta_ticks = 0;
        if (p->received) {
            p->delta_ticks = read_delta(b + deltas, sym);
            deltas += sym;
            at += (int64_t)p->delta_ticks * SFU_TWCC_TICK_US;
        }
        p->arrival_us = at;
    }
    fb->packet_count = (uint16_t)fill;
    return 0;
}

/* ---- building ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Arrival in 250 us ticks, rounded to nearest: deltas are differences of
 * these, so rounding error never accumulates. */
static int64_t abs_ticks(sfu_time t)
{
    return floor_div(t + SFU_TWCC_TICK_US / 2, SFU_TWCC_TICK_US);
}

/* The status symbols of one packet being built, read sequentially. */
typedef struct sym_cursor {
    const sfu_twcc_arrival *arr;
    size_t m;                   /* arrivals in this packet */
    size_t j;                   /* next arrival */
    uint16_t base;
    uint32_t i;                 /* status index from base */
    uint32_t span;              /* status count */
    int64_t ref_ticks;          /* reference time in ticks */
} sym_cursor;

static int64_t arrival_delta(const sym_cursor *c, size_t j)
{
    int64_t prev = j == 0 ? c->ref_ticks : abs_ticks(c->arr[j - 1].arrival);
    return abs_ticks(c->arr[j].arrival) - prev;
}

static uint8_t delta_symbol(int64_t d)
{
    if (d >= 0 && d <= 255)
        return SYM_SMALL;
    return (d >= INT16_MIN && d <= INT16_MAX) ? SYM_LARGE : SYM_RESERVED;
}

static uint32_t offset_of(const sym_cursor *c, size_t j)
{
    return (uint16_t)(c->arr[j].seq16 - c->base);
}

static uint8_t cur_peek(const sym_cursor *c)
{
    if (c->j < c->m && offset_of(c, c->j) == c->i)
        return delta_symbol(arrival_delta(c, c->j));
    return SYM_NOT_RECEIVED;
}

/* Advances by up to `k` symbols, skipping runs of losses at once; returns
 * how many it advanced (fewer only for a run of losses capped by k). */
static uint32_t cur_skip(sym_cursor *c, uint32_t k)
{
    if (c->j < c->m && offset_of(c, c->j) == c->i) {
        c->j++;
        c->i++;
        return 1;
    }
    uint32_t next = c->j < c->m ? offset_of(c, c->j) : c->span;
    uint32_t step = next - c->i < k ? next - c->i : k;
    c->i += step;
    return step;
}

/* Length of the run of `sym` at the cursor, at most `max`. */
static uint32_t run_len(sym_cursor c, uint8_t sym, uint32_t max)
{
    uint32_t n = 0;
    while (n < max && c.i < c.span && cur_peek(&c) == sym)
        n += cur_skip(&c, max - n);
    return n;
}

static bool vec1_fits(sym_cursor c, uint32_t k)
{
    for (uint32_t n = 0; n < k; n++) {
        if (cur_peek(&c) == SYM_LARGE)
            return false;
        cur_skip(&c, 1);
    }
    return true;
}

/* The next chunk, chosen greedily: a run-length chunk for long runs or the
 * tail, else a one-bit vector when no large delta is near, else a two-bit
 * vector. Advances the cursor past the symbols it covers. */
static uint16_t next_chunk(sym_cursor *c)
{
    uint32_t rem = c->span - c->i;
    uint8_t sym = cur_peek(c);
    uint32_t run = run_len(*c, sym, RLE_MAX);
    uint32_t k1 = rem < VEC1_SYMBOLS ? rem : VEC1_SYMBOLS;
    if (run >= VEC1_SYMBOLS || run == rem || (run >= VEC2_SYMBOLS && !vec1_fits(*c, k1))) {
        for (uint32_t n = 0; n < run;)
            n += cur_skip(c, run - n);
        return (uint16_t)(sym << 13 | run);
    }
    uint16_t chunk;
    if (vec1_fits(*c, k1)) {
        chunk = 0x8000;
        for (uint32_t n = 0; n < k1; n++) {
            chunk |= (uint16_t)(cur_peek(c) << (13 - n));
            cur_skip(c, 1);
        }
        return chunk;
    }
    uint32_t k2 = rem < VEC2_SYMBOLS ? rem : VEC2_SYMBOLS;
    chunk = 0xc000;
    for (uint32_t n = 0; n < k2; n++) {
        chunk |= (uint16_t)(cur_peek(c) << (12 - 2 * n));
        cur_skip(c, 1);
    }
    return chunk;
}

static void cursor_init(sym_cursor *c, const sfu_twcc_build_args *args,
                        const sfu_twcc_arrival *arr, size_t m)
{
    c->arr = arr;
    c->m = m;
    c->j = 0;
    c->i = 0;
    c->base = args->base_seq16;
    c->span = (uint32_t)(uint16_t)(arr[m - 1].seq16 - args->base_seq16) + 1;
    c->ref_ticks = floor_div(arr[0].arrival, SFU_TWCC_REF_US) * (SFU_TWCC_REF_US / SFU_TWCC_TICK_US);
}

/* Bytes a packet covering arr[0..m) takes, padding included. */
static size_t packet_size(const sfu_twcc_build_args *args, const sfu_twcc_arrival *arr, size_t m)
{
    sym_cursor c;
    cursor_init(&c, args, arr, m);
    size_t len = SFU_TWCC_HEADER_LEN;
    while (c.i < c.span) {
        next_chunk(&c);
        len += 2;
    }
    for (size_t j = 0; j < m; j++)
        len += delta_symbol(arrival_delta(&c, j));
    return (len + 3) & ~(size_t)3;
}

/* How many arrivals one packet may cover at most: sorted input, a status
 * count that fits 16 bits, deltas that fit 16 bits. -SFU_EINVAL if unsorted. */
static int max_prefix(const sfu_twcc_build_args *args, const sfu_twcc_arrival *arr, size_t n,
                      size_t *m)
{
    if ((uint16_t)(arr[0].seq16 - args->base_seq16) >= 0x8000)
        return -SFU_EINVAL;
    *m = 0;
    for (size_t j = 0; j < n; j++) {
        if (j > 0) {
            uint16_t d = (uint16_t)(arr[j].seq16 - arr[j - 1].seq16);
            if (d == 0 || d >= 0x8000)
                return -SFU_EINVAL;
        }
        if (*m != j)
            continue; /* keep checking the order of the rest */
        uint32_t span = (uint32_t)(arr[j].seq16 - args->base_seq16) & 0xffff;
        bool wrapped = j > 0 && span < (uint32_t)(uint16_t)(arr[j - 1].seq16 - args->base_seq16);
        int64_t d = j == 0 ? 0 : abs_ticks(arr[j].arrival) - abs_ticks(arr[j - 1].arrival);
        if (!wrapped && span + 1 <= 0xffff && delta_symbol(d) != SYM_RESERVED)
            *m = j + 1;
    }
    return 0;
}

static void write_packet(uint8_t *dst, size_t len, const sfu_twcc_build_args *args,
                         const sfu_twcc_arrival *arr, size_t m)
{
    sym_cursor c;
    cursor_init(&c, args, arr, m);
    sfu_rtcp_write_header(dst, SFU_RTCP_FMT_TWCC, SFU_RTCP_RTPFB, len);
    sfu_wr32(dst + 4, args->sender_ssrc);
    sfu_wr32(dst + 8, args->media_ssrc);
    sfu_wr16(dst + 12, args->base_seq16);
    sfu_wr16(dst + 14, (uint16_t)c.span);
    sfu_wr24(dst + 16, (uint32_t)(c.ref_ticks / (SFU_TWCC_REF_US / SFU_TWCC_TICK_US)) & 0xffffff);
    dst[19] = args->fb_count;
    size_t pos = SFU_TWCC_HEADER_LEN;
    while (c.i < c.span) {
        sfu_wr16(dst + pos, next_chunk(&c));
        pos += 2;
    }
    for (size_t j = 0; j < m; j++) {
        int64_t d = arrival_delta(&c, j);
        if (delta_symbol(d) == SYM_SMALL) {
            dst[pos++] = (uint8_t)d;
        } else {
            sfu_wr16(dst + pos, (uint16_t)(int16_t)d);
            pos += 2;
        }
    }
    memset(dst + pos, 0, len - pos); /* zero padding to 32 bits */
}

int sfu_twcc_build(uint8_t *dst, size_t cap, const sfu_twcc_build_args *args,
                   const sfu_twcc_arrival *arr, size_t n, size_t *used)
{
    size_t m_max;
    if (n == 0 || !arr)
        return -SFU_EINVAL;
    int r = max_prefix(args, arr, n, &m_max);
    if (r < 0)
        return r;
    if (cap > MAX_PACKET_BYTES)
        cap = MAX_PACKET_BYTES;
    /* The largest prefix that fits: size grows with the prefix, so a binary
     * search finds it, and each candidate's exact size is checked. */
    size_t lo = 0, hi = m_max;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (packet_size(args, arr, mid) <= cap)
            lo = mid;
        else
            hi = mid - 1;
    }
    if (lo == 0)
        return -SFU_ENOSPC;
    size_t len = packet_size(args, arr, lo);
    write_packet(dst, len, args, arr, lo);
    *used = lo;
    return (int)len;
}

int sfu_twcc_build_all(uint8_t *dst, size_t cap, size_t budget, sfu_twcc_build_args *args,
                       const sfu_twcc_arrival *arr, size_t n)
{
    if (n == 0 || !arr)
        return -SFU_EINVAL;
    sfu_twcc_build_args a = *args;
    size_t off = 0;
    while (n > 0) {
        size_t used, room = cap - off < budget ? cap - off : budget;
        int r = sfu_twcc_build(dst + off, room, &a, arr, n, &used);
        if (r < 0)
            return r;
        off += (size_t)r;
        a.fb_count++;
        a.base_seq16 = (uint16_t)(arr[used - 1].seq16 + 1);
        arr += used;
        n -= used;
    }
    if (off > INT32_MAX)
        return -SFU_ENOSPC;
    *args = a;
    return (int)off;
}
