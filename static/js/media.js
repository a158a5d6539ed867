// Local media: microphone and camera (getUserMedia), devices, screen share (getDisplayMedia)
// and a microphone level meter. The call module only ever sees tracks handed out from here.

import { t } from "./i18n.js";

/**
 * @typedef {{cameras: MediaDeviceInfo[], microphones: MediaDeviceInfo[],
 *            speakers: MediaDeviceInfo[]}} DeviceLists
 * @typedef {{kind: "audio" | "video" | "screen" | "screen-audio",
 *            track: MediaStreamTrack | null}} TrackChange
 */

// 960×540 looks sharp in a tile and costs half of 720p to encode once per peer in a mesh.
const CAMERA_CONSTRAINTS = { width: { ideal: 960 }, height: { ideal: 540 }, frameRate: { ideal: 24 } };
const MIC_CONSTRAINTS = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** @typedef {"camera" | "microphone" | "camera and microphone"} MediaKind */

/**
 * A plain-language reason for a getUserMedia failure.
 * @param {unknown} error
 * @param {MediaKind} what
 * @returns {string}
 */
function describeMediaError(error, what) {
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  const texts = mediaErrorTexts(what);
  if (name === "NotAllowedError" || name === "SecurityError") return texts.blocked;
  if (name === "NotFoundError" || name === "OverconstrainedError") return texts.missing;
  if (name === "NotReadableError" || name === "AbortError") return texts.busy;
  return texts.failed;
}

/**
 * The sentences of describeMediaError for one kind of device, whole, so each language words
 * them its own way.
 * @param {MediaKind} what
 * @returns {{blocked: string, missing: string, busy: string, failed: string}}
 */
function mediaErrorTexts(what) {
  if (what === "camera") {
    return {
      blocked: t(
        "Access to your camera is blocked. To allow it, click the camera or lock icon in the address bar, set the camera to Allow, then try again.",
      ),
      missing: t("No camera was found."),
      busy: t("Your camera is in use by another application."),
      failed: t("Your camera could not be started."),
    };
  }
  if (what === "microphone") {
    return {
      blocked: t(
        "Access to your microphone is blocked. To allow it, click the camera or lock icon in the address bar, set the microphone to Allow, then try again.",
      ),
      missing: t("No microphone was found."),
      busy: t("Your microphone is in use by another application."),
      failed: t("Your microphone could not be started."),
    };
  }
  return {
    blocked: t(
      "Access to your camera and microphone is blocked. To allow it, click the camera or lock icon in the address bar, set the camera and microphone to Allow, then try again.",
    ),
    missing: t("No camera and microphone was found."),
    busy: t("Your camera and microphone is in use by another application."),
    failed: t("Your camera and microphone could not be started."),
  };
}

/**
 * Events: "trackchange" (detail: TrackChange) whenever a local track is replaced, started or
 * stopped; "screenended" when the browser's own "stop sharing" ends the share.
 */
export class LocalMedia extends EventTarget {
  constructor() {
    super();
    /** @type {MediaStreamTrack | null} */
    this.micTrack = null;
    /** @type {MediaStreamTrack | null} */
    this.cameraTrack = null;
    /** @type {MediaStream | null} */
    this.screenStream = null;
    this.audioEnabled = true;
    this.videoEnabled = true;
    /** @type {string} */
    this.microphoneId = "";
    /** @type {string} */
    this.cameraId = "";
    /** @type {string} */
    this.speakerId = "";
    this.hasMicrophone = false;
    this.hasCamera = false;
    // The browser's own voice processing, switchable in the settings (preferences.js).
    this.noiseSuppression = true;
    this.echoCancellation = true;
    /** The self-view and level meter read this stream; its tracks follow the changes. */
    this.previewStream = new MediaStream();
  }

  /** @returns {MediaTrackConstraints} the microphone's processing, as the settings chose it */
  micConstraints() {
    return {
      ...MIC_CONSTRAINTS,
      noiseSuppression: this.noiseSuppression,
      echoCancellation: this.echoCancellation,
    };
  }

