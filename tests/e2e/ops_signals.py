#!/usr/bin/python3
"""SIGTERM drains a live call; SIGINT is the same; a second signal stops at once.

  ops_signals.py --sfu build/sfu

Each part starts its own sfu (sfu_fixture.py) and a live aiortc call
(WHIP publisher, WHEP viewer, and a room participant whose event stream is
read):
  1. [server] drain_timeout_s=30, SIGTERM during the call: the sfu keeps
     running and forwarding, the room participant's event stream gets
     `server-shutdown`, new POSTs (WHIP, WHEP, room join) get 503 with
     Retry-After, /health 503, /metrics sfu_draining 1; then the clients
     DELETE their sessions and the sfu exits 0 within seconds, logging
     reason=drained.
  2. drain_timeout_s=3 and clients that never leave: exit 0 after ~3 s,
     reason=drain_timeout.
  3. drain_timeout_s=60, SIGINT then SIGTERM: exit 0 at once,
     reason=second_signal.
  4. drain_timeout_s=0 (the default): SIGTERM with a live call stops at once.
Prints PASS/FAIL lines and "N passed, M failed".
"""
import argparse
import asyncio
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_lib import Call, Checks, http_series, metrics, request  # noqa: E402
from sfu_fixture import SfuFixture  # noqa: E402
import peers  # noqa: E402

c = Checks()
SETTINGS = ["http.requests_per_second_per_client=0"]


