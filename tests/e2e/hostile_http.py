"""hostile.py's HTTP scenarios: oversized and malformed SDP, slow clients
holding connections, 1,000 concurrent POSTs, bad tokens. Each is an async
function taking the suite context `ctx` (see hostile.py)."""

import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
import urllib.parse
from typing import List, Optional

import peers
from hostile_lib import fd_breakdown, http_get, http_request, raw_http


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, secret: str) -> str:
    """A JWT signed with HS256 and `secret`, whatever `header` says."""
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(sig)}"


async def post(ctx, path: str, body: bytes, token: Optional[str] = None,
               content_type: str = "application/sdp", extra: Optional[dict] = None,
               timeout: float = 10.0, local_host: Optional[str] = None):
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra or {})
    req = http_request("POST", path, ctx.host, body, headers)
    t0 = time.monotonic()
    status, raw = await raw_http(ctx.host, ctx.port, req, timeout, local_host)
    return status, raw, time.monotonic() - t0


# ------------------------------------------------------------ SDP

def mlines_sdp(count: int, full: bool) -> bytes:
    head = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
            "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n"
            "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n")
    m = []
    for i in range(count):
        m.append("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")
        if full:
            m.append(f"c=IN IP4 0.0.0.0\r\na=mid:{i}\r\na=sendonly\r\na=rtcp-mux\r\n"
                     "a=rtpmap:111 opus/48000/2\r\n")
    return (head + "".join(m)).encode()


async def bad_sdp(ctx) -> None:
    rng = random.Random(10)
    offer = (await peers.create_offer()).encode()
    cases = [
        ("10,000 full m-lines", mlines_sdp(10000, True), (400, 413)),
        ("1,000 bare m-lines (under the body limit)", mlines_sdp(1000, False), (400,)),
        ("a 1 MB line", offer + b"a=x-junk:" + b"x" * (1 << 20) + b"\r\n", (413,)),
        ("a 40 KB line", offer + b"a=x-junk:" + b"y" * 40000 + b"\r\n", (400, 413)),
        ("8 KB of random bytes", rng.randbytes(8192), (400,)),
        ("a real offer with NULs and 0xFF bytes", offer.replace(b"\r\na=", b"\r\n\x00\xff=", 5),
         (400,)),
        ("a real offer, lines cut in half", offer.replace(b"\r\n", b"\r"), (400,)),
        ("empty body", b"", (400,)),
    ]
    for name, body, want in cases:
        status, raw, took = await post(ctx, "/whip/hostile-sdp", body, ctx.token)
        ctx.check(f"{name} ({len(body)} bytes) -> {'/'.join(map(str, want))} quickly",
                  status in want and took < 2.0, f"status {status} in {took * 1000:.0f} ms")
    # A Content-Length far over the limit, no body sent: answered without waiting.
    req = http_request("POST", "/whip/hostile-sdp", ctx.host, b"",
                       {"Content-Type": "application/sdp", "Authorization": f"Bearer {ctx.token}"})
    req = req.replace(b"Content-Length: 0", b"Content-Length: 100000000")
    t0 = time.monotonic()
    status, _ = await raw_http(ctx.host, ctx.port, req, 2.5)
    took = time.monotonic() - t0
    ctx.check("Content-Length 100 MB, no body -> 413 quickly", status == 413 and took < 2.0,
              f"status {status} in {took * 1000:.0f} ms")


# ------------------------------------------------------------ slow clients

