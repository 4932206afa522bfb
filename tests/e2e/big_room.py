#!/usr/bin/python3
"""Fifty participants in one room: subscriptions, m-line reuse, audio slots.

  /usr/bin/python3 tests/e2e/big_room.py --url http://127.0.0.1:PORT [--pid SFU_PID]
      [--publishers 47] [--checkers 3] [--phase-seconds 8]

The room holds --publishers light publishers (aiortc WHIP sessions, each one
Opus track and a 128x96 VP8 track at 5 fps showing its frame number; three
of them talk: a sine tone each, the others send silence) and --checkers room
participants (aiortc, POST /rooms/{room}/join, one PeerConnection that
publishes the same and answers every server offer). Light publishers run
16 to a process, each checker in its own.

Each checker says what it shows with POST /sessions/{id}/subscriptions
right after its join:
  - c1, a 3x3 grid: nine publishers, small tiles (maxHeight 90);
  - c2, a speaker view: one big tile (maxHeight 720) and four small ones;
  - c3, four tiles, then (phase B) four others: its m-lines are reused.
Five publishers talk in phase A, one per audio slot; between phase A and B
the first stops and a sixth starts, so the selector must replace one.

Checks (PASS/FAIL lines, then 'N passed, M failed'; exit 0 only if all pass):
  - every WHIP publish and join answers 201 and connects; the join's Link
    carries the subscriptions URL; every subscription POST is 204; every
    answer to a server offer is 204;
  - GET /rooms/{room} lists all participants; each checker shows its
    subscription count and 5 audio slots;
  - each checker decodes every tile it subscribed to (frame numbers read back
    from the pixels, at least --min-ratio of the frames sent in the phase,
    counted after the first one arrived) and no video from anyone else;
  - each checker's SDP has no more video m-lines than the most tiles it
    showed at once (plus its own);
  - each checker receives audio on slot m-lines only (5), hears every
    talker of the phase (its tone dominates frames on one of the slots),
    and the active speaker is a talker;
  - when the talkers change, each checker hears the new one on a slot within
    SWITCH_MAX_S of it starting (the time is printed), and the talkers of
    both phases stay on the slot m-lines they had.
INFO lines give the SFU's CPU and RSS (with --pid) and the participants' CPU.
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
import urllib.parse
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from room_call import Checks, Child, http_get, msids_by_mid, proc_cpu, sse_reader  # noqa: E402


def proc_rss_mib(pid: int) -> Dict[str, float]:
    """VmRSS and VmHWM (peak) of a process in MiB (Linux /proc); {} if unknown."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return out

WIDTH, HEIGHT, FPS = 128, 96, 5.0
# Publishers 0..5 talk at these pitches: 0..4 in phase A, 1..5 in phase B.
TALK_FREQS = [500.0, 800.0, 1250.0, 1900.0, 2600.0, 3400.0]
SLOTS = 5
# The selector replaces a position after the newcomer was clearly louder for
# 300 ms of a 500 ms average (audio_select.c); 2 s leaves room for a loaded
# machine and aiortc's jitter buffer.
SWITCH_MAX_S = 2.0


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--room", default=None)
    p.add_argument("--publishers", type=int, default=47)
    p.add_argument("--checkers", type=int, default=3)
    p.add_argument("--phase-seconds", type=float, default=8.0)
    p.add_argument("--min-ratio", type=float, default=0.7)
    p.add_argument("--pid", type=int, default=0)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.url = args.url.rstrip("/")
    args.room = args.room or f"big-{secrets.token_hex(4)}"
    if args.publishers < 12 or args.checkers < 1 or args.checkers > 3:
        p.error("at least 12 publishers and 1-3 checkers")
    return args


def emit(kind: str, **data) -> None:
    print(json.dumps({"type": kind, **data}), flush=True)


async def commands():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        yield line
        if line in ("", "leave"):
            return


# ---------------------------------------------------------------- publishers