  /**
   * Switch the browser's noise suppression and echo cancellation on the running microphone.
   * `applyConstraints` is tried first (no new track); a browser that keeps the old processing
   * (Chromium fixes it when the capture starts) gets the microphone opened again, and the new
   * track replaces the old one on every connection like a device change.
   * @param {{noiseSuppression: boolean, echoCancellation: boolean}} processing
   * @returns {Promise<string>} a problem to show, or ""
   */
  async setAudioProcessing({ noiseSuppression, echoCancellation }) {
    this.noiseSuppression = noiseSuppression;
    this.echoCancellation = echoCancellation;
    const track = this.micTrack;
    if (!track) return "";
    const fits = () => {
      const settings = track.getSettings();
      return (
        settings.noiseSuppression === noiseSuppression && settings.echoCancellation === echoCancellation
      );
    };
    try {
      await track.applyConstraints({ ...track.getConstraints(), ...this.micConstraints() });
    } catch {
      // Refused: reopening below decides.
    }
    if (fits()) return "";
    // Chromium hands a new request for an open device the running source, processing and all,
    // so the old track is stopped first: the others hear a moment of silence.
    track.stop();
    const deviceId = this.microphoneId ? { exact: this.microphoneId } : undefined;
    const stream = await this.tryGet({ audio: { ...this.micConstraints(), deviceId } }, "microphone", []);
    if (!stream) {
      this.setMicTrack(null);
      return t("The microphone could not be restarted with that setting.");
    }
    this.adopt(stream);
    return "";
  }

