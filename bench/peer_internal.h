/* Private to peer.c, publisher.c and receiver.c. */
#ifndef BENCH_PEER_INTERNAL_H
#define BENCH_PEER_INTERNAL_H

#include "bench/ice_client.h"
#include "bench/peer.h"
#include "sfu/crypto/srtp.h"

#include <vpx/vpx_decoder.h>

#define BENCH_MTU 1200
#define BENCH_PKT_CAP (1500 + SFU_SRTP_MAX_TRAILER_LEN)
#define BENCH_RTX_RING 512

typedef struct bench_sent {     /* a plain video packet kept for NACKs */
    uint16_t seq16;
    uint16_t len;
    uint8_t data[BENCH_MTU];
} bench_sent;

typedef struct bench_tx_track {
    uint32_t ssrc;
    uint16_t seq16;
    uint32_t ts;
    unsigned frame;             /* next frame of the loop */
    sfu_time next_at;
    size_t off;                 /* bytes of that frame sent (paced: mid-frame) */
    unsigned due;               /* paced: frames whose time came, not yet sent */
    bool want_key;              /* a PLI came mid-frame: the keyframe after it */
} bench_tx_track;

/* Simulcast: video is the top layer (rid f), low[0] q and low[1] h, each
 * with its own SSRC, sequence numbers, PictureID and NACK ring. */
typedef struct bench_publisher {
    bench_tx_track audio, video;
    bench_tx_track low[BENCH_LAYERS - 1];
    uint16_t picture_id[BENCH_LAYERS];  /* [BENCH_LAYERS - 1]: video */
    uint16_t twcc_seq;
    bench_sent *ring[BENCH_LAYERS];     /* BENCH_RTX_RING entries by seq16 each */
    double budget;                      /* paced: bytes that may go now */
    sfu_time budget_at;
} bench_publisher;

typedef struct bench_rx_stream {
    bool started;
    bool video;
    uint32_t ssrc;
    uint64_t base_seq, max_seq; /* extended */
    uint64_t received;
} bench_rx_stream;

/* A room member receives many sources on one PeerConnection: streams are
 * kept by SSRC, and each source's send-time table comes from the server
 * offer that announced it (bench_peer_set_source). */
#define BENCH_RX_STREAMS BENCH_PEER_MAX_SOURCES

typedef struct bench_rx_source {
    uint32_t ssrc;
    bench_stamps *stamps;
} bench_rx_source;

typedef struct bench_receiver {
    bench_rx_stream streams[BENCH_RX_STREAMS];
    unsigned nstreams;
    bench_rx_source sources[BENCH_RX_STREAMS];
    unsigned nsources;
    uint32_t decode_ssrc;       /* the one video source decoded (or, without a
                                 * decoder, watched for the join); 0 before */
    uint32_t rtcp_ssrc;
    bool decode;
    vpx_codec_ctx_t codec;
    bool codec_ready;
    uint8_t *frame;             /* VP8 frame being reassembled */
    size_t frame_len;
    uint32_t frame_ts;
    uint16_t next_seq16;
    bool frame_ok, need_key;
    sfu_time last_pli_at;
    sfu_time next_rr_at;
} bench_receiver;

struct bench_peer {
    const bench_env *env;
    bench_role role;
    bench_stamps *stamps;       /* NULL: no latency figures */
    bench_ice *ice;
    sfu_dtls *dtls;
    sfu_srtp_session *srtp;
    sfu_srtp_profile profile;
    bench_answer answer;
    sfu_time post_at, joined_at, dtls_deadline;
    sfu_time answer_at, ice_at, keys_at;    /* join phases; -1 until reached */
    bool ice_up, failed;
    char failure[128];
    bench_counters n;
    bench_publisher pub;
    bench_receiver rx;
};

/* peer.c */
/* Protects plain RTP or RTCP in place (buf has BENCH_PKT_CAP) and sends it. */
int bench_peer_send_rtp(bench_peer *p, uint8_t *buf, size_t len);
int bench_peer_send_rtcp(bench_peer *p, uint8_t *buf, size_t len);

/* publisher.c */
int bench_publisher_init(bench_peer *p);
void bench_publisher_deinit(bench_peer *p);
void bench_publisher_tick(bench_peer *p, sfu_time now);
void bench_publisher_handle_rtcp(bench_peer *p, const uint8_t *pkt, size_t len);

/* receiver.c */
int bench_receiver_init(bench_peer *p, bool decode);
void bench_receiver_deinit(bench_peer *p);
/* Receiver reports, once a second (they also keep the session alive). */
void bench_receiver_tick(bench_peer *p, sfu_time now);
/* arrived_at: when the datagram reached the socket (-1: unknown, now is used). */
void bench_receiver_handle_rtp(bench_peer *p, const uint8_t *pkt, size_t len, sfu_time now,
                               sfu_time arrived_at);

#endif
