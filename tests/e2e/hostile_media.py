"""hostile.py's media scenarios: bad bytes at the media ports, forged SRTP,
lying RTCP, feedback floods and an over-rate publisher. Each is an async
function taking the suite context `ctx` (see hostile.py: ctx.url, ctx.token,
ctx.check(), ctx.metrics(), ctx.healthy ports) and returning when its own
counter checks are done; hostile.py checks health, the healthy call and the
resources around it.
"""

import asyncio
import random
import socket
import struct
import time
import urllib.parse
from typing import List, Optional, Tuple

import peers
from aiortc import RTCPeerConnection, RTCSessionDescription
from hostile_lib import (RawPeer, SilentTrack, candidate_ports, drop_key, garbage, lying_rtcp,
                         paced, rtcp_nack, rtcp_pli, rtp)

SFU_DROPS = ("not_rtp", "no_keys", "srtp_auth", "srtp_replay", "srtp_other")


# ------------------------------------------------------------ bad peers

def m_sections(sdp: str) -> List[Tuple[str, List[str]]]:
    out: List[Tuple[str, List[str]]] = []
    for ln in sdp.splitlines():
        if ln.startswith("m="):
            out.append((ln.split()[0][2:], [ln]))
        elif out:
            out[-1][1].append(ln)
    return out


def first_pt(sdp: str, kind: str) -> int:
    for k, lines in m_sections(sdp):
        if k == kind:
            return int(lines[0].split()[3])
    raise ValueError(f"no {kind} m-line")


def first_ssrc(sdp: str, kind: str) -> int:
    for k, lines in m_sections(sdp):
        if k == kind:
            for ln in lines:
                if ln.startswith("a=ssrc:"):
                    return int(ln[7:].split()[0])
    raise ValueError(f"no a=ssrc in the {kind} m-line")


class BadPeer:
    """A bad client's aiortc PeerConnection, its session and raw sender."""

    def __init__(self, session: peers.Session, tracks=()):
        self.session = session
        self.pc = session.pc
        self.tracks = list(tracks)
        self.raw: Optional[RawPeer] = None
        self.video_seq: Optional[int] = None   # viewers: newest video seq received

    async def connect(self, timeout: float = 15.0) -> "BadPeer":
        await peers.wait_connected(self.pc, timeout)
        self.raw = RawPeer(self.pc)
        return self

    async def close(self, token: str) -> int:
        for t in self.tracks:
            t.stop()
        return await peers.delete(self.session, token)


async def bad_publisher(ctx, room: str, connect: bool = True) -> BadPeer:
    """A publisher whose video track never yields: the test writes its RTP."""
    video = SilentTrack("video")
    s = await peers.whip_publish(ctx.url, room, [video], ctx.token)
    bp = BadPeer(s, [video])
    return await bp.connect() if connect else bp


async def bad_viewer(ctx, room: str, participant: str) -> BadPeer:
    """A WHEP viewer that decodes nothing (media is only looked at for the
    newest video sequence number, so NACKs can name packets it was sent)."""
    s, _ = await peers.whep_view(ctx.url, room, participant, None, ctx.token)
    bp = BadPeer(s)
    video_ssrc = first_ssrc(s.answer_sdp, "video")
    for tr in s.pc.getTransceivers():
        dtls = tr.receiver.transport
        if dtls is None:
            continue

        async def sink(data: bytes, arrival_time_ms: int = 0) -> None:
            if len(data) >= 12 and struct.unpack_from("!I", data, 8)[0] == video_ssrc:
                bp.video_seq = struct.unpack_from("!H", data, 2)[0]

        dtls._handle_rtp_data = sink
    await bp.connect()
    deadline = time.monotonic() + 10
    while bp.video_seq is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return bp


def delta(_ctx, before, after, reason: str) -> int:
    return int(after.get(drop_key(reason), 0) - before.get(drop_key(reason), 0))


def session_drops(before, after) -> dict:
    return {r: int(after.get(drop_key(r), 0) - before.get(drop_key(r), 0)) for r in SFU_DROPS}


