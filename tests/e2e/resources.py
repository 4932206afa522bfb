#!/usr/bin/python3
"""Resource hygiene of a running SFU: nothing leaks across many sessions.

  tests/e2e/sfu_fixture.py --sfu build/sfu --set media.liveness_timeout_ms=2000 -- \\
      /usr/bin/python3 tests/e2e/resources.py --url {url} --pid {pid}

Counts the SFU's open file descriptors (/proc/PID/fd) and its UDP sockets
(entries of /proc/net/udp and udp6 whose inode is one of its socket fds)
while idle, runs --cycles WHIP publish + --viewers WHEP view cycles (a few
at a time), each ended one of four ways:

  delete   viewers and publisher DELETE their sessions
  close    every client closes its PeerConnection without DELETE (aiortc
           still sends a DTLS close_notify)
  vanish   every client goes silent: no DELETE, no close_notify, nothing
           (peers.vanish), so only the liveness timeout can end it
  pub-del  the publisher DELETEs, the viewers vanish
  view-del the viewers DELETE, the publisher vanishes

then waits for the SFU to reap the closed and vanished sessions (start it
with a short [media] liveness_timeout_ms) and checks that the fds and UDP sockets are
back to the idle counts, that /metrics sfu_sessions, sfu_peers,
sfu_media_rooms, sfu_rooms and sfu_buffers_in_use are 0 and that GET /rooms
lists no room. One PASS/FAIL line per check, the figures, and
"N passed, M failed"; exit 0 only when every check passed.
"""

import argparse
import asyncio
import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.request
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

MODES = ("delete", "close", "vanish", "pub-del", "view-del")
GAUGES = ("sfu_sessions", "sfu_peers", "sfu_media_rooms", "sfu_rooms", "sfu_buffers_in_use")


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'} {name}" + (f" ({detail})" if detail else ""),
              flush=True)
        return ok


# ------------------------------------------------------------ process figures

def socket_inodes(pid: int) -> Tuple[int, set]:
    """(number of open fds, inodes of its sockets)."""
    fds, inodes = 0, set()
    base = f"/proc/{pid}/fd"
    for name in os.listdir(base):
        try:
            target = os.readlink(os.path.join(base, name))
        except OSError:
            continue        # closed while we looked
        fds += 1
        m = re.fullmatch(r"socket:\[(\d+)\]", target)
        if m:
            inodes.add(m.group(1))
    return fds, inodes


def udp_inodes() -> set:
    out = set()
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                next(f)
                for ln in f:
                    cols = ln.split()
                    if len(cols) > 9:
                        out.add(cols[9])
        except OSError:
            pass
    return out


def figures(pid: int) -> Dict[str, int]:
    fds, socks = socket_inodes(pid)
    udp = len(socks & udp_inodes())
    threads = rss_kb = 0
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("Threads:"):
                threads = int(ln.split()[1])
            elif ln.startswith("VmRSS:"):
                rss_kb = int(ln.split()[1])
    return {"fds": fds, "udp": udp, "sockets": len(socks), "threads": threads,
            "rss_kb": rss_kb}


def settled_figures(pid: int, timeout: float = 3.0) -> Dict[str, int]:
    """Figures once fds and sockets stop moving (HTTP connections we just
    used close a moment after their answer)."""
    deadline = time.monotonic() + timeout
    last, same = None, 0
    while True:
        f = figures(pid)
        key = (f["fds"], f["udp"], f["sockets"])
        same = same + 1 if key == last else 0
        last = key
        if same >= 3 or time.monotonic() > deadline:
            return f
        time.sleep(0.1)


# ------------------------------------------------------------------- HTTP

def get(url: str, timeout: float = 10.0) -> Tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def metrics(url: str) -> Dict[str, float]:
    status, text = get(f"{url}/metrics")
    out = {}
    for ln in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\S+)$", ln)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


# ------------------------------------------------------------------ cycles

class Tally:
    def __init__(self):
        self.posts: Dict[str, int] = {}      # "whip 201" -> count
        self.deletes: Dict[int, int] = {}
        self.errors: List[str] = []
        self.audio_frames: List[int] = []
        self.peak = {"fds": 0, "udp": 0, "sockets": 0, "threads": 0, "rss_kb": 0}

    def post(self, key: str) -> None:
        self.posts[key] = self.posts.get(key, 0) + 1


