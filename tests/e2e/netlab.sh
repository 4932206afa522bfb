#!/bin/bash
# The loss lab of issue 12 ("Calls that survive bad networks"): a Chromium
# publisher on a clean link -> the sfu -> a Chromium viewer behind nftables
# loss, one row of the issue's table per viewer session, each printing its
# figures and asserting its goal.
#
#   tests/e2e/netlab.sh [--sfu build/sfu] [--rows loss10,loss30,blackout]
#                       [--measure 10] [--report-only] [--set section.key=value]...
#                       [--log-dir DIR] [--simulcast]
#
# Needs root (ip netns, nft), Debian chromium and `npm ci` in tests/e2e.
# The lab is made and removed here, and nothing is sent anywhere else:
#
#   netns sfu-lab-pub-NNN                host                  netns sfu-lab-view-NNN
#   Chromium publisher   PUB_NS --veth-- PUB_HOST  VIEW_HOST --veth-- VIEW_NS   Chromium viewer
#   (clean link; route to VIEW_HOST      sfu: HTTP on          nft table inet lab:
#    via PUB_HOST for HTTP)              VIEW_HOST, ICE on     chains in/out, the rows' drops
#                                        both host ends
#
# Both browsers are in namespaces (the publisher's too), so no browser ever
# gathers or sends to the machine's own interface addresses. Each namespace
# has only its /30 (the publisher one host route more, for HTTP): the sfu's
# addresses are the only things either can reach. Rows (netlab.mjs has the details):
#   loss10    10 % random UDP loss both ways for --measure s: goal >= 19 fps, 0 freezes
#   loss30    30 % random UDP loss both ways: goal >= 15 fps, <= 1 s frozen,
#             <= 5 % of audio samples concealed
#   blackout  all UDP dropped for 2 s, then clear: goal video back <= 300 ms after
#   police250, police250_join, police_step  policers on the viewer's incoming UDP (netlab.mjs);
#             with --simulcast (the publisher sends three layers; pass
#             --set media.simulcast=true while that is off by default)
#   clean     no impairment for --measure s: goal >= 18 fps, and with
#             --simulcast the top layer (1280 wide)
# Loss is `numgen random mod 100 < N drop` on UDP only (TESTING.md, "Loss and
# delay"), so signaling over TCP is never hit.
#
# --report-only: print the figures, goals as INFO lines that never fail
# (setup checks still do). --set: extra sfu config, as sfu_fixture.py.
# --log-dir: keep the sfu's and both browsers' logs there (sfu.log, pub.log,
# view.log); the sfu inherits the environment (G_MESSAGES_DEBUG, NICE_DEBUG).
# Prints PASS/FAIL/FIGURE lines and ends with "N passed, M failed"; exit 0
# only when every check passed. When namespaces cannot be made here it
# prints a SKIP line and "0 passed, 0 failed" and exits 0.
set -u
cd "$(dirname "$0")/../.."

SFU=build/sfu
ROWS=loss10,loss30,blackout
MEASURE=10
REPORT_ONLY=
SETS=()
LOG_DIR=
SIMULCAST=
while [ $# -gt 0 ]; do
    case $1 in
    --sfu) SFU=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --measure) MEASURE=$2; shift 2 ;;
    --report-only) REPORT_ONLY=--report-only; shift ;;
    --set) SETS+=("$2"); shift 2 ;;
    --log-dir) LOG_DIR=$2; shift 2 ;;
    --simulcast) SIMULCAST=--simulcast; shift ;;
    *) echo "usage: $0 [--sfu PATH] [--rows loss10,loss30,blackout] [--measure S] [--report-only] [--set section.key=value]... [--log-dir DIR]" >&2
       exit 2 ;;
    esac
done

. tests/e2e/checks.sh   # after the cd to the repository root

NS_PUB=sfu-lab-pub-$$
NS_VIEW=sfu-lab-view-$$
VP=nlp$$h     # host ends; each peer goes into its namespace
VV=nlv$$h
TMP=$(mktemp -d /tmp/sfu-netlab-XXXXXX)
SFU_PID=
PUB_PID=
VIEW_PID=
# A 10.201-250.x.0/24 that no interface here uses: .0/30 for the viewer,
# .4/30 for the publisher. The pid keeps parallel runs' names apart.
for _ in $(seq 20); do
    NET=10.$((201 + RANDOM % 50)).$((RANDOM % 256))
    ip -o addr show | grep -q " inet $NET\." || break
