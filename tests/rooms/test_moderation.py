"""Moderation services as the admin and the owner's pages call them: from synchronous code,
outside the consumer, reaching live sockets through the channel layer."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.utils import timezone

from rooms import moderation, services
from rooms.models import Participant, Room, RoomBan, RoomKick, RoomMembership
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


async def test_room_end_from_the_admin_ends_the_call_but_the_room_stays_open(connect, setup):  # noqa: F811
    room, ana, bob, admin = setup
    owner = await connect(room.slug, ana)
    member = await connect(room.slug, bob)
    await owner.receive_type("peer-joined")
    await sync_to_async(moderation.room_end)(room=room, by=admin)
    for peer in (owner, member):
        assert (await peer.receive_type("room-ended"))["by"]["username"] == "root"
        assert await peer.closed_with() == 4411
    fresh = await sync_to_async(Room.objects.get)(pk=room.pk)
    assert fresh.closed_at is None
    reasons = await sync_to_async(list)(Participant.objects.values_list("leave_reason", flat=True))
    assert reasons == ["room-ended", "room-ended"]
    # The next meeting starts in the same room: nobody from the ended call is listed in it.
    again = await connect(room.slug, bob)
    assert again.welcome is not None and again.welcome["peers"] == []


async def test_room_close_and_end_call_closes_the_room_and_ends_the_call(connect, setup):  # noqa: F811
    room, ana, bob, admin = setup
    member = await connect(room.slug, bob)
    await sync_to_async(moderation.room_close_and_end_call)(room=room, by=ana)
    assert (await member.receive_type("room-ended"))["by"]["username"] == "ana"
    assert await member.closed_with() == 4411
    assert (await sync_to_async(Room.objects.get)(pk=room.pk)).closed_at is not None
    late = await connect(room.slug, bob)
    assert late.first["code"] == "room_not_found"


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


# --- End, kick cooldown and ban from inside the call ----------------------------------------------


@pytest.fixture
def call_people(make_user, make_room):
    """ana owns the room, mo is a named moderator, bob and cy are plain members."""
    ana, mo, bob, cy = (make_user(name) for name in ("ana", "mo", "bob", "cy"))
    room = make_room("Board", owner=ana)
    services.room_membership_set(room=room, user=mo, role=RoomMembership.Role.MODERATOR)
    return room, {"ana": ana, "mo": mo, "bob": bob, "cy": cy}


async def _join(connect, room, people, *names):  # noqa: F811
    """Connect ``names`` in order; each earlier peer reads the later ones' ``peer-joined``."""
    peers = []
    for name in names:
        peer = await connect(room.slug, people[name])
        assert peer.welcome is not None, peer.first
        for earlier in peers:
            await earlier.receive_type("peer-joined")
        peers.append(peer)
    return peers


async def test_a_moderator_ends_the_call_and_the_room_stays_open_for_the_next_meeting(
    connect,  # noqa: F811
    call_people,
):
    room, people = call_people
    ana, mo, bob = await _join(connect, room, people, "ana", "mo", "bob")
    await mo.send({"type": "end"})
    for peer in (ana, mo, bob):
        assert (await peer.receive_type("room-ended"))["by"]["username"] == "mo"
        assert await peer.closed_with() == 4411
    assert (await sync_to_async(Room.objects.get)(pk=room.pk)).closed_at is None
    late = await connect(room.slug, people["cy"])
    assert late.welcome is not None and late.welcome["peers"] == []
    assert late.welcome["room"]["slug"] == room.slug


async def _kick_and_ask_again(connect, room, people, host, target, name):  # noqa: F811
    """``host`` removes ``target`` (user ``name``), who opens the room again at once: he waits
    in the lobby, and the host sees a knock marked as someone removed a moment ago."""
    await host.send({"type": "kick", "peer_id": target.peer_id, "reason": "too loud"})
    assert (await target.receive_type("kicked"))["reason"] == "too loud"
    assert await target.closed_with() == 4410
    await host.receive_type("peer-left")
    again = await connect(room.slug, people[name])
    assert again.first["type"] == "lobby" and again.welcome is None
    knock = (await host.receive_type("knock"))["knock"]
    assert knock["user"]["username"] == name and knock["removed"] is True
    return again, knock


async def test_a_kicked_user_must_ask_a_host_to_come_back_until_the_cooldown_passes(
    connect,  # noqa: F811
    call_people,
    settings,
):
    settings.KICK_COOLDOWN_SECONDS = 300
    room, people = call_people
    ana, bob = await _join(connect, room, people, "ana", "bob")
    again, knock = await _kick_and_ask_again(connect, room, people, ana, bob, "bob")
    await ana.send({"type": "deny", "knock_id": knock["id"]})
    assert (await ana.receive_type("knock-ended"))["status"] == "denied"
    assert (await again.receive_type("error"))["code"] == "lobby_denied"
    assert await again.closed_with() == 4416

    # Turned down once, he may not ask again before the cooldown ends.
    refused = await connect(room.slug, people["bob"])
    assert refused.first["type"] == "error" and refused.first["code"] == "forbidden"
    assert "removed from this room" in refused.first["message"]
    assert "5 minutes" in refused.first["message"]
    assert await refused.closed_with() == 4403
    assert await ana.nothing()  # no second knock reached the host

    later = timezone.now() + timedelta(seconds=301)
    with mock.patch("django.utils.timezone.now", return_value=later):
        back = await connect(room.slug, people["bob"])
    assert back.welcome is not None, back.first


