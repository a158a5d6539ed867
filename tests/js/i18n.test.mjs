// The browser code's translations: English without Django's catalog, the catalog's words with
// it, and named placeholders filled in whatever order a language puts them.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { format, t, tn } from "../../static/js/i18n.js";
import { endingForKicked, peerJoinedToast } from "../../static/js/session.js";

// A few entries of the German catalog, as Django's /jsi18n/ would define them.
const GERMAN = {
  "%(name)s joined.": "%(name)s ist dazugekommen.",
  "You were removed from the meeting by %(name)s.": "%(name)s hat Sie aus der Besprechung entfernt.",
  "Reason: %(reason)s": "Grund: %(reason)s",
  "%(count)s person wants to join": ["%(count)s Person möchte teilnehmen", "%(count)s Personen möchten teilnehmen"],
};

function installCatalog() {
  globalThis.gettext = (/** @type {string} */ text) => {
    const found = GERMAN[text];
    return typeof found === "string" ? found : text;
  };
  globalThis.ngettext = (/** @type {string} */ singular, /** @type {string} */ plural, /** @type {number} */ count) => {
    const found = GERMAN[singular];
    if (Array.isArray(found)) return found[count === 1 ? 0 : 1];
    return count === 1 ? singular : plural;
  };
}

afterEach(() => {
  delete globalThis.gettext;
  delete globalThis.ngettext;
});

test("without the catalog every string is its English self", () => {
  assert.equal(t("Join now"), "Join now");
  assert.equal(tn("%(count)s person wants to join", "%(count)s people want to join", 1), "%(count)s person wants to join");
  assert.equal(tn("%(count)s person wants to join", "%(count)s people want to join", 3), "%(count)s people want to join");
  assert.equal(peerJoinedToast({ name: "Ana", known: false, wasLost: false, resumed: false }), "Ana joined.");
});

test("with the catalog the page's language is used, read when a string is needed", () => {
  installCatalog();
  assert.equal(format(t("%(name)s joined."), { name: "Ana" }), "Ana ist dazugekommen.");
  assert.equal(t("Not in the catalog"), "Not in the catalog");
  const count = 3;
  assert.equal(
    format(tn("%(count)s person wants to join", "%(count)s people want to join", count), { count }),
    "3 Personen möchten teilnehmen",
  );
  // Modules that build sentences get them whole from the catalog, placeholders moved and all.
  assert.equal(
    endingForKicked({ by: { id: 1, username: "ana", display_name: "Ana" }, reason: "Spam" }).text,
    "Ana hat Sie aus der Besprechung entfernt. Grund: Spam",
  );
});

test("format fills named placeholders, repeated or reordered, and leaves unknown ones", () => {
  assert.equal(format("%(b)s, then %(a)s and %(b)s again", { a: "A", b: 2 }), "2, then A and 2 again");
  assert.equal(format("%(missing)s stays", {}), "%(missing)s stays");
  assert.equal(format("50% done, %(name)s", { name: "Ana" }), "50% done, Ana");
  // A value is inserted as text, never read as another placeholder.
  assert.equal(format("%(a)s", { a: "%(b)s", b: "no" }), "%(b)s");
});
