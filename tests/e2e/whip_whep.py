#!/usr/bin/python3
"""WHIP publish + N WHEP viewers with aiortc, checking what the viewers decode.

  /usr/bin/python3 tests/e2e/whip_whep.py --url http://127.0.0.1:PORT [--viewers 3] [--seconds 10]
  /usr/bin/python3 tests/e2e/whip_whep.py --check-local      # no SFU: peer to peer

The publisher sends Opus (a sine tone) and VP8 (320x240, each frame showing
its number as black/white blocks). Each viewer reads the numbers back from
the decoded frames. Exit status 0 only if every check passes:
  - WHIP and each WHEP POST answer 201 with Location and X-Participant-Id;
  - every PeerConnection connects;
  - each viewer decoded >= --min-ratio of the frames sent from its first
    received frame to the end of the run, strictly increasing (in order,
    no duplicates), and received audio (and some of it not silent);
  - DELETE of every session answers 200.
One line per check, then 'N passed, M failed'.
"""

import argparse
import asyncio
import logging
import secrets
import sys
import time
from typing import List, Optional, Tuple

import peers


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
    p.add_argument("--url", help="SFU base URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--check-local", action="store_true",
                   help="no SFU: connect the publisher to each viewer directly")
    p.add_argument("--room", default=None, help="room name (default: random)")
    p.add_argument("--viewers", type=int, default=3)
    p.add_argument("--no-shared-port", action="store_true",
                   help="do not require the media to flow over the SFU's shared UDP port "
                        "(media.udp_port off)")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--fps", type=float, default=20.0)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--min-ratio", type=float, default=0.90,
                   help="frames each viewer must decode, of those sent after its first")
    p.add_argument("--drain", type=float, default=1.5,
                   help="seconds to keep receiving after the last counted frame")
    p.add_argument("--connect-timeout", type=float, default=15.0)
    p.add_argument("--token", default=None, help="bearer token (JWT) when auth is on")
    p.add_argument("--fix-extmap", action="store_true",
                   help="give aiortc's abs-send-time its own extmap id (always on with "
                        "--check-local; off by default so the SFU sees real aiortc offers)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if not args.check_local and not args.url:
        p.error("--url is required unless --check-local")
    if args.viewers < 1:
        p.error("--viewers must be at least 1")
    args.room = args.room or f"e2e-{secrets.token_hex(4)}"
    return args


async def connect_all(sessions: List[peers.Session], names: List[str], timeout: float,
                      checks: Checks) -> bool:
    results = await asyncio.gather(
        *(peers.wait_connected(s.pc, timeout) for s in sessions), return_exceptions=True)
    ok = True
    for name, r in zip(names, results):
        ok &= checks.check(f"{name} connected", not isinstance(r, BaseException),
                           "" if not isinstance(r, BaseException) else repr(r))
    return ok


async def setup_sfu(args: argparse.Namespace, tracks, receivers: List[peers.Receiver],
                    checks: Checks) -> Tuple[Optional[peers.Session], List[peers.Session]]:
    try:
        pub = await peers.whip_publish(args.url, args.room, tracks, args.token)
    except Exception as e:  # HttpError, connection refused, bad SDP
        checks.check("WHIP POST 201", False, str(e))
        return None, []
    checks.check("WHIP POST 201", bool(pub.participant_id),
                 f"participant {pub.participant_id}, session URL given"
                 if pub.participant_id else "no X-Participant-Id")
    if not pub.participant_id:
        return pub, []
    # The SFU answers WHEP whether or not media flows yet; wait for the
    # publisher first so that each viewer's first frame comes soon.
    if not await connect_all([pub], ["publisher"], args.connect_timeout, checks):
        return pub, []
    views: List[peers.Session] = []
    for i, rx in enumerate(receivers):
        try:
            s, _ = await peers.whep_view(args.url, args.room, pub.participant_id, rx, args.token)
        except Exception as e:
            checks.check(f"{rx.name} WHEP POST 201", False, str(e))
            continue
        checks.check(f"{rx.name} WHEP POST 201", s.participant_id == pub.participant_id,
                     f"X-Participant-Id {s.participant_id} (publisher {pub.participant_id})")
        views.append(s)
    await connect_all(views, [r.name for r in receivers][: len(views)],
                      args.connect_timeout, checks)
    return pub, views


async def setup_local(args: argparse.Namespace, tracks, receivers: List[peers.Receiver],
                      checks: Checks) -> Tuple[List[peers.Session], List[peers.Session]]:
    from aiortc.contrib.media import MediaRelay

    relay = MediaRelay()
    pubs, views = [], []
    for rx in receivers:
        p, v = await peers.local_pair([relay.subscribe(t) for t in tracks], rx)
        pubs.append(p)
        views.append(v)
    await connect_all(pubs + views, [f"publisher->{r.name}" for r in receivers] +
                      [r.name for r in receivers], args.connect_timeout, checks)
    return pubs, views


def report_viewers(args: argparse.Namespace, last_sent: int, audio_sent: int, run_s: float,
                   receivers: List[peers.Receiver], checks: Checks) -> None:
    print(f"INFO frames sent: {last_sent + 1} video ({args.width}x{args.height} at "
          f"{args.fps:g} fps over {run_s:.1f} s), {audio_sent} audio", flush=True)
    for rx in receivers:
        r = rx.video_report(last_sent)
        detail = (f"received {r['received']}/{r['expected']} ({r['ratio']:.1%}) "
                  f"from frame #{r['first']}" if rx.numbers else "no readable frame")
        checks.check(f"{rx.name} video >= {args.min_ratio:.0%}", r["ratio"] >= args.min_ratio,
                     f"{detail}, unreadable {r['unreadable']}")
        checks.check(f"{rx.name} video in order", bool(rx.numbers) and r["in_order"],
                     f"{len(rx.numbers)} numbers, strictly increasing"
                     if r["in_order"] else "out of order or duplicated numbers")
        checks.check(f"{rx.name} audio", rx.audio_frames > 0 and rx.audio_loud > 0,
                     f"{rx.audio_frames} frames received, {rx.audio_loud} not silent")


def check_shared_port(args: argparse.Namespace, checks: Checks) -> None:
    """Every session's path is the worker's shared UDP port (media.udp_port,
    on by default), and the media went through it: from /metrics."""
    import re
    import urllib.request
    with urllib.request.urlopen(f"{args.url}/metrics", timeout=5) as r:
        text = r.read().decode()

    def value(pattern: str) -> float:
        m = re.search(r"^" + pattern + r" ([0-9.e+]+)$", text, re.M)
        return float(m.group(1)) if m else -1

    sessions = value(r"sfu_shared_port_sessions")
    pkts_in = value(r'sfu_shared_port_packets_total\{direction="in"\}')
    pkts_out = value(r'sfu_shared_port_packets_total\{direction="out"\}')
    want = 1 + args.viewers
    checks.check("every session on the shared UDP port", sessions == want,
                 f"sfu_shared_port_sessions {sessions:g}, want {want}")
    # 20 fps of video alone is over 20 packets a second per viewer
    checks.check("media over the shared UDP port",
                 pkts_in > 20 * args.seconds and pkts_out > 20 * args.seconds * args.viewers,
                 f"packets in {pkts_in:g}, out {pkts_out:g}")


async def run(args: argparse.Namespace) -> int:
    peers.patch_loopback()
    if args.check_local or args.fix_extmap:
        peers.fix_extmap_ids()
    checks = Checks()
    video = peers.FrameNumberTrack(args.width, args.height, args.fps)
    audio = peers.SineTrack()
    tracks = [audio, video]
    receivers = [peers.Receiver(name=f"viewer{i + 1}") for i in range(args.viewers)]
    mode = "local peer-to-peer (no SFU)" if args.check_local else args.url
    print(f"INFO room {args.room}, {args.viewers} viewers, {args.seconds:g} s, {mode}",
          flush=True)

    if args.check_local:
        pubs, views = await setup_local(args, tracks, receivers, checks)
    else:
        pub, views = await setup_sfu(args, tracks, receivers, checks)
        pubs = [pub] if pub else []

    if views and checks.failed == 0:
        t0 = time.monotonic()
        await asyncio.sleep(args.seconds)
        last_sent, audio_sent = video.last_number, audio.frames_sent
        run_s = time.monotonic() - t0
        await asyncio.sleep(args.drain)  # frames still in flight get counted
        report_viewers(args, last_sent, audio_sent, run_s, receivers, checks)
        if not args.check_local and not args.no_shared_port:
            check_shared_port(args, checks)

    for rx in receivers:
        await rx.stop()
    for name, s in [(r.name, v) for r, v in zip(receivers, views)] + \
                   [("publisher", p) for p in pubs]:
        status = await peers.delete(s, args.token)
        if s.url:
            checks.check(f"{name} DELETE 200", status == 200, f"status {status}")
    video.stop()
    audio.stop()
    return checks.summary()


def main() -> int:
    args = parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
