#include "sfu/core/seq.h"

#include <string.h>

void sfu_seq_init(sfu_seq *s, uint16_t first_seq16, uint32_t first_ts, uint32_t clock_rate)
{
    memset(s, 0, sizeof *s);
    s->first_out = first_seq16 & 0x7fff;
    s->first_ts = first_ts;
    s->clock_rate = clock_rate ? clock_rate : 90000;
}

static const sfu_seq_entry *newest(const sfu_seq *s) { return &s->hist[s->head]; }

static void push_entry(sfu_seq *s, uint32_t epoch, uint64_t from, int64_t seq_off, uint32_t ts_off)
{
    if (s->count > 0)
        s->head = (s->head + 1) % SFU_SEQ_HISTORY;
    if (s->count < SFU_SEQ_HISTORY)
        s->count++;
    s->hist[s->head] = (sfu_seq_entry){ epoch, from, seq_off, ts_off };
}

/* The i-th entry counting back from the newest (0 = newest). */
static const sfu_seq_entry *entry_back(const sfu_seq *s, uint32_t i)
{
    return &s->hist[(s->head + SFU_SEQ_HISTORY - i) % SFU_SEQ_HISTORY];
}

/* A new source epoch continues right after the highest output, and its
 * timestamps after the last one by the wall-clock time that passed, so the
 * viewer's jitter buffer sees neither a jump nor a repeat. */
static void start_epoch(sfu_seq *s, uint32_t epoch, uint64_t src_seq, uint32_t src_ts, sfu_time now)
{
    uint64_t out;
    uint32_t out_ts;
    if (!s->started) {
        out = s->first_out;
        out_ts = s->first_ts;
    } else {
        out = s->max_out + 1;
        sfu_time gap = now > s->max_out_at ? now - s->max_out_at : 0;
        uint64_t delta = (uint64_t)gap * s->clock_rate / 1000000;
        if (delta == 0)
            delta = 1;
        out_ts = s->max_out_ts + (uint32_t)delta;
    }
    push_entry(s, epoch, src_seq, (int64_t)out - (int64_t)src_seq, out_ts - src_ts);
    s->epoch = epoch;
    s->max_src = src_seq;
    if (!s->started) {
        s->started = true;
        s->max_out = out;
        s->max_out_ts = out_ts;
        s->max_out_at = now;
    }
}

/* The newest entry of the current epoch that covers `src_seq`. */
static const sfu_seq_entry *find_src(const sfu_seq *s, uint64_t src_seq)
{
    for (uint32_t i = 0; i < s->count; i++) {
        const sfu_seq_entry *e = entry_back(s, i);
        if (e->epoch != s->epoch)
            return NULL;
        if (e->from <= src_seq)
            return e;
    }
    return NULL;
}

int sfu_seq_map(sfu_seq *s, uint32_t epoch, uint64_t src_seq, uint32_t src_ts, sfu_time now,
                uint16_t *out_seq16, uint32_t *out_ts)
{
    if (!s->started || epoch != s->epoch)
        start_epoch(s, epoch, src_seq, src_ts, now);
    const sfu_seq_entry *e = find_src(s, src_seq);
    if (!e)
        return -SFU_ENOTFOUND;
    uint64_t out = (uint64_t)((int64_t)src_seq + e->seq_off);
    uint32_t ts = src_ts + e->ts_off;
    if (src_seq > s->max_src)
        s->max_src = src_seq;
    if (out >= s->max_out) {
        s->max_out = out;
        s->max_out_ts = ts;
        s->max_out_at = now;
    }
    *out_seq16 = (uint16_t)out;
    *out_ts = ts;
    return 0;
}

void sfu_seq_drop(sfu_seq *s, uint32_t epoch, uint64_t src_seq)
{
    if (!s->started || epoch != s->epoch || src_seq <= s->max_src)
        return;
    const sfu_seq_entry *e = newest(s);
    if (e->from == src_seq) {
        /* Nothing was forwarded under this entry yet: slide it. */
        s->hist[s->head].from = src_seq + 1;
        s->hist[s->head].seq_off--;
    } else {
        push_entry(s, epoch, src_seq + 1, e->seq_off - 1, e->ts_off);
    }
    s->max_src = src_seq;
}

int sfu_seq_unmap(const sfu_seq *s, uint16_t out_seq16, uint32_t *epoch, uint64_t *src_seq,
                  uint32_t *ts_off)
{
    if (!s->started)
        return -SFU_ENOTFOUND;
    int64_t delta = (int16_t)(uint16_t)(out_seq16 - (uint16_t)s->max_out);
    if (delta > 0 || (int64_t)s->max_out + delta < (int64_t)s->first_out)
        return -SFU_ENOTFOUND;
    int64_t out = (int64_t)s->max_out + delta;
    /* Newest first: where a dropped packet's slot was reused, the newer
     * entry owns the output number. */
    for (uint32_t i = 0; i < s->count; i++) {
        const sfu_seq_entry *e = entry_back(s, i);
        if ((int64_t)e->from + e->seq_off <= out) {
            *epoch = e->epoch;
            *src_seq = (uint64_t)(out - e->seq_off);
            *ts_off = e->ts_off;
            return 0;
        }
    }
    return -SFU_ENOTFOUND;
}

uint32_t sfu_seq_ts_off(const sfu_seq *s)
{
    return s->started ? newest(s)->ts_off : 0;
}
