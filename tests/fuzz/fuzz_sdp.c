/* Fuzz target for the SDP parser, writer and negotiation: whatever parses
 * must write back into text that parses again, and must negotiate in every
 * mode without crashing. */
#include <stdint.h>
#include <stdlib.h>

#include "signaling/sdp_answer.h"

static uint32_t next_ssrc;
static uint32_t pick(void *ctx)
{
    (void)ctx;
    return ++next_ssrc;
}

static void negotiate(const sig_sdp *offer)
{
    static const sig_ice_candidate cand = { .foundation = "1", .component = 1, .priority = 1,
                                            .address = "127.0.0.1", .port = 40000 };
    sig_sdp_local local = {
        .ice_ufrag = "srvU", .ice_pwd = "serverpasswordserverpw",
        .fingerprint = "7F:C0:A7:8D:C3:44:C2:68:17:EA:6C:52:4A:78:BF:82:15:0B:3F:51:85:15:E7:96:22:0D:38:93:65:F9:D0:34",
        .cands = &cand, .ncands = 1, .cname = "c", .stream_id = "p", .pick_ssrc = pick,
        .video_codec = SFU_CODEC_H264, .h264_profile_level_id = 0x42e01f,
    };
    for (int i = 0; i < 2 * (SIG_SDP_ROOM + 1); i++) {
        int mode = i / 2;
        local.simulcast = i % 2;    /* media.simulcast off and on */
        sig_sdp_result res;
        char err[256];
        if (sig_sdp_answer(offer, (sig_sdp_mode)mode, &local, &res, err, sizeof err) != 0)
            continue;
        sig_sdp *ans = NULL;
        const sig_sdp_limits big = { .max_bytes = 1 << 22, .max_line = 1 << 16, .max_media = SIG_SDP_MAX_MEDIA };
        if (sig_sdp_parse(res.sdp, res.sdp_len, &big, &ans, err, sizeof err) != 0)
            abort();            /* our own answer must parse */
        sig_sdp_free(ans);
        sig_sdp_result_deinit(&res);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const sig_sdp_limits lim = { .max_bytes = 65536, .max_line = 4096, .max_media = 32 };
    sig_sdp *sdp = NULL;
    char err[256];
    if (sig_sdp_parse((const char *)data, size, &lim, &sdp, err, sizeof err) != 0)
        return 0;
    char *text;
    size_t len;
    if (sig_sdp_write(sdp, &text, &len) == 0) {
        const sig_sdp_limits big = { .max_bytes = 1 << 22, .max_line = 1 << 16, .max_media = SIG_SDP_MAX_MEDIA };
        sig_sdp *again = NULL;
        if (sig_sdp_parse(text, len, &big, &again, err, sizeof err) != 0)
            abort();            /* what we write must parse */
        if (again->nmedia != sdp->nmedia)
            abort();
        sig_sdp_free(again);
        free(text);
    }
    negotiate(sdp);
    sig_sdp_free(sdp);
    return 0;
}
