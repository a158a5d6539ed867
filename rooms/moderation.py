"""Moderation of a live call: kick, ask to mute, lock, end.

The Django admin and the owner's in-room controls call these same services. Each one records its
effect in the database first and then tells the affected sockets through the channel layer, by
channel name or room group, so it works whichever server process holds those sockets.
"""

from __future__ import annotations

from django.utils import timezone

from accounts.selectors import user_json
from rooms.models import Participant, Room
from rooms.services import room_close, room_set_locked
from signaling.events import deliver_event, send_to_channel, send_to_room
from signaling.presence import REASON_KICKED, REASON_ROOM_ENDED, participant_leave

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


def room_end(*, room: Room, by) -> Room:
    """End the call for everyone and close the room: each peer gets ``room-ended``, then 4411.

    A closed room refuses new sockets with 4404 until it is reopened.
    """
    room = room_close(room=room)
    Participant.objects.filter(room=room, left_at__isnull=True).update(
        left_at=timezone.now(), leave_reason=REASON_ROOM_ENDED
    )
    frame = {"type": "room-ended", "by": user_json(by)}
    send_to_room(room.pk, deliver_event(frame, close=CLOSE_ROOM_ENDED))
    return room
