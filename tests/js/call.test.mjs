// The call engine's pure rules: how much each camera copy may cost as the mesh grows, and in an
// SFU call which offers are for files only and which tile role each SFU stream plays. Then the
// engine itself in an SFU call, on stand-in WebRTC objects.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  Call,
  cameraEncodingFor,
  isDataOnlyOffer,
  MESH_FALLBACK_MS,
  roleOfStream,
} from "../../static/js/call.js";
import { FakeChannel, FakeConnection, FakeStream, FakeTrack, tick } from "./webrtc-fakes.mjs";

// A peer's state as the server announces it (rooms.models.PEER_STATE_DEFAULT).
const PEER_STATE = { audio: true, video: true, screen: false, hand: false };

test("each camera copy shrinks as the mesh grows", () => {
  assert.deepEqual(cameraEncodingFor(1), { maxBitrate: 1_500_000, scaleResolutionDownBy: 1 });
  assert.deepEqual(cameraEncodingFor(3), { maxBitrate: 800_000, scaleResolutionDownBy: 1.5 });
  assert.deepEqual(cameraEncodingFor(7), { maxBitrate: 450_000, scaleResolutionDownBy: 2 });
});

/** @param {...string} media m-line kinds, e.g. "audio", "application" */
function sdp(...media) {
  const lines = ["v=0", "o=- 4611 2 IN IP4 127.0.0.1", "s=-", "t=0 0"];
  for (const kind of media) {
    const protocol = kind === "application" ? "UDP/DTLS/SCTP webrtc-datachannel" : "UDP/TLS/RTP/SAVPF 111";
    lines.push(`m=${kind} 9 ${protocol}`, "c=IN IP4 0.0.0.0", `a=mid:${kind}`);
  }
  return `${lines.join("\r\n")}\r\n`;
}

test("an offer with only a data channel is a file transfer's connection", () => {
  const offer = { type: "sdp", description: { type: "offer", sdp: sdp("application") } };
  assert.equal(isDataOnlyOffer(offer), true);
});

test("an offer carrying audio or video, an answer, and a candidate are not data-only offers", () => {
  for (const media of [["audio", "video", "application"], ["video", "application"], ["audio"]]) {
    assert.equal(isDataOnlyOffer({ type: "sdp", description: { type: "offer", sdp: sdp(...media) } }), false);
  }
  const answer = { type: "sdp", description: { type: "answer", sdp: sdp("application") } };
  assert.equal(isDataOnlyOffer(answer), false);
  assert.equal(isDataOnlyOffer({ type: "sdp", description: { type: "offer", sdp: "" } }), false);
  assert.equal(isDataOnlyOffer({ type: "ice" }), false);
});

test("each SFU stream plays the tile role its mesh transceiver had", () => {
  const role = (feed, kind) => roleOfStream({ mid: "0", peer_id: "ana", feed, kind });
  assert.equal(role("camera", "audio"), "audio");
  assert.equal(role("camera", "video"), "video");
  assert.equal(role("screen", "video"), "screen");
  assert.equal(role("screen", "audio"), "screen-audio");
});

// --- the engine in an SFU call, on stand-in WebRTC objects -------------------------------------

// One stand-in connection serves both the SFU session's connections and the mesh's; its
// descriptions are never applied and its receivers get no media.
Object.assign(globalThis, { RTCPeerConnection: FakeConnection, MediaStream: FakeStream });

/**
 * A call with us as "a" and the given peers, in a mesh; sent messages are recorded. It ends
 * after the test, passed or failed: its stats timers would keep Node running.
 * @param {import("node:test").TestContext} t
 * @param {string[]} peerIds
 */
function makeCall(t, ...peerIds) {
  /** @type {any[]} */
  const sent = [];
  const media = Object.assign(new EventTarget(), {
    micTrack: null,
    cameraTrack: null,
    screenTrack: null,
    screenAudioTrack: null,
  });
  const call = new Call({
    signaling: /** @type {any} */ ({ send: (message) => sent.push(message) }),
    media: /** @type {any} */ (media),
    iceConfig: { iceServers: [], iceTransportPolicy: "all" },
    resumeWindowMs: 30_000,
    peerStateDefault: PEER_STATE,
  });
  t.after(() => call.end());
  call.selfPeerId = "a";
  const user = { id: 2, username: "bob", display_name: "" };
  for (const peerId of peerIds) {
    call.addPeer({ peer_id: peerId, user, role: "member", state: PEER_STATE }, { offer: true });
  }
  return { call, sent };
}

