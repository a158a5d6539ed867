// Blocking notices (kicked, room ended, refused, left) and transient toasts.

import { $, el } from "./dom.js";

const TOAST_MS = 6000;
const TOAST_LIMIT = 4;

/**
 * @typedef {{label: string, href?: string, onClick?: () => void, primary?: boolean}} NoticeAction
 */

/**
 * Show the blocking notice that ends the call view.
 * @param {{kind: string, title: string, text: string, actions: NoticeAction[]}} notice
 */
export function showNotice({ kind, title, text, actions }) {
  const box = /** @type {HTMLElement} */ ($("#notice"));
  box.dataset.notice = kind;
  const heading = el("h2", { id: "notice-title", text: title });
  const body = el("p", { class: "notice-text", text });
  const buttons = el("div", { class: "notice-actions" });
  for (const action of actions) {
    const className = `button${action.primary ? " button--primary" : ""}`;
    if (action.href) {
      buttons.append(el("a", { class: className, href: action.href, text: action.label }));
    } else {
      const button = el("button", { class: className, type: "button", text: action.label });
      button.addEventListener("click", () => action.onClick?.());
      buttons.append(button);
    }
  }
  const card = el("div", { class: "notice-card" }, [heading, body, buttons]);
  box.replaceChildren(card);
  box.hidden = false;
  const first = buttons.querySelector("a, button");
  if (first instanceof HTMLElement) first.focus();
}

/**
 * A short message that goes away by itself.
 * @param {string} text
 * @param {{tone?: "info" | "warning" | "error"}} [options]
 */
export function toast(text, { tone = "info" } = {}) {
  const area = $("#toasts");
  const item = el("div", { class: `toast toast--${tone}`, role: tone === "error" ? "alert" : null });
  item.textContent = text;
  area.append(item);
  while (area.children.length > TOAST_LIMIT) area.firstElementChild?.remove();
  setTimeout(() => item.remove(), TOAST_MS);
}