  /** @returns {boolean} */
  get supported() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  /**
   * Ask for microphone and camera; fall back to one of them when the other fails.
   * @returns {Promise<string>} a notice for the user, empty when both work
   */
  async start() {
    if (!this.supported) {
      this.audioEnabled = this.videoEnabled = false;
      return t("This browser cannot use a camera or microphone here. You can still join to watch and listen.");
    }
    // The devices this browser chose last time (preferences.js) are asked for exactly: as
    // "ideal" they lose to a default camera that fits the size constraints better. When one
    // of them is gone (unplugged since), the defaults below are asked for instead.
    if (this.cameraId || this.microphoneId) {
      const exact = (/** @type {string} */ id) => (id ? { deviceId: { exact: id } } : {});
      try {
        const stream = await navigator.mediaDevices.getUserMedia({
          audio: { ...this.micConstraints(), ...exact(this.microphoneId) },
          video: { ...CAMERA_CONSTRAINTS, ...exact(this.cameraId) },
        });
        this.adopt(stream);
        return "";
      } catch {
        // Fall through to the browser's default devices.
      }
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: this.micConstraints(),
        video: CAMERA_CONSTRAINTS,
      });
      this.adopt(stream);
      return "";
    } catch (bothError) {
      // One device may still work alone (a laptop with a broken camera, a blocked microphone).
      /** @type {string[]} */
      const problems = [];
      const audio = await this.tryGet({ audio: this.micConstraints() }, "microphone", problems);
      const video = await this.tryGet({ video: CAMERA_CONSTRAINTS }, "camera", problems);
      if (audio) this.adopt(audio);
      if (video) this.adopt(video);
      if (!audio && !video) {
        this.audioEnabled = this.videoEnabled = false;
        const both = describeMediaError(bothError, "camera and microphone");
        return `${both} ${t("You can still join to watch and listen; others will not see or hear you.")}`;
      }
      if (!audio) this.audioEnabled = false;
      if (!video) this.videoEnabled = false;
      return `${problems.join(" ")} ${t("You can still join; the rest works.")}`;
    }
  }

  /**
   * @param {MediaStreamConstraints} constraints
   * @param {MediaKind} what
   * @param {string[]} problems
   * @returns {Promise<MediaStream | null>}
   */
  async tryGet(constraints, what, problems) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (error) {
      problems.push(describeMediaError(error, what));
      return null;
    }
  }

  /** @param {MediaStream} stream */
  adopt(stream) {
    for (const track of stream.getAudioTracks()) this.setMicTrack(track);
    for (const track of stream.getVideoTracks()) this.setCameraTrack(track);
  }

  /** @param {MediaStreamTrack | null} track */
  setMicTrack(track) {
    if (this.micTrack && this.micTrack !== track) {
      this.previewStream.removeTrack(this.micTrack);
      this.micTrack.stop();
    }
    this.micTrack = track;
    if (track) {
      this.hasMicrophone = true;
      this.microphoneId = track.getSettings().deviceId || this.microphoneId;
      track.enabled = this.audioEnabled;
      this.previewStream.addTrack(track);
    }
    this.dispatchEvent(new CustomEvent("trackchange", { detail: { kind: "audio", track } }));
  }

  /** @param {MediaStreamTrack | null} track */
  setCameraTrack(track) {
    if (this.cameraTrack && this.cameraTrack !== track) {
      this.previewStream.removeTrack(this.cameraTrack);
      this.cameraTrack.stop();
    }
    this.cameraTrack = track;
    if (track) {
      this.hasCamera = true;
      this.cameraId = track.getSettings().deviceId || this.cameraId;
      this.previewStream.addTrack(track);
    }
    this.dispatchEvent(new CustomEvent("trackchange", { detail: { kind: "video", track } }));
  }

  /** @returns {Promise<DeviceLists>} */
  async devices() {
    /** @type {DeviceLists} */
    const lists = { cameras: [], microphones: [], speakers: [] };
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return lists;
    try {
      for (const device of await navigator.mediaDevices.enumerateDevices()) {
        if (device.kind === "videoinput") lists.cameras.push(device);
        else if (device.kind === "audioinput") lists.microphones.push(device);
        else if (device.kind === "audiooutput") lists.speakers.push(device);
      }
    } catch (error) {
      console.warn("media: cannot list devices", error);
    }
    return lists;
  }

  /** @returns {boolean} whether remote audio can be routed to a chosen speaker */
  get canPickSpeaker() {
    return "setSinkId" in HTMLMediaElement.prototype;
  }

  /**
   * Mute or unmute the microphone; a disabled track sends silence without renegotiating.
   * @param {boolean} enabled
   * @returns {Promise<string>} a problem to show, or ""
   */
  async setAudioEnabled(enabled) {
    if (enabled && !this.micTrack) {
      /** @type {string[]} */
      const problems = [];
      const stream = await this.tryGet(
        { audio: { ...this.micConstraints(), deviceId: this.microphoneId || undefined } },
        "microphone",
        problems,
      );
      // The same words as before joining: why it failed and, if blocked, how to allow it.
      if (!stream) return problems[0] || t("Your microphone could not be started.");
      this.audioEnabled = true;
      this.adopt(stream);
      return "";
    }
    this.audioEnabled = enabled;
    if (this.micTrack) this.micTrack.enabled = enabled;
    return "";
  }

  /**
   * Turn the camera off (releasing it, so its light goes out) or back on.
   * @param {boolean} enabled
   * @returns {Promise<string>} a problem to show, or ""
   */
  async setVideoEnabled(enabled) {
    if (!enabled) {
      this.videoEnabled = false;
      this.setCameraTrack(null);
      return "";
    }
    /** @type {string[]} */
    const problems = [];
    const stream = await this.tryGet(
      { video: { ...CAMERA_CONSTRAINTS, deviceId: this.cameraId || undefined } },
      "camera",
      problems,
    );
    if (!stream) return problems[0] || t("Your camera could not be started.");
    this.videoEnabled = true;
    this.adopt(stream);
    return "";
  }

  /**
   * @param {string} deviceId
   * @returns {Promise<string>}
   */
  async useCamera(deviceId) {
    this.cameraId = deviceId;
    if (!this.videoEnabled) return "";
    // "exact": the user picked this camera, so another one must not answer in its place.
    const stream = await this.tryGet(
      { video: { ...CAMERA_CONSTRAINTS, deviceId: { exact: deviceId } } },
      "camera",
      [],
    );
    if (!stream) return t("That camera could not be started.");
    this.adopt(stream);
    return "";
  }

  /**
   * @param {string} deviceId
   * @returns {Promise<string>}
   */
  async useMicrophone(deviceId) {
    this.microphoneId = deviceId;
    const stream = await this.tryGet(
      { audio: { ...this.micConstraints(), deviceId: { exact: deviceId } } },
      "microphone",
      [],
    );
    if (!stream) return t("That microphone could not be started.");
    this.adopt(stream);
    return "";
  }

  /**
   * Share a screen, window or tab, with its audio when the browser offers it.
   * @returns {Promise<string>} a problem to show, or "" (also "" when the user cancelled)
   */
  async startScreen() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) {
      return t("This browser cannot share a screen.");
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({
        video: { frameRate: { ideal: 15, max: 30 } },
        audio: true,
        // Chromium-only hints: offer system audio, let the user switch the shared tab, and
        // leave this tab out of the picker (sharing it shows the call inside itself).
        // @ts-ignore
        systemAudio: "include",
        surfaceSwitching: "include",
        selfBrowserSurface: "exclude",
      });
    } catch (error) {
      const name = error instanceof DOMException ? error.name : "";
      if (name === "NotAllowedError" || name === "AbortError") return "";
      return t("Your screen could not be shared.");
    }
    this.screenStream = stream;
    const [video] = stream.getVideoTracks();
    const [audio] = stream.getAudioTracks();
    if (video) {
      video.contentHint = "detail";
      // The browser's own "Stop sharing" bar ends the track; our UI must follow.
      video.addEventListener("ended", () => {
        if (this.screenStream === stream) {
          this.stopScreen();
          this.dispatchEvent(new CustomEvent("screenended"));
        }
      });
    }
    this.dispatchEvent(new CustomEvent("trackchange", { detail: { kind: "screen", track: video || null } }));
    this.dispatchEvent(
      new CustomEvent("trackchange", { detail: { kind: "screen-audio", track: audio || null } }),
    );
    return "";
  }

  stopScreen() {
    const stream = this.screenStream;
    if (!stream) return;
    this.screenStream = null;
    for (const track of stream.getTracks()) track.stop();
    this.dispatchEvent(new CustomEvent("trackchange", { detail: { kind: "screen", track: null } }));
    this.dispatchEvent(
      new CustomEvent("trackchange", { detail: { kind: "screen-audio", track: null } }),
    );
  }

  /** @returns {MediaStreamTrack | null} */
  get screenTrack() {
    return this.screenStream ? this.screenStream.getVideoTracks()[0] || null : null;
  }

  /** @returns {MediaStreamTrack | null} */
  get screenAudioTrack() {
    return this.screenStream ? this.screenStream.getAudioTracks()[0] || null : null;
  }

  stopAll() {
    this.stopScreen();
    if (this.micTrack) this.micTrack.stop();
    if (this.cameraTrack) this.cameraTrack.stop();
  }
}

