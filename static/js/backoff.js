// One retry policy for everything on the page that tries again after a failure: the signaling
// socket's reconnects, ICE restarts of a broken connection, and the TURN credential fetch.
// Pure and DOM-free, so tests run it under Node.

/**
 * How long to wait before each retry. Either a table of `stepsMs` (the last step repeats), or an
 * exponential series from `initialMs`, multiplied by `factor` per attempt, capped at `maxMs`.
 * `jitter` (0–1) spreads each delay uniformly over ±jitter of itself, so a room full of
 * clients does not retry in lockstep against a server that just came back.
 * @typedef {{stepsMs?: number[], initialMs?: number, factor?: number, maxMs?: number,
 *            jitter?: number}} BackoffPolicy
 */

/**
 * The delay before retry number `attempt` (0 for the first retry).
 * @param {BackoffPolicy} policy
 * @param {number} attempt
 * @param {() => number} [random] a source of numbers in [0, 1), for the jitter
 * @returns {number} milliseconds
 */
export function backoffDelay(policy, attempt, random = Math.random) {
  const index = Math.max(0, Math.floor(attempt));
  let base;
  if (policy.stepsMs && policy.stepsMs.length > 0) {
    base = policy.stepsMs[Math.min(index, policy.stepsMs.length - 1)];
  } else {
    const initial = policy.initialMs ?? 1000;
    const grown = initial * (policy.factor ?? 2) ** index;
    base = Math.min(policy.maxMs ?? Number.POSITIVE_INFINITY, grown);
  }
  const jitter = policy.jitter ?? 0;
  if (!jitter) return base;
  return base * (1 - jitter + random() * 2 * jitter);
}

/**
 * A policy with its count of attempts: `next()` for the delay of the next retry, `reset()` once
 * the thing works again.
 */
export class Backoff {
  /**
   * @param {BackoffPolicy} policy
   * @param {() => number} [random]
   */
  constructor(policy, random = Math.random) {
    this.policy = policy;
    this.random = random;
    this.attempt = 0;
  }

  /** @returns {number} the delay for the current attempt, without counting it */
  delay() {
    return backoffDelay(this.policy, this.attempt, this.random);
  }

  /** Count one attempt: the next delay is the following step. */
  advance() {
    this.attempt += 1;
  }

  /** @returns {number} the delay for the current attempt, which is then counted */
  next() {
    const delay = this.delay();
    this.advance();
    return delay;
  }

  reset() {
    this.attempt = 0;
  }
}
