/* One simulated participant: a real WebRTC peer made of the client ICE
 * agent (ice_client.h), the project's DTLS (client role, as the SFU answers
 * a=setup:passive) and SRTP, sending replayed Opus/VP8 (publisher.c) or
 * receiving, counting and timing what the SFU forwards (receiver.c).
 *
 * Every function runs on the media loop's thread (loop.h), which owns every
 * peer; the control thread reaches them only through bench_loop_call. */
#ifndef BENCH_PEER_H
#define BENCH_PEER_H

#include "bench/latency.h"
#include "bench/media.h"
#include "bench/sdp_offer.h"
#include "sfu/crypto/dtls.h"

#include <glib.h>

/* A member is a room participant (POST /rooms/{room}/join): it publishes
 * and receives everyone else on the same PeerConnection. */
typedef enum bench_role { BENCH_PUBLISHER = 0, BENCH_VIEWER, BENCH_MEMBER } bench_role;

/* What every peer on one loop shares. */
typedef struct bench_env {
    GMainContext *ctx;
    sfu_dtls_ctx *dtls;
    const char *fingerprint;    /* our certificate, "AB:CD:..." */
    const bench_media *media;
    bool audio, video;
    bool simulcast;             /* publishers send media->low[] and video by rid */
    bool viewer_twcc;           /* viewers offer transport-cc */
    bool audio_level;           /* offer ssrc-audio-level; publishers send it */
    double pace_bytes_per_us;   /* publishers pace video at this rate; 0: a frame at once */
    bench_hist *latency;        /* one-way latency, microseconds; NULL: none */
    bench_hist *latency_app;    /* the same to when libnice handed the datagram over */
} bench_env;

/* Counters a peer keeps; the control thread sums snapshots of them. */
typedef struct bench_counters {
    uint64_t tx_packets, tx_bytes;
    uint64_t rx_packets, rx_bytes;      /* decrypted and authenticated RTP */
    uint64_t rx_video_packets, rx_video_bytes; /* the video part of them */
    uint64_t rx_expected;               /* by sequence number ranges */
    uint64_t rx_rtcp, rx_errors;        /* SRTCP packets; SRTP/SRTCP failures */
    uint64_t latency_matched, latency_unmatched;
    uint64_t latency_stamped;           /* matched with the kernel's arrival stamp */
    uint64_t frames_decoded, decode_errors, plis_sent;
    uint64_t plis_received, nacks_received, retransmitted;
} bench_counters;

typedef struct bench_peer bench_peer;

/* stamps: the publisher's send-time table (a publisher writes it, its
 * viewers read it); NULL measures no latency. It must outlive the peer. */
bench_peer *bench_peer_new(const bench_env *env, bench_role role, bool decode,
                           bench_stamps *stamps, char *err, size_t errlen);
void bench_peer_free(bench_peer *p); /* NULL is a no-op */

/* The offer to POST (malloc'ed), NULL without memory. */
char *bench_peer_offer(const bench_peer *p);
/* When the target offers (a Janus subscriber): reads its offer into remote
 * (then pass it to bench_peer_start), makes the ICE agent controlled and
 * returns our answer (g_free), or NULL with a reason in err. */
char *bench_peer_answer(bench_peer *p, const char *offer, size_t len, bench_answer *remote,
                        char *err, size_t errlen);
/* A room member answers a server offer (renegotiation): the transport stays
 * as it is; our own m-lines are answered sendonly with our SSRCs, the others
 * mirror the offer's direction. A g_malloc'ed answer, or NULL with a reason. */
char *bench_peer_reanswer(bench_peer *p, const char *offer, size_t len, char *err,
                          size_t errlen);
#define BENCH_PEER_MAX_SOURCES 64
/* The send-time table of a source a member receives (from a server offer);
 * 0, or -1 when the table of sources is full. */
int bench_peer_set_source(bench_peer *p, uint32_t ssrc, bench_stamps *stamps);
/* What a peer received per stream (by SSRC, in order of arrival): a room
 * member's tiles are checked with it (tiles.c). */
typedef struct bench_stream_count {
    uint32_t ssrc;
    bool video;
    const bench_stamps *source; /* the announced publisher's send-time table;
                                 * NULL: not announced, or an audio slot */
    uint64_t received;
} bench_stream_count;
unsigned bench_peer_streams(const bench_peer *p, bench_stream_count *out, unsigned cap);
/* Applies the answer and starts ICE; the join clock starts at post_at. */
int bench_peer_start(bench_peer *p, const bench_answer *a, sfu_time post_at);
/* Called every few milliseconds: DTLS retransmissions, media due. */
void bench_peer_tick(bench_peer *p, sfu_time now);

/* Media flowing: a publisher's DTLS is up; a viewer (or a room member)
 * decoded its first video frame (decoding viewers) or decrypted its first
 * packet. */
bool bench_peer_joined(const bench_peer *p);
/* Microseconds from POST to joined; -1 before. */
sfu_time bench_peer_join_us(const bench_peer *p);
/* From the POST to: the answer, ICE connected, SRTP keys (-1 not reached). */
void bench_peer_join_phases(const bench_peer *p, sfu_time us[3]);
/* Marks the peer failed (the first reason sticks); it stops sending. */
void bench_peer_fail(bench_peer *p, const char *why);
bool bench_peer_failed(const bench_peer *p);
const char *bench_peer_failure(const bench_peer *p);
/* Sends DTLS close_notify (RFC 5246 7.2.1) and stops sending media: a
 * client closing its PeerConnection without DELETE. */
void bench_peer_close(bench_peer *p);
void bench_peer_counters(const bench_peer *p, bench_counters *c);
sfu_srtp_profile bench_peer_srtp_profile(const bench_peer *p);

sfu_time bench_now(void);       /* CLOCK_MONOTONIC in microseconds */

#endif
