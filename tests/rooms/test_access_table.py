"""The access rule as a table (issue #12): every kind of visitor × every room setting × every
lock state, against the rule as the issue states it.

The expectation below is the issue's text turned into a few lines, not a copy of
``room_access_for``'s code: guests need the room to take them and the current link; a private
room hides itself from strangers; a lock keeps out all but the owner and staff, or sends them to
the lobby when the owner chose that; the lobby holds guests (``guests``) or everyone who is not
the owner, a moderator, staff or a member (``non_members``). A handful of literal rows follow,
so a shared misreading of the issue cannot hide in the expectation.
"""

from __future__ import annotations

import itertools

import pytest

from accounts.guests import guest_for_session
from rooms.access import room_access_for
from rooms.models import LobbyPolicy, RoomMembership

VISITORS = (
    "owner",
    "staff",
    "moderator",
    "member",
    "stranger",
    "invitee",
    "guest",
    "guest_stale_link",
    "anonymous_with_link",
    "anonymous",
)
PRIVACY = (False, True)
GUESTS_ALLOWED = (False, True)
LOBBIES = (LobbyPolicy.OFF, LobbyPolicy.GUESTS, LobbyPolicy.NON_MEMBERS)
LOCKS = ("unlocked", "locked", "locked_to_lobby")


def expected(visitor: str, private: bool, guests: bool, lobby: str, lock: str) -> str:
    """What the issue says should happen, as one word (or ``refuse:<code>``)."""
    if visitor == "anonymous":
        return "login"
    if visitor == "anonymous_with_link":
        return "name" if guests else "login"
    is_guest = visitor.startswith("guest")
    if is_guest and (not guests or visitor == "guest_stale_link"):
        return "refuse:forbidden"
    if visitor == "stranger" and private:
        return "hidden"
    host = visitor in ("owner", "staff")
    if lock == "locked" and not host:
        return "refuse:room_locked"
    knocks = lock == "locked_to_lobby" and not host
    if lobby == LobbyPolicy.GUESTS and is_guest:
        knocks = True
    if lobby == LobbyPolicy.NON_MEMBERS and visitor in ("stranger", "invitee", "guest"):
        knocks = True
    return "knock" if knocks else "enter"


def outcome(access) -> str:
    if access.allowed:
        return "knock" if access.knock else "enter"
    if access.guest_entry:
        return "name"
    if access.refusal == "not_authenticated":
        return "login"
    if access.conceals_room:
        return "hidden"
    return f"refuse:{access.refusal}"


@pytest.fixture
def visitors(make_user, make_room):
    """A room and one visitor of each kind, with the token each holds."""
    owner = make_user("owner")
    room = make_room("Table", owner=owner)
    staff = make_user("staff", is_staff=True)
    moderator = make_user("moderator")
    member = make_user("member")
    RoomMembership.objects.create(room=room, user=moderator, role=RoomMembership.Role.MODERATOR)
    RoomMembership.objects.create(room=room, user=member)
    session: dict = {}
    guest = guest_for_session(session, display_name="Gil")
    current, stale = room.invite_token, "an-old-token-rotated-away"
    people = {
        "owner": (owner, None),
        "staff": (staff, None),
        "moderator": (moderator, None),
        "member": (member, None),
        "stranger": (make_user("stranger"), None),
        "invitee": (make_user("invitee"), current),
        "guest": (guest, current),
        "guest_stale_link": (guest, stale),
        "anonymous_with_link": (None, current),
        "anonymous": (None, None),
    }
    return room, people


def test_every_visitor_room_setting_and_lock_state_gets_what_the_issue_says(visitors):
    room, people = visitors
    mismatches = []
    for private, guests, lobby, lock in itertools.product(PRIVACY, GUESTS_ALLOWED, LOBBIES, LOCKS):
        room.is_private = private
        room.guests_allowed = guests
        room.lobby = lobby
        room.is_locked = lock != "unlocked"
        room.lobby_when_locked = lock == "locked_to_lobby"
        room.save()
        for visitor in VISITORS:
            user, token = people[visitor]
            got = outcome(room_access_for(user=user, room=room, invite_token=token))
            want = expected(visitor, private, guests, lobby, lock)
            if got != want:
                mismatches.append((visitor, private, guests, str(lobby), lock, got, want))
    assert mismatches == []
    # 10 visitors × 2 × 2 × 3 × 3 settings.
    assert len(VISITORS) * len(PRIVACY) * len(GUESTS_ALLOWED) * len(LOBBIES) * len(LOCKS) == 360


@pytest.mark.parametrize(
    ("visitor", "fields", "want"),
    [
        # Literal rows, straight from the issue's sentences.
        ("anonymous_with_link", {"guests_allowed": True}, "name"),
        ("anonymous_with_link", {"guests_allowed": False}, "login"),
        ("guest", {"guests_allowed": True, "is_private": True}, "enter"),
        ("guest", {"guests_allowed": False}, "refuse:forbidden"),
        ("guest_stale_link", {"guests_allowed": True}, "refuse:forbidden"),
        ("guest", {"guests_allowed": True, "lobby": "guests"}, "knock"),
        ("member", {"lobby": "guests"}, "enter"),
        ("member", {"lobby": "non_members"}, "enter"),
        ("invitee", {"is_private": True, "lobby": "non_members"}, "knock"),
        ("stranger", {"lobby": "non_members"}, "knock"),
        ("moderator", {"lobby": "non_members"}, "enter"),
        ("member", {"is_locked": True}, "refuse:room_locked"),
        ("member", {"is_locked": True, "lobby_when_locked": True}, "knock"),
        ("owner", {"is_locked": True, "lobby": "non_members"}, "enter"),
        ("staff", {"is_locked": True, "lobby_when_locked": True}, "enter"),
    ],
)
def test_literal_rows(visitors, visitor, fields, want):
    room, people = visitors
    for name, value in fields.items():
        setattr(room, name, value)
    room.save()
    user, token = people[visitor]
    assert outcome(room_access_for(user=user, room=room, invite_token=token)) == want


def test_a_banned_guest_is_refused_whatever_the_link(visitors):
    from rooms.models import RoomBan

    room, people = visitors
    room.guests_allowed = True
    room.save()
    guest, token = people["guest"]
    RoomBan.objects.create(room=room, user=guest)
    access = room_access_for(user=guest, room=room, invite_token=token)
    assert (access.allowed, access.refusal) == (False, "forbidden")
    assert "banned" in access.message
