// Stand-ins for the browser's WebRTC objects (MediaStreamTrack, MediaStream, RTCDataChannel,
// RTCPeerConnection) in the Node tests of the call engine, a remote peer and the SFU session.
// Each has only the behaviour those tests rely on; a test that needs more (descriptions that are
// really applied, a connected mesh) extends or replaces one here rather than growing it for all.

/** A live track, unmuted unless made muted (a browser's receiver track is muted until media flows). */
export class FakeTrack extends EventTarget {
  static count = 0;
  /**
   * @param {"audio" | "video"} kind
   * @param {{muted?: boolean}} options
   */
  constructor(kind, { muted = false } = {}) {
    super();
    FakeTrack.count += 1;
    this.id = `${kind}-${FakeTrack.count}`;
    this.kind = kind;
    this.muted = muted;
    this.readyState = "live";
  }
  /** Media starts to flow: the track unmutes and says so, as a browser's receiver track does. */
  unmute() {
    this.muted = false;
    this.dispatchEvent(new Event("unmute"));
  }
}

export class FakeStream {
  constructor() {
    /** @type {FakeTrack[]} */
    this.tracks = [];
  }
  getAudioTracks() {
    return this.tracks.filter((track) => track.kind === "audio");
  }
  getVideoTracks() {
    return this.tracks.filter((track) => track.kind === "video");
  }
  /** @param {string} id */
  getTrackById(id) {
    return this.tracks.find((track) => track.id === id) || null;
  }
  /** @param {FakeTrack} track */
  addTrack(track) {
    this.tracks.push(track);
  }
  /** @param {FakeTrack} track */
  removeTrack(track) {
    this.tracks = this.tracks.filter((kept) => kept !== track);
  }
}

/** An open data channel that records what is sent on it; a test delivers messages with receive(). */
export class FakeChannel extends EventTarget {
  /** @param {string} label */
  constructor(label) {
    super();
    this.label = label;
    this.readyState = "open";
    /** @type {string[]} */
    this.sent = [];
  }
  /** @param {string} data */
  send(data) {
    this.sent.push(data);
  }
  /** @param {string} data */
  receive(data) {
    this.dispatchEvent(Object.assign(new Event("message"), { data }));
  }
}

/**
 * A connection whose descriptions are never applied: tests on it follow the code's decisions
 * about media, not negotiation. It starts "new" and its receivers' tracks are muted (no media
 * yet), as a browser's are; a subclass may override connectionState and receiversMuted.
 */
export class FakeConnection extends EventTarget {
  constructor() {
    super();
    /** @type {any[]} */
    this.transceivers = [];
    this.connectionState = "new";
    this.signalingState = "stable";
    this.remoteDescription = null;
    /** @type {FakeChannel | null} */
    this.meetChannel = null;
    this.receiversMuted = true;
  }
  /** @param {"audio" | "video" | FakeTrack} trackOrKind */
  addTransceiver(trackOrKind) {
    const kind = typeof trackOrKind === "string" ? trackOrKind : trackOrKind.kind;
    const receiver = { track: new FakeTrack(kind, { muted: this.receiversMuted }) };
    const transceiver = { sender: { track: null }, receiver };
    this.transceivers.push(transceiver);
    return transceiver;
  }
  /** @param {string} label */
  createDataChannel(label) {
    const channel = new FakeChannel(label);
    if (label === "meet") this.meetChannel = channel;
    return channel;
  }
  async createOffer() {
    return { type: "offer", sdp: "offer" };
  }
  async setLocalDescription() {}
  async setRemoteDescription() {}
  getTransceivers() {
    return this.transceivers;
  }
  close() {
    this.signalingState = "closed";
    this.connectionState = "closed";
  }
  /** The remote media arrives: a "track" event per transceiver, as in a browser. */
  playAll() {
    for (const transceiver of this.transceivers) {
      this.dispatchEvent(Object.assign(new Event("track"), { transceiver, track: transceiver.receiver.track }));
    }
  }
}

/** Waits one turn of the event loop, for work the code under test left to a later turn. */
export const tick = () => new Promise((resolve) => setImmediate(resolve));
