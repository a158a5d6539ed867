// One remote peer: its RTCPeerConnection, "perfect negotiation" with politeness decided by peer
// id, trickle ICE, and the ICE restart policy. It never touches the socket: every sdp and ice
// message goes out through the `send` callback, so the same peer works behind any signaling.
//
// Media layout. The peer that makes the first offer creates four transceivers in a fixed order
// (microphone, camera, screen, screen audio) plus one data channel; the answerer adopts them in
// the same order. Screen sharing and camera changes are then only `replaceTrack` calls: no
// renegotiation, and the receiver knows a screen from a camera by the transceiver's position.
//
// The decisions (who is polite, whether an offer collides, whether this side may restart ICE)
// are pure exported functions, tested under Node; nothing here touches WebRTC at import time.

import { Backoff } from "./backoff.js";
import { candidateToWire } from "./protocol.js";
import { emptyLinkStats } from "./stats.js";

/** @typedef {import("./protocol.js").Peer} Peer */
/** @typedef {import("./protocol.js").PeerState} PeerState */
/** @typedef {import("./protocol.js").Role} Role */
/** @typedef {import("./protocol.js").User} User */
/** @typedef {import("./protocol.js").SessionDescription} SessionDescription */
/** @typedef {import("./protocol.js").SdpOutMessage | import("./protocol.js").IceOutMessage} PeerSignal */
/** @typedef {import("./ice.js").IceConfig} IceConfig */
/** @typedef {import("./stats.js").LinkStats} LinkStats */
/** @typedef {"audio" | "video" | "screen" | "screen-audio"} MediaRole */
/**
 * What a peer needs from the engine that owns it.
 * @typedef {{polite: boolean, send: (message: PeerSignal) => void,
 *            localTrack: (role: MediaRole) => MediaStreamTrack | null,
 *            onUpdate: () => void, onConnected: () => void,
 *            onDataChannel: (channel: RTCDataChannel) => void}} PeerOptions
 */

/** @type {MediaRole[]} */
export const TRANSCEIVER_ROLES = ["audio", "video", "screen", "screen-audio"];
/** @type {Record<MediaRole, "audio" | "video">} */
const KIND_OF_ROLE = { audio: "audio", video: "video", screen: "video", "screen-audio": "audio" };

// A connection that stays "disconnected" this long gets an ICE restart (issue: 5 s).
export const DISCONNECTED_RESTART_MS = 5000;
// Restarts that did not bring the connection back are repeated after 4 s, doubling up to 20 s.
/** @type {import("./backoff.js").BackoffPolicy} */
export const ICE_RESTART_BACKOFF = { initialMs: 4000, factor: 2, maxMs: 20_000 };
// The polite side of a broken connection leaves the ICE restart to the impolite side, and makes
// one itself only when no offer has come from that side for this long (it may not have noticed).
// Longer than the impolite side's longest wait between two restarts, so the two never cross.
export const POLITE_RESTART_AFTER_MS = 2 * /** @type {number} */ (ICE_RESTART_BACKOFF.maxMs);

/**
 * The side with the smaller peer id is polite: in a glare it rolls back its own offer.
 * @param {string} selfPeerId
 * @param {string} remotePeerId
 * @returns {boolean}
 */
export function isPolite(selfPeerId, remotePeerId) {
  return selfPeerId < remotePeerId;
}

/**
 * Whether an incoming description is an offer that collides with one of ours: we are making
 * an offer, or are not in the stable state (W3C WebRTC spec, section 10.7).
 * @param {{descriptionType: string, makingOffer: boolean, signalingState: RTCSignalingState}} facts
 * @returns {boolean}
 */
export function isOfferCollision({ descriptionType, makingOffer, signalingState }) {
  return descriptionType === "offer" && (makingOffer || signalingState !== "stable");
}

/**
 * Perfect negotiation: the impolite side ignores a colliding offer, the polite side rolls back
 * its own and answers.
 * @param {{polite: boolean, collision: boolean}} facts
 * @returns {boolean}
 */