async def wait_exit(sfu, timeout):
    """Seconds until the process exited, or None."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if sfu.proc.poll() is not None:
            sfu.exit_status = sfu.proc.returncode
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    return None


def log_text(sfu):
    with open(sfu.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


async def get(method, url, body=None, headers=None):
    return await asyncio.to_thread(request, method, url, body, headers)


async def drain_with_live_call(sfu_bin):
    with SfuFixture(sfu_bin, SETTINGS + ["server.drain_timeout_s=30"], stop_timeout=10) as sfu:
        call = Call(sfu.url, "drain")
        await call.start()
        await call.join_room()
        snap = await asyncio.to_thread(call.events.wait_for, "snapshot", 5)
        c.check("room participant's event stream is open", snap is not None)
        await asyncio.sleep(1)
        sfu.proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(1.0)
        c.check("after SIGTERM the sfu keeps running", sfu.proc.poll() is None)
        ev = await asyncio.to_thread(call.events.wait_for, "server-shutdown", 5)
        c.check("room participant gets event server-shutdown",
                isinstance(ev, dict) and ev.get("drain_timeout_s") == 30, repr(ev))
        frames = len(call.receiver.numbers)
        await asyncio.sleep(1.5)
        more = len(call.receiver.numbers) - frames
        c.check("media still flows during the drain", more >= 5, f"{more} frames in 1.5 s")
        offer = await peers.create_offer()
        for what, path in (("WHIP", "/whip/drain"), ("WHEP", f"/whep/drain/{call.pub.participant_id}"),
                           ("room join", "/rooms/drain/join")):
            status, h, body = await get("POST", sfu.url + path, offer.encode(),
                                        {"Content-Type": "application/sdp"})
            c.check(f"{what} POST during the drain -> 503 with Retry-After",
                    status == 503 and (h.get("Retry-After") or "").isdigit(),
                    f"{status} Retry-After={h.get('Retry-After')} {body.strip()!r}")
        status, _, body = await get("GET", sfu.url + "/health")
        c.check("GET /health during the drain -> 503 draining", status == 503 and "draining" in body,
                f"{status} {body.strip()!r}")
        _, m = await asyncio.to_thread(metrics, sfu.url)
        c.check("/metrics during the drain: sfu_draining 1, sfu_sessions 3",
                m.get("sfu_draining") == 1 and m.get("sfu_sessions") == 3,
                f'draining {m.get("sfu_draining")}, sessions {m.get("sfu_sessions")}')
        c.check("/metrics counts the refused POSTs as 503",
                m.get(http_series("whip", 503)) == 1 and m.get(http_series("room_join", 503)) == 1)
        status, _, _ = await get("GET", sfu.url + "/rooms/drain")
        c.check("GET /rooms still answers during the drain", status == 200, str(status))
        statuses = await call.leave()
        c.check("clients leave with DELETE -> 200", statuses == [200, 200, 200], str(statuses))
        t = await wait_exit(sfu, 8)
        c.check("sfu exits once the last session ended", t is not None,
                f"{t:.1f} s after the last DELETE" if t is not None else "still running after 8 s")
        c.check("exit status 0", sfu.exit_status == 0, sfu.describe_exit())
        log = log_text(sfu)
        c.check("log: server.draining sessions=3 timeout_s=30",
                "msg=server.draining sessions=3 timeout_s=30" in log)
        c.check("log: server.stopping reason=drained", "msg=server.stopping reason=drained" in log)
        c.check("log: server.stopped", "msg=server.stopped status=0" in log)


async def drain_timeout(sfu_bin):
    with SfuFixture(sfu_bin, SETTINGS + ["server.drain_timeout_s=3"], stop_timeout=10) as sfu:
        call = Call(sfu.url, "stay")
        await call.start()
        sfu.proc.send_signal(signal.SIGTERM)
        t = await wait_exit(sfu, 12)
        c.check("clients that stay: exit after the 3 s drain timeout",
                t is not None and 2.5 <= t <= 8, f"{t:.1f} s" if t is not None else "no exit in 12 s")
        c.check("exit status 0 after the drain timeout", sfu.exit_status == 0, sfu.describe_exit())
        c.check("log: server.stopping reason=drain_timeout sessions=2",
                "msg=server.stopping reason=drain_timeout sessions=2" in log_text(sfu))
        await call.close_silently()


async def second_signal(sfu_bin):
    with SfuFixture(sfu_bin, SETTINGS + ["server.drain_timeout_s=60"], stop_timeout=10) as sfu:
        call = Call(sfu.url, "twice")
        await call.start(viewer=False)
        sfu.proc.send_signal(signal.SIGINT)
        await asyncio.sleep(0.7)
        c.check("SIGINT drains like SIGTERM", sfu.proc.poll() is None and
                "msg=server.draining sessions=1 timeout_s=60" in log_text(sfu))
        sfu.proc.send_signal(signal.SIGTERM)
        t = await wait_exit(sfu, 5)
        c.check("a second signal stops at once", t is not None and t < 3,
                f"{t:.2f} s" if t is not None else "no exit in 5 s")
        c.check("exit status 0 after a second signal", sfu.exit_status == 0, sfu.describe_exit())
        c.check("log: server.stopping reason=second_signal",
                "msg=server.stopping reason=second_signal sessions=1" in log_text(sfu))
        await call.close_silently()


async def no_drain(sfu_bin):
    with SfuFixture(sfu_bin, SETTINGS, stop_timeout=10) as sfu:
        call = Call(sfu.url, "nodrain")
        await call.start(viewer=False)
        sfu.proc.send_signal(signal.SIGTERM)
        t = await wait_exit(sfu, 5)
        c.check("drain_timeout_s=0 (default): SIGTERM stops at once with a live call",
                t is not None and t < 3 and sfu.exit_status == 0,
                f"{t:.2f} s, {sfu.describe_exit()}" if t is not None else "no exit in 5 s")
        await call.close_silently()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sfu", default="build/sfu")
    args = ap.parse_args()
    peers.patch_loopback()
    for part in (drain_with_live_call, drain_timeout, second_signal, no_drain):
        try:
            asyncio.run(part(args.sfu))
        except Exception as e:  # noqa: BLE001 - a crashed sfu or a refused connection
            c.check(part.__name__, False, repr(e))
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
