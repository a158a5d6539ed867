// IceProvider's schedule on mocked timers and a stand-in fetch: credentials are renewed at 80 %
// of their lifetime, and a failed renewal is retried before the credentials in use expire.

import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

import { IceProvider } from "../../static/js/ice.js";
import { tick } from "./webrtc-fakes.mjs";

const realFetch = globalThis.fetch;

/** Every fetch's time (mocked ms) and the answers to give, in order. */
let requests = [];
let answers = [];

/** A TURN answer whose credentials live `ttl` seconds from the mocked now. */
function credentials(ttl, name = "user") {
  const expires = Date.now() + ttl * 1000;
  return {
    ok: true,
    status: 200,
    json: async () => ({
      username: `${Math.floor(expires / 1000)}:${name}`,
      password: "secret",
      ttl,
      uris: ["turn:127.0.0.1:3478"],
      expires_at: new Date(expires).toISOString(),
      iceServers: [{ urls: "turn:127.0.0.1:3478", username: name, credential: "secret" }],
      iceTransportPolicy: "all",
    }),
  };
}

const REFUSED = { ok: false, status: 500, json: async () => ({}) };

beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_800_000_000_000 });
  // Each failed renewal warns on the console; the tests count requests instead.
  mock.method(console, "warn", () => {});
  requests = [];
  answers = [];
  globalThis.fetch = async () => {
    requests.push(Date.now());
    const answer = answers.shift();
    if (!answer) throw new Error("no answer was set up for this request");
    return typeof answer === "function" ? answer() : answer;
  };
});

afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
  globalThis.fetch = realFetch;
});

/** Moves the mocked clock by `ms`, one second at a time, letting fetches settle in between. */
async function advance(ms) {
  for (let passed = 0; passed < ms; passed += 1000) {
    mock.timers.tick(Math.min(1000, ms - passed));
    await tick(); // the fetch's promises settle before the clock moves on
  }
}

test("credentials are renewed when 80 % of their lifetime has passed", async () => {
  const start = Date.now();
  answers.push(() => credentials(3600), () => credentials(3600, "renewed"));
  const provider = new IceProvider("/api/turn/");
  const first = await provider.get();
  assert.equal(first.iceServers[0].username, "user");

  const changes = [];
  provider.addEventListener("change", (event) => changes.push(event.detail));
  await advance(2880_000 - 1000);
  assert.equal(requests.length, 1, "renewed too early");
  await advance(1000);
  assert.deepEqual(requests.map((at) => at - start), [0, 2880_000]);
  assert.equal(changes.length, 1);
  assert.equal(changes[0].iceServers[0].username, "renewed");
  provider.stop();
});

test("a failed renewal near a short expiry is retried before the credentials expire", async () => {
  const start = Date.now();
  // 40 s credentials are renewed at 32 s; three renewals fail, the fourth works.
  answers.push(() => credentials(40), REFUSED, REFUSED, REFUSED, () => credentials(40, "renewed"));
  const provider = new IceProvider("/api/turn/");
  await provider.get();
  provider.addEventListener("error", () => {});
  await advance(40_000);

  const times = requests.map((at) => at - start);
  assert.equal(times.length, 5, `requests at ${times}`);
  assert.ok(times[4] < 40_000, `the renewal that worked came at ${times[4]} ms, after expiry`);
  // The backoff's 1 s and 3 s steps, then halfway to the expiry instead of its 10 s step.
  assert.deepEqual(times, [0, 32_000, 33_000, 36_000, 38_000]);
  assert.equal(provider.config?.iceServers[0].username, "renewed");
  provider.stop();
});

test("once the credentials expired, a failing endpoint is retried on the plain backoff", async () => {
  const start = Date.now();
  answers.push(() => credentials(40), ...Array(10).fill(REFUSED));
  const provider = new IceProvider("/api/turn/");
  await provider.get();
  await advance(120_000);

  const times = requests.map((at) => at - start);
  // Before expiry: 32, 33, 36, 38, 39 s (never sooner than 1 s apart); after it, 30 s steps.
  assert.deepEqual(times.slice(0, 5), [0, 32_000, 33_000, 36_000, 38_000]);
  const gaps = times.slice(1).map((at, index) => at - times[index]);
  assert.ok(gaps.every((gap) => gap >= 1000), `retries closer than 1 s: ${gaps}`);
  const afterExpiry = times.filter((at) => at > 40_000);
  assert.ok(afterExpiry.length >= 2, `requests at ${times}`);
  for (let index = 1; index < afterExpiry.length; index += 1) {
    assert.equal(afterExpiry[index] - afterExpiry[index - 1], 30_000);
  }
  assert.ok(times.length <= 10, `${times.length} requests in two minutes`);
  provider.stop();
});

test("stop() ends the renewals", async () => {
  answers.push(() => credentials(40));
  const provider = new IceProvider("/api/turn/");
  await provider.get();
  provider.stop();
  await advance(100_000);
  assert.equal(requests.length, 1);
});