export function shouldIgnoreOffer({ polite, collision }) {
  return !polite && collision;
}

/**
 * Only one side restarts ICE: the impolite one. Both sides usually see a connection break
 * at once, and two restart offers crossing make a glare that perfect negotiation resolves by
 * rolling one back; in Chromium that rollback can leave the polite side's video receiver
 * decoding frames that never reach its <video> (seen in about one relayed call in three
 * after a TURN outage). The polite side still restarts when the other seems not to (no offer
 * from it for POLITE_RESTART_AFTER_MS), so a break only one side notices is mended too.
 * @param {{polite: boolean, now: number, lastRestartNews: number}} facts times in milliseconds;
 *   lastRestartNews is when the connection last broke or the peer last sent an offer
 * @returns {boolean}
 */
export function mayRestartIce({ polite, now, lastRestartNews }) {
  return !polite || now - lastRestartNews >= POLITE_RESTART_AFTER_MS;
}

/**
 * Whether a connection in this state is broken and wants (another) ICE restart.
 * @param {RTCPeerConnectionState} state
 * @returns {boolean}
 */
export function isBroken(state) {
  return state === "failed" || state === "disconnected";
}

/**
 * One remote peer and the connection to it. The roster facts (user, role, state, lost) are
 * kept here too, because the UI renders a peer from this one object.
 */
export class RemotePeer {
  /**
   * @param {Peer} peer
   * @param {PeerOptions} options
   */
  constructor(peer, { polite, send, localTrack, onUpdate, onConnected, onDataChannel }) {
    this.id = peer.peer_id;
    /** @type {User} */
    this.user = peer.user;
    /** @type {Role} */
    this.role = peer.role;
    // The server always announces a whole state (its defaults filled in); a peer the engine
    // makes up from an offer that overtook its peer-joined gets the page config's default.
    /** @type {PeerState} */
    this.state = { ...peer.state };
    this.polite = polite;
    this.send = send;
    this.localTrack = localTrack;
    this.onUpdate = onUpdate;
    this.onConnected = onConnected;
    this.onDataChannel = onDataChannel;
    // The mesh connection to this peer. In an SFU call there is none (null), or one carrying
    // only file transfers' data channels, opened when a file is sent (connect()).
    /** @type {RTCPeerConnection} */
    this.pc = /** @type {any} */ (null);
    // SFU mode: the peer's media arrives on the engine's subscriber connection instead.
    // sfuReceivers: the receivers of its tracks there, by role; viaSfu: once any of them is
    // what the tiles show (make-before-break: until then the mesh's tracks stay).
    /** @type {Map<MediaRole, RTCRtpReceiver>} */
    this.sfuReceivers = new Map();
    this.viaSfu = false;
    /** Set by the engine while the call goes through the SFU. */
    this.inSfuCall = false;
    /** @type {RTCPeerConnectionState} */
    this.sfuState = "new";
    // The mesh connection closes only when both ends receive each other through the SFU (each
    // tells the other on the `meet` channel): closing it kills both directions at once.
    this.meshCovered = false;
    this.remoteCovered = false;
    this.makingOffer = false;
    this.ignoreOffer = false;
    /** Signals from this peer are handled one at a time, in arrival order. */
    this.chain = Promise.resolve();
    this.cameraStream = new MediaStream();
    this.screenStream = new MediaStream();
    /** @type {RTCDataChannel | null} */
    this.channel = null;
    /** True once the engine dropped this peer: no more restarts. */
    this.closed = false;
    /** True while this peer's signaling is down (it may resume within the grace period). */
    this.lost = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.lostTimer = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.disconnectedTimer = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.restartTimer = null;
    this.restartBackoff = new Backoff(ICE_RESTART_BACKOFF);
    /** When the connection last broke, or the peer last sent an offer (performance.now()). */
    this.lastRestartNews = 0;
    /** @type {LinkStats} */
    this.stats = emptyLinkStats();
    this.audioLevel = 0;
    /** @type {{lost: number, received: number} | null} */
    this.lastPackets = null;
    /** @type {{energy: number, duration: number} | null} */
    this.lastEnergy = null;
  }

