"""Guests (issue #12): entering with the invite link and a name, what a guest may and may not
open, TURN credentials scoped to the room, and bans that hold for the guest's session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from accounts.forms import SignupForm
from accounts.guests import GUEST_SESSION_KEY
from accounts.models import User
from rooms import moderation, services
from rooms.models import RoomKick
from tests.rooms.test_views import room_config

TURN_SETTINGS = {
    "TURN_SECRETS": ["guest-test-secret"],
    "TURN_URLS": ["turn:turn.example.org:3478?transport=udp"],
    "TURN_TTL": 3600,
    "GUEST_TURN_TTL": 600,
}


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # Guest entries are counted per address in the cache; each test starts with none.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def room(make_room, make_user):
    return make_room("Client Call", owner=make_user("ana"), guests_allowed=True)


def enter(client: Client, room, name: str = "Gil", token: str | None = None, **extra):
    return client.post(
        f"/rooms/{room.slug}/guest/",
        {"display_name": name, "invite": room.invite_token if token is None else token},
        **extra,
    )


def test_a_visitor_with_the_link_sees_a_name_field_instead_of_a_login(client, room):
    response = client.get(f"/rooms/{room.slug}/?invite={room.invite_token}")
    assert response.status_code == 200
    assert 'name="display_name"' in response.text
    config = room_config(response)
    assert config["role"] == "guest"
    assert config["guest"]["invite"] == room.invite_token
    assert config["edit_url"] is None and config["admin_url"] is None


def test_without_guests_the_link_still_asks_for_a_login(client, room):
    room.guests_allowed = False
    room.save()
    response = client.get(f"/rooms/{room.slug}/?invite={room.invite_token}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_entering_makes_one_guest_identity_bound_to_the_session_that_cannot_log_in(client, room):
    response = enter(client, room, "  Gil   Guest ")
    assert response.status_code == 200, response.content
    assert response.json()["user"]["display_name"] == "Gil Guest"
    assert response.json()["knock"] is False
    guest = User.objects.get(pk=client.session[GUEST_SESSION_KEY])
    assert guest.is_guest and not guest.has_usable_password() and not guest.is_staff
    # The session holds the guest, never a login.
    assert "_auth_user_id" not in client.session
    # A second entry (a new name) is the same identity, renamed.
    assert enter(client, room, "Gilda").status_code == 200
    assert User.objects.filter(is_guest=True).count() == 1
    guest.refresh_from_db()
    assert guest.display_name == "Gilda"
    # Nobody can log in as it, with any password, and signup cannot take its name.
    login = Client().post("/accounts/login/", {"username": guest.username, "password": ""})
    assert "_auth_user_id" not in login.wsgi_request.session
    form = SignupForm(
        data={
            "username": guest.username,
            "password1": "x-Long-pw-913",
            "password2": "x-Long-pw-913",
        }
    )
    assert not form.is_valid() and "username" in form.errors


def test_a_guest_is_then_let_into_the_page_as_a_guest(client, room):
    enter(client, room)
    config = room_config(client.get(f"/rooms/{room.slug}/"))
    assert config["role"] == "guest"
    assert config["user"]["display_name"] == "Gil"


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Enter the name"), ("\u202eevil", "change text direction"), ("x" * 81, "at most 80")],
)
def test_a_bad_name_is_refused_with_a_clear_message(client, room, name, message):
    response = enter(client, room, name)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_name"
    assert message in response.json()["message"]
    assert GUEST_SESSION_KEY not in client.session


def test_a_stale_link_or_guests_off_refuses_entry(client, room):
    assert enter(client, room, token="not-the-token").status_code == 403
    room.guests_allowed = False
    room.save()
    assert enter(client, room).status_code == 403
    assert not User.objects.filter(is_guest=True).exists()


def test_a_logged_in_user_is_not_made_a_guest(client, room, make_user):
    client.force_login(make_user("bob"))
    assert enter(client, room).status_code == 409


@override_settings(GUEST_RATE_LIMIT_REQUESTS=2, GUEST_RATE_LIMIT_WINDOW=3600)
def test_guest_entries_are_rate_limited_per_address(room):
    for _ in range(2):
        assert enter(Client(), room, REMOTE_ADDR="203.0.113.9").status_code == 200
    refused = enter(Client(), room, REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    # Another address is not held back.
    assert enter(Client(), room, REMOTE_ADDR="198.51.100.4").status_code == 200


def test_rotating_the_link_or_turning_guests_off_refuses_the_guest_page(client, room):
    enter(client, room)
    services.room_rotate_invite(room=room)
    response = client.get(f"/rooms/{room.slug}/")
    assert response.status_code == 403
    assert "no longer valid" in response.text
    # With the new link the same guest enters again.
    room.refresh_from_db()
    assert enter(client, room).status_code == 200
    assert client.get(f"/rooms/{room.slug}/").status_code == 200
    room.guests_allowed = False
    room.save()
    assert "no longer lets guests in" in client.get(f"/rooms/{room.slug}/").text


def test_a_ban_holds_for_the_guest_and_its_session_under_any_name(client, room):
    enter(client, room, "Gil")
    guest = User.objects.get(is_guest=True)
    moderation.room_ban_user(room=room, user=guest, by=room.owner, reason="spam")
    response = enter(client, room, "Totally Someone Else")
    assert response.status_code == 403
    assert "banned" in response.json()["message"]
    assert client.get(f"/rooms/{room.slug}/").status_code == 403


def test_a_kicked_guest_is_told_and_may_only_ask_to_come_back(client, room, settings):
    settings.KICK_COOLDOWN_SECONDS = 300
    enter(client, room, "Gil")
    guest = User.objects.get(is_guest=True)
    RoomKick.objects.create(room=room, user=guest, until=timezone.now() + timedelta(minutes=5))
    page = client.get(f"/rooms/{room.slug}/")
    assert page.status_code == 200
    assert room_config(page)["knock"] is True and room_config(page)["removed"] is True
    assert "data-removed-notice" in page.text


def test_guests_never_reach_pages_that_need_an_account(client, room):
    enter(client, room)
    for path in ("/rooms/new/", f"/rooms/{room.slug}/edit/", "/accounts/password/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "login" in response["Location"], path


@override_settings(**TURN_SETTINGS)
def test_guest_turn_credentials_need_the_room_and_are_short_lived(client, room):
    assert client.get("/api/turn/").status_code == 401
    enter(client, room)
    assert client.get("/api/turn/").status_code == 403
    answer = client.get(f"/api/turn/?room={room.slug}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["ttl"] == 600
    guest = User.objects.get(is_guest=True)
    assert body["username"].endswith(f":{guest.pk}")
    # Another room is refused, and so is this one once the link is rotated.
    other = services.room_create(owner=room.owner, name="Other", guests_allowed=True)
    assert client.get(f"/api/turn/?room={other.slug}").status_code == 403
    services.room_rotate_invite(room=room)
    assert client.get(f"/api/turn/?room={room.slug}").status_code == 403


@override_settings(SIGNUP="closed")
def test_guests_do_not_depend_on_the_signup_setting(client, room):
    assert 'name="password1"' not in client.get("/accounts/signup/").text
    assert enter(client, room).status_code == 200
    assert room_config(client.get(f"/rooms/{room.slug}/"))["role"] == "guest"
