"""Reads about rooms: lookups for pages and the configuration handed to the room page's script."""

from __future__ import annotations

import functools
import logging
from datetime import UTC
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connections, router
from django.db.models import F, Max, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from accounts.selectors import user_json
from meet.rows import RowReader, row_reader
from rooms.access import ROLES_PAST_A_FULL_ROOM
from rooms.models import (
    CHAT_TEXT_MAX_LENGTH,
    PEER_STATE_DEFAULT,
    REACTION_EMOJI,
    AuditEntry,
    ChatMessage,
    LobbyKnock,
    Participant,
    Room,
    RoomBan,
    RoomKick,
    RoomMembership,
)

RECENT_ROOMS_LIMIT = 10
logger = logging.getLogger(__name__)

PAST_PARTICIPANTS_LIMIT = 50
# How many moderation log entries the owner's settings page shows; the admin has them all.
AUDIT_ENTRIES_LIMIT = 50
# How much chat a newcomer's welcome carries.
CHAT_HISTORY_LIMIT = 50


def room_get_by_slug(*, slug: str) -> Room | None:
    """The room with this slug, closed or not, or ``None``; access rules decide what to show."""
    return Room.objects.select_related("owner").filter(slug=slug).first()


def room_id_by_slug(*, slug: str) -> int | None:
    """The id of the room with ``slug``, closed or not, or ``None``: the signaling's group name.

    Written out: the first join of each room reads it, and the ORM took longer to build the
    query than to run it (a join storm into fresh rooms pays it once a room, issue #14).
    """
    using = router.db_for_read(Room)
    quote = connections[using].ops.quote_name
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(Room._meta.pk.column)} FROM {quote(Room._meta.db_table)}"  # noqa: S608 - names from the model
            f" WHERE {quote(Room._meta.get_field('slug').column)} = %s",
            [slug],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def room_with_access_facts(*, slug: str, user) -> Room | None:
    """The room with ``slug`` and, in the same query, what the rule asks about ``user`` there.

    The rule (``rooms.access.room_access_for``) then needs no query of its own: the signaling
    admission reads the room and the user's ban, running kick and membership in one round trip
    (issue #14). Each of the three is unique per room and user, so each joins at most one row.
    The same statement says whether anyone waits in the lobby (``access_lobby_waiting``), so a
    host's welcome reads the waiting knocks only when there are some.
    The SQL is written out rather than built with the ORM each time: building that query cost
    more than running it, on every join.
    """
    if user is None or not user.is_authenticated:
        return room_get_by_slug(slug=slug)
    using = router.db_for_read(Room)
    sql, reader = _room_with_access_facts_statement(using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [*_access_facts_params(user.pk), slug])
        row = cursor.fetchone()
    return None if row is None else _room_with_facts(reader, row, user_id=user.pk)


def user_and_room_with_access_facts(*, user_id, slug: str) -> tuple[Any, Room | None]:
    """The user row ``user_id`` and, in the same statement, ``room_with_access_facts`` for it.

    For the signaling admission, which knows the session's user id before it reads the row
    (``accounts.selectors.session_model_user_id``): one round trip for both instead of two.
    The user is the instance ``accounts.selectors.user_by_pk`` gives, and it has not been
    judged yet (``session_user`` does that with it); the room's facts are about that user.
    ``(None, None)`` when there is no such user; ``(user, None)`` when there is no such room.
    """
    using = router.db_for_read(Room)
    sql, user_reader, room_reader = _user_and_room_with_access_facts_statement(using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [LobbyKnock.Status.WAITING, slug, timezone.now(), user_id])
        row = cursor.fetchone()
    if row is None:
        return None, None
    user = user_reader.instance(row)
    room_row = row[len(user_reader.attnames) :]
    if room_row[0] is None:
        return user, None
    return user, _room_with_facts(room_reader, room_row, user_id=user.pk)


def _access_facts_params(user_id) -> list:
    """The values of ``_access_facts_sql``'s parameters when the user is a parameter too."""
    return [LobbyKnock.Status.WAITING, user_id, user_id, timezone.now(), user_id]


def _room_with_facts(reader: RowReader, row, *, user_id) -> Room:
    """The room of a row read with ``_access_facts_sql``'s columns, the facts as attributes."""
    room = reader.instance(row)
    (
        room.access_ban_id,
        room.access_ban_reason,
        until,
        room.access_kick_reason,
        room.access_kick_may_knock,
        room.access_membership_role,
        lobby_waiting,
    ) = row[len(reader.attnames) :]
    room.access_facts_user_id = user_id
    room.access_lobby_waiting = bool(lobby_waiting)
    # SQLite hands a computed column's timestamp back as text or as a naive datetime (in UTC,
    # as Django stores them); PostgreSQL as an aware one.
    if isinstance(until, str):
        until = parse_datetime(until)
    if until is not None and timezone.is_naive(until):
        until = timezone.make_aware(until, UTC)
    room.access_kick_until = until
    return room


