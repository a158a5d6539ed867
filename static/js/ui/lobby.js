// The lobby, both sides of the door.
//
// Hosts (the owner and moderators) see a card listing who is knocking, each with Admit and Deny,
// and Admit all once two or more wait; the card shows only while someone waits. The knocker waits
// on the pre-join page with its camera preview, and is told whether a host is there to let it in.

import { format, t, tn } from "../i18n.js";
import { displayName } from "../protocol.js";
import { $, el } from "./dom.js";

/** @typedef {import("../protocol.js").Knock} Knock */


export class LobbyCard {
  /**
   * @param {{onAdmit: (knockId: number) => void, onDeny: (knockId: number) => void,
   *          onAdmitAll: () => void}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.root = /** @type {HTMLElement} */ ($("#lobby"));
    this.list = /** @type {HTMLUListElement} */ ($("#lobby-list"));
    this.admitAll = /** @type {HTMLButtonElement} */ ($('#lobby [data-action="admit-all"]'));
    this.title = /** @type {HTMLElement} */ ($("#lobby-title"));
    /** @type {Map<number, HTMLElement>} */
    this.rows = new Map();
    this.admitAll.addEventListener("click", () => this.handlers.onAdmitAll());
    this.sync();
  }

  /**
   * Someone knocks; a knock already listed is left as it is.
   * @param {Knock} knock
   * @returns {boolean} whether it is new
   */
  add(knock) {
    if (this.rows.has(knock.id)) return false;
    const name = displayName(knock.user);
    // Only guests are marked: anyone else who knocks has an account, as the hosts do. Someone
    // removed from the call a moment ago is marked too: the hosts decide whether to take them back.
    const badge = knock.role === "guest" ? t("Guest") : "";
    const removed = knock.removed ? el("span", { class: "role-badge role-badge--removed", text: t("Removed earlier") }) : null;
    const admit = el("button", {
      type: "button",
      class: "button button--small button--primary",
      "data-action": "admit",
      "aria-label": format(t("Admit %(name)s"), { name }),
      text: t("Admit"),
    });
    const deny = el("button", {
      type: "button",
      class: "button button--small",
      "data-action": "deny",
      "aria-label": format(t("Deny %(name)s"), { name }),
      text: t("Deny"),
    });
    admit.addEventListener("click", () => this.decide(knock.id, "admit"));
    deny.addEventListener("click", () => this.decide(knock.id, "deny"));
    // The "Removed earlier" mark goes under the name, so that a short card never cuts the name.
    const who = el("span", { class: "lobby-peer-who" }, [
      el("span", { class: "lobby-peer-name", text: name }),
      ...(removed ? [removed] : []),
    ]);
    const row = el("li", { class: "lobby-peer", "data-lobby-peer": String(knock.id), "data-role": knock.role }, [
      who,
      badge ? el("span", { class: "role-badge", text: badge }) : el("span"),
      el("span", { class: "lobby-peer-actions" }, [admit, deny]),
    ]);
    this.rows.set(knock.id, row);
    this.list.append(row);
    this.sync();
    return true;
  }

  /**
   * @param {number} knockId
   * @param {"admit" | "deny"} choice
   */
  decide(knockId, choice) {
    const row = this.rows.get(knockId);
    // The buttons wait for the server's word (knock-ended), so a second click sends nothing.
    for (const button of row?.querySelectorAll("button") || []) {
      /** @type {HTMLButtonElement} */ (button).disabled = true;
    }
    if (choice === "admit") this.handlers.onAdmit(knockId);
    else this.handlers.onDeny(knockId);
  }

  /**
   * A knock stopped waiting (decided here or by another host, expired, or the knocker left).
   * @param {number} knockId
   */
  remove(knockId) {
    const row = this.rows.get(knockId);
    if (!row) return;
    const hadFocus = row.contains(document.activeElement);
    row.remove();
    this.rows.delete(knockId);
    this.sync();
    // Focus stays in the card when there is more to decide, never falls to the page's body.
    if (hadFocus) {
      const next = /** @type {HTMLElement | null} */ (this.list.querySelector('[data-action="admit"]'));
      next?.focus();
    }
  }

  /** The server's word was "not waiting any more" for a click: enable what is still listed. */
  enableAll() {
    for (const button of this.list.querySelectorAll("button")) {
      /** @type {HTMLButtonElement} */ (button).disabled = false;
    }
  }

  /** @param {Knock[]} knocks the waiting list a welcome brings; replaces what was shown */
  reset(knocks) {
    this.clear();
    for (const knock of knocks) this.add(knock);
  }

  clear() {
    for (const row of this.rows.values()) row.remove();
    this.rows.clear();
    this.sync();
  }

  sync() {
    const count = this.rows.size;
    this.root.hidden = count === 0;
    this.admitAll.hidden = count < 2;
    this.admitAll.textContent = format(t("Admit all (%(count)s)"), { count });
    this.title.textContent =
      count === 1
        ? t("Someone wants to join")
        : format(tn("%(count)s person wants to join", "%(count)s people want to join", count), { count });
  }
}

/**
 * What the knocker's pre-join page says while it waits.
 * @param {boolean | null} hostsPresent null before the server has answered
 * @returns {string}
 */
export function lobbyWaitingText(hostsPresent) {
  if (hostsPresent === null) return t("Asking to join…");
  return hostsPresent
    ? t("Waiting for the host to let you in…")
    : t(
        "Waiting for the host to let you in. Nobody who can let you in is in the call yet; you will be let in when they arrive.",
      );
}
