"""The SIGNUP setting: open to all, only with a room invite, or closed (admins make accounts)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

PROJECT_DIR = Path(__file__).resolve().parents[2]

GOOD_PASSWORD = "correct-Horse-battery-42"
FORM = {"username": "ana", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}


def test_open_signup_is_the_default_and_the_login_page_links_to_it(client, settings):
    assert settings.SIGNUP == "open"
    assert 'href="/accounts/signup/' in client.get("/accounts/login/").text
    assert client.post("/accounts/signup/", FORM).status_code == 302


def test_closed_signup_says_so_refuses_posts_with_403_and_the_login_page_hides_the_link(
    client, settings
):
    settings.SIGNUP = "closed"
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    assert "accounts are created by the administrator" in page.text
    assert 'name="password1"' not in page.text
    refused = client.post("/accounts/signup/", FORM)
    assert refused.status_code == 403
    assert "accounts are created by the administrator" in refused.text
    assert not get_user_model().objects.filter(username="ana").exists()
    login = client.get("/accounts/login/")
    assert login.status_code == 200 and 'href="/accounts/signup/' not in login.text


def test_invite_signup_without_an_invite_explains_and_refuses(client, settings, make_room):
    settings.SIGNUP = "invite"
    make_room("Weekly Sync")
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    assert "Signing up needs an invite link" in page.text
    assert 'name="password1"' not in page.text
    refused = client.post("/accounts/signup/", FORM)
    assert refused.status_code == 403
    assert not get_user_model().objects.filter(username="ana").exists()


def test_invite_signup_with_the_rooms_current_invite_link_creates_the_account(
    client, settings, make_room
):
    settings.SIGNUP = "invite"
    room = make_room("Weekly Sync", is_private=True)
    target = f"/rooms/{room.slug}/?invite={room.invite_token}"
    page = client.get("/accounts/signup/", {"next": target})
    assert page.status_code == 200 and 'name="password1"' in page.text
    response = client.post("/accounts/signup/", {**FORM, "next": target})
    assert response.status_code == 302 and response["Location"] == target
    assert get_user_model().objects.filter(username="ana").exists()


def test_invite_signup_accepts_the_token_as_an_invite_parameter(client, settings, make_room):
    settings.SIGNUP = "invite"
    room = make_room("Weekly Sync")
    response = client.post(
        f"/accounts/signup/?next=/rooms/{room.slug}/&invite={room.invite_token}", FORM
    )
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="ana").exists()


@pytest.mark.parametrize(
    "target",
    [
        "/rooms/{slug}/?invite=not-the-token",
        "/rooms/no-such-room/?invite={token}",
        "/rooms/{slug}/",
        "https://evil.example/rooms/{slug}/?invite={token}",
    ],
)
def test_invite_signup_refuses_a_wrong_stale_or_foreign_invite(client, settings, make_room, target):
    settings.SIGNUP = "invite"
    room = make_room("Weekly Sync", is_private=True)
    target = target.format(slug=room.slug, token=room.invite_token)
    response = client.post("/accounts/signup/", {**FORM, "next": target})
    assert response.status_code == 403
    assert "Signing up needs an invite link" in response.text
    assert not get_user_model().objects.filter(username="ana").exists()


def test_invite_signup_refuses_a_rotated_invite_and_a_closed_room(client, settings, make_room):
    from rooms.services import room_close, room_rotate_invite

    settings.SIGNUP = "invite"
    room = make_room("Weekly Sync", is_private=True)
    old = f"/rooms/{room.slug}/?invite={room.invite_token}"
    room_rotate_invite(room=room)
    assert client.post("/accounts/signup/", {**FORM, "next": old}).status_code == 403
    fresh = f"/rooms/{room.slug}/?invite={room.invite_token}"
    room_close(room=room)
    assert client.post("/accounts/signup/", {**FORM, "next": fresh}).status_code == 403
    assert not get_user_model().objects.filter(username="ana").exists()


def test_an_unknown_signup_policy_refuses_to_start(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "meet.settings",
            "DJANGO_DEBUG": "true",
            "MEET_STATE_DIR": str(tmp_path),
            "SIGNUP": "sometimes",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: SIGNUP must be one of open, invite, closed" in result.stderr
