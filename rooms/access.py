"""Who may enter a room: the one access rule used by the room page, TURN and signaling.

Refusals carry the protocol's error codes so every caller can answer in its own medium: a page
for the browser, a JSON error for the TURN endpoint, an error frame and close code for the socket.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from rooms.models import Participant, Room, RoomBan, RoomKick, RoomMembership

NOT_AUTHENTICATED = "not_authenticated"
FORBIDDEN = "forbidden"
ROOM_NOT_FOUND = "room_not_found"
ROOM_LOCKED = "room_locked"

REFUSAL_MESSAGES = {
    NOT_AUTHENTICATED: "Please log in to join this room.",
    FORBIDDEN: "You are not allowed into this room.",
    ROOM_NOT_FOUND: "This room does not exist or has been closed.",
    ROOM_LOCKED: "This room is locked. Only its owner and staff can enter right now.",
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
    the caller should record them as a member. ``conceals_room`` says the user is a stranger to a
    private room: a page or the TURN endpoint must answer exactly as for an unknown room (404),
    so a guessed slug does not reveal that the room exists; the socket keeps the contract's
    ``forbidden``.
    """

    allowed: bool
    role: str | None = None
    refusal: str | None = None
    message: str = ""
    via_invite: bool = False
    conceals_room: bool = False

    @classmethod
    def refuse(
        cls, refusal: str, message: str | None = None, *, conceals_room: bool = False
    ) -> RoomAccess:
        return cls(
            allowed=False,
            refusal=refusal,
            message=message or REFUSAL_MESSAGES[refusal],
            conceals_room=conceals_room,
        )


def room_access_for(*, user, room: Room | None, invite_token: str | None = None) -> RoomAccess:
    """Decide whether ``user`` may enter ``room`` and with which role.

    The order matters: a closed room is hidden from everyone but staff; a ban beats every
    other right, and so does a recent kick until its cooldown ends or the owner lifts it; a
    private room admits its owner, moderators, members, staff and holders of the current
    invite token, and is concealed from everyone else (before the lock, so a
    stranger is not told that a room there is locked); a lock keeps out everyone but the
    owner and staff, members included.
    """
    if user is None:
        user = AnonymousUser()
    is_staff = bool(user.is_authenticated and user.is_staff)

    if room is None or (room.is_closed and not is_staff):
        return RoomAccess.refuse(ROOM_NOT_FOUND)
    if not user.is_authenticated or not user.is_active:
        return RoomAccess.refuse(NOT_AUTHENTICATED)

    is_owner = room.owner_id == user.pk
    ban = None if is_owner else RoomBan.objects.filter(room=room, user=user).first()
    if ban is not None:
        return RoomAccess.refuse(FORBIDDEN, _banned_message(ban))
    kick = (
        None
        if is_owner
        else RoomKick.objects.filter(room=room, user=user, until__gt=timezone.now()).first()
    )
    if kick is not None:
        return RoomAccess.refuse(FORBIDDEN, _kicked_message(kick))

    membership = RoomMembership.objects.filter(room=room, user=user).first()
    role = _role_for(room=room, user=user, membership=membership)

    via_invite = False
    if room.is_private and not (is_owner or is_staff or membership):
        if not (invite_token and secrets.compare_digest(str(invite_token), room.invite_token)):
            return RoomAccess.refuse(
                FORBIDDEN,
                "This room is private. Ask its owner for an invite link.",
                conceals_room=True,
            )
        via_invite = True

    if room.is_locked and not (is_owner or is_staff):
        return RoomAccess.refuse(ROOM_LOCKED)

    return RoomAccess(allowed=True, role=role, via_invite=via_invite)


def room_role_for(*, user, room: Room) -> str:
    """The role ``user`` has in ``room`` now: owner, moderator (staff or named) or member.

    The same role ``room_access_for`` gives on entry; a participant already in the call takes
    it when their standing changes, even one the rule would no longer let in.
    """
    membership = RoomMembership.objects.filter(room=room, user=user).first()
    return _role_for(room=room, user=user, membership=membership)


def _banned_message(ban: RoomBan) -> str:
    reason = f" Reason: {ban.reason}" if ban.reason else ""
    return f"You have been banned from this room.{reason}"


def _kicked_message(kick: RoomKick) -> str:
    """Say when the removed person may return, as a clock time and as a wait."""
    seconds = max(1, int((kick.until - timezone.now()).total_seconds()))
    if seconds < 60:
        wait = f"{seconds} seconds"
    else:
        minutes = -(-seconds // 60)
        wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    at = timezone.localtime(kick.until).strftime("%H:%M %Z")
    reason = f" Reason: {kick.reason}" if kick.reason else ""
    return (
        f"You were removed from this room and may rejoin at {at} (in {wait}), "
        f"or sooner if its owner lets you back in.{reason}"
    )


def _role_for(*, room: Room, user, membership: RoomMembership | None) -> str:
    if room.owner_id == user.pk:
        return Participant.Role.OWNER
    if user.is_staff or (membership and membership.role == RoomMembership.Role.MODERATOR):
        return Participant.Role.MODERATOR
    return Participant.Role.MEMBER
