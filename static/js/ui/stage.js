// The stage: a grid of camera tiles (1–8 and more), and a spotlight while someone presents.
// Only remote media carries data-peer-id; the self-view is the one [data-self] tile.

import { displayName } from "../protocol.js";
import { linkGrade } from "../stats.js";
import { $, el, initials, playQuietly, setFlag } from "./dom.js";

/** @typedef {import("../call.js").RemotePeer} RemotePeer */
/** @typedef {import("../protocol.js").PeerState} PeerState */

// A remote is "speaking" above this RMS audio level (0–1, where 1 is 0 dBov), and stays so for
// a short hangover so the highlight does not flicker between words.
const SPEAKING_LEVEL = 0.03;
const SPEAKING_HANGOVER_MS = 800;
const SELF_SPEAKING_LEVEL = 0.08;

const CONNECTION_LABELS = {
  new: "Connecting…",
  connecting: "Connecting…",
  disconnected: "Connection interrupted…",
  failed: "Reconnecting…",
  closed: "Disconnected",
};

export class Stage {
  /** @param {{selfName: string}} options */
  constructor({ selfName }) {
    this.stage = /** @type {HTMLElement} */ ($("#stage"));
    this.tiles = /** @type {HTMLElement} */ ($("#tiles"));
    this.spotlight = /** @type {HTMLElement} */ ($("#spotlight"));
    this.indicator = /** @type {HTMLElement} */ ($("[data-share-indicator]"));
    this.selfName = selfName;
    /** @type {Map<string, HTMLElement>} */
    this.cameraTiles = new Map();
    /** @type {Map<string, HTMLElement>} */
    this.screenViews = new Map();
    /** @type {Map<string, string>} names of remote presenters by peer id */
    this.presenters = new Map();
    this.selfPresenting = false;
    this.speakerId = "";
    /** @type {Map<string, number>} when each peer was last heard above the speaking level */
    this.lastLoud = new Map();
    this.selfTile = this.buildSelfTile();
    this.tiles.append(this.selfTile);
    this.presentingCard = this.buildPresentingCard();
    this.layout();
  }

  /** @returns {HTMLElement} */
  buildSelfTile() {
    const video = el("video", { autoplay: true, playsinline: true, class: "mirrored" });
    /** @type {HTMLVideoElement} */ (video).muted = true;
    const tile = el("div", { class: "tile tile--self", "data-self": true }, [
      video,
      el("div", { class: "tile-avatar", "aria-hidden": "true", text: initials(this.selfName) }),
      el("div", { class: "tile-badges" }),
      el("div", { class: "tile-footer" }, [
        el("span", { class: "tile-name", text: `${this.selfName} (you)` }),
      ]),
    ]);
    return tile;
  }

  /** @returns {HTMLElement} */
  buildPresentingCard() {
    const stop = el("button", {
      class: "button button--danger",
      type: "button",
      "data-action": "stop-presenting",
      text: "Stop presenting",
    });
    return el("div", { class: "presenting-card" }, [
      el("p", { class: "presenting-title", text: "You are presenting to everyone" }),
      el("p", {
        class: "presenting-hint",
        text: "Your screen is not shown back to you here, so it does not repeat itself.",
      }),
      stop,
    ]);
  }

  /**
   * @param {MediaStream} stream
   * @param {PeerState} state
   * @param {boolean} cameraLive
   */
  updateSelf(stream, state, cameraLive) {
    const video = /** @type {HTMLVideoElement} */ (this.selfTile.querySelector("video"));
    const wanted = cameraLive ? stream : null;
    if (video.srcObject !== wanted) {
      video.srcObject = wanted;
      if (wanted) playQuietly(video);
    }
    setFlag(this.selfTile, "audio", state.audio);
    setFlag(this.selfTile, "video", cameraLive);
    setFlag(this.selfTile, "hand", state.hand, ["up", "down"]);
    this.syncBadges(this.selfTile, state.audio, cameraLive, state.hand);
  }

  /**
   * Create or update the camera tile of a remote peer.
   * @param {RemotePeer} peer
   */
  upsertPeer(peer) {
    let tile = this.cameraTiles.get(peer.id);
    if (!tile) {
      tile = this.buildPeerTile(peer);
      this.cameraTiles.set(peer.id, tile);
      this.tiles.append(tile);
    }
    const name = displayName(peer.user);
    const nameNode = /** @type {HTMLElement} */ (tile.querySelector(".tile-name"));
    if (nameNode.textContent !== name) nameNode.textContent = name;
    const avatar = /** @type {HTMLElement} */ (tile.querySelector(".tile-avatar"));
    avatar.textContent = initials(name);
    const state = peer.pc.connectionState;
    if (tile.dataset.connectionState !== state) tile.dataset.connectionState = state;
    setFlag(tile, "audio", peer.state.audio !== false);
    setFlag(tile, "video", peer.state.video !== false);
    setFlag(tile, "hand", Boolean(peer.state.hand), ["up", "down"]);
    setFlag(tile, "screen", Boolean(peer.state.screen));
    setFlag(tile, "lost", peer.lost, ["true", "false"]);
    this.syncBadges(tile, peer.state.audio !== false, peer.state.video !== false, peer.state.hand);
    const status = /** @type {HTMLElement} */ (tile.querySelector(".tile-status"));
    const label = peer.lost
      ? `${name} is reconnecting…`
      : CONNECTION_LABELS[/** @type {keyof CONNECTION_LABELS} */ (state)] || "";
    status.textContent = label;
    status.hidden = !label;
    this.attach(/** @type {HTMLVideoElement} */ (tile.querySelector("video")), peer.cameraStream);
    this.syncScreen(peer, name);
    this.layout();
  }

