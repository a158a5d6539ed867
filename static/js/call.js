// The call engine: owns one RemotePeer (peer.js) per remote participant in a full mesh, keeps
// the roster (who is here, who is lost and may resume), feeds local tracks to every peer, sizes
// the camera copies to the mesh, and reports stats (stats.js). It hears server messages through
// its on* methods and sends through the signaling connection; the peers themselves only know
// the `send` callback it hands them.
//
// A second media transport (an SFU connection beside the mesh) would be a sibling of peer.js
// owned by this engine: see docs/client.md.

import { isPolite, RemotePeer, TRANSCEIVER_ROLES } from "./peer.js";
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
   *   resumeWindowMs: number}} options resumeWindowMs: how long the server keeps a dropped peer
   *   resumable (the page config's resume_window_seconds)
   */
  constructor({ signaling, media, iceConfig, resumeWindowMs }) {
    super();
    this.resumeWindowMs = resumeWindowMs;
    this.signaling = signaling;
    this.media = media;
    this.iceConfig = iceConfig;
    /** @type {string} */
    this.selfPeerId = "";
    /** @type {Map<string, RemotePeer>} */
    this.peers = new Map();
    this.ended = false;
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
    peer.connect(this.iceConfig);
    if (offer) peer.startOffer();
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
    peer.signal(message);
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
        this.addPeer(info, { offer: true });
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
    this.removeAll("left");
  }
}
