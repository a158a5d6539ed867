"""Room pages. Views only translate HTTP; the rules are in rooms.access, services and moderation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.selectors import user_json
from accounts.throttle import client_address
from meet.headers import permissions_policy
from rooms import access, guests, moderation, selectors, services
from rooms.forms import RoomBanForm, RoomCreateForm, RoomEditForm, RoomPersonForm
from rooms.models import RoomMembership

# The room page may use the camera, microphone and screen capture, and only for itself.
# Every other page denies them (meet/headers.py), as this one denies the remaining features.
ROOM_PERMISSIONS_POLICY = permissions_policy(allow_self=("camera", "microphone", "display-capture"))

REFUSAL_STATUS = {
    access.FORBIDDEN: 403,
    access.ROOM_LOCKED: 403,
    access.ROOM_NOT_FOUND: 404,
}
REFUSAL_TITLES = {
    access.FORBIDDEN: _("You can't join this room"),
    access.ROOM_LOCKED: _("This room is locked"),
    access.ROOM_NOT_FOUND: _("Room not found"),
}
NOT_OWNER_MESSAGE = _("Only the room's owner can change its settings.")
# Rooms per page in each list of the home page.
HOME_PAGE_SIZE = 20
PERSON_UNKNOWN_MESSAGE = _("That person has not been in this room, or is its owner.")


def _site_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _refused(request, refusal: str, message: str, room=None):
    return render(
        request,
        "rooms/refused.html",
        {
            "refusal": refusal,
            "title": REFUSAL_TITLES.get(refusal, REFUSAL_TITLES[access.FORBIDDEN]),
            "message": message,
            "room": room if refusal != access.ROOM_NOT_FOUND else None,
        },
        status=REFUSAL_STATUS.get(refusal, 403),
    )


def _not_found(request):
    """The page for a room the visitor may not know of: the same as for a slug nobody uses."""
    not_found = access.ROOM_NOT_FOUND
    return _refused(request, not_found, access.REFUSAL_MESSAGES[not_found])


@require_safe
def home(request):
    """Landing page; logged-in visitors see a create form, their rooms and recent visits."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    own_rooms = selectors.rooms_owned_by(user=request.user)
    recent_rooms = selectors.rooms_recently_visited(user=request.user, limit=None)
    return render(
        request,
        "home.html",
        {
            "form": RoomCreateForm(),
            "own_rooms": _page_of(request, own_rooms, param="page", anchor="own-rooms"),
            "recent_rooms": _page_of(request, recent_rooms, param="recent", anchor="recent-rooms"),
        },
    )


def _page_of(request, items, *, param: str, anchor: str):
    """The page of ``items`` that ``?<param>=`` asks for, with links that keep the other lists.

    A missing, nonsense or out-of-range number shows the first or last page, never an error.
    Each page carries ``previous_url`` and ``next_url`` (or None) ending in ``#<anchor>``.
    """
    page = Paginator(items, HOME_PAGE_SIZE).get_page(request.GET.get(param))

    def url_for(number: int) -> str:
        query = request.GET.copy()
        query[param] = number
        return f"?{query.urlencode()}#{anchor}"

    page.previous_url = url_for(page.previous_page_number()) if page.has_previous() else None
    page.next_url = url_for(page.next_page_number()) if page.has_next() else None
    return page


@login_required
@require_http_methods(["GET", "POST"])
def room_new(request):
    """Create a room and go straight to it."""
    form = RoomCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            # The open-room limit: the form keeps what was typed and says what to do.
            form.add_error(None, error)
        else:
            return redirect(room)
    return render(request, "rooms/new.html", {"form": form})


# The room page (and its refusal) is never cached: it carries the invite link of a private room
# to anyone in the call, and may have been reached with an invite token in its address.
def _visitor_verdict(request, room):
    """Who is visiting ``room`` (a user, the session's guest, or anonymous) and the verdict.

    A guest's token is the one in the address, else the one it entered the room with.
    """
    visitor = guests.room_visitor(user=request.user, session=request.session)
    invite = request.GET.get("invite")
    if getattr(visitor, "is_guest", False) and room is not None:
        invite = invite or guests.guest_invite_token(session=request.session, room=room)
    return visitor, invite, access.room_access_for(user=visitor, room=room, invite_token=invite)