  /**
   * The state of the connection carrying this peer's media: the SFU's subscriber connection
   * once its media comes from there, else the mesh connection.
   * @returns {RTCPeerConnectionState}
   */
  get connectionState() {
    if (this.viaSfu) return this.sfuState;
    return this.pc ? this.pc.connectionState : "new";
  }

  /**
   * False in an SFU call while this peer's camera is not among the videos received (last-N):
   * its tile shows the avatar instead of an empty picture.
   */
  get videoReceived() {
    if (!this.inSfuCall || this.hasConnection) return true;
    return this.cameraStream.getVideoTracks().length > 0;
  }

  /** Whether the open connection is a mesh connection carrying media (not files only). */
  get hasMediaMesh() {
    return this.hasConnection && this.pc.getTransceivers().length > 0;
  }

  /** Whether a mesh connection is open (for media, or in an SFU call for files only). */
  get hasConnection() {
    return Boolean(this.pc) && this.pc.signalingState !== "closed";
  }

  /**
   * The receiver of this peer's microphone, wherever it arrives (for the speaking level).
   * @returns {RTCRtpReceiver | null}
   */
  audioReceiver() {
    if (this.viaSfu) return this.sfuReceivers.get("audio") || null;
    if (!this.hasConnection) return null;
    return this.pc.getTransceivers()[0]?.receiver || null;
  }

  /**
   * What to read link statistics from: the mesh connection, or in an SFU call the receiver of
   * this peer's camera on the subscriber connection (its report holds the shared path too).
   * @returns {RTCPeerConnection | RTCRtpReceiver | null}
   */
  linkStatsSource() {
    if (this.viaSfu) return this.sfuReceivers.get("video") || this.sfuReceivers.get("audio") || null;
    return this.hasConnection ? this.pc : null;
  }

  /**
   * One of this peer's tracks arrived through the SFU. It replaces the mesh's track in the
   * tile's stream once it carries media (make-before-break), and the mesh connection closes
   * when every track it was still receiving has its SFU twin playing.
   * @param {MediaRole} role
   * @param {MediaStreamTrack} track
   * @param {RTCRtpReceiver} receiver
   */
  adoptSfuTrack(role, track, receiver) {
    if (this.sfuReceivers.get(role) === receiver && this.streamFor(role).getTrackById(track.id)) return;
    this.sfuReceivers.set(role, receiver);
    const swap = () => {
      if (this.closed || this.sfuReceivers.get(role) !== receiver) return;
      const stream = this.streamFor(role);
      const audio = role.endsWith("audio");
      for (const old of audio ? stream.getAudioTracks() : stream.getVideoTracks()) {
        if (old !== track) stream.removeTrack(old);
      }
      if (!stream.getTrackById(track.id)) stream.addTrack(track);
      this.viaSfu = true;
      this.dropMeshIfCovered();
      this.onUpdate();
    };
    // A track that is not yet receiving would freeze the tile: the mesh's stays until it does.
    if (track.muted && this.meshTrackLive(role)) track.addEventListener("unmute", swap, { once: true });
    else swap();
  }

  /**
   * The SFU stopped sending one of this peer's tracks (unsubscribed, or the feed ended).
   * @param {MediaRole} role
   */
  dropSfuTrack(role) {
    const receiver = this.sfuReceivers.get(role);
    if (!receiver) return;
    this.sfuReceivers.delete(role);
    const stream = this.streamFor(role);
    if (stream.getTrackById(receiver.track.id)) stream.removeTrack(receiver.track);
    this.onUpdate();
  }

  /**
   * @param {MediaRole} role
   * @returns {MediaStream}
   */
  streamFor(role) {
    return role === "screen" || role === "screen-audio" ? this.screenStream : this.cameraStream;
  }

  /**
   * Whether the mesh connection is receiving media for this role now.
   * @param {MediaRole} role
   */
  meshTrackLive(role) {
    if (!this.hasConnection) return false;
    const transceiver = this.pc.getTransceivers()[TRANSCEIVER_ROLES.indexOf(role)];
    const track = transceiver?.receiver.track;
    return Boolean(track) && track.readyState === "live" && !track.muted;
  }

