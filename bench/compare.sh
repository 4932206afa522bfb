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
# (trap). A run that fails is tried once more (logged; Janus 1.1.2 now and
# then answers a meeting publisher without SDP); a scenario whose retry fails
# too is reported, dropped from the tables, and the next one runs; the exit
# status is 1 if any was dropped. Needs root, janus and jq.
#
# One run of a server is noisy on a shared machine (the same binary moved by
# 3x between runs), so every scenario runs ROUNDS times, alternating ours and
# Janus (ours first in odd rounds, Janus first in even ones), and the tables
# give the median of each figure with its min-max, and the ratio of the
# medians. The host pauses this VM's vCPU now and then, and the paused time is
# charged to whichever server was running: each figure is also given without
# the seconds the bench marks as such stalls (`..._steady`), for both servers,
# with its own ratio. DURATION overrides the scenarios' measuring windows (seconds;
# empty: each scenario's own duration_s). RX_POLL_US, when set, is passed to
# every run as --rx-poll-us (how the bench's peers read: 0, each datagram
# wakes the bench, as before 8 Dec; empty: the bench's default, a 1 ms timer).
# Usage: [ROUNDS=3] [DURATION=10] [RX_POLL_US=] bench/compare.sh [SCENARIO_FILE...]
#        (default: configs/bench/{one-to-many,meeting,voice-calls,voice-calls-whip-whep}.conf)
set -u
if [ $# -eq 0 ]; then
    set -- configs/bench/one-to-many.conf configs/bench/meeting.conf configs/bench/voice-calls.conf \
        configs/bench/voice-calls-whip-whep.conf
fi
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION-10}
RX_POLL_US=${RX_POLL_US:-}
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

case $ROUNDS in ''|*[!0-9]*|0) die "ROUNDS must be a positive integer, not '$ROUNDS'" ;; esac
case $DURATION in ''|[0-9]*) ;; *) die "DURATION must be seconds or empty, not '$DURATION'" ;; esac
case $RX_POLL_US in ''|[0-9]*) ;; *) die "RX_POLL_US must be microseconds or empty, not '$RX_POLL_US'" ;; esac
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

KEYS="sfu_cpu_us_per_forwarded_packet sfu_cpu_us_per_forwarded_packet_steady latency_ms_p50 latency_ms_p95 latency_ms_p99"
KEYS="$KEYS join_ms_p50 join_ms_p95 rss_bytes_per_participant"
MKEYS="$KEYS forwarded_packets_per_s loss_ratio bench_cpu_seconds duration_s"

