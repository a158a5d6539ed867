"""Moderation services as the admin and the owner's pages call them: from synchronous code,
outside the consumer, reaching live sockets through the channel layer."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError

from rooms import moderation, services
from rooms.models import Participant, Room, RoomBan, RoomMembership
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


async def test_a_role_changed_during_the_call_applies_at_once(connect, setup, make_user):  # noqa: F811
    room, ana, bob, _admin = setup
    cy = await sync_to_async(make_user)("cy")
    owner = await connect(room.slug, ana)
    member = await connect(room.slug, bob)
    target = await connect(room.slug, cy)
    for peer, joined in ((owner, 2), (member, 1)):
        for _ in range(joined):
            await peer.receive_type("peer-joined")
    await member.send({"type": "mute", "peer_id": target.peer_id})
    assert (await member.receive_type("error"))["code"] == "forbidden"

    await sync_to_async(moderation.room_person_standing_set)(
        room=room, user=bob, role=RoomMembership.Role.MODERATOR
    )

    promoted = {"type": "role", "peer_id": member.peer_id, "role": "moderator"}
    for peer in (owner, member, target):
        assert await peer.receive_type("role") == promoted
    assert (await _row(member.peer_id)).role == "moderator"
    await member.send({"type": "mute", "peer_id": target.peer_id})
    assert (await target.receive_type("mute-request"))["by"]["username"] == "bob"

    await sync_to_async(moderation.room_person_standing_set)(room=room, user=bob, role=None)

    demoted = {"type": "role", "peer_id": member.peer_id, "role": "member"}
    assert await owner.receive_type("role") == demoted
    assert await member.receive_type("role") == demoted
    await member.send({"type": "mute", "peer_id": target.peer_id})
    assert (await member.receive_type("error"))["code"] == "forbidden"
    # Removing a member takes back rights, not the call: bob is still connected.
    assert (await _row(member.peer_id)).left_at is None


async def test_a_moderator_removed_from_a_private_room_is_a_member_for_the_rest_of_the_call(
    connect,  # noqa: F811
    setup,
):
    room, ana, bob, _admin = setup
    room.is_private = True
    await sync_to_async(room.save)()
    await sync_to_async(services.room_membership_set)(
        room=room, user=bob, role=RoomMembership.Role.MODERATOR
    )
    owner = await connect(room.slug, ana)
    moderator = await connect(room.slug, bob)
    await owner.receive_type("peer-joined")

    await sync_to_async(moderation.room_person_standing_set)(room=room, user=bob, role=None)

    demoted = {"type": "role", "peer_id": moderator.peer_id, "role": "member"}
    assert await owner.receive_type("role") == demoted
    assert await moderator.receive_type("role") == demoted
    await moderator.send({"type": "lock", "locked": True})
    assert (await moderator.receive_type("error"))["code"] == "forbidden"


async def test_an_unchanged_role_is_not_announced(connect, setup):  # noqa: F811
    room, ana, bob, _admin = setup
    owner = await connect(room.slug, ana)
    await connect(room.slug, bob)
    await owner.receive_type("peer-joined")
    await sync_to_async(moderation.room_person_standing_set)(
        room=room, user=bob, role=RoomMembership.Role.MEMBER
    )
    assert await owner.nothing()


def test_only_owner_and_moderators_may_moderate():
    assert moderation.can_moderate(role="owner")
    assert moderation.can_moderate(role="moderator")
    assert not moderation.can_moderate(role="member")
    assert not moderation.can_moderate(role="guest")


# --- Bans ---------------------------------------------------------------------------------------


def test_room_ban_user_records_who_and_why_and_updates_on_repeat(make_room, make_user):
    room = make_room("Board")
    bo, boss = make_user("bo"), make_user("boss")
    moderation.room_ban_user(room=room, user=bo, by=boss, reason="  spam ")
    moderation.room_ban_user(room=room, user=bo, by=boss, reason="more spam")
    ban = RoomBan.objects.get()
    assert (ban.user, ban.banned_by, ban.reason) == (bo, boss, "more spam")


def test_room_ban_user_ends_membership_so_an_unban_restores_no_rights(make_room, make_user):
    room = make_room("Board", is_private=True)
    bo = make_user("bo")
    services.room_membership_set(room=room, user=bo, role=RoomMembership.Role.MODERATOR)
    moderation.room_ban_user(room=room, user=bo)
    services.room_unban_user(room=room, user=bo)
    assert not RoomMembership.objects.exists()
    assert services.room_enter(user=bo, room=room).refusal == "forbidden"


def test_room_ban_user_refuses_the_owner(make_room):
    room = make_room("Board")
    with pytest.raises(ValidationError, match="owner"):
        moderation.room_ban_user(room=room, user=room.owner, by=None)
    assert not RoomBan.objects.exists()


def test_room_ban_user_kicks_the_users_live_connections(make_room, make_user, connect_participant):
    room = make_room("Board")
    bo, boss = make_user("bo"), make_user("boss")
    participant, socket = connect_participant(room, bo)
    moderation.room_ban_user(room=room, user=bo, by=boss, reason="spam")
    kicked = socket.receive()
    assert kicked["frame"]["type"] == "kicked" and kicked["frame"]["reason"] == "spam"
    assert kicked["close"] == 4410
    participant.refresh_from_db()
    assert participant.left_at is not None and participant.leave_reason == "kicked"


# --- The owner's settings form ------------------------------------------------------------------


def test_room_edit_changes_the_lock_and_announces_it_but_not_other_edits(make_room, listener):
    room = make_room("Board")
    socket = listener().join(room)
    moderation.room_edit(room=room, description="new", is_locked=False)
    assert socket.nothing_pending()
    moderation.room_edit(room=room, is_locked=True, by=room.owner)
    assert socket.receive()["frame"] == {"type": "room", "locked": True}
    assert Room.objects.get(pk=room.pk).is_locked
    moderation.room_edit(room=room, is_locked=True)
    assert socket.nothing_pending(), "an unchanged lock is not announced again"
    moderation.room_edit(room=room, is_locked=False)
    assert socket.receive()["frame"] == {"type": "room", "locked": False}
    assert not Room.objects.get(pk=room.pk).is_locked


def test_room_edit_with_an_invalid_value_neither_locks_nor_announces(make_room, listener):
    room = make_room("Board")
    socket = listener().join(room)
    with pytest.raises(ValidationError):
        moderation.room_edit(room=room, name="", is_locked=True)
    assert socket.nothing_pending()
    assert not Room.objects.get(pk=room.pk).is_locked
