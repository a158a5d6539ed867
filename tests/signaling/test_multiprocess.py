"""Two real daphne processes on one Redis: presence, relay, chat and an admin kick cross between
them, and the peers of a process killed with SIGKILL leave the other's roster within the sweep."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

pytestmark = [pytest.mark.redis, pytest.mark.slow]

# Short enough to watch the sweep, long enough that a busy CI machine does not sweep a live
# process (production: 15 s and 45 s).
HEARTBEAT_SECONDS = 1.0
STALE_SECONDS = 6.0
OFFER = {"type": "offer", "sdp": "v=0\r\n"}


class Client:
    """A signaling client speaking to one daphne process over a real socket."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.welcome: dict = {}

    @classmethod
    async def open(
        cls,
        servers,
        index: int,
        slug: str,
        session: str,
        query: str = "",
        expect: tuple[str, ...] = ("welcome",),
    ) -> Client:
        process = servers.processes[index]
        socket = await ws_connect(
            f"{process.ws_url}/ws/rooms/{slug}/" + (f"?{query}" if query else ""),
            origin=process.base_url,
            additional_headers={"Cookie": f"sessionid={session}"},
            proxy=None,
            open_timeout=5,
        )
        client = cls(socket)
        client.welcome = await client.receive()
        assert client.welcome["type"] in expect, client.welcome
        return client

    @property
    def peer_id(self) -> str:
        return self.welcome["self"]["peer_id"]

    async def send(self, frame: dict) -> None:
        await self.socket.send(json.dumps(frame))

    async def receive(self, timeout: float = 5) -> dict:
        return json.loads(await asyncio.wait_for(self.socket.recv(), timeout))

    async def receive_type(self, kind: str, timeout: float = 5) -> dict:
        frame = await self.receive(timeout)
        assert frame["type"] == kind, frame
        return frame

    async def close_code(self, timeout: float = 5) -> int:
        try:
            while True:
                await asyncio.wait_for(self.socket.recv(), timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006


@pytest.fixture
def two_processes(live_servers):
    servers = live_servers(
        count=2,
        redis=True,
        extra_env={
            "PRESENCE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "PRESENCE_STALE_SECONDS": str(STALE_SECONDS),
        },
    )
    sessions = servers.create_users("ana", "bob", "cy", "root", staff=("root",))
    slug = servers.create_room("ana", "Weekly Sync")
    return servers, sessions, slug


async def test_join_relay_chat_kick_and_sigkill_across_two_processes(two_processes):
    servers, sessions, slug = two_processes
    ana = await Client.open(servers, 0, slug, sessions["ana"])
    bob = await Client.open(servers, 1, slug, sessions["bob"])

    # Presence crosses processes both ways.
    assert [p["peer_id"] for p in bob.welcome["peers"]] == [ana.peer_id]
    assert (await ana.receive_type("peer-joined"))["peer"]["peer_id"] == bob.peer_id

    # Relay: process 1 to process 0 and back, with the server's own "from".
    await bob.send({"type": "sdp", "to": ana.peer_id, "description": OFFER, "from": "spoof"})
    assert await ana.receive_type("sdp") == {
        "type": "sdp",
        "from": bob.peer_id,
        "description": OFFER,
    }
    await ana.send({"type": "ice", "to": bob.peer_id, "candidate": None})
    assert await bob.receive_type("ice") == {"type": "ice", "from": ana.peer_id, "candidate": None}

    # Chat reaches both processes with the same stored id.
    await ana.send({"type": "chat", "text": "hello across"})
    from_ana = await ana.receive_type("chat")
    assert await bob.receive_type("chat") == from_ana and from_ana["id"] > 0

    # An admin kick from a third process (a manage.py shell) closes a socket on process 1.
    cy = await Client.open(servers, 1, slug, sessions["cy"])
    assert (await ana.receive_type("peer-joined"))["peer"]["peer_id"] == cy.peer_id
    assert (await bob.receive_type("peer-joined"))["peer"]["peer_id"] == cy.peer_id
    started = time.monotonic()
    servers.run_python(f"""
from django.contrib.auth import get_user_model
from rooms.models import Participant
from rooms.moderation import participant_kick
target = Participant.objects.get(peer_id={cy.peer_id!r}, left_at__isnull=True)
participant_kick(participant=target, by=get_user_model().objects.get(username="root"),
                 reason="Removed by staff.")
""")
    assert (await cy.receive_type("kicked"))["by"]["username"] == "root"
    assert await cy.close_code() == 4410
    for other in (ana, bob):
        assert await other.receive_type("peer-left") == {
            "type": "peer-left",
            "peer_id": cy.peer_id,
            "reason": "kicked",
        }
    assert time.monotonic() - started < 10

    # Leaving from process 0 is seen on process 1.
    await ana.send({"type": "leave"})
    assert await bob.receive_type("peer-left") == {
        "type": "peer-left",
        "peer_id": ana.peer_id,
        "reason": "left",
    }
    ana = await Client.open(servers, 0, slug, sessions["ana"])
    assert (await bob.receive_type("peer-joined"))["peer"]["peer_id"] == ana.peer_id

    # SIGKILL: process 1 runs no disconnect; the sweep on process 0 ends bob.
    servers.kill_process(1)
    killed_at = time.monotonic()
    # Stale after STALE_SECONDS, noticed at the next heartbeat; the margin is for a busy machine.
    left = await ana.receive_type("peer-left", timeout=STALE_SECONDS + 2 * HEARTBEAT_SECONDS + 8)
    assert left == {"type": "peer-left", "peer_id": bob.peer_id, "reason": "connection-lost"}
    assert time.monotonic() - killed_at >= STALE_SECONDS - 1  # Swept, not told by a disconnect.
    # Cy was kicked above and sits out the kick cooldown, so staff is the late joiner.
    late = await Client.open(servers, 0, slug, sessions["root"])
    assert [p["peer_id"] for p in late.welcome["peers"]] == [ana.peer_id]
    await ana.socket.close()
    await late.socket.close()


async def test_a_knock_and_its_admission_cross_between_processes(two_processes):
    servers, sessions, slug = two_processes
    servers.run_python(
        "from rooms.models import Room\n"
        f"Room.objects.filter(slug={slug!r}).update(lobby='non_members')\n"
    )
    ana = await Client.open(servers, 0, slug, sessions["ana"])
    bob = await Client.open(servers, 1, slug, sessions["bob"], expect=("lobby",))
    assert bob.welcome["hosts_present"] is True
    knock = (await ana.receive_type("knock"))["knock"]
    await ana.send({"type": "admit", "knock_id": knock["id"]})
    assert (await ana.receive_type("knock-ended"))["status"] == "admitted"
    welcome = await bob.receive_type("welcome")
    assert (await ana.receive_type("peer-joined"))["peer"]["peer_id"] == welcome["self"]["peer_id"]

    # A denial crosses too, and so does a host arriving for a knocker who waited alone.
    await ana.socket.close()
    cy = await Client.open(servers, 1, slug, sessions["cy"], expect=("lobby",))
    assert cy.welcome["hosts_present"] is False
    ana = await Client.open(servers, 0, slug, sessions["ana"])
    assert [k["user"]["username"] for k in ana.welcome["lobby"]] == ["cy"]
    assert (await cy.receive_type("lobby"))["hosts_present"] is True
    await ana.send({"type": "deny", "knock_id": ana.welcome["lobby"][0]["id"]})
    assert (await cy.receive_type("error"))["code"] == "lobby_denied"
    assert await cy.close_code() == 4416
    await bob.socket.close()
    await ana.socket.close()
