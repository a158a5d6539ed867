// SFU mode in the browser (issue #11): which feeds to receive (last-N) and in which simulcast
// layer, as pure functions; then one SfuSession end to end on a stand-in RTCPeerConnection,
// checking the sfu-* messages it sends the server for what the server sends it.

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { FakeTrack, tick } from "./webrtc-fakes.mjs";

/** Lets every pending promise chain of the session run to its end. */
async function settle() {
  for (let round = 0; round < 20; round++) await tick();
}

/**
 * Enough of RTCPeerConnection for sfu.js: transceivers, descriptions applied after a turn of
 * the event loop, candidates, and the log of what was applied in which order. An offer's SDP
 * makes one receiving transceiver per new mid and fires "track" for it, as a browser does.
 */
class FakeConnection extends EventTarget {
  /** @type {FakeConnection[]} */
  static made = [];
  /** @param {object} configuration */
  constructor(configuration) {
    super();
    this.configuration = configuration;
    this.number = FakeConnection.made.length;
    /** @type {any[]} */
    this.transceivers = [];
    /** @type {{type: string, sdp: string} | null} */
    this.localDescription = null;
    /** @type {{type: string, sdp: string} | null} */
    this.remoteDescription = null;
    this.connectionState = "new";
    this.signalingState = "stable";
    /** @type {string[]} what was applied, in order: "remote offer", "candidate c1", ... */
    this.log = [];
    this.closed = false;
    FakeConnection.made.push(this);
  }
  /**
   * @param {FakeTrack | "audio" | "video"} trackOrKind
   * @param {{direction?: string, sendEncodings?: object[]}} init
   */
  addTransceiver(trackOrKind, init = {}) {
    const track = typeof trackOrKind === "string" ? null : trackOrKind;
    const kind = track ? track.kind : trackOrKind;
    const transceiver = {
      mid: null,
      kind,
      direction: init.direction || "sendrecv",
      currentDirection: null,
      sendEncodings: init.sendEncodings,
      sender: {
        track,
        /** @param {FakeTrack | null} next */
        async replaceTrack(next) {
          this.track = next;
        },
      },
      receiver: { track: new FakeTrack(/** @type {"audio" | "video"} */ (kind), { muted: true }) },
    };
    this.transceivers.push(transceiver);
    return transceiver;
  }
  async createOffer() {
    return { type: "offer", sdp: `offer from connection ${this.number}` };
  }
  async createAnswer() {
    return { type: "answer", sdp: `answer from connection ${this.number}` };
  }
  /** @param {{type: string, sdp: string}} description */
  async setLocalDescription(description) {
    await tick();
    this.localDescription = description;
    this.log.push(`local ${description.type}`);
  }
  /** @param {{type: string, sdp: string}} description */
  async setRemoteDescription(description) {
    await tick();
    this.remoteDescription = description;
    this.log.push(`remote ${description.type}`);
    if (description.type === "offer") this.receive(description.sdp);
  }
  /** @param {{candidate: string}} candidate */
  async addIceCandidate(candidate) {
    this.log.push(`candidate ${candidate.candidate}`);
  }
  getTransceivers() {
    return this.transceivers;
  }
  getConfiguration() {
    return this.configuration;
  }
  /** @param {object} configuration */
  setConfiguration(configuration) {
    this.configuration = configuration;
  }
  close() {
    this.closed = true;
    this.signalingState = "closed";
    this.connectionState = "closed";
  }
  /** @param {string} sdp */
  receive(sdp) {
    let kind = "";
    for (const line of sdp.split("\r\n")) {
      if (line.startsWith("m=")) kind = line.slice(2).split(" ")[0];
      if (!line.startsWith("a=mid:")) continue;
      const mid = line.slice("a=mid:".length);
      if (this.transceivers.some((transceiver) => transceiver.mid === mid)) continue;
      const media = /** @type {"audio" | "video"} */ (kind);
      const transceiver = this.addTransceiver(media, { direction: "recvonly" });
      transceiver.mid = mid;
      transceiver.currentDirection = "recvonly";
      const event = Object.assign(new Event("track"), { transceiver, track: transceiver.receiver.track });
      this.dispatchEvent(event);
    }
  }
}

