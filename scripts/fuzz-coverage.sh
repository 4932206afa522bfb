#!/bin/bash
# Line coverage that replaying each fuzz corpus reaches in the parser it
# targets (gcov). Usage: scripts/fuzz-coverage.sh [BUILD_DIR]; run by
# `make fuzz-coverage`, which builds BUILD_DIR with --coverage first.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build/cov}

# target: the source files it is meant to cover
declare -A FILES=(
    [fuzz_demux]="sfu/core/demux.c"
    [fuzz_dtls]="sfu/crypto/dtls.c"
    [fuzz_h264]="sfu/core/h264.c"
    [fuzz_jwt]="signaling/auth.c signaling/base64url.c"
    [fuzz_reneg]="signaling/reneg.c signaling/reneg_sdp.c signaling/reneg_reoffer.c"
    [fuzz_room]="sfu/core/room.c sfu/core/room_rtp_in.c sfu/core/room_rtcp_in.c sfu/core/room_send.c sfu/core/room_layers.c sfu/core/producer.c sfu/core/consumer.c sfu/core/rx_stats.c"
    [fuzz_route]="signaling/route.c"
    [fuzz_rtcp]="sfu/core/rtcp.c sfu/core/rtcp_sr_rr.c sfu/core/rtcp_sdes_bye.c sfu/core/rtcp_fb.c sfu/core/rtcp_twcc.c"
    [fuzz_rtp]="sfu/core/rtp.c sfu/core/audio_level.c"
    [fuzz_sdp]="signaling/sdp.c signaling/sdp_attr.c signaling/sdp_candidate.c"
    [fuzz_sdpfrag]="signaling/sdpfrag.c"
    [fuzz_twcc_feedback]="sfu/core/bwe.c sfu/core/bwe_delay.c sfu/core/bwe_loss.c sfu/core/probe_cluster.c sfu/core/send_history.c sfu/core/layer_choice.c"
    [fuzz_vp8]="sfu/core/vp8.c"
)

printf '%-14s %-34s %8s %8s\n' target file lines covered
for bin in "$B"/fuzz-replay/fuzz_*; do
    case $bin in *.gcno | *.gcda) continue ;; esac
    name=$(basename "$bin")
    find "$B" -name '*.gcda' -delete
    "$bin" "tests/fuzz/corpus/$name" >/dev/null 2>&1 || echo "$name: replay failed" >&2
    for src in ${FILES[$name]:-}; do
        obj=$B/obj/${src%.c}.o
        # gcov prints "Lines executed:NN.NN% of M" for the source file.
        line=$(gcov -n -o "$(dirname "$obj")" "$src" 2>/dev/null |
               awk -v f="$src" '$0 ~ "File .*"f {found=1} found && /Lines executed/ {print; exit}')
        pct=$(echo "$line" | sed -E 's/Lines executed:([0-9.]+)% of ([0-9]+)/\1/')
        total=$(echo "$line" | sed -E 's/Lines executed:([0-9.]+)% of ([0-9]+)/\2/')
        printf '%-14s %-34s %8s %7s%%\n' "$name" "$src" "${total:-?}" "${pct:-?}"
    done
done
