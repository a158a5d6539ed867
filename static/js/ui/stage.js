// The stage: a grid of camera tiles (1–8 and more), and a spotlight while someone presents,
// while a view is pinned, or in the speaker and sidebar layouts (ui/layout.js decides which
// views are featured). Each tile offers pin and full screen; the connection quality shows as a
// dot with its numbers on hover or focus.
// Only remote media carries data-peer-id; the self-view is the one [data-self] tile.

import { format, t } from "../i18n.js";
import { displayName } from "../protocol.js";
import { linkGrade } from "../stats.js";
import { $, avatarColour, el, initials, playQuietly, setFlag } from "./dom.js";
import { companionCameras, planStage } from "./layout.js";

/** @typedef {import("../call.js").RemotePeer} RemotePeer */
/** @typedef {import("../protocol.js").PeerState} PeerState */
/** @typedef {import("../preferences.js").LayoutChoice} LayoutChoice */

// A remote is "speaking" above this RMS audio level (0–1, where 1 is 0 dBov), and stays so for
// a short hangover so the highlight does not flicker between words.
const SPEAKING_LEVEL = 0.03;
const SPEAKING_HANGOVER_MS = 800;
const SELF_SPEAKING_LEVEL = 0.08;

/**
 * What a tile says about its connection while it is not connected; nothing when it is.
 * @param {string} state an RTCPeerConnectionState
 * @returns {string}
 */
function connectionLabel(state) {
  if (state === "new" || state === "connecting") return t("Connecting…");
  if (state === "disconnected") return t("Connection interrupted…");
  if (state === "failed") return t("Reconnecting…");
  if (state === "closed") return t("Disconnected");
  return "";
}

