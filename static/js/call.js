// The call: one RTCPeerConnection per remote peer (full mesh), "perfect negotiation" with
// politeness decided by peer id, trickle ICE, ICE restarts, and stats for each connection.
//
// Media layout. The peer that makes the first offer creates four transceivers in a fixed order
// (microphone, camera, screen, screen audio) plus one data channel; the answerer adopts them in
// the same order. Screen sharing and camera changes are then only `replaceTrack` calls: no
// renegotiation, and the receiver knows a screen from a camera by the transceiver's position.

import { candidateToWire, RESUME_GRACE_MS } from "./protocol.js";

/** @typedef {import("./protocol.js").Peer} Peer */
/** @typedef {import("./protocol.js").PeerState} PeerState */
/** @typedef {import("./protocol.js").User} User */
/** @typedef {import("./protocol.js").SessionDescription} SessionDescription */
/** @typedef {import("./signaling.js").Signaling} Signaling */
/** @typedef {import("./ice.js").IceConfig} IceConfig */
/** @typedef {import("./media.js").LocalMedia} LocalMedia */
/** @typedef {import("./media.js").TrackChange} TrackChange */
/** @typedef {"audio" | "video" | "screen" | "screen-audio"} MediaRole */
/**
 * @typedef {{path: "direct" | "relay" | null, rttMs: number | null, lossPercent: number | null,
 *            localType: string | null, remoteType: string | null}} LinkStats
 */

/** @type {MediaRole[]} */
const TRANSCEIVER_ROLES = ["audio", "video", "screen", "screen-audio"];
const KIND_OF_ROLE = { audio: "audio", video: "video", screen: "video", "screen-audio": "audio" };

// A connection that stays "disconnected" this long gets an ICE restart (issue: 5 s).
const DISCONNECTED_RESTART_MS = 5000;
// Restarts that did not bring the connection back are repeated after this, doubling up to a cap.
const RESTART_RETRY_MS = 4000;
const RESTART_RETRY_MAX_MS = 20_000;
// The polite side of a broken connection leaves the ICE restart to the impolite side, and makes
// one itself only when no offer has come from that side for this long (it may not have noticed).
// Longer than the impolite side's longest wait between two restarts, so the two never cross.
const POLITE_RESTART_AFTER_MS = 2 * RESTART_RETRY_MAX_MS;
const STATS_INTERVAL_MS = 2000;
const LEVELS_INTERVAL_MS = 400;

// Camera encoding by mesh size: every sender encodes and uploads one copy per peer, so a
// bigger mesh gets smaller copies (bitrate and resolution) to fit CPUs and home uplinks.
/**
 * @param {number} peerCount
 * @returns {{maxBitrate: number, scaleResolutionDownBy: number}}
 */
function cameraEncodingFor(peerCount) {
  if (peerCount <= 1) return { maxBitrate: 1_500_000, scaleResolutionDownBy: 1 };
  if (peerCount <= 3) return { maxBitrate: 800_000, scaleResolutionDownBy: 1.5 };
  return { maxBitrate: 450_000, scaleResolutionDownBy: 2 };
}

/**
 * One remote peer and the connection to it.
 */
export class RemotePeer {
  /**
   * @param {Peer} peer
   * @param {boolean} polite
   */
  constructor(peer, polite) {
    this.id = peer.peer_id;
    /** @type {User} */
    this.user = peer.user;
    this.role = peer.role;
    /** @type {PeerState} */
    this.state = { audio: true, video: true, screen: false, hand: false, ...(peer.state || {}) };
    this.polite = polite;
    /** @type {RTCPeerConnection} */
    this.pc = /** @type {any} */ (null);
    this.makingOffer = false;
    this.ignoreOffer = false;
    /** Signals from this peer are handled one at a time, in arrival order. */
    this.chain = Promise.resolve();
    this.cameraStream = new MediaStream();
    this.screenStream = new MediaStream();
    /** @type {RTCDataChannel | null} */
    this.channel = null;
    /** True while this peer's signaling is down (it may resume within the grace period). */
    this.lost = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.lostTimer = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.disconnectedTimer = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.restartTimer = null;
    this.restartDelay = RESTART_RETRY_MS;
    /** When the connection last broke, or the peer last sent an offer (performance.now()). */
    this.lastRestartNews = 0;
    /** @type {LinkStats} */
    this.stats = { path: null, rttMs: null, lossPercent: null, localType: null, remoteType: null };
    this.audioLevel = 0;
    /** @type {{lost: number, received: number} | null} */
    this.lastPackets = null;
    /** @type {{energy: number, duration: number} | null} */
    this.lastEnergy = null;
  }
}