async def slowloris(ctx, conns: int = 300) -> None:
    """`conns` connections from another loopback address, each sending its
    request a byte every fifth of the deadline (headers, or a declared body).
    The server keeps at most http.max_pending_connections_per_client (64) of
    one address, closing that address's oldest, and closes the rest when their
    header or body deadline (ctx.http_deadline_s: hostile.py sets
    http.header_timeout_ms and body_timeout_ms to it; not extended by
    trickling) passes. /health is probed while they are all pending, that is
    for the deadline less half a second."""
    deadline = ctx.http_deadline_s
    seconds, every = deadline - 0.5, deadline / 5
    src = "127.0.0.2"
    writers: List[asyncio.StreamWriter] = []
    readers: List[asyncio.StreamReader] = []
    refused = 0
    t_open = time.monotonic()
    for i in range(conns):
        try:
            r, w = await asyncio.wait_for(
                asyncio.open_connection(ctx.host, ctx.port, local_addr=(src, 0)), 2)
        except (OSError, asyncio.TimeoutError):
            refused += 1
            continue
        if i % 2:
            w.write(b"POST /whip/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n"
                    b"Content-Length: 100000\r\n\r\nv")
        else:
            w.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        writers.append(w)
        readers.append(r)
    ctx.info(f"{len(writers)} slow connections from {src} ({refused} not opened)")
    ends: List[Optional[float]] = [None] * len(readers)

    async def watch(i: int) -> None:
        try:
            while await readers[i].read(4096):
                pass
        except OSError:
            pass
        ends[i] = time.monotonic()

    watchers = [asyncio.create_task(watch(i)) for i in range(len(readers))]
    worst, bad, most_pending = 0.0, [], 0.0
    t0 = time.monotonic()
    next_byte = t0 + every
    while time.monotonic() - t0 < seconds:
        status, took = await ctx.health(1.0)
        worst = max(worst, took)
        if status != 200 or took >= 1.0:
            bad.append(f"{status}/{took * 1000:.0f}ms")
        m = await ctx.metrics()
        most_pending = max(most_pending, m.get('sfu_http_connections{state="headers"}', 0) +
                           m.get('sfu_http_connections{state="body"}', 0))
        if time.monotonic() >= next_byte:
            for w in writers:
                try:
                    w.write(b"X")
                except OSError:
                    pass
            next_byte += every
        await asyncio.sleep(0.2)
    ctx.check("/health answers 200 within 1 s throughout", not bad,
              f"worst {worst * 1000:.0f} ms" + (f"; {len(bad)} bad: {bad[:5]}" if bad else ""))
    status, raw, took = await post(ctx, "/whip/healthy-probe", b"x", None, timeout=3.0)
    ctx.check("other clients still served (POST without token -> 401)", status == 401,
              f"status {status} in {took * 1000:.0f} ms")
    ctx.check("one address holds at most 64 connections still sending their request",
              0 < most_pending <= 64 + 1, f"at most {most_pending:g} pending at once")
    # Keep trickling: only the server's deadlines may end them.
    while any(e is None for e in ends) and time.monotonic() - t_open < deadline + 4.0:
        for w in writers:
            try:
                w.write(b"X")
            except OSError:
                pass
        await asyncio.sleep(every)
    held = [e - t_open for e in ends if e is not None]
    ctx.check(f"every slow connection closed by the server within its {deadline:g} s deadline",
              len(held) == len(ends) and max(held) <= deadline + 2.5,
              f"{len(held)}/{len(ends)} closed, the last after {max(held, default=-1):.1f} s")
    for t in watchers:
        t.cancel()
    for w in writers:
        w.close()
    t0 = time.monotonic()
    while ctx.fds() > ctx.base_fds and time.monotonic() - t0 < 5:
        await asyncio.sleep(0.2)
    left = fd_breakdown(ctx.sfu.proc.pid)
    ctx.check("slow connections' descriptors released", ctx.fds() <= ctx.base_fds,
              f"{time.monotonic() - t0:.1f} s; fds now {left}")


# ------------------------------------------------------------ 1,000 POSTs

