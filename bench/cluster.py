#!/usr/bin/python3
"""sfu-bench against a cluster: the publisher on node A, the viewers spread
over B and C, which pull it over relay legs ([cluster] relay = true).

  /usr/bin/python3 bench/cluster.py [--sfu build/sfu] [--bench build/sfu-bench]
                                    [--scenario configs/bench/cluster.conf]
                                    [--window 8] [--single] [--json FILE]

Starts its own redis-server and three nodes on loopback (one media worker
each), runs build/sfu-bench with --url A --viewer-urls B,C, and samples each
node over a window once every viewer joined: CPU (from /proc), RTP packets
forwarded (sfu_rtp_forwarded_total: a relay leg counts as one viewer on A),
relay bitrates, and so CPU per forwarded packet per node. With --single it
first runs the same scenario with every viewer on A (no relay legs), for
comparison. Writes FILE (the per-node rows of each run) and the bench's own
JSON next to it (FILE without .json, then -relay.json / -single.json).
Exit status: the bench's (0 done, 2 nothing forwarded, 3 loss).
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from cluster import Redis  # noqa: E402
from sfu_fixture import SfuFixture, free_tcp_port  # noqa: E402

SECRET = "bench-cluster-secret-0123456789abcdef"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def metrics(url: str) -> str:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        return r.read().decode()


def value(text: str, name: str) -> float:
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def sample(nodes: Dict[str, SfuFixture]) -> Dict[str, dict]:
    out = {}
    for name, n in nodes.items():
        text = metrics(n.url)
        out[name] = {"t": time.monotonic(), "cpu": cpu_seconds(n.proc.pid),
                     "fwd": value(text, "sfu_rtp_forwarded_total"),
                     "relay_out": value(text, 'sfu_relay_bytes_total{direction="out"}'),
                     "relay_in": value(text, 'sfu_relay_bytes_total{direction="in"}'),
                     "sessions": value(text, "sfu_sessions"),
                     "serve": value(text, 'sfu_relay_legs{role="serve"}'),
                     "pull": value(text, 'sfu_relay_legs{role="pull"}')}
    return out


def run_once(args, nodes: Dict[str, SfuFixture], viewer_nodes: List[str], viewers: int,
             label: str) -> dict:
    cmd = [args.bench, "--url", nodes["A"].url, "--sfu-pid", str(nodes["A"].proc.pid),
           "--quiet", "--json", re.sub(r"(\.json)?$", f"-{label}.json", args.json, count=1)]
    if viewer_nodes:
        cmd += ["--viewer-urls", ",".join(nodes[v].url for v in viewer_nodes)]
    cmd.append(args.scenario)
    bench = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Everyone joined: the viewers' nodes hold them all (and the publisher A).
    deadline = time.monotonic() + 60
    where = viewer_nodes or ["A"]
    while time.monotonic() < deadline and bench.poll() is None:
        s = sample(nodes)
        held = sum(s[v]["sessions"] for v in where)
        if held >= viewers + (0 if viewer_nodes else 1) + (len(viewer_nodes) if viewer_nodes else 0):
            break
        time.sleep(0.2)
    time.sleep(2.0)
    a = sample(nodes)
    time.sleep(args.window)
    b = sample(nodes)
    out, _ = bench.communicate(timeout=120)
    rows = {}
    for name in nodes:
        dt = b[name]["t"] - a[name]["t"]
        cpu = b[name]["cpu"] - a[name]["cpu"]
        fwd = b[name]["fwd"] - a[name]["fwd"]
        rows[name] = {
            "cpu_percent": round(100 * cpu / dt, 1),
            "forwarded_pps": round(fwd / dt),
            "cpu_us_per_forwarded_packet": round(cpu * 1e6 / fwd, 2) if fwd > 0 else None,
            "relay_out_kbps": round((b[name]["relay_out"] - a[name]["relay_out"]) * 8 / dt / 1000),
            "relay_in_kbps": round((b[name]["relay_in"] - a[name]["relay_in"]) * 8 / dt / 1000),
            "relay_legs_serve": int(b[name]["serve"]), "relay_legs_pull": int(b[name]["pull"]),
            "sessions": int(b[name]["sessions"]),
        }
    print(f"== {label}: publisher on A, {viewers} viewers on "
          f"{'+'.join(viewer_nodes) if viewer_nodes else 'A'} ({args.window:.0f} s window)")
    print("node  cpu%   fwd pps  us/fwd pkt  relay out kbit/s  relay in kbit/s  legs serve/pull")
    for name, r in rows.items():
        us = f"{r['cpu_us_per_forwarded_packet']:.1f}" if r["cpu_us_per_forwarded_packet"] else "-"
        print(f"{name:4}  {r['cpu_percent']:5.1f}  {r['forwarded_pps']:7}  {us:>10}  "
              f"{r['relay_out_kbps']:16}  {r['relay_in_kbps']:15}  "
              f"{r['relay_legs_serve']}/{r['relay_legs_pull']}")
    tail = [line for line in out.splitlines() if line.strip()][-6:]
    print("bench: " + "\n       ".join(tail))
    return {"label": label, "viewer_nodes": viewer_nodes or ["A"], "nodes": rows,
            "bench_exit": bench.returncode}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sfu", default="build/sfu")
    ap.add_argument("--bench", default="build/sfu-bench")
    ap.add_argument("--scenario", default="configs/bench/cluster.conf")
    ap.add_argument("--window", type=float, default=8.0)
    ap.add_argument("--single", action="store_true",
                    help="first the same scenario with every viewer on A")
    ap.add_argument("--json", default="build/bench-cluster.json")
    args = ap.parse_args()
    if not shutil.which("redis-server"):
        print("bench/cluster.py: redis-server not installed (scripts/install-deps.sh)")
        return 1
    with open(args.scenario) as f:
        viewers = int(re.search(r"^viewers\s*=\s*(\d+)", f.read(), re.M).group(1))
    redis = Redis()
    nodes: Dict[str, SfuFixture] = {}
    results = []
    rc = 0
    try:
        for name in ("A", "B", "C"):
            port = free_tcp_port()
            nodes[name] = SfuFixture(args.sfu, port=port, settings=[
                f"cluster.redis_url=redis://127.0.0.1:{redis.port}/0",
                f"cluster.node_id={name}", f"cluster.public_url=http://127.0.0.1:{port}",
                f"cluster.secret={SECRET}", "cluster.heartbeat_ms=500",
                "cluster.node_ttl_ms=4000", "cluster.relay=true", "media.workers=1",
                "http.requests_per_second_per_client=0",
                "http.max_pending_connections_per_client=0", "log.level=warn"])
            nodes[name].start()
        time.sleep(1.5)     # every node registered
        if args.single:
            results.append(run_once(args, nodes, [], viewers, "single"))
            time.sleep(3)
        results.append(run_once(args, nodes, ["B", "C"], viewers, "relay"))
        rc = results[-1]["bench_exit"]
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    finally:
        for n in nodes.values():
            n.stop()
            n.cleanup()
        redis.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
