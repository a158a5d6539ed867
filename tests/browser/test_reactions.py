"""Reactions: an emoji picked from the controls floats on the sender's tile on every page,
the sender's own self view included, and goes away after a few seconds."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_reaction_floats_on_the_senders_tile_for_everyone_then_goes(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()

    menu = ana.page.locator("#reactions-menu")
    expect(menu).to_be_hidden()
    ana.action("reactions").click()
    expect(menu).to_be_visible()
    expect(ana.action("reactions")).to_have_attribute("aria-expanded", "true")
    expect(menu.locator("[data-reaction]")).to_have_count(6)
    menu.locator('[data-reaction="🎉"]').click()

    on_bobs_page = bob.tile(ana.peer_id).locator('[data-reaction-float="🎉"]')
    expect(on_bobs_page).to_have_count(1)
    expect(on_bobs_page).to_be_visible()
    expect(on_bobs_page).to_have_attribute("aria-label", "Ana reacted 🎉")
    # The sender sees it on its own self view, and nobody else's tile shows it.
    expect(ana.page.locator('[data-self] [data-reaction-float="🎉"]')).to_have_count(1)
    expect(ana.tile(bob.peer_id).locator("[data-reaction-float]")).to_have_count(0)
    expect(bob.page.locator("[data-self] [data-reaction-float]")).to_have_count(0)

    # Gone after a few seconds (four), on both pages.
    expect(on_bobs_page).to_have_count(0, timeout=8000)
    expect(ana.page.locator("[data-self] [data-reaction-float]")).to_have_count(0)

    # Escape closes the menu and gives focus back to its button.
    ana.page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(ana.action("reactions")).to_be_focused()
    call.assert_clean()
