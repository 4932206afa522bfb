#!/usr/bin/python3
"""Three sfu nodes and a Redis on loopback: the cluster directory end to end.

  /usr/bin/python3 tests/e2e/cluster.py --sfu build/asan/sfu
  /usr/bin/python3 tests/e2e/cluster.py --sfu build/sfu -- \
      node tests/e2e/chromium_call.mjs --url {url} --page-urls {urls}
      (fixture mode: the same Redis and nodes, then COMMAND; its status)

Starts its own redis-server (loopback port, temporary directory, no
persistence) and three nodes with a short TTL (2 s). Checks, one line each:
  - every node registers (Redis lists three live records; each node's
    /metrics counts three nodes);
  - a publisher's WHIP POST creates the room on one node (the owner), and
    the owner record in Redis names it;
  - a second publisher's WHIP POST to another node answers 307 with
    Location = the owner's public URL + the same path and query; followed,
    it publishes on the owner; an aiortc viewer's WHEP POST to the third
    node is redirected the same way and decodes the first publisher's frames;
  - a new room asked at the owner, now the busiest node (3 of its 4
    sessions), is given to an idle node (307 there, and Redis records it);
  - GET /rooms on the third node lists the room (owner's node id, both
    participants) without names;
  - Redis stopped (SIGSTOP) for 10 s mid-call, with calls on two nodes
    (the room on its owner, the new room on the idle node): both viewers
    keep decoding all along, a new room answers 503 with Retry-After, the
    owner still serves its own room; after SIGCONT a new room is accepted
    again, every node is back in the directory (their records expired
    while Redis stood still), both rooms keep their owners, and each node
    logged the outage once per cause;
  - kill -9 of the owner: its record is gone from Redis within the TTL
    (figure printed) and the others count two nodes; a publisher rejoining
    the room through a live node lands on a live node, which now owns it;
  - SIGTERM on a node with a session: its record is gone from Redis while
    it drains (503 for new sessions), and it exits 0 when the session ends;
  - Redis holds no client name, session id or address field.
Ends with 'N passed, M failed'.
"""

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from typing import Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
from sfu_fixture import SfuFixture, free_tcp_port  # noqa: E402

TTL_MS = 2000
HEARTBEAT_MS = 250
SECRET = "cluster-test-secret-0123456789abcdef"
ROOM = "cl-room"
NAME = "Zelda-Secret-Name"


class Checks:
    def __init__(self) -> None:
        self.passed = self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok


class Redis:
    """A redis-server of the test's own, in the foreground, no persistence."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="sfu-redis-")
        self.port = free_tcp_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=open(os.path.join(self.dir, "redis.log"), "wb"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while self.cli("PING") != "PONG":
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def cli(self, *args: str) -> str:
        r = subprocess.run(["redis-cli", "-p", str(self.port), "--raw", *args],
                           capture_output=True, text=True, timeout=5)
        return r.stdout.strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


def node_of(url: str, nodes: Dict[str, SfuFixture]) -> Optional[str]:
    for name, n in nodes.items():
        if url.startswith(n.url + "/"):
            return name
    return None


async def metric(url: str, name: str) -> Optional[float]:
    status, _, body = await peers.http("GET", url + "/metrics")
    m = re.search(rf"^{name} (\S+)$", body, re.M) if status == 200 else None
    return float(m.group(1)) if m else None


async def wait_for(pred, timeout: float, step: float = 0.05):
    """Polls `pred` (async) until it returns a true value or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        v = await pred()
        if v or time.monotonic() > deadline:
            return v
        await asyncio.sleep(step)