def spray(port: int, count: int, rng: random.Random, sock: socket.socket) -> None:
    """`count` datagrams of each kind RFC 7983 names, and random ones."""
    for _ in range(count):
        for first in (0x00, 0x16, 0x17, 0x80, 0x90, 0xFF, None):
            sock.sendto(garbage(first, rng.randrange(1, 1200), rng), ("127.0.0.1", port))


# ------------------------------------------------------------ scenarios

async def garbage_udp_healthy(ctx) -> None:
    """A stranger sprays the healthy call's media ports."""
    rng = random.Random(5)
    m0 = await ctx.metrics()
    n = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(10):
            for port in ctx.healthy_udp_ports:
                spray(port, 10, rng, sock)
                n += 70
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    m1 = await ctx.metrics()
    d = session_drops(m0, m1)
    ctx.check("stranger's datagrams never reach a session", sum(d.values()) == 0,
              f"{n} sent to ports {ctx.healthy_udp_ports}; session drop counters moved {d} "
              f"(libnice drops an unknown source's non-STUN datagrams uncounted)")


async def garbage_udp_fresh(ctx) -> None:
    """Garbage at a fresh session's port before ICE (from a stranger), then
    after ICE from the client's own validated address."""
    rng = random.Random(6)
    bp = await bad_publisher(ctx, "hostile-udp", connect=False)
    port, _ = candidate_ports(bp.session.answer_sdp)
    m0 = await ctx.metrics()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(5):
            spray(port, 10, rng, sock)
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    m1 = await ctx.metrics()
    ctx.check("before ICE: dropped before the session", sum(session_drops(m0, m1).values()) == 0,
              f"350 datagrams to port {port}; {session_drops(m0, m1)}")
    try:
        await bp.connect()
    except Exception as e:
        ctx.check("after the spray, ICE and DTLS still connect", False, repr(e))
        await bp.close(ctx.token)
        return
    ctx.check("after the spray, ICE and DTLS still connect", True, "connected")
    n = 300
    raw = bp.raw
    ssrc = bp.pc.getSenders()[0]._ssrc
    m1 = await ctx.metrics()

    def batch(k: int) -> None:
        for _ in range(k):
            raw.send_raw(garbage(0xFF, rng.randrange(2, 1200), rng))        # not RTP
            raw.send_raw(garbage(0x50, rng.randrange(2, 1200), rng))        # TURN channel
            hdr = rtp(96, rng.getrandbits(16), rng.getrandbits(32), ssrc, b"")
            raw.send_raw(hdr + garbage(None, rng.randrange(40, 1100), rng))  # unauthenticated RTP

    await paced(n, 1000, batch)
    await asyncio.sleep(0.5)
    m2 = await ctx.metrics()
    ctx.check("after ICE: non-RTP counted as not_rtp", delta(ctx, m1, m2, "not_rtp") == 2 * n,
              f"sent {2 * n}, not_rtp +{delta(ctx, m1, m2, 'not_rtp')}")
    ctx.check("after ICE: unauthenticated RTP counted as srtp_auth",
              delta(ctx, m1, m2, "srtp_auth") == n,
              f"sent {n}, srtp_auth +{delta(ctx, m1, m2, 'srtp_auth')}")

    def junk(k: int) -> None:   # anything at all, DTLS-looking records included
        for _ in range(k):
            raw.send_raw(garbage(None, rng.randrange(1, 1400), rng))
            raw.send_raw(garbage(rng.choice((0x14, 0x15, 0x16, 0x17)), rng.randrange(1, 300), rng))

    await paced(500, 1000, junk)
    await asyncio.sleep(0.3)
    ctx.check("after ICE: 1000 random datagrams, the server answers", await ctx.alive(), "")
    await bp.close(ctx.token)


