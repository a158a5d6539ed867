// Call alerts, as Meet has them: a short sound when someone joins a small call, when a chat
// message arrives while the chat panel is closed (with a preview toast), and when someone raises
// a hand; the tab title counts unread messages and shows raised hands, so a call in a background
// tab still says what happened. The sounds are made here with WebAudio oscillators (the page's
// CSP allows no media from elsewhere, and none is needed) and can be muted in the settings.
// Also the "you are muted" hint: while the microphone is muted its track is disabled (it sends
// silence), so the hint listens to an enabled clone of it, never sent anywhere.

import { loadPreference, savePreference } from "../preferences.js";
import { $ } from "./dom.js";
import { toast } from "./notices.js";

/** Meet plays the join sound only while the call is small; beyond that it would never stop. */
export const JOIN_SOUND_MAX_PEOPLE = 4;
/** How much of a chat message the preview toast shows. */
export const PREVIEW_LENGTH = 60;
/** The muted hint is shown at most this often. */
export const MUTED_HINT_INTERVAL_MS = 30_000;
/** RMS of the microphone's samples above which it counts as someone speaking. */
const SPEECH_RMS = 0.02;
const HINT_POLL_MS = 100;
/**
 * Samples read per poll: at 48 kHz, 85 ms, so polls 100 ms apart miss little of what was said,
 * even a 20 ms beep (Chromium's fake microphone) or a short syllable.
 */
const HINT_BUFFER_SAMPLES = 4096;
/** Loudness is judged per 10 ms frame, so a short sound is not diluted by the silence around it. */
const FRAME_SECONDS = 0.01;
/** Loud samples needed within the window below: one click or knock is not speech. */
const SPEECH_SAMPLES = 3;
const SPEECH_WINDOW_MS = 2000;

/**
 * @typedef {"join" | "chat" | "hand"} AlertKind
 * Each sound is a few notes: [frequency in Hz, start in s, length in s].
 * @type {Record<AlertKind, [number, number, number][]>}
 */
const SOUNDS = {
  join: [
    [659, 0, 0.12],
    [880, 0.12, 0.2],
  ],
  chat: [[988, 0, 0.12]],
  hand: [
    [784, 0, 0.1],
    [784, 0.16, 0.1],
  ],
};

/**
 * Whether a join is worth a sound: only in a small call, counting everyone after the join.
 * @param {number} people
 * @returns {boolean}
 */
export function joinSoundWanted(people) {
  return people <= JOIN_SOUND_MAX_PEOPLE;
}

/**
 * The preview toast's text: the sender and the start of the message on one line.
 * @param {string} name
 * @param {string} text
 * @returns {string}
 */
export function chatPreview(name, text) {
  const line = text.replace(/\s+/g, " ").trim();
  const chars = [...line];
  const shown = chars.length > PREVIEW_LENGTH ? `${chars.slice(0, PREVIEW_LENGTH).join("").trimEnd()}…` : line;
  return `${name}: ${shown}`;
}

/**
 * The tab's title: "✋ " while someone's hand is up, "(n) " for unread chat messages.
 * @param {string} base the page's own title
 * @param {{unread: number, hands: number}} counts
 * @returns {string}
 */
export function tabTitle(base, { unread, hands }) {
  return `${hands > 0 ? "✋ " : ""}${unread > 0 ? `(${unread}) ` : ""}${base}`;
}

export class Alerts {
  constructor() {
    this.baseTitle = document.title;
    this.soundsOn = loadPreference("alertSounds");
    /** @type {AudioContext | null} */
    this.context = null;
    const box = /** @type {HTMLInputElement} */ ($('#settings-dialog input[name="alert-sounds"]'));
    box.checked = this.soundsOn;
    box.addEventListener("change", () => {
      this.soundsOn = box.checked;
      savePreference("alertSounds", box.checked);
    });
  }

  /** @param {AlertKind} kind */
  play(kind) {
    if (!this.soundsOn) return;
    try {
      // Made on the first alert, after Join (a user gesture), so the browser lets it play.
      this.context ??= new AudioContext();
      const context = this.context;
      if (context.state === "suspended") context.resume().catch(() => {});
      const now = context.currentTime;
      for (const [frequency, start, length] of SOUNDS[kind]) {
        const oscillator = context.createOscillator();
        const gain = context.createGain();
        oscillator.type = "sine";
        oscillator.frequency.value = frequency;
        // A soft attack and decay: a bare oscillator clicks when it starts and stops.
        gain.gain.setValueAtTime(0, now + start);
        gain.gain.linearRampToValueAtTime(0.15, now + start + 0.015);
        gain.gain.exponentialRampToValueAtTime(0.001, now + start + length);
        oscillator.connect(gain).connect(context.destination);
        oscillator.start(now + start);
        oscillator.stop(now + start + length + 0.02);
      }
    } catch (error) {
      console.warn("alerts: no sound", error);
    }
  }