async def post_storm(ctx, count: int = 1000) -> None:
    offer = (await peers.create_offer()).encode()
    t0 = time.monotonic()
    # From 20 loopback addresses, 50 each: many clients, as a per-address
    # connection limit would want them.
    results = await asyncio.gather(*(post(ctx, f"/whip/storm-{i % 10}", offer, ctx.token,
                                          timeout=60.0, local_host=f"127.0.0.{10 + i % 20}")
                                     for i in range(count)))
    took = time.monotonic() - t0
    statuses = {}
    for status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    created = [raw for status, raw, _ in results if status == 201]
    ctx.check(f"{count} concurrent POSTs all answered 201 or 503",
              set(statuses) <= {201, 503} and sum(statuses.values()) == count,
              f"{dict(sorted(statuses.items()))} in {took:.1f} s "
              f"(slowest {max(r[2] for r in results):.1f} s)")
    ctx.check("some were created", len(created) > 0, f"{len(created)} created")
    locations = []
    for raw in created:
        head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        for ln in head.split("\r\n"):
            if ln.lower().startswith("location:"):
                locations.append(ln.split(":", 1)[1].strip())
    deletes = await asyncio.gather(*(peers.http("DELETE", urllib.parse.urljoin(ctx.url, loc),
                                                token=ctx.token)
                                     for loc in locations[::2]))
    codes = [d[0] for d in deletes]
    ctx.check("half DELETEd -> 200, the rest left to the liveness timeout",
              all(c == 200 for c in codes), f"{len(codes)} DELETEs, statuses {sorted(set(codes))}")


# ------------------------------------------------------------ tokens

SDPFRAG = ("a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
           "a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n")


async def bad_tokens(ctx) -> None:
    SECRET = ctx.secret
    now = int(time.time())
    good = {"room": ctx.healthy_room, "sub": "mallory", "exp": now + 600, "pub": True,
            "sub_ok": True}
    other = ctx.mint("elsewhere", "mallory", "--publish", "--subscribe")
    cases = [
        ("no token", None, 401),
        ("garbage", "not-a-token", 401),
        ("three dots of base64", "e30.e30.e30", 401),
        ("alg none", forge({"alg": "none", "typ": "JWT"}, good, SECRET).rsplit(".", 1)[0] + ".",
         401),
        ("expired an hour ago", forge({"alg": "HS256", "typ": "JWT"},
                                      dict(good, exp=now - 3600), SECRET), 401),
        ("wrong secret", forge({"alg": "HS256", "typ": "JWT"}, good,
                               "not-the-secret-0123456789abcdefghij"), 401),
        ("100 KB token", "A" * 100000, (400, 401, 413, 431)),
        ("token for another room", other, 403),
    ]
    offer = (await peers.create_offer(direction="recvonly")).encode()
    path = f"/whep/{ctx.healthy_room}/{ctx.healthy_participant}"
    for name, token, want in cases:
        want = want if isinstance(want, tuple) else (want,)
        status, _, took = await post(ctx, path, offer, token)
        ctx.check(f"WHEP with {name} -> {'/'.join(map(str, want))}", status in want,
                  f"status {status} in {took * 1000:.0f} ms")
    view_url = ctx.healthy.ready["view_url"]
    for method in ("DELETE", "PATCH"):
        status, _, _ = await peers.http(method, view_url, SDPFRAG,
                                        "application/trickle-ice-sdpfrag" if method == "PATCH"
                                        else None, token=other)
        ctx.check(f"{method} of the healthy viewer's session with another room's token -> 403",
                  status == 403, f"status {status}")
    status, _ = await asyncio.to_thread(
        http_get, f"{ctx.url}/rooms/{ctx.healthy_room}", 5.0, other)
    ctx.check("GET /rooms/healthy with another room's token -> 403", status == 403,
              f"status {status}")


# ------------------------------------------------------------ subscriptions

