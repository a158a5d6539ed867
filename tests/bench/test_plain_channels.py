"""The benchmark's yardstick, the plainest Channels relay, serves and relays on daphne."""

from __future__ import annotations

import json

from websockets.asyncio.client import connect as ws_connect

from tests.support.servers import LiveServers


async def test_the_plain_relay_welcomes_each_socket_and_relays_to_the_named_one(tmp_path):
    servers = LiveServers(workdir=tmp_path, application="bench.plain_channels:application")
    servers.start()
    try:
        url = f"{servers.processes[0].ws_url}/ws/rooms/any-room/"
        async with ws_connect(url, proxy=None) as ana, ws_connect(url, proxy=None) as bo:
            ana_welcome = json.loads(await ana.recv())
            bo_welcome = json.loads(await bo.recv())
            assert ana_welcome["type"] == bo_welcome["type"] == "welcome"
            assert ana_welcome["self"]["peer_id"] != bo_welcome["self"]["peer_id"]
            frame = {"type": "sdp", "to": bo_welcome["self"]["peer_id"], "description": "x"}
            await ana.send(json.dumps(frame))
            assert json.loads(await bo.recv()) == frame
    finally:
        servers.stop()
