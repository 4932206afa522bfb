#!/usr/bin/python3
"""HTTP connection limits with many clients behind one address, and the
event streams' keepalive timing.

  /usr/bin/python3 tests/e2e/http_limits.py [--sfu build/asan/sfu]

Part 1 runs the sfu with its DEFAULT http limits (only the media port range
and the liveness timeout are set, so that sessions without media stay) and
plays an office behind one NAT, everything from 127.0.0.1:
  - 40 keep-alive connections, each answered (the old per-address cap of 32
    reset the 33rd);
  - 200 participants join rooms (POST /rooms/{room}/join with an SDP offer)
    and hold their event streams: no 429, no refusal;
  - then 100 slow clients hold connections open (half trickle their headers,
    half their body), while GET /health answers 200 within 1 s throughout and
    a new aiortc participant joins a room and connects (ICE and DTLS);
  - the slow clients are closed by the server within the header and body
    timeouts (10 s each), none of the 200 event streams is;
  - the idle event streams get a comment at least every 15 s (measured, each
    interval), under all of that;
  - a flood of requests from another address is still answered 429.
Part 2 runs an sfu with max_connections = 40: idle keep-alive connections
are closed first to make room, and a new connection is refused only when
none is idle.
The sfu must exit 0 on SIGTERM (LeakSanitizer on the ASan build).
One PASS/FAIL line per check, then "N passed, M failed".
"""

import argparse
import asyncio
import os
import re
import sys
import time
import urllib.parse
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
from hostile_lib import health, http_request, metrics, raw_http  # noqa: E402
from ops_lib import Checks  # noqa: E402
from sfu_fixture import SfuFixture, pick_media_range  # noqa: E402

HOST = "127.0.0.1"
PARTICIPANTS = 200
ROOMS = 5
SLOW = 100
KEEPALIVE_MAX_S = 15.0


class Stream:
    """One event stream read on a raw connection: de-chunks the body and
    notes when each event and comment arrived."""

    def __init__(self, path: str, room: str):
        self.path, self.room = path, room
        self.status = 0
        self.events: List[Tuple[float, str]] = []      # (time, "snapshot" or ":")
        self.closed_at: Optional[float] = None
        self.writer: Optional[asyncio.StreamWriter] = None
        self.task: Optional[asyncio.Task] = None

    async def open(self, port: int) -> None:
        reader, self.writer = await asyncio.open_connection(HOST, port)
        self.writer.write(f"GET {self.path} HTTP/1.1\r\nHost: {HOST}\r\n"
                          "Accept: text/event-stream\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        m = re.match(rb"HTTP/1\.1 (\d{3})", head)
        self.status = int(m.group(1)) if m else 0
        self.task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        text = b""
        try:
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    break
                text += (await reader.readexactly(size + 2))[:-2]
                while b"\n\n" in text:
                    block, text = text.split(b"\n\n", 1)
                    now = time.monotonic()
                    if block.startswith(b":"):
                        self.events.append((now, ":"))
                    else:
                        m = re.search(rb"^event: (\S+)", block, re.M)
                        self.events.append((now, m.group(1).decode() if m else "?"))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        self.closed_at = time.monotonic()

    def keepalive_gaps(self, since: float, until: float) -> List[float]:
        """Seconds between consecutive things sent on the stream after `since`
        (a keepalive counts from the last event or keepalive before it), the
        last one ending at `until`: a stream gone quiet shows as a long gap."""
        times = [t for t, _ in self.events if t <= until] + [until]
        return [b - a for a, b in zip(times, times[1:]) if b >= since]

    def close(self) -> None:
        if self.task:
            self.task.cancel()
        if self.writer:
            self.writer.close()


async def keepalive_connections(c: Checks, port: int, count: int = 40) -> None:
    """`count` keep-alive connections from one address, each used twice."""
    conns, answered = [], []
    for i in range(count):
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(HOST, port), 2)
            conns.append((r, w))
        except (OSError, asyncio.TimeoutError):
            conns.append(None)
    for round_ in range(2):
        for i, conn in enumerate(conns):
            ok = False
            if conn:
                r, w = conn
                try:
                    w.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 2)
                    n = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))
                    await asyncio.wait_for(r.readexactly(n), 2)
                    ok = head.startswith(b"HTTP/1.1 200")
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                        AttributeError):
                    ok = False
            if round_ == 1:
                answered.append(ok)
    bad = [i + 1 for i, ok in enumerate(answered) if not ok]
    c.check(f"{count} keep-alive connections from one address, each answered twice",
            not bad, f"{count - len(bad)}/{count} answered" + (f"; failed: {bad[:10]}" if bad else ""))
    for conn in conns:
        if conn:
            conn[1].close()


