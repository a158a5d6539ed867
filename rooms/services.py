"""Writes about rooms: creating, editing, closing, membership and chat.

Views, forms, admin actions and the signaling consumer call these; none of them holds the rules.
A write that must also reach a call in progress (lock, end, ban) is in ``rooms.moderation``,
which builds on these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from rooms.access import RoomAccess, room_access_for
from rooms.models import (
    CHAT_TEXT_MAX_LENGTH,
    ChatMessage,
    Room,
    RoomBan,
    RoomMembership,
    RoomVisit,
    generate_invite_token,
)

if TYPE_CHECKING:
    from accounts.models import User

SLUG_MAX_LENGTH = 100
ROOM_EDITABLE_FIELDS = frozenset({"name", "description", "is_private", "max_participants"})


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


def room_update(*, room: Room, **fields) -> Room:
    """Change a room's editable fields (name, description, privacy, participant limit).

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
