"""Helpers for the operations tests (ops_*.py): PASS/FAIL counting, /metrics
parsing, promtool, event streams, and a live aiortc call (WHIP publisher,
WHEP viewer, optionally a room participant) against an sfu.

Only the standard library and tests/e2e/peers.py (aiortc) are used.
"""
import asyncio
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import peers  # noqa: E402


class Checks:
    """One PASS/FAIL line per check, then "N passed, M failed"."""

    def __init__(self) -> None:
        self.passed = self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def info(self, text: str) -> None:
        print(f"INFO {text}", flush=True)

    def summary(self) -> int:
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1


def request(method: str, url: str, body: Optional[bytes] = None,
            headers: Optional[Dict[str, str]] = None,
            timeout: float = 10.0) -> Tuple[int, Dict[str, str], str]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers.items()), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read().decode("utf-8", "replace")


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')


def parse_metrics(text: str) -> Dict[str, float]:
    """'name{a="b",c="d"}' (labels as sent) -> value."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def metrics(url: str, token: Optional[str] = None) -> Tuple[str, Dict[str, float]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, _, body = request("GET", url.rstrip("/") + "/metrics", headers=headers)
    if status != 200:
        raise RuntimeError(f"GET /metrics -> {status}")
    return body, parse_metrics(body)


def http_series(route: str, code: int) -> str:
    return f'sfu_http_requests_total{{route="{route}",code="{code}"}}'


def promtool_check(text: str) -> Tuple[bool, str]:
    """`promtool check metrics` on `text`: (ok, what it said)."""
    tool = shutil.which("promtool")
    if not tool:
        return False, "promtool not installed (Debian package prometheus)"
    p = subprocess.run([tool, "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=30)
    said = (p.stdout + p.stderr).decode("utf-8", "replace").strip()
    return p.returncode == 0 and not said, said or "no problems"


class EventStream:
    """GET /sessions/{id}/events in a thread; (event, data) into a queue."""

    def __init__(self, url: str, token: Optional[str] = None) -> None:
        if token:
            url += ("&" if "?" in url else "?") + "access_token=" + token
        self.url = url
        self.q: "queue.Queue" = queue.Queue()
        self.seen: List[Tuple[str, object]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with urllib.request.urlopen(self.url, timeout=120) as r:
                ev = None
                for raw in r:
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if line.startswith("event:"):
                        ev = line[6:].strip()
                    elif line.startswith("data:"):
                        try:
                            data = json.loads(line[5:].strip())
                        except ValueError:
                            data = line[5:].strip()
                        self.q.put((ev, data))
                    elif line == "":
                        ev = None
            self.q.put(("stream-end", None))
        except Exception as e:  # noqa: BLE001 - reported through the queue
            self.q.put(("stream-error", str(e)))

    def wait_for(self, event: str, timeout: float) -> Optional[object]:
        """The data of the first `event` within `timeout` s, else None."""
        import time
        deadline = time.monotonic() + timeout
        for ev, data in self.seen:
            if ev == event:
                return data
        while time.monotonic() < deadline:
            try:
                ev, data = self.q.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append((ev, data))
            if ev == event:
                return data
        return None


class Call:
    """A live call: one WHIP publisher (Opus sine + numbered VP8 frames) and
    one WHEP viewer of it, both connected; optionally one room participant
    (POST /rooms/{room}/join) with its event stream open."""

    def __init__(self, url: str, room: str, token: Optional[str] = None,
                 name: Optional[str] = None) -> None:
        self.url, self.room, self.token, self.name = url.rstrip("/"), room, token, name
        self.pub = self.view = self.member = None
        self.receiver = peers.Receiver()
        self.events: Optional[EventStream] = None
        self.member_location = ""

    async def start(self, viewer: bool = True) -> None:
        video = peers.FrameNumberTrack(320, 240, 15)
        audio = peers.SineTrack()
        room = self.room + (f"?name={self.name}" if self.name and not self.token else "")
        self.pub = await peers.whip_publish(self.url, room, [audio, video], self.token)
        await peers.wait_connected(self.pub.pc)
        if viewer:
            self.view, _ = await peers.whep_view(self.url, self.room, self.pub.participant_id,
                                                 self.receiver, self.token)
            await peers.wait_connected(self.view.pc)

    async def join_room(self) -> None:
        """A room participant that receives only; its event stream is read."""
        from aiortc import RTCPeerConnection, RTCSessionDescription
        pc = RTCPeerConnection()
        pc.addTransceiver("audio", direction="recvonly")
        peers.restrict_codecs(pc)
        await pc.setLocalDescription(await pc.createOffer())
        await peers.wait_gathering(pc)
        q = f"?name={self.name}" if self.name and not self.token else ""
        url = f"{self.url}/rooms/{self.room}/join{q}"
        status, headers, body = await peers.http("POST", url, pc.localDescription.sdp,
                                                 "application/sdp", self.token)
        if status != 201:
            await pc.close()
            raise RuntimeError(f"POST {url} -> {status}: {body.strip()[:120]}")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        location = peers._header(headers, "Location") or ""
        self.member = peers.Session(pc=pc, url=self.url + location)
        self.member_location = location
        self.events = EventStream(self.url + location + "/events", self.token)

    def sessions(self) -> List[peers.Session]:
        return [s for s in (self.member, self.view, self.pub) if s is not None]

    async def leave(self) -> List[int]:
        """DELETE every session (viewer first); the statuses."""
        statuses = []
        for s in self.sessions():
            statuses.append(await peers.delete(s, self.token))
        self.pub = self.view = self.member = None
        await self.receiver.stop()
        return statuses

    async def close_silently(self) -> None:
        for s in self.sessions():
            await s.pc.close()
        await self.receiver.stop()
