// Reading back what the browser remembered (static/js/preferences.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { parsePreference } from "../../static/js/preferences.js";

test("nothing stored gives the defaults: auto layout, self view shown and mirrored", () => {
  assert.equal(parsePreference("layout", null), "auto");
  assert.equal(parsePreference("selfView", null), true);
  assert.equal(parsePreference("mirror", null), true);
  assert.equal(parsePreference("camera", null), "");
});

test("stored values come back in their own type", () => {
  assert.equal(parsePreference("layout", "sidebar"), "sidebar");
  assert.equal(parsePreference("mirror", "false"), false);
  assert.equal(parsePreference("camera", "abc123"), "abc123");
});

test("a value no version of the page wrote falls back to the default", () => {
  assert.equal(parsePreference("layout", "mosaic"), "auto");
  assert.equal(parsePreference("selfView", "yes"), true);
});

test("alert sounds, noise suppression and echo cancellation are on unless turned off", () => {
  for (const name of /** @type {const} */ (["alertSounds", "noiseSuppression", "echoCancellation"])) {
    assert.equal(parsePreference(name, null), true);
    assert.equal(parsePreference(name, "false"), false);
  }
});
