#!/usr/bin/python3
"""GET /metrics: promtool-valid, and exact counter changes after scripted events.

  ops_metrics.py --sfu build/sfu

Starts its own sfu (sfu_fixture.py, rate limit off), then:
  - `promtool check metrics` on the output, idle and during a call;
  - sfu_build_info{version,commit} 1 names what `sfu --version` prints, and
    so does GET /health with Accept: application/json (plain GET /health
    stays text);
  - one 404 (GET /rooms/<unknown>) adds exactly 1 to
    sfu_http_requests_total{route="room",code="404"}, one 405 adds 1 to
    route="none",code="405", and no other HTTP series moves but the
    /metrics requests themselves;
  - one aiortc WHIP publish: sfu_sessions and sfu_participants +1, whip/201
    +1, DTLS handshakes ok +1, RTP in grows; one WHEP viewer: sessions +1,
    whep/201 +1, keyframe requests sent, RTP forwarded grows;
  - DELETE of both: session/200 +2, sessions and participants back to the
    idle values, peers back to 0.
Prints PASS/FAIL lines and "N passed, M failed".
"""
import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_lib import Call, Checks, http_series, metrics, promtool_check, request  # noqa: E402
from sfu_fixture import SfuFixture  # noqa: E402
import peers  # noqa: E402

c = Checks()


def http_deltas(before, after):
    """HTTP series that moved, but the /metrics requests themselves."""
    out = {}
    for k, v in after.items():
        if k.startswith("sfu_http_requests_total") and 'route="metrics"' not in k:
            d = v - before.get(k, 0.0)
            if d:
                out[k] = d
    return out


async def wait_metric(url, name, pred, timeout=8.0):
    """Polls without blocking the event loop (aiortc sends from it)."""
    deadline = time.monotonic() + timeout
    m = {}
    while time.monotonic() < deadline:
        _, m = await asyncio.to_thread(metrics, url)
        if pred(m.get(name, 0.0)):
            return True, m
        await asyncio.sleep(0.2)
    return False, m


def version_checks(url, sfu_path, text):
    line = subprocess.run([sfu_path, "--version"], capture_output=True, text=True,
                          timeout=10).stdout.strip()
    m = re.fullmatch(r"sfu (\S+) \(git (\S+)\)", line)
    c.check("sfu --version prints 'sfu VERSION (git COMMIT)'", m is not None, repr(line))
    version, commit = m.groups() if m else ("?", "?")
    info = [ln for ln in text.splitlines() if ln.startswith("sfu_build_info")]
    want = f'sfu_build_info{{version="{version}",commit="{commit}"}} 1'
    c.check("/metrics has one sfu_build_info line naming the --version", info == [want],
            f"{info} vs {want!r}")
    c.check("sfu_build_info is a gauge", "# TYPE sfu_build_info gauge" in text)
    status, headers, body = request("GET", url + "/health", headers={"Accept": "application/json"})
    try:
        h = json.loads(body)
    except ValueError:
        h = {}
    c.check("GET /health (Accept: application/json) -> 200 JSON with version and commit",
            status == 200 and headers.get("Content-Type", "").startswith("application/json")
            and h.get("status") == "ok" and h.get("version") == version
            and h.get("commit") == commit and h.get("auth") is False
            and h.get("warnings") == ["auth is off ([auth] secret not set)"],
            f"{status} {headers.get('Content-Type')} {body[:200]!r}")
    status, headers, body = request("GET", url + "/health")
    c.check("GET /health without Accept stays text: ok, then the warning",
            status == 200 and headers.get("Content-Type", "").startswith("text/plain")
            and body == "ok\nwarning: auth is off ([auth] secret not set)\n", repr(body[:120]))


def http_checks(url, sfu_path):
    text, m0 = metrics(url)
    ok, said = promtool_check(text)
    c.check("promtool check metrics (idle)", ok, said)
    version_checks(url, sfu_path, text)
    text, m0 = metrics(url)
    for name in ("sfu_sessions", "sfu_rooms", "sfu_dtls_handshakes_ok_total",
                 "sfu_nacks_sent_total", "sfu_plis_sent_total", "sfu_rtp_retransmitted_total",
                 "sfu_draining", "process_cpu_seconds_total"):
        c.check(f"{name} present", name in m0)

    status, _, _ = request("GET", url + "/rooms/no-such-room")
    _, m1 = metrics(url)
    d = http_deltas(m0, m1)
    want = {http_series("room", 404): 1.0}
    c.check("one 404 adds exactly 1 to route=room code=404 and nothing else", status == 404 and d == want,
            f"status {status}, changes {d}")
    c.check("the previous /metrics request counted as route=metrics code=200",
            m1.get(http_series("metrics", 200), 0) - m0.get(http_series("metrics", 200), 0) == 1)

    status, _, _ = request("DELETE", url + "/rooms")
    _, m2 = metrics(url)
    d = http_deltas(m1, m2)
    c.check("one 405 adds exactly 1 to route=none code=405", status == 405 and
            d == {http_series("none", 405): 1.0}, f"status {status}, changes {d}")
    status, _, _ = request("GET", url + "/nowhere/at/all")
    _, m3 = metrics(url)
    d = http_deltas(m2, m3)
    c.check("an unknown path adds 1 to route=none code=404", status == 404 and
            d == {http_series("none", 404): 1.0}, f"status {status}, changes {d}")
    return m3


