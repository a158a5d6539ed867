"""Writes about rooms: creating, editing, closing, membership and chat.

Views, forms, admin actions and the signaling consumer call these; none of them holds the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from rooms.access import RoomAccess, room_access_for
from rooms.models import (
    CHAT_TEXT_MAX_LENGTH,
    ChatMessage,
    Participant,
    Room,
    RoomBan,
    RoomMembership,
    RoomVisit,
    generate_invite_token,
)

if TYPE_CHECKING:
    from accounts.models import User

SLUG_MAX_LENGTH = 100
ROOM_EDITABLE_FIELDS = frozenset(
    {"name", "description", "is_private", "max_participants", "is_locked"}
)


def room_slug_for(*, name: str) -> str:
    """A slug made from ``name`` that no room uses yet (``weekly-sync``, ``weekly-sync-2``…)."""
    return _unique_slug_for(name.strip())


def _unique_slug_for(name: str) -> str:
    base = slugify(name)[: SLUG_MAX_LENGTH - 9].strip("-") or "room"
    candidate = base
    suffix = 2
    while Room.objects.filter(slug=candidate).exists():
        candidate = f"{base}-{suffix}"
        suffix += 1
    return candidate


def room_create(*, owner, name: str, **fields) -> Room:
    """Create a room owned by ``owner`` with a unique slug made from ``name``.

    Two rooms may share a name; the second gets ``-2``, the third ``-3`` and so on. A race
    between two creators of the same name is settled by the unique index and a retry.
    """
    name = name.strip()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Room.objects.create(
                    owner=owner, name=name, slug=_unique_slug_for(name), **fields
                )
        except IntegrityError:
            continue
    raise IntegrityError("Could not find a free slug for this room name.")


def room_update(*, room: Room, by: User | None = None, **fields) -> Room:
    """Change a room's editable fields (name, description, privacy, limits, lock).

    A change of lock is announced to any call in progress, as the in-call lock button does.
    Any other field (owner, slug, invite token, closing) has its own service and is refused
    here with ``TypeError``; invalid values raise ``ValidationError`` and nothing is saved.
    """
    unknown = set(fields) - ROOM_EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"room_update cannot change {', '.join(sorted(unknown))}")
    if isinstance(fields.get("name"), str):
        fields["name"] = fields["name"].strip()
    # The lock is compared with the stored value, not the instance's: a ModelForm has already
    # copied the submitted values onto the instance by the time it calls this.
    was_locked = Room.objects.filter(pk=room.pk).values_list("is_locked", flat=True).get()
    locked = fields.pop("is_locked", None)
    for field, value in fields.items():
        setattr(room, field, value)
    room.is_locked = was_locked
    room.full_clean(exclude=["slug", "owner", "invite_token"])
    room.save()
    if locked is not None and bool(locked) != was_locked:
        # Imported here because rooms.moderation imports this module. The call in progress
        # hears of the change, as when a moderator locks from inside the call.
        from rooms.moderation import room_lock

        room = room_lock(room=room, locked=bool(locked), by=by)
    return room


def room_close(*, room: Room) -> Room:
    """Close a room: it answers 404 to everyone but staff until reopened."""
    if room.closed_at is None:
        room.closed_at = timezone.now()
        room.save(update_fields=["closed_at", "updated_at"])
    return room


def _end_live_call(*, room: Room, by: User | None) -> None:
    # Imported here because rooms.moderation imports this module.
    from rooms.moderation import room_end

    room_end(room=room, by=by)


def room_shut_down(*, room: Room, by: User | None) -> Room:
    """Close the room and end any call in it: every connected peer gets ``room-ended``.

    Used by the owner's "Close room" button and the admin's "close" action; ``by`` is the user
    doing it, shown to the peers.
    """
    # room_end closes the room first, then ends every connected peer.
    _end_live_call(room=room, by=by)
    return room


def room_reopen(*, room: Room) -> Room:
    """Reopen a closed room: its page and signaling answer again under the usual rules."""
    room.closed_at = None
    room.save(update_fields=["closed_at", "updated_at"])
    return room


def room_set_locked(*, room: Room, locked: bool) -> Room:
    """Lock or unlock a room; while locked only its owner and staff may enter."""
    room.is_locked = bool(locked)
    room.save(update_fields=["is_locked", "updated_at"])
    return room


def room_rotate_invite(*, room: Room) -> Room:
    """Give the room a new invite token; links with the old token stop working."""
    room.invite_token = generate_invite_token()
    room.save(update_fields=["invite_token", "updated_at"])
    return room


def room_membership_set(*, room: Room, user, role: str = RoomMembership.Role.MEMBER):
    """Make ``user`` a member (or moderator) of ``room``, updating the role if already one."""
    membership, _created = RoomMembership.objects.update_or_create(
        room=room, user=user, defaults={"role": role}
    )
    return membership


def _kick_connected(*, room: Room, user: User, by: User | None, reason: str) -> None:
    # Imported here because rooms.moderation imports this module.
    from rooms.moderation import participant_kick

    for participant in Participant.objects.filter(room=room, user=user, left_at__isnull=True):
        participant_kick(participant=participant, by=by, reason=reason)


def room_ban_user(*, room: Room, user: User, by: User | None = None, reason: str = "") -> RoomBan:
    """Ban ``user`` from ``room`` and remove them from any call there right now.

    The user stops being a member or moderator of the room. The owner cannot be banned from
    their own room (the access rule ignores such a ban, so it would only mislead); that raises
    ``ValidationError``. Banning again updates the reason.
    """
    if room.owner_id == user.pk:
        raise ValidationError("The owner of a room cannot be banned from it.")
    ban, _created = RoomBan.objects.update_or_create(
        room=room, user=user, defaults={"reason": reason.strip(), "banned_by": by}
    )
    # A ban ends membership too, so lifting it later does not quietly restore old rights.
    RoomMembership.objects.filter(room=room, user=user).delete()
    _kick_connected(room=room, user=user, by=by, reason=reason or "You were banned.")
    return ban


def room_membership_remove(*, room: Room, user: User) -> bool:
    """End ``user``'s membership (or moderator role); True if there was one.

    For a private room this takes back the right to enter without an invite link; a call the
    user is in right now goes on until they leave (banning is what removes them at once).
    """
    deleted, _by_model = RoomMembership.objects.filter(room=room, user=user).delete()
    return bool(deleted)


def room_unban_user(*, room: Room, user: User) -> bool:
    """Lift ``user``'s ban from ``room``; True if there was one."""
    deleted, _by_model = RoomBan.objects.filter(room=room, user=user).delete()
    return bool(deleted)


