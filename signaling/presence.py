"""Presence: who is connected to which room, shared by every server process through the database.

Each admitted socket is one ``Participant`` row, made by ``participant_join`` and ended by
``rooms.services.participant_leave``. A process marks its own rows seen every
``PRESENCE_HEARTBEAT_SECONDS`` (``PresenceKeeper``) and, in the same pass, ends rows of any
process that stopped doing so for ``PRESENCE_STALE_SECONDS`` (``Participant.objects.connected()``
is the other side of that rule): a worker killed with SIGKILL never runs disconnect, so the living
sweep for the dead. With the defaults (15 s, 45 s) a dead peer leaves every roster within 60 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from accounts.models import User
from meet.rows import RowReader, row_reader
from rooms import services
from rooms.access import ROLES_PAST_A_FULL_ROOM
from rooms.models import (
    REASON_CONNECTION_LOST,
    REASON_RESUMED,
    REASON_ROOM_ENDED,
    Participant,
    Room,
    RoomBan,
    participant_connected_q,
    participant_fresh_since,
)
from signaling import metrics
from signaling.events import (
    LAYER_BUSY_ERRORS,
    peer_left_event,
    room_group,
    socket_lost_event,
)
from signaling.media_mode import MESH, SFU, CallMedia, call_media_settle
from signaling.wire import peer_state_json

logger = logging.getLogger(__name__)

# Rows made before this process started cannot belong to it; with the in-memory layer (one
# process by definition) they belong to a predecessor that died or was restarted.
PROCESS_STARTED_AT = timezone.now()


class RoomFull(Exception):
    """The room already has ``max_participants`` connected peers."""


class TooManyConnections(Exception):
    """The user already has ``MAX_SOCKETS_PER_USER`` sockets connected to the room."""


class BannedMeanwhile(Exception):
    """The user was banned from the room after the access check, before the seat was taken."""


@dataclass(frozen=True)
class JoinResult:
    """A new participant row, whether it resumed an earlier peer, and a socket it replaced.

    ``others`` are the peers connected to the room when it joined (with their users), read
    under the room's lock: the newcomer's welcome lists them.
    """

    participant: Participant
    resumed: bool
    replaced_channel: str = ""
    others: tuple[Participant, ...] = ()
    # How the call carries media now that this peer is in it (signaling.media_mode).
    media: CallMedia = CallMedia()


def _heartbeat_seconds() -> float:
    return float(settings.PRESENCE_HEARTBEAT_SECONDS)


def new_peer_id() -> str:
    """A fresh, unguessable peer id (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


# --- selectors ----------------------------------------------------------------------------------


def room_connected_participants(*, room: Room) -> list[Participant]:
    """Peers connected to the room now, in any process: not ended and seen recently."""
    connected = Participant.objects.filter(room=room).connected()
    return list(connected.select_related("user").order_by("joined_at", "id"))


def participant_connected(*, room: Room, peer_id: str) -> Participant | None:
    """The participant with this peer id in this room whose call has not ended, or None."""
    return (
        Participant.objects.filter(room=room, peer_id=peer_id)
        .open()
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
    Participant.objects.open().filter(joined_at__lt=PROCESS_STARTED_AT).update(
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


_ROSTER_USER_FIELDS = ("id", "username", "display_name")


def _lock_room_and_read_roster(
    *, room_id: int, user_id: int
) -> tuple[bool, list[Participant], str, CallMedia]:
    """Lock the room's row until the transaction ends; the user's ban and who is connected.

    Also the room's media mode and its live call's SFU (``media_mode.CallMedia``), as they are
    under the lock.

    One statement, written out (the ORM took longer to build it than the database to run it):
    the room's row (locked on PostgreSQL; SQLite has no row locks, and there the transaction
    itself, ``transaction_mode`` IMMEDIATE, holds the database's write lock), whether the user
    is banned, and every connected peer with the user fields a welcome shows, oldest first.
    The peers come back as ``Participant`` rows with their ``user`` attached.
    """
    sql, participant_reader, user_reader = _lock_room_and_read_roster_statement(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, participant_fresh_since(), room_id])
        rows = cursor.fetchall()
    if not rows:
        raise Room.DoesNotExist
    roster = []
    user_start = 5 + len(participant_reader.attnames)
    for row in rows:
        if row[5] is None:
            continue  # The room's row alone: nobody is connected.
        participant = participant_reader.instance(row[5:])
        # Only what a welcome shows; the other fields are deferred (read on use), and no default
        # runs (``date_joined``'s ``now()`` cost more than the rest of the row).
        participant.user = user_reader.instance(row[user_start:])
        roster.append(participant)
    banned, room_mode, sfu_node, sfu_room, sfu_secret = rows[0][:5]
    media = CallMedia(
        mode=SFU if sfu_node else MESH, node=sfu_node, room=sfu_room, secret=sfu_secret
    )
    return bool(banned), roster, room_mode, media


_ROSTER_PARTICIPANT_FIELDS = (
    "id",
    "room",
    "user",
    "peer_id",
    "channel_name",
    "role",
    "state",
    "joined_at",
)


@functools.cache
def _lock_room_and_read_roster_statement(using: str) -> tuple[str, RowReader, RowReader]:
    participant_reader = row_reader(Participant, "p", using, _ROSTER_PARTICIPANT_FIELDS)
    user_reader = row_reader(User, "u", using, _ROSTER_USER_FIELDS)
    room_table, ban_table = Room._meta.db_table, RoomBan._meta.db_table
    participant_table, user_table = Participant._meta.db_table, User._meta.db_table
    sql = (
        f"SELECT EXISTS(SELECT 1 FROM {ban_table} b WHERE b.room_id = r.id AND b.user_id = %s),"  # noqa: S608 - table names only
        " r.media_mode, r.sfu_node, r.sfu_room, r.sfu_secret,"
        f" {participant_reader.columns}, {user_reader.columns}"
        f" FROM {room_table} r"
        # Connected, as ``rooms.models.participant_connected_q`` says: open and fresh.
        f" LEFT JOIN {participant_table} p ON p.room_id = r.id AND p.left_at IS NULL"
        " AND p.last_seen >= %s"
        f" LEFT JOIN {user_table} u ON u.id = p.user_id"
        " WHERE r.id = %s ORDER BY p.joined_at, p.id"
    )
    features = connections[using].features
    if features.has_select_for_update_of:
        sql += " FOR UPDATE OF r"
    elif features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql, participant_reader, user_reader


@functools.cache
def _participant_insert_sql(vendor: str) -> tuple[str, tuple]:
    fields = tuple(f for f in Participant._meta.concrete_fields if not f.primary_key)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Participant._meta.db_table)} ({columns})"  # noqa: S608 - names from the model
        f" VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if connection.features.can_return_columns_from_insert:
        sql += " RETURNING id"
    return sql, fields