async def run(args: argparse.Namespace, c: Checks, redis: Redis,
              nodes: Dict[str, SfuFixture]) -> None:
    names = list(nodes)
    # Registration.
    async def registered():
        ids = redis.cli("SMEMBERS", "sfu:nodes").split()
        counts = [await metric(n.url, "sfu_cluster_nodes") for n in nodes.values()]
        return sorted(ids) == sorted(names) and all(x == 3 for x in counts)
    c.check("three nodes registered, each sees three",
            await wait_for(registered, 5), redis.cli("SMEMBERS", "sfu:nodes").replace("\n", " "))

    # The room is created on whichever node the first POST lands on.
    t0 = time.monotonic()
    p1 = await peers.whip_publish(nodes["A"].url, ROOM, [peers.FrameNumberTrack()])
    owner = node_of(p1.url, nodes)
    others = [n for n in names if n != owner]
    c.check("first WHIP creates the room on a node", owner is not None,
            f"owner {owner}, {1000 * (time.monotonic() - t0):.0f} ms")
    c.check("Redis names the owner", redis.cli("GET", f"sfu:room:{ROOM}") == owner,
            redis.cli("GET", f"sfu:room:{ROOM}"))
    await peers.wait_connected(p1.pc)
    via, viewer_node = others[0], others[1]

    # The redirect itself, timed, then followed by a real publisher.
    path = f"/whip/{ROOM}?name={urllib.parse.quote(NAME)}"
    t0 = time.monotonic()
    status, headers, _ = await peers.http("POST", nodes[via].url + path, "v=0\r\n",
                                          "application/sdp")
    redirect_ms = 1000 * (time.monotonic() - t0)
    location = peers._header(headers, "Location") or ""
    c.check(f"WHIP via {via} answers 307 to the owner", status == 307 and
            location == nodes[owner].url + path,
            f"{status} Location {location}, {redirect_ms:.1f} ms")
    p2 = await peers.whip_publish(nodes[via].url, ROOM, [peers.FrameNumberTrack()], name=NAME)
    c.check("the redirected publisher lands on the owner", node_of(p2.url, nodes) == owner,
            p2.url.split("/sessions/")[0])
    await peers.wait_connected(p2.pc)

    receiver = peers.Receiver()
    view, receiver = await peers.whep_view(nodes[viewer_node].url, ROOM, p1.participant_id,
                                           receiver)
    c.check(f"WHEP via {viewer_node} is served by the owner", node_of(view.url, nodes) == owner)
    await peers.wait_connected(view.pc)
    await wait_for(lambda: asyncio.sleep(0, len(receiver.numbers) > 20), 8, 0.2)
    c.check("the viewer decodes the publisher's frames", len(receiver.numbers) > 20,
            f"{len(receiver.numbers)} frames")

    async def listed():
        status, _, body = await peers.http("GET", nodes[viewer_node].url + "/rooms")
        return body if (status == 200 and f'"node":"{owner}"' in body and
                        p1.participant_id in body and p2.participant_id in body) else None
    body = await wait_for(listed, 3, 0.1)
    c.check(f"GET /rooms on {viewer_node} lists the room on {owner}", bool(body),
            (body or "")[:160])
    c.check("... without names", bool(body) and NAME not in body and '"name"' not in body)

    # A new room asked at the busy owner (3 of its 4 sessions) goes to one
    # of the idle nodes.
    await asyncio.sleep(2 * HEARTBEAT_MS / 1000)
    status, headers, _ = await peers.http("POST", nodes[owner].url + "/whip/cl-fresh", "v=0\r\n",
                                          "application/sdp")
    location = peers._header(headers, "Location") or ""
    chosen = redis.cli("GET", "sfu:room:cl-fresh")
    # Which of the two idle ones: their CPU shares decide.
    c.check("a new room asked at a loaded node goes to a less loaded one",
            status == 307 and chosen in others and
            location == nodes[chosen].url + "/whip/cl-fresh",
            f"{status} Location {location}, owner {redis.cli('GET', 'sfu:room:cl-fresh')}")

    async def owned():
        return await metric(nodes[owner].url, "sfu_cluster_rooms_owned") == 1
    c.check("metrics: the owner owns one room", await wait_for(owned, 2, 0.1))
    redirects = [await metric(nodes[n].url, "sfu_cluster_redirects_total") for n in others]
    c.check("metrics: the other two counted their redirects", redirects == [2, 1],
            f"{via}: {redirects[0]}, {viewer_node}: {redirects[1]}")

    # A call in the new room too, so that calls on two nodes see Redis stop.
    p4 = await peers.whip_publish(nodes[chosen].url, "cl-fresh", [peers.FrameNumberTrack()])
    fresh_rx = peers.Receiver()
    view4, fresh_rx = await peers.whep_view(nodes[chosen].url, "cl-fresh", p4.participant_id,
                                            fresh_rx)
    await peers.wait_connected(view4.pc)
    await wait_for(lambda: asyncio.sleep(0, len(fresh_rx.numbers) > 10), 8, 0.2)
    c.check(f"a second call, in the new room on {chosen}", len(fresh_rx.numbers) > 10,
            f"{len(fresh_rx.numbers)} frames")

    # Redis stopped mid-call, for 10 s: far past the nodes' TTL.
    receivers = {owner: receiver, chosen: fresh_rx}
    before = {n: len(r.numbers) for n, r in receivers.items()}
    redis.proc.send_signal(signal.SIGSTOP)
    stopped_at = time.monotonic()
    await asyncio.sleep(0.5)
    t0 = time.monotonic()
    status, headers, _ = await peers.http("POST", nodes[via].url + "/whip/cl-new-1", "v=0\r\n",
                                          "application/sdp")
    c.check("Redis stopped: a new room answers 503 with Retry-After",
            status == 503 and peers._header(headers, "Retry-After") is not None,
            f"{status} in {1000 * (time.monotonic() - t0):.0f} ms")
    status, _, _ = await peers.http("GET", nodes[owner].url + f"/rooms/{ROOM}")
    c.check("Redis stopped: the owner still serves its room", status == 200, str(status))
    up = await metric(nodes[via].url, "sfu_cluster_redis_up")
    unavailable = await metric(nodes[via].url, "sfu_cluster_unavailable_total")
    c.check("metrics: Redis down, one 503 counted", up == 0 and unavailable == 1,
            f"redis_up {up}, unavailable {unavailable}")
    # Frames per second of each call, second by second, while Redis is stopped.
    worst = {n: None for n in receivers}
    last = dict(before)
    while time.monotonic() - stopped_at < 10:
        await asyncio.sleep(1)
        for n, r in receivers.items():
            got = len(r.numbers) - last[n]
            last[n] = len(r.numbers)
            worst[n] = got if worst[n] is None else min(worst[n], got)
    for n, r in receivers.items():
        during = len(r.numbers) - before[n]
        c.check(f"Redis stopped 10 s: the call on {n} keeps flowing",
                during > 80 and worst[n] >= 5,
                f"{during} frames in {time.monotonic() - stopped_at:.1f} s, "
                f"worst second {worst[n]}")
    redis.proc.send_signal(signal.SIGCONT)
    t0 = time.monotonic()

    async def recovered():
        st, _, _ = await peers.http("POST", nodes[via].url + "/whip/cl-new-2", "v=0\r\n",
                                    "application/sdp")
        return st if st != 503 else None
    st = await wait_for(recovered, 5, 0.1)
    c.check("Redis back: a new room is accepted again (400 here, 307 there)", st in (400, 307),
            f"{st} after {1000 * (time.monotonic() - t0):.0f} ms")
    c.check("... every node is back in the directory", await wait_for(registered, 3),
            redis.cli("SMEMBERS", "sfu:nodes").replace("\n", " "))
    c.check("... and both rooms kept their owners",
            redis.cli("GET", f"sfu:room:{ROOM}") == owner and
            redis.cli("GET", "sfu:room:cl-fresh") == chosen,
            f"{ROOM}: {redis.cli('GET', f'sfu:room:{ROOM}')}, "
            f"cl-fresh: {redis.cli('GET', 'sfu:room:cl-fresh')}")
    status, headers, _ = await peers.http(
        "POST", nodes[via].url + f"/whep/{ROOM}/{p1.participant_id}", "v=0\r\n",
        "application/sdp")
    location = peers._header(headers, "Location") or ""
    c.check("... and requests for the room still go to its owner",
            status == 307 and location.startswith(nodes[owner].url), f"{status} {location}")
    # Logged once per cause, not once per failed heartbeat (40 of them in 10 s).
    said = {}
    for n, fx in nodes.items():
        with open(fx.log_path, errors="replace") as f:
            said[n] = [line.strip() for line in f if "redis" in line.lower()]
    c.check("... and each node logged the outage once per cause, not per heartbeat",
            all(1 <= len(v) <= 4 for v in said.values()),
            "; ".join(f"{n}: {len(v)} lines" for n, v in said.items()) +
            (" | " + " / ".join(said[via][:4]) if said[via] else ""))
    for s in (view4, p4):
        await peers.delete(s)
    await fresh_rx.stop()

    # kill -9 the owner.
    await peers.delete(view)
    await receiver.stop()
    os.kill(nodes[owner].proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()

    async def forgotten():
        return redis.cli("EXISTS", f"sfu:node:{owner}") == "0"
    gone = await wait_for(forgotten, TTL_MS / 1000 + 2, 0.02)
    gone_ms = 1000 * (time.monotonic() - killed_at)
    c.check("kill -9: the directory forgets the owner within the TTL",
            gone and gone_ms <= TTL_MS + 300, f"{gone_ms:.0f} ms (TTL {TTL_MS} ms)")

    async def two():
        return all([await metric(nodes[n].url, "sfu_cluster_nodes") == 2 for n in others])
    c.check("... and the others count two nodes", await wait_for(two, 2))
    p3 = await peers.whip_publish(nodes[via].url, ROOM, [peers.FrameNumberTrack()])
    landed = node_of(p3.url, nodes)
    c.check("a rejoin lands on a live node", landed in others, f"on {landed}")
    c.check("... which now owns the room", redis.cli("GET", f"sfu:room:{ROOM}") == landed,
            redis.cli("GET", f"sfu:room:{ROOM}"))
    await peers.wait_connected(p3.pc)

    # Privacy: nothing of the clients in Redis.
    dump = []
    for key in redis.cli("KEYS", "*").split():
        kind = redis.cli("TYPE", key)
        dump.append(redis.cli("GET", key) if kind == "string" else redis.cli("SMEMBERS", key))
    text = "\n".join(dump)
    secrets_seen = [s for s in (NAME, p1.url.rsplit("/", 1)[1], p2.url.rsplit("/", 1)[1],
                                p3.url.rsplit("/", 1)[1], '"address"', '"name"') if s in text]
    c.check("Redis holds no client name, session id or address", not secrets_seen,
            ", ".join(secrets_seen))
    for s in (p1, p2):
        await s.pc.close()

    # SIGTERM with a session: out of the directory first, then the drain.
    leaving = landed
    nodes[leaving].proc.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    gone = await wait_for(lambda: asyncio.sleep(0, redis.cli("EXISTS", f"sfu:node:{leaving}")
                                                == "0"), 3, 0.02)
    status, _, _ = await peers.http("GET", nodes[leaving].url + "/health")
    c.check("SIGTERM: the node leaves the directory first, then drains",
            bool(gone) and nodes[leaving].alive() and status == 503,
            f"record gone after {1000 * (time.monotonic() - t0):.0f} ms, /health {status}")
    status, headers, _ = await peers.http("POST", nodes[leaving].url + f"/whip/{ROOM}",
                                          "v=0\r\n", "application/sdp")
    c.check("... and refuses new sessions while its call goes on", status == 503, str(status))
    await peers.delete(p3)
    nodes[leaving].proc.wait(10)
    c.check("... and exits 0 once its last session ended", nodes[leaving].proc.returncode == 0,
            str(nodes[leaving].proc.returncode))


def run_command(cmd: List[str], nodes: Dict[str, SfuFixture]) -> int:
    """Fixture mode: runs `cmd` against the cluster, {url} being node A's
    URL and {urls} all three, comma-separated; its exit status is ours."""
    urls = ",".join(n.url for n in nodes.values())
    cmd = [a.replace("{urls}", urls).replace("{url}", nodes["A"].url) for a in cmd]
    rc = subprocess.run(cmd).returncode
    for name, n in nodes.items():
        if not n.alive():
            print(f"cluster: node {name} died during the command ({n.describe_exit()}):\n"
                  f"{n.log_tail(15)}")
            rc = rc or 1
    return rc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sfu", default="build/sfu")
    ap.add_argument("command", nargs=argparse.REMAINDER,
                    help="after --: run this against the cluster instead of the checks "
                         "({url}: node A, {urls}: the three nodes)")
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
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
                "server.drain_timeout_s=10", "limits.max_sessions=4",
                "http.requests_per_second_per_client=0"])
            nodes[name].start()
        if command:
            rc = run_command(command, nodes)
            c.check("the command against the cluster", rc == 0, f"exit {rc}")
        else:
            asyncio.run(run(args, c, redis, nodes))
    except Exception as e:  # a failure to set up is a failed check, with the logs
        c.check("the run completed", False, f"{type(e).__name__}: {e}")
        for name, n in nodes.items():
            print(f"-- node {name} log tail:\n{n.log_tail(15)}")
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
