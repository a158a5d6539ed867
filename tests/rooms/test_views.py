"""Room pages: status, redirects and every access rule as a visitor sees it."""

import json
import re

import pytest

from rooms.models import Room, RoomBan, RoomKick, RoomMembership, RoomVisit
from rooms.services import room_close, room_membership_set, room_rotate_invite

pytestmark = pytest.mark.django_db


def room_config(response) -> dict:
    """The JSON the page hands to its script, read back from the rendered HTML."""
    start = response.text.index('<script id="room-config" type="application/json">')
    body = response.text[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


@pytest.fixture
def ana(make_user):
    return make_user("ana", display_name="Ana Lima")


@pytest.fixture
def bo(make_user):
    return make_user("bo", display_name="")


# --- Home -------------------------------------------------------------------------------------


def test_home_for_anonymous_visitors_invites_to_sign_up(client):
    response = client.get("/")
    assert response.status_code == 200
    assert (
        'href="/accounts/signup/"' in response.text and 'href="/accounts/login/"' in response.text
    )
    assert "Start a meeting" not in response.text


def test_home_lists_own_open_rooms_and_recent_visits_of_others(client, ana, bo, make_room):
    mine = make_room("Ana's standup", owner=ana)
    closed = make_room("Old room", owner=ana)
    room_close(room=closed)
    theirs = make_room("Bo's office", owner=bo)
    client.force_login(ana)
    client.get(theirs.get_absolute_url())
    response = client.get("/")
    assert response.status_code == 200
    assert list(response.context["own_rooms"]) == [mine, closed]
    assert list(response.context["recent_rooms"]) == [theirs]
    assert "Ana&#x27;s standup" in response.text and "Bo&#x27;s office" in response.text
    # A closed room stays in its owner's list, marked closed, with a way to reopen it.
    assert "Old room" in response.text and f'action="/rooms/{closed.slug}/reopen/"' in response.text
    assert f'href="/rooms/{closed.slug}/"' not in response.text
    assert 'action="/rooms/new/"' in response.text


def test_home_paginates_own_rooms_with_links_between_pages(client, ana, make_room):
    for number in range(1, 26):
        make_room(f"Room {number:02}", owner=ana)
    client.force_login(ana)
    first = client.get("/")
    assert len(first.context["own_rooms"]) == 20
    assert "Room 25" in first.text and "Room 05" not in first.text
    assert 'aria-label="Your rooms, pages"' in first.text
    assert 'href="?page=2#own-rooms"' in first.text and "Page 1 of 2" in first.text
    second = client.get("/?page=2")
    assert [room.name for room in second.context["own_rooms"]] == [
        f"Room {number:02}" for number in range(5, 0, -1)
    ]
    assert 'href="?page=1#own-rooms"' in second.text and 'rel="prev"' in second.text
    assert "Page 2 of 2" in second.text
    # A page number out of range or nonsense shows a real page, never an error.
    assert client.get("/?page=99").context["own_rooms"].number == 2
    assert client.get("/?page=abc").context["own_rooms"].number == 1


def test_home_paginates_recent_visits_separately(client, ana, bo, make_room):
    for number in range(1, 23):
        room = make_room(f"Visit {number:02}", owner=bo)
        RoomVisit.objects.create(room=room, user=ana, last_visited_at=room.created_at)
    client.force_login(ana)
    first = client.get("/")
    assert len(first.context["recent_rooms"]) == 20
    assert 'href="?recent=2#recent-rooms"' in first.text
    assert 'aria-label="Your rooms, pages"' not in first.text, "one page of own rooms: no links"
    second = client.get("/?recent=2&page=1")
    assert [room.name for room in second.context["recent_rooms"]] == ["Visit 02", "Visit 01"]
    # Each list's links keep the other list's page.
    assert 'href="?recent=1&amp;page=1#recent-rooms"' in second.text


# --- Creating ---------------------------------------------------------------------------------


def test_new_room_needs_login(client):
    response = client.get("/rooms/new/")
    assert (
        response.status_code == 302 and response["Location"] == "/accounts/login/?next=/rooms/new/"
    )
    response = client.post("/rooms/new/", {"name": "Sneaky"})
    assert response.status_code == 302 and not Room.objects.exists()


def test_new_room_with_only_a_name_redirects_to_its_page_with_defaults(client, ana):
    client.force_login(ana)
    assert client.get("/rooms/new/").status_code == 200
    response = client.post("/rooms/new/", {"name": "  Weekly Sync  "})
    assert response.status_code == 302 and response["Location"] == "/rooms/weekly-sync/"
    room = Room.objects.get()
    assert (room.name, room.owner, room.max_participants) == ("Weekly Sync", ana, 8)
    assert not room.is_private and not room.is_locked
    assert client.get(response["Location"]).status_code == 200


def test_new_room_with_a_duplicate_name_gets_a_suffixed_slug(client, ana, make_room):
    make_room("Weekly Sync")
    client.force_login(ana)
    response = client.post("/rooms/new/", {"name": "Weekly Sync"})
    assert response["Location"] == "/rooms/weekly-sync-2/"


def test_new_room_takes_the_optional_fields(client, ana):
    client.force_login(ana)
    client.post(
        "/rooms/new/",
        {"name": "Board", "description": "Quarterly", "is_private": "on", "max_participants": 4},
    )
    room = Room.objects.get()
    assert (room.description, room.is_private, room.max_participants) == ("Quarterly", True, 4)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "Give the room a name."),
        ({"name": "   "}, "name", "Give the room a name."),
        ({}, "name", "Give the room a name."),
        ({"name": "x" * 81}, "name", "at most 80 characters (this one has 81)"),
        ({"name": "ok", "max_participants": 1}, "max_participants", "at least 2"),
        ({"name": "ok", "max_participants": 17}, "max_participants", "At most 16"),
        ({"name": "ok", "max_participants": "many"}, "max_participants", "whole number"),
    ],
)
def test_new_room_with_bad_input_shows_the_field_error_and_creates_nothing(
    client, ana, data, field, message
):
    client.force_login(ana)
    response = client.post("/rooms/new/", data)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert message in response.text
    assert not Room.objects.exists()


