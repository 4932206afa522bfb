/* Keyframe request throttling for one source stream (PLI, RFC 4585 6.3.1;
 * FIR, RFC 5104 4.3.1).
 *
 * Viewers joining, viewers' own PLIs and FIRs and the SFU's unrecoverable
 * losses all want a keyframe from the same publisher. At most one request
 * goes out per `min_interval`; requests inside the interval coalesce into
 * one sent when it ends, unless a keyframe arrived meanwhile. Each request
 * sent is a new one for RFC 5104 4.3.1.2, so FIR numbers advance by one. */
#ifndef SFU_CORE_KEYFRAME_REQ_H
#define SFU_CORE_KEYFRAME_REQ_H

#include "sfu/core/common.h"

typedef struct sfu_keyframe_req {
    sfu_time min_interval;
    bool sent_once;
    bool pending;
    sfu_time last_sent_at;
    uint8_t fir_seq;            /* the next FIR command sequence number */
    uint64_t requested, sent;
} sfu_keyframe_req;

void sfu_keyframe_req_init(sfu_keyframe_req *k, sfu_time min_interval);
/* A keyframe is wanted at `now`. True: send a request now (and call
 * sfu_keyframe_req_fir_seq if it is a FIR). False: it is coalesced. */
bool sfu_keyframe_req_want(sfu_keyframe_req *k, sfu_time now);
/* True when a coalesced request is due now. */
bool sfu_keyframe_req_handle_timeout(sfu_keyframe_req *k, sfu_time now);
sfu_time sfu_keyframe_req_poll_timeout(const sfu_keyframe_req *k);
/* A keyframe arrived: a coalesced request is no longer needed. */
void sfu_keyframe_req_keyframe_received(sfu_keyframe_req *k);
/* A network path changed (the publisher's, or a viewer's): a request sent
 * lately, or the keyframe answering it, may have gone down the dead path, so
 * the next request is not held back by min_interval. */
void sfu_keyframe_req_path_changed(sfu_keyframe_req *k);
/* The FIR sequence number for the request being sent. */
uint8_t sfu_keyframe_req_fir_seq(sfu_keyframe_req *k);

#endif
