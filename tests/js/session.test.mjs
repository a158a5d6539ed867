// What server frames and close codes mean for the room page: endings, toasts, welcome kinds.

import assert from "node:assert/strict";
import { test } from "node:test";

import { CLOSE } from "../../static/js/protocol.js";
import {
  endingForClose,
  endingForKicked,
  endingForRoomEnded,
  peerJoinedToast,
  peerLeftToast,
  welcomeKind,
} from "../../static/js/session.js";

const ana = { id: 1, username: "ana", display_name: "Ana" };

test("a kick or the end of the room by close code ends the call in its own state", () => {
  assert.deepEqual(endingForClose({ code: CLOSE.KICKED, message: "", maxParticipants: 8 }), {
    state: "kicked",
    kind: "kicked",
    text: "You were removed from the meeting.",
  });
  assert.deepEqual(endingForClose({ code: CLOSE.ROOM_ENDED, message: "", maxParticipants: 8 }), {
    state: "ended",
    kind: "room-ended",
    text: "The meeting has ended.",
  });
});

test("refusals get their own notice kind; the server's message wins over the generic text", () => {
  const full = endingForClose({ code: CLOSE.ROOM_FULL, message: "", maxParticipants: 6 });
  assert.deepEqual(full, { state: "refused", kind: "full", text: "This meeting is full (6 people)." });
  const locked = endingForClose({ code: CLOSE.ROOM_LOCKED, message: "Locked by the owner.", maxParticipants: 6 });
  assert.deepEqual(locked, { state: "refused", kind: "locked", text: "Locked by the owner." });
  assert.equal(endingForClose({ code: CLOSE.REPLACED, message: "", maxParticipants: 6 }).kind, "replaced");
  assert.equal(endingForClose({ code: CLOSE.RATE_LIMITED, message: "", maxParticipants: 6 }).kind, "rate-limited");
});

test("any other final code is a plain refusal", () => {
  assert.deepEqual(endingForClose({ code: CLOSE.FORBIDDEN, message: "", maxParticipants: 8 }), {
    state: "refused",
    kind: "refused",
    text: "You cannot join this meeting.",
  });
});

test("a kicked frame names who removed us, why, and whether it is a ban", () => {
  assert.equal(endingForKicked({}).text, "You were removed from the meeting.");
  assert.equal(
    endingForKicked({ by: ana, reason: "spam" }).text,
    "You were removed from the meeting by Ana. Reason: spam",
  );
  assert.equal(endingForKicked({ by: ana, banned: true }).text, "You were banned from this room by Ana.");
  assert.equal(endingForKicked({}).state, "kicked");
});

test("a room-ended frame names who ended it, else the host", () => {
  assert.equal(endingForRoomEnded({ by: ana }).text, "Ana ended the meeting for everyone.");
  assert.deepEqual(endingForRoomEnded({}), {
    state: "ended",
    kind: "room-ended",
    text: "The host ended the meeting for everyone.",
  });
});

test("newcomers and peers back from a lost connection are announced; a quiet resume is not", () => {
  assert.equal(peerJoinedToast({ name: "Ana", known: false, wasLost: false, resumed: false }), "Ana joined.");
  assert.equal(peerJoinedToast({ name: "Ana", known: true, wasLost: true, resumed: true }), "Ana is back.");
  assert.equal(peerJoinedToast({ name: "Ana", known: true, wasLost: false, resumed: true }), null);
  assert.equal(peerJoinedToast({ name: "Ana", known: false, wasLost: false, resumed: true }), null);
});

test("a peer leaving is told by its reason", () => {
  assert.equal(peerLeftToast("Ana", "kicked"), "Ana was removed from the meeting.");
  assert.equal(peerLeftToast("Ana", "connection-lost"), "Ana lost their connection…");
  assert.equal(peerLeftToast("Ana", "left"), "Ana left.");
});

test("a welcome is the first, a resume of the same peer, or a new session", () => {
  const welcome = (peerId) => /** @type {any} */ ({ type: "welcome", self: { peer_id: peerId } });
  assert.equal(welcomeKind("", welcome("p1")), "first");
  assert.equal(welcomeKind("p1", welcome("p1")), "resumed");
  assert.equal(welcomeKind("p1", welcome("p2")), "new-session");
});
