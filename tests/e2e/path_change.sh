#!/bin/bash
# A client whose network address changes mid-call (RFC 8445 ICE restart),
# with real Chromium, past libnice's 10 s consent timeout.
#
#   tests/e2e/path_change.sh [--sfu build/sfu] [--outage 12]
#
# Needs root (ip netns) and `npm ci` in tests/e2e. The script builds its own
# little network and sends nothing anywhere else:
#
#   host: sfu (HTTP + ICE on HOST_IP only)  HOST_IP/29 on veth pchNNNh
#                                                 |
#   netns sfu-pathch-NNN: lo up (page server),  NS_IP/29 on veth pchNNNn,
#       `node chromium_path_change.mjs` (Chromium publisher + viewer)
#
# The sfu runs the default config but for its addresses. The client
# publishes and views, then moves the namespace's address from NS_IP to
# NEW_IP (same /29), waits --outage seconds and restarts ICE on both pages
# (see chromium_path_change.mjs for its checks), then moves it again to
# THIRD_IP and restarts the other way round (PATCH first, then trickle).
# Then chromium_page_restart.mjs: the call page and the broadcast page, on
# their own, through a third move to FOURTH_IP.
# This script adds: the sfu logged `ice.consent_lost` (libnice did notice,
# and the session stayed), `ice.restart generations=2` for every restart (a
# new ICE generation next to the old one) and `ice.path_changed` for both
# sessions on each move, no session ended by itself, and
# the sfu exits 0 on SIGTERM. Everything goes away on any exit (trap).
# Prints PASS/FAIL lines and "N passed, M failed"; exit 0 only when every
# check passed; a SKIP line and "0 passed, 0 failed" without network
# namespaces.
set -u
cd "$(dirname "$0")/../.."

SFU=build/sfu
OUTAGE=12
while [ $# -gt 0 ]; do
    case $1 in
    --sfu) SFU=$2; shift 2 ;;
    --outage) OUTAGE=$2; shift 2 ;;
    *) echo "usage: $0 [--sfu PATH] [--outage SECONDS]" >&2; exit 2 ;;
    esac
done

. tests/e2e/checks.sh   # after the cd to the repository root

# Names and addresses of our own: the pid keeps parallel runs apart, and a
# /29 in 10.201-250.x.0 that no interface here uses yet.
NS=sfu-pathch-$$
VH=pch$$h
VN=pch$$n
TMP=$(mktemp -d /tmp/sfu-pathch-XXXXXX)
SFU_PID=
CLIENT_PID=
for _ in $(seq 20); do
    NET=10.$((201 + RANDOM % 50)).$((RANDOM % 256))
    ip -o addr show | grep -q " inet $NET\." || break
done
HOST_IP=$NET.1
NS_IP=$NET.2
NEW_IP=$NET.3
THIRD_IP=$NET.4
FOURTH_IP=$NET.5