# One scenario's build/bench-compare-<name>.json from its rounds: every run
# (ours_runs, janus_runs), per figure the median over the rounds and the
# spread (min, max), the ratio of the medians, and as `ours` / `janus` the run
# whose CPU per packet is the median (the upper one of an even count).
combine() {  # out.json ours1.json janus1.json ours2.json janus2.json ...
    local out=$1; shift
    local ours=() janus=()
    while [ $# -ge 2 ]; do ours+=("$1"); janus+=("$2"); shift 2; done
    jq -n --slurpfile a <(cat "${ours[@]}") --slurpfile b <(cat "${janus[@]}") \
        --arg keys "$KEYS" --arg mkeys "$MKEYS" '
        def ratio(x; y): if x == null or y == null or y == 0 then null else x / y end;
        def median: map(select(. != null)) | sort
            | if length == 0 then null
              elif length % 2 == 1 then .[length / 2 | floor]
              else (.[length / 2 - 1] + .[length / 2]) / 2 end;
        def stats(runs; k): [runs[][k]] as $v | ($v | map(select(. != null))) as $n
            | { median: ($v | median),
                min: (if ($n | length) == 0 then null else ($n | min) end),
                max: (if ($n | length) == 0 then null else ($n | max) end) };
        def mid(runs): runs | sort_by(.sfu_cpu_us_per_forwarded_packet // 0) | .[length / 2 | floor];
        ($keys | split(" ")) as $k | ($mkeys | split(" ")) as $mk
        | { scenario: $a[0].scenario, rounds: ($a | length),
            ours: mid($a), janus: mid($b), ours_runs: $a, janus_runs: $b,
            ours_median: ([ $mk[] as $key | { key: $key, value: stats($a; $key) } ] | from_entries),
            janus_median: ([ $mk[] as $key | { key: $key, value: stats($b; $key) } ] | from_entries),
            ratio_cpu_us_per_forwarded_packet_per_round:
              [ range(0; [($a | length), ($b | length)] | min) as $i
                | ratio($a[$i].sfu_cpu_us_per_forwarded_packet; $b[$i].sfu_cpu_us_per_forwarded_packet) ] }
        | . + ( [ $k[] as $key | { key: ("ratio_" + ($key | sub("^sfu_"; ""))),
                                   value: ratio(.ours_median[$key].median; .janus_median[$key].median) } ]
                | from_entries )' >"$out"
}

# The detailed table of one scenario: medians over the rounds, min-max.
detail() {  # compare.json
    printf '%-40s %24s %24s %8s\n' "figure (median, min-max)" ours janus ratio
    for key in $KEYS forwarded_packets_per_s loss_ratio; do
        jq -r --arg k "$key" --arg r "ratio_${key#sfu_}" '
            def f: if . == null then "-" elif type == "number" then (. * 1000 | round / 1000 | tostring) else tostring end;
            def s(m): "\(m.median | f) (\(m.min | f)-\(m.max | f))";
            [$k, s(.ours_median[$k]), s(.janus_median[$k]), (.[$r] | f)] | @tsv' "$1"
    done | while IFS=$'\t' read -r k a b r; do printf '%-40s %24s %24s %8s\n' "$k" "$a" "$b" "$r"; done
    printf '%-40s %24s %24s\n' srtp_profile "$(jq -r .ours.features.srtp "$1")" \
        "$(jq -r .janus.features.srtp "$1")"
    printf '%-40s %s\n' "cpu ratio per round" \
        "$(jq -r '[.ratio_cpu_us_per_forwarded_packet_per_round[] | if . == null then "-" else (. * 100 | round / 100 | tostring) end] | join(" ")' "$1")"
}

# One row of the summary (markdown), medians over the rounds: CPU µs/pkt ours
# (min-max) / Janus (min-max) and the ratio of the medians (with the range of
# the per-round ratios), latency p50/p95/p99 both, RSS per participant both,
# join p50 both, loss, and the bench's own CPU as a share of its core (its
# highest round: near 100 %, it, not the server, was the limit).
row() {  # compare.json
    jq -r '
        def n(d): if . == null then "-" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
        def kib: if . == null then "-" else (. / 1024 | round | tostring) end;
        def core(runs): [runs[] | select(.bench_cpu_seconds != null and (.duration_s // 0) > 0)
                               | .bench_cpu_seconds / .duration_s * 100]
                        | if length == 0 then "-" else (max | round | tostring) + " %" end;
        def rr: [.ratio_cpu_us_per_forwarded_packet_per_round[] | select(. != null)]
                | if length == 0 then "-" else "\(min | n(2))-\(max | n(2))" end;
        .ours_median as $o | .janus_median as $j
        | "| \(.scenario) | \(.rounds) | \($o.forwarded_packets_per_s.median | n(0)) / \($j.forwarded_packets_per_s.median | n(0))"
        + " | \($o.sfu_cpu_us_per_forwarded_packet.median | n(1)) (\($o.sfu_cpu_us_per_forwarded_packet.min | n(1))-\($o.sfu_cpu_us_per_forwarded_packet.max | n(1)))"
        + " / \($j.sfu_cpu_us_per_forwarded_packet.median | n(1)) (\($j.sfu_cpu_us_per_forwarded_packet.min | n(1))-\($j.sfu_cpu_us_per_forwarded_packet.max | n(1)))"
        + " | \(.ratio_cpu_us_per_forwarded_packet | n(2)) (\(rr))"
        + " | \($o.sfu_cpu_us_per_forwarded_packet_steady.median | n(1)) / \($j.sfu_cpu_us_per_forwarded_packet_steady.median | n(1)) = \(.ratio_cpu_us_per_forwarded_packet_steady | n(2))"
        + " | \($o.latency_ms_p50.median | n(2)) / \($o.latency_ms_p95.median | n(1)) / \($o.latency_ms_p99.median | n(1))"
        + " | \($j.latency_ms_p50.median | n(2)) / \($j.latency_ms_p95.median | n(1)) / \($j.latency_ms_p99.median | n(1))"
        + " | \($o.rss_bytes_per_participant.median | kib) / \($j.rss_bytes_per_participant.median | kib)"
        + " | \($o.join_ms_p50.median | n(0)) / \($j.join_ms_p50.median | n(0))"
        + " | \($o.loss_ratio.max | n(4)) / \($j.loss_ratio.max | n(4))"
        + " | \(core(.ours_runs)) / \(core(.janus_runs)) |"' "$1"
}

run_ours() {  # scenario out.json
    "$BENCH" --quiet --sfu "$BUILD/sfu" $DURATION_ARG $RX_ARG --json "$2" "$1"
}
run_janus() {  # scenario out.json
    taskset -c 1 "$BENCH" --quiet --target janus --url "$URL" --sfu-pid "$JPID" \
        $DURATION_ARG $RX_ARG --json "$2" "$1"
}

# run_once WHO SCENARIO OUT: one run, against ours or janus, and a second
# when the first fails. Each failure is logged; the status is the last run's.
run_once() {
    local who=$1 try label
    if [ "$who" = ours ]; then label="our SFU"; else label=Janus; fi
    for try in 1 2; do
        rm -f "$3"
        if [ "$who" = ours ]; then run_ours "$2" "$3"; else run_janus "$2" "$3"; fi && return 0
        [ "$who" = janus ] && tail -20 "$TMP/janus.log" >&2
        if [ $try -eq 1 ]; then
            echo "bench-compare: $name round $round: the run against $label failed; retrying it once" >&2
            retried+=("$name round $round ($label)")
        fi
    done
    echo "bench-compare: $name round $round: the retry against $label failed too" >&2
    return 1
}

DURATION_ARG=
[ -n "$DURATION" ] && DURATION_ARG="--duration $DURATION"
RX_ARG=
[ -n "$RX_POLL_US" ] && RX_ARG="--rx-poll-us $RX_POLL_US"
declare -A runs failed_name
retried=()
failed=0
for f in "$@"; do runs[$(basename "$f" .conf)]=; done
# Rounds alternate the order (ours first in odd rounds, Janus first in even
# ones), so a drift of the machine's load over the run does not favour one.
for round in $(seq "$ROUNDS"); do
    for SCENARIO in "$@"; do
        name=$(basename "$SCENARIO" .conf)
        [ -n "${failed_name[$name]:-}" ] && continue
        OURS=$BUILD/bench-ours-$name-$round.json
        JAN=$BUILD/bench-janus-$name-$round.json
        rm -f "$OURS" "$JAN"
        if [ $((round % 2)) -eq 1 ]; then order="ours janus"; else order="janus ours"; fi
        ok=1
        for who in $order; do
            if [ "$who" = ours ]; then
                echo "== $name round $round/$ROUNDS: ours, $BUILD/sfu (cpu 0) =="
                run_once ours "$SCENARIO" "$OURS" || { ok=0; break; }
            else
                echo "== $name round $round/$ROUNDS: Janus 1.1.2 VideoRoom (cpu 0, pid $JPID, $URL) =="
                run_once janus "$SCENARIO" "$JAN" || { ok=0; break; }
            fi
        done
        if [ $ok -eq 0 ]; then
            echo "bench-compare: $name: dropped (a run and its retry failed)" >&2
            failed=1; failed_name[$name]=1; continue
        fi
        jq -r '"   ours \(.sfu_cpu_us_per_forwarded_packet) us/pkt"' "$OURS"
        jq -r '"   janus \(.sfu_cpu_us_per_forwarded_packet) us/pkt"' "$JAN"
        runs[$name]="${runs[$name]} $OURS $JAN"
    done
done

rows=()
for SCENARIO in "$@"; do
    name=$(basename "$SCENARIO" .conf)
    [ -n "${failed_name[$name]:-}" ] && continue
    OUT=$BUILD/bench-compare-$name.json
    rm -f "$OUT"
    # shellcheck disable=SC2086
    combine "$OUT" ${runs[$name]} || die "cannot write $OUT"
    # The median run under the old names, for whoever reads them.
    jq .ours "$OUT" >"$BUILD/bench-ours-$name.json"
    jq .janus "$OUT" >"$BUILD/bench-janus-$name.json"
    printf '\n== %s: ours / Janus, %s round(s) ==\n' "$name" "$ROUNDS"
    detail "$OUT"
    rows+=("$(row "$OUT")")
    echo "bench-compare: wrote $OUT"
done

{
    echo "| scenario | rounds | fwd pkt/s ours / Janus | CPU µs/pkt ours (min-max) / Janus (min-max) | ratio of medians (per round) | without vCPU stalls: CPU µs/pkt ours / Janus = ratio | latency p50 / p95 / p99 ms ours | Janus | RSS/participant KiB ours / Janus | join p50 ms ours / Janus | loss (worst) ours / Janus | bench CPU (of its core, worst) ours / Janus |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for r in "${rows[@]}"; do echo "$r"; done
} >"$SUMMARY"
printf '\n== summary (%s): medians over %s round(s) ==\n' "$SUMMARY" "$ROUNDS"
cat "$SUMMARY"
for r in "${retried[@]}"; do echo "bench-compare: failed once, retried: $r"; done
for name in "${!failed_name[@]}"; do echo "bench-compare: dropped (failed twice): $name"; done
exit $failed