/**
 * Events (all CustomEvent, detail shown):
 * "peer-added" (RemotePeer), "peer-removed" ({peer: RemotePeer, reason: string}),
 * "peer-updated" (RemotePeer: connection state, lost flag, tracks), "stats" (RemotePeer),
 * "levels" (RemotePeer[]), "datachannel" ({peer: RemotePeer, channel: RTCDataChannel}).
 */
export class Call extends EventTarget {
  /**
   * @param {{signaling: Signaling, media: LocalMedia, iceConfig: IceConfig}} options
   */
  constructor({ signaling, media, iceConfig }) {
    super();
    this.signaling = signaling;
    this.media = media;
    this.iceConfig = iceConfig;
    /** @type {string} */
    this.selfPeerId = "";
    /** @type {Map<string, RemotePeer>} */
    this.peers = new Map();
    this.ended = false;
    this.pollingLevels = false;
    this.statsTimer = setInterval(() => this.pollStats(), STATS_INTERVAL_MS);
    this.levelsTimer = setInterval(() => this.pollLevels(), LEVELS_INTERVAL_MS);
    media.addEventListener("trackchange", (event) => {
      const change = /** @type {CustomEvent<TrackChange>} */ (event).detail;
      this.onLocalTrack(change.kind, change.track);
    });
  }

  /**
   * New TURN credentials reach every existing connection without renegotiating.
   * @param {IceConfig} config
   */
  setIceConfig(config) {
    this.iceConfig = config;
    for (const peer of this.peers.values()) {
      try {
        peer.pc.setConfiguration({ ...peer.pc.getConfiguration(), ...config });
      } catch (error) {
        console.warn("call: setConfiguration failed", error);
      }
    }
  }

  /**
   * Connect to a peer. The side that learned of the other from `welcome` offers; the side that
   * learned from `peer-joined` waits for that offer, so the two never race at the start.
   * @param {Peer} info
   * @param {{offer: boolean}} options
   * @returns {RemotePeer}
   */
  addPeer(info, { offer }) {
    const existing = this.peers.get(info.peer_id);
    if (existing) {
      existing.user = info.user || existing.user;
      existing.role = info.role || existing.role;
      if (info.state) existing.state = { ...existing.state, ...info.state };
      this.dispatchEvent(new CustomEvent("peer-updated", { detail: existing }));
      return existing;
    }
    const peer = new RemotePeer(info, this.selfPeerId < info.peer_id);
    this.peers.set(peer.id, peer);
    this.createConnection(peer);
    if (offer) {
      for (const role of TRANSCEIVER_ROLES) {
        const track = this.localTrackFor(role);
        peer.pc.addTransceiver(track || KIND_OF_ROLE[role], { direction: "sendrecv" });
      }
      // A data channel in the first offer negotiates SCTP once; file transfers open more.
      this.adoptChannel(peer, peer.pc.createDataChannel("meet"));
    }
    this.dispatchEvent(new CustomEvent("peer-added", { detail: peer }));
    return peer;
  }

