#include "bench/peer_internal.h"

#include "sfu/core/demux.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

sfu_time bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sfu_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void bench_peer_fail(bench_peer *p, const char *why)
{
    if (p->failed)
        return;
    p->failed = true;
    g_strlcpy(p->failure, why, sizeof p->failure);
}

static void flush_dtls(bench_peer *p)
{
    const uint8_t *d;
    size_t len;
    while ((d = sfu_dtls_poll_output(p->dtls, &len)))
        bench_ice_send(p->ice, d, len);
    p->dtls_deadline = sfu_dtls_poll_timeout(p->dtls, bench_now());
}

static void dtls_progress(bench_peer *p)
{
    flush_dtls(p);
    sfu_dtls_state st = sfu_dtls_get_state(p->dtls);
    if (st == SFU_DTLS_FAILED || st == SFU_DTLS_CLOSED) {
        char why[128];
        snprintf(why, sizeof why, "DTLS %s: %s", sfu_dtls_state_name(st), sfu_dtls_failure(p->dtls));
        bench_peer_fail(p, why);
        return;
    }
    if (st != SFU_DTLS_CONNECTED || p->srtp)
        return;
    sfu_srtp_keys keys;
    if (sfu_dtls_get_srtp_keys(p->dtls, &keys) != 0 || !(p->srtp = sfu_srtp_session_new(&keys))) {
        bench_peer_fail(p, "SRTP: cannot use the DTLS keys");
        return;
    }
    p->profile = keys.profile;
    p->keys_at = bench_now();
    p->dtls_deadline = SFU_TIME_NEVER;
    if (p->role == BENCH_PUBLISHER)
        p->joined_at = bench_now();
}

static void handle_rtcp(bench_peer *p, uint8_t *pkt, size_t len)
{
    if (!p->srtp || sfu_srtp_session_unprotect_rtcp(p->srtp, pkt, &len) != 0) {
        p->n.rx_errors++;
        return;
    }
    p->n.rx_rtcp++;
    if (p->role != BENCH_VIEWER)
        bench_publisher_handle_rtcp(p, pkt, len);
}

static void on_data(void *user, uint8_t *data, size_t len, sfu_time arrived_at)
{
    bench_peer *p = user;
    sfu_time now = bench_now();
    switch (sfu_demux_classify(data, len)) {
    case SFU_DEMUX_DTLS:
        if (p->dtls && sfu_dtls_handle_input(p->dtls, data, len) == 0)
            dtls_progress(p);
        break;
    case SFU_DEMUX_RTP:
        if (!p->srtp || sfu_srtp_session_unprotect_rtp(p->srtp, data, &len) != 0)
            p->n.rx_errors++;
        else if (p->role != BENCH_PUBLISHER)
            bench_receiver_handle_rtp(p, data, len, now, arrived_at);
        break;
    case SFU_DEMUX_RTCP:
        handle_rtcp(p, data, len);
        break;
    default:
        break;
    }
}

static void on_connected(void *user)
{
    bench_peer *p = user;
    p->ice_up = true;
    if (p->ice_at < 0)
        p->ice_at = bench_now();
    if (p->dtls && sfu_dtls_get_role(p->dtls) == SFU_DTLS_CLIENT && sfu_dtls_start(p->dtls) == 0)
        dtls_progress(p);
}

static void on_failed(void *user) { bench_peer_fail(user, "ICE failed"); }

bench_peer *bench_peer_new(const bench_env *env, bench_role role, bool decode,
                           bench_stamps *stamps, char *err, size_t errlen)
{
    bench_peer *p = g_new0(bench_peer, 1);
    p->env = env;
    p->role = role;
    p->stamps = stamps;
    p->joined_at = p->answer_at = p->ice_at = p->keys_at = -1;
    p->dtls_deadline = SFU_TIME_NEVER;
    static const bench_ice_callbacks cb = { on_data, on_connected, on_failed };
    p->ice = bench_ice_new(env->ctx, &cb, p, err, errlen);
    if (!p->ice)
        goto err;
    int rc = role == BENCH_VIEWER ? 0 : bench_publisher_init(p);
    if (rc == 0 && role != BENCH_PUBLISHER)
        rc = bench_receiver_init(p, decode);
    if (rc != 0) {
        snprintf(err, errlen, "cannot set up the %s", role == BENCH_PUBLISHER ? "sender" : "receiver");
        goto err;
    }
    return p;
err:
    bench_peer_free(p);
    return NULL;
}

void bench_peer_free(bench_peer *p)
{
    if (!p)
        return;
    bench_ice_free(p->ice);     /* first: no callback may reach a half-freed peer */
    if (p->role != BENCH_VIEWER)
        bench_publisher_deinit(p);
    if (p->role != BENCH_PUBLISHER)
        bench_receiver_deinit(p);
    sfu_srtp_session_free(p->srtp);
    sfu_dtls_free(p->dtls);
    g_free(p);
}

char *bench_peer_offer(const bench_peer *p)
{
    bench_offer o = {
        .publisher = p->role != BENCH_VIEWER, .audio = p->env->audio, .video = p->env->video,
        .simulcast = p->env->simulcast && p->role == BENCH_PUBLISHER,
        .no_twcc = p->role == BENCH_VIEWER && !p->env->viewer_twcc,
        .audio_level = p->env->audio_level,
        .ufrag = bench_ice_ufrag(p->ice), .pwd = bench_ice_pwd(p->ice),
        .candidate = bench_ice_candidate_line(p->ice), .fingerprint = p->env->fingerprint,
        .audio_ssrc = p->pub.audio.ssrc, .video_ssrc = p->pub.video.ssrc,
    };
    return bench_offer_write(&o);
}

