/* A bandwidth probe's bookkeeping and result (see probe_cluster.h). */
#include "sfu/core/probe_cluster.h"

#include <string.h>

#define MIN_RECEIVED 4
#define SATURATED 0.9
#define LOSS_MARGIN 0.05
#define READY_SHARE 0.9
#define OVERFLOW_LOST 8

void sfu_probe_cluster_start(sfu_probe_cluster *c, uint32_t id, uint64_t rate_bps, size_t bytes,
                             sfu_time now)
{
    *c = (sfu_probe_cluster){
        .state = SFU_PROBE_SENDING, .id = id, .rate_bps = rate_bps,
        .bytes_target = bytes, .started_at = now,
    };
}

void sfu_probe_cluster_handle_timeout(sfu_probe_cluster *c, sfu_time now)
{
    sfu_time timeout = c->long_probe ? SFU_PROBE_LONG_SEND_TIMEOUT : SFU_PROBE_SEND_TIMEOUT;
    if (c->state == SFU_PROBE_SENDING && now - c->started_at > timeout) {
        c->state = SFU_PROBE_WAITING;
        c->ended_at = now;
    }
}

uint64_t sfu_probe_cluster_due(const sfu_probe_cluster *c, sfu_time at)
{
    if (c->state != SFU_PROBE_SENDING || at <= c->started_at)
        return 0;
    uint64_t want = c->rate_bps * (uint64_t)(at - c->started_at) / 8 / SFU_SEC(1);
    if (want > c->bytes_target)
        want = c->bytes_target;
    return want > c->bytes_sent ? want - c->bytes_sent : 0;
}

uint32_t sfu_probe_cluster_on_sent(sfu_probe_cluster *c, size_t size_bytes, sfu_time now)
{
    sfu_probe_cluster_handle_timeout(c, now);
    if (c->state != SFU_PROBE_SENDING)
        return 0;
    if (c->packets_sent == 0)
        c->first_send = now;
    c->last_send = now;
    c->packets_sent++;
    c->bytes_sent += size_bytes;
    c->last_size = (uint32_t)size_bytes;
    if (c->bytes_sent >= c->bytes_target) {
        c->state = SFU_PROBE_WAITING;
        c->ended_at = now;
    }
    return c->id;
}

void sfu_probe_cluster_on_copy(sfu_probe_cluster *c, uint32_t probe_id, size_t size_bytes)
{
    if (c->state == SFU_PROBE_IDLE || probe_id == 0 || probe_id != c->id)
        return;
    c->bytes_sent += size_bytes;
    c->last_size += (uint32_t)size_bytes;   /* copies follow their packet at once: the last one's */
}

void sfu_probe_cluster_on_report(sfu_probe_cluster *c, const sfu_sent_packet *e, bool received,
                                 sfu_time arrival)
{
    if (c->state == SFU_PROBE_IDLE || e->probe_id == 0 || e->probe_id != c->id)
        return;
    c->reported++;
    if (!received || c->tail_reported) {
        c->tail_reported++;
        c->tail_lost += !received;
    }
    if (!received)
        return;
    if (c->received == 0 || arrival < c->first_arrival) {
        c->first_arrival = arrival;
        c->first_arrival_size = e->size_bytes;
    }
    if (c->received == 0 || arrival > c->last_arrival)
        c->last_arrival = arrival;
    if (c->received == 0 || e->sent_at < c->rx_first_send)
        c->rx_first_send = e->sent_at;
    if (c->received == 0 || e->sent_at > c->rx_last_send)
        c->rx_last_send = e->sent_at;
    c->received++;
    c->bytes_received += e->size_bytes;
}

bool sfu_probe_cluster_failing(const sfu_probe_cluster *c, double inherent_loss)
{
    if (c->state != SFU_PROBE_SENDING || c->reported == 0)
        return false;
    uint32_t lost = c->reported - c->received;
    return lost >= 2 && (double)lost / c->reported > inherent_loss + LOSS_MARGIN;
}

bool sfu_probe_cluster_overflowing(const sfu_probe_cluster *c)
{
    return c->state == SFU_PROBE_SENDING && c->tail_lost >= OVERFLOW_LOST && 2 * c->tail_lost > c->tail_reported;
}

void sfu_probe_cluster_stop(sfu_probe_cluster *c, sfu_time now)
{
    if (c->state != SFU_PROBE_SENDING)
        return;
    c->state = SFU_PROBE_WAITING;
    c->ended_at = now;
}

bool sfu_probe_cluster_ready(const sfu_probe_cluster *c, sfu_time now)
{
    if (c->state != SFU_PROBE_WAITING)
        return false;
    if (c->whole)
        return c->reported >= c->packets_sent || now - c->ended_at >= SFU_PROBE_RESULT_TIMEOUT;
    return (double)c->reported >= READY_SHARE * c->packets_sent ||
           now - c->ended_at >= SFU_PROBE_RESULT_TIMEOUT;
}

static uint64_t result(const sfu_probe_cluster *c, double inherent_loss, bool *saturated)
{
    if (c->received < MIN_RECEIVED || c->packets_sent < 2)
        return 0;
    sfu_time send_span = c->last_send - c->first_send;
    sfu_time recv_span = c->last_arrival - c->first_arrival;
    if (send_span < SFU_MS(1))
        send_span = SFU_MS(1);
    if (recv_span < SFU_MS(1))
        return 0;
    uint64_t send = (c->bytes_sent - c->last_size) * 8 * 1000000 / (uint64_t)send_span;
    uint64_t recv = (c->bytes_received - c->first_arrival_size) * 8 * 1000000 / (uint64_t)recv_span;
    /* The path's random loss took its share before the receiver: what it
     * carried was that much more. */
    recv = (uint64_t)((double)recv / (1 - inherent_loss));
    sfu_time rx_send_span = c->rx_last_send - c->rx_first_send;
    *saturated = (double)rx_send_span < SATURATED * (double)recv_span;
    uint32_t of = c->long_probe ? c->reported : c->packets_sent;
    double lost = 1 - (double)c->received / of;
    if (lost > inherent_loss + LOSS_MARGIN && of - c->received >= 2)
        return 0;
    return send < recv ? send : recv;
}

uint64_t sfu_probe_cluster_finish(sfu_probe_cluster *c, double inherent_loss, bool *saturated)
{
    *saturated = false;
    uint64_t r = result(c, inherent_loss, saturated);
    memset(c, 0, sizeof *c);
    return r;
}
