// The room's seats as the pre-join page sees them: GET <status_url> every few seconds while the
// visitor decides, so "the meeting is full" shows before Join, and goes when a seat frees.
// The words are a pure function, tested without a browser.

import { format, t, tn } from "./i18n.js";

/**
 * @typedef {{connected: number, max_participants: number, full: boolean, locked: boolean,
 *            seat_for_you: boolean}} RoomStatus
 */

/**
 * What the pre-join page says about the room's seats, and whether Join can work now.
 * @param {RoomStatus} status
 * @returns {{text: string, full: boolean, joinable: boolean}}
 */
export function seatNotice(status) {
  const counts = { connected: status.connected, max: status.max_participants };
  if (status.locked && !status.seat_for_you) {
    return {
      text: t("This room is locked: only its owner and staff can join right now."),
      full: status.full,
      joinable: false,
    };
  }
  if (status.full && !status.seat_for_you) {
    return {
      text: format(t("This meeting is full (%(connected)s of %(max)s people). Join works as soon as someone leaves."), counts),
      full: true,
      joinable: false,
    };
  }
  if (status.full) {
    return {
      text: format(t("This meeting is full (%(connected)s of %(max)s people), but you can join as its moderator."), counts),
      full: true,
      joinable: true,
    };
  }
  const text =
    status.connected === 0
      ? format(t("Nobody is in the meeting yet (room for %(max)s)."), counts)
      : format(
          tn(
            "%(connected)s of %(max)s people is in the meeting.",
            "%(connected)s of %(max)s people are in the meeting.",
            status.connected,
          ),
          counts,
        );
  return { text, full: false, joinable: true };
}

/**
 * Polls the room's status; "change" (detail: RoomStatus) after every answer. A failed request
 * is tried again at the next tick: the notice is a courtesy, and Join still asks the server.
 */
export class RoomStatusWatcher extends EventTarget {
  /**
   * @param {string} url
   * @param {number} intervalMs
   */
  constructor(url, intervalMs) {
    super();
    this.url = url;
    this.intervalMs = intervalMs;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.running = false;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.poll();
  }

  stop() {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  async poll() {
    try {
      const response = await fetch(this.url, { credentials: "same-origin", cache: "no-store" });
      if (response.ok && this.running) {
        const status = /** @type {RoomStatus} */ (await response.json());
        this.dispatchEvent(new CustomEvent("change", { detail: status }));
      }
    } catch (error) {
      console.info("room status: not available now", error);
    }
    if (this.running) this.timer = setTimeout(() => this.poll(), this.intervalMs);
  }
}