async def test_a_moderator_lets_a_kicked_user_back_in_and_the_cooldown_is_lifted(
    connect,  # noqa: F811
    call_people,
    settings,
):
    settings.KICK_COOLDOWN_SECONDS = 300
    room, people = call_people
    mo, bob = await _join(connect, room, people, "mo", "bob")
    again, knock = await _kick_and_ask_again(connect, room, people, mo, bob, "bob")
    await mo.send({"type": "admit", "knock_id": knock["id"]})
    welcome = await again.receive_type("welcome")
    assert [peer["user"]["username"] for peer in welcome["peers"]] == ["mo"]
    assert not await sync_to_async(RoomKick.objects.filter(room=room).exists)()
    # Let back in means back for good: a reconnect needs nobody's say.
    await again.close()
    reconnected = await connect(room.slug, people["bob"])
    assert reconnected.welcome is not None, reconnected.first


async def test_a_kicked_user_let_back_in_by_the_owner_may_rejoin_at_once(
    connect,  # noqa: F811
    call_people,
):
    room, people = call_people
    ana, mo, bob = await _join(connect, room, people, "ana", "mo", "bob")
    await mo.send({"type": "kick", "peer_id": bob.peer_id})
    await bob.closed_with()
    # The settings page's "Let back in" (no knock needed).
    lifted = await sync_to_async(services.room_kick_lift)(room=room, user=people["bob"])
    assert lifted
    back = await connect(room.slug, people["bob"])
    assert back.welcome is not None, back.first


async def test_kick_cooldown_zero_lets_the_kicked_back_at_once(connect, call_people, settings):  # noqa: F811
    settings.KICK_COOLDOWN_SECONDS = 0
    room, people = call_people
    ana, bob = await _join(connect, room, people, "ana", "bob")
    await ana.send({"type": "kick", "peer_id": bob.peer_id})
    await bob.closed_with()
    back = await connect(room.slug, people["bob"])
    assert back.welcome is not None, back.first


async def test_a_moderator_bans_from_the_call_and_the_banned_cannot_come_back(
    connect,  # noqa: F811
    call_people,
):
    room, people = call_people
    ana, mo, bob = await _join(connect, room, people, "ana", "mo", "bob")
    await mo.send({"type": "ban", "peer_id": bob.peer_id, "reason": "spamming links"})
    kicked = await bob.receive_type("kicked")
    assert kicked["by"]["username"] == "mo"
    assert kicked["reason"] == "spamming links" and kicked["banned"] is True
    assert await bob.closed_with() == 4410
    for other in (ana, mo):
        left = await other.receive_type("peer-left")
        assert (left["peer_id"], left["reason"]) == (bob.peer_id, "kicked")
    ban = await sync_to_async(RoomBan.objects.select_related("banned_by").get)(room=room)
    assert (ban.user_id, ban.banned_by.username, ban.reason) == (
        people["bob"].pk,
        "mo",
        "spamming links",
    )

    again = await connect(room.slug, people["bob"])
    assert again.first["code"] == "forbidden"
    assert "banned" in again.first["message"] and "spamming links" in again.first["message"]
    assert await again.closed_with() == 4403


async def test_a_member_sending_ban_is_forbidden_and_nobody_is_banned(connect, call_people):  # noqa: F811
    room, people = call_people
    ana, bob, cy = await _join(connect, room, people, "ana", "bob", "cy")
    await bob.send({"type": "ban", "peer_id": cy.peer_id})
    error = await bob.receive_type("error")
    assert (error["code"], error["ref"]) == ("forbidden", "ban")
    assert await cy.nothing() and await ana.nothing()
    assert not await sync_to_async(RoomBan.objects.exists)()


async def test_a_moderator_cannot_ban_the_owner_nor_themselves(connect, call_people):  # noqa: F811
    room, people = call_people
    ana, mo = await _join(connect, room, people, "ana", "mo")
    await mo.send({"type": "ban", "peer_id": ana.peer_id})
    assert (await mo.receive_type("error"))["code"] == "forbidden"
    await mo.send({"type": "ban", "peer_id": mo.peer_id})
    assert (await mo.receive_type("error"))["code"] == "bad_message"
    await mo.send({"type": "ban", "peer_id": "ghost"})
    assert (await mo.receive_type("error"))["code"] == "unknown_peer"
    assert await ana.nothing()
    assert not await sync_to_async(RoomBan.objects.exists)()


# --- Kick cooldown as a service -----------------------------------------------------------------


def test_participant_kick_records_a_cooldown_but_a_ban_does_not(
    make_room, make_user, connect_participant, settings
):
    settings.KICK_COOLDOWN_SECONDS = 120
    room = make_room("Board")
    bo, cy = make_user("bo"), make_user("cy")
    kicked, _socket = connect_participant(room, bo)
    before = timezone.now()
    moderation.participant_kick(participant=kicked, by=room.owner, reason="noise")
    kick = RoomKick.objects.get()
    assert (kick.user, kick.kicked_by, kick.reason) == (bo, room.owner, "noise")
    assert before + timedelta(seconds=119) < kick.until <= timezone.now() + timedelta(seconds=120)
    connect_participant(room, cy)
    moderation.room_ban_user(room=room, user=cy, by=room.owner)
    assert list(RoomKick.objects.values_list("user", flat=True)) == [bo.pk]
