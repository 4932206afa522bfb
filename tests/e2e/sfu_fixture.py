#!/usr/bin/python3
"""Start an sfu binary on a free loopback port for a test, then stop it.

As a command: runs COMMAND with `{url}` in its arguments (and $SFU_URL)
replaced by the SFU's base URL and `{pid}` (and $SFU_PID) by the SFU
process id, then stops the SFU:

  tests/e2e/sfu_fixture.py --sfu build/sfu -- \\
      /usr/bin/python3 tests/e2e/whip_whep.py --url {url}
  tests/e2e/sfu_fixture.py --sfu build/sfu --set auth.secret=xyz -- node ... --url {url}
  tests/e2e/sfu_fixture.py --sfu build/sfu          # no command: run until Ctrl-C

Exit status: the command's, or 1 if the SFU failed to start, died while the
command ran, had to be killed, or exited non-zero after SIGTERM.

As a module (Python tests):

  with SfuFixture("build/sfu") as sfu:
      run_something(sfu.url)

The temporary config is INI: `[http] listen = 127.0.0.1:PORT` and
`[media] port_min/port_max` (a random free-looking UDP range), plus any
--set section.key=value; the binary runs as `SFU --config FILE`.
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Dict, List, Optional


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the SFU binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def udp_range_free(host: str, lo: int, hi: int) -> bool:
    socks = []
    try:
        for port in (lo, (lo + hi) // 2, hi):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def pick_media_range(size: int = 100, host: str = "127.0.0.1") -> tuple:
    """A UDP port range outside the kernel's ephemeral range (32768-60999)."""
    for _ in range(50):
        lo = random.randrange(10000, 32000 - size, size)
        if udp_range_free(host, lo, lo + size - 1):
            return lo, lo + size - 1
    raise RuntimeError("no free UDP port range found")


def write_config(path: str, sections: Dict[str, Dict[str, str]]) -> None:
    with open(path, "w") as f:
        for name, keys in sections.items():
            f.write(f"[{name}]\n")
            for k, v in keys.items():
                f.write(f"{k} = {v}\n")
            f.write("\n")


class SfuFixture:
    """One SFU process with its own config, logs and temporary directory."""

    def __init__(self, binary: str, settings: Optional[List[str]] = None,
                 start_timeout: float = 10.0, stop_timeout: float = 5.0,
                 extra_args: Optional[List[str]] = None, keep_tmp: bool = False,
                 port: Optional[int] = None):
        self.binary = binary
        self.port = port            # None: a free one at start
        self.settings = settings or []
        self.start_timeout, self.stop_timeout = start_timeout, stop_timeout
        self.extra_args = extra_args or []
        self.keep_tmp = keep_tmp
        self.proc: Optional[subprocess.Popen] = None
        self.tmpdir = ""
        self.url = ""
        self.exit_status: Optional[int] = None
        self.killed = False

    def _sections(self, port: int) -> Dict[str, Dict[str, str]]:
        lo, hi = pick_media_range()
        sections = {"http": {"listen": f"127.0.0.1:{port}"},
                    "media": {"port_min": str(lo), "port_max": str(hi)}}
        for item in self.settings:
            key, sep, value = item.partition("=")
            section, dot, name = key.strip().partition(".")
            if not sep or not dot or not section or not name:
                raise ValueError(f"--set wants section.key=value, got {item!r}")
            sections.setdefault(section, {})[name] = value.strip()
        return sections

    def start(self) -> str:
        self.tmpdir = tempfile.mkdtemp(prefix="sfu-e2e-")
        port = self.port or free_tcp_port()
        self.config_path = os.path.join(self.tmpdir, "sfu.ini")
        write_config(self.config_path, self._sections(port))
        self.log_path = os.path.join(self.tmpdir, "sfu.log")
        log = open(self.log_path, "wb")
        cmd = [self.binary, "--config", self.config_path] + self.extra_args
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        self.url = f"http://127.0.0.1:{port}"
        self._wait_healthy()
        return self.url

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.exit_status = self.proc.returncode
                raise RuntimeError(f"sfu exited during start with {self.describe_exit()}\n"
                                   f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as r:
                    if r.status == 200:
                        return
                    last = f"status {r.status}"
            except urllib.error.HTTPError as e:
                last = f"status {e.code}"
            except (urllib.error.URLError, OSError) as e:
                last = str(e)
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"GET /health not 200 within {self.start_timeout:g}s ({last}); "
                           f"sfu stopped with {self.describe_exit()}\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after stop_timeout. Returns the exit status
        (negative signal number if killed by a signal, like Popen)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.proc.kill()
                self.proc.wait()
        self.exit_status = self.proc.returncode
        return self.exit_status

    def describe_exit(self) -> str:
        st = self.exit_status
        if st is None:
            return "still running"
        if st < 0:
            name = signal.Signals(-st).name
            return f"signal {name}" + (" (after SIGTERM timed out)" if self.killed else "")
        return f"status {st}"

    def clean_exit(self) -> bool:
        return self.exit_status == 0 and not self.killed

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except (OSError, AttributeError):
            return "(no log)"
        return "\n".join(f"  | {ln}" for ln in text[-lines:]) or "  | (empty)"

    def cleanup(self) -> None:
        if self.tmpdir and not self.keep_tmp:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self) -> "SfuFixture":
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        print(f"sfu_fixture: sfu exited with {self.describe_exit()}; output tail:\n"
              f"{self.log_tail()}", file=sys.stderr, flush=True)
        self.cleanup()