async def garbage_tcp(ctx) -> None:
    """Garbage TCP connections to the ICE-TCP ports of the healthy call and of
    a fresh session: raw bytes, RFC 4571 frames of junk, a frame header
    promising 65535 bytes, idle connections, half-closed ones."""
    rng = random.Random(7)
    bp = await bad_publisher(ctx, "hostile-tcp", connect=False)
    _, fresh = candidate_ports(bp.session.answer_sdp)
    ports = [p for p in ctx.healthy_tcp_ports + [fresh] if p]
    ctx.check("ICE-TCP candidates offered", len(ports) == 3, f"ports {ports}")
    writers = []
    opened = 0
    for port in ports:
        for i in range(20):
            # A session whose UDP pair is parked (ice.c) no longer polls its
            # listener: the kernel's backlog fills and further connects hang.
            # One hung connect says so; waiting out the rest only costs time.
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 0.5)
            except (OSError, asyncio.TimeoutError):
                break
            opened += 1
            kind = i % 5
            if kind == 0:
                w.write(garbage(None, 4096, rng))
            elif kind == 1:
                for _ in range(20):
                    body = garbage(rng.choice((0x00, 0x16, 0x80, 0xFF)), rng.randrange(1, 1400), rng)
                    w.write(struct.pack("!H", len(body)) + body)
            elif kind == 2:
                w.write(b"\xff\xff" + garbage(None, 100, rng))
            elif kind == 3:
                w.write(b"\x00\x00" * 50)      # empty frames
            writers.append(w)
    await asyncio.sleep(0.5)
    for w in writers[::2]:      # half close their side first
        try:
            w.write_eof()
        except OSError:
            pass
    await asyncio.sleep(0.3)
    for w in writers:
        w.close()
    ctx.info(f"{opened} TCP connections to {ports}")
    await asyncio.sleep(0.3)
    try:
        await bp.connect()
        ok, why = True, "connected over UDP"
    except Exception as e:
        ok, why = False, repr(e)
    ctx.check("the fresh session still connects after the TCP garbage", ok, why)
    await bp.close(ctx.token)


def wrong_fingerprint(sdp: str) -> str:
    out = []
    for ln in sdp.splitlines():
        if ln.startswith("a=fingerprint:"):
            algo, fp = ln[len("a=fingerprint:"):].split(" ", 1)
            octets = fp.split(":")
            octets[0] = "%02X" % (int(octets[0], 16) ^ 0xFF)
            ln = f"a=fingerprint:{algo} {':'.join(octets)}"
        out.append(ln)
    return "\r\n".join(out) + "\r\n"


async def bad_fingerprint(ctx) -> None:
    """An offer whose a=fingerprint is not the client's certificate."""
    m0 = await ctx.metrics()
    pc = RTCPeerConnection()
    video = SilentTrack("video")
    try:
        pc.addTransceiver(video, direction="sendonly")
        peers.restrict_codecs(pc)
        await pc.setLocalDescription(await pc.createOffer())
        await peers.wait_gathering(pc)
        url = f"{ctx.url}/whip/hostile-fp"
        status, headers, body = await peers.http("POST", url, wrong_fingerprint(pc.localDescription.sdp),
                                                 "application/sdp", ctx.token)
        ctx.check("offer with a wrong fingerprint -> 201", status == 201, f"status {status}")
        if status != 201:
            return
        location = urllib.parse.urljoin(url, peers._header(headers, "Location") or "")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        deadline = time.monotonic() + 10
        m1 = m0
        while time.monotonic() < deadline:
            m1 = await ctx.metrics()
            if m1.get("sfu_dtls_handshakes_failed_total", 0) > m0.get("sfu_dtls_handshakes_failed_total", 0):
                break
            await asyncio.sleep(0.1)
        failed = int(m1.get("sfu_dtls_handshakes_failed_total", 0) - m0.get("sfu_dtls_handshakes_failed_total", 0))
        okd = int(m1.get("sfu_dtls_handshakes_ok_total", 0) - m0.get("sfu_dtls_handshakes_ok_total", 0))
        ctx.check("handshake refused: dtls failed +1, ok +0", failed == 1 and okd == 0,
                  f"failed +{failed}, ok +{okd}")
        status = 0
        for _ in range(30):
            status, _, _ = await peers.http("DELETE", location, token=ctx.token)
            if status == 404:
                break
            await asyncio.sleep(0.1)
        ctx.check("the session ended by itself (DELETE -> 404)", status == 404, f"status {status}")
    finally:
        video.stop()
        await pc.close()


