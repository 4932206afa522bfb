#!/usr/bin/python3
"""Six aiortc participants in one room session call, checking what each receives.

  /usr/bin/python3 tests/e2e/room_call.py --url http://127.0.0.1:PORT [--seconds 30]
      [--participants 6] [--fps 10] [--pid SFU_PID]

Each participant joins with POST /rooms/{room}/join?name=pN (one sendrecv
PeerConnection: Opus sine + 160x120 VP8 whose frames show their own number),
reads GET /sessions/{id}/events and answers every server `offer` with
POST /sessions/{id}/answer?revision=N, as docs/API.md "Room sessions" says.
Every participant runs in its own process (this script with --child), so six
encoders and thirty decoders spread over the machine's cores.

Checks (one PASS/FAIL line each, then 'N passed, M failed'; exit 0 only if
all pass):
  - every join answers 201 with Location, X-Participant-Id and the events Link;
  - every PeerConnection connects; every answer POST is 204;
  - each offer's `tracks` map agrees with the msid stream id of the same m-line;
  - every participant receives every other's video: at least --min-ratio of
    the frames the sender sent from the first one received to the end of the
    run (minus a second in flight), read back from the pixels, in order;
    and their audio (>= --min-ratio of the 20 ms frames, not silent);
  - GET /rooms/{room} lists exactly the participants (ids and names), each
    with one audio and one video track;
  - every DELETE answers 200, and then GET /rooms/{room} is 404.
INFO lines give CPU use (each participant process, and the SFU with --pid).
"""

import argparse
import asyncio
import json
import os
import queue
import re
import resource
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def summary(self) -> int:
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="SFU base URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--room", default=None, help="room name (default: random)")
    p.add_argument("--participants", type=int, default=6)
    p.add_argument("--seconds", type=float, default=30.0, help="measured call time")
    p.add_argument("--fps", type=float, default=10.0)
    p.add_argument("--width", type=int, default=160)
    p.add_argument("--height", type=int, default=120)
    p.add_argument("--min-ratio", type=float, default=0.90)
    p.add_argument("--connect-timeout", type=float, default=20.0)
    p.add_argument("--pid", type=int, default=0, help="SFU process id, for its CPU figure")
    # Internal: one participant process.
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.url = args.url.rstrip("/")
    if args.participants < 2:
        p.error("--participants must be at least 2")
    args.room = args.room or f"call-{secrets.token_hex(4)}"
    return args


# ---------------------------------------------------------------- participant


def emit(kind: str, **data) -> None:
    """One JSON line to the coordinator."""
    print(json.dumps({"type": kind, **data}), flush=True)


def sse_reader(url: str, q: "queue.Queue", stop: threading.Event) -> None:
    """GET the event stream in a thread; (event, data) pairs into q."""
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            ev = None
            for raw in r:
                if stop.is_set():
                    return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line.startswith("event:"):
                    ev = line[6:].strip()
                elif line.startswith("data:"):
                    q.put((ev, json.loads(line[5:].strip())))
                elif line == "":
                    ev = None
    except Exception as e:  # noqa: BLE001 - reported, not raised
        if not stop.is_set():
            q.put(("stream-error", {"error": str(e)}))


def msids_by_mid(sdp: str) -> Dict[str, str]:
    """mid -> msid stream id of each m-line that has an a=msid."""
    out, mid = {}, None
    for line in sdp.splitlines():
        if line.startswith("m="):
            mid = None
        elif line.startswith("a=mid:"):
            mid = line[6:].strip()
        elif line.startswith("a=msid:") and mid is not None:
            out[mid] = line[7:].split()[0]
    return out


