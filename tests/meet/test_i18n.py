"""Languages as a visitor meets them: English by default, the browser's language when meet has
it, and the language picker's choice above both, remembered in the language cookie."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from meet.headers import DEFAULT_PERMISSIONS_POLICY

pytestmark = pytest.mark.django_db

GERMAN = "de-DE,de;q=0.9,en;q=0.5"


@pytest.fixture
def ana(make_user):
    return make_user("ana", display_name="Ana")


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.text).group(1)


def csrf_token_of(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)


def test_pages_are_in_english_without_a_preference(client):
    response = client.get("/")
    assert html_lang(response) == "en"
    assert "Video meetings on your own server." in response.text
    assert response["Content-Language"] == "en"


def test_a_browser_asking_for_german_gets_german_pages(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=GERMAN)
    assert html_lang(response) == "de"
    assert response["Content-Language"] == "de"
    assert "Videobesprechungen auf Ihrem eigenen Server." in response.text
    assert "Video meetings on your own server." not in response.text
    # Pages differ by language, so a cache must keep them apart.
    assert "Accept-Language" in response["Vary"]


def test_a_language_meet_does_not_have_falls_back_to_english(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,ja;q=0.8")
    assert html_lang(response) == "en"
    assert "Video meetings on your own server." in response.text


def test_the_language_picker_switches_the_site_and_the_choice_is_kept(ana):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ana)
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    answer = client.post(
        "/i18n/setlang/",
        {"language": "de", "csrfmiddlewaretoken": csrf_token_of(home)},
        HTTP_REFERER="http://testserver/rooms/new/",
    )
    # Back to the page the picker was on.
    assert answer.status_code == 302
    assert answer["Location"] == "http://testserver/rooms/new/"
    cookie = answer.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "de"
    # Kept beyond this browser session, out of reach of page scripts.
    assert int(cookie["max-age"]) >= 30 * 24 * 60 * 60
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    # The choice beats the browser's own preference from now on.
    page = client.get("/rooms/new/", HTTP_ACCEPT_LANGUAGE="en")
    assert html_lang(page) == "de"
    assert "Raum erstellen" in page.text and "Create room" not in page.text


def test_the_language_picker_needs_its_csrf_token():
    client = Client(enforce_csrf_checks=True)
    answer = client.post("/i18n/setlang/", {"language": "de"})
    assert answer.status_code == 403
    assert settings.LANGUAGE_COOKIE_NAME not in answer.cookies


def test_switching_back_to_english(client):
    client.post("/i18n/setlang/", {"language": "de"})
    assert html_lang(client.get("/")) == "de"
    client.post("/i18n/setlang/", {"language": "en"})
    page = client.get("/", HTTP_ACCEPT_LANGUAGE=GERMAN)
    assert html_lang(page) == "en" and "Video meetings on your own server." in page.text


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/"])
def test_every_page_offers_the_picker_with_each_language_in_its_own_name(client, path):
    page = client.get(path, HTTP_ACCEPT_LANGUAGE=GERMAN).text
    picker = page[page.index('<form class="language-picker"') :].split("</form>", 1)[0]
    assert 'action="/i18n/setlang/"' in picker and 'method="post"' in picker
    assert '<label for="language-picker-select">Sprache</label>' in picker
    assert '<option value="en" lang="en">English</option>' in picker
    assert '<option value="de" lang="de" selected>Deutsch</option>' in picker
    assert 'type="submit">Wechseln</button>' in picker


def test_the_room_page_is_german_and_loads_the_scripts_translations_first(client, ana, make_room):
    room = make_room("Weekly Sync", owner=ana)
    client.force_login(ana)
    page = client.get(room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=GERMAN)
    assert page.status_code == 200
    for german in ("Bereit zur Teilnahme?", "Jetzt teilnehmen", "Anruf verlassen", "Sprache"):
        assert german in page.text, german
    assert "Join now" not in page.text and "Leave the call" not in page.text
    # The catalog is a same-origin script that runs before the page's modules.
    catalog = page.text.index('<script src="/jsi18n/"></script>')
    assert catalog < page.text.index('<script type="module"')


def test_the_javascript_catalog_follows_the_visitors_language(client):
    german = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE=GERMAN)
    assert german.status_code == 200
    assert german["Content-Type"].startswith("text/javascript")
    assert '"Join now": "Jetzt teilnehmen"' in german.text
    english = client.get("/jsi18n/")
    assert "Jetzt teilnehmen" not in english.text
    # The catalog defines the functions static/js/i18n.js reads.
    assert "globals.gettext = django.gettext" in english.text


def test_catalog_and_picker_answers_carry_the_sites_security_headers(client):
    for response in (
        client.get("/jsi18n/"),
        client.post("/i18n/setlang/", {"language": "de"}),
    ):
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert response["Permissions-Policy"] == DEFAULT_PERMISSIONS_POLICY


def test_forms_and_messages_speak_german(client, ana, make_room):
    client.force_login(ana)
    refused = client.post("/rooms/new/", {"name": ""}, HTTP_ACCEPT_LANGUAGE=GERMAN)
    assert "Geben Sie dem Raum einen Namen." in refused.text
    assert "Maximale Teilnehmerzahl" in refused.text
    room = make_room("Weekly Sync", owner=ana)
    saved = client.post(
        f"/rooms/{room.slug}/edit/",
        {"name": "Weekly Sync", "max_participants": 8, "lobby": "off"},
        HTTP_ACCEPT_LANGUAGE=GERMAN,
        follow=True,
    )
    assert "Raumeinstellungen gespeichert." in saved.text
    assert "Wer hereinkommt" in saved.text


def test_the_access_rules_refusal_is_in_the_visitors_language(client, ana, make_user, make_room):
    room = make_room("Weekly Sync", owner=ana, is_locked=True)
    client.force_login(make_user("bob"))
    german = client.get(room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=GERMAN)
    assert german.status_code == 403
    assert "Dieser Raum ist gesperrt" in german.text
    english = client.get(room.get_absolute_url())
    assert "This room is locked. Only its owner and staff can enter right now." in english.text


def test_a_german_guest_is_refused_in_german_over_json(client, make_room):
    room = make_room("Weekly Sync", guests_allowed=True)
    answer = client.post(
        f"/rooms/{room.slug}/guest/",
        {"display_name": "Gast", "invite": "not-the-token"},
        HTTP_ACCEPT_LANGUAGE=GERMAN,
    )
    assert answer.status_code == 403
    assert answer.json()["message"].startswith("Dieser Link lässt keine Gäste ein.")