// The browser globals sfu.js uses when a session makes connections; importing it needs none.
Object.assign(globalThis, { RTCPeerConnection: FakeConnection });
const { CAMERA_SIMULCAST, feedsToReceive, layerFor, sameFeeds, SfuSession } = await import(
  "../../static/js/sfu.js"
);

/** @param {string} peerId */
const camera = (peerId) => ({ peer_id: peerId, feed: /** @type {const} */ ("camera") });
/** @param {string} peerId */
const screen = (peerId) => ({ peer_id: peerId, feed: /** @type {const} */ ("screen") });

/**
 * The streams Janus sends for some feeds (audio and video each, mids counting up) and the
 * offer SDP that carries them.
 * @param {{peer_id: string, feed: "camera" | "screen"}[]} feeds
 */
function subscriberOffer(feeds) {
  const streams = feeds.flatMap((feed, index) =>
    /** @type {const} */ (["audio", "video"]).map((kind, offset) => ({
      mid: String(2 * index + offset),
      peer_id: feed.peer_id,
      feed: feed.feed,
      kind,
    })),
  );
  const lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=VideoRoom"];
  for (const stream of streams) {
    lines.push(`m=${stream.kind} 9 UDP/TLS/RTP/SAVPF 96`, `a=mid:${stream.mid}`, "a=sendonly");
  }
  return { type: /** @type {const} */ ("sfu-offer"), sdp: `${lines.join("\r\n")}\r\n`, streams };
}

/** @param {string} name */
const janusCandidate = (name) => ({ candidate: name, sdpMid: "0", sdpMLineIndex: 0 });

/**
 * A session as the call engine makes one, recording what it sends and reports.
 * @param {{lastN?: number, tracks?: Record<string, FakeTrack>}} options
 */
function makeSession({ lastN = 9, tracks = {} } = {}) {
  /** @type {any[]} */
  const sent = [];
  /** @type {{stream: any, track: any}[]} */
  const received = [];
  /** @type {any[]} */
  const gone = [];
  /** @type {string[]} */
  const states = [];
  // What the page shows; a test changes it between calls, as a user pins or someone speaks.
  const view = {
    preferred: /** @type {string[]} */ ([]),
    pinned: "",
    featured: /** @type {string[]} */ ([]),
    hidden: /** @type {string[]} */ ([]),
  };
  const session = new SfuSession({
    send: (message) => sent.push(message),
    iceConfig: { iceServers: [], iceTransportPolicy: "all" },
    selfPeerId: "me",
    lastN,
    localTrack: (role) => /** @type {any} */ (tracks[role] || null),
    preferred: () => view.preferred,
    pinned: () => view.pinned,
    featured: () => view.featured,
    hidden: () => view.hidden,
    onTrack: (stream, track) => received.push({ stream, track }),
    onStreamGone: (stream) => gone.push(stream),
    onTalking: () => {},
    onState: (state) => states.push(state),
  });
  /** @param {string} type */
  const sentOfType = (type) => sent.filter((message) => message.type === type);
  return { session, sent, sentOfType, received, gone, states, view };
}

/** This browser's microphone, camera and shared screen. */
const localTracks = () => ({
  audio: new FakeTrack("audio"),
  video: new FakeTrack("video"),
  screen: new FakeTrack("video"),
});

/** @param {FakeTrack} track */
const connectionSending = (track) =>
  FakeConnection.made.find((pc) => pc.transceivers.some((transceiver) => transceiver.sender.track === track));

beforeEach(() => {
  FakeConnection.made = [];
});

// --- last-N ------------------------------------------------------------------------------------

