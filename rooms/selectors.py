"""Reads about rooms: lookups for pages and the configuration handed to the room page's script."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import User
from accounts.selectors import user_json
from rooms.models import Room, RoomBan, RoomMembership, RoomVisit
from rooms.moderation import can_moderate

RECENT_ROOMS_LIMIT = 10


def room_get_by_slug(*, slug: str) -> Room | None:
    """The room with this slug, closed or not, or ``None``; access rules decide what to show."""
    return Room.objects.select_related("owner").filter(slug=slug).first()


def rooms_owned_by(*, user: User) -> QuerySet[Room]:
    """The user's own open rooms, newest first."""
    return Room.objects.filter(owner=user, closed_at__isnull=True).order_by("-created_at")


def rooms_recently_visited(*, user: User, limit: int = RECENT_ROOMS_LIMIT) -> list[Room]:
    """Open rooms of other people that the user opened, most recent visit first.

    Each room carries ``last_visited_at`` from the visit so the page can say when.
    """
    visits = (
        RoomVisit.objects.filter(user=user, room__closed_at__isnull=True)
        .exclude(room__owner=user)
        .select_related("room", "room__owner")
        .order_by("-last_visited_at")[:limit]
    )
    rooms = []
    for visit in visits:
        visit.room.last_visited_at = visit.last_visited_at
        rooms.append(visit.room)
    return rooms


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


def room_person(*, room: Room, user_id: int) -> User | None:
    """A member, moderator or banned user of the room (never its owner), or ``None``.

    The owner's buttons act only on people already tied to the room, so a forged user id
    cannot ban or promote a stranger.
    """
    tied = RoomMembership.objects.filter(room=room, user_id=user_id).exists() or (
        RoomBan.objects.filter(room=room, user_id=user_id).exists()
    )
    if not tied or user_id == room.owner_id:
        return None
    return User.objects.filter(pk=user_id).first()


def room_invite_url(*, room: Room, site_url: str) -> str:
    """The link to share: with the current invite token for a private room, plain otherwise."""
    url = site_url.rstrip("/") + room.get_absolute_url()
    if room.is_private:
        url += f"?invite={room.invite_token}"
    return url


def room_page_config(*, room: Room, user: User, role: str, site_url: str) -> dict[str, Any]:
    """Everything the room page's script needs, rendered into the page as JSON.

    ``site_url`` is the scheme and host the visitor used (``https://meet.example.org``), so the
    invite link works wherever the page was opened.
    """
    is_owner = room.owner_id == user.pk
    return {
        "slug": room.slug,
        "name": room.name,
        "description": room.description,
        "locked": room.is_locked,
        "is_private": room.is_private,
        "max_participants": room.max_participants,
        "role": str(role),
        "is_moderator": can_moderate(role=str(role)),
        "user": user_json(user),
        "ws_path": f"/ws/rooms/{room.slug}/",
        "turn_url": f"{reverse('turn')}?room={room.slug}",
        "invite_url": room_invite_url(room=room, site_url=site_url),
        "home_url": reverse("home"),
        "edit_url": reverse("rooms:edit", kwargs={"slug": room.slug}) if is_owner else None,
        "admin_url": reverse("admin:rooms_room_change", args=[room.pk]) if user.is_staff else None,
    }
