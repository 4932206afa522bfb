#!/bin/bash
# make bench-compare: the same one-to-many scenario against this SFU and
# against Janus 1.1.2 (VideoRoom, configs/bench/janus/), back to back on this
# machine, then the ratio table (ours / Janus) and build/bench-compare.json.
#
#   host: sfu-bench (cpu 1) and build/sfu (cpu 0, started by the bench)
#         10.77.0.1/30 on veth sbjNNNh
#   netns sfu-bench-janus-NNN: lo up, 10.77.0.2/30 on veth sbjNNNn,
#         janus (cpu 0) with HTTP on 10.77.0.2:8088 and RTP on 20000-20999
#
# Janus offers no loopback candidates, hence the namespace. The namespace, the
# veth pair and Janus go away on any exit (trap). Needs root, janus and jq.
# Usage: bench/compare.sh [SCENARIO_FILE] (default configs/bench/one-to-many.conf)
set -u
SCENARIO=${1:-configs/bench/one-to-many.conf}
BUILD=${BUILD:-build}
BENCH=$BUILD/sfu-bench
NS=sfu-bench-janus-$$
VH=sbj$$h
VN=sbj$$n
HOST_IP=10.77.0.1
NS_IP=10.77.0.2                 # as in configs/bench/janus/janus*.jcfg
URL=http://$NS_IP:8088/janus
TMP=$(mktemp -d /tmp/bench-compare.XXXXXX)
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

echo "== ours: build/sfu (cpu 0), $SCENARIO =="
"$BENCH" --quiet --sfu "$BUILD/sfu" --json "$BUILD/bench-ours.json" "$SCENARIO" ||
    die "the run against our SFU failed"
echo "== Janus 1.1.2 VideoRoom (cpu 0, pid $JPID, $URL), $SCENARIO =="
taskset -c 1 "$BENCH" --quiet --target janus --url "$URL" --sfu-pid "$JPID" \
    --json "$BUILD/bench-janus.json" "$SCENARIO" ||
    { tail -20 "$TMP/janus.log" >&2; die "the run against Janus failed"; }

KEYS="sfu_cpu_us_per_forwarded_packet latency_ms_p50 latency_ms_p95 latency_ms_p99"
KEYS="$KEYS join_ms_p50 join_ms_p95 rss_bytes_per_participant"
jq -n --slurpfile a "$BUILD/bench-ours.json" --slurpfile b "$BUILD/bench-janus.json" \
      --arg keys "$KEYS" '
    def ratio(x; y): if x == null or y == null or y == 0 then null else x / y end;
    ($keys | split(" ")) as $k
    | { scenario: $a[0].scenario, ours: $a[0], janus: $b[0] }
    + ( [ $k[] as $key | { key: ("ratio_" + ($key | sub("^sfu_"; ""))),
                             value: ratio($a[0][$key]; $b[0][$key]) } ] | from_entries )' \
    >"$BUILD/bench-compare.json" || die "cannot write $BUILD/bench-compare.json"

printf '\n== ours / Janus (%s) ==\n' "$SCENARIO"
printf '%-34s %14s %14s %10s\n' figure ours janus ratio
for key in $KEYS forwarded_packets_per_s loss_ratio; do
    rkey=ratio_${key#sfu_}
    jq -r --arg k "$key" --arg r "$rkey" --slurpfile a "$BUILD/bench-ours.json" \
          --slurpfile b "$BUILD/bench-janus.json" '
        def f: if . == null then "-" elif (. | type) == "number" then (. * 1000 | round / 1000 | tostring) else tostring end;
        [$k, ($a[0][$k] | f), ($b[0][$k] | f), (.[$r] | f)] | @tsv' "$BUILD/bench-compare.json"
done | while IFS=$'\t' read -r k a b r; do printf '%-34s %14s %14s %10s\n' "$k" "$a" "$b" "$r"; done
printf '%-34s %14s %14s\n' srtp_profile "$(jq -r .features.srtp "$BUILD/bench-ours.json")" \
    "$(jq -r .features.srtp "$BUILD/bench-janus.json")"
echo "bench-compare: wrote $BUILD/bench-compare.json"
