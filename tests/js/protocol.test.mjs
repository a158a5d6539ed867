// The client's side of the wire format: frames read from the server, close and error codes
// (one table, matching docs/), the protocol version check, and candidate serialisation.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import {
  candidateToWire,
  CLOSE,
  closeName,
  displayName,
  ERROR,
  FINAL_CLOSE_CODES,
  parseServerFrame,
  protocolFit,
} from "../../static/js/protocol.js";

const ROOT = new URL("../../", import.meta.url);
const DOCS = new URL("docs/", ROOT);

test("a JSON object with a string type is a message", () => {
  assert.deepEqual(parseServerFrame('{"type": "pong"}'), { type: "pong" });
  const welcome = parseServerFrame('{"type": "peer-left", "peer_id": "p1", "reason": "left"}');
  assert.deepEqual(welcome, { type: "peer-left", peer_id: "p1", reason: "left" });
});

test("frames that are not JSON objects with a string type are ignored, not fatal", () => {
  for (const frame of ["", "not json", "null", "5", '"welcome"', "[]", "{}", '{"type": 3}', "{'type': 'x'}"]) {
    assert.equal(parseServerFrame(frame), null, frame);
  }
  assert.equal(parseServerFrame(new ArrayBuffer(4)), null, "binary frames are not part of the protocol");
});

/**
 * The first cells of every table in docs/*.md whose header's first cell matches `header`.
 * @param {RegExp} header
 * @returns {string[]}
 */
function firstColumn(header) {
  const cells = [];
  for (const name of readdirSync(DOCS).filter((file) => file.endsWith(".md"))) {
    let inTable = false;
    for (const line of readFileSync(new URL(name, DOCS), "utf8").split("\n")) {
      const first = line.startsWith("|") ? line.split("|")[1].trim() : null;
      if (first === null) inTable = false;
      else if (header.test(first)) inTable = true;
      else if (inTable && !/^-+$/.test(first)) cells.push(first);
    }
  }
  return cells;
}

test("every close code in the docs' close-code tables has a name in CLOSE", () => {
  const documented = firstColumn(/^close code/).flatMap((cell) => (cell.match(/\d{4}/g) || []).map(Number));
  assert.ok(documented.includes(4410) && documented.includes(4429), `no close-code table: ${documented}`);
  const named = new Set(Object.values(CLOSE));
  const missing = documented.filter((code) => !named.has(code));
  assert.deepEqual(missing, [], "close codes documented in docs/ but missing from protocol.js CLOSE");
});

test("the server's close codes (signaling/wire.py) have the same names and numbers here", () => {
  const wire = readFileSync(new URL("signaling/wire.py", ROOT), "utf8");
  const server = Object.fromEntries(
    [...wire.matchAll(/^CLOSE_([A-Z_]+) = (\d+)$/gm)].map((match) => [match[1], Number(match[2])]),
  );
  assert.ok(server.KICKED === 4410, "no close codes found in signaling/wire.py");
  assert.deepEqual(
    Object.fromEntries(Object.entries(CLOSE).filter(([name]) => name !== "SILENT")),
    server,
    "CLOSE (less the client's own SILENT) differs from the server's close codes",
  );
});

test("every error code the server defines (signaling/wire.py) is in ERROR", () => {
  const wire = readFileSync(new URL("signaling/wire.py", ROOT), "utf8");
  const codes = [...wire.matchAll(/^[A-Z_]+ = "([a-z_]+)"$/gm)].map((match) => match[1]);
  assert.ok(codes.includes("bad_message"), "no error codes found in signaling/wire.py");
  const known = new Set(Object.values(ERROR));
  assert.deepEqual(codes.filter((code) => !known.has(code)), []);
});

test("refusals, kicks, the end of a room, replacement and flooding are final; a swept socket resumes", () => {
  for (const code of [4401, 4403, 4404, 4409, 4410, 4411, 4412, 4413, 4423, 4429]) {
    assert.ok(FINAL_CLOSE_CODES.has(code), String(code));
  }
  for (const code of [CLOSE.LEFT, CLOSE.SILENT, CLOSE.LOST, CLOSE.SEND_BACKLOG, CLOSE.SERVER_ERROR, 1006]) {
    assert.equal(FINAL_CLOSE_CODES.has(code), false, String(code));
  }
});

test("a final close code's name is the error code of the same refusal", () => {
  assert.equal(closeName(CLOSE.ROOM_FULL), ERROR.ROOM_FULL);
  assert.equal(closeName(CLOSE.ROOM_LOCKED), ERROR.ROOM_LOCKED);
  assert.equal(closeName(CLOSE.NOT_AUTHENTICATED), ERROR.NOT_AUTHENTICATED);
  assert.equal(closeName(CLOSE.ROOM_NOT_FOUND), ERROR.ROOM_NOT_FOUND);
  assert.equal(closeName(CLOSE.FORBIDDEN), ERROR.FORBIDDEN);
  assert.equal(closeName(CLOSE.RATE_LIMITED), ERROR.RATE_LIMITED);
  assert.equal(closeName(CLOSE.KICKED), "kicked");
  assert.equal(closeName(1234), "");
});

test("close codes and error codes are each unique", () => {
  const codes = Object.values(CLOSE);
  assert.equal(new Set(codes).size, codes.length);
  const errors = Object.values(ERROR);
  assert.equal(new Set(errors).size, errors.length);
});

test("every error code in the docs' error-code tables is in ERROR", () => {
  // A cell names its code first, in backticks ("`rate_limited` with `ref` `chat`").
  const documented = firstColumn(/^error `code`/).map((cell) => (cell.match(/^`([a-z_]+)`/) || ["", cell])[1]);
  assert.ok(documented.includes("bad_message"), `no error-code table: ${documented}`);
  const known = new Set(Object.values(ERROR));
  assert.deepEqual(documented.filter((code) => !known.has(code)), [], "error codes missing from ERROR");
});

test("the protocol version: same, compatible revision, or incompatible", () => {
  assert.equal(protocolFit(1), "same");
  assert.equal(protocolFit("1"), "same");
  assert.equal(protocolFit(1.2), "compatible");
  assert.equal(protocolFit("1.2"), "compatible");
  assert.equal(protocolFit(2), "incompatible");
  assert.equal(protocolFit(undefined), "incompatible");
  assert.equal(protocolFit(null), "incompatible");
  assert.equal(protocolFit({}), "incompatible");
});

test("a candidate travels as plain JSON with its four fields", () => {
  const candidate = {
    candidate: "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
    sdpMid: "0",
    sdpMLineIndex: 0,
    usernameFragment: "abcd",
    toJSON() {
      throw new Error("not called");
    },
  };
  assert.deepEqual(candidateToWire(/** @type {any} */ (candidate)), {
    candidate: candidate.candidate,
    sdpMid: "0",
    sdpMLineIndex: 0,
    usernameFragment: "abcd",
  });
  assert.equal(candidateToWire(null), null);
});

test("a user is shown by display name, else username, else as Someone", () => {
  assert.equal(displayName({ id: 1, username: "ada", display_name: "Ada L." }), "Ada L.");
  assert.equal(displayName({ id: 1, username: "ada", display_name: "" }), "ada");
  assert.equal(displayName(null), "Someone");
});