class Participant:
    def __init__(self, args, name: str):
        import peers
        from aiortc import RTCPeerConnection
        self.peers = peers
        self.args, self.name = args, name
        self.pc = RTCPeerConnection()
        self.audio_src = peers.SineTrack()
        self.video_src = peers.FrameNumberTrack(args.width, args.height, args.fps)
        self.location = ""
        self.mid_owner: Dict[str, str] = {}    # from the offers' tracks maps
        self.mid_msid: Dict[str, str] = {}     # from the offers' a=msid lines
        self.video: Dict[str, dict] = {}       # mid -> counts
        self.audio: Dict[str, dict] = {}
        self.answered = 0
        self.answer_statuses: List[int] = []
        self.map_mismatches: List[str] = []
        self.events: Dict[str, int] = {}
        self.left: List[str] = []             # participant-left ids, in order
        self.join_ms = 0.0                     # the join POST's round trip
        self.t_join = time.monotonic()
        self.stop_sse = threading.Event()
        self.q: "queue.Queue" = queue.Queue()
        self.pc.on("track", self.on_track)

    def mid_of(self, track) -> Optional[str]:
        for t in self.pc.getTransceivers():
            if t.receiver.track is track:
                return t.mid
        return None

    def on_track(self, track) -> None:
        consume = self.consume_video if track.kind == "video" else self.consume_audio
        asyncio.ensure_future(consume(track))

    async def consume_video(self, track) -> None:
        from aiortc.mediastreams import MediaStreamError
        last = None
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            mid = self.mid_of(track)
            c = self.video.setdefault(mid, {"numbers": [], "unreadable": 0,
                                            "first_ms": 1000 * (time.monotonic() - self.t_join)})
            luma = frame.to_ndarray(format="gray")
            n = self.peers.decode_frame_number(luma)
            if n is None:
                c["unreadable"] += 1
                continue
            last = self.peers.unwrap16(n, last)
            c["numbers"].append(last)

    async def consume_audio(self, track) -> None:
        import numpy as np
        from aiortc.mediastreams import MediaStreamError
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            mid = self.mid_of(track)
            now = time.monotonic()
            c = self.audio.setdefault(mid, {"frames": 0, "loud": 0, "first": now})
            c["frames"] += 1
            pcm = frame.to_ndarray().astype(np.float64)
            if pcm.size and float(np.sqrt((pcm * pcm).mean())) > 327.0:
                c["loud"] += 1

    async def join(self) -> bool:
        from aiortc import RTCSessionDescription
        peers = self.peers
        for t in (self.audio_src, self.video_src):
            self.pc.addTransceiver(t, direction="sendrecv")
        peers.restrict_codecs(self.pc)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await peers.wait_gathering(self.pc)
        q = urllib.parse.quote
        url = f"{self.args.url}/rooms/{q(self.args.room, safe='')}/join?name={q(self.name)}"
        self.t_join = time.monotonic()
        st, h, body = await peers.http("POST", url, self.pc.localDescription.sdp,
                                       "application/sdp")
        self.join_ms = 1000 * (time.monotonic() - self.t_join)
        hdr = {k.lower(): v for k, v in h.items()}
        emit("joined", status=st, participant=hdr.get("x-participant-id"),
             location=hdr.get("location"), link=hdr.get("link"),
             body=body.strip()[:200] if st != 201 else "")
        if st != 201:
            return False
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        self.location = urllib.parse.urljoin(self.args.url + "/", hdr["location"])
        m = re.match(r"\s*<([^>]+)>", hdr.get("link", ""))
        events = urllib.parse.urljoin(self.args.url + "/", m.group(1) if m else
                                      hdr["location"] + "/events")
        threading.Thread(target=sse_reader, args=(events, self.q, self.stop_sse),
                         daemon=True).start()
        return True

    async def on_offer(self, data: dict) -> None:
        from aiortc import RTCSessionDescription
        rev = data["revision"]
        if rev <= self.answered:
            return   # replayed after a reconnect: already answered
        msids = msids_by_mid(data["sdp"])
        for mid, info in data["tracks"].items():
            self.mid_owner[mid] = info["participant"]
            if msids.get(mid) != info["participant"]:
                self.map_mismatches.append(f"rev {rev} mid {mid}: tracks says "
                                           f"{info['participant']}, msid {msids.get(mid)}")
        self.mid_msid.update(msids)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        st, _, body = await self.peers.http(
            "POST", f"{self.location}/answer?revision={rev}", self.pc.localDescription.sdp,
            "application/sdp")
        self.answer_statuses.append(st)
        if st == 204:
            self.answered = rev
        else:
            emit("answer-error", revision=rev, status=st, body=body.strip()[:200])

    async def pump(self) -> None:
        while True:
            try:
                ev, data = self.q.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.02)
                continue
            self.events[ev] = self.events.get(ev, 0) + 1
            if ev == "offer":
                await self.on_offer(data)
            elif ev == "participant-left":
                self.left.append(data.get("participant", ""))
            elif ev == "stream-error":
                emit("stream-error", error=data["error"])

    def report(self) -> dict:
        now = time.monotonic()
        by_sender: Dict[str, dict] = {}
        # A sender may have had several m-lines over the call (it left and
        # came back on another one): its counts are the sum over them.
        for mid, c in self.video.items():
            who = self.mid_owner.get(mid, f"mid {mid}")
            v = by_sender.setdefault(who, {}).setdefault(
                "video", {"numbers": [], "unreadable": 0, "first_ms": c["first_ms"]})
            v["numbers"] = v["numbers"] + c["numbers"]
            v["unreadable"] += c["unreadable"]
            v["first_ms"] = min(v["first_ms"], c["first_ms"])
        for mid, c in self.audio.items():
            who = self.mid_owner.get(mid, f"mid {mid}")
            a = by_sender.setdefault(who, {}).setdefault(
                "audio", {"frames": 0, "loud": 0, "seconds": 0.0})
            a["frames"] += c["frames"]
            a["loud"] += c["loud"]
            a["seconds"] = max(a["seconds"], now - c["first"])
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return {"sent_last": self.video_src.last_number, "senders": by_sender,
                "answers": self.answer_statuses, "mismatches": self.map_mismatches,
                "events": self.events, "connection": self.pc.connectionState,
                "left": self.left, "join_ms": self.join_ms,
                "cpu": ru.ru_utime + ru.ru_stime}


