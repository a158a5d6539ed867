"""signaling.janus against a real Janus started from deploy/janus/ (the API only, no media)."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from signaling.janus import (
    VIDEOROOM,
    JanusConnection,
    JanusError,
    JanusUnavailable,
)
from tests.support.janus import Janus

pytestmark = pytest.mark.janus


@pytest.fixture(scope="module")
def janus(tmp_path_factory):
    with Janus(tmp_path_factory.mktemp("janus")) as server:
        yield server


async def _connect(janus: Janus, **kwargs) -> JanusConnection:
    return await JanusConnection(janus.url, api_secret=janus.api_secret, **kwargs).connect()


async def _videoroom_create(handle, janus: Janus, *, room: int | None = None, **extra) -> int:
    room = room or secrets.randbelow(2**40) + 1
    reply = await handle.request(
        {
            "request": "create",
            "room": room,
            "admin_key": janus.admin_key,
            "secret": "room-secret",
            "publishers": 20,
            **extra,
        }
    )
    assert reply.data["videoroom"] == "created"
    return reply.data["room"]


def test_the_template_loads_only_the_videoroom_plugin_and_the_websocket_transport(janus):
    info = janus.info()
    assert info["janus"] == "server_info"
    assert list(info["plugins"]) == [VIDEOROOM]
    assert list(info["transports"]) == ["janus.transport.websockets"]
    assert info["api_secret"] is True


async def test_a_request_without_the_api_secret_is_refused(janus):
    connection = await JanusConnection(janus.url, api_secret="wrong").connect()
    try:
        with pytest.raises(JanusError) as refused:
            await connection.create_session()
        assert refused.value.code == 403
    finally:
        await connection.close()


async def test_creating_a_videoroom_needs_the_admin_key_and_no_demo_room_exists(janus):
    connection = await _connect(janus)
    try:
        session = await connection.create_session()
        handle = await session.attach()
        with pytest.raises(JanusError):
            await handle.request({"request": "create", "room": 4242, "admin_key": "wrong"})
        rooms = (await handle.request({"request": "list"})).data["list"]
        # Debian's demo rooms (1234, 5678) are not in the template; only what meet made exists.
        assert {room["room"] for room in rooms}.isdisjoint({1234, 5678})
        room = await _videoroom_create(handle, janus)
        assert (await handle.request({"request": "exists", "room": room})).data["exists"] is True
        await handle.request({"request": "destroy", "room": room, "secret": "room-secret"})
        assert (await handle.request({"request": "exists", "room": room})).data["exists"] is False
        await session.destroy()
    finally:
        await connection.close()


async def test_concurrent_requests_on_one_connection_each_get_their_own_answer(janus):
    connection = await _connect(janus)
    try:
        sessions = await asyncio.gather(*(connection.create_session() for _ in range(20)))
        assert len({session.id for session in sessions}) == 20
        handles = await asyncio.gather(*(session.attach() for session in sessions))
        assert len({handle.id for handle in handles}) == 20
        await asyncio.gather(*(session.destroy() for session in sessions))
        assert connection.sessions == {}
    finally:
        await connection.close()


async def test_an_asynchronous_join_returns_its_event_and_unsolicited_events_reach_the_handle(
    janus,
):
    connection = await _connect(janus)
    try:
        admin = await (await connection.create_session()).attach()
        room = await _videoroom_create(admin, janus)
        ana_heard: list[dict] = []
        bob_heard: list[dict] = []
        ana = await (await connection.create_session()).attach(listener=ana_heard.append)
        joined = await ana.send(
            {"request": "join", "ptype": "publisher", "room": room, "id": 11, "display": "Ana"}
        )
        assert joined.data["videoroom"] == "joined"
        assert joined.data["id"] == 11
        bob = await (await connection.create_session()).attach(listener=bob_heard.append)
        await bob.send(
            {"request": "join", "ptype": "publisher", "room": room, "id": 12, "display": "Bob"}
        )
        participants = (await admin.request({"request": "listparticipants", "room": room})).data[
            "participants"
        ]
        assert {participant["id"] for participant in participants} == {11, 12}

        # Kicking Ana: her handle hears it, and so does Bob's, each on its own handle.
        await admin.request({"request": "kick", "room": room, "id": 11, "secret": "room-secret"})
        for _ in range(50):
            if ana_heard and bob_heard:
                break
            await asyncio.sleep(0.05)
        ana_data = [event["plugindata"]["data"] for event in ana_heard]
        bob_data = [event["plugindata"]["data"] for event in bob_heard]
        assert {"videoroom": "event", "room": room, "leaving": "ok", "reason": "kicked"} in ana_data
        assert {"videoroom": "event", "room": room, "kicked": 11} in bob_data
        assert all(event["sender"] == ana.id for event in ana_heard)
        assert all(event["sender"] == bob.id for event in bob_heard)
    finally:
        await connection.close()


async def test_keepalives_keep_an_idle_session_usable(janus):
    connection = await _connect(janus, keepalive_seconds=0.2)
    try:
        session = await connection.create_session()
        await asyncio.sleep(1.0)
        handle = await session.attach()
        assert handle.id in connection.handles
    finally:
        await connection.close()


async def test_losing_janus_fails_waiting_requests_and_calls_on_lost_once(tmp_path):
    lost: list[JanusConnection] = []
    with Janus(tmp_path) as server:
        connection = await JanusConnection(
            server.url, api_secret=server.api_secret, on_lost=lost.append
        ).connect()
        await connection.create_session()
        server.kill()
        for _ in range(100):
            if lost:
                break
            await asyncio.sleep(0.05)
    assert lost == [connection]
    assert not connection.connected
    with pytest.raises(JanusUnavailable):
        await connection.create_session()


async def test_connecting_to_a_node_that_is_down_says_so():
    with pytest.raises(JanusUnavailable):
        await JanusConnection("ws://127.0.0.1:9", api_secret="x").connect()