def test_new_room_from_the_home_form_with_an_empty_name_explains_on_the_full_form(client, ana):
    client.force_login(ana)
    response = client.post("/rooms/new/", {"name": ""})
    assert response.templates[0].name == "rooms/new.html"
    assert 'class="field-error"' in response.text


def test_new_room_over_the_open_room_cap_says_so_and_creates_nothing(
    client, ana, make_room, settings
):
    settings.MAX_ROOMS_PER_USER = 1
    make_room("First", owner=ana)
    client.force_login(ana)
    response = client.post("/rooms/new/", {"name": "Second"})
    assert response.status_code == 200
    assert response.templates[0].name == "rooms/new.html"
    assert "You already have 1 open rooms" in response.text
    assert "Close one you no longer need" in response.text
    assert list(Room.objects.values_list("name", flat=True)) == ["First"]


# --- Entering: who gets in --------------------------------------------------------------------


def test_room_page_sends_anonymous_visitors_to_login_with_next(client, make_room):
    room = make_room("Weekly Sync")
    response = client.get(room.get_absolute_url() + "?invite=abc")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/rooms/weekly-sync/%3Finvite%3Dabc"


def test_public_room_admits_any_logged_in_user_as_member_and_records_the_visit(
    client, bo, make_room
):
    room = make_room("Weekly Sync")
    client.force_login(bo)
    response = client.get(room.get_absolute_url())
    assert response.status_code == 200
    assert room_config(response)["role"] == "member"
    assert RoomVisit.objects.filter(room=room, user=bo).exists()


def test_room_page_hands_the_script_exactly_the_agreed_configuration(client, ana, make_room):
    room = make_room("Weekly Sync", owner=ana, description="Mondays", max_participants=5)
    client.force_login(ana)
    response = client.get(room.get_absolute_url())
    config = room_config(response)
    assert config == {
        "slug": "weekly-sync",
        "name": "Weekly Sync",
        "description": "Mondays",
        "locked": False,
        "is_private": False,
        "max_participants": 5,
        "role": "owner",
        "user": {"id": ana.pk, "username": "ana", "display_name": "Ana Lima"},
        "guest": None,
        "knock": False,
        "removed": False,
        "ws_path": "/ws/rooms/weekly-sync/",
        "turn_url": "/api/turn/?room=weekly-sync",
        "invite_url": "http://testserver/rooms/weekly-sync/",
        "home_url": "/",
        "edit_url": "/rooms/weekly-sync/edit/",
        "admin_url": None,
        "chat_max_length": 2000,
        "peer_state_default": {"audio": True, "video": True, "screen": False, "hand": False},
        "reaction_emoji": ["👍", "❤️", "😂", "😮", "👏", "🎉"],
        "resume_window_seconds": 60.0,
        "status_url": f"/rooms/{room.slug}/status/",
        "status_poll_seconds": 4,
    }
    assert response.context["room"] == room


