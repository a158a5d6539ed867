"""meet in German, as a browser set to German sees it, and the language picker at work.

A German context (Playwright's ``locale="de-DE"``: Accept-Language and navigator.language) gets
the server's German pages and the room page's script in German too (Django's JavaScript catalog),
each person in their own language within one call.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


class GermanBrowser:
    """The module's Chromium, making every new context a German one."""

    def __init__(self, browser) -> None:
        self.browser = browser

    def new_context(self, **options):
        return self.browser.new_context(locale="de-DE", **options)


def test_a_german_browser_gets_the_landing_page_and_a_call_in_german(call_room):
    call = call_room("bob")
    bob = call.members["bob"]
    english = call.chromium
    call.chromium = GermanBrowser(english)

    visitor = call.browse("dan", anonymous=True)
    visitor.page.goto(call.servers.url("/"))
    expect(visitor.page.locator("html")).to_have_attribute("lang", "de")
    expect(visitor.page.locator("h1")).to_have_text("Videobesprechungen auf Ihrem eigenen Server.")
    expect(visitor.page.get_by_role("link", name="Konto erstellen")).to_be_visible()

    ana = call.open("ana", join=False)
    page = ana.page
    # The pre-join page: the template's words and the script's (the seat count, the pickers).
    expect(page.locator(".eyebrow")).to_have_text("Bereit zur Teilnahme?")
    expect(ana.action("join")).to_have_text("Jetzt teilnehmen")
    seats = page.locator("[data-room-status]")
    expect(seats).to_have_text("1 von 8 Personen ist in der Besprechung.")
    expect(ana.action("preview-audio")).to_have_attribute("aria-label", "Mikrofon")
    expect(page.locator("#prejoin").get_by_label("Kamera", exact=True)).to_be_visible()

    call.join(ana)
    call.wait_all_connected([ana, bob])
    # The call's controls, named by the template and by the script.
    for action, name in (
        ("toggle-audio", "Mikrofon"),
        ("toggle-video", "Kamera"),
        ("toggle-screen", "Bildschirm präsentieren"),
        ("raise-hand", "Hand heben"),
        ("reactions", "Reaktion senden"),
        ("leave", "Anruf verlassen"),
        ("toggle-chat", "Chat (C)"),
        ("toggle-participants", "Personen (P)"),
        ("copy-invite", "Einladungslink kopieren"),
    ):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_attribute(
            "data-action", action
        )
    expect(page.locator("[data-self]")).to_have_attribute("aria-label", "Ana (Sie), Kamera")
    expect(ana.tile(bob.peer_id)).to_have_attribute("aria-label", "Bob, Kamera")

    # Bob's page stays English; what happens to Ana is told in German.
    expect(bob.page.locator("#toasts")).to_contain_text("Ana joined.")
    bob.action("raise-hand").click()
    expect(page.locator("#toasts")).to_contain_text("Bob hat die Hand gehoben.")

    ana.action("leave").click()
    notice = page.locator("#notice")
    expect(notice.locator("h2")).to_have_text("Sie haben die Besprechung verlassen")
    expect(notice.get_by_role("link", name="Wieder teilnehmen")).to_be_visible()
    call.assert_clean()


def test_the_language_picker_switches_pages_and_keeps_the_choice(call_room):
    call = call_room("ana", join=False)
    cy = call.browse("cy")
    page = cy.page
    page.goto(call.servers.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#own-rooms")).to_have_text("Your rooms")

    # By keyboard: choose the language, then the button.
    picker = page.get_by_label("Language")
    picker.focus()
    picker.select_option("de")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Change")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#own-rooms")).to_have_text("Ihre Räume")
    # Back on the page it was chosen on, with the choice shown.
    assert page.url == call.servers.url("/")
    expect(page.get_by_label("Sprache")).to_have_value("de")

    # The choice is remembered: another page, the room's, opens in German.
    page.goto(call.url)
    expect(cy.action("join")).to_have_text("Jetzt teilnehmen")
    expect(page.locator("[data-room-status]")).to_contain_text("in der Besprechung")

    page.get_by_label("Sprache").select_option("en")
    page.get_by_role("button", name="Wechseln").click()
    expect(cy.action("join")).to_have_text("Join now")
    call.assert_clean()