async def publishers_main(args) -> int:
    import peers
    peers.patch_loopback()
    sines, sessions, ids = {}, {}, {}

    async def one(i: int):
        freq = TALK_FREQS[i] if i < len(TALK_FREQS) else 440.0
        sine = peers.SineTrack(freq, 0.3 if i < SLOTS else 0.0)
        video = peers.FrameNumberTrack(WIDTH, HEIGHT, FPS)
        s = await peers.whip_publish(args.url, args.room, [sine, video], name=f"pub{i}")
        sines[i], sessions[i], ids[i] = sine, s, s.participant_id
        await peers.wait_connected(s.pc, 30)

    results = await asyncio.gather(*(one(i) for i in range(args.first, args.first + args.count)),
                                   return_exceptions=True)
    errors = [str(r) for r in results if isinstance(r, BaseException)]
    emit("published", ids={str(i): pid for i, pid in ids.items()}, errors=errors[:3],
         failed=len(errors))
    t0 = time.monotonic()
    async for line in commands():
        if line.startswith("amp "):
            _, i, amp = line.split()
            if int(i) in sines:
                sines[int(i)].amplitude = float(amp)
        elif line == "report":
            ru = resource.getrusage(resource.RUSAGE_SELF)
            emit("report", cpu=ru.ru_utime + ru.ru_stime, wall=time.monotonic() - t0)
        elif line in ("leave", ""):
            sts = await asyncio.gather(*(peers.delete(s) for s in sessions.values()),
                                       return_exceptions=True)
            emit("deleted", statuses=[s if isinstance(s, int) else str(s) for s in sts])
            break
    await asyncio.gather(*(s.pc.close() for s in sessions.values()), return_exceptions=True)
    return 0


# ---------------------------------------------------------------- checkers


def dominant_freq(pcm) -> float:
    import numpy as np
    x = pcm.astype(np.float64)
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    k = int(spec[1:].argmax()) + 1
    return k * 48000.0 / x.size


