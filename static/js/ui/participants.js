// The participants panel: everyone in the call, and for moderators the means to ask someone
// to mute, remove them, lock the room and end the meeting for all.

import { displayName } from "../protocol.js";
import { $, el, initials } from "./dom.js";
import { iconNode } from "./stage.js";

/** @typedef {import("../call.js").RemotePeer} RemotePeer */
/** @typedef {import("../protocol.js").PeerState} PeerState */
/** @typedef {import("../protocol.js").User} User */

const ROLE_LABELS = { owner: "Host", moderator: "Moderator", member: "", guest: "Guest" };

export class ParticipantsPanel {
  /**
   * @param {{onMute: (peerId: string) => void, onKick: (peerId: string, name: string) => void,
   *          onLock: (locked: boolean) => void, onEnd: () => void}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.list = /** @type {HTMLUListElement} */ ($("#participant-list"));
    this.count = /** @type {HTMLElement} */ ($("[data-participant-count]"));
    this.roomControls = /** @type {HTMLElement} */ ($("[data-room-controls]"));
    this.lockButton = /** @type {HTMLButtonElement} */ ($('[data-action="lock"]'));
    this.endButton = /** @type {HTMLButtonElement} */ ($('[data-action="end"]'));
    this.isModerator = false;
    this.locked = false;
    /** @type {Map<string, HTMLElement>} */
    this.rows = new Map();
    this.lockButton.addEventListener("click", () => this.handlers.onLock(!this.locked));
    this.endButton.addEventListener("click", () => this.handlers.onEnd());
  }

  /** @param {boolean} isModerator */
  setModerator(isModerator) {
    this.isModerator = isModerator;
    this.roomControls.hidden = !isModerator;
    for (const row of this.rows.values()) {
      const actions = row.querySelector(".participant-actions");
      if (actions) actions.hidden = !isModerator;
    }
  }

  /** @param {boolean} locked */
  setLocked(locked) {
    this.locked = locked;
    this.lockButton.setAttribute("aria-pressed", String(locked));
    const label = /** @type {HTMLElement} */ (this.lockButton.querySelector(".label"));
    label.textContent = locked ? "Unlock room" : "Lock room";
  }

  /**
   * @param {{peerId: string, user: User, role: string, state: PeerState, self: boolean,
   *          lost?: boolean}} entry
   */
  upsert({ peerId, user, role, state, self, lost = false }) {
    let row = this.rows.get(peerId);
    const name = displayName(user);
    if (!row) {
      row = this.buildRow(peerId, self);
      this.rows.set(peerId, row);
      if (self) this.list.prepend(row);
      else this.list.append(row);
    }
    /** @type {HTMLElement} */ (row.querySelector(".participant-avatar")).textContent = initials(name);
    /** @type {HTMLElement} */ (row.querySelector(".participant-name")).textContent = self
      ? `${name} (you)`
      : name;
    const roleLabel = ROLE_LABELS[/** @type {keyof ROLE_LABELS} */ (role)] || "";
    const detail = [roleLabel, lost ? "reconnecting…" : ""].filter(Boolean).join(" · ");
    /** @type {HTMLElement} */ (row.querySelector(".participant-role")).textContent = detail;
    const icons = /** @type {HTMLElement} */ (row.querySelector(".participant-state"));
    icons.replaceChildren();
    if (state.hand) icons.append(labelledIcon("hand", "Hand raised"));
    if (state.screen) icons.append(labelledIcon("screen", "Presenting"));
    icons.append(
      state.audio === false
        ? labelledIcon("mic-off", "Microphone off")
        : labelledIcon("mic", "Microphone on"),
    );
    const mute = row.querySelector('[data-action="mute"]');
    if (mute instanceof HTMLButtonElement) mute.disabled = state.audio === false;
    this.updateCount();
  }

  /**
   * @param {string} peerId
   * @param {boolean} self
   * @returns {HTMLElement}
   */
  buildRow(peerId, self) {
    const row = el("li", { class: "participant", "data-participant": peerId }, [
      el("span", { class: "participant-avatar", "aria-hidden": "true" }),
      el("div", { class: "participant-who" }, [
        el("span", { class: "participant-name" }),
        el("span", { class: "participant-role" }),
      ]),
      el("span", { class: "participant-state" }),
    ]);
    if (!self) {
      const mute = el("button", {
        class: "button button--small",
        type: "button",
        "data-action": "mute",
        "data-target-peer": peerId,
        text: "Mute",
      });
      const kick = el("button", {
        class: "button button--small button--danger-ghost",
        type: "button",
        "data-action": "kick",
        "data-target-peer": peerId,
        text: "Remove",
      });
      mute.addEventListener("click", () => this.handlers.onMute(peerId));
      kick.addEventListener("click", () => {
        const name = row.querySelector(".participant-name")?.textContent || "this person";
        this.handlers.onKick(peerId, name);
      });
      const actions = el("div", { class: "participant-actions" }, [mute, kick]);
      actions.hidden = !this.isModerator;
      // Members get no moderation buttons in the page at all, not merely hidden ones.
      if (this.isModerator) row.append(actions);
    }
    return row;
  }

  /** @param {string} peerId */
  remove(peerId) {
    this.rows.get(peerId)?.remove();
    this.rows.delete(peerId);
    this.updateCount();
  }

  clear() {
    for (const id of [...this.rows.keys()]) this.remove(id);
  }

  updateCount() {
    this.count.textContent = String(this.rows.size);
  }
}

/**
 * @param {string} icon
 * @param {string} label
 * @returns {HTMLElement}
 */
function labelledIcon(icon, label) {
  const holder = el("span", { class: `state-icon state-icon--${icon}`, title: label });
  holder.append(iconNode(icon), el("span", { class: "visually-hidden", text: label }));
  return holder;
}
