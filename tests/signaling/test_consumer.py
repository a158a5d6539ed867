"""The signaling consumer through the real ASGI stack, one WebsocketCommunicator per peer."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def room_with_users(make_user, make_room):
    ana = make_user("ana")
    bob = make_user("bob")
    cy = make_user("cy")
    room = make_room("Weekly Sync", owner=ana)
    return room, ana, bob, cy


async def test_two_peers_get_welcome_and_peer_joined_and_relay_sdp(connect, room_with_users):
    room, ana, bob, _ = room_with_users
    first = await connect(room.slug, ana)
    assert first.welcome["self"]["role"] == "owner"
    assert first.welcome["peers"] == []
    second = await connect(room.slug, bob)
    assert [p["peer_id"] for p in second.welcome["peers"]] == [first.peer_id]
    joined = await first.receive_type("peer-joined")
    assert joined["peer"]["peer_id"] == second.peer_id
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    await second.send({"type": "sdp", "to": first.peer_id, "description": offer, "from": "x"})
    relayed = await first.receive_type("sdp")
    assert relayed == {"type": "sdp", "from": second.peer_id, "description": offer}
    assert await second.nothing()
