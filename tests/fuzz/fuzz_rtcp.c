/* Feeds bytes through RTCP compound iteration and every parser, each packet
 * also re-labelled as every type so each parser sees arbitrary bodies. With
 * the first byte 0xff, the rest drives the TWCC builder instead, and what it
 * builds must parse back to the same arrivals. */
#include <stdlib.h>
#include <string.h>

#include "sfu/core/rtcp.h"
#include "sfu/core/rtcp_fb.h"
#include "sfu/core/rtcp_layers.h"
#include "sfu/core/rtcp_sdes_bye.h"
#include "sfu/core/rtcp_sr_rr.h"
#include "sfu/core/rtcp_twcc.h"

static sfu_twcc_packet twcc_pkts[1024];

/* What parses must build back and parse to the same values: the builders
 * are fuzzed with every shape the parsers accept. */
static void parse_built(const uint8_t *buf, int len, sfu_rtcp_common *c)
{
    size_t off = 0;
    if (len <= 0 || sfu_rtcp_next(buf, (size_t)len, &off, c) != 1)
        abort();
}

static void rebuild_sr_rr(const sfu_rtcp_sr *sr, const sfu_rtcp_rr *rr)
{
    static uint8_t out[2048];
    sfu_rtcp_common c;
    if (sr) {
        sfu_rtcp_sr back;
        parse_built(out, sfu_rtcp_sr_build(out, sizeof out, sr), &c);
        if (sfu_rtcp_sr_parse(&c, &back) != 0 || back.ntp != sr->ntp || back.rtp_ts != sr->rtp_ts ||
            back.report_count != sr->report_count)
            abort();
    }
    if (rr) {
        sfu_rtcp_rr back;
        parse_built(out, sfu_rtcp_rr_build(out, sizeof out, rr), &c);
        if (sfu_rtcp_rr_parse(&c, &back) != 0 || back.ssrc != rr->ssrc ||
            back.report_count != rr->report_count ||
            (rr->report_count && back.reports[0].ssrc != rr->reports[0].ssrc))
            abort();
    }
}

static void rebuild_fb(const sfu_rtcp_nack *nack, const sfu_rtcp_fir *fir, const sfu_rtcp_remb *remb)
{
    static uint8_t out[8192];
    sfu_rtcp_common c;
    if (nack && nack->count && !nack->truncated) {
        sfu_rtcp_nack back;
        parse_built(out, sfu_rtcp_nack_build(out, sizeof out, nack->sender_ssrc, nack->media_ssrc,
                                             nack->seq16, nack->count), &c);
        if (sfu_rtcp_nack_parse(&c, &back) != 0 || back.media_ssrc != nack->media_ssrc)
            abort();
    }
    if (fir && fir->count && !fir->truncated) {
        sfu_rtcp_fir back;
        parse_built(out, sfu_rtcp_fir_build(out, sizeof out, fir->sender_ssrc, fir->entries,
                                            fir->count), &c);
        if (sfu_rtcp_fir_parse(&c, &back) != 0 || back.count != fir->count ||
            back.entries[0].seq_nr != fir->entries[0].seq_nr)
            abort();
    }
    if (remb && !remb->truncated && remb->bitrate_bps < (1ull << 63)) {
        sfu_rtcp_remb back;
        int n = sfu_rtcp_remb_build(out, sizeof out, remb->sender_ssrc, remb->bitrate_bps,
                                    remb->ssrcs, remb->ssrc_count);
        if (n > 0) {
            parse_built(out, n, &c);
            /* REMB keeps 18 bits of mantissa: the value may round down. */
            if (sfu_rtcp_remb_parse(&c, &back) != 0 || back.ssrc_count != remb->ssrc_count ||
                back.bitrate_bps > remb->bitrate_bps)
                abort();
        }
    }
}

static void parse_as(const sfu_rtcp_common *orig, uint8_t pt, uint8_t fmt)
{
    sfu_rtcp_common c = *orig;
    c.pt = pt;
    c.count = fmt;
    union {
        sfu_rtcp_sr sr;
        sfu_rtcp_rr rr;
        sfu_rtcp_sdes sdes;
        sfu_rtcp_bye bye;
        sfu_rtcp_nack nack;
        sfu_rtcp_fir fir;
        sfu_rtcp_remb remb;
        sfu_twcc_feedback twcc;
        sfu_rtcp_layers layers;
    } u;
    uint32_t a, b;
    volatile uint32_t sink = 0;
    if (sfu_rtcp_sr_parse(&c, &u.sr) == 0) {
        sink += u.sr.reports[u.sr.report_count ? u.sr.report_count - 1 : 0].ssrc;
        rebuild_sr_rr(&u.sr, NULL);
    }
    if (sfu_rtcp_rr_parse(&c, &u.rr) == 0) {
        sink += u.rr.ssrc;
        rebuild_sr_rr(NULL, &u.rr);
    }
    if (sfu_rtcp_sdes_parse(&c, &u.sdes) == 0)
        for (unsigned i = 0; i < u.sdes.chunk_count; i++)
            if (u.sdes.chunks[i].cname_len)
                sink += u.sdes.chunks[i].cname[u.sdes.chunks[i].cname_len - 1];
    if (sfu_rtcp_bye_parse(&c, &u.bye) == 0 && u.bye.reason_len)
        sink += u.bye.reason[u.bye.reason_len - 1];
    if (sfu_rtcp_nack_parse(&c, &u.nack) == 0 && u.nack.count) {
        sink += u.nack.seq16[u.nack.count - 1];
        rebuild_fb(&u.nack, NULL, NULL);
    }
    if (sfu_rtcp_pli_parse(&c, &a, &b) == 0)
        sink += a + b;
    if (sfu_rtcp_fir_parse(&c, &u.fir) == 0 && u.fir.count) {
        sink += u.fir.entries[u.fir.count - 1].ssrc;
        rebuild_fb(NULL, &u.fir, NULL);
    }
    if (sfu_rtcp_remb_parse(&c, &u.remb) == 0) {
        sink += (uint32_t)u.remb.bitrate_bps;
        rebuild_fb(NULL, NULL, &u.remb);
    }
    if (sfu_rtcp_layers_parse(&c, &u.layers) == 0) {
        /* What parses builds back to the same bytes. */
        uint8_t out[12 + 8 * SFU_RTCP_LAYERS_MAX];
        sfu_rtcp_common back_c;
        sfu_rtcp_layers back;
        size_t off = 0;
        int n = sfu_rtcp_layers_build(out, sizeof out, u.layers.sender_ssrc, u.layers.entries, u.layers.count);
        if (n <= 0 || sfu_rtcp_next(out, (size_t)n, &off, &back_c) != 1 ||
            sfu_rtcp_layers_parse(&back_c, &back) != 0 || back.count != u.layers.count)
            abort();
        for (unsigned i = 0; i < back.count; i++)
            if (back.entries[i].ssrc != u.layers.entries[i].ssrc ||
                back.entries[i].wanted != u.layers.entries[i].wanted)
                abort();
        sink += back.entries[back.count - 1].ssrc;
    }
    if (sfu_twcc_parse(&c, &u.twcc, twcc_pkts, SFU_ARRAY_LEN(twcc_pkts)) == 0) {
        if (u.twcc.packet_count == 0 || u.twcc.packet_count > u.twcc.status_count)
            abort();
        sink += (uint32_t)twcc_pkts[u.twcc.packet_count - 1].arrival_us;
    }
    (void)sink;
}