async def bad_subscriptions(ctx) -> None:
    """POST /sessions/{id}/subscriptions with hostile bodies and callers: each
    gets its status and one-line reason, and the session's subscription stays
    what the last good request made it (GET /rooms shows it)."""
    room = "subs-hostile"
    token = ctx.mint(room, "sue", "--publish", "--subscribe")
    other = ctx.mint(room, "mallory", "--publish", "--subscribe")
    offer = (await peers.create_offer(direction="sendrecv")).encode()
    status, raw, _ = await post(ctx, f"/rooms/{room}/join", offer, token)
    head = raw.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    loc = next((ln.split(":", 1)[1].strip() for ln in head.split("\r\n")
                if ln.lower().startswith("location:")), "")
    pid = next((ln.split(":", 1)[1].strip() for ln in head.split("\r\n")
                if ln.lower().startswith("x-participant-id:")), "")
    if not ctx.check("join a room session 201 with a subscriptions Link",
                     status == 201 and bool(loc) and "urn:x-sfu:subscriptions" in head,
                     f"status {status}"):
        return
    path = f"{loc}/subscriptions"
    good = json.dumps({"video": [{"participant": ctx.healthy_participant, "maxHeight": 180}]})
    status, raw, _ = await post(ctx, path, good.encode(), token, "application/json")
    ctx.check("a good subscription -> 204", status == 204, raw[:200].decode(errors="replace"))
    many = json.dumps({"video": [{"participant": f"{i + 1:08x}"} for i in range(33)]})
    deep = "[" * 100000 + "]" * 100000
    cases = [
        ("wrong content type", b"{}", token, "text/plain", 415, "application/json"),
        ("not JSON", b"{\"video\":[", token, "application/json", 400, "not valid JSON"),
        ("an array", b"[]", token, "application/json", 400, "must be a JSON object"),
        ("100000 nested arrays", deep.encode(), token, "application/json", 413, ""),
        ("2000 open arrays", ("[" * 2000).encode(), token, "application/json", 400, ""),
        ("4097 bytes", b"{" + b" " * 4095 + b"}", token, "application/json", 400, "too large"),
        ("33 participants", many.encode(), token, "application/json", 400, "more than 32"),
        ("a slot number as participant", b'{"video":[{"participant":"fffffff1"}]}', token,
         "application/json", 400, "participant id"),
        ("a participant twice", json.dumps({"video": [{"participant": "0000000a"}] * 2}).encode(),
         token, "application/json", 400, "listed twice"),
        ("invalid UTF-8", b'{"video":[{"participant":"\xff\xfe"}]}', token, "application/json",
         400, "not valid JSON"),
        ("a NUL escape", b'{"video":[{"participant":"0000\\u00000a"}]}', token,
         "application/json", 400, ""),
        ("no token", good.encode(), None, "application/json", 401, ""),
        ("another participant's token", good.encode(), other, "application/json", 403,
         "did not create"),
        ("an unknown session", good.encode(), token, "application/json", 404, "no such"),
    ]
    for name, body, tok, ctype, want, reason in cases:
        p = path if name != "an unknown session" else "/sessions/" + "0" * 32 + "/subscriptions"
        status, raw, took = await post(ctx, p, body, tok, ctype)
        text = raw.split(b"\r\n\r\n", 1)[-1][:160].decode(errors="replace").strip()
        ctx.check(f"subscriptions with {name} -> {want}", status == want and reason in text,
                  f"status {status} in {took * 1000:.0f} ms: {text}")
    status, body = await asyncio.to_thread(http_get, f"{ctx.url}/rooms/{room}", 5.0, token)
    me = {}
    if status == 200:
        me = next((p for p in json.loads(body).get("participants", [])
                   if p.get("participant") == pid), {})
    # GET /rooms lists a room once a publisher is negotiated; this session
    # never connects, so the room may be unlisted (404): then nothing to see.
    ctx.check("the session keeps the last good subscription (GET /rooms)",
              status == 404 or me.get("subscribed") == 1, f"status {status}, {me}")
    status, _, _ = await peers.http("DELETE", f"{ctx.url}{loc}", token=token)
    ctx.check("DELETE the room session 200", status == 200, f"status {status}")
