#!/usr/bin/python3
"""HTTP API conformance of a running SFU against shared/API.md.

  tests/e2e/sfu_fixture.py --sfu build/sfu --set http.requests_per_second_per_client=0 -- \\
      /usr/bin/python3 tests/e2e/api_conformance.py --url {url}

Prints one PASS/FAIL line per check and "N passed, M failed"; exits 0 only
when every check passed. Expects a fresh SFU with auth off and the default
limits (or tell it --max-body-bytes / --max-sdp-mlines), and no per-client
rate limit in the way of its 200 concurrent requests.

Every response is also checked for `Referrer-Policy: no-referrer` and
`Access-Control-Expose-Headers` (Location, ETag, Link, X-Participant-Id), and
every error for a one-line text/plain reason. Malformed-SDP 400s must name
the exact line ("line N") that is wrong.
"""

import argparse
import asyncio
import http.client
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

EXPOSED = ("location", "etag", "link", "x-participant-id")
SESSION_PATH = re.compile(r"^/sessions/[0-9a-f]{32}$")
ENTITY_TAG = re.compile(r'^(W/)?"[\x21\x23-\x7e]*"$')   # RFC 9110 8.8.3


class Resp:
    def __init__(self, status: int, headers: List[Tuple[str, str]], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def brief(self) -> str:
        return f"{self.status} {self.text.strip()[:100]!r}"


class Client:
    """Raw HTTP/1.1, one connection per request, any method/headers/body."""

    def __init__(self, url: str):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None, timeout: float = 15.0) -> Resp:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Resp(r.status, r.getheaders(), r.read())
        finally:
            conn.close()


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


def common_header_problems(r: Resp) -> List[str]:
    """API.md: Referrer-Policy and Expose-Headers on every response."""
    out = []
    if (r.header("Referrer-Policy") or "").strip().lower() != "no-referrer":
        out.append(f"Referrer-Policy {r.header('Referrer-Policy')!r}")
    exposed = {h.strip().lower() for h in (r.header("Access-Control-Expose-Headers") or "").split(",")}
    missing = [h for h in EXPOSED if h not in exposed]
    if missing:
        out.append(f"Access-Control-Expose-Headers lacks {', '.join(missing)}")
    return out


def reason_problems(r: Resp) -> List[str]:
    """A one-line text/plain reason."""
    out = []
    ct = (r.header("Content-Type") or "").lower()
    if not ct.startswith("text/plain"):
        out.append(f"Content-Type {r.header('Content-Type')!r}, expected text/plain")
    text = r.text
    line = text[:-1] if text.endswith("\n") else text
    line = line[:-1] if line.endswith("\r") else line
    if not line.strip():
        out.append("empty reason")
    elif "\n" in line or "\r" in line:
        out.append(f"reason is not one line: {text[:120]!r}")
    return out


def expect(c: Checks, name: str, r: Resp, status: int, reason: bool = True,
           line: Optional[int] = None) -> bool:
    problems = []
    if r.status != status:
        problems.append(f"status {r.status}, expected {status}")
        if r.status == 429:
            problems.append("rate limited: run the SFU with "
                            "--set http.requests_per_second_per_client=0")
    if reason:
        problems += reason_problems(r)
    if line is not None and not re.search(rf"\bline {line}\b", r.text):
        problems.append(f"reason does not name line {line}")
    problems += common_header_problems(r)
    detail = "; ".join(problems) + f"; got {r.brief()}" if problems else r.brief()
    return c.check(name, not problems, detail)


def method_set(value: Optional[str]) -> set:
    return {m.strip().upper() for m in (value or "").split(",") if m.strip()}


# ---------------------------------------------------------------- SDP bodies

