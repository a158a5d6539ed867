// SFU mode: this browser's connections to the call's Janus VideoRoom, through meet's server.
//
// A sibling of peer.js owned by the call engine (call.js). Instead of one RTCPeerConnection per
// remote peer, a browser in an SFU call has:
// - one publisher connection for its microphone and camera (feed "camera"), simulcast where the
//   codec allows, so the SFU can forward a small copy to thumbnails and a big one to spotlights;
// - a second publisher connection while it shares its screen (feed "screen");
// - one subscriber connection carrying every remote feed it receives (multistream).
// Every description and candidate goes through the signaling socket (sfu-* messages); the
// server holds the Janus handles and never lets a browser touch anyone else's.
//
// What to receive (last-N) and in which quality are pure functions below, tested under Node.

import { candidateToWire } from "./protocol.js";

/** @typedef {import("./protocol.js").SfuFeed} SfuFeed */
/** @typedef {import("./protocol.js").SfuFeedKind} SfuFeedKind */
/** @typedef {import("./protocol.js").SfuStream} SfuStream */
/** @typedef {import("./protocol.js").SfuServerMessage} SfuServerMessage */
/** @typedef {import("./protocol.js").SfuClientMessage} SfuClientMessage */
/** @typedef {import("./ice.js").IceConfig} IceConfig */

