// The microphone's processing in the in-call settings: the browser's own noise suppression and
// echo cancellation (getUserMedia constraints), remembered by this browser (preferences.js).
// Both are on by default; turning them off helps music or a room microphone that the browser's
// processing would cut up.

import { loadPreference, savePreference } from "../preferences.js";
import { $ } from "./dom.js";

/**
 * Set the remembered processing on `media` (before the microphone opens) and wire the boxes.
 * @param {{media: import("../media.js").LocalMedia, onProblem: (text: string) => void}} options
 */
export function wireAudioSettings({ media, onProblem }) {
  const dialog = $("#settings-dialog");
  const noiseBox = /** @type {HTMLInputElement} */ ($('input[name="noise-suppression"]', dialog));
  const echoBox = /** @type {HTMLInputElement} */ ($('input[name="echo-cancellation"]', dialog));
  media.noiseSuppression = noiseBox.checked = loadPreference("noiseSuppression");
  media.echoCancellation = echoBox.checked = loadPreference("echoCancellation");
  const apply = async () => {
    savePreference("noiseSuppression", noiseBox.checked);
    savePreference("echoCancellation", echoBox.checked);
    const problem = await media.setAudioProcessing({
      noiseSuppression: noiseBox.checked,
      echoCancellation: echoBox.checked,
    });
    if (problem) onProblem(problem);
  };
  noiseBox.addEventListener("change", apply);
  echoBox.addEventListener("change", apply);
}
