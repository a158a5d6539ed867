"""Actions that touch a call in progress: kick, ask to mute, lock, end, ban, edit, change a role.

The Django admin, the owner's settings page and the in-room controls call these same services.
Each one records its effect in the database first (through ``rooms.services`` where a plain write
exists) and then tells the affected sockets through the channel layer, by channel name or room
group, so it works whichever server process holds those sockets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.selectors import user_json
from rooms.access import room_role_for
from rooms.models import Participant, Room, RoomBan, RoomMembership
from rooms.services import (
    room_close,
    room_membership_remove,
    room_membership_set,
    room_set_locked,
    room_update,
)
from signaling.events import deliver_event, send_to_channel, send_to_room
from signaling.presence import REASON_KICKED, REASON_ROOM_ENDED, participant_leave

if TYPE_CHECKING:
    from accounts.models import User

CLOSE_KICKED = 4410
CLOSE_ROOM_ENDED = 4411
MODERATOR_ROLES = frozenset({Participant.Role.OWNER, Participant.Role.MODERATOR})


class ModerationRefused(Exception):
    """The moderator may not do this to this participant (``code`` is a protocol error code)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def can_moderate(*, role: str) -> bool:
    """Whether a participant with ``role`` may kick, mute, lock and end."""
    return role in MODERATOR_ROLES


def moderation_check_target(*, actor: Participant, target: Participant) -> None:
    """Refuse in-room moderation of oneself or of the room's owner by anyone else.

    The admin is not bound by this: staff act on any participant from there.
    """
    if target.pk == actor.pk or target.peer_id == actor.peer_id:
        raise ModerationRefused("bad_message", "You cannot do this to yourself.")
    if target.role == Participant.Role.OWNER and actor.role != Participant.Role.OWNER:
        raise ModerationRefused("forbidden", "The room's owner cannot be moderated.")


def participant_kick(*, participant: Participant, by, reason: str = "") -> None:
    """Remove a participant now: it gets ``kicked`` and is closed with 4410, others get
    ``peer-left`` with reason ``kicked``.

    The socket is reached by its channel name, so the caller (an admin request, another
    process's consumer) need not be where the socket is.
    """
    ended = participant_leave(participant_id=participant.pk, reason=REASON_KICKED)
    frame = {"type": "kicked", "by": user_json(by)}
    if reason:
        frame["reason"] = reason
    send_to_channel(participant.channel_name, deliver_event(frame, close=CLOSE_KICKED))
    if ended:
        left = {"type": "peer-left", "peer_id": participant.peer_id, "reason": REASON_KICKED}
        send_to_room(
            participant.room_id,
            deliver_event(left, exclude=participant.peer_id, leave=participant.peer_id),
        )


def participant_ask_mute(*, participant: Participant, by) -> None:
    """Ask a participant to turn its microphone off (``mute-request``); the client obeys."""
    frame = {"type": "mute-request", "by": user_json(by)}
    send_to_channel(participant.channel_name, deliver_event(frame))


def room_lock(*, room: Room, by, locked: bool) -> Room:
    """Lock or unlock the room and tell everyone in it (``room`` with ``locked``)."""
    room = room_set_locked(room=room, locked=locked)
    send_to_room(room.pk, deliver_event({"type": "room", "locked": room.is_locked}))
    return room


def room_edit(*, room: Room, by: User | None = None, **fields) -> Room:
    """Save the owner's settings form: editable fields and the lock.

    The other fields go through ``rooms.services.room_update`` (its ``TypeError`` and
    ``ValidationError`` apply, and nothing is saved or announced then). A change of lock goes
    through ``room_lock``, so the call in progress hears of it as when a moderator locks from
    inside the call; an unchanged lock is not announced again.
    """
    locked = fields.pop("is_locked", None)
    # The lock is compared with the stored value, not the instance's: a ModelForm has already
    # copied the submitted values onto the instance by the time it calls this.
    was_locked = Room.objects.filter(pk=room.pk).values_list("is_locked", flat=True).get()
    room = room_update(room=room, **fields)
    if locked is not None and bool(locked) != was_locked:
        room = room_lock(room=room, locked=bool(locked), by=by)
    return room


def room_end(*, room: Room, by) -> Room:
    """End the call for everyone and close the room: each peer gets ``room-ended``, then 4411.

    Used by the owner's "Close room" button, the admin's "close" action and the in-call "end";
    ``by`` is the user doing it, shown to the peers. A closed room refuses new sockets with 4404
    until it is reopened.
    """
    room = room_close(room=room)
    _live_participants(room=room).update(left_at=timezone.now(), leave_reason=REASON_ROOM_ENDED)
    frame = {"type": "room-ended", "by": user_json(by)}
    send_to_room(room.pk, deliver_event(frame, close=CLOSE_ROOM_ENDED))
    return room


def room_ban_user(*, room: Room, user: User, by: User | None = None, reason: str = "") -> RoomBan:
    """Ban ``user`` from ``room`` and remove them from any call there right now.

    The user stops being a member or moderator of the room. The owner cannot be banned from
    their own room (the access rule ignores such a ban, so it would only mislead); that raises
    ``ValidationError``. Banning again updates the reason. Each connection the user has in the
    room is kicked as ``participant_kick`` does, with the reason or "You were banned.".
    """
    if room.owner_id == user.pk:
        raise ValidationError("The owner of a room cannot be banned from it.")
    ban, _created = RoomBan.objects.update_or_create(
        room=room, user=user, defaults={"reason": reason.strip(), "banned_by": by}
    )
    # A ban ends membership too, so lifting it later does not quietly restore old rights.
    RoomMembership.objects.filter(room=room, user=user).delete()
    for participant in _live_participants(room=room, user=user):
        participant_kick(participant=participant, by=by, reason=reason or "You were banned.")
    return ban


def room_person_standing_set(*, room: Room, user: User, role: str | None) -> None:
    """Make ``user`` a member or moderator of ``room`` (``role``), or no member at all (None).

    Someone in the call right now gets the new role at once: their connections are told, and so
    are the others, so moderation controls appear or go without a reconnect. Removing a member
    does not end their call (a ban does); it only takes back rights held through membership.
    """
    if role is None:
        room_membership_remove(room=room, user=user)
    else:
        room_membership_set(room=room, user=user, role=role)
    participant_roles_refresh(room=room, user=user)


def participant_roles_refresh(*, room: Room, user: User) -> None:
    """Give ``user``'s live participants in ``room`` the role the access rule grants now.

    Each one whose role changes is saved, and the room hears ``{"type": "role", "peer_id",
    "role"}``; the event also carries the new role to the participant's own consumer, which
    checks its moderation rights against it. A moderator removed from a private room is a
    member for the rest of the call (removal takes back rights, not the call).
    """
    role = room_role_for(user=user, room=room)
    for participant in _live_participants(room=room, user=user).exclude(role=role):
        participant.role = role
        participant.save(update_fields=["role"])
        frame = {"type": "role", "peer_id": participant.peer_id, "role": participant.role}
        send_to_room(room.pk, deliver_event(frame, roles={participant.peer_id: participant.role}))


def _live_participants(*, room: Room, user: User | None = None):
    """Participant rows of ``room`` (of ``user`` only, if given) whose call has not ended."""
    live = Participant.objects.filter(room=room, left_at__isnull=True)
    return live if user is None else live.filter(user=user)