test("our own feeds are never received", () => {
  const feeds = [camera("me"), screen("me"), camera("ana")];
  assert.deepEqual(feedsToReceive(feeds, { selfPeerId: "me", lastN: 9, preferred: ["me"] }), [camera("ana")]);
});

test("every shared screen is received, however many cameras the cap leaves out", () => {
  const feeds = [camera("ana"), screen("ana"), camera("bo"), screen("cy"), camera("cy")];
  assert.deepEqual(feedsToReceive(feeds, { selfPeerId: "me", lastN: 1, preferred: [] }), [
    screen("ana"),
    screen("cy"),
    camera("ana"),
  ]);
});

test("at most last-N cameras are received, the first published when nobody is preferred", () => {
  const feeds = ["ana", "bo", "cy", "dee"].map(camera);
  assert.deepEqual(feedsToReceive(feeds, { selfPeerId: "me", lastN: 2, preferred: [] }), [
    camera("ana"),
    camera("bo"),
  ]);
});

test("over the cap the pinned and recent speakers win, and the result stays in publish order", () => {
  const feeds = ["ana", "bo", "cy", "dee", "eve"].map(camera);
  // Pinned "dee", then "bo" spoke last: both are in, listed as they published.
  assert.deepEqual(feedsToReceive(feeds, { selfPeerId: "me", lastN: 2, preferred: ["dee", "bo"] }), [
    camera("bo"),
    camera("dee"),
  ]);
  // Three preferred for two places: the two most wanted.
  assert.deepEqual(feedsToReceive(feeds, { selfPeerId: "me", lastN: 2, preferred: ["eve", "cy", "ana"] }), [
    camera("cy"),
    camera("eve"),
  ]);
});

test("under the cap a preference changes nothing: every camera, in publish order", () => {
  const feeds = ["ana", "bo", "cy"].map(camera);
  assert.deepEqual(feedsToReceive(feeds, { selfPeerId: "me", lastN: 9, preferred: ["cy"] }), feeds);
});

test("a camera whose tile the page hides is not received, and leaves its place to another", () => {
  const feeds = ["ana", "bo", "cy"].map(camera);
  const options = { selfPeerId: "me", lastN: 2, preferred: [], hidden: ["ana"] };
  assert.deepEqual(feedsToReceive(feeds, options), [camera("bo"), camera("cy")]);
  // A hidden person's shared screen still comes.
  assert.deepEqual(feedsToReceive([screen("ana"), ...feeds], options), [screen("ana"), camera("bo"), camera("cy")]);
});

test("a last-N of zero receives the screens only", () => {
  const feeds = [camera("ana"), screen("bo"), camera("bo")];
  assert.deepEqual(feedsToReceive(feeds, { selfPeerId: "me", lastN: 0, preferred: ["ana"] }), [screen("bo")]);
});

// --- simulcast layers --------------------------------------------------------------------------

test("a spotlight gets the full copy, even beside a shared screen or in a big grid", () => {
  assert.equal(layerFor({ spotlight: true, screenShown: true, cameras: 12 }), 2);
  assert.equal(layerFor({ spotlight: true, screenShown: false, cameras: 1 }), 2);
});

test("beside a shared screen the camera thumbnails get the smallest copy", () => {
  assert.equal(layerFor({ spotlight: false, screenShown: true, cameras: 1 }), 0);
  assert.equal(layerFor({ spotlight: false, screenShown: true, cameras: 4 }), 0);
});

test("a grid of one or two gets the full copy, up to six the middle one, more the smallest", () => {
  const grid = (cameras) => layerFor({ spotlight: false, screenShown: false, cameras });
  assert.deepEqual([1, 2, 3, 6, 7, 12].map(grid), [2, 2, 1, 1, 0, 0]);
});

test("feed lists are the same whatever their order, and differ by peer or by kind", () => {
  assert.equal(sameFeeds([camera("ana"), screen("bo")], [screen("bo"), camera("ana")]), true);
  assert.equal(sameFeeds([], []), true);
  assert.equal(sameFeeds([camera("ana")], [screen("ana")]), false);
  assert.equal(sameFeeds([camera("ana")], [camera("bo")]), false);
  assert.equal(sameFeeds([camera("ana")], [camera("ana"), camera("bo")]), false);
});

