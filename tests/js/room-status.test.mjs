// What the pre-join page says about a room's seats, and whether Join is offered.

import assert from "node:assert/strict";
import { test } from "node:test";

import { seatNotice } from "../../static/js/room-status.js";

const room = { connected: 3, max_participants: 8, full: false, locked: false, seat_for_you: true };

test("a room with seats says how many are in it and offers Join", () => {
  assert.deepEqual(seatNotice(room), { text: "3 of 8 people are in the meeting.", full: false, joinable: true });
  assert.match(seatNotice({ ...room, connected: 0 }).text, /Nobody is in the meeting yet/);
});

test("a full room says so with the count and holds Join back until a seat frees", () => {
  const notice = seatNotice({ ...room, connected: 8, full: true, seat_for_you: false });
  assert.equal(notice.joinable, false);
  assert.equal(notice.full, true);
  assert.match(notice.text, /full \(8 of 8 people\)/);
});

test("a moderator is told the room is full but may still join", () => {
  const notice = seatNotice({ ...room, connected: 8, full: true, seat_for_you: true });
  assert.equal(notice.joinable, true);
  assert.match(notice.text, /full/);
});

test("a room locked against the visitor says so and holds Join back", () => {
  const notice = seatNotice({ ...room, locked: true, seat_for_you: false });
  assert.equal(notice.joinable, false);
  assert.match(notice.text, /locked/);
});