static void fuzz_parsers(const uint8_t *data, size_t size)
{
    /* FMT 0xff: keep the packet's own count field. */
    static const uint8_t types[][2] = {
        { SFU_RTCP_SR, 0xff }, { SFU_RTCP_RR, 0xff }, { SFU_RTCP_SDES, 0xff }, { SFU_RTCP_BYE, 0xff },
        { SFU_RTCP_RTPFB, SFU_RTCP_FMT_NACK }, { SFU_RTCP_RTPFB, SFU_RTCP_FMT_TWCC },
        { SFU_RTCP_PSFB, SFU_RTCP_FMT_PLI }, { SFU_RTCP_PSFB, SFU_RTCP_FMT_FIR },
        { SFU_RTCP_PSFB, SFU_RTCP_FMT_AFB }, { SFU_RTCP_APP, 0 },
    };
    sfu_rtcp_validate_compound(data, size, false);
    sfu_rtcp_validate_compound(data, size, true);
    size_t off = 0;
    sfu_rtcp_common c;
    while (sfu_rtcp_next(data, size, &off, &c) == 1) {
        if (off > size || c.body + c.body_len > data + size)
            abort();
        parse_as(&c, c.pt, c.count);
        for (size_t i = 0; i < SFU_ARRAY_LEN(types); i++)
            parse_as(&c, types[i][0], types[i][1] == 0xff ? c.count : types[i][1]);
    }
}

/* Arrivals from 3-byte records (sequence step 1..256, signed time step in
 * 100 us units); a TWCC round trip must reproduce them. */
static void fuzz_twcc_build(const uint8_t *data, size_t size)
{
    static sfu_twcc_arrival arr[2048];
    static uint8_t out[1 << 20];
    static sfu_twcc_packet pk[65536];
    if (size < 3)
        return;
    size_t budget = 48 + (size_t)data[0] * 8;
    uint16_t lead = data[1] & 7;
    data += 2;
    size -= 2;
    size_t n = 0;
    uint16_t seq = 1000;
    sfu_time t = SFU_SEC(3600);
    uint32_t span = 0;
    for (size_t i = 0; i + 3 <= size && n < SFU_ARRAY_LEN(arr); i += 3) {
        uint16_t step = n == 0 ? 0 : (uint16_t)(data[i] + 1);
        if (span + step > 60000)
            break;
        span += step;
        seq = (uint16_t)(seq + step);
        t += (sfu_time)(int16_t)sfu_rd16(data + i + 1) * 100;
        arr[n++] = (sfu_twcc_arrival){ .seq16 = seq, .arrival = t };
    }
    if (n == 0)
        return;
    sfu_twcc_build_args args = { .sender_ssrc = 1, .media_ssrc = 2,
                                 .base_seq16 = (uint16_t)(arr[0].seq16 - lead) };
    int total = sfu_twcc_build_all(out, sizeof out, budget, &args, arr, n);
    if (total < 0)
        abort();                /* 48 bytes fit one arrival after < 8192 losses */
    size_t off = 0, j = 0;
    sfu_rtcp_common c;
    while (sfu_rtcp_next(out, (size_t)total, &off, &c) == 1) {
        sfu_twcc_feedback fb;
        if (c.len > budget || sfu_twcc_parse(&c, &fb, pk, SFU_ARRAY_LEN(pk)) != 0)
            abort();
        for (size_t i = 0; i < fb.packet_count; i++) {
            if (!pk[i].received)
                continue;
            if (j >= n)
                abort();
            int64_t d = arr[j].arrival - pk[i].arrival_us;
            int64_t wrap = (int64_t)SFU_TWCC_REF_US << 24;
            d = ((d % wrap) + wrap) % wrap;
            if (pk[i].seq16 != arr[j].seq16 || (d > 125 && d < wrap - 125))
                abort();
            j++;
        }
    }
    if (off != (size_t)total || j != n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 0xff)
        fuzz_twcc_build(data + 1, size - 1);
    else
        fuzz_parsers(data, size);
    return 0;
}