def test_room_page_allows_camera_microphone_and_screen_for_itself_only(client, ana, make_room):
    room = make_room(owner=ana)
    client.force_login(ana)
    policy = client.get(room.get_absolute_url())["Permissions-Policy"].split(", ")
    for feature in ("camera", "microphone", "display-capture"):
        assert f"{feature}=(self)" in policy
    # Everything else a page could ask for stays denied here too (meet/headers.py).
    assert "geolocation=()" in policy and "usb=()" in policy


def test_member_sees_no_edit_link_and_display_name_falls_back_to_username(client, bo, make_room):
    room = make_room("Weekly Sync")
    client.force_login(bo)
    config = room_config(client.get(room.get_absolute_url()))
    assert config["edit_url"] is None and config["admin_url"] is None
    assert config["role"] == "member"
    assert config["user"]["display_name"] == "bo"


def test_staff_is_a_moderator_with_an_admin_link(client, make_user, make_room):
    room = make_room("Weekly Sync")
    client.force_login(make_user("staffer", is_staff=True))
    config = room_config(client.get(room.get_absolute_url()))
    assert config["role"] == "moderator"
    assert config["admin_url"] == f"/admin/rooms/room/{room.pk}/change/"


def test_named_moderator_gets_the_moderator_role(client, bo, make_room):
    room = make_room("Weekly Sync")
    room_membership_set(room=room, user=bo, role=RoomMembership.Role.MODERATOR)
    client.force_login(bo)
    assert room_config(client.get(room.get_absolute_url()))["role"] == "moderator"


