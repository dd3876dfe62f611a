/**
 * Token buckets per connection: one for frames per second, one for bytes per second. Each bucket
 * holds `burst` seconds of its rate and refills continuously. Arithmetic only, on the coarse clock.
 */

/** Rate policy; a rate of 0 disables that bucket. */
export interface RatePolicy {
  readonly rateFrames: number;
  readonly rateBytes: number;
  /** Bucket capacity, in seconds of the rate. */
  readonly rateBurst: number;
}

export class RateLimiter {
  readonly #framesPerMs: number;
  readonly #bytesPerMs: number;
  readonly #frameCap: number;
  readonly #byteCap: number;
  #frames: number;
  #bytes: number;
  #lastMs: number;

  constructor(policy: RatePolicy, nowMs: number) {
    this.#framesPerMs = policy.rateFrames / 1000;
    this.#bytesPerMs = policy.rateBytes / 1000;
    // A bucket must hold at least one frame (and one byte), whatever the burst.
    this.#frameCap = policy.rateFrames > 0 ? Math.max(1, policy.rateFrames * policy.rateBurst) : Infinity;
    this.#byteCap = policy.rateBytes > 0 ? Math.max(1, policy.rateBytes * policy.rateBurst) : Infinity;
    this.#frames = this.#frameCap;
    this.#bytes = this.#byteCap;
    this.#lastMs = nowMs;
  }

  /** True when rates are set at all (otherwise no limiter is created). */
  static enabled(policy: RatePolicy): boolean {
    return policy.rateFrames > 0 || policy.rateBytes > 0;
  }

  /**
   * Takes one frame of `bytes` body bytes. Returns false, taking nothing, when either bucket is
   * short. A frame larger than the byte bucket's capacity can never pass.
   */
  take(bytes: number, nowMs: number): boolean {
    const elapsed = nowMs - this.#lastMs;
    if (elapsed > 0) {
      this.#lastMs = nowMs;
      this.#frames = Math.min(this.#frameCap, this.#frames + elapsed * this.#framesPerMs);
      this.#bytes = Math.min(this.#byteCap, this.#bytes + elapsed * this.#bytesPerMs);
    }
    if (this.#frames < 1 || this.#bytes < bytes) return false;
    this.#frames -= 1;
    this.#bytes -= bytes;
    return true;
  }
}
