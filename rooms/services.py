"""Writes about rooms: creating, editing, closing, membership, chat and ending presence rows.

Views, forms, admin actions and the signaling consumer call these; none of them holds the rules.
A write that must also reach a call in progress (lock, end, ban) is in ``rooms.moderation``,
which builds on these and announces its effect through ``rooms.live``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext

from rooms.access import RoomAccess, room_access_for
from rooms.audit import Action, audit_record
from rooms.models import (
    CHAT_TEXT_MAX_LENGTH,
    AuditEntry,
    ChatMessage,
    Participant,
    Room,
    RoomBan,
    RoomKick,
    RoomMembership,
    RoomVisit,
    generate_invite_token,
)
from rooms.selectors import chat_history_forget

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

SLUG_MAX_LENGTH = 100
PURGE_CACHE_KEY = "rooms:chat-purge:last"
PURGE_INTERVAL_SECONDS = 24 * 60 * 60
PURGE_BATCH_SIZE = 1000
ROOM_EDITABLE_FIELDS = frozenset(
    {
        "name",
        "description",
        "is_private",
        "max_participants",
        "guests_allowed",
        "lobby",
        "lobby_when_locked",
        "media_mode",
    }
)


def room_slug_for(*, name: str) -> str:
    """A slug made from ``name`` that no room uses yet (``weekly-sync``, ``weekly-sync-2``…)."""
    return _unique_slug_for(name.strip())


def _unique_slug_for(name: str) -> str:
    # Nine characters stay free for a "-<suffix>", so the slug always fits its column.
    base = slugify(name)[: SLUG_MAX_LENGTH - 9].strip("-") or "room"
    # One query for every slug that starts like this one, instead of one per taken suffix:
    # a popular name ("standup") would otherwise cost a query per room that already has it.
    taken = set(Room.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def room_limit_check(*, owner: User) -> None:
    """Refuse with ``ValidationError`` if ``owner`` already has ``MAX_ROOMS_PER_USER`` open rooms.

    Staff are exempt, and ``0`` turns the limit off. Closed rooms do not count: closing one
    makes room for a new one. The limit is there to stop runaway creation (a script, a stuck
    button), so two requests in the same instant slipping past it together is acceptable.
    """
    limit = settings.MAX_ROOMS_PER_USER
    if not limit or owner.is_staff:
        return
    if Room.objects.filter(owner=owner, closed_at__isnull=True).count() >= limit:
        raise ValidationError(
            # The English is the same either way; other languages need the count's form.
            ngettext(
                "You already have %(count)d open rooms, the most one person may have. Close one "
                "you no longer need, then create this one.",
                "You already have %(count)d open rooms, the most one person may have. Close one "
                "you no longer need, then create this one.",
                limit,
            )
            % {"count": limit},
            code="room_limit",
        )


def room_create(*, owner, name: str, **fields) -> Room:
    """Create a room owned by ``owner`` with a unique slug made from ``name``.

    Two rooms may share a name; the second gets ``-2``, the third ``-3`` and so on. A race
    between two creators of the same name is settled by the unique index and a retry. An owner
    at the open-room limit is refused with ``ValidationError`` (see ``room_limit_check``).
    """
    name = name.strip()
    room_limit_check(owner=owner)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Room.objects.create(
                    owner=owner, name=name, slug=_unique_slug_for(name), **fields
                )
        except IntegrityError:
            continue
    raise IntegrityError("Could not find a free slug for this room name.")


def room_update(*, room: Room, **fields) -> Room:
    """Change a room's editable fields (name, description, privacy, participant limit, guests
    and the lobby).

    Only the fields given are saved. The lock, owner, slug, invite token and closing each have
    their own service and are refused here with ``TypeError``; the owner's settings form goes
    through ``rooms.moderation.room_edit``, which also changes the lock and tells the call.
    Invalid values raise ``ValidationError`` and nothing is saved.
    """
    unknown = set(fields) - ROOM_EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"room_update cannot change {', '.join(sorted(unknown))}")
    if isinstance(fields.get("name"), str):
        fields["name"] = fields["name"].strip()
    for field, value in fields.items():
        setattr(room, field, value)
    room.full_clean(exclude=["slug", "owner", "invite_token"])
    # Only the given fields are written: a ModelForm has already copied every submitted value
    # (the lock too) onto the instance, and the lock must change only through its own service.
    room.save(update_fields=[*fields, "updated_at"])
    return room


def room_close(*, room: Room) -> Room:
    """Close a room: it answers 404 to everyone but staff until reopened."""
    if room.closed_at is None:
        room.closed_at = timezone.now()
        room.save(update_fields=["closed_at", "updated_at"])
    return room


def room_reopen(*, room: Room, by: User | None = None) -> Room:
    """Reopen a closed room: its page and signaling answer again under the usual rules.

    ``by`` is who reopened it, for the moderation log (``reopen``); reopening a room that is
    open already changes nothing and logs nothing.
    """
    was_closed = room.closed_at is not None
    room.closed_at = None
    room.save(update_fields=["closed_at", "updated_at"])
    if was_closed:
        audit_record(room=room, action=Action.REOPEN, actor=by)
    return room


def room_set_locked(*, room: Room, locked: bool) -> Room:
    """Lock or unlock a room; while locked only its owner and staff may enter."""
    room.is_locked = bool(locked)
    room.save(update_fields=["is_locked", "updated_at"])
    return room


def room_set_owner(*, room: Room, owner: User) -> Room:
    """Give ``room`` to ``owner`` (staff do this in the admin); the slug and link stay.

    A live participant's role does not follow by itself: ``rooms.moderation`` refreshes it.
    """
    room.owner = owner
    room.save(update_fields=["owner", "updated_at"])
    return room


def room_rotate_invite(*, room: Room, by: User | None = None) -> Room:
    """Give the room a new invite token; links with the old token stop working.

    ``by`` is who did it, for the moderation log (``invite_rotate``).
    """
    room.invite_token = generate_invite_token()
    room.save(update_fields=["invite_token", "updated_at"])
    audit_record(room=room, action=Action.INVITE_ROTATE, actor=by)
    return room


def room_membership_set(*, room: Room, user, role: str = RoomMembership.Role.MEMBER):
    """Make ``user`` a member (or moderator) of ``room``, updating the role if already one."""
    membership, _created = RoomMembership.objects.update_or_create(
        room=room, user=user, defaults={"role": role}
    )
    return membership


def room_membership_remove(*, room: Room, user: User) -> bool:
    """End ``user``'s membership (or moderator role); True if there was one.

    For a private room this takes back the right to enter without an invite link; a call the
    user is in right now goes on until they leave (banning is what removes them at once).
    """
    deleted, _by_model = RoomMembership.objects.filter(room=room, user=user).delete()
    return bool(deleted)


def room_unban_user(*, room: Room, user: User, by: User | None = None) -> bool:
    """Lift ``user``'s ban from ``room``; True if there was one.

    ``by`` is who lifted it, for the moderation log (``unban``); no ban, no entry.
    """
    deleted, _by_model = RoomBan.objects.filter(room=room, user=user).delete()
    if deleted:
        audit_record(room=room, action=Action.UNBAN, actor=by, target=user)
    return bool(deleted)


def room_kick_lift(*, room: Room, user: User) -> bool:
    """Let a user removed from ``room``'s call back in before their cooldown ends.

    True if a cooldown was still running; an expired one is dropped too and counts as none.
    """
    kicks = RoomKick.objects.filter(room=room, user=user)
    running = kicks.filter(until__gt=timezone.now()).exists()
    kicks.delete()
    return running


def room_membership_from_invite(*, room: Room, user) -> RoomMembership:
    """Record a holder of the room's current invite link as a member (an existing role stays)."""
    membership, _created = RoomMembership.objects.get_or_create(room=room, user=user)
    return membership


