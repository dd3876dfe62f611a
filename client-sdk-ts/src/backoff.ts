/**
 * Reconnect delays: exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): the n-th retry waits a uniformly random time between 0 and
 * `min(maxDelayMs, initialDelayMs × 2ⁿ)`, so clients that lost the same broker at once spread their
 * reconnects over the whole window instead of arriving together.
 */

/** When and how often to reconnect. */
export interface BackoffPolicy {
  /** Ceiling of the first retry's delay, ms. */
  readonly initialDelayMs: number;
  /** Largest ceiling, ms: the window stops doubling here. */
  readonly maxDelayMs: number;
  /** Retries in a row after which the client gives up; `Infinity` never gives up. */
  readonly maxAttempts: number;
}

/** Defaults: 500 ms → 20 s, never give up. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ initialDelayMs: 500, maxDelayMs: 20_000, maxAttempts: Infinity });

/** The ceiling of retry `retry` (0 for the first): `min(maxDelayMs, initialDelayMs × 2^retry)`. */
export function backoffCeilingMs(retry: number, policy: BackoffPolicy): number {
  // 2 ** 1100 is Infinity, which min() caps: no overflow however long the outage.
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** retry);
}

/**
 * The delay before retry `retry` (0 for the first), a whole number of ms in
 * `[0, backoffCeilingMs(retry)]`.
 * @param random a uniform source in [0, 1); `Math.random` by default.
 */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.round(random() * backoffCeilingMs(retry, policy));
}
