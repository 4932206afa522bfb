#!/usr/bin/python3
"""SIGHUP re-reads the config: live keys apply at once, a bad file changes nothing.

  ops_reload.py --sfu build/sfu

Starts its own sfu (sfu_fixture.py) at log level info, rewrites its config
file and sends SIGHUP, step by step:
  1. level info: an aiortc publish writes no debug line;
  2. level debug (and media.port_max changed): the reload line names
     log.level as applied and media.port_max as needing a restart; the
     next publish writes the debug line `ice.connected`;
  3. a bad file (level error plus a syntax error): config.reload_failed,
     nothing changes (the next publish still writes its debug line);
  4. a per-client rate limit of 1/s, burst 2: GET /rooms gets 429;
  5. an [auth] secret: GET /rooms without a token is 401, with a token from
     `sfu token` 200, /health no longer warns; the secret is never logged;
  6. a new secret: the old token is 401, a new one 200;
  7. sfu_config_reloads_total counts ok and failed; exit 0 on SIGTERM.
Prints PASS/FAIL lines and "N passed, M failed".
"""
import argparse
import asyncio
import configparser
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_lib import Call, Checks, metrics, request  # noqa: E402
from sfu_fixture import SfuFixture, write_config  # noqa: E402
import peers  # noqa: E402

c = Checks()
SECRET1 = "reload-secret-one-0123456789abcdefghij"
SECRET2 = "reload-secret-two-0123456789abcdefghij"


class Reloader:
    def __init__(self, sfu, sfu_bin):
        self.sfu, self.sfu_bin = sfu, sfu_bin
        cp = configparser.ConfigParser()
        cp.read(sfu.config_path)
        self.base = {s: dict(cp[s]) for s in cp.sections()}

    def log(self):
        with open(self.sfu.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def write(self, extra, garbage=False):
        sections = {s: dict(v) for s, v in self.base.items()}
        for key, value in extra.items():
            group, name = key.split(".")
            sections.setdefault(group, {})[name] = value
        write_config(self.sfu.config_path, sections)
        if garbage:
            with open(self.sfu.config_path, "a") as f:
                f.write("this line is not ini\n")

    def hup(self, extra, garbage=False, timeout=5.0):
        """Rewrites the file, sends SIGHUP, returns the new log lines of the reload."""
        self.write(extra, garbage)
        before = self.log()
        marks = ("msg=config.reloaded", "msg=config.reload_failed problems=")
        n = sum(before.count(m) for m in marks)
        self.sfu.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if sum(text.count(m) for m in marks) > n:
                return text[len(before):]
            time.sleep(0.05)
        return ""

    def token(self, room, name):
        return subprocess.run([self.sfu_bin, "token", "--config", self.sfu.config_path, "--room", room,
                               "--name", name], capture_output=True, text=True, check=True).stdout.strip()


async def publish_once(url):
    call = Call(url, "reload")
    await call.start(viewer=False)
    await call.leave()


def debug_lines(text):
    return text.count("level=debug msg=ice.connected")


def run(sfu_bin):
    with SfuFixture(sfu_bin, ["http.requests_per_second_per_client=0", "log.level=info"]) as sfu:
        r = Reloader(sfu, sfu_bin)
        asyncio.run(publish_once(sfu.url))
        c.check("level info: a publish writes no debug line", debug_lines(r.log()) == 0)

        lo, hi = int(r.base["media"]["port_min"]), int(r.base["media"]["port_max"])
        _, m0 = metrics(sfu.url)
        limit0 = m0.get("sfu_session_limit")
        lines = r.hup({"log.level": "debug", "media.port_max": str(hi - 1)})
        c.check("SIGHUP to debug: reload line names log.level applied, media.port_max restart",
                "applied=log.level " in lines and "restart_needed=media.port_max " in lines,
                lines.strip().splitlines()[-1] if lines.strip() else "no reload line")
        asyncio.run(publish_once(sfu.url))
        n_debug = debug_lines(r.log())
        c.check("after SIGHUP a debug line appears", n_debug == 1, f"{n_debug} ice.connected debug lines")

        lines = r.hup({"log.level": "error", "media.port_max": str(hi - 1)}, garbage=True)
        c.check("bad file: config.reload_failed with the problem's line",
                "msg=config.reload_failed problem=" in lines and "syntax" in lines, lines.strip()[:200])
        asyncio.run(publish_once(sfu.url))
        c.check("bad file changed nothing: debug lines still written", debug_lines(r.log()) == n_debug + 1)
        status, _, _ = request("GET", sfu.url + "/rooms")
        c.check("bad file changed nothing: GET /rooms still 200", status == 200, str(status))

        lines = r.hup({"log.level": "debug", "media.port_max": str(hi - 1),
                       "http.requests_per_second_per_client": "1", "http.request_burst_per_client": "2"})
        statuses = [request("GET", sfu.url + "/rooms")[0] for _ in range(6)]
        c.check("rate limit 1/s burst 2 applies live: 429", statuses.count(429) >= 3 and statuses[0] == 200,
                str(statuses))

        lines = r.hup({"log.level": "debug", "media.port_max": str(hi - 1), "auth.secret": SECRET1})
        c.check("auth.secret and the rate limit keys listed as applied",
                "auth.secret" in lines and "http.requests_per_second_per_client" in lines
                and "auth=on" in lines, lines.strip()[:300])
        status, _, _ = request("GET", sfu.url + "/rooms")
        c.check("auth on live: GET /rooms without a token -> 401", status == 401, str(status))
        tok1 = r.token("*", "ops")
        status, _, _ = request("GET", sfu.url + "/rooms", headers={"Authorization": f"Bearer {tok1}"})
        c.check("auth on live: with a token from sfu token -> 200", status == 200, str(status))
        status, _, body = request("GET", sfu.url + "/health")
        c.check("/health no longer warns that auth is off", status == 200 and "auth is off" not in body,
                body.strip())

        r.hup({"log.level": "debug", "media.port_max": str(hi - 1), "auth.secret": SECRET2})
        status, _, _ = request("GET", sfu.url + "/rooms", headers={"Authorization": f"Bearer {tok1}"})
        c.check("secret rotated: the old token -> 401", status == 401, str(status))
        tok2 = r.token("*", "ops")
        status, _, _ = request("GET", sfu.url + "/rooms", headers={"Authorization": f"Bearer {tok2}"})
        c.check("secret rotated: a new token -> 200", status == 200, str(status))

        log = r.log()
        c.check("no secret in the log", SECRET1 not in log and SECRET2 not in log)
        _, m = metrics(sfu.url)
        ok, failed = (m.get('sfu_config_reloads_total{result="ok"}'),
                      m.get('sfu_config_reloads_total{result="failed"}'))
        c.check("sfu_config_reloads_total ok 4, failed 1", ok == 4 and failed == 1, f"ok {ok}, failed {failed}")
        # The limit is what the old range gives (less the workers' shared
        # UDP ports at its start with media.udp_port = auto), unchanged.
        c.check("restart-needed keys are not applied: session limit still from the old port range",
                limit0 is not None and limit0 <= min(hi - lo + 1, 1000)
                and m.get("sfu_session_limit") == limit0, f'{limit0} -> {m.get("sfu_session_limit")}')
        sfu.stop()
        c.check("sfu exits 0 on SIGTERM after reloads", sfu.clean_exit(), sfu.describe_exit())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sfu", default="build/sfu")
    args = ap.parse_args()
    peers.patch_loopback()
    try:
        run(args.sfu)
    except Exception as e:  # noqa: BLE001 - a crashed sfu or a refused connection
        c.check("ran to the end", False, repr(e))
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
