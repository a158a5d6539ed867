// Reactions, Meet-style: a menu of a few emoji in the controls, and each reaction the server
// passes on floats up the sender's tile for a few seconds, on every page (the sender's too).
// The emoji come from the page's configuration; the server refuses any other.

import { format, t } from "../i18n.js";
import { el } from "./dom.js";

/** How long a reaction stays on a tile; the CSS animation (reactions.css) lasts as long. */
export const REACTION_SHOW_MS = 4000;
/** At most this many reactions float on one tile at once; older ones make room. */
const MAX_PER_TILE = 4;

export class ReactionsMenu {
  /**
   * @param {{button: HTMLButtonElement, emoji: string[], onPick: (emoji: string) => void}} options
   */
  constructor({ button, emoji, onPick }) {
    this.button = button;
    this.onPick = onPick;
    this.menu = el("div", { id: "reactions-menu", class: "reactions-menu", role: "menu", "aria-label": t("Reactions"), hidden: true });
    for (const symbol of emoji) {
      const label = format(t("React with %(emoji)s"), { emoji: symbol });
      const item = el("button", {
        type: "button",
        class: "reaction-choice",
        role: "menuitem",
        "data-reaction": symbol,
        "aria-label": label,
        title: label,
        text: symbol,
      });
      item.addEventListener("click", () => this.onPick(symbol));
      this.menu.append(item);
    }
    button.setAttribute("aria-haspopup", "menu");
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", "reactions-menu");
    button.after(this.menu);
    button.addEventListener("click", () => this.setOpen(this.menu.hidden));
    this.menu.addEventListener("keydown", (event) => this.onKey(event));
    // A click anywhere else closes the menu, as Meet's does.
    document.addEventListener("click", (event) => {
      const target = /** @type {Node} */ (event.target);
      if (!this.menu.hidden && !this.menu.contains(target) && !button.contains(target)) this.setOpen(false);
    });
  }

  /** @param {boolean} open */
  setOpen(open) {
    this.menu.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) /** @type {HTMLElement} */ (this.menu.firstElementChild)?.focus();
  }

  /** Arrow keys move between the emoji; Escape closes the menu and returns to its button. */
  /** @param {KeyboardEvent} event */
  onKey(event) {
    const items = /** @type {HTMLElement[]} */ ([...this.menu.children]);
    const index = items.indexOf(/** @type {HTMLElement} */ (document.activeElement));
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.setOpen(false);
      this.button.focus();
    } else if (event.key === "ArrowRight" || event.key === "ArrowDown") {
      event.preventDefault();
      items[(index + 1) % items.length]?.focus();
    } else if (event.key === "ArrowLeft" || event.key === "ArrowUp") {
      event.preventDefault();
      items[(index - 1 + items.length) % items.length]?.focus();
    }
  }
}

/**
 * Float `emoji` on `tile` for REACTION_SHOW_MS, then remove it. The timer, not the animation's
 * end, removes it, so it goes with reduced motion (no animation) too.
 * @param {HTMLElement} tile the sender's camera tile or the self view
 * @param {string} emoji
 * @param {string} label who reacted with what, for screen readers ("Ana reacted 🎉")
 */
export function floatReaction(tile, emoji, label) {
  const floating = tile.querySelectorAll("[data-reaction-float]");
  // The oldest come first in document order.
  for (const old of [...floating].slice(0, Math.max(0, floating.length - MAX_PER_TILE + 1))) old.remove();
  const badge = el("span", {
    class: "reaction-float",
    "data-reaction-float": emoji,
    role: "img",
    "aria-label": label,
    text: emoji,
  });
  // A small random sideways offset, so reactions sent together do not sit on top of each other.
  badge.style.left = `${10 + Math.floor(Math.random() * 50)}%`;
  tile.append(badge);
  setTimeout(() => badge.remove(), REACTION_SHOW_MS);
}