async def join_all(c: Checks, url: str, port: int, offer: bytes) -> List[Stream]:
    """PARTICIPANTS joins, 20 at a time, then their event streams."""
    sem = asyncio.Semaphore(20)
    statuses: Dict[int, int] = {}
    links: List[Tuple[str, str]] = []

    async def one(i: int) -> None:
        path = f"/rooms/office-{i % ROOMS}/join?name=p{i}"
        req = http_request("POST", path, HOST, offer, {"Content-Type": "application/sdp"})
        async with sem:
            status, raw = await raw_http(HOST, port, req, 30)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 201:
            head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            m = re.search(r"^Link:\s*<([^>]+)>;\s*rel=\"events\"", head, re.M | re.I)
            if m:
                links.append((m.group(1), f"office-{i % ROOMS}"))

    t0 = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(PARTICIPANTS)))
    c.check(f"{PARTICIPANTS} joins from one address with the default limits -> 201, none 429",
            statuses == {201: PARTICIPANTS} and len(links) == PARTICIPANTS,
            f"{dict(sorted(statuses.items()))} in {time.monotonic() - t0:.1f} s, "
            f"{len(links)} events links")
    streams = [Stream(urllib.parse.urlparse(link).path, room) for link, room in links]
    t0 = time.monotonic()
    for i in range(0, len(streams), 20):
        await asyncio.gather(*(s.open(port) for s in streams[i:i + 20]),
                             return_exceptions=True)
    await asyncio.sleep(1.0)
    good = [s for s in streams if s.status == 200 and s.events and s.events[0][1] == "snapshot"]
    c.check(f"{len(streams)} event streams from one address open, each starting with a snapshot",
            len(good) == PARTICIPANTS,
            f"{len(good)} good in {time.monotonic() - t0:.1f} s; statuses "
            f"{sorted(set(s.status for s in streams))}")
    return streams


class Slow:
    """A client holding a connection: headers a byte at a time, or complete
    headers and then a body a byte at a time."""

    def __init__(self, body: bool):
        self.body = body
        self.writer: Optional[asyncio.StreamWriter] = None
        self.opened = 0.0
        self.closed_at: Optional[float] = None
        self.task: Optional[asyncio.Task] = None

    async def open(self, port: int) -> None:
        reader, self.writer = await asyncio.open_connection(HOST, port)
        self.opened = time.monotonic()
        if self.body:
            self.writer.write(b"POST /rooms/slow/join HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/sdp\r\nContent-Length: 5000\r\n\r\nv")
        else:
            self.writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        self.task = asyncio.create_task(self._watch(reader))

    async def _watch(self, reader: asyncio.StreamReader) -> None:
        try:
            while await reader.read(4096):
                pass
        except OSError:
            pass
        self.closed_at = time.monotonic()

    def trickle(self) -> None:
        if self.closed_at is None and self.writer and not self.writer.is_closing():
            try:
                self.writer.write(b"X" if not self.body else b"=")
            except OSError:
                pass

    def close(self) -> None:
        if self.task:
            self.task.cancel()
        if self.writer:
            self.writer.close()


