#!/usr/bin/python3
"""One aiortc WHEP viewer (Opus only: aiortc 1.4 has no RED) of a participant;
prints one JSON line with the audio it decoded.

  /usr/bin/python3 tests/e2e/whep_audio_viewer.py --url URL --room R --participant P [--seconds 8]

Output: {"connected": bool, "answer_has_red": bool, "audio_frames": N,
"audio_loud": N, "seconds": S}. Exit 0 when it connected.
"""

import argparse
import asyncio
import json
import sys

import peers


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--room", required=True)
    p.add_argument("--participant", required=True)
    p.add_argument("--seconds", type=float, default=8.0)
    a = p.parse_args()
    peers.patch_loopback()
    out = {"connected": False, "answer_has_red": None, "audio_frames": 0, "audio_loud": 0,
           "seconds": a.seconds}
    session = None
    try:
        session, rx = await peers.whep_view(a.url, a.room, a.participant)
        out["answer_has_red"] = "red/48000" in session.answer_sdp
        await peers.wait_connected(session.pc)
        out["connected"] = True
        await asyncio.sleep(a.seconds)
        out["audio_frames"] = rx.audio_frames
        out["audio_loud"] = rx.audio_loud
        await rx.stop()
    finally:
        if session:
            await peers.delete(session)
    print(json.dumps(out), flush=True)
    return 0 if out["connected"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
