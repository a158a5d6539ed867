"""Fixtures for room tests: a listener on the channel layer standing in for live sockets."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from rooms.models import Participant
from signaling.events import delivery_for, room_group


class LayerListener:
    """A channel on the real (in-memory) channel layer, as a connected consumer would hold.

    ``join(room)`` adds it to the room's group; ``receive()`` returns what the next event it
    got makes a socket do (``frame``, ``close``, ``roles``...: ``signaling.events.Delivery``
    as a dict), and ``nothing_pending()`` proves no event arrived.
    """

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)("test.")

    def join(self, room) -> LayerListener:
        async_to_sync(self.layer.group_add)(room_group(room.pk), self.channel)
        return self

    def receive(self, timeout: float = 2.0) -> dict:
        async def receive():
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        return dataclasses.asdict(delivery_for(async_to_sync(receive)()))

    def nothing_pending(self) -> bool:
        try:
            self.receive(timeout=0.05)
        except TimeoutError:
            return True
        return False


@pytest.fixture
def listener():
    layer = get_channel_layer()
    listeners: list[LayerListener] = []

    def make() -> LayerListener:
        listeners.append(LayerListener())
        return listeners[-1]

    yield make
    async_to_sync(layer.flush)()


@pytest.fixture
def connect_participant(listener):
    """Record a connected participant whose socket is a listener on the layer."""

    def connect(room, user, role=Participant.Role.MEMBER):
        socket = listener().join(room)
        participant = Participant.objects.create(
            room=room,
            user=user,
            peer_id=f"peer-{user.username}",
            channel_name=socket.channel,
            role=role,
            last_seen=timezone.now(),
        )
        return participant, socket

    return connect


@pytest.fixture
def no_purge_yet():
    """The test starts as if no daily purge had run yet in this process, and leaves it so."""
    from django.core.cache import cache

    from rooms import services

    cache.delete(services.PURGE_CACHE_KEY)
    yield
    cache.delete(services.PURGE_CACHE_KEY)
