#!/bin/bash
# make bench-compare: every scenario against this SFU and against Janus 1.1.2
# (VideoRoom, configs/bench/janus/), back to back on this machine: one JSON
# per scenario (build/bench-compare-<name>.json: ours, janus and the ratios)
# and a summary table (printed and in build/bench-compare-summary.md).
#
#   host: sfu-bench (cpu 1) and build/sfu (cpu 0, started by the bench)
#         10.77.0.1/30 on veth sbjNNNh
#   netns sfu-bench-janus-NNN: lo up, 10.77.0.2/30 on veth sbjNNNn,
#         janus (cpu 0) with HTTP on 10.77.0.2:8088 and RTP on 20000-20999
#
# Janus offers no loopback candidates, hence the namespace. One Janus serves
# every scenario (each run destroys its sessions; voice calls create a room
# per call). The namespace, the veth pair and Janus go away on any exit
# (trap). A scenario whose run fails is reported and the next one runs; the
# exit status is 1 if any failed. Needs root, janus and jq.
# Usage: bench/compare.sh [SCENARIO_FILE...]
#        (default: configs/bench/{one-to-many,meeting,voice-calls}.conf)
set -u
if [ $# -eq 0 ]; then
    set -- configs/bench/one-to-many.conf configs/bench/meeting.conf configs/bench/voice-calls.conf
fi
BUILD=${BUILD:-build}
BENCH=$BUILD/sfu-bench
NS=sfu-bench-janus-$$
VH=sbj$$h
VN=sbj$$n
HOST_IP=10.77.0.1
NS_IP=10.77.0.2                 # as in configs/bench/janus/janus*.jcfg
URL=http://$NS_IP:8088/janus
TMP=$(mktemp -d /tmp/bench-compare.XXXXXX)
SUMMARY=$BUILD/bench-compare-summary.md
JPID=

die() { echo "bench-compare: $*" >&2; exit 1; }

cleanup() {
    [ -n "$JPID" ] && kill -TERM "$JPID" 2>/dev/null && sleep 1
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip link del "$VH" 2>/dev/null        # takes its peer in the namespace along
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "needs root (ip netns)"
command -v janus >/dev/null || die "janus is not installed (apt-get install janus)"
command -v jq >/dev/null || die "jq is not installed (apt-get install jq)"
[ -x "$BENCH" ] && [ -x "$BUILD/sfu" ] || die "build $BENCH and $BUILD/sfu first"
for f in "$@"; do [ -r "$f" ] || die "no scenario file $f"; done
ip -4 addr | grep -q " 10\.77\.0\." && die "10.77.0.0/30 is in use (another bench-compare?)"

ip netns add "$NS" || die "ip netns add failed"
ip link add "$VH" type veth peer name "$VN" || die "ip link add failed"
ip link set "$VN" netns "$NS"
ip addr add "$HOST_IP/30" dev "$VH"
ip link set "$VH" up
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip addr add "$NS_IP/30" dev "$VN"
ip netns exec "$NS" ip link set "$VN" up

# The same core as our SFU gets from the bench (cpu 0); the bench on cpu 1.
ip netns exec "$NS" taskset -c 0 janus -F configs/bench/janus -C configs/bench/janus/janus.jcfg \
    --disable-colors >"$TMP/janus.log" 2>&1 &
JPID=$!
for _ in $(seq 50); do
    curl -s -m 1 -o /dev/null -X POST -d '{"janus":"info","transaction":"x"}' "$URL" && break
    sleep 0.2
done
kill -0 "$JPID" 2>/dev/null || { cat "$TMP/janus.log" >&2; die "Janus did not start"; }

KEYS="sfu_cpu_us_per_forwarded_packet latency_ms_p50 latency_ms_p95 latency_ms_p99"
KEYS="$KEYS join_ms_p50 join_ms_p95 rss_bytes_per_participant"

# One scenario's build/bench-compare-<name>.json from the two runs.
combine() {  # ours.json janus.json out.json
    jq -n --slurpfile a "$1" --slurpfile b "$2" --arg keys "$KEYS" '
        def ratio(x; y): if x == null or y == null or y == 0 then null else x / y end;
        ($keys | split(" ")) as $k
        | { scenario: $a[0].scenario, ours: $a[0], janus: $b[0] }
        + ( [ $k[] as $key | { key: ("ratio_" + ($key | sub("^sfu_"; ""))),
                                 value: ratio($a[0][$key]; $b[0][$key]) } ] | from_entries )' \
        >"$3"
}

# The detailed table of one scenario, as before.
detail() {  # compare.json
    printf '%-34s %14s %14s %10s\n' figure ours janus ratio
    for key in $KEYS forwarded_packets_per_s loss_ratio; do
        jq -r --arg k "$key" --arg r "ratio_${key#sfu_}" '
            def f: if . == null then "-" elif type == "number" then (. * 1000 | round / 1000 | tostring) else tostring end;
            [$k, (.ours[$k] | f), (.janus[$k] | f), (.[$r] | f)] | @tsv' "$1"
    done | while IFS=$'\t' read -r k a b r; do printf '%-34s %14s %14s %10s\n' "$k" "$a" "$b" "$r"; done
    printf '%-34s %14s %14s\n' srtp_profile "$(jq -r .ours.features.srtp "$1")" \
        "$(jq -r .janus.features.srtp "$1")"
}

# One row of the summary (markdown): CPU µs/pkt ours / Janus (ratio), latency
# p50/p95/p99 both, RSS per participant both, join p50 both, and the bench's
# own CPU as a share of its core in either run (near 100 %: it, not the
# server, was the limit).
row() {  # compare.json
    jq -r '
        def n(d): if . == null then "-" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
        def kib: if . == null then "-" else (. / 1024 | round | tostring) end;
        def core(r): if r.bench_cpu_seconds == null or r.duration_s == null or r.duration_s == 0
                     then "-" else (r.bench_cpu_seconds / r.duration_s * 100 | round | tostring) + " %" end;
        "| \(.scenario) | \(.ours.forwarded_packets_per_s | n(0)) / \(.janus.forwarded_packets_per_s | n(0))"
        + " | \(.ours.sfu_cpu_us_per_forwarded_packet | n(1)) / \(.janus.sfu_cpu_us_per_forwarded_packet | n(1)) (\(.ratio_cpu_us_per_forwarded_packet | n(2)))"
        + " | \(.ours.latency_ms_p50 | n(2)) / \(.ours.latency_ms_p95 | n(1)) / \(.ours.latency_ms_p99 | n(1))"
        + " | \(.janus.latency_ms_p50 | n(2)) / \(.janus.latency_ms_p95 | n(1)) / \(.janus.latency_ms_p99 | n(1))"
        + " | \(.ours.rss_bytes_per_participant | kib) / \(.janus.rss_bytes_per_participant | kib)"
        + " | \(.ours.join_ms_p50 | n(0)) / \(.janus.join_ms_p50 | n(0))"
        + " | \(.ours.loss_ratio | n(4)) / \(.janus.loss_ratio | n(4))"
        + " | \(core(.ours)) / \(core(.janus)) |"' "$1"
}

failed=0
rows=()
for SCENARIO in "$@"; do
    name=$(basename "$SCENARIO" .conf)
    OURS=$BUILD/bench-ours-$name.json
    JAN=$BUILD/bench-janus-$name.json
    OUT=$BUILD/bench-compare-$name.json
    rm -f "$OURS" "$JAN" "$OUT"
    echo "== $name: ours, build/sfu (cpu 0) =="
    if ! "$BENCH" --quiet --sfu "$BUILD/sfu" --json "$OURS" "$SCENARIO"; then
        echo "bench-compare: $name: the run against our SFU failed" >&2
        failed=1
        continue
    fi
    echo "== $name: Janus 1.1.2 VideoRoom (cpu 0, pid $JPID, $URL) =="
    if ! taskset -c 1 "$BENCH" --quiet --target janus --url "$URL" --sfu-pid "$JPID" \
            --json "$JAN" "$SCENARIO"; then
        tail -20 "$TMP/janus.log" >&2
        echo "bench-compare: $name: the run against Janus failed" >&2
        failed=1
        continue
    fi
    combine "$OURS" "$JAN" "$OUT" || die "cannot write $OUT"
    printf '\n== %s: ours / Janus ==\n' "$name"
    detail "$OUT"
    rows+=("$(row "$OUT")")
    echo "bench-compare: wrote $OUT"
done

{
    echo "| scenario | fwd pkt/s ours / Janus | CPU µs/pkt ours / Janus (ratio) | latency p50 / p95 / p99 ms ours | Janus | RSS/participant KiB ours / Janus | join p50 ms ours / Janus | loss ours / Janus | bench CPU (of its core) ours / Janus |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for r in "${rows[@]}"; do echo "$r"; done
} >"$SUMMARY"
printf '\n== summary (%s) ==\n' "$SUMMARY"
cat "$SUMMARY"
exit $failed