async def real_join(url: str, room: str) -> Tuple[bool, str, Optional[peers.Session]]:
    """A real participant: aiortc offer with audio and video, ICE and DTLS up."""
    from aiortc import RTCPeerConnection, RTCSessionDescription
    pc = RTCPeerConnection()
    t0 = time.monotonic()
    try:
        pc.addTransceiver(peers.SineTrack(), direction="sendrecv")
        pc.addTransceiver(peers.FrameNumberTrack(160, 120), direction="sendrecv")
        peers.restrict_codecs(pc)
        await pc.setLocalDescription(await pc.createOffer())
        await peers.wait_gathering(pc)
        status, headers, body = await peers.http(
            "POST", f"{url}/rooms/{room}/join?name=newcomer", pc.localDescription.sdp,
            "application/sdp")
        if status != 201:
            await pc.close()
            return False, f"join -> {status}: {body.strip()[:100]}", None
        took_join = time.monotonic() - t0
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        await peers.wait_connected(pc, 20)
        loc = {k.lower(): v for k, v in headers.items()}["location"]
        session = peers.Session(pc=pc, url=urllib.parse.urljoin(url, loc))
        return True, (f"201 in {took_join * 1000:.0f} ms, connected "
                      f"{time.monotonic() - t0:.1f} s after the offer"), session
    except Exception as e:  # noqa: BLE001 - a failed join is a FAIL line
        await pc.close()
        return False, f"{type(e).__name__}: {e}", None


async def under_attack(c: Checks, url: str, port: int, streams: List[Stream]) -> None:
    slow = [Slow(body=bool(i % 2)) for i in range(SLOW)]
    for s in slow:
        await s.open(port)
    t_slow = time.monotonic()
    await asyncio.sleep(0.5)
    m = await asyncio.to_thread(metrics, url)
    pending = m.get('sfu_http_connections{state="headers"}', -1) + \
        m.get('sfu_http_connections{state="body"}', -1)
    capped = m.get('sfu_http_connections_closed_total{reason="client_cap"}', -1)
    c.info(f"{SLOW} slow clients from {HOST}: {pending:g} pending on the server, "
           f"{capped:g} closed at the per-address cap")
    c.check("one address holds at most max_pending_connections_per_client (64) pending",
            0 < pending <= 64 + 2, f"{pending:g} pending")

    join_task = asyncio.create_task(real_join(url, "office-0"))
    worst, bad, n = 0.0, [], 0
    next_trickle = time.monotonic() + 1.0
    while time.monotonic() - t_slow < 7.0 or not join_task.done():
        status, took = await asyncio.to_thread(health, url, 1.0)
        n += 1
        worst = max(worst, took)
        if status != 200 or took >= 1.0:
            bad.append(f"{status}/{took * 1000:.0f}ms")
        if time.monotonic() >= next_trickle:
            for s in slow:
                s.trickle()
            next_trickle += 1.0
        if time.monotonic() - t_slow > 40:
            break
        await asyncio.sleep(0.25)
    c.check("GET /health from the same address 200 within 1 s throughout", not bad and n > 10,
            f"{n} probes, worst {worst * 1000:.0f} ms" + (f"; bad {bad[:5]}" if bad else ""))
    ok, detail, session = await join_task if join_task.done() else (False, "timed out", None)
    c.check("a new participant joins office-0 with an SDP offer and connects", ok, detail)
    if session:
        status = await peers.delete(session)
        c.check("the new participant leaves -> 200", status == 200, f"status {status}")

    # Keep trickling: only the server's deadlines may end them.
    deadline = t_slow + 10 + 10 + 3
    while time.monotonic() < deadline and any(s.closed_at is None for s in slow):
        for s in slow:
            s.trickle()
        await asyncio.sleep(1.0)
    lived = [s.closed_at - s.opened for s in slow if s.closed_at is not None]
    heads = [s.closed_at - s.opened for s in slow if s.closed_at is not None and not s.body]
    c.check("every slow client closed by the server within its deadlines (10 s headers, "
            "10 s more for a body)", len(lived) == SLOW and max(lived) <= 21.5,
            f"{len(lived)}/{SLOW} closed; headers-only held up to "
            f"{max(heads) if heads else -1:.1f} s, all up to {max(lived) if lived else -1:.1f} s")
    # Held until the deadline (not refused at once), and not past it.
    c.check("trickling headers does not extend the header deadline",
            bool(heads) and 9.0 <= max(heads) <= 12.0,
            f"longest {max(heads) if heads else -1:.1f} s")
    for s in slow:
        s.close()
    m = await asyncio.to_thread(metrics, url)
    reasons = ("header_timeout", "body_timeout", "idle_timeout", "client_cap", "idle_evicted")
    key = 'sfu_http_connections_closed_total{{reason="{}"}}'
    c.info("closed by reason: " + ", ".join(f"{r} {m.get(key.format(r), -1):g}" for r in reasons))
    gone = [s.path for s in streams if s.closed_at is not None]
    c.check(f"all {len(streams)} event streams still open", not gone,
            f"{len(gone)} closed" if gone else "")