// --- one session against a stand-in connection -------------------------------------------------

test("the session asks once for its feeds, and not again while the SFU's offer is awaited", async () => {
  const { session, sentOfType } = makeSession({ lastN: 2 });
  session.onMessage({ type: "sfu-feeds", feeds: [camera("me"), camera("ana"), camera("bo"), camera("cy")] });
  assert.deepEqual(sentOfType("sfu-subscribe"), [
    { type: "sfu-subscribe", feeds: [camera("ana"), camera("bo")] },
  ]);
  session.onMessage({ type: "sfu-feeds", feeds: [camera("ana"), camera("bo"), camera("cy"), screen("cy")] });
  session.resubscribe();
  assert.equal(sentOfType("sfu-subscribe").length, 1, "one subscription change at a time");
});

test("an unchanged choice of feeds is not asked for again", async () => {
  const { session, sentOfType, view } = makeSession({ lastN: 2 });
  const feeds = [camera("ana"), camera("bo"), camera("cy")];
  session.onMessage({ type: "sfu-feeds", feeds });
  session.onMessage(subscriberOffer([camera("ana"), camera("bo")]));
  await settle();
  session.onMessage({ type: "sfu-feeds", feeds });
  session.resubscribe();
  // Someone already received speaks: the two chosen stay the same.
  view.preferred = ["bo"];
  session.resubscribe();
  assert.equal(sentOfType("sfu-subscribe").length, 1);
});

test("a new camera beyond the cap is asked for again, since the server adds its microphone", async () => {
  const { session, sentOfType } = makeSession({ lastN: 2 });
  session.onMessage({ type: "sfu-feeds", feeds: [camera("ana"), camera("bo")] });
  session.onMessage(subscriberOffer([camera("ana"), camera("bo")]));
  await settle();
  session.onMessage({ type: "sfu-feeds", feeds: [camera("ana"), camera("bo"), camera("cy")] });
  assert.deepEqual(sentOfType("sfu-subscribe").at(-1), {
    type: "sfu-subscribe",
    feeds: [camera("ana"), camera("bo")],
  });
  assert.equal(sentOfType("sfu-subscribe").length, 2);
});

test("the SFU's offer is answered with sfu-start, then a change made meanwhile is asked for", async () => {
  const { session, sent, sentOfType, received } = makeSession();
  session.onMessage({ type: "sfu-feeds", feeds: [camera("ana")] });
  session.onMessage({ type: "sfu-feeds", feeds: [camera("ana"), screen("ana")] });
  const offer = subscriberOffer([camera("ana")]);
  session.onMessage(offer);
  await settle();

  const [subscriber] = FakeConnection.made;
  assert.deepEqual(subscriber.remoteDescription, { type: "offer", sdp: offer.sdp });
  assert.deepEqual(subscriber.log.slice(0, 2), ["remote offer", "local answer"]);
  const start = sent.findIndex((message) => message.type === "sfu-start");
  assert.deepEqual(sent[start], { type: "sfu-start", sdp: subscriber.localDescription?.sdp });
  assert.deepEqual(sentOfType("sfu-subscribe"), [
    { type: "sfu-subscribe", feeds: [camera("ana")] },
    { type: "sfu-subscribe", feeds: [screen("ana"), camera("ana")] },
  ]);
  const change = sent.indexOf(sentOfType("sfu-subscribe")[1]);
  assert.ok(start < change, "the change is asked for after the answer");
  // A track is reported on "track" and again after the answer (renegotiations fire no event).
  const adopted = received.map(({ stream, track }) =>
    [stream.peer_id, stream.feed, stream.kind, track.kind].join(" "),
  );
  assert.deepEqual([...new Set(adopted)], ["ana camera audio audio", "ana camera video video"]);
});

