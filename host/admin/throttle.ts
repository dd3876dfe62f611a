/**
 * `RequestThrottle`: a token bucket over every admin request. Over the rate a request waits for
 * its turn rather than being answered at once: a caller that floods the listener then gets one
 * answer per turn on each of its (capped) connections, and the I/O thread spends at most the rate's
 * worth of time on admin work. A request that would wait past `maxWaitMs` is refused (429).
 * Pure: the clock is a parameter.
 */

/** Throttle policy. */
export interface ThrottlePolicy {
  /** Requests per second. */
  readonly ratePerS: number;
  /** Bucket capacity: requests served at once after a quiet period. */
  readonly burst: number;
  /** Longest wait granted; longer → refused. */
  readonly maxWaitMs: number;
}

export class RequestThrottle {
  readonly #policy: ThrottlePolicy;
  #tokens: number;
  #lastMs: number;

  constructor(policy: ThrottlePolicy, nowMs: number) {
    this.#policy = policy;
    this.#tokens = policy.burst;
    this.#lastMs = nowMs;
  }

  /**
   * Takes a turn for one request at `nowMs`.
   * @returns the delay in ms before it may be served (0: now), or -1 when it would wait longer
   *   than `maxWaitMs` (refuse it; no turn is taken).
   */
  acquire(nowMs: number): number {
    const p = this.#policy;
    this.#tokens = Math.min(p.burst, this.#tokens + ((nowMs - this.#lastMs) * p.ratePerS) / 1000);
    this.#lastMs = nowMs;
    // Tokens may go negative: each waiting request holds its future turn.
    const waitMs = this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / p.ratePerS);
    if (waitMs > p.maxWaitMs) return -1;
    this.#tokens -= 1;
    return waitMs;
  }
}
