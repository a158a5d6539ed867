"""Moderation services as the admin calls them: from synchronous code, outside the consumer."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from rooms import moderation
from rooms.models import Participant, Room
from tests.signaling.conftest import connect  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(make_user, make_room):
    ana, bob, admin = make_user("ana"), make_user("bob"), make_user("root", is_staff=True)
    return make_room("Board", owner=ana), ana, bob, admin


async def _row(peer_id: str) -> Participant:
    return await sync_to_async(Participant.objects.select_related("room").get)(peer_id=peer_id)


async def test_admin_kick_closes_the_socket_and_tells_the_room(connect, setup):  # noqa: F811
    room, ana, bob, admin = setup
    owner = await connect(room.slug, ana)
    member = await connect(room.slug, bob)
    await owner.receive_type("peer-joined")
    row = await _row(member.peer_id)
    await sync_to_async(moderation.participant_kick)(
        participant=row, by=admin, reason="Removed by staff."
    )
    kicked = await member.receive_type("kicked")
    assert kicked == {
        "type": "kicked",
        "by": {"id": admin.pk, "username": "root", "display_name": "Root"},
        "reason": "Removed by staff.",
    }
    assert await member.closed_with() == 4410
    assert await owner.receive_type("peer-left") == {
        "type": "peer-left",
        "peer_id": member.peer_id,
        "reason": "kicked",
    }
    await member.close()
    assert await owner.nothing()  # The socket's own disconnect does not announce it twice.


async def test_kicking_a_participant_that_already_left_announces_nothing(connect, setup):  # noqa: F811
    room, ana, bob, admin = setup
    owner = await connect(room.slug, ana)
    member = await connect(room.slug, bob)
    await owner.receive_type("peer-joined")
    await member.close()
    await owner.receive_type("peer-left")
    await sync_to_async(moderation.participant_kick)(
        participant=await _row(member.peer_id), by=admin
    )
    assert await owner.nothing()
    assert (await _row(member.peer_id)).leave_reason == "connection-lost"


async def test_room_end_from_the_admin_ends_the_call_and_closes_the_room(connect, setup):  # noqa: F811
    room, ana, bob, admin = setup
    owner = await connect(room.slug, ana)
    member = await connect(room.slug, bob)
    await owner.receive_type("peer-joined")
    await sync_to_async(moderation.room_end)(room=room, by=admin)
    for peer in (owner, member):
        assert (await peer.receive_type("room-ended"))["by"]["username"] == "root"
        assert await peer.closed_with() == 4411
    fresh = await sync_to_async(Room.objects.get)(pk=room.pk)
    assert fresh.closed_at is not None
    reasons = await sync_to_async(list)(Participant.objects.values_list("leave_reason", flat=True))
    assert reasons == ["room-ended", "room-ended"]


async def test_room_lock_saves_and_broadcasts(connect, setup):  # noqa: F811
    room, ana, _bob, admin = setup
    owner = await connect(room.slug, ana)
    await sync_to_async(moderation.room_lock)(room=room, by=admin, locked=True)
    assert await owner.receive_type("room") == {"type": "room", "locked": True}
    assert (await sync_to_async(Room.objects.get)(pk=room.pk)).is_locked


async def test_ask_mute_reaches_only_the_target(connect, setup):  # noqa: F811
    room, ana, bob, admin = setup
    owner = await connect(room.slug, ana)
    member = await connect(room.slug, bob)
    await owner.receive_type("peer-joined")
    await sync_to_async(moderation.participant_ask_mute)(
        participant=await _row(member.peer_id), by=admin
    )
    assert (await member.receive_type("mute-request"))["by"]["username"] == "root"
    assert await owner.nothing()


def test_only_owner_and_moderators_may_moderate():
    assert moderation.can_moderate(role="owner")
    assert moderation.can_moderate(role="moderator")
    assert not moderation.can_moderate(role="member")
    assert not moderation.can_moderate(role="guest")
