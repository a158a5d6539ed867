"""Admission of a signaling socket: the access rule, the seat count and the ``welcome`` frame.

One synchronous function so the consumer makes a single trip to the database thread on connect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.selectors import user_json
from rooms.access import room_access_for
from rooms.models import ChatMessage, Room
from rooms.services import room_membership_from_invite
from signaling.presence import (
    JoinResult,
    RoomFull,
    participant_join,
    peer_json,
    room_connected_participants,
)
from signaling.protocol import PROTOCOL_VERSION
from signaling.resume import resume_token_make, resume_token_peer_id

ROOM_FULL = "room_full"
CLOSE_CODES = {
    "not_authenticated": 4401,
    "forbidden": 4403,
    "room_not_found": 4404,
    "room_locked": 4423,
    ROOM_FULL: 4409,
}
CHAT_HISTORY_LIMIT = 50


@dataclass(frozen=True)
class Admission:
    """Either a refusal (``error`` code, message and close code) or a joined peer's welcome."""

    refusal: str | None = None
    message: str = ""
    join: JoinResult | None = None
    room: Room | None = None
    welcome: dict[str, Any] = field(default_factory=dict)
    roster: dict[str, str] = field(default_factory=dict)

    @property
    def close_code(self) -> int:
        return CLOSE_CODES[self.refusal] if self.refusal else 1000


def timestamp_json(moment) -> str:
    """An aware datetime as the protocol writes it: ISO 8601 in UTC with a ``Z``."""
    return moment.isoformat().replace("+00:00", "Z")


def chat_json(message: ChatMessage) -> dict[str, Any]:
    """A stored chat message as the protocol's ``chat`` frame and ``welcome.chat`` show it."""
    return {
        "id": message.pk,
        "peer_id": message.peer_id,
        "user": user_json(message.user),
        "text": message.text,
        "sent_at": timestamp_json(message.created_at),
    }


def chat_history(*, room: Room, limit: int = CHAT_HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The room's latest visible chat messages, oldest first; hidden ones never appear."""
    latest = (
        ChatMessage.objects.filter(room=room, hidden=False)
        .select_related("user")
        .order_by("-created_at", "-id")[:limit]
    )
    return [chat_json(message) for message in reversed(list(latest))]


def room_json(room: Room) -> dict[str, Any]:
    """The room as ``welcome.room`` shows it."""
    return {
        "slug": room.slug,
        "name": room.name,
        "locked": room.is_locked,
        "max_participants": room.max_participants,
    }


def room_by_slug(*, slug: str) -> Room | None:
    """The room with this slug, closed or not; the access rule decides what a closed room means."""
    return Room.objects.select_related("owner").filter(slug=slug).first()


def socket_admit(
    *,
    user,
    room: Room | None,
    channel_name: str,
    invite_token: str | None = None,
    resume_token: str | None = None,
) -> Admission:
    """Admit ``user`` to ``room`` over a socket, or say why not.

    The same access rule as the room page decides (``room_access_for``); then a seat is taken
    (``room_full`` when none is left) and a valid ``resume_token`` keeps the earlier peer id.
    The caller joins the room's group before calling, so every peer that joins after the
    roster below was read is announced to it.
    """
    access = room_access_for(user=user, room=room, invite_token=invite_token)
    if not access.allowed:
        return Admission(refusal=access.refusal, message=access.message)
    resume_peer_id = (
        resume_token_peer_id(token=resume_token, user_id=user.pk, room_id=room.pk)
        if resume_token
        else None
    )
    try:
        join = participant_join(
            room=room,
            user=user,
            role=str(access.role),
            channel_name=channel_name,
            resume_peer_id=resume_peer_id,
        )
    except RoomFull:
        return Admission(refusal=ROOM_FULL, message="This room is full.")
    if access.via_invite:
        room_membership_from_invite(room=room, user=user)
    me = join.participant
    others = [
        other for other in room_connected_participants(room=room) if other.peer_id != me.peer_id
    ]
    peers = [peer_json(other) for other in others]
    welcome = {
        "type": "welcome",
        "protocol": PROTOCOL_VERSION,
        "resumed": join.resumed,
        "self": {
            "peer_id": me.peer_id,
            "user": user_json(user),
            "role": me.role,
            "state": peer_json(me)["state"],
            "resume_token": resume_token_make(user_id=user.pk, room_id=room.pk, peer_id=me.peer_id),
        },
        "room": room_json(room),
        "peers": peers,
        "chat": chat_history(room=room),
    }
    roster = {other.peer_id: other.channel_name for other in others}
    return Admission(join=join, room=room, welcome=welcome, roster=roster)