def _access_facts_sql(room_reader: RowReader, *, user_column: str) -> tuple[str, str]:
    """The room's columns with the access facts about the user in ``user_column``, and the joins.

    ``user_column`` is a column of the statement, or ``%s`` when the user id is a parameter.
    Parameters: the waiting status in the columns; the time now in the joins, after the user
    id twice when that is a parameter, and then the user id once more (``_access_facts_params``
    gives them all). Each join is unique per room and user: at most one row each.
    """
    ban, kick, membership, knock = (
        model._meta.db_table for model in (RoomBan, RoomKick, RoomMembership, LobbyKnock)
    )
    columns = f"""{room_reader.columns},
            b.id, b.reason,
            k.until, k.reason, k.may_knock,
            m.role,
            EXISTS(SELECT 1 FROM {knock} w WHERE w.room_id = r.id AND w.status = %s)"""  # noqa: S608 - table names only
    joins = f"""
        LEFT JOIN {ban} b ON b.room_id = r.id AND b.user_id = {user_column}
        LEFT JOIN {kick} k ON k.room_id = r.id AND k.user_id = {user_column} AND k.until > %s
        LEFT JOIN {membership} m ON m.room_id = r.id AND m.user_id = {user_column}"""
    return columns, joins


@functools.cache
def _room_with_access_facts_statement(using: str) -> tuple[str, RowReader]:
    reader = row_reader(Room, "r", using)
    columns, joins = _access_facts_sql(reader, user_column="%s")
    sql = f"""
        SELECT {columns}
        FROM {Room._meta.db_table} r{joins}
        WHERE r.slug = %s
    """  # noqa: S608 - only the models' own table names are put in; every value is a parameter
    return sql, reader


@functools.cache
def _user_and_room_with_access_facts_statement(using: str) -> tuple[str, RowReader, RowReader]:
    user_model = get_user_model()
    user_reader = row_reader(user_model, "u", using)
    room_reader = row_reader(Room, "r", using)
    quote = connections[using].ops.quote_name
    user_pk = f"u.{quote(user_model._meta.pk.column)}"
    columns, joins = _access_facts_sql(room_reader, user_column=user_pk)
    # The user row leads, so a missing room still gives the user (its room columns NULL).
    sql = f"""
        SELECT {user_reader.columns}, {columns}
        FROM {quote(user_model._meta.db_table)} u
        LEFT JOIN {Room._meta.db_table} r ON r.slug = %s{joins}
        WHERE {user_pk} = %s
    """  # noqa: S608 - only the models' own table and column names are put in
    return sql, user_reader, room_reader


def rooms_owned_by(*, user: User) -> QuerySet[Room]:
    """The user's own rooms: open ones first, then closed ones (to reopen), each newest first."""
    return Room.objects.filter(owner=user).order_by(
        F("closed_at").asc(nulls_first=True), "-created_at"
    )


def rooms_recently_visited(*, user: User, limit: int | None = RECENT_ROOMS_LIMIT) -> QuerySet[Room]:
    """Open rooms of other people that the user opened, most recent visit first.

    Each room carries ``last_visited_at`` from the visit so the page can say when. With
    ``limit=None`` the list is whole, for a paginator to slice (lazily, a page at a time).
    """
    rooms = (
        Room.objects.filter(visits__user=user, closed_at__isnull=True)
        .exclude(owner=user)
        .select_related("owner")
        # The annotation reuses the filter's join, so this is the user's own visit's time.
        .annotate(last_visited_at=F("visits__last_visited_at"))
        .order_by("-last_visited_at", "-pk")
    )
    return rooms if limit is None else rooms[:limit]


def room_memberships(*, room: Room) -> QuerySet[RoomMembership]:
    """The room's moderators, then members, each alphabetically by username."""
    return (
        RoomMembership.objects.filter(room=room)
        .select_related("user")
        .order_by("-role", "user__username")
    )


def room_bans(*, room: Room) -> QuerySet[RoomBan]:
    """The room's bans, newest first, with who made them."""
    return (
        RoomBan.objects.filter(room=room)
        .select_related("user", "banned_by")
        .order_by("-created_at")
    )


def room_kicks_running(*, room: Room) -> QuerySet[RoomKick]:
    """People removed from the room's call who may not rejoin yet, soonest back first."""
    return (
        RoomKick.objects.filter(room=room, until__gt=timezone.now())
        .select_related("user", "kicked_by")
        .order_by("until")
    )