def room_membership_from_invite(*, room: Room, user) -> RoomMembership:
    """Record a holder of the room's current invite link as a member (an existing role stays)."""
    membership, _created = RoomMembership.objects.get_or_create(room=room, user=user)
    return membership


def room_enter(*, user, room: Room | None, invite_token: str | None = None) -> RoomAccess:
    """Check access for opening the room page, recording the visit and any invite membership."""
    access = room_access_for(user=user, room=room, invite_token=invite_token)
    if access.allowed:
        if access.via_invite:
            room_membership_from_invite(room=room, user=user)
        RoomVisit.objects.update_or_create(
            room=room, user=user, defaults={"last_visited_at": timezone.now()}
        )
    return access


def chat_message_create(*, room: Room, user, text: str, peer_id: str = "") -> ChatMessage:
    """Store a chat message; ``text`` is trimmed and must be 1–2000 characters."""
    text = text.strip()
    if not text or len(text) > CHAT_TEXT_MAX_LENGTH:
        raise ValueError("Chat messages must be 1 to 2000 characters long.")
    return ChatMessage.objects.create(room=room, user=user, text=text, peer_id=peer_id)


def chat_message_hide(*, message: ChatMessage) -> ChatMessage:
    """Hide a chat message from every history sent from now on."""
    message.hidden = True
    message.save(update_fields=["hidden"])
    return message
