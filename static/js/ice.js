// ICE servers and policy from /api/turn/, refreshed before the TURN credentials expire.

import { Backoff } from "./backoff.js";

/**
 * @typedef {{urls: string | string[], username?: string, credential?: string}} IceServer
 * @typedef {{iceServers: IceServer[], iceTransportPolicy: RTCIceTransportPolicy}} IceConfig
 * @typedef {{username: string | null, password: string | null, ttl: number, uris: string[],
 *            expires_at: string | null, iceServers: IceServer[],
 *            iceTransportPolicy: "all" | "relay"}} TurnResponse
 */

// Credentials are renewed when this fraction of their lifetime has passed.
const REFRESH_AT_FRACTION = 0.8;
const MIN_REFRESH_MS = 30_000;
// A failed fetch is retried after 1 s, 3 s, 10 s, then every 30 s, but while credentials in use
// are still valid, never later than halfway to their expiry (and never sooner than 1 s): one
// failed refresh near the end of a short lifetime must not wait out the expiry in backoff.
const MIN_RETRY_MS = 1000;
/** @type {import("./backoff.js").BackoffPolicy} */
export const TURN_RETRY_BACKOFF = { stepsMs: [1000, 3000, 10_000, 30_000] };

/**
 * Events: "change" (detail: IceConfig) after each successful refresh, "error" (detail: string)
 * when the credentials cannot be fetched.
 */
export class IceProvider extends EventTarget {
  /** @param {string} url e.g. "/api/turn/?room=weekly-sync" */
  constructor(url) {
    super();
    this.url = url;
    /** @type {IceConfig | null} */
    this.config = null;
    /** @type {Promise<IceConfig> | null} */
    this.pending = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    /** When the credentials in use expire (ms since the epoch), if they do. */
    this.expiresAtMs = Number.POSITIVE_INFINITY;
    this.retries = new Backoff(TURN_RETRY_BACKOFF);
    this.stopped = false;
  }

  /**
   * The current configuration, fetching it the first time. Never rejects: without an answer the
   * call still works on a LAN with host candidates, and the user is told why it may not elsewhere.
   * @returns {Promise<IceConfig>}
   */
  get() {
    if (this.config) return Promise.resolve(this.config);
    if (!this.pending) {
      this.pending = this.fetchConfig().then(
        (config) => config,
        (error) => {
          this.pending = null;
          this.scheduleRetry();
          this.dispatchEvent(new CustomEvent("error", { detail: String(error.message || error) }));
          return /** @type {IceConfig} */ ({ iceServers: [], iceTransportPolicy: "all" });
        },
      );
    }
    return this.pending;
  }

  /** @returns {Promise<IceConfig>} */
  async fetchConfig() {
    const response = await fetch(this.url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`the TURN endpoint answered ${response.status}`);
    /** @type {TurnResponse} */
    const body = await response.json();
    if (!body || !Array.isArray(body.iceServers)) {
      throw new Error("the TURN endpoint sent no iceServers");
    }
    /** @type {IceConfig} */
    const config = {
      iceServers: body.iceServers,
      iceTransportPolicy: body.iceTransportPolicy === "relay" ? "relay" : "all",
    };
    this.config = config;
    this.retries.reset();
    this.scheduleRefresh(body);
    this.dispatchEvent(new CustomEvent("change", { detail: config }));
    return config;
  }

  /** @param {TurnResponse} body */
  scheduleRefresh(body) {
    this.expiresAtMs = Number.POSITIVE_INFINITY;
    if (this.stopped || !body.username) return;
    let lifetimeMs = (Number(body.ttl) || 0) * 1000;
    if (body.expires_at) {
      const left = Date.parse(body.expires_at) - Date.now();
      if (Number.isFinite(left)) lifetimeMs = Math.min(lifetimeMs || left, left);
    }
    if (!(lifetimeMs > 0)) return;
    this.expiresAtMs = Date.now() + lifetimeMs;
    const delay = Math.max(MIN_REFRESH_MS, lifetimeMs * REFRESH_AT_FRACTION);
    this.clearTimer();
    this.timer = setTimeout(() => this.refresh(), delay);
  }

  async refresh() {
    this.timer = null;
    try {
      await this.fetchConfig();
    } catch (error) {
      console.warn("ice: refreshing TURN credentials failed", error);
      this.scheduleRetry();
    }
  }

  scheduleRetry() {
    if (this.stopped) return;
    let delay = this.retries.next();
    const left = this.expiresAtMs - Date.now();
    if (left > 0) delay = Math.max(MIN_RETRY_MS, Math.min(delay, left / 2));
    this.clearTimer();
    this.timer = setTimeout(() => this.refresh(), delay);
  }

  clearTimer() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  stop() {
    this.stopped = true;
    this.clearTimer();
  }
}
