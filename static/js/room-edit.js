// The room settings page's script: the Copy button beside the invite link. A browser that
// refuses the clipboard gets the link selected, ready for Ctrl+C, and is told so.

import { t } from "./i18n.js";

const button = /** @type {HTMLButtonElement | null} */ (document.querySelector('[data-action="copy-invite-url"]'));
const field = /** @type {HTMLInputElement | null} */ (document.querySelector("#invite-url"));
const copyStatus = /** @type {HTMLElement | null} */ (document.querySelector("[data-copy-status]"));

if (button && field) {
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = t("Copied");
      button.dataset.copied = "true";
      if (copyStatus) copyStatus.textContent = t("Invite link copied.");
    } catch {
      field.focus();
      field.select();
      if (copyStatus) {
        copyStatus.textContent = t("Your browser did not allow copying: the link is selected, press Ctrl+C (⌘C on a Mac).");
      }
    }
  });
}
