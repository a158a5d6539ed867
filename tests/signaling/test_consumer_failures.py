"""The consumer when the database or the channel layer fails under it.

Whatever fails, the system must stay consistent: a participant whose socket is gone is ended
exactly once (or at least no longer kept alive by the heartbeat, so the sweep ends it), the room
is told, and a sender whose chat could not be broadcast is told so instead of losing its socket.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from rooms import services
from rooms.models import ChatMessage, Participant
from signaling import presence
from signaling.events import delivery_for, peer_left_event, room_group

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def ana_and_bob(connect, room, people):
    ana = await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    assert (await ana.receive_type("peer-joined"))["peer"]["peer_id"] == bob.peer_id
    return ana, bob


@pytest.fixture
def leave_calls(monkeypatch):
    """Every call of ``participant_leave`` as (participant id, whether it ended the row)."""
    calls: list[tuple[int, bool]] = []
    real_leave = services.participant_leave

    def counted(*, participant_id, reason):
        ended = real_leave(participant_id=participant_id, reason=reason)
        calls.append((participant_id, ended))
        return ended

    monkeypatch.setattr(services, "participant_leave", counted)
    return calls


def _layer_down_for(monkeypatch, *frame_types: str) -> None:
    """Make ``group_send`` of these frame types (all, if none given) and ``group_discard``
    fail as they do while Redis is unreachable."""
    layer = get_channel_layer()
    real_group_send = layer.group_send

    async def group_send(group, message):
        kind = (delivery_for(message).frame or {}).get("type")
        if not frame_types or kind in frame_types:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
        await real_group_send(group, message)

    async def group_discard(group, channel):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(layer, "group_send", group_send)
    monkeypatch.setattr(layer, "group_discard", group_discard)


async def _row(peer_id: str) -> Participant:
    return await sync_to_async(Participant.objects.get)(peer_id=peer_id)


async def test_a_database_failure_in_a_handler_ends_the_participant_once_and_its_heartbeat(
    ana_and_bob, monkeypatch, leave_calls
):
    ana, bob = ana_and_bob
    bob_row = await _row(bob.peer_id)

    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(presence, "participant_state_update", database_gone)
    await bob.send({"type": "state", "audio": False})
    assert await bob.closed_with() == 1011
    assert await ana.receive_type("peer-left") == {
        "type": "peer-left",
        "peer_id": bob.peer_id,
        "reason": "connection-lost",
    }
    assert bob_row.pk not in presence.presence_keeper().channels
    # The socket's own disconnect, after the close, neither ends the row again nor announces it.
    await bob.close()
    assert await ana.nothing()
    assert [ended for pk, ended in leave_calls if pk == bob_row.pk] == [True]
    row = await _row(bob.peer_id)
    assert row.left_at is not None and row.leave_reason == "connection-lost"


async def test_a_chat_the_layer_cannot_broadcast_is_hidden_and_its_sender_told(
    ana_and_bob, connect, room, people, monkeypatch
):
    ana, bob = ana_and_bob
    _layer_down_for(monkeypatch, "chat")
    await bob.send({"type": "chat", "text": "anyone there?"})
    error = await bob.receive_type("error")
    assert (error["code"], error["ref"]) == ("not_delivered", "chat")
    assert await ana.nothing()
    stored = await sync_to_async(list)(ChatMessage.objects.values_list("text", "hidden"))
    assert stored == [("anyone there?", True)]
    # The socket lives on, and a newcomer's history does not show what nobody received.
    await bob.send({"type": "ping"})
    assert await bob.receive() == {"type": "pong"}
    monkeypatch.undo()
    cy = await connect(room.slug, people["ana"])
    assert cy.welcome["chat"] == []


async def test_a_state_change_the_layer_cannot_broadcast_answers_not_delivered(
    ana_and_bob, monkeypatch
):
    ana, bob = ana_and_bob
    _layer_down_for(monkeypatch, "state")
    await bob.send({"type": "state", "hand": True})
    error = await bob.receive_type("error")
    assert (error["code"], error["ref"]) == ("not_delivered", "state")
    assert await ana.nothing()
    await bob.send({"type": "ping"})
    assert await bob.receive() == {"type": "pong"}


async def test_disconnect_with_the_layer_down_ends_the_participant_and_tells_the_room_later(
    ana_and_bob, monkeypatch, leave_calls
):
    ana, bob = ana_and_bob
    bob_row = await _row(bob.peer_id)
    _layer_down_for(monkeypatch)
    await bob.close()
    row = await _row(bob.peer_id)
    assert row.left_at is not None and row.leave_reason == "connection-lost"
    assert bob_row.pk not in presence.presence_keeper().channels
    assert await ana.nothing()
    # A heartbeat later the keeper finds the ended row and tells ana itself, layer or not.
    await sync_to_async(Participant.objects.filter(pk=bob_row.pk).update)(
        left_at=timezone.now() - timedelta(seconds=20)
    )
    await presence.presence_keeper().beat()
    assert await ana.receive_type("peer-left") == {
        "type": "peer-left",
        "peer_id": bob.peer_id,
        "reason": "connection-lost",
    }
    # Once, however many beats follow, and a late announcement from the layer is not repeated.
    await presence.presence_keeper().beat()
    monkeypatch.undo()
    late = peer_left_event(peer_id=bob.peer_id, reason="connection-lost")
    await get_channel_layer().group_send(room_group(bob_row.room_id), late)
    assert await ana.nothing()
    assert [ended for pk, ended in leave_calls if pk == bob_row.pk] == [True]


async def test_a_database_failure_in_disconnect_stops_the_heartbeat_so_the_sweep_ends_it(
    ana_and_bob, monkeypatch
):
    ana, bob = ana_and_bob
    bob_row = await _row(bob.peer_id)

    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "participant_leave", database_gone)
    await bob.close()
    assert bob_row.pk not in presence.presence_keeper().channels
    monkeypatch.undo()
    # The heartbeat no longer refreshes bob: its row ages past the stale limit and is swept.
    await presence.presence_keeper().beat()
    row = await _row(bob.peer_id)
    assert row.left_at is None and row.last_seen == bob_row.last_seen
    await sync_to_async(Participant.objects.filter(pk=bob_row.pk).update)(
        last_seen=timezone.now() - timedelta(minutes=5)
    )
    await presence.presence_keeper().beat()
    assert (await ana.receive_type("peer-left"))["peer_id"] == bob.peer_id


async def test_a_failed_peer_joined_announcement_ends_the_newcomer(
    connect, room, people, monkeypatch, leave_calls
):
    ana = await connect(room.slug, people["ana"])
    _layer_down_for(monkeypatch)
    bob = await connect(room.slug, people["bob"])
    assert bob.welcome is not None
    assert await bob.closed_with() == 1011
    row = await _row(bob.peer_id)
    assert row.left_at is not None and row.leave_reason == "connection-lost"
    assert row.pk not in presence.presence_keeper().channels
    assert await ana.nothing()


async def test_an_error_no_handler_catches_still_stops_the_heartbeat_of_its_row(
    ana_and_bob, monkeypatch
):
    from signaling.consumer import RoomConsumer

    ana, bob = ana_and_bob
    bob_row = await _row(bob.peer_id)
    real_deliver = RoomConsumer.peer_state

    async def broken_deliver(self, event):
        if self.peer_id == bob.peer_id:
            raise RuntimeError("a bug in event handling")
        await real_deliver(self, event)

    monkeypatch.setattr(RoomConsumer, "peer_state", broken_deliver)
    await ana.send({"type": "state", "hand": True})
    with pytest.raises(RuntimeError):
        await bob.communicator.receive_output(timeout=2)
    # The consumer died without a disconnect; its row is no longer kept alive, so the sweep
    # ends it after the stale limit instead of it haunting every welcome.
    assert bob_row.pk not in presence.presence_keeper().channels
    await presence.presence_keeper().beat()
    row = await _row(bob.peer_id)
    assert row.left_at is None and row.last_seen == bob_row.last_seen
