/* Fuzzes the RTP header parser, then checks what it reports: every offset
 * lies inside the input, and writing the parsed extensions back parses to
 * the same elements. */
#include "sfu/core/audio_level.h"
#include "sfu/core/rtp.h"

#include <stdlib.h>
#include <string.h>

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sfu_rtp_hdr h;
    if (sfu_rtp_parse(data, size, &h) != 0)
        return 0;
    check(h.header_len >= SFU_RTP_MIN_HEADER && h.header_len <= size);
    check((size_t)h.payload_off + h.payload_len + h.pad_len == size);
    check(h.ext_count <= SFU_RTP_MAX_EXT);

    sfu_rtp_ext_out out_ext[SFU_RTP_MAX_EXT];
    unsigned sum = 0;
    for (uint8_t i = 0; i < h.ext_count; i++) {
        const sfu_rtp_ext *e = &h.ext[i];
        check(e->id != 0 && (size_t)e->off + e->len <= h.header_len);
        for (uint8_t j = 0; j < e->len; j++)
            sum += data[e->off + j];
        out_ext[i] = (sfu_rtp_ext_out){ e->id, e->len, data + e->off };
    }
    /* Any element may be offered as an audio level (RFC 6464). */
    for (uint8_t i = 0; i < h.ext_count; i++) {
        sfu_audio_level al;
        if (sfu_audio_level_parse(data + h.ext[i].off, h.ext[i].len, &al) == 0)
            check(al.level <= SFU_AUDIO_LEVEL_SILENT && h.ext[i].len == 1);
    }
    uint16_t osn;
    if (sfu_rtx_unwrap_osn(&h, data, &osn) == 0)
        sum += osn;
    (void)sum;

    /* Write back and re-parse: same fields, same elements in order. */
    sfu_rtp_header_out out = {
        .marker = h.marker, .pt = h.pt, .seq16 = h.seq16, .ts = h.ts, .ssrc = h.ssrc,
        .ext_count = h.ext_count, .ext = out_ext,
    };
    static uint8_t buf[8192];
    int n = sfu_rtp_write_header(buf, sizeof buf, &out);
    check(n >= SFU_RTP_MIN_HEADER);
    sfu_rtp_hdr h2;
    check(sfu_rtp_parse(buf, (size_t)n, &h2) == 0);
    check(h2.seq16 == h.seq16 && h2.ts == h.ts && h2.ssrc == h.ssrc && h2.pt == h.pt);
    check(h2.ext_count == h.ext_count);
    for (uint8_t i = 0; i < h.ext_count; i++) {
        check(h2.ext[i].id == h.ext[i].id && h2.ext[i].len == h.ext[i].len);
        check(memcmp(buf + h2.ext[i].off, data + h.ext[i].off, h.ext[i].len) == 0);
    }
    return 0;
}
