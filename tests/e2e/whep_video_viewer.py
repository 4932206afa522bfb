#!/usr/bin/python3
"""One aiortc WHEP viewer of a participant's video (aiortc sends no
transport-cc feedback): prints one JSON line with the size and rate of the
video it decoded, for a simulcast test to judge which layer it got.

  /usr/bin/python3 tests/e2e/whep_video_viewer.py --url URL --room R --participant P [--seconds 6]

Output: {"connected": bool, "offer_twcc": bool, "frames": N, "fps": F,
"width": W, "height": H, "seconds": S} (size of the last decoded frame,
rate over the last `seconds` after a 3 s warm-up). Exit 0 when it connected.
"""

import argparse
import asyncio
import json
import sys
import time

from aiortc.mediastreams import MediaStreamError

import peers


class SizeReceiver(peers.Receiver):
    """Counts decoded video frames and keeps the last one's size."""

    video_frames = 0
    width = 0
    height = 0

    async def _video(self, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.video_frames += 1
            self.width, self.height = frame.width, frame.height


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--room", required=True)
    p.add_argument("--participant", required=True)
    p.add_argument("--seconds", type=float, default=6.0)
    a = p.parse_args()
    peers.patch_loopback()
    out = {"connected": False, "offer_twcc": None, "frames": 0, "fps": 0.0, "width": 0,
           "height": 0, "seconds": a.seconds}
    session = None
    rx = SizeReceiver()
    try:
        session, rx = await peers.whep_view(a.url, a.room, a.participant, receiver=rx)
        out["offer_twcc"] = "transport-cc" in session.pc.localDescription.sdp
        await peers.wait_connected(session.pc)
        out["connected"] = True
        await asyncio.sleep(3)
        f0, t0 = rx.video_frames, time.monotonic()
        await asyncio.sleep(a.seconds)
        out["frames"] = rx.video_frames
        out["fps"] = round((rx.video_frames - f0) / (time.monotonic() - t0), 1)
        out["width"], out["height"] = rx.width, rx.height
        await rx.stop()
    finally:
        if session:
            await peers.delete(session)
    print(json.dumps(out), flush=True)
    return 0 if out["connected"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
