/**
 * `TimerTable`: the timers one plugin has armed, by token. Each is a Node timer (Node keeps timers
 * of equal duration in one list behind one native timer, so many timers are cheap); the table only
 * maps tokens to them, enforces the cap and calls `fire(token)` when one is due. No plugin import:
 * the broker connects `fire` to the runtime's `handle-timer`.
 */
import { MAX_PLUGIN_TIMERS } from '../limits.js';

export class TimerTable {
  readonly #timers = new Map<bigint, NodeJS.Timeout>();
  readonly #fire: (token: bigint) => void;
  readonly #maxTimers: number;

  /**
   * @param fire called with the token of each timer that is due (one-shot timers are removed first).
   * @param maxTimers timers that may be armed at once (default `MAX_PLUGIN_TIMERS`).
   */
  constructor(fire: (token: bigint) => void, maxTimers = MAX_PLUGIN_TIMERS) {
    this.#fire = fire;
    this.#maxTimers = maxTimers;
  }

  /**
   * Arms `token` to fire after `delayMs`, then every `delayMs` (at least 1) when `repeat`.
   * Re-arms a token that is armed. False when `maxTimers` are armed already.
   */
  set(token: bigint, delayMs: number, repeat: boolean): boolean {
    const existing = this.#timers.get(token);
    if (existing !== undefined) clearTimeout(existing);
    else if (this.#timers.size >= this.#maxTimers) return false;
    const timer = repeat
      ? setInterval(() => this.#fire(token), Math.max(1, delayMs))
      : setTimeout(() => {
          this.#timers.delete(token);
          this.#fire(token);
        }, delayMs);
    // Timers never keep the process alive: the listener does, and stop() clears them.
    timer.unref();
    this.#timers.set(token, timer);
    return true;
  }

  /** Disarms `token`; false when it was not armed. */
  cancel(token: bigint): boolean {
    const timer = this.#timers.get(token);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.#timers.delete(token);
    return true;
  }

  /** Disarms every timer (the instance that armed them is gone, or the broker stops). */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Timers armed now. */
  get size(): number {
    return this.#timers.size;
  }
}