  /** @param {number} people everyone in the call now, ourselves included */
  peerJoined(people) {
    if (joinSoundWanted(people)) this.play("join");
  }

  /**
   * A message from someone else while the chat panel is closed.
   * @param {string} name
   * @param {string} text
   */
  chatMessage(name, text) {
    this.play("chat");
    toast(chatPreview(name, text));
  }

  handRaised() {
    this.play("hand");
  }

  /** @param {{unread: number, hands: number}} counts */
  showCounts(counts) {
    document.title = tabTitle(this.baseTitle, counts);
  }
}

/**
 * The RMS of the loudest frame of `frameLength` samples.
 * @param {Float32Array} samples
 * @param {number} frameLength
 */
export function loudestFrameRms(samples, frameLength) {
  let loudest = 0;
  for (let start = 0; start < samples.length; start += frameLength) {
    const end = Math.min(samples.length, start + frameLength);
    let sum = 0;
    for (let index = start; index < end; index += 1) sum += samples[index] * samples[index];
    loudest = Math.max(loudest, Math.sqrt(sum / (end - start)));
  }
  return loudest;
}

/**
 * Tells the user they are speaking into a muted microphone, at most once per
 * MUTED_HINT_INTERVAL_MS. It listens only while the microphone is muted.
 */
export class MutedSpeechHint {
  /**
   * @param {{media: import("../media.js").LocalMedia, show: () => void}} options
   */
  constructor({ media, show }) {
    this.media = media;
    this.show = show;
    /** @type {MediaStreamTrack | null} the track listened to (a clone of this one) */
    this.source = null;
    /** @type {MediaStreamTrack | null} */
    this.clone = null;
    /** @type {AudioContext | null} */
    this.context = null;
    /** @type {AnalyserNode | null} */
    this.analyser = null;
    /** @type {MediaStreamAudioSourceNode | null} */
    this.node = null;
    /** @type {Float32Array<ArrayBuffer>} */
    this.samples = new Float32Array(HINT_BUFFER_SAMPLES);
    /** @type {number[]} */
    this.loudAt = [];
    this.lastShown = -Infinity;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.timer = null;
  }

  start() {
    this.timer ??= setInterval(() => this.poll(), HINT_POLL_MS);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.release();
  }

  poll() {
    const track = this.media.micTrack;
    const muted = Boolean(track) && !this.media.audioEnabled && track?.readyState === "live";
    if (!muted || !track) {
      this.release();
      return;
    }
    if (this.source !== track) this.listen(track);
    if (!this.analyser) return;
    this.analyser.getFloatTimeDomainData(this.samples);
    const frame = Math.max(1, Math.round((this.context?.sampleRate ?? 48_000) * FRAME_SECONDS));
    const now = performance.now();
    if (loudestFrameRms(this.samples, frame) > SPEECH_RMS) this.loudAt.push(now);
    this.loudAt = this.loudAt.filter((time) => now - time < SPEECH_WINDOW_MS);
    if (this.loudAt.length >= SPEECH_SAMPLES && now - this.lastShown >= MUTED_HINT_INTERVAL_MS) {
      this.lastShown = now;
      this.loudAt = [];
      this.show();
    }
  }

  /** @param {MediaStreamTrack} track */
  listen(track) {
    this.release();
    try {
      this.context ??= new AudioContext();
      if (this.context.state === "suspended") this.context.resume().catch(() => {});
      this.analyser ??= this.context.createAnalyser();
      this.analyser.fftSize = this.samples.length;
      // The sent track stays disabled; its clone is enabled, heard only by the analyser.
      this.clone = track.clone();
      this.clone.enabled = true;
      this.node = this.context.createMediaStreamSource(new MediaStream([this.clone]));
      this.node.connect(this.analyser);
      this.source = track;
    } catch (error) {
      console.warn("alerts: cannot listen for speech while muted", error);
      this.source = track;
    }
  }

  /** Unmuted, or the call is over: the clone is stopped so it holds nothing open. */
  release() {
    this.node?.disconnect();
    this.node = null;
    this.clone?.stop();
    this.clone = null;
    this.source = null;
    this.loudAt = [];
  }
}
