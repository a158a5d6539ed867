// The in-call settings: camera, microphone and speaker switched during the call, the self view
// (shown or hidden, mirrored or not), and the layout menu. Every choice is remembered by this
// browser (preferences.js) and used again at the next pre-join. Switching a device only
// replaces a local track: call.js hands the new track to every connection with replaceTrack,
// so nothing is renegotiated.

import { loadPreference, savePreference } from "../preferences.js";
import { $, fillDeviceSelect } from "./dom.js";

/** @typedef {import("../media.js").LocalMedia} LocalMedia */
/** @typedef {import("../preferences.js").LayoutChoice} LayoutChoice */

export class CallSettings {
  /**
   * @param {{media: LocalMedia, onSpeaker: (deviceId: string) => void,
   *          onLayout: (choice: LayoutChoice) => void, onSelfView: (shown: boolean) => void,
   *          onMirror: (mirrored: boolean) => void, onProblem: (text: string) => void}} options
   */
  constructor({ media, onSpeaker, onLayout, onSelfView, onMirror, onProblem }) {
    this.media = media;
    this.dialog = /** @type {HTMLDialogElement} */ ($("#settings-dialog"));
    this.layoutDialog = /** @type {HTMLDialogElement} */ ($("#layout-dialog"));
    this.cameraSelect = /** @type {HTMLSelectElement} */ ($('select[name="settings-camera"]', this.dialog));
    this.micSelect = /** @type {HTMLSelectElement} */ ($('select[name="settings-microphone"]', this.dialog));
    this.speakerSelect = /** @type {HTMLSelectElement} */ ($('select[name="settings-speaker"]', this.dialog));
    this.selfViewBox = /** @type {HTMLInputElement} */ ($('input[name="self-view"]', this.dialog));
    this.mirrorBox = /** @type {HTMLInputElement} */ ($('input[name="mirror"]', this.dialog));
    // Decided once: a browser without setSinkId has no speaker choice to offer.
    /** @type {HTMLElement} */ (this.speakerSelect.closest(".dialog-field")).hidden = !media.canPickSpeaker;
    this.selfViewBox.checked = loadPreference("selfView");
    this.mirrorBox.checked = loadPreference("mirror");
    const layout = loadPreference("layout");
    for (const radio of this.layoutRadios()) radio.checked = radio.value === layout;

    this.cameraSelect.addEventListener("change", async () => {
      const deviceId = this.cameraSelect.value;
      savePreference("camera", deviceId);
      const problem = await media.useCamera(deviceId);
      if (problem) onProblem(problem);
      await this.fillDevices();
    });
    this.micSelect.addEventListener("change", async () => {
      const deviceId = this.micSelect.value;
      savePreference("microphone", deviceId);
      const problem = await media.useMicrophone(deviceId);
      if (problem) onProblem(problem);
      await this.fillDevices();
    });
    this.speakerSelect.addEventListener("change", () => {
      media.speakerId = this.speakerSelect.value;
      savePreference("speaker", media.speakerId);
      onSpeaker(media.speakerId);
    });
    this.selfViewBox.addEventListener("change", () => {
      savePreference("selfView", this.selfViewBox.checked);
      onSelfView(this.selfViewBox.checked);
    });
    this.mirrorBox.addEventListener("change", () => {
      savePreference("mirror", this.mirrorBox.checked);
      onMirror(this.mirrorBox.checked);
    });
    for (const radio of this.layoutRadios()) {
      radio.addEventListener("change", () => {
        if (!radio.checked) return;
        const choice = /** @type {LayoutChoice} */ (radio.value);
        savePreference("layout", choice);
        onLayout(choice);
      });
    }
    // A headset plugged in during the call appears in the lists without reopening them.
    navigator.mediaDevices?.addEventListener?.("devicechange", () => {
      if (this.dialog.open) this.fillDevices();
    });
  }

  /** @returns {HTMLInputElement[]} */
  layoutRadios() {
    const radios = this.layoutDialog.querySelectorAll('input[name="layout"]');
    return /** @type {HTMLInputElement[]} */ ([...radios]);
  }

  async open() {
    await this.fillDevices();
    this.dialog.showModal();
  }

  openLayout() {
    this.layoutDialog.showModal();
  }

  /**
   * The self view was hidden or shown from its tile: the checkbox follows.
   * @param {boolean} shown
   */
  showSelfView(shown) {
    this.selfViewBox.checked = shown;
    savePreference("selfView", shown);
  }

  async fillDevices() {
    const lists = await this.media.devices();
    fillDeviceSelect(this.cameraSelect, lists.cameras, this.media.cameraId, "camera");
    fillDeviceSelect(this.micSelect, lists.microphones, this.media.microphoneId, "microphone");
    if (this.media.canPickSpeaker) {
      fillDeviceSelect(this.speakerSelect, lists.speakers, this.media.speakerId, "speaker");
    }
  }
}
