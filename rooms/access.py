"""Who may enter a room: the one access rule used by the room page, TURN and signaling.

Refusals carry the protocol's error codes so every caller can answer in its own medium: a page
for the browser, a JSON error for the TURN endpoint, an error frame and close code for the socket.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from rooms.models import Participant, Room, RoomBan, RoomMembership

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


@dataclass(frozen=True)
class RoomAccess:
    """The verdict for one user and one room.

    ``role`` is set when ``allowed``; ``refusal`` is one of the protocol's error codes when not.
    ``via_invite`` says the user is let in only because they hold the current invite token, so
    the caller should record them as a member.
    """

    allowed: bool
    role: str | None = None
    refusal: str | None = None
    message: str = ""
    via_invite: bool = False

    @classmethod
    def refuse(cls, refusal: str, message: str | None = None) -> RoomAccess:
        return cls(allowed=False, refusal=refusal, message=message or REFUSAL_MESSAGES[refusal])


def room_access_for(*, user, room: Room | None, invite_token: str | None = None) -> RoomAccess:
    """Decide whether ``user`` may enter ``room`` and with which role.

    The order matters: a closed room is hidden from everyone but staff; a ban beats every
    other right; a lock keeps out everyone but the owner and staff, members included; a
    private room admits its owner, moderators, members, staff and holders of the current
    invite token.
    """
    if user is None:
        user = AnonymousUser()
    is_staff = bool(user.is_authenticated and user.is_staff)

    if room is None or (room.is_closed and not is_staff):
        return RoomAccess.refuse(ROOM_NOT_FOUND)
    if not user.is_authenticated or not user.is_active:
        return RoomAccess.refuse(NOT_AUTHENTICATED)

    is_owner = room.owner_id == user.pk
    if not is_owner and RoomBan.objects.filter(room=room, user=user).exists():
        return RoomAccess.refuse(FORBIDDEN, "You have been banned from this room.")

    membership = RoomMembership.objects.filter(room=room, user=user).first()
    role = _role_for(room=room, user=user, membership=membership)

    if room.is_locked and not (is_owner or is_staff):
        return RoomAccess.refuse(ROOM_LOCKED)

    if room.is_private and not (is_owner or is_staff or membership):
        if invite_token and secrets.compare_digest(str(invite_token), room.invite_token):
            return RoomAccess(allowed=True, role=role, via_invite=True)
        return RoomAccess.refuse(
            FORBIDDEN, "This room is private. Ask its owner for an invite link."
        )

    return RoomAccess(allowed=True, role=role)


def room_role_for(*, user, room: Room) -> str:
    """The role ``user`` has in ``room`` now: owner, moderator (staff or named) or member.

    The same role ``room_access_for`` gives on entry; a participant already in the call takes
    it when their standing changes, even one the rule would no longer let in.
    """
    membership = RoomMembership.objects.filter(room=room, user=user).first()
    return _role_for(room=room, user=user, membership=membership)


def _role_for(*, room: Room, user, membership: RoomMembership | None) -> str:
    if room.owner_id == user.pk:
        return Participant.Role.OWNER
    if user.is_staff or (membership and membership.role == RoomMembership.Role.MODERATOR):
        return Participant.Role.MODERATOR
    return Participant.Role.MEMBER
