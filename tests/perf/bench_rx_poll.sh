#!/bin/bash
# The bench's timer-driven reading (--rx-poll-us, bench/ice_client.c) keeps
# what the figures rest on:
#
#   tests/perf/bench_rx_poll.sh [--sfu build/sfu] [--bench build/sfu-bench]
#
# configs/bench/smoke.conf (1 publisher, 2 viewers, tiny load) with the peers
# reading every 20 ms (a period far above the default, so a mistake shows)
# for a 35 s window, longer than libnice's consent timeout (30 s, RFC 7675):
#   - the run passes and no peer failed: the server's answers to the bench's
#     consent checks reach libnice although nothing sleeps on its sockets;
#   - the datagrams really were read on the timer: the latency to the
#     hand-over (read time) has a p50 of several ms;
#   - the latency figure still comes from the kernel's receive stamp of each
#     datagram: (nearly) every sample stamped, its p50 well under the period
#     (a 35 s run had 2 of 6514 without a stamp, one with 1 ms none of 930).
# A second, short run with --rx-poll-us 0 (libnice's receive callback, each
# datagram waking the bench) must read at once: hand-over p50 under 2 ms.
# Prints "N passed, M failed"; exit 0 only when all passed. About 50 s.
set -u
cd "$(dirname "$0")/../.."

SFU=build/sfu
BENCH=build/sfu-bench
while [ $# -gt 0 ]; do
    case $1 in
    --sfu) SFU=$2; shift 2 ;;
    --bench) BENCH=$2; shift 2 ;;
    *) echo "usage: $0 [--sfu BIN] [--bench BIN]" >&2; exit 1 ;;
    esac
done

. tests/e2e/checks.sh   # after the cd to the repository root
tmp=$(mktemp -d /tmp/sfu-bench-rx.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
field() {   # field FILE KEY
    python3 -c "import json; v = json.load(open('$1')).get('$2'); print(-1 if v is None else v)" \
        2>/dev/null || echo -1
}
is() {      # is PYTHON_EXPR: 0 when it holds, else 1 (check's convention)
    python3 -c "print(int(not bool($1)))" 2>/dev/null || echo 1
}

"$BENCH" --quiet --sfu "$SFU" --rx-poll-us 20000 --duration 35 --json "$tmp/timer.json" \
    configs/bench/smoke.conf >"$tmp/timer.log" 2>&1
rc=$?
check "run with --rx-poll-us 20000, 35 s" "$rc" "exit $rc"
j=$tmp/timer.json
joined=$(field "$j" joined); failed=$(field "$j" failed); parts=$(field "$j" participants)
check "every peer joined and none failed past the consent timeout" \
    "$(is "$joined == $parts and $failed == 0 and $parts > 0")" "$joined/$parts joined, $failed failed"
check "the JSON names the method" "$(is "$(field "$j" bench_rx_poll_us) == 20000")" \
    "bench_rx_poll_us $(field "$j" bench_rx_poll_us)"
app=$(field "$j" latency_app_ms_p50)
check "read on the timer: hand-over latency p50 >= 4 ms" "$(is "$app >= 4")" "$app ms"
lat=$(field "$j" latency_ms_p50); samples=$(field "$j" latency_samples)
stamped=$(field "$j" latency_stamped)
check "latency from the kernel's stamps: p50 < 3 ms" "$(is "0 <= $lat < 3")" "$lat ms"
check "the latency samples stamped by the kernel (>= 99.9 %)" \
    "$(is "$samples > 0 and $stamped >= 0.999 * $samples")" "$stamped of $samples"

"$BENCH" --quiet --sfu "$SFU" --rx-poll-us 0 --json "$tmp/wake.json" configs/bench/smoke.conf \
    >"$tmp/wake.log" 2>&1
rc=$?
check "run with --rx-poll-us 0" "$rc" "exit $rc"
app=$(field "$tmp/wake.json" latency_app_ms_p50)
check "read as datagrams arrive: hand-over latency p50 < 2 ms" "$(is "0 <= $app < 2")" "$app ms"
if [ "$fail" -ne 0 ]; then
    sed 's/^/  /' "$tmp/timer.log" "$tmp/wake.log" | tail -n 40
fi
finish
