"""Alone in a new room, the owner is offered the invite link to share (Meet's "Your meeting's
ready"), with a small self view beside it; the room settings page copies the link too."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import _assert_no_violations, _axe, _axe_browser

pytestmark = pytest.mark.browser

CLIPBOARD_IS_JS = """(expected) => navigator.clipboard.readText().then((t) => t === expected)"""


def _invite_url(member) -> str:
    return json.loads(member.page.locator("#room-config").text_content())["invite_url"]


def _width(member, selector: str) -> float:
    return member.page.locator(selector).bounding_box()["width"]


def test_the_owner_alone_sees_the_link_to_share_until_someone_joins(call_room):
    call = call_room("ana")
    ana = call.members["ana"]
    ana.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=call.servers.url())
    card = ana.page.locator("[data-invite-card]")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Share this link")
    expect(card.locator("[data-invite-link]")).to_have_value(_invite_url(ana))
    # The self view is small beside the card, not the whole stage.
    assert _width(ana, "[data-self]") < _width(ana, "#stage") / 2

    ana.action("copy-invite-link").click()
    ana.page.wait_for_function(CLIPBOARD_IS_JS, arg=_invite_url(ana), polling=200)
    expect(ana.action("copy-invite-link")).to_have_text("Copied")

    bob = call.open("bob")
    expect(card).to_be_hidden()
    # Only the owner is prompted; Bob joins a call with someone in it anyway.
    expect(bob.page.locator("[data-invite-card]")).to_be_hidden()
    call.wait_all_connected()
    call.assert_clean()


def test_the_invite_prompt_can_be_closed_and_the_self_view_grows_back(call_room):
    call = call_room("ana")
    ana = call.members["ana"]
    card = ana.page.locator("[data-invite-card]")
    expect(card).to_be_visible()
    ana.action("dismiss-invite").click()
    expect(card).to_be_hidden()
    expect(ana.page.locator("#stage")).not_to_have_attribute("data-invite", "true")
    assert _width(ana, "[data-self]") > _width(ana, "#stage") / 2
    call.assert_clean()


def test_a_member_alone_in_someone_elses_room_is_not_prompted(call_room):
    call = call_room("ana", join=False)
    bob = call.open("bob")
    expect(bob.page.locator('body[data-call-state="in-call"]')).to_have_count(1)
    expect(bob.page.locator("[data-invite-card]")).to_be_hidden()
    call.assert_clean()


def test_the_room_settings_page_copies_the_invite_link(call_room):
    call = call_room("ana", join=False)
    ana = call.members["ana"]
    ana.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=call.servers.url())
    ana.page.goto(call.servers.url(f"/rooms/{call.slug}/edit/"))
    link = ana.page.locator("#invite-url").input_value()
    assert link.startswith(call.servers.url())
    ana.action("copy-invite-url").click()
    expect(ana.page.locator("[data-copy-status]")).to_have_text("Invite link copied.")
    ana.page.wait_for_function(CLIPBOARD_IS_JS, arg=link, polling=200)
    call.assert_clean()


def test_axe_finds_nothing_with_the_invite_prompt_and_the_reactions_menu_open(call_room):
    call = call_room("ana", join=False)
    call.close("ana")
    ana = _axe_browser(call, "ana")
    ana.page.goto(call.url)
    call.join(ana)
    expect(ana.page.locator("[data-invite-card]")).to_be_visible()
    found = _axe(ana.page, "call, alone with the invite prompt")
    ana.action("reactions").click()
    expect(ana.page.locator("#reactions-menu")).to_be_visible()
    found += _axe(ana.page, "call, reactions menu open")
    _assert_no_violations(found)
