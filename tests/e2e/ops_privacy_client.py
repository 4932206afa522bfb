#!/usr/bin/python3
"""The client side of ops_privacy.sh, run inside its network namespace.

  ops_privacy_client.py --url URL --ip NS_IP --room ROOM --pub-token T
                        --view-token T --admin-token T --out DIR

A WHIP publisher and a WHEP viewer of it, and a room participant with its
event stream (token in ?access_token=), all with ICE on NS_IP only. While the
call is live it saves GET /rooms, GET /rooms/ROOM and /metrics into DIR;
then it ends every session with DELETE and writes DIR/secrets.json: the ICE
passwords and ufrags of both sides, the client's candidate ports, the
session paths. Prints PASS/FAIL lines and "N passed, M failed".
"""
import argparse
import asyncio
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_lib import Call, Checks, request  # noqa: E402
import peers  # noqa: E402

c = Checks()


def sdp_values(sdp, attr):
    return sorted(set(re.findall(rf"^a={attr}:(\S+)", sdp, re.M)))


def candidate_ports(sdp):
    return sorted({int(m) for m in re.findall(r"^a=candidate:\S+ \d+ \S+ \d+ \S+ (\d+) typ", sdp, re.M)})


def save(path, text):
    with open(path, "w") as f:
        f.write(text)


async def run(args):
    import aioice.ice
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [args.ip]

    call = Call(args.url, args.room, args.pub_token)
    await call.start(viewer=False)
    call.view, _ = await peers.whep_view(args.url, args.room, call.pub.participant_id,
                                         call.receiver, args.view_token)
    await peers.wait_connected(call.view.pc)
    call.token = args.pub_token
    await call.join_room()
    snap = await asyncio.to_thread(call.events.wait_for, "snapshot", 5)
    c.check("room participant's event stream (access_token) gives a snapshot", snap is not None)
    await asyncio.sleep(3)
    c.check("viewer decoded frames from the namespace", len(call.receiver.numbers) >= 10,
            f"{len(call.receiver.numbers)} frames")

    admin = {"Authorization": f"Bearer {args.admin_token}"}
    for name, path in (("rooms.json", "/rooms"), (f"room.json", f"/rooms/{args.room}"),
                       ("metrics.txt", "/metrics")):
        status, _, body = await asyncio.to_thread(request, "GET", args.url + path, None, admin)
        c.check(f"GET {path} during the call -> 200", status == 200, str(status))
        save(os.path.join(args.out, name), body)

    sessions = call.sessions()
    secrets = {
        "client_ice_pwd": sorted({p for s in sessions for p in sdp_values(s.offer_sdp or
                                                                          s.pc.localDescription.sdp, "ice-pwd")}),
        "client_ice_ufrag": sorted({p for s in sessions for p in sdp_values(s.pc.localDescription.sdp,
                                                                            "ice-ufrag")}),
        "server_ice_pwd": sorted({p for s in sessions for p in sdp_values(s.pc.remoteDescription.sdp,
                                                                          "ice-pwd")}),
        "client_ports": sorted({p for s in sessions for p in candidate_ports(s.pc.localDescription.sdp)}),
        "session_paths": sorted({s.url.split("/sessions/")[-1] for s in sessions if s.url}),
    }
    c.check("collected ICE passwords of both sides",
            len(secrets["client_ice_pwd"]) >= 3 and len(secrets["server_ice_pwd"]) >= 3,
            f'{len(secrets["client_ice_pwd"])} client, {len(secrets["server_ice_pwd"])} server')
    statuses = await call.leave()
    c.check("DELETE of every session -> 200", statuses == [200, 200, 200], str(statuses))
    save(os.path.join(args.out, "secrets.json"), json.dumps(secrets))


def main():
    ap = argparse.ArgumentParser()
    for a in ("--url", "--ip", "--room", "--pub-token", "--view-token", "--admin-token", "--out"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    try:
        asyncio.run(run(args))
    except Exception as e:  # noqa: BLE001
        c.check("client ran to the end", False, repr(e))
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