// Three simulcast copies of the camera: Chromium sends only the ones the capture size allows
// (one below 480p), and Janus forwards each subscriber the one it asks for. Highest first:
// Janus takes the first rid of an offer for its top substream (2) unless told otherwise, as
// janus.js lists them.
/** @type {RTCRtpEncodingParameters[]} */
export const CAMERA_SIMULCAST = [
  { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 1_000_000 },
  { rid: "m", scaleResolutionDownBy: 2, maxBitrate: 400_000 },
  { rid: "l", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
];

// After the server refused an SFU request (Janus restarting), it is asked again this much later.
export const REFUSED_RETRY_MS = 2000;

/**
 * The feeds to receive: every screen, and at most `lastN` cameras, the pinned and the most
 * recent speakers first, then in the order people published. Our own feeds never.
 * @param {SfuFeed[]} feeds what the call publishes now
 * @param {{selfPeerId: string, lastN: number, preferred: string[], hidden?: string[]}} options
 *   preferred: peer ids, most wanted first (pinned, then recent speakers); hidden: peers whose
 *   camera tile the page hides, whose video is not received (paused)
 * @returns {SfuFeed[]}
 */
export function feedsToReceive(feeds, { selfPeerId, lastN, preferred, hidden = [] }) {
  const others = feeds.filter((feed) => feed.peer_id !== selfPeerId);
  const screens = others.filter((feed) => feed.feed === "screen");
  const cameras = others.filter((feed) => feed.feed === "camera" && !hidden.includes(feed.peer_id));
  const rank = (/** @type {SfuFeed} */ feed) => {
    const index = preferred.indexOf(feed.peer_id);
    return index === -1 ? preferred.length : index;
  };
  const chosen = cameras
    .map((feed, order) => ({ feed, order }))
    .sort((a, b) => rank(a.feed) - rank(b.feed) || a.order - b.order)
    .slice(0, Math.max(0, lastN))
    .sort((a, b) => a.order - b.order)
    .map(({ feed }) => feed);
  return [...screens, ...chosen];
}

/**
 * The simulcast layer a camera tile needs: 2 (full) in a spotlight or a grid of two, 1 in a
 * grid of up to six, 0 (smallest) for thumbnails beside a shared screen or in a big grid.
 * @param {{spotlight: boolean, screenShown: boolean, cameras: number}} view
 * @returns {0 | 1 | 2}
 */
export function layerFor({ spotlight, screenShown, cameras }) {
  if (spotlight) return 2;
  if (screenShown) return 0;
  if (cameras <= 2) return 2;
  if (cameras <= 6) return 1;
  return 0;
}

/**
 * @param {SfuFeed[]} a
 * @param {SfuFeed[]} b
 * @returns {boolean}
 */
export function sameFeeds(a, b) {
  const key = (/** @type {SfuFeed} */ feed) => `${feed.peer_id}:${feed.feed}`;
  const left = a.map(key).sort().join(",");
  return left === b.map(key).sort().join(",");
}

/**
 * What the session needs from the engine.
 * @typedef {{send: (message: SfuClientMessage) => void, iceConfig: IceConfig,
 *   selfPeerId: string, lastN: number,
 *   localTrack: (role: "audio" | "video" | "screen" | "screen-audio") => MediaStreamTrack | null,
 *   preferred: () => string[], pinned: () => string, hidden?: () => string[],
 *   featured?: () => string[],
 *   onTrack: (stream: SfuStream, track: MediaStreamTrack, receiver: RTCRtpReceiver) => void,
 *   onStreamGone: (stream: SfuStream) => void,
 *   onTalking: (peerId: string, talking: boolean) => void,
 *   onState: (state: RTCPeerConnectionState) => void}} SfuOptions
 */

/** One publisher connection: the camera (microphone + camera) or the screen (+ its audio). */
class Publisher {
  /**
   * @param {SfuFeedKind} feed
   * @param {SfuOptions} options
   */
  constructor(feed, options) {
    this.feed = feed;
    this.options = options;
    this.pc = new RTCPeerConnection({ ...options.iceConfig, bundlePolicy: "max-bundle" });
    this.pc.addEventListener("icecandidate", (event) => {
      options.send({ type: "sfu-trickle", target: feed, candidate: candidateToWire(event.candidate) });
    });
    const audioRole = feed === "camera" ? "audio" : "screen-audio";
    const videoRole = feed === "camera" ? "video" : "screen";
    this.audio = this.pc.addTransceiver(options.localTrack(audioRole) || "audio", {
      direction: "sendonly",
    });
    this.video = this.pc.addTransceiver(options.localTrack(videoRole) || "video", {
      direction: "sendonly",
      // A screen is one copy at full size: text must stay readable.
      sendEncodings: feed === "camera" ? CAMERA_SIMULCAST : [{ maxBitrate: 1_500_000 }],
    });
    /** @type {((sdp: string) => void) | null} */
    this.answered = null;
    /** Janus's candidates that came before its answer was applied. */
    /** @type {RTCIceCandidateInit[]} */
    this.early = [];
  }

  /** @param {RTCIceCandidateInit | null} candidate */
  addRemoteCandidate(candidate) {
    if (!candidate) return;
    if (!this.pc.remoteDescription) {
      this.early.push(candidate);
      return;
    }
    this.pc.addIceCandidate(candidate).catch((error) => console.warn("sfu: bad candidate", error));
  }

  /** Offer our feed to the SFU; resolves once its answer is applied. */
  async publish() {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    const answer = new Promise((resolve) => {
      this.answered = resolve;
    });
    this.options.send({ type: "sfu-publish", feed: this.feed, sdp: offer.sdp || "" });
    const sdp = /** @type {string} */ (await answer);
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    for (const candidate of this.early.splice(0)) this.addRemoteCandidate(candidate);
  }

  /**
   * @param {"audio" | "video"} kind
   * @param {MediaStreamTrack | null} track
   */
  replaceTrack(kind, track) {
    const sender = (kind === "audio" ? this.audio : this.video).sender;
    if (sender.track === track) return;
    sender.replaceTrack(track).catch((error) => console.warn(`sfu: replaceTrack(${kind}) failed`, error));
  }

  close() {
    this.pc.close();
  }
}

/** This browser's SFU connections; the engine feeds it the server's sfu-* messages. */
export class SfuSession {
  /** @param {SfuOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {Map<SfuFeedKind, Publisher>} */
    this.publishers = new Map();
    /** @type {RTCPeerConnection | null} */
    this.subscriber = null;
    /** @type {Map<string, SfuStream>} the subscriber's streams by mid */
    this.streams = new Map();
    /** @type {SfuFeed[]} what the call publishes */
    this.feeds = [];
    /** @type {SfuFeed[] | null} what we last asked to receive */
    this.requested = null;
    /** The videos asked for and the feeds known then, as JSON. */
    this.requestedKey = "";
    // One subscription change at a time: the server's offer must be answered before the next.
    this.negotiating = false;
    this.closed = false;
    /** Janus's subscriber candidates that came before its offer. */
    /** @type {RTCIceCandidateInit[]} */
    this.earlyCandidates = [];
    /** The last layer choice sent (JSON), so an unchanged one is not sent again. */
    this.lastLayers = "";
    /** Offers from the SFU are applied one at a time, in arrival order. */
    this.chain = Promise.resolve();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
  }

  /** Publish the camera feed; the server has joined us to the room already. */
  start() {
    this.publish("camera");
  }

  /** @param {SfuFeedKind} feed */
  publish(feed) {
    if (this.closed || this.publishers.has(feed)) return;
    const publisher = new Publisher(feed, this.options);
    this.publishers.set(feed, publisher);
    publisher.publish().catch((error) => console.warn(`sfu: publishing ${feed} failed`, error));
  }

  /** @param {SfuFeedKind} feed */
  unpublish(feed) {
    const publisher = this.publishers.get(feed);
    if (!publisher) return;
    this.publishers.delete(feed);
    publisher.close();
    this.options.send({ type: "sfu-unpublish", feed });
  }

  /**
   * A local track changed: the camera feed's senders take it without renegotiating; a screen
   * share starting or stopping publishes or ends the screen feed.
   * @param {"audio" | "video" | "screen" | "screen-audio"} role
   * @param {MediaStreamTrack | null} track
   */
  onLocalTrack(role, track) {
    if (role === "audio" || role === "video") {
      this.publishers.get("camera")?.replaceTrack(role, track);
      return;
    }
    if (role === "screen") {
      if (track) this.publish("screen");
      else this.unpublish("screen");
      return;
    }
    this.publishers.get("screen")?.replaceTrack("audio", track);
  }

  /** @param {IceConfig} config */
  setIceConfig(config) {
    this.options.iceConfig = config;
    for (const pc of this.connections()) {
      try {
        pc.setConfiguration({ ...pc.getConfiguration(), ...config });
      } catch (error) {
        console.warn("sfu: setConfiguration failed", error);
      }
    }
  }

  /** @returns {RTCPeerConnection[]} */
  connections() {
    const all = [...this.publishers.values()].map((publisher) => publisher.pc);
    if (this.subscriber) all.push(this.subscriber);
    return all;
  }

  /** @param {SfuServerMessage} message */
  onMessage(message) {
    if (this.closed) return;
    switch (message.type) {
      case "sfu-feeds":
        this.feeds = message.feeds;
        return this.resubscribe();
      case "sfu-answer": {
        const publisher = this.publishers.get(message.feed);
        publisher?.answered?.(message.sdp);
        return;
      }
      case "sfu-offer":
        this.chain = this.chain
          .then(() => this.onOffer(message.sdp, message.streams))
          .catch((error) => console.warn("sfu: applying the SFU's offer failed", error));
        return;
      case "sfu-trickle":
        return this.onRemoteCandidate(message.target, message.candidate);
      case "sfu-talking":
        return this.options.onTalking(message.peer_id, message.talking);
      case "sfu-reset":
        return this.reset();
      case "sfu-ready":
        // The server rejoined the SFU (after Janus restarted): publish again from scratch.
        this.start();
        if (this.options.localTrack("screen")) this.publish("screen");
        return;
      case "sfu-failed":
        console.warn("sfu: the server could not join the media server");
        this.options.onState("failed");
    }
  }

  /**
   * One of Janus's ICE candidates, for the connection it names.
   * @param {SfuFeedKind | "subscriber"} target
   * @param {RTCIceCandidateInit | null} candidate
   */
  onRemoteCandidate(target, candidate) {
    if (target !== "subscriber") {
      this.publishers.get(target)?.addRemoteCandidate(candidate);
      return;
    }
    if (!candidate) return;
    // Janus's candidates can overtake the offer they belong to (the server forwards them as
    // they come); until an offer is applied they wait.
    this.chain = this.chain.then(() => {
      const pc = this.subscriber;
      if (!pc || !pc.remoteDescription) {
        this.earlyCandidates.push(candidate);
        return;
      }
      return pc.addIceCandidate(candidate).catch((error) => console.warn("sfu: bad candidate", error));
    });
  }

  /** Ask for the feeds we want now, unless that is what we have or a change is under way. */
  resubscribe() {
    if (this.closed || this.negotiating) return;
    const wanted = feedsToReceive(this.feeds, {
      selfPeerId: this.options.selfPeerId,
      lastN: this.options.lastN,
      preferred: this.options.preferred(),
      hidden: this.options.hidden?.() ?? [],
    });
    // The server adds every camera's microphone to the videos asked for: a new feed changes
    // what is received even when the videos chosen stay the same.
    const key = JSON.stringify([wanted, this.feeds]);
    if (this.requested && sameFeeds(wanted, this.requested) && key === this.requestedKey) return;
    this.requested = wanted;
    this.requestedKey = key;
    this.negotiating = true;
    this.options.send({ type: "sfu-subscribe", feeds: wanted });
  }

  /**
   * The SFU's offer for the subscriber connection (the first, or after a change).
   * @param {string | null} sdp null when there is nothing to receive
   * @param {SfuStream[]} streams what each mid carries
   */
  async onOffer(sdp, streams) {
    const before = new Map(this.streams);
    this.streams = new Map(streams.map((stream) => [stream.mid, stream]));
    for (const [mid, stream] of before) {
      const now = this.streams.get(mid);
      if (!now || now.peer_id !== stream.peer_id || now.feed !== stream.feed) this.options.onStreamGone(stream);
    }
    if (sdp) {
      const pc = this.subscriberConnection();
      await pc.setRemoteDescription({ type: "offer", sdp });
      for (const candidate of this.earlyCandidates.splice(0)) {
        await pc.addIceCandidate(candidate).catch((error) => console.warn("sfu: bad candidate", error));
      }
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.options.send({ type: "sfu-start", sdp: answer.sdp || "" });
      // A renegotiation reuses transceivers whose tracks fire no new "track" event.
      for (const transceiver of pc.getTransceivers()) this.adopt(transceiver);
    }
    this.negotiating = false;
    this.configureLayers();
    this.resubscribe();
  }

  /** Ask the SFU for the simulcast copy each received camera needs (layerFor). */
  configureLayers() {
    const received = [...this.streams.values()].filter((stream) => stream.kind === "video");
    const cameras = received.filter((stream) => stream.feed === "camera");
    if (cameras.length === 0) return;
    const screenShown = received.some((stream) => stream.feed === "screen");
    const pinned = this.options.pinned();
    const featured = this.options.featured?.() ?? [];
    const layers = cameras.map((stream) => ({
      peer_id: stream.peer_id,
      feed: stream.feed,
      layer: layerFor({
        spotlight: stream.peer_id === pinned || featured.includes(stream.peer_id),
        screenShown,
        cameras: cameras.length,
      }),
    }));
    const key = JSON.stringify(layers);
    if (key === this.lastLayers) return;
    this.lastLayers = key;
    this.options.send({ type: "sfu-configure", layers });
  }

  /** @returns {RTCPeerConnection} */
  subscriberConnection() {
    if (this.subscriber) return this.subscriber;
    const pc = new RTCPeerConnection({ ...this.options.iceConfig, bundlePolicy: "max-bundle" });
    this.subscriber = pc;
    pc.addEventListener("icecandidate", (event) => {
      this.options.send({
        type: "sfu-trickle",
        target: "subscriber",
        candidate: candidateToWire(event.candidate),
      });
    });
    pc.addEventListener("track", (event) => this.adopt(event.transceiver));
    pc.addEventListener("connectionstatechange", () => this.options.onState(pc.connectionState));
    return pc;
  }

  /** @param {RTCRtpTransceiver} transceiver */
  adopt(transceiver) {
    const stream = transceiver.mid === null ? undefined : this.streams.get(transceiver.mid);
    if (!stream || transceiver.currentDirection === "inactive") return;
    this.options.onTrack(stream, transceiver.receiver.track, transceiver.receiver);
  }

  /** Janus went away: every connection to it is dead; the server rejoins and says sfu-ready. */
  reset() {
    for (const publisher of this.publishers.values()) publisher.close();
    this.publishers.clear();
    this.subscriber?.close();
    this.subscriber = null;
    this.earlyCandidates = [];
    for (const stream of this.streams.values()) this.options.onStreamGone(stream);
    this.streams.clear();
    this.requested = null;
    this.lastLayers = "";
    this.negotiating = false;
    this.options.onState("connecting");
  }

  /**
   * The server refused one of our requests (Janus down or restarting): try again shortly, so a
   * refused subscription or publication is not left waiting for an answer that never comes.
   * @param {string} ref the request's type
   */
  onRefused(ref) {
    if (this.closed) return;
    if (ref === "sfu-subscribe" || ref === "sfu-start") {
      this.negotiating = false;
      this.requested = null;
    } else if (ref === "sfu-publish") {
      for (const [feed, publisher] of this.publishers) {
        if (publisher.pc.remoteDescription) continue;
        publisher.close();
        this.publishers.delete(feed);
      }
    } else {
      return;
    }
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.closed) return;
      this.start();
      if (this.options.localTrack("screen")) this.publish("screen");
      this.resubscribe();
    }, REFUSED_RETRY_MS);
  }

  /** Start over on a new server session (after our socket reconnected). */
  restart() {
    if (this.closed) return;
    this.reset();
    this.chain = Promise.resolve();
    this.start();
    if (this.options.localTrack("screen")) this.publish("screen");
  }

  close() {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const publisher of this.publishers.values()) publisher.close();
    this.publishers.clear();
    this.subscriber?.close();
    this.subscriber = null;
  }
}