async def flood(c: Checks, url: str, port: int, count: int = 1500) -> None:
    """One address firing requests as fast as it can: most answered 429."""
    sem = asyncio.Semaphore(50)
    statuses: Dict[int, int] = {}

    async def one() -> None:
        req = http_request("GET", "/rooms", HOST)
        async with sem:
            status, _ = await raw_http(HOST, port, req, 10, local_host="127.0.0.9")
        statuses[status] = statuses.get(status, 0) + 1

    t0 = time.monotonic()
    await asyncio.gather(*(one() for _ in range(count)))
    took = time.monotonic() - t0
    allowed = statuses.get(200, 0)
    # The default bucket: 400 at once, then 50 per second.
    c.check(f"a flood of {count} requests from one address is limited (429)",
            statuses.get(429, 0) > 0 and allowed <= 400 + 50 * took + 5 and
            set(statuses) <= {200, 429},
            f"{dict(sorted(statuses.items()))} in {took:.1f} s")


async def part1(c: Checks, sfu: SfuFixture) -> None:
    peers.patch_loopback()
    port = int(sfu.url.rsplit(":", 1)[1])
    await keepalive_connections(c, port)
    offer = (await peers.create_offer(direction="recvonly")).encode()
    streams = await join_all(c, sfu.url, port, offer)
    t_streams = time.monotonic()
    await under_attack(c, sfu.url, port, streams)
    # The keepalive window: at least 25 s of idle streams.
    await asyncio.sleep(max(0.0, 25.0 - (time.monotonic() - t_streams)))
    # office-0 saw the newcomer come and go; the other rooms were idle.
    idle = [s for s in streams if s.room != "office-0"]
    until = time.monotonic()
    gaps = [g for s in idle for g in s.keepalive_gaps(t_streams, until)]
    fewest = min(sum(1 for _, kind in s.events if kind == ":") for s in idle)
    ka = []
    for s in idle:
        times = [t for t, kind in s.events if kind == ":"]
        ka += [b - a for a, b in zip(times, times[1:])]
    c.check(f"idle event streams: a comment at least every {KEEPALIVE_MAX_S:g} s "
            f"({len(idle)} streams, {until - t_streams:.0f} s)",
            bool(gaps) and max(gaps) <= KEEPALIVE_MAX_S and fewest >= 2,
            f"at least {fewest} comments per stream; longest quiet {max(gaps, default=-1):.2f} s; "
            f"comment to comment min {min(ka, default=-1):.2f} s, mean "
            f"{sum(ka) / max(1, len(ka)):.2f} s, max {max(ka, default=-1):.2f} s")
    busy = [s for s in streams if s.room == "office-0"]
    gaps = [g for s in busy for g in s.keepalive_gaps(t_streams, until)]
    c.check(f"office-0's streams (events, then idle): no gap over {KEEPALIVE_MAX_S:g} s",
            bool(gaps) and max(gaps) <= KEEPALIVE_MAX_S, f"max {max(gaps, default=-1):.2f} s")
    await flood(c, sfu.url, port)
    status, took = await asyncio.to_thread(health, sfu.url, 1.0)
    c.check("/health after the flood", status == 200, f"{status} in {took * 1000:.0f} ms")
    for s in streams:
        s.close()


