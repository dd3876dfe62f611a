/**
 * `FakeClock`: the time a plugin under test sees (`now-ms`) and the timers it armed, moved only by
 * `advance(ms)`. Timers fire in due order (ties in arming order), each at its own due time, so a
 * test never depends on the machine's speed. No Node timer is ever set.
 */

interface ArmedTimer {
  readonly token: bigint;
  dueMs: number;
  /** 0 for a one-shot timer. */
  readonly intervalMs: number;
  seq: number;
}

/** Most timers one plugin may have armed (the broker's cap, limits.ts, is the same order of size). */
const MAX_FAKE_TIMERS = 100_000;

export class FakeClock {
  #nowMs: number;
  #seq = 0;
  readonly #armed = new Map<bigint, ArmedTimer>();

  /** `startMs`: the wall-clock time the plugin sees first, ms since the epoch. */
  constructor(startMs: number) {
    this.#nowMs = startMs;
  }

  /** Current fake time, ms since the epoch. */
  get nowMs(): number {
    return this.#nowMs;
  }

  /** Tokens armed now, in due order. */
  armed(): { token: bigint; dueInMs: number; repeat: boolean }[] {
    return [...this.#armed.values()]
      .sort((a, b) => a.dueMs - b.dueMs || a.seq - b.seq)
      .map((t) => ({ token: t.token, dueInMs: t.dueMs - this.#nowMs, repeat: t.intervalMs > 0 }));
  }

  /** Arms (or re-arms) `token`; false past the cap. */
  set(token: bigint, delayMs: number, repeat: boolean): boolean {
    if (!this.#armed.has(token) && this.#armed.size >= MAX_FAKE_TIMERS) return false;
    // A repeating timer of 0 ms would fire forever within one advance: it repeats every 1 ms instead.
    const intervalMs = repeat ? Math.max(1, delayMs) : 0;
    this.#armed.set(token, { token, dueMs: this.#nowMs + delayMs, intervalMs, seq: this.#seq++ });
    return true;
  }

  /** False when `token` was not armed. */
  cancel(token: bigint): boolean {
    return this.#armed.delete(token);
  }

  /** Forgets every timer (a fresh instance after a trap starts with none). */
  clear(): void {
    this.#armed.clear();
  }

  /**
   * Moves time forward by `ms`, calling `fire(token)` for every timer that falls due on the way,
   * with the clock set to its due time. A timer armed by `fire` fires within the same advance when
   * it falls due before its end.
   */
  advance(ms: number, fire: (token: bigint) => void): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance(ms): ms must be a finite number ≥ 0, got ${ms}`);
    const endMs = this.#nowMs + ms;
    for (;;) {
      let next: ArmedTimer | undefined;
      for (const t of this.#armed.values()) {
        if (t.dueMs <= endMs && (next === undefined || t.dueMs < next.dueMs || (t.dueMs === next.dueMs && t.seq < next.seq))) next = t;
      }
      if (next === undefined) break;
      this.#nowMs = Math.max(this.#nowMs, next.dueMs);
      if (next.intervalMs > 0) {
        next.dueMs += next.intervalMs;
        next.seq = this.#seq++;
      } else this.#armed.delete(next.token);
      fire(next.token);
    }
    this.#nowMs = endMs;
  }
}
