// "Your meeting's ready", as in Meet: the owner who starts a call alone sees the invite link with
// a Copy button and a short prompt to share it, and the self view shrinks beside the card instead
// of filling the screen. The card goes for good (on this page) when someone joins or it is closed.

import { t } from "../i18n.js";
import { el } from "./dom.js";

export class InviteCard {
  /**
   * @param {{stage: HTMLElement, inviteUrl: string, onCopy: () => Promise<boolean>}} options
   *   onCopy copies the link (with the page's own fallback) and says whether it worked
   */
  constructor({ stage, inviteUrl, onCopy }) {
    this.stage = stage;
    this.done = false;
    const link = el("input", {
      type: "text",
      class: "invite-card-link",
      readonly: true,
      value: inviteUrl,
      "aria-label": t("Invite link"),
      "data-invite-link": true,
    });
    link.addEventListener("focus", () => /** @type {HTMLInputElement} */ (link).select());
    this.copyButton = el("button", {
      type: "button",
      class: "button button--primary invite-card-copy",
      "data-action": "copy-invite-link",
      text: t("Copy link"),
    });
    this.copyButton.addEventListener("click", async () => {
      if (await onCopy()) {
        this.copyButton.textContent = t("Copied");
        this.copyButton.dataset.copied = "true";
      }
    });
    const close = el("button", {
      type: "button",
      class: "invite-card-close",
      "data-action": "dismiss-invite",
      "aria-label": t("Close the invite prompt"),
      title: t("Close"),
      text: "×",
    });
    close.addEventListener("click", () => this.dismiss());
    this.card = el(
      "section",
      { class: "invite-card", "data-invite-card": true, "aria-labelledby": "invite-card-title", hidden: true },
      [
        el("h2", { id: "invite-card-title", text: t("Your meeting's ready") }),
        el("p", { text: t("Share this link with the people you want in the meeting. You're the only one here.") }),
        el("div", { class: "invite-card-row" }, [link, this.copyButton]),
        close,
      ],
    );
    stage.prepend(this.card);
  }

  /** Show the card, unless someone already joined or it was closed on this page. */
  show() {
    if (this.done) return;
    this.card.hidden = false;
    this.stage.dataset.invite = "true";
  }

  /** Someone joined, or the call ended: the card goes and does not come back on this page. */
  dismiss() {
    this.done = true;
    const hadFocus = this.card.contains(document.activeElement);
    this.card.hidden = true;
    delete this.stage.dataset.invite;
    // Focus must not be left on a hidden button.
    if (hadFocus) /** @type {HTMLElement | null} */ (document.querySelector('#controls [data-action="toggle-audio"]'))?.focus();
  }
}
