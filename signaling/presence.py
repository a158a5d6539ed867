"""Presence: who is connected to which room, shared by every server process through the database.

Each admitted socket is one ``Participant`` row, made by ``participant_join`` and ended by
``participant_leave``. A process marks its own rows seen every ``PRESENCE_HEARTBEAT_SECONDS``
(``PresenceKeeper``) and, in the same pass, ends rows of any process that stopped doing so for
``PRESENCE_STALE_SECONDS``: a worker killed with SIGKILL never runs disconnect, so the living
sweep for the dead. With the defaults (15 s, 45 s) a dead peer leaves every roster within 60 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.selectors import user_json
from rooms.models import Participant, Room
from signaling.events import deliver_event, room_group

logger = logging.getLogger(__name__)

REASON_LEFT = "left"
REASON_KICKED = "kicked"
REASON_CONNECTION_LOST = "connection-lost"
# Ends that are not announced as peer-left: the room ended for all, or the peer came back.
REASON_ROOM_ENDED = "room-ended"
REASON_RESUMED = "resumed"
# Added close code: the server ended this socket's presence (not seen for too long); resume.
CLOSE_LOST = 4408

DEFAULT_STATE = {"audio": True, "video": True, "screen": False, "hand": False}

# Rows made before this process started cannot belong to it; with the in-memory layer (one
# process by definition) they belong to a predecessor that died or was restarted.
PROCESS_STARTED_AT = timezone.now()


class RoomFull(Exception):
    """The room already has ``max_participants`` connected peers."""


@dataclass(frozen=True)
class JoinResult:
    """A new participant row, whether it resumed an earlier peer, and a socket it replaced."""

    participant: Participant
    resumed: bool
    replaced_channel: str = ""


def _heartbeat_seconds() -> float:
    return float(settings.PRESENCE_HEARTBEAT_SECONDS)


def _stale_seconds() -> float:
    return float(settings.PRESENCE_STALE_SECONDS)


def _fresh_since() -> datetime:
    return timezone.now() - timedelta(seconds=_stale_seconds())


def new_peer_id() -> str:
    """A fresh, unguessable peer id (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


# --- selectors ----------------------------------------------------------------------------------


def peer_json(participant: Participant) -> dict[str, Any]:
    """A participant as the protocol's ``peers`` and ``peer-joined`` show it."""
    return {
        "peer_id": participant.peer_id,
        "user": user_json(participant.user),
        "role": participant.role,
        "state": {**DEFAULT_STATE, **(participant.state or {})},
    }


def _connected_now(*, room: Room):
    """Rows of peers connected to the room now, in any process: not ended and seen recently."""
    return Participant.objects.filter(
        room=room, left_at__isnull=True, last_seen__gte=_fresh_since()
    )


def room_connected_participants(*, room: Room) -> list[Participant]:
    """Peers connected to the room now, in any process: not ended and seen recently."""
    return list(_connected_now(room=room).select_related("user").order_by("joined_at", "id"))


def participant_connected(*, room: Room, peer_id: str) -> Participant | None:
    """The connected participant with this peer id in this room, or None."""
    return (
        Participant.objects.filter(room=room, peer_id=peer_id, left_at__isnull=True)
        .select_related("user", "room")
        .first()
    )


# --- services -----------------------------------------------------------------------------------


_predecessor_rows_ended = False


def _end_predecessor_rows() -> None:
    # With the in-memory layer only this process can hold sockets, so open rows from before it
    # started are ghosts of a previous run. Ending them as lost keeps them resumable for 60 s.
    global _predecessor_rows_ended
    if _predecessor_rows_ended or not isinstance(get_channel_layer(), InMemoryChannelLayer):
        return
    _predecessor_rows_ended = True
    Participant.objects.filter(left_at__isnull=True, joined_at__lt=PROCESS_STARTED_AT).update(
        left_at=timezone.now(), leave_reason=REASON_CONNECTION_LOST
    )


def _resumable_row(*, room: Room, user, peer_id: str) -> Participant | None:
    previous = (
        Participant.objects.filter(room=room, user=user, peer_id=peer_id)
        .order_by("-joined_at", "-id")
        .first()
    )
    if previous is None:
        return None
    window_start = timezone.now() - timedelta(seconds=float(settings.RESUME_WINDOW_SECONDS))
    if previous.left_at is None:
        return previous if previous.last_seen >= window_start else None
    if previous.leave_reason == REASON_CONNECTION_LOST and previous.left_at >= window_start:
        return previous
    return None


def participant_join(
    *, room: Room, user, role: str, channel_name: str, resume_peer_id: str | None = None
) -> JoinResult:
    """Admit a socket as a participant, resuming ``resume_peer_id`` when that is allowed.

    A resume is allowed when the same user's peer in this room dropped (or was last seen) at
    most ``RESUME_WINDOW_SECONDS`` ago and did not leave, get kicked or see the room end; then
    the peer id and state carry over and a still-open earlier row is ended (its socket, if any,
    is returned to be closed). Raises ``RoomFull`` when ``max_participants`` peers are connected.
    """
    _end_predecessor_rows()
    now = timezone.now()
    with transaction.atomic():
        # Locking the room row serialises admissions to one room across processes (PostgreSQL),
        # so two last-seat joiners cannot both get in.
        room = Room.objects.select_for_update().get(pk=room.pk)
        previous = (
            _resumable_row(room=room, user=user, peer_id=resume_peer_id) if resume_peer_id else None
        )
        connected = _connected_now(room=room)
        if previous is not None:
            connected = connected.exclude(pk=previous.pk)
        if connected.count() >= room.max_participants:
            raise RoomFull
        replaced_channel = ""
        if previous is not None and previous.left_at is None:
            Participant.objects.filter(pk=previous.pk, left_at__isnull=True).update(
                left_at=now, leave_reason=REASON_RESUMED
            )
            replaced_channel = previous.channel_name
        participant = Participant.objects.create(
            room=room,
            user=user,
            peer_id=previous.peer_id if previous else new_peer_id(),
            channel_name=channel_name,
            role=role,
            state={**DEFAULT_STATE, **(previous.state if previous else {})},
            last_seen=now,
        )
    participant.user = user
    return JoinResult(
        participant=participant, resumed=previous is not None, replaced_channel=replaced_channel
    )


def participant_leave(*, participant_id: int, reason: str) -> bool:
    """End a participant row; True only for the call that ended it (the others found it ended).

    The conditional update makes leaving idempotent across processes: a kick, a sweep and the
    socket's own disconnect may race, and exactly one of them announces ``peer-left``.
    """
    return bool(
        Participant.objects.filter(pk=participant_id, left_at__isnull=True).update(
            left_at=timezone.now(), leave_reason=reason
        )
    )


def participant_state_update(*, participant_id: int, state: dict[str, bool]) -> dict[str, bool]:
    """Merge ``state`` into the participant's stored state and return the full state."""
    participant = Participant.objects.only("state").get(pk=participant_id)
    merged = {**DEFAULT_STATE, **(participant.state or {}), **state}
    Participant.objects.filter(pk=participant_id).update(state=merged)
    return merged


def participants_touch(*, participant_ids: list[int]) -> int:
    """Mark these connected participants as seen now (one query for the whole process)."""
    if not participant_ids:
        return 0
    return Participant.objects.filter(pk__in=participant_ids, left_at__isnull=True).update(
        last_seen=timezone.now()
    )


def participants_swept(*, participant_ids: list[int]) -> list[int]:
    """Which of these participants were ended as lost (by a sweep in another process).

    Kicks, room ends and resumes also end rows, but each sends its own close to the socket.
    """
    if not participant_ids:
        return []
    return list(
        Participant.objects.filter(
            pk__in=participant_ids,
            left_at__isnull=False,
            leave_reason=REASON_CONNECTION_LOST,
        ).values_list("pk", flat=True)
    )


def participants_sweep() -> list[tuple[int, str]]:
    """End every participant unseen for ``PRESENCE_STALE_SECONDS``; return (room id, peer id)s.

    Only rows this call ended are returned, so each is announced once even when several
    processes sweep at the same moment.
    """
    stale = Participant.objects.filter(left_at__isnull=True, last_seen__lt=_fresh_since())
    ended = []
    for participant_id, room_id, peer_id in stale.values_list("id", "room_id", "peer_id"):
        if participant_leave(participant_id=participant_id, reason=REASON_CONNECTION_LOST):
            ended.append((room_id, peer_id))
    return ended


# --- the per-process heartbeat ------------------------------------------------------------------


class PresenceKeeper:
    """One per process (per event loop): heartbeats this process's rows and sweeps dead ones.

    It runs only while the process holds at least one socket, so an idle process costs nothing.
    """

    def __init__(self) -> None:
        self.channels: dict[int, str] = {}
        self.task: asyncio.Task | None = None

    def add(self, participant_id: int, channel_name: str) -> None:
        self.channels[participant_id] = channel_name
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, participant_id: int) -> None:
        self.channels.pop(participant_id, None)
        if not self.channels and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(_heartbeat_seconds())
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A database hiccup must not end presence for the whole process; try next beat.
                logger.exception("Presence heartbeat failed")

    async def beat(self) -> list[tuple[int, str]]:
        """Touch this process's rows, sweep stale ones and announce each as ``peer-left``.

        A socket of this process whose row was ended behind its back (this process stalled
        past the stale limit and another swept it) is closed with ``CLOSE_LOST``, so its
        client resumes and the others see it come back, instead of it relaying as a ghost.
        """
        local_ids = list(self.channels)
        await database_sync_to_async(participants_touch)(participant_ids=local_ids)
        ended = await database_sync_to_async(participants_sweep)()
        layer = get_channel_layer()
        for room_id, peer_id in ended:
            frame = {"type": "peer-left", "peer_id": peer_id, "reason": REASON_CONNECTION_LOST}
            await layer.group_send(room_group(room_id), deliver_event(frame, leave=peer_id))
        for participant_id in await database_sync_to_async(participants_swept)(
            participant_ids=local_ids
        ):
            channel_name = self.channels.pop(participant_id, None)
            if channel_name:
                await layer.send(channel_name, deliver_event(close=CLOSE_LOST))
        return ended


_keepers: dict[asyncio.AbstractEventLoop, PresenceKeeper] = {}


def presence_keeper() -> PresenceKeeper:
    """The keeper of the running event loop (daphne runs one loop per process)."""
    loop = asyncio.get_running_loop()
    keeper = _keepers.get(loop)
    if keeper is None:
        # Loops of finished test runs are dropped so the dict does not grow.
        for old in [old for old in _keepers if old.is_closed()]:
            with contextlib.suppress(KeyError):
                del _keepers[old]
        keeper = _keepers[loop] = PresenceKeeper()
    return keeper
