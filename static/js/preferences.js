// What this browser remembers between calls: the chosen camera, microphone and speaker, the
// stage layout, how the self view is shown, whether alerts make sounds, and the microphone's
// noise suppression and echo cancellation. Kept in localStorage, per browser as in Meet;
// nothing of it reaches the server. A browser that refuses storage (a private window with
// storage blocked) simply forgets.

const PREFIX = "meet.";

/**
 * @typedef {"auto" | "grid" | "speaker" | "sidebar"} LayoutChoice
 * @typedef {{camera: string, microphone: string, speaker: string, layout: LayoutChoice,
 *            selfView: boolean, mirror: boolean, alertSounds: boolean,
 *            noiseSuppression: boolean, echoCancellation: boolean}} Preferences
 */

/** @type {LayoutChoice[]} */
export const LAYOUT_CHOICES = ["auto", "grid", "speaker", "sidebar"];

/** @type {Preferences} */
const DEFAULTS = {
  camera: "",
  microphone: "",
  speaker: "",
  layout: "auto",
  selfView: true,
  mirror: true,
  alertSounds: true,
  noiseSuppression: true,
  echoCancellation: true,
};

/**
 * Read a stored value back into the shape of its default; anything unreadable is the default.
 * @template {keyof Preferences} K
 * @param {K} name
 * @param {string | null} raw
 * @returns {Preferences[K]}
 */
export function parsePreference(name, raw) {
  const fallback = DEFAULTS[name];
  if (raw === null) return fallback;
  if (typeof fallback === "boolean") {
    if (raw === "true" || raw === "false") return /** @type {Preferences[K]} */ (raw === "true");
    return fallback;
  }
  if (name === "layout") {
    return /** @type {Preferences[K]} */ (
      LAYOUT_CHOICES.includes(/** @type {LayoutChoice} */ (raw)) ? raw : fallback
    );
  }
  return /** @type {Preferences[K]} */ (raw);
}

/**
 * @template {keyof Preferences} K
 * @param {K} name
 * @returns {Preferences[K]}
 */
export function loadPreference(name) {
  try {
    return parsePreference(name, window.localStorage.getItem(PREFIX + name));
  } catch {
    return DEFAULTS[name];
  }
}

/**
 * @template {keyof Preferences} K
 * @param {K} name
 * @param {Preferences[K]} value
 */
export function savePreference(name, value) {
  try {
    window.localStorage.setItem(PREFIX + name, String(value));
  } catch {
    // Storage blocked or full: the choice holds for this page only.
  }
}
