#!/usr/bin/python3
"""Auth, rate limits, capacity and ICE server links, against real sfu processes.

  auth_limits.py --sfu build/sfu

Starts its own SFUs (one per configuration) with tests/e2e/sfu_fixture.py,
mints tokens with `sfu token`, and checks every 401/403 case of API.md,
429 with Retry-After, 503 when the media port range is used up, and the
Link rel="ice-server" headers (TURN REST credentials). Offers are real
captures from tests/data/sdp; sessions that never connect are DELETEd.
Prints one PASS/FAIL line per check and "N passed, M failed".
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sfu_fixture import SfuFixture  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OFFER = open(os.path.join(HERE, "..", "data", "sdp", "chromium156-whip-publish-offer.sdp"), "rb").read()
VIEW_OFFER = open(os.path.join(HERE, "..", "data", "sdp", "chromium156-whep-recvonly-offer.sdp"), "rb").read()
SECRET = "e2e-secret-0123456789abcdef-0123456789"

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
    if ok:
        passed += 1
    else:
        failed += 1


def request(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode(errors="replace")


def post_offer(url, token=None, offer=OFFER):
    h = {"Content-Type": "application/sdp"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    return request("POST", url, offer, h)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header, claims, secret=SECRET):
    """A JWT signed (or not) as the test says, for the cases `sfu token` never makes."""
    h = b64url(json.dumps(header).encode())
    p = b64url(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64url(sig)}"


def mint(sfu_bin, config, room, name, *flags, ttl="1h"):
    out = subprocess.run([sfu_bin, "token", "--config", config, "--room", room, "--name", name,
                          "--ttl", ttl, *flags], capture_output=True, text=True, timeout=10)
    return out.stdout.strip() if out.returncode == 0 else ""


def auth_checks(sfu_bin):
    with SfuFixture(sfu_bin, [f"auth.secret={SECRET}", "http.requests_per_second_per_client=0"]) as sfu:
        cfg = sfu.config_path
        pub = mint(sfu_bin, cfg, "demo", "alice", "--publish")
        check("sfu token prints a JWT", pub.count(".") == 2, f"{len(pub)} characters")
        status, _, body = request("GET", sfu.url + "/health")
        check("health needs no token and says auth is on", status == 200 and "auth is off" not in body,
              f"{status} {body.strip()!r}")
        status, h, _ = post_offer(sfu.url + "/whip/demo")
        check("no token -> 401 with WWW-Authenticate", status == 401 and "Bearer" in (h.get("WWW-Authenticate") or ""),
              str(status))
        now = int(time.time())
        good = {"room": "demo", "sub": "bob", "exp": now + 600, "pub": True, "sub_ok": True}
        cases = [
            ("alg none", forge({"alg": "none", "typ": "JWT"}, good).rsplit(".", 1)[0] + "."),
            ("alg HS512", forge({"alg": "HS512", "typ": "JWT"}, good)),
            ("expired", forge({"alg": "HS256"}, dict(good, exp=now - 3600))),
            ("not yet valid", forge({"alg": "HS256"}, dict(good, nbf=now + 3600))),
            ("no exp", forge({"alg": "HS256"}, {k: v for k, v in good.items() if k != "exp"})),
            ("wrong secret", forge({"alg": "HS256"}, good, secret="another-secret-0123456789abcdefgh")),
            ("tampered payload", (lambda t: t.split(".")[0] + "." +
                                  b64url(json.dumps(dict(good, room="*")).encode()) + "." + t.split(".")[2])(
                forge({"alg": "HS256"}, good))),
            ("garbage", "not-a-token"),
        ]
        for name, token in cases:
            status, _, body = post_offer(sfu.url + "/whip/demo", token)
            check(f"{name} -> 401", status == 401, f"{status} {body.strip()!r}")
        status, _, _ = post_offer(sfu.url + "/whip/other", pub)
        check("token for another room -> 403", status == 403, str(status))
        viewer_only = mint(sfu_bin, cfg, "demo", "carol", "--subscribe")
        status, _, _ = post_offer(sfu.url + "/whip/demo", viewer_only)
        check("subscribe-only token publishing -> 403", status == 403, str(status))
        status, h, _ = post_offer(sfu.url + "/whip/demo", pub)
        check("publish token -> 201", status == 201, str(status))
        location = h.get("Location") or ""
        pid = h.get("X-Participant-Id") or ""
        status, _, _ = post_offer(sfu.url + f"/whep/demo/{pid}", pub, VIEW_OFFER)
        check("publish-only token watching -> 403", status == 403, str(status))
        status, vh, _ = post_offer(sfu.url + f"/whep/demo/{pid}", viewer_only, VIEW_OFFER)
        check("subscribe token watching -> 201", status == 201, str(status))
        rooms_token = mint(sfu_bin, cfg, "demo", "dave")
        status, _, body = request("GET", sfu.url + "/rooms/demo", headers={"Authorization": f"Bearer {rooms_token}"})
        check("room token reads its room", status == 200 and '"alice"' in body, f"{status} {body[:80]}")
        status, _, _ = request("GET", sfu.url + "/rooms", headers={"Authorization": f"Bearer {rooms_token}"})
        check("room token listing all rooms -> 403", status == 403, str(status))
        star = mint(sfu_bin, cfg, "*", "ops")
        status, _, _ = request("GET", sfu.url + "/rooms", headers={"Authorization": f"Bearer {star}"})
        check("room * token lists rooms", status == 200, str(status))
        other_sub = mint(sfu_bin, cfg, "demo", "mallory", "--publish")
        status, _, _ = request("DELETE", sfu.url + location, headers={"Authorization": f"Bearer {other_sub}"})
        check("DELETE with another sub's token -> 403", status == 403, str(status))
        same_name_other_room = mint(sfu_bin, cfg, "elsewhere", "alice", "--publish")
        status, _, _ = request("DELETE", sfu.url + location,
                               headers={"Authorization": f"Bearer {same_name_other_room}"})
        check("DELETE with the same name's token for another room -> 403", status == 403, str(status))
        status, _, _ = request("DELETE", sfu.url + location, headers={"Authorization": f"Bearer {pub}"})
        check("DELETE with the creator's token -> 200", status == 200, str(status))
        status, _, _ = request("DELETE", sfu.url + (vh.get("Location") or ""),
                               headers={"Authorization": f"Bearer {viewer_only}"})
        check("viewer DELETE -> 200", status == 200, str(status))
        sfu.stop()
        log = open(sfu.log_path, errors="replace").read()
        leaked = [t for t in (pub, viewer_only, SECRET) if t and (t in log or t.split(".")[-1] in log)]
        check("no token or secret in the log", not leaked, f"{len(log)} bytes of log searched")


def rate_and_capacity_checks(sfu_bin):
    with SfuFixture(sfu_bin, ["http.requests_per_second_per_client=2", "http.request_burst_per_client=3"]) as sfu:
        statuses = [request("GET", sfu.url + "/rooms")[0] for _ in range(6)]
        check("burst then 429", statuses[:3] == [200] * 3 and 429 in statuses[3:], str(statuses))
        status, h, _ = request("GET", sfu.url + "/rooms")
        check("429 carries Retry-After", status != 429 or (h.get("Retry-After") or "").isdigit(),
              f"{status} Retry-After={h.get('Retry-After')}")
        status, _, _ = request("GET", sfu.url + "/health")
        check("health is not rate limited", status == 200, str(status))
    with PortRangeFixture(sfu_bin, 2) as sfu:
        got = [post_offer(sfu.url + "/whip/cap") for _ in range(3)]
        statuses = [g[0] for g in got]
        check("ports used up -> 503 with Retry-After", statuses[:2] == [201, 201] and statuses[2] == 503
              and (got[2][1].get("Retry-After") or "").isdigit(), f"{statuses} {got[2][2].strip()!r}")
        for status, h, _ in got:
            if status == 201:
                request("DELETE", sfu.url + h["Location"])
        status, _, _ = post_offer(sfu.url + "/whip/cap")
        check("ports free again after DELETE -> 201", status == 201, str(status))


class PortRangeFixture(SfuFixture):
    """An SFU whose media port range holds only `ports` ports."""

    def __init__(self, binary, ports):
        super().__init__(binary, ["http.requests_per_second_per_client=0"])
        self.ports = ports

    def _sections(self, port):
        sections = super()._sections(port)
        lo = int(sections["media"]["port_min"])
        sections["media"]["port_max"] = str(lo + self.ports - 1)
        return sections


def link_checks(sfu_bin):
    turn_secret = "turn-shared-secret"
    with SfuFixture(sfu_bin, ["http.requests_per_second_per_client=0",
                              "ice.stun_urls=stun:stun.example.net:3478",
                              "turn.urls=turn:turn.example.net:3478?transport=udp",
                              f"turn.secret={turn_secret}", "turn.ttl_s=600"]) as sfu:
        status, h, _ = post_offer(sfu.url + "/whip/links")
        links = h.get_all("Link") or []
        check("201 carries a STUN Link", any("<stun:stun.example.net:3478>" in v and 'rel="ice-server"' in v
                                             for v in links), repr(links))
        turn = [v for v in links if v.startswith("<turn:")]
        ok = False
        detail = repr(turn)
        if turn:
            user = re.search(r'username="([^"]*)"', turn[0])
            cred = re.search(r'credential="([^"]*)"', turn[0])
            if user and cred:
                want = base64.b64encode(hmac.new(turn_secret.encode(), user.group(1).encode(),
                                                 hashlib.sha1).digest()).decode()
                expiry = int(user.group(1).split(":")[0])
                ok = cred.group(1) == want and 0 < expiry - time.time() <= 600
                detail = f"username {user.group(1)}, credential matches HMAC-SHA1: {cred.group(1) == want}"
        check("TURN Link has REST credentials", ok, detail)
        if status == 201:
            request("DELETE", sfu.url + h["Location"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sfu", default="build/sfu")
    args = ap.parse_args()
    for part in (auth_checks, rate_and_capacity_checks, link_checks):
        try:
            part(args.sfu)
        except Exception as e:  # a crashed SFU or a refused connection
            check(part.__name__, False, repr(e))
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