test("Janus's candidates that overtake its offer are applied after the offer, none lost", async () => {
  const { session } = makeSession();
  session.onMessage({ type: "sfu-feeds", feeds: [camera("ana")] });
  session.onMessage({ type: "sfu-trickle", target: "subscriber", candidate: janusCandidate("early") });
  session.onMessage(subscriberOffer([camera("ana")]));
  // This one comes while the offer is being applied.
  session.onMessage({ type: "sfu-trickle", target: "subscriber", candidate: janusCandidate("during") });
  await settle();
  const [subscriber] = FakeConnection.made;
  const applied = (name) => subscriber.log.indexOf(`candidate ${name}`);
  assert.ok(applied("early") > subscriber.log.indexOf("remote offer"), subscriber.log.join(", "));
  assert.ok(applied("during") > subscriber.log.indexOf("remote offer"), subscriber.log.join(", "));
});

test("the camera feed is published on its own connection, simulcast, with both local tracks", async () => {
  const tracks = { audio: new FakeTrack("audio"), video: new FakeTrack("video") };
  const { session, sentOfType } = makeSession({ tracks });
  session.start();
  await settle();
  const publisher = connectionSending(tracks.video);
  assert.ok(publisher);
  assert.deepEqual(sentOfType("sfu-publish"), [
    { type: "sfu-publish", feed: "camera", sdp: publisher.localDescription?.sdp },
  ]);
  const [audio, video] = publisher.transceivers;
  assert.equal(audio.sender.track, tracks.audio);
  assert.deepEqual([audio.direction, video.direction], ["sendonly", "sendonly"]);
  assert.deepEqual(video.sendEncodings, CAMERA_SIMULCAST);
});

test("an sfu-answer completes the publish of the feed it names, and no other", async () => {
  const tracks = localTracks();
  const { session } = makeSession({ tracks });
  session.start();
  session.onLocalTrack("screen", /** @type {any} */ (tracks.screen));
  await settle();
  const cameraConnection = connectionSending(tracks.video);
  const screenConnection = connectionSending(tracks.screen);
  assert.ok(cameraConnection && screenConnection && cameraConnection !== screenConnection);

  // Janus's candidate for the screen's connection comes before its answer: it waits for it.
  session.onMessage({ type: "sfu-trickle", target: "screen", candidate: janusCandidate("screen-early") });
  session.onMessage({ type: "sfu-answer", feed: "screen", sdp: "screen answer" });
  await settle();
  assert.deepEqual(screenConnection.remoteDescription, { type: "answer", sdp: "screen answer" });
  assert.deepEqual(screenConnection.log.slice(-2), ["remote answer", "candidate screen-early"]);
  assert.equal(cameraConnection.remoteDescription, null, "the camera's publish still awaits its own answer");

  session.onMessage({ type: "sfu-answer", feed: "camera", sdp: "camera answer" });
  await settle();
  assert.deepEqual(cameraConnection.remoteDescription, { type: "answer", sdp: "camera answer" });
});

test("a screen share publishes a screen feed at full size, and its end unpublishes it", async () => {
  const tracks = localTracks();
  const { session, sentOfType } = makeSession({ tracks });
  session.start();
  session.onLocalTrack("screen", /** @type {any} */ (tracks.screen));
  session.onLocalTrack("screen", /** @type {any} */ (tracks.screen));
  await settle();
  assert.deepEqual(
    sentOfType("sfu-publish").map((message) => message.feed),
    ["camera", "screen"],
  );
  const screenConnection = connectionSending(tracks.screen);
  assert.ok(screenConnection);
  assert.deepEqual(screenConnection.transceivers[1].sendEncodings, [{ maxBitrate: 1_500_000 }]);

  session.onLocalTrack("screen", null);
  session.onLocalTrack("screen", null);
  assert.deepEqual(sentOfType("sfu-unpublish"), [{ type: "sfu-unpublish", feed: "screen" }]);
  assert.equal(screenConnection.closed, true);
  assert.equal(connectionSending(tracks.video)?.closed, false, "the camera feed stays");
});