async def part2(c: Checks, sfu: SfuFixture) -> None:
    """max_connections = 40: idle ones make room; none idle -> refused."""
    port = int(sfu.url.rsplit(":", 1)[1])
    idle = []
    for _ in range(30):
        r, w = await asyncio.open_connection(HOST, port)
        w.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(r.readuntil(b"ok"), 2)
        idle.append((r, w))
    # 10 connections still sending headers, from 10 addresses (cap 64 each).
    pending = []
    for i in range(10):
        r, w = await asyncio.open_connection(HOST, port, local_addr=(f"127.0.1.{i + 1}", 0))
        w.write(b"GET /health HTTP/1.1\r\n")
        pending.append((r, w))
    await asyncio.sleep(0.3)
    # 40 open. 30 new keep-alive clients: each closes the connection idle the
    # longest, so the 30 first ones go and every newcomer is served.
    fresh, served = [], 0
    for i in range(30):
        r, w = await asyncio.open_connection(HOST, port, local_addr=(f"127.0.2.{i + 1}", 0))
        w.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            head = await asyncio.wait_for(r.readuntil(b"ok"), 3)
            served += head.startswith(b"HTTP/1.1 200")
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass
        fresh.append((r, w))
    closed = 0
    for r, _ in idle:
        try:
            rest = await asyncio.wait_for(r.read(), 1.0)
            closed += not rest.startswith(b"HTTP")
        except (OSError, asyncio.TimeoutError):
            pass
    c.check("at max_connections, newcomers are served by closing the longest idle connections",
            served == 30 and closed == 30, f"{served}/30 served, {closed}/30 old idle closed")
    for _, w in fresh:
        w.close()
    await asyncio.sleep(0.5)
    # Now only the 10 pending are open: 30 more pending fill the server.
    more = []
    for i in range(30):
        r, w = await asyncio.open_connection(HOST, port, local_addr=(f"127.0.3.{i + 1}", 0))
        w.write(b"GET /health HTTP/1.1\r\n")
        more.append((r, w))
    await asyncio.sleep(0.3)
    status, _ = await raw_http(HOST, port, http_request("GET", "/health", HOST), 2,
                               local_host="127.0.4.1")
    m = await asyncio.to_thread(metrics, sfu.url) if status else {}
    c.check("at max_connections with none idle, a new connection is refused", status == 0,
            f"status {status} {m.get('sfu_http_connections_refused_total', '')}")
    for _, w in idle + pending + more:
        w.close()
    await asyncio.sleep(0.5)
    status, took = await asyncio.to_thread(health, sfu.url, 1.0)
    c.check("served again once those close", status == 200, f"{status} in {took * 1000:.0f} ms")


def run_part(c: Checks, binary: str, settings: List[str], fn) -> None:
    sfu = SfuFixture(binary, settings, stop_timeout=15)
    try:
        sfu.start()
    except (RuntimeError, OSError) as e:
        c.check("sfu starts", False, str(e))
        return
    try:
        asyncio.run(fn(c, sfu))
    finally:
        sfu.stop()
        c.check("sfu exits 0 on SIGTERM (LeakSanitizer clean on ASan builds)", sfu.clean_exit(),
                sfu.describe_exit() + ("" if sfu.clean_exit() else "\n" + sfu.log_tail(30)))
        sfu.cleanup()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sfu", default="build/asan/sfu")
    p.add_argument("--only", choices=("1", "2"), help="run one part")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="extra config for both parts (to compare other settings or builds)")
    args = p.parse_args()
    c = Checks()
    t0 = time.monotonic()
    if args.only in (None, "1"):
        lo, hi = pick_media_range(400)
        run_part(c, args.sfu, [f"media.port_min={lo}", f"media.port_max={hi}",
                               "media.liveness_timeout_ms=120000"] + args.set, part1)
    if args.only in (None, "2"):
        run_part(c, args.sfu, ["http.max_connections=40"] + args.set, part2)
    c.info(f"wall time {time.monotonic() - t0:.1f} s")
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
