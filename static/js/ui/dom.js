// Small DOM helpers. Everything user-supplied reaches the page through textContent or
// attributes set one by one; nothing here ever parses HTML.

import { format, t } from "../i18n.js";

/**
 * Create an element with attributes and children.
 * @param {string} tag
 * @param {Record<string, string | boolean | number | null | undefined>} [attributes]
 *   "class" sets className, "text" sets textContent, booleans toggle the attribute
 * @param {(Node | string | null | undefined)[]} [children]
 * @returns {HTMLElement}
 */
export function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = String(value);
    else if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child);
  }
  return node;
}

/**
 * The element for a selector, which the template must provide.
 * @template {Element} [T=HTMLElement]
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {T}
 */
export function $(selector, root = document) {
  const node = root.querySelector(selector);
  if (!node) throw new Error(`the page lacks ${selector}`);
  return /** @type {T} */ (node);
}

// http(s) addresses only: other schemes (javascript:, data:) are never made clickable.
const LINK_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

/**
 * Fill `target` with `text`, turning http(s) addresses into links; built with DOM nodes only.
 * @param {HTMLElement} target
 * @param {string} text
 */
export function appendLinkified(target, text) {
  let last = 0;
  for (const match of text.matchAll(LINK_PATTERN)) {
    let address = match[0];
    const trailing = address.match(TRAILING_PUNCTUATION);
    if (trailing) address = address.slice(0, -trailing[0].length);
    const start = /** @type {number} */ (match.index);
    let href = "";
    try {
      const url = new URL(address);
      if (url.protocol === "http:" || url.protocol === "https:") href = url.href;
    } catch {
      href = "";
    }
    if (!href || !address) continue;
    if (start > last) target.append(document.createTextNode(text.slice(last, start)));
    const link = el("a", { href, target: "_blank", rel: "noopener noreferrer" });
    link.textContent = address;
    target.append(link);
    last = start + address.length;
  }
  if (last < text.length) target.append(document.createTextNode(text.slice(last)));
}

/**
 * The initials shown when there is no video.
 * @param {string} name
 * @returns {string}
 */
export function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = [...words[0]][0] || "?";
  const second = words.length > 1 ? [...words[words.length - 1]][0] || "" : "";
  return (first + second).toUpperCase();
}

/**
 * Keep a boolean-ish data attribute in step: "on"/"off" style.
 * @param {HTMLElement} node
 * @param {string} name dataset key
 * @param {boolean} value
 * @param {[string, string]} [words]
 */
export function setFlag(node, name, value, words = ["on", "off"]) {
  const text = value ? words[0] : words[1];
  if (node.dataset[name] !== text) node.dataset[name] = text;
}

/**
 * Keep a two-state button in step. Its name stays the same ("Microphone") and `aria-pressed`
 * says whether it is on: a name that also changed ("Turn microphone off") would be read together
 * with "pressed" as a contradiction (the WAI-ARIA toggle button pattern).
 * @param {HTMLButtonElement} button
 * @param {boolean} pressed
 * @param {string} label the fixed name
 * @param {string} [hint] the tooltip, say with the keyboard shortcut; the name by default
 */
export function setToggle(button, pressed, label, hint = label) {
  button.setAttribute("aria-pressed", String(pressed));
  if (button.getAttribute("aria-label") !== label) button.setAttribute("aria-label", label);
  if (button.title !== hint) button.title = hint;
}

// Dark enough that white initials read at 6.4:1 or better on every one of them (WCAG AA is 4.5).
const AVATAR_COLOURS = [
  "#9c2f45", "#8a4b0f", "#2e6b34", "#1d6470", "#3450a8",
  "#6b3fa8", "#8c2f86", "#5d6212", "#a1361d", "#2a5c8c",
];

/**
 * A person's avatar colour: derived from the user id, so it is the same on every page and visit.
 * @param {number | string | null | undefined} userId
 * @returns {string}
 */
export function avatarColour(userId) {
  const number = Math.abs(Math.trunc(Number(userId))) || 0;
  return AVATAR_COLOURS[number % AVATAR_COLOURS.length];
}

/**
 * What a device picker says of one kind of device: none found, or the nth unnamed one.
 * @param {"camera" | "microphone" | "speaker"} kind
 * @returns {{none: string, numbered: string}}
 */
function deviceWords(kind) {
  if (kind === "camera") return { none: t("No camera found"), numbered: t("Camera %(number)s") };
  if (kind === "microphone") return { none: t("No microphone found"), numbered: t("Microphone %(number)s") };
  return { none: t("No speaker found"), numbered: t("Speaker %(number)s") };
}

/**
 * Play a media element, tolerating the browser's "play() was interrupted" rejections, which
 * only mean a newer srcObject or a pause replaced this request.
 * @param {HTMLMediaElement} media
 */
export function playQuietly(media) {
  const attempt = media.play();
  if (attempt && typeof attempt.catch === "function") {
    attempt.catch((error) => {
      if (error && error.name === "NotAllowedError") {
        // Autoplay with sound was refused: play muted now, unmute on the next click anywhere.
        media.muted = true;
        media.play().catch(() => {});
        document.addEventListener(
          "click",
          () => {
            media.muted = false;
          },
          { once: true },
        );
      }
    });
  }
}

/**
 * Fill a device picker (pre-join and in-call settings alike): one option per device, named by
 * its label (or "Camera 2" before permission reveals labels), `current` selected if present.
 * @param {HTMLSelectElement} select
 * @param {MediaDeviceInfo[]} devices
 * @param {string} current
 * @param {"camera" | "microphone" | "speaker"} kind
 */
export function fillDeviceSelect(select, devices, current, kind) {
  const words = deviceWords(kind);
  if (devices.length === 0) {
    select.replaceChildren(el("option", { value: "", text: words.none }));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  select.replaceChildren(
    ...devices.map((device, index) =>
      el("option", { value: device.deviceId, text: device.label || format(words.numbered, { number: index + 1 }) }),
    ),
  );
  if (current && devices.some((device) => device.deviceId === current)) select.value = current;
}