def page_text(response) -> str:
    """The page without its per-request CSRF token, so two pages can be compared whole."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.text)


def test_private_room_is_a_404_for_a_stranger_exactly_like_an_unknown_room(client, bo, make_room):
    room = make_room("Secret Board", is_private=True)
    client.force_login(bo)
    response = client.get(room.get_absolute_url())
    assert response.status_code == 404
    assert 'data-refusal="room_not_found"' in response.text
    assert "Secret Board" not in response.text
    # Nothing on the page tells a stranger that this slug is taken.
    assert page_text(response) == page_text(client.get("/rooms/no-such-room/"))
    assert not RoomVisit.objects.filter(user=bo).exists()


def test_locked_private_room_is_a_404_for_a_stranger_not_a_locked_page(client, bo, make_room):
    room = make_room("Secret Board", is_private=True, is_locked=True)
    client.force_login(bo)
    response = client.get(room.get_absolute_url())
    assert response.status_code == 404
    assert 'data-refusal="room_not_found"' in response.text


def test_locked_private_room_still_tells_its_members_it_is_locked(client, bo, make_room):
    room = make_room("Secret Board", is_private=True, is_locked=True)
    room_membership_set(room=room, user=bo)
    client.force_login(bo)
    response = client.get(room.get_absolute_url())
    assert response.status_code == 403
    assert 'data-refusal="room_locked"' in response.text


def test_private_room_invite_link_makes_a_member_who_then_needs_no_token(client, bo, make_room):
    room = make_room("Board", is_private=True)
    client.force_login(bo)
    response = client.get(f"{room.get_absolute_url()}?invite={room.invite_token}")
    assert response.status_code == 200
    assert RoomMembership.objects.filter(room=room, user=bo).exists()
    assert client.get(room.get_absolute_url()).status_code == 200


def test_private_room_invite_url_carries_the_current_token(client, ana, make_room):
    room = make_room("Board", owner=ana, is_private=True)
    client.force_login(ana)
    config = room_config(client.get(room.get_absolute_url()))
    assert config["invite_url"] == f"http://testserver/rooms/board/?invite={room.invite_token}"
    assert config["is_private"] is True


def test_rotated_invite_token_stops_old_links(client, bo, make_room):
    room = make_room("Board", is_private=True)
    old_token = room.invite_token
    room_rotate_invite(room=room)
    client.force_login(bo)
    response = client.get(f"{room.get_absolute_url()}?invite={old_token}")
    assert response.status_code == 404
    assert not RoomMembership.objects.filter(room=room, user=bo).exists()


def test_banned_user_is_refused_even_with_the_invite_and_told_why(client, bo, make_room):
    room = make_room("Board", is_private=True)
    RoomBan.objects.create(room=room, user=bo)
    client.force_login(bo)
    response = client.get(f"{room.get_absolute_url()}?invite={room.invite_token}")
    assert response.status_code == 403
    assert "You have been banned from this room." in response.text


def test_ban_page_of_a_private_room_does_not_name_the_room(client, bo, make_room):
    # The banned user learns only what they already know: this link is one they are banned from.
    room = make_room("Secret Board", is_private=True)
    RoomBan.objects.create(room=room, user=bo)
    client.force_login(bo)
    response = client.get(room.get_absolute_url())
    assert response.status_code == 403
    assert "Secret Board" not in response.text


def test_locked_room_refuses_members_with_403_but_admits_owner_and_staff(
    client, ana, bo, make_user, make_room
):
    room = make_room("Board", owner=ana, is_locked=True)
    room_membership_set(room=room, user=bo)
    client.force_login(bo)
    response = client.get(room.get_absolute_url())
    assert response.status_code == 403
    assert 'data-refusal="room_locked"' in response.text
    assert "This room is locked." in response.text
    client.force_login(ana)
    assert client.get(room.get_absolute_url()).status_code == 200
    client.force_login(make_user("staffer", is_staff=True))
    assert client.get(room.get_absolute_url()).status_code == 200


def test_closed_room_is_404_for_everyone_including_its_owner_but_not_staff(
    client, ana, make_user, make_room
):
    room = make_room("Board", owner=ana)
    room_close(room=room)
    client.force_login(ana)
    response = client.get(room.get_absolute_url())
    assert response.status_code == 404
    assert "This room does not exist or has been closed." in response.text
    assert "Board" not in response.text
    client.force_login(make_user("staffer", is_staff=True))
    assert client.get(room.get_absolute_url()).status_code == 200


def test_unknown_room_is_a_404_page(client, bo):
    client.force_login(bo)
    response = client.get("/rooms/no-such-room/")
    assert response.status_code == 404
    assert 'data-refusal="room_not_found"' in response.text


def test_room_page_refuses_post(client, ana, make_room):
    room = make_room(owner=ana)
    client.force_login(ana)
    assert client.post(room.get_absolute_url()).status_code == 405


# --- Editing, rotating, closing ---------------------------------------------------------------


def test_edit_page_is_the_owners_only(client, ana, bo, make_room):
    room = make_room("Board", owner=ana)
    assert client.get(f"/rooms/{room.slug}/edit/")["Location"].startswith("/accounts/login/")
    client.force_login(bo)
    response = client.get(f"/rooms/{room.slug}/edit/")
    assert response.status_code == 403
    assert "Only the room&#x27;s owner can change its settings." in response.text
    client.force_login(ana)
    response = client.get(f"/rooms/{room.slug}/edit/")
    assert response.status_code == 200
    assert 'name="is_locked"' in response.text and room.invite_token not in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "edit/"),
        ("post", "edit/"),
        ("post", "invite/rotate/"),
        ("post", "close/"),
        ("post", "people/"),
    ],
)
def test_owner_pages_of_a_private_room_are_404_for_a_stranger(
    client, ana, bo, make_room, method, path
):
    room = make_room("Secret Board", owner=ana, is_private=True)
    client.force_login(bo)
    response = getattr(client, method)(f"/rooms/{room.slug}/{path}")
    assert response.status_code == 404
    assert "Secret Board" not in response.text
    room.refresh_from_db()
    assert not room.is_closed


def test_owner_pages_of_a_private_room_say_owner_only_to_its_members(client, ana, bo, make_room):
    room = make_room("Secret Board", owner=ana, is_private=True)
    room_membership_set(room=room, user=bo)
    client.force_login(bo)
    response = client.get(f"/rooms/{room.slug}/edit/")
    assert response.status_code == 403
    assert "Only the room&#x27;s owner can change its settings." in response.text


def test_edit_saves_every_field_and_keeps_the_slug(client, ana, make_room):
    room = make_room("Board", owner=ana)
    client.force_login(ana)
    response = client.post(
        f"/rooms/{room.slug}/edit/",
        {
            "name": "Board of directors",
            "description": "Quarterly",
            "max_participants": 12,
            "is_private": "on",
            "is_locked": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/rooms/board/edit/"
    room.refresh_from_db()
    assert (room.name, room.description, room.max_participants) == (
        "Board of directors",
        "Quarterly",
        12,
    )
    assert room.is_private and room.is_locked and room.slug == "board"
    page = client.get(response["Location"])
    assert "Room settings saved." in page.text
    assert f"?invite={room.invite_token}" in page.text


def test_edit_with_bad_input_shows_errors_and_changes_nothing(client, ana, make_room):
    room = make_room("Board", owner=ana)
    client.force_login(ana)
    response = client.post(
        f"/rooms/{room.slug}/edit/",
        {"name": "y" * 90, "max_participants": 40, "is_locked": "on"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "at most 80 characters (this one has 90)" in errors["name"][0]
    assert "At most 16" in errors["max_participants"][0]
    room.refresh_from_db()
    assert (room.name, room.max_participants, room.is_locked) == ("Board", 8, False)
    assert response.context["room"].name == "Board"


def test_rotate_invite_is_owner_only_post_and_changes_the_token(client, ana, bo, make_room):
    room = make_room("Board", owner=ana, is_private=True)
    room_membership_set(room=room, user=bo)
    old = room.invite_token
    client.force_login(bo)
    assert client.post(f"/rooms/{room.slug}/invite/rotate/").status_code == 403
    room.refresh_from_db()
    assert room.invite_token == old
    client.force_login(ana)
    assert client.get(f"/rooms/{room.slug}/invite/rotate/").status_code == 405
    response = client.post(f"/rooms/{room.slug}/invite/rotate/")
    assert response.status_code == 302 and response["Location"] == "/rooms/board/edit/"
    room.refresh_from_db()
    assert room.invite_token != old
    assert "Old links no longer work." in client.get(response["Location"]).text


def test_close_is_owner_only_asks_first_and_then_the_room_is_gone_until_reopened(
    client, ana, bo, make_room
):
    room = make_room("Board", owner=ana)
    client.force_login(bo)
    assert client.post(f"/rooms/{room.slug}/close/").status_code == 403
    assert client.get(f"/rooms/{room.slug}/close/").status_code == 403
    client.force_login(ana)
    settings_page = client.get(f"/rooms/{room.slug}/edit/")
    assert f'href="/rooms/{room.slug}/close/"' in settings_page.text
    confirm = client.get(f"/rooms/{room.slug}/close/")
    assert confirm.status_code == 200 and "Close “Board”?" in confirm.text
    assert f'<form method="post" action="/rooms/{room.slug}/close/">' in confirm.text
    room.refresh_from_db()
    assert not room.is_closed, "asking is not closing"

    response = client.post(f"/rooms/{room.slug}/close/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "You can reopen it from your rooms." in client.get("/").text
    room.refresh_from_db()
    assert room.is_closed
    assert client.get(room.get_absolute_url()).status_code == 404
    assert client.get(f"/rooms/{room.slug}/edit/").status_code == 404
    assert client.post(f"/rooms/{room.slug}/close/").status_code == 404

    client.force_login(bo)
    assert client.post(f"/rooms/{room.slug}/reopen/").status_code == 404
    room.refresh_from_db()
    assert room.is_closed
    client.force_login(ana)
    assert client.get(f"/rooms/{room.slug}/reopen/").status_code == 405
    response = client.post(f"/rooms/{room.slug}/reopen/")
    assert response.status_code == 302 and response["Location"] == "/"
    room.refresh_from_db()
    assert not room.is_closed
    assert client.get(room.get_absolute_url()).status_code == 200
    client.force_login(bo)
    assert client.get(room.get_absolute_url()).status_code == 200, "the link works again"


def test_edit_with_an_empty_post_asks_for_a_name(client, ana, make_room):
    room = make_room("Board", owner=ana)
    client.force_login(ana)
    response = client.post(f"/rooms/{room.slug}/edit/", {})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["Give the room a name."]
    room.refresh_from_db()
    assert room.name == "Board"


# --- People on the settings page --------------------------------------------------------------


def person(client, room, user, action, **extra):
    return client.post(f"/rooms/{room.slug}/people/", {"user": user.pk, "action": action, **extra})


def test_settings_page_lists_members_moderators_and_bans(client, ana, bo, make_user, make_room):
    room = make_room("Board", owner=ana)
    cy = make_user("cy", display_name="Cy Moss")
    room_membership_set(room=room, user=bo)
    room_membership_set(room=room, user=cy, role=RoomMembership.Role.MODERATOR)
    RoomBan.objects.create(room=room, user=make_user("dee"), reason="spam")
    client.force_login(ana)
    response = client.get(f"/rooms/{room.slug}/edit/")
    assert [m.user for m in response.context["memberships"]] == [cy, bo]
    assert "Cy Moss" in response.text and "spam" in response.text
    assert 'value="make_member"' in response.text and 'value="unban"' in response.text


def test_owner_promotes_demotes_removes_bans_and_unbans(client, ana, bo, make_room):
    room = make_room("Board", owner=ana, is_private=True)
    room_membership_set(room=room, user=bo)
    client.force_login(ana)

    assert person(client, room, bo, "make_moderator")["Location"] == "/rooms/board/edit/"
    assert RoomMembership.objects.get(room=room, user=bo).role == "moderator"
    person(client, room, bo, "make_member")
    assert RoomMembership.objects.get(room=room, user=bo).role == "member"

    confirm = client.get(f"/rooms/{room.slug}/people/{bo.pk}/ban/")
    assert confirm.status_code == 200 and 'name="reason"' in confirm.text
    assert not RoomBan.objects.exists(), "asking is not banning"
    client.post(f"/rooms/{room.slug}/people/{bo.pk}/ban/", {"reason": " trolling "})
    ban = RoomBan.objects.get(room=room, user=bo)
    assert (ban.banned_by, ban.reason) == (ana, "trolling")
    assert not RoomMembership.objects.filter(room=room, user=bo).exists()
    page = client.get("/rooms/board/edit/")
    assert "bo is banned and was removed from any call here." in page.text

    person(client, room, bo, "unban")
    assert not RoomBan.objects.exists()
    client.force_login(bo)
    assert client.get(room.get_absolute_url()).status_code == 404, "unbanned is not a member"


def test_owner_removes_a_member_of_a_private_room_who_then_needs_an_invite(
    client, ana, bo, make_room
):
    room = make_room("Board", owner=ana, is_private=True)
    room_membership_set(room=room, user=bo)
    client.force_login(ana)
    person(client, room, bo, "remove")
    assert not RoomMembership.objects.exists()
    client.force_login(bo)
    assert client.get(room.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"action": "make_moderator"},
        {"action": "make_moderator", "user": "abc"},
        {"action": "explode", "user": "BO"},
        {"action": "ban", "user": "BO"},
        {"action": "make_moderator", "user": "STRANGER"},
        {"action": "make_moderator", "user": "OWNER"},
    ],
)
def test_person_actions_on_strangers_the_owner_or_nonsense_change_nothing(
    client, ana, bo, make_user, make_room, data
):
    room = make_room("Board", owner=ana)
    room_membership_set(room=room, user=bo)
    ids = {"BO": bo.pk, "STRANGER": make_user("zed").pk, "OWNER": ana.pk}
    data = {k: ids.get(v, v) for k, v in data.items()}
    client.force_login(ana)
    response = client.post(f"/rooms/{room.slug}/people/", data, follow=True)
    assert "That person has not been in this room, or is its owner." in response.text
    assert not RoomBan.objects.exists()
    assert RoomMembership.objects.get().role == "member"


def test_person_actions_are_the_owners_only(client, ana, bo, make_room):
    room = make_room("Board", owner=ana)
    room_membership_set(room=room, user=bo)
    client.force_login(bo)
    assert person(client, room, bo, "make_moderator").status_code == 403
    assert RoomMembership.objects.get().role == "member"
    client.force_login(ana)
    assert client.get(f"/rooms/{room.slug}/people/").status_code == 405


def test_home_and_room_page_answer_head_for_monitors(client, ana, make_room):
    room = make_room(owner=ana)
    assert client.head("/").status_code == 200
    client.force_login(ana)
    assert client.head(room.get_absolute_url()).status_code == 200


# --- Kick cooldown and bans from the settings page --------------------------------------------


def _was_in_the_call(room, user):
    """A participant row ended long ago: the user was in a call here, without membership."""
    from django.utils import timezone

    from rooms.models import Participant

    return Participant.objects.create(
        room=room,
        user=user,
        peer_id=f"peer-{user.username}",
        channel_name="gone",
        last_seen=timezone.now(),
        left_at=timezone.now(),
        leave_reason="left",
    )


def test_owner_bans_someone_who_was_in_the_room_but_is_no_member_after_confirming(
    client, ana, make_user, make_room
):
    room = make_room("Board", owner=ana)
    dee = make_user("dee", display_name="Dee")
    _was_in_the_call(room, dee)
    client.force_login(ana)
    page = client.get(f"/rooms/{room.slug}/edit/")
    assert [person.pk for person in page.context["past_participants"]] == [dee.pk]
    assert f'href="/rooms/{room.slug}/people/{dee.pk}/ban/"' in page.text

    confirm = client.get(f"/rooms/{room.slug}/people/{dee.pk}/ban/")
    assert confirm.status_code == 200 and "Ban Dee" in confirm.text
    response = client.post(
        f"/rooms/{room.slug}/people/{dee.pk}/ban/", {"reason": "rude in chat"}, follow=True
    )
    assert "Dee is banned and was removed from any call here." in response.text
    ban = RoomBan.objects.get(room=room, user=dee)
    assert (ban.banned_by, ban.reason) == (ana, "rude in chat")
    assert response.context["past_participants"] == []

    client.force_login(dee)
    refused = client.get(room.get_absolute_url())
    assert refused.status_code == 403
    assert "You have been banned from this room. Reason: rude in chat" in refused.text


def test_ban_page_refuses_strangers_the_owner_non_owners_and_overlong_reasons(
    client, ana, bo, make_user, make_room
):
    room = make_room("Board", owner=ana)
    stranger = make_user("zed")
    _was_in_the_call(room, bo)
    client.force_login(bo)
    assert client.post(f"/rooms/{room.slug}/people/{bo.pk}/ban/").status_code == 403
    client.force_login(ana)
    for user_id in (stranger.pk, ana.pk, 999_999):
        response = client.post(f"/rooms/{room.slug}/people/{user_id}/ban/", follow=True)
        assert "That person has not been in this room, or is its owner." in response.text
    response = client.post(f"/rooms/{room.slug}/people/{bo.pk}/ban/", {"reason": "x" * 201})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["Keep the reason under 200 characters."]
    assert not RoomBan.objects.exists()


def test_a_kicked_user_may_ask_once_then_is_refused_until_the_owner_lets_them_back_in(
    client, ana, bo, make_room, settings
):
    from rooms import moderation

    settings.KICK_COOLDOWN_SECONDS = 300
    room = make_room("Board", owner=ana)
    row = _was_in_the_call(room, bo)
    row.left_at = None
    row.save()
    moderation.participant_kick(participant=row, by=ana, reason="shouting")

    client.force_login(bo)
    asking = client.get(room.get_absolute_url())
    assert asking.status_code == 200
    assert "Ask to join" in asking.text and "data-removed-notice" in asking.text
    assert asking.context["room_config"]["knock"] is True
    # A host turned down the one request (rooms.lobby): the page says why he must wait.
    RoomKick.objects.filter(room=room, user=bo).update(may_knock=False)
    refused = client.get(room.get_absolute_url())
    assert refused.status_code == 403
    assert "You were removed from this room and may rejoin at" in refused.text
    assert "(in 5 minutes)" in refused.text and "Reason: shouting" in refused.text

    client.force_login(ana)
    page = client.get(f"/rooms/{room.slug}/edit/")
    assert [kick.user for kick in page.context["kicks"]] == [bo]
    assert 'value="let_back_in"' in page.text
    response = person(client, room, bo, "let_back_in")
    assert response.status_code == 302
    assert "bo may rejoin now." in client.get(response["Location"]).text

    client.force_login(bo)
    back = client.get(room.get_absolute_url())
    assert back.status_code == 200
    assert "Join now" in back.text and "data-removed-notice" not in back.text


def test_reopening_counts_against_the_open_room_limit(client, ana, make_room, settings):
    settings.MAX_ROOMS_PER_USER = 1
    closed = room_close(room=make_room("Old", owner=ana))
    make_room("New", owner=ana)
    client.force_login(ana)
    response = client.post(f"/rooms/{closed.slug}/reopen/", follow=True)
    assert "Close one you no longer need, then reopen “Old”." in response.text
    closed.refresh_from_db()
    assert closed.is_closed


# --- Room status (the pre-join page's seat count) --------------------------------------------


def _seat(room, user, peer_id: str):
    from django.utils import timezone

    from rooms.models import Participant

    return Participant.objects.create(
        room=room, user=user, peer_id=peer_id, last_seen=timezone.now()
    )


def test_room_status_tells_a_member_the_room_is_full_and_an_owner_that_a_seat_is_theirs(
    client, make_room, make_user, ana
):
    room = make_room(owner=ana, max_participants=2)
    bob, cy, dan = make_user("bob"), make_user("cy"), make_user("dan")
    _seat(room, bob, "p-bob")
    _seat(room, cy, "p-cy")

    client.force_login(dan)
    member_view = client.get(f"/rooms/{room.slug}/status/")
    assert member_view.status_code == 200
    assert member_view.json() == {
        "connected": 2,
        "max_participants": 2,
        "full": True,
        "locked": False,
        "seat_for_you": False,
    }
    assert member_view["Cache-Control"].startswith("max-age=0")
    assert not RoomVisit.objects.filter(room=room, user=dan).exists(), "polling is not a visit"

    client.force_login(ana)
    assert client.get(f"/rooms/{room.slug}/status/").json()["seat_for_you"] is True


def test_room_status_answers_strangers_to_a_private_room_as_for_no_room(
    client, make_room, make_user, ana
):
    room = make_room(owner=ana, is_private=True)
    client.force_login(make_user("eve"))
    assert client.get(f"/rooms/{room.slug}/status/").status_code == 404
    assert client.get("/rooms/no-such-room/status/").status_code == 404
    client.logout()
    assert client.get(f"/rooms/{room.slug}/status/").status_code == 401


# --- Who gets in, and the moderation log, on the settings page --------------------------------


def test_settings_page_saves_guests_and_the_lobby_and_logs_the_changes(client, ana, make_room):
    room = make_room("Board", owner=ana)
    client.force_login(ana)
    page = client.get(f"/rooms/{room.slug}/edit/")
    assert 'name="guests_allowed"' in page.text and 'name="lobby"' in page.text
    assert "Guests may join with the invite link" in page.text
    response = client.post(
        f"/rooms/{room.slug}/edit/",
        {
            "name": "Board",
            "max_participants": 8,
            "guests_allowed": "on",
            "lobby": "guests",
            "lobby_when_locked": "on",
        },
    )
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.guests_allowed, room.lobby, room.lobby_when_locked) == (True, "guests", True)
    log = client.get(response["Location"]).context["audit_entries"]
    assert [(entry.action, entry.actor) for entry in log] == [
        ("lobby", ana),
        ("lobby", ana),
        ("guests", ana),
    ]


def test_settings_page_refuses_an_unknown_lobby_and_saves_nothing(client, ana, make_room):
    room = make_room("Board", owner=ana)
    client.force_login(ana)
    response = client.post(
        f"/rooms/{room.slug}/edit/",
        {"name": "Board", "guests_allowed": "on", "lobby": "everyone"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["lobby"] == ["Choose one of the lobby options."]
    room.refresh_from_db()
    assert (room.guests_allowed, room.lobby) == (False, "off")
    assert not room.audit_entries.exists()


def test_settings_page_saves_how_video_travels(client, ana, make_room):
    room = make_room("Board", owner=ana)
    assert room.media_mode == "auto"
    client.force_login(ana)
    page = client.get(f"/rooms/{room.slug}/edit/")
    assert 'name="media_mode"' in page.text
    assert "Always through the server" in page.text
    response = client.post(
        f"/rooms/{room.slug}/edit/",
        {"name": "Board", "max_participants": 8, "lobby": "off", "media_mode": "sfu"},
    )
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.media_mode == "sfu"


def test_settings_page_refuses_an_unknown_media_mode_and_saves_nothing(client, ana, make_room):
    room = make_room("Board", owner=ana)
    client.force_login(ana)
    response = client.post(
        f"/rooms/{room.slug}/edit/",
        {"name": "Renamed", "max_participants": 8, "media_mode": "hybrid"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["media_mode"] == ["Choose one of the media options."]
    room.refresh_from_db()
    assert (room.name, room.media_mode) == ("Board", "auto")


def test_settings_post_without_a_media_mode_keeps_the_rooms(client, ana, make_room):
    room = make_room("Board", owner=ana, media_mode="mesh")
    client.force_login(ana)
    response = client.post(f"/rooms/{room.slug}/edit/", {"name": "Renamed", "max_participants": 8})
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.name, room.media_mode) == ("Renamed", "mesh")


def test_settings_page_shows_the_moderation_log_newest_first(client, ana, bo, make_room):
    from rooms import moderation

    room = make_room("Board", owner=ana)
    client.force_login(ana)
    empty = client.get(f"/rooms/{room.slug}/edit/")
    assert "Moderation log" in empty.text and "Nothing yet." in empty.text
    moderation.room_ban_user(room=room, user=bo, by=ana, reason="spam links")
    moderation.room_lock(room=room, by=ana, locked=True)
    # Another room's log stays on that room's page.
    moderation.room_lock(room=make_room("Other", owner=ana), by=ana, locked=True)
    page = client.get(f"/rooms/{room.slug}/edit/")
    assert "Nothing yet." not in page.text
    log = page.text[page.text.index('id="moderation-log"') :]
    assert log.index("Locked the room") < log.index("Banned: bo")
    assert "by Ana Lima · spam links" in log
    assert log.count("data-audit-action=") == 2


def test_the_owners_buttons_are_logged_with_the_owner_as_actor(
    client, ana, bo, make_user, make_room
):
    room = make_room("Board", owner=ana, is_private=True)
    room_membership_set(room=room, user=bo)
    dee = make_user("dee")
    RoomBan.objects.create(room=room, user=dee)
    client.force_login(ana)
    person(client, room, bo, "make_moderator")
    person(client, room, bo, "remove")
    person(client, room, dee, "unban")
    client.post(f"/rooms/{room.slug}/invite/rotate/")
    client.post(f"/rooms/{room.slug}/close/")
    client.post(f"/rooms/{room.slug}/reopen/")
    log = list(room.audit_entries.values_list("action", "actor", "detail"))
    assert log == [
        ("reopen", ana.pk, ""),
        ("close", ana.pk, ""),
        ("invite_rotate", ana.pk, ""),
        ("unban", ana.pk, ""),
        ("role", ana.pk, "moderator → no longer a member"),
        ("role", ana.pk, "member → moderator"),
    ]