def room_past_participants(*, room: Room, limit: int = PAST_PARTICIPANTS_LIMIT) -> list[User]:
    """People who were in the room's calls but are neither its owner, members nor banned.

    Most recently joined first, each carrying ``last_joined_at``; the owner can ban them from
    the settings page although they never became members (a public room needs no membership).
    """
    seen = (
        Participant.objects.filter(room=room)
        .exclude(user_id=room.owner_id)
        .exclude(user__room_memberships__room=room)
        .exclude(user__room_bans__room=room)
        .values("user_id")
        .annotate(last_joined_at=Max("joined_at"))
        .order_by("-last_joined_at")[:limit]
    )
    last_joined = {row["user_id"]: row["last_joined_at"] for row in seen}
    users = User.objects.in_bulk(list(last_joined))
    people = []
    for user_id, joined_at in last_joined.items():
        user = users[user_id]
        user.last_joined_at = joined_at
        people.append(user)
    return people


def room_person(*, room: Room, user_id: int) -> User | None:
    """Someone tied to the room (never its owner), or ``None``.

    Tied means a member or moderator, banned, or someone who was in one of its calls. The
    owner's buttons act only on such people, so a forged user id cannot ban or promote a
    stranger.
    """
    tied = (
        RoomMembership.objects.filter(room=room, user_id=user_id).exists()
        or RoomBan.objects.filter(room=room, user_id=user_id).exists()
        or Participant.objects.filter(room=room, user_id=user_id).exists()
    )
    if not tied or user_id == room.owner_id:
        return None
    return User.objects.filter(pk=user_id).first()


def room_audit_entries(*, room: Room, limit: int | None = AUDIT_ENTRIES_LIMIT) -> list[AuditEntry]:
    """The room's latest moderation log entries, most recent first (all with ``limit=None``).

    Each entry carries the names copied when it was written, so no user rows are read.
    """
    entries = AuditEntry.objects.filter(room=room).order_by("-created_at", "-id")
    return list(entries if limit is None else entries[:limit])


def room_invite_url(*, room: Room, site_url: str) -> str:
    """The link to share: with the current invite token for a private room, plain otherwise."""
    url = site_url.rstrip("/") + room.get_absolute_url()
    # Guests need the token too: it is what lets someone without an account in.
    if room.is_private or room.guests_allowed:
        url += f"?invite={room.invite_token}"
    return url


def room_page_config(
    *,
    room: Room,
    user: User | None,
    role: str,
    site_url: str,
    knock: bool = False,
    after_kick: bool = False,
    guest_enter_url: str | None = None,
    guest_invite: str | None = None,
) -> dict[str, Any]:
    """Everything the room page's script needs, rendered into the page as JSON.

    ``site_url`` is the scheme and host the visitor used (``https://meet.example.org``), so the
    invite link works wherever the page was opened. ``user`` is None for a visitor without an
    account who has not given a name yet; a guest's page has ``guest`` (where to post the name
    and the link it came with). ``knock`` says Join asks the hosts first (the lobby);
    ``after_kick`` that this is because the visitor was removed from the call a moment ago.
    """
    is_owner = user is not None and room.owner_id == user.pk
    is_staff = user is not None and user.is_staff
    guest = None
    if guest_enter_url:
        guest = {"enter_url": guest_enter_url, "invite": guest_invite or ""}
    return {
        "slug": room.slug,
        "name": room.name,
        "description": room.description,
        "locked": room.is_locked,
        "is_private": room.is_private,
        "max_participants": room.max_participants,
        "role": str(role),
        "user": user_json(user),
        "guest": guest,
        "knock": knock,
        "removed": after_kick,
        "ws_path": f"/ws/rooms/{room.slug}/",
        "turn_url": f"{reverse('turn')}?room={room.slug}",
        "invite_url": room_invite_url(room=room, site_url=site_url),
        "home_url": reverse("home"),
        "edit_url": reverse("rooms:edit", kwargs={"slug": room.slug}) if is_owner else None,
        "admin_url": reverse("admin:rooms_room_change", args=[room.pk]) if is_staff else None,
        # Server values the client obeys, so it never carries copies of its own.
        "chat_max_length": CHAT_TEXT_MAX_LENGTH,
        "peer_state_default": dict(PEER_STATE_DEFAULT),
        "reaction_emoji": list(REACTION_EMOJI),
        "resume_window_seconds": float(settings.RESUME_WINDOW_SECONDS),
        # A visitor without an account is known to the status endpoint only by its link.
        "status_url": reverse("rooms:status", kwargs={"slug": room.slug})
        + (f"?invite={guest_invite}" if guest_invite else ""),
        "status_poll_seconds": ROOM_STATUS_POLL_SECONDS,
    }


