// The participants panel: everyone in the call, and for moderators the means to ask someone
// to mute, remove or ban them, lock the room and end the meeting for all.

import { format, t, tn } from "../i18n.js";
import { displayName, moderatesRoom } from "../protocol.js";
import { $, el, initials } from "./dom.js";
import { iconNode } from "./stage.js";

/** @typedef {import("../call.js").RemotePeer} RemotePeer */
/** @typedef {import("../protocol.js").PeerState} PeerState */
/** @typedef {import("../protocol.js").User} User */

/**
 * The role shown under a participant's name; members have none.
 * @param {string} role
 * @returns {string}
 */
function roleLabel(role) {
  if (role === "owner") return t("Host");
  if (role === "moderator") return t("Moderator");
  if (role === "guest") return t("Guest");
  return "";
}

/**
 * A row and its parts, so that an update touches only the parts that changed: `peer-updated`
 * fires on every connection-state change and track, and most of those change nothing here.
 * `iconKey` names the state icons shown (hand, screen, microphone).
 * `places` says in how many tabs or devices the person is, on the one row shown for them.
 * @typedef {{row: HTMLElement, avatar: HTMLElement, name: HTMLElement, detail: HTMLElement,
 *            places: HTMLElement, icons: HTMLElement, actions: HTMLElement | null,
 *            mute: HTMLButtonElement | null, self: boolean, role: string, audio: boolean,
 *            iconKey: string, userId: number | null}} Row
 */

/**
 * Whether the viewer may mute, remove and ban this participant; the server enforces the same rule
 * (rooms/moderation.py): owners and moderators act on anyone but themselves, and only an owner
 * acts on an owner.
 * @param {string} viewerRole
 * @param {string} targetRole
 * @param {boolean} self
 * @returns {boolean}
 */
function canModerate(viewerRole, targetRole, self) {
  return !self && moderatesRoom(viewerRole) && (viewerRole === "owner" || targetRole !== "owner");
}

