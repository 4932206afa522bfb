/* How the SFU repairs one viewer's video stream beyond answering each NACK
 * once (issue 12, "Fast recovery" and "Heavy loss"). Sans-IO; embedded in
 * the viewer's sink.
 *
 * Broken streams. A NACKed packet the SFU cannot resend (no longer cached,
 * or too old to be played) means the viewer cannot decode past it until a
 * keyframe comes. Browsers ask for that keyframe only after their jitter
 * buffer gives up: Chromium keeps NACKing the lost packets every 100 ms for
 * about a second first, so after a 2 s blackout its video came back ~0.9 s
 * after the path did. The SFU knows at the first such NACK: it asks for the
 * keyframe itself then, once per break (again after
 * SFU_SINK_REPAIR_REASK if no keyframe reached the viewer since).
 *
 * Heavy loss. Every NACK round trip that fails costs a browser ~100 ms (its
 * retry interval without an RTT estimate), and at 30 % loss both ways a
 * round fails half the time, so every second a few frames waited 3-4
 * rounds and froze. The loss toward the viewer is estimated from its NACKs
 * (the first NACK for each newly missing packet, per packet forwarded, in
 * windows of SFU_SINK_REPAIR_WINDOW, smoothed), and toward a lossy viewer
 *  - each retransmission goes out up to three times (a lost retransmission
 *    then mostly does not cost a round; a lost NACK still does), and
 *  - above SFU_SINK_REPAIR_DUP_ON permille every new video packet goes out
 *    twice (the copy being the same SRTP packet, a receiver keeps
 *    whichever arrives first), so only p^2 of the packets need a NACK round
 *    at all: a lost NACK is what no retransmission policy can repair, as
 *    the SFU never learns of it. (Three copies did no better in the
 *    simulation, whose freezes then came from lost NACKs.)
 * Every extra packet is taken from the viewer's retransmission budget (the
 * caller's GCRA), and only from its spare half, so none of this exceeds
 * max_retransmissions_per_second or crowds out answers to NACKs. With the
 * copies on, the NACKs see only the loss left (p^2): the copies go
 * off again only after SFU_SINK_REPAIR_QUIET windows in a row below
 * SFU_SINK_REPAIR_DUP_OFF, so they do not swing with the samples' noise.
 *
 * Onset. The smoothed windows need three of them (about 100 packets) to
 * cross SFU_SINK_REPAIR_DUP_ON when a clean link turns to 30 % loss, and
 * a 640x480 stream at 20 fps is about 55 packets a second: 1.75 s in which
 * nearly every NACK round that fails costs a freeze (tests/e2e/netlab.sh
 * loss30 froze up to 1.3 s in 10 s, most of it there). So a CUSUM test (Page's
 * cumulative sum of the log-likelihood ratio, each forwarded packet a
 * Bernoulli trial, lost if NACKed) of loss 30 % against 10 % runs beside
 * them and turns the copies on when it crosses SFU_SINK_REPAIR_CUSUM_ALARM:
 * at 30 % loss after about 35 packets on average, at 10 % falsely once in
 * about 4,000 (the windows alone: once in about 4,700). It credits at
 * most SFU_SINK_REPAIR_CUSUM_BURST newly missing packets per NACK, and
 * nothing for a NACK naming more than SFU_SINK_REPAIR_NACK_BURST: an
 * outage is not random loss. Until the windows know the loss
 * (SFU_SINK_REPAIR_RTX2), three NACKed packets close together (the test at
 * three NACKs' worth, about 20 packets into 30 % loss) already send each
 * retransmission three times: at the onset the viewer's jitter buffer,
 * sized for a clean link, hides no second round trip. */
#ifndef SFU_CORE_SINK_REPAIR_H
#define SFU_CORE_SINK_REPAIR_H

#include "sfu/core/common.h"

#define SFU_SINK_REPAIR_REASK SFU_MS(300)
#define SFU_SINK_REPAIR_WINDOW 32     /* packets forwarded per loss sample */
/* Newly missing packets counted from one NACK, among the last
 * SFU_SINK_REPAIR_WINDOW sent: more, or older ones, are an outage (a
 * blackout's first NACK names hundreds), which copies do not help (its
 * repair is the keyframe), not random loss. */
