"""Redis stops in the middle of a call across two daphne processes, then comes back.

The test runs its own redis-server on a free port (the machine's shared Redis is never stopped).
While Redis is down a chat and a state change cannot be broadcast and a peer hangs up; once it is
back nobody is left behind as a ghost: the peer that hung up leaves every roster and the next
joiner's welcome, the chat's sender was told, and the room relays again.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.signaling.test_multiprocess import Client
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.slow]

HEARTBEAT_SECONDS = 1.0
STALE_SECONDS = 4.0
# How long the room may take to notice, after Redis is back: a heartbeat to retry the lost
# announcement, plus the stale limit if it falls to the sweep; the margin is for a busy machine.
RECOVERY_SECONDS = HEARTBEAT_SECONDS + STALE_SECONDS + 10


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(workdir=tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def two_processes(live_servers, redis_server):
    servers = live_servers(
        count=2,
        extra_env={
            "REDIS_URL": redis_server.url,
            "CHANNEL_LAYER_PREFIX": "meet-outage",
            "CACHE_KEY_PREFIX": "meet-outage",
            "PRESENCE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "PRESENCE_STALE_SECONDS": str(STALE_SECONDS),
        },
    )
    sessions = servers.create_users("ana", "bob", "cy", "dee")
    slug = servers.create_room("ana", "Weekly Sync")
    return servers, sessions, slug


async def _next_of_type(client: Client, kind: str, timeout: float) -> dict:
    """The next frame of type ``kind``, skipping presence frames (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {kind} frame within {timeout} s"
        frame = await client.receive(timeout=remaining)
        if frame["type"] == kind:
            return frame
        assert frame["type"] in {"peer-joined", "peer-left", "state"}, frame


async def test_redis_outage_leaves_no_ghost_and_tells_the_chat_sender(two_processes, redis_server):
    servers, sessions, slug = two_processes
    ana = await Client.open(servers, 0, slug, sessions["ana"])
    bob = await Client.open(servers, 1, slug, sessions["bob"])
    await ana.receive_type("peer-joined")
    cy = await Client.open(servers, 1, slug, sessions["cy"])
    await ana.receive_type("peer-joined")
    await bob.receive_type("peer-joined")

    redis_server.stop()

    # The chat is refused with an error its sender can show, on a socket that stays open.
    await ana.send({"type": "chat", "text": "lost words"})
    error = await ana.receive(timeout=20)
    assert (error["type"], error["code"], error["ref"]) == ("error", "not_delivered", "chat")
    await bob.send({"type": "state", "audio": False})
    error = await bob.receive(timeout=20)
    assert (error["type"], error["code"], error["ref"]) == ("error", "not_delivered", "state")
    await ana.send({"type": "ping"})
    assert await ana.receive_type("pong", timeout=10)
    # A peer hangs up while nobody can be told.
    await cy.socket.close()

    redis_server.start()
    back_at = time.monotonic()

    # Those still in the call are told that cy left once the layer is back.
    for client in (ana, bob):
        left = await _next_of_type(client, "peer-left", RECOVERY_SECONDS)
        assert (left["peer_id"], left["reason"]) == (cy.peer_id, "connection-lost")
    assert time.monotonic() - back_at < RECOVERY_SECONDS

    # A fresh joiner sees exactly the living, and not the chat that nobody received.
    dee = await Client.open(servers, 0, slug, sessions["dee"])
    assert sorted(p["peer_id"] for p in dee.welcome["peers"]) == sorted([ana.peer_id, bob.peer_id])
    assert "lost words" not in [m["text"] for m in dee.welcome["chat"]]

    # The room relays again across both processes.
    await ana.send({"type": "chat", "text": "we are back"})
    for client in (bob, dee):
        assert (await _next_of_type(client, "chat", 10))["text"] == "we are back"
    await asyncio.gather(*(c.socket.close() for c in (ana, bob, dee)))
