/* Ring of sent packets keyed by transport-wide sequence number. */
#include "sfu/core/send_history.h"

#include <stdlib.h>
#include <string.h>

static bool valid_len(uint32_t len)
{
    return len >= SFU_SEND_HISTORY_MIN && len <= SFU_SEND_HISTORY_LEN && (len & (len - 1)) == 0;
}

int sfu_send_history_init(sfu_send_history *h, uint32_t len)
{
    memset(h, 0, sizeof *h);
    if (!valid_len(len))
        return -SFU_EINVAL;
    h->ring = calloc(len, sizeof *h->ring);
    if (!h->ring)
        return -SFU_ENOMEM;
    h->mask = len - 1;
    return 0;
}

void sfu_send_history_deinit(sfu_send_history *h)
{
    free(h->ring);
    memset(h, 0, sizeof *h);
}

void sfu_send_history_add(sfu_send_history *h, uint16_t seq16, size_t size_bytes, sfu_time now,
                          uint32_t probe_id)
{
    sfu_sent_packet *e = &h->ring[seq16 & h->mask];
    if (e->state == SFU_SENT_UNREPORTED && e->seq16 != seq16)
        h->overwritten_unreported++;
    *e = (sfu_sent_packet){
        .sent_at = now,
        .probe_id = probe_id,
        .seq16 = seq16,
        .size_bytes = size_bytes > UINT16_MAX ? UINT16_MAX : (uint16_t)size_bytes,
        .state = SFU_SENT_UNREPORTED,
    };
    h->any = true;
    h->next_seq16 = (uint16_t)(seq16 + 1);
}

sfu_sent_packet *sfu_send_history_get(sfu_send_history *h, uint16_t seq16)
{
    sfu_sent_packet *e = &h->ring[seq16 & h->mask];
    if (e->state == SFU_SENT_NONE || e->seq16 != seq16)
        return NULL;
    return e;
}
