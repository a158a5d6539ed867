"""Room pages. Views only translate HTTP; the rules are in rooms.access, services and moderation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rooms import access, moderation, selectors, services
from rooms.forms import RoomCreateForm, RoomEditForm, RoomPersonForm
from rooms.models import RoomMembership

# The room page may use the camera, microphone and screen capture, and only for itself.
ROOM_PERMISSIONS_POLICY = "camera=(self), microphone=(self), display-capture=(self)"

REFUSAL_STATUS = {
    access.FORBIDDEN: 403,
    access.ROOM_LOCKED: 403,
    access.ROOM_NOT_FOUND: 404,
}
REFUSAL_TITLES = {
    access.FORBIDDEN: "You can't join this room",
    access.ROOM_LOCKED: "This room is locked",
    access.ROOM_NOT_FOUND: "Room not found",
}
NOT_OWNER_MESSAGE = "Only the room's owner can change its settings."


def _site_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _refused(request, refusal: str, message: str, room=None):
    return render(
        request,
        "rooms/refused.html",
        {
            "refusal": refusal,
            "title": REFUSAL_TITLES.get(refusal, "You can't join this room"),
            "message": message,
            "room": room if refusal != access.ROOM_NOT_FOUND else None,
        },
        status=REFUSAL_STATUS.get(refusal, 403),
    )


@require_safe
def home(request):
    """Landing page; logged-in visitors see a create form, their rooms and recent visits."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    return render(
        request,
        "home.html",
        {
            "form": RoomCreateForm(),
            "own_rooms": selectors.rooms_owned_by(user=request.user),
            "recent_rooms": selectors.rooms_recently_visited(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def room_new(request):
    """Create a room and go straight to it."""
    form = RoomCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        room = services.room_create(owner=request.user, **form.cleaned_data)
        return redirect(room)
    return render(request, "rooms/new.html", {"form": form})


@require_safe
def room_detail(request, slug: str):
    """The room page, if the one access rule lets the visitor in; else a page saying why."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    room = selectors.room_get_by_slug(slug=slug)
    verdict = services.room_enter(
        user=request.user, room=room, invite_token=request.GET.get("invite")
    )
    if not verdict.allowed:
        if verdict.refusal == access.NOT_AUTHENTICATED:
            return redirect_to_login(request.get_full_path())
        return _refused(request, verdict.refusal, verdict.message, room)
    response = render(
        request,
        "rooms/room.html",
        {
            "room": room,
            "room_config": selectors.room_page_config(
                room=room, user=request.user, role=verdict.role, site_url=_site_url(request)
            ),
        },
    )
    response["Permissions-Policy"] = ROOM_PERMISSIONS_POLICY
    return response


def _owned_room_or_refusal(request, slug: str):
    """The open room with ``slug`` if the visitor owns it, else the refusal response to send."""
    room = selectors.room_get_by_slug(slug=slug)
    if room is None or room.is_closed:
        not_found = access.ROOM_NOT_FOUND
        return None, _refused(request, not_found, access.REFUSAL_MESSAGES[not_found])
    if room.owner_id != request.user.pk:
        return None, _refused(request, access.FORBIDDEN, NOT_OWNER_MESSAGE, room)
    return room, None


@login_required
@require_http_methods(["GET", "POST"])
def room_edit(request, slug: str):
    """The owner's settings page for a room."""
    room, refusal = _owned_room_or_refusal(request, slug)
    if refusal:
        return refusal
    form = RoomEditForm(request.POST if request.method == "POST" else None, instance=room)
    if request.method == "POST" and form.is_valid():
        try:
            moderation.room_edit(room=room, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            # The form mirrors the model's rules, so this is a safety net, not a normal path.
            form.add_error(None, error)
        else:
            messages.success(request, "Room settings saved.")
            return redirect("rooms:edit", slug=room.slug)
    # A failed POST leaves the instance with the rejected values; show what is really stored.
    room.refresh_from_db()
    return render(
        request,
        "rooms/edit.html",
        {
            "room": room,
            "form": form,
            "invite_url": selectors.room_invite_url(room=room, site_url=_site_url(request)),
            "memberships": selectors.room_memberships(room=room),
            "bans": selectors.room_bans(room=room),
        },
    )


@login_required
@require_POST
def room_person(request, slug: str):
    """The owner changes one person's standing: role, membership or ban."""
    room, refusal = _owned_room_or_refusal(request, slug)
    if refusal:
        return refusal
    form = RoomPersonForm(request.POST)
    person = None
    if form.is_valid():
        person = selectors.room_person(room=room, user_id=form.cleaned_data["user"])
    if person is None:
        messages.error(request, "That person is not a member of this room or banned from it.")
        return redirect("rooms:edit", slug=room.slug)
    action, name = form.cleaned_data["action"], person.shown_name
    if action == "make_moderator":
        moderation.room_person_standing_set(
            room=room, user=person, role=RoomMembership.Role.MODERATOR
        )
        messages.success(request, f"{name} is now a moderator.")
    elif action == "make_member":
        moderation.room_person_standing_set(room=room, user=person, role=RoomMembership.Role.MEMBER)
        messages.success(request, f"{name} is now a member.")
    elif action == "remove":
        moderation.room_person_standing_set(room=room, user=person, role=None)
        messages.success(request, f"{name} is no longer a member.")
    elif action == "ban":
        moderation.room_ban_user(
            room=room, user=person, by=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"{name} is banned and was removed from any call here.")
    else:
        services.room_unban_user(room=room, user=person)
        messages.success(request, f"{name} is no longer banned.")
    return redirect("rooms:edit", slug=room.slug)


@login_required
@require_POST
def room_rotate_invite(request, slug: str):
    """Give the room a new invite link; old links stop working."""
    room, refusal = _owned_room_or_refusal(request, slug)
    if refusal:
        return refusal
    services.room_rotate_invite(room=room)
    messages.success(request, "New invite link made. Old links no longer work.")
    return redirect("rooms:edit", slug=room.slug)


@login_required
@require_POST
def room_close(request, slug: str):
    """Close the room for good (staff can reopen it) and end any call in it."""
    room, refusal = _owned_room_or_refusal(request, slug)
    if refusal:
        return refusal
    moderation.room_end(room=room, by=request.user)
    messages.success(request, f"“{room.name}” is closed.")
    return redirect("home")
