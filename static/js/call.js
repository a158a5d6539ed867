// The call engine: owns one RemotePeer (peer.js) per remote participant in a full mesh, keeps
// the roster (who is here, who is lost and may resume), feeds local tracks to every peer, sizes
// the camera copies to the mesh, and reports stats (stats.js). It hears server messages through
// its on* methods and sends through the signaling connection; the peers themselves only know
// the `send` callback it hands them.
//
// In an SFU call (issue #11) the engine owns an SfuSession (sfu.js) instead: the RemotePeers
// stay (the roster, the tiles' streams) but their media arrives through the SFU. A call that
// moves from mesh to SFU keeps each mesh connection until that peer's media plays through the
// SFU on both ends (peer.js, make-before-break); MESH_FALLBACK_MS bounds how long that may take.

import { isPolite, RemotePeer, TRANSCEIVER_ROLES } from "./peer.js";
import { SfuSession } from "./sfu.js";
import { StatsReporter } from "./stats.js";

export { RemotePeer } from "./peer.js";

/** @typedef {import("./protocol.js").Peer} Peer */
/** @typedef {import("./protocol.js").PeerState} PeerState */
/** @typedef {import("./protocol.js").Role} Role */
/** @typedef {import("./protocol.js").SessionDescription} SessionDescription */
/** @typedef {import("./signaling.js").Signaling} Signaling */
/** @typedef {import("./ice.js").IceConfig} IceConfig */
/** @typedef {import("./media.js").LocalMedia} LocalMedia */
/** @typedef {import("./media.js").TrackChange} TrackChange */
/** @typedef {import("./peer.js").MediaRole} MediaRole */
/** @typedef {import("./stats.js").LinkStats} LinkStats */
/** @typedef {import("./protocol.js").CallMedia} CallMedia */
/** @typedef {import("./protocol.js").SfuServerMessage} SfuServerMessage */
/** @typedef {import("./protocol.js").SfuStream} SfuStream */

// After a switch to the SFU, mesh connections still open this long are closed anyway (a peer
// whose camera is off sends nothing to compare; a peer on an old page never says it is covered).
export const MESH_FALLBACK_MS = 15_000;
// A peer heard speaking through the SFU stays "recent" (first in line for last-N) this long.
const SPEAKER_MEMORY = 8;

/**
 * Whether a signal is an offer for a connection that carries data channels only (a file
 * transfer's connection in an SFU call), not media.
 * @param {{type: string, description?: SessionDescription}} message
 * @returns {boolean}
 */
export function isDataOnlyOffer(message) {
  const sdp = message.type === "sdp" && message.description?.type === "offer" ? message.description.sdp : "";
  return Boolean(sdp) && /^m=application /m.test(sdp || "") && !/^m=(audio|video) /m.test(sdp || "");
}

/**
 * The mesh transceiver role of one SFU stream.
 * @param {SfuStream} stream
 * @returns {MediaRole}
 */
export function roleOfStream(stream) {
  if (stream.feed === "screen") return stream.kind === "audio" ? "screen-audio" : "screen";
  return stream.kind === "audio" ? "audio" : "video";
}

/**
 * Camera encoding by mesh size: every sender encodes and uploads one copy per peer, so a
 * bigger mesh gets smaller copies (bitrate and resolution) to fit CPUs and home uplinks.
 * @param {number} peerCount
 * @returns {{maxBitrate: number, scaleResolutionDownBy: number}}
 */
export function cameraEncodingFor(peerCount) {
  if (peerCount <= 1) return { maxBitrate: 1_500_000, scaleResolutionDownBy: 1 };
  if (peerCount <= 3) return { maxBitrate: 800_000, scaleResolutionDownBy: 1.5 };
  return { maxBitrate: 450_000, scaleResolutionDownBy: 2 };
}

/**
 * Events (all CustomEvent, detail shown):
 * "peer-added" (RemotePeer), "peer-removed" ({peer: RemotePeer, reason: string}),
 * "peer-updated" (RemotePeer: connection state, lost flag, tracks), "stats" (RemotePeer),
 * "levels" (RemotePeer[]), "datachannel" ({peer: RemotePeer, channel: RTCDataChannel}).
 */
