// The pure rules of the call alerts (static/js/ui/alerts.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { chatPreview, joinSoundWanted, loudestFrameRms, tabTitle } from "../../static/js/ui/alerts.js";

test("the join sound plays only while the call has four people or fewer, as in Meet", () => {
  assert.equal(joinSoundWanted(2), true);
  assert.equal(joinSoundWanted(4), true);
  assert.equal(joinSoundWanted(5), false);
});

test("the chat preview names the sender and keeps the first 60 characters on one line", () => {
  assert.equal(chatPreview("Bob", "hi\nthere"), "Bob: hi there");
  const long = "a".repeat(59) + " " + "b".repeat(20);
  assert.equal(chatPreview("Bob", long), `Bob: ${"a".repeat(59)}…`);
  assert.equal(chatPreview("Bob", "x".repeat(60)), `Bob: ${"x".repeat(60)}`);
  // Counted in characters, not UTF-16 units: an emoji is never cut in half.
  assert.equal(chatPreview("Bob", "😀".repeat(61)), `Bob: ${"😀".repeat(60)}…`);
});

test("the tab title shows unread messages and raised hands, and nothing when there are none", () => {
  assert.equal(tabTitle("Weekly Sync", { unread: 0, hands: 0 }), "Weekly Sync");
  assert.equal(tabTitle("Weekly Sync", { unread: 2, hands: 0 }), "(2) Weekly Sync");
  assert.equal(tabTitle("Weekly Sync", { unread: 2, hands: 1 }), "✋ (2) Weekly Sync");
  assert.equal(tabTitle("Weekly Sync", { unread: 0, hands: 3 }), "✋ Weekly Sync");
});

test("a short loud sound counts at full strength, not diluted by the silence around it", () => {
  const samples = new Float32Array(4096);
  // A 10 ms beep (480 samples at 48 kHz) at amplitude 0.1 inside 85 ms of silence.
  for (let index = 960; index < 1440; index += 1) samples[index] = index % 2 ? 0.1 : -0.1;
  assert.ok(Math.abs(loudestFrameRms(samples, 480) - 0.1) < 1e-6);
  assert.equal(loudestFrameRms(new Float32Array(4096), 480), 0);
});

test("a buffer shorter than a frame is one frame", () => {
  assert.ok(Math.abs(loudestFrameRms(new Float32Array([0.5, -0.5]), 480) - 0.5) < 1e-6);
});
