"""The translation catalogs: complete, compiled, and in step with the code.

Each language's locale/<code>/LC_MESSAGES/django.po (templates and Python) and djangojs.po
(static/js) must translate every string, with no fuzzy guesses, and keep every placeholder; the
.mo files beside them are what the server reads (a machine without GNU gettext cannot compile
them), so they must say exactly what the .po files say. With gettext's tools at hand,
makemessages must find no string the catalogs lack.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from tests.support.tools import require

LOCALE_DIR = settings.BASE_DIR / "locale"
DOMAINS = ("django", "djangojs")
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
CATALOGS = [(code, domain) for code in TRANSLATED for domain in DOMAINS]
# Python's %(name)s and %(name)d, str.format's {name}.
PLACEHOLDER = re.compile(r"%\([A-Za-z_]+\)[sd]|\{[A-Za-z_]+\}")


def po_path(code: str, domain: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{domain}.po"


def entries(catalog) -> dict[tuple[str, str, str], object]:
    """Every translation of a .po or .mo file, by context, message and plural."""
    table = {}
    for entry in catalog:
        if entry.obsolete or not entry.msgid:
            continue
        key = (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")
        table[key] = (
            tuple(sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
        )
    return table


def test_every_language_besides_english_has_both_catalogs():
    assert TRANSLATED == ["de"]
    for code, domain in CATALOGS:
        assert po_path(code, domain).exists(), (code, domain)


@pytest.mark.parametrize(("code", "domain"), CATALOGS)
def test_every_string_is_translated_and_none_is_fuzzy(code, domain):
    po = polib.pofile(str(po_path(code, domain)))
    assert po.metadata["Language"] == code
    assert po.metadata["Plural-Forms"].startswith("nplurals=2;")
    assert len(po) > 100
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []
    for entry in po:
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            assert sorted(forms) == [0, 1] and all(forms.values()), entry.msgid


@pytest.mark.parametrize(("code", "domain"), CATALOGS)
def test_translations_keep_every_placeholder(code, domain):
    for entry in polib.pofile(str(po_path(code, domain))):
        wanted = sorted(set(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid)))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for translation in translations:
            assert sorted(set(PLACEHOLDER.findall(translation))) == wanted, entry.msgid


@pytest.mark.parametrize(("code", "domain"), CATALOGS)
def test_the_committed_mo_file_is_the_po_file_compiled(code, domain, tmp_path):
    po = polib.pofile(str(po_path(code, domain)))
    compiled = tmp_path / f"{domain}.mo"
    po.save_as_mofile(str(compiled))
    committed = po_path(code, domain).with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing: run ./run manage compilemessages"
    expected = entries(polib.mofile(str(compiled)))
    assert entries(polib.mofile(str(committed))) == expected, (
        f"{committed.name} does not match {po_path(code, domain).name}: "
        "run ./run manage compilemessages"
    )
    assert len(expected) == len(entries(po))


def test_the_server_reads_the_committed_catalogs():
    from django.utils import translation

    with translation.override("de"):
        assert translation.gettext("Join now") == "Jetzt teilnehmen"
        assert translation.pgettext("layout", "Speaker") == "Sprecher"
        minutes = translation.ngettext("%(count)d minute", "%(count)d minutes", 2)
        assert minutes == "%(count)d Minuten"


# t("...") and tn("...", "...", n): the names static/js/i18n.js exports for gettext and ngettext.
JS_CALL = re.compile(r"\b(tn?)\(\s*(\"(?:[^\"\\\n]|\\.)*\"|[^\s)])")


def test_the_browser_code_translates_only_literal_strings_the_catalog_has():
    """What makemessages finds in static/js depends on each call naming a literal string."""
    known = {entry.msgid for entry in polib.pofile(str(po_path("de", "djangojs")))}
    calls = 0
    for path in sorted((settings.BASE_DIR / "static" / "js").rglob("*.js")):
        if path.name == "i18n.js":
            continue
        for name, argument in JS_CALL.findall(path.read_text()):
            calls += 1
            assert argument.startswith('"'), f"{path.name}: {name}() of a non-literal {argument}"
            text = argument[1:-1].replace('\\"', '"')
            assert text in known, f"{path.name}: {text!r} is not in djangojs.po"
    assert calls > 150


@pytest.mark.slow
@pytest.mark.parametrize("domain", DOMAINS)
def test_makemessages_finds_no_string_the_catalog_lacks(domain, tmp_path, settings, monkeypatch):
    tools = ("xgettext", "msguniq", "msgmerge", "msgattrib")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    require("GNU gettext", not missing, f"{', '.join(missing)} not found (Debian: gettext)")
    # makemessages is run on a copy of the catalog, from a tree that links the project's
    # sources, so nothing in the checkout is rewritten.
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("accounts", "rooms", "signaling", "meet", "templates", "static"):
        (tree / name).symlink_to(settings.BASE_DIR / name, target_is_directory=True)
    copy = tmp_path / "locale"
    (copy / "de" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(po_path("de", domain), copy / "de" / "LC_MESSAGES")
    settings.LOCALE_PATHS = [copy]
    monkeypatch.chdir(tree)
    call_command("makemessages", locale=["de"], domain=domain, symlinks=True, verbosity=0)
    after = polib.pofile(str(copy / "de" / "LC_MESSAGES" / f"{domain}.po"))
    assert [entry.msgid for entry in after.untranslated_entries()] == [], (
        f"strings missing from {domain}.po: run ./run manage makemessages -l de -d {domain}"
    )
    assert [entry.msgid for entry in after.fuzzy_entries()] == []
    assert [entry.msgid for entry in after.obsolete_entries()] == [], (
        f"{domain}.po holds strings the code no longer has"
    )
    assert entries(after) == entries(polib.pofile(str(po_path("de", domain))))
