// The chat panel: history from `welcome`, live messages with their time, auto-scroll, an
// unread badge while the panel is closed, and links made clickable without parsing HTML.

import { format, t } from "../i18n.js";
import { displayName } from "../protocol.js";
import { $, appendLinkified, el } from "./dom.js";

/** @typedef {import("../protocol.js").ChatMessage} ChatMessage */

// Within this many pixels of the bottom the log follows new messages; further up, the reader
// is looking at history and keeps their place.
const STICKY_BOTTOM_PX = 80;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export class ChatPanel {
  /**
   * @param {{send: (text: string) => boolean, isOpen: () => boolean, maxLength: number}} options
   *   send returns false when the message could not be sent; maxLength is the server's limit
   *   (the page config's chat_max_length)
   */
  constructor({ send, isOpen, maxLength }) {
    this.maxLength = maxLength;
    this.log = /** @type {HTMLOListElement} */ ($("#chat-log"));
    this.form = /** @type {HTMLFormElement} */ ($("#chat-form"));
    this.input = /** @type {HTMLTextAreaElement} */ ($('[name="text"]', this.form));
    // The box takes twice the server's limit (the limit's one home is the page config): a paste
    // a little over it is kept and told "at most N characters", not cut off without a word.
    this.input.maxLength = 2 * maxLength;
    this.error = /** @type {HTMLElement} */ ($("[data-chat-error]"));
    this.empty = /** @type {HTMLElement} */ ($("[data-chat-empty]"));
    this.unreadBadge = /** @type {HTMLElement} */ ($("[data-unread]"));
    this.isOpen = isOpen;
    this.selfPeerId = "";
    this.unread = 0;
    /** @type {Set<number>} */
    this.seen = new Set();
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(send);
    });
    this.input.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter makes a new line, as in every chat people know.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit(send);
      }
    });
    this.input.addEventListener("input", () => this.showError(""));
    this.setUnread(0);
  }

  /** @param {(text: string) => boolean} send */
  submit(send) {
    const text = this.input.value.trim();
    if (!text) {
      this.showError(t("Type a message first."));
      return;
    }
    if (text.length > this.maxLength) {
      const limit = t("Messages can be at most %(limit)s characters (this one has %(length)s).");
      this.showError(format(limit, { limit: this.maxLength, length: text.length }));
      return;
    }
    if (!send(text)) {
      this.showError(t("Not connected; your message was kept. Try again in a moment."));
      return;
    }
    this.input.value = "";
    this.showError("");
  }

  /** @param {string} text */
  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  /**
   * Show the history from `welcome`. The nodes are built into fragments and the log is measured
   * and scrolled once, however long the history: doing that per message forced a layout each
   * time and scanned the log each time.
   * @param {ChatMessage[]} messages history from `welcome`, oldest first
   */
  addHistory(messages) {
    const fresh = messages
      .filter((message) => this.isNew(message))
      .sort((first, second) => first.id - second.id);
    if (fresh.length === 0) return;
    const nearBottom = this.isNearBottom();
    // A resumed welcome may carry messages missed during an outage, which belong between the
    // ones already shown; one walk along the (id-ordered) log finds every place.
    let anchor = this.log.firstElementChild;
    const pending = document.createDocumentFragment();
    for (const message of fresh) {
      this.seen.add(message.id);
      while (anchor && chatIdOf(anchor) < message.id) {
        if (pending.firstChild) this.log.insertBefore(pending, anchor);
        anchor = anchor.nextElementSibling;
      }
      pending.append(this.render(message));
    }
    this.log.insertBefore(pending, anchor);
    this.empty.hidden = true;
    if (nearBottom) this.scrollToBottom();
  }

  /**
   * Show one live message: the log follows it if the reader was at the bottom (or sent it),
   * and it counts as unread while the panel is closed.
   * @param {ChatMessage} message
   */
  add(message) {
    if (!this.isNew(message)) return;
    this.seen.add(message.id);
    const nearBottom = this.isNearBottom();
    const mine = message.peer_id === this.selfPeerId;
    const item = this.render(message);
    // Messages are kept in id order even if a resumed history arrives after a live message;
    // a live message is nearly always the newest, so the last one is looked at first.
    const last = this.log.lastElementChild;
    const after =
      !last || chatIdOf(last) < message.id
        ? null
        : [...this.log.children].find((node) => chatIdOf(node) > message.id);
    this.log.insertBefore(item, after || null);
    this.empty.hidden = true;
    if (nearBottom || mine) this.scrollToBottom();
    if (!mine && !this.isOpen()) this.setUnread(this.unread + 1);
  }

  /**
   * @param {ChatMessage} message
   * @returns {boolean} whether it has a usable id not shown yet
   */
  isNew(message) {
    return typeof message.id === "number" && !this.seen.has(message.id);
  }

  /** @returns {boolean} */
  isNearBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < STICKY_BOTTOM_PX;
  }

  scrollToBottom() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  /**
   * The list item of one message; built with DOM calls only.
   * @param {ChatMessage} message
   * @returns {HTMLElement}
   */
  render(message) {
    const mine = message.peer_id === this.selfPeerId;
    const sentAt = new Date(message.sent_at);
    const valid = !Number.isNaN(sentAt.getTime());
    const text = el("p", { class: "chat-text" });
    appendLinkified(text, String(message.text ?? ""));
    return el("li", { class: `chat-message${mine ? " chat-message--mine" : ""}`, "data-chat-id": message.id }, [
      el("div", { class: "chat-meta" }, [
        el("span", { class: "chat-author", text: mine ? t("You") : displayName(message.user) }),
        el("time", {
          datetime: valid ? message.sent_at : null,
          title: valid ? sentAt.toLocaleString() : null,
          text: valid ? timeFormat.format(sentAt) : "",
        }),
      ]),
      text,
    ]);
  }

  /** The panel was opened: everything is read, and the newest message is in view. */
  opened() {
    this.setUnread(0);
    this.scrollToBottom();
    this.input.focus();
  }

  /** @param {number} count */
  setUnread(count) {
    this.unread = count;
    this.unreadBadge.textContent = String(count);
    this.unreadBadge.hidden = count === 0;
  }
}

/**
 * @param {Element} node a message of the log
 * @returns {number}
 */
function chatIdOf(node) {
  return Number(/** @type {HTMLElement} */ (node).dataset.chatId);
}
