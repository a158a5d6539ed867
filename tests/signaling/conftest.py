"""Helpers for signaling tests: real sessions, the real ASGI stack, one socket per peer."""

from __future__ import annotations

import contextlib
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from tests.support.servers import session_key_for

ORIGIN = "http://localhost"


class Peer:
    """One client socket through ``meet.asgi.application``: origin check, session, auth, route."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.welcome: dict | None = None
        self.peer_id: str | None = None

    async def send(self, frame) -> None:
        if isinstance(frame, str):
            await self.communicator.send_to(text_data=frame)
        else:
            await self.communicator.send_json_to(frame)

    async def receive(self, timeout: float = 2) -> dict:
        return await self.communicator.receive_json_from(timeout=timeout)

    async def receive_type(self, kind: str, timeout: float = 2) -> dict:
        """The next frame of type ``kind``, failing on any other frame in between."""
        frame = await self.receive(timeout)
        assert frame["type"] == kind, frame
        return frame

    async def nothing(self, timeout: float = 0.2) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def closed_with(self, timeout: float = 2) -> int:
        """Read until the close; return its code (fails if a frame that is not an error comes)."""
        while True:
            output = await self.communicator.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                return output.get("code", 1000)
            assert output["type"] == "websocket.send", output

    async def close(self) -> None:
        await self.communicator.disconnect()


@pytest.fixture
async def connect():
    """``await connect(slug, user, query=..., origin=...)`` → a ``Peer`` after the handshake.

    ``session_key`` instead of ``user``: a session made by the test (a guest's).

    A refused handshake (origin) leaves ``peer.welcome`` None; otherwise the first frame (the
    ``welcome`` or the admission ``error``) is read into ``peer.first``.
    """
    from meet.asgi import application

    opened: list[Peer] = []

    async def open_peer(
        slug,
        user=None,
        *,
        query: str = "",
        origin: str = ORIGIN,
        read=True,
        session_key: str | None = None,
    ):
        headers = [(b"origin", origin.encode()), (b"host", b"localhost")]
        if user is not None:
            session_key = await sync_to_async(session_key_for)(user)
        if session_key is not None:
            headers.append((b"cookie", f"sessionid={session_key}".encode()))
        path = f"/ws/rooms/{slug}/" + (f"?{query}" if query else "")
        communicator = WebsocketCommunicator(application, path, headers=headers)
        peer = Peer(communicator)
        opened.append(peer)
        connected, code = await communicator.connect(timeout=3)
        peer.accepted = connected
        peer.refusal_code = None if connected else code
        if connected and read:
            peer.first = await peer.receive()
            if peer.first["type"] == "welcome":
                peer.welcome = peer.first
                peer.peer_id = peer.first["self"]["peer_id"]
        return peer

    yield open_peer
    # Sockets a test left open are closed here, so no consumer outlives its test's event loop.
    for peer in opened:
        with contextlib.suppress(Exception):
            await peer.communicator.disconnect(timeout=2)


@pytest.fixture
def people(make_user):
    """Ana and Bob; modules that need a larger cast define their own."""
    return {name: make_user(name) for name in ("ana", "bob")}


@pytest.fixture
def room(make_room, people):
    """Ana's room (modules that need members or moderators define their own)."""
    return make_room("Weekly Sync", owner=people["ana"])


def dumps(frame) -> str:
    return json.dumps(frame)