async def child_main(args) -> int:
    import peers
    peers.patch_loopback()
    peers.patch_mid_routing()   # m-lines re-pointed to another participant get new SSRCs
    p = Participant(args, args.child)
    if not await p.join():
        return 1
    pump = asyncio.ensure_future(p.pump())
    try:
        await peers.wait_connected(p.pc, args.connect_timeout)
        emit("connected")
    except (TimeoutError, ConnectionError) as e:
        emit("connect-failed", error=str(e))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    t0 = time.monotonic()
    while True:
        line = (await reader.readline()).decode().strip()
        if line == "report":
            emit("report", wall=time.monotonic() - t0, **p.report())
        elif line == "leave" or line == "":
            p.stop_sse.set()
            st, _, _ = await peers.http("DELETE", p.location)
            emit("deleted", status=st)
            break
    pump.cancel()
    await p.pc.close()
    return 0


# ---------------------------------------------------------------- coordinator


class Child:
    def __init__(self, name: str, proc):
        self.name, self.proc = name, proc
        self.msgs: "asyncio.Queue" = asyncio.Queue()
        self.joined: dict = {}
        self.last_report: dict = {}

    async def read(self) -> None:
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                await self.msgs.put({"type": "eof"})
                return
            try:
                msg = json.loads(line)
            except ValueError:
                print(f"INFO {self.name}: {line.decode(errors='replace').rstrip()}", flush=True)
                continue
            if msg["type"] in ("answer-error", "stream-error", "connect-failed"):
                print(f"INFO {self.name}: {msg}", flush=True)
            await self.msgs.put(msg)

    async def expect(self, kinds, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return {"type": "timeout"}
            try:
                msg = await asyncio.wait_for(self.msgs.get(), left)
            except asyncio.TimeoutError:
                return {"type": "timeout"}
            if msg["type"] in kinds or msg["type"] == "eof":
                return msg

    async def send(self, line: str) -> None:
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()


def http_get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def proc_cpu(pid: int) -> float:
    """User+system CPU seconds of a process (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def check_room(args, children: List[Child], checks: Checks) -> None:
    st, body = http_get(f"{args.url}/rooms/{urllib.parse.quote(args.room, safe='')}")
    if not checks.check("GET /rooms/{room} 200", st == 200, f"status {st}"):
        return
    doc = json.loads(body)
    got = {p["participant"]: p for p in doc.get("participants", [])}
    want = {c.joined["participant"]: c.name for c in children}
    checks.check(f"room lists the {len(want)} participants", set(got) == set(want),
                 f"listed {sorted(got)}, joined {sorted(want)}")
    names_ok = all(got.get(pid, {}).get("name") == name for pid, name in want.items())
    checks.check("room lists their names", names_ok,
                 ", ".join(f"{p.get('participant')}={p.get('name')}" for p in got.values()))
    kinds = {pid: sorted(t.get("kind") for t in p.get("tracks", [])) for pid, p in got.items()}
    checks.check("each participant has one audio and one video track",
                 all(k == ["audio", "video"] for k in kinds.values()), json.dumps(kinds))
    rates = {pid: {t.get("kind"): t.get("bitrate_bps", 0) for t in p.get("tracks", [])}
             for pid, p in got.items()}
    checks.check("each track shows the bitrate it is publishing at",
                 all(r.get("audio", 0) > 8000 and r.get("video", 0) > 8000 for r in rates.values()),
                 json.dumps(rates))
    leaked = [k for k in ("session", "location", "address", "client") if k in body]
    checks.check("room JSON has no session ids or addresses", not leaked
                 and not any(c.joined["location"].rsplit("/", 1)[-1] in body for c in children),
                 f"suspicious keys {leaked}" if leaked else "")


def check_media(args, children: List[Child], checks: Checks) -> None:
    sent = {c.joined["participant"]: c.last_report["sent_last"] for c in children}
    margin = int(args.fps)   # the last second may still be on its way
    worst_v, worst_a = 1.0, 1.0
    for c in children:
        rep = c.last_report
        me = c.joined["participant"]
        others = [p for p in sent if p != me]
        senders = rep["senders"]
        stray = [s for s in senders if s not in sent or s == me]
        checks.check(f"{c.name} receives tracks only from the others", not stray,
                     f"unexpected senders {stray}" if stray else f"{len(senders)} senders")
        bad = []
        for other in others:
            v = senders.get(other, {}).get("video", {"numbers": [], "unreadable": 0})
            nums = v["numbers"]
            last = sent[other] - margin
            if not nums:
                bad.append(f"{other}: no video")
                worst_v = 0.0
                continue
            first = nums[0]
            expected = max(1, last - first + 1)
            received = len({n for n in nums if first <= n <= last})
            ratio = received / expected
            worst_v = min(worst_v, ratio)
            in_order = all(b > a for a, b in zip(nums, nums[1:]))
            if ratio < args.min_ratio or not in_order or first > 5 * args.fps:
                bad.append(f"{other}: {received}/{expected} frames from #{first}"
                           f"{'' if in_order else ', out of order'}")
            a = senders.get(other, {}).get("audio")
            if not a:
                bad.append(f"{other}: no audio")
                worst_a = 0.0
                continue
            expected_a = max(1.0, (a["seconds"] - 1.0) / 0.020)
            ratio_a = min(1.0, a["frames"] / expected_a)
            worst_a = min(worst_a, ratio_a)
            if ratio_a < args.min_ratio or a["loud"] < a["frames"] / 2:
                bad.append(f"{other}: audio {a['frames']} frames of ~{expected_a:.0f}, "
                           f"{a['loud']} loud")
        checks.check(f"{c.name} gets audio and video from all {len(others)} others", not bad,
                     "; ".join(bad) if bad else "")
        checks.check(f"{c.name} offers' tracks agree with msid", not rep["mismatches"],
                     "; ".join(rep["mismatches"][:3]))
        checks.check(f"{c.name} every answer 204", bool(rep["answers"])
                     and all(s == 204 for s in rep["answers"]),
                     f"statuses {rep['answers']}, events {rep['events']}")
    print(f"INFO worst video ratio {worst_v:.3f}, worst audio ratio {worst_a:.3f}", flush=True)


async def coordinator(args) -> int:
    checks = Checks()
    names = [f"p{i + 1}" for i in range(args.participants)]
    print(f"INFO room {args.room}: {len(names)} participants, {args.width}x{args.height} "
          f"@ {args.fps:g} fps, {args.seconds:g} s", flush=True)
    children: List[Child] = []
    for name in names:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, os.path.abspath(__file__), "--child", name, "--url", args.url,
            "--room", args.room, "--fps", str(args.fps), "--width", str(args.width),
            "--height", str(args.height), "--connect-timeout", str(args.connect_timeout),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        children.append(Child(name, proc))
    readers = [asyncio.ensure_future(c.read()) for c in children]
    try:
        return await run_call(args, children, checks)
    finally:
        for c in children:
            if c.proc.returncode is None:
                try:
                    c.proc.stdin.close()
                except Exception:  # noqa: BLE001
                    pass
        await asyncio.sleep(0.5)
        for c in children:
            if c.proc.returncode is None:
                c.proc.kill()
            await c.proc.wait()
        for r in readers:
            r.cancel()


async def run_call(args, children: List[Child], checks: Checks) -> int:
    for c in children:
        c.joined = await c.expect(("joined",), 30)
    ok = True
    for c in children:
        j = c.joined
        good = (j.get("status") == 201 and bool(j.get("participant")) and bool(j.get("location"))
                and 'rel="events"' in (j.get("link") or ""))
        ok &= checks.check(f"{c.name} join 201", good,
                           f"status {j.get('status')}, id {j.get('participant')}, "
                           f"Link {j.get('link')} {j.get('body') or ''}")
    if not ok:
        return checks.summary()
    conn = await asyncio.gather(*(c.expect(("connected", "connect-failed"), args.connect_timeout
                                            + 5) for c in children))
    for c, m in zip(children, conn):
        ok &= checks.check(f"{c.name} connected", m["type"] == "connected", str(m))
    if not ok:
        return checks.summary()

    cpu0, t0 = proc_cpu(args.pid) if args.pid else 0.0, time.monotonic()
    await asyncio.sleep(min(5.0, args.seconds / 2))
    check_room(args, children, checks)
    await asyncio.sleep(max(0.0, args.seconds - min(5.0, args.seconds / 2)))
    for c in children:
        await c.send("report")
    for c in children:
        c.last_report = await c.expect(("report",), 20)
    wall = time.monotonic() - t0
    if any(c.last_report.get("type") != "report" for c in children):
        checks.check("every participant reports", False)
        return checks.summary()
    if args.pid:
        print(f"INFO sfu CPU {100 * (proc_cpu(args.pid) - cpu0) / wall:.0f}% of one core "
              f"over {wall:.0f} s", flush=True)
    cpus = [c.last_report["cpu"] / c.last_report["wall"] for c in children]
    print(f"INFO participant processes CPU (since join, % of one core): "
          + ", ".join(f"{c.name} {100 * x:.0f}%" for c, x in zip(children, cpus))
          + f"; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    check_media(args, children, checks)

    for c in children:
        await c.send("leave")
    for c in children:
        m = await c.expect(("deleted",), 15)
        checks.check(f"{c.name} DELETE 200", m.get("status") == 200, f"status {m.get('status')}")
    st = 0
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        st, _ = http_get(f"{args.url}/rooms/{urllib.parse.quote(args.room, safe='')}")
        if st == 404:
            break
        await asyncio.sleep(0.2)
    checks.check("room gone after everyone left (404)", st == 404, f"status {st}")
    return checks.summary()


def main() -> int:
    args = parse_args()
    if args.child:
        return asyncio.run(child_main(args))
    return asyncio.run(coordinator(args))


if __name__ == "__main__":
    sys.exit(main())