  /**
   * @param {RemotePeer} peer
   * @returns {HTMLElement}
   */
  buildPeerTile(peer) {
    const video = el("video", { autoplay: true, playsinline: true });
    return el(
      "div",
      { class: "tile", "data-peer-id": peer.id, "data-view": "camera", "data-speaking": "false" },
      [
        video,
        el("div", { class: "tile-avatar", "aria-hidden": "true" }),
        el("div", { class: "tile-status", role: "status" }),
        el("div", { class: "tile-badges" }),
        el("div", { class: "tile-footer" }, [
          el("span", { class: "tile-name" }),
          el("span", { class: "tile-quality", hidden: true }),
        ]),
      ],
    );
  }

  /**
   * Point a video at a stream, re-pointing it only when the stream's tracks changed so that a
   * state update never interrupts playback.
   * @param {HTMLVideoElement} video
   * @param {MediaStream} stream
   */
  attach(video, stream) {
    const key = stream
      .getTracks()
      .map((track) => track.id)
      .join(",");
    if (video.dataset.tracks === key && (video.srcObject === stream || !key)) return;
    video.dataset.tracks = key;
    video.srcObject = null;
    // An element holding a stream with no tracks would wait for a frame that never comes.
    if (!key) return;
    video.srcObject = stream;
    if (this.speakerId) this.routeAudio(video);
    playQuietly(video);
  }

  /**
   * The screen view of a presenting peer lives in the spotlight, inside its own data-peer-id.
   * @param {RemotePeer} peer
   * @param {string} name
   */
  syncScreen(peer, name) {
    let view = this.screenViews.get(peer.id);
    if (peer.state.screen && !peer.lost) {
      if (!view) {
        view = el("div", { class: "screen-view", "data-peer-id": peer.id, "data-view": "screen" }, [
          el("video", { autoplay: true, playsinline: true }),
          el("div", { class: "tile-footer" }, [el("span", { class: "tile-name" })]),
        ]);
        this.screenViews.set(peer.id, view);
        this.spotlight.append(view);
      }
      const label = /** @type {HTMLElement} */ (view.querySelector(".tile-name"));
      label.textContent = `${name}'s screen`;
      this.attach(/** @type {HTMLVideoElement} */ (view.querySelector("video")), peer.screenStream);
      this.presenters.set(peer.id, name);
    } else {
      this.dropScreenView(peer.id);
    }
  }

  /**
   * A peer stopped presenting (or left): its screen view goes, and so does its name in the
   * share indicator.
   * @param {string} peerId
   */
  dropScreenView(peerId) {
    dropView(this.screenViews, peerId);
    this.presenters.delete(peerId);
  }

  /**
   * @param {HTMLElement} tile
   * @param {boolean} audio
   * @param {boolean} video
   * @param {boolean} hand
   */
  syncBadges(tile, audio, video, hand) {
    const footer = /** @type {HTMLElement} */ (tile.querySelector(".tile-footer"));
    const badges = /** @type {HTMLElement} */ (tile.querySelector(".tile-badges"));
    toggleBadge(footer, "muted", !audio, "Microphone off", "mic-off");
    toggleBadge(badges, "camera-off", !video, "Camera off", "cam-off");
    toggleBadge(badges, "hand", hand, "Hand raised", "hand");
  }

  /** @param {string} peerId */
  removePeer(peerId) {
    dropView(this.cameraTiles, peerId);
    this.dropScreenView(peerId);
    this.lastLoud.delete(peerId);
    this.layout();
  }

  /** @param {RemotePeer} peer */
  updateStats(peer) {
    const tile = this.cameraTiles.get(peer.id);
    if (!tile || !peer.stats.path) return;
    if (tile.dataset.path !== peer.stats.path) tile.dataset.path = peer.stats.path;
    const quality = /** @type {HTMLElement} */ (tile.querySelector(".tile-quality"));
    const { rttMs, lossPercent, path } = peer.stats;
    quality.dataset.grade = linkGrade(peer.stats);
    const parts = [path === "relay" ? "Relayed" : "Direct"];
    if (rttMs !== null) parts.push(`${rttMs} ms`);
    if (lossPercent !== null) parts.push(`${lossPercent}% loss`);
    quality.textContent = parts.join(" · ");
    quality.title = `Connection: ${parts.join(", ")}`;
    quality.hidden = false;
  }

