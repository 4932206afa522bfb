#!/usr/bin/python3
"""A room that spans cluster nodes: three sfu nodes and a Redis on loopback.

  /usr/bin/python3 tests/e2e/cluster_room.py --sfu build/asan/sfu
  /usr/bin/python3 tests/e2e/cluster_room.py --sfu build/sfu -- \
      node tests/e2e/chromium_call.mjs --url {url} --page-urls {urls}
      (fixture mode: the same Redis and spanning nodes, then COMMAND; its
      status. There, three Chromium participants join on three nodes.)

Every node runs with [cluster] relay = true and span = true. One aiortc
room participant per node (each its own process, tests/e2e/room_call.py
--child: Opus sine + VP8 whose frames show their own number), joining
POST /rooms/{room}/join on its own node. Checks, one line each:
  - every join is answered 201 by the node it was sent to (no redirect);
    the first node owns the room (Redis), the others hold it as satellites;
  - two nodes: the two participants decode each other's video frames and
    receive each other's audio (join time on the satellite and the time to
    the first frame printed);
  - three nodes: every participant decodes the two others' video and
    receives their audio (frames per second per pair printed);
  - the room limit (3 here) counts the whole room: a fourth join on a
    satellite, which holds one participant of its own, is refused (503);
  - GET /rooms/{room} on the owner lists the three participants with their
    names, each with audio and video; GET /rooms on the third node shows the
    room once, on the owner; Redis holds no participant name;
  - hostile: an unsealed or garbage POST /cluster/span is refused (403);
  - kill -9 of a satellite: the two others see its participant leave
    (participant-left; time printed), and keep decoding each other;
  - the node comes back and a participant rejoins there (three decode each
    other again); kill -9 of the owner: the two others see its participant
    leave, the directory gives the room a new owner (one of them, after the
    node TTL), and they decode each other again (time printed).
Ends with 'N passed, M failed'.
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import time
from typing import Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
from cluster import Checks, Redis, run_command, wait_for  # noqa: E402
from cluster_relay import metric  # noqa: E402
from room_call import Child  # noqa: E402
from sfu_fixture import SfuFixture, free_tcp_port  # noqa: E402

TTL_MS = 4000
HEARTBEAT_MS = 500
SECRET = "cluster-room-test-secret-0123456789ab"
ROOM = "span-room"
FPS = 10
ROOM_LIMIT = 3      # the three participants fill it: a fourth join is refused on any node
ROOM_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "room_call.py")


async def spawn(name: str, url: str) -> Child:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, ROOM_CALL, "--child", name, "--url", url, "--room", ROOM,
        "--fps", str(FPS), "--width", "160", "--height", "120", "--connect-timeout", "20",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    child = Child(name, proc)
    child.reader = asyncio.ensure_future(child.read())
    return child


async def report(c: Child) -> dict:
    await c.send("report")
    return await c.expect(("report",), 20)


def frames(rep: dict, sender: str) -> int:
    return len(rep.get("senders", {}).get(sender, {}).get("video", {}).get("numbers", []))


def audio(rep: dict, sender: str) -> int:
    return rep.get("senders", {}).get(sender, {}).get("audio", {}).get("frames", 0)


async def window(children: List[Child], seconds: float):
    """Reports before and after `seconds`: per (receiver, sender) the video
    frames decoded and audio frames received in between."""
    before = {c.name: await report(c) for c in children}
    await asyncio.sleep(seconds)
    after = {c.name: await report(c) for c in children}
    out = {}
    for c in children:
        for o in children:
            if o is c:
                continue
            pid = o.joined["participant"]
            out[(c.name, o.name)] = (frames(after[c.name], pid) - frames(before[c.name], pid),
                                     audio(after[c.name], pid) - audio(before[c.name], pid))
    return out, after


def media_ok(got: dict, seconds: float):
    """At least half the frames sent (FPS) and half the 20 ms audio frames."""
    bad = [f"{r}<-{s}: {v} video, {a} audio" for (r, s), (v, a) in got.items()
           if v < 0.5 * FPS * seconds or a < 0.5 * 50 * seconds]
    fps = ", ".join(f"{r}<-{s} {v / seconds:.1f} fps" for (r, s), (v, a) in got.items())
    return not bad, "; ".join(bad) if bad else fps


async def run(c: Checks, redis: Redis, nodes: Dict[str, SfuFixture], make) -> None:
    async def registered():
        return all([await metric(n.url, "sfu_cluster_nodes") == 3 for n in nodes.values()])
    c.check("three nodes registered", await wait_for(registered, 8))

    children: List[Child] = []
    try:
        # Two nodes first: the owner and one satellite.
        p1 = await spawn("alice", nodes["A"].url)
        children.append(p1)
        p1.joined = await p1.expect(("joined",), 30)
        owner = redis.cli("GET", f"sfu:room:{ROOM}")
        c.check("the first join is served by its node, which owns the room",
                p1.joined.get("status") == 201 and owner == "A",
                f"status {p1.joined.get('status')}, owner {owner!r}")
        p2 = await spawn("bob", nodes["B"].url)
        children.append(p2)
        p2.joined = await p2.expect(("joined",), 30)
        loc = p2.joined.get("location") or ""
        c.check("a join on B is served by B, a satellite of A (no redirect)",
                p2.joined.get("status") == 201 and loc.startswith("/sessions/"),
                f"status {p2.joined.get('status')}, Location {loc}")
        for ch in (p1, p2):
            m = await ch.expect(("connected", "connect-failed"), 25)
            c.check(f"{ch.name} connected", m.get("type") == "connected", str(m))
        sats = await metric(nodes["B"].url, "sfu_span_satellite_rooms")
        peers_a = await metric(nodes["A"].url, "sfu_span_satellites")
        c.check("B holds the room as a satellite; A sees one satellite",
                sats == 1 and peers_a == 1, f"B {sats}, A {peers_a}")

        async def both_decode():
            reps = [await report(ch) for ch in (p1, p2)]
            return all(frames(r, o.joined["participant"]) >= 10
                       for r, o in zip(reps, (p2, p1))) and reps
        reps = await wait_for(both_decode, 15, 0.5)
        if reps:
            first_b = reps[1]["senders"][p1.joined["participant"]]["video"]["first_ms"]
            first_a = reps[0]["senders"][p2.joined["participant"]]["video"]["first_ms"]
            detail = (f"join on satellite B {reps[1]['join_ms']:.0f} ms; first frame of alice "
                      f"on B {first_b:.0f} ms after its join, of bob on A {first_a:.0f} ms "
                      f"after alice's join")
        else:
            detail = "no frames within 15 s"
        c.check("two nodes: alice (A) and bob (B) decode each other", bool(reps), detail)
        got, _ = await window([p1, p2], 3.0)
        ok, detail = media_ok(got, 3.0)
        c.check("two nodes: video and audio flow both ways", ok, detail)

        # The third node.
        p3 = await spawn("carol", nodes["C"].url)
        children.append(p3)
        p3.joined = await p3.expect(("joined",), 30)
        m = await p3.expect(("connected", "connect-failed"), 25)
        c.check("a join on C is served by C and connects",
                p3.joined.get("status") == 201 and m.get("type") == "connected",
                f"status {p3.joined.get('status')}, {m.get('type')}")

        async def all_decode():
            reps = {ch.name: await report(ch) for ch in children}
            return all(frames(reps[r.name], o.joined["participant"]) >= 5
                       for r in children for o in children if o is not r)
        t0 = time.monotonic()
        ok = await wait_for(all_decode, 15, 0.5)
        c.check("three nodes: everyone decodes everyone", bool(ok),
                f"{1000 * (time.monotonic() - t0):.0f} ms after carol connected")
        got, after = await window(children, 4.0)
        ok, detail = media_ok(got, 4.0)
        c.check("three nodes: video and audio of the two others, for each", ok, detail)
        # The room limit is the whole room's: B holds one participant of its
        # own, and two pulled from A.
        p5 = await spawn("dave", nodes["B"].url)
        p5.joined = await p5.expect(("joined",), 30)
        c.check(f"max_participants_per_room = {ROOM_LIMIT} counts the whole room: a fourth "
                "join on B is refused", p5.joined.get("status") == 503 and
                "full" in (p5.joined.get("body") or ""),
                f"{p5.joined.get('status')} {p5.joined.get('body')}")
        p5.proc.kill()
        await p5.proc.wait()
        p5.reader.cancel()

        status, _, body = await peers.http("GET", nodes["A"].url + f"/rooms/{ROOM}")
        doc = json.loads(body) if status == 200 else {}
        listed = {p.get("participant"): (p.get("name"), sorted(t.get("kind") for t in
                                                                p.get("tracks", [])))
                  for p in doc.get("participants", [])}
        want = {ch.joined["participant"]: (ch.name, ["audio", "video"]) for ch in children}
        c.check("GET /rooms/{room} on the owner lists the three with names and tracks",
                listed == want, json.dumps(listed))
        status, _, body = await peers.http("GET", nodes["C"].url + "/rooms")
        rooms = [r for r in json.loads(body).get("rooms", []) if r.get("room") == ROOM] \
            if status == 200 else []
        c.check("GET /rooms on satellite C shows the room once, with the three",
                len(rooms) == 1 and len(rooms[0].get("participants", [])) == 3,
                json.dumps([(r.get("node"), len(r.get("participants", []))) for r in rooms]))
        dump = " ".join(redis.cli("GET", k) for k in redis.cli("KEYS", "*").split()
                        if redis.cli("TYPE", k) == "string")
        leaked = [ch.name for ch in children if ch.name in dump]
        c.check("Redis holds no participant name", not leaked, ", ".join(leaked))
        body = json.dumps({"v": 1, "node": "X", "url": "http://127.0.0.1:9", "room": ROOM,
                           "ts": int(time.time()), "members": [{"id": "0a1b2c3d", "name": "x"}]})
        st1, _, _ = await peers.http("POST", nodes["A"].url + "/cluster/span", body,
                                     "application/x-sfu-span")
        st2, _, _ = await peers.http("POST", nodes["A"].url + "/cluster/span", "x" * 100,
                                     "application/x-sfu-span")
        refused = await metric(nodes["A"].url, "sfu_span_refused_total")
        status, _, body = await peers.http("GET", nodes["A"].url + f"/rooms/{ROOM}")
        c.check("hostile: POST /cluster/span unsealed or garbage is refused (403), nothing "
                "pulled", st1 == 403 and st2 == 403 and refused == 2 and "0a1b2c3d" not in body,
                f"{st1}, {st2}, refused {refused}")

        # kill -9 a satellite: C. Its participant leaves A's and B's rooms.
        gone = p3.joined["participant"]
        os.kill(nodes["C"].proc.pid, signal.SIGKILL)
        killed = time.monotonic()

        async def removed():
            reps = [await report(ch) for ch in (p1, p2)]
            return all(gone in r.get("left", []) for r in reps)
        ok = await wait_for(removed, 12, 0.2)
        c.check("kill -9 of satellite C: alice and bob see carol leave", bool(ok),
                f"{1000 * (time.monotonic() - killed):.0f} ms after the kill")
        p3.proc.kill()      # its node is gone: nothing to leave
        got, _ = await window([p1, p2], 3.0)
        ok, detail = media_ok(got, 3.0)
        c.check("... and alice and bob keep decoding each other", ok, detail)
        status, _, body = await peers.http("GET", nodes["A"].url + f"/rooms/{ROOM}")
        left = [p.get("participant") for p in json.loads(body).get("participants", [])] \
            if status == 200 else []
        c.check("... and the owner's room lists the two", sorted(left) == sorted(
            [p1.joined["participant"], p2.joined["participant"]]), f"{left}")

        # C comes back; carol rejoins there. Then kill -9 of the owner A:
        # B and C find the room a new owner and carry on between them.
        make("C")
        ok = await wait_for(registered, 8)
        p4 = await spawn("carol2", nodes["C"].url)
        children.append(p4)
        p4.joined = await p4.expect(("joined",), 30)
        m = await p4.expect(("connected", "connect-failed"), 25)
        trio = [p1, p2, p4]

        async def trio_decodes():
            reps = {ch.name: await report(ch) for ch in trio}
            return all(frames(reps[r.name], o.joined["participant"]) >= 5
                       for r in trio for o in trio if o is not r)
        ok = bool(ok) and m.get("type") == "connected" and await wait_for(trio_decodes, 15, 0.5)
        c.check("C restarted: carol rejoins there, and the three decode each other", bool(ok),
                f"join {p4.joined.get('status')}, {m.get('type')}")
        gone = p1.joined["participant"]
        os.kill(nodes["A"].proc.pid, signal.SIGKILL)
        p1.proc.kill()
        killed = time.monotonic()
        pair = [p2, p4]

        async def alice_left():
            reps = [await report(ch) for ch in pair]
            return all(gone in r.get("left", []) for r in reps)
        ok = await wait_for(alice_left, 12, 0.2)
        c.check("kill -9 of the owner A: bob and carol2 see alice leave", bool(ok),
                f"{1000 * (time.monotonic() - killed):.0f} ms after the kill")
        base = {ch.name: await report(ch) for ch in pair}

        async def pair_decodes():
            reps = {ch.name: await report(ch) for ch in pair}
            return all(frames(reps[r.name], o.joined["participant"]) -
                       frames(base[r.name], o.joined["participant"]) >= 10
                       for r in pair for o in pair if o is not r)
        ok = await wait_for(pair_decodes, 20, 0.5)
        new_owner = redis.cli("GET", f"sfu:room:{ROOM}")
        if not c.check("... the room gets a new owner and bob (B) and carol2 (C) decode each "
                       "other again", bool(ok) and new_owner in ("B", "C"),
                       f"{1000 * (time.monotonic() - killed):.0f} ms after the kill (node TTL "
                       f"{TTL_MS} ms), owner {new_owner!r}"):
            for name in ("B", "C"):
                print(f"-- node {name} log tail:\n{nodes[name].log_tail(30)}")
                st, _, body = await peers.http("GET", nodes[name].url + f"/rooms/{ROOM}")
                print(f"-- node {name} GET /rooms/{ROOM}: {st} {body}")
            for ch in pair:
                rep = await report(ch)
                print(f"-- {ch.name}: answers {rep.get('answers')} events {rep.get('events')} "
                      f"left {rep.get('left')} conn {rep.get('connection')} senders " +
                      json.dumps({k: {kk: (len(vv.get('numbers', [])) if kk == 'video' else vv)
                                      for kk, vv in v.items()}
                                  for k, v in rep.get('senders', {}).items()}))
        got, _ = await window(pair, 3.0)
        ok, detail = media_ok(got, 3.0)
        c.check("... video and audio both ways", ok, detail)
        for ch in pair:
            await ch.send("leave")
            m = await ch.expect(("deleted",), 15)
            c.check(f"{ch.name} leaves (DELETE 200)", m.get("status") == 200, str(m))
    finally:
        for ch in children:
            if ch.proc.returncode is None:
                try:
                    ch.proc.stdin.close()
                except Exception:  # noqa: BLE001
                    pass
        await asyncio.sleep(0.3)
        for ch in children:
            if ch.proc.returncode is None:
                ch.proc.kill()
            await ch.proc.wait()
            ch.reader.cancel()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sfu", default="build/sfu")
    ap.add_argument("command", nargs=argparse.REMAINDER,
                    help="after --: run this against the spanning nodes instead of the checks "
                         "({url}: node A, {urls}: the three nodes)")
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not shutil.which("redis-server"):
        print("FAIL redis-server not installed (scripts/install-deps.sh)")
        print("0 passed, 1 failed")
        return 1
    c = Checks()
    started = time.monotonic()
    redis = Redis()
    nodes: Dict[str, SfuFixture] = {}
    every: List = []      # (name, fixture), restarted ones too

    def make(name: str) -> None:
        port = free_tcp_port()
        url = f"http://127.0.0.1:{port}"
        nodes[name] = SfuFixture(args.sfu, port=port, settings=[
            f"cluster.redis_url=redis://127.0.0.1:{redis.port}/0",
            f"cluster.node_id={name}", f"cluster.public_url={url}",
            f"cluster.secret={SECRET}", f"cluster.heartbeat_ms={HEARTBEAT_MS}",
            f"cluster.node_ttl_ms={TTL_MS}", "cluster.redis_timeout_ms=250",
            "cluster.relay=true", "cluster.span=true",
            f"limits.max_participants_per_room={ROOM_LIMIT}",
            "http.requests_per_second_per_client=0"])
        every.append((name, nodes[name]))
        nodes[name].start()
    try:
        for name in ("A", "B", "C"):
            make(name)
        if command:
            rc = run_command(command, nodes)
            c.check("the command against the spanning nodes", rc == 0, f"exit {rc}")
        else:
            asyncio.run(run(c, redis, nodes, make))
    except Exception as e:  # a failure to set up is a failed check, with the logs
        c.check("the run completed", False, f"{type(e).__name__}: {e}")
        for name, n in nodes.items():
            print(f"-- node {name} log tail:\n{n.log_tail(25)}")
    finally:
        for name, n in every:
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
