#!/usr/bin/python3
"""The client side of ops_privacy.sh, run inside its network namespace.

  ops_privacy_client.py --url URL --ip NS_IP --room ROOM --pub-token T
                        --view-token T --admin-token T --out DIR

A WHIP publisher and a WHEP viewer of it, and a room participant with its
event stream (token in ?access_token=), all with ICE on NS_IP only. While the
call is live it saves GET /rooms, GET /rooms/ROOM and /metrics into DIR.
Then it makes the libraries complain, each time with secrets at hand:
  - the member's event stream vanishes (reset) and an event follows (a
    second publisher joins), so libmicrohttpd fails to send on it;
  - malformed HTTP requests carrying the session URL, the token in the
    query and in Authorization: a header line without a colon, a broken
    chunked body, an overlong URL, a TLS ClientHello;
  - a publisher whose offer has a wrong DTLS fingerprint (the handshake
    fails with OpenSSL's reason), DTLS garbage and SRTP with broken auth
    tags on the live publisher's ICE pair, a STUN check with a wrong ufrag;
then it ends every session with DELETE and writes DIR/secrets.json: the ICE
passwords and ufrags of both sides, the client's candidate ports, the
session paths. Prints PASS/FAIL lines and "N passed, M failed".
"""
import argparse
import asyncio
import json
import os
import random
import re
import socket
import struct
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_lib import Call, Checks, request  # noqa: E402
from hostile_lib import RawPeer, garbage, http_request, raw_http  # noqa: E402
from hostile_media import wrong_fingerprint  # noqa: E402
import peers  # noqa: E402

c = Checks()


def sdp_values(sdp, attr):
    return sorted(set(re.findall(rf"^a={attr}:(\S+)", sdp, re.M)))


def candidate_ports(sdp):
    return sorted({int(m) for m in re.findall(r"^a=candidate:\S+ \d+ \S+ \d+ \S+ (\d+) typ", sdp, re.M)})


def save(path, text):
    with open(path, "w") as f:
        f.write(text)


def vanishing_stream(host, port, path, token):
    """Opens the event stream, reads up to its snapshot, then resets it."""
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(f"GET {path}/events?access_token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
              "Accept: text/event-stream\r\n\r\n".encode())
    got = b""
    deadline = time.monotonic() + 5
    while b"snapshot" not in got and time.monotonic() < deadline:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()   # RST: the server's next write on it fails
    return b"snapshot" in got


def stun_wrong_ufrag(ip, host, port, server_ufrag):
    from aioice import stun
    msg = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    msg.attributes["USERNAME"] = f"{server_ufrag}x:Zz9q"
    msg.attributes["PRIORITY"] = 1853817087
    msg.attributes["ICE-CONTROLLING"] = 1
    msg.add_message_integrity(b"not-the-password-0123456789")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((ip, 0))
    u.settimeout(0.5)
    for _ in range(3):
        u.sendto(bytes(msg), (host, port))
    try:
        u.recvfrom(2048)
    except OSError:
        pass
    u.close()


async def provoke(args, call, extra):
    """Makes each library complain; what it creates goes into `extra`."""
    u = urllib.parse.urlsplit(args.url)
    host, port = u.hostname, u.port
    path = call.member_location
    tok = args.pub_token

    # 1. the event stream vanishes, then an event follows
    ok = await asyncio.to_thread(vanishing_stream, host, port, path, tok)
    c.check("a second event stream got its snapshot before it vanished", ok)
    pub2 = await peers.whip_publish(args.url, args.room, [peers.SineTrack()], tok)
    await peers.wait_connected(pub2.pc)
    extra["sessions"].append(pub2)
    await asyncio.sleep(1.0)

    # 2. malformed HTTP, each carrying the session URL and the token
    auth = {"Authorization": f"Bearer {tok}"}
    bad = [
        f"GET {path}/events?access_token={tok} HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {tok}\r\nthis line has no colon {tok}\r\n\r\n".encode(),
        http_request("PATCH", f"{path}?access_token={tok}", host, b"zz\r\nnot chunked\r\n",
                     {**auth, "Transfer-Encoding": "chunked",
                      "Content-Type": "application/trickle-ice-sdpfrag"}),
        http_request("GET", f"{path}/events?access_token={tok}&pad=" + "a" * 70000, host,
                     headers=auth),
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + garbage(None, 300, random.Random(3)),
    ]
    for req in bad:
        await raw_http(host, port, req, timeout=5, local_host=args.ip)

    # 3. DTLS that fails with OpenSSL's reason: a wrong fingerprint
    from aiortc import RTCPeerConnection, RTCSessionDescription
    pc = RTCPeerConnection()
    track = peers.SineTrack()
    pc.addTrack(track)
    peers.restrict_codecs(pc)
    await pc.setLocalDescription(await pc.createOffer())
    await peers.wait_gathering(pc)
    url = f"{args.url}/whip/{args.room}"
    offer = wrong_fingerprint(pc.localDescription.sdp)
    status, headers, body = await peers.http("POST", url, offer, "application/sdp", tok)
    c.check("a publisher with a wrong DTLS fingerprint -> 201", status == 201, str(status))
    if status == 201:
        location = urllib.parse.urljoin(url, peers._header(headers, "Location") or "")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        extra["sessions"].append(peers.Session(pc=pc, url=location, answer_sdp=body,
                                               offer_sdp=offer))
    await asyncio.sleep(3)

    # 4. DTLS garbage and forged SRTP on the live publisher's pair
    raw = RawPeer(call.pub.pc)
    rng = random.Random(11)
    for _ in range(20):
        raw.send_raw(garbage(22, 120, rng))
    for _ in range(50):
        raw.send_raw(b"\x80\x60" + garbage(None, 200, rng))
    # 5. an ICE check with a wrong ufrag, to the sfu's candidate
    server_sdp = call.pub.pc.remoteDescription.sdp
    m = re.search(r"^a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host", server_sdp, re.M)
    ufrag = (sdp_values(server_sdp, "ice-ufrag") or ["x"])[0]
    if m:
        await asyncio.to_thread(stun_wrong_ufrag, args.ip, m.group(1), int(m.group(2)), ufrag)
    c.check("found the sfu's UDP candidate for the STUN check", m is not None)
    await asyncio.sleep(1.0)
    track.stop()


