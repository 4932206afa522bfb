#!/bin/bash
# ICE-TCP for networks that block UDP (RFC 6544), with real Chromium.
#
#   tests/e2e/ice_tcp.sh [--sfu build/sfu] [--seconds 12] [--keep-udp] [--no-ice-tcp]
#
# Needs root (ip netns, nft), Debian chromium and `npm ci` in tests/e2e.
# The script builds its own little network and sends nothing anywhere else:
#
#   host: sfu (HTTP + ICE on HOST_IP only)  HOST_IP/30 on veth itcpNNNh
#                                                 |
#   netns sfu-icetcp-NNN: lo up (page server),  NS_IP/30 on veth itcpNNNn,
#       nft table inet t: every outgoing UDP packet dropped,
#       `node chromium_ice_tcp.mjs` (Chromium publisher + viewer)
#
# The namespace has no other route, so Chromium can reach the SFU only over
# TCP to HOST_IP; the sfu gathers on HOST_IP alone (media.gather_addresses)
# and otherwise runs the default config (ICE-TCP is on by default). The
# client checks that both answers carry a `tcptype passive` candidate, that
# each page connects (ICE and DTLS) within 1 s of its answer, that media
# flows and that each selected candidate pair is TCP on both ends. This script adds: the drop rule's
# counter is above 0 (Chromium did try UDP and was stopped), and the sfu
# stays up and exits 0 on SIGTERM. The namespace, veth pair and nft table
# go away on any exit (trap).
#
# --keep-udp: no drop rule (ICE may then pick UDP: the TCP checks fail).
# --no-ice-tcp: start the sfu with media.ice_tcp = false (the checks fail).
# Prints PASS/FAIL lines and ends with "N passed, M failed"; exit 0 only
# when every check passed. When network namespaces cannot be made here it
# prints a SKIP line and "0 passed, 0 failed" and exits 0.
set -u
cd "$(dirname "$0")/../.."

SFU=build/sfu
SECONDS_OF_MEDIA=12
DROP_UDP=1
ICE_TCP=default
while [ $# -gt 0 ]; do
    case $1 in
    --sfu) SFU=$2; shift 2 ;;
    --seconds) SECONDS_OF_MEDIA=$2; shift 2 ;;
    --keep-udp) DROP_UDP=0; shift ;;
    --no-ice-tcp) ICE_TCP=false; shift ;;
    *) echo "usage: $0 [--sfu PATH] [--seconds N] [--keep-udp] [--no-ice-tcp]" >&2; exit 2 ;;
    esac
done

. tests/e2e/checks.sh   # after the cd to the repository root

# Names and addresses of our own: the pid keeps parallel runs apart, and a
# /30 in 10.201-250.x.0 that no interface here uses yet.
NS=sfu-icetcp-$$
VH=itcp$$h
VN=itcp$$n
TMP=$(mktemp -d /tmp/sfu-icetcp-XXXXXX)
SFU_PID=
CLIENT_PID=
for _ in $(seq 20); do
    NET=10.$((201 + RANDOM % 50)).$((RANDOM % 256))
    ip -o addr show | grep -q " inet $NET\." || break
done
HOST_IP=$NET.1
NS_IP=$NET.2

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
    ip netns exec "$NS" nft delete table inet t 2>/dev/null
    ip link del "$VH" 2>/dev/null        # takes its peer in the namespace along
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() {
    echo "SKIP ICE-TCP: $1"
    echo "0 passed, 0 failed"
    exit 0
}
if [ "$(id -u)" -ne 0 ]; then skip "needs root for ip netns and nft"; fi
if ! ip netns add "$NS" 2>"$TMP/err"; then skip "ip netns add failed: $(cat "$TMP/err")"; fi
if ! command -v nft >/dev/null; then skip "nft is not installed"; fi

set -e
ip link add "$VH" type veth peer name "$VN"
ip link set "$VN" netns "$NS"
ip addr add "$HOST_IP/30" dev "$VH"
ip link set "$VH" up
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip addr add "$NS_IP/30" dev "$VN"
ip netns exec "$NS" ip link set "$VN" up
ip netns exec "$NS" nft add table inet t
ip netns exec "$NS" nft add chain inet t out '{ type filter hook output priority 0; }'
if [ "$DROP_UDP" -eq 1 ]; then
    ip netns exec "$NS" nft add rule inet t out meta l4proto udp counter drop
fi
set +e
echo "INFO netns $NS ($NS_IP on $VN), host side $HOST_IP on $VH, UDP $([ $DROP_UDP -eq 1 ] && echo dropped || echo allowed)"

# The sfu: the default config but for HTTP and ICE on the host-side veth
# address only; port 0 lets it pick the HTTP port, read back from its log.
# The address is ours alone, so the default media port range is free on it.
cat >"$TMP/sfu.ini" <<EOF
[http]
listen = $HOST_IP:0
[media]
gather_addresses = $HOST_IP
EOF
if [ "$ICE_TCP" = false ]; then echo "ice_tcp = false" >>"$TMP/sfu.ini"; fi
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
echo "INFO sfu at $URL, ice_tcp=$ICE_TCP"

# Chromium (driven by node) runs in the namespace, in the background so
# that a signal reaches the trap at once; its summary line is folded into
# this script's. TMPDIR puts Chromium's profile under $TMP, which the trap
# removes even when the client had to be killed.
WARMUP=$(( SECONDS_OF_MEDIA / 3 ))
ip netns exec "$NS" env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY TMPDIR="$TMP" \
    node tests/e2e/chromium_ice_tcp.mjs --url "$URL" --seconds "$SECONDS_OF_MEDIA" \
    --warmup "$WARMUP" >"$TMP/client.log" 2>&1 </dev/null &
CLIENT_PID=$!
tail -n +1 -f --pid="$CLIENT_PID" "$TMP/client.log" |
    grep --line-buffered -Ev 'unexpected operator|^[0-9]+ passed, [0-9]+ failed$' &
TAIL_PID=$!
wait "$CLIENT_PID"
client_rc=$?
CLIENT_PID=
wait "$TAIL_PID"
read -r cp cf < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$TMP/client.log" | tail -n1)
pass=$((pass + ${cp:-0}))
fail=$((fail + ${cf:-0}))
if [ "$client_rc" -ne 0 ] && [ "${cf:-0}" -eq 0 ]; then
    check "chromium client ran" 1 "exit status $client_rc"
fi

if [ "$DROP_UDP" -eq 1 ]; then
    dropped=$(ip netns exec "$NS" nft list chain inet t out | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
    check "namespace dropped Chromium's UDP" "$([ "${dropped:-0}" -gt 0 ]; echo $?)" \
        "${dropped:-0} UDP packets dropped"
fi

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
if [ "$fail" -ne 0 ]; then
    echo "---- sfu log tail"
    tail -n 25 "$TMP/sfu.log"
fi
finish
