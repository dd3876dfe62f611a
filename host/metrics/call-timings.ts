/**
 * `CallTimings`: how long plugin calls take, sampled. Timing a call costs two `performance.now()`
 * reads (≈ 2 × 25–40 ns) against ≈ 120–300 ns for the call itself (echo through the adapter), so
 * only one call in `PLUGIN_CALL_SAMPLE_EVERY` is timed: `sample()` is one counter increment and a
 * mask on the message path, nothing else.
 *
 * Each timed call goes to the `plugbroker_plugin_call_duration_seconds` histogram (its `_count`
 * counts timed calls, not all calls) and to a ring of the most recent samples, from which the
 * dashboard computes p50/p99 over its last interval.
 */
import { PLUGIN_CALL_RECENT_SAMPLES, PLUGIN_CALL_SAMPLE_EVERY } from '../limits.js';

/** The exports that are timed, as the `export` label names them (WIT names). */
export const TIMED_EXPORTS = ['handle-connect', 'handle-msg', 'handle-broken', 'handle-timer'] as const;
export type TimedExport = (typeof TIMED_EXPORTS)[number];

/** Where a timed call goes besides the recent ring (the prom-client histogram). */
export type CallObserver = (exportName: TimedExport, seconds: number) => void;

export class CallTimings {
  /** Calls counted by `sample()`. */
  #calls = 0;
  readonly #mask: number;
  readonly #recent: Float64Array;
  #written = 0;
  #observer: CallObserver | undefined;

  /**
   * @param sampleEvery time one call in this many (a power of 2; 1 times every call).
   * @param recentSamples how many recent samples the ring keeps.
   * @throws {RangeError} when `sampleEvery` is not a power of 2.
   */
  constructor(sampleEvery = PLUGIN_CALL_SAMPLE_EVERY, recentSamples = PLUGIN_CALL_RECENT_SAMPLES) {
    if (!Number.isInteger(sampleEvery) || sampleEvery < 1 || (sampleEvery & (sampleEvery - 1)) !== 0) {
      throw new RangeError(`sampleEvery must be a power of 2, got ${sampleEvery}`);
    }
    this.#mask = sampleEvery - 1;
    this.#recent = new Float64Array(recentSamples);
  }

  /** Sets where timed calls go besides the ring (the metrics histogram). */
  observe(observer: CallObserver | undefined): void {
    this.#observer = observer;
  }

  /** Counts a call; true when this one is to be timed. */
  sample(): boolean {
    return (++this.#calls & this.#mask) === 0;
  }

  /** Records a timed call. */
  record(exportName: TimedExport, seconds: number): void {
    this.#recent[this.#written++ % this.#recent.length] = seconds;
    this.#observer?.(exportName, seconds);
  }

  /** Samples recorded so far (a cursor for `quantilesSince`). */
  get written(): number {
    return this.#written;
  }

  /**
   * p50 and p99 of the samples recorded after cursor `since` (`written` at an earlier time), in
   * seconds; null when there are none. At most the ring's size of the most recent ones count.
   */
  quantilesSince(since: number): { p50: number; p99: number; samples: number } | null {
    const n = Math.min(this.#written - since, this.#recent.length);
    if (n <= 0) return null;
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = this.#recent[(this.#written - n + i) % this.#recent.length];
    values.sort();
    return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), samples: n };
  }
}

/** The `q` quantile of sorted `values` (nearest rank). */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return NaN;
  const rank = Math.ceil(q * values.length) - 1;
  return values[Math.min(values.length - 1, Math.max(0, rank))];
}
