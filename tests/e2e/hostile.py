#!/usr/bin/python3
"""Hostile clients against one running SFU, each with a healthy call beside.

  /usr/bin/python3 tests/e2e/hostile.py [--sfu build/asan/sfu] [--only a,b] [--list]

Starts ONE sfu (through sfu_fixture.SfuFixture) with auth on, ICE-TCP on, a
publisher bitrate cap, a short liveness timeout, 4 s HTTP header and body
deadlines and no per-client HTTP rate limit; starts the healthy call (hostile_healthy.py, its own process: one
WHIP publisher of numbered VP8 frames and one WHEP viewer reading them); then
runs each scenario in turn. Around every scenario it checks that
  (a) the server is alive and GET /health answers 200 within 1 s,
  (b) the healthy viewer decoded >= 99% of the frames sent during it and
      was still decoding at its end,
  (c) the scenario's own drop counters moved as they must (exactly where
      the number is deterministic), and
  (d) what the bad client took is freed: sfu_sessions, sfu_peers,
      sfu_participants, sfu_media_rooms back to the healthy call's, GET
      /rooms lists only the healthy room, the sfu's open fds back to where
      they were.
At the end the healthy call DELETEs, every gauge must reach 0, and the sfu
must exit 0 on SIGTERM (LeakSanitizer runs then on the ASan build).
One PASS/FAIL line per check, each scenario's wall time, "N passed, M failed".
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_http  # noqa: E402
import hostile_lib as hl  # noqa: E402
import hostile_media  # noqa: E402
import peers  # noqa: E402
from sfu_fixture import SfuFixture  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "hostile-suite-secret-0123456789abcdef"
MAX_PUBLISH_BPS = 5_000_000
# http.header_timeout_ms and body_timeout_ms (default 10 s): slowloris waits
# for them; the mechanism is what it checks, not the default's value.
HTTP_DEADLINE_S = 4.0
GAUGES = ("sfu_sessions", "sfu_peers", "sfu_participants", "sfu_media_rooms")

SCENARIOS: List[tuple] = [
    ("garbage-udp-healthy", hostile_media.garbage_udp_healthy),
    ("garbage-udp-fresh", hostile_media.garbage_udp_fresh),
    ("garbage-tcp", hostile_media.garbage_tcp),
    ("wrong-fingerprint", hostile_media.bad_fingerprint),
    ("srtp-forgery", hostile_media.srtp_forgery),
    ("rtcp-lying-lengths", hostile_media.rtcp_lies),
    ("nack-storm", hostile_media.nack_storm),
    ("pli-flood", hostile_media.pli_flood),
    ("publisher-50mbps", hostile_media.bitrate_flood),
    ("bad-sdp", hostile_http.bad_sdp),
    ("slowloris", hostile_http.slowloris),
    ("post-storm", hostile_http.post_storm),
    ("bad-tokens", hostile_http.bad_tokens),
    ("bad-subscriptions", hostile_http.bad_subscriptions),
]


class Healthy:
    """The healthy call's process, spoken to in JSON lines."""

    def __init__(self, proc):
        self.proc = proc
        self.ready: Dict = {}

    async def ask(self, cmd: Dict, timeout: float = 10.0) -> Dict:
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise ConnectionError("the healthy call's process ended")
        return json.loads(line)