  /**
   * Speaking flags and the active-speaker highlight (the loudest one speaking).
   * @param {RemotePeer[]} peers
   * @param {number} selfLevel
   * @param {boolean} selfAudio
   */
  updateLevels(peers, selfLevel, selfAudio) {
    let loudest = null;
    let loudestLevel = 0;
    const now = performance.now();
    for (const peer of peers) {
      const tile = this.cameraTiles.get(peer.id);
      if (!tile) continue;
      if (peer.audioLevel > SPEAKING_LEVEL) this.lastLoud.set(peer.id, now);
      const speaking = now - (this.lastLoud.get(peer.id) ?? -Infinity) < SPEAKING_HANGOVER_MS;
      setFlag(tile, "speaking", speaking, ["true", "false"]);
      if (speaking && peer.audioLevel >= loudestLevel) {
        loudest = tile;
        loudestLevel = peer.audioLevel;
      }
    }
    const selfSpeaking = selfAudio && selfLevel > SELF_SPEAKING_LEVEL;
    setFlag(this.selfTile, "speaking", selfSpeaking, ["true", "false"]);
    for (const tile of this.cameraTiles.values()) {
      tile.classList.toggle("is-active-speaker", tile === loudest);
    }
  }

  /** @param {boolean} presenting */
  setSelfPresenting(presenting) {
    this.selfPresenting = presenting;
    if (presenting) this.spotlight.prepend(this.presentingCard);
    else this.presentingCard.remove();
    this.layout();
  }

  /**
   * Route remote audio to a chosen output device where the browser allows it.
   * @param {string} deviceId
   */
  setSpeaker(deviceId) {
    this.speakerId = deviceId;
    for (const video of this.stage.querySelectorAll("[data-peer-id] video")) {
      this.routeAudio(/** @type {HTMLVideoElement} */ (video));
    }
  }

  /** @param {HTMLVideoElement} video */
  routeAudio(video) {
    const media = /** @type {any} */ (video);
    if (typeof media.setSinkId !== "function") return;
    media.setSinkId(this.speakerId).catch((/** @type {unknown} */ error) => {
      console.warn("stage: cannot use that speaker", error);
    });
  }

  layout() {
    const count = this.tiles.children.length;
    this.tiles.dataset.count = String(count);
    const presenting = this.selfPresenting || this.presenters.size > 0;
    const layout = presenting ? "spotlight" : "grid";
    if (this.stage.dataset.layout !== layout) this.stage.dataset.layout = layout;
    this.spotlight.hidden = !presenting;
    const names = [...this.presenters.values()];
    if (this.selfPresenting) names.unshift("You");
    if (names.length === 0) {
      this.indicator.hidden = true;
      this.indicator.textContent = "";
    } else {
      const verb = names.length === 1 && names[0] !== "You" ? "is" : "are";
      this.indicator.textContent = `${joinNames(names)} ${verb} presenting`;
      this.indicator.hidden = false;
    }
    this.spotlight.dataset.count = String(this.spotlight.children.length);
  }

  clear() {
    for (const id of [...this.cameraTiles.keys()]) this.removePeer(id);
    const video = this.selfTile.querySelector("video");
    if (video) video.srcObject = null;
    this.setSelfPresenting(false);
  }
}

/**
 * Take a peer's tile or screen view out of the page and out of `views`, releasing its stream.
 * @param {Map<string, HTMLElement>} views
 * @param {string} peerId
 */
function dropView(views, peerId) {
  const view = views.get(peerId);
  if (!view) return;
  const video = view.querySelector("video");
  if (video) video.srcObject = null;
  view.remove();
  views.delete(peerId);
}

/**
 * @param {string[]} names
 * @returns {string}
 */
function joinNames(names) {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/**
 * A badge exists only while it applies.
 * @param {HTMLElement} parent
 * @param {string} name
 * @param {boolean} on
 * @param {string} label
 * @param {string} icon
 */
function toggleBadge(parent, name, on, label, icon) {
  const existing = parent.querySelector(`[data-badge="${name}"]`);
  if (on && !existing) {
    const badge = el("span", { class: `tile-badge tile-badge--${name}`, "data-badge": name, title: label });
    badge.append(iconNode(icon), el("span", { class: "visually-hidden", text: label }));
    parent.append(badge);
  } else if (!on && existing) {
    existing.remove();
  }
}

/**
 * An icon from the page's SVG sprite.
 * @param {string} name
 * @returns {SVGSVGElement}
 */
export function iconNode(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS(ns, "use");
  use.setAttribute("href", `#icon-${name}`);
  svg.append(use);
  return svg;
}