/**
 * The peer's microphone and camera arrive through the SFU.
 * @param {Call} call
 * @param {string} peerId
 */
function playThroughSfu(call, peerId) {
  for (const kind of /** @type {const} */ (["audio", "video"])) {
    const track = new FakeTrack(kind);
    const stream = { mid: kind, peer_id: peerId, feed: /** @type {const} */ ("camera"), kind };
    call.onSfuTrack(stream, /** @type {any} */ (track), /** @type {any} */ ({ track }));
  }
}

/** @param {string} sdpText */
const offerFrom = (from, sdpText) => ({
  type: /** @type {const} */ ("sdp"),
  from,
  description: { type: /** @type {const} */ ("offer"), sdp: sdpText },
});

test("after the switch to the SFU a mesh connection the peer never releases closes after the fallback", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { call } = makeCall(t, "b");
  const peer = /** @type {RemotePeer} */ (call.peers.get("b"));
  call.setMedia({ mode: "sfu", last_n: 9 });
  playThroughSfu(call, "b");
  t.mock.timers.tick(MESH_FALLBACK_MS - 1);
  assert.equal(peer.hasConnection, true, "the peer has not said its media is covered yet");
  t.mock.timers.tick(1);
  assert.equal(peer.hasConnection, false);
});

test("a file's connection opened after the mesh closed is not closed by the switch's fallback", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { call } = makeCall(t, "b");
  const peer = /** @type {RemotePeer} */ (call.peers.get("b"));
  call.setMedia({ mode: "sfu", last_n: 9 });
  playThroughSfu(call, "b");
  const meshChannel = /** @type {FakeChannel} */ (/** @type {any} */ (peer.pc).meetChannel);
  meshChannel.receive(JSON.stringify({ type: "sfu-covered" }));
  assert.equal(peer.hasConnection, false, "both ends covered: the mesh is gone");

  const files = call.dataConnection(peer);
  t.mock.timers.tick(MESH_FALLBACK_MS);
  assert.notEqual(files.signalingState, "closed", "a file transfer in progress would be cut");
  assert.equal(peer.pc === files, true);
});

test("in an SFU call a peer's offer for files gets a connection, and an offer with media does not", (t) => {
  const { call } = makeCall(t);
  call.setMedia({ mode: "sfu", last_n: 9 });
  const user = { id: 2, username: "bob", display_name: "" };
  call.addPeer({ peer_id: "b", user, role: "member" }, { offer: true });
  const peer = /** @type {RemotePeer} */ (call.peers.get("b"));
  assert.equal(peer.hasConnection, false, "media comes through the SFU");
  call.onSignal(offerFrom("b", sdp("audio", "video", "application")));
  assert.equal(peer.hasConnection, false);
  call.onSignal(offerFrom("b", sdp("application")));
  assert.equal(peer.hasConnection, true);
});

test("in an SFU call with a last-N of one, whoever just spoke is the camera received", async (t) => {
  const { call, sent } = makeCall(t);
  call.setMedia({ mode: "sfu", last_n: 1 });
  const user = { id: 2, username: "bob", display_name: "" };
  for (const peerId of ["b", "c"]) call.addPeer({ peer_id: peerId, user, role: "member" }, { offer: false });
  const feeds = [{ peer_id: "b", feed: "camera" }, { peer_id: "c", feed: "camera" }];
  call.onSfuMessage({ type: "sfu-feeds", feeds: /** @type {any} */ (feeds) });
  call.onSfuMessage({ type: "sfu-offer", sdp: null, streams: [] });
  await tick();
  call.onSfuMessage({ type: "sfu-talking", peer_id: "c", talking: true });
  const subscribed = sent.filter((message) => message.type === "sfu-subscribe").map((message) => message.feeds);
  assert.deepEqual(subscribed, [[feeds[0]], [feeds[1]]]);
});
