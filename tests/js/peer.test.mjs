// The decisions of one peer's negotiation, as pure functions: who is polite, which offers
// collide and are ignored, and which side restarts ICE after a break.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ICE_RESTART_BACKOFF,
  isBroken,
  isOfferCollision,
  isPolite,
  mayRestartIce,
  POLITE_RESTART_AFTER_MS,
  shouldIgnoreOffer,
  TRANSCEIVER_ROLES,
} from "../../static/js/peer.js";

test("exactly one side of every pair is polite: the one with the smaller peer id", () => {
  assert.equal(isPolite("a1", "b2"), true);
  assert.equal(isPolite("b2", "a1"), false);
  assert.notEqual(isPolite("4f1c", "4f1d"), isPolite("4f1d", "4f1c"));
});

test("an offer collides while we are making one or are not stable", () => {
  const offer = (makingOffer, signalingState) =>
    isOfferCollision({ descriptionType: "offer", makingOffer, signalingState });
  assert.equal(offer(false, "stable"), false);
  assert.equal(offer(true, "stable"), true);
  assert.equal(offer(false, "have-local-offer"), true);
  assert.equal(offer(false, "have-remote-offer"), true);
});

test("an answer never collides, whatever our state", () => {
  for (const signalingState of ["stable", "have-local-offer"]) {
    assert.equal(isOfferCollision({ descriptionType: "answer", makingOffer: true, signalingState }), false);
  }
});

test("only the impolite side ignores a colliding offer; the polite side rolls back and answers", () => {
  assert.equal(shouldIgnoreOffer({ polite: false, collision: true }), true);
  assert.equal(shouldIgnoreOffer({ polite: true, collision: true }), false);
  assert.equal(shouldIgnoreOffer({ polite: false, collision: false }), false);
});

test("the impolite side restarts ICE at once", () => {
  assert.equal(mayRestartIce({ polite: false, now: 1000, lastRestartNews: 1000 }), true);
});

test("the polite side waits 40 s without an offer from the other before restarting itself", () => {
  assert.equal(POLITE_RESTART_AFTER_MS, 40_000);
  const broke = 5000;
  assert.equal(mayRestartIce({ polite: true, now: broke, lastRestartNews: broke }), false);
  assert.equal(mayRestartIce({ polite: true, now: broke + 39_999, lastRestartNews: broke }), false);
  assert.equal(mayRestartIce({ polite: true, now: broke + 40_000, lastRestartNews: broke }), true);
});

test("the polite side's wait outlasts the impolite side's longest pause between restarts", () => {
  // Otherwise both would restart within one interval and their offers could cross (glare).
  assert.ok(POLITE_RESTART_AFTER_MS > /** @type {number} */ (ICE_RESTART_BACKOFF.maxMs));
});

test("failed and disconnected connections are broken; the others are not", () => {
  assert.equal(isBroken("failed"), true);
  assert.equal(isBroken("disconnected"), true);
  for (const state of ["new", "connecting", "connected", "closed"]) assert.equal(isBroken(state), false);
});

test("transceivers keep their fixed order: microphone, camera, screen, screen audio", () => {
  assert.deepEqual(TRANSCEIVER_ROLES, ["audio", "video", "screen", "screen-audio"]);
});
