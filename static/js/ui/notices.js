// Blocking notices (kicked, room ended, refused, left) and transient toasts.

import { t } from "../i18n.js";
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
 * A short message that goes away by itself, or, when `sticky`, stays until dismissed: for what
 * the user should still find after looking away (the page is out of date, say). A sticky message
 * may carry one link to act on it.
 * @param {string} text
 * @param {{tone?: "info" | "warning" | "error", sticky?: boolean,
 *          link?: {label: string, href: string}}} [options]
 */
export function toast(text, { tone = "info", sticky = false, link } = {}) {
  const area = $("#toasts");
  const item = el("div", {
    class: `toast toast--${tone}${sticky ? " toast--sticky" : ""}`,
    role: tone === "error" ? "alert" : null,
  });
  item.append(el("span", { class: "toast-text", text }));
  if (sticky) {
    if (link) item.append(el("a", { class: "toast-link", href: link.href, text: link.label }));
    const dismiss = el("button", { class: "toast-dismiss", type: "button", "aria-label": t("Dismiss") });
    dismiss.textContent = "×";
    dismiss.addEventListener("click", () => item.remove());
    item.append(dismiss);
  }
  area.append(item);
  // Passing messages make room for newer ones; sticky ones stay until dismissed.
  const passing = [...area.children].filter((node) => !node.classList.contains("toast--sticky"));
  for (const old of passing.slice(0, Math.max(0, passing.length - TOAST_LIMIT))) old.remove();
  if (!sticky) setTimeout(() => item.remove(), TOAST_MS);
}