class Ctx:
    """What a scenario gets: the SFU, tokens, checks, the healthy call."""

    def __init__(self, sfu: SfuFixture, token: str, args):
        self.sfu, self.url, self.token, self.args = sfu, sfu.url, token, args
        self.host, self.port = "127.0.0.1", int(sfu.url.rsplit(":", 1)[1])
        self.passed = self.failed = 0
        self.scenario = ""
        self.healthy: Optional[Healthy] = None
        self.healthy_room = "healthy"
        self.healthy_participant = ""
        self.healthy_udp_ports: List[int] = []
        self.healthy_tcp_ports: List[int] = []
        self.max_publish_bps = MAX_PUBLISH_BPS
        self.secret = SECRET
        self.http_deadline_s = HTTP_DEADLINE_S
        self.base_fds = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        prefix = f"{self.scenario}: " if self.scenario else ""
        print(f"{'PASS' if ok else 'FAIL'} {prefix}{name}" + (f": {detail}" if detail else ""),
              flush=True)
        return ok

    def info(self, text: str) -> None:
        prefix = f"{self.scenario}: " if self.scenario else ""
        print(f"INFO {prefix}{text}", flush=True)

    async def metrics(self) -> Dict[str, float]:
        return await asyncio.to_thread(hl.metrics, self.url)

    async def health(self, timeout: float = 1.0):
        return await asyncio.to_thread(hl.health, self.url, timeout)

    async def alive(self) -> bool:
        status, _ = await self.health(2.0)
        return self.sfu.alive() and status == 200

    async def healthy_mark(self) -> Dict:
        return await self.healthy.ask({"cmd": "mark"})

    def mint(self, room: str, name: str, *flags: str, ttl: str = "1h") -> str:
        out = subprocess.run([self.sfu.binary, "token", "--config", self.sfu.config_path,
                              "--room", room, "--name", name, "--ttl", ttl, *flags],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 else ""

    def fds(self) -> int:
        try:
            return len(os.listdir(f"/proc/{self.sfu.proc.pid}/fd"))
        except OSError:
            return -1


# ------------------------------------------------------------ around each scenario

async def settled_fds(ctx: Ctx, want: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    n = ctx.fds()
    while n > want and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        n = ctx.fds()
    return n


async def rooms_listed(ctx: Ctx) -> List[str]:
    status, body = await asyncio.to_thread(hl.http_get, ctx.url + "/rooms", 5.0, ctx.token)
    if status != 200:
        return [f"(GET /rooms -> {status})"]
    try:
        doc = json.loads(body)
    except ValueError:
        return ["(GET /rooms: not JSON)"]
    rooms = doc.get("rooms", doc) if isinstance(doc, dict) else doc
    return sorted(f"{r.get('room')}x{len(r.get('participants', []))}" for r in rooms)


async def resources_back(ctx: Ctx, base: Dict[str, float], base_fds: int,
                         timeout: float) -> None:
    """(d): gauges, /rooms and fds back to the healthy call's alone."""
    deadline = time.monotonic() + timeout
    while True:
        m = await ctx.metrics()
        got = {g: m.get(g, -1) for g in GAUGES}
        rooms = await rooms_listed(ctx)
        ok = got == {g: base[g] for g in GAUGES} and rooms == [f"{ctx.healthy_room}x1"]
        if ok or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.25)
    ctx.check("bad client's sessions freed", got == {g: base[g] for g in GAUGES},
              ", ".join(f"{g.replace('sfu_', '')} {got[g]:g} (want {base[g]:g})" for g in GAUGES))
    ctx.check("GET /rooms lists only the healthy room", rooms == [f"{ctx.healthy_room}x1"],
              f"{rooms}")
    fds = await settled_fds(ctx, base_fds, max(1.0, deadline - time.monotonic()))
    detail = f"{fds} (before {base_fds})"
    if fds > base_fds:
        detail += f"; now {hl.fd_breakdown(ctx.sfu.proc.pid)}"
    ctx.check("open fds back", 0 < fds <= base_fds, detail)


async def run_scenario(ctx: Ctx, name: str, fn: Callable, base: Dict[str, float],
                       base_fds: int) -> None:
    ctx.scenario = name
    t0 = time.monotonic()
    before = await ctx.healthy_mark()
    try:
        await fn(ctx)
    except Exception as e:  # a scenario's own failure is a FAIL, the suite goes on
        ctx.check("scenario ran", False, f"{type(e).__name__}: {e}")
    # The healthy call is judged over a second at least, whatever the scenario took.
    await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
    after = await ctx.healthy_mark()
    # Up to --drain seconds for the frames sent until `after` to arrive: the
    # window is judged once all of them are in, or when the time is up.
    window = {"cmd": "window", "a": before["last_sent"], "b": after["last_sent"]}
    drain_end = time.monotonic() + ctx.args.drain
    while True:
        w = await ctx.healthy.ask(window)
        if w["received"] >= w["expected"] or time.monotonic() >= drain_end:
            break
        await asyncio.sleep(0.05)
    status, took = await ctx.health(1.0)
    ctx.check("server alive, /health 200 within 1 s", ctx.sfu.alive() and status == 200,
              f"status {status} in {took * 1000:.0f} ms" + ("" if ctx.sfu.alive() else
                                                            f", sfu {ctx.sfu.describe_exit()}"))
    if not ctx.sfu.alive():
        return
    ratio = w["received"] / w["expected"] if w["expected"] else 0.0
    ctx.check("healthy viewer kept >= 99% of frames", w["expected"] > 0 and ratio >= 0.99,
              f"{w['received']}/{w['expected']} ({ratio:.1%}); video RTP "
              f"{after['video_rtp'] - before['video_rtp']} packets")
    now = await ctx.healthy_mark()
    ctx.check("healthy video still decoding", now["age_s"] is not None and now["age_s"] < 1.0
              and now["decoded"] > after["decoded"] - 1,
              f"last frame #{now['last_decoded']} read {now['age_s'] or 0:.2f} s ago")
    await resources_back(ctx, base, base_fds, ctx.args.reap_timeout)
    ctx.info(f"wall time {time.monotonic() - t0:.1f} s")
    ctx.scenario = ""


# ------------------------------------------------------------ the suite

async def start_healthy(ctx: Ctx) -> bool:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, os.path.join(HERE, "hostile_healthy.py"), "--url", ctx.url,
        "--token", ctx.token, "--room", ctx.healthy_room,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    ctx.healthy = Healthy(proc)
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 40)
        ready = json.loads(line) if line else {"event": "error", "error": "no output"}
    except (asyncio.TimeoutError, ValueError) as e:
        ready = {"event": "error", "error": repr(e)}
    ok = ctx.check("healthy call up (WHIP + WHEP, video decoding)", ready.get("event") == "ready",
                   ready.get("error", f"participant {ready.get('participant')}"))
    if ok:
        ctx.healthy.ready = ready
        ctx.healthy_participant = ready["participant"]
        ctx.healthy_udp_ports = [ready["pub_ports"][0], ready["view_ports"][0]]
        ctx.healthy_tcp_ports = [p for p in (ready["pub_ports"][1], ready["view_ports"][1]) if p]
    return ok


