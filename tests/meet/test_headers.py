"""Security headers as a browser receives them: CSP, Permissions-Policy and no-store on invites."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from meet.headers import DEFAULT_PERMISSIONS_POLICY, permissions_policy

pytestmark = pytest.mark.django_db

# The whole policy, directive by directive: a page may load and connect only to its own origin
# ('self' also covers ws:/wss: of the same host since CSP 3), run no inline or foreign script,
# embed no plugin, be framed by nobody, and post forms only to itself.
EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


def parse_csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in directives, f"{name} appears twice in {header!r}"
        directives[name] = values
    return directives


@pytest.fixture
def ana(make_user):
    return make_user("ana")


@pytest.fixture
def staff(make_user):
    return make_user("staff", is_staff=True, is_superuser=True)


def html_pages(client, make_room, ana, staff) -> dict[str, object]:
    """Every kind of HTML page, fetched by a visitor who may see it."""
    room = make_room(owner=ana, is_private=True)
    pages = {
        "landing": client.get("/"),
        "login": client.get("/accounts/login/"),
        "signup": client.get("/accounts/signup/"),
        "not found": client.get("/no/such/page/"),
    }
    client.force_login(ana)
    pages.update(
        {
            "home": client.get("/"),
            "new room": client.get("/rooms/new/"),
            "room": client.get(room.get_absolute_url()),
            "room settings": client.get(f"/rooms/{room.slug}/edit/"),
            "password change": client.get("/accounts/password/"),
        }
    )
    client.force_login(staff)
    pages.update(
        {
            "admin": client.get("/admin/"),
            "admin rooms": client.get("/admin/rooms/room/"),
            "admin room": client.get(f"/admin/rooms/room/{room.pk}/change/"),
        }
    )
    return pages


def test_every_html_page_has_the_strict_content_security_policy(client, make_room, ana, staff):
    for name, response in html_pages(client, make_room, ana, staff).items():
        assert response["Content-Type"].startswith("text/html"), name
        assert parse_csp(response["Content-Security-Policy"]) == EXPECTED_CSP, name


def test_no_page_allows_inline_or_evaluated_script(client, make_room, ana, staff):
    for name, response in html_pages(client, make_room, ana, staff).items():
        policy = response["Content-Security-Policy"]
        for loophole in ("'unsafe-inline'", "'unsafe-eval'", "data:", "blob:", "*"):
            assert loophole not in policy.split(), (name, loophole)
        # No inline script in the markup itself, only JSON data islands and external modules.
        for chunk in response.text.split("<script")[1:]:
            tag = chunk.split(">", 1)[0]
            assert "src=" in tag or 'type="application/json"' in tag, (name, tag)
        assert " style=" not in response.text and "<style" not in response.text, name


INLINE_SCRIPT_OR_STYLE = re.compile(
    r"<style|\sstyle=|\son[a-z]+=|javascript:|<script(?![^>]*(\ssrc=|type=\"application/json\"))",
    re.IGNORECASE,
)


def test_no_template_holds_inline_script_style_or_event_handlers():
    # The policy would refuse them: every template, including ones no test renders, stays clean.
    templates = sorted((settings.BASE_DIR / "templates").rglob("*.html"))
    for app in ("accounts", "rooms", "signaling", "meet"):
        templates += sorted((settings.BASE_DIR / app).glob("templates/**/*.html"))
    assert templates
    for template in templates:
        match = INLINE_SCRIPT_OR_STYLE.search(template.read_text())
        assert match is None, f"{template}: {match and match.group(0)}"


def test_the_500_page_has_no_inline_script_or_style():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "<script" not in html and "<style" not in html and " style=" not in html


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/healthz"])
def test_pages_outside_a_room_deny_camera_microphone_and_screen(client, path):
    policy = client.get(path)["Permissions-Policy"]
    assert policy == DEFAULT_PERMISSIONS_POLICY
    for feature in ("camera", "microphone", "display-capture", "geolocation"):
        assert f"{feature}=()" in policy.split(", ")


def test_home_and_admin_deny_camera_microphone_and_screen(client, ana, staff):
    client.force_login(ana)
    assert client.get("/")["Permissions-Policy"] == DEFAULT_PERMISSIONS_POLICY
    client.force_login(staff)
    for path in ("/admin/", "/admin/rooms/room/", "/admin/login/"):
        assert client.get(path)["Permissions-Policy"] == DEFAULT_PERMISSIONS_POLICY, path


def test_room_page_keeps_camera_microphone_and_screen_for_itself(client, make_room, ana):
    room = make_room(owner=ana)
    client.force_login(ana)
    policy = client.get(room.get_absolute_url())["Permissions-Policy"].split(", ")
    for feature in ("camera", "microphone", "display-capture"):
        assert f"{feature}=(self)" in policy
    assert "geolocation=()" in policy and "payment=()" in policy


def test_permissions_policy_refuses_a_feature_it_does_not_know():
    with pytest.raises(ValueError, match="telepathy"):
        permissions_policy(allow_self=["camera", "telepathy"])


def cache_directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


def test_room_page_and_its_refusal_are_never_cached(client, make_room, make_user, ana):
    room = make_room(owner=ana, is_private=True)
    client.force_login(ana)
    assert {"private", "no-store"} <= cache_directives(client.get(room.get_absolute_url()))
    # A stranger with a wrong token sees the refusal page: still an address with a token.
    client.force_login(make_user("stranger"))
    refused = client.get(f"{room.get_absolute_url()}?invite=wrong-token")
    # Refused (a private room hides from strangers, so "not found" counts as a refusal too).
    assert refused.status_code in (403, 404)
    assert {"private", "no-store"} <= cache_directives(refused)


def test_invite_link_page_is_never_cached(client, make_room, make_user, ana):
    room = make_room(owner=ana, is_private=True)
    client.force_login(make_user("guest"))
    response = client.get(f"{room.get_absolute_url()}?invite={room.invite_token}")
    assert response.status_code == 200
    assert {"private", "no-store"} <= cache_directives(response)


def test_room_settings_page_with_the_invite_link_is_never_cached(client, make_room, ana):
    room = make_room(owner=ana, is_private=True)
    client.force_login(ana)
    response = client.get(f"/rooms/{room.slug}/edit/")
    assert room.invite_token in response.text
    assert {"private", "no-store"} <= cache_directives(response)


def test_login_page_reached_from_an_invite_link_is_never_cached(client, make_room):
    room = make_room(is_private=True)
    redirect = client.get(f"{room.get_absolute_url()}?invite={room.invite_token}")
    assert redirect.status_code == 302
    login = client.get(redirect["Location"])
    assert room.invite_token in login.text
    assert {"private", "no-store"} <= cache_directives(login)


def test_signup_page_on_the_way_to_an_invite_is_never_cached(client):
    response = client.get("/accounts/signup/?next=/rooms/board/%3Finvite%3Dsecret-token")
    assert {"private", "no-store"} <= cache_directives(response)


def test_admin_room_page_showing_the_token_is_never_cached(client, make_room, staff):
    room = make_room(is_private=True)
    client.force_login(staff)
    response = client.get(f"/admin/rooms/room/{room.pk}/change/")
    assert room.invite_token in response.text
    assert {"private", "no-store"} <= cache_directives(response)


def test_pages_without_an_invite_may_be_cached_by_the_browser(client):
    # The landing page carries no token; it is not forced out of every cache.
    assert "no-store" not in cache_directives(client.get("/"))