  /** @param {RemotePeer} peer */
  createConnection(peer) {
    const pc = new RTCPeerConnection({ ...this.iceConfig, bundlePolicy: "max-bundle" });
    peer.pc = pc;
    pc.addEventListener("negotiationneeded", () => this.negotiate(peer, pc));
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate) {
        this.signaling.send({ type: "ice", to: peer.id, candidate: candidateToWire(event.candidate) });
      }
    });
    pc.addEventListener("track", (event) => this.onRemoteTrack(peer, event));
    pc.addEventListener("datachannel", (event) => this.adoptChannel(peer, event.channel));
    pc.addEventListener("connectionstatechange", () => this.onConnectionState(peer, pc));
  }

  /**
   * @param {RemotePeer} peer
   * @param {RTCPeerConnection} pc
   */
  async negotiate(peer, pc) {
    if (peer.pc !== pc) return;
    try {
      peer.makingOffer = true;
      await pc.setLocalDescription();
      if (pc.localDescription) this.sendDescription(peer, pc.localDescription);
    } catch (error) {
      console.warn(`call: making an offer to ${peer.id} failed`, error);
    } finally {
      peer.makingOffer = false;
    }
  }

  /**
   * @param {RemotePeer} peer
   * @param {RTCSessionDescription} description
   */
  sendDescription(peer, description) {
    this.signaling.send({
      type: "sdp",
      to: peer.id,
      description: { type: description.type, sdp: description.sdp },
    });
  }

  /**
   * An `sdp` or `ice` message from the server.
   * @param {{type: "sdp" | "ice", from: string, description?: SessionDescription,
   *          candidate?: any}} message
   */
  onSignal(message) {
    let peer = this.peers.get(message.from);
    if (!peer) {
      // An offer can overtake its `peer-joined` only through a server bug, but answering it is
      // still right: the sender is in the room, the server stamped its id.
      if (message.type !== "sdp" || message.description?.type !== "offer") return;
      peer = this.addPeer(
        {
          peer_id: message.from,
          user: { id: 0, username: "", display_name: "" },
          role: "member",
          state: { audio: true, video: true, screen: false, hand: false },
        },
        { offer: false },
      );
    }
    const target = peer;
    target.chain = target.chain
      .then(() =>
        message.type === "sdp"
          ? this.onDescription(target, /** @type {SessionDescription} */ (message.description))
          : this.onCandidate(target, message.candidate),
      )
      .catch((error) => console.warn(`call: signal from ${target.id} failed`, error));
  }

  /**
   * Perfect negotiation (W3C WebRTC spec, section 10.7): the impolite side ignores a colliding
   * offer, the polite side rolls back its own and answers.
   * @param {RemotePeer} peer
   * @param {SessionDescription} description
   */
  async onDescription(peer, description) {
    const pc = peer.pc;
    if (!description || typeof description.type !== "string") return;
    const offerCollision =
      description.type === "offer" && (peer.makingOffer || pc.signalingState !== "stable");
    peer.ignoreOffer = !peer.polite && offerCollision;
    if (peer.ignoreOffer) return;
    if (description.type === "offer") peer.lastRestartNews = performance.now();
    await pc.setRemoteDescription(/** @type {RTCSessionDescriptionInit} */ (description));
    if (description.type === "offer") {
      await this.adoptTransceivers(peer);
      await pc.setLocalDescription();
      if (pc.localDescription) this.sendDescription(peer, pc.localDescription);
    }
  }

  /**
   * The answerer sends on the transceivers the offer created, in their fixed roles.
   * @param {RemotePeer} peer
   */
  async adoptTransceivers(peer) {
    const transceivers = peer.pc.getTransceivers();
    for (let index = 0; index < TRANSCEIVER_ROLES.length && index < transceivers.length; index++) {
      const transceiver = transceivers[index];
      if (transceiver.currentDirection === "stopped") continue;
      if (transceiver.direction !== "sendrecv") transceiver.direction = "sendrecv";
      const track = this.localTrackFor(TRANSCEIVER_ROLES[index]);
      if (transceiver.sender.track !== track) await transceiver.sender.replaceTrack(track);
    }
  }

  /**
   * @param {RemotePeer} peer
   * @param {any} candidate
   */
  async onCandidate(peer, candidate) {
    if (!candidate) return;
    try {
      await peer.pc.addIceCandidate(candidate);
    } catch (error) {
      // Candidates for an offer we ignored in a collision are expected to fail.
      if (!peer.ignoreOffer) console.warn(`call: bad candidate from ${peer.id}`, error);
    }
  }

  /**
   * @param {RemotePeer} peer
   * @param {RTCTrackEvent} event
   */
  onRemoteTrack(peer, event) {
    const index = peer.pc.getTransceivers().indexOf(event.transceiver);
    const role = TRANSCEIVER_ROLES[index];
    if (!role) return;
    const stream = role === "screen" || role === "screen-audio" ? peer.screenStream : peer.cameraStream;
    for (const old of role.endsWith("audio") ? stream.getAudioTracks() : stream.getVideoTracks()) {
      if (old !== event.track) stream.removeTrack(old);
    }
    if (!stream.getTrackById(event.track.id)) stream.addTrack(event.track);
    this.dispatchEvent(new CustomEvent("peer-updated", { detail: peer }));
  }

  /**
   * @param {RemotePeer} peer
   * @param {RTCDataChannel} channel
   */
  adoptChannel(peer, channel) {
    if (channel.label === "meet") {
      peer.channel = channel;
      return;
    }
    this.dispatchEvent(new CustomEvent("datachannel", { detail: { peer, channel } }));
  }

  /**
   * @param {RemotePeer} peer
   * @param {RTCPeerConnection} pc
   */
  onConnectionState(peer, pc) {
    if (peer.pc !== pc) return;
    const state = pc.connectionState;
    if (peer.disconnectedTimer) clearTimeout(peer.disconnectedTimer);
    peer.disconnectedTimer = null;
    if (state === "failed") {
      this.onBroken(peer, pc);
    } else if (state === "disconnected") {
      peer.disconnectedTimer = setTimeout(() => {
        if (peer.pc === pc && pc.connectionState === "disconnected") this.onBroken(peer, pc);
      }, DISCONNECTED_RESTART_MS);
    } else if (state === "connected") {
      if (peer.restartTimer) clearTimeout(peer.restartTimer);
      peer.restartTimer = null;
      peer.restartDelay = RESTART_RETRY_MS;
      this.tuneBitrates();
    }
    this.dispatchEvent(new CustomEvent("peer-updated", { detail: peer }));
  }

  /**
   * The connection failed, or stayed disconnected too long: restart ICE, and keep trying.
   * @param {RemotePeer} peer
   * @param {RTCPeerConnection} pc
   */
  onBroken(peer, pc) {
    if (!peer.restartTimer) peer.lastRestartNews = performance.now();
    this.restartIce(peer);
    this.retryRestart(peer, pc);
  }

  /**
   * Only one side restarts ICE: the impolite one. Both sides usually see a connection break
   * at once, and two restart offers crossing make a glare that perfect negotiation resolves by
   * rolling one back; in Chromium that rollback can leave the polite side's video receiver
   * decoding frames that never reach its <video> (seen in about one relayed call in three
   * after a TURN outage). The polite side still restarts when the other seems not to (no offer
   * from it for POLITE_RESTART_AFTER_MS), so a break only one side notices is mended too.
   * @param {RemotePeer} peer
   * @returns {boolean}
   */
  mayRestartIce(peer) {
    return !peer.polite || performance.now() - peer.lastRestartNews >= POLITE_RESTART_AFTER_MS;
  }

  /**
   * A restart made while the network (or the TURN server) is still down fails too, and a
   * connection that stays "failed" fires no further event; so restarts repeat, with backoff,
   * until the connection recovers or the peer goes.
   * @param {RemotePeer} peer
   * @param {RTCPeerConnection} pc
   */
  retryRestart(peer, pc) {
    if (peer.restartTimer) return;
    peer.restartTimer = setTimeout(() => {
      peer.restartTimer = null;
      const state = pc.connectionState;
      const broken = state === "failed" || state === "disconnected";
      if (peer.pc !== pc || !this.peers.has(peer.id) || !broken) return;
      this.restartIce(peer);
      peer.restartDelay = Math.min(peer.restartDelay * 2, RESTART_RETRY_MAX_MS);
      this.retryRestart(peer, pc);
    }, peer.restartDelay);
  }

  /** @param {RemotePeer} peer */
  restartIce(peer) {
    if (this.ended || !this.peers.has(peer.id) || !this.mayRestartIce(peer)) return;
    console.info(`call: restarting ICE with ${peer.id}`);
    try {
      peer.pc.restartIce();
    } catch (error) {
      console.warn("call: restartIce failed", error);
    }
  }

  /**
   * @param {MediaRole} role
   * @returns {MediaStreamTrack | null}
   */
  localTrackFor(role) {
    if (role === "audio") return this.media.micTrack;
    if (role === "video") return this.media.cameraTrack;
    if (role === "screen") return this.media.screenTrack;
    return this.media.screenAudioTrack;
  }

  /**
   * @param {MediaRole} role
   * @param {MediaStreamTrack | null} track
   */
  onLocalTrack(role, track) {
    const index = TRANSCEIVER_ROLES.indexOf(role);
    const replacing = [];
    for (const peer of this.peers.values()) {
      const transceiver = peer.pc.getTransceivers()[index];
      if (!transceiver || transceiver.sender.track === track) continue;
      replacing.push(
        transceiver.sender
          .replaceTrack(track)
          .catch((error) => console.warn(`call: replaceTrack(${role}) failed`, error)),
      );
    }
    if (role === "video") Promise.allSettled(replacing).then(() => this.tuneBitrates());
  }

  /** Each camera copy shrinks as the mesh grows, so eight people fit a laptop and an uplink. */
  tuneBitrates() {
    const wanted = cameraEncodingFor(this.peers.size);
    for (const peer of this.peers.values()) {
      const sender = peer.pc.getTransceivers()[1]?.sender;
      if (!sender || !sender.track) continue;
      const parameters = sender.getParameters();
      if (!parameters.encodings || parameters.encodings.length === 0) continue;
      const encoding = parameters.encodings[0];
      if (
        encoding.maxBitrate === wanted.maxBitrate &&
        encoding.scaleResolutionDownBy === wanted.scaleResolutionDownBy
      ) {
        continue;
      }
      encoding.maxBitrate = wanted.maxBitrate;
      encoding.scaleResolutionDownBy = wanted.scaleResolutionDownBy;
      sender.setParameters(parameters).catch(() => {
        // Not every state allows it; the next connection change tries again.
      });
    }
  }

  /**
   * Our own signaling resumed: keep every connection that works, finish interrupted offers.
   * @param {Peer[]} present the peers the server lists now
   */
  resume(present) {
    const presentIds = new Set(present.map((peer) => peer.peer_id));
    for (const info of present) {
      const peer = this.peers.get(info.peer_id);
      if (!peer) {
        this.addPeer(info, { offer: true });
        continue;
      }
      this.addPeer(info, { offer: false });
      this.markFound(peer);
      this.repairAfterOutage(peer);
    }
    // Peers missing from the list may still be reconnecting themselves (a restarted server
    // hears from clients one at a time); they get the same grace as a `connection-lost`.
    for (const peer of this.peers.values()) {
      if (!presentIds.has(peer.id)) this.markLost(peer);
    }
  }

  /**
   * After a signaling outage an offer may have gone nowhere; send it again, or restart ICE if
   * the connection gave up meanwhile.
   * @param {RemotePeer} peer
   */
  repairAfterOutage(peer) {
    const pc = peer.pc;
    if (pc.signalingState === "have-local-offer" && pc.localDescription) {
      this.sendDescription(peer, pc.localDescription);
    } else if (pc.connectionState === "failed" || pc.connectionState === "disconnected") {
      this.onBroken(peer, pc);
    }
  }

  /**
   * A peer's signaling dropped: keep its connection (media is peer to peer) for the grace.
   * @param {RemotePeer} peer
   */
  markLost(peer) {
    if (peer.lost) return;
    peer.lost = true;
    peer.lostTimer = setTimeout(() => this.removePeer(peer.id, "connection-lost"), RESUME_GRACE_MS);
    this.dispatchEvent(new CustomEvent("peer-updated", { detail: peer }));
  }

  /** @param {RemotePeer} peer */
  markFound(peer) {
    if (peer.lostTimer) clearTimeout(peer.lostTimer);
    peer.lostTimer = null;
    if (!peer.lost) return;
    peer.lost = false;
    this.dispatchEvent(new CustomEvent("peer-updated", { detail: peer }));
  }

  /**
   * `peer-joined`: a newcomer (we wait for its offer) or a peer that resumed (we keep its pc).
   * @param {Peer & {resumed?: boolean}} info
   */
  onPeerJoined(info) {
    const peer = this.peers.get(info.peer_id);
    if (peer) {
      this.addPeer(info, { offer: false });
      this.markFound(peer);
      this.repairAfterOutage(peer);
      return;
    }
    this.addPeer(info, { offer: false });
  }

  /**
   * @param {string} peerId
   * @param {string} reason
   */
  onPeerLeft(peerId, reason) {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    if (reason === "connection-lost") this.markLost(peer);
    else this.removePeer(peerId, reason);
  }

  /**
   * @param {string} peerId
   * @param {PeerState} state
   */
  onPeerState(peerId, state) {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    peer.state = { ...peer.state, ...state };
    this.dispatchEvent(new CustomEvent("peer-updated", { detail: peer }));
  }

  /**
   * The owner (or staff) changed a peer's role during the call.
   * @param {string} peerId
   * @param {string} role
   */
  onPeerRole(peerId, role) {
    const peer = this.peers.get(peerId);
    if (!peer || peer.role === role) return;
    peer.role = role;
    this.dispatchEvent(new CustomEvent("peer-updated", { detail: peer }));
  }

  /**
   * @param {string} peerId
   * @param {string} reason
   */
  removePeer(peerId, reason) {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.peers.delete(peerId);
    if (peer.lostTimer) clearTimeout(peer.lostTimer);
    if (peer.disconnectedTimer) clearTimeout(peer.disconnectedTimer);
    if (peer.restartTimer) clearTimeout(peer.restartTimer);
    peer.pc.close();
    this.dispatchEvent(new CustomEvent("peer-removed", { detail: { peer, reason } }));
    this.tuneBitrates();
  }

  /** @param {string} reason */
  removeAll(reason) {
    for (const id of [...this.peers.keys()]) this.removePeer(id, reason);
  }

  end() {
    this.ended = true;
    clearInterval(this.statsTimer);
    clearInterval(this.levelsTimer);
    this.removeAll("left");
  }

  async pollStats() {
    for (const peer of this.peers.values()) {
      const pc = peer.pc;
      if (pc.connectionState !== "connected") continue;
      try {
        const report = await pc.getStats();
        this.readStats(peer, report);
        this.dispatchEvent(new CustomEvent("stats", { detail: peer }));
      } catch (error) {
        // A connection closed between the check and the call has no stats; nothing to show.
      }
    }
  }

  /**
   * @param {RemotePeer} peer
   * @param {RTCStatsReport} report
   */
  readStats(peer, report) {
    /** @type {any} */
    let pair = null;
    let lost = 0;
    let received = 0;
    report.forEach((/** @type {any} */ stat) => {
      if (stat.type === "transport" && stat.selectedCandidatePairId) {
        pair = report.get(stat.selectedCandidatePairId) || pair;
      }
      if (stat.type === "inbound-rtp") {
        lost += stat.packetsLost || 0;
        received += stat.packetsReceived || 0;
      }
    });
    if (pair) {
      const local = report.get(pair.localCandidateId);
      const remote = report.get(pair.remoteCandidateId);
      peer.stats.localType = local ? local.candidateType : null;
      peer.stats.remoteType = remote ? remote.candidateType : null;
      const relayed = peer.stats.localType === "relay" || peer.stats.remoteType === "relay";
      peer.stats.path = relayed ? "relay" : "direct";
      peer.stats.rttMs =
        typeof pair.currentRoundTripTime === "number"
          ? Math.round(pair.currentRoundTripTime * 1000)
          : null;
    }
    if (peer.lastPackets) {
      const lostDelta = Math.max(0, lost - peer.lastPackets.lost);
      const receivedDelta = Math.max(0, received - peer.lastPackets.received);
      const total = lostDelta + receivedDelta;
      peer.stats.lossPercent = total > 0 ? Math.round((lostDelta / total) * 1000) / 10 : 0;
    }
    peer.lastPackets = { lost, received };
  }

  /**
   * Each peer's loudness over the last interval, from the receiver's inbound-rtp audio energy.
   * The level of the last packet alone (getSynchronizationSources) misses short sounds: a poll
   * lands on the silence between them more often than not.
   */
  async pollLevels() {
    if (this.peers.size === 0 || this.pollingLevels) return;
    this.pollingLevels = true;
    try {
      for (const peer of [...this.peers.values()]) {
        peer.audioLevel = peer.state.audio === false ? 0 : await this.readLevel(peer);
      }
    } finally {
      this.pollingLevels = false;
    }
    this.dispatchEvent(new CustomEvent("levels", { detail: [...this.peers.values()] }));
  }

  /**
   * @param {RemotePeer} peer
   * @returns {Promise<number>} root-mean-square audio level, 0–1
   */
  async readLevel(peer) {
    const receiver = peer.pc.getTransceivers()[0]?.receiver;
    if (!receiver || peer.pc.connectionState !== "connected") return 0;
    let level = 0;
    try {
      const report = await receiver.getStats();
      report.forEach((/** @type {any} */ stat) => {
        if (stat.type !== "inbound-rtp" || stat.kind !== "audio") return;
        const energy = stat.totalAudioEnergy;
        const duration = stat.totalSamplesDuration;
        if (typeof energy !== "number" || typeof duration !== "number") return;
        const last = peer.lastEnergy;
        if (last && duration > last.duration) {
          level = Math.sqrt(Math.max(0, energy - last.energy) / (duration - last.duration));
        }
        peer.lastEnergy = { energy, duration };
      });
    } catch {
      // A connection closing between the check and the call has no stats: silent this time.
    }
    return level;
  }
}
