#!/bin/bash
# Privacy by default: a call from a distinctive address under a distinctive
# name leaves no trace of either, of its tokens or of its ICE passwords in
# the sfu's log, /metrics or GET /rooms. The client also makes each library
# complain (libmicrohttpd on a vanished event stream and malformed requests,
# OpenSSL on a failed DTLS handshake, libsrtp and libnice on forged packets:
# ops_privacy_client.py): every line the sfu writes must still be our own
# logfmt, and carry none of those secrets.
#
#   tests/e2e/ops_privacy.sh [--sfu build/sfu]
#
# Needs root (ip netns). The script builds its own little network and sends
# nothing anywhere else:
#
#   host: sfu (HTTP + ICE on HOST_IP only)   HOST_IP/30 on veth opvNNNh
#                                                  |
#   netns sfu-opriv-NNN: NS_IP/30 on veth opvNNNn, 10.77.x.y
#       ops_privacy_client.py (aiortc WHIP publisher, WHEP viewer, room
#       participant with its event stream; ICE on NS_IP only)
#
# The sfu runs with auth on, log level debug (the most it can say) and the
# default [privacy] settings. The client saves GET /rooms, GET /rooms/ROOM
# and /metrics while the call is live; the script fetches them again after,
# then searches all of them and the sfu's whole output for: the client
# address as dotted quad, with each of its ports, reversed (in-addr.arpa),
# as hex (plain, 0x, upper case), as a 32-bit decimal, IPv4-mapped IPv6;
# the participant name (as given, lower and upper case); every 16-character
# piece of every token; the ICE passwords of both sides; the session ids.
# During the call GET /rooms names the publisher (docs/API.md: a token's
# sub is "shown to others"): there the name may appear only as the value of
# a participant's "name" field, and nowhere once the call ended.
# Cleanup (namespace, veth, processes, temp dir) runs on any exit.
# Prints PASS/FAIL lines and "N passed, M failed"; SKIP and "0 passed, 0
# failed" when namespaces cannot be made here.
set -u
cd "$(dirname "$0")/../.."

SFU=build/sfu
while [ $# -gt 0 ]; do
    case $1 in
    --sfu) SFU=$2; shift 2 ;;
    *) echo "usage: $0 [--sfu PATH]" >&2; exit 2 ;;
    esac
done
PY=/usr/bin/python3

. tests/e2e/checks.sh   # after the cd to the repository root

NS=sfu-opriv-$$
VH=opv$$h
VN=opv$$n
TMP=$(mktemp -d /tmp/sfu-opriv-XXXXXX)
SFU_PID=
CLIENT_PID=
# A /30 in 10.77.x.0 that no interface here uses; the client gets the
# distinctive .213 (host side .214).
for _ in $(seq 20); do
    NET=10.77.$((20 + RANDOM % 200))
    ip -o addr show | grep -q " inet $NET\." || break
done
NS_IP=$NET.213
HOST_IP=$NET.214

