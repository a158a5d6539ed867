"""The Content-Security-Policy in Chromium: every page works under it and reports no violation.

A violation shows up twice: as a ``securitypolicyviolation`` event (recorded by an init script)
and as a console error (recorded by the ``Member``). Both must stay empty on every page, the
Django admin included, while an injected inline script is refused.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WATCH_VIOLATIONS_JS = """
(() => {
  window.__e2eViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__e2eViolations.push(`${event.effectiveDirective} ${event.blockedURI}`);
  });
})();
"""

# The only console error the pages below may log: the 404 page's own status line.
NOT_FOUND = (re.compile(r"Failed to load resource: .*404.*"),)


def visit(member, url: str, status: int = 200) -> None:
    """Open ``url``, check it came with the policy, and that the page raised no violation."""
    response = member.page.goto(url)
    assert response.status == status, url
    assert "default-src 'self'" in response.headers["content-security-policy"], url
    assert "permissions-policy" in response.headers, url
    member.page.wait_for_load_state("load")
    assert member.page.evaluate("() => window.__e2eViolations") == [], url


def test_site_and_account_pages_run_under_the_policy(call_room):
    call = call_room("ana", join=False)
    anonymous = call.chromium.new_context()
    try:
        page = anonymous.new_page()
        page.add_init_script(WATCH_VIOLATIONS_JS)
        errors = []
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        for path in ("/", "/accounts/login/", "/accounts/signup/", "/admin/login/"):
            response = page.goto(call.servers.url(path))
            assert response.status == 200, path
            assert "default-src 'self'" in response.headers["content-security-policy"], path
            assert page.evaluate("() => window.__e2eViolations") == [], path
        assert errors == []
    finally:
        anonymous.close()

    ana = call.browse("ana", init_script=WATCH_VIOLATIONS_JS)
    for path in ("/", "/rooms/new/", f"/rooms/{call.slug}/edit/", "/accounts/password/"):
        visit(ana, call.servers.url(path))
    visit(ana, call.servers.url("/no/such/page/"), status=404)
    call.assert_clean(allowed_console=NOT_FOUND)


def test_room_before_and_during_a_call_runs_under_the_policy(call_room, tmp_path):
    call = call_room("ana", join=False)
    ana = call.browse("ana", init_script=WATCH_VIOLATIONS_JS)
    visit(ana, call.url)
    ana.page.wait_for_selector('body[data-call-state="prejoin"]', state="attached")
    call.join(ana)
    bob = call.open("bob", init_script=WATCH_VIOLATIONS_JS)
    # Signaling (a same-origin WebSocket under connect-src 'self'), media and a data channel.
    call.wait_all_connected()
    ana.wait_frames_advance(bob.peer_id)
    ana.send_chat("hello under a strict policy")
    expect(bob.page.locator("#chat-log")).to_contain_text("hello under a strict policy")
    path = tmp_path / "notes.txt"
    path.write_text("plain text")
    ana.send_file(path, to=bob.peer_id)
    expect(bob.page.locator("a[download][data-file-sha256]")).to_have_count(1)
    for member in (ana, bob):
        assert member.page.evaluate("() => window.__e2eViolations") == [], member.username
    call.assert_clean()


def test_django_admin_runs_under_the_policy(call_room):
    call = call_room("ana", join=False)
    admin = call.browse("admin", init_script=WATCH_VIOLATIONS_JS)
    visit(admin, call.servers.url("/admin/"))
    visit(admin, call.servers.url("/admin/rooms/room/"))
    admin.page.locator("#result_list tbody th a").first.click()
    admin.page.wait_for_load_state("load")
    assert "/change/" in admin.page.url
    assert admin.page.evaluate("() => window.__e2eViolations") == []
    visit(admin, call.servers.url("/admin/accounts/user/"))
    visit(admin, call.servers.url("/admin/accounts/user/add/"))
    # The admin's own scripts work: the changelist's select-all checkbox ticks every row.
    visit(admin, call.servers.url("/admin/accounts/user/"))
    admin.page.locator("#action-toggle").check()
    expect(admin.page.locator("input.action-select:checked")).to_have_count(
        admin.page.locator("input.action-select").count()
    )
    assert admin.page.evaluate("() => window.__e2eViolations") == []
    call.assert_clean()


def test_an_injected_inline_script_is_refused(call_room):
    call = call_room("ana", join=False)
    ana = call.browse("ana", init_script=WATCH_VIOLATIONS_JS)
    visit(ana, call.url)
    # What an HTML injection would add to the page: an inline script and an inline handler.
    ana.page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__e2eInjected = true;";
          document.body.append(script);
          const image = document.createElement("img");
          image.setAttribute("onerror", "window.__e2eHandler = true;");
          image.src = "/no-such-image.png";
          document.body.append(image);
        }"""
    )
    ana.page.wait_for_function("() => window.__e2eViolations.length >= 2")
    assert ana.page.evaluate("() => window.__e2eInjected") is None
    assert ana.page.evaluate("() => window.__e2eHandler") is None
    violations = ana.page.evaluate("() => window.__e2eViolations")
    assert all(line.startswith("script-src") for line in violations), violations
