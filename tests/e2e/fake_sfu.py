#!/usr/bin/python3
"""A stand-in SFU made of aiortc peers, for checking the e2e clients and the
fixture before the real one runs. Not a product: it decodes and re-encodes.

  /usr/bin/python3 tests/e2e/fake_sfu.py --config FILE     # [http] listen = 127.0.0.1:PORT
  /usr/bin/python3 tests/e2e/fake_sfu.py --listen 127.0.0.1:0

Speaks the subset of docs/API.md that the e2e clients use: POST /whip/{room},
POST /whep/{room}/{participant}, DELETE /sessions/{id}, GET /health (and 404,
405, 415 for the rest). Like the real SFU must, it copes with aiortc's
colliding extmap ids by answering a consistent subset: it does not take
abs-send-time, so each BUNDLE id means one extension.
"""

import argparse
import asyncio
import configparser
import secrets
import signal
import sys
from typing import Dict, Optional, Tuple

import peers
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

MAX_BODY = 64 * 1024


class FakeSfu:
    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.sources: Dict[str, Dict[str, object]] = {}  # participant -> kind -> track
        self.rooms: Dict[str, str] = {}  # participant -> room
        self.sessions: Dict[str, Tuple[RTCPeerConnection, Optional[str]]] = {}

    async def _answer(self, pc: RTCPeerConnection, offer: str) -> str:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())  # gathers fully
        return pc.localDescription.sdp

    def _created(self, pc: RTCPeerConnection, pid: str, publisher: bool,
                 sdp: str) -> Tuple[int, Dict[str, str], str]:
        sid = secrets.token_urlsafe(24)  # 192 bits: a capability (API.md)
        self.sessions[sid] = (pc, pid if publisher else None)
        return 201, {"Content-Type": "application/sdp", "Location": f"/sessions/{sid}",
                     "ETag": f'"{secrets.token_hex(8)}"', "X-Participant-Id": pid}, sdp

    async def whip(self, room: str, offer: str) -> Tuple[int, Dict[str, str], str]:
        pc = RTCPeerConnection()
        pid = secrets.token_hex(4)
        tracks: Dict[str, object] = {}
        pc.on("track", lambda t: tracks.__setitem__(t.kind, t))
        try:
            sdp = await self._answer(pc, offer)
        except Exception as e:
            await pc.close()
            return 400, {}, f"bad offer: {e}\n"
        self.sources[pid], self.rooms[pid] = tracks, room
        return self._created(pc, pid, True, sdp)

    async def whep(self, room: str, pid: str, offer: str) -> Tuple[int, Dict[str, str], str]:
        if self.rooms.get(pid) != room:
            return 404, {}, "no such participant in this room\n"
        pc = RTCPeerConnection()
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            for kind, track in self.sources[pid].items():
                pc.addTrack(self.relay.subscribe(track))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as e:
            await pc.close()
            return 400, {}, f"bad offer: {e}\n"
        return self._created(pc, pid, False, pc.localDescription.sdp)

    async def delete(self, sid: str) -> Tuple[int, Dict[str, str], str]:
        entry = self.sessions.pop(sid, None)
        if entry is None:
            return 404, {}, "no such session\n"
        pc, pid = entry
        if pid:
            self.sources.pop(pid, None)
            self.rooms.pop(pid, None)
        await pc.close()
        return 200, {}, ""

    async def route(self, method: str, path: str, headers: Dict[str, str],
                    body: str) -> Tuple[int, Dict[str, str], str]:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if method == "OPTIONS":  # CORS preflight, as API.md asks
            return 204, {"Access-Control-Allow-Methods": "POST, DELETE, GET",
                         "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
                         "Accept-Post": "application/sdp"}, ""
        if parts == ["health"]:
            return (200, {}, "ok (fake sfu)\n") if method == "GET" else (405, {}, "GET only\n")
        if len(parts) == 2 and parts[0] == "sessions":
            return await self.delete(parts[1]) if method == "DELETE" else (405, {}, "DELETE\n")
        if parts[:1] in (["whip"], ["whep"]) and len(parts) == (2 if parts[0] == "whip" else 3):
            if method != "POST":
                return 405, {}, "POST only\n"
            if headers.get("content-type", "").split(";")[0].strip() != "application/sdp":
                return 415, {}, "want application/sdp\n"
            if parts[0] == "whip":
                return await self.whip(parts[1], body)
            return await self.whep(parts[1], parts[2], body)
        return 404, {}, "not found\n"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip()
                       for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
            length = int(headers.get("content-length", "0"))
            if length > MAX_BODY:
                status, rh, body = 413, {}, "too large\n"
            else:
                data = await asyncio.wait_for(reader.readexactly(length), 10)
                status, rh, body = await self.route(method, path, headers, data.decode())
        except (ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError,
                asyncio.LimitOverrunError):
            status, rh, body = 400, {}, "bad request\n"
        out = body.encode()
        rh.setdefault("Content-Type", "text/plain")
        rh["Access-Control-Allow-Origin"] = "*"
        rh["Access-Control-Expose-Headers"] = "Location, ETag, Link, X-Participant-Id"
        hdr = f"HTTP/1.1 {status} X\r\nContent-Length: {len(out)}\r\nConnection: close\r\n"
        hdr += "".join(f"{k}: {v}\r\n" for k, v in rh.items()) + "\r\n"
        writer.write(hdr.encode() + out)
        await writer.drain()
        writer.close()


def listen_addr(args: argparse.Namespace) -> Tuple[str, int]:
    addr = args.listen
    if args.config:
        cfg = configparser.ConfigParser()
        cfg.read(args.config)
        addr = cfg.get("http", "listen", fallback=addr)
    host, _, port = addr.rpartition(":")
    return host or "127.0.0.1", int(port)


async def main() -> int:
    p = argparse.ArgumentParser(description="aiortc stand-in for the SFU (tests only)")
    p.add_argument("--config", help="INI file; reads [http] listen")
    p.add_argument("--listen", default="127.0.0.1:8080")
    p.add_argument("--mirror-extmap", action="store_true",
                   help="answer aiortc's colliding extmap ids as offered (an SFU bug: "
                        "for checking that whip_whep.py catches it)")
    args = p.parse_args()
    peers.patch_loopback()
    # Answer a consistent subset of aiortc's offer (see module doc).
    from aiortc.codecs import HEADER_EXTENSIONS
    if not args.mirror_extmap:
        HEADER_EXTENSIONS["video"][:] = [e for e in HEADER_EXTENSIONS["video"]
                                         if not e.uri.endswith("abs-send-time")]
    sfu = FakeSfu()
    host, port = listen_addr(args)
    server = await asyncio.start_server(sfu.handle, host, port)
    bound = server.sockets[0].getsockname()
    print(f"fake sfu listening on http://{bound[0]}:{bound[1]}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    for pc, _ in list(sfu.sessions.values()):
        await pc.close()
    print(f"fake sfu stopping, {len(sfu.sessions)} sessions left", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
