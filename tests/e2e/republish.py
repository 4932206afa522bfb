#!/usr/bin/python3
"""A publisher leaves and publishes again under its participant id: the
WHEP viewer that stayed sees media resume on the same tracks (API.md, WHEP).

  republish.py --url URL

aiortc peers on loopback. Checks: the viewer gets video, goes quiet while
the publisher is away, gets video again on the same receiving track after
POST /whip/{room}?participant=ID; the id cannot be taken while in use (409).
"""
import argparse
import asyncio
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
from aiortc import RTCPeerConnection  # noqa: E402

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
    passed, failed = passed + bool(ok), failed + (not ok)


async def publish(url, room, participant=None):
    pc = RTCPeerConnection()
    for track in (peers.SineTrack(), peers.FrameNumberTrack(320, 240, 20)):
        pc.addTransceiver(track, direction="sendonly")
    peers.restrict_codecs(pc)
    target = f"{url}/whip/{urllib.parse.quote(room, safe='')}"
    if participant:
        target += f"?participant={participant}"
    try:
        return await peers._offer_answer(pc, target, None)
    except BaseException:
        await pc.close()
        raise


async def main(args):
    peers.patch_loopback()
    room = f"republish-{os.getpid()}"
    pub = await publish(args.url, room)
    await peers.wait_connected(pub.pc, 10)
    view, rx = await peers.whep_view(args.url, room, pub.participant_id)
    await peers.wait_connected(view.pc, 10)
    await asyncio.sleep(3)
    first = len(rx.numbers)
    check("viewer gets video", first > 20, f"{first} frames")
    tracks_before = [t.receiver.track for t in view.pc.getTransceivers()]

    status = await peers.delete(pub)
    check("publisher DELETE 200", status == 200, str(status))
    await asyncio.sleep(2)
    quiet = len(rx.numbers)
    await asyncio.sleep(1)
    check("viewer quiet while the publisher is away", len(rx.numbers) - quiet <= 1,
          f"{len(rx.numbers) - quiet} frames in 1 s")
    check("viewer session stays", view.pc.connectionState == "connected", view.pc.connectionState)

    again = await publish(args.url, room, pub.participant_id)
    check("publish again under the same id -> 201", again.participant_id == pub.participant_id,
          f"X-Participant-Id {again.participant_id}")
    try:
        await publish(args.url, room, pub.participant_id)
        check("the id in use -> 409", False, "got 201")
    except peers.HttpError as e:
        check("the id in use -> 409", e.status == 409, str(e.status))
    await peers.wait_connected(again.pc, 10)
    before = len(rx.numbers)
    await asyncio.sleep(3)
    resumed = len(rx.numbers) - before
    check("video resumes for the viewer", resumed > 20, f"{resumed} frames in 3 s")
    tracks_after = [t.receiver.track for t in view.pc.getTransceivers()]
    check("on the same tracks", tracks_before == tracks_after, "no renegotiation")

    for s, name in ((view, "viewer"), (again, "publisher")):
        status = await peers.delete(s)
        check(f"{name} DELETE 200", status == 200, str(status))
    await rx.stop()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    sys.exit(asyncio.run(main(ap.parse_args())))
