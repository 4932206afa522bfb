#include "sfu/core/keyframe_req.h"

#include <string.h>

void sfu_keyframe_req_init(sfu_keyframe_req *k, sfu_time min_interval)
{
    memset(k, 0, sizeof *k);
    k->min_interval = min_interval;
}

static bool may_send(const sfu_keyframe_req *k, sfu_time now)
{
    return !k->sent_once || now - k->last_sent_at >= k->min_interval;
}

static void mark_sent(sfu_keyframe_req *k, sfu_time now)
{
    k->sent_once = true;
    k->pending = false;
    k->last_sent_at = now;
    k->sent++;
}

bool sfu_keyframe_req_want(sfu_keyframe_req *k, sfu_time now)
{
    k->requested++;
    if (may_send(k, now)) {
        mark_sent(k, now);
        return true;
    }
    k->pending = true;
    return false;
}

bool sfu_keyframe_req_handle_timeout(sfu_keyframe_req *k, sfu_time now)
{
    if (!k->pending || !may_send(k, now))
        return false;
    mark_sent(k, now);
    return true;
}

sfu_time sfu_keyframe_req_poll_timeout(const sfu_keyframe_req *k)
{
    return k->pending ? k->last_sent_at + k->min_interval : SFU_TIME_NEVER;
}

void sfu_keyframe_req_keyframe_received(sfu_keyframe_req *k) { k->pending = false; }

void sfu_keyframe_req_path_changed(sfu_keyframe_req *k) { k->sent_once = false; }

uint8_t sfu_keyframe_req_fir_seq(sfu_keyframe_req *k) { return k->fir_seq++; }
