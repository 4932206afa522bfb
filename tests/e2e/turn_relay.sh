#!/bin/bash
# A relay-only Chromium call through a real coturn on loopback (issue 6):
# coturn checks the SFU's time-limited TURN credentials (use-auth-secret),
# and all media goes client -> coturn -> SFU. Loopback only.
#
#   tests/e2e/turn_relay.sh [--sfu build/sfu] [--transport udp|tcp]
#
# --transport tcp: the TURN/TCP variant for networks that allow no UDP out.
# coturn then has no UDP listener at all (--no-udp), the SFU hands out a
# `turn:...?transport=tcp` URL, and the client checks that its selected
# relay candidate reaches coturn over TCP (relayProtocol "tcp"); coturn's
# relay to the SFU is UDP, as in any TURN allocation.
set -u
cd "$(dirname "$0")/../.."
SFU=build/sfu
TRANSPORT=udp
while [ $# -gt 0 ]; do
    case $1 in
    --sfu) SFU=$2; shift 2 ;;
    --transport) TRANSPORT=$2; shift 2 ;;
    *) echo "usage: $0 [--sfu PATH] [--transport udp|tcp]" >&2; exit 2 ;;
    esac
done
case $TRANSPORT in
udp) NO_UDP= ;;
tcp) NO_UDP=--no-udp ;;
*) echo "--transport: udp or tcp" >&2; exit 2 ;;
esac
PY=/usr/bin/python3

if ! command -v turnserver >/dev/null; then
    echo "FAIL coturn installed: no turnserver (Debian package coturn)"
    echo "0 passed, 1 failed"
    exit 1
fi
dir=$(mktemp -d /tmp/turn-relay-XXXXXX)
secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
# A port free for both UDP and TCP on loopback.
port=$($PY -c '
import socket
while True:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    t = socket.socket(); p = u.getsockname()[1]
    try: t.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass')
cleanup() {
    [ -n "${turn_pid:-}" ] && kill "$turn_pid" 2>/dev/null && wait "$turn_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT


# Loopback peers are refused unless allowed; no TLS listeners, no CLI, relay
# ports kept apart from the SFU's media range.
turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port="$port" \
    --use-auth-secret --static-auth-secret="$secret" --realm=sfu.test \
    --allow-loopback-peers --no-tls --no-dtls $NO_UDP --no-cli --min-port=40000 --max-port=40100 \
    --pidfile="$dir/turn.pid" --log-file="$dir/turn.log" --simple-log --verbose >/dev/null 2>&1 &
turn_pid=$!
for _ in $(seq 50); do
    grep -qs "listener opened on" "$dir"/turn*.log && break
    sleep 0.1
done

$PY tests/e2e/sfu_fixture.py --sfu "$SFU" \
    --set "turn.urls=turn:127.0.0.1:$port?transport=$TRANSPORT" --set "turn.secret=$secret" \
    --set turn.ttl_s=600 -- node tests/e2e/chromium_turn.mjs --url {url} --relay-protocol "$TRANSPORT"
rc=$?
allocs=$(grep -cs "ALLOCATE processed, success" "$dir/turn.log" || true)
if [ "${allocs:-0}" -gt 0 ]; then
    echo "PASS coturn allocated relays: $allocs successful ALLOCATE requests"
    echo "1 passed, 0 failed"
else
    echo "FAIL coturn allocated relays: none in its log"
    echo "0 passed, 1 failed"
    rc=1
fi
exit $rc
