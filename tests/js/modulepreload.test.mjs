// The room page asks for every module at once (modulepreload) instead of discovering the import
// graph level by level, and for every stylesheet of css/room/: a module or a stylesheet added
// without its line in the template would load late, or not at all.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

const ROOT = new URL("../../", import.meta.url);
const template = readFileSync(new URL("templates/rooms/room.html", ROOT), "utf8");

/** @param {URL} directory @param {string} extension @returns {string[]} paths relative to it */
function filesUnder(directory, extension) {
  return readdirSync(directory, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith(extension))
    .sort();
}

test("every module in static/js is preloaded by the room page", () => {
  const preloaded = [...template.matchAll(/rel="modulepreload" href="\{% static 'js\/([^']+)' %\}"/g)].map(
    (match) => match[1],
  );
  // Entry points of other pages (the room settings page's Copy button) are not the room's.
  const otherPages = ["room-edit.js"];
  const modules = filesUnder(new URL("static/js/", ROOT), ".js").filter((name) => !otherPages.includes(name));
  assert.deepEqual(modules.filter((name) => !preloaded.includes(name)), []);
  assert.deepEqual(preloaded.filter((name) => !modules.includes(name)), [], "preloads of missing modules");
});

test("every stylesheet in static/css/room/ is linked by the room page", () => {
  const linked = [...template.matchAll(/rel="stylesheet" href="\{% static 'css\/room\/([^']+)' %\}"/g)].map(
    (match) => match[1],
  );
  assert.deepEqual(filesUnder(new URL("static/css/room/", ROOT), ".css").sort(), [...linked].sort());
});
