/* Drives one viewer's bandwidth estimator with arbitrary transport-cc
 * feedback (and REMB, probes, sends), as a viewer controls it: whatever
 * it sends, the estimate stays within the configured bounds, probes stay
 * sane, and layer choice stays in range. fuzz_rtcp covers the parser
 * alone; this covers what the estimator does with what parses.
 *
 * Input: a sequence of operations, each led by one byte:
 *   0x00-0x3f  send (op & 0x3f) + 1 packets: seq16 (2 bytes), size / 8
 *              (1 byte), gap in 100 us (1 byte)
 *   0x40-0x7f  feedback: length (2 bytes) then that many bytes of RTCP,
 *              every TWCC packet in it handed to the estimator; the clock
 *              first moves (op & 0x3f) ms
 *   0x80-0xbf  REMB: bit/s (4 bytes)
 *   0xc0-0xff  the clock moves (op & 0x3f) * 10 ms, then a probe poll
 *              toward a target in kbit/s (3 bytes) and a layer choice */
#include <stdlib.h>

#include "sfu/core/bwe.h"
#include "sfu/core/layer_choice.h"
#include "sfu/core/rtcp.h"
#include "sfu/core/rtcp_twcc.h"

static sfu_twcc_packet pkts[4096];

static void check(const sfu_bwe *b, sfu_time now)
{
    uint64_t e = sfu_bwe_estimate(b, now);
    if (e < sfu_bwe_config_default.min_bps || e > sfu_bwe_config_default.max_bps)
        abort();
    sfu_bwe_stats st;
    sfu_bwe_stats_get(b, now, &st);
    if (st.estimate_bps != e || st.probes_succeeded > st.probes_sent ||
        st.inherent_loss < 0 || st.inherent_loss > 0.5 || st.loss_fraction < 0 ||
        st.loss_fraction > 1)
        abort();
}

static void feedback(sfu_bwe *b, const uint8_t *p, size_t n, sfu_time now)
{
    size_t off = 0;
    sfu_rtcp_common c;
    while (sfu_rtcp_next(p, n, &off, &c) == 1) {
        sfu_twcc_feedback fb;
        if (sfu_twcc_parse(&c, &fb, pkts, SFU_ARRAY_LEN(pkts)) != 0)
            continue;
        if (sfu_bwe_on_feedback(b, &fb, pkts, fb.packet_count, now) != 0)
            abort();                    /* what the parser gives is always acceptable */
        if (sfu_bwe_on_feedback(b, &fb, pkts, (size_t)fb.packet_count + 1, now) != -SFU_EINVAL)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t layers[] = { 150000, 500000, 1500000 };
    sfu_bwe *b = sfu_bwe_new(NULL);
    if (!b)
        return 0;
    sfu_layer_choice lc;
    sfu_layer_choice_init(&lc, NULL);
    sfu_time now = SFU_SEC(1);
    size_t i = 0;
    while (i < size) {
        uint8_t op = data[i++];
        if (op < 0x40) {
            if (size - i < 4)
                break;
            uint16_t seq16 = sfu_rd16(data + i);
            size_t len = (size_t)data[i + 2] * 8;
            sfu_time gap = (sfu_time)data[i + 3] * 100;
            i += 4;
            for (int k = 0; k <= (op & 0x3f); k++) {
                sfu_bwe_on_packet_sent(b, (uint16_t)(seq16 + k), len, now);
                now += gap;
            }
        } else if (op < 0x80) {
            if (size - i < 2)
                break;
            size_t len = sfu_rd16(data + i);
            i += 2;
            if (len > size - i)
                len = size - i;
            now += SFU_MS(op & 0x3f);
            feedback(b, data + i, len, now);
            i += len;
        } else if (op < 0xc0) {
            if (size - i < 4)
                break;
            sfu_bwe_on_remb(b, sfu_rd32(data + i), now);
            i += 4;
        } else {
            if (size - i < 3)
                break;
            uint64_t target = (uint64_t)sfu_rd24(data + i) * 1000;
            i += 3;
            now += SFU_MS(10 * (op & 0x3f));
            sfu_bwe_probe p;
            if (sfu_bwe_poll_probe(b, target, now, &p) &&
                (p.id == 0 || p.rate_bps > sfu_bwe_config_default.max_bps || p.bytes == 0 ||
                 sfu_bwe_probe_rate(b) != p.rate_bps))
                abort();
            int layer = sfu_layer_choice_update(&lc, sfu_bwe_estimate(b, now), layers, 3, 9, now);
            if (layer < -1 || layer > 2)
                abort();
        }
        check(b, now);
    }
    sfu_bwe_free(b);
    return 0;
}
