// One RemotePeer's ICE restart policy end to end, on a stand-in RTCPeerConnection and mocked
// timers: the impolite side restarts at once and again with backoff while the connection stays
// broken; the polite side leaves it to the other (docs/client.md, "Only the impolite side").

import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

// A peer's state as the server announces it (rooms.models.PEER_STATE_DEFAULT).
const PEER_STATE = { audio: true, video: true, screen: false, hand: false };

class FakeConnection extends EventTarget {
  constructor() {
    super();
    /** @type {RTCPeerConnectionState} */
    this.connectionState = "new";
    this.signalingState = "stable";
    this.restarts = 0;
    this.closed = false;
  }
  restartIce() {
    this.restarts += 1;
  }
  getTransceivers() {
    return [];
  }
  close() {
    this.closed = true;
  }
  /** @param {RTCPeerConnectionState} state */
  become(state) {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}

class FakeStream {
  getAudioTracks() {
    return [];
  }
  getVideoTracks() {
    return [];
  }
}

// The browser globals peer.js uses when a peer is made; importing it needs none of them.
Object.assign(globalThis, { RTCPeerConnection: FakeConnection, MediaStream: FakeStream });
const { RemotePeer } = await import("../../static/js/peer.js");

/** @param {boolean} polite */
function makePeer(polite) {
  const updates = [];
  const peer = new RemotePeer(
    { peer_id: "remote", user: { id: 2, username: "bob", display_name: "" }, role: "member", state: PEER_STATE },
    {
      polite,
      send: () => {},
      localTrack: () => null,
      onUpdate: () => updates.push(peer.pc.connectionState),
      onConnected: () => {},
      onDataChannel: () => {},
    },
  );
  peer.connect({ iceServers: [], iceTransportPolicy: "all" });
  return { peer, pc: /** @type {FakeConnection} */ (/** @type {unknown} */ (peer.pc)), updates };
}

beforeEach(() => {
  try {
    mock.timers.enable({ apis: ["setTimeout"] });
  } catch {
    // Node before 20.11 (Debian 12 ships 18.19) takes the list of timers itself.
    mock.timers.enable(/** @type {any} */ (["setTimeout"]));
  }
  mock.method(console, "info", () => {});
});

afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
});

test("a peer made without a state gets the default one", () => {
  const { peer } = makePeer(false);
  assert.deepEqual(peer.state, { audio: true, video: true, screen: false, hand: false });
});

test("the impolite side restarts a failed connection at once, then after 4, 8 and 16 s", () => {
  const { pc } = makePeer(false);
  pc.become("failed");
  assert.equal(pc.restarts, 1);
  mock.timers.tick(3999);
  assert.equal(pc.restarts, 1);
  mock.timers.tick(1);
  assert.equal(pc.restarts, 2);
  mock.timers.tick(8000);
  assert.equal(pc.restarts, 3);
  mock.timers.tick(16_000);
  assert.equal(pc.restarts, 4);
  mock.timers.tick(20_000);
  assert.equal(pc.restarts, 5, "the wait stops growing at 20 s");
});

test("restarts stop once the connection is back, and start again from 4 s after the next break", () => {
  const { pc } = makePeer(false);
  pc.become("failed");
  mock.timers.tick(4000);
  assert.equal(pc.restarts, 2);
  pc.become("connected");
  mock.timers.tick(60_000);
  assert.equal(pc.restarts, 2);
  pc.become("failed");
  assert.equal(pc.restarts, 3);
  mock.timers.tick(4000);
  assert.equal(pc.restarts, 4);
});

test("a connection disconnected for 5 s is restarted; one that recovers sooner is not", () => {
  const { pc } = makePeer(false);
  pc.become("disconnected");
  mock.timers.tick(4999);
  pc.become("connected");
  mock.timers.tick(10_000);
  assert.equal(pc.restarts, 0);
  pc.become("disconnected");
  mock.timers.tick(5000);
  assert.equal(pc.restarts, 1);
});

test("the polite side does not restart a connection that just broke; it waits for the other's offer", () => {
  const { pc } = makePeer(true);
  pc.become("failed");
  mock.timers.tick(30_000);
  assert.equal(pc.restarts, 0);
});

test("a closed peer never restarts again", () => {
  const { peer, pc } = makePeer(false);
  pc.become("failed");
  peer.close();
  mock.timers.tick(60_000);
  assert.equal(pc.restarts, 1);
  assert.equal(pc.closed, true);
});