/**
 * The loudness of an audio track, 0–1, read from an AnalyserNode on demand.
 */
export class LevelMeter {
  constructor() {
    /** @type {AudioContext | null} */
    this.context = null;
    /** @type {AnalyserNode | null} */
    this.analyser = null;
    /** @type {MediaStreamAudioSourceNode | null} */
    this.source = null;
    /** @type {Float32Array<ArrayBuffer>} */
    this.samples = new Float32Array(512);
  }

  /** @param {MediaStreamTrack | null} track */
  attach(track) {
    if (this.source) this.source.disconnect();
    this.source = null;
    if (!track) return;
    try {
      if (!this.context) {
        this.context = new AudioContext();
        this.analyser = this.context.createAnalyser();
        this.analyser.fftSize = 1024;
        this.samples = new Float32Array(this.analyser.fftSize);
      }
      this.source = this.context.createMediaStreamSource(new MediaStream([track]));
      this.source.connect(/** @type {AnalyserNode} */ (this.analyser));
    } catch (error) {
      console.warn("media: no level meter", error);
    }
  }

  /** Browsers start an AudioContext suspended until a user gesture; call this from one. */
  resume() {
    if (this.context && this.context.state === "suspended") {
      this.context.resume().catch(() => {});
    }
  }

  /** @returns {number} 0–1 */
  level() {
    if (!this.analyser || !this.source) return 0;
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const sample of this.samples) sum += sample * sample;
    const rms = Math.sqrt(sum / this.samples.length);
    // Speech sits around 0.02–0.2 RMS; this maps it onto most of the meter.
    return Math.min(1, rms * 5);
  }
}
