"""Smoke test in Debian's Chromium: sign up, create a room, land on its page, all without errors.

Screenshots of every page go to ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import re

import pytest

from tests.support.browser import add_session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UI_TIMEOUT_MS = 10_000


def watch_errors(page) -> list[str]:
    """Collect console errors, uncaught exceptions and failed requests of one page."""
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(f"console: {msg.text}"))
    page.on("pageerror", lambda exc: errors.append(f"exception: {exc}"))
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))
    page.on(
        "response",
        lambda resp: resp.status >= 400 and errors.append(f"HTTP {resp.status}: {resp.url}"),
    )
    return errors


def test_sign_up_create_a_room_and_open_it_without_errors(chromium, live_servers, artifacts_dir):
    servers = live_servers()
    shots = artifacts_dir / "smoke"
    shots.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    errors = watch_errors(page)
    try:
        page.goto(servers.url("/"))
        page.screenshot(path=shots / "01-landing.png", full_page=True)

        page.get_by_role("link", name="Create an account").click()
        page.wait_for_url(re.compile(r"/accounts/signup/$"))
        page.fill("input[name=username]", "ana")
        page.fill("input[name=display_name]", "Ana Lima")
        page.fill("input[name=password1]", "correct-Horse-battery-42")
        page.fill("input[name=password2]", "correct-Horse-battery-43")
        page.get_by_role("button", name="Sign up").click()
        page.locator(".field-error").first.wait_for()
        assert "The two password fields didn’t match." in page.inner_text("main form")
        page.screenshot(path=shots / "02-signup-error.png", full_page=True)

        page.fill("input[name=password1]", "correct-Horse-battery-42")
        page.fill("input[name=password2]", "correct-Horse-battery-42")
        page.get_by_role("button", name="Sign up").click()
        page.wait_for_url(servers.url("/"))
        assert "Welcome, Ana Lima!" in page.inner_text(".messages")
        assert page.inner_text(".nav-user").strip().endswith("Ana Lima")
        page.screenshot(path=shots / "03-home.png", full_page=True)

        page.get_by_role("link", name="New room").click()
        page.wait_for_url(re.compile(r"/rooms/new/$"))
        # The field's maxlength stops long names in the browser; a blank name reaches the server.
        page.fill("input[name=name]", "   ")
        page.get_by_role("button", name="Create room").click()
        page.locator(".field-error").first.wait_for()
        assert "Give the room a name." in page.inner_text("main form")
        page.screenshot(path=shots / "04-new-room-error.png", full_page=True)

        page.fill("input[name=name]", "Weekly Sync")
        page.fill("textarea[name=description]", "Mondays at ten")
        page.get_by_role("button", name="Create room").click()
        page.wait_for_url(servers.url("/rooms/weekly-sync/"))
        page.locator("#room-config").wait_for(state="attached")
        config = page.evaluate("JSON.parse(document.getElementById('room-config').textContent)")
        assert config["role"] == "owner" and config["user"]["display_name"] == "Ana Lima"
        assert page.title().startswith("Weekly Sync")
        # The pre-join preview shows the fake camera; joining reaches the in-call state over the
        # real signaling socket.
        page.wait_for_function(
            "() => [...document.querySelectorAll('video')].some(v => v.videoWidth > 0)"
        )
        page.screenshot(path=shots / "05-room-prejoin.png", full_page=True)
        page.locator('[data-action="join"]').click()
        page.wait_for_function("() => document.body.dataset.callState === 'in-call'")
        page.screenshot(path=shots / "05-room-in-call.png", full_page=True)

        page.goto(servers.url("/rooms/weekly-sync/edit/"))
        page.screenshot(path=shots / "06-room-settings.png", full_page=True)
        page.goto(servers.url("/"))
        assert page.locator(".room-card", has_text="Weekly Sync").count() == 1
        page.screenshot(path=shots / "07-home-with-room.png", full_page=True)
        assert errors == []
    finally:
        context.close()


def test_login_and_refusal_pages_render(chromium, live_servers, artifacts_dir):
    servers = live_servers()
    shots = artifacts_dir / "smoke"
    shots.mkdir(exist_ok=True)
    sessions = servers.create_users("owner", "stranger")
    slug = servers.create_room("owner", "Board meeting", is_private=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(servers.url(f"/rooms/{slug}/"))
        page.wait_for_url(re.compile(r"/accounts/login/\?next="))
        page.fill("input[name=username]", "stranger")
        page.fill("input[name=password]", "wrong")
        page.get_by_role("button", name="Log in").click()
        page.locator(".alert--error").wait_for()
        page.screenshot(path=shots / "08-login-error.png", full_page=True)

        page.fill("input[name=password]", "pw-stranger-123")
        page.get_by_role("button", name="Log in").click()
        # A private room is a 404 to a stranger, exactly like a slug nobody uses.
        page.locator("[data-refusal=room_not_found]").wait_for()
        assert "This room does not exist or has been closed." in page.inner_text("main")
        page.screenshot(path=shots / "09-refused-private.png", full_page=True)

        code = f"from rooms.models import Room; print(Room.objects.get(slug={slug!r}).invite_token)"
        token = servers.run_python(code).strip().splitlines()[-1]
        page.goto(servers.url(f"/rooms/{slug}/?invite={token}"))
        page.locator("#room-config").wait_for(state="attached")

        settings = chromium.new_context(viewport={"width": 1280, "height": 800})
        try:
            add_session_cookie(settings, servers.url(), sessions["owner"])
            owner_page = settings.new_page()
            owner_page.goto(servers.url(f"/rooms/{slug}/edit/"))
            person = owner_page.locator(".person", has_text="Stranger")
            person.get_by_role("button", name="Make moderator").click()
            owner_page.locator(".message--success", has_text="is now a moderator").wait_for()
            owner_page.screenshot(path=shots / "11-settings-people.png", full_page=True)
        finally:
            settings.close()

        owner = chromium.new_context(viewport={"width": 390, "height": 844})
        try:
            add_session_cookie(owner, servers.url(), sessions["owner"])
            phone = owner.new_page()
            errors = watch_errors(phone)
            phone.goto(servers.url("/"))
            phone.screenshot(path=shots / "10-home-phone.png", full_page=True)
            assert errors == []
        finally:
            owner.close()
    finally:
        context.close()
