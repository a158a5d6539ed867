// The pre-join preview: camera preview, microphone level, device pickers, mic and camera
// toggles, and Join. When devices fail it says so plainly and still lets the user join.

import { t } from "../i18n.js";
import { savePreference } from "../preferences.js";
import { $, fillDeviceSelect, playQuietly, setToggle } from "./dom.js";

/** @typedef {import("../media.js").LocalMedia} LocalMedia */
/** @typedef {import("../media.js").LevelMeter} LevelMeter */

export class Prejoin {
  /**
   * @param {{media: LocalMedia, meter: LevelMeter, onJoin: () => void,
   *          onSpeaker: (deviceId: string) => void}} options
   */
  constructor({ media, meter, onJoin, onSpeaker }) {
    this.media = media;
    this.meter = meter;
    this.root = /** @type {HTMLElement} */ ($("#prejoin"));
    this.video = /** @type {HTMLVideoElement} */ ($("video", this.root));
    this.frame = /** @type {HTMLElement} */ ($(".preview-frame", this.root));
    this.notice = /** @type {HTMLElement} */ ($("[data-prejoin-notice]"));
    this.level = /** @type {HTMLElement} */ ($("[data-mic-level]"));
    this.audioButton = /** @type {HTMLButtonElement} */ ($('[data-action="preview-audio"]'));
    this.videoButton = /** @type {HTMLButtonElement} */ ($('[data-action="preview-video"]'));
    this.joinButton = /** @type {HTMLButtonElement} */ ($('[data-action="join"]'));
    this.cameraSelect = /** @type {HTMLSelectElement} */ ($('select[name="camera"]'));
    this.micSelect = /** @type {HTMLSelectElement} */ ($('select[name="microphone"]'));
    this.speakerSelect = /** @type {HTMLSelectElement} */ ($('select[name="speaker"]'));
    this.status = /** @type {HTMLElement} */ ($("[data-prejoin-status]"));
    /** @type {{parent: ParentNode | null, next: ChildNode | null} | null} where close() took it from */
    this.placement = null;
    this.running = true;
    // Decided now, not after the devices are listed, so the layout never shifts under Join.
    const speakerField = /** @type {HTMLElement} */ (this.speakerSelect.closest(".field"));
    speakerField.hidden = !media.canPickSpeaker;
    this.joinButton.addEventListener("click", () => {
      this.meter.resume();
      onJoin();
    });
    this.audioButton.addEventListener("click", () => this.toggleAudio());
    this.videoButton.addEventListener("click", () => this.toggleVideo());
    // A device chosen here is remembered by this browser for the next call (preferences.js).
    this.cameraSelect.addEventListener("change", () => {
      savePreference("camera", this.cameraSelect.value);
      this.report(this.media.useCamera(this.cameraSelect.value));
    });
    this.micSelect.addEventListener("change", () => {
      savePreference("microphone", this.micSelect.value);
      this.report(this.media.useMicrophone(this.micSelect.value));
    });
    this.speakerSelect.addEventListener("change", () => {
      this.media.speakerId = this.speakerSelect.value;
      savePreference("speaker", this.speakerSelect.value);
      onSpeaker(this.speakerSelect.value);
    });
    // The level meter's AudioContext may only start after a gesture on some browsers.
    this.root.addEventListener("pointerdown", () => this.meter.resume());
    media.addEventListener("trackchange", () => this.sync());
  }

  /** Ask for devices and show the preview. */
  async start() {
    this.status.textContent = t("Starting your camera and microphone…");
    const notice = await this.media.start();
    this.status.textContent = "";
    this.showNotice(notice);
    await this.fillDevices();
    this.sync();
    if (this.running) this.joinButton.focus();
    this.animate();
  }

  /**
   * The room's seats (room-status.js): a sentence, and Join only while it can work.
   * @param {{text: string, full: boolean, joinable: boolean}} seats
   */
  showSeats(seats) {
    const line = /** @type {HTMLElement} */ ($("[data-room-status]"));
    if (line.textContent !== seats.text) line.textContent = seats.text;
    line.hidden = !seats.text;
    line.dataset.full = String(seats.full);
    this.joinButton.disabled = !seats.joinable;
  }

  /** @param {string} text */
  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  /** @param {Promise<string>} result */
  async report(result) {
    const problem = await result;
    if (problem) this.showNotice(problem);
    await this.fillDevices();
    this.sync();
  }

  async toggleAudio() {
    await this.report(this.media.setAudioEnabled(!this.media.audioEnabled));
  }

  async toggleVideo() {
    await this.report(this.media.setVideoEnabled(!this.media.videoEnabled));
  }

  async fillDevices() {
    const lists = await this.media.devices();
    fillDeviceSelect(this.cameraSelect, lists.cameras, this.media.cameraId, "camera");
    fillDeviceSelect(this.micSelect, lists.microphones, this.media.microphoneId, "microphone");
    if (this.media.canPickSpeaker) {
      fillDeviceSelect(this.speakerSelect, lists.speakers, this.media.speakerId, "speaker");
    }
  }

  sync() {
    if (!this.running) return;
    const audioOn = Boolean(this.media.micTrack) && this.media.audioEnabled;
    const videoOn = Boolean(this.media.cameraTrack) && this.media.videoEnabled;
    setToggle(this.audioButton, audioOn, t("Microphone"));
    setToggle(this.videoButton, videoOn, t("Camera"));
    this.frame.dataset.video = videoOn ? "on" : "off";
    // A video element holding a stream without video never gets a frame, and until its first
    // frame it delays the page's load event; so it holds the stream only while there is video.
    const wanted = videoOn ? this.media.previewStream : null;
    if (this.video.srcObject !== wanted) this.video.srcObject = wanted;
    if (videoOn) playQuietly(this.video);
  }

  animate() {
    const step = () => {
      if (!this.running) return;
      const level = this.media.audioEnabled ? this.meter.level() : 0;
      this.level.style.setProperty("--level", level.toFixed(3));
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  /**
   * Knocking: the preview stays, Join becomes "Asking to join…", and a line says what is awaited.
   * @param {string} text
   */
  showWaiting(text) {
    const line = /** @type {HTMLElement} */ ($("[data-lobby-status]"));
    if (line.textContent !== text) line.textContent = text;
    line.hidden = false;
    this.joinButton.disabled = true;
    this.joinButton.textContent = t("Asking to join…");
  }

  /** Join failed before the call (a guest's name refused): Join is offered again. */
  showJoinable() {
    this.joinButton.disabled = false;
    this.joinButton.textContent = t("Join now");
  }

  /** Joining: the preview goes away so the self-view in the call is the only one. */
  close() {
    this.running = false;
    this.video.srcObject = null;
    this.placement = { parent: this.root.parentNode, next: this.root.nextSibling };
    this.root.remove();
  }

  /** Back to the preview (the server sent us to the lobby after all), where it was. */
  reopen() {
    if (this.running || !this.placement?.parent) return;
    this.placement.parent.insertBefore(this.root, this.placement.next);
    this.root.inert = false;
    this.running = true;
    this.sync();
    this.animate();
  }
}
