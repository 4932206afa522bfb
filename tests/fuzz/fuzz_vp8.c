/* Fuzzes the VP8 descriptor parser; a parsed descriptor is rewritten and
 * re-parsed, and fed to a rewriter. The input is split at every 0xff 0x00
 * pair into several payloads so the rewriter sees a sequence. */
#include "sfu/core/vp8.h"

#include <stdlib.h>
#include <string.h>

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void one(sfu_vp8_rewriter *rw, const uint8_t *p, size_t n, bool restarted)
{
    sfu_vp8_desc d, d2;
    if (sfu_vp8_parse(p, n, &d) != 0)
        return;
    check(d.desc_len >= 1 && d.desc_len <= SFU_VP8_MAX_DESC && d.desc_len < n);

    uint16_t pid = 0;
    uint8_t tl0 = 0;
    if (d.has_tid && d.tid >= 2 && !restarted) {
        sfu_vp8_rewriter_drop(rw, &d); /* a temporal layer a viewer does not get */
        return;
    }
    sfu_vp8_rewriter_map(rw, &d, restarted, &pid, &tl0);
    check(pid <= 0x7fff);

    uint8_t out[SFU_VP8_MAX_DESC + 64];
    int w = sfu_vp8_write_desc(out, SFU_VP8_MAX_DESC, &d, pid, tl0);
    check(w >= 1 && w <= SFU_VP8_MAX_DESC);
    size_t rest = n - d.desc_len < 64 ? n - d.desc_len : 64;
    memcpy(out + w, p + d.desc_len, rest);
    check(sfu_vp8_parse(out, (size_t)w + rest, &d2) == 0);
    check(d2.desc_len == w && d2.keyframe == d.keyframe && d2.start == d.start);
    check(!d.has_picture_id || (d2.picture_id == pid && d2.picture_id_15));
    check(!d.has_tl0picidx || d2.tl0picidx == tl0);

    uint16_t width = 0, height = 0;
    if (sfu_vp8_keyframe_size(p + d.desc_len, n - d.desc_len, &width, &height) == 0)
        check(width <= 0x3fff && height <= 0x3fff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sfu_vp8_rewriter rw;
    sfu_vp8_rewriter_init(&rw);
    size_t start = 0;
    for (size_t i = 0; i + 1 < size; i++) {
        if (data[i] == 0xff && data[i + 1] == 0x00) {
            one(&rw, data + start, i - start, (i & 1) != 0);
            start = i + 2;
        }
    }
    one(&rw, data + start, size - start, false);
    return 0;
}
