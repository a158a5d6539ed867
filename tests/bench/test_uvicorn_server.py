"""The benchmark's other ASGI server: meet on uvicorn admits sockets and relays between them.

bench/signaling_load.py measures it beside daphne (issue #14); if uvicorn stopped serving
meet, that comparison would quietly measure nothing.
"""

from __future__ import annotations

import json

from websockets.asyncio.client import connect as ws_connect

from tests.support.servers import LiveServers


async def test_meet_on_uvicorn_welcomes_two_peers_and_relays_between_them(tmp_path):
    servers = LiveServers(workdir=tmp_path, server="uvicorn")
    servers.start()
    try:
        sessions = servers.create_users("ana", "bo")
        slug = servers.create_room("ana", "Uvicorn")
        process = servers.processes[0]

        def connect(name: str):
            return ws_connect(
                f"{process.ws_url}/ws/rooms/{slug}/",
                origin=process.base_url,
                additional_headers={"Cookie": f"sessionid={sessions[name]}"},
                proxy=None,
            )

        async with connect("ana") as ana, connect("bo") as bo:
            ana_welcome = json.loads(await ana.recv())
            bo_welcome = json.loads(await bo.recv())
            assert ana.response.headers.get("server") == "uvicorn"
            assert ana_welcome["type"] == bo_welcome["type"] == "welcome"
            assert [peer["peer_id"] for peer in bo_welcome["peers"]] == [
                ana_welcome["self"]["peer_id"]
            ]
            assert json.loads(await ana.recv())["type"] == "peer-joined"
            description = {"type": "offer", "sdp": "v=0\r\n"}
            await ana.send(
                json.dumps(
                    {"type": "sdp", "to": bo_welcome["self"]["peer_id"], "description": description}
                )
            )
            relayed = json.loads(await bo.recv())
            assert relayed["type"] == "sdp"
            assert relayed["from"] == ana_welcome["self"]["peer_id"]
            assert relayed["description"] == description
    finally:
        servers.stop()