def room_enter(
    *, user, room: Room | None, invite_token: str | None = None, verdict: RoomAccess | None = None
) -> RoomAccess:
    """Check access for opening the room page, recording the visit and any invite membership.

    ``verdict`` is the access rule's answer when the caller already asked it. Someone who must
    knock is not made a member by the invite yet: that would let them past the lobby.
    """
    access = verdict or room_access_for(user=user, room=room, invite_token=invite_token)
    if access.allowed:
        if access.via_invite and not access.knock:
            room_membership_from_invite(room=room, user=user)
        RoomVisit.objects.update_or_create(
            room=room, user=user, defaults={"last_visited_at": timezone.now()}
        )
    return access


def chat_message_create(*, room: Room, user, text: str, peer_id: str = "") -> ChatMessage:
    """Store a chat message; ``text`` is trimmed and must be 1 to ``CHAT_TEXT_MAX_LENGTH`` long.

    Once a day, the first message sent also purges chat, call history and the moderation log
    past their retention (``history_purge_if_due``).
    """
    text = text.strip()
    if not text or len(text) > CHAT_TEXT_MAX_LENGTH:
        raise ValueError(
            gettext("Chat messages must be 1 to {limit} characters long.").format(
                limit=CHAT_TEXT_MAX_LENGTH
            )
        )
    message = ChatMessage.objects.create(room=room, user=user, text=text, peer_id=peer_id)
    chat_history_forget(room_id=room.pk)
    try:
        history_purge_if_due()
    except Exception:
        # Housekeeping must never cost the sender their message; the next day tries again.
        logger.exception("Automatic purge of old chat and call history failed")
    return message


