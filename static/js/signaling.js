// The signaling connection: one WebSocket that reconnects with backoff and resumes as the same
// peer, queues what is sent while it is down, and pings so that a dead server is noticed.

import { Backoff } from "./backoff.js";
import { CLOSE, closeName, FINAL_CLOSE_CODES, parseServerFrame } from "./protocol.js";

/** @typedef {import("./protocol.js").ServerMessage} ServerMessage */
/** @typedef {import("./protocol.js").ClientMessage} ClientMessage */
/** @typedef {"connecting" | "open" | "reconnecting" | "closed"} SignalingState */

const PING_INTERVAL_MS = 15_000;
// A socket that has heard nothing for this long is presumed dead even if TCP has not said so.
const SILENCE_LIMIT_MS = 25_000;
// Reconnects wait 250 ms, doubling to 4 s, each ±20 %: jitter keeps a room full of clients from
// hammering a restarted server in lockstep.
/** @type {import("./backoff.js").BackoffPolicy} */
export const RECONNECT_BACKOFF = { initialMs: 250, factor: 2, maxMs: 4000, jitter: 0.2 };
// Messages queued while down are bounded so that a long outage cannot grow memory without end.
const QUEUE_LIMIT = 1000;
// After a server restart (close 4503), reconnects are spread over this window.
const RESTART_SPREAD_MS = 200;

/**
 * Events: "message" (detail: ServerMessage), "statechange" (detail: SignalingState),
 * "final" (detail: {code: number, error: string, message: string}) when the server refused or
 * ended us for good.
 */
export class Signaling extends EventTarget {
  /** @param {string} path the socket path, e.g. "/ws/rooms/weekly-sync/" */
  constructor(path) {
    super();
    this.path = path;
    /** @type {SignalingState} */
    this.state = "closed";
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {string | null} */
    this.resumeToken = null;
    /** @type {ClientMessage[]} */
    this.queue = [];
    this.reconnects = new Backoff(RECONNECT_BACKOFF);
    this.stopped = false;
    this.welcomed = false;
    this.lastHeard = 0;
    /** @type {{code: string, message: string} | null} */
    this.lastError = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.pingTimer = null;
  }

  /** Open the first connection. */
  connect() {
    this.stopped = false;
    this.setState("connecting");
    this.open();
  }

  /** @returns {string} */
  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = this.resumeToken ? `?resume=${encodeURIComponent(this.resumeToken)}` : "";
    return `${scheme}//${location.host}${this.path}${query}`;
  }

  open() {
    this.retryTimer = null;
    let socket;
    try {
      socket = new WebSocket(this.url());
    } catch (error) {
      console.warn("signaling: cannot open the socket", error);
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.lastError = null;
    socket.addEventListener("open", () => {
      this.lastHeard = Date.now();
      this.startPinging();
    });
    socket.addEventListener("message", (event) => this.onFrame(event));
    socket.addEventListener("close", (event) => this.onClose(socket, event));
    // "error" is always followed by "close", which decides what to do.
    socket.addEventListener("error", () => {});
  }

  /** @param {MessageEvent} event */
  onFrame(event) {
    this.lastHeard = Date.now();
    const message = parseServerFrame(event.data);
    if (!message) {
      console.warn("signaling: ignoring a frame that is not a protocol message");
      return;
    }
    if (message.type === "pong") return;
    if (message.type === "error") {
      this.lastError = { code: message.code, message: message.message };
    }
    if (message.type === "welcome") {
      this.resumeToken = message.self.resume_token;
      this.reconnects.reset();
      this.welcomed = true;
      this.setState("open");
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
      this.flush();
      return;
    }
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }

  /**
   * @param {WebSocket} socket
   * @param {CloseEvent} event
   */
  onClose(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.stopPinging();
    if (this.stopped) {
      this.setState("closed");
      return;
    }
    if (FINAL_CLOSE_CODES.has(event.code)) {
      this.stopped = true;
      this.setState("closed");
      const error = this.lastError?.code || closeName(event.code);
      const message = this.lastError?.message || "";
      this.dispatchEvent(new CustomEvent("final", { detail: { code: event.code, error, message } }));
      return;
    }
    if (event.code === CLOSE.SERVICE_RESTART) {
      // A worker going down on purpose: nothing failed, so come back at once (another worker
      // answers), spread over a moment so a whole room does not arrive in the same instant.
      this.reconnects.reset();
      this.scheduleReconnect(Math.random() * RESTART_SPREAD_MS);
      return;
    }
    this.scheduleReconnect();
  }

  /** @param {number} [delay] milliseconds; the backoff policy's next delay when not given */
  scheduleReconnect(delay) {
    if (this.stopped || this.retryTimer) return;
    this.setState(this.welcomed ? "reconnecting" : "connecting");
    this.retryTimer = setTimeout(() => this.open(), delay ?? this.reconnects.next());
  }

  startPinging() {
    this.stopPinging();
    this.pingTimer = setInterval(() => {
      const socket = this.socket;
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
        // Closing makes the "close" handler reconnect; a half-open TCP socket never would.
        socket.close(CLOSE.SILENT, "silent");
        return;
      }
      socket.send(JSON.stringify({ type: "ping" }));
    }, PING_INTERVAL_MS);
  }

  stopPinging() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  /**
   * Send now, or queue until the next welcome if the socket is down.
   * @param {ClientMessage} message
   */
  send(message) {
    if (this.stopped) return;
    const socket = this.socket;
    if (this.state === "open" && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return;
    }
    if (this.queue.length >= QUEUE_LIMIT) this.queue.shift();
    this.queue.push(message);
  }

  flush() {
    const queued = this.queue;
    this.queue = [];
    for (const message of queued) this.send(message);
  }

  /** Forget queued messages: after a fresh (not resumed) welcome they address a past session. */
  dropQueue() {
    this.queue = [];
  }

  /** Leave on purpose: tell the server (no resume), then close. */
  leave() {
    const socket = this.socket;
    if (socket && socket.readyState === WebSocket.OPEN && this.state === "open") {
      socket.send(JSON.stringify({ type: "leave" }));
    }
    this.close();
  }

  /** Close without reconnecting. */
  close() {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopPinging();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(CLOSE.LEFT, "bye");
    this.setState("closed");
  }

  /** @param {SignalingState} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("statechange", { detail: state }));
  }
}