#define SFU_SINK_REPAIR_NACK_BURST 8
#define SFU_SINK_REPAIR_RTX2 40       /* permille of loss: retransmissions twice */
#define SFU_SINK_REPAIR_RTX3 150      /* ... three times */
#define SFU_SINK_REPAIR_DUP_ON 150    /* every new packet twice */
#define SFU_SINK_REPAIR_DUP_OFF 15    /* residual loss (with copies) to go back ... */
#define SFU_SINK_REPAIR_QUIET 6       /* ... in this many windows in a row */
/* The onset test, in thousandths of a nat: ln(0.7 / 0.9) per packet
 * forwarded, ln(0.3 / 0.1) - ln(0.7 / 0.9) more per packet NACKed (its
 * forward was already counted as received). */
#define SFU_SINK_REPAIR_CUSUM_SENT 251
#define SFU_SINK_REPAIR_CUSUM_NACKED 1350
#define SFU_SINK_REPAIR_CUSUM_ALARM 6000
#define SFU_SINK_REPAIR_CUSUM_BURST 3

typedef struct sfu_sink_repair {
    /* A break: the viewer cannot decode past `broken_seq` (source
     * numbering, `epoch`) until a keyframe after it reaches it. */
    bool broken;
    uint32_t epoch;
    uint64_t broken_seq;
    sfu_time asked_at;
    /* Loss estimate from NACKs, in output sequence numbers. */
    uint16_t newest_sent16;     /* the newest packet forwarded */
    uint64_t nacked_bits;       /* bit d: packet newest_sent16 - d was NACKed */
    uint32_t window_sent, window_nacked;
    uint16_t loss_pm;           /* smoothed, permille of forwarded packets */
    uint8_t copies;             /* of each new packet: 0 or 1 (once), or 2 */
    uint8_t quiet;              /* windows in a row below SFU_SINK_REPAIR_DUP_OFF */
    int32_t cusum;              /* the onset test, 0..SFU_SINK_REPAIR_CUSUM_ALARM */
    uint64_t onsets;            /* times the onset test turned the copies on */
    uint64_t keyframes_asked;
} sfu_sink_repair;

void sfu_sink_repair_init(sfu_sink_repair *r);

/* A NACKed packet `seq` of source epoch `epoch` cannot be resent. The
 * viewer's last keyframe (have_key, key_seq) is before it. True: ask for a
 * keyframe for this viewer now. */
bool sfu_sink_repair_unrecoverable(sfu_sink_repair *r, uint32_t epoch, uint64_t seq, sfu_time now);
/* A keyframe starting at source packet `seq` went to the viewer: a break
 * before it is repaired. */
void sfu_sink_repair_keyframe_sent(sfu_sink_repair *r, uint32_t epoch, uint64_t seq);

/* A new (not retransmitted) video packet, `seq16` in the viewer's
 * numbering, is being forwarded to it. Returns how many times to send it
 * (1 or 2). */
uint8_t sfu_sink_repair_on_forward(sfu_sink_repair *r, uint16_t seq16);
/* A NACK from the viewer naming output packets `seq16[0..n)`, ascending.
 * Each packet among the last SFU_SINK_REPAIR_WINDOW forwarded counts once,
 * whichever NACK names it first (at 30 % loss a third of the NACKs are
 * lost, and a packet's retry often comes after a newer packet's first
 * NACK), at most SFU_SINK_REPAIR_NACK_BURST per NACK. */
void sfu_sink_repair_on_nack(sfu_sink_repair *r, const uint16_t *seq16, size_t n);
/* Whether output packet `seq16`, which the viewer's transport-cc feedback
 * reports lost, is to be resent without a NACK (room_send.c): it is among
 * the last 64 forwarded and no NACK named it (one that came was answered).
 * At 30 % loss a third of a viewer's NACKs never arrive, each costing a
 * browser a 100 ms retry, while its feedback, sent on a timer of its own,
 * gets through most of those times. The caller then counts it as NACKed
 * (sfu_sink_repair_on_nack): the loss estimate sees it either way. */
bool sfu_sink_repair_unasked_wanted(const sfu_sink_repair *r, uint16_t seq16);
/* How many times to send a retransmission (1..3). */
uint8_t sfu_sink_repair_rtx_copies(const sfu_sink_repair *r);

#endif
