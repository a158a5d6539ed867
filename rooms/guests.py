"""Guests in a room: entering with the invite link and a name, and finding who a visitor is.

A guest enters a room by giving a name on its pre-join page, holding the room's current invite
link, while the room takes guests (``Room.guests_allowed``). The session then remembers, per
room, the invite token the guest entered with; the access rule checks it against the room's
token on every page load, TURN request and socket, so rotating the link or turning guests off
refuses them from then on (a guest already in the call stays until the call ends for them).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext

from accounts.guests import guest_display_name_clean, guest_for_session, guest_from_session
from meet.ratelimit import rate_limit_hit
from rooms.access import FORBIDDEN, NOT_AUTHENTICATED, room_access_for
from rooms.models import LobbyPolicy, Room

# Session key: room id (as text, sessions are JSON) to the invite token the guest entered with.
GUEST_ROOMS_SESSION_KEY = "meet.guest_rooms"
GUEST_RATE_LIMIT_SCOPE = "guest-entry"

# The guest entry's own error codes (beside the access rule's, ``rooms.access``), as
# ``POST /rooms/<slug>/guest/`` answers them (docs/protocol.md).
BAD_NAME = "bad_name"
RATE_LIMITED = "rate_limited"
LOGGED_IN = "logged_in"


@dataclass(frozen=True)
class GuestEntry:
    """The outcome of a guest's entry: the guest, or the error code and message to show."""

    guest: object | None = None
    error: str = ""
    message: str = ""
    retry_after: int = 0


def room_visitor(*, user, session):
    """Who is visiting: the logged-in user, else the session's guest, else ``user`` (anonymous)."""
    if user is not None and user.is_authenticated:
        return user
    return guest_from_session(session) or user


def guest_would_knock(*, room: Room) -> bool | None:
    """For a guest about to enter: whether it will knock, or None when the lock keeps it out.

    The same answer ``room_access_for`` gives a guest identity (no ban or kick yet, as a new
    guest has none), for a visitor who has not given a name yet.
    """
    if room.is_locked and not room.lobby_when_locked:
        return None
    return room.is_locked or room.lobby != LobbyPolicy.OFF


def guest_invite_token(*, session, room: Room) -> str | None:
    """The invite token this session's guest entered ``room`` with, if it entered it."""
    if session is None:
        return None
    return (session.get(GUEST_ROOMS_SESSION_KEY) or {}).get(str(room.pk))


def room_guest_enter(
    *, session, room: Room | None, invite_token: str, display_name: str, address: str | None
) -> GuestEntry:
    """Let a visitor without an account into ``room`` as a guest named ``display_name``.

    Refused (``error``) when the room does not take guests or the link is not current
    (``forbidden``, or ``room_not_found``), when the name breaks the name rules
    (``bad_name``), or when this address has entered as a guest too often
    (``rate_limited``, with ``retry_after`` seconds). Counted per address before anything
    else, so a script guessing tokens is slowed like one making guests.
    """
    limit = rate_limit_hit(
        scope=GUEST_RATE_LIMIT_SCOPE,
        identity=address or "unknown",
        limit=settings.GUEST_RATE_LIMIT_REQUESTS,
        window=settings.GUEST_RATE_LIMIT_WINDOW,
    )
    if not limit.allowed:
        return GuestEntry(
            error=RATE_LIMITED,
            message=ngettext(
                "Too many guest entries from your network; try again in %(count)d second.",
                "Too many guest entries from your network; try again in %(count)d seconds.",
                limit.retry_after,
            )
            % {"count": limit.retry_after},
            retry_after=limit.retry_after,
        )
    verdict = room_access_for(user=None, room=room, invite_token=invite_token)
    if not verdict.guest_entry:
        if verdict.refusal and verdict.refusal != NOT_AUTHENTICATED:
            return GuestEntry(error=verdict.refusal, message=verdict.message)
        return GuestEntry(
            error=FORBIDDEN,
            message=gettext(
                "This link does not let guests in. It may be old: ask for the current one."
            ),
        )
    try:
        name = guest_display_name_clean(display_name)
    except ValidationError as error:
        return GuestEntry(error=BAD_NAME, message=" ".join(error.messages))
    guest = guest_for_session(session, display_name=name)
    entered = dict(session.get(GUEST_ROOMS_SESSION_KEY) or {})
    entered[str(room.pk)] = invite_token
    session[GUEST_ROOMS_SESSION_KEY] = entered
    return GuestEntry(guest=guest)