test("a new camera track is sent on the camera feed without publishing again", async () => {
  const tracks = { audio: new FakeTrack("audio"), video: new FakeTrack("video") };
  const { session, sentOfType } = makeSession({ tracks });
  session.start();
  await settle();
  const publisher = connectionSending(tracks.video);
  const replacement = new FakeTrack("video");
  session.onLocalTrack("video", /** @type {any} */ (replacement));
  assert.equal(publisher?.transceivers[1].sender.track, replacement);
  assert.equal(sentOfType("sfu-publish").length, 1);
});

test("layers are sent for the received cameras, and again only when the choice changes", async () => {
  const { session, sentOfType, view } = makeSession();
  const cameras = [camera("ana"), camera("bo"), camera("cy")];
  session.onMessage({ type: "sfu-feeds", feeds: cameras });
  session.onMessage(subscriberOffer(cameras));
  await settle();
  const layers = (ana, bo, cy) => ({
    type: "sfu-configure",
    layers: [
      { peer_id: "ana", feed: "camera", layer: ana },
      { peer_id: "bo", feed: "camera", layer: bo },
      { peer_id: "cy", feed: "camera", layer: cy },
    ],
  });
  assert.deepEqual(sentOfType("sfu-configure"), [layers(1, 1, 1)], "three cameras: the middle copy");

  session.configureLayers();
  assert.equal(sentOfType("sfu-configure").length, 1, "an unchanged choice is not sent again");

  view.pinned = "bo";
  session.configureLayers();
  assert.deepEqual(sentOfType("sfu-configure").at(-1), layers(1, 2, 1), "the pinned one in full");
  session.configureLayers();
  assert.equal(sentOfType("sfu-configure").length, 2);

  // The speaker layout features Cy: his camera comes in full size too.
  view.featured = ["cy"];
  session.configureLayers();
  assert.deepEqual(sentOfType("sfu-configure").at(-1), layers(1, 2, 2), "the featured one in full");
});

test("a reset closes every connection and reports each received stream gone", async () => {
  const tracks = localTracks();
  const { session, sentOfType, gone, states } = makeSession({ tracks });
  session.start();
  session.onLocalTrack("screen", /** @type {any} */ (tracks.screen));
  const feeds = [camera("ana"), screen("bo")];
  session.onMessage({ type: "sfu-feeds", feeds });
  const offer = subscriberOffer(feeds);
  session.onMessage(offer);
  await settle();
  assert.equal(FakeConnection.made.length, 3, "camera, screen and subscriber");

  session.onMessage({ type: "sfu-reset" });
  assert.deepEqual(
    FakeConnection.made.map((pc) => pc.closed),
    [true, true, true],
  );
  assert.deepEqual(
    gone.map((stream) => stream.mid).sort(),
    offer.streams.map((stream) => stream.mid).sort(),
  );
  assert.equal(states.at(-1), "connecting");

  // Once the server has rejoined, the same feeds are asked for again on a fresh subscriber.
  session.onMessage({ type: "sfu-feeds", feeds });
  assert.equal(sentOfType("sfu-subscribe").length, 2);
});

test("after the server rejoins the SFU the camera and a running screen share are published again", async () => {
  const tracks = localTracks();
  const { session, sentOfType } = makeSession({ tracks });
  session.start();
  session.onLocalTrack("screen", /** @type {any} */ (tracks.screen));
  await settle();
  session.onMessage({ type: "sfu-reset" });
  session.onMessage({ type: "sfu-ready" });
  await settle();
  assert.deepEqual(
    sentOfType("sfu-publish").map((message) => message.feed),
    ["camera", "screen", "camera", "screen"],
  );
  assert.equal(FakeConnection.made.filter((pc) => !pc.closed).length, 2);
});
