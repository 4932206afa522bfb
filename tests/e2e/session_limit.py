#!/usr/bin/python3
"""The session limit does not shrink with ICE-TCP, and every session it
admits really gets its ports.

  /usr/bin/python3 tests/e2e/session_limit.py --sfu build/sfu [--ports 24] [--explicit-true]

Starts the sfu twice on a small media port range (--ports), once with
media.ice_tcp = false and once with the default (true), and for each:
reads sfu_session_limit from /metrics, then POSTs WHIP offers (one room
each, never connected) until one is refused. Checks: both limits equal the
port range (UDP and TCP ports are separate spaces: each session takes one
of each, so a range of N ports holds N sessions either way); exactly
`limit` offers get 201, the next 503; with ICE-TCP every answer carries a
`tcptype passive` candidate. Prints the descriptors each session holds
(from /proc/PID/fd), the figure the fd budget in signaling/budget.c must
cover. One PASS/FAIL line per check and "N passed, M failed"; exit 0 only
when all passed.
"""

import argparse
import asyncio
import os
import re
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
from sfu_fixture import SfuFixture, pick_media_range  # noqa: E402


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


def metric(url: str, name: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    m = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else -1.0


def nfds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def run_one(args, checks: Checks, offer: str, ice_tcp) -> int:
    lo, hi = pick_media_range(args.ports)
    # media.udp_port=auto (the default) takes the range's first port per
    # worker for the shared UDP ports; the sessions' own ports are the rest.
    workers = 2
    settings = [f"media.port_min={lo}", f"media.port_max={hi}", f"media.workers={workers}",
                "http.requests_per_second_per_client=0", "http.max_pending_connections_per_client=0"]
    if ice_tcp is not None:
        settings.append(f"media.ice_tcp={'true' if ice_tcp else 'false'}")
    label = "ice_tcp=default" if ice_tcp is None else f"ice_tcp={str(ice_tcp).lower()}"
    with SfuFixture(args.sfu, settings=settings) as sfu:
        limit = int(metric(sfu.url, "sfu_session_limit"))
        idle = nfds(sfu.proc.pid)
        created, statuses, with_tcp = [], [], 0
        for i in range(limit + 1):
            status, headers, body = await peers.http("POST", f"{sfu.url}/whip/lim{i}", offer,
                                                     "application/sdp")
            statuses.append(status)
            if status != 201:
                break
            created.append(urllib.parse.urljoin(sfu.url, headers.get("Location", "")))
            with_tcp += bool(re.search(r"^a=candidate:.* tcp .*tcptype passive", body, re.M))
        busy = nfds(sfu.proc.pid)
        n201 = statuses.count(201)
        per = (busy - idle) / n201 if n201 else 0.0
        print(f"INFO {label}: limit {limit}, {n201} sessions created, then "
              f"{statuses[-1] if statuses else '-'}; {per:.2f} fds per unconnected session "
              f"({idle} idle, {busy} with them)", flush=True)
        checks.check(f"{label}: limit equals the port range less the shared ports",
                     limit == args.ports - workers,
                     f"limit {limit}, {args.ports} ports, {workers} workers")
        checks.check(f"{label}: {limit} sessions admitted, the next refused with 503",
                     n201 == limit and statuses[-1] == 503,
                     f"{n201} x 201, last {statuses[-1] if statuses else '-'}")
        if ice_tcp is not False:
            checks.check(f"{label}: every answer has a passive TCP candidate", with_tcp == n201,
                         f"{with_tcp} of {n201}")
        for url in created:
            await peers.http("DELETE", url)
        return limit


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sfu", default="build/sfu")
    p.add_argument("--ports", type=int, default=24)
    p.add_argument("--explicit-true", action="store_true",
                   help="also run with media.ice_tcp = true written out")
    args = p.parse_args()
    peers.patch_loopback()
    checks = Checks()
    offer = await peers.create_offer()
    without = await run_one(args, checks, offer, False)
    default = await run_one(args, checks, offer, None)
    if args.explicit_true:
        await run_one(args, checks, offer, True)
    checks.check("session limit with ICE-TCP (the default) equals the one without",
                 default == without, f"{default} vs {without}")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
