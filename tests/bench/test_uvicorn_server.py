"""The benchmark's other ASGI server: meet on uvicorn admits sockets and relays between them.

bench/signaling_load.py measures it beside daphne (issue #14); if uvicorn stopped serving
meet, that comparison would quietly measure nothing.
"""

from __future__ import annotations

import pytest

from tests.signaling.test_multiprocess import Client
from tests.support.servers import LiveServers


async def test_meet_on_uvicorn_welcomes_two_peers_and_relays_between_them(tmp_path):
    servers = LiveServers(workdir=tmp_path, server="uvicorn")
    servers.start()
    try:
        sessions = servers.create_users("ana", "bo")
        slug = servers.create_room("ana", "Uvicorn")
        ana = await Client.open(servers, 0, slug, sessions["ana"])
        bo = await Client.open(servers, 0, slug, sessions["bo"])
        assert ana.socket.response.headers.get("server") == "uvicorn"
        assert [peer["peer_id"] for peer in bo.welcome["peers"]] == [ana.peer_id]
        await ana.receive_type("peer-joined")
        description = {"type": "offer", "sdp": "v=0\r\n"}
        await ana.send({"type": "sdp", "to": bo.peer_id, "description": description})
        relayed = await bo.receive_type("sdp")
        assert relayed["from"] == ana.peer_id
        assert relayed["description"] == description
        await ana.socket.close()
        await bo.socket.close()
    finally:
        servers.stop()


def test_an_unknown_server_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(ValueError, match="daphne or uvicorn"):
        LiveServers(workdir=tmp_path, server="gunicorn")
