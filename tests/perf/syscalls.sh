#!/bin/bash
# Syscalls the sfu makes per forwarded packet in a steady one-to-many run,
# so that batched I/O cannot silently regress (issue 13).
#
#   tests/perf/syscalls.sh [--sfu build/sfu] [--bench build/sfu-bench] [--max 0.5]
#
# build/sfu-bench runs configs/bench/syscalls.conf (1 publisher, 8 viewers,
# 10 s window after 2 s of warm-up) against a sfu it starts itself; 4 s into
# the window `strace -c -f` attaches to the sfu for 4 s and counts every
# syscall of every thread. Forwarded packets per second come from the
# bench's JSON (the viewers' decrypted packets over its window; the run is
# steady, so the rate in the strace window is the same). strace slows the
# sfu, which changes time, not the number of syscalls per packet.
#
# What the figure is made of: per wake-up one epoll_wait and a recvmmsg
# of the worker's shared UDP port (media.udp_port, on by default: every
# session of the worker on one socket; up to 16 datagrams a call), shared by
# the 8 outputs of each publisher packet; one sendmmsg for everything the
# wake-up sends to every viewer (each message has its own destination);
# GLib's poll only when its descriptors or timeout are due. Measured (7 Dec,
# evening, this machine, shared port): 0.247, 0.267 against 0.734, 0.716 (main, a
# socket per session: a sendmmsg per viewer socket per wake-up); so the
# limit is now 0.5: a figure above it means the fan-out is no longer one
# send call (a socket per viewer again, or a flush per output). Before the
# shared port (7 Dec): 0.712-0.733 with the worker's own loop (GLib iterated only when
# due, timers in the worker's heap); 0.777-0.794 with GLib polling the
# worker's epoll set every wake-up and sendmmsg; 1.262-1.265 with the epoll set
# but one sendto per packet; 1.556-1.567 before both (GLib polled every
# socket, libnice read one datagram per recvmsg, GLib's wakeup eventfd was
# written twice per dispatch). (The limit was 1.0 then: without batched
# sends every forwarded packet costs at least its own send syscall.)
# Prints the counts and "N passed, M failed"; exit 0 only when all passed.
set -u
cd "$(dirname "$0")/../.."

SFU=build/sfu
BENCH=build/sfu-bench
MAX=0.5
while [ $# -gt 0 ]; do
    case $1 in
    --sfu) SFU=$2; shift 2 ;;
    --bench) BENCH=$2; shift 2 ;;
    --max) MAX=$2; shift 2 ;;
    *) echo "usage: $0 [--sfu BIN] [--bench BIN] [--max N]" >&2; exit 1 ;;
    esac
done

pass=0
fail=0
check() {   # check NAME OK DETAIL
    if [ "$2" = 1 ]; then pass=$((pass + 1)); echo "PASS $1 ($3)"
    else fail=$((fail + 1)); echo "FAIL $1 ($3)"; fi
}

if ! command -v strace >/dev/null; then
    echo "SKIP strace not installed"
    echo "0 passed, 0 failed"
    exit 0
fi

tmp=$(mktemp -d /tmp/sfu-syscalls.XXXXXX)
bench_pid=
cleanup() {
    [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

"$BENCH" --quiet --sfu "$SFU" --json "$tmp/bench.json" configs/bench/syscalls.conf \
    >"$tmp/bench.log" 2>&1 &
bench_pid=$!
sfu_pid=
for _ in $(seq 1 100); do
    sfu_pid=$(pgrep -P "$bench_pid" -x "$(basename "$SFU")" | head -1)
    [ -n "$sfu_pid" ] && break
    sleep 0.1
done
if [ -z "$sfu_pid" ]; then
    check "sfu started by the bench" 0 "no child process named $(basename "$SFU")"
    echo "$pass passed, $fail failed"
    exit 1
fi
# Joins take well under a second; then 2 s of warm-up; measure inside the window.
sleep 6
timeout -s INT 4 strace -c -f -p "$sfu_pid" -o "$tmp/strace.txt" >/dev/null 2>&1
wait "$bench_pid"
rc=$?
bench_pid=
check "bench run" "$([ $rc -eq 0 ] && echo 1 || echo 0)" "exit $rc"

pps=$(python3 -c "import json; print(json.load(open('$tmp/bench.json'))['forwarded_packets_per_s'] or 0)" 2>/dev/null)
total=$(awk '$NF == "total" { print $4 }' "$tmp/strace.txt")
# The window strace really covered: from its own -c table we cannot tell,
# so take the 4 s asked for (timeout sends SIGINT then; strace detaches).
echo "syscalls in 4 s: ${total:-none}; forwarded packets/s: ${pps:-none}"
head -n 14 "$tmp/strace.txt" | sed 's/^/  /'
if [ -z "$total" ] || [ -z "$pps" ] || [ "$(python3 -c "print(int($pps > 0))")" != 1 ]; then
    check "syscalls per forwarded packet" 0 "no count (strace attached? packets forwarded?)"
else
    per=$(python3 -c "print(f'{$total / ($pps * 4):.3f}')")
    ok=$(python3 -c "print(int($per <= $MAX))")
    check "syscalls per forwarded packet <= $MAX" "$ok" "$per"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
