"""Helpers for hostile.py: the SFU's figures, raw packets through an aiortc
peer's own ICE/SRTP transport, RTP/RTCP builders, raw HTTP.

Only the standard library and aiortc (Debian's python3-aiortc 1.4).
"""

import asyncio
import os
import random
import re
import struct
import time
import urllib.error
import urllib.request
from typing import Dict, Optional, Tuple

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

# ------------------------------------------------------------ the SFU's figures

_METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)$')


def http_get(url: str, timeout: float = 5.0, token: Optional[str] = None) -> Tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def metrics(base: str) -> Dict[str, float]:
    """GET /metrics as {'name' or 'name{labels}': value}; {} if unreachable."""
    try:
        status, body = http_get(base + "/metrics", timeout=5.0)
    except OSError:
        return {}
    out: Dict[str, float] = {}
    if status != 200:
        return out
    for ln in body.splitlines():
        m = _METRIC.match(ln.strip())
        if m and not ln.startswith("#"):
            try:
                out[m.group(1)] = float(m.group(2))
            except ValueError:
                pass
    return out


def drop_key(reason: str) -> str:
    return f'sfu_dropped_packets_total{{reason="{reason}"}}'


def health(base: str, timeout: float = 1.0) -> Tuple[int, float]:
    """(status or 0 when no answer in time, seconds taken)."""
    t0 = time.monotonic()
    try:
        status, _ = http_get(base + "/health", timeout=timeout)
    except OSError:
        status = 0
    return status, time.monotonic() - t0


def candidate_ports(sdp: str) -> Tuple[Optional[int], Optional[int]]:
    """(UDP port, passive TCP port) of the first host candidates in `sdp`."""
    udp = tcp = None
    for ln in sdp.splitlines():
        if not ln.startswith("a=candidate:"):
            continue
        f = ln.split()
        if len(f) < 8:
            continue
        if f[2].lower() == "udp" and udp is None:
            udp = int(f[5])
        elif f[2].lower() == "tcp" and "passive" in f and tcp is None:
            tcp = int(f[5])
    return udp, tcp


_TCP_STATES = {"01": "tcp-established", "02": "tcp-syn-sent", "06": "tcp-time-wait",
               "07": "tcp-close", "08": "tcp-close-wait", "0A": "tcp-listen", "0B": "tcp-closing",
               "09": "tcp-last-ack", "04": "tcp-fin-wait1", "05": "tcp-fin-wait2"}


def fd_breakdown(pid: int) -> Dict[str, int]:
    """What a process's open fds are: TCP sockets by state, UDP, the rest by kind."""
    inodes: Dict[str, str] = {}
    for path, kind in (("/proc/net/tcp", "tcp"), ("/proc/net/tcp6", "tcp"),
                       ("/proc/net/udp", "udp"), ("/proc/net/udp6", "udp")):
        try:
            with open(path) as f:
                next(f)
                for ln in f:
                    c = ln.split()
                    if len(c) > 9:
                        inodes[c[9]] = _TCP_STATES.get(c[3], "tcp-" + c[3]) if kind == "tcp" else "udp"
        except OSError:
            pass
    out: Dict[str, int] = {}
    base = f"/proc/{pid}/fd"
    for name in os.listdir(base):
        try:
            target = os.readlink(os.path.join(base, name))
        except OSError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", target)
        kind = inodes.get(m.group(1), "socket-other") if m else re.sub(r"[:\[].*", "", target)
        out[kind] = out.get(kind, 0) + 1
    return out


# ------------------------------------------------------------ RTP and RTCP

def rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + payload


def rtcp_rr(ssrc: int) -> bytes:
    return struct.pack("!BBHI", 0x80, 201, 1, ssrc)


def rtcp_pli(sender: int, media: int) -> bytes:
    return struct.pack("!BBHII", 0x81, 206, 2, sender, media)


def rtcp_nack(sender: int, media: int, pid: int, blp: int = 0xFFFF) -> bytes:
    return struct.pack("!BBHIIHH", 0x81, 205, 3, sender, media, pid & 0xFFFF, blp)