async def stop_healthy(ctx: Ctx) -> None:
    try:
        res = await ctx.healthy.ask({"cmd": "stop"}, timeout=15)
        ctx.check("healthy call DELETEs 200", res.get("delete") == [200, 200], f"{res.get('delete')}")
    except (asyncio.TimeoutError, ConnectionError, ValueError) as e:
        ctx.check("healthy call DELETEs 200", False, repr(e))
    try:
        await asyncio.wait_for(ctx.healthy.proc.wait(), 10)
    except asyncio.TimeoutError:
        ctx.healthy.proc.kill()
        await ctx.healthy.proc.wait()


async def suite(ctx: Ctx, chosen: List[tuple]) -> None:
    try:
        await run_all(ctx, chosen)
    finally:
        proc = ctx.healthy.proc if ctx.healthy else None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()


async def run_all(ctx: Ctx, chosen: List[tuple]) -> None:
    peers.patch_loopback()
    if not await start_healthy(ctx):
        return
    await asyncio.sleep(1.0)
    base = await ctx.metrics()
    base_fds = ctx.base_fds = ctx.fds()
    ctx.info(f"baseline: {', '.join(f'{g} {base.get(g, -1):g}' for g in GAUGES)}, "
             f"fds {base_fds}, healthy ports udp {ctx.healthy_udp_ports} tcp {ctx.healthy_tcp_ports}")
    for name, fn in chosen:
        await run_scenario(ctx, name, fn, base, base_fds)
        if not ctx.sfu.alive():
            ctx.check("sfu still running", False, f"died: {ctx.sfu.describe_exit()}")
            return
    await stop_healthy(ctx)
    deadline = time.monotonic() + ctx.args.reap_timeout
    while True:
        m = await ctx.metrics()
        idle = all(m.get(g, -1) == 0 for g in GAUGES + ("sfu_rooms", "sfu_buffers_in_use"))
        if idle or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.25)
    ctx.check("all gauges 0 at the end", idle,
              ", ".join(f"{g} {m.get(g, -1):g}" for g in GAUGES + ("sfu_rooms", "sfu_buffers_in_use")))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sfu", default="build/asan/sfu", help="sfu binary (default build/asan/sfu)")
    p.add_argument("--only", default="", help="comma-separated scenario names")
    p.add_argument("--skip", default="", help="comma-separated scenario names to leave out")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--drain", type=float, default=1.0,
                   help="seconds at most after a scenario for the healthy frames sent "
                        "during it to arrive before they are counted")
    p.add_argument("--reap-timeout", type=float, default=8.0,
                   help="seconds for the bad client's resources to be freed")
    p.add_argument("--keep-tmp", action="store_true", help="keep the sfu's config and log")
    args = p.parse_args()
    names = [n for n, _ in SCENARIOS]
    for opt in (args.only, args.skip):
        for n in filter(None, opt.split(",")):
            if n not in names:
                p.error(f"unknown scenario {n!r}; known: {', '.join(names)}")
    return args


