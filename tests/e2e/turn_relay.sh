#!/bin/bash
# A relay-only Chromium call through a real coturn on loopback (issue 6):
# coturn checks the SFU's time-limited TURN credentials (use-auth-secret),
# and all media goes client -> coturn -> SFU. Loopback only.
#
#   tests/e2e/turn_relay.sh [--sfu build/sfu]
set -u
cd "$(dirname "$0")/../.."
SFU=build/sfu
[ "${1:-}" = "--sfu" ] && SFU=$2
PY=/usr/bin/python3

if ! command -v turnserver >/dev/null; then
    echo "FAIL coturn installed: no turnserver (Debian package coturn)"
    echo "0 passed, 1 failed"
    exit 1
fi
dir=$(mktemp -d /tmp/turn-relay-XXXXXX)
secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
port=$($PY -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
    [ -n "${turn_pid:-}" ] && kill "$turn_pid" 2>/dev/null && wait "$turn_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT


# Loopback peers are refused unless allowed; no TLS listeners, no CLI, relay
# ports kept apart from the SFU's media range.
turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port="$port" \
    --use-auth-secret --static-auth-secret="$secret" --realm=sfu.test \
    --allow-loopback-peers --no-tls --no-dtls --no-cli --min-port=40000 --max-port=40100 \
    --pidfile="$dir/turn.pid" --log-file="$dir/turn.log" --simple-log --verbose >/dev/null 2>&1 &
turn_pid=$!
for _ in $(seq 50); do
    grep -qs "listener opened on" "$dir"/turn*.log && break
    sleep 0.1
done

$PY tests/e2e/sfu_fixture.py --sfu "$SFU" \
    --set "turn.urls=turn:127.0.0.1:$port?transport=udp" --set "turn.secret=$secret" \
    --set turn.ttl_s=600 -- node tests/e2e/chromium_turn.mjs --url {url}
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
