#include "sfu/core/out.h"

#include <stdlib.h>
#include <string.h>

int sfu_out_init(sfu_out *out, uint32_t capacity)
{
    memset(out, 0, sizeof *out);
    out->items = calloc(capacity, sizeof *out->items);
    if (!out->items)
        return -SFU_ENOMEM;
    out->capacity = capacity;
    return 0;
}

void sfu_out_deinit(sfu_out *out)
{
    if (!out->items)
        return;
    sfu_out_reset(out);
    free(out->items);
    out->items = NULL;
}

void sfu_out_reset(sfu_out *out)
{
    for (uint32_t i = 0; i < out->count; i++) {
        sfu_buf_unref(out->items[i].buf);
        out->items[i].buf = NULL;
    }
    out->count = 0;
}

sfu_out_item *sfu_out_push(sfu_out *out, sfu_out_type type, sfu_leg_id leg)
{
    if (out->count == out->capacity) {
        out->dropped++;
        return NULL;
    }
    sfu_out_item *item = &out->items[out->count++];
    item->type = type;
    item->leg = leg;
    item->buf = NULL;
    item->body_off = 0;
    item->body_len = 0;
    item->head_len = 0;
    item->participant = 0;
    return item;
}

int sfu_out_item_flatten(const sfu_out_item *item, uint8_t *dst, size_t cap)
{
    size_t total = (size_t)item->head_len + item->body_len;
    if (total > cap)
        return -SFU_ENOSPC;
    memcpy(dst, item->head, item->head_len);
    if (item->body_len)
        memcpy(dst + item->head_len, item->buf->data + item->body_off, item->body_len);
    return (int)total;
}