def chat_messages_purge(*, older_than_days: int | None = None, dry_run: bool = False) -> int:
    """Delete chat messages older than ``older_than_days`` and return how many there were.

    The default is ``CHAT_RETENTION_DAYS``; ``0`` (or less) keeps chat forever and deletes
    nothing. Hidden messages go the same way. With ``dry_run`` nothing is deleted and the
    count says what would be.
    """
    days = settings.CHAT_RETENTION_DAYS if older_than_days is None else older_than_days
    if days <= 0:
        return 0
    expired = ChatMessage.objects.filter(created_at__lt=timezone.now() - timedelta(days=days))
    return _delete_in_batches(expired, dry_run=dry_run)


def participants_purge(*, older_than_days: int | None = None, dry_run: bool = False) -> int:
    """Delete the history of calls that ended more than ``older_than_days`` ago; the count.

    A participant row says who was in which room and when: personal data kept only as long as
    ``PARTICIPANT_RETENTION_DAYS`` (0 keeps it forever). Rows of calls still going on are never
    touched, whatever their age. The owner's "Others who were in the room" list (for banning)
    draws on this history, so it reaches back as far as the retention.
    """
    days = settings.PARTICIPANT_RETENTION_DAYS if older_than_days is None else older_than_days
    if days <= 0:
        return 0
    expired = Participant.objects.filter(
        left_at__isnull=False, left_at__lt=timezone.now() - timedelta(days=days)
    )
    return _delete_in_batches(expired, dry_run=dry_run)


def audit_entries_purge(*, older_than_days: int | None = None, dry_run: bool = False) -> int:
    """Delete moderation log entries older than ``older_than_days``; the count.

    The default is ``AUDIT_RETENTION_DAYS`` (0 keeps the log forever). With ``dry_run`` nothing
    is deleted and the count says what would be.
    """
    days = settings.AUDIT_RETENTION_DAYS if older_than_days is None else older_than_days
    if days <= 0:
        return 0
    expired = AuditEntry.objects.filter(created_at__lt=timezone.now() - timedelta(days=days))
    return _delete_in_batches(expired, dry_run=dry_run)


def _delete_in_batches(queryset, *, dry_run: bool) -> int:
    # Batches of PURGE_BATCH_SIZE, so a large first purge never holds one long lock on a table.
    if dry_run:
        return queryset.count()
    model = queryset.model
    deleted = 0
    while batch := list(queryset.values_list("pk", flat=True)[:PURGE_BATCH_SIZE]):
        _total, by_model = model.objects.filter(pk__in=batch).delete()
        deleted += by_model.get(model._meta.label, 0)
    return deleted


def history_purge_if_due() -> int:
    """Purge old chat, call history and moderation log entries if no purge ran in the last day;
    the count deleted.

    The marker lives in the cache, which every process shares when ``REDIS_URL`` is set, so
    the purge runs about once a day for the whole site with no cron job or timer to set up
    (``meet-purge.timer`` in deploy/systemd runs ``purge_history`` as well, for sites where
    nobody chats for days).
    """
    retentions = (
        settings.CHAT_RETENTION_DAYS,
        settings.PARTICIPANT_RETENTION_DAYS,
        settings.AUDIT_RETENTION_DAYS,
    )
    if all(days <= 0 for days in retentions):
        return 0
    # ``add`` writes only if the key is absent, atomically: of many processes sending at once,
    # exactly one wins the day's purge. The key expiring is what makes the next one due.
    if not cache.add(PURGE_CACHE_KEY, timezone.now().isoformat(), PURGE_INTERVAL_SECONDS):
        return 0
    return chat_messages_purge() + participants_purge() + audit_entries_purge()


def chat_message_hide(*, message: ChatMessage) -> ChatMessage:
    """Hide a chat message from every history sent from now on."""
    message.hidden = True
    message.save(update_fields=["hidden"])
    chat_history_forget(room_id=message.room_id)
    return message


def participant_leave(*, participant_id: int, reason: str) -> bool:
    """End a participant row; True only for the call that ended it (the others found it ended).

    The conditional update makes leaving idempotent across processes: a kick, a sweep and the
    socket's own disconnect may race, and exactly one of them announces ``peer-left``.
    """
    ended = (
        Participant.objects.filter(pk=participant_id)
        .open()
        .update(left_at=timezone.now(), leave_reason=reason)
    )
    return bool(ended)
