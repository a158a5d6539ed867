// The one retry policy of the page, and the three policies built on it: signaling reconnects,
// ICE restarts and TURN credential fetches.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Backoff, backoffDelay } from "../../static/js/backoff.js";
import { TURN_RETRY_BACKOFF } from "../../static/js/ice.js";
import { ICE_RESTART_BACKOFF } from "../../static/js/peer.js";
import { RECONNECT_BACKOFF } from "../../static/js/signaling.js";

/** @param {import("../../static/js/backoff.js").BackoffPolicy} policy */
function series(policy, count, random = () => 0.5) {
  const backoff = new Backoff(policy, random);
  return Array.from({ length: count }, () => backoff.next());
}

test("an exponential policy doubles from its first delay and stays at its cap", () => {
  assert.deepEqual(series({ initialMs: 100, factor: 2, maxMs: 1000 }, 6), [100, 200, 400, 800, 1000, 1000]);
});

test("a table of steps is followed, and its last step repeats", () => {
  assert.deepEqual(series({ stepsMs: [5, 50, 500] }, 5), [5, 50, 500, 500, 500]);
});

test("jitter spreads a delay over plus or minus its fraction, and never beyond", () => {
  const policy = { initialMs: 1000, jitter: 0.2 };
  assert.equal(backoffDelay(policy, 0, () => 0), 800);
  assert.equal(backoffDelay(policy, 0, () => 0.5), 1000);
  assert.ok(Math.abs(backoffDelay(policy, 0, () => 0.999999) - 1200) < 0.01);
});

test("reset starts the series again; delay() looks without counting", () => {
  const backoff = new Backoff({ initialMs: 10, factor: 3 });
  assert.equal(backoff.delay(), 10);
  assert.equal(backoff.delay(), 10);
  backoff.next();
  backoff.advance();
  assert.equal(backoff.delay(), 90);
  backoff.reset();
  assert.equal(backoff.next(), 10);
});

test("signaling reconnects after 250 ms doubling to 4 s, each within ±20 %", () => {
  assert.deepEqual(series(RECONNECT_BACKOFF, 7), [250, 500, 1000, 2000, 4000, 4000, 4000]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const low = backoffDelay(RECONNECT_BACKOFF, attempt, () => 0);
    const high = backoffDelay(RECONNECT_BACKOFF, attempt, () => 0.999999);
    assert.ok(low >= 200 && high <= 4800, `attempt ${attempt}: ${low}–${high}`);
  }
});

test("a broken connection's ICE restarts repeat after 4 s, doubling to 20 s, without jitter", () => {
  assert.deepEqual(series(ICE_RESTART_BACKOFF, 5, Math.random), [4000, 8000, 16_000, 20_000, 20_000]);
});

test("a failed TURN fetch is retried after 1 s, 3 s, 10 s, then every 30 s", () => {
  assert.deepEqual(series(TURN_RETRY_BACKOFF, 6, Math.random), [1000, 3000, 10_000, 30_000, 30_000, 30_000]);
});