async def srtp_forgery(ctx) -> None:
    """RTP with broken auth tags, then replays (fresh and far behind)."""
    bp = await bad_publisher(ctx, "hostile-srtp")
    raw, rng = bp.raw, random.Random(8)
    ssrc = bp.pc.getSenders()[0]._ssrc
    pt = first_pt(bp.session.answer_sdp, "video")
    seq = [rng.randrange(1000, 30000)]

    def next_pkt() -> bytes:
        seq[0] += 1
        return rtp(pt, seq[0], seq[0] * 3000, ssrc, b"\x10" + garbage(None, 200, rng))

    m0 = await ctx.metrics()
    n = 500

    def forged(k: int) -> None:
        for _ in range(k):
            p = bytearray(raw.protect_rtp(next_pkt()))
            p[-1 - rng.randrange(10)] ^= 1 << rng.randrange(8)   # one bit of the 80-bit tag
            raw.send_raw(bytes(p))

    await paced(n, 1000, forged)
    kept: List[bytes] = []

    def good(k: int) -> None:
        for _ in range(k):
            p = raw.protect_rtp(next_pkt())
            kept.append(p)
            raw.send_raw(p)

    await paced(300, 1000, good)
    replays = kept[-50:] * 4 + kept[:100]        # in the window, and far behind it
    await paced(len(replays), 1000, lambda k: [raw.send_raw(replays.pop()) for _ in range(k)])
    await asyncio.sleep(0.5)
    m1 = await ctx.metrics()
    ctx.check("bad auth tags counted as srtp_auth", delta(ctx, m0, m1, "srtp_auth") == n,
              f"sent {n}, srtp_auth +{delta(ctx, m0, m1, 'srtp_auth')}")
    ctx.check("replays counted as srtp_replay", delta(ctx, m0, m1, "srtp_replay") == 300,
              f"sent 300, srtp_replay +{delta(ctx, m0, m1, 'srtp_replay')}")
    await bp.close(ctx.token)


async def rtcp_lies(ctx) -> None:
    """Authenticated RTCP whose length fields lie, from a publisher and from
    a viewer of the healthy publisher."""
    pub = await bad_publisher(ctx, "hostile-rtcp")
    view = await bad_viewer(ctx, ctx.healthy_room, ctx.healthy_participant)
    m0 = await ctx.metrics()
    total = 0
    for bp, media in ((pub, pub.pc.getSenders()[0]._ssrc),
                      (view, first_ssrc(view.session.answer_sdp, "video"))):
        lies = lying_rtcp(0x1234, media)
        reps = 50

        def batch(k: int, bp=bp, lies=lies) -> None:
            for _ in range(k):
                for p in lies:
                    bp.raw.send_rtcp(p)

        await paced(reps, 200, batch)
        total += reps * len(lies)
    await asyncio.sleep(0.5)
    m1 = await ctx.metrics()
    d = delta(ctx, m0, m1, "malformed")
    ctx.check("each lying compound counted once as malformed", d == total,
              f"sent {total}, malformed +{d}")
    await view.close(ctx.token)
    await pub.close(ctx.token)


