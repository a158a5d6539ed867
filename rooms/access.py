"""Who may enter a room: the one access rule used by the room page, TURN and signaling.

Refusals carry the protocol's error codes so every caller can answer in its own medium: a page
for the browser, a JSON error for the TURN endpoint, an error frame and close code for the socket.
Their messages are in the language active when the verdict is made: the request's, or the one
the socket chose (signaling/i18n.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from rooms.models import LobbyPolicy, Participant, Room, RoomBan, RoomKick, RoomMembership

NOT_AUTHENTICATED = "not_authenticated"
FORBIDDEN = "forbidden"
ROOM_NOT_FOUND = "room_not_found"
ROOM_LOCKED = "room_locked"

GUEST_LINK_STALE_MESSAGE = _(
    "This invite link is no longer valid. Ask the person who invited you for the new link."
)
GUESTS_OFF_MESSAGE = _(
    "This room no longer lets guests in. Ask its owner for an account or a new link."
)
PRIVATE_ROOM_MESSAGE = _("This room is private. Ask its owner for an invite link.")

REFUSAL_MESSAGES = {
    NOT_AUTHENTICATED: _("Please log in to join this room."),
    FORBIDDEN: _("You are not allowed into this room."),
    ROOM_NOT_FOUND: _("This room does not exist or has been closed."),
    ROOM_LOCKED: _("This room is locked. Only its owner and staff can enter right now."),
}


# Roles that enter a full room anyway (the room may go over its size for them): a room filled
# by others must never keep out its owner, its moderators or staff (staff join as moderators).
# Admission (signaling.presence) and the pre-join page's seat count (rooms.selectors) both
# read it here.
ROLES_PAST_A_FULL_ROOM = frozenset({Participant.Role.OWNER, Participant.Role.MODERATOR})


@dataclass(frozen=True)
class RoomAccess:
    """The verdict for one user and one room.

    ``role`` is set when ``allowed``; ``refusal`` is one of the protocol's error codes when not.
    ``via_invite`` says the user is let in only because they hold the current invite token, so
    the caller should record them as a member once they are in the call (not while they knock).
    ``knock`` says the user may enter only through the lobby: a host in the call admits them.
    ``after_kick`` says they knock because they were removed from the call and its cooldown
    still runs (the hosts are told so; admitting them lifts it).
    ``guest_entry`` (on a ``not_authenticated`` refusal) says the visitor, who has no account,
    holds a link that lets guests in: the page asks for a name instead of a login.
    ``conceals_room`` says the user is a stranger to a private room: a page or the TURN
    endpoint must answer exactly as for an unknown room (404), so a guessed slug does not
    reveal that the room exists; the socket keeps the contract's ``forbidden``.
    """

    allowed: bool
    role: str | None = None
    refusal: str | None = None
    message: str = ""
    via_invite: bool = False
    conceals_room: bool = False
    knock: bool = False
    after_kick: bool = False
    guest_entry: bool = False

    @classmethod
    def refuse(
        cls,
        refusal: str,
        message: str | None = None,
        *,
        conceals_room: bool = False,
        guest_entry: bool = False,
    ) -> RoomAccess:
        return cls(
            allowed=False,
            refusal=refusal,
            # Made a plain string here, in the active language: the verdict travels to JSON
            # and to the socket, which cannot carry a lazy translation.
            message=str(message or REFUSAL_MESSAGES[refusal]),
            conceals_room=conceals_room,
            guest_entry=guest_entry,
        )


def room_access_for(*, user, room: Room | None, invite_token: str | None = None) -> RoomAccess:
    """Decide whether ``user`` may enter ``room``, with which role, and whether they knock first.

    ``user`` is a logged-in user, a guest (``User.is_guest``: the browser session's guest
    identity) or anonymous. For a guest, ``invite_token`` is the token they entered with.

    The order matters: a closed room is hidden from everyone but staff; a visitor without an
    account is let in only as a guest (the room takes guests and the link is current); a ban
    beats every other right; someone removed from the call whose cooldown still runs may only
    knock, once (a host who admits them lifts the cooldown, one who denies them leaves them
    refused until it ends or the owner lifts it); a private room admits its owner, moderators,
    members, staff, holders of the current invite token and guests, and is concealed from
    everyone else (before the lock, so a stranger is not told that a room there is locked); a
    lock keeps out everyone but the owner and staff, members included, unless the owner chose
    to send them to the lobby instead.
    Last, the lobby: guests knock when it is on for guests, and everyone but the owner,
    moderators, staff and members knocks when it is on for non-members.
    """
    if user is None:
        user = AnonymousUser()
    is_staff = bool(user.is_authenticated and user.is_staff)

    if room is None or (room.is_closed and not is_staff):
        return RoomAccess.refuse(ROOM_NOT_FOUND)
    token_is_current = bool(invite_token) and secrets.compare_digest(
        str(invite_token), room.invite_token
    )
    if not user.is_authenticated or not user.is_active:
        return RoomAccess.refuse(
            NOT_AUTHENTICATED, guest_entry=room.guests_allowed and token_is_current
        )
    is_guest = bool(getattr(user, "is_guest", False))
    if is_guest:
        if not room.guests_allowed:
            return RoomAccess.refuse(FORBIDDEN, GUESTS_OFF_MESSAGE)
        if not token_is_current:
            return RoomAccess.refuse(FORBIDDEN, GUEST_LINK_STALE_MESSAGE)

    is_owner = room.owner_id == user.pk
    facts = _access_facts(room=room, user=user)
    if facts.banned and not is_owner:
        return RoomAccess.refuse(FORBIDDEN, _banned_message(facts.ban_reason))
    after_kick = facts.kick_until is not None and not is_owner
    if after_kick and not facts.kick_may_knock:
        return RoomAccess.refuse(FORBIDDEN, _kicked_message(facts.kick_until, facts.kick_reason))

    membership_role = None if is_guest else facts.membership_role
    membership = membership_role is not None
    role = (
        Participant.Role.GUEST
        if is_guest
        else _role_for(room=room, user=user, membership_role=membership_role)
    )

    via_invite = False
    if room.is_private and not (is_owner or is_staff or membership or is_guest):
        if not token_is_current:
            return RoomAccess.refuse(
                FORBIDDEN,
                PRIVATE_ROOM_MESSAGE,
                conceals_room=True,
            )
        via_invite = True

    knock = after_kick
    if room.is_locked and not (is_owner or is_staff):
        if not room.lobby_when_locked:
            return RoomAccess.refuse(ROOM_LOCKED)
        knock = True
    if room.lobby == LobbyPolicy.GUESTS:
        knock = knock or is_guest
    elif room.lobby == LobbyPolicy.NON_MEMBERS:
        knock = knock or not (is_owner or is_staff or membership)

    return RoomAccess(
        allowed=True, role=role, via_invite=via_invite, knock=knock, after_kick=after_kick
    )


def room_role_for(*, user, room: Room) -> str:
    """The role ``user`` has in ``room`` now: owner, moderator (staff or named), member or guest.

    The same role ``room_access_for`` gives on entry; a participant already in the call takes
    it when their standing changes, even one the rule would no longer let in.
    """
    if getattr(user, "is_guest", False):
        return Participant.Role.GUEST
    membership = RoomMembership.objects.filter(room=room, user=user).first()
    return _role_for(room=room, user=user, membership_role=membership.role if membership else None)


def _with_reason(message: str, reason: str | None) -> str:
    """``message``, then the moderator's reason when one was given."""
    if not reason:
        return message
    return f"{message} {gettext('Reason: %(reason)s') % {'reason': reason}}"