  /** Close the mesh connection once the SFU carries everything it still carried. */
  dropMeshIfCovered() {
    if (!this.hasConnection || this.pc.getTransceivers().length === 0) return;
    const uncovered = TRANSCEIVER_ROLES.filter((role) => {
      if (!this.meshTrackLive(role)) return false;
      const receiver = this.sfuReceivers.get(role);
      return !receiver || !this.streamFor(role).getTrackById(receiver.track.id);
    });
    if (uncovered.length > 0 || this.meshCovered) return;
    this.meshCovered = true;
    try {
      if (this.channel?.readyState === "open") this.channel.send(JSON.stringify({ type: "sfu-covered" }));
    } catch (error) {
      console.warn("call: could not tell the peer its media is covered", error);
    }
    if (this.remoteCovered) this.dropMesh();
  }

  /**
   * A message on the mesh's `meet` channel.
   * @param {MessageEvent} event
   */
  onChannelMessage(event) {
    if (typeof event.data !== "string" || !event.data.includes("sfu-covered")) return;
    this.remoteCovered = true;
    if (this.meshCovered) this.dropMesh();
  }

  /** The call moved to the SFU and its media flows: the mesh connection goes, and with it
   * every track it carried that the SFU did not replace (a camera beyond last-N shows the
   * avatar then, not a frozen picture). */
  dropMesh() {
    if (!this.pc) return;
    const fromSfu = new Set([...this.sfuReceivers.values()].map((receiver) => receiver.track));
    for (const transceiver of this.pc.getTransceivers()) {
      const track = transceiver.receiver.track;
      if (!track || fromSfu.has(track)) continue;
      for (const stream of [this.cameraStream, this.screenStream]) {
        if (stream.getTrackById(track.id)) stream.removeTrack(track);
      }
    }
    if (this.disconnectedTimer) clearTimeout(this.disconnectedTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.disconnectedTimer = this.restartTimer = null;
    const pc = this.pc;
    this.pc = /** @type {any} */ (null);
    this.channel = null;
    pc.close();
    this.onUpdate();
  }

  /**
   * Create the connection; call once, right after construction (in a mesh), or in an SFU call
   * when a file is to be sent or another peer offers a connection for one.
   * @param {IceConfig} iceConfig
   */
  connect(iceConfig) {
    const pc = new RTCPeerConnection({ ...iceConfig, bundlePolicy: "max-bundle" });
    this.pc = pc;
    pc.addEventListener("negotiationneeded", () => this.negotiate(pc));
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate) {
        this.send({ type: "ice", to: this.id, candidate: candidateToWire(event.candidate) });
      }
    });
    pc.addEventListener("track", (event) => this.onRemoteTrack(event));
    pc.addEventListener("datachannel", (event) => this.adoptChannel(event.channel));
    pc.addEventListener("connectionstatechange", () => this.onConnectionState(pc));
  }

  /** The offering side lays out the fixed transceivers and the `meet` data channel. */
  startOffer() {
    for (const role of TRANSCEIVER_ROLES) {
      const track = this.localTrack(role);
      this.pc.addTransceiver(track || KIND_OF_ROLE[role], { direction: "sendrecv" });
    }
    // A data channel in the first offer negotiates SCTP once; file transfers open more.
    this.adoptChannel(this.pc.createDataChannel("meet"));
  }

  /**
   * New TURN credentials reach the connection without renegotiating.
   * @param {IceConfig} config
   */
  setIceConfig(config) {
    if (!this.hasConnection) return;
    try {
      this.pc.setConfiguration({ ...this.pc.getConfiguration(), ...config });
    } catch (error) {
      console.warn("call: setConfiguration failed", error);
    }
  }

  /** @param {RTCPeerConnection} pc */
  async negotiate(pc) {
    if (this.pc !== pc) return;
    try {
      this.makingOffer = true;
      await pc.setLocalDescription();
      if (pc.localDescription) this.sendDescription(pc.localDescription);
    } catch (error) {
      console.warn(`call: making an offer to ${this.id} failed`, error);
    } finally {
      this.makingOffer = false;
    }
  }

  /** @param {RTCSessionDescription} description */
  sendDescription(description) {
    this.send({ type: "sdp", to: this.id, description: { type: description.type, sdp: description.sdp } });
  }

  /**
   * An `sdp` or `ice` message from this peer, handled after the ones before it.
   * @param {{type: "sdp" | "ice", description?: SessionDescription, candidate?: any}} message
   */
  signal(message) {
    this.chain = this.chain
      .then(() =>
        message.type === "sdp"
          ? this.onDescription(/** @type {SessionDescription} */ (message.description))
          : this.onCandidate(message.candidate),
      )
      .catch((error) => console.warn(`call: signal from ${this.id} failed`, error));
  }

  /**
   * Perfect negotiation (W3C WebRTC spec, section 10.7): the impolite side ignores a colliding
   * offer, the polite side rolls back its own and answers.
   * @param {SessionDescription} description
   */
  async onDescription(description) {
    const pc = this.pc;
    if (!description || typeof description.type !== "string") return;
    const collision = isOfferCollision({
      descriptionType: description.type,
      makingOffer: this.makingOffer,
      signalingState: pc.signalingState,
    });
    this.ignoreOffer = shouldIgnoreOffer({ polite: this.polite, collision });
    if (this.ignoreOffer) return;
    if (description.type === "offer") this.lastRestartNews = performance.now();
    await pc.setRemoteDescription(/** @type {RTCSessionDescriptionInit} */ (description));
    if (description.type === "offer") {
      await this.adoptTransceivers();
      await pc.setLocalDescription();
      if (pc.localDescription) this.sendDescription(pc.localDescription);
    }
  }

  /** The answerer sends on the transceivers the offer created, in their fixed roles. */
  async adoptTransceivers() {
    const transceivers = this.pc.getTransceivers();
    for (let index = 0; index < TRANSCEIVER_ROLES.length && index < transceivers.length; index++) {
      const transceiver = transceivers[index];
      if (transceiver.currentDirection === "stopped") continue;
      if (transceiver.direction !== "sendrecv") transceiver.direction = "sendrecv";
      const track = this.localTrack(TRANSCEIVER_ROLES[index]);
      if (transceiver.sender.track !== track) await transceiver.sender.replaceTrack(track);
    }
  }

  /** @param {any} candidate */
  async onCandidate(candidate) {
    if (!candidate || !this.hasConnection) return;
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      // Candidates for an offer we ignored in a collision are expected to fail.
      if (!this.ignoreOffer) console.warn(`call: bad candidate from ${this.id}`, error);
    }
  }

  /** @param {RTCTrackEvent} event */
  onRemoteTrack(event) {
    if (this.viaSfu) return;
    const index = this.pc.getTransceivers().indexOf(event.transceiver);
    const role = TRANSCEIVER_ROLES[index];
    if (!role) return;
    const stream = role === "screen" || role === "screen-audio" ? this.screenStream : this.cameraStream;
    for (const old of role.endsWith("audio") ? stream.getAudioTracks() : stream.getVideoTracks()) {
      if (old !== event.track) stream.removeTrack(old);
    }
    if (!stream.getTrackById(event.track.id)) stream.addTrack(event.track);
    this.onUpdate();
  }

  /** @param {RTCDataChannel} channel */
  adoptChannel(channel) {
    if (channel.label === "meet") {
      this.channel = channel;
      channel.addEventListener("message", (event) => this.onChannelMessage(event));
      return;
    }
    this.onDataChannel(channel);
  }

  /** @param {RTCPeerConnection} pc */
  onConnectionState(pc) {
    if (this.pc !== pc) return;
    const state = pc.connectionState;
    if (this.disconnectedTimer) clearTimeout(this.disconnectedTimer);
    this.disconnectedTimer = null;
    if (state === "failed") {
      this.onBroken(pc);
    } else if (state === "disconnected") {
      this.disconnectedTimer = setTimeout(() => {
        if (this.pc === pc && pc.connectionState === "disconnected") this.onBroken(pc);
      }, DISCONNECTED_RESTART_MS);
    } else if (state === "connected") {
      if (this.restartTimer) clearTimeout(this.restartTimer);
      this.restartTimer = null;
      this.restartBackoff.reset();
      this.onConnected();
    }
    this.onUpdate();
  }

  /**
   * The connection failed, or stayed disconnected too long: restart ICE, and keep trying.
   * @param {RTCPeerConnection} pc
   */
  onBroken(pc) {
    if (!this.restartTimer) this.lastRestartNews = performance.now();
    this.restartIce();
    this.retryRestart(pc);
  }

  /**
   * A restart made while the network (or the TURN server) is still down fails too, and a
   * connection that stays "failed" fires no further event; so restarts repeat, with backoff,
   * until the connection recovers or the peer goes.
   * @param {RTCPeerConnection} pc
   */
  retryRestart(pc) {
    if (this.restartTimer) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.pc !== pc || this.closed || !isBroken(pc.connectionState)) return;
      this.restartIce();
      this.restartBackoff.advance();
      this.retryRestart(pc);
    }, this.restartBackoff.delay());
  }

  restartIce() {
    if (this.closed || !this.hasConnection) return;
    const now = performance.now();
    if (!mayRestartIce({ polite: this.polite, now, lastRestartNews: this.lastRestartNews })) return;
    console.info(`call: restarting ICE with ${this.id}`);
    try {
      this.pc.restartIce();
    } catch (error) {
      console.warn("call: restartIce failed", error);
    }
  }

  /**
   * After a signaling outage an offer may have gone nowhere; send it again, or restart ICE if
   * the connection gave up meanwhile.
   */
  repairAfterOutage() {
    if (!this.hasConnection) return;
    const pc = this.pc;
    if (pc.signalingState === "have-local-offer" && pc.localDescription) {
      this.sendDescription(pc.localDescription);
    } else if (isBroken(pc.connectionState)) {
      this.onBroken(pc);
    }
  }

  /**
   * Send another local track in a role: no renegotiation, the transceiver stays.
   * @param {MediaRole} role
   * @param {MediaStreamTrack | null} track
   * @returns {Promise<void> | null} null when there is nothing to replace
   */
  replaceTrack(role, track) {
    if (!this.hasConnection) return null;
    const transceiver = this.pc.getTransceivers()[TRANSCEIVER_ROLES.indexOf(role)];
    if (!transceiver || transceiver.sender.track === track) return null;
    return transceiver.sender
      .replaceTrack(track)
      .catch((error) => console.warn(`call: replaceTrack(${role}) failed`, error));
  }

  /**
   * Set the camera copy's bitrate cap and scale, if they differ.
   * @param {{maxBitrate: number, scaleResolutionDownBy: number}} wanted
   */
  setCameraEncoding(wanted) {
    if (!this.hasConnection) return;
    const sender = this.pc.getTransceivers()[1]?.sender;
    if (!sender || !sender.track) return;
    const parameters = sender.getParameters();
    if (!parameters.encodings || parameters.encodings.length === 0) return;
    const encoding = parameters.encodings[0];
    if (
      encoding.maxBitrate === wanted.maxBitrate &&
      encoding.scaleResolutionDownBy === wanted.scaleResolutionDownBy
    ) {
      return;
    }
    encoding.maxBitrate = wanted.maxBitrate;
    encoding.scaleResolutionDownBy = wanted.scaleResolutionDownBy;
    sender.setParameters(parameters).catch(() => {
      // Not every state allows it; the next connection change tries again.
    });
  }

  /** Stop everything: timers, restarts and the connection. */
  close() {
    this.closed = true;
    if (this.lostTimer) clearTimeout(this.lostTimer);
    if (this.disconnectedTimer) clearTimeout(this.disconnectedTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.pc?.close();
  }
}