def lying_rtcp(ssrc: int, media: int) -> list:
    """Compound RTCP packets whose length fields lie. Each one makes the
    SFU's parser give up exactly once (one 'malformed' drop each)."""
    rr = rtcp_rr(ssrc)
    return [
        # RR claiming 100 words, 8 bytes there
        struct.pack("!BBHI", 0x80, 201, 100, ssrc),
        # a good RR, then a PLI claiming 50 words
        rr + struct.pack("!BBHII", 0x81, 206, 50, ssrc, media),
        # RR claiming 0xFFFF words
        struct.pack("!BBHI", 0x80, 201, 0xFFFF, ssrc) + bytes(16),
        # a good RR, then a header cut after 2 bytes
        rr + rr + b"\x80\xc9",
        # SR whose length (1 word) is too short to hold its sender info
        struct.pack("!BBHI", 0x80, 200, 1, ssrc),
        # NACK with no FCI (length 2) after an RR
        rr + struct.pack("!BBHII", 0x81, 205, 2, ssrc, media),
    ]


# ------------------------------------------------------------ raw sending

class RawPeer:
    """Sends through a connected aiortc PeerConnection's nominated ICE pair:
    raw datagrams (no SRTP), or RTP/RTCP protected with its own SRTP context,
    synchronously (no await per packet, so thousands per second fit)."""

    def __init__(self, pc):
        self.pc = pc
        tr = pc.getTransceivers()[0]
        self.dtls = tr.sender.transport or tr.receiver.transport
        conn = self.dtls.transport._connection
        pair = conn._nominated.get(1)
        if pair is None:
            raise ConnectionError("no nominated ICE pair")
        self._transport = pair.protocol.transport
        self._addr = pair.remote_addr
        self.local_addr = pair.local_addr
        self.sent = 0

    def send_raw(self, data: bytes) -> None:
        self._transport.sendto(data, self._addr)
        self.sent += 1

    def protect_rtp(self, data: bytes) -> bytes:
        return self.dtls._tx_srtp.protect(data)

    def protect_rtcp(self, data: bytes) -> bytes:
        return self.dtls._tx_srtp.protect_rtcp(data)

    def send_rtp(self, data: bytes) -> None:
        self.send_raw(self.protect_rtp(data))

    def send_rtcp(self, data: bytes) -> None:
        self.send_raw(self.protect_rtcp(data))


async def paced(total: int, per_second: float, send_batch) -> float:
    """Calls send_batch(n) so that `total` items go out at `per_second`,
    in 5 ms slices. Returns the seconds it took."""
    t0 = time.monotonic()
    done = 0
    while done < total:
        due = min(total, int((time.monotonic() - t0) * per_second) + 1)
        if due > done:
            send_batch(due - done)
            done = due
        await asyncio.sleep(0.005)
    return time.monotonic() - t0


class SilentTrack(MediaStreamTrack):
    """A track that never yields a frame: its sender negotiates an SSRC and
    sends RTCP, while the test writes the RTP itself."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind
        self._never: Optional[asyncio.Future] = None

    async def recv(self):
        if self._never is None:
            self._never = asyncio.get_event_loop().create_future()
        await self._never
        raise MediaStreamError

    def stop(self) -> None:
        if self._never is not None and not self._never.done():
            self._never.set_result(None)
        super().stop()


def garbage(first_byte: Optional[int], size: int, rng: random.Random) -> bytes:
    body = rng.randbytes(size)
    return body if first_byte is None else bytes([first_byte]) + body[1:]


# ------------------------------------------------------------ raw HTTP

async def raw_http(host: str, port: int, request: bytes, timeout: float = 10.0,
                   local_host: Optional[str] = None) -> Tuple[int, bytes]:
    """Sends `request` as is, reads the whole answer (Connection: close is
    up to the caller). (status or 0 when no answer, raw answer)."""
    writer = None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port,
                                    local_addr=(local_host, 0) if local_host else None),
            timeout)
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    except (OSError, asyncio.TimeoutError):
        return 0, b""
    finally:
        if writer is not None:
            writer.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return (int(m.group(1)) if m else 0), data


def http_request(method: str, path: str, host: str, body: bytes = b"",
                 headers: Optional[Dict[str, str]] = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close",
             f"Content-Length: {len(body)}"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