def run_command(fx: SfuFixture, command: List[str], timeout: float) -> int:
    pid = str(fx.proc.pid)
    env = dict(os.environ, SFU_URL=fx.url, SFU_PID=pid)
    cmd = [a.replace("{url}", fx.url).replace("{pid}", pid) for a in command]
    print(f"sfu_fixture: sfu at {fx.url}; running {' '.join(cmd)}", file=sys.stderr, flush=True)
    try:
        return subprocess.run(cmd, env=env, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        print(f"sfu_fixture: command timed out after {timeout:g}s", file=sys.stderr)
        return 124


def main() -> int:
    p = argparse.ArgumentParser(description="run a command against a fresh sfu",
                                usage="%(prog)s [options] [-- COMMAND ARGS...]")
    p.add_argument("--sfu", default="build/sfu", help="sfu binary (default build/sfu)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="extra config key (repeatable)")
    p.add_argument("--start-timeout", type=float, default=10.0)
    p.add_argument("--stop-timeout", type=float, default=5.0)
    p.add_argument("--timeout", type=float, default=300.0, help="command time limit")
    p.add_argument("--keep-tmp", action="store_true", help="keep config and log")
    p.add_argument("--sfu-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for the sfu after --config FILE (repeatable)")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    fx = SfuFixture(args.sfu, args.set, args.start_timeout, args.stop_timeout,
                    extra_args=args.sfu_arg, keep_tmp=args.keep_tmp)
    try:
        fx.start()
    except (RuntimeError, OSError, ValueError) as e:
        print(f"sfu_fixture: FAIL start: {e}", file=sys.stderr)
        fx.stop()
        fx.cleanup()
        return 1
    rc = 0
    try:
        if command:
            rc = run_command(fx, command, args.timeout)
        else:
            print(f"sfu_fixture: sfu at {fx.url} (config {fx.config_path}); Ctrl-C stops",
                  flush=True)
            while fx.alive():
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    died = not fx.alive()
    fx.stop()
    ok = fx.clean_exit() and not (died and command)
    state = "died while the command ran" if died else "stopped by SIGTERM"
    print(f"sfu_fixture: {'PASS' if ok else 'FAIL'} sfu {state}, exit {fx.describe_exit()}; "
          f"output tail ({fx.log_path}):\n{fx.log_tail()}", file=sys.stderr, flush=True)
    fx.cleanup()
    return rc if ok else (rc or 1)


if __name__ == "__main__":
    sys.exit(main())