class Checker:
    def __init__(self, args, name: str):
        import peers
        from aiortc import RTCPeerConnection
        self.peers, self.args, self.name = peers, args, name
        self.pc = RTCPeerConnection()
        self.location = ""
        self.subs_url = ""
        self.mid_owner: Dict[str, str] = {}     # video mid -> participant, from offers
        self.slot_mids: set = set()
        self.answered = 0
        self.answers: List[int] = []
        self.mismatches: List[str] = []
        self.max_video_mlines = 0
        self.speakers: List[str] = []
        self.max_mlines = 0                     # m-lines of the largest offer, all kinds
        self.tone_first: Dict[str, float] = {}  # Hz -> monotonic time first heard (never reset)
        self.tone_last: Dict[str, float] = {}   # Hz -> monotonic time last heard
        self.q: "queue.Queue" = queue.Queue()
        self.stop_sse = threading.Event()
        self.reset()
        self.pc.on("track", self.on_track)

    def reset(self) -> None:
        self.video: Dict[str, List[int]] = {}   # participant -> frame numbers read
        self.unreadable = 0
        self.audio: Dict[str, dict] = {}        # mid -> frames, loud, freqs
        self.t_reset = time.monotonic()

    def mid_of(self, track) -> Optional[str]:
        for t in self.pc.getTransceivers():
            if t.receiver.track is track:
                return t.mid
        return None

    def on_track(self, track) -> None:
        asyncio.ensure_future(self.consume_video(track) if track.kind == "video"
                              else self.consume_audio(track))

    async def consume_video(self, track) -> None:
        from aiortc.mediastreams import MediaStreamError
        last: Dict[str, int] = {}
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            who = self.mid_owner.get(self.mid_of(track) or "", "?")
            n = self.peers.decode_frame_number(frame.to_ndarray(format="gray"))
            if n is None:
                self.unreadable += 1
                continue
            last[who] = self.peers.unwrap16(n, last.get(who))
            self.video.setdefault(who, []).append(last[who])

    async def consume_audio(self, track) -> None:
        import numpy as np
        from aiortc.mediastreams import MediaStreamError
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            mid = self.mid_of(track) or "?"
            c = self.audio.setdefault(mid, {"frames": 0, "loud": 0, "freqs": {}})
            c["frames"] += 1
            pcm = frame.to_ndarray().reshape(-1)
            if frame.layout.name != "mono":
                pcm = pcm[::2]
            if pcm.size and float(np.sqrt((pcm.astype(np.float64) ** 2).mean())) > 1000.0:
                c["loud"] += 1
                f = dominant_freq(pcm)
                near = min(TALK_FREQS, key=lambda t: abs(t - f))
                if abs(near - f) < 60:
                    key = str(int(near))
                    c["freqs"][key] = c["freqs"].get(key, 0) + 1
                    now = time.monotonic()
                    self.tone_first.setdefault(key, now)
                    self.tone_last[key] = now

    async def join(self) -> bool:
        from aiortc import RTCSessionDescription
        peers = self.peers
        self.pc.addTransceiver(peers.SineTrack(440.0, 0.0), direction="sendrecv")
        self.pc.addTransceiver(peers.FrameNumberTrack(WIDTH, HEIGHT, FPS), direction="sendrecv")
        peers.restrict_codecs(self.pc)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await peers.wait_gathering(self.pc)
        q = urllib.parse.quote
        url = f"{self.args.url}/rooms/{q(self.args.room, safe='')}/join?name={q(self.name)}"
        st, h, body = await peers.http("POST", url, self.pc.localDescription.sdp, "application/sdp")
        hdr = {k.lower(): v for k, v in h.items()}
        links = hdr.get("link", "")
        if st == 201:
            self.location = urllib.parse.urljoin(self.args.url + "/", hdr["location"])
            m = re.search(r'<([^>]+)>;\s*rel="urn:x-sfu:subscriptions"', links)
            self.subs_url = urllib.parse.urljoin(self.args.url + "/", m.group(1)) if m else ""
            # Say what it shows before the first server offer: nothing yet.
            sst = await self.subscribe([]) if self.subs_url else 0
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
            m = re.search(r'<([^>]+)>;\s*rel="events"', links)
            events = urllib.parse.urljoin(self.args.url + "/", m.group(1) if m else
                                          hdr["location"] + "/events")
            threading.Thread(target=sse_reader, args=(events, self.q, self.stop_sse),
                             daemon=True).start()
        emit("joined", status=st, participant=hdr.get("x-participant-id"),
             location=hdr.get("location"), subs=bool(self.subs_url),
             first_subscribe=sst if st == 201 else 0, body=body.strip()[:200] if st != 201 else "")
        return st == 201

    async def subscribe(self, tiles: List[dict]) -> int:
        st, _, body = await self.peers.http("POST", self.subs_url, json.dumps({"video": tiles}),
                                            "application/json")
        if st != 204:
            emit("info", msg=f"subscribe {st}: {body.strip()[:200]}")
        return st

    async def on_offer(self, data: dict) -> None:
        from aiortc import RTCSessionDescription
        rev = data["revision"]
        if rev <= self.answered:
            return
        msids = msids_by_mid(data["sdp"])
        for mid, info in data["tracks"].items():
            if "slot" in info:
                self.slot_mids.add(mid)
                if msids.get(mid) != "slots":
                    self.mismatches.append(f"rev {rev} mid {mid}: slot with msid {msids.get(mid)}")
            else:
                if info["kind"] == "video":
                    self.mid_owner[mid] = info["participant"]
                if msids.get(mid) != info["participant"]:
                    self.mismatches.append(f"rev {rev} mid {mid}: {info['participant']} "
                                           f"vs msid {msids.get(mid)}")
        # Video m-lines the SFU may send on (not rejected), minus the own one.
        vids = sum(1 for blk in data["sdp"].split("\nm=")[1:]
                   if blk.startswith("video") and not blk.startswith("video 0 "))
        self.max_video_mlines = max(self.max_video_mlines, vids - 1)
        self.max_mlines = max(self.max_mlines, data["sdp"].count("\nm="))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        st, _, body = await self.peers.http(
            "POST", f"{self.location}/answer?revision={rev}", self.pc.localDescription.sdp,
            "application/sdp")
        self.answers.append(st)
        if st == 204:
            self.answered = rev
        else:
            emit("info", msg=f"answer {rev}: {st} {body.strip()[:200]}")

    async def pump(self) -> None:
        while True:
            try:
                ev, data = self.q.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.02)
                continue
            if ev == "offer":
                await self.on_offer(data)
            elif ev == "active-speaker":
                self.speakers.append(data["participant"])
            elif ev == "snapshot" and data.get("speaker"):
                self.speakers.append(data["speaker"])
            elif ev == "stream-error":
                emit("info", msg=f"event stream: {data['error']}")

    def report(self) -> dict:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return {"video": {k: [min(v), max(v), len(set(v))] for k, v in self.video.items()},
                "unreadable": self.unreadable, "audio": self.audio,
                "slot_mids": sorted(self.slot_mids), "answers": self.answers,
                "mismatches": self.mismatches[:3], "max_video_mlines": self.max_video_mlines,
                "speakers": self.speakers[-3:], "seconds": time.monotonic() - self.t_reset,
                "max_mlines": self.max_mlines, "tone_first": self.tone_first,
                "tone_last": self.tone_last,
                "cpu": ru.ru_utime + ru.ru_stime}