def main() -> int:
    args = parse_args()
    if args.list:
        print("\n".join(n for n, _ in SCENARIOS))
        return 0
    only = set(filter(None, args.only.split(",")))
    skip = set(filter(None, args.skip.split(",")))
    chosen = [(n, f) for n, f in SCENARIOS if (not only or n in only) and n not in skip]
    settings = [f"auth.secret={SECRET}", "http.requests_per_second_per_client=0",
                "media.ice_tcp=true", f"media.max_publish_bitrate_bps={MAX_PUBLISH_BPS}",
                "media.liveness_timeout_ms=3000",
                f"http.header_timeout_ms={HTTP_DEADLINE_S * 1000:.0f}",
                f"http.body_timeout_ms={HTTP_DEADLINE_S * 1000:.0f}"]
    t0 = time.monotonic()
    sfu = SfuFixture(args.sfu, settings, keep_tmp=args.keep_tmp, stop_timeout=15)
    try:
        sfu.start()
    except (RuntimeError, OSError) as e:
        print(f"FAIL sfu starts: {e}\n0 passed, 1 failed", flush=True)
        return 1
    ctx = Ctx(sfu, "", args)
    ctx.token = ctx.mint("*", "hostile-suite", "--publish", "--subscribe")
    ctx.check("token minted", ctx.token.count(".") == 2, f"{len(ctx.token)} characters")
    try:
        asyncio.run(suite(ctx, chosen))
    finally:
        sfu.stop()
        ctx.scenario = ""
        ctx.check("sfu exits 0 on SIGTERM (LeakSanitizer clean on ASan builds)",
                  sfu.clean_exit(), f"{sfu.describe_exit()}" +
                  ("" if sfu.clean_exit() else f"\n{sfu.log_tail(40)}"))
        sfu.cleanup()
    print(f"INFO total wall time {time.monotonic() - t0:.1f} s", flush=True)
    print(f"{ctx.passed} passed, {ctx.failed} failed", flush=True)
    return 0 if ctx.failed == 0 and ctx.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