char *bench_peer_answer(bench_peer *p, const char *offer, size_t len, bench_answer *remote,
                        char *err, size_t errlen)
{
    if (bench_answer_parse(offer, len, remote, err, errlen) != 0)
        return NULL;
    bench_ice_set_controlling(p->ice, false);
    bench_offer o = {
        .audio = p->env->audio, .video = p->env->video,
        .ufrag = bench_ice_ufrag(p->ice), .pwd = bench_ice_pwd(p->ice),
        .candidate = bench_ice_candidate_line(p->ice), .fingerprint = p->env->fingerprint,
    };
    return bench_answer_write(&o, offer, len, err, errlen);
}

char *bench_peer_reanswer(bench_peer *p, const char *offer, size_t len, char *err,
                          size_t errlen)
{
    bench_offer o = {
        .publisher = true, .mirror = true, .audio = p->env->audio, .video = p->env->video,
        .audio_level = p->env->audio_level,
        .ufrag = bench_ice_ufrag(p->ice), .pwd = bench_ice_pwd(p->ice),
        .candidate = bench_ice_candidate_line(p->ice), .fingerprint = p->env->fingerprint,
        .audio_ssrc = p->pub.audio.ssrc, .video_ssrc = p->pub.video.ssrc,
    };
    return bench_answer_write(&o, offer, len, err, errlen);
}

int bench_peer_set_source(bench_peer *p, uint32_t ssrc, bench_stamps *stamps)
{
    bench_receiver *rx = &p->rx;
    for (unsigned i = 0; i < rx->nsources; i++)
        if (rx->sources[i].ssrc == ssrc) {
            rx->sources[i].stamps = stamps;
            return 0;
        }
    if (rx->nsources == BENCH_RX_STREAMS)
        return -1;
    rx->sources[rx->nsources++] = (bench_rx_source){ ssrc, stamps };
    return 0;
}

int bench_peer_start(bench_peer *p, const bench_answer *a, sfu_time post_at)
{
    p->answer = *a;
    p->post_at = post_at;
    p->answer_at = bench_now();
    /* RFC 8842 5.3: the SFU answers passive to actpass, so we are the client. */
    sfu_dtls_role role = a->setup == SIG_SDP_SETUP_ACTIVE ? SFU_DTLS_SERVER : SFU_DTLS_CLIENT;
    p->dtls = sfu_dtls_new(p->env->dtls, role, a->fingerprint.alg, a->fingerprint.bytes,
                           a->fingerprint.len);
    if (!p->dtls) {
        bench_peer_fail(p, "DTLS: unusable fingerprint in the answer");
        return -1;
    }
    if (bench_ice_start(p->ice, a->ufrag, a->pwd, a->cands, a->ncands) != 0) {
        bench_peer_fail(p, "ICE: no usable candidate in the answer");
        return -1;
    }
    return 0;
}

void bench_peer_tick(bench_peer *p, sfu_time now)
{
    if (p->failed)
        return;
    if (p->dtls && now >= p->dtls_deadline) {
        if (sfu_dtls_handle_timeout(p->dtls) == 0)
            flush_dtls(p);
        else
            dtls_progress(p);
    }
    if (!p->srtp)
        return;
    if (p->role != BENCH_VIEWER)
        bench_publisher_tick(p, now);
    if (p->role != BENCH_PUBLISHER)
        bench_receiver_tick(p, now);
}

static int send_protected(bench_peer *p, uint8_t *buf, size_t len, bool rtcp)
{
    if (!p->srtp)
        return -1;
    int rc = rtcp ? sfu_srtp_session_protect_rtcp(p->srtp, buf, &len)
                  : sfu_srtp_session_protect_rtp(p->srtp, buf, &len);
    if (rc != 0 || bench_ice_send(p->ice, buf, len) < 0)
        return -1;
    p->n.tx_packets++;
    p->n.tx_bytes += len;
    return 0;
}

int bench_peer_send_rtp(bench_peer *p, uint8_t *buf, size_t len)
{
    return send_protected(p, buf, len, false);
}

int bench_peer_send_rtcp(bench_peer *p, uint8_t *buf, size_t len)
{
    return send_protected(p, buf, len, true);
}

void bench_peer_close(bench_peer *p)
{
    if (p->dtls && sfu_dtls_close(p->dtls) == 0)
        flush_dtls(p);
    bench_peer_fail(p, "closed");
}

bool bench_peer_joined(const bench_peer *p) { return p->joined_at >= 0; }
sfu_time bench_peer_join_us(const bench_peer *p)
{
    return p->joined_at >= 0 ? p->joined_at - p->post_at : -1;
}
void bench_peer_join_phases(const bench_peer *p, sfu_time us[3])
{
    const sfu_time at[3] = { p->answer_at, p->ice_at, p->keys_at };
    for (int i = 0; i < 3; i++)
        us[i] = at[i] >= 0 ? at[i] - p->post_at : -1;
}
bool bench_peer_failed(const bench_peer *p) { return p->failed; }
const char *bench_peer_failure(const bench_peer *p) { return p->failure; }
void bench_peer_counters(const bench_peer *p, bench_counters *c) { *c = p->n; }
sfu_srtp_profile bench_peer_srtp_profile(const bench_peer *p) { return p->profile; }