async def end(session: peers.Session, how: str, tally: Tally) -> None:
    if how == "delete":
        status = await peers.delete(session)
        tally.deletes[status] = tally.deletes.get(status, 0) + 1
    elif how == "close":
        await session.pc.close()
    else:
        await peers.vanish(session)


def ending(mode: str, publisher: bool) -> str:
    if mode in ("delete", "close", "vanish"):
        return mode
    return "delete" if (mode == "pub-del") == publisher else "vanish"


def pc_states(pub: Optional[peers.Session], viewers) -> str:
    def one(s: peers.Session) -> str:
        pc = s.pc
        dtls = [t.sender.transport for t in pc.getTransceivers() if t.sender.transport]
        return (f"ice {pc.iceConnectionState} dtls "
                f"{dtls[0].state if dtls else '-'}")
    out = [f"publisher: {one(pub)}"] if pub is not None else []
    out += [f"viewer {i}: {one(v)}" for i, (v, _) in enumerate(viewers)]
    return ", ".join(out)


async def cycle(url: str, n: int, args, tally: Tally) -> None:
    mode = MODES[n % len(MODES)]
    room = f"res-{n}-{secrets.token_hex(3)}"
    pub = None
    viewers: List[Tuple[peers.Session, peers.Receiver]] = []
    who = "publisher"
    try:
        try:
            pub = await peers.whip_publish(url, room, [
                peers.SineTrack(), peers.FrameNumberTrack(args.width, args.height, args.fps)])
            tally.post("whip 201")
        except peers.HttpError as e:
            tally.post(f"whip {e.status}")
            tally.errors.append(f"cycle {n}: {e}")
            return
        await peers.wait_connected(pub.pc, 15)
        for _ in range(args.viewers):
            try:
                viewers.append(await peers.whep_view(url, room, pub.participant_id))
                tally.post("whep 201")
            except peers.HttpError as e:
                tally.post(f"whep {e.status}")
                tally.errors.append(f"cycle {n}: {e}")
        for i, (v, _) in enumerate(viewers):
            who = f"viewer {i}"
            await peers.wait_connected(v.pc, 15)
        await asyncio.sleep(args.media_seconds)
        for _, rx in viewers:
            tally.audio_frames.append(rx.audio_frames)
    except (TimeoutError, ConnectionError) as e:
        tally.errors.append(f"cycle {n} ({mode}, room {room}): {who}: {e}; "
                            f"{pc_states(pub, viewers)}")
    finally:
        for _, rx in viewers:
            await rx.stop()
        for v, _ in viewers:
            await end(v, ending(mode, False), tally)
        if pub is not None:
            await end(pub, ending(mode, True), tally)


async def run_cycles(url: str, pid: int, args, tally: Tally) -> None:
    n = 0
    while n < args.cycles:
        batch = range(n, min(n + args.parallel, args.cycles))
        tasks = [asyncio.ensure_future(cycle(url, i, args, tally)) for i in batch]
        while not all(t.done() for t in tasks):
            f = await asyncio.to_thread(figures, pid)
            for k, v in f.items():
                tally.peak[k] = max(tally.peak[k], v)
            await asyncio.sleep(0.25)
        for t in tasks:
            if t.exception() is not None:
                tally.errors.append(f"cycle: {t.exception()!r}")
        n += len(batch)