def _participant_insert(participant: Participant) -> Participant:
    """Insert a new participant row: ``Model.save``'s INSERT, written out once per process.

    The ORM built the statement anew on every join, which cost more than running it (issue
    #14). Each value still goes through its field's own conversion for the database; the
    model has no save() override and nothing listens to its save signals.
    """
    sql, fields = _participant_insert_sql(connection.vendor)
    values = [
        field.get_db_prep_save(getattr(participant, field.attname), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if connection.features.can_return_columns_from_insert:
            participant.pk = cursor.fetchone()[0]
        else:
            participant.pk = connection.ops.last_insert_id(
                cursor, Participant._meta.db_table, Participant._meta.pk.column
            )
    participant._state.adding = False
    participant._state.db = connection.alias
    return participant


def participant_join(
    *, room: Room, user, role: str, channel_name: str, resume_peer_id: str | None = None
) -> JoinResult:
    """Admit a socket as a participant, resuming ``resume_peer_id`` when that is allowed.

    A resume is allowed when the same user's peer in this room dropped (or was last seen) at
    most ``RESUME_WINDOW_SECONDS`` ago and did not leave, get kicked or see the room end; then
    the peer id and state carry over and a still-open earlier row is ended (its socket, if any,
    is returned to be closed).

    Raises ``BannedMeanwhile`` when a ban was written since the caller's access check,
    ``TooManyConnections`` when the user already has ``MAX_SOCKETS_PER_USER`` sockets here (a
    resumed peer's own older socket does not count), and ``RoomFull`` when ``max_participants``
    peers are connected, except for the owner and moderators (``ROLES_PAST_A_FULL_ROOM``).
    """
    _end_predecessor_rows()
    now = timezone.now()
    with transaction.atomic():
        # Locking the room row serialises admissions to one room across processes (PostgreSQL),
        # so two last-seat joiners cannot both get in; room_ban_user takes the same lock, so a
        # ban is either seen below or written after this row exists (and then kicks it). The
        # ban and the roster are read in the same statement as the lock.
        banned, roster, room_mode, media = _lock_room_and_read_roster(
            room_id=room.pk, user_id=user.pk
        )
        if banned and room.owner_id != user.pk:
            raise BannedMeanwhile
        previous = (
            _resumable_row(room=room, user=user, peer_id=resume_peer_id) if resume_peer_id else None
        )
        # The one read of who is connected gives the seat count, the user's sockets and the
        # newcomer's roster.
        connected = [row for row in roster if previous is None or row.pk != previous.pk]
        # Without a cap one user's sockets could take every seat (nine tabs, eight seats).
        if sum(row.user_id == user.pk for row in connected) >= settings.MAX_SOCKETS_PER_USER:
            raise TooManyConnections
        if role not in ROLES_PAST_A_FULL_ROOM and len(connected) >= room.max_participants:
            raise RoomFull
        media = call_media_settle(
            room_id=room.pk, room_mode=room_mode, current=media, others_connected=len(connected)
        )
        replaced_channel = ""
        if previous is not None and previous.left_at is None:
            Participant.objects.filter(pk=previous.pk).open().update(
                left_at=now, leave_reason=REASON_RESUMED
            )
            replaced_channel = previous.channel_name
        participant = _participant_insert(
            Participant(
                room=room,
                user=user,
                peer_id=previous.peer_id if previous else new_peer_id(),
                channel_name=channel_name,
                role=role,
                state=peer_state_json(previous.state if previous else None),
                joined_at=now,
                last_seen=now,
            )
        )
    return JoinResult(
        participant=participant,
        resumed=previous is not None,
        replaced_channel=replaced_channel,
        others=tuple(connected),
        media=media,
    )


def participant_state_update(*, participant_id: int, state: dict[str, bool]) -> dict[str, bool]:
    """Merge ``state`` into the participant's stored state and return the full state."""
    participant = Participant.objects.only("state").get(pk=participant_id)
    merged = {**peer_state_json(participant.state), **state}
    Participant.objects.filter(pk=participant_id).update(state=merged)
    return merged


def participants_touch(*, participant_ids: list[int]) -> int:
    """Mark these connected participants as seen now (one query for the whole process)."""
    if not participant_ids:
        return 0
    return (
        Participant.objects.filter(pk__in=participant_ids).open().update(last_seen=timezone.now())
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


def peers_gone(
    *, rosters: dict[int, set[str]], ended_before: datetime
) -> dict[int, dict[str, str]]:
    """Of these peer ids (by room id), those whose latest row ended before ``ended_before``:
    room id → {peer id: reason}.

    A peer that resumed has an open newer row and is not gone. The reason is the one
    ``peer-left`` carries; ends that are never announced that way count as lost.
    """
    peer_ids = set().union(*rosters.values()) if rosters else set()
    if not peer_ids:
        return {}
    latest: dict[tuple[int, str], str | None] = {}
    rows = (
        Participant.objects.filter(room_id__in=list(rosters), peer_id__in=list(peer_ids))
        .order_by("joined_at", "id")
        .values_list("room_id", "peer_id", "left_at", "leave_reason")
    )
    for room_id, peer_id, left_at, reason in rows:
        latest[(room_id, peer_id)] = None if left_at is None or left_at >= ended_before else reason
    gone: dict[int, dict[str, str]] = {}
    for (room_id, peer_id), reason in latest.items():
        if reason is None or peer_id not in rosters[room_id]:
            continue
        if reason in (REASON_ROOM_ENDED, REASON_RESUMED, ""):
            reason = REASON_CONNECTION_LOST
        gone.setdefault(room_id, {})[peer_id] = reason
    return gone


def participants_sweep() -> list[tuple[int, str]]:
    """End every participant unseen for ``PRESENCE_STALE_SECONDS``; return (room id, peer id)s.

    Only rows this call ended are returned, so each is announced once even when several
    processes sweep at the same moment.
    """
    stale = Participant.objects.open().exclude(participant_connected_q())
    ended = []
    for participant_id, room_id, peer_id in stale.values_list("id", "room_id", "peer_id"):
        if services.participant_leave(participant_id=participant_id, reason=REASON_CONNECTION_LOST):
            ended.append((room_id, peer_id))
    return ended


# --- the per-process heartbeat ------------------------------------------------------------------


class PresenceKeeper:
    """One per process (per event loop): heartbeats this process's rows and sweeps dead ones.

    It runs only while the process holds at least one socket, so an idle process costs nothing.
    At every beat it also checks its sockets' rosters against the database (``peers_gone``) and
    tells each socket directly, without the channel layer, of peers gone for more than a
    heartbeat: a ``peer-left`` published while Redis was down, or before the receiving
    processes had resubscribed after it came back, is lost (pub/sub keeps nothing), and without
    this check the peer would stay in those clients' lists for the rest of the call.
    """

    def __init__(self) -> None:
        self.channels: dict[int, str] = {}
        # The consumers of this process by participant id, for the roster check.
        self.consumers: dict[int, Any] = {}
        self.task: asyncio.Task | None = None

    def add(self, participant_id: int, channel_name: str, consumer: Any = None) -> None:
        """Keep this row alive; ``consumer`` (``room``, ``roster``, ``peer_gone``) is checked."""
        self.channels[participant_id] = channel_name
        if consumer is not None:
            self.consumers[participant_id] = consumer
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, participant_id: int) -> None:
        self.channels.pop(participant_id, None)
        self.consumers.pop(participant_id, None)
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
        Layer failures are logged, not raised: the roster check at the end tells this
        process's sockets of every peer gone, announced or not.
        """
        local_ids = list(self.channels)
        await database_sync_to_async(participants_touch)(participant_ids=local_ids)
        ended = await database_sync_to_async(participants_sweep)()
        layer = get_channel_layer()
        for room_id, peer_id in ended:
            left = peer_left_event(peer_id=peer_id, reason=REASON_CONNECTION_LOST)
            try:
                await layer.group_send(room_group(room_id), left)
            except LAYER_BUSY_ERRORS:
                metrics.LAYER_ERRORS.inc()
                logger.warning("Could not announce swept peer %s", peer_id)
        for participant_id in await database_sync_to_async(participants_swept)(
            participant_ids=local_ids
        ):
            channel_name = self.channels.pop(participant_id, None)
            consumer = self.consumers.pop(participant_id, None)
            if not channel_name:
                continue
            try:
                await layer.send(channel_name, socket_lost_event())
            except LAYER_BUSY_ERRORS:
                metrics.LAYER_ERRORS.inc()
                if consumer is not None:
                    await consumer.close_lost()
        await self.check_rosters()
        return ended

    async def check_rosters(self) -> None:
        """Tell this process's sockets of roster peers whose rows have ended (see the class)."""
        snapshot = [(consumer, dict(consumer.roster)) for consumer in self.consumers.values()]
        if not snapshot:
            return
        rosters: dict[int, set[str]] = {}
        for consumer, roster in snapshot:
            rosters.setdefault(consumer.room.pk, set()).update(roster)
        # Ends younger than a heartbeat are left to their own announcement, which is normally
        # on its way; this check is the fallback for those that were lost.
        ended_before = timezone.now() - timedelta(seconds=_heartbeat_seconds())
        gone = await database_sync_to_async(peers_gone)(rosters=rosters, ended_before=ended_before)
        for consumer, roster in snapshot:
            for peer_id, reason in gone.get(consumer.room.pk, {}).items():
                if peer_id in roster:
                    await consumer.peer_gone(peer_id, roster[peer_id], reason)


_keepers: dict[asyncio.AbstractEventLoop, PresenceKeeper] = {}


def local_peer_count() -> int:
    """Sockets this process holds as admitted peers (the rows its keepers keep alive)."""
    # A keeper of a closed loop (a finished test run) holds no live socket, whatever it lists.
    return sum(
        len(keeper.channels) for loop, keeper in list(_keepers.items()) if not loop.is_closed()
    )


metrics.CONNECTED_PEERS.set_function(local_peer_count)


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