@never_cache
@require_safe
def room_detail(request, slug: str):
    """The room page, if the one access rule lets the visitor in; else a page saying why.

    A visitor without an account who holds a link that lets guests in gets the page too, with a
    name field on its pre-join page (``room_guest_enter`` takes the name).
    """
    room = selectors.room_get_by_slug(slug=slug)
    visitor, invite, verdict = _visitor_verdict(request, room)
    is_guest = bool(getattr(visitor, "is_guest", False))
    if verdict.guest_entry:
        knock = guests.guest_would_knock(room=room)
        if knock is None:
            return _refused(
                request, access.ROOM_LOCKED, access.REFUSAL_MESSAGES[access.ROOM_LOCKED], room
            )
        return _room_page(request, room, user=None, role="guest", invite=invite, knock=knock)
    if not verdict.allowed:
        if not visitor.is_authenticated and not (room and room.guests_allowed and invite):
            # An anonymous visitor learns nothing, not even whether the room exists: log in.
            return redirect_to_login(request.get_full_path())
        if verdict.refusal == access.NOT_AUTHENTICATED:
            if invite and room is not None and room.guests_allowed:
                # A stale link to a room that takes guests: say so, rather than ask a guest to
                # log in with an account they do not have.
                return _refused(request, access.FORBIDDEN, access.GUEST_LINK_STALE_MESSAGE, room)
            return redirect_to_login(request.get_full_path())
        if verdict.conceals_room:
            return _not_found(request)
        # A banned user is told so: it tells them only what they already know (they hold the
        # link, and they were told when removed). A private room's name is not repeated to them.
        is_private = room is not None and room.is_private
        shown = None if is_private and verdict.refusal == access.FORBIDDEN else room
        return _refused(request, verdict.refusal, verdict.message, shown)
    if is_guest:
        return _room_page(
            request,
            room,
            user=visitor,
            role="guest",
            invite=invite,
            knock=verdict.knock,
            after_kick=verdict.after_kick,
        )
    services.room_enter(user=visitor, room=room, invite_token=invite, verdict=verdict)
    return _room_page(
        request,
        room,
        user=visitor,
        role=verdict.role,
        knock=verdict.knock,
        after_kick=verdict.after_kick,
    )


def _room_page(
    request,
    room,
    *,
    user,
    role: str,
    knock: bool,
    invite: str | None = None,
    after_kick: bool = False,
):
    config = selectors.room_page_config(
        room=room,
        user=user,
        role=role,
        site_url=_site_url(request),
        knock=knock,
        after_kick=after_kick,
        guest_enter_url=reverse("rooms:guest-enter", kwargs={"slug": room.slug})
        if role == "guest"
        else None,
        guest_invite=invite if role == "guest" else None,
    )
    response = render(request, "rooms/room.html", {"room": room, "room_config": config})
    response["Permissions-Policy"] = ROOM_PERMISSIONS_POLICY
    return response


@never_cache
@require_POST
def room_guest_enter(request, slug: str):
    """``POST`` a guest's name (``display_name``) and link (``invite``): the guest may join.

    JSON either way: ``{"user": ..., "knock": bool}``, or ``{"error", "message"}`` with 400
    (a bad name), 403 (guests not taken, a stale link), 404 or 429 (too many guest entries
    from this address). A logged-in user has no business here (409): they join as themselves.
    """
    if request.user.is_authenticated:
        return JsonResponse(
            {
                "error": guests.LOGGED_IN,
                "message": gettext("You are logged in; join as yourself."),
            },
            status=409,
        )
    room = selectors.room_get_by_slug(slug=slug)
    entry = guests.room_guest_enter(
        session=request.session,
        room=room,
        invite_token=request.POST.get("invite", ""),
        display_name=request.POST.get("display_name", ""),
        address=client_address(request),
    )
    if entry.error:
        status = {guests.BAD_NAME: 400, guests.RATE_LIMITED: 429, access.ROOM_NOT_FOUND: 404}.get(
            entry.error, 403
        )
        response = JsonResponse({"error": entry.error, "message": entry.message}, status=status)
        if entry.retry_after:
            response["Retry-After"] = str(entry.retry_after)
        return response
    verdict = access.room_access_for(
        user=entry.guest, room=room, invite_token=request.POST.get("invite", "")
    )
    if not verdict.allowed:
        # Entered, but kept out all the same: banned, or removed a moment ago.
        return JsonResponse({"error": verdict.refusal, "message": verdict.message}, status=403)
    return JsonResponse({"user": user_json(entry.guest), "knock": verdict.knock})


@never_cache
@require_safe
def room_status(request, slug: str):
    """How full the room is, as JSON, for its pre-join page; only to those the access rule admits.

    Anyone else gets the same 404 as for a room that does not exist, so the answer tells a
    stranger nothing; opening it records no visit.
    """
    room = selectors.room_get_by_slug(slug=slug)
    _visitor, _invite, verdict = _visitor_verdict(request, room)
    if verdict.guest_entry:
        return JsonResponse(selectors.room_status(room=room, role="guest"))
    if verdict.refusal == access.NOT_AUTHENTICATED:
        return JsonResponse({"error": access.NOT_AUTHENTICATED}, status=401)
    if verdict.allowed:
        return JsonResponse(selectors.room_status(room=room, role=verdict.role))
    # A lock is no secret from someone the room page would tell "this room is locked".
    if verdict.refusal == access.ROOM_LOCKED and not verdict.conceals_room:
        return JsonResponse(selectors.room_status(room=room, role=None))
    return JsonResponse({"error": access.ROOM_NOT_FOUND}, status=404)