def wait_reaped(url: str, timeout: float) -> Tuple[Dict[str, float], float]:
    t0 = time.monotonic()
    while True:
        m = metrics(url)
        if all(m.get(g) == 0 for g in GAUGES) or time.monotonic() - t0 > timeout:
            return m, time.monotonic() - t0
        time.sleep(0.5)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--pid", type=int, default=int(os.environ.get("SFU_PID", "0")),
                   help="the SFU's process id (default $SFU_PID)")
    p.add_argument("--cycles", type=int, default=20)
    p.add_argument("--viewers", type=int, default=2)
    p.add_argument("--parallel", type=int, default=2, help="cycles at a time")
    p.add_argument("--media-seconds", type=float, default=1.0)
    p.add_argument("--reap-timeout", type=float, default=20.0,
                   help="seconds to wait for vanished sessions to be reaped")
    p.add_argument("--warmup", type=int, default=0,
                   help="cycles to run before the idle figures are taken")
    p.add_argument("--width", type=int, default=160)
    p.add_argument("--height", type=int, default=120)
    p.add_argument("--fps", type=float, default=10.0)
    args = p.parse_args()
    if args.pid <= 0 or not os.path.isdir(f"/proc/{args.pid}"):
        print(f"FAIL no such process: --pid {args.pid}")
        print("0 passed, 1 failed")
        return 1
    peers.patch_loopback()
    c = Checks()
    url = args.url.rstrip("/")

    if args.warmup:
        warm = argparse.Namespace(**dict(vars(args), cycles=args.warmup))
        asyncio.run(run_cycles(url, args.pid, warm, Tally()))
        wait_reaped(url, args.reap_timeout)
    m0 = metrics(url)
    before = settled_figures(args.pid)
    print(f"idle: fds {before['fds']}, udp sockets {before['udp']}, sockets "
          f"{before['sockets']}, threads {before['threads']}, rss {before['rss_kb']} kB; "
          + ", ".join(f"{g}={m0.get(g)}" for g in GAUGES), flush=True)

    tally = Tally()
    t0 = time.monotonic()
    asyncio.run(run_cycles(url, args.pid, args, tally))
    took = time.monotonic() - t0
    print(f"cycles: {args.cycles} in {took:.1f}s; posts {tally.posts}; deletes "
          f"{tally.deletes}; viewer audio frames {tally.audio_frames}", flush=True)
    print(f"peak: fds {tally.peak['fds']}, udp sockets {tally.peak['udp']}, threads "
          f"{tally.peak['threads']}, rss {tally.peak['rss_kb']} kB", flush=True)
    for e in tally.errors[:10]:
        print(f"  error: {e}", flush=True)

    want_posts = {"whip 201": args.cycles, "whep 201": args.cycles * args.viewers}
    c.check("every WHIP and WHEP POST -> 201", tally.posts == want_posts, str(tally.posts))
    n_del = sum((ending(MODES[i % len(MODES)], True) == "delete") +
                args.viewers * (ending(MODES[i % len(MODES)], False) == "delete")
                for i in range(args.cycles))
    c.check("every DELETE -> 200", tally.deletes == {200: n_del}, f"{tally.deletes}, "
            f"expected {{200: {n_del}}}")
    c.check("every cycle connected", not tally.errors,
            "; ".join(tally.errors[:3]))
    c.check("sessions were really open (peak UDP sockets above idle)",
            tally.peak["udp"] > before["udp"], f"idle {before['udp']}, peak {tally.peak['udp']}")

    m, reap_s = wait_reaped(url, args.reap_timeout)
    print(f"reaped after {reap_s:.1f}s: " + ", ".join(f"{g}={m.get(g)}" for g in GAUGES),
          flush=True)
    for g in GAUGES:
        c.check(f"/metrics {g} back to 0", m.get(g) == 0, f"{g}={m.get(g)} after {reap_s:.1f}s")
    status, text = get(f"{url}/rooms")
    try:
        rooms = json.loads(text).get("rooms")
    except (ValueError, AttributeError):
        rooms = None
    c.check("GET /rooms lists no room", status == 200 and rooms == [], f"{status} {text[:100]!r}")

    # closing a socket can lag the session's end a little: give it a moment
    deadline = time.monotonic() + 5
    while True:
        after = settled_figures(args.pid)
        if (after["fds"] <= before["fds"] and after["udp"] <= before["udp"]) or \
                time.monotonic() > deadline:
            break
        time.sleep(0.5)
    print(f"after: fds {after['fds']}, udp sockets {after['udp']}, sockets "
          f"{after['sockets']}, threads {after['threads']}, rss {after['rss_kb']} kB",
          flush=True)
    c.check("open fds back to the idle count", after["fds"] == before["fds"],
            f"before {before['fds']}, peak {tally.peak['fds']}, after {after['fds']}")
    c.check("UDP sockets back to the idle count", after["udp"] == before["udp"],
            f"before {before['udp']}, peak {tally.peak['udp']}, after {after['udp']}")
    c.check("threads back to the idle count", after["threads"] == before["threads"],
            f"before {before['threads']}, peak {tally.peak['threads']}, after {after['threads']}")
    status, text = get(f"{url}/health")
    c.check("SFU still healthy", status == 200, f"{status} {text.strip()[:60]!r}")
    print(f"{c.passed} passed, {c.failed} failed", flush=True)
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
