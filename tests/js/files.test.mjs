// The receiver's file-name rule: whatever name a peer sends, what reaches the page and the
// download attribute is one plain file name (the browser tests send the hostile ones for real).

import assert from "node:assert/strict";
import { test } from "node:test";

import { RECEIVED_FILE_TYPE, sanitizeFileName } from "../../static/js/files.js";

/** @type {[unknown, string][]} */
const CASES = [
  ["report.pdf", "report.pdf"],
  ["../../etc/passwd", "passwd"],
  ["C:\\Users\\ana\\notes.txt", "notes.txt"],
  ["../../evil\u202etxt.html", "eviltxt.html"],
  ["\u2066a\u2069b\u200f\u200b.txt", "ab.txt"],
  ["tab\there\nnew\u0000line\u007f\u0085.txt", "tabherenewline.txt"],
  [".bashrc", "bashrc"],
  ["..", "file"],
  ["...", "file"],
  ["", "file"],
  ["   ", "file"],
  ["/", "file"],
  ["dir/", "file"],
  [null, "file"],
  [42, "file"],
  ["CON", "_CON"],
  ["nul.txt", "_nul.txt"],
  ["nul .txt", "_nul .txt"],
  ["auxiliary.txt", "auxiliary.txt"],
  ["com1.tar.gz", "_com1.tar.gz"],
  ["LPT9", "_LPT9"],
  ["console.txt", "console.txt"],
  ['a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"],
  ["trailing. . ", "trailing"],
  ["Cafe\u0301.txt", "Café.txt"],
];

for (const [raw, expected] of CASES) {
  test(`${JSON.stringify(raw)} is offered as ${JSON.stringify(expected)}`, () => {
    assert.equal(sanitizeFileName(raw), expected);
  });
}

test("a long name is cut to 120 characters and keeps its extension", () => {
  const name = sanitizeFileName(`${"x".repeat(300)}.html`);
  assert.equal(name, `${"x".repeat(115)}.html`);
});

test("a long name is cut by characters, never inside a surrogate pair", () => {
  const name = sanitizeFileName("\u{1F600}".repeat(200));
  assert.deepEqual(Array.from(name), Array(120).fill("\u{1F600}"));
});

test("an extension too long to be one is cut with the rest", () => {
  const name = sanitizeFileName(`a.${"e".repeat(300)}`);
  assert.equal(Array.from(name).length, 120);
  assert.ok(name.startsWith("a.e"));
});

test("received files are saved as plain bytes whatever type the sender named", () => {
  assert.equal(RECEIVED_FILE_TYPE, "application/octet-stream");
});
