// Keyboard shortcuts, listed in the help dialog. Single keys, ignored while typing.

import { t } from "../i18n.js";

// The labels are translated when the module loads, after the page's catalog (room.html loads
// /jsi18n/ before its modules).
/** @type {{key: string, label: string, action: string}[]} */
export const SHORTCUTS = [
  { key: "m", label: t("Microphone on or off"), action: "toggle-audio" },
  { key: "v", label: t("Camera on or off"), action: "toggle-video" },
  { key: "c", label: t("Open or close the chat"), action: "toggle-chat" },
  { key: "p", label: t("Open or close the participants"), action: "toggle-participants" },
  { key: "h", label: t("Raise or lower your hand"), action: "raise-hand" },
  { key: "?", label: t("Show this help"), action: "help" },
];

/**
 * Clicking the matching control keeps one code path for mouse, keyboard and tests.
 * @param {() => boolean} enabled whether shortcuts apply now (only during the call)
 */
export function installShortcuts(enabled) {
  document.addEventListener("keydown", (event) => {
    if (!enabled() || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    const target = /** @type {HTMLElement | null} */ (event.target);
    if (target && target.closest("input, textarea, select, [contenteditable], dialog[open]")) {
      return;
    }
    const shortcut = SHORTCUTS.find((item) => item.key === event.key.toLowerCase() || item.key === event.key);
    if (!shortcut) return;
    const control = document.querySelector(`#controls [data-action="${shortcut.action}"]`);
    if (control instanceof HTMLButtonElement && !control.disabled) {
      event.preventDefault();
      control.click();
    }
  });
}