async def call_checks(url, m0):
    call = Call(url, "metrics-room")
    await call.start(viewer=False)
    ok, m1 = await wait_metric(url, "sfu_dtls_handshakes_ok_total",
                         lambda v: v >= m0["sfu_dtls_handshakes_ok_total"] + 1)
    c.check("WHIP publish: sessions +1", m1["sfu_sessions"] - m0["sfu_sessions"] == 1,
            f'{m0["sfu_sessions"]:g} -> {m1["sfu_sessions"]:g}')
    c.check("WHIP publish: participants +1", m1["sfu_participants"] - m0["sfu_participants"] == 1)
    c.check("WHIP publish: rooms +1", m1["sfu_rooms"] - m0["sfu_rooms"] == 1)
    c.check("WHIP publish: whip/201 +1 and nothing else",
            http_deltas(m0, m1) == {http_series("whip", 201): 1.0}, str(http_deltas(m0, m1)))
    c.check("WHIP publish: DTLS handshakes ok +1",
            m1["sfu_dtls_handshakes_ok_total"] - m0["sfu_dtls_handshakes_ok_total"] == 1,
            f'{m0["sfu_dtls_handshakes_ok_total"]:g} -> {m1["sfu_dtls_handshakes_ok_total"]:g}')
    c.check("WHIP publish: DTLS failures unchanged",
            m1["sfu_dtls_handshakes_failed_total"] == m0["sfu_dtls_handshakes_failed_total"])
    ok, m1b = await wait_metric(url, "sfu_rtp_packets_in_total", lambda v: v > m0["sfu_rtp_packets_in_total"] + 20)
    c.check("RTP packets in grow while publishing", ok, f'{m1b.get("sfu_rtp_packets_in_total", 0):g}')

    call.view, _ = await peers.whep_view(url, "metrics-room", call.pub.participant_id, call.receiver)
    await peers.wait_connected(call.view.pc)
    ok, m2 = await wait_metric(url, "sfu_rtp_forwarded_total", lambda v: v > m1b["sfu_rtp_forwarded_total"] + 20)
    c.check("WHEP viewer: RTP forwarded grows", ok, f'{m2.get("sfu_rtp_forwarded_total", 0):g}')
    c.check("WHEP viewer: sessions +1 more", m2["sfu_sessions"] - m0["sfu_sessions"] == 2)
    c.check("WHEP viewer: participants unchanged", m2["sfu_participants"] - m0["sfu_participants"] == 1)
    c.check("WHEP viewer: whep/201 +1", http_deltas(m1b, m2) == {http_series("whep", 201): 1.0},
            str(http_deltas(m1b, m2)))
    # The viewer's first keyframe comes from the keyframe cache when the
    # publisher sent one within keyframe_cache_ms, else from a request.
    kf = (m2["sfu_plis_sent_total"] + m2["sfu_firs_sent_total"]) - (m0["sfu_plis_sent_total"] + m0["sfu_firs_sent_total"])
    replays = m2["sfu_keyframe_replays_total"] - m0.get("sfu_keyframe_replays_total", 0)
    c.check("WHEP viewer: its first keyframe was replayed from the cache or requested",
            kf + replays >= 1, f"requests {kf:g}, replays {replays:g}")
    c.check("PLI + FIR equal sfu_keyframe_requests_sent_total",
            m2["sfu_plis_sent_total"] + m2["sfu_firs_sent_total"] == m2["sfu_keyframe_requests_sent_total"])
    text, _ = await asyncio.to_thread(metrics, url)
    ok, said = promtool_check(text)
    c.check("promtool check metrics (during a call)", ok, said)

    statuses = await call.leave()
    ok, m3 = await wait_metric(url, "sfu_peers", lambda v: v == 0)
    c.check("DELETE both: session/200 +2", statuses == [200, 200] and
            http_deltas(m2, m3) == {http_series("session", 200): 2.0},
            f"statuses {statuses}, changes {http_deltas(m2, m3)}")
    c.check("DELETE both: sessions back", m3["sfu_sessions"] == m0["sfu_sessions"],
            f'{m3["sfu_sessions"]:g}')
    c.check("DELETE both: participants and rooms back",
            m3["sfu_participants"] == m0["sfu_participants"] and m3["sfu_rooms"] == m0["sfu_rooms"])
    c.check("DELETE both: peers back to 0", ok, f'{m3.get("sfu_peers", -1):g}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sfu", default="build/sfu")
    args = ap.parse_args()
    peers.patch_loopback()
    try:
        with SfuFixture(args.sfu, ["http.requests_per_second_per_client=0"]) as sfu:
            m = http_checks(sfu.url, args.sfu)
            asyncio.run(call_checks(sfu.url, m))
            sfu.stop()
            c.check("sfu exits 0 on SIGTERM", sfu.clean_exit(), sfu.describe_exit())
    except Exception as e:  # noqa: BLE001 - a crashed sfu or a refused connection
        c.check("ran to the end", False, repr(e))
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
