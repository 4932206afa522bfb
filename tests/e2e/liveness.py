#!/usr/bin/python3
"""RFC 7675 consent keeps a session alive without media; a client that goes
away is reaped.

  tests/e2e/sfu_fixture.py --sfu build/sfu --set media.liveness_timeout_ms=3000 -- \\
      /usr/bin/python3 tests/e2e/liveness.py --url {url} --liveness-ms 3000

Two aiortc publishers connect over WHIP and send media for a moment. Then:

  A "consent only": every DTLS/SRTP/SRTCP datagram it would send is
    dropped, but its ICE agent (aioice) stays: it sends a consent check
    every 4-6 s and answers the SFU's.
  B "vanish": closes its PeerConnection without a word (peers.vanish):
    nothing at all any more.

Checks: the SFU receives no datagram from either after that (sfu_packets_in_total
stands still: libnice keeps STUN to itself, so only media would count);
B is reaped (sfu_sessions drops to 1) no sooner than --liveness-ms and
within libnice's 10 s consent timeout + --liveness-ms + 3 s of slack; A is
still there --hold seconds later (default 5 x --liveness-ms and at least
15 s, several consent rounds), and its DELETE answers 200 while B's
answers 404. Prints the measured times. "N passed, M failed"; exit 0 only
when all passed.
"""

import argparse
import asyncio
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

LIBNICE_CONSENT_TIMEOUT_S = 10.0


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'} {name}" + (f" ({detail})" if detail else ""),
              flush=True)
        return ok


def metrics(url: str) -> dict:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^([a-z_]+) ([0-9.e+-]+)$", text, re.M)}


def consent_only(session: peers.Session) -> None:
    """Drop what DTLS and SRTP would send; leave ICE (aioice) running."""
    async def silent(data: bytes) -> None:
        return None

    for tr in session.pc.getTransceivers():
        for dtls in (tr.sender.transport, tr.receiver.transport):
            if dtls is not None:
                dtls.transport._send = silent


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--liveness-ms", type=int, default=3000,
                   help="the sfu's media.liveness_timeout_ms")
    p.add_argument("--hold", type=float, default=0.0,
                   help="seconds A must outlive its last media (default: see above)")
    args = p.parse_args()
    url = args.url.rstrip("/")
    liveness = args.liveness_ms / 1000.0
    hold = args.hold or max(15.0, 5 * liveness)
    peers.patch_loopback()
    checks = Checks()

    a = await peers.whip_publish(url, "live-a", [peers.SineTrack(), peers.FrameNumberTrack(64, 48)])
    b = await peers.whip_publish(url, "live-b", [peers.SineTrack(), peers.FrameNumberTrack(64, 48)])
    await asyncio.gather(peers.wait_connected(a.pc, 15), peers.wait_connected(b.pc, 15))
    await asyncio.sleep(1.5)
    m0 = metrics(url)
    checks.check("two sessions with media", m0.get("sfu_sessions") == 2 and
                 m0.get("sfu_packets_in_total", 0) > 0,
                 f"sessions {m0.get('sfu_sessions')}, packets in {m0.get('sfu_packets_in_total')}")

    consent_only(a)
    await peers.vanish(b)
    t0 = time.monotonic()
    await asyncio.sleep(1.0)   # what was in flight has landed
    packets_at_1s = metrics(url).get("sfu_packets_in_total", 0)
    reaped_b = None
    while time.monotonic() - t0 < hold:
        m = metrics(url)
        if reaped_b is None and m.get("sfu_sessions") == 1:
            reaped_b = time.monotonic() - t0
        await asyncio.sleep(0.25)
    m1 = metrics(url)
    print(f"INFO B (vanished) reaped after {reaped_b if reaped_b is None else round(reaped_b, 2)} s; "
          f"A (consent only) alive {hold:.0f} s after its last media: sessions "
          f"{m1.get('sfu_sessions')}", flush=True)

    checks.check("no media from either after t0 (packets in stand still)",
                 m1.get("sfu_packets_in_total", -1) == packets_at_1s,
                 f"{packets_at_1s:.0f} at t0+1 s, {m1.get('sfu_packets_in_total', -1):.0f} at "
                 f"t0+{hold:.0f} s")
    limit = LIBNICE_CONSENT_TIMEOUT_S + liveness + 3.0
    checks.check(f"vanished session reaped after {liveness:.1f} s and within {limit:.1f} s",
                 reaped_b is not None and liveness <= reaped_b <= limit,
                 f"reaped after {reaped_b} s")
    checks.check(f"consent-only session alive {hold:.0f} s after its last media "
                 f"(liveness {liveness:.1f} s)", m1.get("sfu_sessions") == 1,
                 f"sessions {m1.get('sfu_sessions')}")
    status_a = await peers.delete(a)
    status_b = await peers.delete(b)
    checks.check("consent-only session still exists: DELETE 200", status_a == 200,
                 f"status {status_a}")
    checks.check("vanished session is gone: DELETE 404", status_b == 404, f"status {status_b}")
    await a.pc.close()
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