def _owned_room_or_refusal(request, slug: str):
    """The open room with ``slug`` if the visitor owns it, else the refusal response to send.

    A stranger to a private room gets the unknown room's 404, as on the room page.
    """
    room = selectors.room_get_by_slug(slug=slug)
    if room is None or room.is_closed:
        return None, _not_found(request)
    if room.owner_id != request.user.pk:
        if access.room_access_for(user=request.user, room=room).conceals_room:
            return None, _not_found(request)
        return None, _refused(request, access.FORBIDDEN, NOT_OWNER_MESSAGE, room)
    return room, None


# The settings page shows the invite link (its token admits anyone): never cached.
@never_cache
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
            messages.success(request, gettext("Room settings saved."))
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
            "kicks": selectors.room_kicks_running(room=room),
            "past_participants": selectors.room_past_participants(room=room),
            "audit_entries": selectors.room_audit_entries(room=room),
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
        messages.error(request, PERSON_UNKNOWN_MESSAGE)
        return redirect("rooms:edit", slug=room.slug)
    action, name = form.cleaned_data["action"], person.shown_name
    if action == "make_moderator":
        moderation.room_person_standing_set(
            room=room, user=person, role=RoomMembership.Role.MODERATOR, by=request.user
        )
        messages.success(request, gettext("%(name)s is now a moderator.") % {"name": name})
    elif action == "make_member":
        moderation.room_person_standing_set(
            room=room, user=person, role=RoomMembership.Role.MEMBER, by=request.user
        )
        messages.success(request, gettext("%(name)s is now a member.") % {"name": name})
    elif action == "remove":
        moderation.room_person_standing_set(room=room, user=person, role=None, by=request.user)
        messages.success(request, gettext("%(name)s is no longer a member.") % {"name": name})
    elif action == "let_back_in":
        services.room_kick_lift(room=room, user=person)
        messages.success(request, gettext("%(name)s may rejoin now.") % {"name": name})
    else:
        services.room_unban_user(room=room, user=person, by=request.user)
        messages.success(request, gettext("%(name)s is no longer banned.") % {"name": name})
    return redirect("rooms:edit", slug=room.slug)


@login_required
@require_POST
def room_rotate_invite(request, slug: str):
    """Give the room a new invite link; old links stop working."""
    room, refusal = _owned_room_or_refusal(request, slug)
    if refusal:
        return refusal
    services.room_rotate_invite(room=room, by=request.user)
    messages.success(request, gettext("New invite link made. Old links no longer work."))
    return redirect("rooms:edit", slug=room.slug)


@login_required
@require_http_methods(["GET", "POST"])
def room_ban(request, slug: str, user_id: int):
    """The owner bans someone tied to the room, after a confirmation page with a reason field."""
    room, refusal = _owned_room_or_refusal(request, slug)
    if refusal:
        return refusal
    person = selectors.room_person(room=room, user_id=user_id)
    if person is None:
        messages.error(request, PERSON_UNKNOWN_MESSAGE)
        return redirect("rooms:edit", slug=room.slug)
    form = RoomBanForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        moderation.room_ban_user(
            room=room, user=person, by=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(
            request,
            gettext("%(name)s is banned and was removed from any call here.")
            % {"name": person.shown_name},
        )
        return redirect("rooms:edit", slug=room.slug)
    return render(request, "rooms/ban_confirm.html", {"room": room, "person": person, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def room_close(request, slug: str):
    """Close the room (its owner can reopen it) and end any call in it, once confirmed.

    GET shows the confirmation page; its form POSTs here.
    """
    room, refusal = _owned_room_or_refusal(request, slug)
    if refusal:
        return refusal
    if request.method == "GET":
        return render(request, "rooms/close_confirm.html", {"room": room})
    moderation.room_close_and_end_call(room=room, by=request.user)
    messages.success(
        request,
        gettext("“%(room)s” is closed. You can reopen it from your rooms.") % {"room": room.name},
    )
    return redirect("home")


@login_required
@require_POST
def room_reopen(request, slug: str):
    """The owner reopens a closed room: its link works again."""
    room = selectors.room_get_by_slug(slug=slug)
    if room is None or room.owner_id != request.user.pk:
        return _not_found(request)
    if room.is_closed:
        # Reopening counts against the open-room limit as creating does.
        try:
            services.room_limit_check(owner=request.user)
        except ValidationError:
            messages.error(
                request,
                gettext(
                    "You have as many open rooms as one person may have. Close one you no "
                    "longer need, then reopen “%(room)s”."
                )
                % {"room": room.name},
            )
            return redirect("home")
        services.room_reopen(room=room, by=request.user)
    messages.success(request, gettext("“%(room)s” is open again.") % {"room": room.name})
    return redirect("home")