# The pre-join page asks this often whether a seat is free: about one small query per waiting
# visitor every few seconds, and a freed seat shows within that time.
ROOM_STATUS_POLL_SECONDS = 4


def room_status(*, room: Room, role: str | None) -> dict[str, Any]:
    """How full the room is now, for a visitor with ``role`` waiting on the pre-join page.

    ``full`` counts connected peers in every process against ``max_participants``;
    ``seat_for_you`` is whether that visitor would be let in now (owners and moderators enter a
    full room, as they enter a locked one). ``role`` is None for someone the lock keeps out.
    """
    connected = Participant.objects.filter(room=room).connected().count()
    full = connected >= room.max_participants
    return {
        "connected": connected,
        "max_participants": room.max_participants,
        "full": full,
        "locked": room.is_locked,
        "seat_for_you": role is not None and (not full or role in ROLES_PAST_A_FULL_ROOM),
    }


# A newcomer's chat history is kept in the cache (shared by every process with Redis) this long;
# a new or hidden message drops it at once, so what lingers is only a renamed author's old name.
CHAT_HISTORY_CACHE_SECONDS = 60


def chat_history_cache_key(room_id: int) -> str:
    return f"chat-history:{room_id}"


def chat_messages_latest_cached(*, room: Room) -> list[ChatMessage]:
    """``chat_messages_latest`` from the cache when it is there: the welcome of a join storm
    reads a room's history once, not once per joiner. A cache that cannot be reached is read
    around, never waited for."""
    key = chat_history_cache_key(room.pk)
    try:
        cached = cache.get(key)
    except Exception:  # noqa: BLE001 - any cache failure means: read the database
        cached = None
    if cached is not None:
        return cached
    latest = chat_messages_latest(room=room)
    try:
        cache.set(key, latest, CHAT_HISTORY_CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("Could not cache the chat history of room %s", room.pk)
    return latest


def chat_history_forget(*, room_id: int) -> None:
    """Drop a room's cached history (a message was added or hidden)."""
    try:
        cache.delete(chat_history_cache_key(room_id))
    except Exception:  # noqa: BLE001
        logger.warning("Could not drop the cached chat history of room %s", room_id)


def chat_messages_latest(*, room: Room, limit: int = CHAT_HISTORY_LIMIT) -> list[ChatMessage]:
    """The room's latest visible chat messages, oldest first; hidden ones never appear.

    Only what a welcome shows is read (the message, its author's id, username and display
    name; the rest is deferred), so the cached copy holds no more of the authors' accounts than
    their names, never a password hash. The statement is written out once per process: the
    first joiner of every room reads it, and building it with the ORM cost more than running it
    (issue #14).
    """
    using = router.db_for_read(ChatMessage)
    sql, message_reader, user_reader = _chat_messages_latest_statement(using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [room.pk, False, limit])
        rows = cursor.fetchall()
    messages = []
    for row in reversed(rows):
        message = message_reader.instance(row)
        author = row[len(message_reader.attnames) :]
        message.user = None if author[0] is None else user_reader.instance(author)
        messages.append(message)
    return messages


_CHAT_HISTORY_FIELDS = ("id", "room", "user", "peer_id", "text", "created_at")
_CHAT_AUTHOR_FIELDS = ("id", "username", "display_name")


@functools.cache
def _chat_messages_latest_statement(using: str) -> tuple[str, RowReader, RowReader]:
    message_reader = row_reader(ChatMessage, "m", using, _CHAT_HISTORY_FIELDS)
    user_reader = row_reader(User, "u", using, _CHAT_AUTHOR_FIELDS)
    sql = f"""
        SELECT {message_reader.columns}, {user_reader.columns}
        FROM {ChatMessage._meta.db_table} m
        LEFT JOIN {User._meta.db_table} u ON u.id = m.user_id
        WHERE m.room_id = %s AND m.hidden = %s
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT %s
    """  # noqa: S608 - only the models' own table names are put in; every value is a parameter
    return sql, message_reader, user_reader


def rooms_live_count() -> int:
    """Rooms with at least one connected participant now, in any process (a call in progress).

    One indexed query (``left_at``, ``last_seen``), cheap enough to run at every metrics scrape.
    """
    return Participant.objects.connected().values("room_id").distinct().count()


def rooms_live_on_sfu_count() -> int:
    """Of the calls in progress, how many go through the SFU (their room records a node)."""
    return (
        Participant.objects.connected()
        .exclude(room__sfu_node="")
        .values("room_id")
        .distinct()
        .count()
    )