export class Call extends EventTarget {
  /**
   * @param {{signaling: Signaling, media: LocalMedia, iceConfig: IceConfig,
   *   resumeWindowMs: number, peerStateDefault: PeerState}} options resumeWindowMs: how long the
   *   server keeps a dropped peer resumable (the page config's resume_window_seconds);
   *   peerStateDefault: a peer's state before it says otherwise (peer_state_default)
   */
  constructor({ signaling, media, iceConfig, resumeWindowMs, peerStateDefault }) {
    super();
    this.resumeWindowMs = resumeWindowMs;
    this.peerStateDefault = peerStateDefault;
    this.signaling = signaling;
    this.media = media;
    this.iceConfig = iceConfig;
    /** @type {string} */
    this.selfPeerId = "";
    /** @type {Map<string, RemotePeer>} */
    this.peers = new Map();
    this.ended = false;
    /** @type {"mesh" | "sfu"} */
    this.mode = "mesh";
    /** @type {SfuSession | null} */
    this.sfu = null;
    this.lastN = 9;
    /** Peer ids most wanted on screen, first first: the pinned one, then recent speakers. */
    /** @type {string[]} */
    this.recentSpeakers = [];
    this.pinned = "";
    /** @type {string[]} */
    this.hiddenPeers = [];
    /** @type {string[]} */
    this.featuredPeers = [];
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.meshFallback = null;
    this.reporter = new StatsReporter({
      peers: () => [...this.peers.values()],
      onStats: (peer) => this.dispatchEvent(new CustomEvent("stats", { detail: peer })),
      onLevels: (peers) => this.dispatchEvent(new CustomEvent("levels", { detail: peers })),
    });
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
    for (const peer of this.peers.values()) peer.setIceConfig(config);
    this.sfu?.setIceConfig(config);
  }

  /**
   * How the call carries media (the welcome's `media`, or a `media-mode` message). A call only
   * ever moves from mesh to SFU; the SFU session starts at once, the mesh goes peer by peer.
   * @param {CallMedia | undefined} media
   */
  setMedia(media) {
    if (!media || media.mode !== "sfu" || this.ended) return;
    this.lastN = media.last_n ?? this.lastN;
    if (this.sfu) {
      // A new welcome: our socket reconnected. Unless the server kept our Janus handles for
      // the new socket (`kept`), they are gone: publish and subscribe again.
      this.sfu.options.lastN = this.lastN;
      if (!media.kept) this.sfu.restart();
      return;
    }
    this.mode = "sfu";
    this.sfu = new SfuSession({
      send: (message) => this.signaling.send(message),
      iceConfig: this.iceConfig,
      selfPeerId: this.selfPeerId,
      lastN: this.lastN,
      localTrack: (role) => this.localTrackFor(role),
      preferred: () => [this.pinned, ...this.recentSpeakers].filter(Boolean),
      pinned: () => this.pinned,
      featured: () => this.featuredPeers,
      hidden: () => this.hiddenPeers,
      onTrack: (stream, track, receiver) => this.onSfuTrack(stream, track, receiver),
      onStreamGone: (stream) => this.peers.get(stream.peer_id)?.dropSfuTrack(roleOfStream(stream)),
      onTalking: (peerId, talking) => this.onSfuTalking(peerId, talking),
      onState: (state) => this.onSfuState(state),
    });
    this.sfu.start();
    for (const peer of this.peers.values()) peer.inSfuCall = true;
    if (this.peers.size > 0) {
      this.meshFallback = setTimeout(() => {
        // Only media mesh connections: a file's data-only connection opened since stays.
        for (const peer of this.peers.values()) if (peer.viaSfu && peer.hasMediaMesh) peer.dropMesh();
      }, MESH_FALLBACK_MS);
    }
    this.dispatchEvent(new CustomEvent("mode", { detail: this.mode }));
  }

  /** @param {SfuServerMessage} message */
  onSfuMessage(message) {
    this.sfu?.onMessage(message);
  }

  /**
   * @param {SfuStream} stream
   * @param {MediaStreamTrack} track
   * @param {RTCRtpReceiver} receiver
   */
  onSfuTrack(stream, track, receiver) {
    const peer = this.peers.get(stream.peer_id);
    if (!peer) return;
    peer.sfuState = this.sfu?.subscriber?.connectionState || "new";
    peer.adoptSfuTrack(roleOfStream(stream), track, receiver);
  }

  /** @param {RTCPeerConnectionState} state */
  onSfuState(state) {
    for (const peer of this.peers.values()) {
      if (peer.sfuState === state) continue;
      peer.sfuState = state;
      this.dispatchEvent(new CustomEvent("peer-updated", { detail: peer }));
    }
  }

  /**
   * Janus says who is talking: last-N's order (the tiles' level comes from the receivers).
   * @param {string} peerId
   * @param {boolean} talking
   */
  onSfuTalking(peerId, talking) {
    if (!talking || !this.peers.has(peerId)) return;
    this.recentSpeakers = [peerId, ...this.recentSpeakers.filter((id) => id !== peerId)].slice(
      0,
      SPEAKER_MEMORY,
    );
    this.sfu?.resubscribe();
  }

  /**
   * Peers whose camera the page shows in the spotlight: in an SFU call they come in full size.
   * @param {string[]} peerIds
   */
  setFeaturedPeers(peerIds) {
    this.featuredPeers = peerIds;
    this.sfu?.configureLayers();
  }