async def checker_main(args) -> int:
    import peers
    peers.patch_loopback()
    peers.patch_mid_routing()   # m-lines re-pointed to another participant get new SSRCs
    c = Checker(args, args.child)
    if not await c.join():
        return 1
    pump = asyncio.ensure_future(c.pump())
    try:
        await peers.wait_connected(c.pc, 30)
        emit("connected")
    except (TimeoutError, ConnectionError) as e:
        emit("connect-failed", error=str(e))
    async for line in commands():
        if line.startswith("subscribe "):
            emit("subscribed", status=await c.subscribe(json.loads(line[len("subscribe "):])))
        elif line == "reset":
            c.reset()
            emit("reset")
        elif line == "report":
            emit("report", **c.report())
        elif line in ("leave", ""):
            c.stop_sse.set()
            st, _, _ = await peers.http("DELETE", c.location)
            emit("deleted", status=st)
            break
    pump.cancel()
    await c.pc.close()
    return 0


# ---------------------------------------------------------------- coordinator


async def spawn(args, child: str, extra: List[str]) -> Child:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, os.path.abspath(__file__), "--child", child, "--url", args.url,
        "--room", args.room, *extra, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    c = Child(child, proc)
    c.reader = asyncio.ensure_future(c.read())
    return c


async def expect_skipping_info(c: Child, kinds, timeout: float) -> dict:
    while True:
        m = await c.expect(tuple(kinds) + ("info",), timeout)
        if m["type"] != "info":
            return m
        print(f"INFO {c.name}: {m['msg']}", flush=True)


def plans(pubs: List[str]) -> Dict[str, List[List[dict]]]:
    """Each checker's tile lists for phase A and B."""
    small = lambda p: {"participant": p, "maxHeight": 90}   # noqa: E731
    return {
        "c1": [[small(p) for p in pubs[0:9]]] * 2,
        "c2": [[{"participant": pubs[0], "maxHeight": 720}] + [small(p) for p in pubs[10:14]]] * 2,
        "c3": [[small(p) for p in pubs[1:5]], [small(p) for p in pubs[20:24]]],
    }