done
VIEW_HOST=$NET.1; VIEW_NS=$NET.2
PUB_HOST=$NET.5;  PUB_NS=$NET.6

stop_pid() {   # stop_pid PID: SIGTERM, 5 s, SIGKILL
    kill -TERM "$1" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
}
cleanup() {
    [ -n "$VIEW_PID" ] && stop_pid "$VIEW_PID"
    [ -n "$PUB_PID" ] && stop_pid "$PUB_PID"
    # Whatever is left in our namespaces was started by this script.
    for ns in "$NS_VIEW" "$NS_PUB"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    [ -n "$SFU_PID" ] && stop_pid "$SFU_PID"
    ip netns exec "$NS_VIEW" nft delete table inet lab 2>/dev/null
    ip link del "$VV" 2>/dev/null        # takes its peer in the namespace along
    ip link del "$VP" 2>/dev/null
    ip netns del "$NS_VIEW" 2>/dev/null
    ip netns del "$NS_PUB" 2>/dev/null
    if [ -n "$LOG_DIR" ]; then
        mkdir -p "$LOG_DIR" && cp "$TMP"/*.log "$LOG_DIR"/ 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() {
    echo "SKIP netlab: $1"
    echo "0 passed, 0 failed"
    exit 0
}
if [ "$(id -u)" -ne 0 ]; then skip "needs root for ip netns and nft"; fi
if ! command -v nft >/dev/null; then skip "nft is not installed"; fi
if ! ip netns add "$NS_VIEW" 2>"$TMP/err"; then skip "ip netns add failed: $(cat "$TMP/err")"; fi

set -e
ip netns add "$NS_PUB"
# veth: host end $1 with address $2, the other end into namespace $3 with $4.
veth() {
    ip link add "$1" type veth peer name "${1%h}n"
    ip link set "${1%h}n" netns "$3"
    ip addr add "$2/30" dev "$1"
    ip link set "$1" up
    ip netns exec "$3" ip link set lo up
    ip netns exec "$3" ip addr add "$4/30" dev "${1%h}n"
    ip netns exec "$3" ip link set "${1%h}n" up
}
veth "$VV" "$VIEW_HOST" "$NS_VIEW" "$VIEW_NS"
veth "$VP" "$PUB_HOST" "$NS_PUB" "$PUB_NS"
ip netns exec "$NS_PUB" ip route add "$VIEW_HOST/32" via "$PUB_HOST"
ip netns exec "$NS_VIEW" nft add table inet lab
ip netns exec "$NS_VIEW" nft add chain inet lab in '{ type filter hook input priority 0; }'
ip netns exec "$NS_VIEW" nft add chain inet lab out '{ type filter hook output priority 0; }'
set +e
echo "INFO viewer netns $NS_VIEW ($VIEW_NS), publisher netns $NS_PUB ($PUB_NS), sfu on $VIEW_HOST"

# The sfu: its default config but for HTTP on VIEW_HOST and ICE on both
# host ends (each browser's media stays on its own veth; media sent from
# VIEW_HOST to the publisher's namespace did not arrive there in a trial);
# port 0 lets it pick the HTTP port, read back from its log.
LO=$((10000 + RANDOM % 200 * 100))
{
    echo "[http]"
    echo "listen = $VIEW_HOST:0"
    echo "[media]"
    echo "port_min = $LO"
    echo "port_max = $((LO + 99))"
    echo "gather_addresses = $VIEW_HOST, $PUB_HOST"
    # --set section.key=value: a group of its own per key (the loader
    # merges repeated groups).
    for s in ${SETS[@]+"${SETS[@]}"}; do
        k=${s%%=*}
        echo "[${k%%.*}]"
        echo "${k#*.} = ${s#*=}"
    done
} >"$TMP/sfu.ini"
"$SFU" --config "$TMP/sfu.ini" >"$TMP/sfu.log" 2>&1 </dev/null &
SFU_PID=$!
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/.*msg=server.started port=\([0-9]*\).*/\1/p' "$TMP/sfu.log" | head -n1)
    [ -n "$PORT" ] && curl -sf --noproxy '*' -o /dev/null "http://$VIEW_HOST:$PORT/health" && break
    kill -0 "$SFU_PID" 2>/dev/null || break
    PORT=
    sleep 0.1
done
if [ -z "$PORT" ]; then
    check "sfu started on $VIEW_HOST" 1 "$(tail -n 20 "$TMP/sfu.log")"
    finish
fi
URL="http://$VIEW_HOST:$PORT"
ROOM=netlab-$$-$RANDOM
echo "INFO sfu at $URL, media ports $LO-$((LO + 99)), room $ROOM"

# in_ns NS LOG ARGS...: netlab.mjs in a namespace, in the background (so a
# signal reaches the trap at once). TMPDIR puts Chromium's profile under $TMP.
in_ns() {
    local ns=$1 log=$2; shift 2
    ip netns exec "$ns" env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY \
        TMPDIR="$TMP" node tests/e2e/netlab.mjs --url "$URL" --room "$ROOM" \
        --participant-file "$TMP/participant" "$@" >"$log" 2>&1 </dev/null &
}
# fold LOG: its lines (but the wrapper's noise and its summary) into ours,
# its counts into ours.
fold() {
    grep -Ev 'unexpected operator|^[0-9]+ passed, [0-9]+ failed$' "$1"
    local cp cf
    read -r cp cf < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$1" | tail -n1)
    pass=$((pass + ${cp:-0}))
    fail=$((fail + ${cf:-0}))
    [ -n "$cp" ]
}

in_ns "$NS_PUB" "$TMP/pub.log" --role publisher $SIMULCAST
PUB_PID=$!
for _ in $(seq 300); do
    [ -s "$TMP/participant" ] && break
    kill -0 "$PUB_PID" 2>/dev/null || break
    sleep 0.1
done
if [ ! -s "$TMP/participant" ]; then
    fold "$TMP/pub.log"
    check "publisher published" 1 "no participant id within 30 s"
    tail -n 20 "$TMP/sfu.log"
    finish
fi

: >"$TMP/view.log"   # tail -f below must find it, however late the viewer starts
in_ns "$NS_VIEW" "$TMP/view.log" --role viewer --rows "$ROWS" --measure "$MEASURE" \
    --nft-table lab $REPORT_ONLY $SIMULCAST
VIEW_PID=$!
tail -n +1 -f --pid="$VIEW_PID" "$TMP/view.log" |
    grep --line-buffered -Ev 'unexpected operator|^[0-9]+ passed, [0-9]+ failed$' &
TAIL_PID=$!
wait "$VIEW_PID"
view_rc=$?
VIEW_PID=
wait "$TAIL_PID"
read -r cp cf < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$TMP/view.log" | tail -n1)
pass=$((pass + ${cp:-0}))
fail=$((fail + ${cf:-0}))
if [ "$view_rc" -ne 0 ] && [ "${cf:-0}" -eq 0 ]; then
    check "viewer ran" 1 "exit status $view_rc"
fi

touch "$TMP/participant.stop"
for _ in $(seq 100); do kill -0 "$PUB_PID" 2>/dev/null || break; sleep 0.1; done
wait "$PUB_PID"
pub_rc=$?
PUB_PID=
if ! fold "$TMP/pub.log" || { [ "$pub_rc" -ne 0 ] && ! grep -q '^FAIL' "$TMP/pub.log"; }; then
    check "publisher ran" 1 "exit status $pub_rc"
fi

alive=1; kill -0 "$SFU_PID" 2>/dev/null && alive=0
check "sfu still running" "$alive"
kill -TERM "$SFU_PID" 2>/dev/null
status=
for _ in $(seq 50); do
    if ! kill -0 "$SFU_PID" 2>/dev/null; then wait "$SFU_PID"; status=$?; break; fi
    sleep 0.1
done
done_pid=$SFU_PID
[ -z "$status" ] && { kill -KILL "$SFU_PID" 2>/dev/null; wait "$SFU_PID"; status=killed; }
SFU_PID=
check "sfu exits 0 on SIGTERM" "$([ "$status" = 0 ]; echo $?)" "pid $done_pid, status $status"
if [ "$fail" -ne 0 ]; then
    echo "---- sfu log tail"
    tail -n 25 "$TMP/sfu.log"
fi
finish