  /**
   * Peers whose camera tile the page hides (someone's other tab): in an SFU call their video is
   * not received (paused), only their sound.
   * @param {string[]} peerIds
   */
  setHiddenPeers(peerIds) {
    this.hiddenPeers = peerIds;
    this.sfu?.resubscribe();
  }

  /**
   * Pin a peer (or none, ""): in an SFU call it is always among the videos received.
   * @param {string} peerId
   */
  setPinned(peerId) {
    this.pinned = peerId;
    this.sfu?.resubscribe();
    this.sfu?.configureLayers();
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
    const peer = new RemotePeer(info, {
      polite: isPolite(this.selfPeerId, info.peer_id),
      send: (message) => this.signaling.send(message),
      localTrack: (role) => this.localTrackFor(role),
      onUpdate: () => this.dispatchEvent(new CustomEvent("peer-updated", { detail: peer })),
      onConnected: () => this.tuneBitrates(),
      onDataChannel: (channel) => {
        this.dispatchEvent(new CustomEvent("datachannel", { detail: { peer, channel } }));
      },
    });
    this.peers.set(peer.id, peer);
    // In an SFU call a peer's media comes through the SFU: no mesh connection is made.
    if (this.mode === "mesh") {
      peer.connect(this.iceConfig);
      if (offer) peer.startOffer();
    } else {
      peer.inSfuCall = true;
      peer.sfuState = this.sfu?.subscriber?.connectionState || "new";
    }
    this.dispatchEvent(new CustomEvent("peer-added", { detail: peer }));
    return peer;
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
      if (this.mode === "sfu") return;
      peer = this.addPeer(
        {
          peer_id: message.from,
          user: { id: 0, username: "", display_name: "" },
          role: "member",
          state: { ...this.peerStateDefault },
        },
        { offer: false },
      );
    }
    if (!peer.hasConnection) {
      // In an SFU call the only mesh connections are for files: the other side opens one. An
      // offer with media is the old mesh connection's ICE restart, from a side that has not
      // closed it yet: that connection is over.
      if (this.mode !== "sfu" || !isDataOnlyOffer(message)) return;
      peer.connect(this.iceConfig);
    }
    peer.signal(message);
  }

  /**
   * The connection to send a file to `peer` over: the mesh's, or in an SFU call a data-only
   * connection made now (file bytes never pass through the server).
   * @param {RemotePeer} peer
   * @returns {RTCPeerConnection}
   */
  dataConnection(peer) {
    if (!peer.hasConnection && this.mode === "sfu") peer.connect(this.iceConfig);
    return peer.pc;
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
    if (!TRANSCEIVER_ROLES.includes(role)) return;
    this.sfu?.onLocalTrack(role, track);
    const replacing = [];
    for (const peer of this.peers.values()) {
      const replaced = peer.replaceTrack(role, track);
      if (replaced) replacing.push(replaced);
    }
    if (role === "video") Promise.allSettled(replacing).then(() => this.tuneBitrates());
  }

  /** Each camera copy shrinks as the mesh grows, so eight people fit a laptop and an uplink. */
  tuneBitrates() {
    const wanted = cameraEncodingFor(this.peers.size);
    for (const peer of this.peers.values()) peer.setCameraEncoding(wanted);
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
        this.addPeer(info, { offer: this.mode === "mesh" });
        continue;
      }
      this.addPeer(info, { offer: false });
      this.markFound(peer);
      peer.repairAfterOutage();
    }
    // Peers missing from the list may still be reconnecting themselves (a restarted server
    // hears from clients one at a time); they get the same grace as a `connection-lost`.
    for (const peer of this.peers.values()) {
      if (!presentIds.has(peer.id)) this.markLost(peer);
    }
  }

  /**
   * A peer's signaling dropped: keep its connection (media is peer to peer) for the grace.
   * @param {RemotePeer} peer
   */
  markLost(peer) {
    if (peer.lost) return;
    peer.lost = true;
    peer.lostTimer = setTimeout(
      () => this.removePeer(peer.id, "connection-lost"),
      this.resumeWindowMs,
    );
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
      peer.repairAfterOutage();
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
   * @param {Role} role
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
    peer.close();
    this.dispatchEvent(new CustomEvent("peer-removed", { detail: { peer, reason } }));
    this.tuneBitrates();
  }

  /** @param {string} reason */
  removeAll(reason) {
    for (const id of [...this.peers.keys()]) this.removePeer(id, reason);
  }

  end() {
    this.ended = true;
    this.reporter.stop();
    if (this.meshFallback) clearTimeout(this.meshFallback);
    this.sfu?.close();
    this.removeAll("left");
  }
}
