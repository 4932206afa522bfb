#!/usr/bin/python3
"""Relay legs between cluster nodes: three sfu nodes and a Redis on loopback.

  /usr/bin/python3 tests/e2e/cluster_relay.py --sfu build/asan/sfu

Every node runs with [cluster] relay = true. Checks, one line each:
  - a publisher (aiortc, frame numbers in the picture, plus a sine) on its
    room's owner; an aiortc WHEP viewer on a second node is served there
    (its session URL is on that node), through one relay leg, and decodes
    the publisher's frames; the owner counts one leg served, the second
    node one pulled;
  - the owner's relay bytes sent over 3 s with 1 viewer on the second node,
    then with 3: one leg either way (ratio printed, at most 1.35), and the
    owner's total bytes sent do not grow with them either;
  - a headless Chromium viewer on the second node decodes too (frames per
    second printed), and the owner's relay uplink is still one leg's worth;
  - keyframe requests of the second node's viewers (which its keyframe
    cache cannot answer) cross the leg to the owner and reach the publisher;
  - a viewer on the third node decodes too (two legs served);
  - the third node's only viewer leaves: its leg ends and the owner serves
    one leg again (time printed);
  - hostile: POST /cluster/relay without a seal, with a wrong secret, with
    a stale timestamp: 403, nothing created; "~room" is not a room name;
    a node without relay answers 404;
  - Redis holds no relayed room, session id or address;
  - simulcast over a leg: a Chromium publisher sends three layers (q, h, f)
    to its room's owner; on another node one aiortc viewer pins layer q
    (WHEP layer Link, encodingId) and decodes the low layer's size, one on
    automatic decodes the top layer's size; that node's GET /rooms shows the
    relayed track's three layers; the owner serves one leg whose three sinks
    carry layers 0, 1, 2; with only the pinned viewer left the owner pauses
    layers h and f (leg bitrate printed, all layers vs q alone), and a new
    automatic viewer climbs back to the top layer (time printed);
  - kill -9 of the owner: the second node's viewers are told (their
    sessions end with a DTLS close_notify: aiortc closes the connection;
    time printed), and the node counts the leg lost.
Ends with 'N passed, M failed'.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import sys
import time
import hmac
import hashlib
import urllib.parse
from typing import Dict, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
from cluster import Checks, Redis, node_of, wait_for  # noqa: E402
from sfu_fixture import SfuFixture, free_tcp_port  # noqa: E402

TTL_MS = 4000
HEARTBEAT_MS = 500
SECRET = "cluster-relay-test-secret-0123456789"
ROOM = "relay-room"


async def metric(url: str, name: str, labels: str = "") -> Optional[float]:
    status, _, body = await peers.http("GET", url + "/metrics")
    key = re.escape(name + ("{" + labels + "}" if labels else ""))
    m = re.search(rf"^{key} (\S+)$", body, re.M) if status == 200 else None
    return float(m.group(1)) if m else None


def sealed(obj: dict, secret: str) -> str:
    text = json.dumps(obj, separators=(",", ":"))
    mac = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return f"{mac}.{text}"


async def rate(url: str, name: str, labels: str, seconds: float) -> float:
    return (await rates(url, [(name, labels)], seconds))[0]


async def rates(url: str, which, seconds: float):
    """Bits per second of byte counters [(name, labels)], over one window."""
    a = [await metric(url, n, lab) or 0.0 for n, lab in which]
    t0 = time.monotonic()
    await asyncio.sleep(seconds)
    b = [await metric(url, n, lab) or 0.0 for n, lab in which]
    dt = time.monotonic() - t0
    return [(y - x) * 8 / dt for x, y in zip(a, b)]


async def frames_flow(rx: peers.Receiver, n: int, timeout: float) -> bool:
    start = len(rx.numbers)
    return bool(await wait_for(lambda: asyncio.sleep(0, len(rx.numbers) - start >= n),
                               timeout, 0.1))


def layer_link(headers: Dict[str, str]) -> Optional[str]:
    for k, v in headers.items():
        if k.lower() == "link":
            m = re.search(r'<([^>]+)>\s*;\s*rel="urn:ietf:params:whep:ext:core:layer"', v)
            if m:
                return m.group(1)
    return None


def video_mid(sdp: str) -> Optional[str]:
    section = next((m for m in re.split(r"\r?\n(?=m=)", sdp) if m.startswith("m=video")), "")
    m = re.search(r"^a=mid:(\S+)", section, re.M)
    return m.group(1) if m else None


def window(rx: peers.Receiver, before: Dict) -> Dict:
    return {k: n - before.get(k, 0) for k, n in rx.sizes.items() if n - before.get(k, 0) > 0}


def main_size(sizes: Dict) -> Optional[tuple]:
    return max(sizes, key=sizes.get) if sizes else None


async def simulcast_over_leg(c: Checks, nodes: Dict[str, SfuFixture], avoid: str) -> None:
    """A Chromium simulcast publisher (q, h, f) on its room's owner, viewers
    on another node (not `avoid`, which pulls the other room: its relay
    bytes in are this leg's alone): the leg carries each layer once, each
    viewer gets its own, and only the layers its viewers need."""
    room = "relay-sim"
    t_start = time.monotonic()
    pub = await asyncio.create_subprocess_exec(
        "node", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "chromium_sim_publisher.mjs"),
        "--url", nodes["A"].url, "--room", room, "--watch-seconds", "90",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    enc, pid, sess = {}, None, None
    try:
        while True:
            line = await asyncio.wait_for(pub.stdout.readline(), 60)
            if not line:
                break
            text = line.decode(errors="replace").rstrip()
            m = re.match(r"ENC (\w+) (\d+)x(\d+)$", text)
            if m:
                enc[m.group(1)] = (int(m.group(2)), int(m.group(3)))
            if text.startswith("READY "):
                pid, sess = text.split()[1:3]
                break
            print(f"  chromium publisher: {text}", flush=True)
    except asyncio.TimeoutError:
        pass
    if not c.check("a Chromium simulcast publisher sends three layers",
                   pid is not None and len(enc) == 3,
                   ", ".join(f"{r} {w}x{h}" for r, (w, h) in enc.items()) +
                   f"; {time.monotonic() - t_start:.1f} s after its start"):
        pub.kill()
        await pub.wait()
        return
    owner = node_of(sess, nodes)
    vb = next((n for n in nodes if n not in (owner, avoid)), None) or \
        next(n for n in nodes if n != owner)
    served0 = await metric(nodes[owner].url, "sfu_relay_legs", 'role="serve"') or 0

    low, low_rx = await peers.whep_view(nodes[vb].url, room, pid)
    auto, auto_rx = await peers.whep_view(nodes[vb].url, room, pid)
    for v in (low, auto):
        await peers.wait_connected(v.pc)
    link, mid = layer_link(low.headers), video_mid(low.answer_sdp)
    st = None
    if link and mid:
        st, _, _ = await peers.http("POST", urllib.parse.urljoin(low.url, link),
                                    json.dumps({"mediaId": mid, "encodingId": "q"}),
                                    "application/json")
    c.check(f"a viewer on {vb} pins the relayed track's layer q (the publisher's rid)",
            st == 204, f"link {link}, mid {mid}, status {st}")
    await asyncio.sleep(2.5)
    b_low, b_auto = dict(low_rx.sizes), dict(auto_rx.sizes)
    await asyncio.sleep(2.0)
    w_low, w_auto = window(low_rx, b_low), window(auto_rx, b_auto)
    c.check(f"the pinned viewer on {vb} decodes the low layer {enc['q']}",
            main_size(w_low) == enc["q"] and sum(w_low.values()) >= 20,
            f"decoded sizes over 2 s {w_low}")
    c.check(f"the automatic viewer on {vb} decodes the top layer {enc['f']}",
            main_size(w_auto) == enc["f"] and sum(w_auto.values()) >= 20,
            f"decoded sizes over 2 s {w_auto}")

    _, _, body = await peers.http("GET", nodes[vb].url + "/rooms")
    relayed = next((r for r in json.loads(body)["rooms"] if r["room"] == f"~{room}"), {})
    tracks = [t for p in relayed.get("participants", []) for t in p["tracks"]
              if t["kind"] == "video"]
    layers = tracks[0].get("layers", []) if tracks else []
    want = [enc[r] for r in ("q", "h", "f")]
    got = [(la["width"], la["height"]) for la in layers]
    # h flows only while a viewer needs it (the automatic one is on f, the
    # pinned one on q): it may be paused, its size stays known.
    c.check(f"GET /rooms on {vb}: the relayed track has the three layers, lowest first",
            [la["rid"] for la in layers] == ["q", "h", "f"] and got == want and
            layers[0]["active"] and layers[2]["active"],
            ", ".join(f"{la['rid']} {la['width']}x{la['height']} {la['bitrate_bps'] // 1000} kbit/s"
                      f"{'' if la['active'] else ' inactive'}" for la in layers))
    _, _, body = await peers.http("GET", nodes[owner].url + f"/rooms/{room}")
    info = json.loads(body)
    legs = [v for v in info.get("viewers", []) if v["watching"] == pid]
    currents = sorted(k["current"] for v in legs for k in v["receiving"] if k["current"] is not None)
    pub_layers = next((t["layers"] for p in info.get("participants", []) for t in p["tracks"]
                       if t["kind"] == "video"), [])
    c.check(f"{owner} serves one leg to {vb} carrying each layer once (sinks on layers 0, 1, 2)",
            len(legs) == 1 and currents == [0, 1, 2],
            f"{len(legs)} leg(s), layers {currents}")

    print(f"INFO publisher's layers on {owner}: " + ", ".join(
        f"{la['rid']} {la['bitrate_bps'] // 1000} kbit/s" for la in pub_layers), flush=True)

    # Layer choices flow back: with the automatic viewer gone, the node
    # needs layer q only (its viewer is capped there), and the owner pauses
    # the others; a new automatic viewer climbs back to the top layer.
    leg_in = [("sfu_relay_bytes_total", 'direction="in"')]
    pauses = [("sfu_relay_layer_pauses_total", ""), ("sfu_relay_layer_resumes_total", "")]
    (all_bps,) = await rates(nodes[vb].url, leg_in, 2.0)
    await peers.delete(auto)
    await auto_rx.stop()
    await auto.pc.close()
    await asyncio.sleep(2.5)
    (low_bps,) = await rates(nodes[vb].url, leg_in, 2.0)
    p1 = [await metric(nodes[owner].url, n, lab) or 0 for n, lab in pauses]
    q_bps = next((la["bitrate_bps"] for la in pub_layers if la["rid"] == "q"), 0)
    sum_bps = sum(la["bitrate_bps"] for la in pub_layers)
    c.check(f"only layer q needed on {vb}: {owner} pauses the others, the leg carries q alone",
            all_bps > 0 and low_bps < 0.5 * all_bps and p1[0] >= 2,
            f"leg {all_bps / 1000:.0f} kbit/s with q and f needed (all three published: "
            f"{sum_bps // 1000} kbit/s), {low_bps / 1000:.0f} kbit/s with q only (q published at "
            f"{q_bps // 1000} kbit/s); layers paused {p1[0]:.0f}")
    t0 = time.monotonic()
    third, third_rx = await peers.whep_view(nodes[vb].url, room, pid)
    await peers.wait_connected(third.pc)

    async def top_again():
        recent = dict(third_rx.sizes)
        await asyncio.sleep(0.5)
        return main_size(window(third_rx, recent)) == enc["f"]
    ok = await wait_for(top_again, 10, 0)
    up_s = time.monotonic() - t0
    (again_bps,) = await rates(nodes[vb].url, leg_in, 2.0)
    p2 = [await metric(nodes[owner].url, n, lab) or 0 for n, lab in pauses]
    served = await metric(nodes[owner].url, "sfu_relay_legs", 'role="serve"') or 0
    c.check(f"a new automatic viewer on {vb} climbs back to the top layer: the layers resume, "
            f"still one leg", bool(ok) and p2[1] >= 2 and served == served0 + 1,
            f"top layer decoded {up_s:.1f} s after joining ({dict(third_rx.sizes)}); leg "
            f"{again_bps / 1000:.0f} kbit/s; layers resumed {p2[1]:.0f}; legs served "
            f"{served0:.0f} -> {served:.0f}")

    for v, rx in ((low, low_rx), (third, third_rx)):
        await peers.delete(v)
        await rx.stop()
        await v.pc.close()
    t_end = time.monotonic()
    pub.stdin.close()
    out = (await asyncio.wait_for(pub.communicate(), 30))[0].decode(errors="replace")
    print(f"INFO the publisher took {time.monotonic() - t_end:.1f} s to finish", flush=True)
    for text in out.splitlines():
        print(f"  chromium publisher: {text}", flush=True)
    c.check("the simulcast publisher's own checks pass", pub.returncode == 0, f"exit {pub.returncode}")

    async def leg_gone():
        return (await metric(nodes[owner].url, "sfu_relay_legs", 'role="serve"') or 0) == served0
    c.check(f"the simulcast leg ends with its last viewer", bool(await wait_for(leg_gone, 8, 0.1)),
            f"phase took {time.monotonic() - t_start:.1f} s")


async def run(c: Checks, redis: Redis, nodes: Dict[str, SfuFixture]) -> None:
    names = list(nodes)

    async def registered():
        return all([await metric(n.url, "sfu_cluster_nodes") == 3 for n in nodes.values()])
    c.check("three nodes registered", await wait_for(registered, 6))

    pub = await peers.whip_publish(nodes["A"].url, ROOM,
                                   [peers.FrameNumberTrack(), peers.SineTrack()])
    owner = node_of(pub.url, nodes)
    b, cc = [n for n in names if n != owner]
    await peers.wait_connected(pub.pc)
    c.check("the publisher is on the room's owner", owner is not None, f"owner {owner}")

    t0 = time.monotonic()
    v1, rx1 = await peers.whep_view(nodes[b].url, ROOM, pub.participant_id)
    open_ms = 1000 * (time.monotonic() - t0)
    c.check(f"a WHEP viewer on {b} is served by {b} (relay, no redirect)",
            node_of(v1.url, nodes) == b, f"{v1.url.split('/sessions/')[0]}, {open_ms:.0f} ms")
    await peers.wait_connected(v1.pc)
    c.check(f"... and decodes the publisher's frames", await frames_flow(rx1, 40, 10),
            f"{len(rx1.numbers)} frames, audio {rx1.audio_loud} loud")
    c.check("... and its audio", rx1.audio_loud > 20, f"{rx1.audio_loud} loud audio frames")
    served = await metric(nodes[owner].url, "sfu_relay_legs", 'role="serve"')
    pulled = await metric(nodes[b].url, "sfu_relay_legs", 'role="pull"')
    c.check("metrics: the owner serves one leg, the viewer's node pulls one",
            served == 1 and pulled == 1, f"serve {served}, pull {pulled}")

    # One leg however many viewers: the owner's uplink does not grow.
    await asyncio.sleep(1.0)
    uplink = [("sfu_relay_bytes_total", 'direction="out"'), ("sfu_bytes_out_total", "")]
    r1, t1 = await rates(nodes[owner].url, uplink, 4.0)
    more = [await peers.whep_view(nodes[b].url, ROOM, pub.participant_id) for _ in range(2)]
    for s, _ in more:
        await peers.wait_connected(s.pc)
    ok = all([await frames_flow(rx, 20, 10) for _, rx in more])
    c.check(f"two more viewers on {b} decode", ok,
            ", ".join(str(len(rx.numbers)) for _, rx in more) + " frames")
    await asyncio.sleep(1.0)
    r3, t3 = await rates(nodes[owner].url, uplink, 4.0)
    served = await metric(nodes[owner].url, "sfu_relay_legs", 'role="serve"')
    c.check(f"owner's relay uplink with 3 viewers on {b} is one leg's worth",
            r1 > 50000 and r3 / r1 <= 1.35 and served == 1,
            f"1 viewer {r1 / 1000:.0f} kbit/s, 3 viewers {r3 / 1000:.0f} kbit/s "
            f"(x{r3 / max(r1, 1):.2f}), legs {served}")
    c.check("... and its total bytes sent do not grow either", t1 > 50000 and t3 / t1 <= 1.35,
            f"{t1 / 1000:.0f} -> {t3 / 1000:.0f} kbit/s (x{t3 / max(t1, 1):.2f})")
    pulls = await metric(nodes[b].url, "sfu_relay_opens_total", 'result="ok"')
    c.check(f"{b} opened one leg for its three viewers", pulls == 1, f"{pulls}")

    # A Chromium viewer on the same node, kept until the owner is killed.
    chromium = await asyncio.create_subprocess_exec(
        "node", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "chromium_relay_viewer.mjs"),
        "--url", nodes[b].url, "--room", ROOM, "--participant", pub.participant_id,
        "--seconds", "5", "--watch-seconds", "60",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    ready = False
    try:
        while True:
            line = await asyncio.wait_for(chromium.stdout.readline(), 60)
            if not line:
                break
            text = line.decode(errors="replace").rstrip()
            if text == "READY":
                ready = True
                break
            print(f"  chromium: {text}", flush=True)
    except asyncio.TimeoutError:
        pass
    c.check(f"a Chromium viewer on {b} decodes through the same leg", ready)
    r4 = await rate(nodes[owner].url, "sfu_relay_bytes_total", 'direction="out"', 4.0)
    c.check(f"owner's relay uplink with 3 aiortc + 1 Chromium viewers on {b}: still one leg",
            r1 > 50000 and r4 / r1 <= 1.35,
            f"{r4 / 1000:.0f} kbit/s (x{r4 / max(r1, 1):.2f} of 1 viewer)")

    # Keyframe requests flow back over the leg: the publisher (aiortc) sends
    # a keyframe only when asked, so the viewers that joined after the first
    # one found no fresh keyframe in B's cache (keyframe_cache_ms): B asked A
    # over the leg (A's only viewer so far is that leg), and A the publisher.
    replays = await metric(nodes[b].url, "sfu_keyframe_replays_total") or 0
    leg_reqs = sum([await metric(nodes[owner].url, m) or 0
                    for m in ("sfu_plis_received_total", "sfu_firs_received_total")])
    to_pub = await metric(nodes[owner].url, "sfu_keyframe_requests_sent_total") or 0
    b_reqs = await metric(nodes[b].url, "sfu_keyframe_requests_sent_total") or 0
    c.check(f"keyframe requests of {b}'s viewers flow back over the leg to {owner} "
            f"and on to the publisher", leg_reqs >= 1 and b_reqs >= 1 and to_pub >= 1,
            f"{b} sent {b_reqs:.0f} over the leg, {owner} received {leg_reqs:.0f} PLI/FIR and "
            f"asked the publisher {to_pub:.0f} times; {b} replayed {replays:.0f} from its cache")

    vc, rxc = await peers.whep_view(nodes[cc].url, ROOM, pub.participant_id)
    await peers.wait_connected(vc.pc)
    c.check(f"a viewer on {cc} decodes too", node_of(vc.url, nodes) == cc and
            await frames_flow(rxc, 30, 10), f"{len(rxc.numbers)} frames")
    served = await metric(nodes[owner].url, "sfu_relay_legs", 'role="serve"')
    c.check("the owner serves two legs", served == 2, f"{served}")
    status, _, body = await peers.http("GET", nodes[b].url + "/rooms")
    c.check(f"GET /rooms on {b} shows the room on {owner} and its relay copy",
            f'"room":"~{ROOM}"' in body and f'"node":"{owner}"' in body, body[:200])

    # The last viewer on C leaves: C's leg ends, the owner's side follows.
    await peers.delete(vc)
    await rxc.stop()
    await vc.pc.close()
    t0 = time.monotonic()

    async def one_leg():
        return await metric(nodes[owner].url, "sfu_relay_legs", 'role="serve"') == 1
    ok = await wait_for(one_leg, 5, 0.05)
    c.check(f"{cc}'s last viewer left: its leg ends on both nodes", bool(ok) and
            await metric(nodes[cc].url, "sfu_relay_legs", 'role="pull"') == 0,
            f"{1000 * (time.monotonic() - t0):.0f} ms")

    # Hostile calls to the internal endpoint.
    sessions_before = await metric(nodes[owner].url, "sfu_sessions")
    url = nodes[owner].url + "/cluster/relay"
    req = {"v": 1, "node": "X", "room": ROOM, "participant": pub.participant_id,
           "addr": "127.0.0.1", "port": 9, "nonce": "0" * 32, "ts": int(time.time())}
    cases = {
        "no seal": json.dumps(req),
        "wrong secret": sealed(req, "not-the-cluster-secret-0123456789abcdef"),
        "stale timestamp": sealed(dict(req, ts=int(time.time()) - 3600), SECRET),
        "garbage": "\x00\xff" * 40,
    }
    statuses = {}
    for what, body in cases.items():
        st, _, _ = await peers.http("POST", url, body, "application/x-sfu-relay")
        statuses[what] = st
    after = await metric(nodes[owner].url, "sfu_sessions")
    refused = await metric(nodes[owner].url, "sfu_relay_opens_total", 'result="refused"')
    c.check("hostile: the relay endpoint refuses unsealed, wrongly sealed, stale calls (403)",
            all(s == 403 for s in statuses.values()) and after == sessions_before and
            refused == len(cases), f"{statuses}, sessions {sessions_before} -> {after}, "
            f"refused {refused}")
    st, _, _ = await peers.http("POST", nodes[b].url + f"/whep/~{ROOM}/{pub.participant_id}",
                                "v=0\r\n", "application/sdp")
    st2, _, _ = await peers.http("GET", nodes[b].url + f"/rooms/~{ROOM}")
    c.check("hostile: a client cannot name the relay copy of a room", st == 400 and st2 == 400,
            f"WHEP {st}, GET {st2}")

    dump = []
    for key in redis.cli("KEYS", "*").split():
        kind = redis.cli("TYPE", key)
        dump.append(key + " " + (redis.cli("GET", key) if kind == "string"
                                 else redis.cli("SMEMBERS", key)))
    text = "\n".join(dump)
    seen = [s for s in ("~", v1.url.rsplit("/", 1)[1], pub.url.rsplit("/", 1)[1], '"address"',
                        '"addr"', "127.0.0.1\"") if s in text]
    c.check("Redis holds no relayed room, session id or address", not seen, ", ".join(seen))

    await simulcast_over_leg(c, nodes, avoid=b)

    # kill -9 the owner: the relay legs to it end, their viewers are told.
    viewers = [(v1, rx1)] + more
    os.kill(nodes[owner].proc.pid, signal.SIGKILL)
    killed = time.monotonic()

    def dtls_state(v: peers.Session) -> str:
        return v.pc.getReceivers()[0].transport.state

    async def told():
        return all(dtls_state(v) in ("closed", "failed") for v, _ in viewers)
    ok = await wait_for(told, 20, 0.05)
    told_ms = 1000 * (time.monotonic() - killed)
    c.check(f"kill -9 of the owner: {b}'s three viewers are told (DTLS closed)", bool(ok),
            f"{told_ms:.0f} ms; DTLS " + ", ".join(dtls_state(v) for v, _ in viewers))
    killed_epoch_ms = time.time() * 1000 - told_ms
    chromium_closed_ms = None
    try:
        while True:
            line = await asyncio.wait_for(chromium.stdout.readline(), 70)
            if not line:
                break
            text = line.decode(errors="replace").rstrip()
            print(f"  chromium: {text}", flush=True)
            m = re.match(r"INFO dtls (\w+) at (\d+)", text)
            if m and m.group(1) in ("closed", "failed"):
                chromium_closed_ms = int(m.group(2)) - killed_epoch_ms
    except asyncio.TimeoutError:
        chromium.kill()
    rc = await chromium.wait()
    c.check(f"... and the Chromium viewer on {b} too (its DTLS transport closed)",
            chromium_closed_ms is not None and rc == 0,
            f"{chromium_closed_ms:.0f} ms after the kill" if chromium_closed_ms is not None
            else f"exit {rc}")
    lost = await metric(nodes[b].url, "sfu_relay_lost_total")
    pulled = await metric(nodes[b].url, "sfu_relay_legs", 'role="pull"')
    st, _, _ = await peers.http("DELETE", v1.url)
    c.check(f"... {b} counts the leg lost and ended the viewers' sessions",
            lost == 1 and pulled == 0 and st == 404, f"lost {lost}, pull {pulled}, DELETE {st}")
    for v, rx in viewers:
        await rx.stop()
        await v.pc.close()
    await pub.pc.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sfu", default="build/sfu")
    args = ap.parse_args()
    if not shutil.which("redis-server"):
        print("FAIL redis-server not installed (scripts/install-deps.sh)")
        print("0 passed, 1 failed")
        return 1
    peers.patch_loopback()
    c = Checks()
    started = time.monotonic()
    redis = Redis()
    nodes: Dict[str, SfuFixture] = {}
    try:
        for name in ("A", "B", "C"):
            port = free_tcp_port()
            url = f"http://127.0.0.1:{port}"
            nodes[name] = SfuFixture(args.sfu, port=port, settings=[
                f"cluster.redis_url=redis://127.0.0.1:{redis.port}/0",
                f"cluster.node_id={name}", f"cluster.public_url={url}",
                f"cluster.secret={SECRET}", f"cluster.heartbeat_ms={HEARTBEAT_MS}",
                f"cluster.node_ttl_ms={TTL_MS}", "cluster.redis_timeout_ms=250",
                "cluster.relay=true", "http.requests_per_second_per_client=0"])
            nodes[name].start()
        asyncio.run(run(c, redis, nodes))
    except Exception as e:  # a failure to set up is a failed check, with the logs
        c.check("the run completed", False, f"{type(e).__name__}: {e}")
        for name, n in nodes.items():
            print(f"-- node {name} log tail:\n{n.log_tail(25)}")
    finally:
        for name, n in nodes.items():
            n.stop()
            if n.exit_status not in (0, -signal.SIGKILL):
                c.check(f"node {name} stops cleanly", False, n.describe_exit() + "\n" +
                        n.log_tail(15))
            n.cleanup()
        redis.stop()
    print(f"took {time.monotonic() - started:.1f} s")
    print(f"{c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