def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line starting with `needle`."""
    for i, ln in enumerate(text.split("\n"), 1):
        if ln.startswith(needle):
            return i
    raise ValueError(f"{needle!r} not in SDP")


def mline_port(sdp: str, kind: str) -> str:
    m = re.search(rf"^m={kind} (\S+) ", sdp, re.M)
    return m.group(1)


def with_bad_port(sdp: str, kind: str, port: str) -> str:
    return re.sub(rf"^m={kind} \S+ ", f"m={kind} {port} ", sdp, count=1, flags=re.M)


def g722_only(pcmu_offer: str) -> str:
    """An audio-only offer whose only codec is G722 (static pt 9)."""
    sdp = re.sub(r"^(m=audio \S+ \S+) 0\r$", r"\1 9\r", pcmu_offer, flags=re.M)
    sdp = sdp.replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:9 G722/8000")
    if "G722/8000" not in sdp or " 9\r\n" not in sdp:
        raise ValueError("cannot rewrite the PCMU offer into G722")
    return sdp


def many_mlines(offer: str, count: int) -> Tuple[str, int]:
    """The offer's session part plus `count` audio m-sections; returns the
    SDP and the line of the first m-line over a limit of count-1."""
    head, _, rest = offer.partition("\r\nm=")
    head_lines = [ln for ln in head.split("\r\n") if not ln.startswith("a=group:")]
    ice = [ln for ln in offer.split("\r\n")
           if ln.startswith(("a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:"))]
    lines = list(head_lines)
    over = 0
    for i in range(count):
        if i == count - 1:
            over = len(lines) + 1
        lines += ["m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", f"a=mid:{i}",
                  "a=sendonly", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=setup:actpass"]
        lines += ice
    return "\r\n".join(lines) + "\r\n", over


def sdp_attr(sdp: str, name: str) -> List[str]:
    return re.findall(rf"^a={name}:(\S+)\r?$", sdp, re.M)


# ---------------------------------------------------------------- the checks

def check_options(c: Checks, cl: Client) -> None:
    sid = secrets.token_hex(16)
    cases = [
        ("/whip/r", {"POST"}, True),
        ("/whep/r/p", {"POST"}, True),
        (f"/sessions/{sid}", {"PATCH", "DELETE"}, False),
        (f"/sessions/{sid}/layer", {"POST"}, False),
        ("/rooms", {"GET"}, False),
        ("/rooms/r", {"GET"}, False),
    ]
    for path, methods, accept_post in cases:
        r = cl.request("OPTIONS", path, headers={
            "Origin": "http://other.example", "Access-Control-Request-Method":
            sorted(methods)[0], "Access-Control-Request-Headers": "authorization,content-type"})
        problems = []
        if r.status != 204:
            problems.append(f"status {r.status}, expected 204")
        got = method_set(r.header("Access-Control-Allow-Methods"))
        # OPTIONS may be listed, and HEAD where GET is; nothing else
        extra_ok = {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        if not methods <= got or got - methods - extra_ok:
            problems.append(f"Access-Control-Allow-Methods {r.header('Access-Control-Allow-Methods')!r}")
        allow_h = method_set(r.header("Access-Control-Allow-Headers"))
        for h in ("AUTHORIZATION", "CONTENT-TYPE", "IF-MATCH"):
            if h not in allow_h:
                problems.append(f"Access-Control-Allow-Headers lacks {h.title()}")
        if (r.header("Access-Control-Allow-Origin") or "") != "*":
            problems.append(f"Access-Control-Allow-Origin {r.header('Access-Control-Allow-Origin')!r}")
        if accept_post and (r.header("Accept-Post") or "").strip().lower() != "application/sdp":
            problems.append(f"Accept-Post {r.header('Accept-Post')!r}")
        if r.body:
            problems.append(f"204 with a body {r.body[:40]!r}")
        problems += common_header_problems(r)
        c.check(f"OPTIONS {path.replace(sid, '<id>')} -> 204 with CORS preflight headers",
                not problems, "; ".join(problems) or
                f"methods {r.header('Access-Control-Allow-Methods')!r}")


def check_bad_posts(c: Checks, cl: Client, offers: Dict[str, str], max_body: int,
                    max_mlines: int) -> None:
    good = offers["sendonly"].encode()
    sdp_ct = {"Content-Type": "application/sdp"}
    for ct in ("text/plain", "application/json", "application/sdpx", None):
        hdr = {"Content-Type": ct} if ct else {}
        r = cl.request("POST", "/whip/r", good, hdr)
        expect(c, f"POST /whip/r with Content-Type {ct} -> 415", r, 415)
    r = cl.request("POST", "/whep/r/abcd0123", offers["recvonly"].encode(),
                   {"Content-Type": "text/plain"})
    expect(c, "POST /whep/r/abcd0123 with Content-Type text/plain -> 415", r, 415)

    base = offers["sendonly"]
    cut_o = base[: base.index("\no=") + 10]
    vport = mline_port(base, "video")
    cut_m = base[: base.index("\nm=video") + len("\nm=video ") + len(vport)]
    nul_at = line_of(base, "a=mid:")
    nul_body = base.replace("\r\na=mid:", "\r\na=\x00mid:", 1)
    malformed = [
        ("garbage text", b"hello, this is not an SDP offer\r\n", 1),
        ("binary", bytes(range(0x80, 0x100)) + b"\x00\x01\xfe\xff", 1),
        ("binary NUL inside an offer", nul_body.encode(), nul_at),
        ("truncated in the o= line", cut_o.encode(), cut_o.count("\n") + 1),
        ("truncated in an m= line", cut_m.encode(), cut_m.count("\n") + 1),
        ("m=audio port 99999", with_bad_port(base, "audio", "99999").encode(),
         line_of(base, "m=audio")),
        ("m=video port 'x9'", with_bad_port(base, "video", "x9").encode(),
         line_of(base, "m=video")),
        ("m=audio port -1", with_bad_port(base, "audio", "-1").encode(),
         line_of(base, "m=audio")),
    ]
    for name, body, line in malformed:
        r = cl.request("POST", "/whip/r", body, sdp_ct)
        expect(c, f"POST /whip/r malformed SDP ({name}) -> 400 naming line {line}", r, 400,
               line=line)
    r = cl.request("POST", "/whip/r", b"", sdp_ct)
    expect(c, "POST /whip/r with an empty body -> 400", r, 400)

    for name, sdp in (("only a datachannel m=application", offers["datachannel"]),
                      ("only G722 audio", offers["g722"])):
        r = cl.request("POST", "/whip/r", sdp.encode(), sdp_ct)
        expect(c, f"POST /whip/r offer with {name} -> 422", r, 422)

    at_limit = (b"x" * (max_body - 2)) + b"\r\n"
    r = cl.request("POST", "/whip/r", at_limit, sdp_ct)
    expect(c, f"POST /whip/r body of exactly {max_body} bytes -> 400, not 413", r, 400)
    r = cl.request("POST", "/whip/r", b"v=0\r\n" + b"a=x" * (max_body // 3 + 1), sdp_ct)
    expect(c, f"POST /whip/r body just over {max_body} bytes -> 413", r, 413)
    r = cl.request("POST", "/whip/r", b"v" * (1 << 20), sdp_ct)
    expect(c, "POST /whip/r body of 1 MiB -> 413", r, 413)
    r = cl.request("POST", "/whep/r/abcd0123", b"v" * (max_body + 1), sdp_ct)
    expect(c, "POST /whep/r/abcd0123 body over the limit -> 413", r, 413)
    # Request headers live in libmicrohttpd's pool per connection (16 KiB,
    # CONN_POOL_BYTES in signaling/http.c): 12 KB of them are still read;
    # 20 KB are refused by libmicrohttpd itself (431, without our headers).
    r = cl.request("GET", "/rooms", headers={"X-Pad": "a" * 12000})
    expect(c, "GET /rooms with 12 KB of request headers -> 200", r, 200, reason=False)
    r = cl.request("GET", "/rooms", headers={"X-Pad": "a" * 20000})
    c.check("GET /rooms with 20 KB of request headers -> 431", r.status == 431, r.brief())

    sdp, over = many_mlines(base, max_mlines + 1)
    r = cl.request("POST", "/whip/r", sdp.encode(), sdp_ct)
    ok = expect(c, f"POST /whip/r with {max_mlines + 1} m-lines (limit {max_mlines}) -> 400",
                r, 400)
    if ok:
        c.check("the m-line limit reason names the line of the first m-line over it",
                bool(re.search(rf"\bline {over}\b", r.text)), r.brief())


def check_not_found(c: Checks, cl: Client, offers: Dict[str, str]) -> None:
    sdp_ct = {"Content-Type": "application/sdp"}
    recv = offers["recvonly"].encode()
    unknown_room = "noroom-" + secrets.token_hex(4)
    for path in ("/whep/r/nosuchpeer", "/whep/r/abcd0123", f"/whep/{unknown_room}/abcd0123"):
        r = cl.request("POST", path, recv, sdp_ct)
        expect(c, f"POST {path} (valid recvonly offer) -> 404", r, 404)
    for path in (f"/rooms/{unknown_room}", "/nope", "/whip", "/sessions", "/whip/r/extra"):
        r = cl.request("GET", path)
        expect(c, f"GET {path} -> 404", r, 404)
    for method, path, want in (("GET", "/whip/r", {"POST"}),
                               ("GET", "/whep/r/abcd0123", {"POST"}),
                               ("PUT", f"/sessions/{secrets.token_hex(16)}", {"PATCH", "DELETE"}),
                               ("GET", f"/sessions/{secrets.token_hex(16)}", {"PATCH", "DELETE"}),
                               ("DELETE", "/rooms", {"GET"}),
                               ("POST", "/health", {"GET"})):
        r = cl.request(method, path, b"" if method in ("PUT", "POST") else None)
        shown = re.sub(r"[0-9a-f]{32}", "<id>", path)
        if expect(c, f"{method} {shown} -> 405", r, 405):
            allow = method_set(r.header("Allow"))
            c.check(f"{method} {shown} 405 has an Allow header listing {', '.join(sorted(want))}",
                    want <= allow and method not in allow, f"Allow {r.header('Allow')!r}")


def metrics(cl: Client) -> Dict[str, float]:
    r = cl.request("GET", "/metrics")
    out = {}
    for ln in r.text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\S+)$", ln)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def wait_metric(cl: Client, names: Tuple[str, ...], want: float = 0,
                timeout: float = 5.0) -> Dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        m = metrics(cl)
        if all(m.get(n) == want for n in names) or time.monotonic() > deadline:
            return m
        time.sleep(0.2)


def check_nothing_left(c: Checks, cl: Client, what: str) -> None:
    m = wait_metric(cl, ("sfu_sessions", "sfu_rooms"))
    c.check(f"{what}: sfu_sessions and sfu_rooms are 0",
            m.get("sfu_sessions") == 0 and m.get("sfu_rooms") == 0,
            f"sfu_sessions={m.get('sfu_sessions')} sfu_rooms={m.get('sfu_rooms')}")
    r = cl.request("GET", "/rooms")
    try:
        rooms = json.loads(r.text).get("rooms")
    except (ValueError, AttributeError):
        rooms = None
    c.check(f"{what}: GET /rooms lists no room", r.status == 200 and rooms == [], r.brief())


def check_answer_sdp(c: Checks, who: str, sdp: str) -> None:
    setups = sdp_attr(sdp, "setup")
    problems = []
    if not re.search(r"^a=ice-lite\r?$", sdp, re.M):
        problems.append("no a=ice-lite")
    if not re.search(r"^a=candidate:", sdp, re.M):
        problems.append("no a=candidate")
    if not re.search(r"^a=end-of-candidates\r?$", sdp, re.M):
        problems.append("no a=end-of-candidates")
    if not setups or any(s != "passive" for s in setups):
        problems.append(f"a=setup values {setups}")
    c.check(f"{who} answer: a=ice-lite, candidates, a=end-of-candidates, a=setup:passive",
            not problems, "; ".join(problems))


def check_created(c: Checks, who: str, s: peers.Session, want_pid: Optional[str]) -> str:
    h = s.headers
    loc = peers._header(h, "Location") or ""
    etag = peers._header(h, "ETag") or ""
    pid = peers._header(h, "X-Participant-Id") or ""
    ct = (peers._header(h, "Content-Type") or "").lower()
    problems = []
    if not SESSION_PATH.match(loc):
        problems.append(f"Location {loc!r} is not /sessions/<32 hex>")
    if not ENTITY_TAG.match(etag):
        problems.append(f"ETag {etag!r} is not an entity-tag")
    if not re.fullmatch(r"[0-9a-f]{8}", pid):
        problems.append(f"X-Participant-Id {pid!r} is not 8 hex digits")
    if want_pid is not None and pid != want_pid:
        problems.append(f"X-Participant-Id {pid!r}, expected the publisher's {want_pid!r}")
    if ct.split(";")[0].strip() != "application/sdp":
        problems.append(f"Content-Type {ct!r}")
    problems += common_header_problems(Resp(201, list(h.items()), b""))
    c.check(f"{who} 201: Location, ETag, X-Participant-Id, application/sdp", not problems,
            "; ".join(problems) or f"Location {loc} ETag {etag} X-Participant-Id {pid}")
    return loc


def frag(ufrag: str, pwd: str, cand_port: int = 50000) -> bytes:
    return (f"a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\n"
            f"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
            f"a=candidate:1 1 udp 2130706431 127.0.0.1 {cand_port} typ host\r\n").encode()


def check_patch(c: Checks, cl: Client, pub: peers.Session, loc: str) -> None:
    ufrag, pwd = sdp_attr(pub.offer_sdp, "ice-ufrag")[0], sdp_attr(pub.offer_sdp, "ice-pwd")[0]
    fct = {"Content-Type": "application/trickle-ice-sdpfrag"}
    r = cl.request("PATCH", loc, pub.offer_sdp.encode(), {"Content-Type": "application/sdp"})
    expect(c, "PATCH WHIP session with application/sdp (re-offer) -> 415", r, 415)
    r = cl.request("PATCH", loc, frag(ufrag, pwd))
    expect(c, "PATCH WHIP session without Content-Type -> 415", r, 415)
    r = cl.request("PATCH", loc, frag(ufrag, pwd), fct)
    expect(c, "PATCH trickle sdpfrag with one candidate -> 204", r, 204, reason=False)
    c.check("PATCH trickle 204 has no body", r.body == b"", repr(r.body[:60]))
    r = cl.request("PATCH", loc, frag(ufrag, pwd, 50001), dict(fct, **{"If-Match": pub.etag}))
    expect(c, "PATCH trickle with If-Match of the current ETag -> 204", r, 204, reason=False)
    r = cl.request("PATCH", loc, frag(ufrag, pwd), dict(fct, **{"If-Match": '"wrong-etag"'}))
    expect(c, "PATCH trickle with If-Match of a wrong ETag -> 412", r, 412)
    r = cl.request("PATCH", loc, b"hello, not a fragment\r\n", fct)
    expect(c, "PATCH with a malformed sdpfrag -> 400 naming line 1", r, 400, line=1)
    r = cl.request("PATCH", f"/sessions/{secrets.token_hex(16)}", frag(ufrag, pwd), fct)
    expect(c, "PATCH a made-up session id -> 404", r, 404)

    new_u, new_p = secrets.token_hex(4), secrets.token_hex(12)
    r = cl.request("PATCH", loc, frag(new_u, new_p), fct)
    expect(c, "PATCH ICE restart (new ufrag/pwd) without If-Match -> 428", r, 428)
    r = cl.request("PATCH", loc, frag(new_u, new_p), dict(fct, **{"If-Match": '"wrong-etag"'}))
    expect(c, "PATCH ICE restart with If-Match of a wrong ETag -> 412", r, 412)
    r = cl.request("PATCH", loc, frag(new_u, new_p), dict(fct, **{"If-Match": "*"}))
    if not expect(c, 'PATCH ICE restart with If-Match: "*" -> 200', r, 200, reason=False):
        return
    ct = (r.header("Content-Type") or "").split(";")[0].strip().lower()
    c.check("ICE restart answer is application/trickle-ice-sdpfrag",
            ct == "application/trickle-ice-sdpfrag", repr(r.header("Content-Type")))
    old_u, old_p = sdp_attr(pub.answer_sdp, "ice-ufrag"), sdp_attr(pub.answer_sdp, "ice-pwd")
    got_u, got_p = sdp_attr(r.text, "ice-ufrag"), sdp_attr(r.text, "ice-pwd")
    c.check("ICE restart answer has new a=ice-ufrag/a=ice-pwd, unlike the 201 answer's",
            bool(got_u and got_p and old_u and old_p) and got_u[0] not in old_u
            and got_p[0] not in old_p,
            f"answer ufrag {old_u[:1]} restart ufrag {got_u[:1]}")
    etag = r.header("ETag") or ""
    c.check("ICE restart 200 carries a new ETag",
            bool(ENTITY_TAG.match(etag)) and etag != pub.etag, f"{pub.etag} -> {etag!r}")
    r = cl.request("PATCH", loc, frag(new_u, new_p, 50002), fct)
    expect(c, "PATCH trickle with the restarted credentials -> 204", r, 204, reason=False)
    r = cl.request("PATCH", loc, frag(new_u, new_p, 50003), dict(fct, **{"If-Match": pub.etag}))
    expect(c, "PATCH trickle with If-Match of the pre-restart ETag -> 412", r, 412)
    if ENTITY_TAG.match(etag):
        r = cl.request("PATCH", loc, frag(new_u, new_p, 50004), dict(fct, **{"If-Match": etag}))
        expect(c, "PATCH trickle with If-Match of the new ETag -> 204", r, 204, reason=False)


async def check_sessions(c: Checks, cl: Client, url: str) -> None:
    room = "conf-" + secrets.token_hex(4)

    def call(*a, **k):
        return asyncio.to_thread(cl.request, *a, **k)

    try:
        pub = await peers.whip_publish(url, room, [peers.SineTrack(),
                                                   peers.FrameNumberTrack(160, 120, 10)])
    except peers.HttpError as e:
        c.check("WHIP publish with aiortc -> 201", False, str(e))
        return
    viewer = None
    try:
        c.check("WHIP publish with aiortc -> 201", True, room)
        loc = check_created(c, "WHIP", pub, None)
        check_answer_sdp(c, "WHIP", pub.answer_sdp)
        sid = loc.rsplit("/", 1)[-1]
        try:
            await peers.wait_connected(pub.pc, 15)
            c.check("WHIP publisher connects (ICE + DTLS)", True)
        except (TimeoutError, ConnectionError) as e:
            c.check("WHIP publisher connects (ICE + DTLS)", False, str(e))

        for path in ("/rooms", f"/rooms/{room}"):
            r = await call("GET", path)
            expect(c, f"GET {path.replace(room, '<room>')} -> 200", r, 200, reason=False)
            try:
                doc = json.loads(r.text)
                rooms = doc["rooms"] if path == "/rooms" else [doc]
                mine = [x for x in rooms if x.get("room") == room]
                people = mine[0]["participants"] if mine else []
                me = [p for p in people if p.get("participant") == pub.participant_id]
                kinds = sorted(t.get("kind") for t in me[0].get("tracks", [])) if me else []
                ok, detail = kinds == ["audio", "video"], f"tracks {kinds}"
                # a plain (not simulcast) video track has one layer, rid ""
                video = [t for t in me[0]["tracks"] if t.get("kind") == "video"] if me else []
                layers = video[0].get("layers") if video else None
                lay_ok = (isinstance(layers, list) and len(layers) == 1 and layers[0].get("rid") == ""
                          and all(isinstance(layers[0].get(k), int) for k in ("width", "height", "bitrate_bps"))
                          and isinstance(layers[0].get("active"), bool)
                          and isinstance(mine[0].get("viewers"), list))
                c.check(f"GET {path.replace(room, '<room>')} shows the video track's layers "
                        "(rid, width, height, bitrate_bps, active) and a viewers list", lay_ok,
                        f"layers {layers}, viewers {mine[0].get('viewers') if mine else None}")
            except (ValueError, KeyError, TypeError, IndexError) as e:
                ok, detail = False, f"bad JSON: {e}: {r.text[:120]!r}"
            c.check(f"GET {path.replace(room, '<room>')} lists the room, the publisher's "
                    "id and its audio+video tracks", ok, detail)
            ct = (r.header("Content-Type") or "").lower()
            c.check(f"GET {path.replace(room, '<room>')} is application/json",
                    ct.startswith("application/json"), repr(ct))
            c.check(f"GET {path.replace(room, '<room>')} never shows the session id",
                    sid not in r.text.lower(), "")

        r = await call("POST", f"/whep/{room}/{'%08x' % ((int(pub.participant_id, 16) + 1) % 2**32)}",
                       (await peers.create_offer(direction="recvonly")).encode(),
                       {"Content-Type": "application/sdp"})
        expect(c, "POST /whep/<existing room>/<other 8-hex id> -> 404", r, 404)
        try:
            viewer, _ = await peers.whep_view(url, room, pub.participant_id)
            c.check("WHEP view of the publisher -> 201", True)
            vloc = check_created(c, "WHEP", viewer, pub.participant_id)
            check_answer_sdp(c, "WHEP", viewer.answer_sdp)
            c.check("WHEP session URL differs from the publisher's", vloc != loc, vloc)
        except peers.HttpError as e:
            c.check("WHEP view of the publisher -> 201", False, str(e))
        r = await call("GET", "/rooms")
        c.check("GET /rooms never shows a session id (viewer present)",
                sid not in r.text.lower() and
                (viewer is None or viewer.url.rsplit("/", 1)[-1] not in r.text.lower()), "")
        if viewer is not None:
            # The WHEP layer selection extension on a plain (one-layer) source.
            lpath = urllib.parse.urlsplit(viewer.url).path + "/layer"
            vsec = [x for x in re.split(r"\r?\n(?=m=)", viewer.answer_sdp) if x.startswith("m=video")]
            found = re.search(r"^a=mid:(\S+)", vsec[0], re.M) if vsec else None
            vmid = found.group(1) if found else "?"
            try:
                await peers.wait_connected(viewer.pc, 15)
            except (TimeoutError, ConnectionError):
                pass    # the GET /rooms check below then fails with the figures
            r = await call("POST", lpath, b"{}", {"Content-Type": "text/plain"})
            expect(c, "POST <session>/layer as text/plain -> 415", r, 415)
            r = await call("POST", lpath, b'{"encodingId":', {"Content-Type": "application/json"})
            expect(c, "POST <session>/layer with bad JSON -> 400", r, 400)
            r = await call("POST", lpath, b'{"mediaId":"nope"}', {"Content-Type": "application/json"})
            expect(c, "POST <session>/layer for an unknown mediaId -> 400", r, 400)
            r = await call("POST", lpath, json.dumps({"mediaId": vmid}).encode(),
                           {"Content-Type": "application/json"})
            expect(c, "POST <session>/layer back to automatic -> 204", r, 204, reason=False)
            r = await call("POST", lpath, json.dumps({"mediaId": vmid, "maxLayer": 0}).encode(),
                           {"Content-Type": "application/json"})
            expect(c, "POST <session>/layer with maxLayer 0 -> 204", r, 204, reason=False)
            r = await call("POST", "/sessions/" + "0" * 32 + "/layer", b"{}",
                           {"Content-Type": "application/json"})
            expect(c, "POST <unknown session>/layer -> 404", r, 404)
            r = await call("GET", f"/rooms/{room}")
            try:
                v = json.loads(r.text)["viewers"]
                ok = (len(v) == 1 and v[0]["watching"] == pub.participant_id
                      and v[0]["receiving"][0]["mid"] == vmid and v[0]["receiving"][0]["max"] == 0
                      and v[0]["receiving"][0]["layers"] == 1)
            except (ValueError, KeyError, TypeError, IndexError) as e:
                ok, v = False, f"{e}: {r.text[:200]!r}"
            c.check("GET /rooms/<room> shows the viewer: whom it watches, its mid, layer cap", ok, str(v))

        await asyncio.to_thread(check_patch, c, cl, pub, loc)

        if viewer is not None:
            vpath = urllib.parse.urlsplit(viewer.url).path
            r = await call("DELETE", vpath)
            expect(c, "DELETE WHEP session -> 200", r, 200, reason=False)
            await viewer.pc.close()
            viewer = None
        r = await call("DELETE", loc)
        expect(c, "DELETE WHIP session -> 200", r, 200, reason=False)
        r = await call("DELETE", loc)
        expect(c, "DELETE WHIP session again -> 404", r, 404)
        r = await call("PATCH", loc, frag("abcd", "0123456789abcdef012345"),
                       {"Content-Type": "application/trickle-ice-sdpfrag"})
        expect(c, "PATCH a deleted session -> 404", r, 404)
        r = await call("DELETE", f"/sessions/{secrets.token_hex(16)}")
        expect(c, "DELETE a made-up 32-hex session id -> 404", r, 404)
        r = await call("DELETE", "/sessions/not-an-id")
        expect(c, "DELETE /sessions/not-an-id -> 404", r, 404)
        r = await call("GET", f"/rooms/{room}")
        expect(c, "GET /rooms/<room> after the publisher's DELETE -> 404", r, 404)
    finally:
        await pub.pc.close()
        if viewer is not None:
            await viewer.pc.close()


PROM_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*,?)?\})?'
    r' ([^ ]+)( -?[0-9]+)?$')


def prometheus_problems(text: str) -> List[str]:
    problems, typed = [], {}
    if not text.endswith("\n"):
        problems.append("does not end with a newline")
    for n, ln in enumerate(text.splitlines(), 1):
        if not ln:
            continue
        if ln.startswith("# HELP ") or ln.startswith("# TYPE "):
            parts = ln.split(" ", 3)
            if len(parts) < 4 or not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", parts[2]):
                problems.append(f"line {n}: bad {parts[1]} line")
            elif parts[1] == "TYPE":
                if parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                    problems.append(f"line {n}: unknown type {parts[3]!r}")
                typed[parts[2]] = parts[3]
            continue
        if ln.startswith("#"):
            continue
        m = PROM_SAMPLE.match(ln)
        if not m:
            problems.append(f"line {n}: not 'name{{labels}} value': {ln[:60]!r}")
            continue
        try:
            float(m.group(3))
        except ValueError:
            problems.append(f"line {n}: value {m.group(3)!r}")
        name = m.group(1)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in typed and family not in typed:
            problems.append(f"line {n}: {name} has no TYPE line before it")
    return problems[:5]


def check_health_metrics(c: Checks, cl: Client) -> None:
    r = cl.request("GET", "/health")
    expect(c, "GET /health -> 200", r, 200, reason=False)
    body = r.text
    c.check("/health says ok", body.split("\n", 1)[0].strip() == "ok", repr(body[:80]))
    c.check("/health mentions auth being off",
            bool(re.search(r"\bauth\b.*\boff\b|\boff\b.*\bauth\b", body, re.I | re.S)),
            repr(body[:120]))
    r = cl.request("GET", "/metrics")
    expect(c, "GET /metrics -> 200", r, 200, reason=False)
    c.check("/metrics is text/plain", (r.header("Content-Type") or "").startswith("text/plain"),
            repr(r.header("Content-Type")))
    problems = prometheus_problems(r.text)
    c.check("/metrics is Prometheus text (HELP/TYPE, name{labels} value)", not problems,
            "; ".join(problems))
    m = metrics(cl)
    want = ("sfu_sessions", "sfu_rooms", "sfu_peers", "sfu_media_rooms", "sfu_buffers_in_use")
    missing = [w for w in want if w not in m]
    c.check("/metrics has " + ", ".join(want), not missing, f"missing {missing}")


def check_concurrent(c: Checks, cl: Client, n: int) -> None:
    statuses: Dict[str, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(n)
    bad: List[str] = []

    def one(i: int) -> None:
        try:
            barrier.wait(10)
            r = cl.request("POST", "/whip/r", f"garbage {i}\r\n".encode(),
                           {"Content-Type": "application/sdp"}, timeout=30)
            key = str(r.status)
            if r.status == 400 and (reason_problems(r) or not re.search(r"\bline 1\b", r.text)):
                key = "400 without a one-line 'line 1' reason"
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError) as e:
            key = type(e).__name__
            with lock:
                bad.append(str(e))
        with lock:
            statuses[key] = statuses.get(key, 0) + 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - t0
    c.check(f"{n} concurrent POST /whip/r with garbage SDP -> all 400",
            statuses == {"400": n}, f"{statuses} in {elapsed:.1f}s" +
            (f"; first error {bad[0]}" if bad else ""))
    r = cl.request("GET", "/health")
    c.check("server healthy after the concurrent burst", r.status == 200, r.brief())


async def make_offers() -> Dict[str, str]:
    return {
        "sendonly": await peers.create_offer(),
        "recvonly": await peers.create_offer(direction="recvonly"),
        "datachannel": await peers.create_offer(audio=None, video=None, datachannel=True),
        "g722": g722_only(await peers.create_offer(audio="audio/PCMU", video=None)),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--max-body-bytes", type=int, default=65536,
                   help="the SFU's [http] max_body_bytes (default 65536)")
    p.add_argument("--max-sdp-mlines", type=int, default=32,
                   help="the SFU's [limits] max_sdp_mlines (default 32)")
    p.add_argument("--concurrent", type=int, default=200)
    args = p.parse_args()
    peers.patch_loopback()
    c = Checks()
    cl = Client(args.url)
    try:
        offers = asyncio.run(make_offers())
        check_options(c, cl)
        check_bad_posts(c, cl, offers, args.max_body_bytes, args.max_sdp_mlines)
        check_not_found(c, cl, offers)
        check_nothing_left(c, cl, "after the refused POSTs (no half-created session)")
        asyncio.run(check_sessions(c, cl, args.url))
        check_health_metrics(c, cl)
        check_concurrent(c, cl, args.concurrent)
        check_nothing_left(c, cl, "at the end")
    except (OSError, http.client.HTTPException) as e:
        c.check("the SFU answers HTTP", False, f"{type(e).__name__}: {e}")
    print(f"{c.passed} passed, {c.failed} failed", flush=True)
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