async def nack_storm(ctx, rate: int = 10000, seconds: float = 2.0) -> None:
    """A viewer of the healthy publisher NACKs 17 recent packets per NACK,
    `rate` NACKs per second."""
    view = await bad_viewer(ctx, ctx.healthy_room, ctx.healthy_participant)
    ctx.check("bad viewer receives video", view.video_seq is not None, f"seq {view.video_seq}")
    media = first_ssrc(view.session.answer_sdp, "video")
    m0 = await ctx.metrics()
    total = int(rate * seconds)

    def batch(k: int) -> None:
        base = (view.video_seq or 0) - 40
        for i in range(k):
            view.raw.send_rtcp(rtcp_nack(0x4321, media, base + (i % 20)))

    took = await paced(total, rate, batch)
    await asyncio.sleep(0.5)
    m1 = await ctx.metrics()
    got = int(m1.get("sfu_nacks_received_total", 0) - m0.get("sfu_nacks_received_total", 0))
    rtx = int(m1.get("sfu_rtp_retransmitted_total", 0) - m0.get("sfu_rtp_retransmitted_total", 0))
    ctx.info(f"NACK storm: {total} NACKs in {took:.2f} s ({total / took:.0f}/s), "
             f"{rtx} retransmissions")
    ctx.check("NACKs counted", total // 2 <= got <= total, f"sent {total}, nacks_received +{got}")
    # sfu/core/room_internal.h: ROOM_RTX_BURST at once, 1000 per second after.
    budget = int(500 + 1000 * (took + 0.5))
    capped = delta(ctx, m0, m1, "rtx_rate")
    ctx.check("retransmissions held to the viewer's budget", rtx <= budget and capped > 0,
              f"{rtx} resent (budget {budget}), rtx_rate +{capped}")
    await view.close(ctx.token)


async def pli_flood(ctx, rate: int = 1000, seconds: float = 3.0) -> None:
    """A viewer of the healthy publisher sends `rate` PLIs per second."""
    view = await bad_viewer(ctx, ctx.healthy_room, ctx.healthy_participant)
    media = first_ssrc(view.session.answer_sdp, "video")
    await asyncio.sleep(1.2)      # its own join's keyframe request is out of the way
    before = await ctx.healthy_mark()
    m0 = await ctx.metrics()
    total = int(rate * seconds)
    took = await paced(total, rate, lambda k: [view.raw.send_rtcp(rtcp_pli(0x4321, media))
                                               for _ in range(k)])
    await asyncio.sleep(0.3)
    after = await ctx.healthy_mark()
    m1 = await ctx.metrics()
    plis = after["plis"] - before["plis"]
    sent = int(m1.get("sfu_keyframe_requests_sent_total", 0) - m0.get("sfu_keyframe_requests_sent_total", 0))
    # media.keyframe_min_interval_ms (250 ms by default): at most one request
    # per interval reaches the publisher however many PLIs the viewer sends.
    interval = 0.25
    limit = int((took + 0.3) / interval) + 2
    ctx.check("publisher got at most one keyframe request per 250 ms", plis <= limit and plis >= 1,
              f"{total} PLIs in {took:.1f} s -> publisher received {plis} (<= {limit}), "
              f"sfu sent {sent}")
    await view.close(ctx.token)


async def bitrate_flood(ctx, mbps: float = 50.0, seconds: float = 2.0) -> None:
    """A publisher sends `mbps` of valid-looking RTP (its own SSRC and
    payload type, junk payload); [media] max_publish_bitrate_bps cuts it."""
    bp = await bad_publisher(ctx, "hostile-rate")
    raw, rng = bp.raw, random.Random(9)
    ssrc = bp.pc.getSenders()[0]._ssrc
    pt = first_pt(bp.session.answer_sdp, "video")
    payload = garbage(0x10, 1100, rng)
    size = len(raw.protect_rtp(rtp(pt, 1, 0, ssrc, payload)))
    pps = mbps * 1e6 / 8 / size
    total = int(pps * seconds)
    seq = [2]
    m0 = await ctx.metrics()

    def batch(k: int) -> None:
        for _ in range(k):
            s = seq[0]
            seq[0] += 1
            raw.send_rtp(rtp(pt, s, s * 300, ssrc, payload, marker=(s % 10 == 0)))

    took = await paced(total, pps, batch)
    await asyncio.sleep(0.5)
    m1 = await ctx.metrics()
    dropped = delta(ctx, m0, m1, "bitrate")
    limit = ctx.max_publish_bps
    allowed = int(limit / 8 / (size - 10) * (int(took) + 2))
    ctx.info(f"sent {total} packets of {size} bytes in {took:.2f} s "
             f"({total * size * 8 / took / 1e6:.1f} Mbit/s); limit {limit / 1e6:g} Mbit/s")
    ctx.check("excess counted as bitrate drops", dropped >= total - allowed - total // 10,
              f"bitrate +{dropped} of {total} (at most ~{allowed} let through)")
    await bp.close(ctx.token)