cleanup() {
    if [ -n "$CLIENT_PID" ]; then kill -TERM "$CLIENT_PID" 2>/dev/null; fi
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    if [ -n "$SFU_PID" ] && kill -0 "$SFU_PID" 2>/dev/null; then
        kill -TERM "$SFU_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$SFU_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SFU_PID" 2>/dev/null
    fi
    ip link del "$VH" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() {
    echo "SKIP privacy: $1"
    echo "0 passed, 0 failed"
    exit 0
}
if [ "$(id -u)" -ne 0 ]; then skip "needs root for ip netns"; fi
if ! ip netns add "$NS" 2>"$TMP/err"; then skip "ip netns add failed: $(cat "$TMP/err")"; fi

set -e
ip link add "$VH" type veth peer name "$VN"
ip link set "$VN" netns "$NS"
ip addr add "$HOST_IP/30" dev "$VH"
ip link set "$VH" up
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip addr add "$NS_IP/30" dev "$VN"
ip netns exec "$NS" ip link set "$VN" up
set +e
echo "INFO netns $NS: client $NS_IP on $VN, sfu $HOST_IP on $VH"

NAME=Quillon-Vexhaven-Privacy7
ROOM=prv$$
SECRET=ops-privacy-secret-$RANDOM$RANDOM-0123456789abcdef
LO=$((10000 + RANDOM % 200 * 100))
cat >"$TMP/sfu.ini" <<EOF
[http]
listen = $HOST_IP:0
requests_per_second_per_client = 0
[media]
port_min = $LO
port_max = $((LO + 99))
gather_addresses = $HOST_IP
[log]
level = debug
[auth]
secret = $SECRET
EOF
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

mint() { "$SFU" token --config "$TMP/sfu.ini" "$@"; }
PUB_TOKEN=$(mint --room "$ROOM" --name "$NAME" --publish --subscribe)
VIEW_TOKEN=$(mint --room "$ROOM" --name "$NAME" --subscribe)
ADMIN_TOKEN=$(mint --room '*' --name ops-admin 2>/dev/null)  # read-only: a note on stderr

mkdir -p "$TMP/out"
ip netns exec "$NS" env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY \
    "$PY" tests/e2e/ops_privacy_client.py --url "$URL" --ip "$NS_IP" --room "$ROOM" \
    --pub-token "$PUB_TOKEN" --view-token "$VIEW_TOKEN" --admin-token "$ADMIN_TOKEN" \
    --out "$TMP/out" >"$TMP/client.log" 2>&1 </dev/null &
CLIENT_PID=$!
wait "$CLIENT_PID"
client_rc=$?
CLIENT_PID=
grep -E '^(PASS|FAIL|INFO)' "$TMP/client.log"
read -r cp cf < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$TMP/client.log" | tail -n1)
pass=$((pass + ${cp:-0}))
fail=$((fail + ${cf:-0}))
if [ "$client_rc" -ne 0 ] && [ "${cf:-0}" -eq 0 ]; then
    check "client ran" 1 "exit status $client_rc; $(tail -n 5 "$TMP/client.log")"
fi

# After the call: the same three answers again.
AUTH="Authorization: Bearer $ADMIN_TOKEN"
curl -s --noproxy '*' -H "$AUTH" "$URL/rooms" >"$TMP/out/rooms-after.json"
curl -s --noproxy '*' -H "$AUTH" "$URL/rooms/$ROOM" >"$TMP/out/room-after.json"
curl -s --noproxy '*' "$URL/metrics" >"$TMP/out/metrics-after.txt"

kill -TERM "$SFU_PID" 2>/dev/null
status=
for _ in $(seq 100); do
    if ! kill -0 "$SFU_PID" 2>/dev/null; then wait "$SFU_PID"; status=$?; break; fi
    sleep 0.1
done
[ -z "$status" ] && { kill -KILL "$SFU_PID" 2>/dev/null; wait "$SFU_PID"; status=killed; }
SFU_PID=
check "sfu exits 0 on SIGTERM" "$([ "$status" = 0 ]; echo $?)" "status $status"

# The search, in Python: every form of every secret, in every file.
"$PY" - "$TMP" "$NS_IP" "$NAME" "$PUB_TOKEN" "$VIEW_TOKEN" "$ADMIN_TOKEN" >"$TMP/search.log" 2>&1 <<'EOF'
import ipaddress, json, os, re, sys
tmp, ip, name = sys.argv[1], sys.argv[2], sys.argv[3]
tokens = sys.argv[4:]
out = os.path.join(tmp, "out")
files = {"sfu log": os.path.join(tmp, "sfu.log")}
for f in sorted(os.listdir(out)):
    if f != "secrets.json":
        files[f] = os.path.join(out, f)
texts = {k: open(p, encoding="utf-8", errors="replace").read() for k, p in files.items()}
try:
    secrets = json.load(open(os.path.join(out, "secrets.json")))
except OSError:
    secrets = {}
a = ipaddress.IPv4Address(ip)
o = ip.split(".")
h = "%08x" % int(a)
forms = {
    "address dotted": [ip],
    "address reversed": [".".join(reversed(o)), ".".join(reversed(o)) + ".in-addr.arpa"],
    "address hex": [h, h.upper(), "0x" + h, ":".join(h[i:i + 4] for i in (0, 4)),
                    "".join("%02x" % int(x) for x in reversed(o))],
    "address decimal": [str(int(a))],
    "address v4-mapped": ["::ffff:" + ip, "::ffff:%x:%x" % (int(a) >> 16, int(a) & 0xffff)],
    "address zero-padded": [".".join("%03d" % int(x) for x in o)],
    "address with port": [f"{ip}:{p}" for p in secrets.get("client_ports", [])]
                         + [f"{ip} {p}" for p in secrets.get("client_ports", [])],
    "participant name": [name, name.lower(), name.upper()],
    "ICE password (client)": secrets.get("client_ice_pwd", []),
    "ICE password (sfu)": secrets.get("server_ice_pwd", []),
    "ICE ufrag (sfu)": secrets.get("server_ice_ufrag", []),
    # aiortc's ufrags are 4 characters: searched where they would show, in
    # a STUN username (either order) or after a name.
    "ICE ufrag (client)": [f"{a}:{b}" for a in secrets.get("client_ice_ufrag", [])
                           for b in secrets.get("server_ice_ufrag", [])]
                          + [f"{b}:{a}" for a in secrets.get("client_ice_ufrag", [])
                             for b in secrets.get("server_ice_ufrag", [])]
                          + [f"ufrag:{a}" for a in secrets.get("client_ice_ufrag", [])]
                          + [f"ufrag={a}" for a in secrets.get("client_ice_ufrag", [])]
                          + [f"'{a}'" for a in secrets.get("client_ice_ufrag", [])],
    "session id": secrets.get("session_paths", []),
    "token piece": sorted({t[i:i + 16] for t in tokens for i in range(0, len(t) - 15)}),
}
passed = failed = 0
def check(label, ok, detail=""):
    global passed, failed
    print(("PASS " if ok else "FAIL ") + label + (": " + detail if detail else ""))
    passed += ok
    failed += not ok
check("secrets.json from the client has ports and passwords",
      bool(secrets.get("client_ports")) and bool(secrets.get("client_ice_pwd")), str(len(secrets)))
print(f"INFO searched files: {', '.join(f'{k} ({len(v)} bytes)' for k, v in texts.items())}")
# The name's one allowed place: a participant's "name" field in GET /rooms
# while the call is live.
name_field = re.compile(r'"name":"' + re.escape(name) + '"')
live_rooms = {"rooms.json", "room.json"}
log = texts["sfu log"]
check("the sfu log is the real thing (debug lines, sessions created and deleted)",
      "level=debug" in log and log.count("msg=session.created") == 5
      and "msg=session.deleted" in log, f"{len(log.splitlines())} lines")
# No foreign lines: every line is ours, one logfmt event.
ours = re.compile(r'^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(error|warn|info|debug) msg=\S')
foreign = [ln for ln in log.splitlines() if not ours.match(ln)]
check("every line of the sfu's output is our logfmt (no library writes its own)", not foreign,
      "; ".join(repr(ln[:120]) for ln in foreign[:3]))
# The provocations reached the libraries, and their words came through us.
mhd = [ln for ln in log.splitlines() if "msg=lib.microhttpd" in ln]
check("libmicrohttpd complained through our logger", len(mhd) >= 1, f"{len(mhd)} lines")
check("libmicrohttpd's failed send on the vanished event stream is there, redacted",
      any("Failed to send" in ln and "/sessions/<redacted>" in ln for ln in mhd),
      "; ".join(ln[:160] for ln in mhd[:3]))
dtls = [ln for ln in log.splitlines() if "msg=dtls.failed" in ln]
check("the wrong fingerprint failed the DTLS handshake, with a reason", len(dtls) >= 1
      and all(" reason=" in ln for ln in dtls), "; ".join(ln[:160] for ln in dtls[:2]))
print("INFO library lines: " + " | ".join(ln.split(" ", 1)[1][:150] for ln in mhd[:6]))
# The search itself must find what it looks for: a planted copy of each form.
planted = {"planted": " ".join(n for ns in forms.values() for n in ns[:1])}
def search(label, needles, texts):
    hits = []
    for fname, text in texts.items():
        t = text
        if label == "participant name" and fname in live_rooms:
            t = name_field.sub('"name":""', text)
        low = t.lower()
        for n in needles:
            if n and (n.lower() in low if "token" not in label and "password" not in label
                      and "session" not in label else n in t):
                hits.append(f"{n!r} in {fname}")
    return hits
missed = [label for label, needles in forms.items() if needles and not search(label, needles, planted)]
check("the search finds a planted copy of every form", not missed, ", ".join(missed))
for label, needles in forms.items():
    hits = search(label, needles, texts)
    check(f"no {label} anywhere", not hits, "; ".join(hits[:5]) or f"{len(needles)} forms")
during = texts.get("rooms.json", "")
check("GET /rooms during the call lists the participant (so the search saw live data)",
      bool(name_field.search(during)), during[:120])
check("GET /rooms during the call has no address field", '"address"' not in during)
print(f"PYRESULT {passed} {failed}")
EOF
grep -E '^(PASS|FAIL|INFO)' "$TMP/search.log"
read -r sp sf < <(sed -nE 's/^PYRESULT ([0-9]+) ([0-9]+)$/\1 \2/p' "$TMP/search.log")
if [ -z "${sp:-}" ]; then
    check "search ran" 1 "$(tail -n 5 "$TMP/search.log")"
else
    pass=$((pass + sp))
    fail=$((fail + sf))
fi
if [ "$fail" -ne 0 ]; then
    echo "---- sfu log tail"
    tail -n 25 "$TMP/sfu.log"
fi
finish