export class ParticipantsPanel {
  /**
   * @param {{onMute: (peerId: string) => void, onKick: (peerId: string, name: string) => void,
   *          onBan: (peerId: string, name: string) => void,
   *          onLock: (locked: boolean) => void, onEnd: () => void}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.list = /** @type {HTMLUListElement} */ ($("#participant-list"));
    this.count = /** @type {HTMLElement} */ ($("[data-participant-count]"));
    this.roomControls = /** @type {HTMLElement} */ ($("[data-room-controls]"));
    this.lockButton = /** @type {HTMLButtonElement} */ ($('[data-action="lock"]'));
    this.endButton = /** @type {HTMLButtonElement} */ ($('[data-action="end"]'));
    /** The viewer's own role, which decides the moderation controls of every row. */
    this.viewerRole = "";
    this.locked = false;
    /** @type {Map<string, Row>} */
    this.rows = new Map();
    this.lockButton.addEventListener("click", () => this.handlers.onLock(!this.locked));
    this.endButton.addEventListener("click", () => this.handlers.onEnd());
  }

  /**
   * The viewer's role; it comes with every `welcome`, and a resumed session may bring a new one.
   * Every row is brought in line, so no row keeps the buttons of the role it was made under.
   * @param {string} role
   */
  setViewerRole(role) {
    this.viewerRole = role;
    this.roomControls.hidden = !moderatesRoom(role);
    for (const [peerId, row] of this.rows) this.syncActions(peerId, row);
  }

  /** @param {boolean} locked */
  setLocked(locked) {
    this.locked = locked;
    this.lockButton.setAttribute("aria-pressed", String(locked));
    const label = /** @type {HTMLElement} */ (this.lockButton.querySelector(".label"));
    label.textContent = locked ? t("Unlock room") : t("Lock room");
  }

  /**
   * Add or update a participant's row, writing only what differs from what it shows.
   * @param {{peerId: string, user: User, role: string, state: PeerState, self: boolean,
   *          lost?: boolean}} entry
   */
  upsert({ peerId, user, role, state, self, lost = false }) {
    let row = this.rows.get(peerId);
    const created = !row;
    if (!row) {
      row = this.buildRow(peerId, self);
      row.userId = typeof user?.id === "number" ? user.id : null;
      this.rows.set(peerId, row);
      if (self) this.list.prepend(row.row);
      else this.list.append(row.row);
      this.updateCount();
    }
    const name = displayName(user);
    const iconKey = `${Boolean(state.hand)}/${Boolean(state.screen)}/${state.audio !== false}`;
    setText(row, "avatar", initials(name));
    setText(row, "name", self ? format(t("%(name)s (you)"), { name }) : name);
    setText(row, "detail", [roleLabel(role), lost ? t("reconnecting…") : ""].filter(Boolean).join(" · "));
    if (row.iconKey !== iconKey) {
      row.iconKey = iconKey;
      row.icons.replaceChildren(...stateIcons(state));
    }
    row.audio = state.audio !== false;
    if (row.mute) row.mute.disabled = !row.audio;
    if (created || row.role !== role) {
      row.role = role;
      row.row.dataset.role = role;
      this.syncActions(peerId, row);
    }
  }

  /**
   * @param {string} peerId
   * @param {boolean} self
   * @returns {Row}
   */
  buildRow(peerId, self) {
    const avatar = el("span", { class: "participant-avatar", "aria-hidden": "true" });
    const name = el("span", { class: "participant-name" });
    const detail = el("span", { class: "participant-role" });
    const places = el("span", { class: "participant-role", hidden: true });
    const icons = el("span", { class: "participant-state" });
    const row = el("li", { class: "participant", "data-participant": peerId }, [
      avatar,
      el("div", { class: "participant-who" }, [name, detail, places]),
      icons,
    ]);
    return {
      row,
      avatar,
      name,
      detail,
      places,
      icons,
      userId: null,
      actions: null,
      mute: null,
      self,
      role: "",
      audio: true,
      iconKey: "",
    };
  }

  /**
   * Give the row its moderation buttons exactly while the viewer may use them. Members get no
   * moderation buttons in the page at all, not merely hidden ones.
   * @param {string} peerId
   * @param {Row} row
   */
  syncActions(peerId, row) {
    const wanted = canModerate(this.viewerRole, row.role, row.self);
    if (wanted && !row.actions) {
      const mute = el("button", {
        class: "button button--small",
        type: "button",
        "data-action": "mute",
        "data-target-peer": peerId,
        text: t("Mute"),
      });
      const kick = el("button", {
        class: "button button--small button--danger-ghost",
        type: "button",
        "data-action": "kick",
        "data-target-peer": peerId,
        text: t("Remove"),
      });
      // Banning also keeps them out of the room for good, so it asks first, like removing.
      const ban = el("button", {
        class: "button button--small button--danger-ghost",
        type: "button",
        "data-action": "ban",
        "data-target-peer": peerId,
        text: t("Ban"),
      });
      mute.addEventListener("click", () => this.handlers.onMute(peerId));
      kick.addEventListener("click", () => {
        this.handlers.onKick(peerId, row.name.textContent || t("this person"));
      });
      ban.addEventListener("click", () => {
        this.handlers.onBan(peerId, row.name.textContent || t("this person"));
      });
      row.mute = /** @type {HTMLButtonElement} */ (mute);
      row.mute.disabled = !row.audio;
      row.actions = el("div", { class: "participant-actions" }, [mute, kick, ban]);
      row.row.append(row.actions);
    } else if (!wanted && row.actions) {
      row.actions.remove();
      row.actions = null;
      row.mute = null;
    }
  }

  /** @param {string} peerId */
  remove(peerId) {
    const row = this.rows.get(peerId);
    if (!row) return;
    row.row.remove();
    this.rows.delete(peerId);
    this.updateCount();
  }

  clear() {
    for (const id of [...this.rows.keys()]) this.remove(id);
  }

  /**
   * One person, one row. The same account in two tabs or devices has a socket (and a peer id)
   * in each; the list shows the person once, on their first row (our own, when it is us), with
   * "in 2 tabs or devices", and the count is of people, not of connections.
   */
  updateCount() {
    /** @type {Map<string, Row[]>} */
    const people = new Map();
    for (const [peerId, row] of this.rows) {
      const key = row.userId === null ? `peer:${peerId}` : `user:${row.userId}`;
      const rows = people.get(key) || [];
      if (row.self) rows.unshift(row);
      else rows.push(row);
      people.set(key, rows);
    }
    for (const rows of people.values()) {
      rows.forEach((row, index) => {
        row.row.hidden = index > 0;
        const places = tn("in %(count)s tab or device", "in %(count)s tabs or devices", rows.length);
        const text = index === 0 && rows.length > 1 ? format(places, { count: rows.length }) : "";
        if (row.places.textContent !== text) row.places.textContent = text;
        row.places.hidden = !text;
      });
    }
    this.count.textContent = String(people.size);
  }
}

/**
 * Set one text part of a row if it changed.
 * @param {Row} row
 * @param {"avatar" | "name" | "detail"} part
 * @param {string} text
 */
function setText(row, part, text) {
  if (row[part].textContent !== text) row[part].textContent = text;
}

/**
 * @param {PeerState} state
 * @returns {HTMLElement[]}
 */
function stateIcons(state) {
  const icons = [];
  if (state.hand) icons.push(labelledIcon("hand", t("Hand raised")));
  if (state.screen) icons.push(labelledIcon("screen", t("Presenting")));
  icons.push(
    state.audio === false
      ? labelledIcon("mic-off", t("Microphone off"))
      : labelledIcon("mic", t("Microphone on")),
  );
  return icons;
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
