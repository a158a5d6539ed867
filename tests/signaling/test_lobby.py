"""The lobby over the real socket stack (issue #12): knocks, decisions, expiry, and guests."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.db import SessionStore

from accounts.guests import guest_for_session
from rooms.guests import GUEST_ROOMS_SESSION_KEY
from rooms.models import AuditEntry, LobbyKnock, Participant, RoomMembership

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(make_user):
    return {name: make_user(name) for name in ("ana", "bob", "cy", "mo")}


@pytest.fixture
def room(make_room, people):
    room = make_room("Lobby Room", owner=people["ana"], lobby="non_members", guests_allowed=True)
    RoomMembership.objects.create(room=room, user=people["mo"], role="moderator")
    return room


def _guest_session(room, name="Gil") -> str:
    session = SessionStore()
    guest_for_session(session, display_name=name)
    session[GUEST_ROOMS_SESSION_KEY] = {str(room.pk): room.invite_token}
    session.save()
    return session.session_key


async def test_a_non_member_knocks_and_the_owner_sees_it_then_admits(connect, room, people):
    ana = await connect(room.slug, people["ana"])
    assert ana.welcome["lobby"] == []
    bob = await connect(room.slug, people["bob"])
    assert bob.first == {
        "type": "lobby",
        "status": "waiting",
        "hosts_present": True,
        "timeout_seconds": 600,
    }
    knock = (await ana.receive_type("knock"))["knock"]
    assert knock["user"]["username"] == "bob" and knock["role"] == "member"
    # Nothing but a ping is taken from a knocker.
    await bob.send({"type": "chat", "text": "let me in"})
    assert (await bob.receive_type("error"))["code"] == "in_lobby"
    await bob.send({"type": "ping"})
    await bob.receive_type("pong")

    await ana.send({"type": "admit", "knock_id": knock["id"]})
    ended = await ana.receive_type("knock-ended")
    assert (ended["id"], ended["status"]) == (knock["id"], "admitted")
    welcome = await bob.receive_type("welcome")
    assert [peer["user"]["username"] for peer in welcome["peers"]] == ["ana"]
    assert "lobby" not in welcome  # a member is no host
    joined = await ana.receive_type("peer-joined")
    assert joined["peer"]["peer_id"] == welcome["self"]["peer_id"]
    entry = await sync_to_async(AuditEntry.objects.get)(action="admit")
    assert (entry.actor_name, entry.target_name) == ("Ana", "Bob")


async def test_a_denied_knocker_is_told_and_closed(connect, room, people):
    ana = await connect(room.slug, people["ana"])
    cy = await connect(room.slug, people["cy"])
    knock = (await ana.receive_type("knock"))["knock"]
    await ana.send({"type": "deny", "knock_id": knock["id"]})
    assert (await ana.receive_type("knock-ended"))["status"] == "denied"
    error = await cy.receive_type("error")
    assert error["code"] == "lobby_denied"
    assert await cy.closed_with() == 4416
    assert not await sync_to_async(Participant.objects.filter(user=people["cy"]).exists)()
    # Deciding again finds nothing waiting.
    await ana.send({"type": "admit", "knock_id": knock["id"]})
    assert (await ana.receive_type("error"))["code"] == "unknown_knock"


async def test_only_hosts_see_knocks_and_may_decide(connect, room, people):
    await sync_to_async(RoomMembership.objects.create)(room=room, user=people["bob"])
    ana = await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    assert "lobby" not in bob.welcome
    await ana.receive_type("peer-joined")
    cy = await connect(room.slug, people["cy"])
    knock = (await ana.receive_type("knock"))["knock"]
    assert await bob.nothing()
    await bob.send({"type": "admit", "knock_id": knock["id"]})
    assert (await bob.receive_type("error"))["code"] == "forbidden"
    await bob.send({"type": "admit", "all": True})
    assert (await bob.receive_type("error"))["code"] == "forbidden"
    assert await cy.nothing()


async def test_a_knock_with_no_host_waits_and_hears_when_one_arrives(connect, room, people):
    bob = await connect(room.slug, people["bob"])
    assert bob.first["hosts_present"] is False
    mo = await connect(room.slug, people["mo"])
    # The moderator's welcome lists the knock already waiting.
    assert [k["user"]["username"] for k in mo.welcome["lobby"]] == ["bob"]
    assert (await bob.receive_type("lobby"))["hosts_present"] is True
    await mo.close()
    assert (await bob.receive_type("lobby"))["hosts_present"] is False


async def test_admit_all_lets_everyone_waiting_in(connect, room, people):
    ana = await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    await ana.receive_type("knock")
    cy = await connect(room.slug, people["cy"])
    await ana.receive_type("knock")
    await ana.send({"type": "admit", "all": True})
    await bob.receive_type("welcome")
    # Cy's welcome may list Bob, who got in first.
    assert (await cy.receive_type("welcome"))["type"] == "welcome"


async def test_a_knocker_who_leaves_is_withdrawn_from_the_hosts_list(connect, room, people):
    ana = await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    knock = (await ana.receive_type("knock"))["knock"]
    await bob.close()
    ended = await ana.receive_type("knock-ended")
    assert (ended["id"], ended["status"]) == (knock["id"], "left")
    status = await sync_to_async(lambda: LobbyKnock.objects.get(pk=knock["id"]).status)()
    assert status == "left"


async def test_an_unanswered_knock_expires(connect, room, people, settings):
    settings.LOBBY_KNOCK_TIMEOUT_SECONDS = 0.3
    ana = await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    await ana.receive_type("knock")
    assert (await bob.receive_type("error", timeout=3))["code"] == "knock_expired"
    assert await bob.closed_with() == 4417
    assert (await ana.receive_type("knock-ended"))["status"] == "expired"


async def test_a_locked_room_sends_newcomers_to_the_lobby_when_the_owner_chose_that(
    connect, room, people
):
    room.lobby = "off"
    room.is_locked = True
    await sync_to_async(room.save)()
    refused = await connect(room.slug, people["bob"])
    assert refused.first["code"] == "room_locked"
    room.lobby_when_locked = True
    await sync_to_async(room.save)()
    bob = await connect(room.slug, people["bob"])
    assert bob.first["type"] == "lobby"


async def test_a_guest_joins_over_the_socket_as_a_guest_and_cannot_moderate(connect, room, people):
    room.lobby = "off"
    await sync_to_async(room.save)()
    ana = await connect(room.slug, people["ana"])
    key = await sync_to_async(_guest_session)(room)
    guest = await connect(room.slug, session_key=key)
    assert guest.welcome["self"]["role"] == "guest"
    assert guest.welcome["self"]["user"]["display_name"] == "Gil"
    joined = await ana.receive_type("peer-joined")
    assert joined["peer"]["role"] == "guest"
    await guest.send({"type": "chat", "text": "hello from a guest"})
    assert (await guest.receive_type("chat"))["user"]["display_name"] == "Gil"
    await guest.send({"type": "lock", "locked": True})
    assert (await guest.receive_type("error"))["code"] == "forbidden"
    # Kicked like anyone, by the owner.
    await ana.receive_type("chat")
    await ana.send({"type": "kick", "peer_id": guest.peer_id})
    assert (await guest.receive_type("kicked"))["type"] == "kicked"


async def test_a_guest_with_a_rotated_link_is_refused_by_the_socket(connect, room):
    from rooms.services import room_rotate_invite

    key = await sync_to_async(_guest_session)(room)
    await sync_to_async(room_rotate_invite)(room=room)
    guest = await connect(room.slug, session_key=key)
    assert guest.first["code"] == "forbidden"
    assert "no longer valid" in guest.first["message"]
    assert await guest.closed_with() == 4403


async def test_a_guest_knocks_when_the_lobby_holds_guests(connect, room, people):
    room.lobby = "guests"
    await sync_to_async(room.save)()
    ana = await connect(room.slug, people["ana"])
    key = await sync_to_async(_guest_session)(room)
    guest = await connect(room.slug, session_key=key)
    assert guest.first["type"] == "lobby"
    knock = (await ana.receive_type("knock"))["knock"]
    assert knock["role"] == "guest"


async def test_a_knocker_hears_that_nobody_is_left_when_the_call_is_ended(connect, room, people):
    ana = await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    assert bob.first["hosts_present"] is True
    await ana.receive_type("knock")
    await ana.send({"type": "end"})
    assert (await ana.receive_type("room-ended"))["type"] == "room-ended"
    assert (await bob.receive_type("lobby"))["hosts_present"] is False
    # Still waiting: the next host to arrive sees the knock.
    mo = await connect(room.slug, people["mo"])
    assert [k["user"]["username"] for k in mo.welcome["lobby"]] == ["bob"]
    assert (await bob.receive_type("lobby"))["hosts_present"] is True