async def run(args):
    import aioice.ice
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [args.ip]

    call = Call(args.url, args.room, args.pub_token)
    await call.start(viewer=False)
    call.view, _ = await peers.whep_view(args.url, args.room, call.pub.participant_id,
                                         call.receiver, args.view_token)
    await peers.wait_connected(call.view.pc)
    call.token = args.pub_token
    await call.join_room()
    snap = await asyncio.to_thread(call.events.wait_for, "snapshot", 5)
    c.check("room participant's event stream (access_token) gives a snapshot", snap is not None)
    await asyncio.sleep(3)
    c.check("viewer decoded frames from the namespace", len(call.receiver.numbers) >= 10,
            f"{len(call.receiver.numbers)} frames")

    admin = {"Authorization": f"Bearer {args.admin_token}"}
    for name, path in (("rooms.json", "/rooms"), (f"room.json", f"/rooms/{args.room}"),
                       ("metrics.txt", "/metrics")):
        status, _, body = await asyncio.to_thread(request, "GET", args.url + path, None, admin)
        c.check(f"GET {path} during the call -> 200", status == 200, str(status))
        save(os.path.join(args.out, name), body)

    extra = {"sessions": []}
    await provoke(args, call, extra)

    sessions = call.sessions() + extra["sessions"]
    secrets = {
        "client_ice_pwd": sorted({p for s in sessions for p in sdp_values(s.offer_sdp or
                                                                          s.pc.localDescription.sdp, "ice-pwd")}),
        "client_ice_ufrag": sorted({p for s in sessions for p in sdp_values(s.pc.localDescription.sdp,
                                                                            "ice-ufrag")}),
        "server_ice_pwd": sorted({p for s in sessions for p in sdp_values(s.pc.remoteDescription.sdp,
                                                                          "ice-pwd")}),
        "server_ice_ufrag": sorted({p for s in sessions for p in sdp_values(s.pc.remoteDescription.sdp,
                                                                            "ice-ufrag")}),
        "client_ports": sorted({p for s in sessions for p in candidate_ports(s.pc.localDescription.sdp)}),
        "session_paths": sorted({s.url.split("/sessions/")[-1] for s in sessions if s.url}),
    }
    c.check("collected ICE passwords of both sides",
            len(secrets["client_ice_pwd"]) >= 3 and len(secrets["server_ice_pwd"]) >= 3,
            f'{len(secrets["client_ice_pwd"])} client, {len(secrets["server_ice_pwd"])} server')
    statuses = await call.leave()
    c.check("DELETE of every session -> 200", statuses == [200, 200, 200], str(statuses))
    for s in extra["sessions"]:
        status = await peers.delete(s, args.pub_token)  # the failed one may be gone: 404
        c.check("DELETE of a provoking session -> 200 or 404", status in (200, 404), str(status))
        await s.pc.close()
    save(os.path.join(args.out, "secrets.json"), json.dumps(secrets))


def main():
    ap = argparse.ArgumentParser()
    for a in ("--url", "--ip", "--room", "--pub-token", "--view-token", "--admin-token", "--out"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    try:
        asyncio.run(run(args))
    except Exception as e:  # noqa: BLE001
        c.check("client ran to the end", False, repr(e))
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