cleanup() {
    if [ -n "$CLIENT_PID" ]; then
        kill -TERM "$CLIENT_PID" 2>/dev/null    # playwright closes its Chromium on SIGTERM
        for _ in $(seq 50); do kill -0 "$CLIENT_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    # Whatever is left in our namespace was started by this script.
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    if [ -n "$SFU_PID" ] && kill -0 "$SFU_PID" 2>/dev/null; then
        kill -TERM "$SFU_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$SFU_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SFU_PID" 2>/dev/null
    fi
    ip link del "$VH" 2>/dev/null        # takes its peer in the namespace along
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() {
    echo "SKIP path change: $1"
    echo "0 passed, 0 failed"
    exit 0
}
if [ "$(id -u)" -ne 0 ]; then skip "needs root for ip netns"; fi
if ! ip netns add "$NS" 2>"$TMP/err"; then skip "ip netns add failed: $(cat "$TMP/err")"; fi

set -e
ip link add "$VH" type veth peer name "$VN"
ip link set "$VN" netns "$NS"
ip addr add "$HOST_IP/29" dev "$VH"
ip link set "$VH" up
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip addr add "$NS_IP/29" dev "$VN"
ip netns exec "$NS" ip link set "$VN" up
set +e
echo "INFO netns $NS ($NS_IP, later $NEW_IP, on $VN), host side $HOST_IP on $VH"

# The sfu: the default config but for HTTP and ICE on the host-side veth
# address only; port 0 lets it pick the HTTP port, read back from its log.
# The address is ours alone, so the default media port range is free on it.
cat >"$TMP/sfu.ini" <<EOF
[http]
listen = $HOST_IP:0
[media]
gather_addresses = $HOST_IP
EOF
if [ -n "${PATH_CHANGE_DEBUG:-}" ]; then export NICE_DEBUG=all G_MESSAGES_DEBUG=all; fi
"$SFU" --config "$TMP/sfu.ini" >"$TMP/sfu.log" 2>&1 </dev/null &
SFU_PID=$!
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/.*msg=server.started port=\([0-9]*\).*/\1/p' "$TMP/sfu.log" | head -n1)
    [ -n "$PORT" ] && curl -sf --noproxy '*' -o /dev/null "http://$HOST_IP:$PORT/health" && break
    kill -0 "$SFU_PID" 2>/dev/null || break
    PORT=
    sleep 0.1
done
if [ -z "$PORT" ]; then
    check "sfu started on $HOST_IP" 1 "$(tail -n 20 "$TMP/sfu.log")"
    finish
fi
URL="http://$HOST_IP:$PORT"
echo "INFO sfu at $URL"

# Chromium (driven by node) runs in the namespace, in the background so
# that a signal reaches the trap at once; its summary line is folded into
# this script's. TMPDIR puts Chromium's profile under $TMP.
run_client() {
    local log=$TMP/client-$1.log; shift
    : >"$log"     # before tail opens it
    ip netns exec "$NS" env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY TMPDIR="$TMP" \
        node "$@" >"$log" 2>&1 </dev/null &
    CLIENT_PID=$!
    tail -n +1 -f --pid="$CLIENT_PID" "$log" |
        grep --line-buffered -Ev 'unexpected operator|^[0-9]+ passed, [0-9]+ failed$' &
    TAIL_PID=$!
    wait "$CLIENT_PID"
    local client_rc=$?
    CLIENT_PID=
    wait "$TAIL_PID"
    local cp cf
    read -r cp cf < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log" | tail -n1)
    pass=$((pass + ${cp:-0}))
    fail=$((fail + ${cf:-0}))
    if [ "$client_rc" -ne 0 ] && [ "${cf:-0}" -eq 0 ]; then
        check "chromium client $1 ran" 1 "exit status $client_rc"
    fi
}
# WHIP/WHEP with restarts the test drives, both orders.
run_client restarts tests/e2e/chromium_path_change.mjs --url "$URL" --dev "$VN" \
    --old-ip "$NS_IP" --new-ip "$NEW_IP" --third-ip "$THIRD_IP" --prefix 29 --outage "$OUTAGE"
# The call and broadcast pages, restarting by themselves.
run_client pages tests/e2e/chromium_page_restart.mjs --url "$URL" --dev "$VN" \
    --new-ip "$FOURTH_IP" --prefix 29

lost=$(grep -c 'msg=ice.consent_lost' "$TMP/sfu.log")
changed=$(grep -c 'msg=ice.path_changed' "$TMP/sfu.log")
generations=$(grep -c 'msg=ice.restart .*generations=2' "$TMP/sfu.log")
ended=$(grep -c 'msg=session.ended' "$TMP/sfu.log")
check "sfu noticed lost consent and kept the sessions (ice.consent_lost)" \
    "$([ "$lost" -ge 1 ]; echo $?)" "$lost lines"
check "sfu followed the new paths, two per move (ice.path_changed)" \
    "$([ "$changed" -ge 4 ]; echo $?)" "$changed lines"
rooms=$(grep -c 'msg=ice.restart kind=room generations=2' "$TMP/sfu.log")
check "each restart got a new ICE generation next to the old one (ice.restart generations=2)" \
    "$([ "$generations" -ge 6 ]; echo $?)" "$generations lines"
check "the call pages restarted ICE by re-offer (ice.restart kind=room)" \
    "$([ "$rooms" -ge 2 ]; echo $?)" "$rooms lines"
check "no session ended by itself" "$([ "$ended" -eq 0 ]; echo $?)" "$ended session.ended lines"

alive=1; kill -0 "$SFU_PID" 2>/dev/null && alive=0
check "sfu still running" "$alive"
kill -TERM "$SFU_PID" 2>/dev/null
status=
for _ in $(seq 50); do
    if ! kill -0 "$SFU_PID" 2>/dev/null; then wait "$SFU_PID"; status=$?; break; fi
    sleep 0.1
done
SFU_PID_DONE=$SFU_PID
[ -z "$status" ] && { kill -KILL "$SFU_PID" 2>/dev/null; wait "$SFU_PID"; status=killed; }
SFU_PID=
check "sfu exits 0 on SIGTERM" "$([ "$status" = 0 ]; echo $?)" "pid $SFU_PID_DONE, status $status"
if [ -n "${PATH_CHANGE_DEBUG:-}" ]; then cp "$TMP/sfu.log" "$PATH_CHANGE_DEBUG"; fi
if [ "$fail" -ne 0 ]; then
    echo "---- sfu log tail"
    tail -n 25 "$TMP/sfu.log"
fi
finish
