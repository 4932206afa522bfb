"""Helpers for end-to-end tests with real aiortc WebRTC peers.

Run with /usr/bin/python3 (Debian's python3-aiortc 1.4); only the standard
library, aiortc, av and numpy are used, so HTTP goes through urllib in a
worker thread.

What is here:
  - patch_loopback(): make aioice gather 127.0.0.1 only (TESTING.md);
  - encode_frame_number() / decode_frame_number(): a 16-bit frame number
    drawn as large black/white blocks plus a checksum row, so that it
    survives VP8 compression and can be read back from decoded frames;
  - FrameNumberTrack, SineTrack: paced synthetic video and audio sources;
  - Receiver: consumes received tracks and counts what arrived;
  - whip_publish(), whep_view(), delete(): the WHIP/WHEP client side of
    docs/API.md (non-trickle: the offer is sent after ICE gathering ends);
    vanish(): close a session's pc silently (no DELETE, no close_notify);
  - create_offer(): a real aiortc offer to mutate in negative tests.
"""

import asyncio
import fractions
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
from av import AudioFrame, VideoFrame

from aiortc import (
    MediaStreamTrack,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

VIDEO_CLOCK = 90000
AUDIO_RATE = 48000
AUDIO_PTIME = 0.020

# Frame-number layout: the top half of the picture is a grid of 8 columns by
# 3 rows of blocks. Rows 0-1 hold the 16-bit number MSB first, row 2 an 8-bit
# checksum. Blocks are 1/8 of the width by 1/6 of the height (40x40 pixels at
# 320x240): big enough that VP8 at a few hundred kbit/s keeps them readable.
GRID_COLS = 8
GRID_ROWS = 3
Y_BLACK = 16
Y_WHITE = 235
Y_GRAY = 128
# A decoded block mean must be clearly dark or light to count: a smeared
# block (say 128) means the frame is unreadable rather than a guessed bit.
Y_LOW = 90
Y_HIGH = 165


def patch_loopback() -> None:
    """Let aioice gather only 127.0.0.1 (it skips loopback by default)."""
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def patch_mid_routing() -> None:
    """Demultiplex by the mid header extension when the SSRC is unknown.

    RFC 8843 section 9.2: a receiver learns a new SSRC from the mid
    extension. aiortc 1.4 learns SSRCs only from a=ssrc lines at its first
    negotiation, or from a payload type that one receiver alone uses, so a
    transceiver that the SFU re-points to another participant (new SSRC on
    the same mid, after a renegotiation) would get nothing. Browsers do this.
    """
    from aiortc.rtcdtlstransport import RtpRouter

    if getattr(RtpRouter, "_mid_routing", False):
        return
    original = RtpRouter.route_rtp

    def route_rtp(self, packet):
        if packet.ssrc not in self.ssrc_table and packet.extensions.mid in self.mid_table:
            self.ssrc_table[packet.ssrc] = self.mid_table[packet.extensions.mid]
        return original(self, packet)

    RtpRouter.route_rtp = route_rtp
    RtpRouter._mid_routing = True


def fix_extmap_ids() -> None:
    """Give abs-send-time its own extmap id in aiortc's offers and answers.

    aiortc 1.4 offers ssrc-audio-level (audio) and abs-send-time (video) both
    as id 2 in one BUNDLE group, which RFC 8843 section 9.1 forbids; its own
    receiver then keeps one id map per transport and dies parsing audio
    packets as abs-send-time. Needed for aiortc <-> aiortc; against the SFU
    leave aiortc as it is unless testing something else, since the SFU must
    cope with real aiortc offers (TESTING.md).
    """
    from aiortc.codecs import HEADER_EXTENSIONS
    from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters

    video = HEADER_EXTENSIONS["video"]
    for i, ext in enumerate(video):
        if ext.uri.endswith("abs-send-time"):
            video[i] = RTCRtpHeaderExtensionParameters(id=3, uri=ext.uri)


def frame_checksum(number: int) -> int:
    """8-bit checksum of a 16-bit frame number (catches any one flipped bit)."""
    return ((number >> 8) ^ (number & 0xFF) ^ 0x5A) & 0xFF


def _frame_bits(number: int) -> List[int]:
    number &= 0xFFFF
    bits = [(number >> (15 - i)) & 1 for i in range(16)]
    csum = frame_checksum(number)
    bits += [(csum >> (7 - i)) & 1 for i in range(8)]
    return bits


def _block_rect(index: int, width: int, height: int) -> Tuple[int, int, int, int]:
    bw, bh = width // GRID_COLS, height // (2 * GRID_ROWS)
    row, col = divmod(index, GRID_COLS)
    return row * bh, (row + 1) * bh, col * bw, (col + 1) * bw


def encode_frame_number(number: int, width: int = 320, height: int = 240) -> np.ndarray:
    """A yuv420p picture (shape (height*3/2, width)) showing `number`.

    The bottom half carries a bar that moves with the number, so the encoder
    has real motion to code besides the blocks.
    """
    if width % 16 or height % 12 or width < 64 or height < 48:
        raise ValueError("width must be a multiple of 16 and height of 12, at least 64x48")
    img = np.full((height * 3 // 2, width), Y_GRAY, dtype=np.uint8)
    for i, bit in enumerate(_frame_bits(number)):
        y0, y1, x0, x1 = _block_rect(i, width, height)
        img[y0:y1, x0:x1] = Y_WHITE if bit else Y_BLACK
    bar_w = width // 16
    x = (number * 4) % (width - bar_w)
    img[height * 5 // 8 : height * 7 // 8, x : x + bar_w] = Y_WHITE
    return img


def decode_frame_number(luma: np.ndarray) -> Optional[int]:
    """Read the 16-bit number back from a luma plane; None if unreadable.

    Uses the geometry of the received picture, so a scaled copy still reads.
    Each block is sampled in its middle half, away from blurred edges.
    """
    height, width = luma.shape[:2]
    if width < 64 or height < 48:
        return None
    bits = []
    for i in range(GRID_COLS * GRID_ROWS):
        y0, y1, x0, x1 = _block_rect(i, width, height)
        qy, qx = (y1 - y0) // 4, (x1 - x0) // 4
        mean = float(luma[y0 + qy : y1 - qy, x0 + qx : x1 - qx].mean())
        if Y_LOW <= mean <= Y_HIGH:
            return None
        bits.append(1 if mean > Y_HIGH else 0)
    number = 0
    for b in bits[:16]:
        number = (number << 1) | b
    csum = 0
    for b in bits[16:]:
        csum = (csum << 1) | b
    return number if csum == frame_checksum(number) else None


def unwrap16(number: int, last: Optional[int]) -> int:
    """Extend a 16-bit number to the value nearest the previous extended one."""
    if last is None:
        return number
    delta = (number - last) & 0xFFFF
    if delta >= 0x8000:
        delta -= 0x10000
    return last + delta


class FrameNumberTrack(MediaStreamTrack):
    """Video source: frame n shows the number n, paced at `fps`."""

    kind = "video"

    def __init__(self, width: int = 320, height: int = 240, fps: float = 20.0):
        super().__init__()
        encode_frame_number(0, width, height)  # validates the size
        self.width, self.height, self.fps = width, height, fps
        self.frames_sent = 0  # frames handed to the encoder so far
        self._start: Optional[float] = None

    @property
    def last_number(self) -> int:
        """Number of the last frame produced, -1 before the first."""
        return self.frames_sent - 1

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        n = self.frames_sent
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + n / self.fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = VideoFrame.from_ndarray(
            encode_frame_number(n, self.width, self.height), format="yuv420p"
        )
        frame.pts = int(n * VIDEO_CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.frames_sent = n + 1
        return frame


class SineTrack(MediaStreamTrack):
    """Audio source: a mono sine tone in 20 ms frames, paced in real time."""

    kind = "audio"

    def __init__(self, freq_hz: float = 440.0, amplitude: float = 0.3):
        super().__init__()
        self.freq_hz, self.amplitude = freq_hz, amplitude
        self.frames_sent = 0
        self._start: Optional[float] = None

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        n = self.frames_sent
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + n * AUDIO_PTIME - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        samples = int(AUDIO_RATE * AUDIO_PTIME)
        t = (np.arange(samples) + n * samples) / AUDIO_RATE
        pcm = self.amplitude * 32767 * np.sin(2 * math.pi * self.freq_hz * t)
        frame = AudioFrame.from_ndarray(
            pcm.astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = AUDIO_RATE
        frame.pts = n * samples
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self.frames_sent = n + 1
        return frame


@dataclass
class Receiver:
    """Counts what a receiving PeerConnection gets.

    numbers: frame numbers read from decoded video, in arrival order
    (extended past 16 bits); unreadable: decoded frames whose number failed
    to read; audio_frames: decoded audio frames; audio_loud: those with an
    RMS above ~1% of full scale (the sine is 30%, silence is 0); sizes:
    decoded video frames per (width, height).
    """

    name: str = "viewer"
    numbers: List[int] = field(default_factory=list)
    unreadable: int = 0
    audio_frames: int = 0
    audio_loud: int = 0
    first_video_at: Optional[float] = None
    sizes: Dict[Tuple[int, int], int] = field(default_factory=dict)  # decoded frames per (w, h)
    tasks: List[asyncio.Task] = field(default_factory=list)

    def attach(self, pc: RTCPeerConnection) -> None:
        """Consume every track `pc` receives (call before the remote SDP)."""

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            consume = self._video if track.kind == "video" else self._audio
            self.tasks.append(asyncio.ensure_future(consume(track)))

    async def _video(self, track: MediaStreamTrack) -> None:
        last: Optional[int] = None
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            size = (frame.width, frame.height)
            self.sizes[size] = self.sizes.get(size, 0) + 1
            # PyAV reads yuv420p into an array only at even sizes (240x135 is
            # a simulcast layer of 960x540).
            if frame.format.name in ("yuv420p", "yuvj420p") and not (frame.width | frame.height) & 1:
                luma = frame.to_ndarray()[: frame.height]
            else:
                luma = frame.to_ndarray(format="gray")
            number = decode_frame_number(luma)
            if number is None:
                self.unreadable += 1
                continue
            last = unwrap16(number, last)
            if self.first_video_at is None:
                self.first_video_at = time.monotonic()
            self.numbers.append(last)

    async def _audio(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.audio_frames += 1
            pcm = frame.to_ndarray().astype(np.float64)
            if pcm.size and math.sqrt(float((pcm * pcm).mean())) > 327.0:
                self.audio_loud += 1

    def video_report(self, last_sent: int) -> Dict[str, object]:
        """Figures for frames [first received .. last_sent]."""
        nums = self.numbers
        in_order = all(b > a for a, b in zip(nums, nums[1:]))
        if not nums:
            return {"first": None, "received": 0, "expected": 0, "ratio": 0.0,
                    "in_order": in_order, "unreadable": self.unreadable}
        first = nums[0]
        expected = max(0, last_sent - first + 1)
        received = len({n for n in nums if first <= n <= last_sent})
        ratio = received / expected if expected else 0.0
        return {"first": first, "received": received, "expected": expected,
                "ratio": ratio, "in_order": in_order, "unreadable": self.unreadable}

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@dataclass
class Session:
    """One WHIP or WHEP session: its PeerConnection and server resource."""

    pc: RTCPeerConnection
    url: Optional[str]  # absolute session URL from Location; None when local
    participant_id: Optional[str] = None
    etag: Optional[str] = None
    answer_sdp: str = ""
    headers: Dict[str, str] = field(default_factory=dict)  # of the 201
    offer_sdp: str = ""


class HttpError(Exception):
    def __init__(self, method: str, url: str, status: int, body: str):
        super().__init__(f"{method} {url} -> {status}: {body.strip()[:200]}")
        self.status, self.body = status, body


def _header_dict(msg) -> Dict[str, str]:
    """Header fields by name; repeated ones (several Link fields) joined with
    ", ", as RFC 9110 5.3 allows for list-based fields."""
    out: Dict[str, str] = {}
    for k, v in msg.items():
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


def _http_sync(method: str, url: str, body: Optional[bytes], headers: Dict[str, str],
               timeout: float) -> Tuple[int, Dict[str, str], str]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, _header_dict(resp.headers), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, _header_dict(e.headers), e.read().decode("utf-8", "replace")


async def http(method: str, url: str, body: Optional[str] = None,
               content_type: Optional[str] = None, token: Optional[str] = None,
               timeout: float = 10.0) -> Tuple[int, Dict[str, str], str]:
    """One HTTP request off the event loop: (status, headers, body text).
    Redirects are not followed (urllib does not follow a 307 POST)."""
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body.encode() if body is not None else None
    return await asyncio.to_thread(_http_sync, method, url, data, headers, timeout)


# Our clients follow a cluster node's 307 themselves (docs/API.md,
# "A cluster of nodes"): same method, body and token, at most this many hops.
MAX_REDIRECTS = 3


async def http_follow(method: str, url: str, body: Optional[str] = None,
                      content_type: Optional[str] = None, token: Optional[str] = None,
                      timeout: float = 10.0) -> Tuple[int, Dict[str, str], str, str]:
    """http() that follows 307/308 with the same method, body and token.
    Returns (status, headers, body, final URL)."""
    for _ in range(MAX_REDIRECTS + 1):
        status, headers, text = await http(method, url, body, content_type, token, timeout)
        location = _header(headers, "Location")
        if status not in (307, 308) or not location:
            return status, headers, text, url
        url = urllib.parse.urljoin(url, location)
    raise HttpError(method, url, status, "too many redirects")


def _header(headers: Dict[str, str], name: str) -> Optional[str]:
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


def restrict_codecs(pc: RTCPeerConnection, audio: str = "audio/opus",
                    video: str = "video/VP8") -> None:
    """Offer only Opus and VP8 (plus RTX) on every transceiver of `pc`."""
    for tr in pc.getTransceivers():
        want = audio if tr.kind == "audio" else video
        caps = RTCRtpSender.getCapabilities(tr.kind).codecs
        prefs = [c for c in caps if c.mimeType.lower() in (want.lower(), f"{tr.kind}/rtx")]
        tr.setCodecPreferences(prefs)


async def wait_gathering(pc: RTCPeerConnection, timeout: float = 10.0) -> None:
    """Non-trickle: wait until ICE gathering is complete."""
    deadline = time.monotonic() + timeout
    while pc.iceGatheringState != "complete":
        if time.monotonic() > deadline:
            raise TimeoutError("ICE gathering did not complete")
        await asyncio.sleep(0.05)


async def wait_connected(pc: RTCPeerConnection, timeout: float = 15.0) -> None:
    """Wait for connectionState 'connected' (ICE and DTLS up)."""
    deadline = time.monotonic() + timeout
    while pc.connectionState != "connected":
        if pc.connectionState in ("failed", "closed"):
            raise ConnectionError(f"connection {pc.connectionState}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not connected after {timeout:.0f}s "
                               f"(state {pc.connectionState})")
        await asyncio.sleep(0.05)


async def _offer_answer(pc: RTCPeerConnection, url: str, token: Optional[str]) -> Session:
    await pc.setLocalDescription(await pc.createOffer())
    await wait_gathering(pc)
    status, headers, body, url = await http_follow("POST", url, pc.localDescription.sdp,
                                                   "application/sdp", token)
    if status != 201:
        raise HttpError("POST", url, status, body)
    location = _header(headers, "Location")
    if not location:
        raise HttpError("POST", url, status, "201 without Location")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    return Session(pc=pc, url=urllib.parse.urljoin(url, location),
                   participant_id=_header(headers, "X-Participant-Id"),
                   etag=_header(headers, "ETag"), answer_sdp=body, headers=headers,
                   offer_sdp=pc.localDescription.sdp)


async def whip_publish(base_url: str, room: str, tracks: List[MediaStreamTrack],
                       token: Optional[str] = None, name: Optional[str] = None) -> Session:
    """POST /whip/{room} with a sendonly Opus/VP8 offer for `tracks`.

    Raises HttpError unless the answer is 201 with a Location. The caller
    waits for wait_connected(session.pc) if it needs media flowing.
    """
    pc = RTCPeerConnection()
    try:
        for track in tracks:
            pc.addTransceiver(track, direction="sendonly")
        restrict_codecs(pc)
        url = f"{base_url.rstrip('/')}/whip/{urllib.parse.quote(room, safe='')}"
        if name is not None:
            url += "?name=" + urllib.parse.quote(name, safe="")
        return await _offer_answer(pc, url, token)
    except BaseException:
        await pc.close()
        raise


async def whep_view(base_url: str, room: str, participant: str,
                    receiver: Optional[Receiver] = None,
                    token: Optional[str] = None) -> Tuple[Session, Receiver]:
    """POST /whep/{room}/{participant} with a recvonly audio+video offer.

    Received media is counted by `receiver` (a new one unless given).
    """
    receiver = receiver or Receiver()
    pc = RTCPeerConnection()
    try:
        receiver.attach(pc)
        pc.addTransceiver("audio", direction="recvonly")
        pc.addTransceiver("video", direction="recvonly")
        restrict_codecs(pc)
        q = urllib.parse.quote
        url = f"{base_url.rstrip('/')}/whep/{q(room, safe='')}/{q(participant, safe='')}"
        return await _offer_answer(pc, url, token), receiver
    except BaseException:
        await pc.close()
        raise


async def create_offer(audio: Optional[str] = "audio/opus", video: Optional[str] = "video/VP8",
                       direction: str = "sendonly", datachannel: bool = False) -> str:
    """An aiortc offer (after gathering) that is never sent: for tests that
    mutate real offers. `audio`/`video` name the one codec offered for that
    kind (None: no m-line of that kind); sendonly transceivers get silent
    tracks, recvonly ones none. The PeerConnection is closed again."""
    pc = RTCPeerConnection()
    try:
        for kind, codec in (("audio", audio), ("video", video)):
            if codec is None:
                continue
            if direction == "recvonly":
                pc.addTransceiver(kind, direction="recvonly")
            else:
                track = SineTrack() if kind == "audio" else FrameNumberTrack(64, 48)
                pc.addTransceiver(track, direction=direction)
        for tr in pc.getTransceivers():
            want = audio if tr.kind == "audio" else video
            caps = RTCRtpSender.getCapabilities(tr.kind).codecs
            tr.setCodecPreferences([c for c in caps if c.mimeType.lower() == want.lower()])
        if datachannel:
            pc.createDataChannel("data")
        await pc.setLocalDescription(await pc.createOffer())
        await wait_gathering(pc)
        return pc.localDescription.sdp
    finally:
        await pc.close()


async def delete(session: Session, token: Optional[str] = None) -> int:
    """DELETE the session URL (status returned; 0 when local) and close the pc."""
    status = 0
    try:
        if session.url:
            status, _, _ = await http("DELETE", session.url, token=token)
    finally:
        await session.pc.close()
    return status


async def vanish(session: Session) -> None:
    """Close the pc without a word to the server, like a client whose network
    went away: no DELETE, no DTLS close_notify, no RTCP BYE (everything it
    would still send is dropped), so only the server's liveness timeout can
    end the session."""
    async def silent(data: bytes) -> None:
        return None

    for tr in session.pc.getTransceivers():
        for dtls in (tr.sender.transport, tr.receiver.transport):
            if dtls is not None:
                dtls.transport._send = silent
    await session.pc.close()


async def local_pair(tracks: List[MediaStreamTrack],
                     receiver: Receiver) -> Tuple[Session, Session]:
    """Publisher -> viewer directly, no SFU: checks the sources and counting.

    The publisher offers sendonly Opus/VP8 as it would over WHIP; the viewer
    answers recvonly as an SFU-facing viewer would receive.
    """
    pub, view = RTCPeerConnection(), RTCPeerConnection()
    try:
        for track in tracks:
            pub.addTransceiver(track, direction="sendonly")
        restrict_codecs(pub)
        receiver.attach(view)
        await pub.setLocalDescription(await pub.createOffer())
        await wait_gathering(pub)
        await view.setRemoteDescription(pub.localDescription)
        await view.setLocalDescription(await view.createAnswer())
        await wait_gathering(view)
        await pub.setRemoteDescription(view.localDescription)
        return Session(pc=pub, url=None), Session(pc=view, url=None)
    except BaseException:
        await pub.close()
        await view.close()
        raise