def check_phase(args, phase: int, name: str, rep: dict, tiles: List[dict], talkers: List[int],
                pubs: List[str], checks: Checks) -> None:
    want = [t["participant"] for t in tiles]
    got = rep["video"]
    bad = []
    expected = rep["seconds"] * FPS
    for p in want:
        if p not in got:
            bad.append(f"{p}: nothing")
            continue
        first, last, n = got[p]
        if n < args.min_ratio * expected:
            bad.append(f"{p}: {n} of ~{expected:.0f} frames read (#{first}-#{last})")
    checks.check(f"{name} phase {phase}: decodes its {len(want)} tiles", not bad,
                 "; ".join(bad) if bad else ", ".join(f"{p}:{got[p][2]}" for p in want))
    if phase == 1:  # phase B starts with the old tiles still draining
        stray = {p: v[2] for p, v in got.items() if p not in want}
        checks.check(f"{name} phase {phase}: no video from anyone it did not subscribe to",
                     not stray, json.dumps(stray) if stray else "")
    slot_audio = {m: a for m, a in rep["audio"].items() if m in rep["slot_mids"]}
    other_audio = {m: a["frames"] for m, a in rep["audio"].items() if m not in rep["slot_mids"]}
    checks.check(f"{name} phase {phase}: audio on {SLOTS} slot m-lines only",
                 len(rep["slot_mids"]) == SLOTS and not other_audio,
                 f"slots {rep['slot_mids']}, other audio {other_audio}")
    heard = {}
    for a in slot_audio.values():
        for f, n in a["freqs"].items():
            heard[f] = heard.get(f, 0) + n
    want_f = [str(int(TALK_FREQS[i])) for i in talkers]
    min_frames = 0.3 * args.phase_seconds / 0.020
    missing = [f for f in want_f if heard.get(f, 0) < min_frames]
    checks.check(f"{name} phase {phase}: hears the talkers {want_f}", not missing,
                 f"tone frames per Hz {heard}")
    talker_ids = [pubs[i] for i in talkers] + ([pubs[0]] if phase == 2 else [])
    checks.check(f"{name} phase {phase}: the active speaker is a talker",
                 bool(rep["speakers"]) and rep["speakers"][-1] in talker_ids,
                 f"last speakers {rep['speakers']}")


def tone_slots(rep: dict) -> Dict[str, str]:
    """Each tone heard -> the slot mid that carried most of its frames."""
    best: Dict[str, tuple] = {}
    for mid, a in rep["audio"].items():
        for f, n in a["freqs"].items():
            if n > best.get(f, (0, ""))[0]:
                best[f] = (n, mid)
    return {f: mid for f, (n, mid) in best.items()}


