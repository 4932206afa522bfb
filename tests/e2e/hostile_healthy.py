#!/usr/bin/python3
"""The healthy call beside hostile.py's bad clients, in its own process so
that the bad clients' busy loops never starve its encoder and decoder.

  hostile_healthy.py --url URL [--token JWT] [--room healthy]

One WHIP publisher (Opus sine + VP8 frames showing their number, as in
whip_whep.py) and one WHEP viewer reading the numbers back. Talks JSON lines:
it prints {"event": "ready", ...} (or {"event": "error", ...}) once the
viewer decodes, then answers each command read from stdin with one line:

  {"cmd": "mark"}            -> {"last_sent", "decoded", "plis", "video_rtp",
                                 "last_decoded", "age_s"}
  {"cmd": "window", "a": A, "b": B}
                             -> {"expected": B-A, "received": numbers in (A, B]}
  {"cmd": "stop"}            -> {"event": "stopped", "delete": [statuses]}

"plis" counts the PLI/FIR packets the publisher's video sender received;
"video_rtp" the video RTP packets the viewer received.
"""

import argparse
import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
from hostile_lib import candidate_ports  # noqa: E402
from aiortc.rtp import RtcpPsfbPacket  # noqa: E402


def say(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Counters:
    def __init__(self):
        self.plis = 0
        self.video_rtp = 0


def count_plis(pub: peers.Session, counters: Counters) -> None:
    for tr in pub.pc.getTransceivers():
        if tr.kind != "video":
            continue
        sender = tr.sender
        orig = sender._handle_rtcp_packet

        async def handle(packet, orig=orig):
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (1, 4):
                counters.plis += 1
            await orig(packet)

        sender._handle_rtcp_packet = handle


def count_rtp(view: peers.Session, counters: Counters) -> None:
    for tr in view.pc.getTransceivers():
        if tr.kind != "video":
            continue
        receiver = tr.receiver
        orig = receiver._handle_rtp_packet

        async def handle(packet, arrival_time_ms, orig=orig):
            counters.video_rtp += 1
            await orig(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = handle


async def start(args, video, audio, rx, counters):
    pub = await peers.whip_publish(args.url, args.room, [audio, video], args.token)
    count_plis(pub, counters)
    await peers.wait_connected(pub.pc, 15)
    view, _ = await peers.whep_view(args.url, args.room, pub.participant_id, rx, args.token)
    count_rtp(view, counters)
    await peers.wait_connected(view.pc, 15)
    deadline = time.monotonic() + 15
    while not rx.numbers:
        if time.monotonic() > deadline:
            raise TimeoutError("the viewer decoded no frame in 15 s")
        await asyncio.sleep(0.05)
    return pub, view


async def serve(video, rx, counters, pub, view, token):
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            cmd = {"cmd": "stop"}
        else:
            try:
                cmd = json.loads(line)
            except ValueError:
                say({"error": f"bad command {line.strip()!r}"})
                continue
        if cmd.get("cmd") == "mark":
            last = rx.numbers[-1] if rx.numbers else None
            age = time.monotonic() - rx.numbers.last_at if rx.numbers else None
            say({"last_sent": video.last_number, "decoded": len(rx.numbers),
                 "plis": counters.plis, "video_rtp": counters.video_rtp,
                 "last_decoded": last, "age_s": age, "unreadable": rx.unreadable})
        elif cmd.get("cmd") == "window":
            a, b = int(cmd["a"]), int(cmd["b"])
            got = {n for n in rx.numbers[-5000:] if a < n <= b}
            say({"expected": b - a, "received": len(got)})
        elif cmd.get("cmd") == "stop":
            await rx.stop()
            statuses = [await peers.delete(view, token), await peers.delete(pub, token)]
            say({"event": "stopped", "delete": statuses})
            return


class TimedList(list):
    """The receiver's frame numbers, noting when the last one was read."""

    last_at = 0.0

    def append(self, item) -> None:
        super().append(item)
        self.last_at = time.monotonic()


async def main_async(args) -> int:
    peers.patch_loopback()
    video = peers.FrameNumberTrack(320, 240, args.fps)
    audio = peers.SineTrack()
    rx = peers.Receiver(name="healthy-viewer", numbers=TimedList())
    counters = Counters()
    try:
        pub, view = await start(args, video, audio, rx, counters)
    except Exception as e:  # HttpError, timeouts
        say({"event": "error", "error": repr(e)})
        return 1
    say({"event": "ready", "participant": pub.participant_id,
         "pub_ports": peers_ports(pub), "view_ports": peers_ports(view),
         "pub_url": pub.url, "view_url": view.url})
    await serve(video, rx, counters, pub, view, args.token)
    video.stop()
    audio.stop()
    return 0


def peers_ports(s: peers.Session):
    return list(candidate_ports(s.answer_sdp))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--token", default=None)
    p.add_argument("--room", default="healthy")
    p.add_argument("--fps", type=float, default=20.0)
    return asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