export class Stage {
  /** @param {{selfName: string, selfUserId?: number | null}} options */
  constructor({ selfName, selfUserId = null }) {
    this.stage = /** @type {HTMLElement} */ ($("#stage"));
    this.tiles = /** @type {HTMLElement} */ ($("#tiles"));
    this.spotlight = /** @type {HTMLElement} */ ($("#spotlight"));
    this.indicator = /** @type {HTMLElement} */ ($("[data-share-indicator]"));
    this.selfName = selfName;
    this.selfUserId = selfUserId;
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
    /** @type {LayoutChoice} */
    this.choice = "auto";
    /** Peers whose camera is in the spotlight (pinned, or the speaker layout's), by peer id. */
    /** @type {string[]} */
    this.featuredPeers = [];
    /** Peers whose camera tile is hidden (another tab of someone shown), by peer id. */
    /** @type {string[]} */
    this.hiddenPeers = [];
    /** The pinned view's key (`self`, `camera:<id>`, `screen:<id>`), or "" */
    this.pinned = "";
    /** The remote camera key of whoever was loudest last; speaker and sidebar feature it. */
    this.activeSpeaker = "";
    /** What the last layout() placed where, so an unchanged plan moves nothing. */
    this.placement = "";
    this.selfTile = this.buildSelfTile();
    this.tiles.append(this.selfTile);
    this.presentingCard = this.buildPresentingCard();
    this.stage.addEventListener("click", (event) => this.onTileAction(event));
    document.addEventListener("fullscreenchange", () => this.syncFullscreen());
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
      tileActions(t("your video"), true),
      el("div", { class: "tile-footer" }, [
        el("span", { class: "tile-name", text: format(t("%(name)s (you)"), { name: this.selfName }) }),
      ]),
    ]);
    tile.dataset.viewKey = "self";
    nameTile(tile, format(t("%(name)s (you), camera"), { name: this.selfName }), this.selfUserId);
    return tile;
  }

  /** @returns {HTMLElement} */
  buildPresentingCard() {
    const stop = el("button", {
      class: "button button--danger",
      type: "button",
      "data-action": "stop-presenting",
      text: t("Stop presenting"),
    });
    return el("div", { class: "presenting-card" }, [
      el("p", { class: "presenting-title", text: t("You are presenting to everyone") }),
      el("p", {
        class: "presenting-hint",
        text: t("Your screen is not shown back to you here, so it does not repeat itself."),
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
    const state = peer.connectionState;
    if (tile.dataset.connectionState !== state) tile.dataset.connectionState = state;
    const userId = typeof peer.user?.id === "number" ? String(peer.user.id) : "";
    if (tile.dataset.userId !== userId) tile.dataset.userId = userId;
    if (tile.dataset.role !== peer.role) {
      tile.dataset.role = peer.role;
      const badge = /** @type {HTMLElement} */ (tile.querySelector(".tile-footer .role-badge"));
      badge.hidden = peer.role !== "guest";
    }
    setFlag(tile, "audio", peer.state.audio !== false);
    // A camera that is on but not received (an SFU call's last-N) shows the avatar too.
    setFlag(tile, "video", peer.state.video !== false && peer.videoReceived);
    setFlag(tile, "hand", Boolean(peer.state.hand), ["up", "down"]);
    setFlag(tile, "screen", Boolean(peer.state.screen));
    setFlag(tile, "lost", peer.lost, ["true", "false"]);
    this.syncBadges(tile, peer.state.audio !== false, peer.state.video !== false, peer.state.hand);
    const status = /** @type {HTMLElement} */ (tile.querySelector(".tile-status"));
    // A camera that is on but not received (last-N in an SFU call) says why it shows no picture.
    const paused = peer.state.video !== false && !peer.videoReceived && state === "connected";
    setFlag(tile, "paused", paused, ["true", "false"]);
    const label = peer.lost
      ? format(t("%(name)s is reconnecting…"), { name })
      : connectionLabel(state) || (paused ? t("Video paused: many people are here") : "");
    status.textContent = label;
    status.hidden = !label;
    if (tile.dataset.labelName !== name) {
      tile.dataset.labelName = name;
      labelActions(tile, name);
      nameTile(tile, format(t("%(name)s, camera"), { name }), peer.user?.id);
    }
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
    // The quality dot is a button: hover or focus shows its numbers, a tap keeps them shown
    // (touch screens have no hover).
    const quality = el(
      "button",
      { type: "button", class: "tile-quality", "aria-expanded": "false", hidden: true },
      [el("span", { class: "tile-quality-details" })],
    );
    quality.addEventListener("click", () => {
      quality.setAttribute("aria-expanded", String(quality.getAttribute("aria-expanded") !== "true"));
    });
    return el(
      "div",
      {
        class: "tile",
        "data-peer-id": peer.id,
        "data-view": "camera",
        "data-speaking": "false",
        "data-view-key": `camera:${peer.id}`,
      },
      [
        video,
        el("div", { class: "tile-avatar", "aria-hidden": "true" }),
        el("div", { class: "tile-status", role: "status" }),
        el("div", { class: "tile-badges" }),
        tileActions(displayName(peer.user), false),
        el("div", { class: "tile-footer" }, [
          el("span", { class: "tile-name" }),
          el("span", { class: "role-badge", text: t("Guest"), hidden: true }),
          quality,
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
        view = el(
          "div",
          {
            class: "screen-view",
            "data-peer-id": peer.id,
            "data-view": "screen",
            "data-view-key": `screen:${peer.id}`,
          },
          [
            el("video", { autoplay: true, playsinline: true }),
            tileActions(format(t("%(name)s's screen"), { name }), false),
            el("div", { class: "tile-footer" }, [el("span", { class: "tile-name" })]),
          ],
        );
        this.screenViews.set(peer.id, view);
        this.spotlight.append(view);
      }
      const label = /** @type {HTMLElement} */ (view.querySelector(".tile-name"));
      label.textContent = format(t("%(name)s's screen"), { name });
      view.setAttribute("role", "group");
      view.setAttribute("aria-label", format(t("%(name)s, screen"), { name }));
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
    toggleBadge(footer, "muted", !audio, t("Microphone off"), "mic-off");
    toggleBadge(badges, "camera-off", !video, t("Camera off"), "cam-off");
    toggleBadge(badges, "hand", hand, t("Hand raised"), "hand");
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
    const details = /** @type {HTMLElement} */ (quality.querySelector(".tile-quality-details"));
    const { rttMs, lossPercent, path } = peer.stats;
    const grade = linkGrade(peer.stats);
    quality.dataset.grade = grade;
    const parts = [path === "relay" ? t("Relayed") : t("Direct")];
    if (rttMs !== null) parts.push(`${rttMs} ms`);
    if (lossPercent !== null) parts.push(format(t("%(percent)s loss"), { percent: `${lossPercent}%` }));
    details.textContent = parts.join(" · ");
    const named = { grade: gradeWord(grade), details: parts.join(", ") };
    quality.setAttribute("aria-label", format(t("Connection %(grade)s: %(details)s"), named));
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
    // The featured speaker changes only when someone else becomes the loudest, not in pauses.
    const loudestKey = loudest?.dataset.viewKey || "";
    if (loudestKey && loudestKey !== this.activeSpeaker) {
      this.activeSpeaker = loudestKey;
      if (this.choice === "speaker" || this.choice === "sidebar") this.layout();
    }
  }

  /** @param {LayoutChoice} choice */
  setLayoutChoice(choice) {
    this.choice = choice;
    this.layout();
  }

  /**
   * Pin a view (big, the others in a strip), or unpin with "".
   * @param {string} key
   */
  pin(key) {
    this.pinned = key;
    this.layout();
    // The call wants to know (in an SFU call a pinned camera is always received, in full size).
    this.stage.dispatchEvent(new CustomEvent("pin", { detail: key }));
  }

  /**
   * Hide or show our own tile; the others still see our camera.
   * @param {boolean} shown
   */
  setSelfView(shown) {
    this.selfTile.hidden = !shown;
    if (!shown && this.pinned === "self") this.pinned = "";
    this.layout();
  }

  /**
   * The viewer's own role on the self tile (data-role), as every tile carries its peer's.
   * @param {string} role
   */
  setSelfRole(role) {
    this.selfTile.dataset.role = role;
  }

  /**
   * Mirror the self view (as a mirror would show us) or not. Only this element is flipped, by
   * CSS: the track sent to the others is the camera's own, never mirrored.
   * @param {boolean} mirrored
   */
  setMirror(mirrored) {
    /** @type {HTMLElement} */ (this.selfTile.querySelector("video")).classList.toggle("mirrored", mirrored);
  }

  /**
   * Pin, full screen and hide-self buttons on tiles and screen views.
   * @param {Event} event
   */
  onTileAction(event) {
    const button = /** @type {HTMLElement} */ (event.target).closest("[data-action]");
    const view = /** @type {HTMLElement | null} */ (button?.closest("[data-view-key]") ?? null);
    if (!button || !view) return;
    const action = button.getAttribute("data-action");
    const key = view.dataset.viewKey || "";
    if (action === "pin") {
      this.pin(this.pinned === key ? "" : key);
    } else if (action === "fullscreen") {
      if (document.fullscreenElement === view) document.exitFullscreen().catch(() => {});
      else view.requestFullscreen().catch((/** @type {unknown} */ error) => console.warn("stage: full screen", error));
    } else if (action === "hide-self") {
      this.stage.dispatchEvent(new CustomEvent("selfview", { detail: false }));
    }
  }

  syncFullscreen() {
    for (const button of this.stage.querySelectorAll('[data-action="fullscreen"]')) {
      const view = button.closest("[data-view-key]");
      button.setAttribute("aria-pressed", String(document.fullscreenElement === view));
    }
  }

  /**
   * @param {string} key
   * @returns {HTMLElement | undefined}
   */
  viewFor(key) {
    if (key === "self") return this.selfTile;
    if (key === "presenting") return this.selfPresenting ? this.presentingCard : undefined;
    const [kind, peerId] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
    if (kind === "camera") return this.cameraTiles.get(peerId);
    if (kind === "screen") return this.screenViews.get(peerId);
    return undefined;
  }

  /** @param {boolean} presenting */
  setSelfPresenting(presenting) {
    this.selfPresenting = presenting;
    if (!presenting) this.presentingCard.remove();
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
    // A person's other tabs or devices are one tile (layout.js companionCameras): their views
    // stay in the page, hidden, at the end of the strip.
    const companions = companionCameras({
      selfUserId: this.selfUserId,
      cameras: [...this.cameraTiles].map(([id, tile]) => ({
        key: `camera:${id}`,
        userId: tile.dataset.userId || "",
        video: tile.dataset.video !== "off",
      })),
    });
    if (companions.has(this.pinned)) this.pinned = "";
    if (this.pinned && !this.viewFor(this.pinned)) this.pinned = "";
    const cameras = [...this.cameraTiles.keys()]
      .map((id) => `camera:${id}`)
      .filter((key) => !companions.has(key));
    const screens = [...this.screenViews.keys()].map((id) => `screen:${id}`);
    const plan = planStage({
      choice: this.choice,
      pinned: this.pinned,
      screens,
      selfPresenting: this.selfPresenting,
      activeSpeaker: this.activeSpeaker,
      cameras,
    });
    const all = ["self", ...cameras, ...(this.selfPresenting ? ["presenting"] : []), ...screens];
    const strip = [...all.filter((key) => !plan.featured.includes(key)), ...companions];
    const placement = `${plan.layout}|${plan.featured.join(",")}|${strip.join(",")}`;
    if (placement !== this.placement) {
      this.placement = placement;
      place(this.spotlight, plan.featured.map((key) => this.viewFor(key)));
      place(this.tiles, strip.map((key) => this.viewFor(key)));
    }
    /** @type {string[]} */
    const hiddenPeers = [];
    for (const [id, tile] of this.cameraTiles) {
      const companion = companions.has(`camera:${id}`);
      if (companion) hiddenPeers.push(id);
      if (tile.hidden !== companion) tile.hidden = companion;
      tile.dataset.companion = String(companion);
      // Our own other tab's sound would only echo us back.
      const ours = companion && tile.dataset.userId === String(this.selfUserId);
      const video = /** @type {HTMLVideoElement | null} */ (tile.querySelector("video"));
      if (video && video.muted !== ours) video.muted = ours;
    }
    // The call wants to know which cameras are featured (in an SFU call they come in full size)
    // and which are hidden (their video is not received at all).
    const featured = plan.featured.filter((key) => key.startsWith("camera:")).map((key) => key.slice(7));
    if (featured.join(",") !== this.featuredPeers.join(",")) {
      this.featuredPeers = featured;
      this.stage.dispatchEvent(new CustomEvent("featured", { detail: featured }));
    }
    if (hiddenPeers.join(",") !== this.hiddenPeers.join(",")) {
      this.hiddenPeers = hiddenPeers;
      this.stage.dispatchEvent(new CustomEvent("hidden", { detail: hiddenPeers }));
    }
    for (const key of all) {
      const view = this.viewFor(key);
      if (!view) continue;
      setFlag(view, "pinned", key === this.pinned, ["true", "false"]);
      const pin = view.querySelector('[data-action="pin"]');
      if (pin) pin.setAttribute("aria-pressed", String(key === this.pinned));
    }
    const visible = [...this.tiles.children].filter((node) => !(/** @type {HTMLElement} */ (node).hidden));
    this.tiles.dataset.count = String(visible.length);
    const presenting = this.selfPresenting || this.presenters.size > 0;
    if (this.stage.dataset.layout !== plan.layout) this.stage.dataset.layout = plan.layout;
    this.stage.dataset.pinned = this.pinned ? "true" : "false";
    this.spotlight.hidden = plan.featured.length === 0;
    const names = [...this.presenters.values()];
    if (names.length === 0 && !this.selfPresenting) {
      this.indicator.hidden = true;
      this.indicator.textContent = "";
    } else {
      this.indicator.textContent = presentersText(names, this.selfPresenting);
      this.indicator.hidden = false;
    }
    this.spotlight.dataset.count = String(this.spotlight.children.length);
  }

  clear() {
    if (document.fullscreenElement && this.stage.contains(document.fullscreenElement)) {
      document.exitFullscreen().catch(() => {});
    }
    for (const id of [...this.cameraTiles.keys()]) this.removePeer(id);
    const video = this.selfTile.querySelector("video");
    if (video) video.srcObject = null;
    this.setSelfPresenting(false);
  }
}

/**
 * Name a camera tile for screen readers (a group: "Ana, camera") and give its avatar the
 * person's own colour.
 * @param {HTMLElement} tile
 * @param {string} label
 * @param {number | null | undefined} userId
 */
function nameTile(tile, label, userId) {
  tile.setAttribute("role", "group");
  tile.setAttribute("aria-label", label);
  const avatar = /** @type {HTMLElement | null} */ (tile.querySelector(".tile-avatar"));
  avatar?.style.setProperty("--avatar-colour", avatarColour(userId));
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
 * Put `views` into `container` in this order, moving only what is out of place. A moved
 * <video> keeps its stream; it is told to play again in case the move paused it.
 * @param {HTMLElement} container
 * @param {(HTMLElement | undefined)[]} views
 */
function place(container, views) {
  let index = 0;
  for (const view of views) {
    if (!view) continue;
    const here = container.children[index] ?? null;
    if (here !== view) {
      container.insertBefore(view, here);
      const video = view.querySelector("video");
      if (video?.srcObject) playQuietly(video);
    }
    index += 1;
  }
}

/**
 * The pin and full-screen buttons of a view (and, on our own tile, "hide").
 * @param {string} name what the view shows, for the buttons' labels
 * @param {boolean} self
 * @returns {HTMLElement}
 */
function tileActions(name, self) {
  /** @type {(action: string, icon: string, toggle: boolean) => HTMLElement} */
  const button = (action, icon, toggle) => {
    const node = el("button", { type: "button", class: "tile-action", "data-action": action });
    if (toggle) node.setAttribute("aria-pressed", "false");
    node.append(iconNode(icon));
    return node;
  };
  const actions = el("div", { class: "tile-actions" }, [
    button("pin", "pin", true),
    button("fullscreen", "fullscreen", true),
    self ? button("hide-self", "eye-off", false) : null,
  ]);
  labelActions(actions, name);
  return actions;
}

/**
 * @param {HTMLElement} root a view or its actions
 * @param {string} name
 */
function labelActions(root, name) {
  /** @type {Record<string, string>} */
  const labels = {
    pin: format(t("Pin %(name)s"), { name }),
    fullscreen: format(t("Show %(name)s full screen"), { name }),
    "hide-self": t("Hide your own video (the others still see it)"),
  };
  for (const [action, label] of Object.entries(labels)) {
    const node = root.querySelector(`[data-action="${action}"]`);
    if (!node) continue;
    node.setAttribute("aria-label", label);
    node.setAttribute("title", label);
  }
}

/**
 * Who presents, as the share indicator says it: "Ana is presenting", "You and Ana are presenting".
 * @param {string[]} names the remote presenters
 * @param {boolean} self whether we present too (named first, as "You")
 * @returns {string}
 */
function presentersText(names, self) {
  if (self && names.length === 0) return t("You are presenting");
  if (!self && names.length === 1) return format(t("%(name)s is presenting"), { name: names[0] });
  const all = self ? [t("You"), ...names] : names;
  const list = all.slice(0, -1).join(", ");
  return format(t("%(names)s and %(last)s are presenting"), { names: list, last: all[all.length - 1] });
}

/**
 * A link grade (stats.js linkGrade) in words, for the quality dot's name.
 * @param {string} grade
 * @returns {string}
 */
function gradeWord(grade) {
  if (grade === "good") return t("good");
  if (grade === "fair") return t("fair");
  if (grade === "poor") return t("poor");
  return grade;
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
