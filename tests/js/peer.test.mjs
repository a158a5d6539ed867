// The decisions of one peer's negotiation, as pure functions: who is polite, which offers
// collide and are ignored, and which side restarts ICE after a break. Then, on stand-in WebRTC
// objects, how a peer's media moves from the mesh to the SFU (make-before-break).

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ICE_RESTART_BACKOFF,
  isBroken,
  isOfferCollision,
  isPolite,
  mayRestartIce,
  POLITE_RESTART_AFTER_MS,
  RemotePeer,
  shouldIgnoreOffer,
  TRANSCEIVER_ROLES,
} from "../../static/js/peer.js";
import { FakeChannel, FakeConnection, FakeStream, FakeTrack } from "./webrtc-fakes.mjs";

// A peer's state as the server announces it (rooms.models.PEER_STATE_DEFAULT).
const PEER_STATE = { audio: true, video: true, screen: false, hand: false };

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

// --- a peer in a call that moved to the SFU (issue #11), on stand-in WebRTC objects ------------

/** A mesh connection that is up and whose receivers' tracks play media, unless a test mutes one. */
class FakeMeshConnection extends FakeConnection {
  connectionState = "connected";
  receiversMuted = false;
}

/** A peer with a mesh connection playing the peer's microphone and camera. */
function meshPeer() {
  Object.assign(globalThis, { RTCPeerConnection: FakeMeshConnection, MediaStream: FakeStream });
  let updates = 0;
  const peer = new RemotePeer(
    { peer_id: "remote", user: { id: 2, username: "bob", display_name: "" }, role: "member", state: PEER_STATE },
    {
      polite: false,
      send: () => {},
      localTrack: () => null,
      onUpdate: () => {
        updates += 1;
      },
      onConnected: () => {},
      onDataChannel: () => {},
    },
  );
  peer.connect({ iceServers: [], iceTransportPolicy: "all" });
  peer.startOffer();
  const pc = /** @type {FakeMeshConnection} */ (/** @type {unknown} */ (peer.pc));
  pc.playAll();
  const [audio, video] = pc.transceivers.map((transceiver) => transceiver.receiver.track);
  // Nobody shares a screen: those receivers get no media.
  for (const transceiver of pc.transceivers.slice(2)) transceiver.receiver.track.muted = true;
  const channel = /** @type {FakeChannel} */ (pc.meetChannel);
  return { peer, pc, channel, mesh: { audio, video }, updates: () => updates };
}

/** @param {"audio" | "video"} kind */
function sfuReceiver(kind, { muted = true } = {}) {
  return /** @type {any} */ ({ track: new FakeTrack(kind, { muted }) });
}

test("an SFU track replaces the mesh's at once when the mesh's carries no media", () => {
  const { peer, mesh } = meshPeer();
  mesh.video.muted = true;
  const receiver = sfuReceiver("video");
  peer.adoptSfuTrack("video", receiver.track, receiver);
  assert.deepEqual(peer.cameraStream.getVideoTracks(), [receiver.track]);
  assert.deepEqual(peer.cameraStream.getAudioTracks(), [mesh.audio], "the microphone still comes by the mesh");
  assert.equal(peer.viaSfu, true);
});

test("while the mesh's track plays, the SFU's replaces it only once it unmutes", () => {
  const { peer, mesh, updates } = meshPeer();
  const receiver = sfuReceiver("video");
  peer.adoptSfuTrack("video", receiver.track, receiver);
  assert.deepEqual(peer.cameraStream.getVideoTracks(), [mesh.video], "no frozen tile meanwhile");
  assert.equal(peer.viaSfu, false);
  const before = updates();
  receiver.track.unmute();
  assert.deepEqual(peer.cameraStream.getVideoTracks(), [receiver.track]);
  assert.equal(peer.viaSfu, true);
  assert.ok(updates() > before, "the tile is told");
});

test("a covered mesh says so once on the meet channel, and closes only when the peer is covered too", () => {
  const { peer, pc, channel } = meshPeer();
  const audio = sfuReceiver("audio", { muted: false });
  peer.adoptSfuTrack("audio", audio.track, audio);
  assert.deepEqual(channel.sent, [], "the camera still comes by the mesh only");
  const video = sfuReceiver("video", { muted: false });
  peer.adoptSfuTrack("video", video.track, video);
  assert.deepEqual(channel.sent, [JSON.stringify({ type: "sfu-covered" })]);
  peer.dropMeshIfCovered();
  assert.equal(channel.sent.length, 1, "said once");
  assert.equal(peer.hasConnection, true, "the peer may still need the mesh to see us");

  channel.receive(JSON.stringify({ type: "sfu-covered" }));
  assert.equal(peer.hasConnection, false);
  assert.equal(pc.signalingState, "closed");
});

test("when the peer is covered first, the mesh closes as soon as this side is covered too", () => {
  const { peer, channel } = meshPeer();
  channel.receive(JSON.stringify({ type: "sfu-covered" }));
  assert.equal(peer.hasConnection, true);
  for (const kind of /** @type {const} */ (["audio", "video"])) {
    const receiver = sfuReceiver(kind, { muted: false });
    peer.adoptSfuTrack(kind, receiver.track, receiver);
  }
  assert.equal(peer.hasConnection, false);
});

test("the peer's connection state, audio and link statistics follow the SFU once its media does", () => {
  const { peer, pc } = meshPeer();
  peer.sfuState = "connecting";
  assert.equal(peer.connectionState, "connected");
  assert.equal(peer.audioReceiver(), pc.transceivers[0].receiver);
  assert.equal(peer.linkStatsSource(), pc);
  const audio = sfuReceiver("audio", { muted: false });
  const video = sfuReceiver("video", { muted: false });
  peer.adoptSfuTrack("audio", audio.track, audio);
  peer.adoptSfuTrack("video", video.track, video);
  assert.equal(peer.connectionState, "connecting");
  assert.equal(peer.audioReceiver(), audio);
  assert.equal(peer.linkStatsSource(), video);
});

test("an SFU track that stops is taken off the tile", () => {
  const { peer, mesh } = meshPeer();
  mesh.video.muted = true;
  const receiver = sfuReceiver("video");
  peer.adoptSfuTrack("video", receiver.track, receiver);
  peer.dropSfuTrack("video");
  assert.deepEqual(peer.cameraStream.getVideoTracks(), []);
});

test("in an SFU call a peer's video counts as received while the mesh or the SFU carries it", () => {
  const { peer, mesh } = meshPeer();
  peer.inSfuCall = true;
  assert.equal(peer.videoReceived, true, "the mesh still carries it");
  mesh.video.muted = true;
  const receiver = sfuReceiver("video");
  peer.adoptSfuTrack("video", receiver.track, receiver);
  peer.dropMesh();
  assert.equal(peer.videoReceived, true);
  peer.dropSfuTrack("video");
  assert.equal(peer.videoReceived, false, "left out by last-N: the tile shows the avatar");
});

test("a camera the SFU does not send counts as not received once the mesh that carried it closes", () => {
  // The call's fallback closes the mesh of a peer heard through the SFU (every microphone is
  // received) whose camera is left out by last-N: its mesh track ends with the connection.
  const { peer } = meshPeer();
  peer.inSfuCall = true;
  const audio = sfuReceiver("audio", { muted: false });
  peer.adoptSfuTrack("audio", audio.track, audio);
  peer.dropMesh();
  assert.equal(peer.videoReceived, false, "a closed connection's track would show a dead picture");
});