async def coordinator(args) -> int:
    checks = Checks()
    npub_procs = (args.publishers + 15) // 16
    print(f"INFO room {args.room}: {args.publishers} publishers in {npub_procs} processes + "
          f"{args.checkers} checkers", flush=True)
    t_start = time.monotonic()
    cpu0 = proc_cpu(args.pid) if args.pid else 0.0
    rss0 = proc_rss_mib(args.pid) if args.pid else {}
    pub_children, checkers = [], []
    try:
        per = -(-args.publishers // npub_procs)
        for k in range(npub_procs):
            first, count = k * per, min(per, args.publishers - k * per)
            pub_children.append(await spawn(args, "pubs", ["--first", str(first),
                                                           "--count", str(count)]))
        pubs_by_index: Dict[int, str] = {}
        failed = 0
        for c in pub_children:
            m = await expect_skipping_info(c, ("published",), 60)
            pubs_by_index.update({int(i): p for i, p in m.get("ids", {}).items()})
            failed += m.get("failed", 1)
            if m.get("errors"):
                print(f"INFO {c.name}: {m['errors']}", flush=True)
        checks.check(f"all {args.publishers} publishers publish (WHIP 201) and connect",
                     failed == 0 and len(pubs_by_index) == args.publishers,
                     f"{len(pubs_by_index)} published, {failed} failed, "
                     f"{time.monotonic() - t_start:.1f} s")
        if failed:
            return checks.summary()
        pubs = [pubs_by_index[i] for i in range(args.publishers)]
        names = [f"c{i + 1}" for i in range(args.checkers)]
        for n in names:
            checkers.append(await spawn(args, n, []))
        for c in checkers:
            c.joined = await expect_skipping_info(c, ("joined",), 30)
            j = c.joined
            checks.check(f"{c.name} join 201 with a subscriptions Link, first subscription 204",
                         j.get("status") == 201 and j.get("subs") and j.get("first_subscribe") == 204,
                         json.dumps(j)[:300])
        for c in checkers:
            m = await expect_skipping_info(c, ("connected", "connect-failed"), 35)
            checks.check(f"{c.name} connected", m["type"] == "connected", str(m))
        if checks.failed:
            return checks.summary()
        plan = plans(pubs)
        talkers = [list(range(0, SLOTS)), list(range(1, SLOTS + 1))]
        for phase in (1, 2):
            if phase == 2:
                t_switch = time.monotonic()
                for c in pub_children:
                    await c.send("amp 0 0.0")
                    await c.send(f"amp {SLOTS} 0.3")
            for c in checkers:
                await c.send("subscribe " + json.dumps(plan[c.name][phase - 1]))
                m = await expect_skipping_info(c, ("subscribed",), 15)
                checks.check(f"{c.name} phase {phase}: subscription 204", m.get("status") == 204,
                             str(m))
            await asyncio.sleep(2.5)   # offers answered, keyframes, audio selection moved
            for c in checkers:
                await c.send("reset")
                await expect_skipping_info(c, ("reset",), 10)
            if phase == 1:
                t_meas, cpu_meas = time.monotonic(), proc_cpu(args.pid) if args.pid else 0.0
                await asyncio.sleep(1.0)
                check_rooms(args, pubs, checkers, plan, checks)
                await asyncio.sleep(max(0.0, args.phase_seconds - 1.0))
            else:
                await asyncio.sleep(args.phase_seconds)
            for c in checkers:
                await c.send("report")
                c.last_report = await expect_skipping_info(c, ("report",), 20)
                c.phase_reports = getattr(c, "phase_reports", []) + [c.last_report]
                check_phase(args, phase, c.name, c.last_report, plan[c.name][phase - 1],
                            talkers[phase - 1], pubs, checks)
        # Talker switch: from the new talker's first loud frame sent (its
        # process changes the amplitude within a few ms of the command) to
        # the first frame of its tone a checker plays from a slot; and from
        # the old talker's silence to the last frame of its tone.
        new_f, old_f = str(int(TALK_FREQS[SLOTS])), str(int(TALK_FREQS[0]))
        for c in checkers:
            r = c.last_report
            t_in = r["tone_first"].get(new_f, 0.0) - t_switch
            t_out = r["tone_last"].get(old_f, 0.0) - t_switch
            checks.check(f"{c.name}: the new talker is heard within {SWITCH_MAX_S:.0f} s of starting",
                         new_f in r["tone_first"] and 0 < t_in <= SWITCH_MAX_S,
                         f"heard after {t_in * 1000:.0f} ms; the old one's tone last heard "
                         f"{t_out * 1000:.0f} ms after it stopped; largest offer "
                         f"{r['max_mlines']} m-lines")
        # Positions are stable: the talkers of both phases stay on their slots.
        both = [str(int(TALK_FREQS[i])) for i in set(talkers[0]) & set(talkers[1])]
        for c in checkers:
            before, after = (tone_slots(r) for r in c.phase_reports)
            moved = {f: (before.get(f), after.get(f)) for f in both if before.get(f) != after.get(f)}
            checks.check(f"{c.name}: the talkers of both phases keep their slot m-lines", not moved,
                         f"moved (mid before, after): {moved}" if moved else
                         ", ".join(f"{f} Hz on {after[f]}" for f in sorted(both)))
        most = {n: max(len(t) for t in plan[n]) for n in plan}
        for c in checkers:
            r = c.last_report
            checks.check(f"{c.name}: at most {most[c.name]} video m-lines besides its own",
                         r["max_video_mlines"] <= most[c.name], f"saw {r['max_video_mlines']}")
            checks.check(f"{c.name}: every answer 204, offers' tracks agree with msid",
                         bool(r["answers"]) and all(s == 204 for s in r["answers"])
                         and not r["mismatches"], f"{r['answers']} {r['mismatches']}")
        if args.pid:
            wall = time.monotonic() - t_meas
            print(f"INFO sfu CPU {100 * (proc_cpu(args.pid) - cpu_meas) / wall:.0f}% of one core "
                  f"over the {wall:.0f} s of both phases ({args.publishers + args.checkers} "
                  f"participants); {100 * (proc_cpu(args.pid) - cpu0) / (time.monotonic() - t_start):.0f}% "
                  f"since the first publish", flush=True)
            rss = proc_rss_mib(args.pid)
            print(f"INFO sfu RSS {rss0.get('VmRSS', 0):.1f} MiB before the first publish, "
                  f"{rss.get('VmRSS', 0):.1f} MiB with {args.publishers + args.checkers} "
                  f"participants, peak {rss.get('VmHWM', 0):.1f} MiB", flush=True)
        for c in pub_children:
            await c.send("report")
        cpus = []
        for c in pub_children:
            m = await expect_skipping_info(c, ("report",), 10)
            cpus.append(100 * m.get("cpu", 0) / max(1e-3, m.get("wall", 1)))
        print("INFO publisher processes CPU % of one core: " + ", ".join(f"{x:.0f}" for x in cpus)
              + "; checkers: " + ", ".join(f"{100 * c.last_report['cpu'] / (time.monotonic() - t_start):.0f}"
                                           for c in checkers)
              + f"; load average {os.getloadavg()[0]:.2f}", flush=True)
        for c in checkers + pub_children:
            await c.send("leave")
        for c in checkers:
            m = await expect_skipping_info(c, ("deleted",), 15)
            checks.check(f"{c.name} DELETE 200", m.get("status") == 200, str(m))
        statuses = []
        for c in pub_children:
            m = await expect_skipping_info(c, ("deleted",), 30)
            statuses += m.get("statuses", ["?"])
        checks.check(f"all {args.publishers} publishers DELETE 200",
                     statuses.count(200) == args.publishers,
                     f"{statuses.count(200)} of {len(statuses)}")
        st = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            st, _ = http_get(f"{args.url}/rooms/{urllib.parse.quote(args.room, safe='')}")
            if st == 404:
                break
            await asyncio.sleep(0.2)
        checks.check("room gone after everyone left (404)", st == 404, f"status {st}")
        print(f"INFO total {time.monotonic() - t_start:.1f} s", flush=True)
        return checks.summary()
    finally:
        for c in checkers + pub_children:
            if c.proc.returncode is None:
                try:
                    c.proc.stdin.close()
                except Exception:  # noqa: BLE001
                    pass
        await asyncio.sleep(0.5)
        for c in checkers + pub_children:
            if c.proc.returncode is None:
                c.proc.kill()
            await c.proc.wait()
            c.reader.cancel()


def check_rooms(args, pubs: List[str], checkers: List[Child], plan, checks: Checks) -> None:
    st, body = http_get(f"{args.url}/rooms/{urllib.parse.quote(args.room, safe='')}")
    if not checks.check("GET /rooms/{room} 200", st == 200, f"status {st}"):
        return
    doc = json.loads(body)
    listed = {p["participant"]: p for p in doc.get("participants", [])}
    want = set(pubs) | {c.joined["participant"] for c in checkers}
    checks.check(f"room lists all {len(want)} participants", set(listed) == want,
                 f"{len(listed)} listed")
    for c in checkers:
        p = listed.get(c.joined["participant"], {})
        checks.check(f"{c.name} shows subscribed {len(plan[c.name][0])} and {SLOTS} audio slots",
                     p.get("subscribed") == len(plan[c.name][0]) and p.get("audio_slots") == SLOTS,
                     f"subscribed {p.get('subscribed')}, audio_slots {p.get('audio_slots')}")
    # Phase 1's talkers are the first SLOTS publishers: every slot carries one.
    talking = set(pubs[:SLOTS])
    for c in checkers:
        hearing = listed.get(c.joined["participant"], {}).get("hearing", [])
        heard = {h.get("participant") for h in hearing}
        checks.check(f"{c.name} shows whom its {SLOTS} audio slots carry: the {SLOTS} talkers",
                     len(hearing) == SLOTS and heard == talking,
                     ", ".join(f"{h.get('mid')}: {h.get('participant')}" for h in hearing))


def main() -> int:
    args = parse_args()
    if args.child == "pubs":
        return asyncio.run(publishers_main(args))
    if args.child:
        return asyncio.run(checker_main(args))
    return asyncio.run(coordinator(args))


if __name__ == "__main__":
    sys.exit(main())