def _banned_message(ban_reason: str | None) -> str:
    return _with_reason(gettext("You have been banned from this room."), ban_reason)


def _kicked_message(until, kick_reason: str) -> str:
    """Say when the removed person may return, as a clock time and as a wait."""
    seconds = max(1, int((until - timezone.now()).total_seconds()))
    if seconds < 60:
        wait = ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    else:
        minutes = -(-seconds // 60)
        wait = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    at = timezone.localtime(until).strftime("%H:%M %Z")
    message = gettext(
        "You were removed from this room and may rejoin at %(time)s (in %(wait)s), or sooner "
        "if its owner lets you back in."
    ) % {"time": at, "wait": wait}
    return _with_reason(message, kick_reason)


def _role_for(*, room: Room, user, membership_role: str | None) -> str:
    if room.owner_id == user.pk:
        return Participant.Role.OWNER
    if user.is_staff or membership_role == RoomMembership.Role.MODERATOR:
        return Participant.Role.MODERATOR
    return Participant.Role.MEMBER


# --- what the rule needs to know about one user in one room -------------------------------------


@dataclass(frozen=True)
class AccessFacts:
    """The user's ban, running kick and membership in the room (None where there is none)."""

    banned: bool
    ban_reason: str | None
    kick_until: object | None
    kick_reason: str
    kick_may_knock: bool
    membership_role: str | None


def _access_facts(*, room: Room, user) -> AccessFacts:
    # A room read by ``rooms.selectors.room_with_access_facts`` carries them for its user.
    if getattr(room, "access_facts_user_id", None) == user.pk:
        return AccessFacts(
            banned=room.access_ban_id is not None,
            ban_reason=room.access_ban_reason,
            kick_until=room.access_kick_until,
            kick_reason=room.access_kick_reason or "",
            # SQLite gives the computed boolean as 0 or 1.
            kick_may_knock=bool(room.access_kick_may_knock),
            membership_role=room.access_membership_role,
        )
    ban = RoomBan.objects.filter(room=room, user=user).first()
    kick = RoomKick.objects.filter(room=room, user=user, until__gt=timezone.now()).first()
    membership = RoomMembership.objects.filter(room=room, user=user).first()
    return AccessFacts(
        banned=ban is not None,
        ban_reason=ban.reason if ban else None,
        kick_until=kick.until if kick else None,
        kick_reason=kick.reason if kick else "",
        kick_may_knock=kick.may_knock if kick else False,
        membership_role=membership.role if membership else None,
    )
